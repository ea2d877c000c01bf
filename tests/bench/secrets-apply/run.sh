#!/bin/sh
# Benchmark: the secrets controller reconciles COUNT SealedSecrets x ITEMS
# items on the kube-apiserver fixture (plain HTTP, bearer token), from
# start to every Secret written. The baseline, measured in the same run,
# is the fixture's own floor: COUNT server-side-apply PATCHes of Secrets
# of the same size from one curl process on one connection.
# sealed-secrets' controller publishes no throughput figure; its start
# generates a 4096-bit RSA key, which takes seconds.
# Targets: peak RSS <= 20 MiB; start to ready (first /healthz 200) <= 50 ms.
set -eu
top=$(cd "$(dirname "$0")/../../.." && pwd)
PY=/usr/bin/python3
SAASCTL=${SAASCTL:-$top/saasctl}
COUNT=${COUNT:-1000}
ITEMS=${ITEMS:-5}
T=$(mktemp -d "${TMPDIR:-/tmp}/saasctl-bench.XXXXXX")
pid= cpid=
cleanup() {
	[ -n "$cpid" ] && kill "$cpid" 2>/dev/null
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
command -v curl >/dev/null || { echo "bench secrets-apply: needs curl" >&2; exit 1; }
freeport() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

mkdir -p "$T/keys" "$T/home"
export HOME="$T/home"
"$SAASCTL" keygen -q --name cluster --out "$T/keys" > /dev/null
"$SAASCTL" secrets install --out "$T/inst" > /dev/null 2>&1
args=""
i=1
while [ "$i" -le "$ITEMS" ]; do
	args="$args --from-literal ITEM_$i=$($PY -c 'import secrets; print(secrets.token_urlsafe(36))')"
	i=$((i + 1))
done
# cluster scope: one sealed set of items serves every name
"$SAASCTL" seal $args --name tpl --scope cluster -r "$T/keys/cluster.pub" -o "$T/tpl.yaml" 2>/dev/null
$PY - "$T" "$COUNT" <<'PYEOF'
import json, sys, yaml
t, n = sys.argv[1], int(sys.argv[2])
crd = yaml.safe_load(open(t + "/inst/crd.yaml"))
tpl = yaml.safe_load(open(t + "/tpl.yaml"))
objs = [crd]
for i in range(n):
    o = json.loads(json.dumps(tpl))
    o["metadata"] = {"name": "app-%d" % i, "namespace": "ns-%d" % (i % 10)}
    objs.append(o)
json.dump({"tokens": {"tok-bench": "bench"}, "objects": objs}, open(t + "/scenario.json", "w"))
json.dump({"tokens": {"tok-bench": "bench"}, "objects": [crd]}, open(t + "/empty.json", "w"))
# the floor's requests: Secrets of the same size as the controller writes
sec = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
       "data": {k: "x" * 64 for k in tpl["spec"]["encryptedData"]},
       "metadata": {"annotations": {"saasctl.dev/sealed-hash": "h" * 400}}}
with open(t + "/curl.cfg", "w") as f:
    for i in range(n):
        s = json.loads(json.dumps(sec))
        s["metadata"].update({"name": "floor-%d" % i, "namespace": "ns-%d" % (i % 10)})
        body = t + "/b%d.json" % i
        json.dump(s, open(body, "w"))
        if i:
            f.write("next\n")
        f.write('request = "PATCH"\nheader = "Content-Type: application/apply-patch+yaml"\n'
                'header = "Authorization: Bearer tok-bench"\nsilent\noutput = "/dev/null"\n'
                'data-binary = "@%s"\nurl = "http://127.0.0.1:PORT/api/v1/namespaces/ns-%d/secrets/floor-%d?fieldManager=bench"\n'
                % (body, i % 10, i))
PYEOF

start_fixture() { # SCENARIO
	port=$(freeport)
	$PY "$top/tests/servers/kube-apiserver/server.py" --port "$port" --scenario "$1" > "$T/server.log" 2>&1 &
	pid=$!
	$PY -c '
import socket, sys, time
end = time.time() + 120
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close(); sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)' "$port"
	cat > "$T/kc" <<YAML
apiVersion: v1
kind: Config
current-context: bench
clusters: [{name: bench, cluster: {server: "http://127.0.0.1:$port"}}]
users: [{name: bench, user: {token: tok-bench}}]
contexts: [{name: bench, context: {cluster: bench, user: bench, namespace: default}}]
YAML
}
stop_fixture() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

# The floor
start_fixture "$T/scenario.json"
sed -i "s/PORT/$port/" "$T/curl.cfg"
floor=$($PY -c '
import subprocess, sys, time
t = time.monotonic(); subprocess.run(["curl", "-K", sys.argv[1]], check=True)
print("%.3f" % (time.monotonic() - t))' "$T/curl.cfg")

# The controller: start to ready, then to every Secret written
hp=$(freeport)
$PY - "$SAASCTL" "$T" "$hp" "$port" "$COUNT" > "$T/ctl.res" <<'PYEOF'
import json, subprocess, sys, time, urllib.request
saasctl, t, hp, port, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
def get(url, auth=False):
    req = urllib.request.Request(url)
    if auth:
        req.add_header("Authorization", "Bearer tok-bench")
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.read()
start = time.monotonic()
p = subprocess.Popen([saasctl, "-q", "secrets", "controller", "-k", t + "/keys",
                      "--health-addr", "127.0.0.1:" + hp, "--kubeconfig", t + "/kc"])
ready = None
while ready is None and time.monotonic() - start < 30:
    try:
        get("http://127.0.0.1:%s/healthz" % hp)
        ready = time.monotonic() - start
    except OSError:
        time.sleep(0.001)
done = None
while done is None and time.monotonic() - start < 600:
    m = get("http://127.0.0.1:%s/metrics" % hp).decode()
    rec = [l for l in m.splitlines() if l.startswith("saasctl_secrets_reconciles_total ")]
    if rec and int(rec[0].split()[1]) >= n:
        items = json.loads(get("http://127.0.0.1:%s/api/v1/secrets" % port, True))["items"]
        if sum(1 for s in items if s["metadata"]["name"].startswith("app-")) >= n:
            done = time.monotonic() - start
            break
    time.sleep(0.1)
hwm = 0
for l in open("/proc/%d/status" % p.pid):
    if l.startswith("VmHWM:"):
        hwm = int(l.split()[1])
p.terminate(); p.wait(5)
print("%.4f %.3f %d" % (ready or -1, done or -1, hwm))
PYEOF
stop_fixture

# Start to ready with nothing to list
start_fixture "$T/empty.json"
$PY - "$SAASCTL" "$T" "$hp" <<'PYEOF' > "$T/ready.res"
import subprocess, sys, time, urllib.request
saasctl, t, hp = sys.argv[1:]
best = []
for _ in range(5):
    start = time.monotonic()
    p = subprocess.Popen([saasctl, "-q", "secrets", "controller", "-k", t + "/keys",
                          "--health-addr", "127.0.0.1:" + hp, "--kubeconfig", t + "/kc"])
    while p.poll() is None:
        try:
            urllib.request.urlopen("http://127.0.0.1:%s/healthz" % hp, timeout=1).read()
            break
        except OSError:
            time.sleep(0.0005)
    best.append(time.monotonic() - start)
    p.terminate(); p.wait(5)
best.sort()
print("%.4f" % best[len(best) // 2])
PYEOF
stop_fixture

$PY - "$COUNT" "$ITEMS" "$floor" "$(cat "$T/ctl.res")" "$(cat "$T/ready.res")" <<'PYEOF'
import sys
n, items, floor = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
ready_full, done, hwm = sys.argv[4].split()
ready_full, done, hwm = float(ready_full), float(done), int(hwm)
ready_empty = float(sys.argv[5])
def verdict(ok):
    return "ok" if ok else "MISSED"
print("bench secrets-apply: %d SealedSecrets x %d items on the kube-apiserver fixture" % (n, items))
print("  floor: %d apply PATCHes from curl   %7.2f s" % (n, floor))
print("  controller: start to all Secrets    %7.2f s  (%.2fx the floor; each also GETs the Secret and writes the status)" % (done, done / floor))
print("  controller peak RSS                 %7.1f MiB (target <= 20 MiB)  %s" % (hwm / 1024, verdict(hwm <= 20 * 1024)))
print("  start to ready, nothing to list     %7.1f ms  (target <= 50 ms)   %s" % (ready_empty * 1000, verdict(ready_empty <= 0.05)))
print("  start to ready, %d to list        %7.1f ms  (the first list is the fixture's)" % (n, ready_full * 1000))
PYEOF
