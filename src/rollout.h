#ifndef SAASCTL_ROLLOUT_H
#define SAASCTL_ROLLOUT_H

/*
 * Did a deploy work? Verdicts on API objects as they come from the
 * Kubernetes API (jansson), with no I/O: the caller watches the objects
 * and asks again on every change.
 *
 * Workloads are judged exactly as `kubectl rollout status` judges them
 * (kubernetes/kubectl pkg/polymorphichelpers/rollout_status.go, the
 * StatusViewer of each kind), and the message is kubectl's wording:
 *
 *   Deployment   nothing until status.observedGeneration >= generation;
 *                then a Progressing condition with reason
 *                ProgressDeadlineExceeded fails it; it waits while
 *                updatedReplicas < spec.replicas, while replicas >
 *                updatedReplicas (old replicas pending termination) and
 *                while availableReplicas < updatedReplicas.
 *   StatefulSet  only RollingUpdate (OnDelete is an error, as kubectl's);
 *                observedGeneration set and current; readyReplicas >=
 *                spec.replicas; with spec.updateStrategy.rollingUpdate
 *                (the API server always defaults it) done once
 *                updatedReplicas >= replicas - partition; without it
 *                done once updateRevision == currentRevision.
 *   DaemonSet    only RollingUpdate; observedGeneration current;
 *                updatedNumberScheduled and numberAvailable reach
 *                desiredNumberScheduled.
 *
 * kubectl has no opinion on pods; a deploy fails at once when a pod of
 * the new version is stuck in a state that will not heal by waiting:
 * CrashLoopBackOff, ImagePullBackOff, ErrImagePull,
 * CreateContainerConfigError, InvalidImageName, or a container OOMKilled.
 *
 * Flux: a Kustomization (kustomize.toolkit.fluxcd.io) has applied a
 * commit when status.lastAppliedRevision ends with the SHA ("main@sha1:
 * <sha>" since Flux 2.1, "main/<sha>" before) and its Ready condition is
 * True. Ready=False with lastAttemptedRevision at the SHA is Flux
 * failing that very commit (a build or apply error); a Ready=False left
 * from an older revision is waited past.
 */

#include <stddef.h>

#include <jansson.h>

enum rollout_state {
	ROLLOUT_WAITING,
	ROLLOUT_DONE,
	ROLLOUT_FAILED,
};

struct rollout_verdict {
	enum rollout_state state;
	char reason[64];	/* FAILED: "ProgressDeadlineExceeded", "CrashLoopBackOff" ... */
	char msg[512];		/* kubectl's line, or why it failed */
};

/*
 * A Deployment, StatefulSet or DaemonSet (by its "kind"). Returns -1 for
 * another kind (v->msg says so).
 */
int rollout_workload(json_t *obj, struct rollout_verdict *v);

/*
 * A pod: FAILED with the reason when one of its containers (init
 * containers too) is in a state that will not heal; *container (size
 * bytes) names it. WAITING otherwise.
 */
void rollout_pod(json_t *pod, struct rollout_verdict *v, char *container,
		 size_t size);

/* Does any container of the pod's spec run image? */
int rollout_pod_runs(json_t *pod, const char *image);

/*
 * A Flux Kustomization against the commit sha (40 hex digits): DONE,
 * FAILED (reason and Flux's message) or WAITING.
 */
void rollout_kustomization(json_t *ks, const char *sha,
			   struct rollout_verdict *v);

/*
 * How well a Kustomization's spec.path ("./manifests/apps") covers a
 * folder of the repository ("manifests/apps/web"): the length of the
 * matching path (longer is closer), or -1 when it does not cover it.
 */
int rollout_kustomization_covers(json_t *ks, const char *dir);

#endif
