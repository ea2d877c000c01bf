#ifndef SAASCTL_STORE_H
#define SAASCTL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "strbuf.h"

/*
 * Where backups live: a flat space of objects named by keys with '/' in
 * them, behind one interface with a backend per URL scheme.
 *
 *   file:///var/backups/ch     a folder; keys are paths below it
 *   s3://bucket/prefix         objects "prefix/<key>" in an S3 bucket; the
 *                              endpoint, region and keys as src/s3 reads
 *                              them (AWS_* variables, ~/.aws)
 *
 * Writes are streamed and all-or-nothing. A writer is opened, fed with
 * any number of store_writer_write() calls (the size need not be known),
 * then committed or aborted. Until the commit nothing is visible under
 * the key: the file backend writes "<dir>/.<name>.tmp-<pid>-<n>" in the
 * same folder, fsyncs it, then renames it over the key and fsyncs the
 * folder, so a crash leaves a temporary file and never an object that
 * looks whole. With STORE_CREATE_EXCLUSIVE the commit fails (and says
 * *exists) when the key already exists: link(2) on files, If-None-Match
 * on S3; this is what a lock is made of.
 *
 * On S3 a write is one PUT when it ends within its first part, else a
 * multipart upload of 16 MiB parts (SAASCTL_S3_PART_SIZE). A lone writer
 * sends each part from a thread while the next one fills: memory is two
 * parts; with store_set_writers(), one part per writer. A failed or
 * aborted write aborts its multipart upload. An exclusive create is
 * always one PUT with "If-None-Match: *" (RGW ignores the condition on a
 * multipart complete) and at most 256 MiB.
 *
 * Reads stream each piece of an object to a sink in order.
 * Keys never begin with '/', hold no "." or ".." component and no NUL;
 * store_key_check() says why one is refused.
 */

struct store;
struct store_writer;

/* The store for a URL: "file:///abs/path" ("file://rel/path" is refused)
 * or "s3://bucket[/prefix]". */
int store_open(struct store **out, const char *url, struct err *e);
void store_close(struct store *st);
/* How many objects the caller writes at once (default 1). A lone S3
 * writer sends each part from a thread while the next fills a second
 * buffer; with more, each sends its parts itself from its one buffer,
 * while the others go on: memory is two parts for one or two writers. */
void store_set_writers(struct store *st, int n);
/* The URL it was opened with, for messages. */
const char *store_url(const struct store *st);

int store_key_check(const char *key, struct err *e);

enum {
	STORE_CREATE_EXCLUSIVE = 1,	/* fail on commit when the key exists */
};

/* size_hint: the final size when known, else -1 (S3 picks part sizes). */
int store_writer_open(struct store *st, const char *key, long long size_hint,
		      int flags, struct store_writer **out, struct err *e);
int store_writer_write(struct store_writer *w, const void *data, size_t len,
		       struct err *e);
/* Make the object visible; *exists (may be NULL) is set when an exclusive
 * create found the key taken. The writer is freed either way. */
int store_writer_commit(struct store_writer *w, int *exists, struct err *e);
/* Drop what was written; the writer is freed. NULL is fine. */
void store_writer_abort(struct store_writer *w);
/* Bytes written so far. */
uint64_t store_writer_size(const struct store_writer *w);

/* One call: the whole object from memory. */
int store_put(struct store *st, const char *key, const void *data,
	      size_t len, int flags, int *exists, struct err *e);
/* One call: from a source of unknown size. read returns the bytes it put
 * in buf (at most len), 0 at the end, -1 on failure (filling e). */
int store_put_stream(struct store *st, const char *key,
		     long long (*read)(void *buf, size_t len, void *ud,
				       struct err *e),
		     void *ud, long long size_hint, int flags, int *exists,
		     struct err *e);

typedef int (*store_sink_fn)(void *ud, const void *data, size_t len,
			     struct err *e);
/* Stream the object to sink. *found (may be NULL) is set to 0 with a 0
 * return when the key does not exist; with found NULL a missing key is an
 * error. A sink's -1 stops the read and is returned. */
int store_get(struct store *st, const char *key, store_sink_fn sink,
	      void *ud, int *found, struct err *e);
/* The whole object into out, at most max bytes (0: 64 MiB). */
int store_get_buffer(struct store *st, const char *key, size_t max,
		     struct strbuf *out, int *found, struct err *e);

/* Size of an object; *found 0 when missing. */
int store_head(struct store *st, const char *key, int *found,
	       uint64_t *size, struct err *e);

struct store_entry {
	char *key;		/* the full key */
	uint64_t size;
	int64_t mtime;		/* seconds since the epoch */
};
struct store_list {
	struct store_entry *v;
	size_t n;
};
/* Every object whose key starts with prefix ("" for all), sorted by key.
 * Temporary files of unfinished writes are not objects. */
int store_list(struct store *st, const char *prefix, struct store_list *out,
	       struct err *e);
void store_list_release(struct store_list *l);

/* Delete objects; a missing key is not an error. store_delete_many()
 * sends S3 one DeleteObjects request per 1000 keys. */
int store_delete(struct store *st, const char *key, struct err *e);
int store_delete_many(struct store *st, const char *const *keys, size_t n,
		      struct err *e);

/*
 * Drop what writers of dead runs left behind (a run killed with SIGKILL
 * cannot abort its own): temporary files in a folder, open multipart
 * uploads under the prefix on S3 (which cost money until aborted). Only
 * for a caller holding the store's lock, as a live writer's upload would
 * be broken. *n (may be NULL): how many were dropped.
 */
int store_sweep(struct store *st, size_t *n, struct err *e);

#endif
