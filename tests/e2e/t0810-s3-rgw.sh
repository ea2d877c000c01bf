#!/bin/sh
# src/s3 against a real Ceph RGW, which checks every SigV4 signature:
# put/get/head with awkward keys, paginated listings, multipart uploads and
# their abort, batch delete, If-None-Match, a wrong secret. awscli reads
# back what saasctl wrote. RGW starts once for the whole file.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/rgw/lib.sh"
S3=$TOOLS/s3-tool
rgw_start
echo "# rgw started in $RGW_START_SECS s"
B=backups

run "$S3" mb "$B"
expect_rc 0 "a bucket is created"

# Keys that need encoding in the path and in the signature.
printf 'hello\n' > "$T/small"
for k in 'plain.txt' 'with space' 'plus+sign' 'tilde~x' 'eq=sign&amp' \
	"utf8-$(printf '\303\251\320\266\346\227\245')" 'dir/sub/x.native' 'star*(paren)' \
	'dots/../up' './here' 'dir//double'; do
	run "$S3" put "$B" "$k" "$T/small"
	expect_rc 0 "put '$k'"
	run "$S3" get "$B" "$k"
	expect_file_same "$T/out" "$T/small" "get '$k' gives the bytes back"
done
run "$S3" list "$B" dots/
expect_out '^dots/\.\./up	6$' "a key with '..' is stored under its own name"
run "$S3" head "$B" 'with space'
expect_out '^6 "b1946ac92492d2347c6235b4d2611184"$' "head gives size and ETag"
run "$S3" head "$B" 'no such key'
expect_out '^absent$' "head of a missing key says absent"
run "$S3" get "$B" 'no such key'
expect_rc 1 "get of a missing key fails"
expect_err "^s3-tool: s3 GET 'backups/no such key': 404 NoSuchKey" "and says 404 NoSuchKey"

# An empty object, and a body from a pipe.
: > "$T/empty"
run "$S3" put "$B" empty "$T/empty"
expect_rc 0 "an empty object is stored"
run "$S3" head "$B" empty
expect_out '^0 ' "with size 0"

# Listing: 23 keys in pages of 10, awkward names come back exactly.
i=0
while [ $i -lt 20 ]; do
	printf '%s' "$i" | "$S3" put "$B" "page/k$i" - || not_ok "put page/k$i"
	i=$((i + 1))
done
for k in 'page/a b' 'page/c+d' "page/$(printf '\303\251')"; do
	"$S3" put "$B" "$k" "$T/small" || not_ok "put $k"
done
run "$S3" list --max-keys 10 "$B" page/
expect_rc 0 "a paginated listing succeeds"
expect_err '^pages 3$' "23 keys come in 3 pages of 10"
expect_eq "$(wc -l < "$T/out")" 23 "every key is listed once"
expect_eq "$(cut -f1 "$T/out" | sort | uniq | wc -l)" 23 "no key twice"
expect_out "^page/a b	6$" "a key with a space is listed as it is"
expect_out "^page/c\+d	6$" "a key with + is listed as it is"
expect_out "^page/$(printf '\303\251')	6$" "a UTF-8 key is listed as it is"
run "$S3" list "$B" nothing-here/
expect_eq "$(wc -c < "$T/out")" 0 "an empty prefix lists nothing"

# Multipart: 3 parts of 5 MiB and a short one, from a pipe.
head -c $((3 * 5242880 + 12345)) /dev/urandom > "$T/big"
run sh -c "cat '$T/big' | '$S3' put --part-size 5242880 '$B' 'mp/big object' -"
expect_rc 0 "a stream of 3.x parts uploads"
run "$S3" head "$B" 'mp/big object'
expect_out "^$((3 * 5242880 + 12345)) \".*-4\"$" "as one object of 4 parts"
"$S3" get "$B" 'mp/big object' > "$T/big.back"
expect_file_same "$T/big.back" "$T/big" "get streams back the same bytes"
run "$S3" uploads "$B"
expect_eq "$(wc -c < "$T/out")" 0 "no multipart upload is left open"

# A stream that fails after two parts: the upload is aborted.
run "$S3" put --part-size 5242880 --fail-after 12000000 "$B" mp/failed "$T/big"
expect_rc 1 "a failing stream fails the upload"
expect_err "cannot read the data to upload" "and says why"
run "$S3" head "$B" mp/failed
expect_out '^absent$' "no object is left"
run "$S3" uploads "$B" mp/
expect_eq "$(wc -c < "$T/out")" 0 "and no open multipart upload"
# (The listing does show open uploads: otherwise the check above proves nothing.)
run "$S3" mpu-start "$B" 'mp/left open'
id=$(cat "$T/out")
run "$S3" uploads "$B" mp/
expect_eq "$(cat "$T/out")" "mp/left open	$id" "ListMultipartUploads shows an open upload"

# If-None-Match: * makes a create conditional.
run "$S3" put --if-none-match "$B" once "$T/small"
expect_rc 0 "a conditional create of a new key succeeds"
run "$S3" put --if-none-match "$B" once "$T/big"
expect_rc 3 "a conditional create of an existing key reports it exists"
expect_err "412 PreconditionFailed" "RGW said 412"
run "$S3" get "$B" once
expect_file_same "$T/out" "$T/small" "the object was not replaced"
run "$S3" put --if-none-match --part-size 5242880 "$B" once "$T/big"
# S3 honours If-None-Match on CompleteMultipartUpload; RGW 16.2 ignores it
# and replaces the object, so only the clean-up is checked here.
echo "# conditional multipart over an existing key: exit $rc $(cat "$T/err")"
run "$S3" uploads "$B" once
expect_eq "$(wc -c < "$T/out")" 0 "a refused conditional multipart upload leaves no open upload"

# Batch delete, quiet: missing keys are not an error.
keys=$(i=0; while [ $i -lt 20 ]; do printf 'page/k%s\n' $i; i=$((i + 1)); done)
# shellcheck disable=SC2086
run "$S3" delete "$B" $keys 'page/a b' 'page/c+d' "page/$(printf '\303\251')" page/never-there
expect_rc 0 "a batch of keys is deleted"
run "$S3" list "$B" page/
expect_eq "$(wc -c < "$T/out")" 0 "the prefix is empty afterwards"

# awscli, independently, reads what saasctl wrote.
if [ -x /usr/bin/aws ]; then
	run env AWS_CONFIG_FILE=/dev/null /usr/bin/aws --endpoint-url "$RGW_URL" s3 cp "s3://$B/mp/big object" "$T/big.aws"
	expect_rc 0 "awscli downloads the multipart object"
	expect_file_same "$T/big.aws" "$T/big" "awscli reads the bytes saasctl uploaded"
	run env AWS_CONFIG_FILE=/dev/null /usr/bin/aws --endpoint-url "$RGW_URL" s3 cp "s3://$B/with space" "$T/small.aws"
	expect_file_same "$T/small.aws" "$T/small" "awscli reads a key with a space"
else
	not_ok "awscli is installed (make deps)"
fi

# A wrong secret: a clear 403 that quotes no secret, also with -v.
run env AWS_SECRET_ACCESS_KEY=wrong-Secret-Value-42 S3_TOOL_VERBOSE=1 "$S3" get "$B" once
expect_rc 1 "a wrong secret key fails"
expect_err "^s3-tool: s3 GET 'backups/once': 403 SignatureDoesNotMatch" "with 403 SignatureDoesNotMatch"
expect_no_err "wrong-Secret-Value-42" "the secret appears nowhere, not even in -v output"
expect_err "Authorization: \[redacted\]" "the Authorization header is redacted in -v output"
expect_no_err "Signature=" "no signature in -v output"
