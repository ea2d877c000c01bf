#!/bin/sh
# Benchmark: how fast saasctl learns of a rollout, and `saasctl status` for
# 50 apps, on the kube-apiserver fixture (TLS, bearer token).
#  latency   from the fixture making a Deployment's rollout complete (the
#            script step's timestamp) to `deploy --wait --json` reporting
#            it; the baseline is `kubectl rollout status` on the same
#            Deployment, started before the change, timed the same way.
#  status    `saasctl status` over 50 apps (50 Deployments, HPAs,
#            Certificates, one Kustomization): wall time and peak RSS, the
#            median of 5 runs; the baseline is `kubectl get` of the same
#            collections as JSON.
# Targets: latency <= 0.2 s; status <= 0.5 s with peak RSS <= 20 MiB.
set -eu
top=$(cd "$(dirname "$0")/../../.." && pwd)
SAASCTL=${SAASCTL:-$top/saasctl}
T=$(mktemp -d "${TMPDIR:-/tmp}/saasctl-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
command -v kubectl >/dev/null || { echo "bench status: needs kubectl" >&2; exit 1; }
exec /usr/bin/python3 "$top/tests/bench/status/bench.py" "$top" "$SAASCTL" "$T"
