/*
 * saasctl status: the SaaS at a glance (see status.h).
 */
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "gitops.h"
#include "hc.h"
#include "logs.h"
#include "rollout.h"
#include "strbuf.h"

/* One collection of the cluster, listed once. */
struct source {
	const char *path;
	json_t *list;		/* the answer, or NULL */
	json_t *items;		/* borrowed from list */
	char state[256];	/* "ok", "not installed", "unreachable: ..." */
};

enum { SRC_DEPLOY, SRC_STS, SRC_DS, SRC_PODS, SRC_HPA, SRC_KS, SRC_CERT, SRC_N };

static const char *const paths[SRC_N] = {
	"/apis/apps/v1/deployments",
	"/apis/apps/v1/statefulsets",
	"/apis/apps/v1/daemonsets",
	"/api/v1/pods",
	"/apis/autoscaling/v2/horizontalpodautoscalers",
	"/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations",
	"/apis/cert-manager.io/v1/certificates",
};

const char *status_health_name(enum status_health h)
{
	return h == STATUS_FAILING ? "failing" : h == STATUS_DEGRADED ? "degraded" : "healthy";
}

static void worse(enum status_health *h, enum status_health x)
{
	if (x > *h)
		*h = x;
}

static const char *str(json_t *j)
{
	return json_is_string(j) ? json_string_value(j) : NULL;
}

static json_t *get(json_t *obj, const char *a, const char *b)
{
	obj = json_object_get(obj, a);
	return b ? json_object_get(obj, b) : obj;
}

static void fetch(struct kube_client *kc, const char *why, struct source *s)
{
	struct err e = { { 0 } };
	long status = 0;

	if (!kc) {
		snprintf(s->state, sizeof(s->state), "not configured: %s", why ? why : "no cluster");
		return;
	}
	if (kube_get_json(kc, s->path, &s->list, &status, &e) < 0) {
		if (status == 404)
			snprintf(s->state, sizeof(s->state), "not installed");
		else
			snprintf(s->state, sizeof(s->state), "unreachable: %.200s", e.msg);
		s->list = NULL;
		return;
	}
	s->items = json_object_get(s->list, "items");
	snprintf(s->state, sizeof(s->state), "ok");
}

/* The object of kind ns/name in a source, or NULL. */
static json_t *find(struct source *s, const char *ns, const char *name)
{
	json_t *item;
	size_t i;

	json_array_foreach(s->items, i, item) {
		json_t *meta = json_object_get(item, "metadata");
		const char *n = str(json_object_get(meta, "name"));
		const char *inns = str(json_object_get(meta, "namespace"));

		if (n && inns && !strcmp(n, name) && !strcmp(inns, ns))
			return item;
	}
	return NULL;
}

static int source_for(const char *kind)
{
	if (!strcmp(kind, "Deployment"))
		return SRC_DEPLOY;
	if (!strcmp(kind, "StatefulSet"))
		return SRC_STS;
	if (!strcmp(kind, "DaemonSet"))
		return SRC_DS;
	return -1;
}

/* The image the cluster object's pod template runs in container name. */
static const char *running_image(json_t *obj, const char *name, int init)
{
	json_t *spec = get(get(obj, "spec", "template"), "spec", NULL), *c;
	size_t i;

	json_array_foreach(json_object_get(spec, init ? "initContainers" : "containers"), i, c)
		if (str(json_object_get(c, "name")) && !strcmp(str(json_object_get(c, "name")), name))
			return str(json_object_get(c, "image"));
	return NULL;
}

static void add_state(json_t *o, const char *key, enum status_health h)
{
	json_object_set_new(o, key, json_string(status_health_name(h)));
}

/* "k=v,k2=v2" of matchLabels, for logs_labels_match(). */
static void selector_of(json_t *obj, struct strbuf *sb)
{
	json_t *ml = get(get(obj, "spec", "selector"), "matchLabels", NULL), *v;
	const char *k;

	strbuf_reset(sb);
	json_object_foreach(ml, k, v)
		strbuf_addf(sb, "%s%s=%s", sb->len ? "," : "", k, str(v) ? str(v) : "");
}

static json_t *workload_status(json_t *obj, const char *kind, const char *ns,
			       struct source *src, long long now,
			       enum status_health *h)
{
	struct rollout_verdict v = { 0 };
	struct strbuf sel = STRBUF_INIT;
	json_t *st = json_object_get(obj, "status"), *out, *pod, *hpa;
	long long ready, desired, restarts = 0;
	enum status_health wh = STATUS_HEALTHY;
	char stuck[600] = "";
	size_t i;

	rollout_workload(obj, &v);
	if (!strcmp(kind, "DaemonSet")) {
		ready = json_integer_value(json_object_get(st, "numberReady"));
		desired = json_integer_value(json_object_get(st, "desiredNumberScheduled"));
	} else {
		ready = json_integer_value(json_object_get(st, "readyReplicas"));
		desired = json_is_integer(get(obj, "spec", "replicas")) ?
			json_integer_value(get(obj, "spec", "replicas")) : 1;
	}
	selector_of(obj, &sel);
	json_array_foreach(src[SRC_PODS].items, i, pod) {
		json_t *cs;
		size_t j;
		struct rollout_verdict pv;
		char cname[254];

		if (!sel.len || !str(get(pod, "metadata", "namespace")) ||
		    strcmp(str(get(pod, "metadata", "namespace")), ns) ||
		    !logs_labels_match(sel.buf, get(pod, "metadata", "labels")))
			continue;
		json_array_foreach(get(get(pod, "status", NULL), "containerStatuses", NULL), j, cs) {
			const char *fin = str(get(get(cs, "lastState", "terminated"), "finishedAt", NULL));
			long long t;
			long ns_;

			if (fin && kube_parse_time(fin, &t, &ns_) == 0 && now - t < 3600)
				restarts++;
		}
		rollout_pod(pod, &pv, cname, sizeof(cname));
		if (pv.state == ROLLOUT_FAILED && !*stuck)
			snprintf(stuck, sizeof(stuck), "%s", pv.msg);
	}
	strbuf_release(&sel);
	if (v.state == ROLLOUT_FAILED || *stuck)
		wh = STATUS_FAILING;
	else if (v.state == ROLLOUT_WAITING || restarts || ready < desired)
		wh = STATUS_DEGRADED;
	out = json_pack("{s:s, s:s, s:I, s:I, s:I}",
			"rollout", v.state == ROLLOUT_DONE ? "complete" :
				   v.state == ROLLOUT_FAILED ? "failed" : "progressing",
			"message", v.msg, "ready", (json_int_t)ready,
			"desired", (json_int_t)desired, "restarts_1h", (json_int_t)restarts);
	if (*stuck)
		json_object_set_new(out, "stuck", json_string(stuck));
	json_array_foreach(src[SRC_HPA].items, i, hpa) {
		json_t *ref = get(hpa, "spec", "scaleTargetRef");
		const char *hns = str(get(hpa, "metadata", "namespace"));

		if (hns && !strcmp(hns, ns) && str(json_object_get(ref, "kind")) &&
		    !strcmp(str(json_object_get(ref, "kind")), kind) &&
		    str(json_object_get(ref, "name")) &&
		    !strcmp(str(json_object_get(ref, "name")), str(get(obj, "metadata", "name")))) {
			json_object_set_new(out, "hpa", json_pack("{s:I, s:I, s:I}",
				"current", json_integer_value(get(hpa, "status", "currentReplicas")),
				"desired", json_integer_value(get(hpa, "status", "desiredReplicas")),
				"max", json_integer_value(get(hpa, "spec", "maxReplicas"))));
			break;
		}
	}
	add_state(out, "health", wh);
	worse(h, wh);
	return out;
}

static json_t *app_images_workloads(const struct monorepo_app *app,
				    struct source *src, long long now,
				    json_t **workloads, enum status_health *h)
{
	json_t *images = json_array();

	*workloads = json_array();
	for (size_t w = 0; w < app->nworkloads; w++) {
		const struct monorepo_workload *wl = &app->workloads[w];
		const char *kind = wl->res->kind, *name = wl->res->name;
		const char *ns = wl->res->namespace ? wl->res->namespace : app->namespace;
		int si = kind ? source_for(kind) : -1;
		json_t *obj = NULL;
		char subject[300];

		if (si < 0 || !name)
			continue;
		snprintf(subject, sizeof(subject), "%s/%s", kind, name);
		for (char *p = subject; *p && *p != '/'; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		if (!strcmp(src[si].state, "ok"))
			obj = find(&src[si], ns, name);
		for (size_t c = 0; c < wl->ncontainers; c++) {
			const struct monorepo_container *mc = &wl->containers[c];
			const char *run = obj ? running_image(obj, mc->name, mc->init) : NULL;
			int drift = obj && mc->image && (!run || strcmp(run, mc->image));
			json_t *img = json_pack("{s:s, s:s, s:s?, s:b}", "workload", subject,
						"container", mc->name ? mc->name : "",
						"pinned", mc->image, "drift", drift);

			/* null: not in the cluster; absent: the cluster was not read */
			if (!strcmp(src[si].state, "ok"))
				json_object_set_new(img, "running", run ? json_string(run) : json_null());
			json_array_append_new(images, img);
			if (drift)
				worse(h, STATUS_DEGRADED);
		}
		if (obj) {
			json_t *ws = workload_status(obj, kind, ns, src, now, h);

			json_object_set_new(ws, "name", json_string(subject));
			json_array_append_new(*workloads, ws);
		} else if (!strcmp(src[si].state, "ok")) {
			json_array_append_new(*workloads, json_pack("{s:s, s:s, s:s}", "name", subject,
				"rollout", "missing", "health", "failing"));
			worse(h, STATUS_FAILING);
		}
	}
	return images;
}

static json_t *app_flux(const struct monorepo_app *app, struct source *ks,
			const char *head, const char *origin, enum status_health *h)
{
	json_t *best = NULL, *item, *out, *ready = NULL, *c;
	int bestn = -1;
	size_t i;
	const char *rev, *rs;
	enum status_health fh = STATUS_HEALTHY;

	if (strcmp(ks->state, "ok"))
		return json_pack("{s:s}", "state", ks->state);
	json_array_foreach(ks->items, i, item) {
		int n = rollout_kustomization_covers(item, app->dir);

		if (n > bestn) {
			bestn = n;
			best = item;
		}
	}
	if (!best)
		return json_pack("{s:s}", "state", "no kustomization covers the app");
	json_array_foreach(get(get(best, "status", NULL), "conditions", NULL), i, c)
		if (str(json_object_get(c, "type")) && !strcmp(str(json_object_get(c, "type")), "Ready"))
			ready = c;
	rev = str(get(best, "status", "lastAppliedRevision"));
	rs = ready ? str(json_object_get(ready, "status")) : NULL;
	out = json_pack("{s:s, s:s+++, s:s?, s:s?, s:s?, s:s?, s:s?}", "state", "ok",
			"kustomization", str(get(best, "metadata", "namespace")) ?: "", "/", "",
			str(get(best, "metadata", "name")) ?: "",
			"revision", rev, "ready", rs ? rs : "Unknown",
			"message", ready ? str(json_object_get(ready, "message")) : NULL,
			"head", head, "origin", origin);
	if (rs && !strcmp(rs, "False"))
		fh = STATUS_FAILING;
	else if (!rev || (origin && !strstr(rev, origin)) || !rs || strcmp(rs, "True"))
		fh = STATUS_DEGRADED;
	json_object_set_new(out, "at_origin", json_boolean(rev && origin && strstr(rev, origin)));
	add_state(out, "health", fh);
	worse(h, fh);
	return out;
}

static json_t *app_certs(const struct monorepo_app *app, struct source *certs,
			 long long now, enum status_health *h)
{
	json_t *out = json_array(), *cert, *name;
	size_t i, j;

	if (strcmp(certs->state, "ok"))
		return out;
	json_array_foreach(certs->items, i, cert) {
		const char *host = NULL;

		json_array_foreach(get(cert, "spec", "dnsNames"), j, name) {
			for (size_t g = 0; g < app->ningresses && !host; g++) {
				const struct monorepo_ingress *in = &app->ingresses[g];

				for (size_t k = 0; k < in->nhosts && !host; k++)
					if (str(name) && !strcmp(in->hosts[k], str(name)))
						host = in->hosts[k];
				for (size_t k = 0; k < in->ntls_hosts && !host; k++)
					if (str(name) && !strcmp(in->tls_hosts[k], str(name)))
						host = in->tls_hosts[k];
			}
		}
		if (!host)
			continue;
		{
			const char *na = str(get(cert, "status", "notAfter"));
			long long t = 0;
			long nsec;
			enum status_health ch = STATUS_HEALTHY;
			json_t *o = json_pack("{s:s+++, s:s, s:s?}", "name",
					      str(get(cert, "metadata", "namespace")) ?: "", "/", "",
					      str(get(cert, "metadata", "name")) ?: "",
					      "host", host, "not_after", na);

			if (na && kube_parse_time(na, &t, &nsec) == 0) {
				long long days = (t - now) / 86400;

				json_object_set_new(o, "days_left", json_integer(days));
				if (t <= now)
					ch = STATUS_FAILING;
				else if (days < STATUS_CERT_WARN_DAYS)
					ch = STATUS_DEGRADED;
			} else {
				ch = STATUS_DEGRADED;	/* not issued yet */
			}
			add_state(o, "health", ch);
			worse(h, ch);
			json_array_append_new(out, o);
		}
	}
	return out;
}

static json_t *healthchecks(struct monorepo *repo, enum status_health *h)
{
	struct hc hc;
	struct err e = { { 0 } };
	json_t *want = NULL, *have = NULL, *out = NULL, *w, *c;
	size_t i, j;

	if (hc_config_checks(repo, &want, &e) < 0 || !json_array_size(want)) {
		json_decref(want);
		return json_pack("{s:s}", "state", "not configured");
	}
	memset(&hc, 0, sizeof(hc));
	if (hc_init(&hc, repo, &e) < 0 || !hc.api_key) {
		hc_release(&hc);
		json_decref(want);
		return json_pack("{s:s}", "state", "not configured: HC_API_KEY is not set");
	}
	if (hc_api(&hc, "GET", "checks/", NULL, &have, &e) < 0) {
		out = json_pack("{s:s+}", "state", "unreachable: ", e.msg);
		goto out;
	}
	out = json_pack("{s:s, s:[]}", "state", "ok", "checks");
	json_array_foreach(want, i, w) {
		const char *name = str(json_object_get(w, "name"));
		const char *status = "missing";
		enum status_health ch;

		json_array_foreach(json_object_get(have, "checks"), j, c) {
			const char *cn = str(json_object_get(c, "name"));
			const char *slug = str(json_object_get(c, "slug"));

			if ((cn && name && !strcmp(cn, name)) ||
			    (slug && str(json_object_get(w, "slug")) && !strcmp(slug, str(json_object_get(w, "slug")))))
				status = str(json_object_get(c, "status")) ?: "unknown";
		}
		ch = !strcmp(status, "down") || !strcmp(status, "missing") ? STATUS_FAILING :
		     !strcmp(status, "grace") ? STATUS_DEGRADED : STATUS_HEALTHY;
		worse(h, ch);
		json_array_append_new(json_object_get(out, "checks"),
				      json_pack("{s:s?, s:s, s:s}", "name", name, "status", status,
						"health", status_health_name(ch)));
	}
out:
	json_decref(want);
	json_decref(have);
	hc_release(&hc);
	return out;
}

/* {id, time, age_seconds} of an RFC 3339 time; degraded past max_days. */
static json_t *aged(const char *id, const char *time, long long now,
		    int max_days, enum status_health *h)
{
	long long t;
	long nsec;
	json_t *o = json_pack("{s:s, s:s}", "backup", id, "time", time);

	if (kube_parse_time(time, &t, &nsec) == 0)
		json_object_set_new(o, "age_seconds", json_integer(now - t));
	if (kube_parse_time(time, &t, &nsec) < 0 || now - t > (long long)max_days * 86400)
		worse(h, STATUS_DEGRADED);
	return o;
}

static json_t *backups(const struct status_options *o, enum status_health *all)
{
	struct store *st = NULL;
	struct backup_infos l = { 0 };
	struct drill_record dr;
	const struct backup_info *newest = NULL;
	long long newest_t = 0;
	struct err e = { { 0 } };
	enum status_health bh = STATUS_HEALTHY;
	json_t *out = NULL;
	int found = 0;

	if (!o->store_url || !*o->store_url)
		return json_pack("{s:s}", "state", "not configured");
	if (store_open(&st, o->store_url, &e) < 0 || backup_list(st, &l, &e) < 0 ||
	    backup_last_drill(st, &dr, &found, &e) < 0) {
		/* a store that cannot be read hides a backup that stopped */
		worse(all, STATUS_DEGRADED);
		out = json_pack("{s:s+, s:s}", "state", "unreachable: ", e.msg,
				"store", o->store_url);
		goto out;
	}
	out = json_pack("{s:s, s:s}", "state", "ok", "store", store_url(st));
	/* by time, not by ID: --id names backups freely */
	for (size_t i = 0; i < l.n; i++) {
		long long t;
		long nsec;

		if (!l.v[i].complete || l.v[i].pruned ||
		    kube_parse_time(l.v[i].time, &t, &nsec) < 0)
			continue;
		if (!newest || t >= newest_t) {
			newest = &l.v[i];
			newest_t = t;
		}
	}
	if (newest) {
		json_object_set_new(out, "newest", aged(newest->id, newest->time, o->now,
							STATUS_BACKUP_MAX_DAYS, &bh));
	} else {
		json_object_set_new(out, "newest", json_null());
		worse(&bh, STATUS_DEGRADED);
	}
	if (found) {
		json_t *d = aged(dr.id, dr.time, o->now, STATUS_DRILL_MAX_DAYS, &bh);

		json_object_set_new(d, "verdict", json_string(dr.ok ? "ok" : "failed"));
		json_object_set_new(d, "summary", json_string(dr.summary));
		json_object_set_new(out, "drill", d);
		if (!dr.ok)
			worse(&bh, STATUS_DEGRADED);
	} else {
		json_object_set_new(out, "drill", json_null());
		worse(&bh, STATUS_DEGRADED);
	}
	add_state(out, "health", bh);
	worse(all, bh);
out:
	backup_infos_release(&l);
	store_close(st);
	return out;
}

int status_collect(struct monorepo *repo, const struct status_options *o,
		   json_t **out, enum status_health *health, struct err *e)
{
	struct source src[SRC_N];
	struct gitops *g = NULL;
	char head[41] = "", origin[41] = "";
	json_t *doc = NULL, *apps = json_array(), *sources = json_object();
	enum status_health all = STATUS_HEALTHY;
	int rc = -1;

	*out = NULL;
	for (size_t i = 0; i < o->napps; i++)
		if (!monorepo_app(repo, o->apps[i])) {
			err_set(e, "no app '%s' in manifests/apps/", o->apps[i]);
			goto out;
		}
	memset(src, 0, sizeof(src));
	for (int i = 0; i < SRC_N; i++) {
		src[i].path = paths[i];
		fetch(o->kc, o->kube_error, &src[i]);
	}
	if (gitops_open(&g, repo->root, e) == 0) {
		git_oid id;
		char ref[300];

		if (gitops_head(g, &id, e) == 0)
			git_oid_tostr(head, sizeof(head), &id);
		snprintf(ref, sizeof(ref), "refs/remotes/origin/%s", g->branch ? g->branch : "main");
		if (gitops_resolve(g, ref, &id, e) == 0)
			git_oid_tostr(origin, sizeof(origin), &id);
	}
	err_clear(e);
	json_object_set_new(sources, "cluster", json_string(
		!o->kc ? "not configured" : strncmp(src[SRC_DEPLOY].state, "unreachable", 11) ? "ok" :
		src[SRC_DEPLOY].state));
	/* an unreachable cluster is no news to call healthy */
	if (o->kc && !strncmp(src[SRC_DEPLOY].state, "unreachable", 11))
		worse(&all, STATUS_DEGRADED);
	json_object_set_new(sources, "flux", json_string(src[SRC_KS].state));
	json_object_set_new(sources, "cert-manager", json_string(src[SRC_CERT].state));
	json_object_set_new(sources, "hpa", json_string(src[SRC_HPA].state));
	for (size_t a = 0; a < repo->napps; a++) {
		const struct monorepo_app *app = &repo->apps[a];
		enum status_health h = STATUS_HEALTHY;
		json_t *workloads, *images, *j;
		int want = !o->napps;

		for (size_t i = 0; i < o->napps; i++)
			want |= !strcmp(o->apps[i], app->name);
		if (!want)
			continue;
		images = app_images_workloads(app, src, o->now, &workloads, &h);
		j = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "name", app->name,
			      "namespace", app->namespace ? app->namespace : app->name,
			      "images", images,
			      "flux", app_flux(app, &src[SRC_KS], head[0] ? head : NULL,
					       origin[0] ? origin : NULL, &h),
			      "workloads", workloads,
			      "certificates", app_certs(app, &src[SRC_CERT], o->now, &h));
		add_state(j, "health", h);
		worse(&all, h);
		json_array_append_new(apps, j);
	}
	doc = json_pack("{s:o, s:o, s:o, s:o}", "apps", apps, "sources", sources,
			"healthchecks", healthchecks(repo, &all),
			"backups", backups(o, &all));
	apps = sources = NULL;
	add_state(doc, "health", all);
	*out = doc;
	*health = all;
	rc = 0;
out:
	json_decref(apps);
	json_decref(sources);
	for (int i = 0; rc == 0 && i < SRC_N; i++)
		json_decref(src[i].list);
	gitops_free(g);
	return rc;
}
