#ifndef SAASCTL_SIGV4_H
#define SAASCTL_SIGV4_H

/*
 * AWS Signature Version 4 for S3 requests, with libsodium's SHA-256 and
 * HMAC-SHA256. Not libcurl's CURLOPT_AWS_SIGV4: libcurl 7.88 signs the raw,
 * unsorted query string, does not encode the path and mishandles
 * `?uploads` (DESIGN.md).
 *
 * The caller hands over the request as it means it: the path and the query
 * parameters decoded (raw bytes, UTF-8 for S3 keys). The signer encodes
 * them the one way S3 checks (RFC 3986: every byte but A-Z a-z 0-9 - . _ ~
 * as %XX, '/' kept in the path), and returns that encoded path and the
 * sorted query string so the URL that is sent is exactly what was signed.
 *
 * Signed headers: host, x-amz-date, x-amz-security-token when a session
 * token is set, and every header the caller passes (S3 callers pass
 * x-amz-content-sha256 themselves: see sigv4_payload_hash()). The payload
 * line of the canonical request is `payload_hash`, or UNSIGNED-PAYLOAD.
 *
 * Tested against AWS's published test suite (tests/data/sigv4) and against
 * botocore (tests/e2e/t0811-sigv4-botocore.sh).
 */

#include <stddef.h>

#include "err.h"
#include "strbuf.h"

#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
/* SHA-256 of nothing, the payload hash of a GET or HEAD. */
#define SIGV4_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct sigv4_credentials {
	const char *access_key;
	const char *secret_key;
	const char *session_token;	/* or NULL */
	const char *region;		/* "us-east-1" */
	const char *service;		/* "s3" */
};

struct sigv4_param {
	const char *name;
	const char *value;		/* NULL: a key without value ("uploads") */
};

struct sigv4_header {
	const char *name;		/* any case; signed lowercased */
	const char *value;		/* trimmed, inner spaces squeezed */
};

struct sigv4_request {
	const char *method;
	const char *host;		/* "bucket.s3.amazonaws.com", "127.0.0.1:7480" */
	const char *path;		/* decoded, starting with '/' */
	const struct sigv4_param *query;
	size_t nquery;
	const struct sigv4_header *headers;
	size_t nheaders;
	const char *payload_hash;	/* hex SHA-256, or NULL: UNSIGNED-PAYLOAD */
	const char *amz_date;		/* "20150830T123600Z", or NULL: now */
};

struct sigv4_result {
	struct strbuf path;		/* encoded path, as sent */
	struct strbuf query;		/* canonical query string, as sent */
	struct strbuf canonical;	/* the canonical request */
	struct strbuf string_to_sign;
	struct strbuf authorization;	/* the Authorization header's value */
	char amz_date[17];		/* the x-amz-date header's value */
};

void sigv4_result_init(struct sigv4_result *r);
void sigv4_result_release(struct sigv4_result *r);

/* Sign req with c; fills r (released and refilled on every call). */
int sigv4_sign(const struct sigv4_credentials *c,
	       const struct sigv4_request *req, struct sigv4_result *r,
	       struct err *e);

/* RFC 3986 encoding as SigV4 wants it; keep_slash for paths. */
int sigv4_uri_encode(struct strbuf *out, const char *s, size_t len,
		     int keep_slash);

/* Hex SHA-256 of a payload known in full (65 bytes with the NUL). */
void sigv4_payload_hash(char out[65], const void *data, size_t len);

#endif
