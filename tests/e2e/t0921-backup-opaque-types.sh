#!/bin/sh
# backup / restore of tables whose column types saasctl's Native walker
# does not read (AggregateFunction states behind a materialized view, JSON,
# Dynamic, Variant) against ClickHouse 26.7: exported "opaque" with
# wait_end_of_query=1, their rows taken from count(), the restored data
# compared by the server's own values. Then a query that fails mid-way,
# and a server error in compressed frames (18.16).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/clickhouse-chdb/lib.sh"
. "$TOP/tests/servers/faultproxy/lib.sh"
chdb_start
URL=$CHDB_URL
q() { curl -sS --fail-with-body "$URL/" --data-binary "$1"; }
export SAASCTL_CLICKHOUSE_URL=$URL SAASCTL_BACKUP_STORE=file://$T/store
SROOT=$T/store

q "CREATE DATABASE src"
q "CREATE TABLE src.raw (d Date, user UInt64, amount Float64, page String)
	ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY (d, user)"
q "CREATE TABLE src.daily (d Date, k UInt8,
	users AggregateFunction(uniq, UInt64), total AggregateFunction(sum, Float64),
	q AggregateFunction(quantiles(0.5, 0.9), Float64),
	last AggregateFunction(anyLast, String))
	ENGINE = AggregatingMergeTree PARTITION BY toYYYYMM(d) ORDER BY (d, k)"
q "CREATE MATERIALIZED VIEW src.daily_mv TO src.daily AS SELECT d, toUInt8(user % 7) AS k,
	uniqState(user) AS users, sumState(amount) AS total,
	quantilesState(0.5, 0.9)(amount) AS q, anyLastState(page) AS last
	FROM src.raw GROUP BY d, k"
# states whose serialization survives a round trip byte for byte
q "CREATE TABLE src.totals (d Date, total AggregateFunction(sum, Float64),
	q AggregateFunction(quantiles(0.5, 0.9), Float64), last AggregateFunction(anyLast, String))
	ENGINE = AggregatingMergeTree ORDER BY d"
q "CREATE MATERIALIZED VIEW src.totals_mv TO src.totals AS SELECT d, sumState(amount) AS total,
	quantilesState(0.5, 0.9)(amount) AS q, anyLastState(page) AS last FROM src.raw GROUP BY d"
q "CREATE TABLE src.docs (n UInt32, j JSON, dy Dynamic, va Variant(UInt64, String, Array(UInt8)))
	ENGINE = MergeTree ORDER BY n"
q "INSERT INTO src.docs SELECT number,
	concat('{\"a\":', toString(number), ',\"b\":{\"c\":\"x', toString(number % 3), '\"}}'),
	if(number % 2, number::Dynamic, toString(number)::Dynamic),
	multiIf(number % 3 = 0, number::Variant(UInt64, String, Array(UInt8)),
		number % 3 = 1, toString(number)::Variant(UInt64, String, Array(UInt8)),
		[1, 2]::Variant(UInt64, String, Array(UInt8))) FROM numbers(5000)"

# 202401 small; 202402 in several inserts, so that its parts hold
# unmerged states of the same keys
q "INSERT INTO src.raw SELECT toDate('2024-01-01') + number % 5, number, number / 4,
	concat('/p/', toString(number % 13)) FROM numbers(2000)"
for i in 1 2 3; do
	q "INSERT INTO src.raw SELECT toDate('2024-02-01') + number % 29, number * $i,
		number / 3, concat('/q/', toString(number % 101)) FROM numbers(200000)"
done

daily_rows=$(q "SELECT count() FROM src.daily")
[ "$daily_rows" -gt 145 ] && ok "the materialized view feeds the AggregatingMergeTree table" ||
	not_ok "the materialized view feeds the AggregatingMergeTree table" "$daily_rows rows"

: > "$CHDB_DIR/requests.log"
saas -v backup clickhouse --db src
expect_rc 0 "a database with AggregateFunction, JSON, Dynamic and Variant columns is backed up"
expect_out "^ok +src\.daily +$daily_rows rows" "the states table's rows are its count()"
expect_out '^ok +src\.docs +5000 rows' "the JSON / Dynamic / Variant table's rows are its count()"
expect_out '^ok +src\.raw +602000 rows' "a table the walker reads still counts its stream"
expect_err "column 'users' is of type AggregateFunction\(uniq, UInt64\), which saasctl does not read" \
	"-v names the column that makes a table opaque"
expect_err "'src\.daily' partition 202402: [0-9]+ Native bytes not walked \(opaque types\); its rows are the count, [0-9]+" \
	"-v says the count stands for the rows"
ID=$(sed -n 's/^backup \([0-9TZ-]*\):.*/\1/p' "$T/out")
[ -f "$SROOT/$ID/manifest.json" ] && ok "the manifest is written" || not_ok "the manifest is written"
expect_eq "$(grep -c 'compress=1&wait_end_of_query=1 ' "$CHDB_DIR/requests.log")" 4 \
	"the 4 opaque partitions are asked with wait_end_of_query=1"
expect_eq "$(grep 'compress=1' "$CHDB_DIR/requests.log" | grep -vc wait_end_of_query)" 2 \
	"the 2 partitions of the readable table are streamed as before"
want=$(q "SELECT _partition_id, count() FROM src.daily GROUP BY _partition_id ORDER BY 1 FORMAT CSV" |
	tr -d '"' | tr ',\n' ': ' | sed 's/ $//')
$PY - "$SROOT/$ID/manifest.json" > "$T/m" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
t = [t for t in m["tables"] if t["name"] == "daily"][0]
print(" ".join("%s:%d" % (p["id"], p["rows"]) for p in t["partitions"]))
PY
expect_eq "$(cat "$T/m")" "$want" "the manifest records count() per partition of the states table"

saas --json backup clickhouse --db src --table daily --store "file://$T/store-json"
expect_rc 0 "--json: the backup succeeds"
$PY - "$T/out" "$daily_rows" <<'PY' && ok "--json lines carry the count as the rows" || not_ok "--json lines carry the count as the rows" "$(cat "$T/out")"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
parts = sum(e["rows"] for e in ev if e.get("event") == "partition")
table = [e["rows"] for e in ev if e.get("event") == "table"]
sys.exit(0 if parts == int(sys.argv[2]) and table == [parts] else 1)
PY

saas restore clickhouse "$ID" --db-map src=dst --table raw --table totals --table docs
expect_rc 0 "the restore into another database succeeds"
expect_out "^restored dst\.totals partition all +[0-9]+ rows" "the states table is restored"
dump() { q "SELECT $2 FROM $1 ORDER BY $3 FORMAT TSV"; }
same() { # TABLE WHAT ORDER NAME: src and dst give the same rows of WHAT
	dump "src.$1" "$2" "$3" | sort > "$T/a"
	dump "dst.$1" "$2" "$3" | sort > "$T/b"
	[ -s "$T/a" ] && cmp -s "$T/a" "$T/b" && ok "$4" || not_ok "$4" "$(diff "$T/a" "$T/b" | head -5)"
}
same totals "d, finalizeAggregation(total), finalizeAggregation(q), finalizeAggregation(last)" d \
	"the restored states finalize to the same sum, quantiles, anyLast"
same docs "n, j, dy, dynamicType(dy), va, variantType(va)" n \
	"JSON, Dynamic and Variant values and their types come back"
expect_eq "$(q "SELECT count() FROM dst.docs")" 5000 "all 5000 documents"
saas restore clickhouse "$ID" --db-map src=dst --table raw --table totals --table docs
expect_rc 0 "a second restore succeeds"
expect_out '0 partitions, 0 rows; 4 partitions already there' "a rerun finds every partition there"

# A uniq state's bytes depend on the history of its hash set, so they
# change on the way back; the checksum takes each state's final value.
saas restore clickhouse "$ID" --db-map src=dst --table daily
expect_rc 0 "the uniq states table is restored, its checksum checked"
same daily "d, k, finalizeAggregation(users), finalizeAggregation(total), finalizeAggregation(q),
	finalizeAggregation(last)" "d, k" \
	"the exported uniq, sum, quantiles, anyLast states finalize to the same values"
# (a merge of quantiles samples depends on the order of the states)
merged="d, uniqMerge(users), round(sumMerge(total), 3)"
q "SELECT $merged FROM src.daily GROUP BY d ORDER BY d FORMAT TSV" > "$T/a"
q "SELECT $merged FROM dst.daily GROUP BY d ORDER BY d FORMAT TSV" > "$T/b"
[ -s "$T/a" ] && cmp -s "$T/a" "$T/b" && ok "and merge across keys to the same uniq and sum" ||
	not_ok "and merge across keys to the same uniq and sum" "$(diff "$T/a" "$T/b" | head -5)"

# A query that fails after it sent rows: a column added with a DEFAULT is
# computed when old parts are read, here failing on a row of 202402.
q "ALTER TABLE src.daily ADD COLUMN z UInt8 DEFAULT throwIf(d = '2024-02-20' AND k = 3)"
ls "$SROOT" > "$T/before"
: > "$CHDB_DIR/requests.log"
saas backup clickhouse --db src --table daily
expect_rc 1 "a query that fails mid-way fails the backup"
expect_out "^failed +src\.daily: .*partition 202402: 500 Code: 395\. .*throwIf" \
	"the table fails with the server's error, as a non-200 answer"
ls "$SROOT" > "$T/after"
new=$(comm -13 "$T/before" "$T/after" | grep -v saasctl.lock)
[ -n "$new" ] && [ ! -f "$SROOT/$new/manifest.json" ] && ok "no manifest is written" ||
	not_ok "no manifest is written" "new: $new"
grep -q 'compress=1&wait_end_of_query=1 .* 500 ' "$CHDB_DIR/requests.log" &&
	ok "the failing export was asked with wait_end_of_query=1" ||
	not_ok "the failing export was asked with wait_end_of_query=1" "$(cat "$CHDB_DIR/requests.log")"
q "ALTER TABLE src.daily DROP COLUMN z"

# Should a server send error text inside a 200 anyway, at a frame boundary,
# the framing still finds it in an export it does not walk.
proxy_start FP "$CHDB_PORT" --inject-after 1000
SAASCTL_CLICKHOUSE_URL=$FP_URL saas backup clickhouse --db src --table daily
expect_rc 1 "error text injected between frames fails an opaque export"
expect_out "^failed +src\.daily: .*Code: " "and the table says the server's text"

# 18.16 frames an error answer under compress=1: its text is read out of
# the frame, not printed as compressed bytes.
. "$TOP/tests/servers/clickhouse/lib.sh"
ch_start
q18() { curl -sS --fail-with-body "$CH_URL/" --data-binary "$1"; }
q18 "CREATE DATABASE e"
q18 "CREATE TABLE e.t (n UInt64) ENGINE = MergeTree ORDER BY n"
q18 "INSERT INTO e.t SELECT number FROM numbers(100)"
q18 "ALTER TABLE e.t ADD COLUMN z UInt8 DEFAULT throwIf(n = 5)"
SAASCTL_CLICKHOUSE_URL=$CH_URL saas backup clickhouse --db e --store "file://$T/store18"
expect_rc 1 "18.16: a failing export fails the backup"
expect_out "^failed +e\.t: .*: 500 Code: 395, e\.displayText\(\) = DB::Exception: Value passed to 'throwIf'" \
	"18.16: the error answer's compressed text is decoded"
