#include "sigv4.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

void sigv4_result_init(struct sigv4_result *r)
{
	strbuf_init(&r->path, 0);
	strbuf_init(&r->query, 0);
	strbuf_init(&r->canonical, 0);
	strbuf_init(&r->string_to_sign, 0);
	strbuf_init(&r->authorization, 0);
	r->amz_date[0] = '\0';
}

void sigv4_result_release(struct sigv4_result *r)
{
	strbuf_release(&r->path);
	strbuf_release(&r->query);
	strbuf_release(&r->canonical);
	strbuf_release(&r->string_to_sign);
	strbuf_release(&r->authorization);
}

static int sigv4_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

int sigv4_uri_encode(struct strbuf *out, const char *s, size_t len,
		     int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (sigv4_unreserved(c) || (keep_slash && c == '/')) {
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

static void sigv4_hex(char *out, const unsigned char *in, size_t len)
{
	sodium_bin2hex(out, len * 2 + 1, in, len);
}

void sigv4_payload_hash(char out[65], const void *data, size_t len)
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, data, len);
	sigv4_hex(out, h, sizeof(h));
}

static void sigv4_hmac(unsigned char out[crypto_auth_hmacsha256_BYTES],
		       const unsigned char *key, size_t keylen,
		       const char *msg, size_t msglen)
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, msglen);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

struct sigv4_kv {
	char *name;
	char *value;
};

static int sigv4_kv_cmp(const void *a, const void *b)
{
	const struct sigv4_kv *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

static void sigv4_kv_free(struct sigv4_kv *kv, size_t n)
{
	for (size_t i = 0; kv && i < n; i++) {
		free(kv[i].name);
		free(kv[i].value);
	}
	free(kv);
}

/* The canonical query string: names and values encoded, then sorted. */
static int sigv4_query(struct strbuf *out, const struct sigv4_request *req)
{
	struct sigv4_kv *kv = calloc(req->nquery ? req->nquery : 1, sizeof(*kv));
	int ret = -1;

	if (!kv)
		return -1;
	for (size_t i = 0; i < req->nquery; i++) {
		struct strbuf n = STRBUF_INIT, v = STRBUF_INIT;
		const char *val = req->query[i].value ? req->query[i].value : "";

		if (sigv4_uri_encode(&n, req->query[i].name,
				     strlen(req->query[i].name), 0) < 0 ||
		    sigv4_uri_encode(&v, val, strlen(val), 0) < 0) {
			strbuf_release(&n);
			strbuf_release(&v);
			goto out;
		}
		kv[i].name = strbuf_detach(&n, NULL);
		kv[i].value = strbuf_detach(&v, NULL);
	}
	qsort(kv, req->nquery, sizeof(*kv), sigv4_kv_cmp);
	for (size_t i = 0; i < req->nquery; i++)
		if ((i && strbuf_addch(out, '&') < 0) ||
		    strbuf_addf(out, "%s=%s", kv[i].name, kv[i].value) < 0)
			goto out;
	ret = 0;
out:
	sigv4_kv_free(kv, req->nquery);
	return ret;
}

/* Lowercase name; value trimmed with runs of spaces squeezed to one. */
static int sigv4_header_kv(struct sigv4_kv *kv, const char *name,
			   const char *value)
{
	size_t nl = strlen(name);
	char *v, *w;
	const char *p;

	kv->name = malloc(nl + 1);
	kv->value = v = w = malloc(strlen(value) + 1);
	if (!kv->name || !v)
		return -1;
	for (size_t i = 0; i <= nl; i++) {
		char c = name[i];

		kv->name[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	for (p = value; *p == ' ' || *p == '\t'; p++)
		;
	for (; *p; p++) {
		if (*p == ' ' || *p == '\t') {
			if (w > v && w[-1] == ' ')
				continue;
			*w++ = ' ';
		} else {
			*w++ = *p;
		}
	}
	while (w > v && w[-1] == ' ')
		w--;
	*w = '\0';
	return 0;
}

static int sigv4_kv_name_cmp(const void *a, const void *b)
{
	const struct sigv4_kv *x = a, *y = b;

	return strcmp(x->name, y->name);
}

int sigv4_sign(const struct sigv4_credentials *c,
	       const struct sigv4_request *req, struct sigv4_result *r,
	       struct err *e)
{
	size_t nh = req->nheaders + 3;
	struct sigv4_kv *h = NULL;
	struct strbuf signed_names = STRBUF_INIT;
	struct strbuf scope = STRBUF_INIT;
	unsigned char *key = NULL;
	size_t keylen = 4 + strlen(c->secret_key ? c->secret_key : "");
	unsigned char hash[crypto_hash_sha256_BYTES];
	unsigned char k[crypto_auth_hmacsha256_BYTES];
	char hex[2 * crypto_hash_sha256_BYTES + 1];
	size_t n = 0;
	int ret = -1;

	sigv4_result_release(r);
	sigv4_result_init(r);
	if (!c->access_key || !*c->access_key || !c->secret_key)
		return err_set(e, "no access key to sign with");
	if (!req->path || req->path[0] != '/')
		return err_set(e, "cannot sign a path that does not start with '/'");
	if (sodium_init() < 0)
		return err_set(e, "cannot initialise libsodium");
	if (req->amz_date) {
		if (strlen(req->amz_date) != 16)
			return err_set(e, "bad x-amz-date '%s'", req->amz_date);
		memcpy(r->amz_date, req->amz_date, 17);
	} else {
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(r->amz_date, sizeof(r->amz_date), "%Y%m%dT%H%M%SZ", &tm);
	}

	if (sigv4_uri_encode(&r->path, req->path, strlen(req->path), 1) < 0 ||
	    sigv4_query(&r->query, req) < 0)
		goto oom;

	h = calloc(nh, sizeof(*h));
	if (!h)
		goto oom;
	if (sigv4_header_kv(&h[n++], "host", req->host) < 0 ||
	    sigv4_header_kv(&h[n++], "x-amz-date", r->amz_date) < 0)
		goto oom;
	if (c->session_token && *c->session_token &&
	    sigv4_header_kv(&h[n++], "x-amz-security-token",
			    c->session_token) < 0)
		goto oom;
	for (size_t i = 0; i < req->nheaders; i++) {
		size_t j;

		if (sigv4_header_kv(&h[n], req->headers[i].name,
				    req->headers[i].value) < 0) {
			n++;
			goto oom;
		}
		/* A repeated header is signed once, its values joined by ','
		 * in the order given. */
		for (j = 0; j < n && strcmp(h[j].name, h[n].name); j++)
			;
		if (j < n) {
			char *v = malloc(strlen(h[j].value) + strlen(h[n].value) + 2);

			if (!v) {
				n++;
				goto oom;
			}
			sprintf(v, "%s,%s", h[j].value, h[n].value);
			free(h[j].value);
			h[j].value = v;
			free(h[n].name);
			free(h[n].value);
			h[n].name = h[n].value = NULL;
			continue;
		}
		n++;
	}
	qsort(h, n, sizeof(*h), sigv4_kv_name_cmp);

	/* The canonical request. */
	if (strbuf_addf(&r->canonical, "%s\n%s\n%s\n", req->method,
			r->path.buf, r->query.buf) < 0)
		goto oom;
	for (size_t i = 0; i < n; i++)
		if (strbuf_addf(&r->canonical, "%s:%s\n", h[i].name,
				h[i].value) < 0 ||
		    strbuf_addf(&signed_names, "%s%s", i ? ";" : "",
				h[i].name) < 0)
			goto oom;
	if (strbuf_addf(&r->canonical, "\n%s\n%s", signed_names.buf,
			req->payload_hash ? req->payload_hash
					  : SIGV4_UNSIGNED_PAYLOAD) < 0)
		goto oom;

	/* The string to sign. */
	if (strbuf_addf(&scope, "%.8s/%s/%s/aws4_request", r->amz_date,
			c->region, c->service) < 0)
		goto oom;
	crypto_hash_sha256(hash, (const unsigned char *)r->canonical.buf,
			   r->canonical.len);
	sigv4_hex(hex, hash, sizeof(hash));
	if (strbuf_addf(&r->string_to_sign, "AWS4-HMAC-SHA256\n%s\n%s\n%s",
			r->amz_date, scope.buf, hex) < 0)
		goto oom;

	/* The signing key, derived from the secret (wiped after use). */
	key = sodium_malloc(keylen);
	if (!key)
		goto oom;
	memcpy(key, "AWS4", 4);
	memcpy(key + 4, c->secret_key, keylen - 4);
	sigv4_hmac(k, key, keylen, r->amz_date, 8);
	sigv4_hmac(k, k, sizeof(k), c->region, strlen(c->region));
	sigv4_hmac(k, k, sizeof(k), c->service, strlen(c->service));
	sigv4_hmac(k, k, sizeof(k), "aws4_request", 12);
	sigv4_hmac(k, k, sizeof(k), r->string_to_sign.buf,
		   r->string_to_sign.len);
	sigv4_hex(hex, k, sizeof(k));

	if (strbuf_addf(&r->authorization,
			"AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
			c->access_key, scope.buf, signed_names.buf, hex) < 0)
		goto oom;
	ret = 0;
	goto out;
oom:
	err_set(e, "out of memory");
out:
	sodium_memzero(k, sizeof(k));
	sodium_free(key); /* wipes it */
	strbuf_release(&scope);
	strbuf_release(&signed_names);
	sigv4_kv_free(h, n);
	return ret;
}
