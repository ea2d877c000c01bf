#!/bin/bash
# A tour of 'saasctl deploy --wait' and 'saasctl status' against the
# Kubernetes API fixture of tests/servers/kube-apiserver, which plays Flux
# and the Deployment controller once the push lands
# (tests/data/deploy/rollout-scenario.py): a rollout that succeeds, then
# one that crash-loops and is rolled back.
# Usage: examples/demo-wait.sh SAASCTL_BINARY SCRATCH_MONOREPO_DIR
set -euo pipefail
saasctl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
top=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
work=$(mktemp -d "${TMPDIR:-/tmp}/saasctl-demo-wait.XXXXXX")
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT
export GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-Demo} GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-demo@example.com}
export GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL

say() { printf '\n\033[1m# %s\033[0m\n' "$*"; }
show() { printf '$ saasctl'; printf ' %q' "$@"; printf '\n'; "$saasctl" "$@"; }

"$top/tests/servers/kube-apiserver/mkcerts.sh" "$work/pki"
cp -r "$top/tests/data/deploy/monorepo" "$work/infra"
cd "$work/infra"
git init -q --bare -b main "$work/remote.git"
git init -q -b main && git add -A && git commit -q -m monorepo
git remote add origin "file://$work/remote.git" && git push -q origin main

# cluster KIND: a fresh fixture scripted for KIND
cluster() {
	[ -n "$server" ] && kill $server 2>/dev/null && wait $server 2>/dev/null || true
	local port
	port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	FLUX_SHA=$(git rev-parse HEAD) $PY "$top/tests/data/deploy/rollout-scenario.py" "$1" "$work/remote.git" \
		"$2" > "$work/scenario.json"
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
clusters: [{name: demo, cluster: {server: "https://127.0.0.1:$port", certificate-authority: $work/pki/ca.crt}}]
users: [{name: founder, user: {token: tok-alice}}]
contexts: [{name: demo, context: {cluster: demo, user: founder}}]
YAML
	export KUBECONFIG=$work/kubeconfig
}

cluster success ghcr.io/acme/web:v2
say "Before: what the cluster runs against what the monorepo pins"
show status web || true

say "Deploy and wait: Flux applies the commit, then every workload of the image rolls out (kubectl's rules)"
show deploy web --image ghcr.io/acme/web:v2 --wait --timeout 1m

cluster crashloop ghcr.io/acme/web:v3
say "A release that crash-loops fails at once, with the pod's Events and log, and is rolled back"
show deploy web --image ghcr.io/acme/web:v3 --wait --timeout 1m --rollback-on-failure || true
show history web -n 3
