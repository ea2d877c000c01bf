#!/bin/sh
# Backups of a two-shard ClickHouse 18.16 cluster (two real servers, a
# Distributed table over them) to file:// and to a real Ceph RGW: the
# shard-N/ layout, one manifest, list, verify, incrementals per shard, a
# restore into two servers and into one (rows add up), drills, a shard
# that fails, and a replica list whose first replica is down.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/rgw/lib.sh"
. "$TOP/tests/servers/clickhouse/lib.sh"
. "$TOP/tests/servers/faultproxy/lib.sh"
rgw_start
"$TOOLS/s3-tool" mb shards || not_ok "a bucket is created"

A_TCP_PORT=$(free_port) B_TCP_PORT=$(free_port)
CH_EXTRA_XML="<yandex><remote_servers><two>
<shard><replica><host>127.0.0.1</host><port>$A_TCP_PORT</port></replica></shard>
<shard><replica><host>127.0.0.1</host><port>$B_TCP_PORT</port></replica></shard>
</two></remote_servers></yandex>"
ch_start A
ch_start B
ch_start C	# fresh servers to restore into: a new cluster of two,
ch_start D
CH_EXTRA_XML=
ch_start E	# and one server that is in no cluster
qs() { curl -sS --fail-with-body "$1/" --data-binary "$2"; }
sig() { qs "$1" "SELECT count(), sum(cityHash64(*)) FROM $2"; }
# the rows of two servers added up: counts, and sums modulo 2^64
sig2() {
	$PY -c 'import sys; a, b = (l.split() for l in sys.argv[1:])
print("%d\t%d" % (int(a[0]) + int(b[0]), (int(a[1]) + int(b[1])) % 2**64))' "$(sig "$1" "$3")" "$(sig "$2" "$3")"
}
MJ() { $PY -c 'import json,sys; m=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$SROOT/$ID/manifest.json" "$1"; }
closed=http://127.0.0.1:$(free_port)

for s in A B; do
	eval "u=\$${s}_URL"
	qs "$u" "CREATE DATABASE src"
	qs "$u" "CREATE TABLE src.events (d Date, n UInt64, s String) ENGINE = MergeTree
		PARTITION BY toYYYYMM(d) ORDER BY n"
	qs "$u" "CREATE TABLE src.small (x UInt32) ENGINE = TinyLog"
	qs "$u" "CREATE TABLE src.events_all AS src.events ENGINE = Distributed(two, src, events)"
done
# shard 1: January and February; shard 2: January too (the same partition
# on both shards), March, and enough rows for a fault mid-stream
qs "$A_URL" "INSERT INTO src.events SELECT toDate('2024-01-01') + number % 59, number,
	toString(number) FROM numbers(3000)"
qs "$B_URL" "INSERT INTO src.events SELECT toDate('2024-01-01') + number % 20, 100000 + number,
	concat('b', toString(number)) FROM numbers(200)"
qs "$B_URL" "INSERT INTO src.events SELECT toDate('2024-03-01') + number % 28, 200000 + number,
	concat('b', toString(cityHash64(number))) FROM numbers(200000)"
qs "$A_URL" "INSERT INTO src.small VALUES (1), (2)"
qs "$B_URL" "INSERT INTO src.small VALUES (3), (4), (5)"
expect_eq "$(qs "$A_URL" "SELECT count() FROM src.events_all")" 203200 \
	"the Distributed table sees both shards"

# 1. a backup of two shards to file://
SROOT=$T/store
export SAASCTL_BACKUP_STORE=file://$SROOT
saas backup clickhouse --url "$A_URL" --url "$B_URL" --db src --parallel 2
expect_rc 0 "a backup of two shards succeeds"
expect_out '^ok +src\.events \(shard 1\) +3000 rows' "a line per table and shard (1)"
expect_out '^ok +src\.events \(shard 2\) +200200 rows' "a line per table and shard (2)"
expect_out "^server +shard 2 $B_URL\$" "it says which server each shard is read from"
expect_out '^backup [0-9TZ-]+: 2 shards, 6 tables, 203205 rows' "the summary counts both shards"
ID=$(sed -n 's/^backup \([0-9TZ-]*\):.*/\1/p' "$T/out")
FULL=$ID
[ -f "$SROOT/$ID/shard-1/data/src/events/202401.native.lz4" ] &&
	[ -f "$SROOT/$ID/shard-2/data/src/events/202401.native.lz4" ] &&
	[ -f "$SROOT/$ID/shard-2/data/src/events/202403.native.lz4" ] &&
	[ -f "$SROOT/$ID/shard-1/schema/src/events_all.sql" ] &&
	ok "each shard's objects are under shard-N/" ||
	not_ok "each shard's objects are under shard-N/" "$(cd "$SROOT" && find . -type f | sort)"
[ ! -e "$SROOT/$ID/data" ] && [ ! -e "$SROOT/$ID/shard-1/manifest.json" ] &&
	[ -f "$SROOT/$ID/manifest.json" ] && ok "with one manifest at the top" ||
	not_ok "with one manifest at the top" "$(ls -R "$SROOT/$ID" | head -20)"
expect_eq "$(MJ 'm["format"], len(m["shards"]), "tables" in m')" "('saasctl-backup/4', 2, False)" \
	"the manifest is format 3 with its tables in shards"
expect_eq "$(MJ '[(s["shard"], s["prefix"], s["url"], s["rows"]) for s in m["shards"]]')" \
	"[(1, 'shard-1/', '$A_URL', 3002), (2, 'shard-2/', '$B_URL', 200203)]" \
	"each shard names the server read from, its prefix and its rows"
expect_eq "$(MJ 'sorted(set(o["key"].split("/")[0] for o in m["objects"]))')" "['shard-1', 'shard-2']" \
	"objects lists both shards' objects"
expect_eq "$(MJ '[p["rows"] for s in m["shards"] for t in s["tables"] if t["name"] == "events" for p in t["partitions"]]')" \
	"[1581, 1419, 200, 200000]" "each shard's partitions with their rows"
expect_eq "$(MJ 'm["rows"], m["tables_count"]')" "(203205, 6)" "the totals add the shards up"

saas backup list --json
expect_eq "$($PY -c 'import json,sys; print([(b["shards"], b["tables"]) for b in json.load(open(sys.argv[1])) if b["id"] == sys.argv[2]])' "$T/out" "$ID")" \
	"[(2, 6)]" "backup list --json gives the shard count"
saas backup list
expect_out '^ID +TIME +SIZE +SHARDS +TABLES' "backup list has a SHARDS column"
expect_out "^$ID .* 2 +6 +203205 +no +complete\$" "and shows 2 for this backup"

# 2. verify checks every shard's objects
saas backup verify "$ID" --read-data
expect_rc 0 "verify --read-data passes on a sharded backup"
obj=$ID/shard-2/data/src/events/202403.native.lz4
cp "$SROOT/$obj" "$T/keep"
printf 'X' | dd of="$SROOT/$obj" bs=1 seek=100 conv=notrunc 2>/dev/null
saas backup verify "$ID" --read-data
expect_rc 1 "a corrupt object of shard 2 fails verify"
expect_out 'shard-2/data/src/events/202403.native.lz4' "and verify names it"
mv "$SROOT/$ID/shard-1/schema/src/small.sql" "$T/keep-schema"
saas backup verify "$ID"
expect_rc 1 "a missing object of shard 1 fails verify without --read-data"
expect_out 'shard-1/schema/src/small.sql' "and verify names it"
cp "$T/keep" "$SROOT/$obj"
saas backup verify "$ID" --read-data
expect_rc 1 "verify still fails while one object is missing"
mv "$T/keep-schema" "$SROOT/$ID/shard-1/schema/src/small.sql"
saas backup verify "$ID" --read-data
expect_rc 0 "verify passes again once the objects are back"

# 3. restore into two fresh servers: shard N into server N
saas restore clickhouse "$ID" --url "$C_URL" --url "$D_URL"
expect_rc 0 "a restore into two servers succeeds"
expect_out "^restored src\.events \(shard 2\) partition 202403 +200000 rows" "it says which shard each partition is of"
expect_eq "$(sig "$C_URL" src.events)" "$(sig "$A_URL" src.events)" "server 1 holds shard 1's events"
expect_eq "$(sig "$D_URL" src.events)" "$(sig "$B_URL" src.events)" "server 2 holds shard 2's events"
expect_eq "$(sig "$D_URL" src.small)" "$(sig "$B_URL" src.small)" "and shard 2's TinyLog table"
expect_eq "$(qs "$C_URL" "EXISTS TABLE src.events_all")$(qs "$D_URL" "EXISTS TABLE src.events_all")" 11 \
	"each server gets its shard's Distributed table"
# on a terminal the bar counts every shard's partitions from the start:
# its percentage never steps back when the next shard begins
COLUMNS=200 $PY "$TOP/tests/tools/on-pty.py" "$T/tty" "$SAASCTL" restore clickhouse "$ID" --url "$C_URL" --url "$D_URL"
$PY - "$T/tty" <<'PYEOF' && ok "the restore bar of two shards only goes up, to 100%" || not_ok "the restore bar of two shards only goes up, to 100%" "$(cat -v "$T/tty")"
import re, sys
pct = [int(p) for p in re.findall(r"\x1b\[K *([0-9]+)%", open(sys.argv[1], "rb").read().decode("utf-8", "replace"))]
sys.exit(0 if len(pct) > 2 and pct == sorted(pct) and pct[-1] == 100 else 1)
PYEOF
saas restore clickhouse "$ID" --url "$C_URL" --url "$D_URL" --url "$E_URL"
expect_rc 1 "three servers for two shards are refused"
expect_err "has 2 shards: give one ClickHouse URL per shard, or one" "and the error says what to give"

# 4. restore into one server: every shard's rows add up
saas restore clickhouse "$ID" --url "$E_URL"
expect_rc 0 "a restore of both shards into one server succeeds"
expect_eq "$(sig "$E_URL" src.events)" "$(sig2 "$A_URL" "$B_URL" src.events)" \
	"its events are both shards' (count and checksum add up)"
expect_eq "$(sig "$E_URL" src.small)" "$(sig2 "$A_URL" "$B_URL" src.small)" "so is its TinyLog table"
expect_eq "$(qs "$E_URL" "SELECT count() FROM src.events WHERE toYYYYMM(d) = 202401")" 1781 \
	"a partition on both shards holds the rows of both"
expect_out "^skipped +src\.events_all: .*cluster 'two' not found" \
	"the Distributed table of an unknown cluster is skipped, with the server's reason"
saas restore clickhouse "$ID" --url "$E_URL"
expect_rc 0 "a second restore into the one server succeeds"
expect_out "^restored $ID: 0 partitions, 0 rows; 4 partitions already there" \
	"and restores nothing again"
expect_eq "$(sig "$E_URL" src.events)" "$(sig2 "$A_URL" "$B_URL" src.events)" "rows are not doubled"

# 5. a drill restores both shards into one server's scratch databases
saas backup drill "$ID" --url "$E_URL"
expect_rc 0 "a drill of a sharded backup passes"
expect_out '^ok +src\.events +3 partitions, 203200 rows' "comparing the shards added up"

# 6. incrementals compare each shard with the same shard of the base
qs "$B_URL" "INSERT INTO src.events VALUES ('2024-03-05', 999999, 'late')"
saas backup clickhouse --url "$A_URL" --url "$B_URL" --db src --incremental
expect_rc 0 "an incremental of two shards succeeds"
ID=$(sed -n 's/^backup \([0-9TZ-]*\):.*/\1/p' "$T/out")
expect_out "; incremental on .*, 5 of 6 partitions unchanged" "only the changed partition is exported"
expect_eq "$(MJ '[(s["shard"], p["id"], p["object"].get("backup", "here")) for s in m["shards"] for t in s["tables"] if t["name"] == "events" for p in t["partitions"]]')" \
	"[(1, '202401', '$(MJ 'm["base"]')'), (1, '202402', '$(MJ 'm["base"]')'), (2, '202401', '$(MJ 'm["base"]')'), (2, '202403', 'here')]" \
	"shard 2's changed partition is new, the rest refer to the base"
saas backup verify "$ID" --read-data
expect_rc 0 "the incremental verifies, objects in its base included"
qs "$E_URL" "DROP DATABASE src"
saas restore clickhouse "$ID" --url "$E_URL"
expect_rc 0 "the incremental restores into one server"
expect_eq "$(sig "$E_URL" src.events)" "$(sig2 "$A_URL" "$B_URL" src.events)" "with both shards' rows, the new one too"

# 7. one server keeps today's layout and manifest; a base of two shards
#    is no base for it
saas backup clickhouse --url "$A_URL" --db src --incremental
expect_rc 0 "a backup of one server succeeds"
expect_out '; full: .* has 2 shards, this backup 1' "a base of two shards makes it full, and says why"
ID=$(sed -n 's/^backup \([0-9TZ-]*\):.*/\1/p' "$T/out")
[ -f "$SROOT/$ID/data/src/events/202401.native.lz4" ] && [ ! -e "$SROOT/$ID/shard-1" ] &&
	ok "one server: no shard-1/ folder" || not_ok "one server: no shard-1/ folder" "$(ls "$SROOT/$ID")"
expect_eq "$(MJ 'm["format"], "shards" in m, "url" in m, len(m["tables"])')" "('saasctl-backup/4', False, False, 3)" \
	"one server: the manifest is format 2 as before"
expect_no_out '^server ' "one server: no line about servers"
saas restore clickhouse "$ID" --url "$C_URL" --url "$D_URL"
expect_rc 1 "a backup of one server is not restored into two"
expect_err "is of one server" "and says so"

# 8. a shard that fails fails the whole backup, and no manifest is written
complete() { "$SAASCTL" backup list --json | $PY -c 'import json,sys; print(sum(b["complete"] for b in json.load(sys.stdin)))'; }
before=$(complete)
saas backup clickhouse --url "$A_URL" --url "$closed" --db src
expect_rc 1 "a shard whose server is down fails the backup"
expect_err "shard 2: .*127\.0\.0\.1" "and the error names the shard"
expect_eq "$(complete)" "$before" "no manifest is written"
proxy_start CHP "$B_PORT" --inject-after 300000
saas backup clickhouse --url "$A_URL" --url "$CHP_URL" --db src
expect_rc 1 "a shard whose export breaks midway fails the backup"
expect_out '^failed +src\.events \(shard 2\): .*Code: 241' "the table line names the shard and the server's error"
expect_out '^ok +src\.events \(shard 1\)' "while the other shard was exported"
expect_eq "$(complete)" "$before" "no manifest is written"
grep -q ' inject ' "$T/CHP.log" && ok "the error was injected in shard 2's stream" ||
	not_ok "the error was injected in shard 2's stream" "$(cat "$T/CHP.log")"

# 9. replicas: the first that answers is used, and the manifest says which
saas backup clickhouse --url "$A_URL" --url "$closed,$B_URL" --db src --table events
expect_rc 0 "a shard whose first replica is down is read from the second"
expect_out "^down +shard 2 $closed: " "the replica that is down is named"
expect_out "^server +shard 2 $B_URL\$" "and the one used"
ID=$(sed -n 's/^backup \([0-9TZ-]*\):.*/\1/p' "$T/out")
expect_eq "$(MJ '[(s["url"], s["replicas"]) for s in m["shards"]]')" \
	"[('$A_URL', ['$A_URL']), ('$B_URL', ['$closed', '$B_URL'])]" \
	"the manifest names the replica used and the replicas given"
# the same from saasctl.yaml: clickhouse.shards, a list of URLs or lists
mkdir -p "$T/repo"
cat > "$T/repo/saasctl.yaml" <<EOF
project: acme
clickhouse:
  shards:
    - $A_URL
    - [$closed, $B_URL]
backups:
  store: file://$SROOT
  databases: [src]
EOF
unset SAASCTL_BACKUP_STORE
saas -C "$T/repo" backup clickhouse --table small
expect_rc 0 "clickhouse.shards in saasctl.yaml is a cluster"
expect_out '^backup [0-9TZ-]+: 2 shards, 2 tables, 5 rows' "of two shards"
expect_out "^server +shard 2 $B_URL\$" "its second shard read from the replica that answers"
saas -C "$T/repo" backup clickhouse --table small --url "$A_URL"
expect_out '^backup [0-9TZ-]+: 1 table, 2 rows' "--url wins over clickhouse.shards"
SAASCTL_CLICKHOUSE_SHARDS="$B_URL $A_URL" saas -C "$T/repo" backup clickhouse --table small
expect_out "^server +shard 1 $B_URL\$" "SAASCTL_CLICKHOUSE_SHARDS wins over the file"
printf 'project: acme\nclickhouse:\n  shards: [[a, {b: 1}]]\n' > "$T/repo/saasctl.yaml"
saas -C "$T/repo" backup clickhouse
expect_rc 1 "a shard that is neither a URL nor a list of URLs is refused"
expect_err "items of 'clickhouse.shards' must be strings or lists of strings" "and the error says what it wants"
export SAASCTL_BACKUP_STORE=file://$SROOT

# 10. the same cluster to S3 (RGW)
saas backup clickhouse --url "$A_URL" --url "$B_URL" --db src --store s3://shards/ch
expect_rc 0 "a backup of two shards to S3 succeeds"
ID=$(sed -n 's/^backup \([0-9TZ-]*\):.*/\1/p' "$T/out")
keys=$("$TOOLS/s3-tool" list shards "ch/$ID/" 2>/dev/null)
echo "$keys" | grep -q "ch/$ID/shard-1/data/src/events/202402.native.lz4" &&
	echo "$keys" | grep -q "ch/$ID/shard-2/data/src/events/202403.native.lz4" &&
	echo "$keys" | grep -q "ch/$ID/manifest.json" &&
	ok "S3 holds each shard under shard-N/ and one manifest" ||
	not_ok "S3 holds each shard under shard-N/ and one manifest" "$keys"
saas backup list --store s3://shards/ch
expect_out "^$ID .* 2 +6 +203206 +no +complete\$" "backup list reads the shard count from S3"
saas backup verify "$ID" --read-data --store s3://shards/ch
expect_rc 0 "verify reads every shard's objects from S3"
saas restore clickhouse "$ID" --store s3://shards/ch --url "$E_URL" --db-map src=s3all
expect_rc 0 "a restore of both shards from S3 into one server succeeds"
expect_eq "$(sig "$E_URL" s3all.events)" "$(sig2 "$A_URL" "$B_URL" src.events)" "and the rows add up"
