# Sourced by tests/e2e/t0801 (18.16) and t0802 (26.7, chdb) after a server
# was started: src/clickhouse through tests/tools/ch-client against it.
# Needs URL, VERSION (18 or 26), PASSWORD and q (runs SQL with curl).
CHC=$TOOLS/ch-client

q "CREATE TABLE events (d Date, n UInt64, s String, ns Nullable(String), arr Array(UInt32),
	m UInt64 MATERIALIZED n * 2, a UInt64 ALIAS n + 1)
	ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY n"
# 202401: 500 rows, far under 1 MiB; 202402: 300000 rows, several MiB
q "INSERT INTO events (d, n, s, ns, arr) SELECT toDate('2024-01-01') + number % 28, number,
	toString(number), if(number % 3 = 0, NULL, 'x'), [number, 2] FROM numbers(500)"
q "INSERT INTO events (d, n, s, ns, arr) SELECT toDate('2024-02-01') + number % 28, 1000 + number,
	concat('row ', toString(number)), NULL, [] FROM numbers(300000)"
q "CREATE TABLE logt (x UInt8) ENGINE = TinyLog"
q "INSERT INTO logt VALUES (1), (2), (3)"
q "CREATE TABLE mem (x String) ENGINE = Memory"
q "CREATE VIEW v AS SELECT n FROM events"
q "CREATE MATERIALIZED VIEW mv ENGINE = MergeTree ORDER BY n AS SELECT n FROM events"
q "CREATE TABLE merged AS events ENGINE = Merge(currentDatabase(), '^events\$')"
q "CREATE TABLE buf AS logt ENGINE = Buffer(currentDatabase(), logt, 1, 10, 100, 10000, 1000000, 10000000, 100000000)"
q "CREATE VIEW boom AS SELECT number, throwIf(number = 1000000) AS t FROM numbers(2000000)"

run "$CHC" "$URL" version
expect_out "^$VERSION\\." "the server version is $VERSION"

run "$CHC" "$URL" tables default
expect_rc 0 "tables are listed"
expect_out '^default\.events	MergeTree	data$' "MergeTree carries data"
expect_out '^default\.logt	TinyLog	data$' "TinyLog carries data"
expect_out '^default\.mem	Memory	data$' "Memory carries data"
expect_out '^default\.v	View	schema$' "a view is schema only"
expect_out '^default\.mv	MaterializedView	schema$' "a materialized view is schema only"
expect_out '^default\.\.inner(_id)?\.[^	]*	MergeTree	data$' "the MV's inner table carries the data"
expect_out '^default\.merged	Merge	schema$' "Merge is schema only"
expect_out '^default\.buf	Buffer	schema$' "Buffer is schema only"
run "$CHC" "$URL" tables
expect_no_out '^system\.' "system tables are never listed"

run "$CHC" "$URL" create default events
expect_out '^CREATE TABLE default\.events' "SHOW CREATE gives the statement"
expect_out 'MATERIALIZED n \* 2' "with its MATERIALIZED column"

run "$CHC" "$URL" partitions default events MergeTree
expect_rc 0 "partitions are listed"
expect_eq "$(cut -f1,3 "$T/out" | tr '\t\n' ':,')" "202401:500,202402:300000," "two partitions with their rows"
fp1=$(awk -F'\t' '$1 == "202401" { print $4 }' "$T/out")
fp2=$(awk -F'\t' '$1 == "202402" { print $4 }' "$T/out")

run "$CHC" "$URL" stats default events 202401
# the checksum of saasctl-backup/4: a Nullable column hashes NULL as 0
want=$(q "SELECT count(), sum(cityHash64(d, n, s, if(isNull(ns), 0, cityHash64(assumeNotNull(ns))), arr, m))
	FROM events WHERE toYYYYMM(d) = 202401")
expect_eq "$(cat "$T/out")" "$want" "row count and checksum of a partition, MATERIALIZED column and NULLs included"

# A merge leaves the fingerprint alone; an insert and a mutation change it.
q "INSERT INTO events (d, n, s, ns, arr) SELECT toDate('2024-01-05'), 900 + number, 'late', NULL, [] FROM numbers(10)"
run "$CHC" "$URL" fingerprint default events 202401
fp1b=$(cat "$T/out")
[ "$fp1b" != "$fp1" ] && ok "an insert changes the fingerprint" || not_ok "an insert changes the fingerprint"
run "$CHC" "$URL" fingerprint default events 202402
expect_eq "$(cat "$T/out")" "$fp2" "an insert leaves the other partitions' fingerprints alone"
q "OPTIMIZE TABLE events PARTITION 202401 FINAL"
expect_eq "$(q "SELECT count() FROM system.parts WHERE table = 'events' AND active AND partition_id = '202401'")" 1 "OPTIMIZE merged the partition's parts"
run "$CHC" "$URL" fingerprint default events 202401
expect_eq "$(cat "$T/out")" "$fp1b" "a merge leaves the fingerprint alone"
q "ALTER TABLE events UPDATE s = 'changed' WHERE n = 3"
i=0
while [ "$(q "SELECT count() FROM system.mutations WHERE table = 'events' AND NOT is_done")" != 0 ] && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
run "$CHC" "$URL" fingerprint default events 202401
[ "$(cat "$T/out")" != "$fp1b" ] && ok "a mutation changes the fingerprint" || not_ok "a mutation changes the fingerprint"

# Export: the small partition (18.16's empty 200) and the big one; each
# file goes back in with decompress=1 and gives the same count and checksum.
q "CREATE TABLE back (d Date, n UInt64, s String, ns Nullable(String), arr Array(UInt32),
	m UInt64 MATERIALIZED n * 2, a UInt64 ALIAS n + 1)
	ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY n"
for p in 202401 202402; do
	run "$CHC" "$URL" export default events $p "$T/$p.native.lz4"
	expect_rc 0 "partition $p is exported"
	rows=$(cut -f1 "$T/out")
	expect_eq "$rows" "$(q "SELECT count() FROM events WHERE _partition_id = '$p'")" "partition $p: the rows counted in the stream are the table's"
	cp "$T/out" "$T/export-$p"
	curl -sS --fail-with-body "$URL/?decompress=1&query=INSERT%20INTO%20back%20FORMAT%20Native" \
		--data-binary @"$T/$p.native.lz4" > "$T/ins" 2>&1 || not_ok "partition $p goes back in" "$(cat "$T/ins")"
	run "$CHC" "$URL" stats default back $p
	b=$(cat "$T/out")
	run "$CHC" "$URL" stats default events $p
	expect_eq "$b" "$(cat "$T/out")" "partition $p round-trips with the same count and checksum (MATERIALIZED kept)"
done
if [ "$VERSION" = 18 ]; then
	expect_eq "$(cut -f3 "$T/export-202401")" 1 "18.16: the small partition's empty compressed answer is fetched again"
else
	expect_eq "$(cut -f3 "$T/export-202401")" 0 "26.7: the small partition comes compressed at once"
fi
[ "$(cut -f2 "$T/export-202402")" -gt 1 ] && ok "the big partition comes in several frames" || not_ok "the big partition comes in several frames" "$(cat "$T/export-202402")"

run "$CHC" "$URL" export default logt - "$T/logt.native.lz4"
expect_eq "$rc:$(cut -f1 "$T/out")" "0:3" "a TinyLog table is exported whole"

run "$CHC" "$URL" export default boom - "$T/boom.native.lz4"
expect_rc 1 "an error inside a 200 fails the export"
expect_err "cannot export 'default\\.boom'.*Code: 395" "the error names the table and the server's error"

run "$CHC" "$URL" export default nosuch - "$T/x"
expect_rc 1 "a missing table fails"

# The password goes in X-ClickHouse-Key only.
SAASCTL_CLICKHOUSE_PASSWORD=$PASSWORD CH_USER=backup run "$CHC" "$URL" query "SELECT 'in'"
expect_eq "$rc:$(cat "$T/out")" "0:in" "the password from SAASCTL_CLICKHOUSE_PASSWORD authenticates"
SAASCTL_CLICKHOUSE_PASSWORD='wrong-pw' CH_USER=backup run "$CHC" "$URL" query "SELECT 'in'"
expect_rc 1 "a wrong password fails"
expect_err '401 Code: 19[34]|401 Code: 516' "the error is the server's refusal"
expect_no_err 'wrong-pw' "the password is never in an error"
run "$CHC" "http://backup:pw@127.0.0.1:1" version
expect_err 'must hold no query or credentials' "credentials in the URL are refused"
