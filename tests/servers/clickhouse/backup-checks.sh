# Sourced by tests/e2e/t0901 (18.16) and t0902 (26.7, chdb) with a file://
# store, and by t0911/t0912 with an s3:// store on RGW, after a server was
# started: saasctl backup / restore against it. Needs URL, VERSION (18 or
# 26), PASSWORD and q (runs SQL with curl); STORE_URL (default: a folder
# in $T) picks the store. The obj_* helpers look at the store from outside:
# the file system, or awscli and s3-tool for S3.
STORE=${STORE_URL:-file://$T/store}
case $STORE in
file://*)
	SROOT=${STORE#file://}
	mkdir -p "$SROOT"
	obj_has() { [ -f "$SROOT/$1" ]; }
	obj_get() { cp "$SROOT/$1" "$2"; }
	obj_put() { mkdir -p "$(dirname "$SROOT/$2")" && cp "$1" "$SROOT/$2"; }
	obj_rm() { rm -f "$SROOT/$1"; }
	obj_cp_tree() { cp -r "$SROOT/$1" "$SROOT/$2"; }
	obj_mirror() { echo "$SROOT/$1"; }	# a folder holding the objects of ID
	obj_writing() { find "$SROOT" -name '.*.native.lz4.tmp-*' 2>/dev/null | sed "s|^$SROOT/||" | head -n 1; }
	open_uploads() { :; }
	;;
s3://*)
	SBUCKET=${STORE#s3://}; SBUCKET=${SBUCKET%%/*}
	SPFX=${STORE#s3://"$SBUCKET"}; SPFX=${SPFX#/}; [ -n "$SPFX" ] && SPFX=$SPFX/
	aws_() { env AWS_CONFIG_FILE=/dev/null /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL_S3" "$@"; }
	obj_has() { [ "$("$TOOLS/s3-tool" head "$SBUCKET" "$SPFX$1")" != absent ]; }
	obj_get() { aws_ s3 cp --quiet "s3://$SBUCKET/$SPFX$1" "$2"; }
	obj_put() { aws_ s3 cp --quiet "$1" "s3://$SBUCKET/$SPFX$2"; }
	obj_rm() { aws_ s3 rm --quiet "s3://$SBUCKET/$SPFX$1"; }
	obj_cp_tree() { aws_ s3 cp --quiet --recursive "s3://$SBUCKET/$SPFX$1/" "s3://$SBUCKET/$SPFX$2/"; }
	obj_mirror() {
		rm -rf "$T/mirror-$1"
		aws_ s3 cp --quiet --recursive "s3://$SBUCKET/$SPFX$1/" "$T/mirror-$1/" && echo "$T/mirror-$1"
	}
	obj_writing() { "$TOOLS/s3-tool" uploads "$SBUCKET" "$SPFX" | cut -f1 | sed "s|^$SPFX||" | head -n 1; }
	open_uploads() { "$TOOLS/s3-tool" uploads "$SBUCKET" "$SPFX"; }
	;;
esac
export SAASCTL_CLICKHOUSE_URL=$URL SAASCTL_BACKUP_STORE=$STORE

lc=""
[ "$VERSION" = 26 ] && lc=", lc LowCardinality(String)"
q "CREATE DATABASE src"
q "CREATE TABLE src.events (d Date, n UInt64, s String, ns Nullable(String), arr Array(UInt32)$lc,
	m UInt64 MATERIALIZED n * 2, a UInt64 ALIAS n + 1)
	ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY n"
cols="d, n, s, ns, arr"; [ -n "$lc" ] && cols="$cols, lc"
lcv=""; [ -n "$lc" ] && lcv=", toString(number % 7)"
# 202401: 500 rows, far under 1 MiB; 202402: 300000 rows, several MiB
q "INSERT INTO src.events ($cols) SELECT toDate('2024-01-01') + number % 28, number,
	toString(number), if(number % 3 = 0, NULL, 'x'), [number, 2]$lcv FROM numbers(500)"
q "INSERT INTO src.events ($cols) SELECT toDate('2024-02-01') + number % 28, 1000 + number,
	concat('row ', toString(number)), NULL, []$lcv FROM numbers(300000)"
q "CREATE TABLE src.logt (x UInt8, s String) ENGINE = TinyLog"
q "INSERT INTO src.logt VALUES (1, 'a'), (2, 'b'), (3, 'c')"
q "CREATE TABLE src.stripe (x UInt32) ENGINE = StripeLog"
q "INSERT INTO src.stripe SELECT number FROM numbers(1000)"
q "CREATE TABLE src.mem (x String) ENGINE = Memory"
q "INSERT INTO src.mem VALUES ('one'), ('two')"
q "CREATE MATERIALIZED VIEW src.mv ENGINE = MergeTree ORDER BY n AS SELECT n, s FROM src.events"
q "INSERT INTO src.events ($cols) SELECT toDate('2024-03-01'), 5000000 + number, 'late', NULL, []$lcv FROM numbers(10)"
q "CREATE VIEW src.v AS SELECT n FROM src.events"

# what a table holds: rows and an order-independent checksum
sig() { q "SELECT count(), sum(cityHash64(*)) FROM $1.$2"; }
same_tables() { # DB NAME: every table of src has the same content in DB
	for t in events logt stripe mem mv; do
		expect_eq "$(sig "$1" $t)" "$(sig src $t)" "$2: '$t' has the same rows and checksum"
	done
	expect_eq "$(q "SELECT sum(m) FROM $1.events")" "$(q "SELECT sum(m) FROM src.events")" \
		"$2: the MATERIALIZED column is restored"
}

saas backup clickhouse --db src
expect_rc 0 "a backup succeeds"
expect_out '^ok +src\.events +300510 rows' "one line per table"
expect_out '^ok +src\.mv \(inner table\) +10 rows' "a view's inner table goes by the view's name"
expect_out '^backup [0-9]{8}T[0-9]{6}Z(-[0-9]+)?: 7 tables, ' "a summary line"
ID=$(sed -n 's/^backup \([0-9TZ-]*\):.*/\1/p' "$T/out")
obj_has "$ID/manifest.json" && ok "the manifest is written" || not_ok "the manifest is written"
obj_has "$ID/data/src/events/202401.native.lz4" && ok "a partition under 1 MiB is an object" ||
	not_ok "a partition under 1 MiB is an object"
obj_has "$ID/schema/src/v.sql" && ok "a view's schema is kept" || not_ok "a view's schema is kept"
! obj_has saasctl.lock && ok "the lock is released" || not_ok "the lock is released"
$PY - "$(obj_mirror "$ID")/manifest.json" > "$T/m" <<'PY'
import json, sys, hashlib, os
m = json.load(open(sys.argv[1])); root = os.path.dirname(sys.argv[1])
bad = [o["key"] for o in m["objects"]
       if hashlib.blake2b(open(os.path.join(root, o["key"]), "rb").read(), digest_size=32).hexdigest() != o["blake2b"]
       or os.path.getsize(os.path.join(root, o["key"])) != o["size"]]
ev = [t for t in m["tables"] if t["name"] == "events"][0]
print(len(m["objects"]), len(bad), m["rows"], ",".join("%s:%d" % (p["id"], p["rows"]) for p in ev["partitions"]))
PY
expect_eq "$(cat "$T/m")" "14 0 301525 202401:500,202402:300000,202403:10" \
	"the manifest lists every object with its size and BLAKE2b, and rows per partition"

saas restore clickhouse "$ID" --db-map src=dst
expect_rc 0 "a restore into a new database succeeds"
expect_out '^restored .*: 7 partitions, 301525 rows' "the restore says what it did"
same_tables dst "restore"
saas restore clickhouse "$ID" --db-map src=dst
expect_rc 0 "a second restore succeeds"
expect_out ': 0 partitions, 0 rows; 7 partitions already there' "a rerun restores nothing again"
expect_eq "$(q "SELECT count() FROM dst.events")" "300510" "a rerun does not duplicate rows"

# On a terminal a bar on stderr (bytes, rows of the whole restore, rate,
# ETA) sits below the lines, cut to the width; piped, stderr stays empty.
on_pty() { # COLUMNS ARGS...: run saasctl on a pty; the raw bytes in $T/tty
	cols=$1; shift
	COLUMNS=$cols $PY "$TOP/tests/tools/on-pty.py" "$T/tty" "$SAASCTL" "$@"
}
tty_has() { # PATTERN NAME: a bar drawn in place matches PATTERN
	$PY - "$T/tty" "$1" <<'PYEOF' && ok "$2" || not_ok "$2" "$(cat -v "$T/tty")"
import re, sys
raw = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
sys.exit(0 if any(re.search(sys.argv[2], b) for b in raw.split("\r\x1b[K")[1:]) else 1)
PYEOF
}
on_pty 200 restore clickhouse "$ID" --db-map src=dsttty
expect_eq "$?" "0" "a restore on a terminal succeeds"
tty_has '^ *[0-9]+%  [0-9.]+ [KM]?i?B of [0-9.]+ [KM]?i?B  [0-9]+ of 301525 rows  .*dsttty\.events 202401' \
	"on a terminal, restore draws a bar: bytes and rows of the whole restore, the partition"
tty_has '^100%  ([0-9.]+ [KM]?i?B) of \1  301525 of 301525 rows  ' "the bar ends at 100%"
grep -q "$(printf '\r\033\\[K')restored .*: 7 partitions, 301525 rows" "$T/tty" &&
	ok "the bar is cleared before the summary" || not_ok "the bar is cleared before the summary" "$(cat -v "$T/tty")"
tr -d '\r' < "$T/tty" | grep -q 'restored dsttty\.events partition 202402  300000 rows$' &&
	ok "and the lines above it stay" || not_ok "and the lines above it stay" "$(cat -v "$T/tty")"
same_tables dsttty "restore on a terminal"
on_pty 40 restore clickhouse "$ID" --db-map src=dsttty2
$PY - "$T/tty" <<'PYEOF' && ok "the bar is cut to a 40-column terminal" || not_ok "the bar is cut to a 40-column terminal" "$(cat -v "$T/tty")"
import sys
raw = open(sys.argv[1], "rb").read().decode()
# a bar is what lies between two clears; the lines printed after a clear end in \r\n
bars = [b for b in raw.split("\r\x1b[K")[1:] if b and "\n" not in b]
sys.exit(0 if bars and max(len(b) for b in bars) < 40 and any("%" in b for b in bars) else 1)
PYEOF
on_pty 200 backup clickhouse --db src --table events --store "file://$T/tty-store"
expect_eq "$?" "0" "a backup on a terminal succeeds"
tty_has '^[0-9.]+ [KM]?i?B  [0-9]+ rows  .*src\.events 2024' "backup draws the same bar: bytes, rows, the partition"
saas restore clickhouse "$ID" --db-map src=dstpipe
expect_eq "$(cat "$T/err")" "" "piped, a restore draws no bar"

q "INSERT INTO dst.mem VALUES ('other')"
saas restore clickhouse "$ID" --db-map src=dst --table mem
expect_rc 1 "a table holding other data is refused"
expect_err "table 'dst\\.mem' exists and holds other data.*--drop-existing" "and the error says why"
saas restore clickhouse "$ID" --db-map src=dst --table mem --drop-existing
expect_rc 0 "--drop-existing replaces it"
expect_eq "$(sig dst mem)" "$(sig src mem)" "with the backup's rows"

# --json: NDJSON events while backing up, one array for the list
saas --json backup clickhouse --db src --table 'ev*'
expect_rc 0 "a backup of one table with --json"
$PY -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
assert ev[-1]["event"] == "done" and ev[-1]["ok"] and ev[-1]["rows"] == 300510, ev[-1]
assert any(e["event"] == "table" and e["table"] == "events" and e["ok"] for e in ev)
' "$T/out" && ok "--json gives NDJSON events ending with done" || not_ok "--json gives NDJSON events ending with done" "$(cat "$T/out" "$T/err")"
saas backup list --json
$PY -c '
import json, sys
l = json.load(open(sys.argv[1]))
assert len(l) == 2 and all(b["complete"] and b["rows"] > 0 and b["bytes"] > 0 and b["time"] for b in l), l
' "$T/out" && ok "backup list --json: an array with id, time, complete, bytes, rows" ||
	not_ok "backup list --json" "$(cat "$T/out")"

# the largest partitions are exported first (with --parallel 1 they end in
# that order too); tables of unknown size (Log, Memory) before them all
q "SELECT table, partition_id, sum(bytes_on_disk) FROM system.parts WHERE active
	AND database = 'src' GROUP BY table, partition_id FORMAT TabSeparated" > "$T/sizes"
saas --json backup clickhouse --db src --parallel 1 --store "file://$T/order-store"
expect_rc 0 "a backup with --parallel 1"
$PY - "$T/out" "$T/sizes" <<'PY' && ok "exports the largest partitions first" || not_ok "exports the largest partitions first" "$(cat "$T/sizes" "$T/out")"
import json, sys
size = {}
for l in open(sys.argv[2]):
    t, p, n = l.rstrip("\n").split("\t")
    size[(t, p)] = int(n)
ev = [json.loads(l) for l in open(sys.argv[1])]
got = [size.get((e["table"], e["partition"]), float("inf")) for e in ev if e["event"] == "partition"]
assert len(got) > 5 and float("inf") in got and len(set(got)) > 3, got
assert got == sorted(got, reverse=True), got
PY

# encrypted: only public keys to back up; the wrong key is refused first
"$SAASCTL" keygen --name right --out "$T" >/dev/null 2>&1
"$SAASCTL" keygen --name wrong --out "$T" >/dev/null 2>&1
saas backup clickhouse --db src --encrypt-to "$T/right.pub" --parallel 3
expect_rc 0 "an encrypted backup succeeds with --parallel 3"
EID=$(sed -n 's/^backup \([0-9TZ-]*\):.*/\1/p' "$T/out")
obj_has "$EID/data/src/events/202402.native.lz4.enc" && ok "encrypted objects end in .enc" ||
	not_ok "encrypted objects end in .enc"
obj_get "$EID/data/src/events/202401.native.lz4.enc" "$T/enc-obj"
grep -c 'row 1' "$T/enc-obj" >/dev/null && not_ok "no plain text in the objects" ||
	ok "no plain text in the objects"
saas restore clickhouse "$EID" --db-map src=enc -k "$T/wrong.key"
expect_rc 1 "the wrong key fails"
expect_err "is not encrypted to key [0-9a-f]{16}" "with a clear error"
expect_eq "$(q "SELECT count() FROM system.databases WHERE name = 'enc'")" "0" "before anything was created"
saas restore clickhouse "$EID" --db-map src=enc
expect_rc 1 "no key fails"
expect_err "is encrypted: give its key with -k KEYFILE" "and says which option"
saas restore clickhouse "$EID" --db-map src=enc -k "$T/right.key"
expect_rc 0 "the right key restores"
same_tables enc "encrypted restore"

# a flipped byte: restore fails before the data reaches the table
obj_cp_tree "$ID" corrupt
f=$T/flipped
obj_get corrupt/data/src/logt/all.native.lz4 "$f"
$PY -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//2]^=1; open(p,"wb").write(b)' "$f"
obj_put "$f" corrupt/data/src/logt/all.native.lz4
saas restore clickhouse corrupt --db-map src=bad
expect_rc 1 "a corrupt object fails the restore"
expect_err "logt" "the error names the table"
expect_eq "$(q "SELECT count() FROM bad.logt")" "0" "nothing of the corrupt object reached the table"
expect_eq "$(q "SELECT count() FROM system.tables WHERE database = 'bad' AND name LIKE '_saasctl_restore_%'")" "0" \
	"the staging table is gone"

# incomplete backups are never good
obj_rm corrupt/manifest.json
saas backup list --json
$PY -c '
import json, sys
l = {b["id"]: b for b in json.load(open(sys.argv[1]))}
assert l["corrupt"]["complete"] is False, l
' "$T/out" && ok "a backup without a manifest is listed as incomplete" || not_ok "incomplete listing" "$(cat "$T/out")"
saas backup list
expect_out '^corrupt .* incomplete$' "the table says incomplete"
saas restore clickhouse corrupt --db-map src=bad2
expect_rc 1 "an incomplete backup is never restored"
expect_err "has no manifest" "and says why"

# the lock: a live holder makes a second run exit 1 and name it
sleep 300 & holder=$!
printf '{"pid": %d, "host": "%s", "started": "2026-01-01T00:00:00Z"}\n' "$holder" "$(hostname)" > "$T/lock"
obj_put "$T/lock" saasctl.lock
saas backup clickhouse --db src
expect_rc 1 "a second run exits 1 while the lock is held"
expect_err "pid $holder on $(hostname) since 2026-01-01T00:00:00Z" "and says who holds it"
kill "$holder"; wait "$holder" 2>/dev/null
saas backup clickhouse --db src --table logt
expect_rc 0 "a lock left by a dead process is taken over"

# a run killed mid-export leaves no manifest
q "CREATE TABLE src.big (n UInt64, s String) ENGINE = MergeTree ORDER BY n"
q "INSERT INTO src.big SELECT number, toString(cityHash64(number)) FROM numbers(6000000)"
manifests() { "$SAASCTL" backup list --json | $PY -c 'import json,sys; print(sum(b["complete"] for b in json.load(sys.stdin)))'; }
before=$(manifests)
"$SAASCTL" backup clickhouse --db src --table big > "$T/kill.out" 2>&1 & bpid=$!
# kill it once the export is writing its object
i=0
until tmpf=$(obj_writing); [ -n "$tmpf" ] || [ $i -gt 2000 ]; do
	i=$((i + 1)); kill -0 "$bpid" 2>/dev/null || break
done
kill -9 "$bpid" 2>/dev/null && ok "the run was killed mid-export" || not_ok "the run was killed mid-export" "it ended first: $(cat "$T/kill.out")"
wait "$bpid" 2>/dev/null
KID=${tmpf%%/*}
expect_eq "$(manifests)" "$before" "a killed run writes no manifest"
saas backup list --json
$PY -c '
import json, sys
l = {b["id"]: b for b in json.load(open(sys.argv[1]))}
assert l[sys.argv[2]]["complete"] is False, l
' "$T/out" "$KID" && ok "and is never listed as good" || not_ok "a killed run is never listed as good" "$KID" "$(cat "$T/out")"
obj_rm saasctl.lock
# what the killed run left half-written (a temporary file, an open
# multipart upload) is dropped by the next run that takes the lock
[ -n "$(obj_writing)" ] && ok "the killed run left its object half-written" ||
	not_ok "the killed run left its object half-written"
saas backup clickhouse --db src --table logt
expect_rc 0 "the next run succeeds"
expect_eq "$(obj_writing)" "" "and drops what the killed run left"

# the password travels in a header, never in argv or a message
SAASCTL_CLICKHOUSE_PASSWORD="nope $PASSWORD" saas backup clickhouse --db src
expect_rc 1 "a wrong password fails"
grep -q "$PASSWORD" "$T/err" "$T/out" && not_ok "the password is never printed" || ok "the password is never printed"

# ---- partition keys. A partition is read through its key's condition and
# its id: ClickHouse 18.16 would read every part of the table for the id
# alone. A value that is not equal to itself (NULL, NaN) selects nothing
# and the partition is read by its id alone. Every kind of key round-trips.
case $STORE in file://*)
q "CREATE DATABASE keys"
q "CREATE TABLE keys.s (s String, n UInt32) ENGINE = MergeTree PARTITION BY s ORDER BY n"
q "INSERT INTO keys.s VALUES ('it''s', 1), ('a\\\\b', 2), ('', 3), ('(x)', 4)"
q "CREATE TABLE keys.t (a String, b UInt8, n UInt32) ENGINE = MergeTree PARTITION BY (a, b) ORDER BY n"
q "INSERT INTO keys.t VALUES ('x', 1, 1), ('y''z', 2, 2)"
q "CREATE TABLE keys.d (d Date, t DateTime, e Enum8('a' = 1, 'b' = 2), n UInt32) ENGINE = MergeTree PARTITION BY (d, t, e) ORDER BY n"
q "INSERT INTO keys.d VALUES ('2024-01-02', '2024-01-02 03:04:05', 'a', 1), ('2024-03-04', '2024-03-04 00:00:00', 'b', 2)"
q "CREATE TABLE keys.e (e Enum8('a' = 1, 'b' = 2), n UInt32) ENGINE = MergeTree PARTITION BY e ORDER BY n"
q "INSERT INTO keys.e VALUES ('a', 1), ('b', 2), ('b', 3)"
q "CREATE TABLE keys.u (n UInt32) ENGINE = MergeTree ORDER BY n"
q "INSERT INTO keys.u SELECT number FROM numbers(1000)"
if [ "$VERSION" = 18 ]; then
	# NaN is a partition of its own, and so are -0 and 0 (by their bits)
	q "CREATE TABLE keys.odd (f Float64, n UInt32) ENGINE = MergeTree PARTITION BY f ORDER BY n"
	q "INSERT INTO keys.odd VALUES (nan, 1), (nan, 2), (-0.0, 3), (0.0, 4), (1.5, 5)"
else
	q "CREATE TABLE keys.odd (x Nullable(UInt8), n UInt32) ENGINE = MergeTree PARTITION BY x ORDER BY n SETTINGS allow_nullable_key = 1"
	q "INSERT INTO keys.odd VALUES (NULL, 1), (NULL, 2), (3, 3), (4, 4)"
fi
saas -v backup clickhouse --db keys
expect_rc 0 "a backup of tables with every kind of partition key"
expect_err "export 'keys\\.d' partition '[^']+': WHERE \\(\\(d, t, e\\)\\) = \\('2024-01-02','2024-01-02 03:04:05','a'\\) AND _partition_id = " \
	"a tuple key's partition is read by its value and id"
expect_err "export 'keys\\.s' partition '[0-9a-f]+': WHERE \\(s\\) = CAST\\('it\\\\'s' AS String\\) FORMAT Native" \
	"a string key's partition is read by its value, quoted, alone: its rows are counted against its parts"
expect_err "export 'keys\\.e' partition '[0-9a-f]+': WHERE \\(e\\) = CAST\\('b' AS Enum8\\('a' = 1, 'b' = 2\\)\\) FORMAT Native" \
	"so is an Enum key's"
expect_err "export 'keys\\.t' partition '[0-9a-f]+': WHERE \\(\\(a, b\\)\\) = \\('x',1\\) FORMAT Native" \
	"and a tuple of them"
expect_err "export 'keys\\.u' partition 'all'$" "an unpartitioned table is read whole, with no condition"
grep -c "export 'keys\.odd' partition '[0-9a-f]*': WHERE _partition_id = " "$T/err" > "$T/n"
expect_eq "$(cat "$T/n")" 1 "the partition whose value is not equal to itself is read again by its id alone"
grep -q "partition .*: 0 rows .*, 2 in its parts; .*read by its id" "$T/err" &&
	ok "and the log says why" || not_ok "and the log says why" "$(grep odd "$T/err")"
KID=$(sed -n 's/^backup \([0-9TZ-]*\):.*/\1/p' "$T/out")
saas restore clickhouse "$KID" --db-map keys=keys2
expect_rc 0 "its restore succeeds"
for t in s t d e u odd; do
	expect_eq "$(sig keys2 $t)" "$(sig keys $t)" "'$t' comes back with the same rows and checksum"
done

# A key that evaluates otherwise than when its rows were inserted: the
# column's time zone changed under toYYYYMM(t), and of the 17 rows of
# partition 202401, 10 are February's now (on current servers; 18.16
# still puts them all in January).
if [ "$VERSION" != 18 ]; then
q "CREATE DATABASE drift"
q "CREATE TABLE drift.z (t DateTime('UTC'), n UInt32) ENGINE = MergeTree PARTITION BY toYYYYMM(t) ORDER BY n"
q "INSERT INTO drift.z SELECT toDateTime(1706731200 + number * (number < 10) - 259200 * (number >= 10), 'UTC'), number FROM numbers(17)"
q "ALTER TABLE drift.z MODIFY COLUMN t DateTime('Asia/Tokyo')"
expect_eq "$(q "SELECT partition_id, rows FROM system.parts WHERE database = 'drift' AND active" | tr '\t\n' ': ')" \
	"202401:17 " "drift: one partition of 17 rows"
expect_eq "$(q "SELECT sum(toYYYYMM(t) = 202401), sum(toYYYYMM(t) = 202402) FROM drift.z" | tr '\t' ' ')" \
	"7 10" "drift: of which its key names 7 now"
saas -v backup clickhouse --db drift
expect_rc 0 "drift: backed up"
grep -q "'drift.z' partition 202401: 7 rows .*, 17 in its parts; .*read by its id" "$T/err" &&
	ok "drift: the key selects fewer rows than the parts hold, so the partition is read again" ||
	not_ok "drift: the key selects fewer rows than the parts hold, so the partition is read again" "$(grep drift "$T/err")"
expect_err "export 'drift\\.z' partition '202401': WHERE _partition_id = '202401' FORMAT Native" \
	"drift: by its id alone"
expect_out "drift\\.z +17 rows" "drift: every row of it is in the backup"
DID=$(sed -n 's/^backup \([0-9TZ-]*\):.*/\1/p' "$T/out")
# restored here, the rows fall in two partitions: said before any moves
saas restore clickhouse "$DID" --db-map drift=drift2
expect_rc 1 "drift: the restore into a table whose key splits the partition fails"
expect_err "partition 202401: this table's partition key puts some of its rows in other partitions, 202402 \\(10 rows\\): it evaluates otherwise than when they were backed up" \
	"drift: and says why"
expect_eq "$(sig drift2 z)" "$(printf '0\t0')" "drift: nothing of the partition was restored"
fi
;; esac
unset SAASCTL_CLICKHOUSE_URL SAASCTL_BACKUP_STORE
