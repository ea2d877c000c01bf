#include "rollout.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* obj[a][b]... (NULL-terminated keys), or NULL. */
static json_t *at(json_t *obj, ...)
{
	va_list ap;
	const char *k;

	va_start(ap, obj);
	while (obj && (k = va_arg(ap, const char *)))
		obj = json_object_get(obj, k);
	va_end(ap);
	return obj;
}

/* An integer field, 0 when absent (Go's zero value, as kubectl reads it). */
static long long num(json_t *j)
{
	return json_is_integer(j) ? json_integer_value(j) : 0;
}

static const char *str(json_t *j)
{
	return json_is_string(j) ? json_string_value(j) : "";
}

static void set(struct rollout_verdict *v, enum rollout_state s,
		const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void set(struct rollout_verdict *v, enum rollout_state s,
		const char *reason, const char *fmt, ...)
{
	va_list ap;

	v->state = s;
	snprintf(v->reason, sizeof(v->reason), "%s", reason ? reason : "");
	va_start(ap, fmt);
	vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
	va_end(ap);
}

/* The condition of a type in status.conditions, or NULL. */
static json_t *condition(json_t *obj, const char *type)
{
	json_t *conds = at(obj, "status", "conditions", NULL), *c;
	size_t i;

	json_array_foreach(conds, i, c)
		if (!strcmp(str(json_object_get(c, "type")), type))
			return c;
	return NULL;
}

static void deployment(json_t *d, const char *name, struct rollout_verdict *v)
{
	json_t *st = json_object_get(d, "status");
	json_t *replicas = at(d, "spec", "replicas", NULL), *c;
	long long updated = num(json_object_get(st, "updatedReplicas"));
	long long total = num(json_object_get(st, "replicas"));
	long long avail = num(json_object_get(st, "availableReplicas"));

	if (num(at(d, "metadata", "generation", NULL)) >
	    num(json_object_get(st, "observedGeneration"))) {
		set(v, ROLLOUT_WAITING, NULL, "Waiting for deployment spec update to be observed...");
		return;
	}
	c = condition(d, "Progressing");
	if (c && !strcmp(str(json_object_get(c, "reason")), "ProgressDeadlineExceeded")) {
		set(v, ROLLOUT_FAILED, "ProgressDeadlineExceeded",
		    "deployment \"%s\" exceeded its progress deadline", name);
		return;
	}
	if (json_is_integer(replicas) && updated < json_integer_value(replicas))
		set(v, ROLLOUT_WAITING, NULL,
		    "Waiting for deployment \"%s\" rollout to finish: %lld out of %lld new replicas have been updated...",
		    name, updated, (long long)json_integer_value(replicas));
	else if (total > updated)
		set(v, ROLLOUT_WAITING, NULL,
		    "Waiting for deployment \"%s\" rollout to finish: %lld old replicas are pending termination...",
		    name, total - updated);
	else if (avail < updated)
		set(v, ROLLOUT_WAITING, NULL,
		    "Waiting for deployment \"%s\" rollout to finish: %lld of %lld updated replicas are available...",
		    name, avail, updated);
	else
		set(v, ROLLOUT_DONE, NULL, "deployment \"%s\" successfully rolled out", name);
}

/* The API server defaults the strategy to RollingUpdate. */
static int rolling(json_t *obj, struct rollout_verdict *v)
{
	const char *type = str(at(obj, "spec", "updateStrategy", "type", NULL));

	if (*type && strcmp(type, "RollingUpdate")) {
		set(v, ROLLOUT_FAILED, "NotRollingUpdate",
		    "rollout status is only available for RollingUpdate strategy type");
		return 0;
	}
	return 1;
}

static void statefulset(json_t *s, struct rollout_verdict *v)
{
	json_t *st = json_object_get(s, "status");
	json_t *replicas = at(s, "spec", "replicas", NULL);
	json_t *ru = at(s, "spec", "updateStrategy", "rollingUpdate", NULL);
	long long observed = num(json_object_get(st, "observedGeneration"));
	long long ready = num(json_object_get(st, "readyReplicas"));
	long long updated = num(json_object_get(st, "updatedReplicas"));
	const char *urev = str(json_object_get(st, "updateRevision"));
	const char *crev = str(json_object_get(st, "currentRevision"));

	if (!rolling(s, v))
		return;
	if (!observed || num(at(s, "metadata", "generation", NULL)) > observed) {
		set(v, ROLLOUT_WAITING, NULL, "Waiting for statefulset spec update to be observed...");
		return;
	}
	if (json_is_integer(replicas) && ready < json_integer_value(replicas)) {
		set(v, ROLLOUT_WAITING, NULL, "Waiting for %lld pods to be ready...",
		    (long long)json_integer_value(replicas) - ready);
		return;
	}
	if (json_is_object(ru)) {
		json_t *part = json_object_get(ru, "partition");

		if (json_is_integer(replicas) && json_is_integer(part) &&
		    updated < json_integer_value(replicas) - json_integer_value(part)) {
			set(v, ROLLOUT_WAITING, NULL,
			    "Waiting for partitioned roll out to finish: %lld out of %lld new pods have been updated...",
			    updated, (long long)(json_integer_value(replicas) - json_integer_value(part)));
			return;
		}
		set(v, ROLLOUT_DONE, NULL,
		    "partitioned roll out complete: %lld new pods have been updated...", updated);
		return;
	}
	if (strcmp(urev, crev))
		set(v, ROLLOUT_WAITING, NULL,
		    "waiting for statefulset rolling update to complete %lld pods at revision %s...",
		    updated, urev);
	else
		set(v, ROLLOUT_DONE, NULL,
		    "statefulset rolling update complete %lld pods at revision %s...",
		    num(json_object_get(st, "currentReplicas")), crev);
}

static void daemonset(json_t *d, const char *name, struct rollout_verdict *v)
{
	json_t *st = json_object_get(d, "status");
	long long desired = num(json_object_get(st, "desiredNumberScheduled"));
	long long updated = num(json_object_get(st, "updatedNumberScheduled"));
	long long avail = num(json_object_get(st, "numberAvailable"));

	if (!rolling(d, v))
		return;
	if (num(at(d, "metadata", "generation", NULL)) >
	    num(json_object_get(st, "observedGeneration")))
		set(v, ROLLOUT_WAITING, NULL, "Waiting for daemon set spec update to be observed...");
	else if (updated < desired)
		set(v, ROLLOUT_WAITING, NULL,
		    "Waiting for daemon set \"%s\" rollout to finish: %lld out of %lld new pods have been updated...",
		    name, updated, desired);
	else if (avail < desired)
		set(v, ROLLOUT_WAITING, NULL,
		    "Waiting for daemon set \"%s\" rollout to finish: %lld of %lld updated pods are available...",
		    name, avail, desired);
	else
		set(v, ROLLOUT_DONE, NULL, "daemon set \"%s\" successfully rolled out", name);
}

int rollout_workload(json_t *obj, struct rollout_verdict *v)
{
	const char *kind = str(json_object_get(obj, "kind"));
	const char *name = str(at(obj, "metadata", "name", NULL));

	if (!strcmp(kind, "Deployment"))
		deployment(obj, name, v);
	else if (!strcmp(kind, "StatefulSet"))
		statefulset(obj, v);
	else if (!strcmp(kind, "DaemonSet"))
		daemonset(obj, name, v);
	else {
		set(v, ROLLOUT_FAILED, "UnknownKind", "no rollout status for kind '%s'", kind);
		return -1;
	}
	return 0;
}

static const char *const stuck[] = {
	"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull",
	"CreateContainerConfigError", "InvalidImageName", NULL,
};

/* One container status; 1 when it fails the pod. */
static int container(json_t *cs, const char *pod, struct rollout_verdict *v)
{
	const char *name = str(json_object_get(cs, "name"));
	json_t *w = at(cs, "state", "waiting", NULL);
	json_t *t = at(cs, "state", "terminated", NULL);
	json_t *lt = at(cs, "lastState", "terminated", NULL);
	const char *reason = str(json_object_get(w, "reason"));

	for (size_t i = 0; *reason && stuck[i]; i++) {
		if (strcmp(reason, stuck[i]))
			continue;
		if (!strcmp(reason, "CrashLoopBackOff") &&
		    !strcmp(str(json_object_get(lt, "reason")), "OOMKilled"))
			reason = "OOMKilled";
		set(v, ROLLOUT_FAILED, reason, "pod '%s' container '%s': %s%s%s", pod,
		    name, reason, json_object_get(w, "message") ? ": " : "",
		    str(json_object_get(w, "message")));
		return 1;
	}
	if (!strcmp(str(json_object_get(t, "reason")), "OOMKilled") ||
	    !strcmp(str(json_object_get(lt, "reason")), "OOMKilled")) {
		set(v, ROLLOUT_FAILED, "OOMKilled",
		    "pod '%s' container '%s': OOMKilled (restarts: %lld)", pod, name,
		    num(json_object_get(cs, "restartCount")));
		return 1;
	}
	return 0;
}

void rollout_pod(json_t *pod, struct rollout_verdict *v, char *cname,
		 size_t size)
{
	static const char *const lists[] = { "initContainerStatuses", "containerStatuses" };
	const char *name = str(at(pod, "metadata", "name", NULL));

	set(v, ROLLOUT_WAITING, NULL, "pod '%s'", name);
	if (size)
		cname[0] = '\0';
	for (size_t l = 0; l < 2; l++) {
		json_t *a = at(pod, "status", lists[l], NULL), *cs;
		size_t i;

		json_array_foreach(a, i, cs) {
			if (container(cs, name, v)) {
				if (size)
					snprintf(cname, size, "%s", str(json_object_get(cs, "name")));
				return;
			}
		}
	}
}

int rollout_pod_runs(json_t *pod, const char *image)
{
	static const char *const lists[] = { "initContainers", "containers" };

	for (size_t l = 0; l < 2; l++) {
		json_t *a = at(pod, "spec", lists[l], NULL), *c;
		size_t i;

		json_array_foreach(a, i, c)
			if (!strcmp(str(json_object_get(c, "image")), image))
				return 1;
	}
	return 0;
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return m && n >= m && !strcmp(s + n - m, tail);
}

void rollout_kustomization(json_t *ks, const char *sha,
			   struct rollout_verdict *v)
{
	json_t *st = json_object_get(ks, "status");
	const char *applied = str(json_object_get(st, "lastAppliedRevision"));
	const char *attempted = str(json_object_get(st, "lastAttemptedRevision"));
	json_t *ready = condition(ks, "Ready");
	const char *rs = str(json_object_get(ready, "status"));
	const char *reason = str(json_object_get(ready, "reason"));
	const char *msg = str(json_object_get(ready, "message"));
	const char *name = str(at(ks, "metadata", "name", NULL));

	if (ends_with(applied, sha) && !strcmp(rs, "True")) {
		set(v, ROLLOUT_DONE, NULL, "kustomization '%s' applied %s", name, applied);
		return;
	}
	if (!strcmp(rs, "False") && ends_with(attempted, sha) &&
	    strcmp(reason, "Progressing") && strcmp(reason, "DependencyNotReady")) {
		set(v, ROLLOUT_FAILED, *reason ? reason : "NotReady",
		    "kustomization '%s' failed %s: %s", name, attempted,
		    *msg ? msg : "Ready=False");
		return;
	}
	if (*applied)
		set(v, ROLLOUT_WAITING, NULL, "kustomization '%s' at %s, waiting for %.7s",
		    name, applied, sha);
	else
		set(v, ROLLOUT_WAITING, NULL, "kustomization '%s' has applied nothing yet, waiting for %.7s",
		    name, sha);
}

int rollout_kustomization_covers(json_t *ks, const char *dir)
{
	const char *p = str(at(ks, "spec", "path", NULL));
	size_t n;

	while (p[0] == '.' && (p[1] == '/' || !p[1]))
		p += p[1] ? 2 : 1;
	while (*p == '/')
		p++;
	n = strlen(p);
	while (n && p[n - 1] == '/')
		n--;
	if (!n)
		return 0;	/* the repository's root covers everything */
	if (strncmp(dir, p, n) || (dir[n] && dir[n] != '/'))
		return -1;
	return (int)n;
}
