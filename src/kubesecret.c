/*
 * Secrets written to the cluster with server-side apply, only when they
 * changed (see kubesecret.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "http.h"
#include "kubesecret.h"
#include "log.h"
#include "secret.h"
#include "yamltree.h"

#define KUBESECRET_HASH_BYTES 16

/* The hash key: from the secret key, never the secret key itself. */
static void kubesecret_hash_key(unsigned char out[32],
				const struct keys_secret *k)
{
	static const char ctx[] = "saasctl.dev/sealed-hash/v1";

	crypto_generichash(out, 32, (const unsigned char *)ctx, sizeof(ctx) - 1,
			   k->sk, KEYS_SECRET_BYTES);
}

static void kubesecret_lp(crypto_generichash_state *st, const void *s,
			  size_t len)
{
	unsigned char n[8];

	for (int i = 0; i < 8; i++)
		n[i] = (unsigned char)((unsigned long long)len >> (8 * i));
	crypto_generichash_update(st, n, sizeof(n));
	crypto_generichash_update(st, s, len);
}

static void kubesecret_hex(char *out, const unsigned char *h)
{
	sodium_bin2hex(out, 2 * KUBESECRET_HASH_BYTES + 1, h,
		       KUBESECRET_HASH_BYTES);
}

static int kubesecret_cmp_kv(const void *a, const void *b)
{
	return strcmp(((const struct sealed_kv *)a)->key,
		      ((const struct sealed_kv *)b)->key);
}

/* The kvs sorted by key, as a copy of the array (not of the strings). */
static struct sealed_kv *kubesecret_sorted(const struct sealed_kv *kv, size_t n)
{
	struct sealed_kv *s = calloc(n + 1, sizeof(*s));

	if (!s)
		abort();
	if (n)
		memcpy(s, kv, n * sizeof(*s));
	qsort(s, n, sizeof(*s), kubesecret_cmp_kv);
	return s;
}

static json_t *kubesecret_hashes(const struct sealed_plain *p, const char *ns,
				 const struct keys_secret *k,
				 const struct kubesecret_owner *owner)
{
	unsigned char key[32], h[KUBESECRET_HASH_BYTES];
	char hex[2 * KUBESECRET_HASH_BYTES + 1];
	crypto_generichash_state st;
	json_t *items = json_object();
	struct sealed_kv *sorted;

	kubesecret_hash_key(key, k);
	for (size_t i = 0; i < p->nitems; i++) {
		crypto_generichash_init(&st, key, sizeof(key), sizeof(h));
		kubesecret_lp(&st, ns, strlen(ns));
		kubesecret_lp(&st, p->name, strlen(p->name));
		kubesecret_lp(&st, p->items[i].key, strlen(p->items[i].key));
		kubesecret_lp(&st, p->items[i].value, p->items[i].value_len);
		crypto_generichash_final(&st, h, sizeof(h));
		kubesecret_hex(hex, h);
		json_object_set_new(items, p->items[i].key, json_string(hex));
	}
	crypto_generichash_init(&st, key, sizeof(key), sizeof(h));
	kubesecret_lp(&st, p->type ? p->type : "Opaque",
		      strlen(p->type ? p->type : "Opaque"));
	sorted = kubesecret_sorted(p->labels, p->nlabels);
	kubesecret_lp(&st, "labels", 6);
	for (size_t i = 0; i < p->nlabels; i++) {
		kubesecret_lp(&st, sorted[i].key, strlen(sorted[i].key));
		kubesecret_lp(&st, sorted[i].value, sorted[i].value_len);
	}
	free(sorted);
	sorted = kubesecret_sorted(p->annotations, p->nannotations);
	kubesecret_lp(&st, "annotations", 11);
	for (size_t i = 0; i < p->nannotations; i++) {
		kubesecret_lp(&st, sorted[i].key, strlen(sorted[i].key));
		kubesecret_lp(&st, sorted[i].value, sorted[i].value_len);
	}
	free(sorted);
	kubesecret_lp(&st, "owner", 5);
	if (owner)
		kubesecret_lp(&st, owner->uid, strlen(owner->uid));
	crypto_generichash_final(&st, h, sizeof(h));
	kubesecret_hex(hex, h);
	sodium_memzero(key, sizeof(key));
	return json_pack("{s:i, s:s, s:o}", "v", 1, "metadata", hex, "items",
			 items);
}

int kubesecret_hash(struct strbuf *out, const struct sealed_plain *p,
		    const char *ns, const struct keys_secret *k,
		    const struct kubesecret_owner *owner)
{
	json_t *h = kubesecret_hashes(p, ns, k, owner);
	char *s = json_dumps(h, JSON_COMPACT | JSON_SORT_KEYS);

	json_decref(h);
	if (!s)
		abort();
	strbuf_addstr(out, s);
	free(s);
	return 0;
}

static char *kubesecret_xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		abort();
	return d;
}

static void kubesecret_push(char ***list, size_t *n, const char *s)
{
	*list = realloc(*list, (*n + 1) * sizeof(char *));
	if (!*list)
		abort();
	(*list)[(*n)++] = kubesecret_xstrdup(s);
}

void kubesecret_plan_release(struct kubesecret_plan *plan)
{
	for (size_t i = 0; i < plan->nadded; i++)
		free(plan->added[i]);
	for (size_t i = 0; i < plan->nchanged; i++)
		free(plan->changed[i]);
	for (size_t i = 0; i < plan->nremoved; i++)
		free(plan->removed[i]);
	free(plan->added);
	free(plan->changed);
	free(plan->removed);
	memset(plan, 0, sizeof(*plan));
}

static int kubesecret_path(struct strbuf *out, const char *ns, const char *name)
{
	strbuf_addstr(out, "/api/v1/namespaces/");
	http_escape(out, ns);
	strbuf_addstr(out, "/secrets/");
	return http_escape(out, name);
}

/* The values of a Secret the API sent us, wiped before jansson frees them. */
static void kubesecret_wipe_data(json_t *obj)
{
	json_t *data = json_object_get(obj, "data"), *v;
	const char *k;

	json_object_foreach(data, k, v) {
		if (json_is_string(v))
			sodium_memzero((char *)json_string_value(v),
				       json_string_length(v));
	}
}

int kubesecret_plan(struct kube_client *kc, const struct sealed_plain *p,
		    const char *ns, const struct keys_secret *k,
		    const struct kubesecret_owner *owner,
		    struct kubesecret_plan *plan, long *status,
		    struct err *e)
{
	struct strbuf path = STRBUF_INIT;
	json_t *cur = NULL, *want = NULL, *have = NULL, *hitems, *witems, *v;
	const char *ann, *key;
	int ret = -1;

	memset(plan, 0, sizeof(*plan));
	kubesecret_path(&path, ns, p->name);
	want = kubesecret_hashes(p, ns, k, owner);
	witems = json_object_get(want, "items");
	if (kube_get_json(kc, path.buf, &cur, status, e) < 0) {
		if (*status != 404)
			goto out;
		plan->action = KUBESECRET_CREATE;
		for (size_t i = 0; i < p->nitems; i++)
			kubesecret_push(&plan->added, &plan->nadded,
					p->items[i].key);
		ret = 0;
		goto out;
	}
	*status = 200;
	ann = json_string_value(json_object_get(json_object_get(
		json_object_get(cur, "metadata"), "annotations"),
		KUBESECRET_HASH_ANNOTATION));
	have = ann ? json_loads(ann, 0, NULL) : NULL;
	hitems = json_object_get(have, "items");
	json_object_foreach(witems, key, v) {
		json_t *old = json_object_get(hitems, key);

		if (!old && !json_object_get(json_object_get(cur, "data"), key))
			kubesecret_push(&plan->added, &plan->nadded, key);
		else if (!json_equal(old, v))
			kubesecret_push(&plan->changed, &plan->nchanged, key);
	}
	json_object_foreach(hitems, key, v) {
		if (!json_object_get(witems, key))
			kubesecret_push(&plan->removed, &plan->nremoved, key);
	}
	plan->metadata = !json_equal(json_object_get(have, "metadata"),
				     json_object_get(want, "metadata"));
	plan->action = plan->nadded || plan->nchanged || plan->nremoved ||
		plan->metadata ? KUBESECRET_UPDATE : KUBESECRET_UNCHANGED;
	ret = 0;
out:
	if (cur)
		kubesecret_wipe_data(cur);
	json_decref(cur);
	json_decref(want);
	json_decref(have);
	strbuf_release(&path);
	return ret;
}

static json_t *kubesecret_map(const struct sealed_kv *kv, size_t n)
{
	json_t *o = json_object();

	for (size_t i = 0; i < n; i++)
		json_object_set_new(o, kv[i].key, json_string(kv[i].value));
	return o;
}

/* A JSON string (quoted, escaped) of s. */
static void kubesecret_json_str(struct strbuf *out, const char *s)
{
	json_t *j = json_string(s);
	char *d = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	if (!d)
		abort();
	strbuf_addstr(out, d);
	free(d);
	json_decref(j);
}

int kubesecret_apply(struct kube_client *kc, const struct sealed_plain *p,
		     const char *ns, const struct keys_secret *k,
		     const struct kubesecret_owner *owner, long *status,
		     struct err *e)
{
	struct strbuf path = STRBUF_INIT, body = STRBUF_INIT, hash = STRBUF_INIT;
	json_t *meta, *doc, *ann, *answer = NULL;
	char *head = NULL;
	size_t need = 256;
	int ret;

	meta = json_pack("{s:s, s:s}", "name", p->name, "namespace", ns);
	if (p->nlabels)
		json_object_set_new(meta, "labels",
				    kubesecret_map(p->labels, p->nlabels));
	ann = kubesecret_map(p->annotations, p->nannotations);
	kubesecret_hash(&hash, p, ns, k, owner);
	json_object_set_new(ann, KUBESECRET_HASH_ANNOTATION,
			    json_string(hash.buf));
	json_object_set_new(meta, "annotations", ann);
	if (owner)
		json_object_set_new(meta, "ownerReferences", json_pack(
			"[{s:s, s:s, s:s, s:s, s:b, s:b}]",
			"apiVersion", SEALED_API_VERSION, "kind", SEALED_KIND,
			"name", owner->name, "uid", owner->uid,
			"controller", 1, "blockOwnerDeletion", 1));
	doc = json_pack("{s:s, s:s, s:o, s:s}", "apiVersion", "v1", "kind",
			"Secret", "metadata", meta, "type",
			p->type ? p->type : "Opaque");
	head = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(doc);
	if (!head)
		abort();
	/* The values go in by hand, into a buffer sized once, so that no
	 * copy of them is left behind in freed memory. */
	need += strlen(head);
	for (size_t i = 0; i < p->nitems; i++)
		need += 8 + 2 * strlen(p->items[i].key) +
			sodium_base64_ENCODED_LEN(p->items[i].value_len,
						  sodium_base64_VARIANT_ORIGINAL);
	strbuf_grow(&body, need);
	strbuf_add(&body, head, strlen(head) - 1);
	strbuf_addstr(&body, ",\"data\":{");
	for (size_t i = 0; i < p->nitems; i++) {
		if (i)
			strbuf_addch(&body, ',');
		kubesecret_json_str(&body, p->items[i].key);
		strbuf_addstr(&body, ":\"");
		secret_base64(&body, p->items[i].value, p->items[i].value_len);
		strbuf_addch(&body, '"');
	}
	strbuf_addstr(&body, "}}");
	kubesecret_path(&path, ns, p->name);
	strbuf_addstr(&path, "?fieldManager=" KUBESECRET_MANAGER "&force=true");
	ret = kube_request_json(kc, "PATCH", path.buf,
				"application/apply-patch+yaml", body.buf,
				body.len, &answer, status, e);
	if (answer)
		kubesecret_wipe_data(answer);
	json_decref(answer);
	sodium_memzero(body.buf, body.len);
	strbuf_release(&body);
	strbuf_release(&path);
	strbuf_release(&hash);
	free(head);
	return ret;
}

int kubesecret_from_object(struct sealed_secret *out, json_t *obj,
			   struct err *e)
{
	struct yamltree *t = NULL;
	char *text = json_dumps(obj, JSON_COMPACT);
	const char *name = json_string_value(json_object_get(
		json_object_get(obj, "metadata"), "name"));
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (!text)
		return err_set(e, "a SealedSecret object that is not JSON");
	/* JSON is YAML: one reader for the monorepo's files and the API's
	 * objects. */
	if (yamltree_parse_text(&t, name ? name : "<object>", text,
				strlen(text), NULL, e) == 0 && t->ndocs == 1 &&
	    t->docs[0].root)
		ret = sealed_secret_from_node(out, t->docs[0].root,
					      name ? name : "<object>", e);
	else if (!*e->msg)
		err_set(e, "an empty SealedSecret object");
	yamltree_free(t);
	free(text);
	return ret;
}

int kubesecret_install_key(struct kube_client *kc, const char *ns,
			   const struct keys_secret *k, struct err *e)
{
	struct strbuf path = STRBUF_INIT, body = STRBUF_INIT;
	char *line = NULL;
	size_t len = 0;
	int ret = -1;

	if (keys_secret_format_plain(&line, &len, k, e) < 0)
		return -1;
	strbuf_grow(&body, 1024);
	strbuf_addstr(&body, "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"" KUBESECRET_KEY_SECRET "\",\"namespace\":");
	kubesecret_json_str(&body, ns);
	strbuf_addstr(&body, ",\"labels\":{\"app.kubernetes.io/name\":\"saasctl-secrets\"}},\"type\":\"Opaque\",\"data\":{\"");
	strbuf_addf(&body, "%s.key\":\"", k->pub.id_hex);
	secret_base64(&body, line, len);
	strbuf_addstr(&body, "\"}}");
	strbuf_addstr(&path, "/api/v1/namespaces/");
	http_escape(&path, ns);
	strbuf_addf(&path, "/secrets/" KUBESECRET_KEY_SECRET "?fieldManager=saasctl-key-%s&force=true",
		    k->pub.id_hex);
	ret = kube_request_json(kc, "PATCH", path.buf,
				"application/apply-patch+yaml", body.buf,
				body.len, NULL, NULL, e);
	if (ret < 0)
		err_wrap(e, "cannot load key ID %s into Secret '%s/%s'",
			 k->pub.id_hex, ns, KUBESECRET_KEY_SECRET);
	sodium_memzero(body.buf, body.len);
	strbuf_release(&body);
	strbuf_release(&path);
	keys_passphrase_free(line, len);
	return ret;
}
