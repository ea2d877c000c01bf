# Sourced after backup-checks.sh with an s3:// store: what only S3 has.
# Multipart objects round trip, awscli reads the manifest, and what a
# killed run left open is aborted by the next run.
export SAASCTL_CLICKHOUSE_URL=$URL SAASCTL_BACKUP_STORE=$STORE

# the killed run above may have left its multipart upload open: the next
# run, holding the lock, aborts it
saas backup clickhouse --db src --table big
expect_rc 0 "a backup of a table of several parts succeeds"
BID=$(sed -n 's/^backup \([0-9TZ-]*\):.*/\1/p' "$T/out")
expect_eq "$(open_uploads)" "" "no multipart upload is left open"
run "$TOOLS/s3-tool" head "$SBUCKET" "${SPFX}$BID/data/src/big/all.native.lz4"
expect_out '"[0-9a-f]+-[0-9]+"$' "the big object is a multipart upload"
aws_ s3 cp --quiet "s3://$SBUCKET/${SPFX}$BID/manifest.json" - > "$T/manifest.aws"
$PY - "$T/manifest.aws" "$(obj_mirror "$BID")" <<'PY' && ok "awscli reads the manifest and every object matches its BLAKE2b" ||
import json, sys, hashlib, os
m = json.load(open(sys.argv[1]))
for o in m["objects"]:
    b = open(os.path.join(sys.argv[2], o["key"]), "rb").read()
    assert len(b) == o["size"] and hashlib.blake2b(b, digest_size=32).hexdigest() == o["blake2b"], o["key"]
assert m["rows"] == 6000000, m["rows"]
PY
	not_ok "awscli reads the manifest and every object matches its BLAKE2b"
saas restore clickhouse "$BID" --db-map src=bigr
expect_rc 0 "the multipart object restores"
expect_eq "$(q "SELECT count(), sum(cityHash64(*)) FROM bigr.big")" "$(q "SELECT count(), sum(cityHash64(*)) FROM src.big")" \
	"with the same rows and checksum"

# backup list reads S3 as it reads a folder
saas backup list
expect_rc 0 "backup list reads the S3 store"
expect_out "^$BID " "and shows the new backup"
expect_out '^corrupt .* incomplete$' "a backup without a manifest is incomplete there too"
unset SAASCTL_CLICKHOUSE_URL SAASCTL_BACKUP_STORE
