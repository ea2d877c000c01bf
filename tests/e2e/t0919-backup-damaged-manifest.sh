#!/bin/sh
# A manifest someone else wrote into the store (a real one, from the fuzz
# corpus, then damaged): list shows the backup as incomplete, verify and
# prune refuse with an error that names the place, never a crash.
. "$(dirname "$0")/../lib.sh"
S=$T/store
export SAASCTL_BACKUP_STORE=file://$S SAASCTL_NOW=2026-12-01T00:00:00Z
ID=20261130T053309Z
mkdir -p "$S/$ID"
cp "$TOP/tests/fuzz/corpus/fuzz-manifest/full-plain.json" "$S/$ID/manifest.json"

saas backup list
expect_rc 0 "list a store with a real manifest"
expect_out "^$ID .* complete" "the backup is complete"

# damage ID KEY JSON: set tables[2].partitions[0].object.KEY
damage() {
	$PY - "$S/$ID/manifest.json" "$1" "$2" <<'PY'
import json, sys
p, k, v = sys.argv[1:]
m = json.load(open(p))
m["tables"][2]["partitions"][0]["object"][k] = json.loads(v)
json.dump(m, open(p, "w"))
PY
}
damage key '"data/../../../etc/passwd"'
saas backup list
expect_rc 0 "list still works"
expect_out "^$ID .* incomplete" "a damaged manifest is not listed as complete"
saas backup verify "$ID"
expect_rc 1 "verify refuses a manifest with a '..' key"
expect_err "^saasctl: .*the manifest of '$ID' is damaged: tables\[2\]\.partitions\[0\]\.object: 'key': object key 'data/\.\./\.\./\.\./etc/passwd' has an empty, '\.' or '\.\.' component$" \
	"and names the place and the cause"

cp "$TOP/tests/fuzz/corpus/fuzz-manifest/full-plain.json" "$S/$ID/manifest.json"
damage size '-5'
saas backup verify "$ID"
expect_rc 1 "verify refuses a negative size"
expect_err "tables\[2\]\.partitions\[0\]\.object: 'size' is not a count" "and says which"
saas backup prune --keep-last 1 --dry-run
expect_rc 1 "prune refuses to plan with a damaged manifest"
expect_err "prune: the manifest of '$ID' is damaged" "and says which backup"
