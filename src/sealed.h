#ifndef SAASCTL_SEALED_H
#define SAASCTL_SEALED_H

/*
 * Sealed secrets: the item format (crypto) and the SealedSecret document.
 *
 * Each item (one key of a Secret) is sealed on its own: a random item key
 * encrypts the value with XChaCha20-Poly1305-IETF, and is wrapped for every
 * recipient with a key derived, as crypto_kx does, from an ephemeral X25519
 * key made for this item. Every wrap starts with the recipient's 8-byte key
 * ID, so opening picks its wrap without trial decryption. The AAD of both
 * binds the item to the format version, the scope, the namespace, the name
 * and the item key, length-prefixed. saasctl-sealed(5) has every byte.
 */

#include <stddef.h>

#include "err.h"
#include "keys.h"
#include "strbuf.h"
#include "yamltree.h"

#define SEALED_VERSION 1
#define SEALED_API_VERSION "saasctl.dev/v1"
#define SEALED_KIND "SealedSecret"
#define SEALED_MAX_RECIPIENTS 255
/* The item key, the nonce and the AEAD tag. */
#define SEALED_ITEM_KEY_BYTES 32
#define SEALED_NONCE_BYTES 24
#define SEALED_TAG_BYTES 16
#define SEALED_EPK_BYTES 32
#define SEALED_WRAP_BYTES (KEYS_ID_BYTES + SEALED_ITEM_KEY_BYTES + SEALED_TAG_BYTES)
#define SEALED_HEADER_BYTES (1 + SEALED_EPK_BYTES + SEALED_NONCE_BYTES + 1)
/* Values larger than this are refused (Kubernetes caps a Secret at 1 MiB). */
#define SEALED_VALUE_MAX (16u * 1024 * 1024)

enum sealed_scope {
	SEALED_STRICT,		/* bound to namespace and name */
	SEALED_NAMESPACE,	/* any name in the namespace */
	SEALED_CLUSTER,		/* any name in any namespace */
};

int sealed_scope_parse(const char *s, enum sealed_scope *out);
const char *sealed_scope_name(enum sealed_scope scope);

/* What an item is bound to; fields the scope leaves out are ignored. */
struct sealed_binding {
	enum sealed_scope scope;
	const char *namespace;
	const char *name;
	const char *key;		/* the item key ("DB_PASSWORD") */
	size_t key_len;
};

/* The AAD of an item (exposed for tests and for the docs' examples). */
int sealed_aad(struct strbuf *out, const struct sealed_binding *b);

/* A decoded item: views into blob, which it owns. */
struct sealed_item {
	unsigned char *blob;
	size_t len;
	unsigned version;
	const unsigned char *epk;
	const unsigned char *nonce;
	size_t nwraps;
	const unsigned char *wraps;	/* nwraps * SEALED_WRAP_BYTES */
	const unsigned char *ct;	/* value ciphertext with its tag */
	size_t ct_len;
};

/* Base64 text of an item into a checked structure. */
int sealed_item_decode(struct sealed_item *out, const char *b64, size_t len,
		       struct err *e);
void sealed_item_release(struct sealed_item *it);
/* The hex key ID of wrap i. */
void sealed_item_wrap_id(const struct sealed_item *it, size_t i,
			 char out[KEYS_ID_HEX]);
/* Is there a wrap for this key ID? Index or -1. */
long sealed_item_find(const struct sealed_item *it,
		      const unsigned char id[KEYS_ID_BYTES]);

/*
 * Seal value to the recipients with a fresh item key, nonce and ephemeral
 * key; appends the item's base64 to out.
 */
int sealed_item_seal(struct strbuf *out, const struct sealed_binding *b,
		     const unsigned char *value, size_t len,
		     const struct keys_public *recipients, size_t nrecipients,
		     struct err *e);
/*
 * Open an item: on success *value holds *len bytes (plus a NUL), to be
 * released with sealed_value_free(), which wipes it. Fails closed with a message that never
 * holds the value: wrong key (naming the key IDs present), tampered,
 * truncated, or bound to another name, namespace, item key or scope.
 */
int sealed_item_open(const struct sealed_item *it,
		     const struct sealed_binding *b,
		     const struct keys_secret *k, unsigned char **value,
		     size_t *len, struct err *e);
void sealed_value_free(unsigned char *value, size_t len);

/*
 * Re-wrap an item for a new recipient set, keeping its item key, nonce and
 * value ciphertext (used when recipients are only added).
 */
int sealed_item_rewrap(struct strbuf *out, const struct sealed_item *it,
		       const struct sealed_binding *b,
		       const struct keys_secret *k,
		       const struct keys_public *recipients,
		       size_t nrecipients, struct err *e);

/* A name/value pair of a document (labels, items). */
struct sealed_kv {
	char *key;
	char *value;			/* items: base64 */
	size_t value_len;
	unsigned line;			/* where it was read, 0 if new */
};

struct sealed_secret {
	char *name;
	char *namespace;		/* NULL for cluster scope without one */
	enum sealed_scope scope;
	char *type;			/* spec.template.type, NULL: Opaque */
	struct sealed_kv *labels, *annotations, *items;
	size_t nlabels, nannotations, nitems;
	char **recipients;		/* spec.recipients: hex key IDs */
	size_t nrecipients;
	unsigned line;
};

/* Read a SealedSecret from a parsed document (root map). */
int sealed_secret_from_node(struct sealed_secret *out,
			    const struct ynode *root, const char *path,
			    struct err *e);
void sealed_secret_release(struct sealed_secret *s);
/* Add or replace an item (takes copies). */
int sealed_secret_set_item(struct sealed_secret *s, const char *key,
			   size_t key_len, const char *b64, size_t b64_len);
/* Replace spec.recipients with these (sorted). */
int sealed_secret_set_recipients(struct sealed_secret *s,
				 const struct keys_public *recipients,
				 size_t n);
/* The binding of one item of s. */
void sealed_secret_binding(const struct sealed_secret *s, const char *key,
			   struct sealed_binding *b);
/* YAML, keys sorted at every level, values base64. */
int sealed_secret_emit(struct strbuf *out, const struct sealed_secret *s);
/* Does this document look like one of ours? */
int sealed_is_sealed_secret(const struct ynode *root);

/* A plain Secret read from YAML: data (base64) and stringData merged. */
struct sealed_plain {
	char *name;
	char *namespace;
	char *type;
	struct sealed_kv *labels, *annotations;
	size_t nlabels, nannotations;
	struct sealed_kv *items;	/* values decoded, may hold NULs */
	size_t nitems;
};

int sealed_plain_from_node(struct sealed_plain *out, const struct ynode *root,
			   const char *path, struct err *e);
/* Add or replace a value (takes copies). */
int sealed_plain_set(struct sealed_plain *p, const char *key, size_t key_len,
		     const void *value, size_t len);
/* Wipes the values. */
void sealed_plain_release(struct sealed_plain *p);

/*
 * Open every item of s with k into out (name, namespace, type, labels and
 * annotations copied). Fails closed: when one item fails, out is empty and
 * e names the item.
 */
int sealed_secret_open(const struct sealed_secret *s,
		       const struct keys_secret *k, struct sealed_plain *out,
		       struct err *e);

/* Every SealedSecret document of a parsed file. */
struct sealed_file {
	struct yamltree *tree;
	struct sealed_secret *secrets;
	size_t nsecrets;
	size_t nother;			/* documents of other kinds */
};

/*
 * Read a file (path "-": stdin) and every SealedSecret in it. Fails when a
 * SealedSecret document is malformed, or when the file holds none.
 */
int sealed_file_load(struct sealed_file *out, const char *path,
		     struct err *e);
void sealed_file_release(struct sealed_file *f);

/*
 * The text of f with its SealedSecrets changed in memory (items set,
 * recipients replaced, template fields) written back as edits of the
 * file's own bytes: everything else (comments, metadata, labels and
 * annotations of the SealedSecret, unchanged items, formatting) stays
 * byte-identical; a changed value is replaced in place; a new item goes in
 * beside its neighbours (in sorted place when the items are sorted); a
 * recipient that is gone loses its line. The result is parsed again and
 * must read back as f->secrets, else nothing is returned.
 */
int sealed_file_update(struct strbuf *out, const struct sealed_file *f,
		       struct err *e);

/*
 * Replace path with buf atomically: a temporary file in the same folder,
 * fsync, rename. A new file gets mode 0644; an existing one keeps its mode.
 */
int sealed_write_atomic(const char *path, const char *buf, size_t len,
			struct err *e);

/* A printable "namespace/name" (or "name") of a SealedSecret. */
void sealed_secret_label(const struct sealed_secret *s, char *out,
			 size_t size);

/* Quote a string for YAML output when it needs it. */
int sealed_yaml_scalar(struct strbuf *out, const char *s, size_t len);

/*
 * The lint rule: do the recipients of this SealedSecret (the key IDs every
 * item is wrapped to) include every recipient named in saasctl.yaml
 * (secrets.recipients, public key files)? Returns 0 when they do, 1 when
 * some are missing (msg gets "recipients lack 'keys/recovery.pub' (key ID
 * ...)"), -1 on error (a public key file cannot be read, not a
 * SealedSecret).
 */
struct monorepo;
int sealed_check_recipients(const struct monorepo *repo,
			    const struct ynode *doc, struct strbuf *msg,
			    struct err *e);

/* The same with the recipients already loaded (paths name them). */
int sealed_check_recipients_with(const struct keys_public *want,
				 char *const *paths, size_t n,
				 const struct ynode *doc, struct strbuf *msg,
				 struct err *e);

/*
 * Recipients named in saasctl.yaml (secrets.recipients), loaded. *out is
 * malloc'd; *n may be 0.
 */
int sealed_config_recipients(const struct monorepo *repo,
			     struct keys_public **out, char ***paths,
			     size_t *n, struct err *e);

/*
 * The recipients to seal to: those of saasctl.yaml (repo may be NULL) and
 * the extra .pub files, without duplicates. *out is malloc'd.
 */
int sealed_recipients_load(const struct monorepo *repo,
			   const char *const *extra, size_t nextra,
			   struct keys_public **out, size_t *n,
			   struct err *e);

/* Is s a POSIX environment variable name (items become env vars)? */
int sealed_env_name_ok(const char *s);

#endif
