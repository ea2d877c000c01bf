#ifndef SAASCTL_YAMLTREE_H
#define SAASCTL_YAMLTREE_H

/*
 * A libyaml node tree that remembers where everything came from.
 *
 * Every node knows its file:line:col and the byte span [start, end) of its
 * text in the original buffer, so an edit can replace exactly the bytes of
 * one scalar and leave comments, quoting and every other byte untouched
 * (yamltree_replace_scalar()).
 *
 * Multi-document files, anchors and aliases (shared, never copied), and
 * "<<" merge keys are supported. Duplicate keys are an error. A UTF-8 BOM
 * and CRLF line endings are fine. Hostile input is bounded: file size,
 * nesting depth, node count and alias expansion all have limits, and the
 * builder is iterative, so nothing recurses on input depth. Nesting and
 * size are bounded with aliases expanded too, at parse time, so a tree
 * that parsed is safe to walk recursively.
 */

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "strbuf.h"

enum ynode_type {
	YNODE_SCALAR,
	YNODE_SEQ,
	YNODE_MAP,
};

enum ynode_style {
	YSTYLE_PLAIN,
	YSTYLE_SINGLE,		/* 'quoted' */
	YSTYLE_DOUBLE,		/* "quoted" */
	YSTYLE_LITERAL,		/* | */
	YSTYLE_FOLDED,		/* > */
	YSTYLE_FLOW,		/* [..] or {..} (collections) */
	YSTYLE_BLOCK,		/* block collections */
};

struct ynode;

struct ymap_entry {
	struct ynode *key;
	struct ynode *value;
};

/*
 * Kept small (64 bytes): a monorepo of thousands of manifests is held in
 * memory at once. Offsets fit 32 bits because files are capped at 32 MiB.
 */
struct ynode {
	enum ynode_type type : 8;
	enum ynode_style style : 8;
	unsigned flow : 1;	/* inside a flow collection ([..] or {..}) */
	unsigned height : 15;	/* levels of collections below, aliases expanded */
	unsigned line, col;	/* 1-based, col in characters */
	uint32_t start, end;	/* byte span in yamltree.text */
	uint32_t len;		/* scalars: bytes in value */
	uint32_t n;		/* sequences: items; maps: entries */
	uint32_t weight;	/* bytes this subtree takes, aliases expanded:
				 * 64 per node plus the scalars' values */
	const char *tag;	/* explicit tag, or NULL */
	const char *anchor;	/* &anchor, or NULL */
	/* scalars: the decoded value, NUL-terminated (may hold NULs) */
	const char *value;
	union {
		struct ynode **items;		/* sequences, in order */
		struct ymap_entry *entries;	/* maps, in document order */
	};
};

struct ydoc {
	struct ynode *root;	/* NULL for an empty document */
	unsigned line;		/* where the document starts */
	size_t start, end;	/* byte span of the whole document */
};

enum yamltree_error_kind {
	YERR_NONE,
	YERR_SYNTAX,		/* libyaml refused it */
	YERR_DUPLICATE_KEY,
	YERR_LIMIT,		/* too big, too deep, too many aliases */
	YERR_ENCODING,		/* not UTF-8 */
};

struct yamltree {
	char *path;		/* as given, for messages */
	char *text;		/* the file's bytes, NUL-terminated */
	size_t len;
	struct ydoc *docs;
	size_t ndocs;
	/* set when parsing failed */
	enum yamltree_error_kind error_kind;
	unsigned error_line, error_col;
	struct yamltree_arena *arena;
};

/*
 * Limits; the defaults suit manifests. 0 in a field means the default.
 * Depth and expansion apply to the tree with every alias expanded, so
 * every reader of the tree (JSON conversion, lint, kubeconfig) can recurse
 * and walk it without limits of its own. A file's expanded size is
 * counted as in ynode.weight; beyond 4 MiB it may be at most 16 times its
 * size without aliases expanded (as go-yaml bounds its alias ratio), and
 * never more than max_expansion.
 */
struct yamltree_limits {
	size_t max_bytes;	/* default 32 MiB */
	unsigned max_depth;	/* default 256, at most 4096 */
	size_t max_nodes;	/* default 4 million */
	size_t max_expansion;	/* bytes, aliases expanded; default 1 GiB */
};

/*
 * Parse a file or a buffer (copied). On success returns 0. On failure
 * returns -1 and fills e with "path:line:col: message"; when the text could
 * be read, *out is still set (error_kind, error_line, error_col describe the
 * failure, docs is empty) so the caller can show the offending line; free it
 * with yamltree_free() either way.
 */
int yamltree_parse_file(struct yamltree **out, const char *path,
			const struct yamltree_limits *limits, struct err *e);
int yamltree_parse_text(struct yamltree **out, const char *path,
			const char *text, size_t len,
			const struct yamltree_limits *limits, struct err *e);
void yamltree_free(struct yamltree *t);

/*
 * The offending line and a caret under col, for error output:
 *    12 | image: "nginx
 *       |        ^
 */
void yamltree_excerpt(struct strbuf *out, const char *text, size_t len,
		      unsigned line, unsigned col);

/* Map lookup (scalar keys, merged entries included); NULL if absent. */
struct ynode *ynode_get(const struct ynode *map, const char *key);
/* Dotted path of map keys: "metadata.name", "spec.template.spec". */
struct ynode *ynode_path(const struct ynode *node, const char *path);
/* The scalar value at a dotted path, or NULL (also for non-scalars). */
const char *ynode_str(const struct ynode *node, const char *path);
/* Is this scalar a YAML null (empty plain, ~, null)? */
int ynode_is_null(const struct ynode *node);

/*
 * Convert to JSON the way kubectl does (sigs.k8s.io/yaml, go-yaml v2), so
 * the result is what the API server would receive: YAML 1.1 booleans
 * (yes/no/on/off/y/n), 0755 is octal 493, '_' in numbers is ignored;
 * quoted and block scalars, !!str, the non-specific tag "!" and unknown
 * tags are strings; map keys become text ("0755:" is "493"). Refused with
 * "line:col: ..." in e: what JSON cannot hold exactly (.inf, .nan, an
 * integer outside 64 bits), null or collection keys, a value that does not
 * match its !!int/!!float/!!bool tag, and (for trees parsed with looser
 * limits) nesting deeper than 1000 levels or output larger than 256 MiB,
 * indentation included. *out is a new reference.
 */
int ynode_json(json_t **out, const struct ynode *node, struct err *e);
/* The same, NULL where ynode_json() fails. */
json_t *ynode_to_json(const struct ynode *node);

/*
 * Write t->text to out with the bytes of one scalar replaced by value,
 * keeping its quoting style: plain stays plain when the new value needs no
 * quotes, otherwise it is quoted; single and double quotes are kept.
 * Fails for block scalars and for nodes that are not scalars.
 */
int yamltree_replace_scalar(struct strbuf *out, const struct yamltree *t,
			    const struct ynode *scalar, const char *value,
			    struct err *e);

/*
 * Append one document to a YAML stream in out, as its own bytes: the whole
 * file when it holds one document (comments included), else the document
 * without its "---" line. Documents after the first get one "---" unless
 * their text starts with one. The last document is written exactly, final
 * line break or not; one that another follows is made to end in a line
 * break without changing what it parses to (a final "|" block scalar
 * without a line break becomes "|-").
 */
int yamltree_doc_yaml(struct strbuf *out, const struct yamltree *t,
		      const struct ydoc *doc, int first, int last);

/* A double-quoted YAML scalar of s (len bytes), escapes as needed. */
int yamltree_quote(struct strbuf *out, const char *s, size_t len);

/*
 * Edits to the text of a parsed file, applied at once. Each edit names bytes
 * of the original text (t->text), so every span stays valid until
 * yamltree_edits_apply() writes the new text; edits may not overlap, and
 * insertions at the same place keep the order they were made in. Every byte
 * that no edit names is kept, comments and formatting included. Callers
 * should parse the result again and check it says what they meant (as
 * deploy does), since YAML has more ways of writing a document than these
 * functions know.
 *
 * New entries and items are written like their neighbours: the same
 * indentation, the same quoting when the text allows it, and the same line
 * endings. A new map key goes before the first key that sorts after it when
 * the keys are sorted (the comment lines just above that key stay with it),
 * else at the end of the map; sequence items likewise. An empty flow
 * collection ("{}" or "[]") in block context becomes a block one.
 */
struct yamltree_edit;

struct yamltree_edits {
	const struct yamltree *t;
	struct yamltree_edit *v;
	size_t n, cap;
};

void yamltree_edits_init(struct yamltree_edits *ed, const struct yamltree *t);
void yamltree_edits_release(struct yamltree_edits *ed);

/* Replace the value of a scalar, keeping its quoting style when it can. */
int yamltree_edit_scalar(struct yamltree_edits *ed, const struct ynode *scalar,
			 const char *value, struct err *e);

/* value is YAML text to write as it is (a flow collection: "{}", "[a, b]"). */
#define YAMLTREE_EDIT_RAW 1

/*
 * Add "key: value" to a map that does not hold key (value is a string,
 * quoted as needed, or with YAMLTREE_EDIT_RAW text written as it is).
 */
int yamltree_edit_map_insert(struct yamltree_edits *ed,
			     const struct ynode *map, const char *key,
			     const char *value, int flags, struct err *e);

/* Add a string item to a sequence. */
int yamltree_edit_seq_insert(struct yamltree_edits *ed,
			     const struct ynode *seq, const char *value,
			     struct err *e);

/*
 * Remove item i of a sequence: its whole line(s) in block style, the item
 * and its comma in flow style. The last item of a block sequence cannot be
 * removed this way.
 */
int yamltree_edit_seq_remove(struct yamltree_edits *ed,
			     const struct ynode *seq, size_t i, struct err *e);

/* The original text with every edit made, into out. */
int yamltree_edits_apply(const struct yamltree_edits *ed, struct strbuf *out,
			 struct err *e);

#endif
