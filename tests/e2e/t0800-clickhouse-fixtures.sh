#!/bin/sh
# The two ClickHouse servers of the suite: Debian's clickhouse-server 18.16
# with a private config, and ClickHouse 26.7 (libchdb.so) behind our HTTP
# layer. curl asks both the same things; where they differ, the difference
# is a real one between the versions (see tests/servers/clickhouse-chdb/README.md).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/clickhouse/lib.sh"
. "$TOP/tests/servers/clickhouse-chdb/lib.sh"
need clickhouse-compressor
ch_start
chdb_start

both() { # both NAME CURL-ARGS...: runs curl against each server
	_n=$1; shift
	curl -s -D "$T/$_n-18.h" -o "$T/$_n-18.b" "$CH_URL$@"
	curl -s -D "$T/$_n-26.h" -o "$T/$_n-26.b" "$CHDB_URL$@"
}
status() { sed -n '1s/^HTTP\/1.1 \([0-9]*\).*/\1/p' "$1"; }
hdr() { sed -n "s/^$2: *//Ip" "$1" | tr -d '\r'; }

for u in "$CH_URL" "$CHDB_URL"; do
	curl -sS --fail-with-body "$u/" --data-binary "CREATE TABLE t (d Date, n UInt64, s String) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY n" &&
	curl -sS --fail-with-body "$u/" --data-binary "INSERT INTO t SELECT toDate('2024-01-01') + number % 60, number, toString(number) FROM numbers(1000)" ||
		not_ok "a MergeTree table is made on $u"
done

both ping /ping
expect_eq "$(cat "$T/ping-18.b" "$T/ping-26.b" | tr '\n' '|')" "Ok.|Ok.|" "/ping answers Ok. on both"

both ver "/?query=SELECT%20version()"
expect_eq "$(cat "$T/ver-18.b")|$(cat "$T/ver-26.b")" "18.16.1|26.7.2.1" "the versions are 18.16 and 26.7"
expect_eq "$(hdr "$T/ver-26.h" Content-Type)" "$(hdr "$T/ver-18.h" Content-Type)" "TabSeparated has the same Content-Type"

both tsv / --data-binary "SELECT n, s FROM t WHERE n < 5 ORDER BY n"
expect_file_same "$T/tsv-18.b" "$T/tsv-26.b" "a POSTed query gives the same TabSeparated bytes"

both db "/?database=system" --data-binary "SELECT currentDatabase()"
expect_eq "$(cat "$T/db-26.b")" "system" "database= sets the current database"

both parts / --data-binary "SELECT partition, partition_id, min_block_number, max_block_number, data_version, rows FROM system.parts WHERE table = 't' AND active ORDER BY partition"
expect_file_same "$T/parts-18.b" "$T/parts-26.b" "system.parts agrees on partitions, block numbers and data versions"

both err / --data-binary "SELECT count() FROM nonexist"
expect_eq "$(status "$T/err-26.h")" "$(status "$T/err-18.h")" "an unknown table is 404 on both"
grep -q '^Code: 60[.,]' "$T/err-18.b" && grep -q '^Code: 60[.,]' "$T/err-26.b" &&
	ok "the error text starts with Code: 60" || not_ok "the error text starts with Code: 60" "$(cat "$T/err-18.b" "$T/err-26.b")"
expect_eq "$(hdr "$T/err-26.h" X-ClickHouse-Exception-Code)" "60" "26.7 sends X-ClickHouse-Exception-Code"

both user / -H "X-ClickHouse-User: backup" -H "X-ClickHouse-Key: $CH_PASSWORD" --data-binary "SELECT 'in'"
expect_eq "$(cat "$T/user-18.b" "$T/user-26.b" | tr '\n' '|')" "in|in|" "X-ClickHouse-User/-Key authenticate on both"
both nouser / -H "X-ClickHouse-User: backup" -H "X-ClickHouse-Key: wrong" --data-binary "SELECT 'in'"
expect_eq "$(status "$T/nouser-26.h")" "$(status "$T/nouser-18.h")" "a wrong password is refused alike"

# compress=1: 18.16 answers a small result with 200 and no body at all.
both small "/?compress=1" --data-binary "SELECT * FROM t FORMAT Native"
expect_eq "$(status "$T/small-18.h"):$(wc -c < "$T/small-18.b")" "200:0" "18.16: a small compress=1 result is an empty 200 (the hazard)"
clickhouse-compressor -d < "$T/small-26.b" > "$T/small-26.raw" && [ -s "$T/small-26.raw" ] &&
	ok "26.7: a small compress=1 result is framed data" || not_ok "26.7: a small compress=1 result is framed data"

both big "/?compress=1" --data-binary "SELECT number, toString(number) FROM numbers(300000) FORMAT Native"
clickhouse-compressor -d < "$T/big-18.b" > "$T/big-18.raw"
clickhouse-compressor < "$T/big-18.raw" > "$T/big-18.re"
expect_file_same "$T/big-18.re" "$T/big-18.b" "clickhouse-compressor frames exactly as 18.16 does"
clickhouse-compressor -d < "$T/big-26.b" > "$T/big-26.raw" && ok "26.7's compress=1 answer decompresses" || not_ok "26.7's compress=1 answer decompresses"
expect_eq "$(hdr "$T/big-26.h" Content-Type)" "$(hdr "$T/big-18.h" Content-Type)" "Native has the same Content-Type"

# An error after data was sent: 200, then the error text inside the frames.
both mid "/?compress=1" --data-binary "SELECT number, throwIf(number = 1000000) FROM numbers(2000000) FORMAT Native"
for v in 18 26; do
	expect_eq "$(status "$T/mid-$v.h")" 200 "$v: an error mid-stream comes after a 200"
	clickhouse-compressor -d < "$T/mid-$v.b" | tail -c 400 | grep -aq 'Code: 395' &&
		ok "$v: the error text is the last frame's payload" || not_ok "$v: the error text is the last frame's payload"
done

# INSERT bodies, streamed (curl -T - is chunked PUT) and compressed.
for u in "$CH_URL" "$CHDB_URL"; do
	curl -sS "$u/" --data-binary "CREATE TABLE t2 (number UInt64, s String) ENGINE = MergeTree ORDER BY number"
	curl -s "$u/?compress=1" --data-binary "SELECT toString(number) AS s, number FROM numbers(300000) FORMAT Native" |
		curl -s -o /dev/null -w '%{http_code}\n' "$u/?decompress=1&query=INSERT%20INTO%20t2%20FORMAT%20Native" -T - > "$T/ins.code"
	expect_eq "$(cat "$T/ins.code"):$(curl -s "$u/" --data-binary 'SELECT count(), sum(number) FROM t2')" "200:300000	44999850000" \
		"a streamed compressed Native INSERT lands by column name ($u)"
done

# saasctl's own LZ4 decoder against clickhouse-compressor's encoder, on
# data with repeats at every offset it treats apart (overlapping copies
# under 16 bytes back, 16-byte copies from further back, literal runs
# near the end of a frame), frames of 1 MiB.
python3 - "$T/lz4.in" <<'PY'
import random, sys
r = random.Random(7)
out = bytearray()
for period in list(range(1, 40)) + [63, 64, 65, 255, 256, 4000, 65535]:
    unit = bytes(r.randrange(256) for _ in range(period))
    out += unit * r.randrange(2, 3000 // period + 3)
    out += bytes(r.randrange(256) for _ in range(r.randrange(0, 40)))
while len(out) < 3 << 20:
    n = r.randrange(1, 200)
    if r.random() < 0.5 and len(out) > 70000:
        back = r.randrange(1, 65535)
        for _ in range(n):
            out.append(out[-back])
    else:
        out += bytes(r.randrange(256) for _ in range(n))
open(sys.argv[1], "wb").write(out)
PY
clickhouse-compressor < "$T/lz4.in" > "$T/lz4.frames"
# and frames that end 5 to 15 bytes after a long match, at offsets near
# and past 16: a decoder must not write past the end of its frame
python3 - "$T/lz4.tail" <<'PY'
import random, sys
r = random.Random(11)
for off in (16, 17, 23, 31, 32, 64, 200):
    for tail in range(5, 16):
        head = bytes(r.randrange(256) for _ in range(off))
        sys.stdout = open("%s.%d.%d" % (sys.argv[1], off, tail), "wb")
        sys.stdout.write(head + head[:17 + r.randrange(40)] + bytes(r.randrange(256) for _ in range(tail)))
        sys.stdout.close()
PY
for f in "$T"/lz4.tail.*; do
	cat "$f" >> "$T/lz4.in"
	clickhouse-compressor < "$f" >> "$T/lz4.frames"
done
"$TOOLS/ch-client" - lz4 < "$T/lz4.frames" > "$T/lz4.out"
expect_file_same "$T/lz4.out" "$T/lz4.in" "saasctl's LZ4 decoder gives back what clickhouse-compressor encoded ($(wc -c < "$T/lz4.frames") bytes of frames)"
