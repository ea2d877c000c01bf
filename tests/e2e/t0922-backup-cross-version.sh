#!/bin/sh
# Columns that ClickHouse 18.16 cannot hash as they are (UUID, Decimal,
# Nullable inside arrays, tuples and LowCardinality) back up on 18.16, and
# a backup taken on 18.16 restores and drills on 26.7: the content
# checksum of format 4 is one number on both. A format 2 manifest is
# still checked with the checksum it was written with.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/clickhouse/lib.sh"
. "$TOP/tests/servers/clickhouse-chdb/lib.sh"
ch_start
chdb_start
export SAASCTL_BACKUP_STORE=file://$T/store
q18() { curl -sS --fail-with-body "$CH_URL/?allow_experimental_low_cardinality_type=1" --data-binary "$1"; }
q26() { curl -sS --fail-with-body "$CHDB_URL/?output_format_decimal_trailing_zeros=1" --data-binary "$1"; }
b18() { saas "$@" --url "$CH_URL"; }
b26() { saas "$@" --url "$CHDB_URL"; }

q18 "CREATE DATABASE xv"
q18 "CREATE TABLE xv.t (d Date, n UInt64, u UUID, d2 Decimal(10, 2), d38 Decimal(38, 5),
	nd Nullable(Decimal(10, 2)), an Array(Nullable(Int8)), aan Array(Array(Nullable(String))),
	tu Tuple(UUID, Decimal(9, 1)), au Array(UUID), ns Nullable(String),
	lcn LowCardinality(Nullable(String)), e Enum8('a' = 1, 'b' = -2), dt DateTime('UTC'))
	ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY n"
# (18.16 has no leftPad: the UUIDs' last 12 digits cut from a wider number)
q18 "INSERT INTO xv.t SELECT toDate('2024-01-01') + number % 45, number,
	toUUID(concat('01234567-89ab-cdef-0123-', substring(toString(1000000000000 + number), 2, 12))),
	toDecimal64(number, 2) / 3, toDecimal128(number, 5) / 7,
	if(number % 2 = 0, NULL, toDecimal64(number, 2)), [NULL, toInt8(number % 100)],
	[[NULL, toString(number)], []],
	(toUUID('01234567-89ab-cdef-0123-456789abcdef'), toDecimal32(number % 1000, 1)),
	[toUUID('01234567-89ab-cdef-0123-456789abcdef')], if(number % 4 = 0, NULL, 'x'),
	if(number % 3 = 0, NULL, toString(number % 7)), if(number % 2 = 0, 'a', 'b'),
	toDateTime(1700000000 + number * 37, 'UTC')
	FROM numbers(20000)"
# LowCardinality inside arrays and tuples: Native writes every nested
# LowCardinality's version before the column's data
q18 "CREATE TABLE xv.lc (n UInt64, al Array(LowCardinality(String)),
	tl Tuple(UInt8, LowCardinality(String)), l LowCardinality(String)) ENGINE = MergeTree ORDER BY n"
q18 "INSERT INTO xv.lc SELECT number, [toString(number % 5), 'x'], (number % 7, toString(number % 3)),
	toString(number % 11) FROM numbers(3000)"
# aggregate states (Native not walked; checksummed by final value)
q18 "CREATE TABLE xv.agg (d Date, n UInt8, u AggregateFunction(uniq, UInt64),
	s AggregateFunction(sum, UInt64), q AggregateFunction(quantiles(0.5, 0.9), Float64),
	l AggregateFunction(anyLast, String)) ENGINE = AggregatingMergeTree PARTITION BY toYYYYMM(d) ORDER BY (d, n)"
q18 "INSERT INTO xv.agg SELECT toDate('2024-01-01') + number % 40 AS d, toUInt8(number % 5) AS n,
	uniqState(number), sumState(number), quantilesState(0.5, 0.9)(toFloat64(number)),
	anyLastState(toString(number)) FROM numbers(50000) GROUP BY d, n"
# a column outside the sorting key of an AggregatingMergeTree: 18.16
# allows it, 26.7 only with the table setting allow_dimensions_outside_sorting_key
q18 "CREATE TABLE xv.dim (d Date, k UInt8, label String, s AggregateFunction(sum, UInt64))
	ENGINE = AggregatingMergeTree PARTITION BY toYYYYMM(d) ORDER BY (d, k)"
q18 "INSERT INTO xv.dim SELECT toDate('2024-01-01') + number % 30 AS d, toUInt8(number % 3) AS k,
	concat('k', toString(k)), sumState(number) FROM numbers(3000) GROUP BY d, k"
q18 "CREATE TABLE xv.plain (d Date, n UInt64, s Nullable(String)) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY n"
q18 "INSERT INTO xv.plain SELECT toDate('2024-01-01') + number % 45, number, if(number % 3 = 0, NULL, toString(number)) FROM numbers(1000)"

# the rows as 18.16 writes them out; 26.7's rows are first carried into
# 18.16 by ClickHouse itself (FORMAT Native), since the two spell some
# values differently in text (Decimal inside tuples)
dump() { # DB TABLE
	q18 "SELECT * FROM $1.$2 ORDER BY n FORMAT TabSeparated" | md5sum | cut -d' ' -f1
}
dump26() { # DB TABLE
	q18 "DROP TABLE IF EXISTS cmp.$2" && q18 "CREATE TABLE cmp.$2 AS xv.$2" &&
	curl -sS --fail "$CHDB_URL/" --data-binary "SELECT * FROM $1.$2 FORMAT Native" |
		curl -sS --fail "$CH_URL/?query=INSERT%20INTO%20cmp.$2%20FORMAT%20Native&allow_experimental_low_cardinality_type=1" --data-binary @- &&
	dump cmp "$2"
}
q18 "CREATE DATABASE cmp"
src=$(dump xv t)
expect_eq "$(q18 "SELECT count() FROM xv.t")" "20000" "the source table has its rows"

b18 backup clickhouse --db xv
expect_rc 0 "18.16: a table of UUID, Decimal and nested Nullable columns backs up"
ID=$(sed -n 's/^backup \([0-9TZ-]*\):.*/\1/p' "$T/out")
expect_eq "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["format"])' "$T/store/$ID/manifest.json")" \
	"saasctl-backup/4" "the manifest is of format 4"

b18 restore clickhouse "$ID" --db-map xv=back
expect_rc 0 "18.16: it restores, each partition's checksum checked"
expect_eq "$(dump back t)" "$src" "18.16: the restored rows are the source's"
expect_eq "$(dump back lc)" "$(dump xv lc)" "18.16: LowCardinality inside arrays and tuples is restored"
fin() { # q18|q26 DB: the agg table's final values
	$1 "SELECT d, n, finalizeAggregation(u), finalizeAggregation(s), finalizeAggregation(q),
		finalizeAggregation(l) FROM $2.agg ORDER BY d, n FORMAT TabSeparated" | md5sum | cut -d' ' -f1
}
expect_eq "$(fin q18 back)" "$(fin q18 xv)" "18.16: aggregate states are restored"

b26 restore clickhouse "$ID"
expect_rc 0 "26.7: the backup of 18.16 restores, checked against the checksums 18.16 recorded"
expect_eq "$(dump26 xv t)" "$src" "26.7: the restored rows are 18.16's"
expect_eq "$(dump26 xv lc)" "$(dump xv lc)" "26.7: so are the LowCardinality ones"
expect_eq "$(fin q26 xv)" "$(fin q18 xv)" "26.7: the aggregate states finalize as on 18.16"
expect_out '^created +xv\.dim: with allow_dimensions_outside_sorting_key = 1' \
	"26.7: a table 26.7 refuses as it was made is created with the setting that allows it, and says so"
dimq="SELECT d, k, label, finalizeAggregation(s) FROM xv.dim ORDER BY d, k FORMAT TabSeparated"
expect_eq "$(q26 "$dimq" | md5sum)" "$(q18 "$dimq" | md5sum)" "26.7: with its rows"

# 26.7: LowCardinality in maps, in named tuples, of Nullable in arrays
q26 "CREATE DATABASE lc26"
q26 "CREATE TABLE lc26.m (n UInt64, m Map(LowCardinality(String), LowCardinality(String)),
	a Array(LowCardinality(Nullable(String))), t Tuple(a UInt8, b LowCardinality(String)))
	ENGINE = MergeTree ORDER BY n"
q26 "INSERT INTO lc26.m SELECT number, map(toString(number % 4), toString(number % 9)),
	[NULL, toString(number % 6)], (number % 200, toString(number % 13)) FROM numbers(3000)"
dump_26() { q26 "SELECT * FROM $1.m ORDER BY n FORMAT TabSeparated" | md5sum | cut -d' ' -f1; }
b26 backup clickhouse --db lc26
expect_rc 0 "26.7: a table of LowCardinality in maps, tuples and arrays backs up"
ID_LC=$(sed -n 's/^backup \([0-9TZ-]*\):.*/\1/p' "$T/out")
b26 restore clickhouse "$ID_LC" --db-map lc26=lc26b
expect_rc 0 "26.7: and restores"
expect_eq "$(dump_26 lc26b)" "$(dump_26 lc26)" "26.7: with the same rows"

# A view that reads a table sorting after it by name: 26.7 refuses the
# view before its source exists, so restore creates it after the others.
q26 "CREATE DATABASE vo"
q26 "CREATE TABLE vo.zz_in (n UInt64) ENGINE = Null"
q26 "CREATE TABLE vo.sink (n UInt64) ENGINE = MergeTree ORDER BY n"
q26 "CREATE MATERIALIZED VIEW vo.aa_mv TO vo.sink AS SELECT n * 2 AS n FROM vo.zz_in"
q26 "INSERT INTO vo.zz_in SELECT number FROM numbers(100)"
b26 backup clickhouse --db vo
expect_rc 0 "26.7: a view and the Null table it reads back up"
ID_VO=$(sed -n 's/^backup \([0-9TZ-]*\):.*/\1/p' "$T/out")
b26 restore clickhouse "$ID_VO" --db-map vo=vo2
expect_rc 0 "26.7: a view is restored after the table it reads, which sorts after it"
q26 "INSERT INTO vo2.zz_in SELECT number FROM numbers(3)"
expect_eq "$(q26 "SELECT count(), sum(n) FROM vo2.sink")" "$(printf '103\t9906')" \
	"26.7: the restored view feeds its target"
b26 restore clickhouse "$ID_VO" --db-map vo=vo3 --table aa_mv --table sink
expect_rc 1 "26.7: a view whose source is not restored fails"
expect_err "cannot create 'vo3\.aa_mv'.*zz_in" "and the error is the server's about the missing source"
b26 backup drill "$ID"
expect_rc 0 "26.7: the backup of 18.16 passes a drill"

# the checksum is one number on both servers (the drill above compared
# 26.7's with the manifest; here the sum itself, per partition)
cat > "$T/sum.py" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
t = [t for t in m["tables"] if t["name"] == sys.argv[2]][0]
print(" ".join("%s:%s" % (p["id"], p["checksum"]) for p in t["partitions"]))
PY
rec=$($PY "$T/sum.py" "$T/store/$ID/manifest.json" t)
b26 backup clickhouse --db xv
expect_rc 0 "26.7: the restored tables back up"
ID26=$(sed -n 's/^backup \([0-9TZ-]*\):.*/\1/p' "$T/out")
expect_eq "$($PY "$T/sum.py" "$T/store/$ID26/manifest.json" t)" "$rec" \
	"26.7 records the checksums 18.16 recorded for the same rows"

# A format 2 manifest holds checksums of version 1: sum(cityHash64(cols)).
# Restoring one computes that version; with version 2 numbers under the
# format 2 label the restore must fail, which shows the format decides.
v1=$(q18 "SELECT _partition_id, sum(cityHash64(d, n, s)) FROM xv.plain GROUP BY _partition_id FORMAT JSONCompact" |
	$PY -c 'import json,sys; print(json.dumps(dict(json.load(sys.stdin)["data"])))')
mkdir -p "$T/old" && cp -r "$T/store/$ID" "$T/old/$ID"
$PY - "$T/old/$ID/manifest.json" "$v1" 2 <<'PY'
import json, sys
path, v1, fmt = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
m = json.load(open(path))
m["format"] = "saasctl-backup/2"
for t in m["tables"]:
    if t["name"] == "plain" and fmt == "2":
        for p in t["partitions"]:
            p["checksum"] = str(v1[p["id"]])
json.dump(m, open(path, "w"))
PY
SAASCTL_BACKUP_STORE=file://$T/old b18 restore clickhouse "$ID" --table plain --db-map xv=old
expect_rc 0 "a format 2 manifest restores, its checksums of version 1 checked"
expect_eq "$(dump old plain)" "$(dump xv plain)" "its rows are the source's"
cp "$T/store/$ID/manifest.json" "$T/old/$ID/manifest.json"
$PY - "$T/old/$ID/manifest.json" "$v1" 1 <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["format"] = "saasctl-backup/2"
json.dump(m, open(sys.argv[1], "w"))
PY
SAASCTL_BACKUP_STORE=file://$T/old b18 restore clickhouse "$ID" --table plain --db-map xv=old2
expect_rc 1 "version 2 checksums under a format 2 label fail the restore"
expect_err 'checksum' "and the error names the checksum"
expect_eq "$(q18 "SELECT count() FROM old2.plain")" "0" "no row reaches the table"

# an incremental never builds on a format 2 base
SAASCTL_BACKUP_STORE=file://$T/old b18 backup clickhouse --db xv --incremental
expect_rc 0 "a backup next to a format 2 backup succeeds"
expect_out 'full.*saasctl-backup/2' "it is a full backup, and says the base is of format 2"
t_finish
