# Sourced by tests/e2e/t0903 (18.16) and t0904 (26.7, chdb) after a server
# was started: the backup lifecycle (incremental, verify, drill) against
# it, to a file:// store. Needs URL, VERSION (18 or 26), PASSWORD and q.
STORE=file://$T/store
mkdir -p "$T/store"
export SAASCTL_CLICKHOUSE_URL=$URL SAASCTL_BACKUP_STORE=$STORE

q "CREATE DATABASE src"
q "CREATE TABLE src.events (d Date, n UInt64, s String) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY n"
q "INSERT INTO src.events SELECT toDate('2024-01-01') + number % 28, number, toString(number) FROM numbers(1000)"
q "INSERT INTO src.events SELECT toDate('2024-02-01') + number % 28, 10000 + number, 'feb' FROM numbers(2000)"
q "INSERT INTO src.events SELECT toDate('2024-03-01'), 50000 + number, 'mar' FROM numbers(30)"
q "CREATE TABLE src.logt (x UInt8, s String) ENGINE = TinyLog"
q "INSERT INTO src.logt VALUES (1, 'a'), (2, 'b')"
q "CREATE MATERIALIZED VIEW src.mv ENGINE = MergeTree ORDER BY n AS SELECT n, s FROM src.events WHERE s = 'late'"

sig() { q "SELECT count(), sum(cityHash64(*)) FROM $1.$2"; }
same_tables() { # DB NAME: every table of src has the same content in DB
	for t in events logt mv; do
		expect_eq "$(sig "$1" $t)" "$(sig src $t)" "$2: '$t' has the same rows and checksum"
	done
}
last_id() { sed -n 's/^backup \([0-9TZ-]*\):.*/\1/p' "$T/out"; }
# data objects stored in a backup's own folder
data_objects() { (cd "$T/store/$1" && find data -type f ! -name '.*' | sort | tr '\n' ' '); }

# ---- incremental
saas backup clickhouse --db src --incremental
expect_rc 0 "an incremental with nothing to build on succeeds"
expect_out '; full: no complete backup to build on' "and says it made a full backup"
FULL=$(last_id)
q "INSERT INTO src.events SELECT toDate('2024-02-10'), 90000 + number, 'late' FROM numbers(5)"
saas backup clickhouse --db src --incremental
expect_rc 0 "an incremental after an insert into one partition succeeds"
INC=$(last_id)
expect_out "; incremental on $FULL, 3 of 5 partitions unchanged" "it names its base and what was unchanged"
expect_out '^ok +src\.events +3035 rows .* 2 unchanged partitions referenced' "the table line counts the whole table"
objs=$(data_objects "$INC")
case $objs in
"data/src/%2Einner"*"/all.native.lz4 data/src/events/202402.native.lz4 ") ok "only the changed partitions were exported";;
*) not_ok "only the changed partitions were exported" "$objs";;
esac
saas restore clickhouse "$INC" --db-map src=inc
expect_rc 0 "an incremental restores"
expect_out '^restored .*: 5 partitions, 3042 rows' "everything, from whichever backup holds it"
same_tables inc "incremental restore"

# chains stay flat: an incremental on an incremental references the holder
saas backup clickhouse --db src --incremental --full-every 5
expect_rc 0 "an incremental on an incremental succeeds"
INC2=$(last_id)
expect_out "; incremental on $INC, 5 of 5 partitions unchanged" "nothing changed, nothing exported"
expect_eq "$(data_objects "$INC2")" "" "no data object in its folder"
$PY - "$T/store/$INC2/manifest.json" "$FULL" "$INC" > "$T/m" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
held = sorted(set(o.get("backup", "self") for o in m["objects"] if o["key"].startswith("data/")))
print(m["format"], m["chain"], m["base"] == sys.argv[3], held == sorted([sys.argv[2], sys.argv[3]]))
PY
expect_eq "$(cat "$T/m")" "saasctl-backup/4 2 True True" \
	"its manifest references the backups that hold each object, never a reference"
saas backup clickhouse --db src --incremental --full-every 3
expect_rc 0 "--full-every forces a full backup"
expect_out '; full: a full backup every 3 runs' "and says why"
FULL2=$(last_id)
expect_eq "$(data_objects "$FULL2" | wc -w)" "5" "every partition is exported again"

# encrypted incrementals share objects only with the same recipients
"$SAASCTL" keygen --name right --out "$T" >/dev/null 2>&1
"$SAASCTL" keygen --name other --out "$T" >/dev/null 2>&1
saas backup clickhouse --db src --incremental --encrypt-to "$T/right.pub"
expect_rc 0 "an encrypted backup on a plain one"
expect_out "; full: '$FULL2' is encrypted to other keys" "is a full one"
EFULL=$(last_id)
q "INSERT INTO src.events SELECT toDate('2024-01-05'), 95000 + number, 'late' FROM numbers(3)"
saas backup clickhouse --db src --incremental --encrypt-to "$T/right.pub"
expect_rc 0 "an encrypted incremental"
EINC=$(last_id)
expect_out "; incremental on $EFULL, 3 of 5 partitions unchanged" "shares the unchanged objects"
saas restore clickhouse "$EINC" --db-map src=einc -k "$T/other.key"
expect_rc 1 "the wrong key fails an encrypted incremental"
expect_eq "$(q "SELECT count() FROM system.databases WHERE name = 'einc'")" "0" "before anything was created"
saas restore clickhouse "$EINC" --db-map src=einc -k "$T/right.key"
expect_rc 0 "the right key restores an encrypted incremental"
same_tables einc "encrypted incremental restore"

# a format 1 manifest (before incrementals) is still read
cp -r "$T/store/$FULL2" "$T/store/30000101T000000Z"
$PY - "$T/store/30000101T000000Z/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["format"] = "saasctl-backup/1"; m["id"] = "30000101T000000Z"
for k in ("base", "chain", "bases"): del m[k]
for t in m["tables"]: t.pop("structure", None)
json.dump(m, open(sys.argv[1], "w"))
PY
saas restore clickhouse 30000101T000000Z --db-map src=v1
expect_rc 0 "a format 1 backup restores"
expect_eq "$(sig v1 logt)" "$(sig src logt)" "with its data"
saas backup clickhouse --db src --incremental
expect_rc 0 "an incremental on a format 1 backup"
expect_out "; full: '30000101T000000Z' is a saasctl-backup/1 backup" "is a full one"
rm -rf "$T/store/30000101T000000Z"
mkdir -p "$T/repo"
printf 'project: acme\nbackups:\n  full_every: 1\n' > "$T/repo/saasctl.yaml"
saas -C "$T/repo" backup clickhouse --db src --incremental
expect_rc 0 "backups.full_every is read from saasctl.yaml"
expect_out '; full: a full backup every 1 runs' "and applied"

# ---- verify
saas backup verify "$INC"
expect_rc 0 "verify passes on an incremental"
expect_out "^ok +$INC  [0-9]+ objects, .*: present with their sizes" "with a verdict"
saas backup verify --all --read-data -k "$T/right.key"
expect_rc 0 "verify --all --read-data passes on every backup"
expect_out "^ok +$EINC  .*hashes match, decrypted" "an encrypted one is decrypted with -k"
expect_out "^ok +$FULL  .*hashes match$" "a plain one has its hashes checked"
saas backup verify "$EINC" --read-data
expect_rc 0 "without -k an encrypted backup's hashes are checked"
expect_out "give -k to decrypt too" "and it says so"
saas backup verify "$EINC" --read-data -k "$T/other.key"
expect_rc 1 "verify with the wrong key fails"
expect_out "is not encrypted to key" "and says why"
# one flipped byte in an object of the base: the size is right, the hash is not
f=$T/store/$FULL/data/src/events/202401.native.lz4
cp "$f" "$T/saved"
$PY -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//2]^=1; open(p,"wb").write(b)' "$f"
saas backup verify "$INC"
expect_rc 0 "a flipped byte keeps the size"
saas backup verify "$INC" --read-data
expect_rc 1 "verify --read-data catches one flipped byte"
expect_out "^BAD +$INC  1 of [0-9]+ objects has problems" "the verdict is bad"
expect_out "^  'data/src/events/202401.native.lz4' \(in $FULL\) does not match its BLAKE2b" \
	"naming the object and the backup that holds it"
saas restore clickhouse "$INC" --db-map src=flip
expect_rc 1 "and so does a restore"
expect_err "does not match its BLAKE2b" "for the same reason"
cp "$T/saved" "$f"
mv "$T/store/$FULL/data/src/logt/all.native.lz4" "$T/saved"
saas --json backup verify --all
expect_rc 1 "a missing object of a base fails verify"
$PY - "$T/out" "$INC" "$FULL" "$INC2" <<'PY' && ok "--json gives a verdict per backup and names the missing object" || not_ok "verify --json" "$(cat "$T/out")"
import json, sys
r = {b["id"]: b for b in json.load(open(sys.argv[1]))}
inc, full = r[sys.argv[2]], r[sys.argv[3]]
assert inc["verdict"] == "bad" and full["verdict"] == "bad" and r[sys.argv[4]]["verdict"] == "bad", r
assert inc["problems"] == [{"key": "data/src/logt/all.native.lz4", "backup": sys.argv[3], "problem": "is missing"}], inc
assert all(b["verdict"] == "ok" for k, b in r.items() if k not in sys.argv[2:]), r
PY
mv "$T/saved" "$T/store/$FULL/data/src/logt/all.native.lz4"

# ---- drill
. "$TOP/tests/servers/healthchecks/lib.sh"
HCU=7c0a3d55-8f1e-4b2a-9c3d-2e4f6a8b0c1d
hc_server --check $HCU:drill
scratch() { q "SELECT name FROM system.databases WHERE startsWith(name, '$1') ORDER BY name FORMAT TabSeparated" | tr '\n' ' '; }
saas backup drill "$INC"
expect_rc 0 "a drill of a good backup passes"
expect_out "^drill $INC: ok: 3 tables, 5 partitions, 3042 rows restored into drill_src and equal to the backup" \
	"with a verdict line"
expect_out '^ok +src\.events  3 partitions, 3035 rows$' "and a line per table"
expect_out '^ok +src\.mv  1 partition, 5 rows$' "a view's data is compared under the view's name"
expect_eq "$(scratch drill_)" "" "the scratch database is dropped"
drill_rec() { $PY -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["backup"], r["verdict"], r["summary"], r["time"][:2])' "$T/store/$INC/drill.json"; }
expect_eq "$(drill_rec)" "$INC ok 3 tables, 5 partitions, 3042 rows equal to the backup 20" \
	"the verdict is recorded in the backup's drill.json"

# the source changes after the backup: the drill compares with the manifest
q "INSERT INTO src.events SELECT toDate('2024-04-01'), 99000 + number, 'apr' FROM numbers(7)"
q "INSERT INTO src.logt VALUES (3, 'c')"
saas backup drill "$INC"
expect_rc 0 "a drill after the source changed still passes"
expect_out '^ok +src\.logt  1 partition, 2 rows$' "with the rows the backup recorded"
saas backup drill
expect_rc 0 "with no ID the newest complete backup is drilled"
expect_out "^drill $(ls "$T/store" | sort | tail -n 1): ok" "and named"

saas --json backup drill "$INC" --scratch-prefix dj_
expect_rc 0 "drill --json"
$PY - "$T/out" "$INC" <<'PY' && ok "--json reports the verdict and each table" || not_ok "drill --json" "$(cat "$T/out")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["id"] == sys.argv[2] and r["verdict"] == "ok" and r["error"] is None, r
assert r["scratch"] == "dj_src" and r["scratch_dropped"] is True, r
t = {x["table"]: x for x in r["tables"]}
assert t["events"] == {"database": "src", "table": "events", "verdict": "ok", "partitions": 3,
                       "rows": 3035, "problem": None, "differences": []}, t
assert r["rows"] == 3042 and r["bad_tables"] == 0, r
PY
expect_eq "$(scratch dj_)" "" "the scratch database of --scratch-prefix is dropped"

SAASCTL_HC_PING_URL=$HC_URL GITHUB_STEP_SUMMARY=$T/summary.md saas backup drill "$INC" --ping $HCU
expect_rc 0 "drill --ping passes"
expect_eq "$(hc_ping_get 0 'p["path"]') $(hc_ping_get 1 'p["path"]')" "/$HCU/start /$HCU" \
	"it pings start, then success"
case $(hc_ping_get 1 'p["body"]') in
"drill $INC: ok: "*) ok "the success ping carries the verdict";;
*) not_ok "the success ping carries the verdict" "$(hc_ping_get 1 'p')";;
esac
expect_eq "$(sed -n 1p "$T/summary.md")" "### Backup drill \`$INC\`: passed" \
	"GITHUB_STEP_SUMMARY gets a Markdown report"
grep -q '^| src.events | 3 | 3035 | ok |$' "$T/summary.md" && ok "with a row per table" ||
	not_ok "with a row per table" "$(cat "$T/summary.md")"

# a corrupted object: the drill fails, names table and partition, drops
f=$T/store/$INC/data/src/events/202402.native.lz4
cp "$f" "$T/saved"
$PY -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//2]^=1; open(p,"wb").write(b)' "$f"
SAASCTL_HC_PING_URL=$HC_URL saas backup drill "$INC" --ping $HCU
expect_rc 1 "a drill of a backup with a corrupted object fails"
expect_out "^BAD +src\.events  3 partitions, 3035 rows: " "naming the table"
expect_out "^ +partition 202402: 0 rows" "and the partition"
expect_out "^drill $INC: FAILED: .*does not match its BLAKE2b" "the verdict gives the restore's reason"
expect_err "does not match its BLAKE2b" "and so does the error"
expect_eq "$(scratch drill_)" "" "no scratch database is left after a failure"
expect_eq "$(hc_ping_get -1 'p["path"]')" "/$HCU/fail" "the failure is pinged as fail"
case $(drill_rec) in
"$INC failed "*"tables differ from the backup"*BLAKE2b*) ok "a failed drill is recorded too";;
*) not_ok "a failed drill is recorded too" "$(cat "$T/store/$INC/drill.json")";;
esac
cp "$T/saved" "$f"

# a changed checksum in the manifest
cp -r "$T/store/$INC" "$T/store/20000101T000000Z"
$PY - "$T/store/20000101T000000Z/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["id"] = "20000101T000000Z"
for t in m["tables"]:
    if t["name"] == "logt":
        t["partitions"][0]["checksum"] = str(int(t["partitions"][0]["checksum"]) ^ 1)
json.dump(m, open(sys.argv[1], "w"))
PY
saas backup drill 20000101T000000Z
expect_rc 1 "a drill fails when a recorded checksum differs"
expect_out "^BAD +src\.logt  1 partition, 2 rows: 1 of 1 partition differs" "naming the table"
expect_out "^ok +src\.events" "the other tables are still compared"
expect_eq "$(scratch drill_)" "" "and dropped"
rm -rf "$T/store/20000101T000000Z"

# a scratch database that exists is not the drill's to drop
q "CREATE DATABASE drill_src"
q "CREATE TABLE drill_src.keep (x UInt8) ENGINE = TinyLog"
saas backup drill "$INC"
expect_rc 1 "a drill refuses an existing scratch database"
expect_err "scratch database 'drill_src' exists" "and says which"
expect_eq "$(q "EXISTS TABLE drill_src.keep")" "1" "and leaves it alone"
q "DROP DATABASE drill_src"

# a database with '=' in its name cannot be mapped to a scratch one (OLD
# ends at the first '='): the drill refuses before it creates anything,
# rather than restore into the live database
q "CREATE DATABASE eq"
q "CREATE TABLE eq.t (x UInt8) ENGINE = TinyLog"
q "INSERT INTO eq.t VALUES (1)"
q "CREATE DATABASE \`eq=x\`"
q "CREATE TABLE \`eq=x\`.t (x UInt8) ENGINE = TinyLog"
q "INSERT INTO \`eq=x\`.t VALUES (2)"
saas backup clickhouse --db eq --db 'eq=x'
expect_rc 0 "a backup of databases 'eq' and 'eq=x'"
EQ=$(last_id)
saas backup drill "$EQ"
expect_rc 1 "a drill refuses a database with '=' in its name"
expect_err "database 'eq=x' has '=' in its name" "and names it"
expect_eq "$(scratch drill_)" "" "having created no scratch database"
saas restore clickhouse "$EQ" --db-map eq=eq2
expect_rc 0 "--db-map eq=eq2 restores 'eq' and leaves 'eq=x' as it is"
expect_eq "$(q "SELECT sum(x) FROM eq2.t")|$(q "SELECT count() FROM eq.t")|$(q "SELECT count() FROM \`eq=x\`.t")" "1|1|1" \
	"'eq' into eq2 alone; 'eq=x' in place, its rows already there"
q "DROP DATABASE eq"
q "DROP DATABASE eq2"
q "DROP DATABASE \`eq=x\`"

# SIGINT midway: the scratch databases go all the same
q "CREATE DATABASE big"
q "CREATE TABLE big.t (k UInt32, v String) ENGINE = MergeTree PARTITION BY k % 60 ORDER BY k"
q "INSERT INTO big.t SELECT number, toString(number) FROM numbers(6000)"
saas backup clickhouse --db big --store "file://$T/store2"
expect_rc 0 "a backup of 60 partitions"
"$SAASCTL" backup drill --store "file://$T/store2" --scratch-prefix sig_ > "$T/out" 2> "$T/err" &
pid=$!
i=0
while [ "$(scratch sig_)" = "" ] && [ $i -lt 400 ] && kill -0 $pid 2>/dev/null; do
	sleep 0.02; i=$((i + 1))
done
sleep 0.2
kill -INT $pid
wait $pid
rc=$?
expect_rc 130 "SIGINT stops a drill with 128 + SIGINT"
expect_err "interrupted" "saying it was interrupted"
expect_eq "$(scratch sig_)" "" "no scratch database is left after SIGINT"

# ---- resume after kill -9 mid-export
S3=file://$T/store3
mkdir -p "$T/store3"
journaled() { find "$T/store3" -path '*/journal/*' -name '*.json' | wc -l | tr -d ' '; }
"$SAASCTL" backup clickhouse --db big --store "$S3" > "$T/out" 2> "$T/err" &
pid=$!
i=0
while [ "$(journaled)" -lt 8 ] && [ $i -lt 500 ] && kill -0 $pid 2>/dev/null; do
	sleep 0.02; i=$((i + 1))
done
kill -9 $pid
wait $pid 2>/dev/null
RID=$(ls "$T/store3" | grep -v '\.lock$' | head -n 1)
NJ=$(journaled)
if [ ! -e "$T/store3/$RID/manifest.json" ] && [ "$NJ" -ge 8 ] && [ "$NJ" -lt 60 ]; then
	ok "killed mid-export: an incomplete backup with $NJ partitions in its journal"
else
	not_ok "killed mid-export: an incomplete backup with a journal" "$RID: $NJ journal entries" "$(ls -R "$T/store3" | head -20)"
fi
# objects of the journal: inode and name, to see which get written again
objs() { (cd "$T/store3/$RID" && find journal -name '*.json' | sed 's,^journal/,,; s,\.json$,,' |
	while read -r o; do [ -e "$o" ] && echo "$(stat -c %i "$o") $o"; done | sort -k2); }
objs > "$T/before"
# one object damaged, one partition changed since: both are exported again
set -- $(sed -n 1p "$T/before"); BROKEN=$2
set -- $(sed -n 2p "$T/before"); CHANGED=$2
$PY -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//2]^=1; open(p,"wb").write(b)' "$T/store3/$RID/$BROKEN"
cpid=$(basename "$CHANGED" .native.lz4)
q "INSERT INTO big.t VALUES ($((600000 + cpid)), 'late')"
saas backup clickhouse --db big --store "$S3" --resume
expect_rc 0 "--resume finishes the interrupted backup"
expect_out "^backup $RID: .*6001 rows.*; resumed: $((NJ - 2)) partitions reused from its journal" \
	"under its ID, reusing every intact, unchanged partition"
expect_eq "$(journaled)" "0" "the journal is deleted once the manifest is written"
(cd "$T/store3/$RID" && while read -r ino o; do echo "$(stat -c %i "$o") $o"; done < "$T/before") > "$T/after"
$PY - "$T/before" "$T/after" "$BROKEN" "$CHANGED" <<'PY' && ok "intact objects were not written again; the damaged and the changed one were" || not_ok "resume rewrote only what it had to" "$(diff "$T/before" "$T/after")"
import sys
def load(p): return {l.split()[1]: l.split()[0] for l in open(p) if l.strip()}
b, a = load(sys.argv[1]), load(sys.argv[2])
changed = {k for k in b if a[k] != b[k]}
assert changed == {sys.argv[3], sys.argv[4]}, changed
PY
saas backup verify "$RID" --store "$S3" --read-data
expect_rc 0 "the resumed backup verifies, every object read"
saas backup drill "$RID" --store "$S3" --scratch-prefix res_
expect_rc 0 "and its drill passes"
expect_out '^ok +big\.t  60 partitions, 6001 rows$' "with every partition"
saas backup clickhouse --db big --store "$S3" --resume
expect_rc 0 "--resume with nothing interrupted"
expect_out "; new: '$RID' is complete, nothing to resume" "makes a new backup and says why"
