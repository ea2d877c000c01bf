# Sourced by tests/e2e/t0915 (18.16) and t0916 (26.7, chdb) after a server
# was started: the backup lifecycle (incremental, resume, drill, verify)
# against a real Ceph RGW, every S3 request counted at a proxy in between
# (tests/servers/faultproxy without faults, --log: one line a request,
# "METHOD PATH FAULT STATUS", the query string left off). Needs URL and q.
#
# What is counted as "a PUT of a data object": every PUT request to a key
# under <backup>/data/, i.e. a single-request upload or one part of a
# multipart upload (the initiate and complete of a multipart upload are
# POSTs, counted apart). Journal entries (<backup>/journal/...) and
# schemas are not data objects.
. "$TOP/tests/servers/rgw/lib.sh"
. "$TOP/tests/servers/faultproxy/lib.sh"
rgw_start
"$TOOLS/s3-tool" mb life || not_ok "a bucket is created"
proxy_start S3P "$RGW_PORT"
LOG=$T/S3P.log
# saasctl talks to RGW through the proxy; s3-tool (the tests' own looks
# at the store) talks to RGW directly and is not counted
export AWS_ENDPOINT_URL_S3=$S3P_URL SAASCTL_S3_PART_SIZE=5242880
export SAASCTL_CLICKHOUSE_URL=$URL SAASCTL_BACKUP_STORE=s3://life/ch
s3t() { AWS_ENDPOINT_URL_S3=$RGW_URL "$TOOLS/s3-tool" "$@"; }

# settle: the proxy logs a request after its answer is sent, so the
# client may be gone first; wait until the log stops growing (bounded)
settle() {
	_n=-1 _i=0
	while [ "$(wc -l < "$LOG")" != "$_n" ] && [ $_i -lt 40 ]; do
		_n=$(wc -l < "$LOG"); sleep 0.15; _i=$((_i + 1))
	done
}
mark() { settle; wc -l < "$LOG" | tr -d ' '; }
# reqs MARK METHOD PREFIX: the keys under PREFIX (s3://life/PREFIX) that
# got a METHOD request since MARK, relative to PREFIX, one line a request
reqs() {
	tail -n +"$(($1 + 1))" "$LOG" | awk -v m="$2" -v p="/life/$3" \
		'$1 == m && index($2, p) == 1 { print substr($2, length(p) + 1) }' | sort
}
sig() { q "SELECT count(), sum(cityHash64(*)) FROM $1 FORMAT TabSeparated"; }
same_tables() { # DB NAME: every table of src has the same rows in DB
	for t in events logt; do
		expect_eq "$(sig "$1.$t")" "$(sig "src.$t")" "$2: '$t' has the same count() and sum(cityHash64(*))"
	done
}
last_id() { sed -n 's/^backup \([0-9TZ-]*\):.*/\1/p' "$T/out"; }
# manifest_py PREFIX ID CODE: runs CODE with m, the manifest of the backup
manifest_py() {
	s3t get life "$1/$2/manifest.json" > "$T/manifest.json" &&
		$PY -c "import json, math; m = json.load(open('$T/manifest.json')); $3"
}
scratch() { q "SELECT name FROM system.databases WHERE startsWith(name, '$1') ORDER BY name FORMAT TabSeparated" | tr '\n' ' '; }
flip() { # KEY: rewrites the object with its middle byte changed
	s3t get life "$1" > "$T/obj" &&
		$PY -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//2]^=1; open(p,"wb").write(b)' "$T/obj" &&
		s3t put --part-size 5242880 life "$1" "$T/obj"
}

q "CREATE DATABASE src"
q "CREATE TABLE src.events (d Date, n UInt64, s String) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY n"
# 12 small partitions (2023) and one of several 5 MiB parts (2024-01)
q "INSERT INTO src.events SELECT toDate('2023-01-01') + number % 365, number, toString(number) FROM numbers(12000)"
q "INSERT INTO src.events SELECT toDate('2024-01-01') + number % 31, 1000000 + number,
	toString(cityHash64(number)) FROM numbers(600000)"
q "CREATE TABLE src.logt (x UInt8, s String) ENGINE = TinyLog"
q "INSERT INTO src.logt VALUES (1, 'a'), (2, 'b')"
BIG=data/src/events/202401.native.lz4

# ---- incremental: one partition changed, one data object PUT
m0=$(mark)
saas backup clickhouse --db src --incremental
expect_rc 0 "a first backup to RGW through the proxy"
FULL=$(last_id)
m1=$(mark)
expect_eq "$(reqs "$m0" PUT "ch/$FULL/" | grep '^data/' | uniq | wc -l | tr -d ' ')" 14 "it PUTs all 14 data objects"
q "INSERT INTO src.events SELECT toDate('2024-01-20'), 9000000 + number, 'late' FROM numbers(5)"
saas backup clickhouse --db src --incremental
expect_rc 0 "an incremental after an insert into one partition"
INC=$(last_id)
expect_out "; incremental on $FULL, 13 of 14 partitions unchanged" "it names its base and the unchanged partitions"
puts=$(reqs "$m1" PUT "ch/$INC/" | grep '^data/')
parts=$(manifest_py ch "$INC" "print(math.ceil([o for o in m['objects'] if o['key'] == '$BIG' and 'backup' not in o][0]['size'] / 5242880))")
expect_eq "$(echo "$puts" | uniq)" "$BIG" "the only data object PUT is the changed partition's"
[ "${parts:-0}" -ge 2 ] && ok "which is a multipart upload of $parts parts" ||
	not_ok "the changed partition is a multipart upload" "parts: $parts"
expect_eq "$(echo "$puts" | wc -l | tr -d ' ')" "$parts" "one PUT a part, no other data PUT"
expect_eq "$(reqs "$m1" POST "ch/$INC/" | grep '^data/' | tr '\n' ' ')" "$BIG $BIG " \
	"and the multipart upload's initiate and complete, once each"
expect_eq "$(reqs "$m1" PUT "ch/$FULL/" | wc -l | tr -d ' ')" 0 "nothing of the base is written again"
saas restore clickhouse "$INC" --db-map src=inc
expect_rc 0 "the incremental restores from RGW"
same_tables inc "incremental restore"

# ---- verify --read-data: one flipped byte
m3=$(mark)
saas backup verify "$INC" --read-data
expect_rc 0 "verify --read-data passes on the incremental"
nobj=$(manifest_py ch "$INC" "print(len(m['objects']))")
expect_eq "$(reqs "$m3" GET "ch/" | grep -c -e '/data/' -e '/schema/')" "$nobj" \
	"reading one GET an object, from whichever backup holds it"
SMALL=data/src/events/202306.native.lz4
flip "ch/$FULL/$SMALL" || not_ok "an object of the base is rewritten with one byte changed"
saas backup verify "$INC"
expect_rc 0 "a flipped byte keeps the size"
saas backup verify "$INC" --read-data
expect_rc 1 "verify --read-data catches one flipped byte on RGW"
expect_out "^BAD +$INC  1 of $nobj objects has problems" "the verdict is bad"
expect_out "^  '$SMALL' \(in $FULL\) does not match its BLAKE2b" "naming the object and the backup that holds it"
saas restore clickhouse "$INC" --db-map src=flip
expect_rc 1 "a restore of it fails"
expect_err "'$SMALL' does not match its BLAKE2b" "for the same reason"
expect_eq "$(q "SELECT count() FROM flip.events WHERE toYYYYMM(d) = 202306")" 0 \
	"no row of the flipped object reached the table"
expect_eq "$(q "SELECT count() FROM system.tables WHERE database = 'flip' AND name LIKE '%saasctl_restore%'")" 0 \
	"and no staging table is left"
flip "ch/$FULL/$SMALL" || not_ok "the object is put back"
saas backup verify "$INC" --read-data
expect_rc 0 "flipped back, it verifies again"

# ---- drill
# beyond what a restore of the same backup reads, the drill's comparison
# reads each restored part once, not once for each partition of its table
# (18.16 does not prune parts by _partition_id)
parts_read() { q "SELECT value FROM system.events WHERE event = 'SelectedParts' FORMAT TabSeparated"; }
p0=$(parts_read)
saas restore clickhouse "$INC" --db-map src=rp
expect_rc 0 "a restore of the incremental, to compare with its drill"
p1=$(parts_read)
saas backup drill "$INC"
expect_rc 0 "a drill of a good backup on RGW passes"
p2=$(parts_read)
extra=$(( (p2 - p1) - (p1 - p0) ))
[ "$extra" -ge 13 ] && [ "$extra" -le 26 ] && ok "its comparison reads the 13 restored parts once ($extra parts)" ||
	not_ok "the drill's comparison reads the restored parts once" "restore read $((p1 - p0)) parts, drill $((p2 - p1))"
expect_out "^drill $INC: ok: 2 tables, 14 partitions, 612007 rows restored into drill_src" "with a verdict line"
expect_eq "$(scratch drill_)" "" "the scratch database is dropped"
# one object replaced by a valid object of another backup: the big
# partition as the first backup holds it (5 rows fewer)
saas backup clickhouse --db src
expect_rc 0 "a full backup"
FULL2=$(last_id)
s3t get life "ch/$FULL/$BIG" > "$T/other" && s3t put --part-size 5242880 life "ch/$FULL2/$BIG" "$T/other" ||
	not_ok "an object is replaced by the same key of another backup"
saas backup drill "$FULL2"
expect_rc 1 "a drill fails when an object is another backup's"
expect_out "^BAD +src\.events  13 partitions, 612005 rows" "naming the table"
expect_out "^ +partition 202401: " "and the partition"
expect_out "^drill $FULL2: FAILED: .*'$BIG' does not match its BLAKE2b" "the verdict gives the reason"
expect_eq "$(scratch drill_)" "" "no scratch database is left"

# ---- resume: SIGKILL at about half of the objects
q "CREATE DATABASE many"
q "CREATE TABLE many.t (k UInt32, v String) ENGINE = MergeTree PARTITION BY k % 40 ORDER BY k"
q "INSERT INTO many.t SELECT number, toString(cityHash64(number)) FROM numbers(40000)"
RS=s3://life/res
m4=$(mark)
"$SAASCTL" backup clickhouse --db many --store "$RS" > "$T/kill.out" 2> "$T/kill.err" &
pid=$!
i=0
while [ "$(reqs "$m4" PUT "res/" | grep -c '^[0-9TZ-]*/data/')" -lt 20 ] && [ $i -lt 1500 ] && kill -0 $pid 2>/dev/null; do
	sleep 0.01; i=$((i + 1))
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
RID=$(s3t list life res/ 2>/dev/null | cut -f1 | sed -n 's,^res/\([0-9TZ-]*\)/.*,\1,p' | sort -u | head -n 1)
m5=$(mark)
s3t list life "res/$RID/journal/" 2>/dev/null | cut -f1 | sed "s,^res/$RID/journal/,,; s,\.json\$,," | sort > "$T/journaled"
NJ=$(wc -l < "$T/journaled" | tr -d ' ')
if [ -n "$RID" ] && [ "$(s3t head life "res/$RID/manifest.json")" = absent ] && [ "$NJ" -ge 10 ] && [ "$NJ" -le 30 ]; then
	ok "killed at about half: an incomplete backup with $NJ of 40 partitions in its journal"
else
	not_ok "killed at about half: an incomplete backup with a journal" "$RID: $NJ journal entries" \
		"$(tail -n 5 "$LOG")"
fi
reqs "$m4" PUT "res/$RID/" | grep '^data/' | uniq > "$T/put-before"
saas backup clickhouse --db many --store "$RS" --resume
expect_rc 0 "--resume finishes the killed backup"
expect_out "^backup $RID: .*; resumed: $NJ partitions reused from its journal" "under its ID, reusing the journal"
reqs "$m5" PUT "res/$RID/" | grep '^data/' > "$T/put-resume"
$PY - "$T/journaled" "$T/put-before" "$T/put-resume" <<'PY' && ok "the resume PUT exactly the $((40 - NJ)) objects not finished before, once each" ||
import sys
journaled, before, resumed = (open(p).read().split() for p in sys.argv[1:])
every = {"data/many/t/%d.native.lz4" % i for i in range(40)}
assert set(journaled) <= set(before) <= every, (journaled, before)
assert len(resumed) == len(set(resumed)), "PUT twice: %s" % resumed
assert set(resumed) == every - set(journaled), sorted(set(resumed) ^ (every - set(journaled)))
PY
	not_ok "the resume PUT exactly the objects not finished before" "journaled: $(tr '\n' ' ' < "$T/journaled")" \
		"resumed: $(tr '\n' ' ' < "$T/put-resume")"
saas restore clickhouse "$RID" --store "$RS" --db-map many=manyr
expect_rc 0 "the resumed backup restores"
expect_eq "$(sig manyr.t)" "$(sig many.t)" "with the same count() and sum(cityHash64(*))"

# ---- an incremental reads the manifest it builds on, not every backup's
NB=$(s3t list life ch/ 2>/dev/null | cut -f1 | grep -c '/manifest.json$')
[ "$NB" -ge 2 ] && ok "the store holds $NB complete backups" || not_ok "the store holds complete backups" "$NB"
m6=$(mark)
saas backup clickhouse --db src --incremental
expect_rc 0 "one more incremental"
expect_out "; incremental on " "it builds on a backup"
expect_eq "$(reqs "$m6" GET "ch/" | grep -c '/manifest.json$')" 1 \
	"it reads one manifest, its base's, not all $NB"
