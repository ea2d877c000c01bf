/*
 * Rollout verdicts on object shapes copied from real API answers
 * (kubectl get -o json on a 1.29 cluster, trimmed to the fields read),
 * checked against what `kubectl rollout status` says of each.
 */
#include "unit.h"
#include "rollout.h"

static struct rollout_verdict v;

static json_t *J(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);

	if (!j)
		printf("# bad JSON: %s\n", je.text);
	return j;
}

static enum rollout_state W(const char *text)
{
	json_t *j = J(text);

	v.state = -1;
	rollout_workload(j, &v);
	json_decref(j);
	return v.state;
}

#define DEPLOY(gen, spec_replicas, status) \
	"{\"kind\": \"Deployment\", \"apiVersion\": \"apps/v1\", \"metadata\": {\"name\": \"web\", \"namespace\": \"acme\", \"generation\": " #gen ", \"annotations\": {\"deployment.kubernetes.io/revision\": \"4\"}}, " \
	"\"spec\": {\"replicas\": " #spec_replicas ", \"progressDeadlineSeconds\": 600, \"strategy\": {\"type\": \"RollingUpdate\", \"rollingUpdate\": {\"maxSurge\": \"25%\", \"maxUnavailable\": \"25%\"}}}, " \
	"\"status\": " status "}"

static void deployments(void)
{
	CHECK(W(DEPLOY(5, 3, "{\"observedGeneration\": 4, \"replicas\": 3, \"updatedReplicas\": 3, \"readyReplicas\": 3, \"availableReplicas\": 3}")) == ROLLOUT_WAITING,
	      "deployment: a spec not yet observed waits, even when the old one is complete");
	CHECK_STR(v.msg, "Waiting for deployment spec update to be observed...", "with kubectl's words");
	CHECK(W(DEPLOY(5, 3, "{\"observedGeneration\": 5, \"replicas\": 4, \"updatedReplicas\": 1, \"readyReplicas\": 3, \"availableReplicas\": 3, \"unavailableReplicas\": 1, "
		"\"conditions\": [{\"type\": \"Available\", \"status\": \"True\", \"reason\": \"MinimumReplicasAvailable\"}, {\"type\": \"Progressing\", \"status\": \"True\", \"reason\": \"ReplicaSetUpdated\", \"message\": \"ReplicaSet \\\"web-7d9c\\\" is progressing.\"}]}")) == ROLLOUT_WAITING,
	      "deployment: new replicas not all updated");
	CHECK_STR(v.msg, "Waiting for deployment \"web\" rollout to finish: 1 out of 3 new replicas have been updated...", "says how many are updated");
	CHECK(W(DEPLOY(5, 3, "{\"observedGeneration\": 5, \"replicas\": 4, \"updatedReplicas\": 3, \"availableReplicas\": 3}")) == ROLLOUT_WAITING,
	      "deployment: old replicas still running");
	CHECK_STR(v.msg, "Waiting for deployment \"web\" rollout to finish: 1 old replicas are pending termination...", "names the old replicas");
	CHECK(W(DEPLOY(5, 3, "{\"observedGeneration\": 5, \"replicas\": 3, \"updatedReplicas\": 3, \"availableReplicas\": 2}")) == ROLLOUT_WAITING,
	      "deployment: updated replicas not all available");
	CHECK_STR(v.msg, "Waiting for deployment \"web\" rollout to finish: 2 of 3 updated replicas are available...", "counts available ones");
	CHECK(W(DEPLOY(5, 3, "{\"observedGeneration\": 5, \"replicas\": 3, \"updatedReplicas\": 3, \"readyReplicas\": 3, \"availableReplicas\": 3, "
		"\"conditions\": [{\"type\": \"Progressing\", \"status\": \"True\", \"reason\": \"NewReplicaSetAvailable\"}]}")) == ROLLOUT_DONE,
	      "deployment: complete");
	CHECK_STR(v.msg, "deployment \"web\" successfully rolled out", "kubectl's success line");
	CHECK(W(DEPLOY(5, 3, "{\"observedGeneration\": 5, \"replicas\": 4, \"updatedReplicas\": 1, \"availableReplicas\": 3, "
		"\"conditions\": [{\"type\": \"Progressing\", \"status\": \"False\", \"reason\": \"ProgressDeadlineExceeded\", \"message\": \"ReplicaSet \\\"web-7d9c\\\" has timed out progressing.\"}]}")) == ROLLOUT_FAILED,
	      "deployment: ProgressDeadlineExceeded fails");
	CHECK_STR(v.reason, "ProgressDeadlineExceeded", "with the reason");
	CHECK_STR(v.msg, "deployment \"web\" exceeded its progress deadline", "and kubectl's message");
	CHECK(W(DEPLOY(6, 3, "{\"observedGeneration\": 5, \"conditions\": [{\"type\": \"Progressing\", \"status\": \"False\", \"reason\": \"ProgressDeadlineExceeded\"}]}")) == ROLLOUT_WAITING,
	      "deployment: an old deadline does not fail a spec not yet observed");
	CHECK(W(DEPLOY(2, 0, "{\"observedGeneration\": 2}")) == ROLLOUT_DONE, "deployment: scaled to zero is done");
	CHECK(W("{\"kind\": \"Deployment\", \"metadata\": {\"name\": \"w\", \"generation\": 1}, \"spec\": {}, \"status\": {\"observedGeneration\": 1, \"replicas\": 1, \"updatedReplicas\": 1, \"availableReplicas\": 1}}") == ROLLOUT_DONE,
	      "deployment: no spec.replicas skips that test, as kubectl does");
}

#define STS(gen, strategy, status) \
	"{\"kind\": \"StatefulSet\", \"apiVersion\": \"apps/v1\", \"metadata\": {\"name\": \"redis\", \"generation\": " #gen "}, " \
	"\"spec\": {\"replicas\": 3, \"updateStrategy\": " strategy "}, \"status\": " status "}"
#define RU "{\"type\": \"RollingUpdate\", \"rollingUpdate\": {\"partition\": 0}}"

static void statefulsets(void)
{
	CHECK(W(STS(3, RU, "{\"replicas\": 3, \"readyReplicas\": 3}")) == ROLLOUT_WAITING,
	      "statefulset: observedGeneration 0 waits");
	CHECK(W(STS(3, RU, "{\"observedGeneration\": 3, \"replicas\": 3, \"readyReplicas\": 2, \"updatedReplicas\": 1, \"currentRevision\": \"redis-5b4\", \"updateRevision\": \"redis-6c8\"}")) == ROLLOUT_WAITING,
	      "statefulset: pods not ready");
	CHECK_STR(v.msg, "Waiting for 1 pods to be ready...", "kubectl's words");
	CHECK(W(STS(3, "{\"type\": \"RollingUpdate\", \"rollingUpdate\": {\"partition\": 2}}",
		    "{\"observedGeneration\": 3, \"replicas\": 3, \"readyReplicas\": 3, \"updatedReplicas\": 0}")) == ROLLOUT_WAITING,
	      "statefulset: a partitioned rollout waits for the pods above the partition");
	CHECK_STR(v.msg, "Waiting for partitioned roll out to finish: 0 out of 1 new pods have been updated...", "counting them");
	CHECK(W(STS(3, RU, "{\"observedGeneration\": 3, \"replicas\": 3, \"readyReplicas\": 3, \"updatedReplicas\": 3, \"currentReplicas\": 3, \"currentRevision\": \"redis-6c8\", \"updateRevision\": \"redis-6c8\"}")) == ROLLOUT_DONE,
	      "statefulset: complete");
	CHECK_STR(v.msg, "partitioned roll out complete: 3 new pods have been updated...", "in kubectl's words for a defaulted strategy");
	CHECK(W(STS(3, "{\"type\": \"RollingUpdate\"}", "{\"observedGeneration\": 3, \"replicas\": 3, \"readyReplicas\": 3, \"updatedReplicas\": 1, \"currentRevision\": \"redis-5b4\", \"updateRevision\": \"redis-6c8\"}")) == ROLLOUT_WAITING,
	      "statefulset: without rollingUpdate the revisions must match");
	CHECK_STR(v.msg, "waiting for statefulset rolling update to complete 1 pods at revision redis-6c8...", "naming the revision");
	CHECK(W(STS(3, "{\"type\": \"OnDelete\"}", "{\"observedGeneration\": 3}")) == ROLLOUT_FAILED,
	      "statefulset: OnDelete has no rollout status");
}

#define DS(gen, status) \
	"{\"kind\": \"DaemonSet\", \"apiVersion\": \"apps/v1\", \"metadata\": {\"name\": \"agent\", \"generation\": " #gen "}, " \
	"\"spec\": {\"updateStrategy\": {\"type\": \"RollingUpdate\", \"rollingUpdate\": {\"maxUnavailable\": 1, \"maxSurge\": 0}}}, \"status\": " status "}"

static void daemonsets(void)
{
	CHECK(W(DS(2, "{\"observedGeneration\": 1, \"desiredNumberScheduled\": 3, \"updatedNumberScheduled\": 3, \"numberAvailable\": 3}")) == ROLLOUT_WAITING,
	      "daemonset: spec not observed");
	CHECK(W(DS(2, "{\"observedGeneration\": 2, \"currentNumberScheduled\": 3, \"desiredNumberScheduled\": 3, \"numberReady\": 2, \"updatedNumberScheduled\": 1, \"numberAvailable\": 2, \"numberUnavailable\": 1}")) == ROLLOUT_WAITING,
	      "daemonset: not all updated");
	CHECK_STR(v.msg, "Waiting for daemon set \"agent\" rollout to finish: 1 out of 3 new pods have been updated...", "kubectl's words");
	CHECK(W(DS(2, "{\"observedGeneration\": 2, \"desiredNumberScheduled\": 3, \"updatedNumberScheduled\": 3, \"numberAvailable\": 2}")) == ROLLOUT_WAITING,
	      "daemonset: not all available");
	CHECK(W(DS(2, "{\"observedGeneration\": 2, \"desiredNumberScheduled\": 3, \"updatedNumberScheduled\": 3, \"numberAvailable\": 3, \"numberReady\": 3}")) == ROLLOUT_DONE,
	      "daemonset: complete");
	CHECK(W("{\"kind\": \"Job\", \"metadata\": {\"name\": \"j\"}}") == ROLLOUT_FAILED, "a Job has no rollout status");
}

static const char *P(const char *statuses)
{
	static char cname[64];
	static char buf[4096];
	json_t *j;

	snprintf(buf, sizeof(buf),
		 "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"web-7d9c-x2x\"}, "
		 "\"spec\": {\"containers\": [{\"name\": \"web\", \"image\": \"ghcr.io/acme/web:v2\"}]}, "
		 "\"status\": {\"phase\": \"Running\", %s}}", statuses);
	j = J(buf);
	rollout_pod(j, &v, cname, sizeof(cname));
	json_decref(j);
	return cname;
}

static void pods(void)
{
	json_t *j;

	P("\"containerStatuses\": [{\"name\": \"web\", \"ready\": false, \"restartCount\": 4, \"image\": \"ghcr.io/acme/web:v2\", "
	  "\"state\": {\"waiting\": {\"reason\": \"CrashLoopBackOff\", \"message\": \"back-off 1m20s restarting failed container=web pod=web-7d9c-x2x_acme(0b1c)\"}}, "
	  "\"lastState\": {\"terminated\": {\"exitCode\": 1, \"reason\": \"Error\", \"startedAt\": \"2024-05-02T10:00:00Z\", \"finishedAt\": \"2024-05-02T10:00:01Z\"}}}]");
	CHECK(v.state == ROLLOUT_FAILED, "pod: CrashLoopBackOff fails");
	CHECK_STR(v.reason, "CrashLoopBackOff", "with its reason");
	CHECK_STR(P("\"containerStatuses\": [{\"name\": \"web\", \"state\": {\"waiting\": {\"reason\": \"ImagePullBackOff\", \"message\": \"Back-off pulling image \\\"ghcr.io/acme/web:v2\\\"\"}}}]"), "web",
		  "pod: the failing container is named");
	CHECK_STR(v.reason, "ImagePullBackOff", "ImagePullBackOff fails");
	CHECK_STR(v.msg, "pod 'web-7d9c-x2x' container 'web': ImagePullBackOff: Back-off pulling image \"ghcr.io/acme/web:v2\"", "the message carries the kubelet's");
	P("\"containerStatuses\": [{\"name\": \"web\", \"state\": {\"waiting\": {\"reason\": \"ErrImagePull\", \"message\": \"rpc error: code = NotFound\"}}}]");
	CHECK_STR(v.reason, "ErrImagePull", "ErrImagePull fails");
	P("\"containerStatuses\": [{\"name\": \"web\", \"state\": {\"waiting\": {\"reason\": \"CreateContainerConfigError\", \"message\": \"secret \\\"web-env\\\" not found\"}}}]");
	CHECK_STR(v.reason, "CreateContainerConfigError", "CreateContainerConfigError fails");
	P("\"containerStatuses\": [{\"name\": \"web\", \"restartCount\": 2, \"state\": {\"waiting\": {\"reason\": \"CrashLoopBackOff\"}}, "
	  "\"lastState\": {\"terminated\": {\"exitCode\": 137, \"reason\": \"OOMKilled\"}}}]");
	CHECK_STR(v.reason, "OOMKilled", "a crash loop of OOM kills says OOMKilled");
	P("\"containerStatuses\": [{\"name\": \"web\", \"restartCount\": 1, \"state\": {\"running\": {\"startedAt\": \"2024-05-02T10:00:05Z\"}}, "
	  "\"lastState\": {\"terminated\": {\"exitCode\": 137, \"reason\": \"OOMKilled\"}}}]");
	CHECK_STR(v.reason, "OOMKilled", "a running container that was OOMKilled fails");
	P("\"initContainerStatuses\": [{\"name\": \"migrate\", \"state\": {\"waiting\": {\"reason\": \"CrashLoopBackOff\"}}}], "
	  "\"containerStatuses\": [{\"name\": \"web\", \"state\": {\"waiting\": {\"reason\": \"PodInitializing\"}}}]");
	CHECK(v.state == ROLLOUT_FAILED && !strcmp(P("\"initContainerStatuses\": [{\"name\": \"migrate\", \"state\": {\"waiting\": {\"reason\": \"CrashLoopBackOff\"}}}]"), "migrate"),
	      "an init container's crash loop fails, named");
	P("\"containerStatuses\": [{\"name\": \"web\", \"state\": {\"waiting\": {\"reason\": \"ContainerCreating\"}}}]");
	CHECK(v.state == ROLLOUT_WAITING, "ContainerCreating waits");
	P("\"containerStatuses\": [{\"name\": \"web\", \"restartCount\": 1, \"state\": {\"running\": {}}, \"lastState\": {\"terminated\": {\"exitCode\": 1, \"reason\": \"Error\"}}}]");
	CHECK(v.state == ROLLOUT_WAITING, "a restarted, running container waits");
	P("\"conditions\": [{\"type\": \"PodScheduled\", \"status\": \"False\", \"reason\": \"Unschedulable\"}]");
	CHECK(v.state == ROLLOUT_WAITING, "a pod with no container status waits");

	j = J("{\"spec\": {\"initContainers\": [{\"name\": \"m\", \"image\": \"a:1\"}], \"containers\": [{\"name\": \"w\", \"image\": \"b:2\"}]}}");
	CHECK(rollout_pod_runs(j, "a:1") && rollout_pod_runs(j, "b:2") && !rollout_pod_runs(j, "b:1"),
	      "rollout_pod_runs looks at containers and init containers");
	json_decref(j);
}

#define KS(status) \
	"{\"apiVersion\": \"kustomize.toolkit.fluxcd.io/v1\", \"kind\": \"Kustomization\", \"metadata\": {\"name\": \"apps\", \"namespace\": \"flux-system\"}, " \
	"\"spec\": {\"interval\": \"10m\", \"path\": \"./manifests/apps\", \"prune\": true, \"sourceRef\": {\"kind\": \"GitRepository\", \"name\": \"flux-system\"}}, " \
	"\"status\": " status "}"
#define SHA "5f0c6e7e2a8d1f1b0b6c9f0a3e6f1d2c4b5a6978"
#define OLD "0123456789abcdef0123456789abcdef01234567"

static enum rollout_state K(const char *text)
{
	json_t *j = J(text);

	v.state = -1;
	rollout_kustomization(j, SHA, &v);
	json_decref(j);
	return v.state;
}

static void kustomizations(void)
{
	json_t *j;

	CHECK(K(KS("{\"observedGeneration\": 1, \"lastAppliedRevision\": \"main@sha1:" SHA "\", \"lastAttemptedRevision\": \"main@sha1:" SHA "\", "
		   "\"conditions\": [{\"type\": \"Ready\", \"status\": \"True\", \"reason\": \"ReconciliationSucceeded\", \"message\": \"Applied revision: main@sha1:" SHA "\"}]}")) == ROLLOUT_DONE,
	      "flux: applied at the SHA and Ready");
	CHECK(K(KS("{\"lastAppliedRevision\": \"main/" SHA "\", \"conditions\": [{\"type\": \"Ready\", \"status\": \"True\"}]}")) == ROLLOUT_DONE,
	      "flux: the pre-2.1 revision format too");
	CHECK(K(KS("{\"lastAppliedRevision\": \"main@sha1:" OLD "\", \"conditions\": [{\"type\": \"Ready\", \"status\": \"True\"}]}")) == ROLLOUT_WAITING,
	      "flux: an older revision waits");
	CHECK(K(KS("{\"lastAppliedRevision\": \"main@sha1:" SHA "\", \"conditions\": [{\"type\": \"Ready\", \"status\": \"Unknown\", \"reason\": \"Progressing\"}]}")) == ROLLOUT_WAITING,
	      "flux: applied but still progressing waits");
	CHECK(K(KS("{\"lastAppliedRevision\": \"main@sha1:" OLD "\", \"lastAttemptedRevision\": \"main@sha1:" SHA "\", "
		   "\"conditions\": [{\"type\": \"Ready\", \"status\": \"False\", \"reason\": \"BuildFailed\", "
		   "\"message\": \"kustomize build failed: accumulating resources: 'manifests/apps/web/missing.yaml': no such file\"}]}")) == ROLLOUT_FAILED,
	      "flux: Ready=False for the SHA fails");
	CHECK_STR(v.reason, "BuildFailed", "with Flux's reason");
	CHECK(strstr(v.msg, "kustomize build failed: accumulating resources") != NULL, "and Flux's message");
	CHECK(K(KS("{\"lastAppliedRevision\": \"main@sha1:" OLD "\", \"lastAttemptedRevision\": \"main@sha1:" OLD "\", "
		   "\"conditions\": [{\"type\": \"Ready\", \"status\": \"False\", \"reason\": \"HealthCheckFailed\"}]}")) == ROLLOUT_WAITING,
	      "flux: a failure of an older revision is waited past");
	CHECK(K(KS("{\"lastAttemptedRevision\": \"main@sha1:" SHA "\", \"conditions\": [{\"type\": \"Ready\", \"status\": \"False\", \"reason\": \"DependencyNotReady\"}]}")) == ROLLOUT_WAITING,
	      "flux: a dependency not ready yet waits");
	CHECK(K(KS("{}")) == ROLLOUT_WAITING, "flux: no status yet waits");

	j = J(KS("{}"));
	CHECK(rollout_kustomization_covers(j, "manifests/apps/web") == 14, "./manifests/apps covers an app folder");
	CHECK(rollout_kustomization_covers(j, "manifests/apps") == 14, "and itself");
	CHECK(rollout_kustomization_covers(j, "manifests/apps2/web") == -1, "not a sibling with a longer name");
	CHECK(rollout_kustomization_covers(j, "manifests/cluster/x") == -1, "nor another folder");
	json_decref(j);
	j = J("{\"spec\": {\"path\": \"./\"}}");
	CHECK(rollout_kustomization_covers(j, "manifests/apps/web") == 0, "the root covers everything, loosely");
	json_decref(j);
}

int main(void)
{
	deployments();
	statefulsets();
	daemonsets();
	pods();
	kustomizations();
	return UNIT_DONE();
}
