#!/bin/sh
# botocore as an independent oracle for src/sigv4: the same S3 requests
# (listing with a continuation token, ?uploads, ?partNumber&uploadId,
# ?delete, keys with spaces, '+', '~', '=', UTF-8 ..., a session token,
# signed and unsigned payloads) signed by both must give the same
# Authorization header, byte for byte.
. "$(dirname "$0")/../lib.sh"
cases=$TOP/tests/data/sigv4/s3-cases.json
$PY -c 'import botocore' 2>/dev/null || { not_ok "python3-botocore is installed (make deps)"; exit 1; }

run "$TOOLS/s3-tool" sign "$cases"
expect_rc 0 "saasctl signs every case"
cp "$T/out" "$T/saasctl"
run $PY "$TOP/tests/tools/sigv4-botocore.py" "$cases"
expect_rc 0 "botocore signs every case"
cp "$T/out" "$T/botocore"

n=$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$cases")
expect_eq "$(wc -l < "$T/botocore")" "$n" "botocore gave one header per case"
expect_eq "$(sort -u "$T/botocore" | wc -l)" "$n" "and no two cases sign alike"
paste -d '\n' "$T/saasctl" "$T/botocore" > "$T/pairs"
$PY -c 'import json,sys
for c in json.load(open(sys.argv[1])): print(c["method"], repr(c["path"]), c.get("query", ""))' "$cases" > "$T/names"
i=0
while IFS= read -r ours && IFS= read -r theirs; do
	i=$((i + 1))
	expect_eq "$ours" "$theirs" "case $i: $(sed -n "${i}p" "$T/names")"
done < "$T/pairs"
