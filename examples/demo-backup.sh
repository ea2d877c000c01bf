#!/bin/bash
# A short tour of ClickHouse backups: starts Debian's clickhouse-server on
# private ports (the config of tests/servers/clickhouse), loads sample
# analytics events, backs them up to a folder, lists the backups and
# restores into a new database, then compares what came back.
# Usage: examples/demo-backup.sh SAASCTL_BINARY SCRATCH_MONOREPO_DIR
set -euo pipefail
saasctl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
repo=$2
top=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
work=$(mktemp -d "${TMPDIR:-/tmp}/saasctl-demo-backup.XXXXXX")
server=
stop() {
	if [ -n "$server" ]; then
		kill "$server" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$server" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap stop EXIT
cd "$repo"

say() { printf '\n\033[1m# %s\033[0m\n' "$*"; }
show() { printf '$ saasctl'; printf ' %q' "$@"; printf '\n'; "$saasctl" "$@"; }
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

if ! command -v clickhouse-server > /dev/null; then
	say "ClickHouse backups: skipped, clickhouse-server is not installed (make deps)"
	exit 0
fi
port=$(free_port)
$PY "$top/tests/servers/clickhouse/mkconfig.py" "$work/ch" "$port" "$(free_port)" "$(free_port)"
(cd "$work/ch" && exec clickhouse-server --config-file="$work/ch/etc/config.xml") > /dev/null 2>&1 &
server=$!
export SAASCTL_CLICKHOUSE_URL=http://127.0.0.1:$port
for _ in $(seq 300); do
	[ "$(curl -s "$SAASCTL_CLICKHOUSE_URL/ping" 2>/dev/null)" = "Ok." ] && break
	sleep 0.1
done
q() { curl -sS --fail-with-body "$SAASCTL_CLICKHOUSE_URL/" --data-binary "$1"; }

say "ClickHouse $(q 'SELECT version()'): 300,000 page views over three months"
q 'CREATE DATABASE analytics'
q "CREATE TABLE analytics.events (day Date, site String, path String,
	visitor UInt64, ms UInt32) ENGINE = MergeTree PARTITION BY toYYYYMM(day) ORDER BY (site, day)"
q "INSERT INTO analytics.events SELECT toDate('2026-09-01') + number % 91, ['acme.com', 'docs.acme.com'][number % 2 + 1],
	concat('/p/', toString(number % 1000)), cityHash64(number % 40000), number % 3000 FROM numbers(300000)"

store=file://$work/backups
say "Back up every database to a folder: schema, then each partition in Native, LZ4, BLAKE2b-hashed"
show backup clickhouse --store "$store"

say "The backups in the store; a backup without its manifest would say incomplete"
show backup list --store "$store"
id=$("$saasctl" backup list --store "$store" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')

say "Restore into a new database: each object is checked before its rows reach the table"
show restore clickhouse "$id" --store "$store" --db-map analytics=analytics_restored

say "The same rows, the same checksum"
for db in analytics analytics_restored; do
	printf '%-20s %s\n' "$db" "$(q "SELECT count(), sum(cityHash64(*)) FROM $db.events" | tr '\t' ' ')"
done
