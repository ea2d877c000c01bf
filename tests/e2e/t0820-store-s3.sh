#!/bin/sh
# src/store's s3:// backend on a real Ceph RGW: one PUT or a streamed
# multipart upload, aborted writes leave no open upload, exclusive creates,
# listings past one page, batch deletes, a prefix that keeps to itself.
# awscli reads back what the store wrote.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/rgw/lib.sh"
ST=$TOOLS/store-tool S3=$TOOLS/s3-tool
rgw_start
aws_() { env AWS_CONFIG_FILE=/dev/null /usr/bin/aws --endpoint-url "$RGW_URL" "$@"; }
need aws
B=store-bucket
U=s3://$B/team/ch
"$S3" mb "$B" || not_ok "a bucket is created"

printf 'small object\n' > "$T/small"
run "$ST" put "$U" id1/schema/a.sql "$T/small"
expect_rc 0 "a small object is written"
run aws_ s3 cp "s3://$B/team/ch/id1/schema/a.sql" "$T/small.aws"
expect_file_same "$T/small.aws" "$T/small" "awscli finds it under the URL's prefix"
run "$ST" head "$U" id1/schema/a.sql
expect_out '^13$' "head gives its size"
run "$ST" get "$U" id1/schema/a.sql
expect_file_same "$T/out" "$T/small" "get gives the bytes back"
run "$ST" get "$U" id1/nothing
expect_rc 4 "a missing object is reported as missing"
run "$ST" head "$U" id1/nothing
expect_out '^absent$' "head of a missing object says absent"

# A stream of 3 parts and a bit, from a pipe, with 5 MiB parts.
head -c $((3 * 5242880 + 4321)) /dev/urandom > "$T/big"
run sh -c "cat '$T/big' | SAASCTL_S3_PART_SIZE=5242880 '$ST' put '$U' id1/data/big.native.lz4 -"
expect_rc 0 "a stream of several parts is written"
run "$S3" head "$B" team/ch/id1/data/big.native.lz4
expect_out '^15732961 ".*-4"$' "as one multipart object of 4 parts"
run aws_ s3 cp "s3://$B/team/ch/id1/data/big.native.lz4" "$T/big.aws"
expect_file_same "$T/big.aws" "$T/big" "awscli reads back the multipart object"
run "$ST" get "$U" id1/data/big.native.lz4
expect_file_same "$T/out" "$T/big" "get streams it back"
# One of several writers sends its parts itself, from its one buffer.
run sh -c "cat '$T/big' | SAASCTL_S3_PART_SIZE=5242880 '$ST' put --writers 2 '$U' id1/data/big2.native.lz4 -"
expect_rc 0 "a stream of several parts is written by one of two writers"
run "$S3" head "$B" team/ch/id1/data/big2.native.lz4
expect_out '^15732961 ".*-4"$' "as one multipart object of 4 parts"
run "$ST" get "$U" id1/data/big2.native.lz4
expect_file_same "$T/out" "$T/big" "get streams it back"
run env SAASCTL_S3_PART_SIZE=5242880 "$ST" put --writers 2 --fail-after 12000000 "$U" id1/data/failed2 "$T/big"
expect_rc 1 "one of two writers is aborted mid-stream"
run "$ST" head "$U" id1/data/failed2
expect_out '^absent$' "no object is left"
# A stream of exactly one part is one PUT.
head -c 5242880 /dev/urandom > "$T/one"
SAASCTL_S3_PART_SIZE=5242880 "$ST" put "$U" id1/one "$T/one" || not_ok "one part is written"
run "$S3" head "$B" team/ch/id1/one
expect_out '^5242880 "[0-9a-f]{32}"$' "a stream that fits one part is one PUT"

# An aborted writer (after two parts went out) leaves nothing behind.
run env SAASCTL_S3_PART_SIZE=5242880 "$ST" put --fail-after 12000000 "$U" id1/data/failed "$T/big"
expect_rc 1 "the writer is aborted mid-stream"
run "$ST" head "$U" id1/data/failed
expect_out '^absent$' "no object is left"
run aws_ s3api list-multipart-uploads --bucket "$B"
expect_no_out 'UploadId' "no multipart upload is left open (ListMultipartUploads)"

# Exclusive creates: the second one is refused and says so.
run "$ST" put --exclusive "$U" saasctl.lock "$T/small"
expect_rc 0 "an exclusive create succeeds on a free key"
run "$ST" put --exclusive "$U" saasctl.lock "$T/big"
expect_rc 3 "a second exclusive create is refused"
expect_err "'saasctl.lock' already exists" "and says the key exists"
run "$ST" get "$U" saasctl.lock
expect_file_same "$T/out" "$T/small" "the first object stays"
run aws_ s3api list-multipart-uploads --bucket "$B"
expect_no_out 'UploadId' "an exclusive create of several parts' size opens no multipart upload"

# Listings: past one page of 1000, sorted, only under the URL's prefix.
mkdir -p "$T/many/id2/data"
i=0
while [ $i -lt 1005 ]; do printf '%d' $i > "$T/many/id2/data/k$i"; i=$((i + 1)); done
aws_ s3 cp --quiet --recursive "$T/many" "s3://$B/team/ch" || not_ok "awscli uploads 1005 objects"
printf x | aws_ s3 cp - "s3://$B/team/ch-other/x" || not_ok "a sibling prefix"
printf x | aws_ s3 cp - "s3://$B/team/ch/bad//key" || not_ok "a key the store cannot name"
run "$ST" list "$U"
expect_rc 0 "the store lists"
expect_eq "$(grep -c '^id2/data/k' "$T/out")" 1005 "1005 objects across two pages"
expect_eq "$(cut -f1 "$T/out" | LC_ALL=C sort -c && echo sorted)" sorted "sorted by key"
expect_no_out 'ch-other|^x	|bad' "nothing from a sibling prefix or with an unusable key"
expect_out '^id1/schema/a.sql	13	[0-9]{10}$' "each with its size and time"
run "$ST" list "$U" id1/
expect_eq "$(wc -l < "$T/out")" 4 "a prefix inside the store"

# A batch delete of all of them.
# shellcheck disable=SC2046
run "$ST" rm "$U" $(cd "$T/many" && find id2 -type f) id2/never-there
expect_rc 0 "1006 keys are deleted in one call"
run "$ST" list "$U" id2/
expect_eq "$(wc -c < "$T/out")" 0 "the prefix is empty afterwards"

# URLs and settings that cannot work say why.
run "$ST" list s3:///x
expect_rc 1 "a URL without a bucket is refused"
expect_err "names no bucket" "and says so"
run "$ST" list s3://$B/a/../b
expect_err "'\.\.' component" "a prefix with '..' is refused"
run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$ST" list "$U"
expect_rc 1 "no credentials fail"
run env AWS_SECRET_ACCESS_KEY=wrong "$ST" list "$U"
expect_err "403" "a wrong secret fails with S3's answer"
run "$ST" get s3://no-such-bucket/x id1/schema/a.sql
expect_rc 1 "a missing bucket is an error, not a missing object"
expect_err "404 NoSuchBucket" "and says so"
