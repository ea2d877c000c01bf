/*
 * Opened Secrets rendered, SealedSecrets rekeyed and checked: what the
 * commands and the controller share (see secret.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "secret.h"

static int secret_cmp_kv(const void *a, const void *b)
{
	return strcmp(((const struct sealed_kv *)a)->key,
		      ((const struct sealed_kv *)b)->key);
}

void secret_base64(struct strbuf *out, const void *v, size_t len)
{
	size_t need = sodium_base64_ENCODED_LEN(len,
						sodium_base64_VARIANT_ORIGINAL);

	strbuf_grow(out, need);
	sodium_bin2base64(out->buf + out->len, need, (const unsigned char *)v,
			  len, sodium_base64_VARIANT_ORIGINAL);
	out->len += need - 1;
}

static void secret_yaml_map(struct strbuf *out, const char *name,
			    struct sealed_kv *kv, size_t n)
{
	if (!n)
		return;
	qsort(kv, n, sizeof(*kv), secret_cmp_kv);
	strbuf_addf(out, "  %s:\n", name);
	for (size_t i = 0; i < n; i++) {
		strbuf_addstr(out, "    ");
		sealed_yaml_scalar(out, kv[i].key, strlen(kv[i].key));
		strbuf_addstr(out, ": ");
		sealed_yaml_scalar(out, kv[i].value, kv[i].value_len);
		strbuf_addch(out, '\n');
	}
}

void secret_yaml(struct strbuf *out, struct sealed_plain *p)
{
	strbuf_addstr(out, "apiVersion: v1\nkind: Secret\nmetadata:\n");
	secret_yaml_map(out, "annotations", p->annotations, p->nannotations);
	secret_yaml_map(out, "labels", p->labels, p->nlabels);
	strbuf_addstr(out, "  name: ");
	sealed_yaml_scalar(out, p->name, strlen(p->name));
	if (p->namespace) {
		strbuf_addstr(out, "\n  namespace: ");
		sealed_yaml_scalar(out, p->namespace, strlen(p->namespace));
	}
	strbuf_addstr(out, "\ntype: ");
	sealed_yaml_scalar(out, p->type, strlen(p->type));
	strbuf_addstr(out, p->nitems ? "\ndata:\n" : "\ndata: {}\n");
	if (p->nitems > 1)
		qsort(p->items, p->nitems, sizeof(*p->items), secret_cmp_kv);
	for (size_t i = 0; i < p->nitems; i++) {
		strbuf_addstr(out, "  ");
		sealed_yaml_scalar(out, p->items[i].key, strlen(p->items[i].key));
		strbuf_addstr(out, ": ");
		secret_base64(out, p->items[i].value, p->items[i].value_len);
		strbuf_addch(out, '\n');
	}
}

static json_t *secret_json_map(const struct sealed_kv *kv, size_t n)
{
	json_t *o = json_object();

	for (size_t i = 0; i < n; i++)
		json_object_set_new(o, kv[i].key, json_string(kv[i].value));
	return o;
}

json_t *secret_json(const struct sealed_plain *p)
{
	json_t *meta = json_pack("{s:s}", "name", p->name);
	json_t *data = json_object();
	struct strbuf sb = STRBUF_INIT;

	if (p->namespace)
		json_object_set_new(meta, "namespace", json_string(p->namespace));
	if (p->nlabels)
		json_object_set_new(meta, "labels",
				    secret_json_map(p->labels, p->nlabels));
	if (p->nannotations)
		json_object_set_new(meta, "annotations",
				    secret_json_map(p->annotations,
						    p->nannotations));
	for (size_t i = 0; i < p->nitems; i++) {
		strbuf_reset(&sb);
		secret_base64(&sb, p->items[i].value, p->items[i].value_len);
		json_object_set_new(data, p->items[i].key, json_string(sb.buf));
	}
	if (sb.buf)
		sodium_memzero(sb.buf, sb.len);
	strbuf_release(&sb);
	return json_pack("{s:s, s:s, s:o, s:s, s:o}", "apiVersion", "v1",
			 "kind", "Secret", "metadata", meta, "type", p->type,
			 "data", data);
}

/* A value as one shell word: bare when safe, else in single quotes. */
static void secret_env_quote(struct strbuf *out, const char *v, size_t len)
{
	int bare = 1;

	for (size_t i = 0; i < len && bare; i++)
		bare = strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			      "0123456789_./:@%+,=-", v[i]) && v[i];
	if (bare && len) {
		strbuf_add(out, v, len);
		return;
	}
	strbuf_addch(out, '\'');
	for (size_t i = 0; i < len; i++) {
		if (v[i] == '\'')
			strbuf_addstr(out, "'\\''");
		else
			strbuf_addch(out, v[i]);
	}
	strbuf_addch(out, '\'');
}

int secret_env(struct strbuf *out, const struct sealed_plain *p,
	       struct err *e)
{
	char label[512];

	snprintf(label, sizeof(label), "%s%s%s", p->namespace ? p->namespace : "",
		 p->namespace ? "/" : "", p->name);
	for (size_t i = 0; i < p->nitems; i++) {
		if (!sealed_env_name_ok(p->items[i].key))
			return err_set(e, "cannot print '%s' item '%s' as env: not a valid variable name",
				       label, p->items[i].key);
		if (memchr(p->items[i].value, '\0', p->items[i].value_len))
			return err_set(e, "cannot print '%s' item '%s' as env: the value holds a NUL byte",
				       label, p->items[i].key);
		strbuf_addf(out, "%s=", p->items[i].key);
		secret_env_quote(out, p->items[i].value, p->items[i].value_len);
		strbuf_addch(out, '\n');
	}
	return 0;
}

/* ---- rekey ---- */

static const struct keys_public *secret_pool_find(const struct keys_public *pool,
						  size_t n, const char *hex)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(pool[i].id_hex, hex))
			return &pool[i];
	return NULL;
}

static int secret_has_id(char *const *ids, size_t n, const char *hex)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ids[i], hex))
			return 1;
	return 0;
}

static char *secret_strdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		abort();
	return d;
}

int secret_recipients(const struct sealed_secret *s, char ***out, size_t *n,
		      struct err *e)
{
	struct sealed_item it;

	*out = calloc(SEALED_MAX_RECIPIENTS + 1, sizeof(char *));
	*n = 0;
	if (!*out)
		abort();
	if (s->nrecipients) {
		for (size_t i = 0; i < s->nrecipients; i++)
			(*out)[(*n)++] = secret_strdup(s->recipients[i]);
		return 0;
	}
	if (!s->nitems)
		return 0;
	if (sealed_item_decode(&it, s->items[0].value, s->items[0].value_len,
			       e) < 0)
		return err_wrap(e, "item '%s'", s->items[0].key);
	for (size_t i = 0; i < it.nwraps; i++) {
		char hex[KEYS_ID_HEX];

		sealed_item_wrap_id(&it, i, hex);
		(*out)[(*n)++] = secret_strdup(hex);
	}
	sealed_item_release(&it);
	return 0;
}

void secret_ids_free(char **ids, size_t n)
{
	for (size_t i = 0; ids && i < n; i++)
		free(ids[i]);
	free(ids);
}

int secret_rekey(struct sealed_secret *s, const struct keys_secret *k,
		 const struct keys_public *pool, size_t npool,
		 const struct keys_public *add, size_t nadd,
		 char *const *remove, size_t nremove, struct err *e)
{
	struct keys_public *next = NULL;
	char **cur = NULL, label[512];
	size_t ncur = 0, nnext = 0;
	int removing = 0, adding = 0, ret = -1;
	struct strbuf item = STRBUF_INIT;

	sealed_secret_label(s, label, sizeof(label));
	if (secret_recipients(s, &cur, &ncur, e) < 0)
		goto out;
	for (size_t i = 0; i < nremove; i++) {
		if (!secret_has_id(cur, ncur, remove[i])) {
			err_set(e, "key ID %s is not a recipient of '%s'",
				remove[i], label);
			goto out;
		}
		removing = 1;
	}
	next = calloc(ncur + nadd + 1, sizeof(*next));
	if (!next)
		abort();
	for (size_t i = 0; i < ncur; i++) {
		const struct keys_public *p;

		if (secret_has_id(remove, nremove, cur[i]))
			continue;
		p = secret_pool_find(pool, npool, cur[i]);
		if (!p) {
			err_set(e, "no public key for recipient key ID %s of '%s': pass its .pub with --add-recipient or list it in saasctl.yaml",
				cur[i], label);
			goto out;
		}
		next[nnext++] = *p;
	}
	for (size_t i = 0; i < nadd; i++) {
		if (secret_has_id(cur, ncur, add[i].id_hex) &&
		    !secret_has_id(remove, nremove, add[i].id_hex))
			continue;
		if (secret_pool_find(next, nnext, add[i].id_hex))
			continue;
		next[nnext++] = add[i];
		adding = 1;
	}
	if (!nnext) {
		err_set(e, "cannot remove every recipient of '%s'", label);
		goto out;
	}
	if (!removing && !adding) {
		ret = 0;
		goto out;
	}
	for (size_t i = 0; i < s->nitems; i++) {
		struct sealed_binding b;
		struct sealed_item it;
		unsigned char *v = NULL;
		size_t len = 0;
		int r;

		sealed_secret_binding(s, s->items[i].key, &b);
		if (sealed_item_decode(&it, s->items[i].value,
				       s->items[i].value_len, e) < 0) {
			err_wrap(e, "cannot rekey '%s' item '%s'", label,
				 s->items[i].key);
			goto out;
		}
		strbuf_reset(&item);
		if (removing) {
			/* A removed recipient may have kept the item keys:
			 * draw new ones, so the value needs re-encrypting. */
			r = sealed_item_open(&it, &b, k, &v, &len, e);
			if (r == 0)
				r = sealed_item_seal(&item, &b, v, len, next,
						     nnext, e);
			sealed_value_free(v, len);
		} else {
			r = sealed_item_rewrap(&item, &it, &b, k, next, nnext,
					       e);
		}
		sealed_item_release(&it);
		if (r < 0) {
			err_wrap(e, "cannot rekey '%s' item '%s'", label,
				 s->items[i].key);
			goto out;
		}
		log_debug("rekeyed '%s' item '%s' for %zu recipients", label,
			  s->items[i].key, nnext);
		sealed_secret_set_item(s, s->items[i].key,
				       strlen(s->items[i].key), item.buf,
				       item.len);
	}
	sealed_secret_set_recipients(s, next, nnext);
	ret = 1;
out:
	strbuf_release(&item);
	secret_ids_free(cur, ncur);
	free(next);
	return ret;
}

/* ---- verify ---- */

size_t secret_check(const struct sealed_secret *s, const struct keys_secret *k,
		    void (*problem)(void *ud, unsigned line, const char *item,
				    const char *msg),
		    void *ud)
{
	size_t n = 0;

	if (!s->nrecipients) {
		problem(ud, s->line, NULL, "spec.recipients is empty");
		n++;
	}
	if (!s->nitems) {
		problem(ud, s->line, NULL, "spec.encryptedData is empty");
		n++;
	}
	for (size_t i = 0; i < s->nitems; i++) {
		const struct sealed_kv *kv = &s->items[i];
		struct sealed_item it;
		struct err e = { "" };
		struct strbuf ids = STRBUF_INIT, msg = STRBUF_INIT;
		int same;

		if (sealed_item_decode(&it, kv->value, kv->value_len, &e) < 0) {
			problem(ud, kv->line, kv->key, e.msg);
			n++;
			continue;
		}
		same = it.nwraps == s->nrecipients;
		for (size_t w = 0; w < it.nwraps; w++) {
			char hex[KEYS_ID_HEX];

			sealed_item_wrap_id(&it, w, hex);
			strbuf_addf(&ids, "%s%s", w ? ", " : "", hex);
			same &= secret_has_id(s->recipients, s->nrecipients,
					      hex);
		}
		if (!same && s->nrecipients) {
			strbuf_addf(&msg, "sealed to %s, which is not spec.recipients",
				    ids.buf);
			problem(ud, kv->line, kv->key, msg.buf);
			n++;
		}
		strbuf_release(&ids);
		if (k) {
			struct sealed_binding b;
			unsigned char *val = NULL;
			size_t len = 0;

			sealed_secret_binding(s, kv->key, &b);
			if (sealed_item_open(&it, &b, k, &val, &len, &e) < 0) {
				strbuf_reset(&msg);
				strbuf_addf(&msg, "cannot open: %s", e.msg);
				problem(ud, kv->line, kv->key, msg.buf);
				n++;
			}
			sealed_value_free(val, len);
		}
		strbuf_release(&msg);
		sealed_item_release(&it);
	}
	return n;
}

const struct keys_secret *secret_pick_key(const struct sealed_secret *s,
					  struct keys_secret *const *keys,
					  size_t nkeys, struct err *e)
{
	char **ids = NULL;
	size_t nids = 0;
	const struct keys_secret *found = NULL;
	struct strbuf list = STRBUF_INIT;

	if (secret_recipients(s, &ids, &nids, e) < 0)
		return NULL;
	for (size_t i = 0; i < nids && !found; i++)
		for (size_t j = 0; j < nkeys && !found; j++)
			if (!strcmp(ids[i], keys[j]->pub.id_hex))
				found = keys[j];
	if (!found) {
		for (size_t i = 0; i < nids; i++)
			strbuf_addf(&list, "%s%s", i ? ", " : "", ids[i]);
		err_set(e, "no key for recipient%s %s", nids == 1 ? "" : "s",
			nids ? list.buf : "(none)");
	}
	strbuf_release(&list);
	secret_ids_free(ids, nids);
	return found;
}
