#!/bin/bash
# A short tour of saasctl's Healthchecks commands against the test server
# of tests/servers/healthchecks (a stand-in for healthchecks.io).
# Usage: examples/demo-healthchecks.sh SAASCTL_BINARY SCRATCH_MONOREPO_DIR
set -euo pipefail
saasctl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
repo=$2
top=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
mkdir -p "$repo"
cd "$repo"

say() { printf '\n\033[1m# %s\033[0m\n' "$*"; }
show() { printf '$ saasctl'; shift; printf ' %q' "$@"; printf '\n'; "$saasctl" "$@"; }

port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
$PY "$top/tests/servers/healthchecks/server.py" --port "$port" --ping-key demo-ping-key \
	--api-key demo-api-key --body-limit 400 > /dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 100); do
	$PY -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2).close()" 2>/dev/null && break
	sleep 0.05
done
export SAASCTL_HC_PING_URL=http://127.0.0.1:$port SAASCTL_HC_API_URL=http://127.0.0.1:$port
export HC_PING_KEY=demo-ping-key HC_API_KEY=demo-api-key

say "Checks live in saasctl.yaml, next to everything else about the project."
cat > saasctl.yaml <<'YAML'
project: acme
healthchecks:
  checks:
    clickhouse-backup: {schedule: "0 3 * * *", tz: UTC, grace: 2h, tags: [backup]}
    usage-stats: {timeout: 15m, grace: 5m}
YAML
cat saasctl.yaml

say "checks sync --dry-run shows the plan; sync applies it; a second sync is a no-op."
show "$saasctl" checks sync --dry-run
show "$saasctl" checks sync
show "$saasctl" checks sync

say "run wraps a cron job: output passes through, the ping gets its tail and exit code."
show "$saasctl" run --check usage-stats -- sh -c 'echo "counted 1234 events"; echo "1 warning" >&2'
echo "(exit status $?)"

say "A failing job keeps its exit status; Healthchecks gets a fail with the output."
set +e
show "$saasctl" run --check clickhouse-backup -- sh -c 'echo "uploading..."; echo "s3: 503 SlowDown" >&2; exit 3'
echo "(exit status $?)"

say "--timeout stops a hung job and its children (exit 124, a fail ping)."
show "$saasctl" run --check clickhouse-backup --timeout 1s --kill-after 1s -- sh -c 'sleep 60 & wait'
echo "(exit status $?)"

say "--lock: a second run while the first is active is skipped and reported."
"$saasctl" run --lock "$repo/job.lock" -- sleep 2 &
first=$!
sleep 0.3
show "$saasctl" run --check usage-stats --lock "$repo/job.lock" -- echo never
echo "(exit status $?)"
wait $first

say "A dead Healthchecks never changes a job's outcome: a warning, and the job's status."
SAASCTL_HC_PING_URL=http://127.0.0.1:1 show "$saasctl" run --check usage-stats --no-start-ping -- true
echo "(exit status $?)"
set -e

say "ping is for CI steps and scripts: start, success, fail, log or an exit code."
show "$saasctl" ping usage-stats start
show "$saasctl" ping usage-stats log --body-file saasctl.yaml

say "checks list shows the state of every check."
show "$saasctl" checks list
