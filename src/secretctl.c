/*
 * The sealed secrets controller (see secretctl.h).
 */
#define _GNU_SOURCE

#include "secretctl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http.h"
#include "kubesecret.h"
#include "kubewatch.h"
#include "log.h"
#include "secret.h"

static volatile sig_atomic_t secretctl_stop;

void secretctl_interrupt(void)
{
	secretctl_stop = 1;
}

struct secretctl {
	struct kube_client *kc;
	const struct secretctl_options *o;
	struct kubewatch w;
	/*
	 * "ns/name" -> the newest object as compact JSON text: a thousand
	 * SealedSecrets queued by the first list cost a third of their trees
	 */
	json_t *queue;
	int listen_fd;
	int ready;
	unsigned long reconciles, failures, events;
	double last_success;
};

static void secretctl_log(struct secretctl *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void secretctl_log(struct secretctl *c, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	if (!c->o->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->o->log(c->o->ud, line);
}

static double secretctl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void secretctl_rfc3339(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- the queue, fed by the watch ---- */

static void secretctl_object(void *ud, const char *type, json_t *obj,
			     int initial)
{
	struct secretctl *c = ud;
	json_t *meta = json_object_get(obj, "metadata");
	char key[600];

	(void)initial;
	snprintf(key, sizeof(key), "%s/%s",
		 json_string_value(json_object_get(meta, "namespace")) ?: "",
		 json_string_value(json_object_get(meta, "name")) ?: "");
	/* a deleted SealedSecret's Secret goes through its owner reference */
	if (type && !strcmp(type, "DELETED")) {
		json_object_del(c->queue, key);
	} else {
		char *text = json_dumps(obj, JSON_COMPACT);

		if (!text)
			abort();
		json_object_set_new(c->queue, key, json_string(text));
		free(text);
	}
}

static void secretctl_note(void *ud, const char *msg)
{
	secretctl_log(ud, "%s", msg);
}

/* ---- status and events ---- */

/* The Synced condition the object holds, or NULL. */
static json_t *secretctl_condition(json_t *obj)
{
	json_t *conds = json_object_get(json_object_get(obj, "status"), "conditions"), *cd;
	size_t i;

	json_array_foreach(conds, i, cd) {
		const char *t = json_string_value(json_object_get(cd, "type"));

		if (t && !strcmp(t, "Synced"))
			return cd;
	}
	return NULL;
}

static int secretctl_str_eq(json_t *o, const char *k, const char *v)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s && v && !strcmp(s, v);
}

static void secretctl_event(struct secretctl *c, json_t *obj,
			    const char *reason, const char *message)
{
	json_t *meta = json_object_get(obj, "metadata"), *ev;
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *name = json_string_value(json_object_get(meta, "name"));
	struct strbuf path = STRBUF_INIT, evname = STRBUF_INIT;
	char now[32], *body;
	struct err e = { "" };

	secretctl_rfc3339(now);
	strbuf_addf(&evname, "%s.%lx%lx", name, (unsigned long)time(NULL),
		    ++c->events);
	ev = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:O?}, s:s, s:s, s:s, s:{s:s}, s:s, s:s, s:i, s:s}",
		       "apiVersion", "v1", "kind", "Event",
		       "metadata", "name", evname.buf, "namespace", ns,
		       "involvedObject", "apiVersion", SEALED_API_VERSION,
		       "kind", SEALED_KIND, "name", name, "namespace", ns,
		       "uid", json_object_get(meta, "uid"),
		       "reason", reason, "message", message, "type", "Warning",
		       "source", "component", "saasctl-secrets",
		       "firstTimestamp", now, "lastTimestamp", now, "count", 1,
		       "reportingComponent", "saasctl-secrets");
	body = json_dumps(ev, JSON_COMPACT);
	strbuf_addstr(&path, "/api/v1/namespaces/");
	http_escape(&path, ns);
	strbuf_addstr(&path, "/events");
	if (body && kube_request_json(c->kc, "POST", path.buf,
				      "application/json", body, strlen(body),
				      NULL, NULL, &e) < 0)
		secretctl_log(c, "cannot record an event on '%s/%s': %s", ns,
			      name, e.msg);
	free(body);
	json_decref(ev);
	strbuf_release(&path);
	strbuf_release(&evname);
}

/*
 * Set the Synced condition when it changed (and observedGeneration);
 * an Event goes with a failure that is new.
 */
static void secretctl_status(struct secretctl *c, json_t *obj, int ok,
			     const char *reason, const char *message)
{
	json_t *meta = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *name = json_string_value(json_object_get(meta, "name"));
	json_t *gen = json_object_get(meta, "generation");
	json_t *old = secretctl_condition(obj), *status, *copy;
	const char *want = ok ? "True" : "False";
	struct strbuf path = STRBUF_INIT;
	struct err e = { "" };
	char now[32], *body;
	long code = 0;

	if (old && secretctl_str_eq(old, "status", want) &&
	    secretctl_str_eq(old, "reason", reason) &&
	    secretctl_str_eq(old, "message", message) &&
	    (!gen || json_equal(gen, json_object_get(json_object_get(obj, "status"),
						     "observedGeneration"))))
		return;
	if (!ok)
		secretctl_event(c, obj, reason, message);
	secretctl_rfc3339(now);
	copy = json_deep_copy(obj);
	status = json_pack("{s:[{s:s, s:s, s:s, s:s, s:s}]}", "conditions",
			   "type", "Synced", "status", want, "reason", reason,
			   "message", message, "lastTransitionTime",
			   old && secretctl_str_eq(old, "status", want) &&
			   json_string_value(json_object_get(old, "lastTransitionTime")) ?
			   json_string_value(json_object_get(old, "lastTransitionTime")) : now);
	if (gen)
		json_object_set(status, "observedGeneration", gen);
	json_object_set_new(copy, "status", status);
	json_object_del(json_object_get(copy, "metadata"), "managedFields");
	body = json_dumps(copy, JSON_COMPACT);
	strbuf_addstr(&path, KUBESECRET_PATH_NS);
	http_escape(&path, ns);
	strbuf_addstr(&path, "/sealedsecrets/");
	http_escape(&path, name);
	strbuf_addstr(&path, "/status");
	/* A 409 means a newer version is on its way: it is reconciled next. */
	if (body && kube_request_json(c->kc, "PUT", path.buf, "application/json",
				      body, strlen(body), NULL, &code, &e) < 0 &&
	    code != 409)
		secretctl_log(c, "cannot write the status of '%s/%s': %s", ns,
			      name, e.msg);
	free(body);
	json_decref(copy);
	strbuf_release(&path);
}

/* ---- reconcile ---- */

static void secretctl_reconcile(struct secretctl *c, json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *name = json_string_value(json_object_get(meta, "name"));
	struct kubesecret_owner owner = {
		name, json_string_value(json_object_get(meta, "uid")),
	};
	struct sealed_secret s = { 0 };
	struct sealed_plain plain = { 0 };
	struct kubesecret_plan plan = { 0 };
	const struct keys_secret *k = NULL;
	const char *reason = NULL;
	struct err e = { "" };
	long status = 0;

	if (!ns || !name || !owner.uid)
		return;
	c->reconciles++;
	if (kubesecret_from_object(&s, obj, &e) < 0) {
		reason = "Invalid";
		goto fail;
	}
	free(s.namespace);
	s.namespace = strdup(ns);
	if (!(k = secret_pick_key(&s, c->o->keys, c->o->nkeys, &e))) {
		reason = "NoKey";
		goto fail;
	}
	/* Fails closed: one item that does not open and nothing is written. */
	if (sealed_secret_open(&s, k, &plain, &e) < 0) {
		reason = "CannotOpen";
		goto fail;
	}
	if (kubesecret_plan(c->kc, &plain, ns, k, &owner, &plan, &status, &e) < 0 ||
	    (plan.action != KUBESECRET_UNCHANGED &&
	     kubesecret_apply(c->kc, &plain, ns, k, &owner, &status, &e) < 0)) {
		reason = status == 403 ? "Forbidden" : "WriteFailed";
		goto fail;
	}
	if (plan.action != KUBESECRET_UNCHANGED)
		secretctl_log(c, "%s %s/%s (%zu item%s)",
			      plan.action == KUBESECRET_CREATE ? "created" : "updated",
			      ns, name, plain.nitems, plain.nitems == 1 ? "" : "s");
	c->last_success = secretctl_now();
	secretctl_status(c, obj, 1, "Synced", "the Secret is up to date");
	goto out;
fail:
	c->failures++;
	secretctl_log(c, "cannot sync %s/%s: %s", ns, name, e.msg);
	secretctl_status(c, obj, 0, reason, e.msg);
out:
	kubesecret_plan_release(&plan);
	sealed_plain_release(&plain);
	sealed_secret_release(&s);
}

/* Reconcile a batch, so that health and the watch are served between. */
static void secretctl_drain(struct secretctl *c)
{
	for (int n = 0; n < 32 && json_object_size(c->queue) && !secretctl_stop; n++) {
		void *it = json_object_iter(c->queue);
		const char *text = json_string_value(json_object_iter_value(it));
		json_t *obj = text ? json_loads(text, 0, NULL) : NULL;
		char key[600];

		snprintf(key, sizeof(key), "%s", json_object_iter_key(it));
		json_object_del(c->queue, key);
		if (obj)
			secretctl_reconcile(c, obj);
		json_decref(obj);
	}
}

/* ---- health ---- */

static int secretctl_listen(struct secretctl *c, const char *addr,
			    struct err *e)
{
	struct sockaddr_in sa = { 0 };
	const char *colon = strrchr(addr, ':');
	char host[64];
	int one = 1, fd;
	long port;

	if (!colon || (size_t)(colon - addr) >= sizeof(host))
		return err_set(e, "bad health address '%s': want HOST:PORT", addr);
	snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
	port = strtol(colon + 1, NULL, 10);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	if (port <= 0 || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return err_set(e, "bad health address '%s': want IPV4:PORT", addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_errno(e, "cannot open a socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		err_errno(e, "cannot listen on '%s'", addr);
		close(fd);
		return -1;
	}
	c->listen_fd = fd;
	return 0;
}

static void secretctl_serve(struct secretctl *c)
{
	int fd;

	while ((fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		struct pollfd p = { fd, POLLIN, 0 };
		char req[1024], body[1024], head[256];
		ssize_t n = 0;
		int code = 404, len;

		if (poll(&p, 1, 200) > 0)
			n = read(fd, req, sizeof(req) - 1);
		req[n > 0 ? n : 0] = 0;
		if (!strncmp(req, "GET /healthz ", 13)) {
			code = c->ready ? 200 : 503;
			len = snprintf(body, sizeof(body), "%s\n",
				       c->ready ? "ok" : "starting");
		} else if (!strncmp(req, "GET /metrics ", 13)) {
			code = 200;
			len = snprintf(body, sizeof(body),
				"# HELP saasctl_secrets_reconciles_total SealedSecrets reconciled.\n"
				"# TYPE saasctl_secrets_reconciles_total counter\n"
				"saasctl_secrets_reconciles_total %lu\n"
				"# HELP saasctl_secrets_failures_total Reconciles that failed.\n"
				"# TYPE saasctl_secrets_failures_total counter\n"
				"saasctl_secrets_failures_total %lu\n"
				"# HELP saasctl_secrets_watch_restarts_total Watches opened again, relists included.\n"
				"# TYPE saasctl_secrets_watch_restarts_total counter\n"
				"saasctl_secrets_watch_restarts_total %lu\n"
				"# HELP saasctl_secrets_last_success_timestamp_seconds When a reconcile last succeeded.\n"
				"# TYPE saasctl_secrets_last_success_timestamp_seconds gauge\n"
				"saasctl_secrets_last_success_timestamp_seconds %.3f\n",
				c->reconciles, c->failures,
				c->w.restarts > 0 ? c->w.restarts - 1 + c->w.relists
						  : c->w.relists,
				c->last_success);
		} else {
			len = snprintf(body, sizeof(body), "not found\n");
		}
		n = snprintf(head, sizeof(head),
			     "HTTP/1.1 %d %s\r\nContent-Type: text/plain; version=0.0.4\r\n"
			     "Content-Length: %d\r\nConnection: close\r\n\r\n", code,
			     code == 200 ? "OK" : code == 503 ? "Service Unavailable" : "Not Found",
			     len);
		if (write(fd, head, (size_t)n) == n)
			(void)!write(fd, body, (size_t)len);
		close(fd);
	}
}

int secretctl_run(struct kube_client *kc, const struct secretctl_options *o,
		  struct err *e)
{
	struct secretctl c = { 0 };
	struct kubewatch_ops ops = { secretctl_object, NULL, secretctl_note, &c };
	struct strbuf path = STRBUF_INIT;
	CURLM *multi = NULL;
	int ret = -1;

	c.kc = kc;
	c.o = o;
	c.listen_fd = -1;
	c.queue = json_object();
	if (http_global_init(e) < 0)
		goto out;
	if (o->health_addr && secretctl_listen(&c, o->health_addr, e) < 0)
		goto out;
	multi = curl_multi_init();
	if (!multi) {
		err_set(e, "cannot create a curl multi handle");
		goto out;
	}
	if (o->namespace) {
		strbuf_addstr(&path, KUBESECRET_PATH_NS);
		http_escape(&path, o->namespace);
		strbuf_addstr(&path, "/sealedsecrets");
	} else {
		strbuf_addstr(&path, KUBESECRET_PATH "/sealedsecrets");
	}
	kubewatch_init(&c.w, kc, multi, path.buf, NULL, "sealedsecrets", &ops, e);
	if (kubewatch_list(&c.w, 1) < 0) {
		err_wrap(e, "cannot list SealedSecrets");
		goto out;
	}
	c.ready = 1;
	secretctl_log(&c, "watching SealedSecrets in %s%s%s with %zu key%s",
		      o->namespace ? "namespace '" : "every namespace",
		      o->namespace ? o->namespace : "", o->namespace ? "'" : "",
		      o->nkeys, o->nkeys == 1 ? "" : "s");
	while (!secretctl_stop) {
		struct curl_waitfd extra = { c.listen_fd, CURL_WAIT_POLLIN, 0 };
		CURLMsg *msg;
		int running, left;

		if (c.listen_fd >= 0)
			secretctl_serve(&c);
		secretctl_drain(&c);
		if (secretctl_stop)
			break;
		if (kubewatch_step(&c.w) < 0)
			goto out;
		if (curl_multi_perform(multi, &running) != CURLM_OK) {
			err_set(e, "curl multi failed");
			goto out;
		}
		while ((msg = curl_multi_info_read(multi, &left)))
			if (msg->msg == CURLMSG_DONE)
				kubewatch_done(&c.w, msg->easy_handle, msg->data.result);
		if (c.w.failed)
			goto out;
		if (json_object_size(c.queue))
			continue;
		curl_multi_poll(multi, c.listen_fd >= 0 ? &extra : NULL,
				c.listen_fd >= 0 ? 1 : 0, 100, NULL);
	}
	ret = 0;
out:
	kubewatch_release(&c.w);
	if (multi)
		curl_multi_cleanup(multi);
	if (c.listen_fd >= 0)
		close(c.listen_fd);
	json_decref(c.queue);
	strbuf_release(&path);
	return ret;
}
