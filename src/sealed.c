#include "sealed.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "monorepo.h"

static const char *const scope_names[] = {
	[SEALED_STRICT] = "strict",
	[SEALED_NAMESPACE] = "namespace",
	[SEALED_CLUSTER] = "cluster",
};

int sealed_scope_parse(const char *s, enum sealed_scope *out)
{
	for (size_t i = 0; i < sizeof(scope_names) / sizeof(*scope_names); i++)
		if (!strcmp(s, scope_names[i])) {
			*out = (enum sealed_scope)i;
			return 0;
		}
	return -1;
}

const char *sealed_scope_name(enum sealed_scope scope)
{
	return scope_names[scope];
}

/* u32 big-endian length, then the bytes. */
static int add_lp(struct strbuf *out, const char *s, size_t len)
{
	unsigned char n[4] = {
		(unsigned char)(len >> 24), (unsigned char)(len >> 16),
		(unsigned char)(len >> 8), (unsigned char)len,
	};

	if (strbuf_add(out, n, 4) < 0)
		return -1;
	return strbuf_add(out, s, len);
}

int sealed_aad(struct strbuf *out, const struct sealed_binding *b)
{
	const char *ns = b->namespace ? b->namespace : "";
	const char *name = b->name ? b->name : "";
	unsigned char v = SEALED_VERSION;

	/* The scope decides what the item is bound to; the fields it
	 * leaves out are empty, so the item may move within them. */
	if (b->scope == SEALED_CLUSTER)
		ns = "";
	if (b->scope != SEALED_STRICT)
		name = "";
	if (strbuf_add(out, &v, 1) < 0 ||
	    add_lp(out, scope_names[b->scope], strlen(scope_names[b->scope])) < 0 ||
	    add_lp(out, ns, strlen(ns)) < 0 ||
	    add_lp(out, name, strlen(name)) < 0 ||
	    add_lp(out, b->key, b->key_len) < 0)
		return -1;
	return 0;
}

static int b64_append(struct strbuf *out, const unsigned char *bin,
		      size_t len)
{
	size_t need = sodium_base64_ENCODED_LEN(len,
						sodium_base64_VARIANT_ORIGINAL);

	if (strbuf_grow(out, need) < 0)
		return -1;
	sodium_bin2base64(out->buf + out->len, need, bin, len,
			  sodium_base64_VARIANT_ORIGINAL);
	out->len += need - 1;
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	const struct keys_public *x = *(const struct keys_public *const *)a;
	const struct keys_public *y = *(const struct keys_public *const *)b;

	return memcmp(x->id, y->id, KEYS_ID_BYTES);
}

/*
 * Build an item from its item key, nonce and value ciphertext: a fresh
 * ephemeral key and one wrap per recipient, sorted by key ID.
 *
 * Per-item keys (ephemeral secret, wrap keys, item keys) live on the stack
 * for microseconds and are wiped with sodium_memzero(), as libsodium's own
 * crypto_box_seal() does: sodium_malloc() costs about eight system calls
 * (guard pages, mlock), which would dominate unsealing a thousand items.
 * The long-lived secret key stays in sodium_malloc() memory (keys.c).
 */
static int build_item(struct strbuf *out, const struct strbuf *aad,
		      const unsigned char *item_key,
		      const unsigned char nonce[SEALED_NONCE_BYTES],
		      const unsigned char *ct, size_t ct_len,
		      const struct keys_public *recipients, size_t n,
		      struct err *e)
{
	const struct keys_public **sorted = NULL;
	unsigned char *blob = NULL, *p;
	unsigned char esk[crypto_kx_SECRETKEYBYTES];
	unsigned char wk[crypto_kx_SESSIONKEYBYTES], rx[crypto_kx_SESSIONKEYBYTES];
	unsigned char epk[SEALED_EPK_BYTES];
	size_t len;
	int ret = -1;

	if (n == 0)
		return err_set(e, "no recipients");
	if (n > SEALED_MAX_RECIPIENTS)
		return err_set(e, "too many recipients (%zu, at most %d)", n,
			       SEALED_MAX_RECIPIENTS);
	sorted = calloc(n, sizeof(*sorted));
	len = SEALED_HEADER_BYTES + n * SEALED_WRAP_BYTES + ct_len;
	blob = malloc(len);
	if (!sorted || !blob) {
		err_set(e, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		sorted[i] = &recipients[i];
	qsort(sorted, n, sizeof(*sorted), cmp_id);
	for (size_t i = 1; i < n; i++)
		if (!memcmp(sorted[i]->id, sorted[i - 1]->id, KEYS_ID_BYTES)) {
			err_set(e, "recipient key ID %s is listed twice",
				sorted[i]->id_hex);
			goto out;
		}

	crypto_kx_keypair(epk, esk);
	p = blob;
	*p++ = SEALED_VERSION;
	memcpy(p, epk, SEALED_EPK_BYTES);
	p += SEALED_EPK_BYTES;
	memcpy(p, nonce, SEALED_NONCE_BYTES);
	p += SEALED_NONCE_BYTES;
	*p++ = (unsigned char)n;
	for (size_t i = 0; i < n; i++) {
		/* The wrap key is crypto_kx's client transmit key:
		 * BLAKE2b-512(X25519(esk, R) || E || R)[32..64]. */
		if (crypto_kx_client_session_keys(rx, wk, epk, esk,
						  sorted[i]->pk) != 0) {
			err_set(e, "recipient key ID %s is not a usable X25519 key",
				sorted[i]->id_hex);
			goto out;
		}
		memcpy(p, sorted[i]->id, KEYS_ID_BYTES);
		p += KEYS_ID_BYTES;
		crypto_aead_xchacha20poly1305_ietf_encrypt(
			p, NULL, item_key, SEALED_ITEM_KEY_BYTES,
			(const unsigned char *)aad->buf, aad->len, NULL,
			nonce, wk);
		p += SEALED_ITEM_KEY_BYTES + SEALED_TAG_BYTES;
	}
	memcpy(p, ct, ct_len);
	if (b64_append(out, blob, len) < 0) {
		err_set(e, "out of memory");
		goto out;
	}
	ret = 0;
out:
	sodium_memzero(esk, sizeof(esk));
	sodium_memzero(wk, sizeof(wk));
	sodium_memzero(rx, sizeof(rx));
	free(blob);
	free(sorted);
	return ret;
}

int sealed_item_seal(struct strbuf *out, const struct sealed_binding *b,
		     const unsigned char *value, size_t len,
		     const struct keys_public *recipients, size_t nrecipients,
		     struct err *e)
{
	struct strbuf aad = STRBUF_INIT;
	unsigned char item_key[SEALED_ITEM_KEY_BYTES], *ct = NULL;
	unsigned char nonce[SEALED_NONCE_BYTES];
	int ret = -1;

	if (keys_init(e) < 0)
		return -1;
	if (len > SEALED_VALUE_MAX)
		return err_set(e, "value larger than %u bytes", SEALED_VALUE_MAX);
	ct = malloc(len + SEALED_TAG_BYTES);
	if (!ct || sealed_aad(&aad, b) < 0) {
		err_set(e, "out of memory");
		goto out;
	}
	crypto_aead_xchacha20poly1305_ietf_keygen(item_key);
	randombytes_buf(nonce, sizeof(nonce));
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		ct, NULL, value, len, (const unsigned char *)aad.buf, aad.len,
		NULL, nonce, item_key);
	ret = build_item(out, &aad, item_key, nonce, ct,
			 len + SEALED_TAG_BYTES, recipients, nrecipients, e);
out:
	sodium_memzero(item_key, sizeof(item_key));
	free(ct);
	strbuf_release(&aad);
	return ret;
}

int sealed_item_decode(struct sealed_item *out, const char *b64, size_t len,
		       struct err *e)
{
	size_t cap = len / 4 * 3 + 3, n = 0, need;
	const char *end = NULL;

	memset(out, 0, sizeof(*out));
	out->blob = malloc(cap ? cap : 1);
	if (!out->blob)
		return err_set(e, "out of memory");
	if (sodium_base642bin(out->blob, cap, b64, len, " \t\r\n", &n, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != b64 + len) {
		sealed_item_release(out);
		return err_set(e, "not valid base64");
	}
	out->len = n;
	if (n < 1) {
		sealed_item_release(out);
		return err_set(e, "empty");
	}
	out->version = out->blob[0];
	if (out->version != SEALED_VERSION) {
		unsigned v = out->version;

		sealed_item_release(out);
		return err_set(e, "unsupported format version %u (this saasctl reads %d)",
			       v, SEALED_VERSION);
	}
	if (n < SEALED_HEADER_BYTES) {
		sealed_item_release(out);
		return err_set(e, "truncated: %zu bytes, shorter than the %d-byte header",
			       n, SEALED_HEADER_BYTES);
	}
	out->epk = out->blob + 1;
	out->nonce = out->epk + SEALED_EPK_BYTES;
	out->nwraps = out->blob[SEALED_HEADER_BYTES - 1];
	out->wraps = out->blob + SEALED_HEADER_BYTES;
	need = SEALED_HEADER_BYTES + out->nwraps * SEALED_WRAP_BYTES +
	       SEALED_TAG_BYTES;
	if (out->nwraps == 0) {
		sealed_item_release(out);
		return err_set(e, "damaged: no recipients");
	}
	if (n < need) {
		sealed_item_release(out);
		return err_set(e, "truncated: %zu bytes, want at least %zu", n,
			       need);
	}
	out->ct = out->wraps + out->nwraps * SEALED_WRAP_BYTES;
	out->ct_len = n - (size_t)(out->ct - out->blob);
	return 0;
}

void sealed_item_release(struct sealed_item *it)
{
	free(it->blob);
	memset(it, 0, sizeof(*it));
}

void sealed_item_wrap_id(const struct sealed_item *it, size_t i,
			 char out[KEYS_ID_HEX])
{
	keys_id_hex(out, it->wraps + i * SEALED_WRAP_BYTES);
}

long sealed_item_find(const struct sealed_item *it,
		      const unsigned char id[KEYS_ID_BYTES])
{
	for (size_t i = 0; i < it->nwraps; i++)
		if (!memcmp(it->wraps + i * SEALED_WRAP_BYTES, id,
			    KEYS_ID_BYTES))
			return (long)i;
	return -1;
}

static const char moved_msg[] =
	"fails authentication: tampered with, or moved from another name, namespace, item key or scope";

/* Unwrap the item key for k into item_key. */
static int unwrap(const struct sealed_item *it, const struct strbuf *aad,
		  const struct keys_secret *k, unsigned char *item_key,
		  struct err *e)
{
	unsigned char rx[crypto_kx_SESSIONKEYBYTES], tx[crypto_kx_SESSIONKEYBYTES];
	const unsigned char *w;
	long i = sealed_item_find(it, k->pub.id);
	int ret = -1;

	if (i < 0) {
		struct strbuf ids = STRBUF_INIT;

		for (size_t j = 0; j < it->nwraps; j++) {
			char hex[KEYS_ID_HEX];

			sealed_item_wrap_id(it, j, hex);
			strbuf_addf(&ids, "%s%s", j ? ", " : "", hex);
		}
		err_set(e, "not sealed to key ID %s; it is sealed to %s",
			k->pub.id_hex, ids.buf);
		strbuf_release(&ids);
		return -1;
	}
	w = it->wraps + (size_t)i * SEALED_WRAP_BYTES + KEYS_ID_BYTES;
	if (crypto_kx_server_session_keys(rx, tx, k->pub.pk, k->sk,
					  it->epk) != 0) {
		err_set(e, "damaged: bad ephemeral key");
		goto out;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    item_key, NULL, NULL, w,
		    SEALED_ITEM_KEY_BYTES + SEALED_TAG_BYTES,
		    (const unsigned char *)aad->buf, aad->len, it->nonce,
		    rx) != 0) {
		err_set(e, "%s", moved_msg);
		goto out;
	}
	ret = 0;
out:
	sodium_memzero(rx, sizeof(rx));
	sodium_memzero(tx, sizeof(tx));
	return ret;
}

/* Unwrap and decrypt into a malloc'd value (plus a NUL). */
static int open_value(const struct sealed_item *it, const struct strbuf *aad,
		      const struct keys_secret *k, unsigned char *item_key,
		      unsigned char **value, size_t *len, struct err *e)
{
	size_t plen = it->ct_len - SEALED_TAG_BYTES;
	unsigned char *plain = malloc(plen + 1);

	if (!plain)
		return err_set(e, "out of memory");
	if (unwrap(it, aad, k, item_key, e) < 0) {
		free(plain);
		return -1;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    plain, NULL, NULL, it->ct, it->ct_len,
		    (const unsigned char *)aad->buf, aad->len, it->nonce,
		    item_key) != 0) {
		sodium_memzero(plain, plen + 1);
		free(plain);
		return err_set(e, "%s", moved_msg);
	}
	plain[plen] = '\0';
	*value = plain;
	*len = plen;
	return 0;
}

void sealed_value_free(unsigned char *value, size_t len)
{
	if (!value)
		return;
	sodium_memzero(value, len);
	free(value);
}

int sealed_item_open(const struct sealed_item *it,
		     const struct sealed_binding *b,
		     const struct keys_secret *k, unsigned char **value,
		     size_t *len, struct err *e)
{
	struct strbuf aad = STRBUF_INIT;
	unsigned char item_key[SEALED_ITEM_KEY_BYTES];
	int ret = -1;

	*value = NULL;
	*len = 0;
	if (keys_init(e) < 0)
		return -1;
	if (sealed_aad(&aad, b) < 0) {
		err_set(e, "out of memory");
		goto out;
	}
	ret = open_value(it, &aad, k, item_key, value, len, e);
out:
	sodium_memzero(item_key, sizeof(item_key));
	strbuf_release(&aad);
	return ret;
}

int sealed_item_rewrap(struct strbuf *out, const struct sealed_item *it,
		       const struct sealed_binding *b,
		       const struct keys_secret *k,
		       const struct keys_public *recipients,
		       size_t nrecipients, struct err *e)
{
	struct strbuf aad = STRBUF_INIT;
	unsigned char item_key[SEALED_ITEM_KEY_BYTES], *plain = NULL;
	size_t plen = 0;
	int ret = -1;

	if (keys_init(e) < 0)
		return -1;
	if (sealed_aad(&aad, b) < 0) {
		err_set(e, "out of memory");
		goto out;
	}
	/* Open the value too: never re-wrap a tampered item. */
	if (open_value(it, &aad, k, item_key, &plain, &plen, e) < 0)
		goto out;
	ret = build_item(out, &aad, item_key, it->nonce, it->ct, it->ct_len,
			 recipients, nrecipients, e);
out:
	sodium_memzero(item_key, sizeof(item_key));
	sealed_value_free(plain, plen);
	strbuf_release(&aad);
	return ret;
}

/* ---- documents ---- */

static char *xstrndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (!p)
		abort(); /* out of memory: no sane recovery in a CLI */
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static void kv_free(struct sealed_kv *kv, size_t n, int wipe)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		if (wipe && kv[i].value)
			sodium_memzero(kv[i].value, kv[i].value_len);
		free(kv[i].value);
	}
	free(kv);
}

/* Set key in a kv array; replaces the value of an existing key. */
static int kv_set(struct sealed_kv **kv, size_t *n, const char *key,
		  size_t key_len, const void *value, size_t len, int wipe,
		  unsigned line)
{
	struct sealed_kv *grown;

	for (size_t i = 0; i < *n; i++) {
		if (strlen((*kv)[i].key) == key_len &&
		    !memcmp((*kv)[i].key, key, key_len)) {
			if (wipe)
				sodium_memzero((*kv)[i].value,
					       (*kv)[i].value_len);
			free((*kv)[i].value);
			(*kv)[i].value = xstrndup(value, len);
			(*kv)[i].value_len = len;
			(*kv)[i].line = line;
			return 0;
		}
	}
	grown = realloc(*kv, (*n + 1) * sizeof(**kv));
	if (!grown)
		abort();
	*kv = grown;
	grown[*n].key = xstrndup(key, key_len);
	grown[*n].value = xstrndup(value, len);
	grown[*n].value_len = len;
	grown[*n].line = line;
	(*n)++;
	return 0;
}

static int cmp_kv(const void *a, const void *b)
{
	return strcmp(((const struct sealed_kv *)a)->key,
		      ((const struct sealed_kv *)b)->key);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A map of scalars into kv (NULL node: nothing). */
static int read_string_map(struct sealed_kv **kv, size_t *n,
			   const struct ynode *map, const char *what,
			   const char *path, struct err *e)
{
	if (!map || (map->type == YNODE_SCALAR && ynode_is_null(map)))
		return 0;
	if (map->type != YNODE_MAP)
		return err_set(e, "%s:%u: %s must be a map", path, map->line,
			       what);
	for (size_t i = 0; i < map->n; i++) {
		const struct ynode *k = map->entries[i].key;
		const struct ynode *v = map->entries[i].value;

		if (k->type != YNODE_SCALAR || v->type != YNODE_SCALAR)
			return err_set(e, "%s:%u: %s must map strings to strings",
				       path, k->line, what);
		if (k->len == 0 || memchr(k->value, '\0', k->len))
			return err_set(e, "%s:%u: %s has an empty key", path,
				       k->line, what);
		kv_set(kv, n, k->value, k->len,
		       ynode_is_null(v) ? "" : v->value,
		       ynode_is_null(v) ? 0 : v->len, 0, k->line);
	}
	return 0;
}

int sealed_is_sealed_secret(const struct ynode *root)
{
	const char *kind = ynode_str(root, "kind");

	return root && root->type == YNODE_MAP && kind &&
	       !strcmp(kind, SEALED_KIND);
}

static int is_b64(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '/' ||
		      c == '='))
			return 0;
	}
	return n > 0;
}

int sealed_secret_from_node(struct sealed_secret *out,
			    const struct ynode *root, const char *path,
			    struct err *e)
{
	const char *api, *kind, *name, *ns, *scope, *type;
	const struct ynode *data, *recips, *meta;
	unsigned line = root ? root->line : 1;

	memset(out, 0, sizeof(*out));
	if (!root || root->type != YNODE_MAP)
		return err_set(e, "%s:%u: not a SealedSecret: the document is not a map",
			       path, line);
	out->line = line;
	api = ynode_str(root, "apiVersion");
	kind = ynode_str(root, "kind");
	if (!kind || strcmp(kind, SEALED_KIND))
		return err_set(e, "%s:%u: not a SealedSecret: kind is '%s'",
			       path, line, kind ? kind : "");
	if (!api || strcmp(api, SEALED_API_VERSION))
		return err_set(e, "%s:%u: SealedSecret apiVersion is '%s', want '%s'",
			       path, line, api ? api : "", SEALED_API_VERSION);
	scope = ynode_str(root, "spec.scope");
	if (!scope)
		scope = "strict";
	if (sealed_scope_parse(scope, &out->scope) < 0)
		return err_set(e, "%s:%u: unknown scope '%s' (want strict, namespace or cluster)",
			       path, line, scope);
	name = ynode_str(root, "metadata.name");
	ns = ynode_str(root, "metadata.namespace");
	if (!name || !*name)
		return err_set(e, "%s:%u: SealedSecret has no metadata.name",
			       path, line);
	if ((!ns || !*ns) && out->scope != SEALED_CLUSTER)
		return err_set(e, "%s:%u: SealedSecret '%s' has no metadata.namespace (needed by scope %s)",
			       path, line, name, scope);
	out->name = xstrndup(name, strlen(name));
	out->namespace = ns && *ns ? xstrndup(ns, strlen(ns)) : NULL;
	type = ynode_str(root, "spec.template.type");
	out->type = type && *type ? xstrndup(type, strlen(type)) : NULL;
	meta = ynode_path(root, "spec.template.metadata");
	if (meta && meta->type == YNODE_MAP) {
		if (read_string_map(&out->labels, &out->nlabels,
				    ynode_get(meta, "labels"),
				    "spec.template.metadata.labels", path, e) < 0 ||
		    read_string_map(&out->annotations, &out->nannotations,
				    ynode_get(meta, "annotations"),
				    "spec.template.metadata.annotations", path,
				    e) < 0)
			goto fail;
	}
	data = ynode_path(root, "spec.encryptedData");
	if (!data) {
		err_set(e, "%s:%u: SealedSecret '%s' has no spec.encryptedData",
			path, line, name);
		goto fail;
	}
	if (read_string_map(&out->items, &out->nitems, data,
			    "spec.encryptedData", path, e) < 0)
		goto fail;
	for (size_t i = 0; i < out->nitems; i++)
		if (!is_b64(out->items[i].value, out->items[i].value_len)) {
			err_set(e, "%s:%u: item '%s' is not base64", path,
				out->items[i].line, out->items[i].key);
			goto fail;
		}
	recips = ynode_path(root, "spec.recipients");
	if (recips && recips->type == YNODE_SEQ) {
		out->recipients = calloc(recips->n + 1, sizeof(char *));
		if (!out->recipients)
			abort();
		for (size_t i = 0; i < recips->n; i++) {
			const struct ynode *r = recips->items[i];
			unsigned char id[KEYS_ID_BYTES];

			if (r->type != YNODE_SCALAR ||
			    keys_id_parse(id, r->value) < 0) {
				err_set(e, "%s:%u: spec.recipients holds '%s', not a 16-hex-digit key ID",
					path, r->line,
					r->type == YNODE_SCALAR ? r->value : "");
				goto fail;
			}
			out->recipients[out->nrecipients++] =
				xstrndup(r->value, r->len);
		}
	} else if (recips && !ynode_is_null(recips)) {
		err_set(e, "%s:%u: spec.recipients must be a list of key IDs",
			path, recips->line);
		goto fail;
	}
	return 0;
fail:
	sealed_secret_release(out);
	return -1;
}

void sealed_secret_release(struct sealed_secret *s)
{
	free(s->name);
	free(s->namespace);
	free(s->type);
	kv_free(s->labels, s->nlabels, 0);
	kv_free(s->annotations, s->nannotations, 0);
	kv_free(s->items, s->nitems, 0);
	for (size_t i = 0; i < s->nrecipients; i++)
		free(s->recipients[i]);
	free(s->recipients);
	memset(s, 0, sizeof(*s));
}

int sealed_secret_set_item(struct sealed_secret *s, const char *key,
			   size_t key_len, const char *b64, size_t b64_len)
{
	return kv_set(&s->items, &s->nitems, key, key_len, b64, b64_len, 0, 0);
}

int sealed_secret_set_recipients(struct sealed_secret *s,
				 const struct keys_public *recipients,
				 size_t n)
{
	for (size_t i = 0; i < s->nrecipients; i++)
		free(s->recipients[i]);
	free(s->recipients);
	s->recipients = calloc(n + 1, sizeof(char *));
	if (!s->recipients)
		abort();
	for (size_t i = 0; i < n; i++)
		s->recipients[i] = xstrndup(recipients[i].id_hex,
					    strlen(recipients[i].id_hex));
	s->nrecipients = n;
	qsort(s->recipients, n, sizeof(char *), cmp_str);
	return 0;
}

void sealed_secret_binding(const struct sealed_secret *s, const char *key,
			   struct sealed_binding *b)
{
	b->scope = s->scope;
	b->namespace = s->namespace;
	b->name = s->name;
	b->key = key;
	b->key_len = strlen(key);
}

/* Would a plain scalar read back as this same string in YAML 1.1 and 1.2? */
static int plain_safe(const char *s, size_t len)
{
	static const char *const reserved[] = {
		"null", "true", "false", "yes", "no", "on", "off", "y", "n",
	};
	unsigned char c0 = (unsigned char)s[0];

	if (len == 0 || !((c0 >= 'A' && c0 <= 'Z') || (c0 >= 'a' && c0 <= 'z') ||
			  c0 == '_' || c0 == '/'))
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.' || c == '/'))
			return 0;
	}
	for (size_t i = 0; i < sizeof(reserved) / sizeof(*reserved); i++)
		if (strlen(reserved[i]) == len && !strncasecmp(s, reserved[i], len))
			return 0;
	return 1;
}

int sealed_yaml_scalar(struct strbuf *out, const char *s, size_t len)
{
	if (plain_safe(s, len))
		return strbuf_add(out, s, len);
	return yamltree_quote(out, s, len);
}

static void emit_map(struct strbuf *out, const char *indent,
		     struct sealed_kv *kv, size_t n, int raw_values)
{
	if (n > 1)
		qsort(kv, n, sizeof(*kv), cmp_kv);
	for (size_t i = 0; i < n; i++) {
		strbuf_addstr(out, indent);
		sealed_yaml_scalar(out, kv[i].key, strlen(kv[i].key));
		strbuf_addstr(out, ": ");
		if (raw_values)
			strbuf_add(out, kv[i].value, kv[i].value_len);
		else
			sealed_yaml_scalar(out, kv[i].value, kv[i].value_len);
		strbuf_addch(out, '\n');
	}
}

int sealed_secret_emit(struct strbuf *out, const struct sealed_secret *s)
{
	strbuf_addstr(out, "apiVersion: " SEALED_API_VERSION "\n"
			   "kind: " SEALED_KIND "\n"
			   "metadata:\n  name: ");
	sealed_yaml_scalar(out, s->name, strlen(s->name));
	if (s->namespace) {
		strbuf_addstr(out, "\n  namespace: ");
		sealed_yaml_scalar(out, s->namespace, strlen(s->namespace));
	}
	strbuf_addstr(out, "\nspec:\n");
	if (s->nitems) {
		strbuf_addstr(out, "  encryptedData:\n");
		/* Base64 is always a safe plain scalar. */
		emit_map(out, "    ", s->items, s->nitems, 1);
	} else {
		strbuf_addstr(out, "  encryptedData: {}\n");
	}
	strbuf_addstr(out, "  recipients:");
	if (!s->nrecipients)
		strbuf_addstr(out, " []");
	if (s->nrecipients > 1)
		qsort(s->recipients, s->nrecipients, sizeof(char *), cmp_str);
	for (size_t i = 0; i < s->nrecipients; i++)
		strbuf_addf(out, "\n  - %s", s->recipients[i]);
	strbuf_addf(out, "\n  scope: %s\n  template:\n", scope_names[s->scope]);
	if (s->nlabels || s->nannotations) {
		strbuf_addstr(out, "    metadata:\n");
		if (s->nannotations) {
			strbuf_addstr(out, "      annotations:\n");
			emit_map(out, "        ", s->annotations,
				 s->nannotations, 0);
		}
		if (s->nlabels) {
			strbuf_addstr(out, "      labels:\n");
			emit_map(out, "        ", s->labels, s->nlabels, 0);
		}
	}
	strbuf_addstr(out, "    type: ");
	sealed_yaml_scalar(out, s->type ? s->type : "Opaque",
			   strlen(s->type ? s->type : "Opaque"));
	return strbuf_addch(out, '\n');
}

/* ---- plain Secrets ---- */

int sealed_plain_set(struct sealed_plain *p, const char *key, size_t key_len,
		     const void *value, size_t len)
{
	return kv_set(&p->items, &p->nitems, key, key_len, value, len, 1, 0);
}

void sealed_plain_release(struct sealed_plain *p)
{
	free(p->name);
	free(p->namespace);
	free(p->type);
	kv_free(p->labels, p->nlabels, 0);
	kv_free(p->annotations, p->nannotations, 0);
	kv_free(p->items, p->nitems, 1);
	memset(p, 0, sizeof(*p));
}

int sealed_plain_from_node(struct sealed_plain *out, const struct ynode *root,
			   const char *path, struct err *e)
{
	const char *kind, *name, *ns, *type;
	const struct ynode *data, *sdata;
	unsigned line = root ? root->line : 1;

	memset(out, 0, sizeof(*out));
	if (!root || root->type != YNODE_MAP)
		return err_set(e, "%s:%u: not a Secret: the document is not a map",
			       path, line);
	kind = ynode_str(root, "kind");
	if (kind && strcmp(kind, "Secret"))
		return err_set(e, "%s:%u: not a Secret: kind is '%s'", path,
			       line, kind);
	name = ynode_str(root, "metadata.name");
	ns = ynode_str(root, "metadata.namespace");
	type = ynode_str(root, "type");
	out->name = name && *name ? xstrndup(name, strlen(name)) : NULL;
	out->namespace = ns && *ns ? xstrndup(ns, strlen(ns)) : NULL;
	out->type = type && *type ? xstrndup(type, strlen(type)) : NULL;
	if (read_string_map(&out->labels, &out->nlabels,
			    ynode_path(root, "metadata.labels"),
			    "metadata.labels", path, e) < 0 ||
	    read_string_map(&out->annotations, &out->nannotations,
			    ynode_path(root, "metadata.annotations"),
			    "metadata.annotations", path, e) < 0)
		goto fail;
	data = ynode_get(root, "data");
	sdata = ynode_get(root, "stringData");
	if (data && !ynode_is_null(data)) {
		if (data->type != YNODE_MAP) {
			err_set(e, "%s:%u: data must be a map", path,
				data->line);
			goto fail;
		}
		for (size_t i = 0; i < data->n; i++) {
			const struct ynode *k = data->entries[i].key;
			const struct ynode *v = data->entries[i].value;
			unsigned char *bin = NULL;
			size_t n = 0;
			const char *end = NULL;

			if (k->type != YNODE_SCALAR || v->type != YNODE_SCALAR ||
			    !k->len) {
				err_set(e, "%s:%u: data must map names to base64 strings",
					path, k->line);
				goto fail;
			}
			bin = malloc(v->len / 4 * 3 + 3);
			if (!bin)
				abort();
			if (!ynode_is_null(v) &&
			    (sodium_base642bin(bin, v->len / 4 * 3 + 3,
					       v->value, v->len, " \t\r\n", &n,
					       &end,
					       sodium_base64_VARIANT_ORIGINAL) != 0 ||
			     end != v->value + v->len)) {
				/* It may hold what was decoded before the
				 * bad character. */
				sodium_memzero(bin, v->len / 4 * 3 + 3);
				free(bin);
				err_set(e, "%s:%u: data item '%s' is not valid base64",
					path, v->line, k->value);
				goto fail;
			}
			kv_set(&out->items, &out->nitems, k->value, k->len,
			       bin, n, 1, k->line);
			sodium_memzero(bin, n);
			free(bin);
		}
	}
	if (sdata && !ynode_is_null(sdata)) {
		struct sealed_kv *kv = NULL;
		size_t n = 0;

		/* stringData wins over data, as in Kubernetes. The values
		 * read before a failure are plaintext: wipe them too. */
		if (read_string_map(&kv, &n, sdata, "stringData", path, e) < 0) {
			kv_free(kv, n, 1);
			goto fail;
		}
		for (size_t i = 0; i < n; i++)
			kv_set(&out->items, &out->nitems, kv[i].key,
			       strlen(kv[i].key), kv[i].value,
			       kv[i].value_len, 1, kv[i].line);
		kv_free(kv, n, 1);
	}
	return 0;
fail:
	sealed_plain_release(out);
	return -1;
}

/* ---- saasctl.yaml recipients and the lint rule ---- */

int sealed_config_recipients(const struct monorepo *repo,
			     struct keys_public **out, char ***paths,
			     size_t *n, struct err *e)
{
	const char *const *items = NULL;
	size_t count = repo ? monorepo_get_list(repo, "secrets.recipients",
						&items) : 0;
	struct keys_public *keys = NULL;
	char **names = NULL;

	*out = NULL;
	*n = 0;
	if (paths)
		*paths = NULL;
	if (!count)
		return 0;
	keys = calloc(count, sizeof(*keys));
	names = calloc(count + 1, sizeof(*names));
	if (!keys || !names)
		abort();
	for (size_t i = 0; i < count; i++) {
		char *full = items[i][0] == '/' ?
			xstrndup(items[i], strlen(items[i])) :
			monorepo_path(repo, items[i]);

		if (keys_public_load(&keys[i], full, e) < 0) {
			free(full);
			err_wrap(e, "saasctl.yaml secrets.recipients");
			for (size_t j = 0; j < i; j++)
				free(names[j]);
			free(names);
			free(keys);
			return -1;
		}
		free(full);
		names[i] = xstrndup(items[i], strlen(items[i]));
	}
	*out = keys;
	*n = count;
	if (paths) {
		*paths = names;
	} else {
		for (size_t i = 0; i < count; i++)
			free(names[i]);
		free(names);
	}
	return 0;
}

int sealed_check_recipients_with(const struct keys_public *want,
				 char *const *paths, size_t n,
				 const struct ynode *doc, struct strbuf *msg,
				 struct err *e)
{
	const struct ynode *data;
	size_t missing = 0;

	if (!sealed_is_sealed_secret(doc))
		return err_set(e, "not a SealedSecret");
	data = ynode_path(doc, "spec.encryptedData");
	for (size_t r = 0; r < n; r++) {
		int has = 1;

		/* A recipient counts only when every item is wrapped to it:
		 * the items are the truth, spec.recipients a summary. */
		if (data && data->type == YNODE_MAP && data->n) {
			for (size_t i = 0; i < data->n && has; i++) {
				const struct ynode *v = data->entries[i].value;
				struct sealed_item it;

				if (v->type != YNODE_SCALAR ||
				    sealed_item_decode(&it, v->value, v->len,
						       NULL) < 0) {
					has = 0;
					break;
				}
				has = sealed_item_find(&it, want[r].id) >= 0;
				sealed_item_release(&it);
			}
		} else {
			const struct ynode *rs = ynode_path(doc, "spec.recipients");

			has = 0;
			for (size_t i = 0; rs && rs->type == YNODE_SEQ &&
					   i < rs->n; i++)
				if (rs->items[i]->type == YNODE_SCALAR &&
				    !strcmp(rs->items[i]->value, want[r].id_hex))
					has = 1;
		}
		if (!has) {
			strbuf_addf(msg, "%s'%s' (key ID %s)",
				    missing ? ", " : "recipients lack ",
				    paths[r], want[r].id_hex);
			missing++;
		}
	}
	return missing ? 1 : 0;
}

int sealed_check_recipients(const struct monorepo *repo,
			    const struct ynode *doc, struct strbuf *msg,
			    struct err *e)
{
	struct keys_public *want = NULL;
	char **paths = NULL;
	size_t n = 0;
	int ret;

	if (!sealed_is_sealed_secret(doc))
		return err_set(e, "not a SealedSecret");
	if (sealed_config_recipients(repo, &want, &paths, &n, e) < 0)
		return -1;
	ret = sealed_check_recipients_with(want, paths, n, doc, msg, e);
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	free(want);
	return ret;
}

/* ---- opening documents, files ---- */

void sealed_secret_label(const struct sealed_secret *s, char *out,
			 size_t size)
{
	if (s->namespace)
		snprintf(out, size, "%s/%s", s->namespace, s->name);
	else
		snprintf(out, size, "%s", s->name);
}

int sealed_secret_open(const struct sealed_secret *s,
		       const struct keys_secret *k, struct sealed_plain *out,
		       struct err *e)
{
	char label[512];

	memset(out, 0, sizeof(*out));
	sealed_secret_label(s, label, sizeof(label));
	for (size_t i = 0; i < s->nitems; i++) {
		struct sealed_binding b;
		struct sealed_item it;
		unsigned char *v = NULL;
		size_t len = 0;

		sealed_secret_binding(s, s->items[i].key, &b);
		if (sealed_item_decode(&it, s->items[i].value,
				       s->items[i].value_len, e) < 0 ||
		    sealed_item_open(&it, &b, k, &v, &len, e) < 0) {
			sealed_item_release(&it);
			sealed_plain_release(out);
			return err_wrap(e, "cannot open '%s' item '%s'", label,
					s->items[i].key);
		}
		log_debug("opened '%s' item '%s' with key ID %s", label,
			  s->items[i].key, k->pub.id_hex);
		sealed_plain_set(out, s->items[i].key, strlen(s->items[i].key),
				 v, len);
		sealed_value_free(v, len);
		sealed_item_release(&it);
	}
	out->name = xstrndup(s->name, strlen(s->name));
	out->namespace = s->namespace ?
		xstrndup(s->namespace, strlen(s->namespace)) : NULL;
	out->type = xstrndup(s->type ? s->type : "Opaque",
			     strlen(s->type ? s->type : "Opaque"));
	for (size_t i = 0; i < s->nlabels; i++)
		kv_set(&out->labels, &out->nlabels, s->labels[i].key,
		       strlen(s->labels[i].key), s->labels[i].value,
		       s->labels[i].value_len, 0, 0);
	for (size_t i = 0; i < s->nannotations; i++)
		kv_set(&out->annotations, &out->nannotations,
		       s->annotations[i].key, strlen(s->annotations[i].key),
		       s->annotations[i].value, s->annotations[i].value_len,
		       0, 0);
	return 0;
}

static int file_secrets(struct sealed_file *out, struct err *e);

int sealed_file_load(struct sealed_file *out, const char *path,
		     struct err *e)
{
	memset(out, 0, sizeof(*out));
	if (!strcmp(path, "-")) {
		struct strbuf sb = STRBUF_INIT;
		int r;

		strbuf_init(&sb, 64u * 1024 * 1024);
		if (strbuf_read_fd(&sb, 0, e) < 0) {
			strbuf_release(&sb);
			return err_wrap(e, "cannot read stdin");
		}
		r = yamltree_parse_text(&out->tree, "<stdin>", sb.buf, sb.len,
					NULL, e);
		strbuf_release(&sb);
		if (r < 0)
			goto fail;
	} else if (yamltree_parse_file(&out->tree, path, NULL, e) < 0) {
		goto fail;
	}
	if (file_secrets(out, e) < 0)
		goto fail;
	if (!out->nsecrets) {
		err_set(e, "'%s' holds no SealedSecret", path);
		goto fail;
	}
	return 0;
fail:
	sealed_file_release(out);
	return -1;
}

/* Read every SealedSecret of out->tree into out->secrets. */
static int file_secrets(struct sealed_file *out, struct err *e)
{
	out->secrets = calloc(out->tree->ndocs + 1, sizeof(*out->secrets));
	if (!out->secrets)
		abort();
	for (size_t d = 0; d < out->tree->ndocs; d++) {
		const struct ynode *root = out->tree->docs[d].root;

		if (!root || ynode_is_null(root))
			continue;
		if (!sealed_is_sealed_secret(root)) {
			out->nother++;
			continue;
		}
		if (sealed_secret_from_node(&out->secrets[out->nsecrets],
					    root, out->tree->path, e) < 0)
			return -1;
		out->nsecrets++;
	}
	return 0;
}

void sealed_file_release(struct sealed_file *f)
{
	for (size_t i = 0; i < f->nsecrets; i++)
		sealed_secret_release(&f->secrets[i]);
	free(f->secrets);
	yamltree_free(f->tree);
	memset(f, 0, sizeof(*f));
}

/* ---- editing a file in place ---- */

static const struct sealed_kv *kv_find(const struct sealed_kv *kv, size_t n,
				       const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(kv[i].key, key))
			return &kv[i];
	return NULL;
}

static int kv_same(const struct sealed_kv *a, size_t na,
		   const struct sealed_kv *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++) {
		const struct sealed_kv *o = kv_find(b, nb, a[i].key);

		if (!o || o->value_len != a[i].value_len ||
		    memcmp(o->value, a[i].value, a[i].value_len))
			return 0;
	}
	return 1;
}

static int str_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static int has_str(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return 1;
	return 0;
}

/* Does what the file now says match what was meant? */
static int secret_same(const struct sealed_secret *a,
		       const struct sealed_secret *b)
{
	if (!str_same(a->name, b->name) ||
	    !str_same(a->namespace, b->namespace) || a->scope != b->scope ||
	    strcmp(a->type ? a->type : "Opaque", b->type ? b->type : "Opaque") ||
	    !kv_same(a->labels, a->nlabels, b->labels, b->nlabels) ||
	    !kv_same(a->annotations, a->nannotations, b->annotations,
		     b->nannotations) ||
	    !kv_same(a->items, a->nitems, b->items, b->nitems) ||
	    a->nrecipients != b->nrecipients)
		return 0;
	for (size_t i = 0; i < a->nrecipients; i++)
		if (!has_str(b->recipients, b->nrecipients, a->recipients[i]))
			return 0;
	return 1;
}

/* A map entry's value that must be a map when present; -1: it is not. */
static int get_map(const struct ynode *parent, const char *key,
		   const struct ynode **out, const char *path, const char *what,
		   struct err *e)
{
	*out = parent ? ynode_get(parent, key) : NULL;
	if (*out && (*out)->type != YNODE_MAP)
		return err_set(e, "%s:%u: %s is not a map; cannot edit it in place",
			       path, (*out)->line, what);
	return 0;
}

/* Does a template map (labels, annotations) lack or differ from kv? */
static int kv_changes(const struct ynode *map, const struct sealed_kv *kv,
		      size_t n, int *inserts)
{
	int changes = 0;

	*inserts = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ynode *v = map ? ynode_get(map, kv[i].key) : NULL;

		if (!v) {
			(*inserts)++;
			changes++;
		} else if (v->type != YNODE_SCALAR || v->len != kv[i].value_len ||
			   memcmp(v->value, kv[i].value, v->len)) {
			changes++;
		}
	}
	return changes;
}

static int cmp_kv_ptr(const void *a, const void *b)
{
	return strcmp((*(const struct sealed_kv *const *)a)->key,
		      (*(const struct sealed_kv *const *)b)->key);
}

/* Set every kv in map: values replaced in place, new keys inserted. */
static int edit_kv(struct yamltree_edits *ed, const struct ynode *map,
		   const struct sealed_kv *kv, size_t n, struct err *e)
{
	const struct sealed_kv **sorted = calloc(n + 1, sizeof(*sorted));
	int ret = 0;

	if (!sorted)
		abort();
	for (size_t i = 0; i < n; i++)
		sorted[i] = &kv[i];
	/* Sorted, so new keys that land between the same neighbours are
	 * written in order. */
	qsort(sorted, n, sizeof(*sorted), cmp_kv_ptr);
	for (size_t i = 0; i < n && ret == 0; i++) {
		const struct sealed_kv *x = sorted[i];
		const struct ynode *v = ynode_get(map, x->key);

		if (memchr(x->value, '\0', x->value_len)) {
			ret = err_set(e, "'%s' holds a NUL byte", x->key);
		} else if (!v) {
			ret = yamltree_edit_map_insert(ed, map, x->key, x->value,
						       0, e);
		} else if (v->type != YNODE_SCALAR || v->len != x->value_len ||
			   memcmp(v->value, x->value, v->len)) {
			ret = yamltree_edit_scalar(ed, v, x->value, e);
		}
	}
	free(sorted);
	return ret;
}

/* spec.recipients made to hold s's recipients: removed lines go, new IDs
 * go in beside their neighbours. */
static int edit_recipients(struct yamltree_edits *ed, const struct ynode *spec,
			   const struct sealed_secret *s, const char *path,
			   struct err *e)
{
	const struct ynode *rs = ynode_get(spec, "recipients");
	struct strbuf flow = STRBUF_INIT;
	int ret = 0;

	if (!rs) {
		if (!s->nrecipients)
			return 0;
		strbuf_addch(&flow, '[');
		for (size_t i = 0; i < s->nrecipients; i++)
			strbuf_addf(&flow, "%s%s", i ? ", " : "", s->recipients[i]);
		strbuf_addch(&flow, ']');
		ret = yamltree_edit_map_insert(ed, spec, "recipients", flow.buf,
					       YAMLTREE_EDIT_RAW, e);
		strbuf_release(&flow);
		return ret;
	}
	if (rs->type != YNODE_SEQ)
		return err_set(e, "%s:%u: spec.recipients is not a list; cannot edit it in place",
			       path, rs->line);
	/* Insertions first: one may go just before a line that goes. */
	for (size_t i = 0; i < s->nrecipients && ret == 0; i++) {
		int found = 0;

		for (size_t j = 0; j < rs->n; j++)
			found |= rs->items[j]->type == YNODE_SCALAR &&
				 !strcmp(rs->items[j]->value, s->recipients[i]);
		if (!found)
			ret = yamltree_edit_seq_insert(ed, rs, s->recipients[i], e);
	}
	for (size_t j = 0; j < rs->n && ret == 0; j++)
		if (rs->items[j]->type != YNODE_SCALAR ||
		    !has_str(s->recipients, s->nrecipients, rs->items[j]->value))
			ret = yamltree_edit_seq_remove(ed, rs, j, e);
	return ret;
}

/*
 * The edits that make one document say s. When a map that must hold new
 * entries is missing, only "key: {}" is added for it (*grew is set): the
 * caller applies, parses again and comes back.
 */
static int edit_secret(struct yamltree_edits *ed, const struct ynode *root,
		       const struct sealed_secret *s, int *grew, struct err *e)
{
	const char *path = ed->t->path;
	const struct ynode *spec, *data, *tmpl = NULL, *meta = NULL;
	const struct ynode *labels = NULL, *annos = NULL, *type = NULL;
	int nl = 0, na = 0, want_type;

	if (get_map(root, "spec", &spec, path, "spec", e) < 0 ||
	    get_map(spec, "encryptedData", &data, path, "spec.encryptedData", e) < 0 ||
	    get_map(spec, "template", &tmpl, path, "spec.template", e) < 0 ||
	    get_map(tmpl, "metadata", &meta, path, "spec.template.metadata", e) < 0 ||
	    get_map(meta, "labels", &labels, path, "spec.template.metadata.labels", e) < 0 ||
	    get_map(meta, "annotations", &annos, path, "spec.template.metadata.annotations", e) < 0)
		return -1;
	if (!spec || !data)
		return err_set(e, "%s:%u: no spec.encryptedData map; cannot edit it in place",
			       path, root->line);
	type = tmpl ? ynode_get(tmpl, "type") : NULL;
	want_type = s->type && (type ? type->type != YNODE_SCALAR ||
				       strcmp(type->value, s->type) :
				       strcmp(s->type, "Opaque") != 0);
	kv_changes(labels, s->labels, s->nlabels, &nl);
	kv_changes(annos, s->annotations, s->nannotations, &na);

	/* Missing maps first, outermost first. */
	if (!tmpl && (want_type || nl || na)) {
		*grew = 1;
		return yamltree_edit_map_insert(ed, spec, "template", "{}",
						YAMLTREE_EDIT_RAW, e);
	}
	if (!meta && (nl || na)) {
		*grew = 1;
		return yamltree_edit_map_insert(ed, tmpl, "metadata", "{}",
						YAMLTREE_EDIT_RAW, e);
	}
	if ((!labels && nl) || (!annos && na)) {
		*grew = 1;
		if (!annos && na &&
		    yamltree_edit_map_insert(ed, meta, "annotations", "{}",
					     YAMLTREE_EDIT_RAW, e) < 0)
			return -1;
		if (!labels && nl &&
		    yamltree_edit_map_insert(ed, meta, "labels", "{}",
					     YAMLTREE_EDIT_RAW, e) < 0)
			return -1;
		return 0;
	}
	if (*grew)
		return 0;	/* another document grew: finish this one next time */

	if (edit_kv(ed, data, s->items, s->nitems, e) < 0 ||
	    edit_recipients(ed, spec, s, path, e) < 0)
		return -1;
	if (want_type) {
		if (type && yamltree_edit_scalar(ed, type, s->type, e) < 0)
			return -1;
		if (!type && yamltree_edit_map_insert(ed, tmpl, "type", s->type,
						      0, e) < 0)
			return -1;
	}
	if ((labels && edit_kv(ed, labels, s->labels, s->nlabels, e) < 0) ||
	    (annos && edit_kv(ed, annos, s->annotations, s->nannotations, e) < 0))
		return -1;
	return 0;
}

int sealed_file_update(struct strbuf *out, const struct sealed_file *f,
		       struct err *e)
{
	struct yamltree *cur = NULL;
	const struct yamltree *t = f->tree;
	struct strbuf text = STRBUF_INIT;
	struct sealed_file check = { 0 };
	int ret = -1;

	/* Each round either adds missing maps (then parses the result and
	 * goes again) or makes every other edit; three maps deep at most. */
	for (int round = 0; round < 5; round++) {
		struct yamltree_edits ed;
		size_t j = 0;
		int grew = 0, r = 0;

		yamltree_edits_init(&ed, t);
		for (size_t d = 0; d < t->ndocs && r == 0; d++) {
			const struct ynode *root = t->docs[d].root;

			if (!root || ynode_is_null(root) ||
			    !sealed_is_sealed_secret(root))
				continue;
			if (j >= f->nsecrets) {
				r = err_set(e, "'%s' changed while it was edited",
					    f->tree->path);
				break;
			}
			r = edit_secret(&ed, root, &f->secrets[j++], &grew, e);
		}
		strbuf_reset(&text);
		if (r == 0)
			r = yamltree_edits_apply(&ed, &text, e);
		yamltree_edits_release(&ed);
		if (r < 0)
			goto out;
		yamltree_free(cur);
		cur = NULL;
		if (yamltree_parse_text(&cur, f->tree->path, text.buf, text.len,
					NULL, e) < 0) {
			err_wrap(e, "the edited '%s' does not parse; nothing was written",
				 f->tree->path);
			goto out;
		}
		t = cur;
		if (!grew)
			break;
	}
	/* The proof: the new text reads back as what was meant. */
	check.tree = cur;
	cur = NULL;
	if (file_secrets(&check, e) < 0) {
		err_wrap(e, "the edited '%s' does not read back; nothing was written",
			 f->tree->path);
		goto out;
	}
	if (check.nsecrets != f->nsecrets || check.nother != f->nother) {
		err_set(e, "editing '%s' in place changed its documents; nothing was written",
			f->tree->path);
		goto out;
	}
	for (size_t i = 0; i < f->nsecrets; i++)
		if (!secret_same(&f->secrets[i], &check.secrets[i])) {
			err_set(e, "editing '%s' in place did not give the intended result; nothing was written",
				f->tree->path);
			goto out;
		}
	if (strbuf_add(out, text.buf, text.len) < 0) {
		err_set(e, "out of memory");
		goto out;
	}
	ret = 0;
out:
	sealed_file_release(&check);
	yamltree_free(cur);
	strbuf_release(&text);
	return ret;
}

/*
 * fsync the folder holding path, so that a rename in it survives a crash.
 * Best effort: the file is already replaced, and some file systems cannot
 * sync a folder.
 */
static void sync_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path))
			  : xstrndup(".", 1);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	free(dir);
	if (fd < 0)
		return;
	(void)fsync(fd);
	close(fd);
}

int sealed_write_atomic(const char *path, const char *buf, size_t len,
			struct err *e)
{
	struct strbuf tmp = STRBUF_INIT;
	struct stat st;
	mode_t mode = 0644;
	size_t off = 0;
	int fd = -1, ret = -1;
	char *real = NULL;

	/* A symlinked file is replaced where it really is; the link stays. */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		real = realpath(path, NULL);
		if (!real)
			return err_errno(e, "cannot resolve '%s'", path);
		path = real;
	}
	if (stat(path, &st) == 0)
		mode = st.st_mode & 07777;
	strbuf_addf(&tmp, "%s.tmp.XXXXXX", path);
	fd = mkstemp(tmp.buf);
	if (fd < 0) {
		err_errno(e, "cannot write '%s'", path);
		goto out;
	}
	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err_errno(e, "cannot write '%s'", path);
			goto out;
		}
		off += (size_t)n;
	}
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		err_errno(e, "cannot write '%s'", path);
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_errno(e, "cannot write '%s'", path);
		goto out;
	}
	fd = -1;
	if (rename(tmp.buf, path) < 0) {
		err_errno(e, "cannot replace '%s'", path);
		goto out;
	}
	ret = 0;
	sync_dir_of(path);
out:
	if (fd >= 0)
		close(fd);
	if (ret < 0)
		unlink(tmp.buf);
	strbuf_release(&tmp);
	free(real);
	return ret;
}

int sealed_recipients_load(const struct monorepo *repo,
			   const char *const *extra, size_t nextra,
			   struct keys_public **out, size_t *n,
			   struct err *e)
{
	struct keys_public *conf = NULL, *all = NULL;
	size_t nconf = 0, count = 0;

	*out = NULL;
	*n = 0;
	if (sealed_config_recipients(repo, &conf, NULL, &nconf, e) < 0)
		return -1;
	all = calloc(nconf + nextra + 1, sizeof(*all));
	if (!all)
		abort();
	for (size_t i = 0; i < nconf + nextra; i++) {
		struct keys_public k;
		int dup = 0;

		if (i < nconf) {
			k = conf[i];
		} else if (keys_public_load(&k, extra[i - nconf], e) < 0) {
			free(conf);
			free(all);
			return -1;
		}
		for (size_t j = 0; j < count; j++)
			dup |= !memcmp(all[j].id, k.id, KEYS_ID_BYTES);
		if (!dup)
			all[count++] = k;
	}
	free(conf);
	*out = all;
	*n = count;
	return 0;
}

int sealed_env_name_ok(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}
