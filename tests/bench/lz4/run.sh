#!/bin/bash
# LZ4 decoding benchmark: clickhouse_lz4_decompress() against the decoder
# it replaced (kept in bench.c as the baseline, measured in the same run),
# on what ClickHouse 18.16 (Debian's server) sends for
#   SELECT * ... FORMAT Native  with compress=1
# of two tables of ROWS rows (default 2,000,000):
#  1. events: the backup benchmark's table (Date, UInt64, UInt32, String),
#     mostly short sequences, a third of them 8 bytes back
#  2. logs: repetitive columns (a status code, a method, a country, three
#     user agents, a version string, small numbers), long matches 2 to 84
#     bytes back
# Target: >= 1.5x the baseline's MB/s on both. CPU time of the decoding
# thread, the better of ROUNDS interleaved rounds (default 20).
set -eu
ROWS=${ROWS:-2000000}
ROUNDS=${ROUNDS:-20}
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
here=$TOP/tests/bench/lz4
# tests/lib.sh gives $T, free ports, and stops the server at exit
. "$TOP/tests/lib.sh" > /dev/null
. "$TOP/tests/servers/clickhouse/lib.sh"
set +u
lib=$(dirname "$SAASCTL")/libsaasctl.a
[ -f "$lib" ] || lib=$TOP/build/std/libsaasctl.a
for c in cc curl clickhouse-server "$lib"; do
	command -v "$c" > /dev/null || [ -f "$c" ] || { echo "bench lz4: needs $c (make deps; make)" >&2; exit 1; }
done
cc -O2 -std=gnu11 -Wall -Wextra -I"$TOP/src" -o "$T/bench" "$here/bench.c" "$lib" \
	$(pkg-config --libs yaml-0.1 jansson libsodium) -ldl -pthread
ch_start > /dev/null
q() { curl -sS --fail-with-body "$CH_URL/" --data-binary "$1"; }

q "CREATE DATABASE b"
q "CREATE TABLE b.events (d Date, user UInt64, kind UInt32, path String)
	ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY (d, user)"
q "INSERT INTO b.events SELECT toDate('2024-01-01') + intDiv(number, $((ROWS / 90 + 1))),
	cityHash64(number) % 100000, number % 17, concat('/p/', toString(number % 1000)) FROM numbers($ROWS)"
q "OPTIMIZE TABLE b.events FINAL"
q "CREATE TABLE b.logs (ts DateTime, status UInt16, method String, country FixedString(2),
	ua String, bytes UInt32, flag UInt8, ver String) ENGINE = MergeTree ORDER BY ts"
q "INSERT INTO b.logs SELECT toDateTime('2024-01-01 00:00:00') + intDiv(number, 10),
	[200, 200, 200, 200, 304, 404, 500][number % 7 + 1], ['GET', 'GET', 'POST', 'GET', 'HEAD'][number % 5 + 1],
	['us', 'de', 'fr', 'us'][number % 4 + 1],
	['Mozilla/5.0 (X11; Linux x86_64)', 'Mozilla/5.0 (Macintosh) Safari/605.1.15', 'curl/7.88.1'][number % 3 + 1],
	number % 13 * 100, number % 3, toString(intDiv(number, 100000) % 5) FROM numbers($ROWS)"
q "OPTIMIZE TABLE b.logs FINAL"

echo "lz4 bench: $ROWS rows a table, ClickHouse 18.16 FORMAT Native with compress=1, the better of $ROUNDS rounds"
for t in events logs; do
	curl -sS --fail "$CH_URL/?compress=1" --data-binary "SELECT * FROM b.$t FORMAT Native" > "$T/$t.lz4"
	out=$("$T/bench" "$T/$t.lz4" "$ROUNDS") || exit 1
	printf '  %-7s %s (target >= 1.5)\n' "$t" "$out"
done
# stop the server and remove $T now, quietly (tests/lib.sh's exit trap
# would print a TAP plan)
trap - EXIT
t_finish > /dev/null 2>&1 || true
