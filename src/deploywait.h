#ifndef SAASCTL_DEPLOYWAIT_H
#define SAASCTL_DEPLOYWAIT_H

/*
 * Follow a pushed deploy into the cluster (`saasctl deploy --wait`), in
 * two stages, every verdict from src/rollout:
 *
 *   sync     the Flux Kustomization whose spec.path covers the app's
 *            folder (the closest one) applies the commit. Skipped, and
 *            said so, when Flux is not installed (no Kustomization
 *            resource served) or no Kustomization covers the folder.
 *   rollout  every workload given completes its rollout as `kubectl
 *            rollout status` decides it, once its pod template runs the
 *            new image (so a workload Flux has not updated yet never
 *            counts as rolled out). Without Flux this is the only sign
 *            that the commit reached the cluster.
 *
 * A pod that runs the new image and is stuck (CrashLoopBackOff,
 * ImagePullBackOff, OOMKilled ...) fails the deploy at once, as does a
 * Kustomization failing the commit, a ProgressDeadlineExceeded, or the
 * timeout. Everything is watched (list, then watch from the
 * resourceVersion, bookmarks, 410 relist: src/kubewatch) on one curl
 * multi handle; nothing polls.
 *
 * On failure the failing pod's recent Events and the last 20 log lines
 * of the failing container (src/logs) are collected for the caller.
 */

#include <stddef.h>

#include "err.h"
#include "kube.h"
#include "strbuf.h"

#define DEPLOYWAIT_LOG_LINES 20
#define DEPLOYWAIT_EVENTS 10

struct deploywait_workload {
	const char *kind;	/* "Deployment", "StatefulSet", "DaemonSet" */
	const char *namespace;
	const char *name;
};

struct deploywait_event {
	const char *stage;	/* "sync" or "rollout" */
	const char *subject;	/* "flux-system/apps", "deployment/web" */
	const char *state;	/* "waiting", "skipped", "done", "failed" */
	const char *msg;
};

struct deploywait_options {
	const char *sha;		/* the pushed commit, 40 hex digits */
	const char *image;		/* the image deployed */
	const char *dir;		/* the app's folder, relative to the root */
	const struct deploywait_workload *workloads;
	size_t nworkloads;
	long long timeout_ms;
	/* Each change of a subject's state or message; may be NULL. */
	void (*event)(void *ud, const struct deploywait_event *ev);
	void *ud;
};

struct deploywait_failure {
	char stage[16];		/* "sync" or "rollout" */
	char subject[300];
	char reason[64];	/* "CrashLoopBackOff", "BuildFailed", "Timeout" ... */
	char msg[1024];
	char namespace[254];	/* the failing pod, when a pod failed */
	char pod[254];
	char container[254];
	struct strbuf events;	/* "Warning BackOff: ..." one per line, oldest first */
	struct strbuf logs;	/* the container's last lines */
};

struct monorepo_app;

/*
 * The Deployments, StatefulSets and DaemonSets of app with a container
 * of image's repository: the workloads a deploy of image changes. The
 * array points into app; the caller frees it.
 */
int deploywait_workloads(const struct monorepo_app *app, const char *image,
			 struct deploywait_workload **out, size_t *n,
			 struct err *e);

void deploywait_failure_init(struct deploywait_failure *f);
void deploywait_failure_release(struct deploywait_failure *f);

/*
 * Returns 0 when every stage succeeded, 1 when the deploy failed (f says
 * how), -1 when the cluster could not be watched (e says why).
 */
int deploywait_run(struct kube_client *kc, const struct deploywait_options *o,
		   struct deploywait_failure *f, struct err *e);

#endif
