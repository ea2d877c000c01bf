#!/bin/bash
# Backup lifecycle benchmark against ClickHouse 18.16 (Debian's server) and
# Ceph RGW, its baselines measured in the same run:
#  1. after one partition changed (a few rows inserted into one of 24
#     monthly partitions), `backup clickhouse --incremental` against a full
#     `backup clickhouse`: bytes written to the store (every object under
#     the backup's prefix, as RGW lists them) target <= 1/15 of the full's;
#     time target <= 0.15x. Full and incremental interleaved, 2 rounds.
#  2. `backup verify --all` (no --read-data) over 30 backups of that table
#     (the 4 above and 26 incrementals on them), target <= 2 s.
#  3. `backup drill` of the newest backup against a plain
#     `restore clickhouse` of it into a new database, target <= 1.5x its
#     time. Interleaved, 2 rounds.
# The better of 2 runs each. ROWS (default 2,000,000; the figure's scale is
# 20,000,000) rows across 24 partitions (PARTITION BY toYYYYMM over 2023
# and 2024).
set -eu
ROWS=${ROWS:-2000000}
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
# tests/lib.sh gives $T, HOME, free ports, and stops the servers at exit
. "$TOP/tests/lib.sh" > /dev/null
. "$TOP/tests/servers/rgw/lib.sh"
. "$TOP/tests/servers/clickhouse/lib.sh"
set +u
TOOLS=${TOOLS:-$TOP/build/std/tools}
for c in curl "$TOOLS/s3-tool"; do
	command -v "$c" > /dev/null || { echo "bench backup-lifecycle: needs $c (make deps; make)" >&2; exit 1; }
done
rgw_start > /dev/null
ch_start > /dev/null
"$TOOLS/s3-tool" mb bench
q() { curl -sS --fail-with-body "$CH_URL/" --data-binary "$1"; }
export SAASCTL_CLICKHOUSE_URL=$CH_URL SAASCTL_BACKUP_STORE=s3://bench/life

# ~20 bytes a row of Native, as tests/bench/backup; 730 days: 24 months
schema="(d Date, user UInt64, kind UInt32, path String) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY (d, user)"
q "CREATE DATABASE b1"; q "CREATE TABLE b1.events $schema"
q "INSERT INTO b1.events SELECT toDate('2023-01-01') + intDiv(number * 730, $ROWS), cityHash64(number) % 100000,
	number % 17, concat('/p/', toString(number % 1000)) FROM numbers($ROWS)"
q "OPTIMIZE TABLE b1.events FINAL"
nparts=$(q "SELECT uniqExact(partition) FROM system.parts WHERE database = 'b1' AND active")
[ "$nparts" = 24 ] || { echo "bench backup-lifecycle: $nparts partitions, want 24" >&2; exit 1; }

secs() { awk "BEGIN { printf \"%.2f\", ($(date +%s%N) - $1) / 1e9 }"; }
# timed NAME CMD...: wall seconds into NAME
timed() {
	local name=$1 t0
	shift
	t0=$(date +%s%N)
	"$@" > "$T/$name.out" 2> "$T/$name.err" ||
		{ echo "bench backup-lifecycle: $name failed: $(tail -3 "$T/$name.err")" >&2; exit 1; }
	printf -v "$name" '%s' "$(secs "$t0")"
}
last_id() { sed -n 's/^backup \([0-9TZ-]*\):.*/\1/p' "$T/$1.out"; }
# stored ID: bytes of every object under the backup's prefix
stored() { "$TOOLS/s3-tool" list bench "life/$1/" 2> /dev/null | awk -F '\t' '{ s += $2 } END { print s + 0 }'; }
best() { awk "BEGIN { print ($1 < $2) ? $1 : $2 }"; }

# 1. full, a change in one partition, incremental; twice
for round in 1 2; do
	timed full "$SAASCTL" backup clickhouse --db b1
	q "INSERT INTO b1.events SELECT toDate('2024-06-15'), 1000000 + number, 1, 'late' FROM numbers(5)"
	timed inc "$SAASCTL" backup clickhouse --db b1 --incremental
	grep -q "; incremental on $(last_id full), 23 of 24 partitions unchanged" "$T/inc.out" ||
		{ echo "bench backup-lifecycle: the incremental did not build on the full: $(cat "$T/inc.out")" >&2; exit 1; }
	eval "full$round=$full inc$round=$inc fullb$round=$(stored "$(last_id full)") incb$round=$(stored "$(last_id inc)")"
done
full=$(best "$full1" "$full2") inc=$(best "$inc1" "$inc2")
fullb=$(( fullb1 > fullb2 ? fullb1 : fullb2 )) incb=$(( incb1 > incb2 ? incb1 : incb2 ))

# 2. 30 backups, verify --all
for i in $(seq 5 30); do
	timed more "$SAASCTL" backup clickhouse --db b1 --incremental
done
nb=$("$SAASCTL" backup list --json | $PY -c 'import json,sys; print(sum(b["complete"] for b in json.load(sys.stdin)))')
[ "$nb" = 30 ] || { echo "bench backup-lifecycle: $nb complete backups, want 30" >&2; exit 1; }
timed vf1 "$SAASCTL" backup verify --all
timed vf2 "$SAASCTL" backup verify --all
vf=$(best "$vf1" "$vf2")
nok=$(grep -c '^ok ' "$T/vf2.out" || true)
[ "$nok" = 30 ] || { echo "bench backup-lifecycle: verify passed $nok of 30 backups" >&2; exit 1; }
nobj=$(sed -n 's/^ok .*  \([0-9]*\) objects.*/\1/p' "$T/vf2.out" | awk '{ s += $1 } END { print s }')

# 3. restore against drill of the newest backup; interleaved, twice
ID=$(last_id more)
for round in 1 2; do
	timed rs "$SAASCTL" restore clickhouse "$ID" --db-map b1=r$round
	q "DROP DATABASE r$round"
	timed dr "$SAASCTL" backup drill "$ID"
	eval "rs$round=$rs dr$round=$dr"
done
grep -q "^drill $ID: ok" "$T/dr.out" || { echo "bench backup-lifecycle: the drill failed: $(cat "$T/dr.out")" >&2; exit 1; }
rs=$(best "$rs1" "$rs2") dr=$(best "$dr1" "$dr2")

ratio() { awk "BEGIN { printf \"%.3f\", $1 / $2 }"; }
mib() { awk "BEGIN { printf \"%.1f\", $1 / 1048576 }"; }
echo "backup lifecycle bench: $ROWS rows in 24 partitions, ClickHouse 18.16, Ceph RGW (memstore), the better of 2 runs"
echo "  incremental  after 5 rows into 1 partition: $(mib "$incb") MiB in ${inc} s; full backup $(mib "$fullb") MiB in ${full} s"
echo "               bytes ratio $(ratio "$incb" "$fullb") (target <= $(ratio 1 15)), time ratio $(ratio "$inc" "$full")x (target <= 0.15)"
echo "  verify       --all over 30 backups ($nobj objects, no --read-data): ${vf} s (target <= 2)"
echo "  drill        ${dr} s   restore clickhouse ${rs} s   time ratio $(ratio "$dr" "$rs")x (target <= 1.5)"
# stop the servers and remove $T now, quietly (tests/lib.sh's exit trap
# would print a TAP plan)
trap - EXIT
t_finish > /dev/null 2>&1 || true
