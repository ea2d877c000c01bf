#include "yamltree.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

/* A monorepo's trees are held in memory at once: keep nodes small. */
_Static_assert(sizeof(struct ynode) == 64, "struct ynode grew");

/*
 * Nodes and strings of one tree live in an arena, freed at once.
 * Collections grow in temporary malloc'd vectors while they are open and
 * are copied into the arena when they close.
 */
struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	max_align_t data[];
};

struct yamltree_arena {
	struct arena_chunk *head;
	size_t first_chunk;
};

/* align: 8 for nodes and arrays, 1 for strings. */
static void *arena_alloc_aligned(struct yamltree_arena *a, size_t n,
				 size_t align)
{
	struct arena_chunk *c = a->head;
	size_t used = c ? (c->used + align - 1) & ~(align - 1) : 0;

	/* Rounding up may pass the end of a chunk sized exactly for one
	 * big string: check before subtracting. */
	if (!c || used > c->size || c->size - used < n) {
		/* Small files stay small: chunks grow with the tree. */
		size_t size = c ? c->size * 2 : a->first_chunk;

		if (size > 1 << 20)
			size = 1 << 20;
		if (size < n)
			size = n;

		c = malloc(sizeof(*c) + size);
		if (!c)
			abort();
		c->size = size;
		c->next = a->head;
		a->head = c;
		used = 0;
	}
	void *p = (char *)c->data + used;
	c->used = used + n;
	return p;
}

static void *arena_alloc(struct yamltree_arena *a, size_t n)
{
	return arena_alloc_aligned(a, n, 8);
}

static char *arena_strndup(struct yamltree_arena *a, const char *s, size_t n)
{
	char *p = arena_alloc_aligned(a, n + 1, 1);

	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static void arena_free(struct yamltree_arena *a)
{
	while (a && a->head) {
		struct arena_chunk *next = a->head->next;

		free(a->head);
		a->head = next;
	}
	free(a);
}

/* A string-keyed hash set/map: anchors, and keys of large maps. */
struct strmap_slot {
	const char *key;
	size_t len;
	void *value;
};

struct strmap {
	struct strmap_slot *slots;
	size_t cap, used;
};

static uint64_t strmap_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static struct strmap_slot *strmap_find(struct strmap *m, const char *key,
				       size_t len)
{
	size_t i;

	if (!m->cap)
		return NULL;
	i = strmap_hash(key, len) & (m->cap - 1);
	while (m->slots[i].key) {
		if (m->slots[i].len == len && !memcmp(m->slots[i].key, key, len))
			return &m->slots[i];
		i = (i + 1) & (m->cap - 1);
	}
	return NULL;
}

/* Insert or replace; the key must outlive the map. */
static void strmap_put(struct strmap *m, const char *key, size_t len,
		       void *value)
{
	struct strmap_slot *s;
	size_t i;

	if ((s = strmap_find(m, key, len))) {
		s->value = value;
		return;
	}
	if ((m->used + 1) * 2 > m->cap) {
		struct strmap old = *m;

		m->cap = m->cap ? m->cap * 2 : 16;
		m->slots = calloc(m->cap, sizeof(*m->slots));
		if (!m->slots)
			abort();
		m->used = 0;
		for (size_t k = 0; k < old.cap; k++)
			if (old.slots[k].key)
				strmap_put(m, old.slots[k].key, old.slots[k].len,
					   old.slots[k].value);
		free(old.slots);
	}
	i = strmap_hash(key, len) & (m->cap - 1);
	while (m->slots[i].key)
		i = (i + 1) & (m->cap - 1);
	m->slots[i].key = key;
	m->slots[i].len = len;
	m->slots[i].value = value;
	m->used++;
}

static void strmap_release(struct strmap *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

/*
 * libyaml marks count characters (a CRLF is two, a BOM none); spans are in
 * bytes. Marks arrive in increasing order, so a forward cursor converts
 * them in linear time overall.
 */
struct offset_cursor {
	const unsigned char *text;
	size_t len;
	size_t chars, bytes;
	size_t base;		/* 3 when the text starts with a BOM */
	int ascii;		/* every byte < 0x80: a character is a byte */
};

/* Is every byte of text below 0x80? Eight bytes at a time. */
static int all_ascii(const unsigned char *text, size_t len)
{
	uint64_t high = 0, w;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, text + i, 8);
		high |= w;
	}
	for (; i < len; i++)
		high |= text[i];
	return !(high & 0x8080808080808080ull);
}

static size_t cursor_bytes(struct offset_cursor *c, size_t char_index)
{
	if (c->ascii)
		return char_index < c->len ? char_index : c->len;
	if (char_index < c->chars) {
		c->chars = 0;
		c->bytes = c->base;
	}
	while (c->chars < char_index && c->bytes < c->len) {
		unsigned char b = c->text[c->bytes];
		size_t w = b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;

		c->bytes += w;
		c->chars++;
	}
	return c->bytes < c->len ? c->bytes : c->len;
}

/* One open collection while building. */
struct frame {
	struct ynode *node;
	void **vec;		/* seq: ynode*; map: key, value, key, value ... */
	size_t n, cap;
	struct strmap keys;	/* scalar keys seen, for duplicates */
	size_t weight;		/* bytes, aliases expanded (ynode.weight) */
	unsigned height;	/* levels below, aliases expanded */
};

struct builder {
	struct yamltree *t;
	struct yamltree_limits lim;
	struct offset_cursor cur;
	struct frame *stack;
	size_t depth, stack_cap;
	struct strmap anchors;	/* name -> node (complete nodes only) */
	size_t nodes;
	/* The whole file's size as written and as expanded, in the units
	 * of ynode.weight: an alias counts as one node as written. */
	size_t direct, expanded;
	struct ynode *root;
	struct err *e;
};

/*
 * What a node costs before its children (see ynode.weight): the memory a
 * reader spends on it, a ynode here, a json_t and its slot in jansson.
 */
#define NODE_COST 64
/* Expansion every file may use; beyond it, the ratio below applies. */
#define EXPAND_FREE ((size_t)4 << 20)
#define EXPAND_RATIO 16
/* ynode.height has 15 bits. */
#define DEPTH_CEILING 4096

static int fail_at(struct builder *b, enum yamltree_error_kind kind,
		   unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int fail_at(struct builder *b, enum yamltree_error_kind kind,
		   unsigned line, unsigned col, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	b->t->error_kind = kind;
	b->t->error_line = line;
	b->t->error_col = col;
	return err_set(b->e, "%s:%u:%u: %s", b->t->path, line, col, msg);
}

/*
 * Bytes of a line break at p (LF, CR, CRLF, and NEL, LS, PS as libyaml
 * reads them), or 0.
 */
static size_t break_len(const char *p, const char *end)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t room = (size_t)(end - p);

	if (!room)
		return 0;
	if (u[0] == '\r')
		return room > 1 && u[1] == '\n' ? 2 : 1;
	if (u[0] == '\n')
		return 1;
	if (room > 1 && u[0] == 0xc2 && u[1] == 0x85)
		return 2;
	if (room > 2 && u[0] == 0xe2 && u[1] == 0x80 &&
	    (u[2] == 0xa8 || u[2] == 0xa9))
		return 3;
	return 0;
}

static int is_bom(const char *p, const char *end)
{
	return end - p >= 3 && !memcmp(p, "\xef\xbb\xbf", 3);
}

/*
 * libyaml starts a scalar's mark at its properties ("&anchor !tag value");
 * the span of a scalar is its value alone, so that replacing it keeps the
 * anchor and the tag. The properties are read as libyaml reads them: an
 * anchor is [0-9A-Za-z_-]+ and may touch the value ("&a:b" is the value
 * ":b"); a tag runs to a blank, a line break or, in flow, a comma; between
 * them come blanks, comments, any line break and a BOM at a line start.
 */
static void skip_properties(const struct yamltree *t, struct ynode *n)
{
	const char *p = t->text + n->start, *end = t->text + n->end;

	while (p < end && (*p == '&' || *p == '!')) {
		if (*p == '&') {
			for (p++; p < end && (isalnum((unsigned char)*p) ||
					      *p == '_' || *p == '-'); p++)
				;
		} else if (end - p > 1 && p[1] == '<') {
			while (p < end && *p != '>')
				p++;
			if (p < end)
				p++;
		} else {
			while (p < end && *p != ' ' && *p != '\t' &&
			       !break_len(p, end) && !(n->flow && *p == ','))
				p++;
		}
		while (p < end) {
			size_t bl = break_len(p, end);

			if (*p == ' ' || *p == '\t') {
				p++;
			} else if (bl) {
				p += bl;
				/* libyaml skips one, at column 0; a second is text */
				if (is_bom(p, end))
					p += 3;
			} else if (*p == '#') {
				while (p < end && !break_len(p, end))
					p++;
			} else {
				break;
			}
		}
	}
	n->start = (uint32_t)(p - t->text);
}

static struct ynode *new_node(struct builder *b, enum ynode_type type,
			      const yaml_mark_t *start, const yaml_mark_t *end)
{
	struct ynode *n = arena_alloc(b->t->arena, sizeof(*n));

	memset(n, 0, sizeof(*n));
	n->type = type;
	n->line = (unsigned)start->line + 1;
	n->col = (unsigned)start->column + 1;
	n->start = (uint32_t)cursor_bytes(&b->cur, start->index);
	n->end = (uint32_t)cursor_bytes(&b->cur, end->index);
	n->flow = b->depth && (b->stack[b->depth - 1].node->style == YSTYLE_FLOW ||
			       b->stack[b->depth - 1].node->flow);
	n->weight = NODE_COST;
	b->nodes++;
	b->direct += NODE_COST;
	b->expanded += NODE_COST;
	return n;
}

static int is_merge_key(const struct ynode *key)
{
	return key->type == YNODE_SCALAR && key->style == YSTYLE_PLAIN &&
	       !key->tag && key->len == 2 && !memcmp(key->value, "<<", 2);
}

/*
 * Scalar keys of an open map: a linear scan while the map is small (most
 * manifests), a hash set once it grows, so huge maps stay linear.
 */
#define FRAME_SMALL_MAP 8

static struct ynode *frame_key_find(struct frame *f, const struct ynode *key)
{
	if (f->keys.cap) {
		struct strmap_slot *s = strmap_find(&f->keys, key->value, key->len);

		return s ? s->value : NULL;
	}
	for (size_t i = 0; i < f->n; i += 2) {
		struct ynode *k = f->vec[i];

		if (k->type == YNODE_SCALAR && k->len == key->len &&
		    !is_merge_key(k) && !memcmp(k->value, key->value, key->len))
			return k;
	}
	return NULL;
}

static void frame_key_add(struct frame *f, struct ynode *key)
{
	if (!f->keys.cap && f->n / 2 < FRAME_SMALL_MAP)
		return; /* the scan of f->vec finds it */
	if (!f->keys.cap) {
		for (size_t i = 0; i < f->n; i += 2) {
			struct ynode *k = f->vec[i];

			if (k->type == YNODE_SCALAR && !is_merge_key(k))
				strmap_put(&f->keys, k->value, k->len, k);
		}
	}
	strmap_put(&f->keys, key->value, key->len, key);
}

/* Index every explicit key now, for the merge pass of close_map(). */
static void frame_key_index(struct frame *f)
{
	if (f->keys.cap)
		return;
	for (size_t i = 0; i < f->n; i += 2) {
		struct ynode *k = f->vec[i];

		if (k->type == YNODE_SCALAR && !is_merge_key(k))
			strmap_put(&f->keys, k->value, k->len, k);
	}
}

static void frame_key_add_merged(struct frame *f, struct ynode *key)
{
	strmap_put(&f->keys, key->value, key->len, key);
}

/*
 * An alias to target is about to be attached where it appears (line:col):
 * refuse it when the tree, aliases expanded, would nest too deep or the
 * file would expand too much. Checked as the file is read, so a hostile
 * file is refused as soon as it goes too far.
 */
static int check_alias(struct builder *b, const struct ynode *target,
		       const char *name, unsigned line, unsigned col)
{
	if (b->depth + target->height > b->lim.max_depth)
		return fail_at(b, YERR_LIMIT, line, col,
			       "alias '*%s' nests deeper than %u levels",
			       name, b->lim.max_depth);
	b->direct += NODE_COST;
	b->expanded += target->weight;
	if (b->expanded > b->lim.max_expansion)
		return fail_at(b, YERR_LIMIT, line, col,
			       "alias '*%s' expands the file to more than %zu MiB",
			       name, b->lim.max_expansion >> 20);
	if (b->expanded > EXPAND_FREE && b->expanded / EXPAND_RATIO > b->direct)
		return fail_at(b, YERR_LIMIT, line, col,
			       "alias '*%s' expands the file to more than %d times its size",
			       name, EXPAND_RATIO);
	return 0;
}

/* Add a finished node to the open collection (or make it the root). */
static int attach(struct builder *b, struct ynode *node)
{
	struct frame *f;

	if (!b->depth) {
		b->root = node;
		return 0;
	}
	f = &b->stack[b->depth - 1];
	/* Bounded by check_alias(): no overflow. */
	f->weight += node->weight;
	if (f->height < node->height + 1u)
		f->height = node->height + 1u;
	/* A map's key: refuse a duplicate right where it appears. */
	if (f->node->type == YNODE_MAP && f->n % 2 == 0 &&
	    node->type == YNODE_SCALAR && !is_merge_key(node)) {
		const struct ynode *first = frame_key_find(f, node);

		if (first)
			return fail_at(b, YERR_DUPLICATE_KEY, node->line,
				       node->col,
				       "duplicate key '%s' (first at line %u)",
				       node->value, first->line);
		frame_key_add(f, node);
	}
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 8;
		f->vec = realloc(f->vec, f->cap * sizeof(*f->vec));
		if (!f->vec)
			abort();
	}
	f->vec[f->n++] = node;
	return 0;
}

static int push_frame(struct builder *b, struct ynode *node)
{
	if (b->depth >= b->lim.max_depth)
		return fail_at(b, YERR_LIMIT, node->line, node->col,
			       "nesting deeper than %u levels", b->lim.max_depth);
	if (b->depth == b->stack_cap) {
		b->stack_cap = b->stack_cap ? b->stack_cap * 2 : 16;
		b->stack = realloc(b->stack, b->stack_cap * sizeof(*b->stack));
		if (!b->stack)
			abort();
	}
	memset(&b->stack[b->depth], 0, sizeof(b->stack[0]));
	b->stack[b->depth].node = node;
	b->stack[b->depth].weight = node->weight;
	b->depth++;
	return 0;
}

/*
 * Close a map: explicit entries first in document order, then entries of
 * "<<" merges whose keys are not already present (YAML merge semantics:
 * explicit keys win, earlier merges win over later ones).
 */
static int close_map(struct builder *b, struct frame *f)
{
	struct ynode *map = f->node;
	size_t pairs = f->n / 2, cap = pairs, nmerges = 0;
	struct ymap_entry *ents;

	for (size_t i = 0; i < pairs; i++) {
		struct ynode *k = f->vec[2 * i], *v = f->vec[2 * i + 1];

		if (!is_merge_key(k))
			continue;
		nmerges++;
		if (v->type == YNODE_MAP) {
			cap += v->n;
		} else if (v->type == YNODE_SEQ) {
			for (size_t j = 0; j < v->n; j++) {
				if (v->items[j]->type != YNODE_MAP)
					return fail_at(b, YERR_SYNTAX, v->items[j]->line,
						       v->items[j]->col,
						       "a '<<' merge list may only hold maps");
				cap += v->items[j]->n;
			}
		} else {
			return fail_at(b, YERR_SYNTAX, v->line, v->col,
				       "a '<<' merge key needs a map or a list of maps");
		}
	}
	/* Presence checks of merged keys go through the hash set. */
	if (nmerges)
		frame_key_index(f);
	ents = arena_alloc(b->t->arena, (cap ? cap : 1) * sizeof(*ents));
	map->n = 0;
	for (size_t i = 0; i < pairs; i++) {
		struct ynode *k = f->vec[2 * i];

		if (is_merge_key(k))
			continue;
		ents[map->n].key = k;
		ents[map->n].value = f->vec[2 * i + 1];
		map->n++;
	}
	for (size_t i = 0; i < pairs; i++) {
		struct ynode *k = f->vec[2 * i], *v = f->vec[2 * i + 1];
		size_t nsrc = v->type == YNODE_SEQ ? v->n : 1;

		if (!is_merge_key(k))
			continue;
		for (size_t s = 0; s < nsrc; s++) {
			const struct ynode *src =
				v->type == YNODE_SEQ ? v->items[s] : v;

			for (size_t j = 0; j < src->n; j++) {
				const struct ymap_entry *se = &src->entries[j];

				if (se->key->type == YNODE_SCALAR) {
					if (frame_key_find(f, se->key))
						continue;
					/* Recorded so later merges lose to it. */
					frame_key_add_merged(f, se->key);
				}
				ents[map->n] = *se;
				map->n++;
			}
		}
	}
	map->entries = ents;
	return 0;
}

static int pop_frame(struct builder *b, const yaml_mark_t *end)
{
	struct frame *f = &b->stack[b->depth - 1];
	struct ynode *node = f->node;
	int r = 0;

	node->end = (uint32_t)cursor_bytes(&b->cur, end->index);
	node->weight = f->weight > UINT32_MAX ? UINT32_MAX : (uint32_t)f->weight;
	node->height = f->height;
	if (node->type == YNODE_SEQ) {
		node->items = arena_alloc(b->t->arena,
					  (f->n ? f->n : 1) * sizeof(*node->items));
		/* An empty sequence [] has no vector: memcpy(p, NULL, 0) is
		 * undefined behaviour. */
		if (f->n)
			memcpy(node->items, f->vec,
			       f->n * sizeof(*node->items));
		node->n = (uint32_t)f->n;
	} else {
		r = close_map(b, f);
	}
	free(f->vec);
	strmap_release(&f->keys);
	b->depth--;
	if (r < 0)
		return r;
	if (node->anchor)
		strmap_put(&b->anchors, node->anchor, strlen(node->anchor),
			   node);
	return attach(b, node);
}

static void set_tag_anchor(struct builder *b, struct ynode *n,
			   const yaml_char_t *tag, int implicit,
			   const yaml_char_t *anchor)
{
	/* libyaml reports the non-specific tag "!" as implicit, yet it
	 * makes a plain scalar a string: keep it. */
	if (tag && (!implicit || !strcmp((const char *)tag, "!")))
		n->tag = arena_strndup(b->t->arena, (const char *)tag,
				       strlen((const char *)tag));
	if (anchor)
		n->anchor = arena_strndup(b->t->arena, (const char *)anchor,
					  strlen((const char *)anchor));
}

static enum ynode_style scalar_style(yaml_scalar_style_t s)
{
	switch (s) {
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
		return YSTYLE_SINGLE;
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		return YSTYLE_DOUBLE;
	case YAML_LITERAL_SCALAR_STYLE:
		return YSTYLE_LITERAL;
	case YAML_FOLDED_SCALAR_STYLE:
		return YSTYLE_FOLDED;
	default:
		return YSTYLE_PLAIN;
	}
}

/* 1-based line and column of a byte offset, for reader errors. */
static void line_col_of(const char *text, size_t len, size_t off,
			unsigned *line, unsigned *col)
{
	unsigned l = 1, c = 1;

	for (size_t i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

static int parser_error(struct builder *b, yaml_parser_t *p)
{
	const yaml_mark_t *m = &p->problem_mark;
	const char *problem = p->problem ? p->problem : "cannot parse";
	unsigned line, col;

	if (p->error == YAML_READER_ERROR) {
		line_col_of(b->t->text, b->t->len, p->problem_offset, &line,
			    &col);
		return fail_at(b, YERR_ENCODING, line, col,
			       "not valid UTF-8 text: %s (byte 0x%02x at offset %zu)",
			       problem, p->problem_value >= 0 ? p->problem_value : 0,
			       p->problem_offset);
	}
	if (p->error == YAML_MEMORY_ERROR)
		return fail_at(b, YERR_LIMIT, 1, 1, "out of memory");
	line = (unsigned)m->line + 1;
	col = (unsigned)m->column + 1;
	{
		size_t off = cursor_bytes(&b->cur, m->index);

		if (off < b->t->len && b->t->text[off] == '\t')
			return fail_at(b, YERR_SYNTAX, line, col,
				       "tab character where YAML needs spaces for indentation");
	}
	/* An unclosed quote or bracket is best shown where it opened. */
	if (p->context && !strcmp(problem, "found unexpected end of stream"))
		return fail_at(b, YERR_SYNTAX,
			       (unsigned)p->context_mark.line + 1,
			       (unsigned)p->context_mark.column + 1,
			       "%s: never closed (%s)", p->context, problem);
	if (p->context)
		return fail_at(b, YERR_SYNTAX, line, col, "%s %s", problem,
			       p->context);
	return fail_at(b, YERR_SYNTAX, line, col, "%s", problem);
}

static int build(struct builder *b)
{
	struct yamltree *t = b->t;
	yaml_parser_t parser;
	yaml_event_t ev;
	size_t docs_cap = 0;
	size_t doc_start = 0;
	unsigned doc_line = 1;
	int ret = -1, done = 0;

	if (!yaml_parser_initialize(&parser))
		return err_set(b->e, "cannot initialise libyaml");
	yaml_parser_set_input_string(&parser, (const unsigned char *)t->text,
				     t->len);

	while (!done) {
		struct ynode *n;

		if (!yaml_parser_parse(&parser, &ev)) {
			parser_error(b, &parser);
			goto out;
		}
		if (b->nodes > b->lim.max_nodes) {
			fail_at(b, YERR_LIMIT, (unsigned)ev.start_mark.line + 1,
				(unsigned)ev.start_mark.column + 1,
				"more than %zu nodes", b->lim.max_nodes);
			yaml_event_delete(&ev);
			goto out;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			b->root = NULL;
			doc_start = cursor_bytes(&b->cur, ev.start_mark.index);
			doc_line = (unsigned)ev.start_mark.line + 1;
			break;
		case YAML_DOCUMENT_END_EVENT:
			if (t->ndocs == docs_cap) {
				docs_cap = docs_cap ? docs_cap * 2 : 4;
				t->docs = realloc(t->docs,
						  docs_cap * sizeof(*t->docs));
				if (!t->docs)
					abort();
			}
			t->docs[t->ndocs].root = b->root;
			t->docs[t->ndocs].line = b->root ? b->root->line
							 : doc_line;
			t->docs[t->ndocs].start = doc_start;
			t->docs[t->ndocs].end =
				cursor_bytes(&b->cur, ev.end_mark.index);
			t->ndocs++;
			/* Anchors do not cross documents. */
			strmap_release(&b->anchors);
			break;
		case YAML_SCALAR_EVENT:
			n = new_node(b, YNODE_SCALAR, &ev.start_mark,
				     &ev.end_mark);
			n->style = scalar_style(ev.data.scalar.style);
			n->value = arena_strndup(t->arena,
						 (const char *)ev.data.scalar.value,
						 ev.data.scalar.length);
			n->len = (uint32_t)ev.data.scalar.length;
			n->weight += n->len;
			b->direct += n->len;
			b->expanded += n->len;
			skip_properties(b->t, n);
			set_tag_anchor(b, n, ev.data.scalar.tag,
				       ev.data.scalar.plain_implicit ||
					       ev.data.scalar.quoted_implicit,
				       ev.data.scalar.anchor);
			if (n->anchor)
				strmap_put(&b->anchors, n->anchor,
					   strlen(n->anchor), n);
			if (attach(b, n) < 0) {
				yaml_event_delete(&ev);
				goto out;
			}
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT: {
			int seq = ev.type == YAML_SEQUENCE_START_EVENT;

			n = new_node(b, seq ? YNODE_SEQ : YNODE_MAP,
				     &ev.start_mark, &ev.end_mark);
			if (seq) {
				n->style = ev.data.sequence_start.style ==
							   YAML_FLOW_SEQUENCE_STYLE
						   ? YSTYLE_FLOW
						   : YSTYLE_BLOCK;
				set_tag_anchor(b, n, ev.data.sequence_start.tag,
					       ev.data.sequence_start.implicit,
					       ev.data.sequence_start.anchor);
			} else {
				n->style = ev.data.mapping_start.style ==
							   YAML_FLOW_MAPPING_STYLE
						   ? YSTYLE_FLOW
						   : YSTYLE_BLOCK;
				set_tag_anchor(b, n, ev.data.mapping_start.tag,
					       ev.data.mapping_start.implicit,
					       ev.data.mapping_start.anchor);
			}
			if (push_frame(b, n) < 0) {
				yaml_event_delete(&ev);
				goto out;
			}
			break;
		}
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (pop_frame(b, &ev.end_mark) < 0) {
				yaml_event_delete(&ev);
				goto out;
			}
			break;
		case YAML_ALIAS_EVENT: {
			const char *name = (const char *)ev.data.alias.anchor;
			struct strmap_slot *s =
				strmap_find(&b->anchors, name, strlen(name));
			unsigned l = (unsigned)ev.start_mark.line + 1;
			unsigned c = (unsigned)ev.start_mark.column + 1;
			struct ynode *target;

			if (!s) {
				fail_at(b, YERR_SYNTAX, l, c,
					"unknown anchor '%s'", name);
				yaml_event_delete(&ev);
				goto out;
			}
			target = s->value;
			if (check_alias(b, target, name, l, c) < 0 ||
			    attach(b, target) < 0) {
				yaml_event_delete(&ev);
				goto out;
			}
			break;
		}
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	ret = 0;
out:
	yaml_parser_delete(&parser);
	return ret;
}

static void limits_fill(struct yamltree_limits *out,
			const struct yamltree_limits *in)
{
	static const struct yamltree_limits defaults = {
		.max_bytes = 32u << 20,
		.max_depth = 256,
		.max_nodes = 4000000,
		.max_expansion = (size_t)1 << 30,
	};

	*out = defaults;
	if (!in)
		return;
	if (in->max_bytes)
		out->max_bytes = in->max_bytes;
	if (in->max_depth)
		out->max_depth = in->max_depth;
	if (in->max_nodes)
		out->max_nodes = in->max_nodes;
	if (in->max_expansion)
		out->max_expansion = in->max_expansion;
	if (out->max_depth > DEPTH_CEILING)
		out->max_depth = DEPTH_CEILING;
}

static struct yamltree *tree_new(const char *path)
{
	struct yamltree *t = calloc(1, sizeof(*t));

	if (!t)
		abort();
	t->path = strdup(path ? path : "<stdin>");
	t->arena = calloc(1, sizeof(*t->arena));
	if (!t->path || !t->arena)
		abort();
	return t;
}

/* Parse t->text into t->docs. */
static int tree_build(struct yamltree *t, const struct yamltree_limits *limits,
		      struct err *e)
{
	struct builder b;
	int r;

	memset(&b, 0, sizeof(b));
	b.t = t;
	b.e = e;
	limits_fill(&b.lim, limits);
	b.cur.text = (const unsigned char *)t->text;
	b.cur.len = t->len;
	if (t->len >= 3 && !memcmp(t->text, "\xef\xbb\xbf", 3))
		b.cur.base = 3;
	b.cur.bytes = b.cur.base;
	b.cur.ascii = all_ascii(b.cur.text, b.cur.len);
	/* About 8 bytes of tree per byte of YAML in typical manifests. */
	t->arena->first_chunk = t->len < (1 << 17) ? t->len * 8 + 1024 : 1 << 20;

	if (t->len > b.lim.max_bytes) {
		t->error_kind = YERR_LIMIT;
		t->error_line = t->error_col = 1;
		return err_set(e, "%s: larger than %zu bytes", t->path,
			       b.lim.max_bytes);
	}
	if ((t->len >= 2 && (!memcmp(t->text, "\xff\xfe", 2) ||
			     !memcmp(t->text, "\xfe\xff", 2)))) {
		t->error_kind = YERR_ENCODING;
		t->error_line = t->error_col = 1;
		return err_set(e, "%s:1:1: UTF-16 text; save the file as UTF-8",
			       t->path);
	}
	r = build(&b);
	for (size_t i = 0; i < b.depth; i++) {
		free(b.stack[i].vec);
		strmap_release(&b.stack[i].keys);
	}
	free(b.stack);
	strmap_release(&b.anchors);
	if (r < 0) {
		free(t->docs);
		t->docs = NULL;
		t->ndocs = 0;
	}
	return r;
}

int yamltree_parse_text(struct yamltree **out, const char *path,
			const char *text, size_t len,
			const struct yamltree_limits *limits, struct err *e)
{
	struct yamltree *t = tree_new(path);

	t->text = malloc(len + 1);
	if (!t->text)
		abort();
	if (len)
		memcpy(t->text, text, len);
	t->text[len] = '\0';
	t->len = len;
	*out = t;
	return tree_build(t, limits, e);
}

int yamltree_parse_file(struct yamltree **out, const char *path,
			const struct yamltree_limits *limits, struct err *e)
{
	struct yamltree_limits lim;
	struct strbuf sb = STRBUF_INIT;
	struct yamltree *t;

	*out = NULL;
	limits_fill(&lim, limits);
	strbuf_init(&sb, 0);
	if (strbuf_read_file(&sb, path, lim.max_bytes, e) < 0) {
		strbuf_release(&sb);
		return -1;
	}
	t = tree_new(path);
	t->text = strbuf_detach(&sb, &t->len);
	*out = t;
	return tree_build(t, limits, e);
}

void yamltree_free(struct yamltree *t)
{
	if (!t)
		return;
	arena_free(t->arena);
	free(t->docs);
	free(t->text);
	free(t->path);
	free(t);
}

void yamltree_excerpt(struct strbuf *out, const char *text, size_t len,
		      unsigned line, unsigned col)
{
	const size_t max_show = 160;
	size_t start = 0, end, shown = 0;
	unsigned l = 1, c = 1;

	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		start = 3;
	for (size_t i = start; i < len && l < line; i++) {
		if (text[i] == '\n') {
			l++;
			start = i + 1;
		}
	}
	if (l != line)
		return;
	end = start;
	while (end < len && text[end] != '\n')
		end++;
	if (end > start && text[end - 1] == '\r')
		end--;
	strbuf_addf(out, "%5u | ", line);
	for (size_t i = start; i < end && shown < max_show; i++, shown++) {
		unsigned char ch = (unsigned char)text[i];

		/* Control bytes would garble the terminal: show them as '?'. */
		strbuf_addch(out, (ch < 0x20 && ch != '\t') || ch == 0x7f
					  ? '?'
					  : (char)ch);
	}
	if (end - start > max_show)
		strbuf_addstr(out, "...");
	strbuf_addstr(out, "\n      | ");
	/* Walk characters up to col; keep tabs so the caret lines up. */
	for (size_t i = start; i < end && c < col; i++) {
		unsigned char ch = (unsigned char)text[i];

		if ((ch & 0xc0) == 0x80)
			continue;
		strbuf_addch(out, ch == '\t' ? '\t' : ' ');
		c++;
		if (c > max_show)
			break;
	}
	strbuf_addstr(out, "^\n");
}

struct ynode *ynode_get(const struct ynode *map, const char *key)
{
	size_t kl;

	if (!map || map->type != YNODE_MAP)
		return NULL;
	kl = strlen(key);
	for (size_t i = 0; i < map->n; i++) {
		const struct ynode *k = map->entries[i].key;

		if (k->type == YNODE_SCALAR && k->len == kl &&
		    !memcmp(k->value, key, kl))
			return map->entries[i].value;
	}
	return NULL;
}

struct ynode *ynode_path(const struct ynode *node, const char *path)
{
	char part[256];

	while (node && *path) {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(part))
			return NULL;
		memcpy(part, path, n);
		part[n] = '\0';
		node = ynode_get(node, part);
		path += n;
		if (*path == '.')
			path++;
	}
	return (struct ynode *)node;
}

const char *ynode_str(const struct ynode *node, const char *path)
{
	const struct ynode *n = path && *path ? ynode_path(node, path) : node;

	if (!n || n->type != YNODE_SCALAR || ynode_is_null(n))
		return NULL;
	return n->value;
}

int ynode_is_null(const struct ynode *node)
{
	if (!node)
		return 1;
	if (node->type != YNODE_SCALAR)
		return 0;
	if (node->tag)
		return !strcmp(node->tag, "tag:yaml.org,2002:null");
	if (node->style != YSTYLE_PLAIN)
		return 0;
	return !strcmp(node->value, "") || !strcmp(node->value, "~") ||
	       !strcmp(node->value, "null") || !strcmp(node->value, "Null") ||
	       !strcmp(node->value, "NULL");
}

/*
 * Plain scalars resolve as kubectl resolves them (sigs.k8s.io/yaml, which
 * is go-yaml v2: YAML 1.1 for booleans and integers), because -o json is
 * meant to be what the API server would receive:
 *   null   ~ null Null NULL and the empty scalar
 *   bool   true/false, yes/no, on/off, y/n in lower, Title and UPPER case
 *   int    Go's strconv.ParseInt(s, 0, 64) after removing every '_':
 *          an optional sign, then 0x hex, 0o or a leading 0 octal (0755 is
 *          493), 0b binary, or decimal
 *   float  [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, also with
 *          '_' removed, so "08" is the float 8; .inf and .nan
 * Anything else is a string, and so is every quoted or block scalar.
 */
enum yscalar_kind {
	YS_STRING,
	YS_NULL,
	YS_BOOL,
	YS_INT,
	YS_FLOAT,
	YS_BAD,			/* a number JSON cannot hold: why says which */
};

struct yscalar {
	enum yscalar_kind kind;
	int b;
	long long i;
	double f;
	const char *why;
};

static int word_in(const char *v, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(v, *list))
			return 1;
	return 0;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static int float_syntax(const char *p)
{
	int digits = 0;

	if (*p == '-' || *p == '+')
		p++;
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			p++;
			digits++;
		}
	} else {
		while (isdigit((unsigned char)*p)) {
			p++;
			digits++;
		}
		if (digits && *p == '.') {
			p++;
			while (isdigit((unsigned char)*p))
				p++;
		}
	}
	if (!digits)
		return 0;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!isdigit((unsigned char)*p))
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return !*p;
}

/*
 * Go's strconv.ParseInt(s, 0, 64) syntax. Returns 1 with *out set, 0 when
 * s is not an integer, -1 when it is one outside the signed 64-bit range.
 */
static int go_int(const char *s, long long *out)
{
	unsigned long long acc = 0, limit;
	int neg = 0, base = 10, overflow = 0;
	const char *p = s;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	} else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O')) {
		base = 8;
		p += 2;
	} else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B')) {
		base = 2;
		p += 2;
	} else if (p[0] == '0' && p[1]) {
		base = 8;
		p++;
	}
	if (!*p)
		return 0;
	limit = neg ? (unsigned long long)INT64_MAX + 1 : INT64_MAX;
	for (; *p; p++) {
		int d;

		if (isdigit((unsigned char)*p))
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			return 0;
		if (d >= base)
			return 0;
		if (acc > (limit - (unsigned)d) / (unsigned)base)
			overflow = 1;
		else
			acc = acc * (unsigned)base + (unsigned)d;
	}
	if (overflow)
		return -1;
	*out = neg ? (long long)(0 - acc) : (long long)acc;
	return 1;
}

static void resolve_plain(const char *v, struct yscalar *r)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
	static const char *const yes[] = {
		"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE",
		"on", "On", "ON", NULL,
	};
	static const char *const no[] = {
		"n", "N", "no", "No", "NO", "false", "False", "FALSE",
		"off", "Off", "OFF", NULL,
	};
	static const char *const infs[] = {
		".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF",
		"-.inf", "-.Inf", "-.INF", NULL,
	};
	static const char *const nans[] = { ".nan", ".NaN", ".NAN", NULL };
	char buf[128];
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	r->kind = YS_STRING;
	if (word_in(v, nulls)) {
		r->kind = YS_NULL;
		return;
	}
	if (word_in(v, yes) || word_in(v, no)) {
		r->kind = YS_BOOL;
		r->b = word_in(v, yes);
		return;
	}
	if (word_in(v, infs) || word_in(v, nans)) {
		r->kind = YS_BAD;
		r->why = "is infinity or not-a-number, which JSON cannot hold";
		return;
	}
	if (*v == '.') {
		/* go-yaml hands these to strconv.ParseFloat as written. */
		if (float_syntax(v)) {
			r->kind = YS_FLOAT;
			r->f = strtod(v, NULL);
		}
		return;
	}
	if (!isdigit((unsigned char)*v) && *v != '-' && *v != '+')
		return;
	/* go-yaml removes every '_' before it reads a number. */
	for (const char *p = v; *p; p++) {
		if (*p == '_')
			continue;
		if (n + 1 >= sizeof(buf))
			return; /* no number is this long: a string */
		buf[n++] = *p;
	}
	buf[n] = '\0';
	switch (go_int(buf, &r->i)) {
	case 1:
		r->kind = YS_INT;
		return;
	case -1:
		r->kind = YS_BAD;
		r->why = "is an integer outside the signed 64-bit range";
		return;
	}
	if (float_syntax(buf)) {
		errno = 0;
		r->f = strtod(buf, NULL);
		if (isinf(r->f)) {
			r->kind = YS_BAD;
			r->why = "is a number outside the range of a double";
			return;
		}
		r->kind = YS_FLOAT;
	}
}

/* The value of a scalar as kubectl reads it, tags included. */
static void resolve_scalar(const struct ynode *n, struct yscalar *r)
{
	static const char *const typed[] = {
		"tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
		"tag:yaml.org,2002:bool", NULL,
	};

	memset(r, 0, sizeof(*r));
	r->kind = YS_STRING;
	if (n->tag) {
		if (!strcmp(n->tag, "tag:yaml.org,2002:null")) {
			r->kind = YS_NULL;
		} else if (word_in(n->tag, typed)) {
			resolve_plain(n->value, r);
			if (r->kind == YS_INT && !strcmp(n->tag, typed[1])) {
				r->kind = YS_FLOAT;
				r->f = (double)r->i;
			}
			if (r->kind != YS_BAD &&
			    (r->kind != YS_INT || strcmp(n->tag, typed[0])) &&
			    (r->kind != YS_FLOAT || strcmp(n->tag, typed[1])) &&
			    (r->kind != YS_BOOL || strcmp(n->tag, typed[2]))) {
				r->kind = YS_BAD;
				r->why = "does not match its tag";
			}
		}
		/* !!str, the non-specific "!" and any other tag: a string. */
		return;
	}
	if (n->style == YSTYLE_PLAIN)
		resolve_plain(n->value, r);
}

/*
 * The parser already bounds nesting and size with aliases expanded; these
 * hold for trees parsed with looser limits, and bound what -o json prints.
 */
#define JSON_MAX_DEPTH 1000
#define JSON_MAX_BYTES (256u << 20)

struct to_json {
	struct err *e;
	size_t bytes;
};

static json_t *scalar_json(const struct ynode *n, struct yscalar *r,
			   struct to_json *c)
{
	switch (r->kind) {
	case YS_NULL:
		return json_null();
	case YS_BOOL:
		return json_boolean(r->b);
	case YS_INT:
		return json_integer(r->i);
	case YS_FLOAT:
		return json_real(r->f);
	case YS_BAD:
		err_set(c->e, "%u:%u: '%s' %s (quote it to keep it a string)",
			n->line, n->col, n->value, r->why);
		return NULL;
	case YS_STRING:
		break;
	}
	return json_stringn(n->value, n->len);
}

/* A map key as kubectl writes it: scalars by value, "0755" is "493". */
static int key_text(struct strbuf *out, const struct ynode *k,
		    struct to_json *c)
{
	struct yscalar r;

	if (k->type != YNODE_SCALAR)
		return err_set(c->e, "%u:%u: a %s as a map key has no JSON form",
			       k->line, k->col,
			       k->type == YNODE_SEQ ? "sequence" : "map");
	resolve_scalar(k, &r);
	switch (r.kind) {
	case YS_STRING:
		return strbuf_add(out, k->value, k->len);
	case YS_NULL:
		return err_set(c->e, "%u:%u: a null map key has no JSON form",
			       k->line, k->col);
	case YS_BOOL:
		return strbuf_addstr(out, r.b ? "true" : "false");
	case YS_INT:
		return strbuf_addf(out, "%lld", r.i);
	case YS_FLOAT:
		/* Go's FormatFloat(f, 'g', -1, 32): the shortest text that
		 * reads back as the same float. */
		for (int prec = 1; prec <= 9; prec++) {
			char buf[64];

			snprintf(buf, sizeof(buf), "%.*g", prec, (double)(float)r.f);
			if (prec == 9 || strtof(buf, NULL) == (float)r.f)
				return strbuf_addstr(out, buf);
		}
		return 0;
	case YS_BAD:
		break;
	}
	return err_set(c->e, "%u:%u: map key '%s' %s", k->line, k->col,
		       k->value, r.why);
}

static json_t *to_json(const struct ynode *node, unsigned depth,
		       struct to_json *c)
{
	json_t *out = NULL;
	struct yscalar r;

	if (!node)
		return json_null();
	if (depth > JSON_MAX_DEPTH) {
		err_set(c->e, "%u:%u: nests deeper than %d levels through aliases",
			node->line, node->col, JSON_MAX_DEPTH);
		return NULL;
	}
	/* What jansson holds per node, and two spaces of indent per level
	 * when printed: a deep tree of small values prints far more than
	 * it holds. */
	c->bytes += (node->type == YNODE_SCALAR ? node->len + 64 : 64) + 2 * depth;
	if (c->bytes > JSON_MAX_BYTES) {
		err_set(c->e, "%u:%u: expands to more than %u MiB through aliases",
			node->line, node->col, JSON_MAX_BYTES >> 20);
		return NULL;
	}
	switch (node->type) {
	case YNODE_SCALAR:
		resolve_scalar(node, &r);
		return scalar_json(node, &r, c);
	case YNODE_SEQ:
		out = json_array();
		for (size_t i = 0; i < node->n; i++) {
			json_t *v = to_json(node->items[i], depth + 1, c);

			if (!v || json_array_append_new(out, v) < 0)
				goto fail;
		}
		return out;
	case YNODE_MAP:
		out = json_object();
		for (size_t i = 0; i < node->n; i++) {
			struct strbuf key = STRBUF_INIT;
			json_t *v;

			strbuf_init(&key, 0);
			if (key_text(&key, node->entries[i].key, c) < 0) {
				strbuf_release(&key);
				goto fail;
			}
			c->bytes += key.len;
			if (json_object_getn(out, key.buf, key.len)) {
				const struct ynode *k = node->entries[i].key;
				const struct ynode *first = NULL;

				for (size_t j = 0; j < i && !first; j++) {
					struct strbuf o = STRBUF_INIT;

					strbuf_init(&o, 0);
					if (key_text(&o, node->entries[j].key, c) == 0 &&
					    o.len == key.len && !memcmp(o.buf, key.buf, key.len))
						first = node->entries[j].key;
					strbuf_release(&o);
				}
				err_set(c->e, "%u:%u: key '%s' is \"%s\" in JSON, as is the key at %u:%u",
					k->line, k->col, k->value, key.buf,
					first ? first->line : 0, first ? first->col : 0);
				strbuf_release(&key);
				goto fail;
			}
			v = to_json(node->entries[i].value, depth + 1, c);
			if (!v || json_object_setn_new(out, key.buf, key.len, v) < 0) {
				strbuf_release(&key);
				goto fail;
			}
			strbuf_release(&key);
		}
		return out;
	}
fail:
	if (!c->e->msg[0])
		err_set(c->e, "%u:%u: cannot convert to JSON", node->line,
			node->col);
	json_decref(out);
	return NULL;
}

int ynode_json(json_t **out, const struct ynode *node, struct err *e)
{
	struct err scratch = { { 0 } };
	struct to_json c = { e ? e : &scratch, 0 };

	c.e->msg[0] = '\0';
	*out = to_json(node, 0, &c);
	return *out ? 0 : -1;
}

json_t *ynode_to_json(const struct ynode *node)
{
	json_t *j = NULL;

	ynode_json(&j, node, NULL);
	return j;
}

/*
 * Characters YAML reads as line breaks (NEL, LS, PS), a BOM, and those it
 * does not allow raw (C1 controls, U+FFFE, U+FFFF): when the UTF-8
 * sequence at p (room bytes left) is one, its escape in a double-quoted
 * scalar goes to esc and its length in bytes is returned; else 0.
 */
static size_t unicode_escape(const char *p, size_t room, char esc[8])
{
	const unsigned char *u = (const unsigned char *)p;

	if (room >= 2 && u[0] == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f) {
		snprintf(esc, 8, "\\u%04x", u[1]);
		return 2;
	}
	if (room < 3)
		return 0;
	if ((u[0] == 0xe2 && u[1] == 0x80 && (u[2] == 0xa8 || u[2] == 0xa9)) ||
	    (u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf) ||
	    (u[0] == 0xef && u[1] == 0xbf && (u[2] == 0xbe || u[2] == 0xbf))) {
		unsigned cp = (u[0] & 0x0fu) << 12 | (u[1] & 0x3fu) << 6 |
			      (u[2] & 0x3fu);

		snprintf(esc, 8, "\\u%04X", cp);
		return 3;
	}
	return 0;
}

/* Would this text, written plain, read back as the same string? */
static int plain_safe(const char *v, int in_flow)
{
	size_t n = strlen(v);
	struct yscalar r;
	char esc[8];

	resolve_plain(v, &r);
	if (r.kind != YS_STRING)
		return 0; /* "1.25", "true" or "on" would change type */
	if (!n || !strcmp(v, "~") || !strcmp(v, "null") ||
	    !strcmp(v, "Null") || !strcmp(v, "NULL"))
		return 0;
	if (strchr("-?:,[]{}#&*!|>'\"%@` \t", v[0]) && !(v[0] == '-' && n > 1 && v[1] != ' '))
		return 0;
	if (v[n - 1] == ' ' || v[n - 1] == ':' || v[n - 1] == '\t')
		return 0;
	for (const char *p = v; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c == 0x7f ||
		    unicode_escape(p, n - (size_t)(p - v), esc))
			return 0;
		if (c == ':' && (p[1] == ' ' || p[1] == '\t'))
			return 0;
		if (c == '#' && p > v && (p[-1] == ' ' || p[-1] == '\t'))
			return 0;
		if (in_flow && strchr(",[]{}", c))
			return 0;
	}
	return 1;
}

int yamltree_quote(struct strbuf *out, const char *s, size_t len)
{
	strbuf_addch(out, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		char esc[8];
		size_t ul = unicode_escape(s + i, len - i, esc);

		if (ul) {
			strbuf_addstr(out, esc);
			i += ul - 1;
		} else if (c == '"' || c == '\\')
			strbuf_addf(out, "\\%c", c);
		else if (c == '\n')
			strbuf_addstr(out, "\\n");
		else if (c == '\t')
			strbuf_addstr(out, "\\t");
		else if (c < 0x20 || c == 0x7f)
			strbuf_addf(out, "\\x%02x", c);
		else
			strbuf_addch(out, (char)c);
	}
	return strbuf_addch(out, '"');
}

static int utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		size_t w = u[i] < 0x80 ? 1 : (u[i] & 0xe0) == 0xc0 ? 2
			 : (u[i] & 0xf0) == 0xe0 ? 3 : (u[i] & 0xf8) == 0xf0 ? 4 : 0;

		if (!w || i + w > len || (w == 2 && u[i] < 0xc2))
			return 0;
		for (size_t k = 1; k < w; k++)
			if ((u[i + k] & 0xc0) != 0x80)
				return 0;
		i += w;
	}
	return 1;
}

/* Does the byte at off follow a blank, a line break or a BOM? */
static int after_separator(const char *text, size_t off)
{
	const unsigned char *u = (const unsigned char *)text + off;

	if (strchr(" \t\r\n", text[off - 1]))
		return 1;
	if (off >= 2 && u[-2] == 0xc2 && u[-1] == 0x85)
		return 1;
	if (off >= 3 && ((u[-3] == 0xe2 && u[-2] == 0x80 &&
			  (u[-1] == 0xa8 || u[-1] == 0xa9)) ||
			 (u[-3] == 0xef && u[-2] == 0xbb && u[-1] == 0xbf)))
		return 1;
	return 0;
}

/*
 * An empty value sits after its properties or after the ':' or '-' that
 * introduced it ("spec:", "- "): a value can be written there. A key with
 * no ':' at all ("{a}", "? a") has an empty value too, at the next token;
 * writing there would change the key, so that is refused.
 */
static int empty_value_editable(const struct yamltree *t, const struct ynode *n)
{
	size_t p = n->start;

	if (n->anchor || n->tag)
		return 1;
	/*
	 * A value after its own ':' or '-' is at least in column 2. In column
	 * 1 it is the implicit null of an explicit key ("? k" with no ':'),
	 * which libyaml places at the next token, or at the end of the text:
	 * a ':' before it belongs to another node.
	 */
	if (n->col == 1)
		return 0;
	while (p && (t->text[p - 1] == ' ' || t->text[p - 1] == '\t'))
		p--;
	if (!p)
		return 0;
	if (t->text[p - 1] == ':')
		return 1;
	/* A '-' is an entry only at the start of its line's content ("- "),
	 * not the end of a plain key ("{app-}"), and never in flow, where a
	 * '-' starting a line continues a plain key ("{a\n- }"). */
	return !n->flow && t->text[p - 1] == '-' &&
	       (p == 1 || strchr(" \t\n\r", t->text[p - 2]));
}

/*
 * Does the next line with content after offset `at` start with a byte-order
 * mark? libyaml skips a BOM at the start of a line between tokens, but a
 * plain scalar's continuation line keeps it as text: a plain value written
 * there would swallow that line (an empty value before it did not). A line
 * starts after any break libyaml counts: LF, CR alone, CRLF, NEL, LS, PS.
 */
static int bom_line_follows(const struct yamltree *t, size_t at)
{
	const char *p = t->text + at, *end = t->text + t->len;
	size_t bl = 0;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p < end && *p == '#')
		return 0;
	for (;;) {
		while (p < end && !(bl = break_len(p, end)))
			p++;
		if (p >= end)
			return 0;
		p += bl;		/* the start of a line */
		if (is_bom(p, end))
			return 1;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p < end && !break_len(p, end))
			return 0;	/* a line with content, no BOM */
	}
}

int yamltree_replace_scalar(struct strbuf *out, const struct yamltree *t,
			    const struct ynode *n, const char *value,
			    struct err *e)
{
	size_t vlen = strlen(value);
	int has_ctl = 0;

	if (!n || n->type != YNODE_SCALAR)
		return err_set(e, "%s: not a scalar", t->path);
	if (n->style == YSTYLE_LITERAL || n->style == YSTYLE_FOLDED)
		return err_set(e, "%s:%u:%u: cannot edit a block scalar in place",
			       t->path, n->line, n->col);
	if (n->end > t->len || n->start > n->end)
		return err_set(e, "%s:%u:%u: node outside the file", t->path,
			       n->line, n->col);
	if (!utf8_valid(value, vlen))
		return err_set(e, "%s:%u:%u: the new value is not UTF-8 text",
			       t->path, n->line, n->col);
	for (const char *p = value; *p; p++) {
		char esc[8];

		if ((unsigned char)*p < 0x20 ||
		    unicode_escape(p, vlen - (size_t)(p - value), esc))
			has_ctl = 1;
	}
	if (n->start == n->end && !empty_value_editable(t, n))
		return err_set(e, "%s:%u:%u: cannot edit an empty value without ':' in place",
			       t->path, n->line, n->col);
	strbuf_add(out, t->text, n->start);
	if (n->start && !after_separator(t->text, n->start) &&
	    (n->start == n->end || n->anchor || n->tag))
		strbuf_addch(out, ' ');
	if (n->style == YSTYLE_PLAIN && plain_safe(value, n->flow) &&
	    !bom_line_follows(t, n->end)) {
		strbuf_addstr(out, value);
	} else if (n->style == YSTYLE_SINGLE && !has_ctl) {
		strbuf_addch(out, '\'');
		for (const char *p = value; *p; p++) {
			if (*p == '\'')
				strbuf_addch(out, '\'');
			strbuf_addch(out, *p);
		}
		strbuf_addch(out, '\'');
	} else {
		yamltree_quote(out, value, strlen(value));
	}
	strbuf_add(out, t->text + n->end, t->len - n->end);
	return 0;
}

/* The scalar whose text ends last in the document, or NULL. */
static const struct ynode *last_scalar(const struct ynode *n)
{
	while (n && n->type != YNODE_SCALAR) {
		const struct ynode *next = NULL;

		/* Merged entries and aliases point elsewhere: take the child
		 * that ends last in the text, not the last in order. */
		for (size_t i = 0; i < n->n; i++) {
			const struct ynode *c = n->type == YNODE_SEQ
							? n->items[i]
							: n->entries[i].value;

			if (n->type == YNODE_MAP &&
			    n->entries[i].key->end > (c ? c->end : 0))
				c = n->entries[i].key;
			if (c && (!next || c->end > next->end))
				next = c;
		}
		n = next;
	}
	return n;
}

/* A line of only "---" and blanks or a comment: the marker, no content. */
static size_t bare_marker_line(const char *s, size_t len)
{
	size_t i = 3;

	if (len < 3 || memcmp(s, "---", 3) ||
	    (len > 3 && !strchr(" \t\r\n", s[3])))
		return 0;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < len && s[i] == '#')
		while (i < len && s[i] != '\n')
			i++;
	if (i < len && s[i] == '\r')
		i++;
	if (i < len && s[i] != '\n')
		return 0;
	return i < len ? i + 1 : i;
}

int yamltree_doc_yaml(struct strbuf *out, const struct yamltree *t,
		      const struct ydoc *doc, int first, int last)
{
	const char *s = t->text, *end, *content;
	size_t len = t->len, skip;
	int marker = 0, directive = 0;
	const struct ynode *tail;

	if (t->ndocs > 1) {
		s = t->text + doc->start;
		len = doc->end - doc->start;
		/* The "---" line is printed as the separator, when needed. */
		skip = bare_marker_line(s, len);
		s += skip;
		len -= skip;
	} else if (len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) {
		s += 3;
		len -= 3;
	}
	/* A trailing "..." ends a document; it is not part of it. */
	end = s + len;
	while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	if (end - s >= 3 && !strncmp(end - 3, "...", 3) &&
	    (end - s == 3 || end[-4] == '\n'))
		len = (size_t)(end - 3 - s);

	/* What comes before the content: does it start the document itself
	 * ("---", maybe with comments before it), or hold directives? */
	content = doc->root && t->text + doc->root->start >= s &&
				  t->text + doc->root->start <= s + len
			  ? t->text + doc->root->start
			  : s + len;
	for (const char *p = s; p < content;) {
		const char *nl = memchr(p, '\n', (size_t)(content - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(content - p);

		if (l >= 3 && !memcmp(p, "---", 3) &&
		    (l == 3 || strchr(" \t\r", p[3])))
			marker = 1;
		else if (!marker && l && *p == '%')
			directive = 1;
		p += l + 1;
	}
	/* Content on the "---" line itself ("--- {a: 1}") counts too. */
	if (content >= s + 3 && content < s + len) {
		const char *bol = content;

		while (bol > s && bol[-1] != '\n')
			bol--;
		if (content - bol >= 4 && !memcmp(bol, "---", 3) &&
		    strchr(" \t", bol[3]))
			marker = 1;
	}
	if (!first) {
		if (directive)
			strbuf_addstr(out, "...\n");
		else if (!marker)
			strbuf_addstr(out, "---\n");
	}
	if (last || !len || s[len - 1] == '\n') {
		strbuf_add(out, s, len);
		return 0;
	}

	/*
	 * Another document follows, so a line break must end this one. After
	 * a final block scalar that changes the value ("|" keeps the final
	 * line break): when the value has no final line break, strip
	 * chomping ("|-") keeps it so; when it has one, the bytes after it are
	 * only indentation and are left out instead.
	 */
	tail = last_scalar(doc->root);
	if (tail && (tail->style == YSTYLE_LITERAL ||
		     tail->style == YSTYLE_FOLDED) &&
	    t->text + tail->start >= s && t->text + tail->start < s + len) {
		const char *p = t->text + tail->end;
		int at_end = 1;

		for (; p < s + len; p++)
			if (!strchr(" \t\r\n", *p))
				at_end = 0;
		if (at_end && tail->len && tail->value[tail->len - 1] == '\n') {
			const char *nl = s + len;

			while (nl > s && nl[-1] != '\n')
				nl--;
			strbuf_add(out, s, (size_t)(nl - s));
			return 0;
		}
		if (at_end && (t->text[tail->start] == '|' ||
			       t->text[tail->start] == '>')) {
			const char *h = t->text + tail->start + 1;
			const char *hend = h;
			char indent = 0;

			while (hend < s + len && strchr("123456789+-", *hend)) {
				if (*hend >= '1' && *hend <= '9')
					indent = *hend;
				hend++;
			}
			strbuf_add(out, s, (size_t)(h - s));
			if (indent)
				strbuf_addch(out, indent);
			strbuf_addch(out, '-');
			strbuf_add(out, hend, (size_t)(s + len - hend));
			return strbuf_addch(out, '\n');
		}
	}
	strbuf_add(out, s, len);
	return strbuf_addch(out, '\n');
}

/* ---- edits applied at once ---- */

struct yamltree_edit {
	size_t start, end;		/* bytes of the original text replaced */
	struct strbuf text;		/* what replaces them */
	const struct ynode *owner;	/* an empty flow collection made block */
	size_t order;
};

void yamltree_edits_init(struct yamltree_edits *ed, const struct yamltree *t)
{
	memset(ed, 0, sizeof(*ed));
	ed->t = t;
}

void yamltree_edits_release(struct yamltree_edits *ed)
{
	for (size_t i = 0; i < ed->n; i++)
		strbuf_release(&ed->v[i].text);
	free(ed->v);
	memset(ed, 0, sizeof(*ed));
}

static struct yamltree_edit *edit_new(struct yamltree_edits *ed, size_t start,
				      size_t end)
{
	struct yamltree_edit *x;

	if (ed->n == ed->cap) {
		ed->cap = ed->cap ? 2 * ed->cap : 8;
		ed->v = realloc(ed->v, ed->cap * sizeof(*ed->v));
		if (!ed->v)
			abort();
	}
	x = &ed->v[ed->n];
	memset(x, 0, sizeof(*x));
	x->start = start;
	x->end = end;
	x->order = ed->n++;
	strbuf_init(&x->text, 0);
	return x;
}

/* The line break the file uses: CRLF when its first line ends so. */
static const char *edit_newline(const struct yamltree *t)
{
	const char *nl = memchr(t->text, '\n', t->len);

	return nl && nl > t->text && nl[-1] == '\r' ? "\r\n" : "\n";
}

static size_t edit_line_start(const struct yamltree *t, size_t off)
{
	while (off > 0 && t->text[off - 1] != '\n')
		off--;
	return off;
}

/*
 * Where the line holding the end of node n ends (after its line break, so
 * a trailing comment stays with n). An end already at a line start (block
 * scalars end there) is taken as it is.
 */
static size_t edit_after_node(const struct yamltree *t, const struct ynode *n)
{
	const struct ynode *last = n->type == YNODE_SCALAR ||
				   n->style == YSTYLE_FLOW ? n : last_scalar(n);
	size_t off = last ? last->end : n->end;

	if (off > t->len)
		off = t->len;
	if (off > 0 && t->text[off - 1] == '\n')
		return off;
	while (off < t->len && t->text[off] != '\n')
		off++;
	return off < t->len ? off + 1 : off;
}

/* The text before off on its line, as blanks (a "- " becomes "  "). */
static void edit_indent(struct strbuf *out, const struct yamltree *t,
			size_t off)
{
	for (size_t p = edit_line_start(t, off); p < off; p++)
		strbuf_addch(out, t->text[p] == '\t' ? '\t' : ' ');
}

static int edit_blank_before(const struct yamltree *t, size_t off)
{
	for (size_t p = edit_line_start(t, off); p < off; p++)
		if (t->text[p] != ' ' && t->text[p] != '\t')
			return 0;
	return 1;
}

/*
 * Where to insert before the entry or item starting at off on its own
 * line: above the comment lines just over it that are indented as much.
 */
static size_t edit_before_line(const struct yamltree *t, size_t off)
{
	size_t col = off - edit_line_start(t, off);
	size_t at = edit_line_start(t, off);

	while (at > 0) {
		size_t prev = edit_line_start(t, at - 1), p = prev;

		while (p < at && (t->text[p] == ' ' || t->text[p] == '\t'))
			p++;
		if (p - prev < col || p >= at || t->text[p] != '#')
			break;
		at = prev;
	}
	return at;
}

/* A scalar written in style, or quoted when the text does not allow it. */
static void edit_scalar_text(struct strbuf *out, const char *v,
			     enum ynode_style style, int in_flow)
{
	int ctl = 0;

	for (const char *p = v; *p; p++)
		ctl |= (unsigned char)*p < 0x20;
	if (style == YSTYLE_PLAIN && plain_safe(v, in_flow)) {
		strbuf_addstr(out, v);
	} else if (style == YSTYLE_SINGLE && !ctl) {
		strbuf_addch(out, '\'');
		for (const char *p = v; *p; p++) {
			if (*p == '\'')
				strbuf_addch(out, '\'');
			strbuf_addch(out, *p);
		}
		strbuf_addch(out, '\'');
	} else {
		yamltree_quote(out, v, strlen(v));
	}
}

static enum ynode_style edit_style_like(const struct ynode *n)
{
	if (n && n->type == YNODE_SCALAR &&
	    (n->style == YSTYLE_SINGLE || n->style == YSTYLE_DOUBLE))
		return n->style;
	return YSTYLE_PLAIN;
}

static int edit_check(const struct yamltree_edits *ed, const struct ynode *n,
		      struct err *e)
{
	if (!n || n->end > ed->t->len || n->start > n->end)
		return err_set(e, "%s: node outside the file", ed->t->path);
	return 0;
}

int yamltree_edit_scalar(struct yamltree_edits *ed, const struct ynode *n,
			 const char *value, struct err *e)
{
	struct yamltree_edit *x;

	if (edit_check(ed, n, e) < 0)
		return -1;
	if (n->type != YNODE_SCALAR)
		return err_set(e, "%s:%u:%u: not a scalar", ed->t->path, n->line,
			       n->col);
	if (n->style == YSTYLE_LITERAL || n->style == YSTYLE_FOLDED)
		return err_set(e, "%s:%u:%u: cannot edit a block scalar in place",
			       ed->t->path, n->line, n->col);
	x = edit_new(ed, n->start, n->end);
	edit_scalar_text(&x->text, value, n->style, n->flow);
	return 0;
}

/* Is scalar a sorted before or equal to scalar b? */
static int edit_in_order(const struct ynode *a, const struct ynode *b)
{
	return a->type == YNODE_SCALAR && b->type == YNODE_SCALAR &&
	       strcmp(a->value, b->value) <= 0;
}

/* Are the keys of a map, or the items of a sequence, in strcmp order? */
static int edit_sorted(const struct ynode *n)
{
	for (size_t i = 1; i < n->n; i++)
		if (!(n->type == YNODE_MAP ?
		      edit_in_order(n->entries[i - 1].key, n->entries[i].key) :
		      edit_in_order(n->items[i - 1], n->items[i])))
			return 0;
	return 1;
}

/*
 * An empty flow collection in block context becomes block: the text from
 * the end of its key to its closing bracket is replaced, and later
 * insertions into it extend the same edit.
 */
static struct yamltree_edit *edit_empty_flow(struct yamltree_edits *ed,
					     const struct ynode *coll,
					     struct err *e)
{
	const struct yamltree *t = ed->t;
	size_t start = coll->start;

	for (size_t i = 0; i < ed->n; i++)
		if (ed->v[i].owner == coll)
			return &ed->v[i];
	if (coll->end < start + 2 || t->text[start] != (coll->type == YNODE_MAP ? '{' : '[') ||
	    t->text[coll->end - 1] != (coll->type == YNODE_MAP ? '}' : ']')) {
		err_set(e, "%s:%u:%u: cannot edit this empty collection in place",
			t->path, coll->line, coll->col);
		return NULL;
	}
	while (start > 0 && (t->text[start - 1] == ' ' || t->text[start - 1] == '\t'))
		start--;
	if (start == 0 || t->text[start - 1] != ':') {
		err_set(e, "%s:%u:%u: cannot edit this empty collection in place",
			t->path, coll->line, coll->col);
		return NULL;
	}
	{
		struct yamltree_edit *x = edit_new(ed, start, coll->end);

		x->owner = coll;
		return x;
	}
}

/* The blanks that indent the line at off ("- " counts as blanks). */
static size_t edit_line_indent(const struct yamltree *t, size_t off)
{
	size_t ls = edit_line_start(t, off), p = ls;

	for (;;) {
		while (p < off && (t->text[p] == ' ' || t->text[p] == '\t'))
			p++;
		if (p + 1 < off && t->text[p] == '-' &&
		    (t->text[p + 1] == ' ' || t->text[p + 1] == '\t'))
			p++;
		else
			break;
	}
	return p - ls;
}

int yamltree_edit_map_insert(struct yamltree_edits *ed,
			     const struct ynode *map, const char *key,
			     const char *value, int flags, struct err *e)
{
	const struct yamltree *t = ed->t;
	const char *nl = edit_newline(t);
	struct strbuf entry = STRBUF_INIT;
	const struct ynode *like_k = NULL, *like_v = NULL;
	size_t at_i = map ? map->n : 0;
	int flow;

	if (edit_check(ed, map, e) < 0)
		return -1;
	if (map->type != YNODE_MAP)
		return err_set(e, "%s:%u:%u: not a map", t->path, map->line,
			       map->col);
	if (ynode_get(map, key))
		return err_set(e, "%s:%u:%u: the map already holds '%s'",
			       t->path, map->line, map->col, key);
	flow = map->style == YSTYLE_FLOW;
	/* Only the entries written in this map (not merged ones) count. */
	for (size_t i = 0; i < map->n; i++)
		if (map->entries[i].key->start < map->start ||
		    map->entries[i].key->end > map->end)
			return err_set(e, "%s:%u:%u: cannot insert into a map with merged keys",
				       t->path, map->line, map->col);
	if (map->n && edit_sorted(map)) {
		for (at_i = 0; at_i < map->n; at_i++)
			if (strcmp(map->entries[at_i].key->value, key) > 0)
				break;
	}
	if (map->n) {
		size_t j = at_i < map->n ? at_i : map->n - 1;

		like_k = map->entries[j].key;
		like_v = map->entries[j].value;
	}
	edit_scalar_text(&entry, key, edit_style_like(like_k), flow || map->flow);
	strbuf_addstr(&entry, ": ");
	if (flags & YAMLTREE_EDIT_RAW)
		strbuf_addstr(&entry, value);
	else
		edit_scalar_text(&entry, value, edit_style_like(like_v),
				 flow || map->flow);

	if (map->n == 0) {
		struct yamltree_edit *x;

		if (map->flow || !flow) {
			/* "{}" inside flow: write "{key: value}". */
			if (!flow || map->end < map->start + 2) {
				strbuf_release(&entry);
				return err_set(e, "%s:%u:%u: cannot insert into this map",
					       t->path, map->line, map->col);
			}
			x = edit_new(ed, map->end - 1, map->end - 1);
			strbuf_add(&x->text, entry.buf, entry.len);
		} else {
			size_t ind = edit_line_indent(t, map->start) + 2;

			x = edit_empty_flow(ed, map, e);
			if (!x) {
				strbuf_release(&entry);
				return -1;
			}
			strbuf_addstr(&x->text, nl);
			for (size_t i = 0; i < ind; i++)
				strbuf_addch(&x->text, ' ');
			strbuf_add(&x->text, entry.buf, entry.len);
		}
	} else if (flow) {
		if (at_i < map->n) {
			struct yamltree_edit *x =
				edit_new(ed, map->entries[at_i].key->start,
					 map->entries[at_i].key->start);

			strbuf_add(&x->text, entry.buf, entry.len);
			strbuf_addstr(&x->text, ", ");
		} else {
			const struct ynode *lv = map->entries[map->n - 1].value;
			size_t end = lv->end;
			struct yamltree_edit *x;

			/* An empty value ends where its key does. */
			if (end < map->entries[map->n - 1].key->end)
				end = map->entries[map->n - 1].key->end;
			x = edit_new(ed, end, end);
			strbuf_addstr(&x->text, ", ");
			strbuf_add(&x->text, entry.buf, entry.len);
		}
	} else if (at_i < map->n) {
		const struct ynode *k = map->entries[at_i].key;
		struct yamltree_edit *x;

		if (edit_blank_before(t, k->start)) {
			size_t at = edit_before_line(t, k->start);

			x = edit_new(ed, at, at);
			edit_indent(&x->text, t, k->start);
			strbuf_add(&x->text, entry.buf, entry.len);
			strbuf_addstr(&x->text, nl);
		} else {
			/* The first key of "- key: ...": go before it on its line. */
			x = edit_new(ed, k->start, k->start);
			strbuf_add(&x->text, entry.buf, entry.len);
			strbuf_addstr(&x->text, nl);
			edit_indent(&x->text, t, k->start);
		}
	} else {
		const struct ynode *lk = map->entries[map->n - 1].key;
		size_t at = edit_after_node(t, map->entries[map->n - 1].value);
		struct yamltree_edit *x;

		if (at < lk->end)
			at = edit_after_node(t, lk);
		x = edit_new(ed, at, at);
		if (at == t->len && (at == 0 || t->text[at - 1] != '\n'))
			strbuf_addstr(&x->text, nl);
		edit_indent(&x->text, t, lk->start);
		strbuf_add(&x->text, entry.buf, entry.len);
		if (at < t->len || t->text[t->len - 1] == '\n')
			strbuf_addstr(&x->text, nl);
	}
	strbuf_release(&entry);
	return 0;
}

/* Where the "-" of a block sequence item is, or (size_t)-1. */
static size_t edit_dash(const struct yamltree *t, const struct ynode *item)
{
	size_t p = item->start;

	while (p > 0 && (t->text[p - 1] == ' ' || t->text[p - 1] == '\t'))
		p--;
	if (p == 0 || t->text[p - 1] != '-')
		return (size_t)-1;
	return p - 1;
}

int yamltree_edit_seq_insert(struct yamltree_edits *ed,
			     const struct ynode *seq, const char *value,
			     struct err *e)
{
	const struct yamltree *t = ed->t;
	const char *nl = edit_newline(t);
	struct strbuf item = STRBUF_INIT;
	size_t at_i, d;
	int flow;
	struct yamltree_edit *x;

	if (edit_check(ed, seq, e) < 0)
		return -1;
	if (seq->type != YNODE_SEQ)
		return err_set(e, "%s:%u:%u: not a sequence", t->path, seq->line,
			       seq->col);
	flow = seq->style == YSTYLE_FLOW;
	at_i = seq->n;
	if (seq->n && edit_sorted(seq))
		for (at_i = 0; at_i < seq->n; at_i++)
			if (strcmp(seq->items[at_i]->value, value) > 0)
				break;
	edit_scalar_text(&item, value,
			 edit_style_like(seq->n ? seq->items[at_i < seq->n ? at_i : seq->n - 1] : NULL),
			 flow || seq->flow);
	if (seq->n == 0) {
		if (!flow || seq->end < seq->start + 2) {
			strbuf_release(&item);
			return err_set(e, "%s:%u:%u: cannot insert into this sequence",
				       t->path, seq->line, seq->col);
		}
		if (seq->flow) {
			x = edit_new(ed, seq->end - 1, seq->end - 1);
			strbuf_add(&x->text, item.buf, item.len);
		} else {
			size_t ind = edit_line_indent(t, seq->start);

			x = edit_empty_flow(ed, seq, e);
			if (!x) {
				strbuf_release(&item);
				return -1;
			}
			strbuf_addstr(&x->text, nl);
			for (size_t i = 0; i < ind; i++)
				strbuf_addch(&x->text, ' ');
			strbuf_addstr(&x->text, "- ");
			strbuf_add(&x->text, item.buf, item.len);
		}
	} else if (flow) {
		if (at_i < seq->n) {
			x = edit_new(ed, seq->items[at_i]->start,
				     seq->items[at_i]->start);
			strbuf_add(&x->text, item.buf, item.len);
			strbuf_addstr(&x->text, ", ");
		} else {
			x = edit_new(ed, seq->items[seq->n - 1]->end,
				     seq->items[seq->n - 1]->end);
			strbuf_addstr(&x->text, ", ");
			strbuf_add(&x->text, item.buf, item.len);
		}
	} else {
		const struct ynode *near = seq->items[at_i < seq->n ? at_i : seq->n - 1];

		d = edit_dash(t, near);
		if (d == (size_t)-1) {
			strbuf_release(&item);
			return err_set(e, "%s:%u:%u: cannot insert into this sequence",
				       t->path, seq->line, seq->col);
		}
		if (at_i < seq->n && edit_blank_before(t, d)) {
			size_t at = edit_before_line(t, d);

			x = edit_new(ed, at, at);
			edit_indent(&x->text, t, d);
			strbuf_addstr(&x->text, "- ");
			strbuf_add(&x->text, item.buf, item.len);
			strbuf_addstr(&x->text, nl);
		} else if (at_i < seq->n) {
			x = edit_new(ed, d, d);
			strbuf_addstr(&x->text, "- ");
			strbuf_add(&x->text, item.buf, item.len);
			strbuf_addstr(&x->text, nl);
			edit_indent(&x->text, t, d);
		} else {
			size_t at = edit_after_node(t, near);

			x = edit_new(ed, at, at);
			if (at == t->len && (at == 0 || t->text[at - 1] != '\n'))
				strbuf_addstr(&x->text, nl);
			edit_indent(&x->text, t, d);
			strbuf_addstr(&x->text, "- ");
			strbuf_add(&x->text, item.buf, item.len);
			if (at < t->len || t->text[t->len - 1] == '\n')
				strbuf_addstr(&x->text, nl);
		}
	}
	strbuf_release(&item);
	return 0;
}

int yamltree_edit_seq_remove(struct yamltree_edits *ed,
			     const struct ynode *seq, size_t i, struct err *e)
{
	const struct yamltree *t = ed->t;
	const struct ynode *it;

	if (edit_check(ed, seq, e) < 0)
		return -1;
	if (seq->type != YNODE_SEQ || i >= seq->n)
		return err_set(e, "%s:%u:%u: no item %zu to remove", t->path,
			       seq->line, seq->col, i);
	it = seq->items[i];
	if (it->start < seq->start || it->end > seq->end)
		return err_set(e, "%s:%u:%u: cannot remove an alias in place",
			       t->path, it->line, it->col);
	if (seq->style == YSTYLE_FLOW) {
		if (i + 1 < seq->n)
			edit_new(ed, it->start, seq->items[i + 1]->start);
		else if (i > 0)
			edit_new(ed, seq->items[i - 1]->end, it->end);
		else
			edit_new(ed, it->start, it->end);
	} else {
		size_t d = edit_dash(t, it);

		if (seq->n == 1)
			return err_set(e, "%s:%u:%u: cannot remove the only item of a sequence in place",
				       t->path, it->line, it->col);
		if (d == (size_t)-1 || !edit_blank_before(t, d))
			return err_set(e, "%s:%u:%u: cannot remove this item in place",
				       t->path, it->line, it->col);
		edit_new(ed, edit_line_start(t, d), edit_after_node(t, it));
	}
	return 0;
}

static int edit_cmp(const void *a, const void *b)
{
	const struct yamltree_edit *x = *(const struct yamltree_edit *const *)a;
	const struct yamltree_edit *y = *(const struct yamltree_edit *const *)b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

int yamltree_edits_apply(const struct yamltree_edits *ed, struct strbuf *out,
			 struct err *e)
{
	const struct yamltree *t = ed->t;
	const struct yamltree_edit **v = calloc(ed->n + 1, sizeof(*v));
	size_t at = 0;
	int ret = -1;

	if (!v)
		abort();
	for (size_t i = 0; i < ed->n; i++)
		v[i] = &ed->v[i];
	if (ed->n > 1)
		qsort(v, ed->n, sizeof(*v), edit_cmp);
	for (size_t i = 0; i < ed->n; i++) {
		if (v[i]->start < at || v[i]->end > t->len ||
		    v[i]->end < v[i]->start) {
			err_set(e, "%s: edits overlap", t->path);
			goto out;
		}
		strbuf_add(out, t->text + at, v[i]->start - at);
		strbuf_add(out, v[i]->text.buf ? v[i]->text.buf : "",
			   v[i]->text.len);
		at = v[i]->end;
	}
	strbuf_add(out, t->text + at, t->len - at);
	ret = 0;
out:
	free(v);
	return ret;
}
