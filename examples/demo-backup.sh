#!/bin/bash
# A short tour of ClickHouse backups: starts Debian's clickhouse-server on
# private ports (the config of tests/servers/clickhouse) and a throw-away
# Ceph RGW as a local S3 (tests/servers/rgw, memory only), loads sample
# analytics events, backs them up to a folder and to an S3 bucket, lists
# and verifies both, restores from S3 into a new database, then compares
# what came back. Without Ceph it says so and goes on with the folder.
# Every server it starts is stopped on every way out, ^C included.
# Usage: examples/demo-backup.sh SAASCTL_BINARY SCRATCH_MONOREPO_DIR
set -euo pipefail
saasctl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
repo=$2
top=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
work=$(mktemp -d "${TMPDIR:-/tmp}/saasctl-demo-backup.XXXXXX")
server= rgw=
stop() {
	if [ -n "$server" ]; then
		kill "$server" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$server" 2>/dev/null || true
	fi
	if [ -n "$rgw" ]; then
		# a start still under way: it and the step it is at
		kill -TERM -- "-$rgw" 2>/dev/null || true
		wait "$rgw" 2>/dev/null || true
		"$top/tests/servers/rgw/stop.sh" "$work/rgw"
	fi
	rm -rf "$work"
}
trap stop EXIT
# On ^C or TERM: clean up, then die of the same signal, so that the caller
# (examples/demo.sh, make) stops too instead of going on.
for sig in INT TERM HUP; do
	trap "stop; trap - EXIT $sig; kill -$sig \$\$" "$sig"
done
cd "$repo"

bold= off=
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	bold=$(tput bold 2>/dev/null || true) off=$(tput sgr0 2>/dev/null || true)
fi
say() { printf '\n%s# %s%s\n' "$bold" "$*" "$off"; }
show() { printf '%s$ saasctl' "$bold"; printf ' %q' "$@"; printf '%s\n' "$off"; "$saasctl" "$@"; }
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

if ! command -v clickhouse-server > /dev/null; then
	say "ClickHouse backups: skipped, clickhouse-server is not installed (make deps)"
	exit 0
fi

# The S3 store: Ceph's gateway in the background (about 20 s), while
# ClickHouse starts and loads; the same start as the tests use.
s3_access=saasctl-demo-access s3_secret=saasctl-demo-secret-1234567890
s3_port=$(free_port)
s3_missing=
for c in radosgw ceph-mon ceph-osd ceph radosgw-admin monmaptool; do
	command -v "$c" > /dev/null || s3_missing="$s3_missing $c"
done
if [ -z "$s3_missing" ]; then
	# in a process group of its own, to be stopped whole if cut short
	RGW_OWNER_PID=$$ setsid "$top/tests/servers/rgw/start.sh" "$work/rgw" "$s3_port" \
		"$s3_access" "$s3_secret" > "$work/rgw-start.log" 2>&1 < /dev/null &
	rgw=$!
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

folder=file://$work/backups
say "Back up every database to a folder: schema, then each partition in Native, LZ4, BLAKE2b-hashed"
show backup clickhouse --store "$folder"

# S3: wait for the gateway, then make a bucket (saasctl never creates one).
s3=
if [ -n "$s3_missing" ]; then
	say "S3: skipped, Ceph RGW is not installed (missing:$s3_missing; make deps installs it)"
elif ! wait "$rgw"; then
	rgw_log=$(tail -n 3 "$work/rgw-start.log")
	say "S3: skipped, the local Ceph RGW did not start: ${rgw_log:-no message}"
else
	export AWS_ACCESS_KEY_ID=$s3_access AWS_SECRET_ACCESS_KEY=$s3_secret AWS_REGION=us-east-1 \
		AWS_ENDPOINT_URL_S3=http://127.0.0.1:$s3_port
	unset AWS_ENDPOINT_URL AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_REGION
	# curl signs this one request; RGW wants the hash of the (empty) body
	if curl -sSf -X PUT --aws-sigv4 aws:amz:us-east-1:s3 -u "$s3_access:$s3_secret" \
		-H "x-amz-content-sha256: $(printf '' | sha256sum | cut -d' ' -f1)" \
		"$AWS_ENDPOINT_URL_S3/acme-backups" -o /dev/null; then
		s3=s3://acme-backups/clickhouse
	else
		say "S3: skipped, the bucket could not be made on the local Ceph RGW"
	fi
fi
if [ -n "$s3" ]; then
	say "The same to S3 (a local Ceph RGW; AWS_ENDPOINT_URL_S3 points saasctl at it): streamed as uploads, SigV4-signed"
	show backup clickhouse --store "$s3"
fi

say "The backups in each store; a backup without its manifest would say incomplete"
show backup list --store "$folder"
[ -z "$s3" ] || show backup list --store "$s3"

# restore from S3 when there is one, else from the folder
from=${s3:-$folder}
id=$("$saasctl" backup list --store "$from" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')

say "Verify: read every object of the backup back and check its BLAKE2b against the manifest"
show backup verify "$id" --read-data --store "$from"

say "Restore from $([ -n "$s3" ] && echo S3 || echo the folder) into a new database: each object is checked before its rows reach the table"
show restore clickhouse "$id" --store "$from" --db-map analytics=analytics_restored

say "The same rows, the same checksum"
for db in analytics analytics_restored; do
	printf '%-20s %s\n' "$db" "$(q "SELECT count(), sum(cityHash64(*)) FROM $db.events" | tr '\t' ' ')"
done
