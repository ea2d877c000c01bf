"""The status benchmark (see run.sh)."""
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

top, saasctl, T = sys.argv[1:4]
FIXTURE = top + "/tests/servers/kube-apiserver/server.py"
env = dict(os.environ, HOME=T, GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="b@example.com",
           GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="b@example.com",
           GIT_CONFIG_NOSYSTEM="1")
env.pop("NO_COLOR", None)


def port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def fixture(scen, name):
    path = "%s/%s.json" % (T, name)
    json.dump(scen, open(path, "w"))
    p = port()
    log = open("%s/%s.log" % (T, name), "w")
    if not os.path.exists(T + "/pki/ca.crt"):
        subprocess.run([top + "/tests/servers/kube-apiserver/mkcerts.sh", T + "/pki"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # TLS: kubectl sends no bearer token over plain HTTP
    proc = subprocess.Popen([sys.executable, FIXTURE, "--port", str(p), "--scenario", path,
                             "--certs", T + "/pki"], stdout=log, stderr=subprocess.STDOUT)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", p)).close()
            break
        except OSError:
            time.sleep(0.05)
    kc = "%s/kc-%s" % (T, name)
    open(kc, "w").write("""apiVersion: v1
kind: Config
current-context: fx
clusters: [{name: fx, cluster: {server: "https://127.0.0.1:%d", certificate-authority: "%s"}}]
users: [{name: u, user: {token: tok-alice}}]
contexts: [{name: fx, context: {cluster: fx, user: u, namespace: default}}]
""" % (p, T + "/pki/ca.crt"))
    return proc, kc, "%s/%s.log" % (T, name)


def git(*a, cwd=None):
    subprocess.run(["git"] + list(a), cwd=cwd, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def latency():
    work, remote = T + "/work", T + "/remote.git"
    shutil.copytree(top + "/tests/data/deploy/monorepo", work)
    git("init", "-q", "--bare", "-b", "main", remote)
    git("init", "-q", "-b", "main", cwd=work)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "monorepo", cwd=work)
    git("remote", "add", "origin", "file://" + remote, cwd=work)
    git("push", "-q", "origin", "main", cwd=work)
    scen = json.loads(subprocess.check_output(
        [sys.executable, top + "/tests/data/deploy/rollout-scenario.py", "no-flux", remote]))
    steps = scen["script"]["steps"]
    done = [i for i, s in enumerate(steps) if s.get("after_ms") == 450]
    for i in done:
        steps[i]["after_ms"] = 2000      # well after both watchers are up
    target = next(i for i in done if steps[i]["patch"]["name"] == "webserver")
    proc, kc, log = fixture(scen, "latency")
    e = dict(env, KUBECONFIG=kc)
    seen = {}

    def read(name, p, pattern):
        for line in p.stdout:
            if re.search(pattern, line) and name not in seen:
                seen[name] = time.time()

    d = subprocess.Popen([saasctl, "--json", "deploy", "web", "--image", "ghcr.io/acme/web:v2",
                          "--wait", "--timeout", "20s"], cwd=work, env=e,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    td = threading.Thread(target=read, args=("saasctl", d,
                          r'"deployment \\"webserver\\" successfully rolled out"'))
    td.start()
    time.sleep(1.0)     # the Deployment's new generation is observed by now
    k = subprocess.Popen(["kubectl", "rollout", "status", "deployment/webserver", "-n", "web"],
                         env=e, stdout=subprocess.PIPE, stderr=open(T + "/kubectl.err", "w"),
                         text=True)
    tk = threading.Thread(target=read, args=("kubectl", k, r"successfully rolled out"))
    tk.start()
    d.wait(30)
    k.wait(30)
    td.join()
    tk.join()
    proc.terminate()
    proc.wait()
    at = None
    for line in open(log):
        m = re.match(r"script step (\d+) at ([\d.]+)", line)
        if m and int(m.group(1)) == target:
            at = float(m.group(2))
    if at is None or "saasctl" not in seen or "kubectl" not in seen:
        sys.exit("bench status: latency run incomplete: %s %s" % (
            seen, open(T + "/kubectl.err").read()))
    return seen["saasctl"] - at, seen["kubectl"] - at


def status50():
    n = 50
    root = T + "/fifty"
    objs = [{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
             "metadata": {"name": "certificates.cert-manager.io"},
             "spec": {"group": "cert-manager.io", "scope": "Namespaced",
                      "names": {"plural": "certificates", "singular": "certificate",
                                "kind": "Certificate"},
                      "versions": [{"name": "v1", "served": True, "storage": True,
                                    "subresources": {"status": {}}}]}}]
    os.makedirs(root)
    open(root + "/saasctl.yaml", "w").write("project: bench\n")
    for i in range(n):
        a = "app%02d" % i
        os.makedirs("%s/manifests/apps/%s" % (root, a))
        open("%s/manifests/apps/%s/app.yaml" % (root, a), "w").write("""apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: %(a)s}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "ghcr.io/acme/%(a)s:v1"}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: %(a)s}
spec:
  tls: [{hosts: [%(a)s.example.com], secretName: web-tls}]
  rules: [{host: %(a)s.example.com}]
""" % {"a": a})
        objs.append({"apiVersion": "apps/v1", "kind": "Deployment",
                     "metadata": {"name": "web", "namespace": a, "generation": 1},
                     "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                              "template": {"spec": {"containers": [
                                  {"name": "web", "image": "ghcr.io/acme/%s:v1" % a}]}}},
                     "status": {"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3,
                                "readyReplicas": 3, "availableReplicas": 3}})
        objs.append({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                     "metadata": {"name": "web", "namespace": a},
                     "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"},
                              "maxReplicas": 10},
                     "status": {"currentReplicas": 3, "desiredReplicas": 3}})
        objs.append({"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
                     "metadata": {"name": "web-tls", "namespace": a},
                     "spec": {"dnsNames": ["%s.example.com" % a]},
                     "status": {"notAfter": "2099-01-01T00:00:00Z"}})
    proc, kc, _ = fixture({"tokens": {"tok-alice": "alice"}, "objects": objs}, "fifty")
    e = dict(env, KUBECONFIG=kc)

    def measure(cmd, cwd):
        runs = []
        for _ in range(5):
            out = subprocess.run(["/usr/bin/time", "-f", "%e %M"] + cmd, cwd=cwd, env=e,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            wall, rss = out.stderr.strip().splitlines()[-1].split()
            runs.append((float(wall), int(rss)))
        return statistics.median(r[0] for r in runs), max(r[1] for r in runs)

    s = measure([saasctl, "status"], root)
    k = measure(["kubectl", "get", "deployments,statefulsets,daemonsets,pods,hpa,certificates",
                 "-A", "-o", "json"], root)
    proc.terminate()
    proc.wait()
    return s, k


lat_s, lat_k = latency()
(s_wall, s_rss), (k_wall, k_rss) = status50()
print("bench status: rollout seen %.3f s after the change (kubectl rollout status: %.3f s, "
      "ratio %.2f); target <= 0.2 s" % (lat_s, lat_k, lat_s / lat_k if lat_k > 0 else 0))
print("bench status: 50 apps in %.3f s, peak RSS %.1f MiB (kubectl get of the same "
      "collections: %.3f s, %.1f MiB; ratio %.2f); target <= 0.5 s, <= 20 MiB"
      % (s_wall, s_rss / 1024, k_wall, k_rss / 1024, s_wall / k_wall if k_wall else 0))
ok = lat_s <= 0.2 and s_wall <= 0.5 and s_rss <= 20 * 1024
sys.exit(0 if ok else 1)
