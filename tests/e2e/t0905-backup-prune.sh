#!/bin/sh
# backup prune over a synthetic history (SAASCTL_NOW, made-up manifests in
# a file:// store): restic's forget rules in UTC, the reasons, --dry-run,
# objects still referenced by kept incrementals, incomplete backups.
. "$(dirname "$0")/../lib.sh"
S=$T/store
export SAASCTL_BACKUP_STORE=file://$S SAASCTL_NOW=2024-03-11T12:00:00Z
# a zone far from UTC: days and weeks must still be UTC ones
export TZ=Asia/Tokyo

# make ID TIME [HOLDER...]: a complete backup started at TIME with one data
# object of its own and, for each HOLDER, one referenced in that backup
make() {
	$PY - "$S" "$@" <<'PY'
import json, os, sys, hashlib
root, bid, time, holders = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
def obj(rel, data):
    p = os.path.join(root, bid, rel); os.makedirs(os.path.dirname(p), exist_ok=True)
    open(p, "wb").write(data)
    return {"key": rel, "size": len(data), "blake2b": hashlib.blake2b(data, digest_size=32).hexdigest()}
objs = [obj("schema/db/t.sql", b"CREATE TABLE db.t"), obj("data/db/t/own.native.lz4", bid.encode())]
for h in holders:
    o = json.load(open(os.path.join(root, h, "manifest.json")))["objects"][1]
    o = dict(o, backup=o.get("backup", h), key="data/db/t/from-%s.native.lz4" % h)
    objs.append(o)
m = {"format": "saasctl-backup/2", "id": bid, "time": time, "finished": time, "server_version": "x",
     "tables_count": 1, "rows": 1, "bytes": 1, "tables": [], "objects": objs, "encryption": None,
     "base": holders[0] if holders else None, "chain": 1 if holders else 0, "bases": {h: None for h in holders}}
json.dump(m, open(os.path.join(root, bid, "manifest.json"), "w"))
PY
}
# the referenced object of a holder is its own data object, under another name
fix_refs() { # ID HOLDER: name the referenced object as the holder stores it
	$PY - "$S/$1/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for o in m["objects"]:
    if "backup" in o: o["key"] = "data/db/t/own.native.lz4"
json.dump(m, open(sys.argv[1], "w"))
PY
}

# every day at 03:00 from 2024-01-01 to 2024-03-10, a second one on 03-10,
# and 03-03 at 23:30 UTC (03-04 in Tokyo: a Monday of another ISO week)
d=0
while [ $d -lt 70 ]; do
	day=$(date -u -d "2024-01-01 + $d days" +%Y%m%d)
	iso=$(date -u -d "2024-01-01 + $d days" +%Y-%m-%d)
	if [ "$day" = 20240303 ]; then make "${day}T233000Z" "${iso}T23:30:00Z"
	else make "${day}T030000Z" "${iso}T03:00:00Z"; fi
	d=$((d + 1))
done
make 20240310T150000Z 2024-03-10T15:00:00Z
# an incremental kept by the rules referencing a backup the rules forget
rm -rf "$S/20240229T030000Z"
make 20240229T030000Z 2024-02-29T03:00:00Z 20240228T030000Z
fix_refs 20240229T030000Z
# incomplete: one abandoned long ago, one written an hour ago
mkdir -p "$S/20240201T040000Z/data" "$S/20240311T110000Z/data"
echo x > "$S/20240201T040000Z/data/a.native.lz4"
echo x > "$S/20240311T110000Z/data/a.native.lz4"
touch -d 2024-02-01T04:00:00Z "$S/20240201T040000Z/data/a.native.lz4"
touch -d 2024-03-11T11:00:00Z "$S/20240311T110000Z/data/a.native.lz4"
cp -r "$S" "$T/orig"

saas backup prune --keep-last 2 --keep-daily 7 --keep-weekly 4 --keep-monthly 6 --dry-run
expect_rc 0 "a dry run succeeds"
# restic's rules, newest first: last 2 = 03-10 15:00 and 03:00; daily 7 =
# 03-10 .. 03-04; weekly 4 = ISO weeks 10 (03-10), 9 (03-03 23:30 UTC),
# 8 (02-25), 7 (02-18); monthly 6 = 2024-03 (03-10), 02 (02-29), 01
# (01-31), and with counts left the oldest (01-01) too
kept=$(sed -n 's/^keep  *\([0-9TZ]*\) .*/\1/p' "$T/out" | tr '\n' ' ')
expect_eq "$kept" "20240101T030000Z 20240131T030000Z 20240218T030000Z 20240225T030000Z 20240229T030000Z 20240303T233000Z 20240304T030000Z 20240305T030000Z 20240306T030000Z 20240307T030000Z 20240308T030000Z 20240309T030000Z 20240310T030000Z 20240310T150000Z " \
	"the kept set is restic's, by UTC days and ISO weeks"
expect_out '^keep +20240310T150000Z +2024-03-10T15:00:00Z +last, daily, weekly, monthly$' "each kept backup names its rules"
expect_out '^keep +20240310T030000Z .* last$' "the second of a day is kept as a last one only"
expect_out '^keep +20240101T030000Z .* monthly \(oldest\)$' "the oldest is kept while the monthly count is left"
expect_out '^would forget +20240228T030000Z .*no rule keeps it; 2 objects would be deleted; 1 object kept for 20240229T030000Z$' \
	"a forgotten base keeps the object a kept incremental references"
expect_out '^would forget +20240102T030000Z .*no rule keeps it; 3 objects would be deleted$' "the others go whole"
expect_out '^would remove +20240201T040000Z .*incomplete, last written 2024-02-01T04:00:00Z, older than the grace period' \
	"an old incomplete backup would be removed"
expect_out '^wait +20240311T110000Z .*within the grace period' "a fresh one is left alone"
expect_out '^dry run: 14 kept, 57 forgotten, 1 incomplete removed; ' "a summary"
diff -r "$S" "$T/orig" >/dev/null && ok "a dry run changes nothing" || not_ok "a dry run changes nothing"

saas backup prune --keep-last 2 --keep-daily 7 --keep-weekly 4 --keep-monthly 6 --json
expect_rc 0 "prune succeeds"
$PY - "$T/out" <<'PY' && ok "--json: one document with an action per backup" || not_ok "prune --json" "$(head -c 3000 "$T/out")"
import json, sys
r = json.load(open(sys.argv[1]))
a = {b["id"]: b for b in r["backups"]}
assert not r["dry_run"] and r["kept"] == 14 and r["forgotten"] == 57, r
assert a["20240228T030000Z"]["action"] == "forget" and a["20240228T030000Z"]["kept_for"] == "20240229T030000Z", a["20240228T030000Z"]
assert a["20240201T040000Z"]["action"] == "remove_incomplete", a["20240201T040000Z"]
assert a["20240310T150000Z"]["why"] == "last, daily, weekly, monthly"
PY
expect_eq "$(ls "$S" | wc -l)" "16" "14 kept, 1 held for a kept one, 1 incomplete left, and no lock"
[ -f "$S/20240228T030000Z/data/db/t/own.native.lz4" ] && [ ! -e "$S/20240228T030000Z/manifest.json" ] &&
	ok "the referenced object stays, the forgotten manifest goes" || not_ok "the referenced object stays" "$(find "$S/20240228T030000Z")"
[ ! -e "$S/20240201T040000Z" ] && ok "the old incomplete backup is gone" || not_ok "the old incomplete backup is gone"
saas backup verify --all
expect_rc 0 "every kept backup still verifies"
saas backup list
expect_out '^20240228T030000Z .* pruned$' "backup list says pruned, not incomplete"

# once nothing references it, the rest goes too
saas backup prune --keep-last 2
expect_rc 0 "a stricter prune"
expect_out '^remove +20240228T030000Z .*forgotten earlier; 2 objects deleted$' "removes the held one"
expect_eq "$(ls "$S" | tr '\n' ' ')" "20240310T030000Z 20240310T150000Z 20240311T110000Z " "only the last 2 and the fresh incomplete stay"

# keep-within: relative to the newest backup, as restic does
rm -rf "$S"; cp -r "$T/orig" "$S"
saas backup prune --keep-within 2d --dry-run
expect_eq "$(sed -n 's/^keep  *\([0-9TZ]*\) .*within 2d$/\1/p' "$T/out" | tr '\n' ' ')" \
	"20240309T030000Z 20240310T030000Z 20240310T150000Z " "--keep-within 2d keeps what is newer than 2 days before the newest"

# defaults from saasctl.yaml, and usage errors
mkdir -p "$T/repo"
printf 'project: acme\nbackups:\n  keep: {last: 1, monthly: 2}\n' > "$T/repo/saasctl.yaml"
saas -C "$T/repo" backup prune --dry-run
expect_rc 0 "rules from backups.keep"
expect_out '^keep +20240310T150000Z .* last, monthly$' "are applied"
expect_out '^keep +20240229T030000Z .* monthly$' "both of them"
saas backup prune --dry-run
expect_rc 2 "no rule at all is a usage error"
expect_err "no retention rule" "and says so"
saas backup prune --keep-daily x
expect_rc 2 "a bad count is a usage error"
saas backup prune --keep-within 3x
expect_rc 1 "a bad duration is refused"
expect_err "'3x' is not a duration" "and named"
