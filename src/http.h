#ifndef SAASCTL_HTTP_H
#define SAASCTL_HTTP_H

#include <stddef.h>

#include <curl/curl.h>

#include "err.h"
#include "strbuf.h"

/*
 * Every HTTP request of saasctl goes through this module: TLS verification
 * on, proxies from the environment (libcurl reads HTTPS_PROXY/NO_PROXY),
 * retries with exponential back-off and full jitter honouring Retry-After,
 * a cap on the response size, and -v logging with credentials redacted.
 *
 * Streaming users (curl multi) configure their easy handles with
 * http_easy_setup() so that every handle behaves the same.
 */

struct http_tls {
	const char *ca_file;		/* PEM bundle on disk */
	const char *ca_pem;		/* or PEM in memory */
	size_t ca_pem_len;
	const char *cert_file;		/* client certificate, PEM */
	const char *cert_pem;
	size_t cert_pem_len;
	const char *key_file;		/* client key, PEM (RSA or EC) */
	const char *key_pem;
	size_t key_pem_len;
	int insecure;			/* skip verification (explicit opt-in) */
	const char *server_name;	/* SNI / name to verify, if not the host */
};

/*
 * Streaming. A request body too large for memory is read through
 * body_read (fill up to len bytes; 0 at the end, -1 on failure: the
 * transfer stops and http_do() fails "cannot read the request body"; the
 * caller keeps its own reason). body_size is its length, or -1 for
 * unknown: sent with chunked transfer encoding. A streamed body is sent
 * again on a retry only when body_rewind is set (it returns to the first
 * byte, 0 or -1), e.g. a part held in memory; otherwise a request whose
 * body was read at all is not retried.
 *
 * A response body is handed to on_body as it arrives, but only a 2xx one:
 * the body of any other status (S3's XML error, a 503 before a retry)
 * goes to res->body as without streaming. Once bytes went to on_body the
 * request is not retried (they cannot be taken back): http_do() fails,
 * and res->streamed says how many arrived, so the caller may resume with
 * a Range request. on_body returns 0, or -1 to abort the transfer.
 */
struct http_request {
	const char *method;		/* NULL: GET, or POST when body is set */
	const char *url;
	const char *const *headers;	/* NULL-terminated "Name: value" */
	const void *body;
	size_t body_len;
	long long (*body_read)(void *buf, size_t len, void *ud);
	int (*body_rewind)(void *ud);
	void *body_ud;
	long long body_size;		/* with body_read: -1 unknown */
	int (*on_body)(const void *data, size_t len, void *ud);
	void *on_body_ud;
	/* Per attempt; 0: 30 s. With a streamed body (either way) or an
	 * in-memory one of 1 MiB or more there is no limit on the whole
	 * attempt, which takes as long as the data needs: timeout_ms (0: 60 s,
	 * whole seconds) is then how long no byte may move. */
	long timeout_ms;
	long connect_timeout_ms;	/* 0: 10 s */
	long deadline_ms;		/* total across retries; 0: one attempt */
	int max_attempts;		/* 0: 1, or until the deadline */
	int follow_redirects;		/* 307/308 keep method and body */
	size_t max_response;		/* cap on the body; 0: 64 MiB */
	const struct http_tls *tls;
	const char *proxy;		/* explicit proxy; NULL: environment */
	const char *unix_socket;
	/* CURLOPT_CONNECT_TO entries ("name:port:host:port"), or NULL */
	struct curl_slist *connect_to;
	/* Set non-zero from another thread to give up: checked during the
	 * transfer and the back-off sleeps; http_do() then fails "cancelled". */
	const volatile int *cancel;
	/* Send the path exactly as given: no "/../" or "/./" squashed
	 * (an S3 key may hold them, and the signature covers the path). */
	int path_as_is;
	/* A credential inside the URL (a ping key in the path): masked in
	 * -v output and in logged URLs. */
	const char *redact;
	/* Connections, TLS sessions and DNS kept between requests (a start
	 * ping and its finish share one connection), or NULL. */
	CURLSH *share;
};

struct http_response {
	long status;
	struct strbuf body;
	struct strbuf headers;		/* raw header block of the last hop */
	int attempts;
	long long streamed;		/* bytes handed to on_body */
};

/* Initialise libcurl once; cheap after the first call. */
int http_global_init(struct err *e);

void http_response_init(struct http_response *res);
void http_response_release(struct http_response *res);

/*
 * Perform the request. Returns 0 when an HTTP response arrived (any status;
 * check res->status), -1 when none did (DNS, TLS, timeout after retries).
 * Retries: transport errors, 408, 429 and 5xx while attempts and deadline
 * allow.
 */
int http_do(const struct http_request *req, struct http_response *res,
	    struct err *e);

/* Value of a response header (case-insensitive name) into out, or -1. */
int http_header(const struct http_response *res, const char *name,
		char *out, size_t outlen);

/* Configure an easy handle for req (TLS, proxy, timeouts, logging). */
int http_easy_setup(CURL *curl, const struct http_request *req,
		    struct curl_slist **headers_out, struct err *e);

/* Is this status worth retrying? */
int http_status_retryable(long status);

/* Back-off delay in ms for attempt n (0-based): full jitter, capped. */
long http_backoff_ms(int attempt, long base_ms, long cap_ms);

/* Retry-After header value in ms (delta-seconds only), or -1. */
long http_retry_after_ms(const struct http_response *res);

/* Percent-encode for a URL path segment or query value. */
int http_escape(struct strbuf *out, const char *s);

#endif
