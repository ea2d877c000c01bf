/* Unit tests of the yamltree edits applied at once: every byte that no
 * edit names is kept, and new entries look like their neighbours. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yamltree.h"
#include "unit.h"

enum op { SCALAR, MAP_INSERT, MAP_INSERT_RAW, SEQ_INSERT, SEQ_REMOVE };

/*
 * Parse text, find the node at path (dotted, from the first document's
 * root), make one or two edits and compare the result with want (NULL:
 * the edit must fail).
 */
static void edit(const char *name, const char *text, const char *path,
		 enum op op, const char *a, const char *b, const char *want)
{
	struct yamltree *t = NULL;
	struct yamltree_edits ed;
	struct strbuf out = STRBUF_INIT;
	struct err e = { "" };
	const struct ynode *n;
	int r = -1;

	if (yamltree_parse_text(&t, "t.yaml", text, strlen(text), NULL, &e) < 0) {
		CHECK(0, name);
		printf("#   %s\n", e.msg);
		yamltree_free(t);
		return;
	}
	n = *path ? ynode_path(t->docs[0].root, path) : t->docs[0].root;
	yamltree_edits_init(&ed, t);
	switch (op) {
	case SCALAR:
		r = yamltree_edit_scalar(&ed, n, a, &e);
		break;
	case MAP_INSERT:
		r = yamltree_edit_map_insert(&ed, n, a, b, 0, &e);
		break;
	case MAP_INSERT_RAW:
		r = yamltree_edit_map_insert(&ed, n, a, b, YAMLTREE_EDIT_RAW, &e);
		break;
	case SEQ_INSERT:
		r = yamltree_edit_seq_insert(&ed, n, a, &e);
		if (r == 0 && b)
			r = yamltree_edit_seq_insert(&ed, n, b, &e);
		break;
	case SEQ_REMOVE:
		r = yamltree_edit_seq_remove(&ed, n, (size_t)atoi(a), &e);
		break;
	}
	if (r == 0)
		r = yamltree_edits_apply(&ed, &out, &e);
	if (!want) {
		CHECK(r < 0, name);
	} else {
		CHECK_STR(r == 0 ? out.buf : e.msg, want, name);
	}
	yamltree_edits_release(&ed);
	strbuf_release(&out);
	yamltree_free(t);
}

int main(void)
{
	edit("a value is replaced in place, comments kept",
	     "# top\nm:\n  a: 1 # one\n  b: 2\n", "m.a", SCALAR, "x", NULL,
	     "# top\nm:\n  a: x # one\n  b: 2\n");
	edit("a quoted value stays quoted",
	     "m:\n  a: \"1\"\n  b: '2'\n", "m.b", SCALAR, "it's", NULL,
	     "m:\n  a: \"1\"\n  b: 'it''s'\n");
	edit("a plain value that would change type is quoted",
	     "m: {a: b}\n", "m.a", SCALAR, "true", NULL,
	     "m: {a: \"true\"}\n");
	edit("a new key goes in its sorted place",
	     "m:\n  a: 1\n  c: 3\nz: 0\n", "m", MAP_INSERT, "b", "two",
	     "m:\n  a: 1\n  b: two\n  c: 3\nz: 0\n");
	edit("a string that reads as a number is quoted",
	     "m:\n  a: x\n", "m", MAP_INSERT, "b", "2",
	     "m:\n  a: x\n  b: \"2\"\n");
	edit("a new key sorting first goes first",
	     "m:\n  b: 1\n  c: 3\n", "m", MAP_INSERT, "a", "zero",
	     "m:\n  a: zero\n  b: 1\n  c: 3\n");
	edit("a new key sorting last goes after the last entry's comment",
	     "m:\n  a: 1\n  b: 2 # two\n# about z\nz: 0\n", "m", MAP_INSERT, "c", "x",
	     "m:\n  a: 1\n  b: 2 # two\n  c: x\n# about z\nz: 0\n");
	edit("the comment above a key stays with that key",
	     "m:\n  a: 1\n  # about c\n  c: 3\n", "m", MAP_INSERT, "b", "x",
	     "m:\n  a: 1\n  b: x\n  # about c\n  c: 3\n");
	edit("unsorted keys: a new key goes at the end",
	     "m:\n  c: 1\n  a: 2\nn: 1\n", "m", MAP_INSERT, "b", "x",
	     "m:\n  c: 1\n  a: 2\n  b: x\nn: 1\n");
	edit("quoted neighbours: the new entry is quoted alike",
	     "m:\n  \"a\": 'x'\n  \"c\": 'z'\n", "m", MAP_INSERT, "b", "y",
	     "m:\n  \"a\": 'x'\n  \"b\": 'y'\n  \"c\": 'z'\n");
	edit("a key that needs quotes gets them",
	     "m:\n  a: 1\n", "m", MAP_INSERT, "b: c", "#x",
	     "m:\n  a: 1\n  \"b: c\": \"#x\"\n");
	edit("CRLF files get CRLF lines",
	     "m:\r\n  a: 1\r\n  c: 3\r\n", "m", MAP_INSERT, "b", "x",
	     "m:\r\n  a: 1\r\n  b: x\r\n  c: 3\r\n");
	edit("no final line break: none is added",
	     "m:\n  a: 1", "m", MAP_INSERT, "b", "x", "m:\n  a: 1\n  b: x");
	edit("an empty flow map in block context becomes a block map",
	     "s:\n  m: {} # empty\n  z: 1\n", "s.m", MAP_INSERT, "a", "x",
	     "s:\n  m:\n    a: x # empty\n  z: 1\n");
	edit("a raw flow value",
	     "s:\n  a: 1\n", "s", MAP_INSERT_RAW, "b", "[x, y]",
	     "s:\n  a: 1\n  b: [x, y]\n");
	edit("a flow map gets the entry inside its braces",
	     "m: {a: 1, c: 3}\n", "m", MAP_INSERT, "b", "x",
	     "m: {a: 1, b: x, c: 3}\n");
	edit("a flow map: a last key goes at the end",
	     "m: {a: 1, c: 3}\n", "m", MAP_INSERT, "d", "x",
	     "m: {a: 1, c: 3, d: x}\n");
	edit("an empty flow map inside a flow map",
	     "m: {n: {}}\n", "m.n", MAP_INSERT, "x", "v", "m: {n: {x: v}}\n");
	edit("after a block sequence at the top level",
	     "l:\n- b: 1\n  c: 2\n", "", MAP_INSERT, "zz", "x",
	     "l:\n- b: 1\n  c: 2\nzz: x\n");
	edit("a key that exists is refused",
	     "m:\n  a: 1\n", "m", MAP_INSERT, "a", "2", NULL);
	edit("a sequence item in its sorted place",
	     "s:\n  r:\n  - a1\n  - c3\n  k: v\n", "s.r", SEQ_INSERT, "b2", "d4",
	     "s:\n  r:\n  - a1\n  - b2\n  - c3\n  - d4\n  k: v\n");
	edit("an indented sequence",
	     "r:\n    - a\n    - c\n", "r", SEQ_INSERT, "b", NULL,
	     "r:\n    - a\n    - b\n    - c\n");
	edit("an empty flow sequence becomes a block one",
	     "s:\n  r: []\n  k: v\n", "s.r", SEQ_INSERT, "a", "b",
	     "s:\n  r:\n  - a\n  - b\n  k: v\n");
	edit("a flow sequence", "r: [a, c]\n", "r", SEQ_INSERT, "b", "d",
	     "r: [a, b, c, d]\n");
	edit("removing a block item takes its line and comment",
	     "r:\n- a\n- b # gone\n- c\n", "r", SEQ_REMOVE, "1", NULL,
	     "r:\n- a\n- c\n");
	edit("removing the last block item",
	     "r:\n  - a\n  - b\nk: v\n", "r", SEQ_REMOVE, "1", NULL,
	     "r:\n  - a\nk: v\n");
	edit("removing the only block item is refused",
	     "r:\n- a\n", "r", SEQ_REMOVE, "0", NULL, NULL);
	edit("removing from a flow sequence takes the comma",
	     "r: [a, b, c]\n", "r", SEQ_REMOVE, "1", NULL, "r: [a, c]\n");
	edit("removing the last of a flow sequence",
	     "r: [a, b]\n", "r", SEQ_REMOVE, "1", NULL, "r: [a]\n");
	edit("a block scalar is not edited",
	     "a: |\n  x\n", "a", SCALAR, "y", NULL, NULL);
	return UNIT_DONE();
}
