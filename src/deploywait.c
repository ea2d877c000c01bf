/*
 * Follow a pushed deploy into the cluster (see deploywait.h).
 */
#include "deploywait.h"

#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "clock.h"
#include "image.h"
#include "kubewatch.h"
#include "logs.h"
#include "monorepo.h"
#include "rollout.h"

#define FLUX_GROUP "kustomize.toolkit.fluxcd.io"

enum dw_kind { DW_KUSTOMIZATION, DW_WORKLOAD, DW_PODS };

struct dw;

struct dw_watch {
	struct kubewatch w;
	struct dw *dw;
	enum dw_kind kind;
	size_t index;		/* the workload */
	int used;
};

struct dw_subject {
	char name[300];
	char state[16];
	char msg[512];
};

struct dw {
	const struct deploywait_options *o;
	struct deploywait_failure *f;
	int flux;			/* a Kustomization is watched */
	int synced;
	char ks_subject[300];
	json_t **objs;			/* the newest object of each workload */
	struct dw_subject *subjects;	/* [0]: sync, [1 + i]: workload i */
	int failed, done;
	char sync_msg[512];		/* the last waiting line, for a timeout */
};

int deploywait_workloads(const struct monorepo_app *app, const char *image,
			 struct deploywait_workload **out, size_t *n,
			 struct err *e)
{
	struct image_ref want, got;
	struct err ignored;

	*out = NULL;
	*n = 0;
	if (image_parse(&want, image, e) < 0)
		return -1;
	*out = calloc(app->nworkloads + 1, sizeof(**out));
	if (!*out)
		return err_set(e, "out of memory");
	for (size_t i = 0; i < app->nworkloads; i++) {
		const struct monorepo_workload *w = &app->workloads[i];
		const char *kind = w->res->kind;
		int runs = 0;

		if (!kind || !w->res->name || (strcmp(kind, "Deployment") &&
		    strcmp(kind, "StatefulSet") && strcmp(kind, "DaemonSet")))
			continue;
		for (size_t c = 0; c < w->ncontainers && !runs; c++)
			runs = w->containers[c].image &&
			       image_parse(&got, w->containers[c].image, &ignored) == 0 &&
			       image_same_repo(got.name, want.name);
		if (!runs)
			continue;
		(*out)[*n].kind = kind;
		(*out)[*n].namespace = w->res->namespace ? w->res->namespace : app->namespace;
		(*out)[*n].name = w->res->name;
		(*n)++;
	}
	return 0;
}

void deploywait_failure_init(struct deploywait_failure *f)
{
	memset(f, 0, sizeof(*f));
	strbuf_init(&f->events, 64 * 1024);
	strbuf_init(&f->logs, 256 * 1024);
}

void deploywait_failure_release(struct deploywait_failure *f)
{
	strbuf_release(&f->events);
	strbuf_release(&f->logs);
}

static const char *plural(const char *kind)
{
	if (!strcmp(kind, "Deployment"))
		return "deployments";
	if (!strcmp(kind, "StatefulSet"))
		return "statefulsets";
	return "daemonsets";
}

/* Tell the caller when a subject's state or message changed. */
static void report(struct dw *dw, struct dw_subject *s, const char *stage,
		   const char *state, const char *msg)
{
	struct deploywait_event ev = { stage, s->name, state, msg };

	if (!strcmp(s->state, state) && !strcmp(s->msg, msg))
		return;
	snprintf(s->state, sizeof(s->state), "%s", state);
	snprintf(s->msg, sizeof(s->msg), "%s", msg);
	if (dw->o->event)
		dw->o->event(dw->o->ud, &ev);
}

static void fail(struct dw *dw, const char *stage, const char *subject,
		 const struct rollout_verdict *v)
{
	struct deploywait_failure *f = dw->f;

	if (dw->failed)
		return;
	dw->failed = 1;
	snprintf(f->stage, sizeof(f->stage), "%s", stage);
	snprintf(f->subject, sizeof(f->subject), "%s", subject);
	snprintf(f->reason, sizeof(f->reason), "%s", v->reason);
	snprintf(f->msg, sizeof(f->msg), "%s", v->msg);
}

/* Judge every workload again; the rollout is done when all are. */
static void evaluate(struct dw *dw)
{
	const struct deploywait_options *o = dw->o;
	int all = 1;

	if (dw->failed || (dw->flux && !dw->synced))
		return;
	for (size_t i = 0; i < o->nworkloads && !dw->failed; i++) {
		struct dw_subject *s = &dw->subjects[1 + i];
		struct rollout_verdict v = { 0 };
		json_t *obj = dw->objs[i];

		if (!obj) {
			snprintf(v.msg, sizeof(v.msg), "%s not found yet", s->name);
		} else if (!rollout_pod_runs(json_object_get(json_object_get(obj, "spec"), "template"),
					     o->image)) {
			snprintf(v.msg, sizeof(v.msg), "waiting for %s to run %s", s->name, o->image);
		} else {
			rollout_workload(obj, &v);
		}
		if (v.state == ROLLOUT_FAILED) {
			report(dw, s, "rollout", "failed", v.msg);
			fail(dw, "rollout", s->name, &v);
			return;
		}
		report(dw, s, "rollout", v.state == ROLLOUT_DONE ? "done" : "waiting", v.msg);
		if (v.state != ROLLOUT_DONE)
			all = 0;
	}
	if (all && !dw->failed)
		dw->done = 1;
}

static void on_object(void *ud, const char *type, json_t *obj, int initial)
{
	struct dw_watch *dwat = ud;
	struct dw *dw = dwat->dw;
	struct rollout_verdict v = { 0 };

	(void)initial;
	if (dw->failed || dw->done)
		return;
	switch (dwat->kind) {
	case DW_KUSTOMIZATION:
		if (type && !strcmp(type, "DELETED"))
			return;
		rollout_kustomization(obj, dw->o->sha, &v);
		if (v.state == ROLLOUT_FAILED) {
			report(dw, &dw->subjects[0], "sync", "failed", v.msg);
			fail(dw, "sync", dw->ks_subject, &v);
			return;
		}
		if (v.state == ROLLOUT_DONE && !dw->synced) {
			dw->synced = 1;
			report(dw, &dw->subjects[0], "sync", "done", v.msg);
		} else if (!dw->synced) {
			report(dw, &dw->subjects[0], "sync", "waiting", v.msg);
		}
		break;
	case DW_WORKLOAD: {
		const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));

		/* the field selector should have kept others out; be sure */
		if (!name || strcmp(name, dw->o->workloads[dwat->index].name))
			return;
		json_decref(dw->objs[dwat->index]);
		dw->objs[dwat->index] = type && !strcmp(type, "DELETED") ? NULL : json_incref(obj);
		break;
	}
	case DW_PODS: {
		char container[254];

		if ((type && !strcmp(type, "DELETED")) ||
		    !rollout_pod_runs(obj, dw->o->image))
			return;
		rollout_pod(obj, &v, container, sizeof(container));
		if (v.state == ROLLOUT_FAILED) {
			const char *ns = json_string_value(json_object_get(json_object_get(obj, "metadata"), "namespace"));
			const char *pod = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
			char subject[300];

			snprintf(subject, sizeof(subject), "pod/%s", pod ? pod : "");
			fail(dw, "rollout", subject, &v);
			snprintf(dw->f->namespace, sizeof(dw->f->namespace), "%s", ns ? ns : "");
			snprintf(dw->f->pod, sizeof(dw->f->pod), "%s", pod ? pod : "");
			snprintf(dw->f->container, sizeof(dw->f->container), "%s", container);
		}
		return;
	}
	}
	evaluate(dw);
}

/*
 * The Kustomization that covers the app's folder: 0 with *found unset
 * when Flux is not installed or none covers it (why says which).
 */
static int find_kustomization(struct kube_client *kc, const char *dir,
			      char *ns, char *name, size_t size,
			      char *version, size_t vsize, char *why,
			      size_t wsize, int *found, struct err *e)
{
	static const char *const versions[] = { "v1", "v1beta2", NULL };
	json_t *list = NULL, *item;
	int best = -1;
	size_t i;

	*found = 0;
	for (size_t v = 0; versions[v]; v++) {
		char path[128];
		long status = 0;

		snprintf(path, sizeof(path), "/apis/" FLUX_GROUP "/%s/kustomizations", versions[v]);
		if (kube_get_json(kc, path, &list, &status, e) == 0) {
			snprintf(version, vsize, "%s", versions[v]);
			break;
		}
		if (status != 404)
			return err_wrap(e, "cannot list Flux Kustomizations");
		err_clear(e);
	}
	if (!list) {
		snprintf(why, wsize, "Flux is not installed (no Kustomization resource): not waiting for a sync");
		return 0;
	}
	json_array_foreach(json_object_get(list, "items"), i, item) {
		int n = rollout_kustomization_covers(item, dir);
		json_t *meta = json_object_get(item, "metadata");

		if (n > best) {
			best = n;
			snprintf(ns, size, "%s", json_string_value(json_object_get(meta, "namespace")) ?: "");
			snprintf(name, size, "%s", json_string_value(json_object_get(meta, "name")) ?: "");
		}
	}
	json_decref(list);
	if (best < 0)
		snprintf(why, wsize, "no Flux Kustomization covers '%s': not waiting for a sync", dir);
	else
		*found = 1;
	return 0;
}

/* A DNS label or subdomain: safe in a query without escaping. */
static int plain_name(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.')
			return 0;
	return 1;
}

static void add_watch(struct dw_watch *w, struct dw *dw, struct kube_client *kc,
		      CURLM *multi, enum dw_kind kind, size_t index,
		      const char *path, const char *query, const char *what,
		      struct err *e)
{
	struct kubewatch_ops ops = { on_object, NULL, NULL, w };

	w->dw = dw;
	w->kind = kind;
	w->index = index;
	w->used = 1;
	kubewatch_init(&w->w, kc, multi, path, query, what, &ops, e);
}

static int line_sink(void *ud, const struct logs_line *l)
{
	struct strbuf *sb = ud;

	strbuf_add(sb, l->msg, l->len);
	strbuf_addch(sb, '\n');
	return 0;
}

/* When an Event last happened, for sorting: RFC 3339 sorts as text. */
static const char *event_time(json_t *ev)
{
	static const char *const keys[] = { "lastTimestamp", "eventTime", "firstTimestamp" };

	for (size_t i = 0; i < 3; i++)
		if (json_string_value(json_object_get(ev, keys[i])))
			return json_string_value(json_object_get(ev, keys[i]));
	return json_string_value(json_object_get(json_object_get(ev, "metadata"),
						 "creationTimestamp")) ?: "";
}

static long long event_rv(json_t *ev)
{
	const char *rv = json_string_value(json_object_get(json_object_get(ev, "metadata"),
							   "resourceVersion"));

	return rv ? atoll(rv) : 0;
}

static int event_cmp(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(event_time(x), event_time(y));

	if (c)
		return c;
	return (event_rv(x) > event_rv(y)) - (event_rv(x) < event_rv(y));
}

/* A new array of the Events, oldest first (a list comes in name order). */
static json_t *sorted_events(json_t *items)
{
	size_t n = json_array_size(items);
	json_t **v = calloc(n + 1, sizeof(*v)), *out = json_array();

	if (!v)
		return out;
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(items, i);
	qsort(v, n, sizeof(*v), event_cmp);
	for (size_t i = 0; i < n; i++)
		json_array_append(out, v[i]);
	free(v);
	return out;
}

/* Events and log lines of what failed; failures here only leave them out. */
static void collect(struct kube_client *kc, struct dw *dw)
{
	struct deploywait_failure *f = dw->f;
	const struct deploywait_options *o = dw->o;
	const char *ns = f->namespace, *name = f->pod, *kind = "Pod";
	struct err e = { { 0 } };
	json_t *list = NULL, *item;
	char path[1024];
	size_t i, n, first;

	if (!*f->pod) {
		/* a workload failed: its own Events */
		for (i = 0; i < o->nworkloads; i++) {
			char subject[300];

			snprintf(subject, sizeof(subject), "%s/%s", o->workloads[i].kind,
				 o->workloads[i].name);
			for (char *p = subject; *p && *p != '/'; p++)
				*p = (char)tolower((unsigned char)*p);
			if (!strcmp(subject, f->subject)) {
				ns = o->workloads[i].namespace;
				name = o->workloads[i].name;
				kind = o->workloads[i].kind;
			}
		}
		if (!*name || !plain_name(name) || !plain_name(ns))
			return;
	}
	snprintf(path, sizeof(path),
		 "/api/v1/namespaces/%s/events?fieldSelector=involvedObject.name%%3D%s", ns, name);
	if (kube_get_json(kc, path, &list, NULL, &e) == 0) {
		json_t *items = sorted_events(json_object_get(list, "items"));

		n = json_array_size(items);
		first = n > DEPLOYWAIT_EVENTS ? n - DEPLOYWAIT_EVENTS : 0;
		json_array_foreach(items, i, item) {
			const char *ik = json_string_value(json_object_get(json_object_get(item, "involvedObject"), "kind"));

			if (i < first || (ik && strcmp(ik, kind)))
				continue;
			strbuf_addf(&f->events, "%s %s: %s\n",
				    json_string_value(json_object_get(item, "type")) ?: "Normal",
				    json_string_value(json_object_get(item, "reason")) ?: "",
				    json_string_value(json_object_get(item, "message")) ?: "");
		}
		json_decref(items);
		json_decref(list);
	}
	/* a container that never started has no log */
	if (*f->pod && *f->container &&
	    (!strcmp(f->reason, "CrashLoopBackOff") || !strcmp(f->reason, "OOMKilled"))) {
		struct logs_options lo = { 0 };
		struct logs_sink sink = { line_sink, NULL, NULL, &f->logs, -1 };
		char fs[300], re[300];
		regex_t cre;

		snprintf(fs, sizeof(fs), "metadata.name=%s", f->pod);
		snprintf(re, sizeof(re), "^%s$", f->container);
		if (regcomp(&cre, re, REG_EXTENDED | REG_NOSUB))
			return;
		lo.namespace = f->namespace;
		lo.field_selector = fs;
		lo.container_re = &cre;
		lo.tail = DEPLOYWAIT_LOG_LINES;
		/* without a log the failure is still reported */
		logs_run(kc, &lo, &sink, &e);
		regfree(&cre);
	}
}

int deploywait_run(struct kube_client *kc, const struct deploywait_options *o,
		   struct deploywait_failure *f, struct err *e)
{
	struct dw dw = { 0 };
	struct dw_watch *watches = NULL;
	size_t nwatches = 0;
	CURLM *multi = NULL;
	char ks_ns[254] = "", ks_name[254] = "", ks_version[16] = "", why[512] = "";
	long long deadline = clock_now_ms() + o->timeout_ms;
	int found = 0, rc = -1;

	dw.o = o;
	dw.f = f;
	dw.objs = calloc(o->nworkloads + 1, sizeof(*dw.objs));
	dw.subjects = calloc(o->nworkloads + 1, sizeof(*dw.subjects));
	/* a Kustomization, each workload, the pods of each workload's namespace */
	watches = calloc(2 * o->nworkloads + 1, sizeof(*watches));
	multi = curl_multi_init();
	if (!dw.objs || !dw.subjects || !watches || !multi) {
		err_set(e, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < o->nworkloads; i++) {
		char *k = dw.subjects[1 + i].name;

		snprintf(k, sizeof(dw.subjects[0].name), "%s/%s", o->workloads[i].kind,
			 o->workloads[i].name);
		for (; *k && *k != '/'; k++)
			*k = (char)tolower((unsigned char)*k);
	}

	if (find_kustomization(kc, o->dir, ks_ns, ks_name, sizeof(ks_ns), ks_version,
			       sizeof(ks_version), why, sizeof(why), &found, e) < 0)
		goto out;
	if (found) {
		char path[512], query[300];

		dw.flux = 1;
		snprintf(dw.ks_subject, sizeof(dw.ks_subject), "%s/%s", ks_ns, ks_name);
		snprintf(dw.subjects[0].name, sizeof(dw.subjects[0].name), "kustomization/%.280s", dw.ks_subject);
		snprintf(path, sizeof(path), "/apis/" FLUX_GROUP "/%s/namespaces/%s/kustomizations",
			 ks_version, ks_ns);
		snprintf(query, sizeof(query), "fieldSelector=metadata.name%%3D%s", ks_name);
		add_watch(&watches[nwatches++], &dw, kc, multi, DW_KUSTOMIZATION, 0, path,
			  query, "kustomizations", e);
	} else {
		snprintf(dw.subjects[0].name, sizeof(dw.subjects[0].name), "flux");
		report(&dw, &dw.subjects[0], "sync", "skipped", why);
	}
	for (size_t i = 0; i < o->nworkloads; i++) {
		const struct deploywait_workload *wl = &o->workloads[i];
		char path[512], query[300];
		int seen = 0;

		if (!plain_name(wl->namespace) || !plain_name(wl->name)) {
			err_set(e, "bad workload name '%s/%s'", wl->namespace, wl->name);
			goto out;
		}
		snprintf(path, sizeof(path), "/apis/apps/v1/namespaces/%s/%s", wl->namespace,
			 plural(wl->kind));
		snprintf(query, sizeof(query), "fieldSelector=metadata.name%%3D%s", wl->name);
		add_watch(&watches[nwatches++], &dw, kc, multi, DW_WORKLOAD, i, path, query,
			  plural(wl->kind), e);
		for (size_t j = 0; j < i; j++)
			seen |= !strcmp(o->workloads[j].namespace, wl->namespace);
		if (seen)
			continue;
		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods", wl->namespace);
		add_watch(&watches[nwatches++], &dw, kc, multi, DW_PODS, i, path, NULL, "pods", e);
	}
	for (size_t i = 0; i < nwatches; i++) {
		if (kubewatch_list(&watches[i].w, 1) < 0 || watches[i].w.failed)
			goto out;
	}
	evaluate(&dw);

	while (!dw.failed && !dw.done) {
		long long now = clock_now_ms();
		int running = 0, left;
		CURLMsg *msg;

		if (now >= deadline)
			break;
		for (size_t i = 0; i < nwatches; i++) {
			if (kubewatch_step(&watches[i].w) < 0 || watches[i].w.failed)
				goto out;
		}
		if (curl_multi_perform(multi, &running) != CURLM_OK) {
			err_set(e, "curl multi failed");
			goto out;
		}
		while ((msg = curl_multi_info_read(multi, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			for (size_t i = 0; i < nwatches; i++)
				if (kubewatch_done(&watches[i].w, msg->easy_handle, msg->data.result))
					break;
		}
		for (size_t i = 0; i < nwatches; i++)
			if (watches[i].w.failed)
				goto out;
		if (dw.failed || dw.done)
			break;
		curl_multi_poll(multi, NULL, 0, (int)(deadline - now < 200 ? deadline - now : 200), NULL);
	}
	if (!dw.failed && !dw.done) {
		struct rollout_verdict v = { ROLLOUT_FAILED, "Timeout", "" };
		const struct dw_subject *s = &dw.subjects[0];
		const char *stage = "sync";

		if (!dw.flux || dw.synced) {
			stage = "rollout";
			for (size_t i = 0; i < o->nworkloads; i++)
				if (strcmp(dw.subjects[1 + i].state, "done")) {
					s = &dw.subjects[1 + i];
					break;
				}
		}
		snprintf(v.msg, sizeof(v.msg), "timed out after %llds: %.400s", o->timeout_ms / 1000,
			 *s->msg ? s->msg : "nothing seen");
		report(&dw, (struct dw_subject *)s, stage, "failed", v.msg);
		fail(&dw, stage, s->name, &v);
	}
	if (dw.failed) {
		for (size_t i = 0; i < nwatches; i++)
			kubewatch_release(&watches[i].w);
		nwatches = 0;
		collect(kc, &dw);
	}
	rc = dw.failed ? 1 : 0;
out:
	for (size_t i = 0; i < nwatches; i++)
		kubewatch_release(&watches[i].w);
	free(watches);
	if (multi)
		curl_multi_cleanup(multi);
	for (size_t i = 0; dw.objs && i < o->nworkloads; i++)
		json_decref(dw.objs[i]);
	free(dw.objs);
	free(dw.subjects);
	return rc;
}
