#!/bin/sh
# A backup counts the content checksum of a partition itself, from the
# blocks it exports, when every column is of a type it hashes (integers,
# floats, dates, enums, strings, UUIDs, Decimals, and Nullable,
# LowCardinality, arrays and tuples of them): the server then reads each
# partition once. The numbers must
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
	aas Array(Array(String)), alc Array(LowCardinality(String)), u UUID,
	dc Decimal(9, 2), dd Decimal(18, 4), dx Decimal(38, 6), nd Nullable(Decimal(10, 2)),
	tu Tuple(UUID, Decimal(9, 1)), tn Tuple(UInt8, Nullable(String)), au2 Array(UUID))
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
	[[toString(number % 5)], []], [toString(number % 5), 'x'],
	toUUID(concat('01234567-89ab-cdef-0123-', substring(toString(1000000000000 + number), 2, 12))),
	toDecimal32(number % 1000, 2) / 7 - toDecimal32(50, 2), toDecimal64(number, 4) / 3,
	toDecimal128(number, 6) / 7, if(number % 2 = 0, NULL, toDecimal64(number, 2)),
	(toUUID('01234567-89ab-cdef-0123-456789abcdef'), toDecimal32(number % 1000, 1)),
	(toUInt8(number % 7), if(number % 3 = 0, NULL, toString(number))),
	[toUUID('01234567-89ab-cdef-0123-456789abcdef')] FROM numbers(150000)"
# version 2 of the checksum, by hand (saasctl-backup(5))
sum="cityHash64(d, i8, u16, i32, u64, i64, f32, f64, dt, e8, e16, s, fs,
	if(isNull(ns), 0, cityHash64(assumeNotNull(ns))),
	if(isNull(nf), 0, cityHash64(assumeNotNull(nf))),
	lc, if(isNull(lcn), 0, cityHash64(assumeNotNull(lcn))), au,
	arrayMap(e -> cityHash64(if(isNull(e), 0, cityHash64(assumeNotNull(e)))), ans),
	arrayMap(a -> cityHash64(arrayMap(e -> cityHash64(if(isNull(e), 0,
		cityHash64(assumeNotNull(e)))), a)), aan), aas, alc, toString(u),
	reinterpretAsString(dc), reinterpretAsString(dd), reinterpretAsString(dx),
	if(isNull(nd), 0, cityHash64(reinterpretAsString(assumeNotNull(nd)))),
	tuple(toString(tupleElement(tu, 1)), reinterpretAsString(tupleElement(tu, 2))),
	tuple(tupleElement(tn, 1), if(isNull(tupleElement(tn, 2)), 0,
		cityHash64(assumeNotNull(tupleElement(tn, 2))))),
	arrayMap(e -> cityHash64(toString(e)), au2))"

# server-side: "partition rows checksum" lines; from a manifest: the same
# (a failed query names its table, so that two failures never compare equal)
oracle() { # QUERY-FUNCTION DB.TABLE [SUM]
	$1 "SELECT toString(toYYYYMM(d)) AS p, count(), sum(${3:-$sum}) FROM $2 GROUP BY p
		ORDER BY p FORMAT TSV" | tr '\t' ' ' | grep '^20[0-9]* ' || echo "the oracle failed on $2"
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
	$q "CREATE TABLE h.u (d Date, n UInt32, s AggregateFunction(sum, UInt64))
		ENGINE = AggregatingMergeTree PARTITION BY toYYYYMM(d) ORDER BY (d, n)"
	$q "INSERT INTO h.u SELECT toDate('2024-01-01') + number % 40 AS d, toUInt32(number % 100) AS n,
		sumState(number) FROM numbers(1000) GROUP BY d, n"

	saas -v backup clickhouse --url "$url" --db h
	expect_rc 0 "$v: the table of every hashed type is backed up"
	ID=$(backup_id)
	expect_eq "$(grep -c "'h.t' partition [0-9]*: [0-9]* rows and their checksum counted from the export" "$T/err")" 3 \
		"$v: each partition's checksum is counted from its export"
	expect_eq "$(grep -c "'h.t'.*the server counts" "$T/err")" 0 "$v: and not by the server"
	expect_eq "$(manifest_parts "$ID" t)" "$(oracle "$q" h.t)" \
		"$v: each partition's rows and checksum are the server's"
	grep -q "'h.u' column 's' (AggregateFunction(sum, UInt64)): the server counts its checksum" "$T/err" &&
		ok "$v: an AggregateFunction column leaves the checksum to the server" ||
		not_ok "$v: an AggregateFunction column leaves the checksum to the server" "$(grep "h.u" "$T/err" | head -3)"
	eval "manifest$v=\$(manifest_parts \"\$ID\" t)"

	saas restore clickhouse "$ID" --url "$url" --db-map h=back
	expect_rc 0 "$v: the restore has the server check every partition's checksum"
	expect_eq "$(oracle "$q" back.t)" "$(oracle "$q" h.t)" "$v: the restored rows are the source's"
done

# the same rows give the same numbers on both servers
expect_eq "$manifest26" "$manifest18" "18.16 and 26.7 record the same checksums"

# arrays of tuples (18.16 cannot insert them)
q26 "CREATE TABLE h.at (d Date, at Array(Tuple(String, Nullable(UInt8))),
	aa Array(Tuple(UInt8, Array(Nullable(String))))) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY d"
q26 "INSERT INTO h.at SELECT toDate('2024-01-01') + number % 50,
	arraySlice([(toString(number % 3), if(number % 2 = 0, NULL, toUInt8(number % 200))), ('z', 1)], 1, number % 3),
	[(toUInt8(number % 5), [NULL, toString(number)])] FROM numbers(20000)"
atsum="cityHash64(d, arrayMap(e -> cityHash64(tupleElement(e, 1), if(isNull(tupleElement(e, 2)), 0,
		cityHash64(assumeNotNull(tupleElement(e, 2))))), at),
	arrayMap(e -> cityHash64(tupleElement(e, 1), arrayMap(x -> cityHash64(if(isNull(x), 0,
		cityHash64(assumeNotNull(x)))), tupleElement(e, 2))), aa))"
saas -v backup clickhouse --url "$CHDB_URL" --db h --table at
expect_rc 0 "26: arrays of tuples are backed up"
ID=$(backup_id)
expect_eq "$(grep -c "'h.at' partition [0-9]*: [0-9]* rows and their checksum counted from the export" "$T/err")" 2 \
	"26: their checksum is counted from the export"
expect_eq "$(manifest_parts "$ID" at)" "$(oracle q26 h.at "$atsum")" "26: and it is the server's"
saas restore clickhouse "$ID" --url "$CHDB_URL" --db-map h=back3
expect_rc 0 "26: they restore, each partition checked by the server"
expect_eq "$(oracle q26 back3.at "$atsum")" "$(oracle q26 h.at "$atsum")" "26: with the source's rows"

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
