#include "http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "lazycurl.h"
#include "log.h"

static int http_initialised;

int http_global_init(struct err *e)
{
	if (http_initialised)
		return 0;
	if (sodium_init() < 0)
		return err_set(e, "cannot initialise libsodium");
	if (lazycurl_load(e) < 0)
		return -1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_set(e, "cannot initialise libcurl");
	http_initialised = 1;
	return 0;
}

void http_response_init(struct http_response *res)
{
	res->status = 0;
	res->attempts = 0;
	res->streamed = 0;
	strbuf_init(&res->body, 0);
	strbuf_init(&res->headers, 1 << 20);
}

void http_response_release(struct http_response *res)
{
	strbuf_release(&res->body);
	strbuf_release(&res->headers);
}

/* Where the response body goes: the caller's on_body (2xx only) or res->body. */
struct http_sink {
	CURL *curl;
	const struct http_request *req;
	struct http_response *res;
	int decided;
	int to_caller;
	int caller_failed;
};

static size_t http_write_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct http_sink *sink = ud;
	size_t n = size * nmemb;

	if (!sink->decided) {
		long status = 0;

		curl_easy_getinfo(sink->curl, CURLINFO_RESPONSE_CODE, &status);
		sink->to_caller = sink->req->on_body && status >= 200 &&
				  status < 300;
		sink->decided = 1;
	}
	if (sink->to_caller) {
		if (sink->req->on_body(ptr, n, sink->req->on_body_ud) < 0) {
			sink->caller_failed = 1;
			return 0;
		}
		sink->res->streamed += (long long)n;
		return n;
	}
	if (strbuf_add(&sink->res->body, ptr, n) < 0)
		return 0; /* over the cap: abort the transfer */
	return n;
}

/* Streams, and bodies that take a while to send even from memory (an S3
 * part), get no total time limit: a stall fails them instead. */
static int http_streaming(const struct http_request *req)
{
	return req->body_read || req->on_body || req->body_len >= (1u << 20);
}

static size_t http_read_body(char *buf, size_t size, size_t nitems, void *ud)
{
	const struct http_request *req = ud;
	long long n = req->body_read(buf, size * nitems, req->body_ud);

	if (n < 0 || (size_t)n > size * nitems)
		return CURL_READFUNC_ABORT;
	return (size_t)n;
}

static int http_seek_body(void *ud, curl_off_t offset, int origin)
{
	const struct http_request *req = ud;

	/* libcurl rewinds to resend (a redirect, an auth round trip). */
	if (offset != 0 || origin != SEEK_SET || !req->body_rewind)
		return CURL_SEEKFUNC_CANTSEEK;
	return req->body_rewind(req->body_ud) < 0 ? CURL_SEEKFUNC_FAIL
						  : CURL_SEEKFUNC_OK;
}

static size_t http_write_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct strbuf *sb = ud;
	size_t n = size * nmemb;

	/* A new status line starts a new hop (redirects, 100-continue). */
	if (n > 5 && !strncmp(ptr, "HTTP/", 5))
		strbuf_reset(sb);
	if (strbuf_add(sb, ptr, n) < 0)
		return 0;
	return n;
}

/* Headers that carry credentials are logged with their value hidden. */
static int http_header_is_secret(const char *line, size_t len)
{
	static const char *const secret[] = {
		"authorization:", "proxy-authorization:", "cookie:",
		"set-cookie:", "x-amz-security-token:", "x-api-key:",
		"x-clickhouse-key:", NULL,
	};
	for (int i = 0; secret[i]; i++) {
		size_t sl = strlen(secret[i]);

		if (len >= sl && !strncasecmp(line, secret[i], sl))
			return 1;
	}
	return 0;
}

/* Log one line with every occurrence of secret replaced. */
static void http_log_masked(const char *dir, const char *line, size_t len,
			    const char *secret)
{
	struct strbuf sb = STRBUF_INIT;
	size_t sl = secret ? strlen(secret) : 0;

	strbuf_init(&sb, 0);
	for (size_t i = 0; i < len;) {
		if (sl && len - i >= sl && !memcmp(line + i, secret, sl)) {
			strbuf_addstr(&sb, "[redacted]");
			i += sl;
		} else {
			strbuf_addch(&sb, line[i++]);
		}
	}
	log_debug("http: %s%s", dir, sb.buf);
	strbuf_release(&sb);
}

static int http_debug(CURL *curl, curl_infotype type, char *data, size_t size,
		      void *ud)
{
	const char *dir;
	const char *redact = ud;
	size_t start = 0;

	(void)curl;
	switch (type) {
	case CURLINFO_HEADER_OUT:
		dir = "> ";
		break;
	case CURLINFO_HEADER_IN:
		dir = "< ";
		break;
	case CURLINFO_TEXT:
		dir = "* ";
		break;
	default:
		return 0; /* bodies are never logged: they may hold secrets */
	}
	while (start < size) {
		size_t end = start;

		while (end < size && data[end] != '\n')
			end++;
		size_t len = end - start;
		if (len && data[start + len - 1] == '\r')
			len--;
		if (len) {
			const char *line = data + start;

			if (http_header_is_secret(line, len)) {
				const char *colon = memchr(line, ':', len);

				log_debug("http: %s%.*s: [redacted]", dir,
					  (int)(colon - line), line);
			} else {
				http_log_masked(dir, line, len, redact);
			}
		}
		start = end + 1;
	}
	return 0;
}

static int http_cancel_requested(const volatile int *cancel)
{
	return cancel && __atomic_load_n(cancel, __ATOMIC_ACQUIRE);
}

static int http_xferinfo(void *ud, curl_off_t dltotal, curl_off_t dlnow,
			 curl_off_t ultotal, curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return http_cancel_requested(ud); /* non-zero aborts the transfer */
}

int http_easy_setup(CURL *curl, const struct http_request *req,
		    struct curl_slist **headers_out, struct err *e)
{
	struct curl_slist *hdrs = NULL;
	const struct http_tls *tls = req->tls;

	curl_easy_setopt(curl, CURLOPT_URL, req->url);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "saasctl/" SAASCTL_VERSION);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
			 req->connect_timeout_ms ? req->connect_timeout_ms
						 : 10000L);
	if (http_streaming(req)) {
		/* A large stream takes as long as it takes; a stalled one
		 * fails (and is retried when it can be). */
		long stall_s = req->timeout_ms > 0 ? req->timeout_ms / 1000 : 60;

		curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
				 stall_s > 0 ? stall_s : 1L);
	} else if (req->timeout_ms >= 0)
		curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
				 req->timeout_ms ? req->timeout_ms : 30000L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	if (req->follow_redirects) {
		curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
		/* 301/302/303 must not turn a POST into a GET silently either */
		curl_easy_setopt(curl, CURLOPT_POSTREDIR, CURL_REDIR_POST_ALL);
	}
	if (req->body_read) {
		curl_off_t size = req->body_size >= 0 ? req->body_size : -1;

		if (req->method && !strcmp(req->method, "POST")) {
			curl_easy_setopt(curl, CURLOPT_POST, 1L);
			curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, size);
		} else {
			curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
			curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, size);
		}
		curl_easy_setopt(curl, CURLOPT_READFUNCTION, http_read_body);
		curl_easy_setopt(curl, CURLOPT_READDATA, (void *)req);
		curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, http_seek_body);
		curl_easy_setopt(curl, CURLOPT_SEEKDATA, (void *)req);
	} else if (req->body || (req->method && !strcmp(req->method, "POST"))) {
		curl_easy_setopt(curl, CURLOPT_POST, 1L);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS,
				 req->body ? req->body : "");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)req->body_len);
	}
	if (req->method && strcmp(req->method, "GET") &&
	    strcmp(req->method, "POST") &&
	    !(req->body_read && !strcmp(req->method, "PUT")))
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->method && !strcmp(req->method, "HEAD"))
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	if (req->path_as_is)
		curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
	if (req->proxy)
		curl_easy_setopt(curl, CURLOPT_PROXY, req->proxy);
	if (req->unix_socket)
		curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH,
				 req->unix_socket);
	if (req->connect_to)
		curl_easy_setopt(curl, CURLOPT_CONNECT_TO, req->connect_to);
	if (tls) {
		struct curl_blob blob;

		if (tls->ca_file)
			curl_easy_setopt(curl, CURLOPT_CAINFO, tls->ca_file);
		if (tls->ca_pem) {
			blob.data = (void *)tls->ca_pem;
			blob.len = tls->ca_pem_len;
			blob.flags = CURL_BLOB_COPY;
			curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &blob);
		}
		if (tls->cert_file)
			curl_easy_setopt(curl, CURLOPT_SSLCERT, tls->cert_file);
		if (tls->cert_pem) {
			blob.data = (void *)tls->cert_pem;
			blob.len = tls->cert_pem_len;
			blob.flags = CURL_BLOB_COPY;
			curl_easy_setopt(curl, CURLOPT_SSLCERT_BLOB, &blob);
			curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
		}
		if (tls->key_file)
			curl_easy_setopt(curl, CURLOPT_SSLKEY, tls->key_file);
		if (tls->key_pem) {
			blob.data = (void *)tls->key_pem;
			blob.len = tls->key_pem_len;
			blob.flags = CURL_BLOB_COPY;
			curl_easy_setopt(curl, CURLOPT_SSLKEY_BLOB, &blob);
			curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
		}
		if (tls->insecure) {
			curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
		}
	}
	/* Never "Expect: 100-continue": some servers stall on it. */
	hdrs = curl_slist_append(hdrs, "Expect:");
	for (const char *const *h = req->headers; h && *h; h++) {
		struct curl_slist *n = curl_slist_append(hdrs, *h);

		if (!n) {
			curl_slist_free_all(hdrs);
			return err_set(e, "out of memory");
		}
		hdrs = n;
	}
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	if (req->share)
		curl_easy_setopt(curl, CURLOPT_SHARE, req->share);
	if (req->cancel) {
		curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, http_xferinfo);
		curl_easy_setopt(curl, CURLOPT_XFERINFODATA,
				 (void *)req->cancel);
		curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	}
	if (log_verbosity() > 0) {
		curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, http_debug);
		curl_easy_setopt(curl, CURLOPT_DEBUGDATA, (void *)req->redact);
		curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);
	}
	*headers_out = hdrs;
	return 0;
}

int http_status_retryable(long status)
{
	return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

long http_backoff_ms(int attempt, long base_ms, long cap_ms)
{
	long ceiling = base_ms;

	for (int i = 0; i < attempt && ceiling < cap_ms; i++)
		ceiling *= 2;
	if (ceiling > cap_ms)
		ceiling = cap_ms;
	if (ceiling <= 0)
		return 0;
	return (long)randombytes_uniform((uint32_t)ceiling + 1);
}

int http_header(const struct http_response *res, const char *name, char *out,
		size_t outlen)
{
	size_t nl = strlen(name);
	const char *p = res->headers.buf;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > nl && !strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1;
			const char *end = p + len;

			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			while (end > v && isspace((unsigned char)end[-1]))
				end--;
			if ((size_t)(end - v) >= outlen)
				return -1;
			memcpy(out, v, (size_t)(end - v));
			out[end - v] = '\0';
			return 0;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return -1;
}

long http_retry_after_ms(const struct http_response *res)
{
	char v[64];
	char *end;
	long s;

	if (http_header(res, "Retry-After", v, sizeof(v)) < 0)
		return -1;
	s = strtol(v, &end, 10);
	if (end == v || *end || s < 0)
		return -1;
	if (s > 3600)
		s = 3600;
	return s * 1000;
}

/* Sleep, in slices when a cancel flag may cut it short. */
static void http_sleep_ms(long ms, const volatile int *cancel)
{
	while (ms > 0 && !http_cancel_requested(cancel)) {
		long slice = cancel && ms > 50 ? 50 : ms;
		struct timespec ts = { slice / 1000, (slice % 1000) * 1000000L };

		while (nanosleep(&ts, &ts) < 0)
			;
		ms -= slice;
	}
}

int http_do(const struct http_request *req, struct http_response *res,
	    struct err *e)
{
	long start = clock_now_ms();
	int max_attempts = req->max_attempts > 0 ? req->max_attempts : 1;
	char curl_msg[CURL_ERROR_SIZE];
	CURL *curl = NULL;
	int ret = -1;

	if (http_global_init(e) < 0)
		return -1;
	if (req->deadline_ms > 0 && req->max_attempts <= 0)
		max_attempts = 1000;
	res->body.max = req->max_response ? req->max_response : 64u << 20;
	curl = curl_easy_init();
	if (!curl)
		return err_set(e, "cannot create a curl handle");

	for (int attempt = 0; attempt < max_attempts; attempt++) {
		struct curl_slist *hdrs = NULL;
		struct http_sink sink = { curl, req, res, 0, 0, 0 };
		long wait_ms = -1;
		CURLcode cc;
		int retry;

		curl_easy_reset(curl);
		strbuf_reset(&res->body);
		strbuf_reset(&res->headers);
		res->status = 0;
		res->attempts = attempt + 1;
		if (attempt > 0 && req->body_read &&
		    req->body_rewind(req->body_ud) < 0) {
			err_wrap(e, "cannot rewind the request body to retry");
			goto out;
		}
		if (http_easy_setup(curl, req, &hdrs, e) < 0)
			goto out;
		if (req->deadline_ms > 0) {
			long left = req->deadline_ms - (clock_now_ms() - start);
			long per = http_streaming(req) ? left
				 : req->timeout_ms > 0 ? req->timeout_ms : 30000L;

			if (left < 1)
				left = 1;
			curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
					 per < left ? per : left);
		}
		curl_msg[0] = '\0';
		curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_msg);
		curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, http_write_body);
		curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
		curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION,
				 http_write_header);
		curl_easy_setopt(curl, CURLOPT_HEADERDATA, &res->headers);
		cc = curl_easy_perform(curl);
		curl_slist_free_all(hdrs);

		if (http_cancel_requested(req->cancel) ||
		    (cc == CURLE_ABORTED_BY_CALLBACK && !req->body_read)) {
			res->status = 0;
			err_set(e, "cancelled");
			goto out;
		}
		if (cc == CURLE_ABORTED_BY_CALLBACK) {
			err_set(e, "cannot read the request body");
			goto out;
		}
		if (sink.caller_failed) {
			err_set(e, "cannot store the response body");
			goto out;
		}
		if (cc == CURLE_WRITE_ERROR && res->body.max &&
		    res->body.len + CURL_MAX_WRITE_SIZE >= res->body.max) {
			err_set(e, "response larger than %zu bytes",
				res->body.max);
			goto out;
		}
		if (cc == CURLE_OK) {
			curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE,
					  &res->status);
			retry = http_status_retryable(res->status);
			if (!retry) {
				ret = 0;
				goto out;
			}
			wait_ms = http_retry_after_ms(res);
			err_set(e, "HTTP %ld", res->status);
		} else {
			/* TLS and DNS problems do not heal by retrying. */
			retry = cc == CURLE_OPERATION_TIMEDOUT ||
				cc == CURLE_COULDNT_CONNECT ||
				cc == CURLE_RECV_ERROR ||
				cc == CURLE_SEND_ERROR ||
				cc == CURLE_GOT_NOTHING ||
				cc == CURLE_PARTIAL_FILE ||
				cc == CURLE_HTTP2 || cc == CURLE_HTTP2_STREAM;
			err_set(e, "%s", curl_msg[0] ? curl_msg
						      : curl_easy_strerror(cc));
		}
		/* Bytes already handed over cannot be taken back, and a body
		 * that cannot be rewound cannot be sent again (unless it never
		 * left: no connection). */
		if (res->streamed > 0) {
			err_wrap(e, "connection lost after %lld bytes",
				 res->streamed);
			goto out;
		}
		if (req->body_read && !req->body_rewind &&
		    cc != CURLE_COULDNT_CONNECT)
			retry = 0;
		if (!retry || attempt + 1 >= max_attempts)
			break;
		if (wait_ms < 0)
			wait_ms = http_backoff_ms(attempt, 200, 5000);
		if (req->deadline_ms > 0 &&
		    clock_now_ms() - start + wait_ms >= req->deadline_ms)
			break;
		if (log_verbosity() > 0) {
			struct strbuf line = STRBUF_INIT;

			strbuf_addf(&line, "retrying %s in %ld ms (%s)",
				    req->url, wait_ms, e->msg);
			http_log_masked("", line.buf, line.len, req->redact);
			strbuf_release(&line);
		}
		http_sleep_ms(wait_ms, req->cancel);
		if (http_cancel_requested(req->cancel))
			break;
	}
	/* A retryable status that never cleared is still a response. */
	if (http_cancel_requested(req->cancel)) {
		res->status = 0;
		err_set(e, "cancelled");
	} else if (res->status)
		ret = 0;
out:
	curl_easy_cleanup(curl);
	return ret;
}

int http_escape(struct strbuf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
			if (strbuf_addch(out, (char)c) < 0)
				return -1;
		} else {
			char enc[3] = { '%', hex[c >> 4], hex[c & 15] };

			if (strbuf_add(out, enc, 3) < 0)
				return -1;
		}
	}
	return 0;
}
