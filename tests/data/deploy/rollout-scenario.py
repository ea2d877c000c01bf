#!/usr/bin/python3
"""A kube-apiserver fixture scenario for `deploy --wait` against the sample
monorepo (tests/data/deploy/monorepo): its three Deployments of
ghcr.io/acme/web in namespace "web", rolled out at v1, and what Flux and
the controllers do once the bare remote's main moves.

Usage: rollout-scenario.py KIND REMOTE [NEW-IMAGE]
KIND: success, crashloop, imagepull, oomkilled, deadline, flux-error,
      flux-never, no-flux
"""
import json
import os
import sys

kind, remote = sys.argv[1], sys.argv[2]
new = sys.argv[3] if len(sys.argv) > 3 else "ghcr.io/acme/web:v2"
# the commit Flux applied before the push (FLUX_SHA: a real one, for status)
OLD_SHA = os.environ.get("FLUX_SHA", "0" * 40)
flux = kind != "no-flux"
DEPLOYS = [("webserver", 2, ["migrate"], ["web"]),
           ("celery-workers", 1, [], ["worker"]),
           ("celery-scheduler", 1, [], ["beat"])]


def deployment(name, replicas, inits, containers, image):
    spec = {"containers": [{"name": c, "image": image} for c in containers]}
    if inits:
        spec["initContainers"] = [{"name": c, "image": image} for c in inits]
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "web", "generation": 1,
                         "labels": {"app": name}},
            "spec": {"replicas": replicas, "progressDeadlineSeconds": 600,
                     "selector": {"matchLabels": {"app": name}},
                     "strategy": {"type": "RollingUpdate",
                                  "rollingUpdate": {"maxSurge": "25%",
                                                    "maxUnavailable": "25%"}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": spec}},
            "status": {"observedGeneration": 1, "replicas": replicas,
                       "updatedReplicas": replicas, "readyReplicas": replicas,
                       "availableReplicas": replicas,
                       "conditions": [{"type": "Available", "status": "True",
                                       "reason": "MinimumReplicasAvailable"},
                                      {"type": "Progressing", "status": "True",
                                       "reason": "NewReplicaSetAvailable"}]}}


def patch(name, **kw):
    p = {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "web", "name": name}
    p.update(kw)
    return p


def ks_status(applied, attempted, ready, reason, message):
    return {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "namespace": "flux-system", "name": "apps",
            "status": {"lastAppliedRevision": applied, "lastAttemptedRevision": attempted,
                       "observedGeneration": 1,
                       "conditions": [{"type": "Ready", "status": ready, "reason": reason,
                                       "message": message,
                                       "lastTransitionTime": "2024-05-02T10:00:00Z"}]}}


objects = []
if flux:
    objects.append({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "kustomizations.kustomize.toolkit.fluxcd.io"},
        "spec": {"group": "kustomize.toolkit.fluxcd.io", "scope": "Namespaced",
                 "names": {"plural": "kustomizations", "singular": "kustomization",
                           "kind": "Kustomization", "shortNames": ["ks"]},
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "subresources": {"status": {}},
                               "schema": {"openAPIV3Schema": {"type": "object"}}}]}})
    objects.append({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "apps", "namespace": "flux-system"},
        "spec": {"interval": "10m", "path": "./manifests/apps", "prune": True,
                 "sourceRef": {"kind": "GitRepository", "name": "flux-system"}},
        "status": ks_status("main@sha1:" + OLD_SHA, "main@sha1:" + OLD_SHA, "True",
                            "ReconciliationSucceeded",
                            "Applied revision: main@sha1:" + OLD_SHA)["status"]})
for name, n, inits, cs in DEPLOYS:
    objects.append(deployment(name, n, inits, cs, "ghcr.io/acme/web:v1"))

steps = []
applied = "main@sha1:{sha}"
if kind == "flux-error":
    steps.append({"after_ms": 150, "patch": ks_status(
        "main@sha1:" + OLD_SHA, applied, "False", "BuildFailed",
        "kustomize build failed: accumulating resources: accumulation err='accumulating "
        "resources from 'web': 'manifests/apps/web/missing.yaml': no such file")})
elif kind != "flux-never":
    # Flux applies the commit: each Deployment's template changes
    for name, n, inits, cs in DEPLOYS:
        tpl = {"containers": [{"name": c, "image": new} for c in cs]}
        if inits:
            tpl["initContainers"] = [{"name": c, "image": new} for c in inits]
        steps.append({"after_ms": 100, "patch": patch(name, spec={"template": {"spec": tpl}})})
    if flux:
        steps.append({"after_ms": 150, "patch": ks_status(
            applied, applied, "True", "ReconciliationSucceeded",
            "Applied revision: " + applied)})
    # the controller observes the new generation: one new pod up, old ones still there
    for name, n, inits, cs in DEPLOYS:
        steps.append({"after_ms": 250, "patch": patch(name, status={
            "observedGeneration": 2, "replicas": n + 1, "updatedReplicas": 1,
            "readyReplicas": n, "availableReplicas": n,
            "conditions": [{"type": "Progressing", "status": "True",
                            "reason": "ReplicaSetUpdated"}]})})

pod_meta = {"name": "webserver-7d9c5-x2x4k", "namespace": "web",
            "labels": {"app": "webserver", "pod-template-hash": "7d9c5"}}
pod_spec = {"initContainers": [{"name": "migrate", "image": new}],
            "containers": [{"name": "web", "image": new}], "nodeName": "node-1"}


def pod(statuses, init_ok=True):
    st = {"phase": "Running" if init_ok else "Pending", "containerStatuses": statuses,
          "initContainerStatuses": [{"name": "migrate", "ready": True, "restartCount": 0,
                                     "image": new,
                                     "state": {"terminated": {"exitCode": 0,
                                                              "reason": "Completed"}}}]}
    return {"metadata": pod_meta, "spec": pod_spec, "status": st}


def event(reason, message, ty="Warning"):
    return {"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "webserver-7d9c5-x2x4k.%s" % reason.lower(), "namespace": "web"},
            "involvedObject": {"kind": "Pod", "namespace": "web",
                               "name": "webserver-7d9c5-x2x4k", "fieldPath": "spec.containers{web}"},
            "reason": reason, "message": message, "type": ty, "count": 3,
            "source": {"component": "kubelet", "host": "node-1"}}


crash_log = ["booting gunicorn", "Traceback (most recent call last):",
             '  File "/app/settings.py", line 12, in <module>',
             "KeyError: 'DATABASE_URL'"]
if kind in ("success", "no-flux"):
    for name, n, inits, cs in DEPLOYS:
        steps.append({"after_ms": 450, "patch": patch(name, status={
            "observedGeneration": 2, "replicas": n, "updatedReplicas": n,
            "readyReplicas": n, "availableReplicas": n,
            "conditions": [{"type": "Progressing", "status": "True",
                            "reason": "NewReplicaSetAvailable"}]})})
elif kind == "crashloop":
    steps.append({"after_ms": 350, "create": event("Pulled", 'Successfully pulled image "%s"' % new, "Normal")})
    steps.append({"after_ms": 350, "create": event("BackOff", "Back-off restarting failed container web in pod webserver-7d9c5-x2x4k_web")})
    steps.append({"after_ms": 400, "pod": pod([{
        "name": "web", "ready": False, "restartCount": 3, "image": new,
        "containerID": "containerd://" + "c" * 64,
        "state": {"waiting": {"reason": "CrashLoopBackOff",
                              "message": "back-off 40s restarting failed container=web pod=webserver-7d9c5-x2x4k_web"}},
        "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                                     "containerID": "containerd://" + "c" * 64}}}]),
        "logs": {"web": ["line %d" % i for i in range(1, 31)] + crash_log}})
elif kind == "oomkilled":
    steps.append({"after_ms": 400, "pod": pod([{
        "name": "web", "ready": True, "restartCount": 1, "image": new,
        "containerID": "containerd://" + "e" * 64,
        "state": {"running": {"startedAt": "2024-05-02T10:00:05Z"}},
        "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled",
                                     "containerID": "containerd://" + "d" * 64}}}]),
        "logs": {"web": ["loading the model", "allocating 2 GiB"]}})
elif kind == "imagepull":
    steps.append({"after_ms": 350, "create": event("Failed", 'Failed to pull image "%s": not found' % new)})
    steps.append({"after_ms": 400, "pod": pod([{
        "name": "web", "ready": False, "restartCount": 0, "image": new,
        "state": {"waiting": {"reason": "ImagePullBackOff",
                              "message": 'Back-off pulling image "%s"' % new}}}])})
elif kind == "deadline":
    steps.append({"after_ms": 450, "patch": patch("webserver", status={
        "observedGeneration": 2, "replicas": 3, "updatedReplicas": 1,
        "readyReplicas": 2, "availableReplicas": 2, "unavailableReplicas": 1,
        "conditions": [{"type": "Progressing", "status": "False",
                        "reason": "ProgressDeadlineExceeded",
                        "message": 'ReplicaSet "webserver-7d9c5" has timed out progressing.'}]})})

print(json.dumps({"tokens": {"tok-alice": "alice"}, "objects": objects,
                  "script": {"remote": remote, "branch": "main", "steps": steps}}))
