#ifndef SAASCTL_HC_H
#define SAASCTL_HC_H

/*
 * Healthchecks (healthchecks.io or a self-hosted instance): the Pinging API
 * and the Management API v3.
 *
 * Pings are POSTs with a Content-Length to <base>/<uuid>[/kind] or
 * <base>/<ping-key>/<slug>[/kind]. The body is the tail of a job's output,
 * cut to the Ping-Body-Limit the server announced last, with a note in front
 * when something was dropped. Timeouts, 408, 429 and 5xx are retried with
 * back-off and jitter within a total deadline; 307/308 are followed with the
 * body (all through src/http).
 *
 * Long-running commands report with hc_start() / hc_success() / hc_fail().
 */

#include <stddef.h>

#include <jansson.h>

#include "err.h"
#include "strbuf.h"

struct monorepo;

#define HC_PING_URL_DEFAULT "https://hc-ping.com"
#define HC_API_URL_DEFAULT "https://healthchecks.io"
#define HC_DEADLINE_MS 10000L
/* What hc-ping.com stores; self-hosted instances default to 10,000. */
#define HC_BODY_LIMIT_HCPING 100000u
#define HC_BODY_LIMIT_OTHER 10000u
/* The most we keep of a job's output, whatever a server announces. */
#define HC_TAIL_MAX (1u << 20)

enum hc_signal {
	HC_SUCCESS,
	HC_START,
	HC_FAIL,
	HC_LOG,
	HC_EXIT,		/* /<exit code>: 0 is success, others fail */
};

struct hc {
	char *ping_url;		/* base, without a trailing slash */
	char *ping_key;		/* for slug URLs; a credential, never logged */
	char *api_url;		/* Management API base */
	char *api_key;		/* HC_API_KEY; never logged */
	long deadline_ms;	/* per ping, across retries */
	size_t body_limit;	/* from the latest Ping-Body-Limit */
	int create;		/* ?create=1 on slug URLs */
	const struct monorepo *repo;	/* check names, or NULL */
	struct hc_share *share;	/* one connection for all pings */
};

/*
 * Settings: the ping URL from SAASCTL_HC_PING_URL or healthchecks.ping_url,
 * the ping key from HC_PING_KEY or SAASCTL_HC_PING_KEY, the API URL from
 * healthchecks.api_url (SAASCTL_HC_API_URL) and the API key from HC_API_KEY.
 * repo may be NULL (a cron job outside the monorepo).
 */
int hc_init(struct hc *hc, const struct monorepo *repo, struct err *e);
void hc_release(struct hc *hc);

struct hc_ping {
	enum hc_signal signal;
	int exit_code;		/* HC_EXIT: 0-255 */
	const char *rid;	/* run ID pairing a start with its finish */
	const char *body;	/* the kept tail of the output, or NULL */
	size_t body_len;
	size_t dropped;		/* output bytes before body that were not kept */
	const char *summary;	/* a last line ("exit status 3"), or NULL */
};

/*
 * Send one ping to CHECK: a UUID, a slug, or a check name from saasctl.yaml
 * (healthchecks.checks.<name>, whose slug defaults to the name).
 * cancel, when set non-zero by another thread, abandons it.
 */
int hc_ping(struct hc *hc, const char *check, const struct hc_ping *p,
	    const volatile int *cancel, struct err *e);

/* For long-running commands: start, then success or fail with a summary. */
int hc_start(struct hc *hc, const char *check, const char *rid,
	     struct err *e);
int hc_success(struct hc *hc, const char *check, const char *rid,
	       const char *summary, struct err *e);
int hc_fail(struct hc *hc, const char *check, const char *rid,
	    const char *summary, struct err *e);

/* A fresh run ID (a random UUID) into out. */
void hc_new_rid(char out[37]);
int hc_is_uuid(const char *s);

/*
 * The body of a ping: the note about what was dropped, the tail of data
 * that fits, and the summary, in at most limit bytes. The tail starts on
 * a UTF-8 character boundary.
 */
int hc_body_build(struct strbuf *out, const struct hc_ping *p, size_t limit);

/*
 * A ping sent on a thread of its own, so that a job never waits for it.
 * hc_async_finish() waits up to wait_ms more, then abandons it; it returns
 * the ping's result. hc must not be used by anyone else until then.
 */
struct hc_async;
int hc_async_ping(struct hc_async **out, struct hc *hc, const char *check,
		  const struct hc_ping *p, struct err *e);
int hc_async_finish(struct hc_async *a, long wait_ms, struct err *e);
/* Has it finished? Once it has, hc is the caller's again (its body_limit
 * holds what the server announced). */
int hc_async_done(struct hc_async *a);

/* A bounded ring of the last bytes of a stream: the tail of the output. */
struct hc_tail {
	char *buf;
	size_t cap;
	size_t start;		/* oldest byte */
	size_t len;		/* bytes kept */
	size_t total;		/* bytes seen */
};

int hc_tail_init(struct hc_tail *t, size_t cap);
/* Make room for cap bytes, keeping what is there. */
int hc_tail_grow(struct hc_tail *t, size_t cap);
void hc_tail_add(struct hc_tail *t, const void *data, size_t len);
/* The kept bytes, in order, appended to out. */
int hc_tail_get(const struct hc_tail *t, struct strbuf *out);
void hc_tail_release(struct hc_tail *t);

/* "90", "90s", "15m", "2h", "1d", "1h30m", "500ms" into milliseconds. */
int hc_duration_parse(const char *s, long *ms);

/*
 * Management API v3 with the API key. method is GET, POST or DELETE;
 * path is below /api/v3/ ("checks/", "checks/<uuid>"); body may be NULL.
 * *out gets the parsed JSON reply (a new reference) when out is not NULL.
 */
int hc_api(struct hc *hc, const char *method, const char *path,
	   json_t *body, json_t **out, struct err *e);

/*
 * The checks of saasctl.yaml as Management API specs, sorted by name:
 * [{"name", "slug", "tags", "desc", "grace", "timeout" | "schedule"+"tz"}].
 * Durations are in seconds. An empty array when none are listed.
 */
int hc_config_checks(const struct monorepo *repo, json_t **out,
		     struct err *e);

#endif
