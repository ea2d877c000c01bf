/*
 * ClickHouse backups and restores: see backup.h and saasctl-backup(5).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "backup.h"
#include "http.h"
#include "log.h"

/* What this version writes: /2, or /3 with "shards", with checksums of
 * version 2 (CLICKHOUSE_CHECKSUM_V2). */
#define MANIFEST_FORMAT "saasctl-backup/4"
#define MANIFEST_FORMAT_V1 "saasctl-backup/1"
#define MANIFEST_FORMAT_V2 "saasctl-backup/2"
#define MANIFEST_FORMAT_SHARDS "saasctl-backup/3"	/* /2 with "shards" */
#define HASH_BYTES 32
#define MANIFEST_MAX (256u << 20)

/* ---------------------------------------------------------------- */
/* names and keys                                                    */

int backup_escape_name(struct strbuf *out, const char *name)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
			    (*p == '.' && p != (const unsigned char *)name);

		if (plain ? strbuf_addch(out, (char)*p) < 0 :
		    strbuf_addf(out, "%%%c%c", hex[*p >> 4], hex[*p & 15]) < 0)
			return -1;
	}
	return 0;
}

/* A string member of a JSON object, or NULL when absent or not a string. */
static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

const char *backup_plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* prefix: "" or a shard's "shard-N/" */
static char *obj_key(const char *prefix, const char *fmt_kind, const char *db,
		     const char *table, const char *partition, int enc)
{
	struct strbuf k = STRBUF_INIT;

	strbuf_init(&k, 0);
	strbuf_addf(&k, "%s%s/", prefix, fmt_kind);
	backup_escape_name(&k, db);
	strbuf_addch(&k, '/');
	backup_escape_name(&k, table);
	if (partition) {
		strbuf_addch(&k, '/');
		backup_escape_name(&k, partition);
		strbuf_addstr(&k, ".native.lz4");
	} else {
		strbuf_addstr(&k, ".sql");
	}
	if (enc)
		strbuf_addstr(&k, ".enc");
	return strbuf_detach(&k, NULL);
}

static char *full_key(const char *id, const char *rel)
{
	char *k = NULL;

	if (asprintf(&k, "%s/%s", id, rel) < 0)
		abort();
	return k;
}

static void rfc3339(time_t t, char out[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void now_rfc3339(char out[32])
{
	rfc3339(time(NULL), out);
}

static int parse_rfc3339(const char *s, int64_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if (!s || !(end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) ||
	    (*end != 'Z' && *end != '\0'))
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

/* Every manifest version is read: /1 is /2 without references, /3 is /2
 * with its tables in "shards", /4 is either with checksums of version 2. */
static int manifest_format_ok(json_t *m)
{
	const char *f = jstr(m, "format");

	return f && (!strcmp(f, MANIFEST_FORMAT) || !strcmp(f, MANIFEST_FORMAT_V1) ||
		     !strcmp(f, MANIFEST_FORMAT_V2) ||
		     !strcmp(f, MANIFEST_FORMAT_SHARDS));
}

/* How a manifest's partition checksums were computed. */
static int manifest_checksum(json_t *m)
{
	return !strcmp(jstr(m, "format") ?: "", MANIFEST_FORMAT) ?
		CLICKHOUSE_CHECKSUM_V2 : CLICKHOUSE_CHECKSUM_V1;
}

/* Are a manifest's tables in "shards" (/3, or /4 with "shards")? */
static int manifest_sharded(json_t *m)
{
	return json_object_get(m, "shards") &&
		(!strcmp(jstr(m, "format") ?: "", MANIFEST_FORMAT_SHARDS) ||
		 !strcmp(jstr(m, "format") ?: "", MANIFEST_FORMAT));
}

/* How many shards a manifest has: 1 for a backup of one server. */
static size_t manifest_nshards(json_t *m)
{
	json_t *sh = json_object_get(m, "shards");

	return json_is_array(sh) && json_array_size(sh) ? json_array_size(sh) : 1;
}

/* The tables of shard i (0-based) of a manifest. */
static json_t *manifest_shard_tables(json_t *m, size_t i)
{
	json_t *sh = json_object_get(m, "shards");

	if (json_is_array(sh) && json_array_size(sh))
		return json_object_get(json_array_get(sh, i), "tables");
	return i ? NULL : json_object_get(m, "tables");
}

/* The backup that holds an object of backup id: itself, or the one its
 * "backup" member names (always the holder itself: chains are flat). */
static const char *obj_holder(json_t *obj, const char *id)
{
	const char *h = jstr(obj, "backup");

	return h && *h ? h : id;
}

/*
 * The checks of backup_manifest_parse(), each on one part of the manifest:
 * 0, or -1 with e naming the part (path: "tables[3].partitions[0]").
 */
static int mf_fail(struct err *e, const char *path, const char *what)
{
	return err_set(e, "%s %s", path, what);
}

/* A count or size: an integer >= 0, or (checksums) its decimal string. */
static int mf_u64(json_t *o, const char *key, int required, int string_ok,
		  const char *path, struct err *e)
{
	json_t *v = json_object_get(o, key);
	const char *s = json_string_value(v);

	if (!v || json_is_null(v))
		return required ? err_set(e, "%s has no '%s'", path, key) : 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0)
		return 0;
	if (string_ok && s && *s && strlen(s) <= 20 &&
	    strspn(s, "0123456789") == strlen(s))
		return 0;
	return err_set(e, "%s: '%s' is not a count", path, key);
}

static int mf_str(json_t *o, const char *key, int required, const char *path,
		  struct err *e)
{
	json_t *v = json_object_get(o, key);

	if (!v || (!required && json_is_null(v)))
		return required ? err_set(e, "%s has no '%s'", path, key) : 0;
	if (!json_is_string(v))
		return err_set(e, "%s: '%s' is not a string", path, key);
	return 0;
}

/* A backup ID as the readers join it to keys: one key component. */
static int mf_id(const char *id)
{
	struct err ke;

	return id && *id && !strchr(id, '/') && store_key_check(id, &ke) == 0;
}

/* A key relative to a backup's folder (the store checks it again). */
static int mf_key(json_t *o, const char *key, const char *path, struct err *e)
{
	const char *k = jstr(o, key);
	struct err ke;

	if (mf_str(o, key, 1, path, e) < 0)
		return -1;
	if (store_key_check(k, &ke) < 0)
		return err_set(e, "%s: '%s': %s", path, key, ke.msg);
	return 0;
}

static int mf_object(json_t *obj, const char *path, struct err *e)
{
	const char *h = jstr(obj, "blake2b"), *holder;

	if (!json_is_object(obj))
		return mf_fail(e, path, "is not an object");
	if (mf_key(obj, "key", path, e) < 0 ||
	    mf_u64(obj, "size", 1, 0, path, e) < 0 ||
	    mf_str(obj, "blake2b", 1, path, e) < 0 ||
	    mf_str(obj, "backup", 0, path, e) < 0)
		return -1;
	if (strlen(h) != 2 * HASH_BYTES ||
	    strspn(h, "0123456789abcdef") != 2 * HASH_BYTES)
		return err_set(e, "%s: 'blake2b' is not %d hex digits", path,
			       2 * HASH_BYTES);
	holder = jstr(obj, "backup");
	if (holder && !mf_id(holder))
		return err_set(e, "%s: 'backup' is not a backup ID", path);
	return 0;
}

/* An "encryption" member: null (plain) or the recipients' sealed keys. */
static int mf_encryption(json_t *enc, const char *path, struct err *e)
{
	json_t *rc, *rcs = json_object_get(enc, "recipients");
	char sub[256];
	size_t i;

	if (!enc || json_is_null(enc))
		return 0;
	if (!json_is_object(enc))
		return mf_fail(e, path, "is neither null nor an object");
	if (!json_is_array(rcs))
		return err_set(e, "%s has no 'recipients' list", path);
	json_array_foreach(rcs, i, rc) {
		snprintf(sub, sizeof(sub), "%.200s.recipients[%zu]", path, i);
		if (!json_is_object(rc))
			return mf_fail(e, sub, "is not an object");
		if (mf_str(rc, "key_id", 1, sub, e) < 0 ||
		    mf_str(rc, "data_key", 1, sub, e) < 0)
			return -1;
	}
	return 0;
}

static int mf_table(json_t *jt, const char *path, struct err *e)
{
	json_t *parts = json_object_get(jt, "partitions"), *jp;
	char sub[256];
	size_t i;

	if (!json_is_object(jt))
		return mf_fail(e, path, "is not an object");
	if (mf_str(jt, "database", 1, path, e) < 0 ||
	    mf_str(jt, "name", 1, path, e) < 0 ||
	    mf_str(jt, "engine", 1, path, e) < 0 ||
	    mf_str(jt, "kind", 1, path, e) < 0 ||
	    mf_key(jt, "schema", path, e) < 0 ||
	    mf_str(jt, "inner_of", 0, path, e) < 0)
		return -1;
	if (!*jstr(jt, "database") || !*jstr(jt, "name"))
		return mf_fail(e, path, "has an empty database or table name");
	if (parts && !json_is_null(parts) && !json_is_array(parts))
		return err_set(e, "%s: 'partitions' is not a list", path);
	json_array_foreach(parts, i, jp) {
		snprintf(sub, sizeof(sub), "%.100s.partitions[%zu]", path, i);
		if (!json_is_object(jp))
			return mf_fail(e, sub, "is not an object");
		if (mf_str(jp, "id", 1, sub, e) < 0 ||
		    mf_u64(jp, "rows", 1, 1, sub, e) < 0 ||
		    mf_u64(jp, "checksum", 1, 1, sub, e) < 0 ||
		    mf_str(jp, "fingerprint", 0, sub, e) < 0)
			return -1;
		snprintf(sub, sizeof(sub), "%.100s.partitions[%zu].object", path, i);
		if (mf_object(json_object_get(jp, "object"), sub, e) < 0)
			return -1;
	}
	return 0;
}

/* A "tables" list; path: "" or the shard's "shards[1]." */
static int mf_tables(json_t *v, const char *path, struct err *e)
{
	json_t *jt;
	char sub[256];
	size_t i;

	if (!json_is_array(v))
		return err_set(e, "'%stables' is not a list", path);
	json_array_foreach(v, i, jt) {
		snprintf(sub, sizeof(sub), "%stables[%zu]", path, i);
		if (mf_table(jt, sub, e) < 0)
			return -1;
	}
	return 0;
}

/* A sharded backup's "shards": each with its prefix, server and tables. */
static int mf_shards(json_t *v, struct err *e)
{
	json_t *sh;
	char sub[64];
	size_t i;

	if (!json_is_array(v) || !json_array_size(v))
		return err_set(e, "'shards' is not a list of shards");
	json_array_foreach(v, i, sh) {
		const char *prefix = jstr(sh, "prefix");

		snprintf(sub, sizeof(sub), "shards[%zu]", i);
		if (!json_is_object(sh))
			return mf_fail(e, sub, "is not an object");
		if (mf_str(sh, "prefix", 1, sub, e) < 0 ||
		    mf_str(sh, "url", 0, sub, e) < 0 ||
		    mf_u64(sh, "rows", 0, 0, sub, e) < 0)
			return -1;
		if (*prefix && mf_key(sh, "prefix", sub, e) < 0)
			return -1;
		snprintf(sub, sizeof(sub), "shards[%zu].", i);
		if (mf_tables(json_object_get(sh, "tables"), sub, e) < 0)
			return -1;
	}
	return 0;
}

static int mf_check(json_t *m, struct err *e)
{
	json_t *v, *enc;
	const char *h;
	int64_t t;
	char sub[256];
	size_t i;

	if (!json_is_object(m))
		return err_set(e, "not a JSON object");
	if (!manifest_format_ok(m))
		return err_set(e, "'format' is not %s, /2, /3 or /4",
			       MANIFEST_FORMAT_V1);
	if (parse_rfc3339(jstr(m, "time"), &t) < 0)
		return err_set(e, "'time' is not an RFC 3339 time");
	if (mf_str(m, "server_version", 0, "the manifest", e) < 0 ||
	    mf_u64(m, "rows", 0, 0, "the manifest", e) < 0 ||
	    mf_u64(m, "chain", 0, 0, "the manifest", e) < 0 ||
	    mf_str(m, "base", 0, "the manifest", e) < 0)
		return -1;
	if (jstr(m, "base") && !mf_id(jstr(m, "base")))
		return err_set(e, "'base' is not a backup ID");
	if (!strcmp(jstr(m, "format"), MANIFEST_FORMAT_SHARDS) ||
	    manifest_sharded(m)) {
		if (mf_shards(json_object_get(m, "shards"), e) < 0)
			return -1;
	} else if (mf_tables(json_object_get(m, "tables"), "", e) < 0) {
		return -1;
	}
	if (!json_is_array(v = json_object_get(m, "objects")))
		return err_set(e, "'objects' is not a list");
	json_array_foreach(v, i, enc) {
		snprintf(sub, sizeof(sub), "objects[%zu]", i);
		if (mf_object(enc, sub, e) < 0)
			return -1;
	}
	if (mf_encryption(json_object_get(m, "encryption"), "'encryption'", e) < 0)
		return -1;
	v = json_object_get(m, "bases");
	if (v && !json_is_null(v) && !json_is_object(v))
		return err_set(e, "'bases' is not an object");
	json_object_foreach(v, h, enc) {
		snprintf(sub, sizeof(sub), "bases['%.200s']", h);
		if (!mf_id(h))
			return mf_fail(e, sub, "does not name a backup ID");
		if (mf_encryption(enc, sub, e) < 0)
			return -1;
	}
	return 0;
}

int backup_manifest_parse(json_t **out, const char *text, size_t len,
			  struct err *e)
{
	json_error_t je;
	json_t *m;

	*out = NULL;
	if (!(m = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)))
		return err_set(e, "not JSON: %s (line %d, column %d)", je.text,
			       je.line, je.column);
	if (mf_check(m, e) < 0) {
		json_decref(m);
		return -1;
	}
	*out = m;
	return 0;
}

/* The manifest of a complete backup; *found 0 (and 0) when it has none. */
static int load_manifest(struct store *st, const char *id, json_t **out,
			 int *found, struct err *e)
{
	struct strbuf mb = STRBUF_INIT;
	char *mkey = full_key(id, "manifest.json");
	int f = 0, ret = -1;

	*out = NULL;
	strbuf_init(&mb, 0);
	if (store_get_buffer(st, mkey, MANIFEST_MAX, &mb, &f, e) < 0)
		goto out;
	if (found)
		*found = f;
	if (!f) {
		if (!found) {
			err_set(e, "backup '%s' has no manifest (it is incomplete, "
				"or does not exist)", id);
			goto out;
		}
		ret = 0;
		goto out;
	}
	if (backup_manifest_parse(out, mb.buf, mb.len, e) < 0) {
		err_wrap(e, "the manifest of '%s' is damaged", id);
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&mb);
	free(mkey);
	return ret;
}

/* ---------------------------------------------------------------- */
/* objects: hashed, optionally encrypted, streamed                  */

struct obj_writer {
	struct store_writer *w;
	crypto_generichash_state h;
	const unsigned char *datakey;	/* NULL: plain */
	crypto_secretstream_xchacha20poly1305_state ss;
	unsigned char *chunk;
	size_t fill;
	unsigned char *cbuf;
	const char *ad;			/* first chunk's additional data */
	int first;
};

static int ow_put(struct obj_writer *ow, const void *data, size_t len,
		  struct err *e)
{
	crypto_generichash_update(&ow->h, data, len);
	return store_writer_write(ow->w, data, len, e);
}

static int ow_open(struct obj_writer *ow, struct store *st, const char *key,
		   const unsigned char *datakey, const char *ad, struct err *e)
{
	unsigned char header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];

	memset(ow, 0, sizeof(*ow));
	crypto_generichash_init(&ow->h, NULL, 0, HASH_BYTES);
	ow->datakey = datakey;
	ow->ad = ad;
	ow->first = 1;
	if (store_writer_open(st, key, -1, 0, &ow->w, e) < 0)
		return -1;
	if (!datakey)
		return 0;
	ow->chunk = malloc(BACKUP_CHUNK);
	ow->cbuf = malloc(BACKUP_CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES);
	if (!ow->chunk || !ow->cbuf)
		return err_set(e, "out of memory");
	crypto_secretstream_xchacha20poly1305_init_push(&ow->ss, header, datakey);
	return ow_put(ow, header, sizeof(header), e);
}

static int ow_push(struct obj_writer *ow, unsigned char tag, struct err *e)
{
	unsigned long long clen;
	const char *ad = ow->first ? ow->ad : NULL;

	crypto_secretstream_xchacha20poly1305_push(&ow->ss, ow->cbuf, &clen,
						   ow->chunk, ow->fill,
						   (const unsigned char *)ad,
						   ad ? strlen(ad) : 0, tag);
	ow->first = 0;
	ow->fill = 0;
	return ow_put(ow, ow->cbuf, (size_t)clen, e);
}

static int ow_write(void *ud, const void *data, size_t len, struct err *e)
{
	struct obj_writer *ow = ud;
	const unsigned char *p = data;

	if (!ow->datakey)
		return ow_put(ow, data, len, e);
	while (len) {
		size_t n;

		/* a full chunk goes out only when more follows: the last
		 * one carries TAG_FINAL */
		if (ow->fill == BACKUP_CHUNK && ow_push(ow, 0, e) < 0)
			return -1;
		n = BACKUP_CHUNK - ow->fill;
		if (n > len)
			n = len;
		memcpy(ow->chunk + ow->fill, p, n);
		ow->fill += n;
		p += n;
		len -= n;
	}
	return 0;
}

static void ow_free(struct obj_writer *ow)
{
	free(ow->chunk);
	free(ow->cbuf);
	ow->chunk = ow->cbuf = NULL;
}

static void ow_abort(struct obj_writer *ow)
{
	store_writer_abort(ow->w);
	ow->w = NULL;
	ow_free(ow);
}

/* Commit; size and hex hash of what was stored. */
static int ow_commit(struct obj_writer *ow, uint64_t *size,
		     char hash[2 * HASH_BYTES + 1], struct err *e)
{
	unsigned char h[HASH_BYTES];
	struct store_writer *w;

	if (ow->datakey &&
	    ow_push(ow, crypto_secretstream_xchacha20poly1305_TAG_FINAL, e) < 0) {
		ow_abort(ow);
		return -1;
	}
	crypto_generichash_final(&ow->h, h, sizeof(h));
	sodium_bin2hex(hash, 2 * HASH_BYTES + 1, h, sizeof(h));
	*size = store_writer_size(ow->w);
	w = ow->w;
	ow->w = NULL;
	ow_free(ow);
	return store_writer_commit(w, NULL, e);
}

/* Reading back: hash what is stored, decrypt, hand plain bytes on. */
struct obj_reader {
	crypto_generichash_state h;
	const unsigned char *datakey;
	crypto_secretstream_xchacha20poly1305_state ss;
	unsigned char *cbuf, *plain;
	size_t fill;
	int header_done, final_seen, first;
	const char *ad;
	int (*out)(void *ud, const void *data, size_t len, struct err *e);
	void *out_ud;
	uint64_t size;
};

static int or_init(struct obj_reader *r, const unsigned char *datakey,
		   const char *ad,
		   int (*out)(void *, const void *, size_t, struct err *),
		   void *ud, struct err *e)
{
	memset(r, 0, sizeof(*r));
	crypto_generichash_init(&r->h, NULL, 0, HASH_BYTES);
	r->datakey = datakey;
	r->ad = ad;
	r->out = out;
	r->out_ud = ud;
	r->first = 1;
	if (datakey) {
		r->cbuf = malloc(BACKUP_CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES);
		r->plain = malloc(BACKUP_CHUNK);
		if (!r->cbuf || !r->plain)
			return err_set(e, "out of memory");
	}
	return 0;
}

static void or_release(struct obj_reader *r)
{
	free(r->cbuf);
	free(r->plain);
	r->cbuf = r->plain = NULL;
}

static int or_pull(struct obj_reader *r, int at_end, struct err *e)
{
	unsigned long long plen;
	unsigned char tag;
	const char *ad = r->first ? r->ad : NULL;

	if (r->final_seen)
		return err_set(e, "data after the end of the encrypted stream");
	if (crypto_secretstream_xchacha20poly1305_pull(&r->ss, r->plain, &plen,
						       &tag, r->cbuf, r->fill,
						       (const unsigned char *)ad,
						       ad ? strlen(ad) : 0) != 0)
		return err_set(e, "the object does not decrypt (corrupt, or not "
			       "this backup's)");
	r->first = 0;
	r->fill = 0;
	if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL)
		r->final_seen = 1;
	else if (at_end)
		return err_set(e, "the encrypted object is truncated");
	return plen ? r->out(r->out_ud, r->plain, (size_t)plen, e) : 0;
}

static int or_feed(void *ud, const void *data, size_t len, struct err *e)
{
	struct obj_reader *r = ud;
	const unsigned char *p = data;
	const size_t full = BACKUP_CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES;

	crypto_generichash_update(&r->h, data, len);
	r->size += len;
	if (!r->datakey)
		return r->out(r->out_ud, data, len, e);
	while (len) {
		size_t want = r->header_done ? full :
			crypto_secretstream_xchacha20poly1305_HEADERBYTES;
		size_t n;

		if (r->header_done && r->fill == full && or_pull(r, 0, e) < 0)
			return -1;
		n = want - r->fill;
		if (n > len)
			n = len;
		memcpy(r->cbuf + r->fill, p, n);
		r->fill += n;
		p += n;
		len -= n;
		if (!r->header_done && r->fill == want) {
			if (crypto_secretstream_xchacha20poly1305_init_pull(
				    &r->ss, r->cbuf, r->datakey) != 0)
				return err_set(e, "bad encryption header");
			r->header_done = 1;
			r->fill = 0;
		}
	}
	return 0;
}

static int or_finish(struct obj_reader *r, char hash[2 * HASH_BYTES + 1],
		     struct err *e)
{
	unsigned char h[HASH_BYTES];

	crypto_generichash_final(&r->h, h, sizeof(h));
	sodium_bin2hex(hash, 2 * HASH_BYTES + 1, h, sizeof(h));
	if (!r->datakey)
		return 0;
	if (!r->header_done)
		return err_set(e, "the encrypted object is truncated");
	if (r->fill && or_pull(r, 1, e) < 0)
		return -1;
	if (!r->final_seen)
		return err_set(e, "the encrypted object is truncated");
	return 0;
}

/* ---------------------------------------------------------------- */
/* the lock                                                          */

int backup_lock(struct store *st, struct err *e)
{
	char host[256] = "", when[32];
	struct strbuf body = STRBUF_INIT, cur = STRBUF_INIT;
	int exists = 0, ret = -1;

	gethostname(host, sizeof(host) - 1);
	now_rfc3339(when);
	strbuf_init(&body, 0);
	strbuf_init(&cur, 0);
	strbuf_addf(&body, "{\"pid\": %ld, \"host\": \"%s\", \"started\": \"%s\"}\n",
		    (long)getpid(), host, when);
	for (int attempt = 0; attempt < 2; attempt++) {
		json_t *j;
		long pid;
		const char *h, *since;

		if (store_put(st, BACKUP_LOCK_KEY, body.buf, body.len,
			      STORE_CREATE_EXCLUSIVE, &exists, e) == 0) {
			struct err se;

			/* holding the lock, whatever writes are open are a
			 * dead run's: drop them (best effort) */
			store_sweep(st, NULL, &se);
			ret = 0;
			break;
		}
		if (!exists)
			goto out;
		if (store_get_buffer(st, BACKUP_LOCK_KEY, 4096, &cur, NULL, e) < 0)
			goto out;
		j = json_loadb(cur.buf, cur.len, 0, NULL);
		pid = (long)json_integer_value(json_object_get(j, "pid"));
		h = jstr(j, "host");
		since = jstr(j, "started");
		/* a run of this host that died: its lock is stale */
		if (attempt == 0 && h && !strcmp(h, host) && pid > 0 &&
		    kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
			json_decref(j);
			if (store_delete(st, BACKUP_LOCK_KEY, e) < 0)
				goto out;
			continue;
		}
		err_set(e, "another backup holds the lock '%s': pid %ld on %s "
			"since %s", BACKUP_LOCK_KEY, pid, h ? h : "?",
			since ? since : "?");
		json_decref(j);
		goto out;
	}
out:
	strbuf_release(&body);
	strbuf_release(&cur);
	return ret;
}

void backup_unlock(struct store *st)
{
	struct err e;

	store_delete(st, BACKUP_LOCK_KEY, &e);
}

/* ---------------------------------------------------------------- */
/* backup                                                            */

struct bk_table {
	struct clickhouse_table *t;
	struct clickhouse *ch;		/* its shard's server */
	const char *prefix;		/* "", or "shard-N/" */
	int shard;			/* 1-based; 0: one server */
	char *mv;			/* an inner table: its view */
	struct clickhouse_partitions parts;
	json_t *jparts;			/* manifest entries, by index */
	size_t remaining;
	int failed;
	uint64_t rows, bytes;
	char *schema_key;
	char schema_hash[2 * HASH_BYTES + 1];
	uint64_t schema_size;
	char structure[2 * HASH_BYTES + 1];	/* of the plain SHOW CREATE */
	json_t *base_table;		/* its entry in the base manifest */
	uint64_t reused;		/* partitions taken from the base */
	int local_checksum;		/* counted from the export's blocks */
};

struct bk_job {
	size_t table, part;
	uint64_t bytes;		/* on disk; UINT64_MAX when not known */
};

/* Largest first, so that the last exports to end are small ones, not one
 * large partition alone while the other streams stand idle. Sizes that
 * are not known (Log, Memory) go first; ties keep the tables' order. */
static int job_cmp(const void *a, const void *b)
{
	const struct bk_job *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->table != y->table)
		return x->table < y->table ? -1 : 1;
	return x->part < y->part ? -1 : x->part > y->part;
}

/* A shard of the backup (one for a backup of one server). */
struct bk_shard {
	struct clickhouse *ch;		/* the replica picked */
	int n;				/* 1-based; 0: one server */
	char prefix[32];		/* "", or "shard-N/" */
	char version[64];
	struct clickhouse_tables all;
	json_t *base_tables;		/* the same shard of the base */
	size_t first, ntables;		/* its tables in bk_run.tables */
	uint64_t rows, bytes;
};

struct bk_run {
	struct store *st;
	struct bk_shard *shards;
	size_t nshards;
	const struct backup_options *o;
	const char *id;
	unsigned char *datakey;
	struct bk_table *tables;
	size_t ntables;
	struct bk_job *jobs;
	size_t njobs, next;
	pthread_mutex_t mu;
	json_t *objects;
	struct backup_result *r;
	uint64_t done_bytes;
	int stop;
	json_t *base;			/* incremental: the base's manifest */
	const char *base_id;
	json_t *bases;			/* holder ID -> its encryption */
	json_t *journal;		/* resume: object key -> journal entry */
};

static int table_selected(const struct backup_options *o,
			  const struct clickhouse_table *t)
{
	char full[1024];

	if (o->ndatabases) {
		size_t i;

		for (i = 0; i < o->ndatabases; i++)
			if (!strcmp(o->databases[i], t->database))
				break;
		if (i == o->ndatabases)
			return 0;
	}
	if (!o->ntables)
		return 1;
	snprintf(full, sizeof(full), "%s.%s", t->database, t->name);
	for (size_t i = 0; i < o->ntables; i++)
		if (!fnmatch(o->tables[i], full, 0) ||
		    !fnmatch(o->tables[i], t->name, 0))
			return 1;
	return 0;
}

static int is_inner(const char *name)
{
	return !strncmp(name, ".inner.", 7) || !strncmp(name, ".inner_id.", 10);
}

/* The view an inner table belongs to. */
static char *inner_owner(struct clickhouse *ch, const char *db,
			 const char *name, struct err *e)
{
	struct strbuf q = STRBUF_INIT, out = STRBUF_INIT;
	char *ret = NULL;

	if (!strncmp(name, ".inner.", 7))
		return strdup(name + 7);
	strbuf_init(&q, 0);
	strbuf_init(&out, 4096);
	/* the view's UUID names it; where UUIDs read as zero (chdb), the
	 * view and its inner table share their data path */
	strbuf_addstr(&q, "SELECT name FROM system.tables WHERE database = ");
	clickhouse_quote_string(&q, db);
	strbuf_addstr(&q, " AND engine = 'MaterializedView' AND (toString(uuid) = ");
	clickhouse_quote_string(&q, name + 10);
	strbuf_addstr(&q, " OR (notEmpty(data_paths) AND data_paths = (SELECT "
		      "data_paths FROM system.tables WHERE database = ");
	clickhouse_quote_string(&q, db);
	strbuf_addstr(&q, " AND name = ");
	clickhouse_quote_string(&q, name);
	strbuf_addstr(&q, "))) FORMAT TabSeparatedRaw");
	if (clickhouse_query(ch, q.buf, 0, &out, e) == 0) {
		strbuf_setlen(&out, strcspn(out.buf, "\n"));
		if (out.len)
			ret = strdup(out.buf);
		else
			err_set(e, "no view owns '%s.%s'", db, name);
	}
	strbuf_release(&q);
	strbuf_release(&out);
	return ret;
}

static json_t *obj_json(const char *key, uint64_t size, const char *hash)
{
	return json_pack("{s:s, s:I, s:s}", "key", key, "size", (json_int_t)size,
			 "blake2b", hash);
}

static void emit(struct bk_run *b, const struct backup_event *ev)
{
	if (b->o->on_event)
		b->o->on_event(b->o->ud, ev);
}

/* A partition's fingerprint now, and the rows of its active parts. */
static int fingerprint_now(struct bk_run *b, struct bk_table *bt,
			   const char *pid, char fp[65], uint64_t *rows,
			   struct err *e)
{
	struct clickhouse_partitions ps;

	if (clickhouse_engine_is_mergetree(bt->t->engine))
		return clickhouse_partition_fingerprint(bt->ch, bt->t->database,
							bt->t->name, pid, fp,
							rows, e);
	if (clickhouse_list_partitions(bt->ch, bt->t->database, bt->t->name,
				       bt->t->engine, &ps, e) < 0)
		return -1;
	memcpy(fp, ps.v[0].fingerprint, 65);
	*rows = ps.v[0].rows;
	clickhouse_partitions_release(&ps);
	return 0;
}

/*
 * The count and checksum of a partition that its export cannot count
 * itself (clickhouse_checksum_local()), taken on a thread of its own
 * while the partition is exported: the two reads overlap, and the
 * fingerprints taken before and after both say they saw the same data.
 */
struct stats_job {
	struct bk_table *bt;
	const struct clickhouse_slice *slice;
	uint64_t rows, sum;
	int failed;
	struct err e;
};

static void *stats_thread(void *ud)
{
	struct stats_job *j = ud;

	j->failed = clickhouse_partition_stats(j->bt->ch, j->bt->t->database,
					       j->bt->t->name, j->slice,
					       &j->rows, &j->sum, &j->e) < 0;
	return NULL;
}

#define JOURNAL_DIR "journal/"

/*
 * Record an exported partition for a resume. A journal that cannot be
 * written costs a later resume that partition, nothing more.
 */
static void journal_write(struct bk_run *b, struct bk_table *bt,
			  const char *rel, json_t *entry)
{
	json_t *j = json_deep_copy(entry);
	char *text, *key = NULL;
	struct err e = { "" };

	json_object_set_new(j, "engine", json_string(bt->t->engine));
	json_object_set_new(j, "structure", json_string(bt->structure));
	/* whose checksums: a resume by another version exports again */
	json_object_set_new(j, "format", json_string(MANIFEST_FORMAT));
	text = json_dumps(j, JSON_COMPACT);
	if (text && asprintf(&key, "%s/" JOURNAL_DIR "%s.json", b->id, rel) < 0)
		key = NULL;
	if (!text || !key ||
	    store_put(b->st, key, text, strlen(text), 0, NULL, &e) < 0)
		log_debug("backup: no journal entry for '%s': %s", rel,
			  e.msg[0] ? e.msg : "out of memory");
	free(key);
	free(text);
	json_decref(j);
}

static int sink_none(void *ud, const void *data, size_t len, struct err *e)
{
	return 0;
}

/* Does the object read back whole, with this size and BLAKE2b? */
static int object_intact(struct store *st, const char *id, json_t *obj,
			 int *intact, struct err *e)
{
	const char *rel = jstr(obj, "key") ?: "";
	char *key = full_key(id, rel), hash[2 * HASH_BYTES + 1];
	struct obj_reader rd;
	int found = 0, ret = -1;

	*intact = 0;
	if (or_init(&rd, NULL, rel, sink_none, NULL, e) < 0)
		goto out;
	if (store_get(st, key, or_feed, &rd, &found, e) < 0)
		goto out;
	if (found && or_finish(&rd, hash, e) == 0)
		*intact = rd.size == (uint64_t)json_integer_value(json_object_get(obj, "size")) &&
			!strcmp(hash, jstr(obj, "blake2b") ?: "");
	ret = 0;
out:
	or_release(&rd);
	free(key);
	return ret;
}

/*
 * Resume: the journal entry of a partition that has not changed since it
 * was exported and whose object is intact, as a manifest entry; NULL
 * when the partition must be exported again.
 */
static json_t *journal_reuse(struct bk_run *b, struct bk_table *bt,
			     const struct clickhouse_partition *p,
			     struct err *e, int *failed)
{
	char *rel;
	json_t *jp, *entry = NULL;
	int intact;

	*failed = 0;
	if (!b->journal)
		return NULL;
	rel = obj_key(bt->prefix, "data", bt->t->database, bt->t->name, p->id, 0);
	jp = json_object_get(b->journal, rel);
	free(rel);
	if (!jp ||
	    strcmp(jstr(jp, "format") ?: "", MANIFEST_FORMAT) ||
	    strcmp(jstr(jp, "id") ?: "", p->id) ||
	    strcmp(jstr(jp, "fingerprint") ?: "",
		   p->fingerprint) ||
	    strcmp(jstr(jp, "engine") ?: "",
		   bt->t->engine) ||
	    strcmp(jstr(jp, "structure") ?: "",
		   bt->structure) ||
	    (clickhouse_engine_is_mergetree(bt->t->engine) &&
	     (uint64_t)json_integer_value(json_object_get(jp, "rows")) != p->rows) ||
	    !json_is_object(json_object_get(jp, "object")))
		return NULL;
	if (object_intact(b->st, b->id, json_object_get(jp, "object"), &intact, e) < 0) {
		*failed = 1;
		return NULL;
	}
	if (!intact) {
		log_debug("backup: '%s.%s' partition %s: its object is not whole; "
			  "exported again", bt->t->database, bt->t->name, p->id);
		return NULL;
	}
	entry = json_deep_copy(jp);
	json_object_del(entry, "engine");
	json_object_del(entry, "structure");
	json_object_del(entry, "format");
	return entry;
}

/*
 * Resume: continue the newest backup (or o->id) when it is incomplete
 * and has a journal; r->resume_note says why not otherwise.
 */
static int resume_pick(struct bk_run *b, struct err *e)
{
	struct backup_infos l = { 0 };
	struct store_list jl = { 0 };
	struct strbuf buf = STRBUF_INIT;
	const struct backup_info *cand = NULL;
	char *prefix = NULL;
	int ret = -1;

	strbuf_init(&buf, 0);
	if (backup_list(b->st, &l, e) < 0)
		goto out;
	for (size_t i = l.n; i-- > 0 && !cand;)
		if (b->o->id ? !strcmp(l.v[i].id, b->o->id) : !l.v[i].pruned)
			cand = &l.v[i];
	if (!cand) {
		snprintf(b->r->resume_note, sizeof(b->r->resume_note),
			 "no interrupted backup to resume");
		ret = 0;
		goto out;
	}
	if (cand->complete || cand->pruned) {
		snprintf(b->r->resume_note, sizeof(b->r->resume_note),
			 "'%s' is %s, nothing to resume", cand->id,
			 cand->complete ? "complete" : "pruned");
		ret = 0;
		goto out;
	}
	if (b->o->nrecipients) {
		snprintf(b->r->resume_note, sizeof(b->r->resume_note),
			 "an encrypted backup cannot reuse '%s'", cand->id);
		ret = 0;
		goto out;
	}
	prefix = full_key(cand->id, JOURNAL_DIR);
	if (store_list(b->st, prefix, &jl, e) < 0)
		goto out;
	b->journal = json_object();
	for (size_t i = 0; i < jl.n; i++) {
		const char *k = jl.v[i].key + strlen(prefix);
		size_t n = strlen(k);
		json_t *j;

		if (n < 6 || strcmp(k + n - 5, ".json"))
			continue;
		if (store_get_buffer(b->st, jl.v[i].key, 1 << 20, &buf, NULL, e) < 0)
			goto out;
		j = json_loadb(buf.buf, buf.len, 0, NULL);
		if (json_is_object(j))
			json_object_setn_new(b->journal, k, n - 5, j);
		else
			json_decref(j);
	}
	if (!json_object_size(b->journal)) {
		snprintf(b->r->resume_note, sizeof(b->r->resume_note),
			 "'%s' has no finished partition to reuse", cand->id);
		json_decref(b->journal);
		b->journal = NULL;
		ret = 0;
		goto out;
	}
	snprintf(b->r->resumed, sizeof(b->r->resumed), "%s", cand->id);
	snprintf(b->r->id, sizeof(b->r->id), "%s", cand->id);
	ret = 0;
out:
	if (ret < 0)
		err_wrap(e, "cannot read the journal of '%s'", cand ? cand->id : "");
	free(prefix);
	store_list_release(&jl);
	strbuf_release(&buf);
	backup_infos_release(&l);
	return ret;
}

/* After the manifest: the journal has served. */
static void journal_delete(struct bk_run *b)
{
	struct store_list jl = { 0 };
	char *prefix = full_key(b->id, JOURNAL_DIR);
	struct err e = { "" };

	if (store_list(b->st, prefix, &jl, &e) == 0)
		for (size_t i = 0; i < jl.n; i++)
			store_delete(b->st, jl.v[i].key, &e);
	store_list_release(&jl);
	free(prefix);
}

/* One partition, as a consistent snapshot. Called unlocked. */
static int export_one(struct bk_run *b, struct bk_table *bt, size_t pi,
		      json_t **entry, uint64_t *bytes_out, struct err *e)
{
	struct clickhouse_partition *p = &bt->parts.v[pi];
	int mt = clickhouse_engine_is_mergetree(bt->t->engine);
	const char *pid = mt ? p->id : NULL;
	struct clickhouse_slice slice = clickhouse_slice_of(&bt->parts, p);
	char *rel = obj_key(bt->prefix, "data", bt->t->database, bt->t->name,
			    p->id, b->datakey != NULL);
	char *key = full_key(b->id, rel);
	char fp1[65], fp2[65], hash[2 * HASH_BYTES + 1], cs[24];
	uint64_t parts_rows;
	int local = mt && bt->local_checksum, ret = -1;

	if (!mt)
		slice.id = NULL;
	/* the rows the export counts are compared with the parts' below */
	if (local)
		clickhouse_slice_by_key(&slice, &bt->parts);
	memcpy(fp1, p->fingerprint, 65);
	for (int attempt = 0; attempt < BACKUP_SNAPSHOT_TRIES; attempt++) {
		struct stats_job sj = { bt, &slice, 0, 0, 0, { "" } };
		struct obj_writer ow;
		struct clickhouse_export ex;
		pthread_t th;
		uint64_t size;
		int r;

		if (attempt && fingerprint_now(b, bt, pid, fp1, &parts_rows, e) < 0)
			goto out;
		if (!local && pthread_create(&th, NULL, stats_thread, &sj) != 0) {
			err_set(e, "cannot start a thread");
			goto out;
		}
		r = ow_open(&ow, b->st, key, b->datakey, rel, e);
		if (r == 0)
			r = clickhouse_export_partition(bt->ch, bt->t->database,
							bt->t->name, &slice,
							ow_write, &ow, &ex, e);
		if (!local)
			pthread_join(th, NULL);
		if (r == 0 && sj.failed) {
			*e = sj.e;
			r = -1;
		}
		if (r == 0)
			r = fingerprint_now(b, bt, pid, fp2, &parts_rows, e);
		if (r < 0) {
			ow_abort(&ow);
			goto out;
		}
		if (local && !strcmp(fp1, fp2)) {
			/*
			 * One read: the export counted the rows and their
			 * checksum, and the parts the fingerprint covers
			 * hold as many rows. Anything else (a block it
			 * could not hash; rows hidden by a lightweight
			 * delete; a key that now selects other rows) is
			 * left to the server's count and checksum, exported
			 * again beside them, through the partition's id.
			 */
			if (ex.checksummed && ex.rows == parts_rows) {
				sj.rows = ex.rows;
				sj.sum = ex.checksum;
				log_debug("backup: '%s.%s' partition %s: %" PRIu64
					  " rows and their checksum counted from "
					  "the export", bt->t->database,
					  bt->t->name, p->id, ex.rows);
			} else {
				int exact = clickhouse_slice_exact(&slice, ex.rows,
								   parts_rows);

				ow_abort(&ow);
				log_debug("backup: '%s.%s' partition %s: %" PRIu64
					  " rows exported%s, %" PRIu64 " in its "
					  "parts; the server counts them%s",
					  bt->t->database, bt->t->name, p->id,
					  ex.rows, ex.checksummed ? "" :
					  " (not hashed here)", parts_rows,
					  exact ? "" : ", read by its id");
				local = 0;
				if (!exact)
					slice.key = NULL;
				attempt--;
				continue;
			}
		}
		if (strcmp(fp1, fp2)) {
			struct backup_event ev = { .kind = BACKUP_EV_RETRY,
				.database = bt->t->database, .table = bt->t->name,
				.partition = p->id, .shard = bt->shard };

			ow_abort(&ow);
			pthread_mutex_lock(&b->mu);
			emit(b, &ev);
			pthread_mutex_unlock(&b->mu);
			log_debug("backup: '%s.%s' partition %s changed during "
				  "its export; again", bt->t->database,
				  bt->t->name, p->id);
			continue;
		}
		if (!clickhouse_slice_exact(&slice, sj.rows, parts_rows)) {
			/* the key's value selected other rows than the
			 * parts hold (NULL, NaN; a key that evaluates
			 * otherwise now; a lightweight delete): by the id
			 * alone */
			ow_abort(&ow);
			log_debug("backup: '%s.%s' partition %s: %" PRIu64 " rows "
				  "by its key, %" PRIu64 " in its parts; read by "
				  "its id", bt->t->database, bt->t->name, p->id,
				  sj.rows, parts_rows);
			slice.key = NULL;
			attempt--;
			continue;
		}
		if (ex.opaque) {
			/*
			 * A column the Native walker cannot read: no rows of
			 * the stream to compare. The count stands for them.
			 * It is sound because the export asked with
			 * wait_end_of_query=1: the server answers only once
			 * the query ended, so a failure is a non-200 answer,
			 * not text inside a 200; every frame's CityHash128
			 * and LZ4 data were checked and the transfer ended
			 * whole; and the fingerprint was the same before and
			 * after. What remains is an empty 200 (18.16 under
			 * compress=1, asked again uncompressed): refused
			 * while the partition has rows. Restore then checks
			 * the staged rows against this count.
			 */
			if (sj.rows && !ex.plain_bytes) {
				ow_abort(&ow);
				err_set(e, "the export of partition %s is empty, "
					"the server counted %" PRIu64 " rows",
					p->id, sj.rows);
				goto out;
			}
			log_debug("backup: '%s.%s' partition %s: %" PRIu64
				  " Native bytes not walked (opaque types); "
				  "its rows are the count, %" PRIu64,
				  bt->t->database, bt->t->name, p->id,
				  ex.plain_bytes, sj.rows);
		} else if (ex.rows != sj.rows) {
			ow_abort(&ow);
			err_set(e, "the export of partition %s has %" PRIu64
				" rows, the server counted %" PRIu64, p->id,
				ex.rows, sj.rows);
			goto out;
		}
		if (ow_commit(&ow, &size, hash, e) < 0)
			goto out;
		snprintf(cs, sizeof(cs), "%" PRIu64, sj.sum);
		*entry = json_pack("{s:s, s:I, s:s, s:s, s:o}", "id", p->id,
				   "rows", (json_int_t)sj.rows, "checksum", cs,
				   "fingerprint", fp1, "object",
				   obj_json(rel, size, hash));
		*bytes_out = size;
		p->rows = sj.rows;
		if (!b->datakey)
			journal_write(b, bt, rel, *entry);
		ret = 0;
		goto out;
	}
	err_set(e, "partition %s kept changing during %d exports", p->id,
		BACKUP_SNAPSHOT_TRIES);
out:
	if (ret < 0)
		err_wrap(e, "cannot back up '%s.%s'", bt->t->database, bt->t->name);
	free(rel);
	free(key);
	return ret;
}

static void table_done(struct bk_run *b, struct bk_table *bt, const char *error)
{
	struct backup_event ev = { .kind = BACKUP_EV_TABLE,
		.database = bt->t->database, .table = bt->t->name,
		.inner_of = bt->mv,
		.rows = bt->rows, .bytes = bt->bytes, .error = error,
		.done_bytes = b->done_bytes, .reused = bt->reused,
		.shard = bt->shard };

	emit(b, &ev);
}

static void *worker(void *ud)
{
	struct bk_run *b = ud;

	for (;;) {
		struct bk_job job;
		struct bk_table *bt;
		json_t *entry = NULL;
		uint64_t bytes = 0;
		struct err e = { { 0 } };
		int r;

		pthread_mutex_lock(&b->mu);
		if (b->next >= b->njobs) {
			pthread_mutex_unlock(&b->mu);
			return NULL;
		}
		job = b->jobs[b->next++];
		bt = &b->tables[job.table];
		pthread_mutex_unlock(&b->mu);

		r = export_one(b, bt, job.part, &entry, &bytes, &e);

		pthread_mutex_lock(&b->mu);
		if (r < 0) {
			if (!bt->failed && !b->r->first_error[0])
				snprintf(b->r->first_error,
					 sizeof(b->r->first_error), "%s", e.msg);
			if (!bt->failed) {
				bt->failed = 1;
				b->r->failed_tables++;
				table_done(b, bt, e.msg);
			}
		} else {
			struct backup_event ev = { .kind = BACKUP_EV_PARTITION,
				.database = bt->t->database,
				.table = bt->t->name,
				.partition = bt->parts.v[job.part].id,
				.rows = bt->parts.v[job.part].rows,
				.bytes = bytes, .shard = bt->shard };

			json_array_set_new(bt->jparts, job.part, entry);
			json_array_append(b->objects, json_object_get(entry, "object"));
			bt->rows += bt->parts.v[job.part].rows;
			bt->bytes += bytes;
			b->done_bytes += bytes;
			ev.done_bytes = b->done_bytes;
			b->r->partitions++;
			b->r->objects++;
			emit(b, &ev);
		}
		if (--bt->remaining == 0 && !bt->failed)
			table_done(b, bt, NULL);
		pthread_mutex_unlock(&b->mu);
	}
}

static int write_schema(struct bk_run *b, struct bk_table *bt, struct err *e)
{
	struct strbuf sql = STRBUF_INIT;
	struct obj_writer ow;
	char *rel = obj_key(bt->prefix, "schema", bt->t->database, bt->t->name,
			    NULL, b->datakey != NULL);
	char *key = full_key(b->id, rel);
	int ret = -1;

	strbuf_init(&sql, 0);
	if (clickhouse_show_create(bt->ch, bt->t->database, bt->t->name, &sql, e) < 0)
		goto out;
	if (ow_open(&ow, b->st, key, b->datakey, rel, e) < 0) {
		ow_abort(&ow);
		goto out;
	}
	if (ow_write(&ow, sql.buf, sql.len, e) < 0) {
		ow_abort(&ow);
		goto out;
	}
	if (ow_commit(&ow, &bt->schema_size, bt->schema_hash, e) < 0)
		goto out;
	{
		unsigned char h[HASH_BYTES];

		crypto_generichash(h, sizeof(h), (const unsigned char *)sql.buf,
				   sql.len, NULL, 0);
		sodium_bin2hex(bt->structure, sizeof(bt->structure), h, sizeof(h));
	}
	bt->schema_key = rel;
	rel = NULL;
	json_array_append_new(b->objects, obj_json(bt->schema_key,
						   bt->schema_size,
						   bt->schema_hash));
	b->r->objects++;
	ret = 0;
out:
	if (ret < 0)
		err_wrap(e, "cannot back up the schema of '%s.%s'",
			 bt->t->database, bt->t->name);
	free(rel);
	free(key);
	strbuf_release(&sql);
	return ret;
}

static json_t *encryption_json(struct bk_run *b)
{
	json_t *rs = json_array();

	for (size_t i = 0; i < b->o->nrecipients; i++) {
		const struct keys_public *pub = &b->o->recipients[i];
		unsigned char sealed[crypto_box_SEALBYTES + 32];
		char *b64;
		size_t n = sodium_base64_ENCODED_LEN(sizeof(sealed),
						     sodium_base64_VARIANT_ORIGINAL);

		crypto_box_seal(sealed, b->datakey, 32, pub->pk);
		b64 = malloc(n);
		sodium_bin2base64(b64, n, sealed, sizeof(sealed),
				  sodium_base64_VARIANT_ORIGINAL);
		json_array_append_new(rs, json_pack("{s:s, s:s}", "key_id",
						    pub->id_hex, "data_key", b64));
		free(b64);
	}
	return json_pack("{s:s, s:s, s:i, s:o}", "data_key_wrap",
			 "crypto_box_seal (X25519)", "cipher",
			 "crypto_secretstream_xchacha20poly1305", "chunk",
			 BACKUP_CHUNK, "recipients", rs);
}

/* The sorted key IDs a manifest's data key is sealed to ("" if plain). */
static void recipients_of(json_t *enc, struct strbuf *out)
{
	json_t *rc;
	size_t i;
	char **ids;
	size_t n = json_array_size(json_object_get(enc, "recipients"));

	strbuf_reset(out);
	if (!n)
		return;
	ids = calloc(n, sizeof(*ids));
	json_array_foreach(json_object_get(enc, "recipients"), i, rc)
		ids[i] = (char *)(jstr(rc, "key_id") ?: "");
	for (i = 1; i < n; i++)
		for (size_t k = i; k > 0 && strcmp(ids[k - 1], ids[k]) > 0; k--) {
			char *t = ids[k];

			ids[k] = ids[k - 1];
			ids[k - 1] = t;
		}
	for (i = 0; i < n; i++)
		strbuf_addf(out, "%s%s", i ? "," : "", ids[i]);
	free(ids);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int backup_list_objects(struct store *st, struct backup_infos *out,
			       struct err *e);
static int listed_manifest(struct store *st, const char *id, struct strbuf *mb,
			   json_t **m, struct err *e);

/*
 * Pick the base of an incremental: the newest complete backup, when its
 * objects can be shared (same recipients) and the chain is not due for
 * a full backup. *base stays NULL for a full backup; r->full_reason says
 * why when one was asked for an incremental.
 */
static int pick_base(struct bk_run *b, json_t **base, struct err *e)
{
	struct backup_infos l = { 0 };
	struct strbuf want = STRBUF_INIT, have = STRBUF_INIT, mb = STRBUF_INIT;
	const struct backup_options *o = b->o;
	const char *id = NULL;
	json_t *m = NULL;
	int ret = -1;

	*base = NULL;
	strbuf_init(&want, 0);
	strbuf_init(&have, 0);
	strbuf_init(&mb, 0);
	/* the newest complete backup: its manifest is the only one read,
	 * not every backup's (a year of daily runs is 365 of them) */
	if (backup_list_objects(b->st, &l, e) < 0)
		goto out;
	for (size_t i = l.n; i-- > 0 && !m;) {
		if (!l.v[i].complete || !strcmp(l.v[i].id, b->id))
			continue;
		if (listed_manifest(b->st, l.v[i].id, &mb, &m, e) < 0)
			goto out;
		if (m)
			id = l.v[i].id;
	}
	if (!id) {
		snprintf(b->r->full_reason, sizeof(b->r->full_reason),
			 "no complete backup to build on");
		ret = 0;
		goto out;
	}
	if (manifest_checksum(m) != CLICKHOUSE_CHECKSUM_V2) {
		/* /1 has no references; /2 and /3 checksums of another kind */
		snprintf(b->r->full_reason, sizeof(b->r->full_reason),
			 "'%s' is a %s backup", id, jstr(m, "format"));
		ret = 0;
		goto out;
	}
	if (manifest_nshards(m) != b->nshards) {
		snprintf(b->r->full_reason, sizeof(b->r->full_reason),
			 "'%s' has %zu shard%s, this backup %zu", id,
			 manifest_nshards(m), manifest_nshards(m) > 1 ? "s" : "",
			 b->nshards);
		ret = 0;
		goto out;
	}
	if (o->full_every > 0 &&
	    json_integer_value(json_object_get(m, "chain")) + 1 >= o->full_every) {
		snprintf(b->r->full_reason, sizeof(b->r->full_reason),
			 "a full backup every %d runs", o->full_every);
		ret = 0;
		goto out;
	}
	{
		char **ids = calloc(o->nrecipients + 1, sizeof(*ids));

		for (size_t i = 0; i < o->nrecipients; i++)
			ids[i] = (char *)o->recipients[i].id_hex;
		qsort(ids, o->nrecipients, sizeof(*ids), cmp_str);
		for (size_t i = 0; i < o->nrecipients; i++)
			strbuf_addf(&want, "%s%s", i ? "," : "", ids[i]);
		free(ids);
	}
	recipients_of(json_object_get(m, "encryption"), &have);
	if (strcmp(want.buf ? want.buf : "", have.buf ? have.buf : "")) {
		snprintf(b->r->full_reason, sizeof(b->r->full_reason),
			 "'%s' is encrypted to other keys", id);
		ret = 0;
		goto out;
	}
	*base = m;
	m = NULL;
	ret = 0;
out:
	json_decref(m);
	backup_infos_release(&l);
	strbuf_release(&want);
	strbuf_release(&have);
	strbuf_release(&mb);
	return ret;
}

/* bt's entry in the tables of its shard in the base. */
static json_t *base_table_of(json_t *base_tables, const struct bk_table *bt)
{
	json_t *jt;
	size_t i;

	json_array_foreach(base_tables, i, jt)
		if (!strcmp(jstr(jt, "database") ?: "",
			    bt->t->database) &&
		    !strcmp(jstr(jt, "name") ?: "",
			    bt->t->name) &&
		    !strcmp(jstr(jt, "engine") ?: "",
			    bt->t->engine) &&
		    !strcmp(jstr(jt, "structure") ?: "",
			    bt->structure))
			return jt;
	return NULL;
}

/*
 * The base's entry for a partition that has not changed since: same
 * fingerprint (block ranges and data versions) and rows, in a table of
 * the same structure. A new entry (the base's, the object referenced
 * where it is held), or NULL when the partition must be exported.
 */
static json_t *reuse_partition(struct bk_run *b, struct bk_table *bt,
			       const struct clickhouse_partition *p)
{
	json_t *jp, *entry, *obj;
	const char *holder;
	size_t i;

	if (!bt->base_table)
		return NULL;
	json_array_foreach(json_object_get(bt->base_table, "partitions"), i, jp) {
		if (strcmp(jstr(jp, "id") ?: "", p->id))
			continue;
		if (strcmp(jstr(jp, "fingerprint") ?: "",
			   p->fingerprint) ||
		    (clickhouse_engine_is_mergetree(bt->t->engine) &&
		     (uint64_t)json_integer_value(json_object_get(jp, "rows")) != p->rows))
			return NULL;
		obj = json_object_get(jp, "object");
		if (!json_is_object(obj))
			return NULL;
		holder = obj_holder(obj, b->base_id);
		entry = json_deep_copy(jp);
		json_object_set_new(json_object_get(entry, "object"), "backup",
				    json_string(holder));
		if (!json_object_get(b->bases, holder)) {
			json_t *enc = !strcmp(holder, b->base_id) ?
				json_object_get(b->base, "encryption") :
				json_object_get(json_object_get(b->base, "bases"), holder);

			json_object_set_new(b->bases, holder,
					    enc ? json_deep_copy(enc) : json_null());
		}
		return entry;
	}
	return NULL;
}

/* A URL as a manifest or a message may show it: without user:password@. */
static char *url_public(const char *url)
{
	const char *host = strstr(url, "://"), *at, *end;
	char *out = NULL;

	host = host ? host + 3 : url;
	end = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(end - host));
	if (!at)
		return strdup(url);
	if (asprintf(&out, "%.*s%s", (int)(host - url), url, at + 1) < 0)
		abort();
	return out;
}

typedef void (*replica_fn)(void *ud, int shard, const char *url,
			   const char *error);

/*
 * The first replica of shard sh (1-based n; 0: one server) that answers,
 * and its version. tried hears of each replica that does not, and of the
 * one picked.
 */
static int pick_replica(const struct backup_shard *sh, int n,
			struct clickhouse **out, char *version, size_t vlen,
			replica_fn tried, void *ud, struct err *e)
{
	struct strbuf why = STRBUF_INIT;
	int ret = -1;

	*out = NULL;
	strbuf_init(&why, 0);
	if (!sh->nreplicas) {
		err_set(e, "shard %d has no server", n);
		goto out;
	}
	for (size_t i = 0; i < sh->nreplicas; i++) {
		struct clickhouse *ch = &sh->replicas[i];
		struct err re = { "" };
		char *pub = url_public(ch->url);

		if (clickhouse_version(ch, version, vlen, &re) == 0) {
			if (tried)
				tried(ud, n, pub, NULL);
			free(pub);
			*out = ch;
			ret = 0;
			goto out;
		}
		if (tried)
			tried(ud, n, pub, re.msg);
		strbuf_addf(&why, "%s'%s': %s", why.len ? "; " : "", pub, re.msg);
		free(pub);
		if (sh->nreplicas == 1)
			*e = re;
	}
	if (sh->nreplicas > 1)
		err_set(e, "no replica answers: %s", why.buf);
out:
	if (ret < 0 && n)
		err_wrap(e, "shard %d", n);
	strbuf_release(&why);
	return ret;
}

static void bk_replica(void *ud, int shard, const char *url, const char *error)
{
	struct bk_run *b = ud;
	struct backup_event ev = { .kind = BACKUP_EV_REPLICA, .shard = shard,
		.url = url, .error = error };

	emit(b, &ev);
}

/* The "tables" of a manifest: one shard's. */
static json_t *tables_json(struct bk_run *b, const struct bk_shard *sh)
{
	json_t *jtables = json_array();

	for (size_t i = sh->first; i < sh->first + sh->ntables; i++) {
		struct bk_table *bt = &b->tables[i];
		json_t *jt = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:O}",
				       "database", bt->t->database, "name",
				       bt->t->name, "engine", bt->t->engine,
				       "kind", clickhouse_kind_name(bt->t->kind),
				       "schema", bt->schema_key, "rows",
				       (json_int_t)bt->rows, "bytes",
				       (json_int_t)bt->bytes, "partitions",
				       bt->jparts);

		if (bt->mv)
			json_object_set_new(jt, "inner_of", json_string(bt->mv));
		json_object_set_new(jt, "structure", json_string(bt->structure));
		json_array_append_new(jtables, jt);
	}
	return jtables;
}

/* A list of the URLs of a shard's replicas, without credentials. */
static json_t *replicas_json(const struct backup_shard *sh)
{
	json_t *a = json_array();

	for (size_t i = 0; i < sh->nreplicas; i++) {
		char *pub = url_public(sh->replicas[i].url);

		json_array_append_new(a, json_string(pub));
		free(pub);
	}
	return a;
}

int backup_run(struct store *st, struct clickhouse *ch,
	       const struct backup_options *o, struct backup_result *r,
	       struct err *e)
{
	struct backup_shard one = { ch, 1 };

	return backup_run_shards(st, &one, 1, o, r, e);
}

int backup_run_shards(struct store *st, const struct backup_shard *shards,
		      size_t nshards, const struct backup_options *o,
		      struct backup_result *r, struct err *e)
{
	struct bk_run b;
	char started[32], finished[32];
	pthread_t *threads = NULL;
	int nthreads, locked = 0, ret = -1;
	json_t *manifest = NULL, *jtables = NULL;
	char *text = NULL, *mkey = NULL;
	size_t ntables_all = 0;
	struct bk_job **sjobs = NULL;
	size_t *nsjobs = NULL;

	memset(&b, 0, sizeof(b));
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&b.mu, NULL);
	b.st = st;
	b.o = o;
	b.r = r;
	b.objects = json_array();
	b.bases = json_object();
	b.nshards = nshards;
	b.shards = calloc(nshards + 1, sizeof(*b.shards));
	sjobs = calloc(nshards + 1, sizeof(*sjobs));
	nsjobs = calloc(nshards + 1, sizeof(*nsjobs));
	if (!b.shards || !sjobs || !nsjobs)
		abort();
	r->shards = nshards;
	now_rfc3339(started);
	if (o->id) {
		snprintf(r->id, sizeof(r->id), "%s", o->id);
	} else {
		time_t t = time(NULL);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(r->id, sizeof(r->id), "%Y%m%dT%H%M%SZ", &tm);
	}
	b.id = r->id;
	if (!nshards) {
		err_set(e, "no ClickHouse server to back up");
		goto out;
	}
	if (store_key_check(r->id, e) < 0 || strchr(r->id, '/')) {
		err_set(e, "'%s' is not a usable backup ID", r->id);
		goto out;
	}
	if (http_global_init(e) < 0)
		goto out;
	/* every shard answers before anything is written */
	for (size_t s = 0; s < nshards; s++) {
		struct bk_shard *sh = &b.shards[s];
		int quiet = nshards == 1 && shards[s].nreplicas == 1;

		sh->n = nshards > 1 ? (int)s + 1 : 0;
		if (sh->n)
			snprintf(sh->prefix, sizeof(sh->prefix), "shard-%d/", sh->n);
		if (pick_replica(&shards[s], sh->n, &sh->ch, sh->version,
				 sizeof(sh->version), quiet ? NULL : bk_replica,
				 &b, e) < 0)
			goto out;
		sh->ch->checksum = CLICKHOUSE_CHECKSUM_V2;	/* MANIFEST_FORMAT's */
	}
	if (backup_lock(st, e) < 0)
		goto out;
	locked = 1;
	if (o->resume && resume_pick(&b, e) < 0)
		goto out;
	/* under the lock, a taken ID (a run in the same second) gets a
	 * suffix; a given ID must be new */
	for (int n = 2; !r->resumed[0]; n++) {
		struct store_list l;
		char *prefix = full_key(r->id, "");
		int r2 = store_list(st, prefix, &l, e);

		free(prefix);
		if (r2 < 0)
			goto out;
		r2 = l.n != 0;
		store_list_release(&l);
		if (!r2)
			break;
		if (o->id || n > 99) {
			err_set(e, "backup '%s' already exists", r->id);
			goto out;
		}
		if (n == 2)
			snprintf(r->id + strlen(r->id), sizeof(r->id) - strlen(r->id), "-%d", n);
		else
			snprintf(strrchr(r->id, '-'), 8, "-%d", n);
	}
	if (o->incremental) {
		if (pick_base(&b, &b.base, e) < 0)
			goto out;
		if (b.base) {
			b.base_id = jstr(b.base, "id");
			snprintf(r->base, sizeof(r->base), "%s", b.base_id ?: "");
			b.base_id = r->base;
			for (size_t s = 0; s < nshards; s++)
				b.shards[s].base_tables = manifest_shard_tables(b.base, s);
		}
	}
	for (size_t s = 0; s < nshards; s++) {
		if (clickhouse_list_tables(b.shards[s].ch, NULL, &b.shards[s].all, e) < 0) {
			if (b.shards[s].n)
				err_wrap(e, "shard %d", b.shards[s].n);
			goto out;
		}
		ntables_all += b.shards[s].all.n;
	}
	if (o->nrecipients) {
		b.datakey = sodium_malloc(32);
		if (!b.datakey) {
			err_set(e, "out of memory");
			goto out;
		}
		randombytes_buf(b.datakey, 32);
	}
	b.tables = calloc(ntables_all + 1, sizeof(*b.tables));
	for (size_t s = 0; s < nshards; s++) {
		struct bk_shard *sh = &b.shards[s];

		sh->first = b.ntables;
		for (size_t i = 0; i < sh->all.n; i++) {
			struct clickhouse_table *t = &sh->all.v[i];
			struct bk_table *bt;

			if (t->kind == CLICKHOUSE_SKIP || !table_selected(o, t))
				continue;
			bt = &b.tables[b.ntables++];
			bt->t = t;
			bt->ch = sh->ch;
			bt->prefix = sh->prefix;
			bt->shard = sh->n;
			bt->jparts = json_array();
			if (is_inner(t->name) &&
			    !(bt->mv = inner_owner(sh->ch, t->database, t->name, e)))
				goto out;
		}
		sh->ntables = b.ntables - sh->first;
	}
	if (!b.ntables) {
		err_set(e, "no table matches");
		goto out;
	}
	/* schemas first, then the partitions to export */
	for (size_t i = 0; i < b.ntables; i++) {
		struct bk_table *bt = &b.tables[i];
		struct bk_shard *sh = &b.shards[bt->shard ? bt->shard - 1 : 0];
		size_t s = (size_t)(sh - b.shards);
		int mt;

		if (write_schema(&b, bt, e) < 0)
			goto out;
		if (bt->t->kind != CLICKHOUSE_DATA)
			continue;
		if (clickhouse_list_partitions(bt->ch, bt->t->database, bt->t->name,
					       bt->t->engine, &bt->parts, e) < 0 ||
		    clickhouse_checksum_local(bt->ch, bt->t->database, bt->t->name,
					      &bt->local_checksum, e) < 0)
			goto out;
		if (b.base)
			bt->base_table = base_table_of(sh->base_tables, bt);
		mt = clickhouse_engine_is_mergetree(bt->t->engine);
		sjobs[s] = realloc(sjobs[s], (nsjobs[s] + bt->parts.n + 1) * sizeof(**sjobs));
		for (size_t k = 0; k < bt->parts.n; k++) {
			json_t *entry = reuse_partition(&b, bt, &bt->parts.v[k]);
			int failed = 0;

			if (!entry && (entry = journal_reuse(&b, bt, &bt->parts.v[k],
							      e, &failed))) {
				/* exported before the interruption, intact */
				json_array_append_new(bt->jparts, entry);
				json_array_append(b.objects, json_object_get(entry, "object"));
				bt->rows += (uint64_t)json_integer_value(json_object_get(entry, "rows"));
				bt->bytes += (uint64_t)json_integer_value(
					json_object_get(json_object_get(entry, "object"), "size"));
				r->resumed_partitions++;
				r->partitions++;
				r->objects++;
				continue;
			}
			if (failed)
				goto out;
			json_array_append_new(bt->jparts, entry ? entry : json_null());
			if (!entry) {
				sjobs[s][nsjobs[s]++] = (struct bk_job){ i, k,
					mt ? bt->parts.v[k].bytes : UINT64_MAX };
				bt->remaining++;
				continue;
			}
			/* unchanged since the base: referenced, not exported */
			json_array_append(b.objects, json_object_get(entry, "object"));
			bt->rows += (uint64_t)json_integer_value(json_object_get(entry, "rows"));
			bt->reused++;
			r->reused++;
			r->partitions++;
		}
	}
	/* the shards' jobs interleaved: every shard is read from at once */
	{
		size_t total = 0, left;

		for (size_t s = 0; s < nshards; s++) {
			if (nsjobs[s])
				qsort(sjobs[s], nsjobs[s], sizeof(*sjobs[s]), job_cmp);
			total += nsjobs[s];
		}
		b.jobs = calloc(total + 1, sizeof(*b.jobs));
		left = total;
		for (size_t k = 0; left; k++)
			for (size_t s = 0; s < nshards; s++)
				if (k < nsjobs[s]) {
					b.jobs[b.njobs++] = sjobs[s][k];
					left--;
				}
	}
	for (size_t i = 0; i < b.ntables; i++)
		if (b.tables[i].t->kind == CLICKHOUSE_DATA && !b.tables[i].remaining)
			table_done(&b, &b.tables[i], NULL);
	/* --parallel is per shard */
	nthreads = (o->parallel > 0 ? o->parallel : BACKUP_PARALLEL) * (int)nshards;
	if ((size_t)nthreads > b.njobs)
		nthreads = b.njobs ? (int)b.njobs : 1;
	threads = calloc((size_t)nthreads, sizeof(*threads));
	store_set_writers(b.st, nthreads);
	for (int i = 0; i < nthreads; i++)
		pthread_create(&threads[i], NULL, worker, &b);
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	store_set_writers(b.st, 1);
	r->tables = b.ntables;
	for (size_t i = 0; i < b.ntables; i++) {
		struct bk_table *bt = &b.tables[i];
		struct bk_shard *sh = &b.shards[bt->shard ? bt->shard - 1 : 0];

		r->rows += bt->rows;
		r->bytes += bt->bytes + bt->schema_size;
		sh->rows += bt->rows;
		sh->bytes += bt->bytes + bt->schema_size;
	}
	if (r->failed_tables) {
		err_set(e, "%" PRIu64 " of %zu tables failed; no manifest was "
			"written: %s", r->failed_tables, b.ntables,
			r->first_error);
		goto out;
	}

	now_rfc3339(finished);
	manifest = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}",
			     "format", MANIFEST_FORMAT, "id", r->id, "time", started,
			     "finished", finished, "server_version",
			     b.shards[0].version, "tables_count",
			     (json_int_t)b.ntables, "rows", (json_int_t)r->rows,
			     "bytes", (json_int_t)r->bytes);
	if (nshards > 1) {
		json_t *jshards = json_array();

		for (size_t s = 0; s < nshards; s++) {
			struct bk_shard *sh = &b.shards[s];
			char *pub = url_public(sh->ch->url);

			json_array_append_new(jshards, json_pack(
				"{s:i, s:s, s:s, s:o, s:s, s:I, s:I, s:I, s:o}",
				"shard", sh->n, "prefix", sh->prefix, "url", pub,
				"replicas", replicas_json(&shards[s]),
				"server_version", sh->version, "tables_count",
				(json_int_t)sh->ntables, "rows", (json_int_t)sh->rows,
				"bytes", (json_int_t)sh->bytes, "tables",
				tables_json(&b, sh)));
			free(pub);
		}
		json_object_set_new(manifest, "shards", jshards);
	} else {
		json_object_set_new(manifest, "tables", tables_json(&b, &b.shards[0]));
		if (shards[0].nreplicas > 1) {
			char *pub = url_public(b.shards[0].ch->url);

			json_object_set_new(manifest, "url", json_string(pub));
			json_object_set_new(manifest, "replicas", replicas_json(&shards[0]));
			free(pub);
		}
	}
	json_object_set(manifest, "objects", b.objects);
	json_object_set_new(manifest, "encryption",
			    b.datakey ? encryption_json(&b) : json_null());
	json_object_set_new(manifest, "base", b.base ? json_string(b.base_id) : json_null());
	json_object_set_new(manifest, "chain", json_integer(b.base ?
		json_integer_value(json_object_get(b.base, "chain")) + 1 : 0));
	json_object_set(manifest, "bases", b.bases);
	text = json_dumps(manifest, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	mkey = full_key(r->id, "manifest.json");
	if (!text || store_put(st, mkey, text, strlen(text),
			       STORE_CREATE_EXCLUSIVE, NULL, e) < 0) {
		if (!text)
			err_set(e, "out of memory");
		err_wrap(e, "cannot write the manifest");
		goto out;
	}
	journal_delete(&b);
	ret = 0;
out:
	if (locked)
		backup_unlock(st);
	for (size_t i = 0; i < b.ntables; i++) {
		clickhouse_partitions_release(&b.tables[i].parts);
		json_decref(b.tables[i].jparts);
		free(b.tables[i].mv);
		free(b.tables[i].schema_key);
	}
	for (size_t s = 0; s < nshards; s++) {
		clickhouse_tables_release(&b.shards[s].all);
		free(sjobs[s]);
	}
	free(b.shards);
	free(sjobs);
	free(nsjobs);
	free(b.tables);
	free(b.jobs);
	free(threads);
	if (b.datakey)
		sodium_free(b.datakey);
	json_decref(b.objects);
	json_decref(b.bases);
	json_decref(b.journal);
	json_decref(b.base);
	json_decref(jtables);
	json_decref(manifest);
	free(text);
	free(mkey);
	pthread_mutex_destroy(&b.mu);
	if (ret < 0)
		err_wrap(e, "backup");
	return ret;
}

/* ---------------------------------------------------------------- */
/* listing                                                           */

static int info_cmp(const void *a, const void *b)
{
	return strcmp(((const struct backup_info *)a)->id,
		      ((const struct backup_info *)b)->id);
}

/*
 * Every backup in the store by its objects alone, oldest first: its ID,
 * the time of its newest object, its bytes, and whether it has a
 * manifest (complete) or was pruned. No manifest is read.
 */
static int backup_list_objects(struct store *st, struct backup_infos *out,
			       struct err *e)
{
	struct store_list l = { 0 };
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (store_list(st, "", &l, e) < 0)
		goto out;
	out->v = calloc(l.n + 1, sizeof(*out->v));
	for (size_t i = 0; i < l.n; i++) {
		const char *k = l.v[i].key, *slash = strchr(k, '/');
		struct backup_info *bi;

		if (!slash)
			continue;
		if (!out->n || strncmp(out->v[out->n - 1].id, k, (size_t)(slash - k)) ||
		    out->v[out->n - 1].id[slash - k]) {
			bi = &out->v[out->n++];
			bi->id = strndup(k, (size_t)(slash - k));
			{
				char t[32];

				rfc3339((time_t)l.v[i].mtime, t);
				bi->time = strdup(t);
			}
		}
		bi = &out->v[out->n - 1];
		bi->bytes += l.v[i].size;
		if (!strcmp(slash + 1, "manifest.json"))
			bi->complete = 1;
		if (!strcmp(slash + 1, BACKUP_PRUNED_KEY))
			bi->pruned = 1;
	}
	for (size_t i = 0; i < out->n; i++)
		if (out->v[i].complete)
			out->v[i].pruned = 0;
	qsort(out->v, out->n, sizeof(*out->v), info_cmp);
	ret = 0;
out:
	if (ret < 0)
		backup_infos_release(out);
	store_list_release(&l);
	return ret;
}

/* The manifest of a backup listed complete; *m NULL when it does not
 * parse (the backup then counts as incomplete). */
static int listed_manifest(struct store *st, const char *id, struct strbuf *mb,
			   json_t **m, struct err *e)
{
	char *k = full_key(id, "manifest.json");
	int r = store_get_buffer(st, k, MANIFEST_MAX, mb, NULL, e);

	free(k);
	*m = NULL;
	if (r < 0)
		return -1;
	if (backup_manifest_parse(m, mb->buf, mb->len, &(struct err){ 0 }) < 0)
		*m = NULL;
	return 0;
}

int backup_list(struct store *st, struct backup_infos *out, struct err *e)
{
	struct strbuf mb = STRBUF_INIT;
	int ret = -1;

	strbuf_init(&mb, 0);
	if (backup_list_objects(st, out, e) < 0)
		goto out;
	for (size_t i = 0; i < out->n; i++) {
		struct backup_info *bi = &out->v[i];
		json_t *m;

		if (!bi->complete)
			continue;
		if (listed_manifest(st, bi->id, &mb, &m, e) < 0)
			goto out;
		if (!m) {
			/* unreadable: not good */
			bi->complete = 0;
			continue;
		}
		free(bi->time);
		bi->time = strdup(jstr(m, "time") ?: "");
		bi->rows = (uint64_t)json_integer_value(json_object_get(m, "rows"));
		bi->shards = manifest_nshards(m);
		for (size_t s = 0; s < bi->shards; s++)
			bi->tables += json_array_size(manifest_shard_tables(m, s));
		bi->encrypted = json_is_object(json_object_get(m, "encryption"));
		bi->server_version = strdup(json_string_value(
			json_object_get(m, "server_version")) ?: "");
		json_decref(m);
	}
	ret = 0;
out:
	if (ret < 0)
		backup_infos_release(out);
	strbuf_release(&mb);
	return ret;
}

void backup_infos_release(struct backup_infos *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].id);
		free(l->v[i].time);
		free(l->v[i].server_version);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---------------------------------------------------------------- */
/* data keys                                                         */

/* The data key sealed in enc for key; *out NULL when enc is not an object
 * (a plain backup). id names the backup in messages. */
static int unwrap_data_key(json_t *enc, const struct keys_secret *key,
			   const char *id, unsigned char **out, struct err *e)
{
	json_t *rc;
	size_t i;

	*out = NULL;
	if (!json_is_object(enc))
		return 0;
	if (!key)
		return err_set(e, "backup '%s' is encrypted: give its key with -k KEYFILE",
			       id);
	json_array_foreach(json_object_get(enc, "recipients"), i, rc) {
		const char *kid = jstr(rc, "key_id") ?: "";
		const char *b64 = jstr(rc, "data_key") ?: "";
		unsigned char sealed[crypto_box_SEALBYTES + 32];
		size_t n = 0;

		if (strcmp(kid, key->pub.id_hex))
			continue;
		if (sodium_base642bin(sealed, sizeof(sealed), b64, strlen(b64),
				      NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) ||
		    n != sizeof(sealed))
			return err_set(e, "the manifest's data key for %s is damaged", kid);
		*out = sodium_malloc(32);
		if (!*out)
			return err_set(e, "out of memory");
		if (crypto_box_seal_open(*out, sealed, sizeof(sealed),
					 key->pub.pk, key->sk) != 0) {
			sodium_free(*out);
			*out = NULL;
			return err_set(e, "the data key does not open with key %s "
				       "(wrong key)", kid);
		}
		return 0;
	}
	{
		struct strbuf ids = STRBUF_INIT;

		strbuf_init(&ids, 0);
		json_array_foreach(json_object_get(enc, "recipients"), i, rc)
			strbuf_addf(&ids, "%s%s", i ? ", " : "",
				    jstr(rc, "key_id") ?: "?");
		err_set(e, "backup '%s' is not encrypted to key %s (its recipients: %s)",
			id, key->pub.id_hex, ids.buf ? ids.buf : "none");
		strbuf_release(&ids);
		return -1;
	}
}

/* Data keys of a backup and of the backups holding objects it references. */
struct key_ring {
	struct ring_key {
		char *id;
		unsigned char *key;	/* sodium_malloc; NULL: plain */
	} *v;
	size_t n;
};

static void ring_release(struct key_ring *kr)
{
	for (size_t i = 0; i < kr->n; i++) {
		free(kr->v[i].id);
		if (kr->v[i].key)
			sodium_free(kr->v[i].key);
	}
	free(kr->v);
	memset(kr, 0, sizeof(*kr));
}

static int ring_add(struct key_ring *kr, const char *id, json_t *enc,
		    const struct keys_secret *key, struct err *e)
{
	unsigned char *k;

	if (unwrap_data_key(enc, key, id, &k, e) < 0)
		return -1;
	kr->v = realloc(kr->v, (kr->n + 1) * sizeof(*kr->v));
	if (!kr->v)
		abort();
	kr->v[kr->n].id = strdup(id);
	kr->v[kr->n++].key = k;
	return 0;
}

/* Open every key a manifest needs: a wrong key fails here, before any
 * object is read. */
static int ring_open(struct key_ring *kr, json_t *m, const char *id,
		     const struct keys_secret *key, struct err *e)
{
	const char *h;
	json_t *enc;

	if (ring_add(kr, id, json_object_get(m, "encryption"), key, e) < 0)
		return -1;
	json_object_foreach(json_object_get(m, "bases"), h, enc)
		if (ring_add(kr, h, enc, key, e) < 0)
			return -1;
	return 0;
}

/* The data key of holder; NULL for a plain backup. */
static const unsigned char *ring_get(const struct key_ring *kr, const char *holder)
{
	for (size_t i = 0; i < kr->n; i++)
		if (!strcmp(kr->v[i].id, holder))
			return kr->v[i].key;
	return kr->n ? kr->v[0].key : NULL;
}

/* ---------------------------------------------------------------- */
/* verify                                                            */

static int discard(void *ud, const void *data, size_t len, struct err *e)
{
	return 0;
}

static void vf_problem(const struct verify_options *o, struct verify_result *r,
		       const char *key, const char *holder, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void vf_problem(const struct verify_options *o, struct verify_result *r,
		       const char *key, const char *holder, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	struct verify_problem p = { key, holder, msg };

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->problems++;
	if (o->on_problem)
		o->on_problem(o->ud, &p);
}

int backup_verify(struct store *st, const char *id,
		  const struct verify_options *o, struct verify_result *r,
		  struct err *e)
{
	struct key_ring ring = { 0 };
	json_t *m = NULL, *obj;
	size_t i;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	if (store_key_check(id, e) < 0 || strchr(id, '/')) {
		err_set(e, "'%s' is not a backup ID", id);
		goto out;
	}
	if (load_manifest(st, id, &m, NULL, e) < 0)
		goto out;
	r->encrypted = json_is_object(json_object_get(m, "encryption"));
	if (o->read_data && o->key) {
		struct err ke = { { 0 } };

		if (ring_open(&ring, m, id, o->key, &ke) < 0) {
			vf_problem(o, r, "manifest.json", id, "%s", ke.msg);
			ret = 0;
			goto out;
		}
		r->decrypted = r->encrypted;
	}
	json_array_foreach(json_object_get(m, "objects"), i, obj) {
		const char *rel = jstr(obj, "key") ?: "";
		const char *holder = obj_holder(obj, id);
		const char *want = jstr(obj, "blake2b") ?: "";
		uint64_t want_size = (uint64_t)json_integer_value(json_object_get(obj, "size"));
		char *key = full_key(holder, rel);
		uint64_t size = 0;
		int found = 0;

		r->objects++;
		if (!o->read_data) {
			if (store_head(st, key, &found, &size, e) < 0) {
				free(key);
				goto out;
			}
		} else {
			struct obj_reader rd;
			struct err re = { { 0 } };
			char hash[2 * HASH_BYTES + 1];
			int got;

			if (or_init(&rd, ring.n ? ring_get(&ring, holder) : NULL, rel,
				    discard, NULL, e) < 0) {
				or_release(&rd);
				free(key);
				goto out;
			}
			got = store_get(st, key, or_feed, &rd, &found, &re);
			if (got == 0 && found)
				got = or_finish(&rd, hash, &re);
			size = rd.size;
			or_release(&rd);
			if (got < 0) {
				vf_problem(o, r, rel, holder, "%s", re.msg);
				free(key);
				continue;
			}
			if (found && strcmp(hash, want)) {
				vf_problem(o, r, rel, holder, "does not match its BLAKE2b "
					   "in the manifest (corrupt)");
				free(key);
				continue;
			}
		}
		free(key);
		if (!found) {
			vf_problem(o, r, rel, holder, "is missing");
			continue;
		}
		if (size != want_size) {
			vf_problem(o, r, rel, holder, "has %" PRIu64 " bytes, the "
				   "manifest says %" PRIu64, size, want_size);
			continue;
		}
		r->bytes += size;
	}
	ret = 0;
out:
	ring_release(&ring);
	json_decref(m);
	if (ret < 0)
		err_wrap(e, "verify '%s'", id);
	return ret;
}

/* ---------------------------------------------------------------- */
/* prune                                                             */

/* One backup folder of the store. */
struct pr_group {
	char *id;
	size_t first, n;	/* its objects in the listing */
	int complete, pruned;
	int64_t time, newest_mtime;
	char time_s[32];
	int keep;
	char *why;
};

/* "holder/key" of an object a kept backup references, and who. */
struct pr_ref {
	char *full;
	const char *by;		/* the kept backup's ID */
};

static int ref_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pr_ref *)a)->full,
		      ((const struct pr_ref *)b)->full);
}

static const struct pr_ref *ref_find(const struct pr_ref *v, size_t n,
				     const char *full)
{
	struct pr_ref k = { (char *)full, NULL };

	return n ? bsearch(&k, v, n, sizeof(*v), ref_cmp) : NULL;
}

static void add_word(struct strbuf *sb, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = sb->buf; p && (p = strstr(p, w)); p += n)
		if ((p == sb->buf || p[-1] == ' ') && (p[n] == ',' || !p[n]))
			return;
	strbuf_addf(sb, "%s%s", sb->len ? ", " : "", w);
}

/* Delete the objects of g that no kept backup references (all of them
 * when refs is empty); count what stays. */
static int pr_sweep(struct store *st, const struct prune_options *o,
		    const struct store_list *l, const struct pr_group *g,
		    const struct pr_ref *refs, size_t nrefs,
		    struct prune_event *ev, struct strbuf *kept_for,
		    int keep_marker, struct err *e)
{
	/* the manifest goes first: a half-deleted backup is never complete */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = g->first; i < g->first + g->n; i++) {
			const char *k = l->v[i].key;
			const char *rel = k + strlen(g->id) + 1;
			const struct pr_ref *ref;
			int is_manifest = !strcmp(rel, "manifest.json");

			if (pass == 0 ? !is_manifest : is_manifest)
				continue;
			if (keep_marker && !strcmp(rel, BACKUP_PRUNED_KEY))
				continue;
			if ((ref = ref_find(refs, nrefs, k))) {
				ev->kept++;
				add_word(kept_for, ref->by);
				continue;
			}
			if (!o->dry_run && store_delete(st, k, e) < 0)
				return -1;
			ev->deleted++;
			ev->deleted_bytes += l->v[i].size;
		}
	return 0;
}

int backup_prune(struct store *st, const struct prune_options *o,
		 struct prune_result *r, struct err *e)
{
	struct store_list l = { 0 };
	struct pr_group *g = NULL;
	struct pr_ref *refs = NULL;
	size_t ng = 0, nrefs = 0, ncomplete = 0;
	int64_t *times = NULL;
	int *keep = NULL;
	char **why = NULL;
	size_t *ci = NULL;
	int locked = 0, ret = -1;

	memset(r, 0, sizeof(*r));
	if (retention_empty(&o->policy)) {
		err_set(e, "no retention rule: give --keep-* or set backups.keep");
		goto out;
	}
	if (!o->dry_run) {
		if (backup_lock(st, e) < 0)
			goto out;
		locked = 1;
	}
	if (store_list(st, "", &l, e) < 0)
		goto out;
	g = calloc(l.n + 1, sizeof(*g));
	for (size_t i = 0; i < l.n; i++) {
		const char *k = l.v[i].key, *slash = strchr(k, '/');
		struct pr_group *x;

		if (!slash)
			continue;	/* the lock */
		if (!ng || strncmp(g[ng - 1].id, k, (size_t)(slash - k)) ||
		    g[ng - 1].id[slash - k]) {
			x = &g[ng++];
			x->id = strndup(k, (size_t)(slash - k));
			x->first = i;
		}
		x = &g[ng - 1];
		x->n++;
		if (l.v[i].mtime > x->newest_mtime)
			x->newest_mtime = l.v[i].mtime;
		if (!strcmp(slash + 1, "manifest.json"))
			x->complete = 1;
		if (!strcmp(slash + 1, BACKUP_PRUNED_KEY))
			x->pruned = 1;
	}
	times = calloc(ng + 1, sizeof(*times));
	keep = calloc(ng + 1, sizeof(*keep));
	why = calloc(ng + 1, sizeof(*why));
	ci = calloc(ng + 1, sizeof(*ci));
	for (size_t i = 0; i < ng; i++) {
		json_t *m = NULL;
		const char *t;

		if (!g[i].complete)
			continue;
		if (load_manifest(st, g[i].id, &m, NULL, e) < 0)
			goto out;
		t = jstr(m, "time");
		if (parse_rfc3339(t, &g[i].time) < 0) {
			err_set(e, "the manifest of '%s' has no valid time", g[i].id);
			json_decref(m);
			goto out;
		}
		snprintf(g[i].time_s, sizeof(g[i].time_s), "%s", t);
		json_decref(m);
		times[ncomplete] = g[i].time;
		ci[ncomplete++] = i;
	}
	if (retention_apply(&o->policy, times, ncomplete, o->now, keep, why, e) < 0)
		goto out;
	for (size_t k = 0; k < ncomplete; k++) {
		g[ci[k]].keep = keep[k];
		g[ci[k]].why = why[k];
		why[k] = NULL;
	}
	/* what the kept backups reference: their own objects and others' */
	for (size_t i = 0; i < ng; i++) {
		json_t *m = NULL, *obj;
		size_t k;

		if (!g[i].complete || !g[i].keep)
			continue;
		if (load_manifest(st, g[i].id, &m, NULL, e) < 0)
			goto out;
		refs = realloc(refs, (nrefs + json_array_size(json_object_get(m, "objects")) + 2) *
			       sizeof(*refs));
		refs[nrefs++] = (struct pr_ref){ full_key(g[i].id, "manifest.json"), g[i].id };
		json_array_foreach(json_object_get(m, "objects"), k, obj)
			refs[nrefs++] = (struct pr_ref){
				full_key(obj_holder(obj, g[i].id),
					 jstr(obj, "key") ?: ""),
				g[i].id };
		json_decref(m);
	}
	if (nrefs)
		qsort(refs, nrefs, sizeof(*refs), ref_cmp);

	for (size_t i = 0; i < ng; i++) {
		struct prune_event ev = { .id = g[i].id, .time = g[i].time_s };
		struct strbuf kept_for = STRBUF_INIT, reason = STRBUF_INIT;
		char when[32];
		int rc = 0;

		strbuf_init(&kept_for, 0);
		strbuf_init(&reason, 0);
		if (!g[i].complete) {
			rfc3339((time_t)g[i].newest_mtime, when);
			ev.time = when;
		}
		if (g[i].complete && g[i].keep) {
			ev.action = PRUNE_KEEP;
			ev.why = g[i].why;
			r->kept++;
		} else if (g[i].complete) {
			ev.action = PRUNE_FORGET;
			ev.why = "no rule keeps it";
			rc = pr_sweep(st, o, &l, &g[i], refs, nrefs, &ev, &kept_for, 0, e);
			r->forgotten++;
		} else if (g[i].pruned) {
			rc = pr_sweep(st, o, &l, &g[i], refs, nrefs, &ev, &kept_for, 1, e);
			ev.action = ev.kept ? PRUNE_PRUNED_KEEP : PRUNE_PRUNED_REMOVE;
			ev.why = "forgotten earlier";
			if (!rc && !ev.kept) {
				char *mk = full_key(g[i].id, BACKUP_PRUNED_KEY);

				if (!o->dry_run)
					rc = store_delete(st, mk, e);
				ev.deleted++;
				free(mk);
			}
		} else if (o->now - g[i].newest_mtime > o->grace) {
			ev.action = PRUNE_INCOMPLETE_REMOVE;
			strbuf_addf(&reason, "incomplete, last written %s, older than "
				    "the grace period", when);
			ev.why = reason.buf;
			/* Its abandoned multipart uploads went when the lock was
			 * taken (backup_lock sweeps the store). */
			rc = pr_sweep(st, o, &l, &g[i], refs, nrefs, &ev, &kept_for, 0, e);
			r->incomplete_removed++;
		} else {
			ev.action = PRUNE_INCOMPLETE_KEEP;
			strbuf_addf(&reason, "incomplete, last written %s, within the "
				    "grace period (still running?)", when);
			ev.why = reason.buf;
		}
		/* a forgotten backup that still holds others' objects says so */
		if (!rc && ev.action == PRUNE_FORGET && ev.kept) {
			struct strbuf mk = STRBUF_INIT;
			char now_s[32];
			char *key = full_key(g[i].id, BACKUP_PRUNED_KEY);
			json_t *j;
			char *text;

			rfc3339((time_t)o->now, now_s);
			j = json_pack("{s:s, s:s, s:s}", "pruned", now_s, "time",
				      g[i].time_s, "kept_for", kept_for.buf);
			text = json_dumps(j, JSON_INDENT(1));
			strbuf_init(&mk, 0);
			if (!o->dry_run)
				rc = store_put(st, key, text, strlen(text), 0, NULL, e);
			free(text);
			free(key);
			json_decref(j);
			strbuf_release(&mk);
		}
		ev.kept_for = kept_for.len ? kept_for.buf : NULL;
		r->deleted += ev.deleted;
		r->deleted_bytes += ev.deleted_bytes;
		if (!rc && o->on_event)
			o->on_event(o->ud, &ev);
		strbuf_release(&kept_for);
		strbuf_release(&reason);
		if (rc < 0) {
			err_wrap(e, "cannot prune '%s'", g[i].id);
			goto out;
		}
	}
	ret = 0;
out:
	if (locked)
		backup_unlock(st);
	for (size_t i = 0; i < ng; i++) {
		free(g[i].id);
		free(g[i].why);
	}
	for (size_t i = 0; i < ncomplete; i++)
		free(why[i]);
	for (size_t i = 0; i < nrefs; i++)
		free(refs[i].full);
	free(g);
	free(refs);
	free(times);
	free(keep);
	free(why);
	free(ci);
	store_list_release(&l);
	if (ret < 0)
		err_wrap(e, "prune");
	return ret;
}

/* ---------------------------------------------------------------- */
/* restore                                                           */

struct rs_run {
	struct store *st;
	struct clickhouse *ch;
	const struct restore_options *o;
	const char *id;
	json_t *manifest;
	unsigned char *datakey;		/* its own; sodium_malloc, or NULL */
	struct key_ring ring;		/* its own and its bases' */
	struct restore_result *r;
	int shard;			/* restoring shard N into its own server */
	int merged;			/* every shard of a sharded backup into
					   one server */
	struct clickhouse *insert_ch;	/* the server insert_params is for */
	const char *insert_params;	/* URL parameters of a staging INSERT */
	uint64_t done_bytes, total_bytes, done_rows, total_rows;
};

/* Is db the OLD of an "OLD=NEW" map? OLD ends at the first '='. */
static int map_old_is(const char *map, const char *db)
{
	const char *eq = strchr(map, '=');

	return eq && (size_t)(eq - map) == strlen(db) &&
		!strncmp(map, db, (size_t)(eq - map));
}

static const char *map_db(const struct restore_options *o, const char *db)
{
	for (size_t i = 0; i < o->ndb_map; i++)
		if (map_old_is(o->db_map[i], db))
			return strchr(o->db_map[i], '=') + 1;
	return db;
}

/*
 * Rewrite database names in a CREATE statement: "old." and "`old`." as
 * whole identifiers outside string literals become "`new`.".
 */
static int rewrite_dbs(const struct restore_options *o, const char *sql,
		       struct strbuf *out)
{
	const char *p = sql;
	char quote = 0;

	strbuf_reset(out);
	while (*p) {
		int done = 0;

		if (quote) {
			if (*p == '\\' && p[1]) {
				strbuf_add(out, p, 2);
				p += 2;
				continue;
			}
			if (*p == quote)
				quote = 0;
			strbuf_addch(out, *p++);
			continue;
		}
		if (*p == '\'') {
			quote = *p;
			strbuf_addch(out, *p++);
			continue;
		}
		if (p == sql || !(isalnum((unsigned char)p[-1]) || p[-1] == '_' ||
				  p[-1] == '.' || p[-1] == '`')) {
			for (size_t i = 0; i < o->ndb_map && !done; i++) {
				const char *eq = strchr(o->db_map[i], '=');
				size_t n = (size_t)(eq - o->db_map[i]);
				int bq = *p == '`';
				const char *name = p + bq;

				if (strncmp(name, o->db_map[i], n) ||
				    (bq && name[n] != '`'))
					continue;
				if (name[n + bq] != '.')
					continue;
				strbuf_addch(out, '`');
				strbuf_addstr(out, eq + 1);
				strbuf_addstr(out, "`.");
				p = name + n + bq + 1;
				done = 1;
			}
			if (done)
				continue;
			if (*p == '`') {
				/* copy a quoted identifier whole */
				const char *end = strchr(p + 1, '`');

				if (end) {
					strbuf_add(out, p, (size_t)(end - p + 1));
					p = end + 1;
					continue;
				}
			}
		}
		strbuf_addch(out, *p++);
	}
	return 0;
}

static int rs_sql(struct rs_run *rs, struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int rs_sql(struct rs_run *rs, struct err *e, const char *fmt, ...)
{
	struct strbuf q = STRBUF_INIT, out = STRBUF_INIT;
	va_list ap;
	int r;

	strbuf_init(&q, 0);
	strbuf_init(&out, 1 << 20);
	va_start(ap, fmt);
	strbuf_vaddf(&q, fmt, ap);
	va_end(ap);
	r = clickhouse_query(rs->ch, q.buf, 0, &out, e);
	if (r < 0 && !rs->ch->settings &&
	    strstr(e->msg, "allow_experimental_low_cardinality_type")) {
		/* 18.x and 19.x: a LowCardinality column is created only
		 * under this setting, which later versions do not know */
		log_debug("clickhouse: asking again with "
			  "allow_experimental_low_cardinality_type=1");
		rs->ch->settings = "allow_experimental_low_cardinality_type=1";
		strbuf_reset(&out);
		r = clickhouse_query(rs->ch, q.buf, 0, &out, e);
	}
	strbuf_release(&q);
	strbuf_release(&out);
	return r;
}

/* "`db`.`table`" into a static-ish buffer owned by the caller. */
static char *qname(const char *db, const char *table)
{
	struct strbuf s = STRBUF_INIT;

	strbuf_init(&s, 0);
	clickhouse_quote_ident(&s, db);
	strbuf_addch(&s, '.');
	clickhouse_quote_ident(&s, table);
	return strbuf_detach(&s, NULL);
}

static int table_exists(struct rs_run *rs, const char *db, const char *table,
			int *exists, struct err *e)
{
	struct strbuf q = STRBUF_INIT, out = STRBUF_INIT;
	char *qn = qname(db, table);
	int r;

	strbuf_init(&q, 0);
	strbuf_init(&out, 4096);
	strbuf_addf(&q, "EXISTS TABLE %s FORMAT TabSeparated", qn);
	r = clickhouse_query(rs->ch, q.buf, 0, &out, e);
	*exists = r == 0 && out.len && out.buf[0] == '1';
	free(qn);
	strbuf_release(&q);
	strbuf_release(&out);
	return r;
}

/* Read a whole object (schema), checked against its manifest entry. */
static int rs_read_small(struct rs_run *rs, const char *rel, json_t *obj,
			 struct strbuf *out, struct err *e);

static int buf_out(void *ud, const void *data, size_t len, struct err *e)
{
	if (strbuf_add(ud, data, len) < 0)
		return err_set(e, "object too big");
	return 0;
}

static json_t *find_object(struct rs_run *rs, const char *rel)
{
	json_t *objs = json_object_get(rs->manifest, "objects"), *o;
	size_t i;

	json_array_foreach(objs, i, o)
		if (!strcmp(jstr(o, "key") ?: "", rel))
			return o;
	return NULL;
}

static int rs_read_small(struct rs_run *rs, const char *rel, json_t *obj,
			 struct strbuf *out, struct err *e)
{
	struct obj_reader rd;
	char hash[2 * HASH_BYTES + 1];
	char *key = full_key(rs->id, rel);
	int ret = -1;

	strbuf_reset(out);
	out->max = 16u << 20;
	if (or_init(&rd, rs->datakey, rel, buf_out, out, e) < 0)
		goto out;
	if (store_get(rs->st, key, or_feed, &rd, NULL, e) < 0 ||
	    or_finish(&rd, hash, e) < 0)
		goto out;
	if (!obj || strcmp(hash, jstr(obj, "blake2b") ?: "")) {
		err_set(e, "'%s' does not match its BLAKE2b in the manifest", rel);
		goto out;
	}
	ret = 0;
out:
	or_release(&rd);
	free(key);
	if (ret < 0)
		err_wrap(e, "cannot read '%s'", rel);
	return ret;
}

/* The restore pipe: a thread reads the object into the INSERT's body. */
struct pump {
	struct rs_run *rs;
	const char *holder;		/* the backup the object is in */
	const char *rel;
	int fd;
	struct obj_reader rd;
	char hash[2 * HASH_BYTES + 1];
	int failed;
	struct err e;
};

static int fd_out(void *ud, const void *data, size_t len, struct err *e)
{
	struct pump *pu = ud;
	const char *p = data;

	while (len) {
		ssize_t n = write(pu->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_errno(e, "cannot pass the data on");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void *pump_main(void *ud)
{
	struct pump *pu = ud;
	char *key = full_key(pu->holder, pu->rel);
	sigset_t set;

	/* a failed INSERT closes the pipe: EPIPE, not a signal */
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (store_get(pu->rs->st, key, or_feed, &pu->rd, NULL, &pu->e) < 0 ||
	    or_finish(&pu->rd, pu->hash, &pu->e) < 0)
		pu->failed = 1;
	close(pu->fd);
	free(key);
	return NULL;
}

/*
 * The URL parameters of a staging INSERT into rs->ch. Since 20.x a server
 * merges the rows of an inserted block that share a sorting key in a
 * Replacing, Summing, Aggregating or Collapsing MergeTree table
 * (optimize_on_insert): the partition's unmerged parts would be staged
 * with fewer rows than they hold. Older servers refuse the setting.
 */
static const char *insert_params(struct rs_run *rs, struct err *e)
{
	int has;

	if (rs->insert_ch == rs->ch)
		return rs->insert_params;
	if (clickhouse_has_setting(rs->ch, "optimize_on_insert", &has, e) < 0)
		return NULL;
	rs->insert_ch = rs->ch;
	rs->insert_params = has ?
		"decompress=1&insert_allow_materialized_columns=1&optimize_on_insert=0" :
		"decompress=1&insert_allow_materialized_columns=1";
	return rs->insert_params;
}

/* Stream one data object into stage; check its hash. */
static int stage_object(struct rs_run *rs, const char *stage_q, const char *rel,
			json_t *obj, uint64_t *bytes, struct err *e)
{
	const char *holder = obj_holder(obj, rs->id);
	const unsigned char *dk = ring_get(&rs->ring, holder);
	struct pump pu;
	pthread_t th;
	int fds[2], ret = -1, ins;
	struct strbuf sql = STRBUF_INIT;
	struct err ie = { { 0 } };
	const char *params = insert_params(rs, e);

	if (!params)
		return -1;
	memset(&pu, 0, sizeof(pu));
	if (pipe2(fds, O_CLOEXEC) < 0)
		return err_errno(e, "cannot make a pipe");
	pu.rs = rs;
	pu.holder = holder;
	pu.rel = rel;
	pu.fd = fds[1];
	if (or_init(&pu.rd, dk, rel, fd_out, &pu, e) < 0) {
		close(fds[0]);
		close(fds[1]);
		or_release(&pu.rd);
		return -1;
	}
	strbuf_init(&sql, 0);
	strbuf_addf(&sql, "INSERT INTO %s FORMAT Native", stage_q);
	pthread_create(&th, NULL, pump_main, &pu);
	ins = clickhouse_insert_fd(rs->ch, sql.buf, params, fds[0], &ie);
	close(fds[0]);
	pthread_join(th, NULL);
	if (pu.failed) {
		*e = pu.e;
		goto out;
	}
	if (strcmp(pu.hash, jstr(obj, "blake2b") ?: "")) {
		err_set(e, "'%s' does not match its BLAKE2b in the manifest "
			"(corrupt); nothing of it was restored", rel);
		goto out;
	}
	if (ins < 0) {
		*e = ie;
		goto out;
	}
	*bytes = pu.rd.size;
	ret = 0;
out:
	or_release(&pu.rd);
	strbuf_release(&sql);
	return ret;
}

/* count() and checksum of a whole table (a stage, a Log table). */
static int stats_of(struct rs_run *rs, const char *db, const char *table,
		    uint64_t *rows, uint64_t *sum, struct err *e)
{
	return clickhouse_partition_stats(rs->ch, db, table, NULL, rows, sum, e);
}

/*
 * count() and checksum of partition p of a listed table: through its key's
 * value and id (ClickHouse 18.16 reads the whole table for the id alone),
 * or the id alone where the value selects nothing.
 */
static int slice_stats(struct rs_run *rs, const char *db, const char *table,
		       const struct clickhouse_partitions *ps,
		       const struct clickhouse_partition *p, uint64_t *rows,
		       uint64_t *sum, struct err *e)
{
	struct clickhouse_slice slice = clickhouse_slice_of(ps, p);

	if (clickhouse_partition_stats(rs->ch, db, table, &slice, rows, sum, e) < 0)
		return -1;
	if (clickhouse_slice_exact(&slice, *rows, p->rows))
		return 0;
	slice.key = NULL;
	return clickhouse_partition_stats(rs->ch, db, table, &slice, rows, sum, e);
}

/* count() and checksum of partition pid of a table (0 and 0 when it has
 * no such partition); pid NULL: the whole table. */
static int part_stats(struct rs_run *rs, const char *db, const char *table,
		      const char *engine, const char *pid, uint64_t *rows,
		      uint64_t *sum, struct err *e)
{
	struct clickhouse_partitions ps;
	int ret = 0;

	if (!pid)
		return stats_of(rs, db, table, rows, sum, e);
	if (clickhouse_list_partitions(rs->ch, db, table, engine, &ps, e) < 0)
		return -1;
	*rows = *sum = 0;
	for (size_t i = 0; i < ps.n; i++)
		if (!strcmp(ps.v[i].id, pid))
			ret = slice_stats(rs, db, table, &ps, &ps.v[i], rows, sum, e);
	clickhouse_partitions_release(&ps);
	return ret;
}

static uint64_t ju64(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	if (json_is_string(v))
		return strtoull(json_string_value(v), NULL, 10);
	return (uint64_t)json_integer_value(v);
}

/* The bytes of a partition's object, or of its shards' objects. */
static uint64_t partition_size(json_t *jp)
{
	json_t *objs = json_object_get(jp, "objects"), *obj;
	uint64_t n = 0;
	size_t i;

	if (!objs)
		return ju64(json_object_get(jp, "object"), "size");
	json_array_foreach(objs, i, obj)
		n += ju64(obj, "size");
	return n;
}

/* A signal asked to stop: fail here, between two statements. */
static int rs_stopped(struct rs_run *rs, struct err *e)
{
	if (rs->o->stop && *rs->o->stop) {
		err_set(e, "interrupted");
		return 1;
	}
	return 0;
}

static void rs_emit(struct rs_run *rs, const char *db, const char *table,
		    const char *part, const char *what, uint64_t rows,
		    uint64_t bytes)
{
	struct restore_event ev = { .database = db, .table = table,
		.partition = part, .what = what, .rows = rows, .bytes = bytes,
		.shard = rs->shard, .done_bytes = rs->done_bytes,
		.total_bytes = rs->total_bytes, .done_rows = rs->done_rows,
		.total_rows = rs->total_rows };

	if (rs->o->on_event)
		rs->o->on_event(rs->o->ud, &ev);
}

/*
 * What one server restores of a sharded manifest: each table once (the
 * first shard's schema), each partition the sum of that partition over
 * the shards (rows, and checksums added modulo 2^64 as ClickHouse's sum()
 * does), with the objects of the shards that have rows in "objects". A
 * manifest of one server: its "tables" (a new reference either way).
 */
static json_t *merged_tables(json_t *m)
{
	json_t *out, *jt, *jp;
	size_t i, k;

	if (!json_object_get(m, "shards"))
		return json_incref(json_object_get(m, "tables"));
	out = json_array();
	for (size_t s = 0; s < manifest_nshards(m); s++) {
		json_array_foreach(manifest_shard_tables(m, s), i, jt) {
			json_t *mt = NULL, *x, *mparts;
			size_t j;

			json_array_foreach(out, j, x)
				if (!strcmp(jstr(x, "database") ?: "", jstr(jt, "database") ?: "") &&
				    !strcmp(jstr(x, "name") ?: "", jstr(jt, "name") ?: ""))
					mt = x;
			if (!mt) {
				mt = json_deep_copy(jt);
				json_object_set_new(mt, "partitions", json_array());
				json_object_set_new(mt, "rows", json_integer(0));
				json_array_append_new(out, mt);
			}
			json_object_set_new(mt, "rows", json_integer((json_int_t)(
				ju64(mt, "rows") + ju64(jt, "rows"))));
			mparts = json_object_get(mt, "partitions");
			json_array_foreach(json_object_get(jt, "partitions"), k, jp) {
				json_t *mp = NULL, *y;
				char cs[24];

				json_array_foreach(mparts, j, y)
					if (!strcmp(jstr(y, "id") ?: "", jstr(jp, "id") ?: ""))
						mp = y;
				if (!mp) {
					mp = json_pack("{s:s, s:I, s:s, s:[]}", "id",
						       jstr(jp, "id") ?: "", "rows",
						       (json_int_t)0, "checksum", "0",
						       "objects");
					json_array_append_new(mparts, mp);
				}
				snprintf(cs, sizeof(cs), "%" PRIu64,
					 ju64(mp, "checksum") + ju64(jp, "checksum"));
				json_object_set_new(mp, "checksum", json_string(cs));
				json_object_set_new(mp, "rows", json_integer((json_int_t)(
					ju64(mp, "rows") + ju64(jp, "rows"))));
				if (ju64(jp, "rows"))
					json_array_append(json_object_get(mp, "objects"),
							  json_object_get(jp, "object"));
			}
		}
	}
	return out;
}

/*
 * Does the target hold only what this backup would put there (partitions
 * equal to the manifest's, or none)? *foreign is set otherwise.
 */
static int target_foreign(struct rs_run *rs, const char *db, const char *table,
			  const char *engine, json_t *jparts, int *foreign,
			  struct err *e)
{
	struct clickhouse_partitions ps;
	int mt = clickhouse_engine_is_mergetree(engine);

	*foreign = 0;
	if (clickhouse_list_partitions(rs->ch, db, table, engine, &ps, e) < 0)
		return -1;
	for (size_t i = 0; i < ps.n && !*foreign; i++) {
		json_t *jp = NULL;
		size_t k;
		uint64_t rows, sum;
		int match = 0;

		if (!mt && ps.v[i].rows == 0)
			continue;
		json_array_foreach(jparts, k, jp)
			if (!strcmp(jstr(jp, "id") ?: "",
				    ps.v[i].id))
				break;
		if (k < json_array_size(jparts)) {
			if ((mt ? slice_stats(rs, db, table, &ps, &ps.v[i],
					      &rows, &sum, e) :
			     stats_of(rs, db, table, &rows, &sum, e)) < 0) {
				clickhouse_partitions_release(&ps);
				return -1;
			}
			match = rows == ju64(jp, "rows") &&
				sum == ju64(jp, "checksum");
		}
		if (!match)
			*foreign = 1;
	}
	clickhouse_partitions_release(&ps);
	return 0;
}

/*
 * Did the rows staged for partition pid (staged of them, counted) land
 * in that partition alone? Not where the table's partition key evaluates
 * otherwise than when they were backed up (a column's time zone altered
 * under toYYYYMM(t)): only pid would move in, and the target would lose
 * the rest. Said before anything moves. The parts of pid holding all of
 * them is one query; the listing, for the message, only when they do not.
 */
static int stage_in_one_partition(struct rs_run *rs, const char *db,
				  const char *stage, const char *engine,
				  const char *pid, uint64_t staged,
				  struct err *e)
{
	struct clickhouse_partitions ps;
	struct strbuf other = STRBUF_INIT;
	uint64_t rows;
	char fp[65];
	int ret = 0;

	if (clickhouse_partition_fingerprint(rs->ch, db, stage, pid, fp, &rows,
					     e) < 0)
		return -1;
	if (rows == staged)
		return 0;
	if (clickhouse_list_partitions(rs->ch, db, stage, engine, &ps, e) < 0)
		return -1;
	strbuf_init(&other, 0);
	for (size_t i = 0; i < ps.n; i++)
		if (strcmp(ps.v[i].id, pid))
			strbuf_addf(&other, "%s%s (%" PRIu64 " rows)",
				    other.len ? ", " : "", ps.v[i].id, ps.v[i].rows);
	if (other.len) {
		err_set(e, "partition %s: this table's partition key puts some of "
			"its rows in other partitions, %s: it evaluates otherwise "
			"than when they were backed up (a time zone changed?); "
			"nothing of the partition was restored", pid, other.buf);
		ret = -1;
	}
	strbuf_release(&other);
	clickhouse_partitions_release(&ps);
	return ret;
}

/* Restore the data of one table (source entry jt) into db.table. */
static int restore_data(struct rs_run *rs, json_t *jt, const char *db,
			const char *table, struct err *e)
{
	const char *engine = jstr(jt, "engine") ?: "";
	json_t *jparts = json_object_get(jt, "partitions"), *jp;
	int mt = clickhouse_engine_is_mergetree(engine);
	char *tq = qname(db, table), *sq = NULL, stage[512];
	size_t i;
	int ret = -1, staged = 0;

	snprintf(stage, sizeof(stage), "_saasctl_restore_%s", table);
	sq = qname(db, stage);
	json_array_foreach(jparts, i, jp) {
		const char *pid = jstr(jp, "id") ?: "";
		/* "objects": the shards' objects of a merged partition */
		json_t *objs = json_object_get(jp, "objects");
		size_t nobjs = objs ? json_array_size(objs) : 1;
		uint64_t want = ju64(jp, "rows"), sum_want = ju64(jp, "checksum");
		uint64_t rows, sum, bytes = 0;
		struct strbuf pq = STRBUF_INIT;

		if (rs_stopped(rs, e) ||
		    part_stats(rs, db, table, engine, mt ? pid : NULL, &rows,
			       &sum, e) < 0)
			goto out;
		if (rows == want && sum == sum_want) {
			rs->r->skipped++;
			if (want) {
				rs->done_bytes += partition_size(jp);
				rs->done_rows += want;
			}
			rs_emit(rs, db, table, pid, "skipped", rows, 0);
			continue;
		}
		if (want == 0)
			continue;
		/* a fresh stage for each partition */
		if (rs_sql(rs, e, "DROP TABLE IF EXISTS %s", sq) < 0 ||
		    rs_sql(rs, e, "CREATE TABLE %s AS %s", sq, tq) < 0)
			goto out;
		staged = 1;
		for (size_t k = 0; k < nobjs; k++) {
			json_t *obj = objs ? json_array_get(objs, k) :
				json_object_get(jp, "object");
			uint64_t n = 0;

			if (stage_object(rs, sq, jstr(obj, "key") ?: "", obj,
					 &n, e) < 0)
				goto out;
			bytes += n;
		}
		/* the stage holds what was staged, and nothing else */
		if (stats_of(rs, db, stage, &rows, &sum, e) < 0)
			goto out;
		if (rows != want || sum != sum_want) {
			err_set(e, "partition %s staged %" PRIu64 " rows (checksum "
				"%" PRIu64 "), the manifest says %" PRIu64
				" (%" PRIu64 ")", pid, rows, sum, want, sum_want);
			goto out;
		}
		if (mt && stage_in_one_partition(rs, db, stage, engine, pid, want,
						 e) < 0)
			goto out;
		strbuf_init(&pq, 0);
		clickhouse_quote_string(&pq, pid);
		if (mt) {
			if (rs_sql(rs, e, "ALTER TABLE %s REPLACE PARTITION ID %s FROM %s",
				   tq, pq.buf, sq) < 0) {
				strbuf_release(&pq);
				goto out;
			}
		} else {
			/* Log and Memory: the whole table is this partition */
			if (rs_sql(rs, e, "INSERT INTO %s SELECT * FROM %s", tq, sq) < 0) {
				strbuf_release(&pq);
				goto out;
			}
		}
		strbuf_release(&pq);
		/*
		 * A MergeTree partition now holds the stage's parts, whose
		 * rows and checksum were checked above: their rows in
		 * system.parts say the move took them all, without reading
		 * the data a second time (a third of the restore's server
		 * time after the insert). A Log or Memory table's copy is
		 * counted and checksummed again.
		 */
		if (mt) {
			char fp[65];

			sum = sum_want;
			if (clickhouse_partition_fingerprint(rs->ch, db, table, pid,
							     fp, &rows, e) < 0)
				goto out;
		} else if (stats_of(rs, db, table, &rows, &sum, e) < 0) {
			goto out;
		}
		if (rows != want || sum != sum_want) {
			err_set(e, "partition %s has %" PRIu64 " rows after the "
				"restore, the manifest says %" PRIu64, pid, rows, want);
			goto out;
		}
		rs->r->partitions++;
		rs->r->rows += rows;
		rs->r->bytes += bytes;
		rs->done_bytes += bytes;
		rs->done_rows += rows;
		rs_emit(rs, db, table, pid, "restored", rows, bytes);
	}
	ret = 0;
out:
	if (staged) {
		struct err de;

		rs_sql(rs, &de, "DROP TABLE IF EXISTS %s", sq);
	}
	if (ret < 0)
		err_wrap(e, "cannot restore '%s.%s'", db, table);
	free(tq);
	free(sq);
	return ret;
}

/* Restore order of a schema-only table. */
static int schema_rank(const char *engine)
{
	static const char *const queues[] = { "Kafka", "RabbitMQ", "NATS",
		"FileLog", "S3Queue", "AzureQueue", "RedisStreams", NULL };

	if (!strcmp(engine, "Distributed"))
		return 2;
	for (int i = 0; queues[i]; i++)
		if (!strcmp(engine, queues[i]))
			return 3;
	return 1;
}

static int create_from_schema(struct rs_run *rs, json_t *jt, const char *db,
			      const char *table, struct err *e)
{
	struct strbuf sql = STRBUF_INIT, rw = STRBUF_INIT;
	const char *rel = jstr(jt, "schema") ?: "";
	int exists = 0, failed, ret = -1;

	strbuf_init(&sql, 0);
	strbuf_init(&rw, 0);
	if (rs_stopped(rs, e) || table_exists(rs, db, table, &exists, e) < 0)
		goto out;
	if (exists) {
		ret = 0;
		goto out;
	}
	if (rs_read_small(rs, rel, find_object(rs, rel), &sql, e) < 0)
		goto out;
	rewrite_dbs(rs->o, sql.buf, &rw);
	failed = rs_sql(rs, e, "%s", rw.buf) < 0;
	if (failed && strstr(e->msg, "allow_dimensions_outside_sorting_key") &&
	    clickhouse_add_engine_setting(rw.buf, "allow_dimensions_outside_sorting_key = 1",
					  &sql) == 0) {
		/* 26.x refuses an AggregatingMergeTree with columns outside
		 * its sorting key that older servers made: the table as it
		 * was, with the setting that allows it, said on its line */
		struct restore_event ev = { .database = db, .table = table,
			.what = "created", .shard = rs->shard,
			.note = "with allow_dimensions_outside_sorting_key = 1, "
				"as this server requires for its columns outside "
				"the sorting key" };

		if (rs_sql(rs, e, "%s", sql.buf) < 0)
			goto out;
		rs->r->tables++;
		if (rs->o->on_event)
			rs->o->on_event(rs->o->ud, &ev);
		ret = 0;
		goto out;
	}
	if (failed) {
		/* the shards' Distributed table, on a server that is not
		 * in their cluster: its local tables hold everything now */
		if (rs->merged && !strcmp(jstr(jt, "engine") ?: "", "Distributed")) {
			struct restore_event ev = { .database = db, .table = table,
				.what = "skipped", .note = e->msg };

			if (rs->o->on_event)
				rs->o->on_event(rs->o->ud, &ev);
			ret = 0;
		}
		goto out;
	}
	rs->r->tables++;
	rs_emit(rs, db, table, NULL, "created", 0, 0);
	ret = 0;
out:
	if (ret < 0)
		err_wrap(e, "cannot create '%s.%s'", db, table);
	strbuf_release(&sql);
	strbuf_release(&rw);
	return ret;
}

/* The inner table of a view in the target. */
static int target_inner(struct rs_run *rs, const char *db, const char *mv,
			char **out, struct err *e)
{
	struct strbuf q = STRBUF_INIT, res = STRBUF_INIT;
	char name[1024];
	int exists = 0, ret = -1;

	*out = NULL;
	snprintf(name, sizeof(name), ".inner.%s", mv);
	if (table_exists(rs, db, name, &exists, e) < 0)
		return -1;
	if (exists) {
		*out = strdup(name);
		return 0;
	}
	strbuf_init(&q, 0);
	strbuf_init(&res, 4096);
	strbuf_addstr(&q, "SELECT name FROM system.tables WHERE database = ");
	clickhouse_quote_string(&q, db);
	strbuf_addstr(&q, " AND startsWith(name, '.inner_id.') AND "
		      "(substring(name, 11) = (SELECT toString(uuid) FROM "
		      "system.tables WHERE database = ");
	clickhouse_quote_string(&q, db);
	strbuf_addstr(&q, " AND name = ");
	clickhouse_quote_string(&q, mv);
	strbuf_addstr(&q, ") OR data_paths = (SELECT data_paths FROM "
		      "system.tables WHERE database = ");
	clickhouse_quote_string(&q, db);
	strbuf_addstr(&q, " AND name = ");
	clickhouse_quote_string(&q, mv);
	strbuf_addstr(&q, ")) FORMAT TabSeparatedRaw");
	if (clickhouse_query(rs->ch, q.buf, 0, &res, e) < 0)
		goto out;
	strbuf_setlen(&res, strcspn(res.buf, "\n"));
	snprintf(name, sizeof(name), "%s", res.buf);
	if (!res.len) {
		err_set(e, "the view '%s.%s' has no inner table", db, mv);
		goto out;
	}
	*out = strdup(name);
	ret = 0;
out:
	strbuf_release(&q);
	strbuf_release(&res);
	return ret;
}

static int table_wanted(const struct restore_options *o, const char *db,
			const char *name)
{
	char full[1024];

	if (!o->ntables)
		return 1;
	snprintf(full, sizeof(full), "%s.%s", db, name);
	for (size_t i = 0; i < o->ntables; i++)
		if (!fnmatch(o->tables[i], full, 0) || !fnmatch(o->tables[i], name, 0))
			return 1;
	return 0;
}

/* What a restore of these tables will look at, for the progress totals. */
static void restore_totals(struct rs_run *rs, json_t *tables)
{
	json_t *jt, *jp;
	size_t i, k;

	json_array_foreach(tables, i, jt) {
		const char *name = jstr(jt, "name") ?: "";
		const char *mv = jstr(jt, "inner_of");

		if (strcmp(jstr(jt, "kind") ?: "", "data") ||
		    !table_wanted(rs->o, jstr(jt, "database") ?: "", mv ? mv : name))
			continue;
		json_array_foreach(json_object_get(jt, "partitions"), k, jp)
			if (ju64(jp, "rows")) {
				rs->total_rows += ju64(jp, "rows");
				rs->total_bytes += partition_size(jp);
			}
	}
}

/* Restore tables (a manifest's, or one shard's) into rs->ch. */
static int create_schema_tables(struct rs_run *rs, json_t *tables,
				json_t *pending, struct err *e);

static int restore_tables(struct rs_run *rs, json_t *tables, struct err *e)
{
	const struct restore_options *o = rs->o;
	json_t *jt;
	size_t i;

	/* before touching anything: tables that hold other data */
	json_array_foreach(tables, i, jt) {
		const char *sdb = jstr(jt, "database") ?: "";
		const char *name = jstr(jt, "name") ?: "";
		const char *kind = jstr(jt, "kind") ?: "";
		const char *engine = jstr(jt, "engine") ?: "";
		const char *mv = jstr(jt, "inner_of");
		const char *db = map_db(o, sdb);
		char *inner = NULL;
		int exists = 0, foreign = 0;

		if (strcmp(kind, "data") || !table_wanted(o, sdb, mv ? mv : name))
			continue;
		if (mv) {
			if (table_exists(rs, db, mv, &exists, e) < 0)
				return -1;
			if (exists && target_inner(rs, db, mv, &inner, e) < 0)
				return -1;
		} else if (table_exists(rs, db, name, &exists, e) < 0) {
			return -1;
		}
		if (exists && target_foreign(rs, db, inner ? inner : name, engine,
					     json_object_get(jt, "partitions"),
					     &foreign, e) < 0) {
			free(inner);
			return -1;
		}
		free(inner);
		if (!foreign)
			continue;
		if (!o->drop_existing) {
			err_set(e, "table '%s.%s' exists and holds other data; "
				"restore refuses to touch it without --drop-existing",
				db, mv ? mv : name);
			return -1;
		}
		{
			char *dq = qname(db, mv ? mv : name);
			int r2 = rs_sql(rs, e, "DROP TABLE %s", dq);

			free(dq);
			if (r2 < 0)
				return -1;
		}
		rs_emit(rs, db, mv ? mv : name, NULL, "dropped", 0, 0);
	}

	/* databases */
	json_array_foreach(tables, i, jt) {
		const char *sdb = jstr(jt, "database") ?: "";
		struct strbuf q = STRBUF_INIT;
		int r2;

		strbuf_init(&q, 0);
		clickhouse_quote_ident(&q, map_db(o, sdb));
		r2 = rs_sql(rs, e, "CREATE DATABASE IF NOT EXISTS %s", q.buf);
		strbuf_release(&q);
		if (r2 < 0)
			return -1;
	}
	/* tables that hold data, then their data */
	json_array_foreach(tables, i, jt) {
		const char *sdb = jstr(jt, "database") ?: "";
		const char *name = jstr(jt, "name") ?: "";
		const char *kind = jstr(jt, "kind") ?: "";

		if (strcmp(kind, "data") || json_object_get(jt, "inner_of") ||
		    !table_wanted(o, sdb, name))
			continue;
		if (create_from_schema(rs, jt, map_db(o, sdb), name, e) < 0)
			return -1;
	}
	json_array_foreach(tables, i, jt) {
		const char *sdb = jstr(jt, "database") ?: "";
		const char *name = jstr(jt, "name") ?: "";
		const char *kind = jstr(jt, "kind") ?: "";

		if (strcmp(kind, "data") || json_object_get(jt, "inner_of") ||
		    !table_wanted(o, sdb, name))
			continue;
		if (restore_data(rs, jt, map_db(o, sdb), name, e) < 0)
			return -1;
	}
	/* views (with their inner tables' data), Distributed, queues */
	for (int rank = 1; rank <= 3; rank++) {
		json_t *pending = json_array();

		json_array_foreach(tables, i, jt) {
			const char *kind = jstr(jt, "kind") ?: "";
			const char *engine = jstr(jt, "engine") ?: "";

			if (strcmp(kind, "data") && schema_rank(engine) == rank &&
			    table_wanted(o, jstr(jt, "database") ?: "",
					 jstr(jt, "name") ?: ""))
				json_array_append(pending, jt);
		}
		if (create_schema_tables(rs, tables, pending, e) < 0) {
			json_decref(pending);
			return -1;
		}
		json_decref(pending);
	}
	return 0;
}

/* Restore the data of view jt's inner table, if it has one. */
static int restore_inner(struct rs_run *rs, json_t *tables, json_t *jt,
			 struct err *e)
{
	const char *sdb = jstr(jt, "database") ?: "";
	const char *name = jstr(jt, "name") ?: "";
	const char *db = map_db(rs->o, sdb);
	json_t *inner_jt = NULL, *x;
	char *inner = NULL;
	size_t k;
	int ret;

	json_array_foreach(tables, k, x) {
		const char *of = jstr(x, "inner_of");

		if (of && !strcmp(of, name) && !strcmp(jstr(x, "database") ?: "", sdb))
			inner_jt = x;
	}
	if (!inner_jt)
		return 0;
	ret = target_inner(rs, db, name, &inner, e) < 0 ||
		restore_data(rs, inner_jt, db, inner, e) < 0 ? -1 : 0;
	free(inner);
	return ret;
}

/*
 * Create the schema-only tables in pending, each followed by its inner
 * table's data. A view can read a table or view that sorts after it
 * (Langfuse's traces_all_amt_mv reads traces_null), and current servers
 * refuse a view whose source does not exist yet: what fails is tried
 * again after the others, for as long as each pass creates something.
 */
static int create_schema_tables(struct rs_run *rs, json_t *tables,
				json_t *pending, struct err *e)
{
	json_incref(pending);
	while (json_array_size(pending)) {
		json_t *left = json_array(), *jt;
		struct err first = { "" };
		size_t i;

		json_array_foreach(pending, i, jt) {
			const char *name = jstr(jt, "name") ?: "";
			struct err ce = { "" };

			if (create_from_schema(rs, jt, map_db(rs->o, jstr(jt, "database") ?: ""),
					       name, &ce) < 0) {
				if (rs_stopped(rs, e))
					goto fail;
				if (!first.msg[0])
					first = ce;
				json_array_append(left, jt);
				continue;
			}
			if (restore_inner(rs, tables, jt, e) < 0)
				goto fail;
		}
		if (json_array_size(left) == json_array_size(pending)) {
			*e = first;
			goto fail;
		}
		if (json_array_size(left))
			log_debug("restore: %zu schema%s created after others",
				  json_array_size(left),
				  json_array_size(left) == 1 ? "" : "s");
		json_decref(pending);
		pending = left;
		continue;
fail:
		json_decref(left);
		json_decref(pending);
		return -1;
	}
	json_decref(pending);
	return 0;
}

static void rs_server(struct restore_options const *o, int shard,
		      const char *url)
{
	struct restore_event ev = { .what = "server", .shard = shard, .url = url };

	if (o->on_event)
		o->on_event(o->ud, &ev);
}

static void rs_replica(void *ud, int shard, const char *url, const char *error)
{
	if (!error)
		rs_server(ud, shard, url);
}

int restore_run(struct store *st, struct clickhouse *ch, const char *id,
		const struct restore_options *o, struct restore_result *r,
		struct err *e)
{
	struct backup_shard one = { ch, 1 };

	return restore_run_shards(st, &one, 1, id, o, r, e);
}

int restore_run_shards(struct store *st, const struct backup_shard *shards,
		       size_t n, const char *id,
		       const struct restore_options *o,
		       struct restore_result *r, struct err *e)
{
	struct rs_run rs;
	struct clickhouse **chs = NULL;
	json_t *tables = NULL;
	size_t i, nshards;
	int ret = -1;

	memset(&rs, 0, sizeof(rs));
	memset(r, 0, sizeof(*r));
	rs.st = st;
	rs.o = o;
	rs.id = id;
	rs.r = r;
	for (i = 0; i < o->ndb_map; i++) {
		const char *eq = strchr(o->db_map[i], '=');

		if (!eq || eq == o->db_map[i] || !eq[1]) {
			err_set(e, "--db-map '%s' is not OLD=NEW", o->db_map[i]);
			goto out;
		}
	}
	if (store_key_check(id, e) < 0 || strchr(id, '/')) {
		err_set(e, "'%s' is not a backup ID", id);
		goto out;
	}
	if (load_manifest(st, id, &rs.manifest, NULL, e) < 0)
		goto out;
	nshards = manifest_nshards(rs.manifest);
	if (n != 1 && n != nshards) {
		if (nshards == 1)
			err_set(e, "backup '%s' is of one server: give one "
				"ClickHouse URL, not %zu", id, n);
		else
			err_set(e, "backup '%s' has %zu shards: give one ClickHouse "
				"URL per shard, or one to restore every shard into, "
				"not %zu", id, nshards, n);
		goto out;
	}
	if (http_global_init(e) < 0 ||
	    ring_open(&rs.ring, rs.manifest, id, o->key, e) < 0)
		goto out;
	rs.datakey = rs.ring.v[0].key;
	/* every server answers before anything is touched */
	chs = calloc(n + 1, sizeof(*chs));
	if (!chs)
		abort();
	for (i = 0; i < n; i++) {
		char version[64];
		int sn = n > 1 ? (int)i + 1 : 0;
		int quiet = nshards == 1 && shards[i].nreplicas == 1;

		if (pick_replica(&shards[i], sn, &chs[i], version, sizeof(version),
				 quiet ? NULL : rs_replica, (void *)o, e) < 0)
			goto out;
		/* counted as the manifest's checksums were */
		chs[i]->checksum = manifest_checksum(rs.manifest);
	}
	if (n == 1) {
		rs.ch = chs[0];
		rs.merged = nshards > 1;
		tables = merged_tables(rs.manifest);
		restore_totals(&rs, tables);
		if (restore_tables(&rs, tables, e) < 0)
			goto out;
	} else {
		/* the totals of every shard before the first event */
		for (i = 0; i < n; i++)
			restore_totals(&rs, manifest_shard_tables(rs.manifest, i));
		for (i = 0; i < n; i++) {
			rs.ch = chs[i];
			rs.shard = (int)i + 1;
			if (restore_tables(&rs, manifest_shard_tables(rs.manifest, i), e) < 0) {
				err_wrap(e, "shard %d", rs.shard);
				goto out;
			}
		}
	}
	ret = 0;
out:
	free(chs);
	json_decref(tables);
	ring_release(&rs.ring);
	json_decref(rs.manifest);
	if (ret < 0)
		err_wrap(e, "restore '%s'", id);
	return ret;
}

/* ---------------------------------------------------------------- */
/* drill                                                             */

static int database_exists(struct clickhouse *ch, const char *db, int *exists,
			   struct err *e)
{
	struct strbuf q = STRBUF_INIT, out = STRBUF_INIT;
	int r;

	strbuf_init(&q, 0);
	strbuf_init(&out, 64);
	strbuf_addstr(&q, "SELECT count() FROM system.databases WHERE name = ");
	clickhouse_quote_string(&q, db);
	strbuf_addstr(&q, " FORMAT TabSeparated");
	r = clickhouse_query(ch, q.buf, 0, &out, e);
	*exists = r == 0 && out.len && out.buf[0] != '0';
	strbuf_release(&q);
	strbuf_release(&out);
	return r;
}

static int ch_exec(struct clickhouse *ch, const struct strbuf *sql,
		   struct err *e)
{
	struct strbuf out = STRBUF_INIT;
	int r;

	strbuf_init(&out, 4096);
	r = clickhouse_query(ch, sql->buf, 0, &out, e);
	strbuf_release(&out);
	return r;
}

static void dr_emit(const struct drill_options *o, const char *db,
		    const char *table, const char *part, const char *problem,
		    uint64_t partitions, uint64_t rows)
{
	struct drill_event ev = { db, table, part, problem, partitions, rows };

	if (o->on_event)
		o->on_event(o->ud, &ev);
}

/*
 * Rows and content checksum of every partition of a MergeTree table, in
 * one pass: "pid" -> [rows, checksum]. One query per partition
 * (WHERE _partition_id = ...) would read the whole table each time on
 * 18.16, which does not prune parts by _partition_id.
 */
static int drill_stats(struct rs_run *rs, const char *db, const char *table,
		       json_t **out, struct err *e)
{
	struct strbuf cols = STRBUF_INIT, q = STRBUF_INIT, ans = STRBUF_INIT;
	char *tq = qname(db, table), *line, *next;
	int ret = -1;

	*out = json_object();
	strbuf_init(&cols, 0);
	strbuf_init(&q, 0);
	strbuf_init(&ans, 4096);
	if (clickhouse_checksum_expr(rs->ch, db, table, &cols, e) < 0)
		goto out;
	strbuf_addf(&q, "SELECT _partition_id, count(), sum(%s) FROM %s "
		    "GROUP BY _partition_id FORMAT TabSeparated", cols.buf, tq);
	if (clickhouse_query(rs->ch, q.buf, 0, &ans, e) < 0)
		goto out;
	for (line = ans.buf; line && *line; line = next) {
		char *t1, *t2;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		t1 = strchr(line, '\t');
		t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		if (!t2) {
			err_set(e, "unexpected answer '%.40s'", line);
			goto out;
		}
		*t1 = '\0';
		json_object_set_new(*out, line, json_pack("[I, I]",
			(json_int_t)strtoull(t1 + 1, NULL, 10),
			(json_int_t)strtoull(t2 + 1, NULL, 10)));
	}
	ret = 0;
out:
	if (ret < 0) {
		err_wrap(e, "cannot count '%s.%s'", db, table);
		json_decref(*out);
		*out = NULL;
	}
	strbuf_release(&cols);
	strbuf_release(&q);
	strbuf_release(&ans);
	free(tq);
	return ret;
}

/* Compare one data table of the manifest with its copy in scratch. */
static int drill_table(struct rs_run *rs, const struct drill_options *o,
		       json_t *jt, const char *scratch, struct drill_result *r,
		       struct err *e)
{
	const char *sdb = jstr(jt, "database") ?: "";
	const char *name = jstr(jt, "name") ?: "";
	const char *engine = jstr(jt, "engine") ?: "";
	const char *mv = jstr(jt, "inner_of");
	const char *shown = mv ? mv : name;
	json_t *jparts = json_object_get(jt, "partitions"), *jp, *got_all = NULL;
	int mt = clickhouse_engine_is_mergetree(engine), exists = 0, ret = -1;
	uint64_t nparts = 0, rows = 0, bad = 0;
	char *inner = NULL, problem[512];
	const char *tbl = name, *pid;
	json_t *g;
	size_t i;

	if (table_exists(rs, scratch, shown, &exists, e) < 0)
		goto out;
	if (exists && mv) {
		if (target_inner(rs, scratch, mv, &inner, e) < 0)
			goto out;
		tbl = inner;
	}
	json_array_foreach(jparts, i, jp) {
		nparts++;
		rows += ju64(jp, "rows");
	}
	r->tables++;
	r->partitions += nparts;
	r->rows += rows;
	if (!exists) {
		r->bad_tables++;
		r->bad_partitions += nparts;
		dr_emit(o, sdb, shown, NULL, "was not restored", nparts, rows);
		ret = 0;
		goto out;
	}
	if (rs_stopped(rs, e))
		goto out;
	if (mt && drill_stats(rs, scratch, tbl, &got_all, e) < 0)
		goto out;
	json_array_foreach(jparts, i, jp) {
		uint64_t want = ju64(jp, "rows"), sum_want = ju64(jp, "checksum");
		uint64_t got = 0, sum = 0;

		pid = jstr(jp, "id") ?: "";
		if (!mt) {
			if (rs_stopped(rs, e) ||
			    stats_of(rs, scratch, tbl, &got, &sum, e) < 0)
				goto out;
		} else if ((g = json_object_get(got_all, pid))) {
			got = (uint64_t)json_integer_value(json_array_get(g, 0));
			sum = (uint64_t)json_integer_value(json_array_get(g, 1));
		}
		if (got == want && sum == sum_want)
			continue;
		bad++;
		snprintf(problem, sizeof(problem), "%" PRIu64 " rows, checksum %"
			 PRIu64 "; the backup recorded %" PRIu64 " rows, checksum %"
			 PRIu64, got, sum, want, sum_want);
		dr_emit(o, sdb, shown, pid, problem, 0, 0);
	}
	/* partitions the backup does not have, in partition ID order */
	if (mt) {
		const char **extra = calloc(json_object_size(got_all) + 1, sizeof(*extra));
		size_t nextra = 0;

		if (!extra)
			abort();
		json_object_foreach(got_all, pid, g) {
			size_t j;

			json_array_foreach(jparts, j, jp)
				if (!strcmp(jstr(jp, "id") ?: "", pid))
					break;
			if (j == json_array_size(jparts) &&
			    json_integer_value(json_array_get(g, 0)))
				extra[nextra++] = pid;
		}
		qsort(extra, nextra, sizeof(*extra), cmp_str);
		for (size_t k = 0; k < nextra; k++) {
			bad++;
			snprintf(problem, sizeof(problem), "%" PRIu64 " rows; the "
				 "backup has no such partition", (uint64_t)json_integer_value(
					 json_array_get(json_object_get(got_all, extra[k]), 0)));
			dr_emit(o, sdb, shown, extra[k], problem, 0, 0);
		}
		free(extra);
	}
	if (bad) {
		r->bad_tables++;
		r->bad_partitions += bad;
		snprintf(problem, sizeof(problem), "%" PRIu64 " of %" PRIu64
			 " partition%s differ%s", bad, nparts,
			 backup_plural(nparts), bad == 1 ? "s" : "");
	}
	dr_emit(o, sdb, shown, NULL, bad ? problem : NULL, nparts, rows);
	ret = 0;
out:
	if (ret < 0)
		err_wrap(e, "cannot compare '%s.%s'", scratch, shown);
	json_decref(got_all);
	free(inner);
	return ret;
}

/* The verdict, for `status` and whoever looks at the store later. */
static int drill_record(struct store *st, const struct drill_result *r,
			struct err *e)
{
	char t[32], summary[2400], *key = full_key(r->id, BACKUP_DRILL_KEY), *text;
	json_t *j;
	int ret;

	now_rfc3339(t);
	if (r->ok)
		snprintf(summary, sizeof(summary), "%" PRIu64 " table%s, %" PRIu64
			 " partition%s, %" PRIu64 " row%s equal to the backup",
			 r->tables, backup_plural(r->tables), r->partitions,
			 backup_plural(r->partitions), r->rows, backup_plural(r->rows));
	else
		snprintf(summary, sizeof(summary), "%" PRIu64 " of %" PRIu64
			 " table%s differ%s from the backup (%" PRIu64 " partition%s)%s%s",
			 r->bad_tables, r->tables, backup_plural(r->tables),
			 r->bad_tables == 1 ? "s" : "", r->bad_partitions,
			 backup_plural(r->bad_partitions),
			 r->error[0] ? "; " : "", r->error);
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I}",
		      "format", "saasctl-drill/1", "time", t, "backup", r->id,
		      "verdict", r->ok ? "ok" : "failed", "summary", summary,
		      "tables", (json_int_t)r->tables,
		      "partitions", (json_int_t)r->partitions,
		      "rows", (json_int_t)r->rows,
		      "bad_tables", (json_int_t)r->bad_tables,
		      "bad_partitions", (json_int_t)r->bad_partitions);
	text = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	if (!text)
		abort();
	ret = store_put(st, key, text, strlen(text), 0, NULL, e);
	if (ret < 0)
		err_wrap(e, "cannot record the verdict in '%s'", key);
	free(text);
	free(key);
	json_decref(j);
	return ret;
}

int backup_drill(struct store *st, struct clickhouse *ch, const char *id,
		 const struct drill_options *o, struct drill_result *r,
		 struct err *e)
{
	const char *prefix = o->prefix ? o->prefix : "drill_";
	struct backup_infos l = { 0 };
	struct restore_options ro = { 0 };
	struct restore_result rr;
	struct rs_run rs;
	struct strv_own { char **v; size_t n; } dbs = { 0 }, maps = { 0 };
	size_t ncreated = 0, i;
	json_t *m = NULL, *tables = NULL, *jt;
	struct err re = { "" };
	int ret = -1;

	memset(r, 0, sizeof(*r));
	memset(&rs, 0, sizeof(rs));
	ro.key = o->key;
	ro.stop = o->stop;
	rs.ch = ch;
	rs.o = &ro;
	if (!*prefix || strchr(prefix, '=')) {
		err_set(e, "the scratch prefix '%s' is not usable: the drill "
			"restores into new databases, never the backed-up ones",
			prefix);
		goto out;
	}
	if (!id) {
		if (backup_list(st, &l, e) < 0)
			goto out;
		for (i = l.n; i-- > 0 && !id;)
			if (l.v[i].complete && !l.v[i].pruned)
				id = l.v[i].id;
		if (!id) {
			err_set(e, "no complete backup in the store");
			goto out;
		}
	}
	snprintf(r->id, sizeof(r->id), "%s", id);
	if (store_key_check(id, e) < 0 || strchr(id, '/')) {
		err_set(e, "'%s' is not a backup ID", id);
		goto out;
	}
	if (load_manifest(st, id, &m, NULL, e) < 0)
		goto out;
	ch->checksum = manifest_checksum(m);
	/* a sharded backup: every shard into the one server, added up */
	tables = merged_tables(m);
	json_array_foreach(tables, i, jt) {
		const char *db = jstr(jt, "database") ?: "";
		size_t k;

		if (strchr(db, '=')) {
			/* OLD=NEW cannot name it: its tables would go back
			 * into the live database */
			err_set(e, "database '%s' has '=' in its name, which the "
				"drill cannot map to a scratch database", db);
			goto out;
		}
		for (k = 0; k < maps.n; k++)
			if (map_old_is(maps.v[k], db))
				break;
		if (k < maps.n)
			continue;
		dbs.v = realloc(dbs.v, (dbs.n + 1) * sizeof(*dbs.v));
		maps.v = realloc(maps.v, (maps.n + 1) * sizeof(*maps.v));
		if (!dbs.v || !maps.v)
			abort();
		if (asprintf(&dbs.v[dbs.n], "%s%s", prefix, db) < 0 ||
		    asprintf(&maps.v[maps.n], "%s=%s%s", db, prefix, db) < 0)
			abort();
		dbs.n++;
		maps.n++;
		snprintf(r->scratch + strlen(r->scratch),
			 sizeof(r->scratch) - strlen(r->scratch), "%s%s",
			 dbs.n > 1 ? ", " : "", dbs.v[dbs.n - 1]);
	}
	if (!dbs.n) {
		err_set(e, "backup '%s' holds no table", id);
		goto out;
	}
	for (i = 0; i < dbs.n; i++) {
		int exists;

		if (database_exists(ch, dbs.v[i], &exists, e) < 0)
			goto out;
		if (exists) {
			err_set(e, "scratch database '%s' exists (left by a killed "
				"drill, or not a scratch database at all); drop it "
				"or give another --scratch-prefix", dbs.v[i]);
			goto out;
		}
	}
	/* created here, one by one, so that only these are ever dropped */
	for (; ncreated < dbs.n; ncreated++) {
		struct strbuf q = STRBUF_INIT;
		int r2;

		if (rs_stopped(&rs, e))
			goto out;
		strbuf_init(&q, 0);
		strbuf_addstr(&q, "CREATE DATABASE ");
		clickhouse_quote_ident(&q, dbs.v[ncreated]);
		r2 = ch_exec(ch, &q, e);
		strbuf_release(&q);
		if (r2 < 0)
			goto out;
	}
	ro.db_map = (const char *const *)maps.v;
	ro.ndb_map = maps.n;
	if (restore_run(st, ch, id, &ro, &rr, &re) < 0) {
		if (rs_stopped(&rs, e))
			goto out;
		snprintf(r->error, sizeof(r->error), "%s", re.msg);
	}
	json_array_foreach(tables, i, jt) {
		const char *kind = jstr(jt, "kind") ?: "";
		const char *db = jstr(jt, "database") ?: "";
		size_t k;

		if (strcmp(kind, "data"))
			continue;
		for (k = 0; k < maps.n; k++)
			if (!strncmp(maps.v[k], db, strlen(db)) &&
			    maps.v[k][strlen(db)] == '=')
				break;
		if (drill_table(&rs, o, jt, dbs.v[k], r, e) < 0)
			goto out;
	}
	r->ok = !r->error[0] && !r->bad_tables;
	ret = 0;
out:
	{
		struct strbuf left = STRBUF_INIT;
		struct err de = { "" };

		strbuf_init(&left, 0);
		for (i = 0; i < ncreated; i++) {
			struct strbuf q = STRBUF_INIT;

			strbuf_init(&q, 0);
			strbuf_addstr(&q, "DROP DATABASE IF EXISTS ");
			clickhouse_quote_ident(&q, dbs.v[i]);
			if (ch_exec(ch, &q, &de) < 0)
				strbuf_addf(&left, "%s'%s'", left.len ? ", " : "",
					    dbs.v[i]);
			strbuf_release(&q);
		}
		if (left.len && ret == 0) {
			*e = de;
			err_wrap(e, "cannot drop the scratch database%s %s",
				 strchr(left.buf, ',') ? "s" : "", left.buf);
		} else if (left.len) {
			struct err first = *e;

			err_set(e, "%s; and cannot drop the scratch database%s %s: %s",
				first.msg, strchr(left.buf, ',') ? "s" : "",
				left.buf, de.msg);
		}
		if (left.len)
			ret = -1;
		strbuf_release(&left);
	}
	for (i = 0; i < dbs.n; i++) {
		free(dbs.v[i]);
		free(maps.v[i]);
	}
	free(dbs.v);
	free(maps.v);
	json_decref(tables);
	json_decref(m);
	backup_infos_release(&l);
	if (ret == 0 && drill_record(st, r, e) < 0)
		ret = -1;
	if (ret < 0)
		err_wrap(e, "drill '%s'", r->id[0] ? r->id : "newest");
	return ret;
}

int backup_last_drill(struct store *st, struct drill_record *out, int *found,
		      struct err *e)
{
	struct store_list l = { 0 };
	struct strbuf b = STRBUF_INIT;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	*found = 0;
	strbuf_init(&b, 0);
	if (store_list(st, "", &l, e) < 0)
		goto out;
	for (size_t i = 0; i < l.n; i++) {
		const char *k = l.v[i].key, *slash = strchr(k, '/');
		json_t *j;
		const char *t, *v;
		int f = 0;

		if (!slash || strcmp(slash + 1, BACKUP_DRILL_KEY))
			continue;
		if (store_get_buffer(st, k, 1u << 20, &b, &f, e) < 0)
			goto out;
		j = f ? json_loadb(b.buf, b.len, 0, NULL) : NULL;
		t = jstr(j, "time");
		v = jstr(j, "verdict");
		/* RFC 3339 in UTC: the strings order as the times do */
		if (t && v && (!*found || strcmp(t, out->time) > 0)) {
			*found = 1;
			snprintf(out->time, sizeof(out->time), "%s", t);
			snprintf(out->id, sizeof(out->id), "%.*s", (int)(slash - k), k);
			out->ok = !strcmp(v, "ok");
			snprintf(out->summary, sizeof(out->summary), "%s",
				 jstr(j, "summary") ?: "");
		}
		json_decref(j);
	}
	ret = 0;
out:
	store_list_release(&l);
	strbuf_release(&b);
	if (ret < 0)
		err_wrap(e, "cannot read the drill records");
	return ret;
}
