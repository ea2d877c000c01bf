#!/bin/sh
# Benchmark: 50 pods x 1 container, each with LINES lines ready at once on
# the kube-apiserver fixture (TLS, bearer token). Compares
#   saasctl logs -l app=bench -o raw
#   kubectl logs -f -l app=bench --prefix --max-log-requests 50 --tail=-1
# in the same run: lines/s, peak RSS and time to the first line, as ratios.
# Targets: lines/s >= 2x, peak RSS <= 0.25x, first line <= 0.5x kubectl.
set -eu
top=$(cd "$(dirname "$0")/../../.." && pwd)
PY=/usr/bin/python3
SAASCTL=${SAASCTL:-$top/saasctl}
LINES=${LINES:-20000}
PODS=${PODS:-50}
ROUNDS=${ROUNDS:-3}
T=$(mktemp -d "${TMPDIR:-/tmp}/saasctl-bench.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
command -v kubectl >/dev/null || { echo "bench logs: needs kubectl" >&2; exit 1; }

"$top/tests/servers/kube-apiserver/mkcerts.sh" "$T/pki"
port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$T/scenario.json" <<JSON
{"tokens": {"tok-bench": "bench"},
 "generate": [{"count": $PODS, "pod": {"name": "bench-{i}", "labels": {"app": "bench"},
   "containers": ["app"], "lines": $LINES}}]}
JSON
$PY "$top/tests/servers/kube-apiserver/server.py" --port "$port" --scenario "$T/scenario.json" \
	--certs "$T/pki" > "$T/server.log" 2>&1 &
pid=$!
$PY - "$port" <<'PYEOF'
import socket, sys, time
end = time.time() + 120
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close(); sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PYEOF
mkdir -p "$T/home"
cat > "$T/kc" <<YAML
apiVersion: v1
kind: Config
current-context: bench
clusters: [{name: bench, cluster: {server: "https://127.0.0.1:$port", certificate-authority: "$T/pki/ca.crt"}}]
users: [{name: bench, user: {token: tok-bench}}]
contexts: [{name: bench, context: {cluster: bench, user: bench, namespace: default}}]
YAML
export KUBECONFIG="$T/kc" HOME="$T/home"
# kubectl keeps API discovery in ~/.kube/cache: warm it, as a user's is
kubectl get pods -l app=bench -o name > /dev/null

# measure NAME CMD...: time to first line, to all lines, peak RSS (VmHWM)
measure() {
	$PY - "$((PODS * LINES))" "$@" <<'PYEOF'
import os, signal, subprocess, sys, time
total, name, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
start = time.monotonic()
p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
n, first, hwm = 0, None, 0
def peak():
    try:
        for l in open("/proc/%d/status" % p.pid):
            if l.startswith("VmHWM:"):
                return int(l.split()[1])
    except OSError:
        pass
    return 0
while n < total:
    data = p.stdout.read1(1 << 20)
    if not data:
        break
    if first is None:
        first = time.monotonic() - start
    n += data.count(b"\n")
    if time.monotonic() - start > 300:
        break
done = time.monotonic() - start
hwm = peak()
p.send_signal(signal.SIGINT)
try:
    p.wait(10)
except subprocess.TimeoutExpired:
    p.kill()
print("%s %d %.4f %.4f %d" % (name, n, first or 0, done, hwm))
PYEOF
}

i=0
: > "$T/results"
while [ "$i" -lt "$ROUNDS" ]; do
	measure saasctl "$SAASCTL" logs -l app=bench -o raw >> "$T/results"
	# --tail=-1: with -l, kubectl reads only the last 10 lines otherwise
	measure kubectl kubectl logs -f -l app=bench --prefix --max-log-requests 50 --tail=-1 >> "$T/results"
	i=$((i + 1))
done

$PY - "$T/results" "$((PODS * LINES))" "$PODS" <<'PYEOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
total = int(sys.argv[2])
res = {}
for name, n, first, done, hwm in rows:
    r = res.setdefault(name, {"lps": [], "first": [], "rss": [], "n": []})
    r["n"].append(int(n)); r["lps"].append(int(n) / float(done))
    r["first"].append(float(first)); r["rss"].append(int(hwm))
med = {k: {m: statistics.median(v) for m, v in r.items()} for k, r in res.items()}
s, k = med["saasctl"], med["kubectl"]
print("bench logs: %s lines from %s pods over TLS, median of %d rounds" % (total, sys.argv[3], len(rows) // 2))
for name in ("saasctl", "kubectl"):
    m = med[name]
    print("  %-8s %10.0f lines/s  first line %6.1f ms  peak RSS %7.1f MiB  (%d of %d lines)" % (
        name, m["lps"], m["first"] * 1000, m["rss"] / 1024, m["n"], total))
def verdict(ok):
    return "ok" if ok else "MISSED"
r1 = s["lps"] / k["lps"]; r2 = s["rss"] / k["rss"]; r3 = s["first"] / k["first"]
print("  lines/s ratio      %.2fx kubectl (target >= 2x)   %s" % (r1, verdict(r1 >= 2)))
print("  peak RSS ratio     %.2fx kubectl (target <= 0.25x) %s" % (r2, verdict(r2 <= 0.25)))
print("  first line ratio   %.2fx kubectl (target <= 0.5x)  %s" % (r3, verdict(r3 <= 0.5)))
PYEOF
