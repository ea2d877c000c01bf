#!/bin/sh
# Re-makes the captures in this folder from the real servers (run from the
# top of the tree: sh tests/data/clickhouse/capture.sh). Each file is an
# answer byte for byte, as curl saved it:
#   numbers-18.16.lz4     18.16, compress=1, two LZ4 frames, 400000 rows
#   types-18.16.native    18.16, plain Native, one block of many types
#   types-26.7.lz4        26.7 (chdb fixture), compress=1, the same types and more
#   midstream-18.16.lz4   18.16, compress=1, throwIf fires at row 300000 of 600000
#   midstream-26.7.lz4    26.7, the same query
#   cityhash.frames       clickhouse-compressor --none of payloads 0..300 bytes
#                         long (bytes i*7+3 mod 256), one frame each (none for 0 bytes): CityHash128
#                         vectors for every code path
#   lz4.frames            clickhouse-compressor (LZ4) of the same payloads
TOP=$(pwd)
. tests/lib.sh
. tests/servers/clickhouse/lib.sh
. tests/servers/clickhouse-chdb/lib.sh
D=$TOP/tests/data/clickhouse
ch_start
chdb_start
curl -s -o "$D/numbers-18.16.lz4" "$CH_URL/?compress=1" --data-binary \
	"SELECT toUInt8(number % 7) AS a, toString(number % 3) AS s FROM numbers(400000) FORMAT Native"
curl -s -o "$D/types-18.16.native" "$CH_URL/" --data-binary \
	"SELECT number AS n, toNullable(toString(number)) AS ns, [number, 1] AS arr, [[toString(number)], []] AS aa,
	 (toUInt8(number), 'x') AS tup, toFixedString('ab', 2) AS fs, toDecimal64(number, 3) AS dec,
	 toUUID('61f0c404-5cb3-11e7-907b-a6006ad3dba0') AS u, CAST('b' AS Enum8('a' = 1, 'b' = 2)) AS en,
	 if(number % 2 = 0, NULL, number) AS nn, toDateTime('2024-01-02 03:04:05') AS dt, toDate('2024-01-02') AS d
	 FROM numbers(100) FORMAT Native"
curl -s -o "$D/types-26.7.lz4" "$CHDB_URL/?compress=1" --data-binary \
	"SELECT number AS n, toNullable(toString(number)) AS ns, [number, 1] AS arr, [[toString(number)], []] AS aa,
	 (toUInt8(number), 'x') AS tup, toFixedString('ab', 2) AS fs, toDecimal64(number, 3) AS dec,
	 toUUID('61f0c404-5cb3-11e7-907b-a6006ad3dba0') AS u, CAST('b' AS Enum8('a' = 1, 'b' = 2)) AS en,
	 if(number % 2 = 0, NULL, number) AS nn, toDateTime('2024-01-02 03:04:05') AS dt, toDate('2024-01-02') AS d,
	 toLowCardinality(toString(number % 3)) AS lc, toLowCardinality(toNullable(toString(number % 4))) AS lcn,
	 map('k', number) AS m, CAST((1, 'a') AS Tuple(x UInt8, y String)) AS named,
	 toDateTime64('2024-01-02 03:04:05.123', 3) AS dt64, toIPv4('1.2.3.4') AS ip, toInt128(number) AS big
	 FROM numbers(100) FORMAT Native"
curl -s -o "$D/midstream-18.16.lz4" "$CH_URL/?compress=1" --data-binary \
	"SELECT toUInt8(number % 5) AS a, throwIf(number = 300000) AS t FROM numbers(600000) FORMAT Native"
curl -s -o "$D/midstream-26.7.lz4" "$CHDB_URL/?compress=1" --data-binary \
	"SELECT toUInt8(number % 5) AS a, throwIf(number = 300000) AS t FROM numbers(600000) FORMAT Native"
: > "$D/cityhash.frames"
: > "$D/lz4.frames"
for n in 1 2 3 4 7 8 9 15 16 17 31 32 33 63 64 65 100 119 127 128 129 150 191 192 200 255 256 257 300; do
	$PY -c "import sys; sys.stdout.buffer.write(bytes((i*7+3) % 256 for i in range($n)))" > "$T/p"
	clickhouse-compressor --none < "$T/p" >> "$D/cityhash.frames"
	clickhouse-compressor < "$T/p" >> "$D/lz4.frames"
done
ls -l "$D"
