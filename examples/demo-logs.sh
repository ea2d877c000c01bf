#!/bin/bash
# A short tour of 'saasctl logs' against the Kubernetes API fixture of
# tests/servers/kube-apiserver (TLS with its own CA, a bearer token, pods
# that write numbered lines, restart, and lose their connections).
# Usage: examples/demo-logs.sh SAASCTL_BINARY SCRATCH_MONOREPO_DIR
set -euo pipefail
saasctl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
repo=$2
top=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
work=$(mktemp -d "${TMPDIR:-/tmp}/saasctl-demo-logs.XXXXXX")
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$repo"
cd "$repo"

say() { printf '\n\033[1m# %s\033[0m\n' "$*"; }
show() { printf '$ saasctl'; printf ' %q' "$@"; printf '\n'; "$saasctl" "$@"; }

"$top/tests/servers/kube-apiserver/mkcerts.sh" "$work/pki"
port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/scenario.json" <<'JSON'
{"tokens": {"demo-token": "founder"},
 "faults": {"drop_every_ms": 1500},
 "pods": [
  {"name": "demo-web-7d9f-x2k4", "namespace": "demo", "labels": {"app": "demo", "component": "web"},
   "containers": ["web"], "period_ms": 400},
  {"name": "demo-web-7d9f-q8m1", "namespace": "demo", "labels": {"app": "demo", "component": "web"},
   "containers": ["web"], "period_ms": 550, "restarts": [{"at_ms": 2500}]},
  {"name": "demo-worker-5c6b-z7p2", "namespace": "demo", "labels": {"app": "demo", "component": "worker"},
   "containers": ["celery"], "period_ms": 700, "format": "json"},
  {"name": "demo-worker-5c6b-n3v9", "namespace": "demo", "labels": {"app": "demo", "component": "worker"},
   "containers": ["celery"], "period_ms": 700, "create_ms": 2000, "initContainers": ["migrate"], "init_ms": 300}]}
JSON
$PY "$top/tests/servers/kube-apiserver/server.py" --port "$port" --scenario "$work/scenario.json" \
	--certs "$work/pki" > /dev/null 2>&1 &
server=$!
for _ in $(seq 100); do
	$PY -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2).close()" 2>/dev/null && break
	sleep 0.05
done
cat > "$work/kubeconfig" <<YAML
apiVersion: v1
kind: Config
current-context: demo
clusters: [{name: demo, cluster: {server: "https://127.0.0.1:$port", certificate-authority: pki/ca.crt}}]
users: [{name: founder, user: {token: demo-token}}]
contexts: [{name: demo, context: {cluster: demo, user: founder}}]
YAML
export KUBECONFIG=$work/kubeconfig

say "An app of the monorepo: two workloads, one namespace. No selector to remember."
[ -f saasctl.yaml ] || echo 'project: acme' > saasctl.yaml
mkdir -p manifests/apps/demo
for c in web worker; do
	cat > "manifests/apps/demo/$c.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: demo-$c, namespace: demo}
spec:
  selector: {matchLabels: {app: demo, component: $c}}
  template:
    metadata: {labels: {app: demo, component: $c}}
    spec: {containers: [{name: $c, image: "ghcr.io/acme/demo:1.0.0"}]}
YAML
done
ls manifests/apps/demo

say "Tail every pod of the app for a few seconds. The API server drops every stream each 1.5 s, a pod restarts, a new one starts: nothing is lost or repeated."
printf '$ saasctl logs demo --tail 2\n'
"$saasctl" logs demo --tail 2 & pid=$!
sleep 5
kill -INT $pid
wait $pid || true

say "What was there, merged across pods in timestamp order, with timestamps"
show logs demo --no-follow --tail 2 -t

say "Structured logs: NDJSON, with the message's own JSON parsed into fields"
show logs demo -c celery --no-follow --tail 1 -o json

say "Only the lines that matter (POSIX regexes, highlighted on a terminal)"
show logs demo --no-follow -i 'line [0-9]*0$'

say "A clear line when something is wrong"
show logs nosuchapp --no-follow || true
