/*
 * yamltree: parsing never crashes and stays within its limits; every
 * span lies inside the text (and a one-line plain scalar's span is its
 * value); the JSON conversion never crashes; and the edit property:
 * replacing one scalar with yamltree_replace_scalar() and parsing again
 * gives the same tree apart from that value (and its aliases).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "yamltree.h"

#define NEW_VALUE "fuzz-edit-1"
#define MAX_EDITS 8
#define BUDGET 200000	/* node visits per walk: alias bombs share nodes */

static void fail(const char *what, const char *text, size_t len)
{
	fprintf(stderr, "fuzz-yamltree: %s\n--- input (%zu bytes) ---\n%.*s\n",
		what, len, (int)(len > 4096 ? 4096 : len), text);
	abort();
}

/* An explicit stack: the tree can be deeper than the C stack allows. */
struct pair {
	const struct ynode *a, *b;
	int key;	/* a map key: never edited */
};

struct walk {
	struct pair *v;
	size_t n, cap;
};

static void push(struct walk *w, const struct ynode *a, const struct ynode *b,
		 int key)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 256;
		w->v = realloc(w->v, w->cap * sizeof(*w->v));
		if (!w->v)
			abort();
	}
	w->v[w->n].a = a;
	w->v[w->n].b = b;
	w->v[w->n].key = key;
	w->n++;
}

static void push_children(struct walk *w, const struct ynode *a,
			  const struct ynode *b)
{
	for (size_t i = a->n; i-- > 0;) {
		if (a->type == YNODE_SEQ) {
			push(w, a->items[i], b ? b->items[i] : NULL, 0);
		} else if (a->type == YNODE_MAP) {
			push(w, a->entries[i].value, b ? b->entries[i].value : NULL, 0);
			push(w, a->entries[i].key, b ? b->entries[i].key : NULL, 1);
		}
	}
}

/* No line break in s, as libyaml counts them: also NEL, LS and PS. */
static int one_line(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n' || c == '\r')
			return 0;
		if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] == 0x85)
			return 0;
		if (c == 0xe2 && i + 2 < len && (unsigned char)s[i + 1] == 0x80 &&
		    ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9))
			return 0;
	}
	return 1;
}

/* Spans inside the text; collect up to MAX_EDITS value scalars to edit. */
static void check_spans(const struct yamltree *t, const struct ynode **edits,
			size_t *nedits)
{
	struct walk w = { 0 };
	size_t visits = 0;

	for (size_t d = 0; d < t->ndocs; d++)
		if (t->docs[d].root)
			push(&w, t->docs[d].root, NULL, 0);
	while (w.n && visits++ < BUDGET) {
		struct pair p = w.v[--w.n];
		const struct ynode *n = p.a;

		if (n->start > n->end || n->end > t->len)
			fail("span outside the text", t->text, t->len);
		if (n->type != YNODE_SCALAR) {
			push_children(&w, n, NULL);
			continue;
		}
		if (n->style == YSTYLE_PLAIN && n->end > n->start &&
		    one_line(t->text + n->start, n->end - n->start) &&
		    (n->len != n->end - n->start ||
		     memcmp(t->text + n->start, n->value, n->len)))
			fail("a one-line plain scalar's span is not its value",
			     t->text, t->len);
		if (!p.key && *nedits < MAX_EDITS &&
		    n->style != YSTYLE_LITERAL && n->style != YSTYLE_FOLDED) {
			int seen = 0;

			for (size_t i = 0; i < *nedits; i++)
				seen |= edits[i] == n;
			if (!seen)
				edits[(*nedits)++] = n;
		}
	}
	free(w.v);
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Is b the tree of a with the scalar `edited` (shared by aliases) changed? */
static const char *compare(const struct yamltree *ta, const struct yamltree *tb,
			   const struct ynode *edited)
{
	struct walk w = { 0 };
	size_t visits = 0;
	const char *diff = NULL;

	if (ta->ndocs != tb->ndocs)
		return "the number of documents changed";
	for (size_t d = 0; d < ta->ndocs; d++) {
		if (!ta->docs[d].root != !tb->docs[d].root)
			return "a document became empty or not";
		if (ta->docs[d].root)
			push(&w, ta->docs[d].root, tb->docs[d].root, 0);
	}
	while (w.n && visits++ < BUDGET && !diff) {
		struct pair p = w.v[--w.n];
		const struct ynode *a = p.a, *b = p.b;

		if (a->type != b->type)
			diff = "a node changed type";
		else if (!same_str(a->tag, b->tag))
			diff = "a tag changed";
		else if (!same_str(a->anchor, b->anchor))
			diff = "an anchor changed";
		else if (a->type != YNODE_SCALAR && a->n != b->n)
			diff = "a collection changed size";
		else if (a == edited) {
			if (b->len != strlen(NEW_VALUE) || strcmp(b->value, NEW_VALUE))
				diff = "the edited scalar does not hold the new value";
		} else if (a->type == YNODE_SCALAR) {
			if (a->len != b->len || memcmp(a->value, b->value, a->len))
				diff = "another scalar changed";
		} else {
			push_children(&w, a, b);
		}
	}
	free(w.v);
	return diff;
}

static void check_edit(const struct yamltree *t, const struct ynode *n)
{
	struct strbuf out = STRBUF_INIT;
	struct yamltree *t2 = NULL;
	struct err e;
	const char *diff;

	if (yamltree_replace_scalar(&out, t, n, NEW_VALUE, &e) < 0) {
		strbuf_release(&out);
		return;
	}
	if (yamltree_parse_text(&t2, "edited.yaml", out.buf, out.len, NULL, &e) < 0) {
		fprintf(stderr, "after the edit at %u:%u: %s\n--- edited ---\n%s\n",
			n->line, n->col, e.msg, out.buf);
		fail("the edited text does not parse", t->text, t->len);
	}
	if ((diff = compare(t, t2, n))) {
		fprintf(stderr, "after the edit at %u:%u\n--- edited ---\n%s\n",
			n->line, n->col, out.buf);
		fail(diff, t->text, t->len);
	}
	yamltree_free(t2);
	strbuf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct yamltree *t = NULL;
	const struct ynode *edits[MAX_EDITS];
	size_t nedits = 0;
	struct err e;

	if (yamltree_parse_text(&t, "fuzz.yaml", (const char *)data, size,
				NULL, &e) < 0) {
		yamltree_free(t);
		return 0;
	}
	check_spans(t, edits, &nedits);
	for (size_t d = 0; d < t->ndocs; d++) {
		json_t *j = NULL;

		if (t->docs[d].root && ynode_json(&j, t->docs[d].root, &e) == 0) {
			char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

			free(s);
			json_decref(j);
		}
	}
	for (size_t i = 0; i < nedits; i++)
		check_edit(t, edits[i]);
	yamltree_free(t);
	return 0;
}
