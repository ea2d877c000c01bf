#!/usr/bin/python3
"""A Kubernetes API server fixture, Python standard library only.

It speaks enough of the real API for `kubectl get pods`, `kubectl logs -f`,
`kubectl logs -l` and `saasctl logs`: discovery (/api, /apis, /version),
pods list and watch (real event JSON, resourceVersion, BOOKMARKs, 410 Gone),
the pod log subresource (follow, container, sinceSeconds, sinceTime,
tailLines, timestamps, previous), and workloads (deployments, statefulsets,
daemonsets, jobs) with their selectors.

Pods follow a scripted lifecycle (create, init containers, restarts with a
back-off, delete, exit) on a clock that starts with the server. Each
container instance writes deterministic numbered lines:
    "<pod> <container> r<restart> line <n>"
at start + n * period, so every request can be answered from arithmetic.

Authentication: bearer tokens (fixed, or by prefix as an exec plugin
would mint them, optionally revoked after some uses), and client
certificates signed by the CA (user = CN). Unknown credentials get 401,
users listed as forbidden get 403.

Injected faults, for log and watch streams: dropped connections
(drop_every_ms), clean EOFs mid-run (eof_every_ms), stalls (stall_ms),
429 with Retry-After on every Nth log request (throttle_every).

Every other resource lives in a generic object store (objects.py): built-in
Secrets, ConfigMaps, ServiceAccounts, Events, RBAC and CRDs, and every
resource a created CRD serves; list (paged), get, watch, create, update,
delete with the owner-reference cascade, merge patch, server-side apply
with field managers, the status subresource. Scenario keys for it:
  "objects": [...]   objects created at start, in order (a CRD first)
  "deny": [{"namespace": NS, "resource": "secrets", "verbs": [...],
            "user": U}]   403 for what matches (every key optional)
  "script": {...}    what Flux and the controllers do after a push to a
                     bare remote: workload status over time, Events, pods
                     stuck in CrashLoopBackOff ... (see script())
Deployments, StatefulSets, DaemonSets, ReplicaSets and HPAs live in the
store too, with their status subresource (scenario "workloads" still
answer GETs of selectors for saasctl logs).
POST /_fixture/compact compacts now: open watches end with 410, and
watches from older versions get 410.

Usage: server.py --port PORT --scenario FILE [--certs DIR] [--record FILE]
  --certs DIR: serve TLS with DIR/server.crt and verify client certs
  against DIR/ca.crt (see mkcerts.sh); without it, plain HTTP.
  --record FILE: append one JSON line per request (method, path, query,
  user, accept, content_type, body), for tests to check what the server
  received.
The scenario format is described in README.md next to this file.
"""
import argparse
import hashlib
import json
import re
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import objects

NS = 1_000_000_000
T0 = time.time_ns()
LOCK = threading.Condition()
SCEN = {}
STATE = {
    "rv": 1000,            # global resourceVersion counter
    "events": [],          # (rv, type, pod_json) in order
    "compacted_rv": 0,     # watches from at or below this get 410
    "epoch": 0,            # compactions so far: open watches end with 410
    "pods": {},            # (ns, name) -> current pod json (not deleted)
    "log_requests": 0,
    "token_uses": {},
    "revoked": set(),
}
RECORD = None
STORE = None              # objects.Store: every other resource


def now_ns():
    return time.time_ns()


def rfc3339(ns, nano=False):
    sec, frac = divmod(ns, NS)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
    if not nano:
        return base + "Z"
    if frac == 0:
        return base + "Z"
    # Go's RFC3339Nano trims trailing zeros
    return base + "." + ("%09d" % frac).rstrip("0") + "Z"


def parse_rfc3339(s):
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)", s)
    if not m:
        return None
    sec = int(time.mktime(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) -
              time.timezone)
    frac = int((m.group(2) or ".0")[1:].ljust(9, "0")[:9])
    if m.group(3) != "Z":
        sign = 1 if m.group(3)[0] == "+" else -1
        hh, mm = m.group(3)[1:].split(":")
        sec -= sign * (int(hh) * 3600 + int(mm) * 60)
    return sec * NS + frac


def ms(v):
    return int(v * 1_000_000)


class Instance:
    """One run of one container: lines n = 1.. at start + n * period."""

    def __init__(self, pod, cname, index, start, end, exit_code, spec):
        self.pod, self.cname, self.index = pod, cname, index
        self.start, self.end, self.exit_code = start, end, exit_code
        self.period = ms(spec.get("period_ms", 100))
        self.fixed = spec.get("lines")      # a fixed count, all at once
        self.json = spec.get("format") == "json"
        self.body = None
        self.cid = "containerd://" + hashlib.sha256(
            ("%s/%s/%s/%d" % (pod["namespace"], pod["name"], cname, index)
             ).encode()).hexdigest()

    def ts(self, n):
        if self.fixed is not None:
            return self.start + n * 1000
        return self.start + n * self.period

    def count_at(self, t):
        """Lines written by time t."""
        if t < self.start:
            return 0
        if self.fixed is not None:
            return self.fixed
        if self.end is not None and t > self.end:
            t = self.end
        return (t - self.start) // self.period

    def text(self, n):
        if self.json:
            return json.dumps({"level": "info", "n": n, "msg": "%s %s r%d line %d" % (
                self.pod["name"], self.cname, self.index, n)}, separators=(",", ":"))
        return "%s %s r%d line %d" % (self.pod["name"], self.cname, self.index, n)

    def first_at_or_after(self, t):
        """Smallest n >= 1 with ts(n) >= t."""
        if self.fixed is not None:
            return max(1, -(-(t - self.start) // 1000))
        return max(1, -(-(t - self.start) // self.period))


def prebuild(inst):
    """The whole timestamped log of a fixed-size instance, built once."""
    out = []
    secs = {}
    for n in range(1, inst.fixed + 1):
        sec, frac = divmod(inst.ts(n), NS)
        base = secs.get(sec)
        if base is None:
            base = secs[sec] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
        out.append("%s.%09dZ %s" % (base, frac, inst.text(n)))
    inst.body = ("\n".join(out) + "\n").encode()


def build_pod(spec):
    """Expand one scenario pod into its timeline of container instances."""
    ns = spec.get("namespace", "default")
    created = T0 + ms(spec.get("create_ms", 0))
    deleted = T0 + ms(spec["delete_ms"]) if "delete_ms" in spec else None
    exited = T0 + ms(spec["exit_ms"]) if "exit_ms" in spec else None
    # Deletion is graceful, as in a real cluster: at "deleted" the pod gets
    # its deletionTimestamp and its containers stop; the object (and its
    # logs) go away only after the grace period.
    removed = deleted + ms(spec.get("delete_grace_ms", 1000)) if deleted else None
    pod = {"name": spec["name"], "namespace": ns, "spec": spec,
           "created": created, "deleted": deleted, "removed": removed, "exited": exited,
           "uid": hashlib.md5(("%s/%s" % (ns, spec["name"])).encode()).hexdigest()}
    init_ms = spec.get("init_ms", 200)
    t = created + ms(spec.get("start_delay_ms", 0))
    pod["init"] = {}
    for c in spec.get("initContainers", []):
        end = t + ms(init_ms)
        pod["init"][c] = [Instance(pod, c, 0, t, end, 0, spec)]
        t = end
    main_start = t
    stop = min(x for x in (deleted, exited, None) if x is not None) if (deleted or exited) else None
    backoff = ms(spec.get("backoff_ms", 300))
    pod["main"] = {}
    for c in spec.get("containers", ["app"]):
        insts = []
        start = main_start
        restarts = sorted(T0 + ms(r["at_ms"]) for r in spec.get("restarts", [])
                          if r.get("container") in (None, c))
        for r in restarts:
            if r <= start or (stop is not None and r >= stop):
                continue
            insts.append(Instance(pod, c, len(insts), start, r, 1, spec))
            start = r + backoff
        insts.append(Instance(pod, c, len(insts), start, stop, 0, spec))
        pod["main"][c] = insts
    pod["changes"] = sorted(set(
        [created, main_start] +
        [i.start for v in pod["main"].values() for i in v] +
        [i.end for v in list(pod["main"].values()) + list(pod["init"].values())
         for i in v if i.end is not None] +
        ([deleted, removed] if deleted else [])))
    return pod


def container_status(pod, name, insts, t, init):
    """The status of one container at time t, in the kubelet's shape."""
    st = {"name": name, "image": "registry.example/%s:1" % name,
          "imageID": "registry.example/%s@sha256:%s" % (name, "0" * 64),
          "ready": False, "restartCount": 0, "started": False,
          "state": {"waiting": {"reason": "PodInitializing" if not init else "ContainerCreating"}},
          "lastState": {}}
    started = [i for i in insts if i.start <= t]
    if not started:
        return st
    cur = started[-1]
    st["restartCount"] = cur.index
    if cur.index > 0:
        prev = insts[cur.index - 1]
        st["lastState"] = {"terminated": {
            "exitCode": prev.exit_code, "reason": "Error" if prev.exit_code else "Completed",
            "startedAt": rfc3339(prev.start), "finishedAt": rfc3339(prev.end),
            "containerID": prev.cid}}
    if cur.end is not None and t >= cur.end:
        nxt = insts[cur.index + 1] if cur.index + 1 < len(insts) else None
        if nxt is not None:
            # crashed, waiting for the back-off before the next run
            st["lastState"] = {"terminated": {
                "exitCode": cur.exit_code, "reason": "Error",
                "startedAt": rfc3339(cur.start), "finishedAt": rfc3339(cur.end),
                "containerID": cur.cid}}
            st["restartCount"] = cur.index + 1
            st["state"] = {"waiting": {"reason": "CrashLoopBackOff",
                                       "message": "back-off restarting failed container"}}
        else:
            st["state"] = {"terminated": {
                "exitCode": cur.exit_code,
                "reason": "Error" if cur.exit_code else "Completed",
                "startedAt": rfc3339(cur.start), "finishedAt": rfc3339(cur.end),
                "containerID": cur.cid}}
        st["containerID"] = cur.cid
        return st
    st["state"] = {"running": {"startedAt": rfc3339(cur.start)}}
    st["containerID"] = cur.cid
    st["ready"] = st["started"] = True
    return st


def pod_json(pod, t, rv):
    spec = pod["spec"]
    labels = spec.get("labels", {})
    phase = "Pending"
    statuses = [container_status(pod, c, v, t, False) for c, v in pod["main"].items()]
    inits = [container_status(pod, c, v, t, True) for c, v in pod["init"].items()]
    if any("running" in s["state"] or "lastState" in s and s["lastState"] for s in statuses):
        phase = "Running"
    if pod["exited"] is not None and t >= pod["exited"]:
        phase = "Succeeded"
    obj = {
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {
            "name": pod["name"], "namespace": pod["namespace"], "uid": pod["uid"],
            "resourceVersion": str(rv), "creationTimestamp": rfc3339(pod["created"]),
            "labels": labels,
        },
        "spec": {
            "nodeName": spec.get("node", "node-1"),
            "containers": [{"name": c, "image": "registry.example/%s:1" % c}
                           for c in pod["main"]],
            "restartPolicy": "Always",
        },
        "status": {
            "phase": phase, "hostIP": "10.0.0.1", "podIP": "10.1.0.%d" % (int(pod["uid"][:2], 16)),
            "startTime": rfc3339(pod["created"]),
            "containerStatuses": statuses,
        },
    }
    if pod["init"]:
        obj["spec"]["initContainers"] = [{"name": c, "image": "registry.example/%s:1" % c}
                                         for c in pod["init"]]
        obj["status"]["initContainerStatuses"] = inits
    if pod["deleted"] is not None and t >= pod["deleted"]:
        obj["metadata"]["deletionTimestamp"] = rfc3339(pod["deleted"])
    return obj


PODS = []
SCRIPT_LOGS = {}          # (ns, name) -> {container: [lines]} of scripted pods


def git_tip(remote, branch):
    """The commit refs/heads/<branch> of a bare repository points at."""
    import subprocess
    r = subprocess.run(["git", "--git-dir", remote, "rev-parse", "--verify", "-q",
                        "refs/heads/" + branch], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else ""


def script():
    """The scenario's "script": what Flux and the controllers do after a
    push. It waits for refs/heads/<branch> of the bare remote to move
    (or starts at once with "on": "start"), then runs its steps, each
    after_ms after that moment. "{sha}" in a step is the pushed commit.
      {"patch": {"apiVersion", "kind", "namespace", "name",
                 "spec"/"metadata": merge patch, "status": merge patch}}
      {"create": OBJECT}            an Event, a ReplicaSet ...
      {"pod": POD-JSON, "logs": {CONTAINER: [LINES]}}   add or replace a pod
      {"delete_pod": [NS, NAME]}
    """
    sc = SCEN.get("script")
    if not sc:
        return
    sha = ""
    if sc.get("on", "push") == "push":
        first = git_tip(sc["remote"], sc.get("branch", "main"))
        while True:
            sha = git_tip(sc["remote"], sc.get("branch", "main"))
            if sha and sha != first:
                break
            time.sleep(0.02)
    start = time.time()
    steps = json.loads(json.dumps(sc.get("steps", [])).replace("{sha}", sha))
    for st in steps:
        delay = start + st.get("after_ms", 0) / 1000 - time.time()
        if delay > 0:
            time.sleep(delay)
        with LOCK:
            try:
                script_step(st)
            except objects.ApiError as ex:
                sys.stderr.write("script step failed: %s\n" % ex.message)
        # for latency benchmarks: when each step became visible
        sys.stdout.write("script step %d at %.6f\n" % (steps.index(st), time.time()))
        sys.stdout.flush()


def script_step(st):
    if "patch" in st:
        p = dict(st["patch"])
        res = STORE.by_kind(p.pop("apiVersion"), p.pop("kind"))
        ns, name = p.pop("namespace", None), p.pop("name")
        status = p.pop("status", None)
        if p:
            STORE.patch_merge(res, ns, name, p, "fixture-controller")
        if status is not None:
            STORE.patch_merge(res, ns, name, {"status": status}, "fixture-controller",
                              "status")
    if "create" in st:
        obj = st["create"]
        res = STORE.by_kind(obj["apiVersion"], obj["kind"])
        STORE.create(res, obj["metadata"].get("namespace"), obj, "fixture-controller",
                     keep_status=True)
    if "pod" in st:
        obj = json.loads(json.dumps(st["pod"]))
        meta = obj.setdefault("metadata", {})
        meta.setdefault("namespace", "default")
        key = (meta["namespace"], meta["name"])
        meta.setdefault("uid", hashlib.md5(("%s/%s" % key).encode()).hexdigest())
        meta.setdefault("creationTimestamp", rfc3339(now_ns()))
        obj.setdefault("kind", "Pod")
        obj.setdefault("apiVersion", "v1")
        STATE["rv"] += 1
        meta["resourceVersion"] = str(STATE["rv"])
        ty = "MODIFIED" if key in STATE["pods"] else "ADDED"
        STATE["pods"][key] = obj
        STATE["events"].append((STATE["rv"], ty, obj))
        if "logs" in st:
            SCRIPT_LOGS[key] = st["logs"]
        LOCK.notify_all()
    if "delete_pod" in st:
        key = tuple(st["delete_pod"])
        obj = STATE["pods"].pop(key, None)
        if obj is not None:
            STATE["rv"] += 1
            obj = dict(obj, metadata=dict(obj["metadata"], resourceVersion=str(STATE["rv"])))
            STATE["events"].append((STATE["rv"], "DELETED", obj))
            LOCK.notify_all()


def clock():
    """Apply the scripted lifecycle: one watch event per change."""
    changes = sorted((c, i) for i, p in enumerate(PODS) for c in p["changes"])
    expire = [T0 + ms(x) for x in SCEN.get("expire_watch_at_ms", [])]
    timeline = sorted(changes + [(x, -1) for x in expire])
    for at, idx in timeline:
        delay = (at - now_ns()) / NS
        if delay > 0:
            time.sleep(delay)
        with LOCK:
            if idx < 0:
                # etcd compaction: every watch must relist
                STATE["compacted_rv"] = STATE["rv"]
                STATE["epoch"] += 1
                STATE["rv"] += 1
                LOCK.notify_all()
                continue
            pod = PODS[idx]
            key = (pod["namespace"], pod["name"])
            STATE["rv"] += 1
            rv = STATE["rv"]
            t = max(at, now_ns())
            obj = pod_json(pod, t, rv)
            if pod["removed"] is not None and at >= pod["removed"]:
                STATE["pods"].pop(key, None)
                STATE["events"].append((rv, "DELETED", obj))
            elif key not in STATE["pods"]:
                STATE["pods"][key] = obj
                STATE["events"].append((rv, "ADDED", obj))
            else:
                STATE["pods"][key] = obj
                STATE["events"].append((rv, "MODIFIED", obj))
            LOCK.notify_all()


def match_labels(labels, selector):
    if not selector:
        return True
    for term in selector.split(","):
        term = term.strip()
        m = re.fullmatch(r"([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)", term)
        if m:
            k, op, v = m.groups()
            if (labels.get(k) == v) != (op != "!="):
                return False
            continue
        m = re.fullmatch(r"([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)", term)
        if m:
            k, op, vs = m.groups()
            vals = [x.strip() for x in vs.split(",")]
            if (labels.get(k) in vals) != (op == "in"):
                return False
            continue
        if term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def match_fields(obj, selector):
    if not selector:
        return True
    fields = {"metadata.name": obj["metadata"]["name"],
              "metadata.namespace": obj["metadata"]["namespace"],
              "spec.nodeName": obj["spec"].get("nodeName", ""),
              "status.phase": obj["status"].get("phase", "")}
    for term in selector.split(","):
        m = re.fullmatch(r"([\w.]+)(==|=|!=)(.*)", term.strip())
        if not m or m.group(1) not in fields:
            raise ValueError('field label not supported: %s' % term)
        k, op, v = m.groups()
        if (fields[k] == v) != (op != "!="):
            return False
    return True


def match_meta_fields(obj, selector):
    if not selector:
        return True
    fields = {"metadata.name": obj["metadata"]["name"],
              "metadata.namespace": obj["metadata"].get("namespace", "")}
    if obj.get("kind") == "Event":
        for k in ("kind", "name", "namespace", "uid"):
            fields["involvedObject." + k] = (obj.get("involvedObject") or {}).get(k, "")
    for term in selector.split(","):
        m = re.fullmatch(r"([\w.]+)(==|=|!=)(.*)", term.strip())
        if not m or m.group(1) not in fields:
            raise ValueError('field label not supported: %s' % term)
        k, op, v = m.groups()
        if (fields[k] == v) != (op != "!="):
            return False
    return True


def status_json(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": message, "reason": reason, "code": code}


def table(pods, t):
    rows = []
    for p in pods:
        st = p["status"].get("containerStatuses", [])
        ready = sum(1 for s in st if s.get("ready"))
        restarts = sum(s.get("restartCount", 0) for s in st)
        status = p["status"]["phase"]
        for s in st:
            w = s["state"].get("waiting")
            if w and w.get("reason") not in (None, "ContainerCreating"):
                status = w["reason"]
        age = max(0, (t - parse_rfc3339(p["metadata"]["creationTimestamp"])) // NS)
        rows.append({"cells": [p["metadata"]["name"], "%d/%d" % (ready, len(st)),
                               status, restarts, "%ds" % age],
                     "object": {"kind": "PartialObjectMetadata",
                                "apiVersion": "meta.k8s.io/v1",
                                "metadata": p["metadata"]}})
    cols = [("Name", "string", "name"), ("Ready", "string", ""),
            ("Status", "string", ""), ("Restarts", "integer", ""), ("Age", "string", "")]
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": str(STATE["rv"])},
            "columnDefinitions": [{"name": n, "type": ty, "format": f, "description": "",
                                   "priority": 0} for n, ty, f in cols],
            "rows": rows}


SHORT = {"pods": ["po"], "deployments": ["deploy"], "statefulsets": ["sts"],
         "daemonsets": ["ds"], "namespaces": ["ns"]}
WORKLOADS = {
    "deployments": ("apps", "Deployment"), "statefulsets": ("apps", "StatefulSet"),
    "daemonsets": ("apps", "DaemonSet"), "jobs": ("batch", "Job"),
}


def discovery(path, port):
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                "serverAddress": "127.0.0.1:%d" % port}]}
    if path == "/apis":
        groups = []
        named = {"apps": ["v1"], "batch": ["v1"]}
        with LOCK:
            for g, vs in STORE.groups().items():
                named.setdefault(g, [])
                named[g] += [v for v in vs if v not in named[g]]
        for g, vs in named.items():
            gvs = [{"groupVersion": g + "/" + v, "version": v} for v in vs]
            groups.append({"name": g, "versions": gvs, "preferredVersion": gvs[0]})
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
    if path == "/version":
        return {"major": "1", "minor": "30", "gitVersion": "v1.30.0-fixture",
                "platform": "linux/amd64"}
    res = None
    if path == "/api/v1":
        res = [("pods", "Pod", True, ["get", "list", "watch"]),
               ("pods/log", "Pod", True, ["get"]),
               ("namespaces", "Namespace", False, ["get", "list"])]
    elif path == "/apis/apps/v1":
        # served by the object store (discovered below); Jobs stay here
        res = []
    elif path == "/apis/batch/v1":
        res = [("jobs", "Job", True, ["get", "list"])]
    gv = path[len("/apis/"):] if path.startswith("/apis/") else "v1"
    m = re.fullmatch(r"/apis/([^/]+)/([^/]+)", path)
    with LOCK:
        extra = STORE.discovery(*(m.groups() if m else ("", "v1"))) \
            if m or path == "/api/v1" else []
    if res is None and not extra:
        return None
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
            "resources": [{"name": n, "singularName": "", "namespaced": nsd, "kind": k,
                           "verbs": verbs, "shortNames": SHORT.get(n, [])}
                          for n, k, nsd, verbs in res or []] + extra}


def instances():
    """Every container instance and its line count now, for tests."""
    t = now_ns()
    out = []
    for p in PODS:
        for kind in ("init", "main"):
            for c, insts in p[kind].items():
                for i in insts:
                    out.append({"pod": p["name"], "namespace": p["namespace"],
                                "container": c, "restart": i.index,
                                "started": i.start <= t,
                                "ended": i.end is not None and i.end <= t,
                                "end_age_ms": (t - i.end) // 1_000_000 if i.end else None,
                                "lines": i.count_at(t)})
    return out


class Dropped(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kube-apiserver-fixture"

    def log_message(self, fmt, *args):
        pass

    # --- plumbing -------------------------------------------------------
    def send_json(self, code, obj, extra=None):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def fail(self, code, reason, message, extra=None):
        self.send_json(code, status_json(code, reason, message), extra)

    def start_chunked(self, ctype):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.flush()

    def chunk(self, data):
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

    def end_chunked(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def drop(self):
        """Close the connection abruptly: no chunk terminator."""
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close_connection = True
        raise Dropped()

    def user(self):
        """The authenticated user, or None after sending 401."""
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            tok = auth[7:]
            with LOCK:
                if tok in STATE["revoked"]:
                    who = None
                else:
                    who = SCEN.get("tokens", {}).get(tok)
                    if who is None:
                        for prefix, u in SCEN.get("token_prefixes", {}).items():
                            if tok.startswith(prefix):
                                who = u
                    limit = SCEN.get("token_max_uses", {}).get(tok)
                    if who is not None and limit is not None:
                        STATE["token_uses"][tok] = STATE["token_uses"].get(tok, 0) + 1
                        if STATE["token_uses"][tok] > limit:
                            STATE["revoked"].add(tok)
                            who = None
            if who is not None:
                return who
        elif isinstance(self.connection, ssl.SSLSocket):
            cert = self.connection.getpeercert()
            if cert:
                for rdn in cert.get("subject", ()):
                    for k, v in rdn:
                        if k == "commonName":
                            return v
        if SCEN.get("anonymous") and not auth:
            return "system:anonymous"
        self.fail(401, "Unauthorized", "Unauthorized")
        return None

    def record(self, user):
        if RECORD:
            u = urlsplit(self.path)
            line = json.dumps({"method": self.command, "path": u.path,
                               "query": {k: v[0] for k, v in parse_qs(u.query).items()},
                               "user": user, "accept": self.headers.get("Accept", ""),
                               "content_type": self.headers.get("Content-Type", ""),
                               "body": self.body_text()})
            with LOCK:
                with open(RECORD, "a") as f:
                    f.write(line + "\n")

    def parse_request(self):
        # one handler serves every request of a kept-alive connection
        self.__dict__.pop("_body", None)
        return super().parse_request()

    def body_text(self):
        if not hasattr(self, "_body"):
            n = int(self.headers.get("Content-Length") or 0)
            self._body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        return self._body

    # --- routing --------------------------------------------------------
    do_POST = do_PUT = do_PATCH = do_DELETE = lambda self: self.do_GET()

    def do_GET(self):
        try:
            self.route()
        except (Dropped, BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True

    def route(self):
        u = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        path = u.path.rstrip("/") or "/"
        if path == "/_fixture/instances":
            return self.send_json(200, instances())
        if path == "/_fixture/compact":
            # as etcd compaction: open watches end with 410, old versions too
            with LOCK:
                STATE["compacted_rv"] = STATE["rv"]
                STATE["epoch"] += 1
                STATE["rv"] += 1
                LOCK.notify_all()
            return self.send_json(200, {"compacted": STATE["compacted_rv"]})
        prefix = SCEN.get("path_prefix", "")
        if prefix:
            if not path.startswith(prefix):
                return self.fail(404, "NotFound", "the server could not find the requested resource")
            path = path[len(prefix):] or "/"
        user = self.user()
        self.record(user)
        if user is None:
            return
        if user in SCEN.get("forbidden_users", []):
            return self.fail(403, "Forbidden",
                             'pods is forbidden: User "%s" cannot list resource "pods" '
                             'in API group "" at the cluster scope' % user)
        d = discovery(path, self.server.server_address[1])
        if d is not None:
            return self.send_json(200, d)
        m = re.fullmatch(r"/api/v1(?:/namespaces/([^/]+))?/pods", path)
        if m:
            return self.pods(m.group(1), q)
        m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/pods/([^/]+)", path)
        if m:
            return self.pod_get(m.group(1), m.group(2))
        m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/pods/([^/]+)/log", path)
        if m:
            return self.pod_log(m.group(1), m.group(2), q)
        m = re.fullmatch(r"/apis/(apps|batch)/v1/namespaces/([^/]+)/(\w+)/([^/]+)", path)
        if m:
            return self.workload(user, *m.groups(), q)
        m = re.fullmatch(r"/api/v1/namespaces/([^/]+)", path)
        if m and self.command == "GET":
            return self.send_json(200, {"kind": "Namespace", "apiVersion": "v1",
                                        "metadata": {"name": m.group(1)},
                                        "status": {"phase": "Active"}})
        m = re.fullmatch(r"/(?:api|apis/([^/]+))/([^/]+)(?:/namespaces/([^/]+))?"
                         r"/([^/]+)(?:/([^/]+))?(?:/([^/]+))?", path)
        if m:
            return self.objects(user, m.group(1) or "", *m.groups()[1:], q)
        self.fail(404, "NotFound", "the server could not find the requested resource")

    # --- every other resource (objects.py) ------------------------------
    def objects(self, user, group, version, ns, plural, name, sub, q):
        with LOCK:
            res = STORE.find(group, version, plural)
        if res is None or (ns and not res.namespaced) or sub not in (None, "status") or \
                (sub == "status" and not res.status):
            return self.fail(404, "NotFound", "the server could not find the requested resource")
        body = None
        if self.command in ("POST", "PUT", "PATCH"):
            ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
            text = self.body_text()
            try:
                body = json.loads(text)
            except ValueError:
                if ctype != "application/apply-patch+yaml":
                    return self.fail(400, "BadRequest", "the body is not JSON")
                try:
                    import yaml
                    body = yaml.safe_load(text)
                except Exception as ex:   # noqa: BLE001 -- any parse failure is a 400
                    return self.fail(400, "BadRequest", "bad YAML: %s" % ex)
        verb = {"GET": "get" if name else ("watch" if q.get("watch") in ("true", "1")
                                           else "list"),
                "POST": "create", "PUT": "update", "PATCH": "patch",
                "DELETE": "delete"}.get(self.command)
        manager = q.get("fieldManager") or self.headers.get("User-Agent", "unknown").split("/")[0]
        try:
            with LOCK:
                STORE.authorize(user, verb, res, ns, name)
                if verb == "watch":
                    pass
                elif verb == "list":
                    try:
                        objs = STORE.list(res, ns,
                                          lambda o: match_labels(o["metadata"].get("labels", {}),
                                                                 q.get("labelSelector")),
                                          lambda o: match_meta_fields(o, q.get("fieldSelector")))
                    except ValueError as ex:
                        raise objects.ApiError(400, "BadRequest", str(ex))
                    rv = STATE["rv"]
                elif verb == "get":
                    key, obj = STORE.get(res, ns, name)
                    out = STORE.render(key, obj)
                elif verb == "create":
                    if name:
                        raise objects.ApiError(405, "MethodNotAllowed", "POST to a name")
                    out = STORE.create(res, ns, body, manager)
                    code = 201
                elif verb == "update":
                    out = STORE.update(res, ns, name, body, manager, sub)
                    code = 200
                elif verb == "patch":
                    ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
                    code = 200
                    if ctype == "application/apply-patch+yaml":
                        out, created = STORE.apply(res, ns, name, body, manager,
                                                   q.get("force") in ("true", "1"), sub)
                        code = 201 if created else 200
                    elif ctype == "application/merge-patch+json":
                        out = STORE.patch_merge(res, ns, name, body, manager, sub)
                    else:
                        raise objects.ApiError(415, "UnsupportedMediaType",
                                               "the body of the request was in an unknown "
                                               "format - accepted media types include: "
                                               "application/merge-patch+json, "
                                               "application/apply-patch+yaml")
                elif verb == "delete":
                    out = STORE.delete(res, ns, name)
                    code = 200
        except objects.ApiError as ex:
            st = status_json(ex.code, ex.reason, ex.message)
            if ex.details:
                st["details"] = ex.details
            return self.send_json(ex.code, st)
        if verb == "watch":
            return self.object_watch(res, ns, q)
        if verb == "list":
            if "as=Table" in self.headers.get("Accept", ""):
                return self.send_json(200, objects.table(res, objs, rv))
            # pages, as the real server: limit, and a continue token
            meta = {"resourceVersion": str(rv)}
            start = int(q.get("continue") or 0)
            limit = int(q.get("limit") or 0)
            if limit > 0:
                if start + limit < len(objs):
                    meta["continue"] = str(start + limit)
                    meta["remainingItemCount"] = len(objs) - start - limit
                objs = objs[start:start + limit]
            return self.send_json(200, {"kind": res.kind + "List",
                                        "apiVersion": res.api_version,
                                        "metadata": meta, "items": objs})
        if verb == "get":
            return self.send_json(200, out)
        self.send_json(code, out)

    def object_watch(self, res, ns, q):
        since = int(q.get("resourceVersion") or 0)
        bookmarks = q.get("allowWatchBookmarks") in ("true", "1")
        every = SCEN.get("bookmark_every_ms", 1000) / 1000
        timeout = int(q.get("timeoutSeconds") or 1800)
        faults = SCEN.get("faults", {})
        start = time.time()
        self.start_chunked("application/json")
        last_bookmark = time.time()

        def gone(rv):
            err = status_json(410, "Expired", "too old resource version: %d (%d)" % (
                rv, STATE["compacted_rv"] + 1))
            self.chunk(json.dumps({"type": "ERROR", "object": err}).encode() + b"\n")
            self.end_chunked()

        with LOCK:
            if since and since <= STATE["compacted_rv"]:
                return gone(since)
            if not since:
                since = STATE["rv"]
            epoch = STATE["epoch"]
        sent = since
        while True:
            with LOCK:
                if sent < STATE["compacted_rv"] or epoch != STATE["epoch"]:
                    return gone(sent)
                batch = [x for x in STORE.events if x[0] > sent]
                if not batch:
                    LOCK.wait(0.1)
                    batch = [x for x in STORE.events if x[0] > sent]
            out = b""
            for rv, ty, gp, obj in batch:
                sent = rv
                if gp != (res.group, res.plural):
                    continue
                if ns and obj["metadata"].get("namespace") != ns:
                    continue
                if not match_labels(obj["metadata"].get("labels", {}), q.get("labelSelector")):
                    continue
                if not match_meta_fields(obj, q.get("fieldSelector")):
                    continue
                out += json.dumps({"type": ty, "object": obj}).encode() + b"\n"
            self.chunk(out)
            t = time.time()
            if bookmarks and t - last_bookmark >= every:
                with LOCK:
                    rv = STATE["rv"]
                sent = max(sent, rv)
                self.chunk(json.dumps({"type": "BOOKMARK", "object": {
                    "kind": res.kind, "apiVersion": res.api_version,
                    "metadata": {"resourceVersion": str(rv)}}}).encode() + b"\n")
                last_bookmark = t
            if faults.get("drop_watch_every_ms") and t - start >= faults["drop_watch_every_ms"] / 1000:
                self.drop()
            if t - start >= timeout:
                self.end_chunked()
                return

    # --- pods -----------------------------------------------------------
    def selected(self, ns, q):
        out = []
        for (pns, _), obj in sorted(STATE["pods"].items()):
            if ns and pns != ns:
                continue
            if not match_labels(obj["metadata"].get("labels", {}), q.get("labelSelector")):
                continue
            if not match_fields(obj, q.get("fieldSelector")):
                continue
            out.append(obj)
        return out

    def pods(self, ns, q):
        try:
            match_fields({"metadata": {"name": "", "namespace": ""}, "spec": {}, "status": {}},
                         q.get("fieldSelector"))
        except ValueError as ex:
            return self.fail(400, "BadRequest", str(ex))
        if q.get("watch") in ("true", "1"):
            return self.watch(ns, q)
        with LOCK:
            items = self.selected(ns, q)
            rv = str(STATE["rv"])
        if "as=Table" in self.headers.get("Accept", ""):
            return self.send_json(200, table(items, now_ns()))
        self.send_json(200, {"kind": "PodList", "apiVersion": "v1",
                             "metadata": {"resourceVersion": rv}, "items": items})

    def pod_get(self, ns, name):
        with LOCK:
            obj = STATE["pods"].get((ns, name))
        if obj is None:
            return self.fail(404, "NotFound", 'pods "%s" not found' % name)
        self.send_json(200, obj)

    def watch(self, ns, q):
        since = int(q.get("resourceVersion") or 0)
        bookmarks = q.get("allowWatchBookmarks") in ("true", "1")
        every = SCEN.get("bookmark_every_ms", 1000) / 1000
        timeout = int(q.get("timeoutSeconds") or 1800)
        faults = SCEN.get("faults", {})
        start = time.time()
        self.start_chunked("application/json")
        last_bookmark = time.time()
        with LOCK:
            if since and since <= STATE["compacted_rv"]:
                err = status_json(410, "Expired",
                                  "too old resource version: %d (%d)" % (since, STATE["compacted_rv"] + 1))
                self.chunk(json.dumps({"type": "ERROR", "object": err}).encode() + b"\n")
                self.end_chunked()
                return
            if not since:
                since = STATE["rv"]
        sent = since
        with LOCK:
            epoch = STATE["epoch"]
        while True:
            with LOCK:
                if sent < STATE["compacted_rv"] or epoch != STATE["epoch"]:
                    err = status_json(410, "Expired", "too old resource version: %d (%d)" % (
                        sent, STATE["compacted_rv"] + 1))
                    self.chunk(json.dumps({"type": "ERROR", "object": err}).encode() + b"\n")
                    self.end_chunked()
                    return
                batch = [(rv, ty, obj) for rv, ty, obj in STATE["events"] if rv > sent]
                if not batch:
                    LOCK.wait(0.1)
                    batch = [(rv, ty, obj) for rv, ty, obj in STATE["events"] if rv > sent]
            out = b""
            for rv, ty, obj in batch:
                sent = rv
                if ns and obj["metadata"]["namespace"] != ns:
                    continue
                if not match_labels(obj["metadata"].get("labels", {}), q.get("labelSelector")):
                    continue
                if not match_fields(obj, q.get("fieldSelector")):
                    continue
                out += json.dumps({"type": ty, "object": obj}).encode() + b"\n"
            self.chunk(out)
            t = time.time()
            if bookmarks and t - last_bookmark >= every:
                with LOCK:
                    rv = STATE["rv"]
                sent = max(sent, rv)
                self.chunk(json.dumps({"type": "BOOKMARK", "object": {
                    "kind": "Pod", "apiVersion": "v1",
                    "metadata": {"resourceVersion": str(rv),
                                 "annotations": {"k8s.io/initial-events-end": "true"}}}}).encode() + b"\n")
                last_bookmark = t
            if faults.get("drop_watch_every_ms") and t - start >= faults["drop_watch_every_ms"] / 1000:
                self.drop()
            if t - start >= timeout:
                self.end_chunked()
                return

    # --- logs -----------------------------------------------------------
    def pod_log(self, ns, name, q):
        with LOCK:
            obj = STATE["pods"].get((ns, name))
            STATE["log_requests"] += 1
            nreq = STATE["log_requests"]
        pod = next((p for p in PODS if p["namespace"] == ns and p["name"] == name), None)
        if obj is not None and (ns, name) in SCRIPT_LOGS:
            return self.script_log(obj, SCRIPT_LOGS[(ns, name)], q)
        if obj is None or pod is None:
            return self.fail(404, "NotFound", 'pods "%s" not found' % name)
        every = SCEN.get("faults", {}).get("throttle_every")
        if every and nreq % every == 0:
            return self.fail(429, "TooManyRequests", "too many requests, please try again later",
                             {"Retry-After": "1"})
        cname = q.get("container")
        allc = list(pod["main"]) + list(pod["init"])
        if not cname:
            if len(pod["main"]) != 1:
                return self.fail(400, "BadRequest",
                                 "a container name must be specified for pod %s, choose one of: [%s]"
                                 % (name, " ".join(pod["main"])))
            cname = next(iter(pod["main"]))
        if cname not in allc:
            return self.fail(400, "BadRequest",
                             "container %s is not valid for pod %s" % (cname, name))
        insts = pod["main"].get(cname) or pod["init"][cname]
        t = now_ns()
        statuses = obj["status"].get("containerStatuses", []) + obj["status"].get(
            "initContainerStatuses", [])
        st = next(s for s in statuses if s["name"] == cname)
        # the kubelet's choice of container (validateContainerLogStatus)
        last = st.get("lastState", {}).get("terminated")
        state = st["state"]
        if q.get("previous") in ("true", "1"):
            if not last:
                return self.fail(400, "BadRequest",
                                 'previous terminated container "%s" in pod "%s" not found' % (cname, name))
            cid = last["containerID"]
        elif "running" in state or "terminated" in state:
            cid = st["containerID"]
        elif last:
            cid = last["containerID"]
        else:
            return self.fail(400, "BadRequest",
                             'container "%s" in pod "%s" is waiting to start: %s' % (
                                 cname, name, state["waiting"]["reason"]))
        inst = next(i for i in insts if i.cid == cid)
        self.serve_log(inst, q, t)

    def serve_log(self, inst, q, t):
        follow = q.get("follow") in ("true", "1")
        stamps = q.get("timestamps") in ("true", "1")
        faults = SCEN.get("faults", {})
        first = 1
        if "sinceTime" in q:
            since = parse_rfc3339(q["sinceTime"])
            if since is None:
                return self.fail(400, "BadRequest", "invalid sinceTime")
            # the kubelet only gets whole seconds
            since -= since % NS
            first = inst.first_at_or_after(since)
        elif "sinceSeconds" in q:
            first = inst.first_at_or_after(t - int(q["sinceSeconds"]) * NS)
        have = inst.count_at(t)
        if "tailLines" in q:
            first = max(first, have - int(q["tailLines"]) + 1)
        self.start_chunked("text/plain")
        start = time.time()
        n = first
        if inst.body is not None and stamps and n == 1:
            # a pre-built body (benchmarks): as fast as the socket goes
            for i in range(0, len(inst.body), 262144):
                self.chunk(inst.body[i:i + 262144])
            n = inst.fixed + 1
        drop = faults.get("drop_every_ms")
        eof = faults.get("eof_every_ms")
        stall_at = faults.get("stall_after_ms")
        stall_for = faults.get("stall_ms", 0)
        # without follow, the log as it was when the request came: a line
        # written while the answer goes out is not in it (--tail 2 is 2)
        until = None if follow else inst.count_at(t)
        while True:
            have = inst.count_at(now_ns())
            if until is not None:
                have = min(have, until)
            if n <= have:
                buf = []
                size = 0
                while n <= have and size < 65536:
                    line = inst.text(n)
                    if stamps:
                        line = rfc3339(inst.ts(n), True) + " " + line
                    buf.append(line)
                    size += len(line) + 1
                    n += 1
                self.chunk(("\n".join(buf) + "\n").encode())
                if n <= have:
                    continue
            ended = inst.end is not None and now_ns() >= inst.end
            if ended and n > inst.count_at(inst.end):
                return self.end_chunked()
            if not follow:
                return self.end_chunked()
            el = time.time() - start
            if drop and el >= drop / 1000:
                self.drop()
            if eof and el >= eof / 1000:
                return self.end_chunked()
            if stall_at and el >= stall_at / 1000:
                time.sleep(stall_for / 1000)
                self.drop()
            wait = 0.05
            if inst.fixed is None:
                wait = min(wait, max(0.0, (inst.ts(n) - now_ns()) / NS))
            time.sleep(max(wait, 0.001))

    def script_log(self, obj, logs, q):
        """The fixed log lines of a pod the script added (the kubelet keeps
        the last instance's log for a crash-looping container)."""
        names = [c["name"] for c in obj["spec"]["containers"]]
        cname = q.get("container") or (names[0] if len(names) == 1 else None)
        if cname is None:
            return self.fail(400, "BadRequest",
                             "a container name must be specified for pod %s, choose one of: [%s]"
                             % (obj["metadata"]["name"], " ".join(names)))
        if cname not in logs:
            return self.fail(400, "BadRequest", 'container "%s" in pod "%s" is waiting to '
                             'start: trying and failing to pull image'
                             % (cname, obj["metadata"]["name"]))
        lines = list(logs[cname])
        if "tailLines" in q:
            lines = lines[-int(q["tailLines"]):] if int(q["tailLines"]) else []
        if q.get("timestamps") in ("true", "1"):
            lines = ["%s %s" % (obj["metadata"]["creationTimestamp"], x) for x in lines]
        body = "".join(x + "\n" for x in lines).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    # --- workloads --------------------------------------------------------
    def workload(self, user, group, ns, kind, name, q):
        for w in SCEN.get("workloads", []):
            if kind not in WORKLOADS or WORKLOADS[kind][0] != group:
                break
            if w["kind"] == WORKLOADS[kind][1] and w["name"] == name and \
                    w.get("namespace", "default") == ns:
                obj = {"kind": w["kind"], "apiVersion": group + "/v1",
                       "metadata": {"name": name, "namespace": ns},
                       "spec": {"selector": {"matchLabels": w.get("matchLabels", {})}}}
                if w.get("matchExpressions"):
                    obj["spec"]["selector"]["matchExpressions"] = w["matchExpressions"]
                return self.send_json(200, obj)
        # not a scenario workload: the object store's
        self.objects(user, group, "v1", ns, kind, name, None, q)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, addr, handler, ctx):
        super().__init__(addr, handler)
        self.ctx = ctx

    def get_request(self):
        sock, addr = super().get_request()
        # as Go's net/http: no Nagle delay between headers and body
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.ctx:
            sock.settimeout(10)
            try:
                sock = self.ctx.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError):
                sock.close()
                raise OSError("tls handshake failed")
            sock.settimeout(None)
        return sock, addr

    def handle_error(self, request, client_address):
        pass


def main():
    global SCEN, RECORD, PODS, STORE
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--certs")
    ap.add_argument("--record")
    a = ap.parse_args()
    with open(a.scenario) as f:
        SCEN = json.load(f)
    RECORD = a.record
    pods = list(SCEN.get("pods", []))
    for g in SCEN.get("generate", []):
        for i in range(g["count"]):
            p = json.loads(json.dumps(g["pod"]).replace("{i}", str(i)))
            p["create_ms"] = p.get("create_ms", 0) + i * g.get("stagger_ms", 0)
            pods.append(p)
    PODS = [build_pod(p) for p in pods]
    STORE = objects.Store(LOCK, STATE, SCEN)
    for p in PODS:
        for insts in p["main"].values():
            for i in insts:
                if i.fixed is not None and i.fixed > 1000:
                    prebuild(i)
    ctx = None
    if a.certs:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.certs + "/server.crt", a.certs + "/server.key")
        ctx.load_verify_locations(a.certs + "/ca.crt")
        ctx.verify_mode = ssl.CERT_OPTIONAL
    srv = Server(("127.0.0.1", a.port), Handler, ctx)
    threading.Thread(target=clock, daemon=True).start()
    threading.Thread(target=script, daemon=True).start()
    sys.stdout.write("listening on %d\n" % a.port)
    sys.stdout.flush()
    srv.serve_forever()


if __name__ == "__main__":
    main()
