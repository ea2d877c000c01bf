#define _GNU_SOURCE

#include "logs.h"

#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "http.h"
#include "kubewatch.h"
#include "log.h"

#define LOGS_MAX_LINE (1u << 20)	/* a longer "line" is cut here */
#define LOGS_EOF_PAUSE_MS 1000		/* clean EOF of a running container */

static volatile sig_atomic_t logs_stop_flag;

void logs_interrupt(void)
{
	logs_stop_flag = 1;
}

enum logs_handle_kind { LOGS_H_WATCH, LOGS_H_LOG };

enum logs_state {
	LOGS_QUEUED,		/* waiting for a free slot */
	LOGS_ACTIVE,		/* a request is running */
	LOGS_RETRY,		/* back off until retry_at, then queue */
	LOGS_IDLE,		/* container not running yet */
	LOGS_DONE,		/* instance terminated and drained */
};

/* One container's log, across its instances (containerIDs). */
struct logs_stream {
	enum logs_handle_kind kind;
	struct logs_engine *en;
	char *ns, *pod, *container, *key;
	char *cid;			/* the instance being streamed */
	char *next_cid;			/* a newer instance, after this one */
	enum logs_state state;
	int fresh;			/* the user's --since/--tail apply */
	int previous;			/* this request asked for previous=true */
	CURL *curl;
	struct curl_slist *hdrs;
	struct strbuf part;		/* an incomplete line */
	struct strbuf errbody;		/* the body of a non-200 answer */
	/* where we are: the last delivered timestamp and how many lines
	 * carried exactly that timestamp */
	long long last_sec;
	long last_nsec;
	int have_last;
	unsigned dup_last;
	unsigned seen_last;		/* lines at last seen in this attempt */
	char floor_time[40];		/* connected, nothing delivered yet */
	long long retry_at;
	long long last_byte;
	int failures;
	int auth_retries;
	unsigned auth_gen;		/* the credential this request used */
	int got_lines;			/* in this attempt */
};

struct logs_sorted_line {
	long long sec;
	long nsec;
	size_t seq;
	struct logs_stream *s;
	char *time;
	size_t time_len;
	char *msg;
	size_t len;
};

struct logs_engine {
	struct kube_client *kc;
	const struct logs_options *o;
	const struct logs_sink *sink;
	struct err *e;
	CURLM *multi;
	struct logs_stream **streams;
	size_t nstreams, astreams;
	size_t active;
	json_t *pods;			/* "ns/name" -> latest pod object */
	json_t *deleted;		/* "ns/name" -> true */
	json_t *seen;			/* "ns/name" listed in this (re)list */
	struct kubewatch w;		/* the pods */
	int stop;
	int failed;
	int matched;
	int said_waiting;
	int said_queued;
	struct logs_sorted_line *sorted;
	size_t nsorted, asorted;
};

static void logs_note(struct logs_engine *en, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void logs_note(struct logs_engine *en, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (en->sink->note)
		en->sink->note(en->sink->ud, msg);
}

/* days since 1970-01-01 of a civil date (Howard Hinnant's algorithm) */
static long long logs_days(long long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (long long)doe - 719468;
}

static int logs_digits(const char *p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/* The kubelet's RFC3339Nano in UTC, fast; anything else the slow way. */
static int logs_parse_ts(const char *p, size_t len, long long *sec, long *nsec)
{
	char buf[64];

	if (len >= 20 && p[4] == '-' && p[7] == '-' && p[10] == 'T' &&
	    p[13] == ':' && p[16] == ':' && p[len - 1] == 'Z') {
		int y = logs_digits(p, 4), mo = logs_digits(p + 5, 2);
		int d = logs_digits(p + 8, 2), h = logs_digits(p + 11, 2);
		int mi = logs_digits(p + 14, 2), s = logs_digits(p + 17, 2);
		long frac = 0;
		size_t i = 19, nd = 0;

		if (y >= 0 && mo > 0 && d > 0 && h >= 0 && mi >= 0 && s >= 0) {
			if (p[i] == '.') {
				for (i++; i < len - 1 && p[i] >= '0' && p[i] <= '9'; i++)
					if (nd < 9) {
						frac = frac * 10 + (p[i] - '0');
						nd++;
					}
				for (; nd < 9; nd++)
					frac *= 10;
			}
			if (i == len - 1) {
				*sec = logs_days(y, (unsigned)mo, (unsigned)d) * 86400LL +
				       h * 3600LL + mi * 60LL + s;
				*nsec = frac;
				return 0;
			}
		}
	}
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return kube_parse_time(buf, sec, nsec);
}

static void logs_format_ts(char *out, size_t outlen, long long sec, long nsec)
{
	time_t t = (time_t)sec;
	struct tm tm;
	size_t n;

	gmtime_r(&t, &tm);
	n = strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, outlen - n, ".%09ldZ", nsec);
}

static int logs_cmp_ts(long long s1, long n1, long long s2, long n2)
{
	if (s1 != s2)
		return s1 < s2 ? -1 : 1;
	if (n1 != n2)
		return n1 < n2 ? -1 : 1;
	return 0;
}

/* ---- labels and pods ---------------------------------------------- */

int logs_labels_match(const char *selector, json_t *labels)
{
	const char *p = selector;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char term[512], *op;

		if (len >= sizeof(term))
			return 0;
		memcpy(term, p, len);
		term[len] = '\0';
		p = end ? end + 1 : NULL;
		if (!len)
			continue;
		if ((op = strstr(term, "!="))) {
			const char *v;

			*op = '\0';
			v = json_string_value(json_object_get(labels, term));
			if (v && !strcmp(v, op + 2))
				return 0;
		} else if ((op = strchr(term, '='))) {
			const char *want = op[1] == '=' ? op + 2 : op + 1;
			const char *v;

			*op = '\0';
			v = json_string_value(json_object_get(labels, term));
			if (!v || strcmp(v, want))
				return 0;
		} else if (term[0] == '!') {
			if (json_object_get(labels, term + 1))
				return 0;
		} else if (!json_object_get(labels, term)) {
			return 0;
		}
	}
	return 1;
}

static int logs_pod_matches(struct logs_engine *en, json_t *pod)
{
	const struct logs_options *o = en->o;
	json_t *meta = json_object_get(pod, "metadata");
	const char *name = json_string_value(json_object_get(meta, "name"));
	json_t *labels = json_object_get(meta, "labels");

	if (!name)
		return 0;
	if (o->pod_re && regexec(o->pod_re, name, 0, NULL, 0) != 0)
		return 0;
	if (o->nany_selectors) {
		size_t i;

		for (i = 0; i < o->nany_selectors; i++)
			if (logs_labels_match(o->any_selectors[i], labels))
				break;
		if (i == o->nany_selectors)
			return 0;
	}
	return 1;
}

/* The status of container name in pod, from either status list. */
static json_t *logs_container_status(json_t *pod, const char *name)
{
	static const char *const lists[] = { "containerStatuses",
					     "initContainerStatuses",
					     "ephemeralContainerStatuses" };
	json_t *status = json_object_get(pod, "status");

	for (size_t l = 0; l < 3; l++) {
		json_t *st;
		size_t i;

		json_array_foreach(json_object_get(status, lists[l]), i, st) {
			const char *n = json_string_value(json_object_get(st, "name"));

			if (n && !strcmp(n, name))
				return st;
		}
	}
	return NULL;
}

static const char *logs_cid_in(json_t *st, const char *state_path, const char *which)
{
	json_t *s = json_object_get(json_object_get(st, state_path), which);

	if (!s)
		return NULL;
	s = json_object_get(s, "containerID");
	return json_string_length(s) ? json_string_value(s) : NULL;
}

static const char *logs_running_id(json_t *st)
{
	if (json_object_get(json_object_get(st, "state"), "running")) {
		const char *id = json_string_value(json_object_get(st, "containerID"));

		return id && *id ? id : NULL;
	}
	return NULL;
}

static struct logs_stream *logs_find(struct logs_engine *en, const char *key)
{
	for (size_t i = 0; i < en->nstreams; i++)
		if (!strcmp(en->streams[i]->key, key))
			return en->streams[i];
	return NULL;
}

static json_t *logs_pod_of(struct logs_engine *en, struct logs_stream *s)
{
	char key[512];

	snprintf(key, sizeof(key), "%s/%s", s->ns, s->pod);
	return json_object_get(en->pods, key);
}

static int logs_pod_deleted(struct logs_engine *en, struct logs_stream *s)
{
	char key[512];

	snprintf(key, sizeof(key), "%s/%s", s->ns, s->pod);
	return json_object_get(en->deleted, key) != NULL;
}

/* Has the instance s->cid stopped, as far as the API has told us? */
static int logs_instance_over(struct logs_engine *en, struct logs_stream *s)
{
	json_t *st;
	const char *run;

	if (logs_pod_deleted(en, s))
		return 1;
	st = logs_container_status(logs_pod_of(en, s), s->container);
	if (!st)
		return 0;
	run = logs_running_id(st);
	if (run)
		return strcmp(run, s->cid) != 0;
	return 1; /* waiting or terminated: not running */
}

static void logs_set_cid(char **slot, const char *cid)
{
	free(*slot);
	*slot = cid ? strdup(cid) : NULL;
}

/*
 * Which instance of a container to stream now, if any. At start-up with
 * --follow only running containers count (the tail of a long-finished
 * init container is noise); later everything that ran does.
 */
static const char *logs_choose(struct logs_engine *en, json_t *st, int initial)
{
	const char *id;

	if (en->o->previous)
		return logs_cid_in(st, "lastState", "terminated");
	if ((id = logs_running_id(st)))
		return id;
	if (json_object_get(json_object_get(st, "state"), "terminated")) {
		id = json_string_value(json_object_get(st, "containerID"));
		if (!id || !*id)
			id = logs_cid_in(st, "state", "terminated");
		if (id && *id && (!en->o->follow || !initial))
			return id;
		return NULL;
	}
	if (!en->o->follow || !initial)
		return logs_cid_in(st, "lastState", "terminated");
	return NULL;
}

static int logs_add_stream(struct logs_engine *en, struct logs_stream *s)
{
	if (en->nstreams == en->astreams) {
		size_t n = en->astreams ? en->astreams * 2 : 16;
		struct logs_stream **ns = realloc(en->streams, n * sizeof(*ns));

		if (!ns)
			return -1;
		en->streams = ns;
		en->astreams = n;
	}
	en->streams[en->nstreams++] = s;
	return 0;
}

static void logs_consider(struct logs_engine *en, json_t *pod, int initial)
{
	const struct logs_options *o = en->o;
	json_t *meta = json_object_get(pod, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *name = json_string_value(json_object_get(meta, "name"));
	static const char *const lists[] = { "initContainers", "containers" };

	if (!ns || !name || !logs_pod_matches(en, pod))
		return;
	en->matched = 1;
	for (size_t l = 0; l < 2; l++) {
		json_t *c;
		size_t i;

		json_array_foreach(json_object_get(json_object_get(pod, "spec"), lists[l]), i, c) {
			const char *cname = json_string_value(json_object_get(c, "name"));
			json_t *st;
			const char *cid;
			struct logs_stream *s;
			char key[768];

			if (!cname)
				continue;
			if (o->container_re && regexec(o->container_re, cname, 0, NULL, 0))
				continue;
			if (o->exclude_container_re &&
			    !regexec(o->exclude_container_re, cname, 0, NULL, 0))
				continue;
			st = logs_container_status(pod, cname);
			cid = st ? logs_choose(en, st, initial) : NULL;
			snprintf(key, sizeof(key), "%s/%s/%s", ns, name, cname);
			s = logs_find(en, key);
			if (!cid) {
				if (o->previous && l == 1)
					logs_note(en, "pod/%s/%s: no previous instance", name,
						  cname);
				continue;
			}
			if (!s) {
				s = calloc(1, sizeof(*s));
				if (!s)
					continue;
				s->kind = LOGS_H_LOG;
				s->en = en;
				s->ns = strdup(ns);
				s->pod = strdup(name);
				s->container = strdup(cname);
				s->key = strdup(key);
				s->cid = strdup(cid);
				s->fresh = initial || !o->follow;
				s->state = LOGS_QUEUED;
				strbuf_init(&s->part, LOGS_MAX_LINE);
				strbuf_init(&s->errbody, 8192);
				if (logs_add_stream(en, s) < 0) {
					free(s);
					continue;
				}
				log_debug("logs: %s: new stream", key);
				continue;
			}
			if (strcmp(s->cid, cid)) {
				if (s->state == LOGS_DONE || s->state == LOGS_IDLE) {
					logs_set_cid(&s->cid, cid);
					s->fresh = 0;
					s->state = LOGS_QUEUED;
					log_debug("logs: %s: new instance", key);
				} else if (!s->next_cid || strcmp(s->next_cid, cid)) {
					logs_set_cid(&s->next_cid, cid);
				}
			} else if (s->state == LOGS_IDLE) {
				s->state = LOGS_QUEUED;
			}
		}
	}
}

/* "namespace/name" of a pod object into key; 0, or -1 when it lacks one. */
static int logs_pod_key(json_t *pod, char *key, size_t size, const char **ns,
			const char **name)
{
	json_t *meta = json_object_get(pod, "metadata");

	*ns = json_string_value(json_object_get(meta, "namespace"));
	*name = json_string_value(json_object_get(meta, "name"));
	if (!*ns || !*name)
		return -1;
	snprintf(key, size, "%s/%s", *ns, *name);
	return 0;
}

static void logs_pod_seen(struct logs_engine *en, json_t *pod, int initial)
{
	const char *ns, *name;
	char key[512];

	if (logs_pod_key(pod, key, sizeof(key), &ns, &name) < 0)
		return;
	json_object_set(en->pods, key, pod);
	json_object_del(en->deleted, key);
	logs_consider(en, pod, initial);
}

static void logs_pod_gone(struct logs_engine *en, json_t *pod)
{
	const char *ns, *name;
	char key[512];

	if (logs_pod_key(pod, key, sizeof(key), &ns, &name) < 0)
		return;
	json_object_set(en->pods, key, pod);
	json_object_set_new(en->deleted, key, json_true());
	/* a stream that has not started has nothing left to read */
	for (size_t i = 0; i < en->nstreams; i++) {
		struct logs_stream *s = en->streams[i];

		if (!strcmp(s->ns, ns) && !strcmp(s->pod, name) &&
		    (s->state == LOGS_IDLE))
			s->state = LOGS_DONE;
	}
}

/* ---- the API paths ------------------------------------------------- */

/* The pods' collection and the selectors of the query. */
static void logs_pods_path(struct logs_engine *en, struct strbuf *p,
			   struct strbuf *q)
{
	const struct logs_options *o = en->o;

	if (o->all_namespaces)
		strbuf_addstr(p, "/api/v1/pods");
	else {
		strbuf_addstr(p, "/api/v1/namespaces/");
		http_escape(p, o->namespace);
		strbuf_addstr(p, "/pods");
	}
	if (o->label_selector && *o->label_selector) {
		strbuf_addstr(q, "labelSelector=");
		http_escape(q, o->label_selector);
	}
	if (o->field_selector && *o->field_selector) {
		strbuf_addstr(q, q->len ? "&fieldSelector=" : "fieldSelector=");
		http_escape(q, o->field_selector);
	}
}

/* ---- lines ---------------------------------------------------------- */

static int logs_deliver(struct logs_engine *en, struct logs_stream *s,
			const char *ts, size_t ts_len, long long sec, long nsec,
			const char *msg, size_t len)
{
	struct logs_line l = {
		.namespace = s->ns, .pod = s->pod, .container = s->container,
		.time = ts, .time_len = ts_len, .msg = msg, .len = len,
	};

	if (en->o->sorted) {
		struct logs_sorted_line *sl;

		if (en->nsorted == en->asorted) {
			size_t n = en->asorted ? en->asorted * 2 : 1024;
			struct logs_sorted_line *p = realloc(en->sorted, n * sizeof(*p));

			if (!p)
				return err_set(en->e, "out of memory");
			en->sorted = p;
			en->asorted = n;
		}
		sl = &en->sorted[en->nsorted];
		sl->sec = sec;
		sl->nsec = nsec;
		sl->seq = en->nsorted;
		sl->s = s;
		sl->time = strndup(ts ? ts : "", ts_len);
		sl->time_len = ts_len;
		sl->msg = malloc(len + 1);
		if (!sl->time || !sl->msg)
			return err_set(en->e, "out of memory");
		memcpy(sl->msg, msg, len);
		sl->msg[len] = '\0';
		sl->len = len;
		en->nsorted++;
		return 0;
	}
	if (en->sink->line(en->sink->ud, &l) < 0) {
		en->stop = 1;
		return -1;
	}
	return 0;
}

/* One complete line from the kubelet: "<RFC3339Nano> <message>". */
static int logs_line(struct logs_engine *en, struct logs_stream *s,
		     const char *p, size_t len)
{
	const char *sp = memchr(p, ' ', len);
	long long sec;
	long nsec;

	if (!sp || logs_parse_ts(p, (size_t)(sp - p), &sec, &nsec) < 0)
		return logs_deliver(en, s, NULL, 0, 0, 0, p, len);
	if (s->have_last) {
		int c = logs_cmp_ts(sec, nsec, s->last_sec, s->last_nsec);

		if (c < 0)
			return 0;	/* delivered before a reconnect */
		if (c == 0) {
			if (s->seen_last < s->dup_last) {
				s->seen_last++;
				return 0;
			}
			s->seen_last++;
			s->dup_last++;
		} else {
			s->last_sec = sec;
			s->last_nsec = nsec;
			s->dup_last = s->seen_last = 1;
		}
	} else {
		s->have_last = 1;
		s->last_sec = sec;
		s->last_nsec = nsec;
		s->dup_last = s->seen_last = 1;
	}
	s->got_lines = 1;
	return logs_deliver(en, s, p, (size_t)(sp - p), sec, nsec, sp + 1,
			    len - (size_t)(sp - p) - 1);
}

static size_t logs_write(char *data, size_t size, size_t nmemb, void *ud)
{
	struct logs_stream *s = ud;
	struct logs_engine *en = s->en;
	size_t n = size * nmemb, start = 0;
	long status = 0;

	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		strbuf_add(&s->errbody, data, n);	/* capped; fine */
		return n;
	}
	s->last_byte = clock_now_ms();
	if (s->part.len) {
		char *nl = memchr(data, '\n', n);

		if (!nl) {
			if (strbuf_add(&s->part, data, n) < 0) {
				/* a runaway line: deliver what we have */
				logs_line(en, s, s->part.buf, s->part.len);
				strbuf_reset(&s->part);
				strbuf_add(&s->part, data, n);
			}
			return en->stop ? 0 : n;
		}
		strbuf_add(&s->part, data, (size_t)(nl - data));
		logs_line(en, s, s->part.buf, s->part.len);
		strbuf_reset(&s->part);
		start = (size_t)(nl - data) + 1;
	}
	while (start < n && !en->stop) {
		char *nl = memchr(data + start, '\n', n - start);

		if (!nl) {
			strbuf_add(&s->part, data + start, n - start);
			break;
		}
		logs_line(en, s, data + start, (size_t)(nl - data) - start);
		start = (size_t)(nl - data) + 1;
	}
	return en->stop ? 0 : n;
}

/* ---- log requests ---------------------------------------------------- */

static int logs_start(struct logs_engine *en, struct logs_stream *s)
{
	const struct logs_options *o = en->o;
	struct strbuf path = STRBUF_INIT;
	json_t *st = logs_container_status(logs_pod_of(en, s), s->container);
	const char *run = st ? logs_running_id(st) : NULL;
	const char *term = st ? logs_cid_in(st, "state", "terminated") : NULL;
	const char *cur = st ? json_string_value(json_object_get(st, "containerID")) : NULL;
	const char *prev = st ? logs_cid_in(st, "lastState", "terminated") : NULL;
	int ret = -1;

	/* Which instance the kubelet will serve: previous=true for the one
	 * before the current (see the kubelet's validateContainerLogStatus). */
	s->previous = 0;
	if ((run && !strcmp(run, s->cid)) || (term && !strcmp(term, s->cid)) ||
	    (cur && *cur && !strcmp(cur, s->cid))) {
		s->previous = 0;
	} else if (prev && !strcmp(prev, s->cid)) {
		/* with no current instance the kubelet serves the last one */
		s->previous = run || (cur && *cur);
	} else if (st && !logs_pod_deleted(en, s)) {
		logs_note(en, "pod/%s/%s: the logs of container %.20s are gone "
			  "(restarted twice while disconnected)", s->pod, s->container,
			  s->cid);
		s->state = LOGS_DONE;
		return 0;
	}
	strbuf_init(&path, 0);
	strbuf_addstr(&path, "/api/v1/namespaces/");
	http_escape(&path, s->ns);
	strbuf_addstr(&path, "/pods/");
	http_escape(&path, s->pod);
	strbuf_addstr(&path, "/log?container=");
	http_escape(&path, s->container);
	strbuf_addstr(&path, "&timestamps=true");
	if (o->follow)
		strbuf_addstr(&path, "&follow=true");
	if (s->previous)
		strbuf_addstr(&path, "&previous=true");
	if (s->have_last) {
		char ts[64];

		logs_format_ts(ts, sizeof(ts), s->last_sec, s->last_nsec);
		strbuf_addstr(&path, "&sinceTime=");
		http_escape(&path, ts);
	} else if (s->floor_time[0]) {
		strbuf_addstr(&path, "&sinceTime=");
		http_escape(&path, s->floor_time);
	} else if (s->fresh) {
		if (o->since_time) {
			strbuf_addstr(&path, "&sinceTime=");
			http_escape(&path, o->since_time);
		} else if (o->since_seconds > 0) {
			strbuf_addf(&path, "&sinceSeconds=%lld", o->since_seconds);
		}
		if (o->tail >= 0)
			strbuf_addf(&path, "&tailLines=%ld", o->tail);
	}
	s->curl = curl_easy_init();
	if (!s->curl) {
		err_set(en->e, "cannot create a curl handle");
		goto out;
	}
	if (kube_easy_setup(en->kc, s->curl, path.buf, 0, &s->hdrs, en->e) < 0)
		goto out;
	s->auth_gen = kube_auth_generation(en->kc);
	curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, logs_write);
	curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, s);
	strbuf_reset(&s->part);
	strbuf_reset(&s->errbody);
	s->seen_last = 0;
	s->got_lines = 0;
	s->last_byte = clock_now_ms();
	if (curl_multi_add_handle(en->multi, s->curl) != CURLM_OK) {
		err_set(en->e, "cannot add a stream to curl");
		goto out;
	}
	log_debug("logs: %s: GET %s", s->key, path.buf);
	s->state = LOGS_ACTIVE;
	en->active++;
	ret = 0;
out:
	if (ret < 0 && s->curl) {
		curl_easy_cleanup(s->curl);
		s->curl = NULL;
		curl_slist_free_all(s->hdrs);
		s->hdrs = NULL;
	}
	strbuf_release(&path);
	return ret;
}

static void logs_retry(struct logs_engine *en, struct logs_stream *s, long wait_ms)
{
	(void)en;
	s->state = LOGS_RETRY;
	s->retry_at = clock_now_ms() + (wait_ms > 0 ? wait_ms : 0);
}

/* The instance is over: move on to a newer one if the API showed one. */
static void logs_instance_done(struct logs_engine *en, struct logs_stream *s)
{
	json_t *pod = logs_pod_of(en, s);

	s->state = LOGS_DONE;
	s->floor_time[0] = '\0';
	if (s->next_cid) {
		logs_set_cid(&s->cid, s->next_cid);
		logs_set_cid(&s->next_cid, NULL);
		s->fresh = 0;
		s->state = LOGS_QUEUED;
		return;
	}
	if (pod && !logs_pod_deleted(en, s) && en->o->follow)
		logs_consider(en, pod, 0);
}

static void logs_stream_ended(struct logs_engine *en, struct logs_stream *s,
			      CURLcode result)
{
	long status = 0;
	curl_off_t retry_after = -1;
	char msg[1024];

	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(s->curl, CURLINFO_RETRY_AFTER, &retry_after);
	curl_multi_remove_handle(en->multi, s->curl);
	curl_easy_cleanup(s->curl);
	s->curl = NULL;
	curl_slist_free_all(s->hdrs);
	s->hdrs = NULL;
	en->active--;
	if (s->got_lines)
		s->failures = 0;
	if (status == 200) {
		s->auth_retries = 0;
		if (!s->have_last && !s->floor_time[0] && en->o->follow) {
			/* connected but nothing came: resume from here */
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			logs_format_ts(s->floor_time, sizeof(s->floor_time),
				       ts.tv_sec - 1, 0);
		}
		if (result == CURLE_OK) {
			if (s->part.len) {
				logs_line(en, s, s->part.buf, s->part.len);
				strbuf_reset(&s->part);
			}
			if (!en->o->follow || s->previous || logs_instance_over(en, s)) {
				logs_instance_done(en, s);
				return;
			}
			/* a clean EOF while it runs: log rotation, a kubelet restart */
			log_debug("logs: %s: EOF while running, resuming", s->key);
			logs_retry(en, s, LOGS_EOF_PAUSE_MS);
			return;
		}
		/* dropped or stalled: the partial line comes again */
		strbuf_reset(&s->part);
		if (en->stop)
			return;
		log_debug("logs: %s: stream broke (%s), resuming", s->key,
			  curl_easy_strerror(result));
		logs_retry(en, s, s->failures ? http_backoff_ms(s->failures, 250, 5000) : 0);
		s->failures++;
		return;
	}
	if (status == 0) {
		s->failures++;
		if (!en->o->follow && s->failures > 5) {
			err_set(en->e, "cannot reach the Kubernetes API at '%s': %s",
				kube_server(en->kc), curl_easy_strerror(result));
			en->failed = 1;
			return;
		}
		log_debug("logs: %s: %s", s->key, curl_easy_strerror(result));
		logs_retry(en, s, http_backoff_ms(s->failures, 250, 10000));
		return;
	}
	kube_status_message(status, s->errbody.buf, s->errbody.len, msg, sizeof(msg));
	if (status == 401) {
		if (s->auth_retries++ < 1 && kube_auth_rejected(en->kc, s->auth_gen)) {
			logs_retry(en, s, 0);
			return;
		}
		err_set(en->e, "the Kubernetes API at '%s' rejected the credentials "
			"(401 Unauthorized: expired or invalid)", kube_server(en->kc));
		en->failed = 1;
		return;
	}
	if (status == 403) {
		err_set(en->e, "cannot read the logs of pod '%s': %s", s->pod, msg);
		en->failed = 1;
		return;
	}
	if (status == 429 || http_status_retryable(status)) {
		s->failures++;
		logs_retry(en, s, retry_after >= 0 ? (long)retry_after * 1000
						   : http_backoff_ms(s->failures, 500, 10000));
		log_debug("logs: %s: %s, retrying", s->key, msg);
		return;
	}
	if (status == 404) {
		s->state = LOGS_DONE;
		return;
	}
	if (status == 400 && strstr(msg, "waiting to start")) {
		/* it runs again soon; the watch says when */
		s->state = en->o->follow ? LOGS_IDLE : LOGS_DONE;
		if (!en->o->follow)
			logs_note(en, "pod/%s/%s: %s", s->pod, s->container, msg);
		return;
	}
	logs_note(en, "pod/%s/%s: %s", s->pod, s->container, msg);
	s->state = LOGS_DONE;
}

/* ---- the watch (src/kubewatch) ------------------------------------------ */

static void logs_watch_object(void *ud, const char *type, json_t *obj,
			      int initial)
{
	struct logs_engine *en = ud;

	if (!type) {
		json_t *meta = json_object_get(obj, "metadata");
		char key[512];

		snprintf(key, sizeof(key), "%s/%s",
			 json_string_value(json_object_get(meta, "namespace")),
			 json_string_value(json_object_get(meta, "name")));
		json_object_set_new(en->seen, key, json_true());
		logs_pod_seen(en, obj, initial);
	} else if (!strcmp(type, "DELETED")) {
		logs_pod_gone(en, obj);
	} else {
		logs_pod_seen(en, obj, 0);
	}
}

/* After a relist: pods that vanished while we were not watching. */
static void logs_watch_relisted(void *ud)
{
	struct logs_engine *en = ud;
	const char *key;
	json_t *pod, *tmp = json_object();

	json_object_foreach(en->pods, key, pod)
		if (!json_object_get(en->seen, key) && !json_object_get(en->deleted, key))
			json_object_set(tmp, key, pod);
	json_object_foreach(tmp, key, pod)
		logs_pod_gone(en, pod);
	json_decref(tmp);
	json_object_clear(en->seen);
}

static void logs_watch_note(void *ud, const char *msg)
{
	logs_note(ud, "%s", msg);
}

/* ---- the loop ------------------------------------------------------------ */

static void logs_schedule(struct logs_engine *en)
{
	long long now = clock_now_ms();
	size_t queued = 0;
	int max = en->o->max_streams > 0 ? en->o->max_streams : 100;

	for (size_t i = 0; i < en->nstreams && !en->failed; i++) {
		struct logs_stream *s = en->streams[i];

		if (s->state == LOGS_RETRY && s->retry_at <= now)
			s->state = LOGS_QUEUED;
		if (s->state != LOGS_QUEUED)
			continue;
		if (en->active >= (size_t)max) {
			queued++;
			continue;
		}
		if (logs_start(en, s) < 0)
			en->failed = 1;
	}
	if (queued && !en->said_queued) {
		logs_note(en, "%zu stream%s queued: --max-streams %d are open", queued,
			  queued == 1 ? "" : "s", max);
		en->said_queued = 1;
	}
}

/* Streams quiet for longer than stall_ms while their container runs. */
static void logs_check_stalls(struct logs_engine *en)
{
	long long now = clock_now_ms();

	if (!en->o->follow || en->o->stall_ms <= 0)
		return;
	for (size_t i = 0; i < en->nstreams; i++) {
		struct logs_stream *s = en->streams[i];

		if (s->state != LOGS_ACTIVE || now - s->last_byte < en->o->stall_ms)
			continue;
		if (logs_instance_over(en, s)) {
			s->last_byte = now;
			continue;
		}
		log_debug("logs: %s: no bytes for %ld ms, reconnecting", s->key,
			  en->o->stall_ms);
		logs_stream_ended(en, s, CURLE_OPERATION_TIMEDOUT);
	}
}

static int logs_busy(struct logs_engine *en)
{
	for (size_t i = 0; i < en->nstreams; i++)
		if (en->streams[i]->state == LOGS_QUEUED ||
		    en->streams[i]->state == LOGS_ACTIVE ||
		    en->streams[i]->state == LOGS_RETRY)
			return 1;
	return 0;
}

static int logs_cmp_sorted(const void *a, const void *b)
{
	const struct logs_sorted_line *x = a, *y = b;
	int c = logs_cmp_ts(x->sec, x->nsec, y->sec, y->nsec);

	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void logs_free(struct logs_engine *en)
{
	for (size_t i = 0; i < en->nstreams; i++) {
		struct logs_stream *s = en->streams[i];

		if (s->curl) {
			curl_multi_remove_handle(en->multi, s->curl);
			curl_easy_cleanup(s->curl);
		}
		curl_slist_free_all(s->hdrs);
		strbuf_release(&s->part);
		strbuf_release(&s->errbody);
		free(s->ns);
		free(s->pod);
		free(s->container);
		free(s->key);
		free(s->cid);
		free(s->next_cid);
		free(s);
	}
	free(en->streams);
	kubewatch_release(&en->w);
	for (size_t i = 0; i < en->nsorted; i++) {
		free(en->sorted[i].time);
		free(en->sorted[i].msg);
	}
	free(en->sorted);
	if (en->multi)
		curl_multi_cleanup(en->multi);
	json_decref(en->pods);
	json_decref(en->deleted);
	json_decref(en->seen);
}

int logs_run(struct kube_client *kc, const struct logs_options *o,
	     const struct logs_sink *sink, struct err *e)
{
	struct logs_engine en = { 0 };
	struct kubewatch_ops ops = {
		logs_watch_object, logs_watch_relisted, logs_watch_note, &en,
	};
	struct strbuf path = STRBUF_INIT, query = STRBUF_INIT;
	int ret = -1;

	en.kc = kc;
	en.o = o;
	en.sink = sink;
	en.e = e;
	en.pods = json_object();
	en.deleted = json_object();
	en.seen = json_object();
	if (http_global_init(e) < 0)
		goto out;
	en.multi = curl_multi_init();
	if (!en.multi) {
		err_set(e, "cannot create a curl multi handle");
		goto out;
	}
	curl_multi_setopt(en.multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	strbuf_init(&path, 0);
	strbuf_init(&query, 0);
	logs_pods_path(&en, &path, &query);
	kubewatch_init(&en.w, kc, en.multi, path.buf, query.buf, "pods", &ops, e);
	if (kubewatch_list(&en.w, 1) < 0) {
		err_wrap(e, "cannot list pods in %s%s%s",
			 o->all_namespaces ? "all namespaces" : "namespace '",
			 o->all_namespaces ? "" : o->namespace,
			 o->all_namespaces ? "" : "'");
		goto out;
	}
	json_object_clear(en.seen);
	if (!en.matched) {
		if (!o->follow || o->require_match) {
			err_set(e, "no pods match");
			goto out;
		}
		logs_note(&en, "no pods match yet; waiting for them (Ctrl-C to stop)");
		en.said_waiting = 1;
	}
	while (!logs_stop_flag && !en.stop && !en.failed) {
		int running = 0;
		CURLMsg *msg;
		int left;

		if (o->follow && kubewatch_step(&en.w) < 0)
			goto out;
		logs_schedule(&en);
		if (en.failed)
			goto out;
		if (!o->follow && !logs_busy(&en))
			break;
		if (curl_multi_perform(en.multi, &running) != CURLM_OK) {
			err_set(e, "curl multi failed");
			goto out;
		}
		while ((msg = curl_multi_info_read(en.multi, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			if (kubewatch_done(&en.w, msg->easy_handle,
					   msg->data.result)) {
				en.failed |= en.w.failed;
				continue;
			}
			for (size_t i = 0; i < en.nstreams; i++)
				if (en.streams[i]->curl == msg->easy_handle) {
					logs_stream_ended(&en, en.streams[i], msg->data.result);
					break;
				}
		}
		if (en.failed)
			goto out;
		logs_check_stalls(&en);
		if (sink->flush && sink->flush(sink->ud) < 0)
			en.stop = 1;
		if (en.said_waiting && en.matched) {
			en.said_waiting = 0;
		}
		curl_multi_poll(en.multi, NULL, 0, 100, NULL);
		if (sink->out_fd >= 0) {
			/* a pipe whose reader left reports POLLERR */
			struct pollfd pfd = { sink->out_fd, 0, 0 };

			if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLERR | POLLHUP)))
				en.stop = 1;
		}
	}
	if (o->sorted && !en.failed) {
		if (en.nsorted)
			qsort(en.sorted, en.nsorted, sizeof(*en.sorted), logs_cmp_sorted);
		for (size_t i = 0; i < en.nsorted; i++) {
			struct logs_sorted_line *sl = &en.sorted[i];
			struct logs_line l = {
				.namespace = sl->s->ns, .pod = sl->s->pod,
				.container = sl->s->container,
				.time = sl->time_len ? sl->time : NULL,
				.time_len = sl->time_len, .msg = sl->msg, .len = sl->len,
			};

			if (sink->line(sink->ud, &l) < 0)
				break;
		}
	}
	if (sink->flush)
		sink->flush(sink->ud);
	ret = 0;
out:
	logs_free(&en);
	strbuf_release(&path);
	strbuf_release(&query);
	return ret;
}

int logs_workload_selector(struct kube_client *kc, const char *ns,
			   const char *kind, const char *name,
			   struct strbuf *out, struct err *e)
{
	static const struct {
		const char *names[4];
		const char *group;
		const char *plural;
	} kinds[] = {
		{ { "deployment", "deployments", "deploy", NULL }, "apps", "deployments" },
		{ { "statefulset", "statefulsets", "sts", NULL }, "apps", "statefulsets" },
		{ { "daemonset", "daemonsets", "ds", NULL }, "apps", "daemonsets" },
		{ { "job", "jobs", NULL, NULL }, "batch", "jobs" },
	};
	struct strbuf path = STRBUF_INIT;
	json_t *doc = NULL, *sel, *v, *expr;
	const char *key, *group = NULL, *plural = NULL;
	size_t i;
	int ret = -1;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && !group; i++)
		for (int k = 0; kinds[i].names[k]; k++)
			if (!strcasecmp(kind, kinds[i].names[k])) {
				group = kinds[i].group;
				plural = kinds[i].plural;
			}
	if (!group)
		return err_set(e, "unknown kind '%s' (want deploy, sts, ds or job)", kind);
	strbuf_init(&path, 0);
	strbuf_addf(&path, "/apis/%s/v1/namespaces/", group);
	http_escape(&path, ns);
	strbuf_addf(&path, "/%s/", plural);
	http_escape(&path, name);
	if (kube_get_json(kc, path.buf, &doc, NULL, e) < 0) {
		err_wrap(e, "cannot read %s '%s' in namespace '%s'", kind, name, ns);
		goto out;
	}
	sel = json_object_get(json_object_get(doc, "spec"), "selector");
	json_object_foreach(json_object_get(sel, "matchLabels"), key, v)
		strbuf_addf(out, "%s%s=%s", out->len ? "," : "", key, json_string_value(v));
	json_array_foreach(json_object_get(sel, "matchExpressions"), i, expr) {
		const char *k = json_string_value(json_object_get(expr, "key"));
		const char *op = json_string_value(json_object_get(expr, "operator"));
		json_t *vals = json_object_get(expr, "values");

		if (!k || !op)
			continue;
		if (out->len)
			strbuf_addch(out, ',');
		if (!strcmp(op, "Exists")) {
			strbuf_addstr(out, k);
		} else if (!strcmp(op, "DoesNotExist")) {
			strbuf_addf(out, "!%s", k);
		} else {
			size_t j;

			strbuf_addf(out, "%s %s (", k, !strcmp(op, "In") ? "in" : "notin");
			json_array_foreach(vals, j, v)
				strbuf_addf(out, "%s%s", j ? "," : "", json_string_value(v));
			strbuf_addch(out, ')');
		}
	}
	if (!out->len) {
		err_set(e, "%s '%s' has no selector", kind, name);
		goto out;
	}
	ret = 0;
out:
	json_decref(doc);
	strbuf_release(&path);
	return ret;
}
