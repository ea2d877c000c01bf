#include "hc.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "http.h"
#include "log.h"
#include "monorepo.h"
#include "yamltree.h"

/*
 * The pings of one run (start on its thread, finish on the main one) go
 * over one connection: over TLS to hc-ping.com that saves a handshake.
 * It is made with the first ping, on the calling thread (libcurl's global
 * set-up comes with it), so that hc_init() costs nothing.
 */
struct hc_share {
	CURLSH *sh;
	pthread_mutex_t mu[CURL_LOCK_DATA_LAST];
};

static void hc_share_lock(CURL *h, curl_lock_data data,
			  curl_lock_access access, void *ud)
{
	struct hc_share *s = ud;

	(void)h;
	(void)access;
	pthread_mutex_lock(&s->mu[data]);
}

static void hc_share_unlock(CURL *h, curl_lock_data data, void *ud)
{
	struct hc_share *s = ud;

	(void)h;
	pthread_mutex_unlock(&s->mu[data]);
}

static struct hc_share *hc_share_new(void)
{
	struct hc_share *s = calloc(1, sizeof(*s));

	if (!s || http_global_init(NULL) < 0) {
		free(s);
		return NULL;
	}
	s->sh = curl_share_init();
	if (!s->sh) {
		free(s);
		return NULL;
	}
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&s->mu[i], NULL);
	curl_share_setopt(s->sh, CURLSHOPT_LOCKFUNC, hc_share_lock);
	curl_share_setopt(s->sh, CURLSHOPT_UNLOCKFUNC, hc_share_unlock);
	curl_share_setopt(s->sh, CURLSHOPT_USERDATA, s);
	curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	return s;
}

static void hc_share_free(struct hc_share *s)
{
	if (!s)
		return;
	curl_share_cleanup(s->sh);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&s->mu[i]);
	free(s);
}

static char *hc_strdup_trimmed(const char *s)
{
	size_t n = strlen(s);
	char *out;

	while (n && s[n - 1] == '/')
		n--;
	out = malloc(n + 1);
	if (!out)
		abort();
	memcpy(out, s, n);
	out[n] = '\0';
	return out;
}

static const char *hc_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static const char *hc_setting(const struct monorepo *repo, const char *key,
			      const char *env)
{
	const char *v = hc_env(env);

	if (!v && repo)
		v = monorepo_get(repo, key);
	return v && *v ? v : NULL;
}

/* hc-ping.com (and its hosts) keeps 100 kB; other instances 10 kB. */
static size_t hc_default_limit(const char *ping_url)
{
	const char *host = strstr(ping_url, "://");

	host = host ? host + 3 : ping_url;
	if (!strncmp(host, "hc-ping.com", 11) &&
	    (host[11] == '\0' || host[11] == '/' || host[11] == ':'))
		return HC_BODY_LIMIT_HCPING;
	return HC_BODY_LIMIT_OTHER;
}

int hc_init(struct hc *hc, const struct monorepo *repo, struct err *e)
{
	const char *v;

	memset(hc, 0, sizeof(*hc));
	hc->repo = repo;
	hc->deadline_ms = HC_DEADLINE_MS;
	v = hc_setting(repo, "healthchecks.ping_url", "SAASCTL_HC_PING_URL");
	hc->ping_url = hc_strdup_trimmed(v ? v : HC_PING_URL_DEFAULT);
	if (strncmp(hc->ping_url, "http://", 7) &&
	    strncmp(hc->ping_url, "https://", 8)) {
		err_set(e, "ping URL '%s' is not an http(s) URL", hc->ping_url);
		hc_release(hc);
		return -1;
	}
	/* A credential: from the environment only, never saasctl.yaml. */
	v = hc_env("HC_PING_KEY");
	if (!v)
		v = hc_env("SAASCTL_HC_PING_KEY");
	if (v)
		hc->ping_key = hc_strdup_trimmed(v);
	v = hc_setting(repo, "healthchecks.api_url", "SAASCTL_HC_API_URL");
	hc->api_url = hc_strdup_trimmed(v ? v : HC_API_URL_DEFAULT);
	v = hc_env("HC_API_KEY");
	if (v)
		hc->api_key = hc_strdup_trimmed(v);
	hc->body_limit = hc_default_limit(hc->ping_url);
	return 0;
}

void hc_release(struct hc *hc)
{
	free(hc->ping_url);
	if (hc->ping_key)
		sodium_memzero(hc->ping_key, strlen(hc->ping_key));
	free(hc->ping_key);
	free(hc->api_url);
	if (hc->api_key)
		sodium_memzero(hc->api_key, strlen(hc->api_key));
	free(hc->api_key);
	hc_share_free(hc->share);
	memset(hc, 0, sizeof(*hc));
}

int hc_is_uuid(const char *s)
{
	for (int i = 0; i < 36; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return 0;
	}
	return s[36] == '\0';
}

static int hc_is_slug(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) ||
		      *s == '-' || *s == '_'))
			return 0;
	return 1;
}

void hc_new_rid(char out[37])
{
	unsigned char b[16];

	if (sodium_init() < 0)
		abort(); /* no randomness source at all */
	randombytes_buf(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;	/* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* A check name of saasctl.yaml to its slug; the name itself otherwise. */
static const char *hc_slug_of(const struct hc *hc, const char *check)
{
	struct ynode *checks, *node;
	const char *slug;

	if (!hc->repo)
		return check;
	checks = monorepo_config_node(hc->repo, "healthchecks.checks");
	node = checks && checks->type == YNODE_MAP ? ynode_get(checks, check)
						     : NULL;
	if (!node || node->type != YNODE_MAP)
		return check;
	slug = ynode_str(node, "slug");
	return slug && *slug ? slug : check;
}

static const char *const hc_signal_names[] = {
	[HC_SUCCESS] = "success", [HC_START] = "start", [HC_FAIL] = "fail",
	[HC_LOG] = "log", [HC_EXIT] = "exit code",
};

/* <base>/<uuid>[/kind] or <base>/<key>/<slug>[/kind][?create=1][&rid=] */
static int hc_ping_url(struct strbuf *url, const struct hc *hc,
		       const char *check, const struct hc_ping *p,
		       struct err *e)
{
	char sep = '?';
	int uuid = hc_is_uuid(check);

	strbuf_addstr(url, hc->ping_url);
	if (uuid) {
		if (hc->create)
			return err_set(e, "check '%s': --create needs a slug, not a UUID",
				       check);
		strbuf_addf(url, "/%s", check);
	} else {
		const char *slug = hc_slug_of(hc, check);

		if (!hc_is_slug(slug))
			return err_set(e, "check '%s' is neither a UUID nor a slug (a-z, 0-9, '-' and '_')",
				       slug);
		if (!hc->ping_key)
			return err_set(e, "check '%s' is a slug and needs the project's ping key: set HC_PING_KEY",
				       slug);
		strbuf_addch(url, '/');
		http_escape(url, hc->ping_key);
		strbuf_addf(url, "/%s", slug);
	}
	switch (p->signal) {
	case HC_SUCCESS:
		break;
	case HC_START:
		strbuf_addstr(url, "/start");
		break;
	case HC_FAIL:
		strbuf_addstr(url, "/fail");
		break;
	case HC_LOG:
		strbuf_addstr(url, "/log");
		break;
	case HC_EXIT:
		if (p->exit_code < 0 || p->exit_code > 255)
			return err_set(e, "exit code %d is not in 0-255",
				       p->exit_code);
		strbuf_addf(url, "/%d", p->exit_code);
		break;
	}
	if (!uuid && hc->create) {
		strbuf_addstr(url, "?create=1");
		sep = '&';
	}
	if (p->rid) {
		if (!hc_is_uuid(p->rid))
			return err_set(e, "run ID '%s' is not a UUID", p->rid);
		strbuf_addf(url, "%crid=%s", sep, p->rid);
	}
	return 0;
}

/* Start of the UTF-8 character at or after s[i] (skip continuation bytes). */
static size_t hc_utf8_start(const char *s, size_t len, size_t i)
{
	for (int k = 0; k < 3 && i < len && ((unsigned char)s[i] & 0xc0) == 0x80;
	     k++)
		i++;
	return i;
}

int hc_body_build(struct strbuf *out, const struct hc_ping *p, size_t limit)
{
	char note[160];
	size_t note_len = 0, sum_len = 0, keep, from;
	size_t total = p->dropped + p->body_len;

	if (p->summary)
		sum_len = strlen(p->summary) + 2; /* its own line: \n...\n */
	keep = p->body_len;
	if (total + sum_len > limit || p->dropped) {
		/* The note's length depends on the numbers it prints; size it
		 * for the widest case first. */
		note_len = (size_t)snprintf(note, sizeof(note),
			"[saasctl: output truncated: the first %zu of %zu bytes were dropped]\n",
			total, total);
		keep = limit > note_len + sum_len ? limit - note_len - sum_len : 0;
		if (keep > p->body_len)
			keep = p->body_len;
		from = hc_utf8_start(p->body ? p->body : "", p->body_len,
				     p->body_len - keep);
		keep = p->body_len - from;
		note_len = (size_t)snprintf(note, sizeof(note),
			"[saasctl: output truncated: the first %zu of %zu bytes were dropped]\n",
			total - keep, total);
		if (note_len + sum_len <= limit && strbuf_add(out, note, note_len) < 0)
			return -1;
	}
	from = p->body_len - keep;
	if (keep && strbuf_add(out, p->body + from, keep) < 0)
		return -1;
	if (p->summary) {
		/* The summary goes on a line of its own. */
		if (out->len && out->buf[out->len - 1] != '\n' &&
		    out->len + sum_len <= limit)
			strbuf_addch(out, '\n');
		if (out->len + sum_len - 1 <= limit) {
			strbuf_addstr(out, p->summary);
			strbuf_addch(out, '\n');
		}
	}
	return 0;
}

static void hc_status_error(struct err *e, long status,
			    const struct http_response *res, const char *check,
			    int uuid)
{
	char why[128];
	size_t n = res->body.len < sizeof(why) - 1 ? res->body.len
						     : sizeof(why) - 1;

	/* The server's short reason ("not found"), printable bytes only. */
	for (size_t i = 0; i < n; i++)
		why[i] = isprint((unsigned char)res->body.buf[i])
				 ? res->body.buf[i] : ' ';
	why[n] = '\0';
	while (n && why[n - 1] == ' ')
		why[--n] = '\0';
	switch (status) {
	case 404:
		if (uuid)
			err_set(e, "no such check (404)");
		else
			err_set(e, "no check has the slug '%s' for this ping key (404); --create makes one",
				check);
		break;
	case 409:
		err_set(e, "slug '%s' is ambiguous: several checks of the project have it (409)",
			check);
		break;
	case 400:
		err_set(e, "the server refused the ping URL (400 %s)",
			n ? why : "bad request");
		break;
	default:
		err_set(e, "the server answered %ld%s%s", status, n ? " " : "",
			why);
	}
}

int hc_ping(struct hc *hc, const char *check, const struct hc_ping *p,
	    const volatile int *cancel, struct err *e)
{
	struct strbuf url = STRBUF_INIT, body = STRBUF_INIT;
	struct http_response res;
	struct http_request req = { 0 };
	const char *headers[] = { "Content-Type: text/plain; charset=utf-8",
				  NULL };
	char limit[32];
	int ret = -1;

	strbuf_init(&url, 0);
	strbuf_init(&body, 0);
	http_response_init(&res);
	if (hc_ping_url(&url, hc, check, p, e) < 0)
		goto out;
	if (hc_body_build(&body, p, hc->body_limit) < 0) {
		err_set(e, "out of memory");
		goto out;
	}
	req.method = "POST";
	req.url = url.buf;
	req.headers = headers;
	req.body = body.buf;
	req.body_len = body.len;
	req.deadline_ms = hc->deadline_ms;
	req.timeout_ms = hc->deadline_ms;
	req.connect_timeout_ms = hc->deadline_ms < 5000 ? hc->deadline_ms : 5000;
	req.follow_redirects = 1;
	req.max_response = 64 << 10;
	req.cancel = cancel;
	req.redact = hc->ping_key;
	if (!hc->share)
		hc->share = hc_share_new(); /* without it, a connection per ping */
	req.share = hc->share ? hc->share->sh : NULL;
	log_debug("hc: %s ping to '%s' with %zu bytes", hc_signal_names[p->signal],
		  check, body.len);
	if (http_do(&req, &res, e) < 0)
		goto out;
	/* The limit for the next ping, as the server announced it. */
	if (http_header(&res, "Ping-Body-Limit", limit, sizeof(limit)) == 0) {
		char *end;
		unsigned long long v = strtoull(limit, &end, 10);

		if (end != limit && !*end && v > 0)
			hc->body_limit = v < HC_TAIL_MAX ? (size_t)v : HC_TAIL_MAX;
	}
	if (res.status != 200 && res.status != 201) {
		hc_status_error(e, res.status, &res, hc_is_uuid(check) ? check
					: hc_slug_of(hc, check),
				hc_is_uuid(check));
		goto out;
	}
	ret = 0;
out:
	if (ret < 0 && p->signal == HC_EXIT)
		err_wrap(e, "cannot send the exit code %d ping to '%s'",
			 p->exit_code, check);
	else if (ret < 0)
		err_wrap(e, "cannot send the %s ping to '%s'",
			 hc_signal_names[p->signal], check);
	http_response_release(&res);
	/* The URL may hold the ping key. */
	if (url.alloc)
		sodium_memzero(url.buf, url.len);
	strbuf_release(&url);
	strbuf_release(&body);
	return ret;
}

int hc_start(struct hc *hc, const char *check, const char *rid,
	     struct err *e)
{
	struct hc_ping p = { .signal = HC_START, .rid = rid };

	return hc_ping(hc, check, &p, NULL, e);
}

int hc_success(struct hc *hc, const char *check, const char *rid,
	       const char *summary, struct err *e)
{
	struct hc_ping p = { .signal = HC_SUCCESS, .rid = rid,
			     .summary = summary };

	return hc_ping(hc, check, &p, NULL, e);
}

int hc_fail(struct hc *hc, const char *check, const char *rid,
	    const char *summary, struct err *e)
{
	struct hc_ping p = { .signal = HC_FAIL, .rid = rid,
			     .summary = summary };

	return hc_ping(hc, check, &p, NULL, e);
}

/* --- a ping on its own thread ------------------------------------------ */

struct hc_async {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct hc *hc;
	char *check;
	struct hc_ping ping;
	volatile int cancel;
	int done;
	int ret;
	struct err err;
};

static void *hc_async_main(void *arg)
{
	struct hc_async *a = arg;
	int ret = hc_ping(a->hc, a->check, &a->ping, &a->cancel, &a->err);

	pthread_mutex_lock(&a->mu);
	a->ret = ret;
	a->done = 1;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

int hc_async_ping(struct hc_async **out, struct hc *hc, const char *check,
		  const struct hc_ping *p, struct err *e)
{
	struct hc_async *a = calloc(1, sizeof(*a));
	int rc;

	if (!a)
		return err_set(e, "out of memory");
	/* curl_global_init is not thread-safe: do it here, not there. */
	if (http_global_init(e) < 0) {
		free(a);
		return -1;
	}
	if (!hc->share)
		hc->share = hc_share_new();
	a->hc = hc;
	a->check = strdup(check);
	a->ping = *p;
	a->ping.body = NULL;	/* a start ping carries no output */
	a->ping.body_len = 0;
	a->ping.summary = NULL;
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	rc = pthread_create(&a->thread, NULL, hc_async_main, a);
	if (rc) {
		pthread_mutex_destroy(&a->mu);
		pthread_cond_destroy(&a->cv);
		free(a->check);
		free(a);
		errno = rc;
		return err_errno(e, "cannot start a thread for the ping");
	}
	*out = a;
	return 0;
}

int hc_async_done(struct hc_async *a)
{
	int done;

	pthread_mutex_lock(&a->mu);
	done = a->done;
	pthread_mutex_unlock(&a->mu);
	return done;
}

int hc_async_finish(struct hc_async *a, long wait_ms, struct err *e)
{
	struct timespec until;
	int ret;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&a->mu);
	while (!a->done) {
		if (pthread_cond_timedwait(&a->cv, &a->mu, &until) == ETIMEDOUT)
			break;
	}
	if (!a->done)
		__atomic_store_n(&a->cancel, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->thread, NULL);
	ret = a->ret;
	if (ret < 0 && e)
		*e = a->err;
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	free(a->check);
	free(a);
	return ret;
}

/* --- the tail of the output -------------------------------------------- */

int hc_tail_init(struct hc_tail *t, size_t cap)
{
	memset(t, 0, sizeof(*t));
	if (!cap)
		return 0;
	/* Pages are only touched as output arrives, so a small job costs
	 * little even with a large cap. */
	t->buf = malloc(cap);
	if (!t->buf)
		return -1;
	t->cap = cap;
	return 0;
}

int hc_tail_grow(struct hc_tail *t, size_t cap)
{
	struct strbuf kept = STRBUF_INIT;
	char *nbuf;

	if (cap <= t->cap)
		return 0;
	nbuf = malloc(cap);
	if (!nbuf)
		return -1;
	strbuf_init(&kept, 0);
	hc_tail_get(t, &kept);
	memcpy(nbuf, kept.buf, kept.len);
	strbuf_release(&kept);
	free(t->buf);
	t->buf = nbuf;
	t->cap = cap;
	t->start = 0;
	return 0;
}

void hc_tail_add(struct hc_tail *t, const void *data, size_t len)
{
	const char *d = data;

	t->total += len;
	if (!t->cap)
		return;
	if (len >= t->cap) {
		memcpy(t->buf, d + len - t->cap, t->cap);
		t->start = 0;
		t->len = t->cap;
		return;
	}
	while (len) {
		size_t end = (t->start + t->len) % t->cap;
		size_t room = t->cap - end;
		size_t n = len < room ? len : room;

		memcpy(t->buf + end, d, n);
		d += n;
		len -= n;
		if (t->len + n > t->cap) {
			size_t over = t->len + n - t->cap;

			t->start = (t->start + over) % t->cap;
			t->len = t->cap;
		} else {
			t->len += n;
		}
	}
}

int hc_tail_get(const struct hc_tail *t, struct strbuf *out)
{
	size_t first = t->cap - t->start;

	if (!t->len)
		return 0;
	if (first >= t->len)
		return strbuf_add(out, t->buf + t->start, t->len);
	if (strbuf_add(out, t->buf + t->start, first) < 0)
		return -1;
	return strbuf_add(out, t->buf, t->len - first);
}

void hc_tail_release(struct hc_tail *t)
{
	free(t->buf);
	memset(t, 0, sizeof(*t));
}

/* --- durations ----------------------------------------------------------- */

int hc_duration_parse(const char *s, long *ms)
{
	long total = 0;
	int parts = 0;

	if (!s || !*s)
		return -1;
	while (*s) {
		char *end;
		long unit;
		long v;

		if (!isdigit((unsigned char)*s))
			return -1;
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno || v < 0)
			return -1;
		s = end;
		if (!strncmp(s, "ms", 2)) {
			unit = 1;
			s += 2;
		} else if (*s == 's' || (*s == '\0' && !parts)) {
			unit = 1000;
			s += *s ? 1 : 0;
		} else if (*s == 'm') {
			unit = 60000;
			s++;
		} else if (*s == 'h') {
			unit = 3600000;
			s++;
		} else if (*s == 'd') {
			unit = 86400000;
			s++;
		} else {
			return -1;
		}
		if (v > (0x7fffffffL - total) / unit)
			return -1;
		total += v * unit;
		parts++;
	}
	*ms = total;
	return 0;
}

/* --- Management API v3 ------------------------------------------------- */

int hc_api(struct hc *hc, const char *method, const char *path,
	   json_t *body, json_t **out, struct err *e)
{
	struct strbuf url = STRBUF_INIT, hdr = STRBUF_INIT;
	struct http_response res;
	struct http_request req = { 0 };
	const char *headers[3] = { NULL };
	char *text = NULL;
	json_t *doc = NULL;
	json_error_t jerr;
	int ret = -1;

	strbuf_init(&url, 0);
	strbuf_init(&hdr, 0);
	http_response_init(&res);
	if (!hc->api_key) {
		err_set(e, "the Management API needs a key: set HC_API_KEY");
		goto out;
	}
	strbuf_addf(&url, "%s/api/v3/%s", hc->api_url, path);
	strbuf_addf(&hdr, "X-Api-Key: %s", hc->api_key);
	headers[0] = hdr.buf;
	if (body) {
		text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
		if (!text) {
			err_set(e, "out of memory");
			goto out;
		}
		headers[1] = "Content-Type: application/json";
	}
	req.method = method;
	req.url = url.buf;
	req.headers = headers;
	req.body = text;
	req.body_len = text ? strlen(text) : 0;
	req.deadline_ms = 30000;
	req.timeout_ms = 15000;
	req.max_response = 16 << 20;
	if (!hc->share)
		hc->share = hc_share_new();
	req.share = hc->share ? hc->share->sh : NULL;
	/* Creating twice is worse than failing: only idempotent calls are
	 * retried. */
	if (!strcmp(method, "POST") && !strcmp(path, "checks/"))
		req.max_attempts = 1;
	if (http_do(&req, &res, e) < 0)
		goto out;
	if (res.body.len) {
		doc = json_loadb(res.body.buf, res.body.len, 0, &jerr);
	}
	if (res.status < 200 || res.status > 299) {
		const char *why = doc ? json_string_value(json_object_get(doc, "error"))
				      : NULL;

		if (res.status == 401)
			err_set(e, "the API key was refused (401 %s)",
				why ? why : "unauthorized");
		else
			err_set(e, "the server answered %ld%s%s", res.status,
				why ? ": " : "", why ? why : "");
		goto out;
	}
	if (out && !doc) {
		err_set(e, "the reply is not JSON");
		goto out;
	}
	if (out) {
		*out = doc;
		doc = NULL;
	}
	ret = 0;
out:
	if (ret < 0)
		err_wrap(e, "%s %s/api/v3/%s", method, hc->api_url, path);
	json_decref(doc);
	free(text);
	if (hdr.alloc)
		sodium_memzero(hdr.buf, hdr.len);
	strbuf_release(&hdr);
	strbuf_release(&url);
	http_response_release(&res);
	return ret;
}

/* --- checks as code ------------------------------------------------------ */

static int hc_config_duration(json_t *spec, const char *field,
			      struct ynode *node, const char *name,
			      struct err *e)
{
	const char *v = ynode_str(node, field);
	long ms;

	if (!v)
		return 0;
	if (hc_duration_parse(v, &ms) < 0 || ms % 1000)
		return err_set(e, "check '%s': %s '%s' is not a duration like 90s, 15m or 2h (line %u)",
			       name, field, v, ynode_get(node, field)->line);
	if (ms < 60000 || ms > 31536000000L)
		return err_set(e, "check '%s': %s '%s' must be between 1m and 365d (line %u)",
			       name, field, v, ynode_get(node, field)->line);
	json_object_set_new(spec, field, json_integer(ms / 1000));
	return 0;
}

static int hc_config_check(json_t *list, const char *name, struct ynode *node,
			   struct err *e)
{
	static const char *const known[] = { "slug", "schedule", "tz", "timeout",
					     "grace", "tags", "desc", NULL };
	json_t *spec = json_object();
	struct ynode *tags;
	const char *slug, *schedule, *tz, *desc;

	if (node->type != YNODE_MAP && !ynode_is_null(node)) {
		json_decref(spec);
		return err_set(e, "check '%s' must be a map (line %u)", name,
			       node->line);
	}
	for (size_t i = 0; node->type == YNODE_MAP && i < node->n; i++) {
		const char *k = node->entries[i].key->value;
		int ok = 0;

		for (int j = 0; known[j]; j++)
			ok |= !strcmp(k, known[j]);
		if (!ok) {
			json_decref(spec);
			return err_set(e, "check '%s': unknown key '%s' (line %u); known: slug, schedule, tz, timeout, grace, tags, desc",
				       name, k, node->entries[i].key->line);
		}
	}
	slug = node->type == YNODE_MAP ? ynode_str(node, "slug") : NULL;
	slug = slug ? slug : name;
	if (!hc_is_slug(slug)) {
		json_decref(spec);
		return err_set(e, "check '%s': slug '%s' may only hold a-z, 0-9, '-' and '_'",
			       name, slug);
	}
	json_object_set_new(spec, "name", json_string(name));
	json_object_set_new(spec, "slug", json_string(slug));
	if (node->type != YNODE_MAP)
		goto done;
	schedule = ynode_str(node, "schedule");
	tz = ynode_str(node, "tz");
	if (schedule && ynode_get(node, "timeout")) {
		json_decref(spec);
		return err_set(e, "check '%s': give a schedule or a timeout, not both",
			       name);
	}
	if (schedule) {
		json_object_set_new(spec, "schedule", json_string(schedule));
		json_object_set_new(spec, "tz", json_string(tz ? tz : "UTC"));
	} else if (tz) {
		json_decref(spec);
		return err_set(e, "check '%s': tz needs a schedule", name);
	}
	if (hc_config_duration(spec, "timeout", node, name, e) < 0 ||
	    hc_config_duration(spec, "grace", node, name, e) < 0) {
		json_decref(spec);
		return -1;
	}
	tags = ynode_get(node, "tags");
	if (tags && tags->type == YNODE_SEQ) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_init(&sb, 0);
		for (size_t i = 0; i < tags->n; i++)
			if (tags->items[i]->type == YNODE_SCALAR)
				strbuf_addf(&sb, "%s%s", sb.len ? " " : "",
					    tags->items[i]->value);
		json_object_set_new(spec, "tags", json_string(sb.buf));
		strbuf_release(&sb);
	} else if (tags && tags->type == YNODE_SCALAR) {
		json_object_set_new(spec, "tags", json_string(tags->value));
	}
	desc = ynode_str(node, "desc");
	if (desc)
		json_object_set_new(spec, "desc", json_string(desc));
done:
	json_array_append_new(list, spec);
	return 0;
}

static int hc_by_name(const void *a, const void *b)
{
	json_t *const *x = a, *const *y = b;

	return strcmp(json_string_value(json_object_get(*x, "name")),
		      json_string_value(json_object_get(*y, "name")));
}

int hc_config_checks(const struct monorepo *repo, json_t **out,
		     struct err *e)
{
	struct ynode *checks = repo ? monorepo_config_node(repo,
						"healthchecks.checks") : NULL;
	json_t *list = json_array();
	json_t **items = NULL;
	size_t n;

	if (checks && checks->type != YNODE_MAP && !ynode_is_null(checks)) {
		json_decref(list);
		return err_set(e, "healthchecks.checks must be a map of check names (line %u)",
			       checks->line);
	}
	for (size_t i = 0; checks && checks->type == YNODE_MAP && i < checks->n;
	     i++) {
		if (hc_config_check(list, checks->entries[i].key->value,
				    checks->entries[i].value, e) < 0) {
			json_decref(list);
			return err_wrap(e, "saasctl.yaml");
		}
	}
	/* Sorted, so that plans and output are stable. */
	n = json_array_size(list);
	items = calloc(n ? n : 1, sizeof(*items));
	if (!items)
		abort();
	for (size_t i = 0; i < n; i++)
		items[i] = json_incref(json_array_get(list, i));
	qsort(items, n, sizeof(*items), hc_by_name);
	json_array_clear(list);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, items[i]);
	free(items);
	*out = list;
	return 0;
}
