/* yamltree: positions, spans, aliases, merges, limits, edits. */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "yamltree.h"

static struct yamltree *parse(const char *text, struct err *e)
{
	struct yamltree *t = NULL;

	err_clear(e);
	if (yamltree_parse_text(&t, "f.yaml", text, strlen(text), NULL, e) < 0)
		return t; /* the caller checks error_kind */
	return t;
}

static char *span(const struct yamltree *t, const struct ynode *n)
{
	return strndup(t->text + n->start, n->end - n->start);
}

static void test_positions(void)
{
	struct err e;
	struct yamltree *t = parse("\xef\xbb\xbf# c\r\nkind: Deployment\r\nmetadata:\r\n  name: \"w\xc3\xa9\" # x\r\n---\r\nkind: Service\r\n", &e);
	struct ynode *name;
	char *s;

	CHECK(t && t->error_kind == YERR_NONE, "BOM + CRLF parse");
	CHECK(t->ndocs == 2, "two documents");
	name = ynode_path(t->docs[0].root, "metadata.name");
	CHECK(name && name->line == 4 && name->col == 9, "line:col of a scalar");
	s = span(t, name);
	CHECK_STR(s, "\"w\xc3\xa9\"", "byte span of a quoted UTF-8 scalar");
	free(s);
	CHECK_STR(ynode_str(t->docs[1].root, "kind"), "Service", "second document");
	CHECK(t->docs[1].root->line == 6, "second document line");
	yamltree_free(t);
}

static void test_alias_merge(void)
{
	struct err e;
	struct yamltree *t = parse(
		"base: &b {image: nginx:1, port: 80}\n"
		"web:\n  <<: *b\n  port: 8080\n"
		"list: [*b, *b]\n", &e);
	struct ynode *web;

	CHECK(t && !t->error_kind, "anchors parse");
	web = ynode_get(t->docs[0].root, "web");
	CHECK_STR(ynode_str(web, "image"), "nginx:1", "merge key brings entries");
	CHECK_STR(ynode_str(web, "port"), "8080", "explicit key wins over merge");
	CHECK(ynode_get(web, "<<") == NULL, "merge key itself is gone");
	CHECK(ynode_path(t->docs[0].root, "list")->n == 2, "aliases in a list");
	yamltree_free(t);
}

static void test_errors(void)
{
	struct err e;
	struct yamltree *t;
	struct strbuf sb = STRBUF_INIT;

	t = parse("a: 1\nb: 2\na: 3\n", &e);
	CHECK(t && t->error_kind == YERR_DUPLICATE_KEY, "duplicate key");
	CHECK_STR(e.msg, "f.yaml:3:1: duplicate key 'a' (first at line 1)", "duplicate key message");
	yamltree_free(t);

	t = parse("a:\n\tb: 1\n", &e);
	CHECK(t && t->error_kind == YERR_SYNTAX, "tab is an error");
	CHECK(strstr(e.msg, "f.yaml:2:1: tab character") != NULL, "tab message");
	yamltree_free(t);

	t = parse("a: \"open\nb: 1\n", &e);
	CHECK(t && t->error_kind == YERR_SYNTAX, "unclosed quote");
	CHECK(strstr(e.msg, "f.yaml:1:4:") != NULL, "unclosed quote points at the quote");
	strbuf_init(&sb, 0);
	yamltree_excerpt(&sb, t->text, t->len, t->error_line, t->error_col);
	CHECK_STR(sb.buf, "    1 | a: \"open\n      |    ^\n", "excerpt with caret");
	strbuf_release(&sb);
	yamltree_free(t);

	t = parse("a: \xff\xfe\x01garbage\n", &e);
	CHECK(t && t->error_kind == YERR_ENCODING, "binary garbage");
	yamltree_free(t);
}

static void test_limits(void)
{
	struct err e;
	struct strbuf sb = STRBUF_INIT;
	struct yamltree *t;

	strbuf_init(&sb, 0);
	for (int i = 0; i < 10000; i++)
		strbuf_addch(&sb, '[');
	for (int i = 0; i < 10000; i++)
		strbuf_addch(&sb, ']');
	t = parse(sb.buf, &e);
	CHECK(t && t->error_kind == YERR_LIMIT, "10,000 levels of nesting");
	CHECK(strstr(e.msg, "nesting deeper than 256 levels") != NULL, "nesting message");
	yamltree_free(t);
	strbuf_release(&sb);

	t = parse("a: &a [x,x,x,x,x,x,x,x,x]\n"
		  "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
		  "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
		  "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
		  "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
		  "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
		  "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
		  "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
		  "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n", &e);
	CHECK(t && t->error_kind == YERR_LIMIT, "billion laughs is refused");
	CHECK(strstr(e.msg, "expands the file to more than 16 times its size") != NULL, "alias bomb message");
	yamltree_free(t);

	t = parse("a: &a [*a]\n", &e);
	CHECK(t && t->error_kind == YERR_SYNTAX, "a self-referencing alias is refused");
	yamltree_free(t);
}

static void test_replace(void)
{
	static const char *cases[][3] = {
		{ "image: nginx:1.0 # pinned\n", "nginx:1.1", "image: nginx:1.1 # pinned\n" },
		{ "image: \"nginx:1.0\"\n", "nginx:1.1", "image: \"nginx:1.1\"\n" },
		{ "image: 'nginx:1.0'\n", "it's", "image: 'it''s'\n" },
		{ "c: {image: nginx:1.0, x: 1}\n", "a,b", "c: {image: \"a,b\", x: 1}\n" },
		{ "image: nginx:1.0\r\nx: 1\r\n", "1.25", "image: \"1.25\"\r\nx: 1\r\n" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct err e;
		struct yamltree *t = parse(cases[i][0], &e);
		struct strbuf out = STRBUF_INIT;
		struct ynode *n = ynode_get(t->docs[0].root, "image");

		if (!n)
			n = ynode_path(t->docs[0].root, "c.image");
		strbuf_init(&out, 0);
		CHECK(yamltree_replace_scalar(&out, t, n, cases[i][1], &e) == 0, "replace");
		CHECK_STR(out.buf, cases[i][2], "replace keeps every other byte");
		strbuf_release(&out);
		yamltree_free(t);
	}
}

/*
 * Is b the tree a, except that the scalar `edited` (of a) now reads value?
 * Everything else must match: types, styles, values, tags, anchors.
 */
static int same_except(const struct ynode *a, const struct ynode *b,
		       const struct ynode *edited, const char *value)
{
	if (!a || !b)
		return a == b;
	if (a->type != b->type || !a->tag != !b->tag ||
	    (a->tag && strcmp(a->tag, b->tag)) || !a->anchor != !b->anchor ||
	    (a->anchor && strcmp(a->anchor, b->anchor)))
		return 0;
	if (a->type == YNODE_SCALAR) {
		if (a == edited)
			return !strcmp(b->value, value);
		return a->style == b->style && a->len == b->len &&
		       !memcmp(a->value, b->value, a->len);
	}
	if (a->n != b->n || a->style != b->style)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		if (a->type == YNODE_SEQ) {
			if (!same_except(a->items[i], b->items[i], edited, value))
				return 0;
		} else if (!same_except(a->entries[i].key, b->entries[i].key,
					edited, value) ||
			   !same_except(a->entries[i].value, b->entries[i].value,
					edited, value)) {
			return 0;
		}
	}
	return 1;
}

/* Every scalar of a tree once, in document order (aliases not followed). */
static void collect_scalars(const struct ynode *n, const struct ynode ***out,
			    size_t *nout)
{
	if (!n)
		return;
	for (size_t i = 0; i < *nout; i++)
		if ((*out)[i] == n)
			return;
	if (n->type == YNODE_SCALAR) {
		*out = realloc(*out, (*nout + 1) * sizeof(**out));
		(*out)[(*nout)++] = n;
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		if (n->type == YNODE_SEQ) {
			collect_scalars(n->items[i], out, nout);
		} else {
			collect_scalars(n->entries[i].key, out, nout);
			collect_scalars(n->entries[i].value, out, nout);
		}
	}
}

/*
 * The edit property: replace any one scalar of text by value, parse the
 * result again, and the tree is the old one but for that value. Block
 * scalars and empty values of keys without ':' are refused instead.
 * Returns the number of failures; *edits counts the edits checked.
 */
static int edit_property(const char *name, const char *text, size_t len,
			 const char *value, size_t *edits)
{
	struct yamltree *t = NULL;
	const struct ynode **scalars = NULL;
	size_t nscalars = 0;
	struct err e;
	int failed = 0;

	if (yamltree_parse_text(&t, "f.yaml", text, len, NULL, &e) < 0) {
		printf("# %s: does not parse: %s\n", name, e.msg);
		yamltree_free(t);
		return 1;
	}
	for (size_t d = 0; d < t->ndocs; d++)
		collect_scalars(t->docs[d].root, &scalars, &nscalars);
	for (size_t i = 0; i < nscalars; i++) {
		const struct ynode *n = scalars[i];
		struct strbuf out = STRBUF_INIT;
		struct yamltree *t2 = NULL;
		int ok = 1;

		if (n->style == YSTYLE_PLAIN && !strcmp(n->value, "<<"))
			continue; /* a merge key is syntax, not a value */
		strbuf_init(&out, 0);
		if (yamltree_replace_scalar(&out, t, n, value, &e) < 0) {
			ok = n->style == YSTYLE_LITERAL || n->style == YSTYLE_FOLDED ||
			     strstr(e.msg, "empty value without ':'");
		} else if (yamltree_parse_text(&t2, "f.yaml", out.buf, out.len,
					       NULL, &e) < 0 ||
			   t2->ndocs != t->ndocs) {
			ok = 0;
		} else {
			for (size_t d = 0; d < t->ndocs; d++)
				if (!same_except(t->docs[d].root, t2->docs[d].root,
						 n, value))
					ok = 0;
		}
		if (!ok) {
			printf("# %s: scalar '%s' at %u:%u := '%s' gives:\n# %s\n# (%s)\n",
			       name, n->value, n->line, n->col, value,
			       out.buf ? out.buf : "", e.msg);
			failed++;
		}
		(*edits)++;
		yamltree_free(t2);
		strbuf_release(&out);
	}
	free(scalars);
	yamltree_free(t);
	return failed;
}

static void test_edit_property(void)
{
	/* Ways to write a scalar, and the files fuzzing found wrong bytes in. */
	static const struct {
		const char *name, *text;
	} files[] = {
		{ "plain", "v: plain # c\n" },
		{ "single", "v: 'it''s' # c\n" },
		{ "double", "v: \"a\\tb\"\n" },
		{ "literal", "v: |\n  block\nw: x\n" },
		{ "folded", "v: >-\n  folded\n" },
		{ "tagged", "v: !!str tagged\n" },
		{ "verbatim tag", "v: !<tag:x,2000:y> verbatim\n" },
		{ "anchored", "v: &a anchored\nw: *a\n" },
		{ "anchored and tagged", "v: &a !!str both\nw: *a\n" },
		{ "anchor glued", "v: &a:b\n" },
		{ "empty", "v:\nw: 1\n" },
		{ "empty, comment", "v: # c\n\nw: 1\n" },
		{ "empty, tagged", "v: !t\n" },
		{ "empty, anchored", "v: &e\nw: *e\n" },
		{ "empty items", "-\n- &x\n- x\n" },
		{ "empty in flow", "{a: , b: [!!str , c]}\n" },
		{ "key without ':'", "{a, b: 1, ? c}\n" },
		{ "flow", "[a, 'b', \"c\", {d: e}]\n" },
		{ "multi-line", "v: \"multi\n  line\"\nw: plain\n  more\n" },
		{ "CRLF", "v: x\r\nw:\r\n  - y\r\n" },
		{ "NEL after tag", "!t\xc2\x85value\n" },
		{ "LS after anchor", "v: &a\xe2\x80\xa8  value\n" },
		{ "BOM", "\xef\xbb\xbfv: x\n" },
		{ "BOM after a line break", "!t\n\xef\xbb\xbfx\n" },
		{ "BOM mid-file", "[a,\n\xef\xbb\xbf" "b, !t\n\xef\xbb\xbf" "c]\n" },
		{ "merge", "m: &m {a: 1}\nv:\n  <<: *m\n  b: 2\n" },
		{ "documents", "a: 1\n---\n- b\n...\n--- c\n" },
		{ "nulls", "a: ~\nb: null\nc: !!null\n" },
		{ "edit-anchor-glued", "image: &a:ghcr.io/acme/web:1.0.0 \n" },
		{ "edit-empty-anchored", "image: &img\n" },
		{ "edit-empty-tagged", "image: !cme\n" },
		{ "edit-empty-value", "spec:\r\nimage: x\r\n" },
		{ "yaml-span-anchor-colon",
		  "apiVersion: v1\nkind: &Sonf0xigMa\nped: &ConfigMa\n"
		  "pe1tmad: &ConfigMd:aep\n figMat" },
		{ "yaml-span-tag-midstream-bom", "!\n\xef\xbb\xbftempl R" },
		{ "yaml-span-tag-nel", "!\xc2\x85T*stT*str0- r0ea" },
		{ "fuzz-yamltree-tag-glued-to-bom", "!p\r\xef\xbb\xbf" },
		{ "empty, tagged, CR CR then BOM", "!p\r\r\xef\xbb\xbf" },
		{ "fuzz-yamltree-flow-key-continued-by-dash", "{a\n- }\n" },
		{ "flow key continued by a dash, in a sequence", "[{a\n-  }, b]\n" },
		{ "empty, tagged, NEL then BOM", "v: !p\xc2\x85\xef\xbb\xbf" },
		{ "empty, tagged, LS then BOM", "v: !p\xe2\x80\xa8\xef\xbb\xbfw" },
		{ "yaml-edit-empty-tagged-scalar", "project: !cme\n" },
		{ "yaml-edit-empty-value-crlf",
		  "apiVersion: app,/v1\r\nkind: Deployment\r\nmetadatame: api\r\n"
		  "spec:\r\nontainlate:\r\n    spec:\r\n      containers:\r\n"
		  "        - name: api\r\n"
		  "          image: &api ghcr.io/Ycme/api:1.0.0 # pinned\r\n"
		  "        - name: sidecar-api\r\n          image: *api\r\n" },
	};
	static const char *values[] = {
		"ghcr.io/acme/web:2.0.0", "", "a: b # c", "1.25", "it's",
		"-x", "line\nbreak", "nel\xc2\x85ls\xe2\x80\xa8" "bom\xef\xbb\xbf",
		"[x]", "caf\xc3\xa9",
	};
	size_t edits = 0;

	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		int failed = 0;
		char name[128];

		for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++)
			failed += edit_property(files[f].name, files[f].text,
						strlen(files[f].text), values[v],
						&edits);
		snprintf(name, sizeof(name),
			 "replace one scalar, the rest of the tree is unchanged: %s",
			 files[f].name);
		CHECK(!failed, name);
	}
	CHECK(edits > 400, "the edit property covers every scalar");
}

static void test_replace_empty(void)
{
	static const char *cases[][3] = {
		{ "spec:\nx: 1\n", "spec", "spec: v\nx: 1\n" },
		{ "spec:\r\nx: 1\r\n", "spec", "spec: v\r\nx: 1\r\n" },
		{ "image: &img\n", "image", "image: &img v\n" },
		{ "image: !cme\n", "image", "image: !cme v\n" },
		{ "image: &a:x\n", "image", "image: &a v\n" },
		{ "image: # c\n", "image", "image: v # c\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct err e;
		struct yamltree *t = parse(cases[i][0], &e);
		struct strbuf out = STRBUF_INIT;

		strbuf_init(&out, 0);
		CHECK(yamltree_replace_scalar(&out, t, ynode_get(t->docs[0].root, cases[i][1]),
					      "v", &e) == 0, "replace an empty value");
		CHECK_STR(out.buf, cases[i][2], "an empty value gets a space before it");
		strbuf_release(&out);
		yamltree_free(t);
	}
}

static void test_json(void)
{
	struct err e;
	struct yamltree *t = parse("a: 1\nb: '1'\nc: true\nd: ~\ne: 1.5\nf: [x, 0x10]\n", &e);
	json_t *j = ynode_to_json(t->docs[0].root);
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);

	CHECK_STR(s, "{\"a\":1,\"b\":\"1\",\"c\":true,\"d\":null,\"e\":1.5,\"f\":[\"x\",16]}", "core schema to JSON");
	free(s);
	json_decref(j);
	yamltree_free(t);
}

/* [] and {} have no items: nothing may copy from a NULL vector. */
static void test_empty_collections(void)
{
	struct err e;
	struct yamltree *t = parse("a: []\nb: {}\nc: [[], {}, [{}]]\n", &e);
	json_t *j = ynode_to_json(t->docs[0].root);
	char *s = json_dumps(j, JSON_COMPACT);

	CHECK(t && !t->error_kind, "empty collections parse");
	CHECK(ynode_get(t->docs[0].root, "a")->n == 0, "[] has no items");
	CHECK_STR(s, "{\"a\":[],\"b\":{},\"c\":[[],{},[{}]]}", "empty collections to JSON");
	free(s);
	json_decref(j);
	yamltree_free(t);
	t = NULL;
	CHECK(yamltree_parse_text(&t, "empty", "", 0, NULL, &e) == 0 && t->ndocs == 0,
	      "an empty buffer parses");
	yamltree_free(t);
}

/* Plain scalars as kubectl (sigs.k8s.io/yaml, go-yaml v2) reads them. */
static void test_json_kubectl(void)
{
	static const char *cases[][2] = {
		{ "0755", "493" }, { "0o17", "15" }, { "0x1F", "31" },
		{ "0X1f", "31" }, { "0b101", "5" }, { "-0x10", "-16" },
		{ "1_000", "1000" }, { "+1", "1" }, { "-0", "0" },
		{ "08", "8.0" }, { "1e3", "1000.0" }, { ".5", "0.5" },
		{ "-.5", "-0.5" }, { "1.", "1.0" },
		{ "9223372036854775807", "9223372036854775807" },
		{ "-9223372036854775808", "-9223372036854775808" },
		{ "yes", "true" }, { "No", "false" }, { "on", "true" },
		{ "OFF", "false" }, { "y", "true" }, { "n", "false" },
		{ "True", "true" }, { "~", "null" }, { "", "null" },
		{ "'yes'", "\"yes\"" }, { "\"0755\"", "\"0755\"" },
		{ "! 12", "\"12\"" }, { "!!str 12", "\"12\"" },
		{ "!foo 12", "\"12\"" }, { "!!float 1", "1.0" },
		{ "!!int 0x10", "16" }, { "!!bool on", "true" },
		{ "2001-12-14", "\"2001-12-14\"" }, { "12:30", "\"12:30\"" },
		{ "0x", "\"0x\"" }, { "1.2.3", "\"1.2.3\"" },
		{ "yess", "\"yess\"" }, { "._5", "\"._5\"" },
		{ "|-\n  0755", "\"0755\"" },
	};
	static const char *bad[] = {
		".inf", "-.Inf", ".nan", "0xFFFFFFFFFFFFFFFFFFFF",
		"0o7777777777777777777777777", "99999999999999999999",
		"9223372036854775808", "1e400", "!!int abc", "!!bool 1",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct err e;
		struct strbuf in = STRBUF_INIT;
		struct yamltree *t;
		json_t *j = NULL;
		char *s;

		strbuf_init(&in, 0);
		strbuf_addf(&in, "v: %s\n", cases[i][0]);
		t = parse(in.buf, &e);
		CHECK(ynode_json(&j, ynode_get(t->docs[0].root, "v"), &e) == 0, cases[i][0]);
		s = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
		CHECK_STR(s, cases[i][1], cases[i][0]);
		free(s);
		json_decref(j);
		yamltree_free(t);
		strbuf_release(&in);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct err e;
		struct strbuf in = STRBUF_INIT;
		struct yamltree *t;
		json_t *j = NULL;

		strbuf_init(&in, 0);
		strbuf_addf(&in, "a: 1\nv: %s\n", bad[i]);
		t = parse(in.buf, &e);
		CHECK(ynode_json(&j, t->docs[0].root, &e) < 0 && !j &&
		      !strncmp(e.msg, "2:4: ", 5), bad[i]);
		yamltree_free(t);
		strbuf_release(&in);
	}
	{
		struct err e;
		struct yamltree *t = parse("0755: a\nyes: b\n1.5: c\n'x': d\n", &e);
		json_t *j = NULL;
		char *s;

		CHECK(ynode_json(&j, t->docs[0].root, &e) == 0, "typed keys convert");
		s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		CHECK_STR(s, "{\"1.5\":\"c\",\"493\":\"a\",\"true\":\"b\",\"x\":\"d\"}",
			  "keys become text as kubectl writes them");
		free(s);
		json_decref(j);
		yamltree_free(t);
		t = parse("~: a\n", &e);
		CHECK(ynode_json(&j, t->docs[0].root, &e) < 0, "a null key is refused");
		yamltree_free(t);
		t = parse("493: a\n0755: b\n", &e);
		CHECK(ynode_json(&j, t->docs[0].root, &e) < 0 &&
		      strstr(e.msg, "2:1: key '0755' is \"493\" in JSON, as is the key at 1:1"),
		      "two keys that read the same are refused");
		yamltree_free(t);
	}
}

/* Aliases multiply: the parser bounds the expanded depth and size. */
static void test_alias_limits(void)
{
	struct yamltree_limits loose = { .max_depth = 4096 };
	struct strbuf sb = STRBUF_INIT;
	struct yamltree *t = NULL;
	struct err e;
	json_t *j = NULL;

	/* Each anchor wraps the previous alias in 200 levels: 1,200 in all. */
	strbuf_init(&sb, 0);
	for (int a = 0; a < 6; a++) {
		strbuf_addf(&sb, "a%d: &a%d ", a, a);
		for (int i = 0; i < 200; i++)
			strbuf_addch(&sb, '[');
		if (a)
			strbuf_addf(&sb, "*a%d", a - 1);
		for (int i = 0; i < 200; i++)
			strbuf_addch(&sb, ']');
		strbuf_addch(&sb, '\n');
	}
	t = parse(sb.buf, &e);
	CHECK(t && t->error_kind == YERR_LIMIT && !t->ndocs,
	      "1,200 levels through aliases are refused by the parser");
	CHECK_STR(e.msg, "f.yaml:2:209: alias '*a0' nests deeper than 256 levels",
		  "the deep alias is named with its line and column");
	yamltree_free(t);

	/* Parsed with a looser depth, the conversion still stops at 1,000. */
	CHECK(yamltree_parse_text(&t, "f.yaml", sb.buf, sb.len, &loose, &e) == 0,
	      "1,200 levels parse with max_depth 4096");
	CHECK(ynode_json(&j, t->docs[0].root, &e) < 0 && !j &&
	      strstr(e.msg, "nests deeper than 1000 levels"),
	      "the conversion refuses more than 1,000 levels");
	yamltree_free(t);

	/* An alias at the last level a collection may take, and one past it. */
	for (int levels = 253; levels <= 254; levels++) {
		strbuf_reset(&sb);
		strbuf_addstr(&sb, "a: &a [[x]]\nb: ");
		for (int i = 0; i < levels; i++)
			strbuf_addch(&sb, '[');
		strbuf_addstr(&sb, "*a");
		for (int i = 0; i < levels; i++)
			strbuf_addch(&sb, ']');
		strbuf_addch(&sb, '\n');
		if (levels == 254)
			break;
		t = parse(sb.buf, &e);
		CHECK(t && !t->error_kind, "256 levels through an alias parse");
		yamltree_free(t);
	}
	t = parse(sb.buf, &e);
	CHECK(t && t->error_kind == YERR_LIMIT &&
	      strstr(e.msg, "f.yaml:2:258: alias '*a' nests deeper than 256 levels"),
	      "257 levels through an alias are refused");
	yamltree_free(t);

	/* 4 KiB aliased 256 times, that aliased 300 times: 300 MiB. */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "a: &a \"");
	for (int i = 0; i < 4096; i++)
		strbuf_addch(&sb, 'x');
	strbuf_addstr(&sb, "\"\nb: &b [");
	for (int i = 0; i < 256; i++)
		strbuf_addstr(&sb, "*a,");
	strbuf_addstr(&sb, "]\nc: [");
	for (int i = 0; i < 300; i++)
		strbuf_addstr(&sb, "*b,");
	strbuf_addstr(&sb, "]\n");
	t = parse(sb.buf, &e);
	CHECK(t && t->error_kind == YERR_LIMIT && !t->ndocs,
	      "300 MiB through aliases are refused by the parser");
	CHECK_STR(e.msg, "f.yaml:3:11: alias '*b' expands the file to more than 16 times its size",
		  "the alias that goes over the budget is named");
	yamltree_free(t);

	/* The same expansion from a file big enough for it: 16 times. */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "pad: \"");
	for (int i = 0; i < 300 * 1024; i++)
		strbuf_addch(&sb, 'p');
	strbuf_addstr(&sb, "\"\na: &a \"");
	for (int i = 0; i < 4096; i++)
		strbuf_addch(&sb, 'x');
	strbuf_addstr(&sb, "\"\nb: [");
	for (int i = 0; i < 1000; i++)
		strbuf_addstr(&sb, "*a,");
	strbuf_addstr(&sb, "]\n");
	t = parse(sb.buf, &e);
	CHECK(t && !t->error_kind,
	      "4 MiB through aliases from 300 KiB of text parse");
	yamltree_free(t);

	/* Many documents share one budget: anchors cannot reset it. */
	strbuf_reset(&sb);
	for (int d = 0; d < 40; d++) {
		strbuf_addstr(&sb, "---\na: &a \"");
		for (int i = 0; i < 4096; i++)
			strbuf_addch(&sb, 'x');
		strbuf_addstr(&sb, "\"\nb: [");
		for (int i = 0; i < 40; i++)
			strbuf_addstr(&sb, "*a,");
		strbuf_addstr(&sb, "]\n");
	}
	t = parse(sb.buf, &e);
	CHECK(t && t->error_kind == YERR_LIMIT &&
	      strstr(e.msg, "expands the file to more than 16 times its size"),
	      "the expansion budget is the file's, not each document's");
	yamltree_free(t);

	/* Without aliases, -o json is bounded too: 2 spaces per level. */
	strbuf_reset(&sb);
	for (int i = 0; i < 255; i++)
		strbuf_addch(&sb, '[');
	for (int i = 0; i < 600000; i++)
		strbuf_addstr(&sb, "1,");
	for (int i = 0; i < 255; i++)
		strbuf_addch(&sb, ']');
	t = parse(sb.buf, &e);
	CHECK(t && !t->error_kind, "600,000 values 255 levels deep parse");
	CHECK(ynode_json(&j, t->docs[0].root, &e) < 0 && !j &&
	      strstr(e.msg, "expands to more than 256 MiB"),
	      "their indented JSON (300 MiB) is refused");
	yamltree_free(t);
	strbuf_release(&sb);
}

int main(void)
{
	test_positions();
	test_alias_merge();
	test_errors();
	test_limits();
	test_replace();
	test_replace_empty();
	test_edit_property();
	test_json();
	test_empty_collections();
	test_json_kubectl();
	test_alias_limits();
	return UNIT_DONE();
}
