#ifndef SAASCTL_S3_H
#define SAASCTL_S3_H

/*
 * An S3 client small enough to read: the operations a backup needs, each
 * one request (or one multipart upload) through src/http, signed by
 * src/sigv4.
 *
 * Settings come as the AWS tools read them: AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, else ~/.aws/credentials
 * (AWS_SHARED_CREDENTIALS_FILE) in the profile AWS_PROFILE or "default";
 * the region from AWS_REGION, AWS_DEFAULT_REGION, ~/.aws/config
 * (AWS_CONFIG_FILE), else us-east-1; the endpoint from AWS_ENDPOINT_URL_S3
 * or AWS_ENDPOINT_URL. A custom endpoint (RGW, MinIO, R2, B2) is addressed
 * path-style (http://host/bucket/key); AWS itself virtual-hosted
 * (https://bucket.s3.region.amazonaws.com/key), path-style for bucket
 * names with dots, which TLS names cannot match.
 *
 * The secret key lives in sodium_malloc'd memory and never appears in an
 * error or a -v log line (src/http hides Authorization and the session
 * token).
 *
 * Streaming with bounded memory: s3_get() hands the object to a callback
 * as it arrives (and resumes with a Range request after a dropped
 * connection); s3_upload() reads a stream of unknown length into one part
 * buffer at a time: a stream shorter than one part is one PUT, a longer
 * one a multipart upload with parts of part_size bytes (16 MiB), doubled
 * every 1000 parts so the 10,000-part limit is never reached. Memory is
 * one part. Each part is retried on its own; any failure aborts the
 * upload, so no incomplete upload is left behind.
 *
 * Retries (src/http): timeouts, resets, 5xx (SlowDown is a 503), with
 * back-off and jitter. Errors read S3's XML error body:
 *   s3 PUT 'bucket/key': 403 AccessDenied: Access Denied
 */

#include <stddef.h>

#include "err.h"
#include "strbuf.h"

struct s3 {
	char *access_key;
	char *secret_key;		/* sodium_malloc'd */
	char *session_token;		/* sodium_malloc'd, or NULL */
	char *region;
	char *endpoint;			/* "https://s3.us-east-1.amazonaws.com" */
	int custom_endpoint;		/* path-style addressing */
	int max_attempts;		/* per request; 0: 6 */
	long deadline_ms;		/* per request across retries; 0: none */
	size_t part_size;		/* 0: 16 MiB */
	/* Cancel flag for every request (see struct http_request). */
	const volatile int *cancel;
};

/* Read the settings from the environment and ~/.aws; fails without keys. */
int s3_init(struct s3 *s, struct err *e);
void s3_release(struct s3 *s);

struct s3_object {
	char *key;
	long long size;
	char etag[80];			/* as S3 gives it, with quotes */
	char last_modified[40];		/* as S3 gives it */
};

void s3_object_release(struct s3_object *o);

/* HEAD: 0 and *found set (0 for 404), or -1. o may be NULL. */
int s3_head(struct s3 *s, const char *bucket, const char *key, int *found,
	    struct s3_object *o, struct err *e);

/*
 * GET: each piece of the object goes to sink(data, len, ud) in order,
 * exactly once (a dropped connection is resumed where it stopped, checked
 * with If-Match on the ETag). sink returns 0, or -1 to stop. o may be NULL.
 */
int s3_get(struct s3 *s, const char *bucket, const char *key,
	   int (*sink)(const void *data, size_t len, void *ud), void *ud,
	   struct s3_object *o, struct err *e);

/* Options of a write. */
struct s3_put_options {
	int if_none_match;		/* "If-None-Match: *": fail when it exists */
	const char *content_type;	/* NULL: application/octet-stream */
};

/*
 * PUT from memory: one request, retried; the payload's SHA-256 is signed.
 * With if_none_match and the key present: -1 and *exists = 1 (412).
 */
int s3_put_buffer(struct s3 *s, const char *bucket, const char *key,
		  const void *data, size_t len,
		  const struct s3_put_options *opt, int *exists,
		  struct err *e);

/*
 * Upload a stream of any length. read(buf, len, ud) fills up to len bytes
 * and returns how many, 0 at the end, -1 on failure. size_hint (or -1)
 * picks a part size that fits 10,000 parts from the start. On failure no
 * multipart upload is left open. *exists as for s3_put_buffer().
 */
int s3_upload(struct s3 *s, const char *bucket, const char *key,
	      long long (*read)(void *buf, size_t len, void *ud), void *ud,
	      long long size_hint, const struct s3_put_options *opt,
	      int *exists, struct err *e);

/*
 * The part size s3_upload() uses after parts_done parts: base (0: 16 MiB,
 * at least 5 MiB), doubled until size_hint fits 10,000 parts, and doubled
 * again every 1000 parts (for streams of unknown length); at most 5 GiB.
 */
size_t s3_part_size(size_t base, long long size_hint, size_t parts_done);

/* One page of ListObjectsV2. */
struct s3_list {
	struct s3_object *objects;
	size_t n;
	char *next_token;		/* NULL on the last page */
};

void s3_list_release(struct s3_list *l);

/* A page of up to max_keys (0: 1000) keys under prefix, after token. */
int s3_list_page(struct s3 *s, const char *bucket, const char *prefix,
		 const char *token, int max_keys, struct s3_list *l,
		 struct err *e);

/*
 * DeleteObjects, in batches of 1000, quiet mode. Keys S3 refused are
 * reported in e ("s3 DELETE 'bucket': 2 of 5 keys not deleted: 'a':
 * AccessDenied ...") and the call fails; a key that did not exist is
 * not an error.
 */
int s3_delete(struct s3 *s, const char *bucket, const char *const *keys,
	      size_t n, struct err *e);

/* CreateBucket (for tests and the demo: backups expect the bucket). */
int s3_bucket_create(struct s3 *s, const char *bucket, struct err *e);

/* The multipart primitives s3_upload() is made of, for tests and cleanup. */
struct s3_part {
	int number;
	char etag[80];
};

int s3_multipart_create(struct s3 *s, const char *bucket, const char *key,
			const struct s3_put_options *opt, char **upload_id,
			struct err *e);
int s3_multipart_part(struct s3 *s, const char *bucket, const char *key,
		      const char *upload_id, int number, const void *data,
		      size_t len, struct s3_part *part, struct err *e);
/*
 * With opt->if_none_match, the complete is conditional: S3 honours it
 * (since 2024), Ceph RGW 16.2 ignores it and replaces the object. A create
 * that must be conditional everywhere (a manifest) fits in one part.
 */
int s3_multipart_complete(struct s3 *s, const char *bucket, const char *key,
			  const char *upload_id, const struct s3_part *parts,
			  size_t nparts, const struct s3_put_options *opt,
			  int *exists, struct err *e);
int s3_multipart_abort(struct s3 *s, const char *bucket, const char *key,
		       const char *upload_id, struct err *e);

/* ListMultipartUploads under prefix: each open upload's key and id. */
struct s3_upload_info {
	char *key;
	char *upload_id;
};

int s3_multipart_list(struct s3 *s, const char *bucket, const char *prefix,
		      struct s3_upload_info **out, size_t *n, struct err *e);
void s3_upload_info_free(struct s3_upload_info *u, size_t n);

/*
 * The small XML reader behind the operations (S3 answers are flat and
 * never repeat an element's name inside itself): find the first element
 * `name` within [doc, doc+len) and return its content's span; decode a
 * text span's entities into out. Exposed for tests.
 */
int s3_xml_find(const char *doc, size_t len, const char *name,
		const char **inner, size_t *inner_len, const char **after);
int s3_xml_text(struct strbuf *out, const char *s, size_t len);

/*
 * The answers, read from a body as the server sent it (body may be NULL
 * when len is 0); the operations above call these, and so does the fuzz
 * harness. Messages name what is wrong; the callers add the request.
 *
 * s3_parse_error: an <Error> body's Code and Message (either may come
 * back empty); -1 when there is no <Error>.
 * s3_parse_list: a ListObjectsV2 page (keys url-decoded, as asked with
 * encoding-type=url); l->next_token set when IsTruncated is true, which
 * without a NextContinuationToken is an error.
 * s3_parse_upload_id: an InitiateMultipartUploadResult's UploadId.
 * s3_parse_delete_result: a DeleteResult; each <Error> but NoSuchKey is
 * counted in *nfailed and the first five described in failed. Returns 0.
 * s3_parse_uploads: a ListMultipartUploadsResult page, appended to *list
 * (and *n), with its next markers and whether it is truncated.
 */
int s3_parse_error(const char *body, size_t len, struct strbuf *code,
		   struct strbuf *msg);
int s3_parse_list(const char *body, size_t len, struct s3_list *l,
		  struct err *e);
int s3_parse_upload_id(const char *body, size_t len, char **upload_id,
		       struct err *e);
int s3_parse_delete_result(const char *body, size_t len, struct strbuf *failed,
			   size_t *nfailed);
int s3_parse_uploads(const char *body, size_t len, struct s3_upload_info **list,
		     size_t *n, struct strbuf *key_marker,
		     struct strbuf *id_marker, int *truncated, struct err *e);

#endif
