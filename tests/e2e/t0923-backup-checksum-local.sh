#!/bin/sh
# A backup counts the content checksum of a partition itself, from the
# blocks it exports, when every column is of a type it hashes (integers,
# floats, dates, enums, strings, and Nullable, LowCardinality and arrays
# of them): the server then reads each partition once. The numbers must
# be the server's own. On ClickHouse 18.16 and 26.7, each partition's
# rows and checksum in the manifest equal the server's sum over the form
# saasctl-backup(5) documents, written out here by hand, and the restore
# has the server check every staged partition again. Strings of every
# length up to 200 take each branch of CityHash64. A column of another
# type, and rows hidden by a lightweight delete, are left to the server.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/clickhouse/lib.sh"
. "$TOP/tests/servers/clickhouse-chdb/lib.sh"
ch_start
chdb_start
export SAASCTL_BACKUP_STORE=file://$T/store

schema="(d Date, i8 Int8, u16 UInt16, i32 Int32, u64 UInt64, i64 Int64,
	f32 Float32, f64 Float64, dt DateTime('UTC'), e8 Enum8('a' = -1, 'b' = 2),
	e16 Enum16('x' = -300, 'y' = 300), s String, fs FixedString(5),
	ns Nullable(String), nf Nullable(Float64), lc LowCardinality(String),
	lcn LowCardinality(Nullable(String)), au Array(UInt32),
	ans Array(Nullable(String)), aan Array(Array(Nullable(String))),
	aas Array(Array(String)), alc Array(LowCardinality(String)))
	ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY (d, u64)"
# 150,000 rows in 3 partitions of several blocks; strings of 0 to 200
# random digits; NaN, -0 and infinities; NULLs; empty arrays
rows="SELECT toDate('2024-01-01') + intDiv(number, 1700), toInt8(number % 256 - 128),
	toUInt16(number * 7), toInt32(number * -13), number * 1000000007, -toInt64(number),
	toFloat32(number / 9),
	multiIf(number % 1000 = 0, nan, number % 1000 = 1, -0., number % 1000 = 2, inf, number / 7),
	toDateTime(1700000000 + number * 37, 'UTC'), if(number % 2 = 0, 'a', 'b'),
	if(number % 3 = 0, 'x', 'y'),
	arrayStringConcat(arrayMap(i -> toString(cityHash64(number, i) % 10), range(number % 201))),
	toFixedString(toString(number % 100000), 5),
	if(number % 3 = 0, NULL, toString(number % 17)), if(number % 5 = 0, NULL, number / 3),
	toString(number % 13), if(number % 4 = 0, NULL, toString(number % 9)),
	arrayMap(x -> toUInt32(x * number), range(number % 5)),
	arraySlice([NULL, toString(number % 3), NULL], 1, number % 4),
	[arraySlice([NULL, toString(number)], 1, number % 3), []],
	[[toString(number % 5)], []], [toString(number % 5), 'x'] FROM numbers(150000)"
# version 2 of the checksum, by hand (saasctl-backup(5))
sum="cityHash64(d, i8, u16, i32, u64, i64, f32, f64, dt, e8, e16, s, fs,
	if(isNull(ns), 0, cityHash64(assumeNotNull(ns))),
	if(isNull(nf), 0, cityHash64(assumeNotNull(nf))),
	lc, if(isNull(lcn), 0, cityHash64(assumeNotNull(lcn))), au,
	arrayMap(e -> cityHash64(if(isNull(e), 0, cityHash64(assumeNotNull(e)))), ans),
	arrayMap(a -> cityHash64(arrayMap(e -> cityHash64(if(isNull(e), 0,
		cityHash64(assumeNotNull(e)))), a)), aan), aas, alc)"

# server-side: "partition rows checksum" lines; from a manifest: the same
# (a failed query names its table, so that two failures never compare equal)
oracle() { # QUERY-FUNCTION DB.TABLE
	$1 "SELECT toString(toYYYYMM(d)) AS p, count(), sum($sum) FROM $2 GROUP BY p ORDER BY p
		FORMAT TSV" | tr '\t' ' ' | grep . || echo "the oracle failed on $2"
}
manifest_parts() { # ID TABLE
	$PY - "$T/store/$1/manifest.json" "$2" <<-'EOF'
	import json, sys
	m = json.load(open(sys.argv[1]))
	for t in m["tables"]:
	    if t["name"] == sys.argv[2]:
	        for p in sorted(t["partitions"], key=lambda p: p["id"]):
	            print(p["id"], p["rows"], p["checksum"])
	EOF
}
backup_id() { sed -n 's/^backup \([0-9TZ-]*\):.*/\1/p' "$T/out"; }

q18() { curl -sS --fail-with-body "$CH_URL/?allow_experimental_low_cardinality_type=1" --data-binary "$1"; }
q26() { curl -sS --fail-with-body "$CHDB_URL/" --data-binary "$1"; }

for v in 18 26; do
	eval "url=\$$( [ $v = 18 ] && echo CH_URL || echo CHDB_URL )"
	q=q$v
	$q "CREATE DATABASE h"
	$q "CREATE TABLE h.t $schema"
	$q "INSERT INTO h.t $rows"
	# a type it does not hash: the server's checksum
	$q "CREATE TABLE h.u (d Date, id UUID, n UInt32) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY n"
	$q "INSERT INTO h.u SELECT toDate('2024-01-01') + number % 40, generateUUIDv4(), number FROM numbers(1000)"

	saas -v backup clickhouse --url "$url" --db h
	expect_rc 0 "$v: the table of every hashed type is backed up"
	ID=$(backup_id)
	expect_eq "$(grep -c "'h.t' partition [0-9]*: [0-9]* rows and their checksum counted from the export" "$T/err")" 3 \
		"$v: each partition's checksum is counted from its export"
	expect_eq "$(grep -c "'h.t'.*the server counts" "$T/err")" 0 "$v: and not by the server"
	expect_eq "$(manifest_parts "$ID" t)" "$(oracle "$q" h.t)" \
		"$v: each partition's rows and checksum are the server's"
	grep -q "'h.u' column 'id' (UUID): the server counts its checksum" "$T/err" &&
		ok "$v: a UUID column leaves the checksum to the server" ||
		not_ok "$v: a UUID column leaves the checksum to the server" "$(grep "h.u" "$T/err" | head -3)"
	eval "manifest$v=\$(manifest_parts \"\$ID\" t)"

	saas restore clickhouse "$ID" --url "$url" --db-map h=back
	expect_rc 0 "$v: the restore has the server check every partition's checksum"
	expect_eq "$(oracle "$q" back.t)" "$(oracle "$q" h.t)" "$v: the restored rows are the source's"
done

# the same rows give the same numbers on both servers
expect_eq "$manifest26" "$manifest18" "18.16 and 26.7 record the same checksums"

# rows that a lightweight delete hides are still in the parts: the
# export's count differs from theirs, and the server counts
q26 "DELETE FROM h.t WHERE u64 % 10 = 0 AND d < '2024-02-01'"
saas -v backup clickhouse --url "$CHDB_URL" --db h --table t
expect_rc 0 "26: a table with a lightweight delete is backed up"
ID=$(backup_id)
grep -q "'h.t' partition 202401: [0-9]* rows exported, [0-9]* in its parts; the server counts them" "$T/err" &&
	ok "26: the partition with deleted rows is counted by the server" ||
	not_ok "26: the partition with deleted rows is counted by the server" "$(grep "h.t" "$T/err" | head -5)"
expect_eq "$(manifest_parts "$ID" t)" "$(oracle q26 h.t)" "26: its rows and checksum are the server's"
saas restore clickhouse "$ID" --url "$CHDB_URL" --db-map h=back2
expect_rc 0 "26: it restores"
expect_eq "$(oracle q26 back2.t)" "$(oracle q26 h.t)" "26: without the deleted rows"
t_finish
