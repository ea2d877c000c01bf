#!/bin/sh
# src/http streams request and response bodies: known length or chunked,
# a replayable body sent again after a 503 and a one-shot body not, only
# 2xx bodies handed to the caller, a dropped connection reported with the
# bytes that arrived, and src/s3 resuming a GET where it stopped.
. "$(dirname "$0")/../lib.sh"
S3=$TOOLS/s3-tool
PORT=$(free_port)
$PY "$TOP/tests/servers/http-stream/server.py" "$PORT" "$T/record" > "$T/server.log" 2>&1 &
t_at_exit "kill $!"
wait_port "$PORT" || { not_ok "the test server starts" "$(cat "$T/server.log")"; exit 1; }
U=http://127.0.0.1:$PORT
head -c 3000000 /dev/urandom > "$T/body"
sum=$(sha256sum < "$T/body" | cut -d' ' -f1)
field() { $PY -c 'import json,sys; print(json.loads(sys.stdin.readline())[sys.argv[1]])' "$1" < "$T/out"; }

run "$S3" http-put "$U/echo/a" "$T/body"
expect_rc 0 "a streamed PUT of known length succeeds"
expect_eq "$(field length) $(field sha256) $(field chunked)" "3000000 $sum False" "the server got every byte, not chunked"

run "$S3" http-put --chunked "$U/echo/b" "$T/body"
expect_rc 0 "a streamed PUT of unknown length succeeds"
expect_eq "$(field length) $(field sha256) $(field chunked)" "3000000 $sum True" "sent chunked, every byte"

run "$S3" http-put --replayable "$U/fail503-2/c" "$T/body"
expect_rc 0 "a replayable body is retried through two 503s"
expect_err "status 200 streamed 0 attempts 3" "in three attempts"
expect_eq "$(grep -c "\"path\": \"/fail503-2/c\", \"length\": 3000000, \"chunked\": false, \"sha256\": \"$sum\"" "$T/record")" 3 \
	"the server received the whole body each time"

run "$S3" http-put "$U/fail503-1/d" "$T/body"
expect_rc 0 "a one-shot body gets its answer"
expect_err "status 503 streamed 0 attempts 1" "but is not sent twice"

run "$S3" http-get "$U/blob/5000000"
expect_rc 0 "a streamed GET succeeds"
$PY -c 'import sys; sys.stdout.buffer.write(bytes(i % 251 for i in range(5000000)))' > "$T/blob"
expect_file_same "$T/out" "$T/blob" "every byte arrives, in order"
expect_err "status 200 streamed 5000000 attempts 1" "and is counted as streamed"

run "$S3" http-get "$U/blob-503/1000"
expect_rc 0 "a GET is retried after a 503"
$PY -c 'import sys; sys.stdout.buffer.write(bytes(i % 251 for i in range(1000)))' > "$T/blob1000"
expect_file_same "$T/out" "$T/blob1000" "the 503's body never reaches the stream"
expect_err "attempts 2" "in two attempts"

run "$S3" http-get "$U/404"
expect_err "status 404 streamed 0" "an error status is not streamed"
expect_out "<Code>NoSuchKey</Code>" "its body is kept for the error message"

run "$S3" http-get "$U/drop/100000"
expect_rc 1 "a dropped stream fails"
expect_err "connection lost after 50000 bytes" "saying how many bytes arrived"
expect_eq "$(grep -c '"path": "/drop/100000"' "$T/record")" 1 "and is not retried from the start"

run "$S3" http-get --fail-at 1000 "$U/blob/100000"
expect_rc 1 "a sink that fails stops the transfer"
expect_err "cannot store the response body" "with its own message"

# src/s3 resumes a dropped GET with Range and If-Match.
run env AWS_ACCESS_KEY_ID=a AWS_SECRET_ACCESS_KEY=b AWS_ENDPOINT_URL_S3="$U" "$S3" get bkt resume-300000
expect_rc 0 "an S3 GET survives a dropped connection"
$PY -c 'import sys; sys.stdout.buffer.write(bytes(i % 251 for i in range(300000)))' > "$T/obj"
expect_file_same "$T/out" "$T/obj" "every byte once, in order"
expect_eq "$(grep -c '"path": "/bkt/resume-300000", "n": 2, "range": "bytes=150000-", "if_match": "\\"0123456789abcdef0123456789abcdef\\""' "$T/record")" 1 \
	"the second request asks for the rest of the same object"

# src/s3 retries a PUT through SlowDown (503) and sends the same bytes again.
head -c 100000 /dev/urandom > "$T/obj2"
sum2=$(sha256sum < "$T/obj2" | cut -d' ' -f1)
run env AWS_ACCESS_KEY_ID=a AWS_SECRET_ACCESS_KEY=b AWS_ENDPOINT_URL_S3="$U" "$S3" put fail503-2 obj "$T/obj2"
expect_rc 0 "an S3 PUT succeeds through two SlowDown answers"
expect_eq "$(grep -c "\"path\": \"/fail503-2/obj\", \"length\": 100000, \"chunked\": false, \"sha256\": \"$sum2\"" "$T/record")" 3 \
	"the whole object was sent each of the three times"
run env AWS_ACCESS_KEY_ID=a AWS_SECRET_ACCESS_KEY=b AWS_ENDPOINT_URL_S3="$U" "$S3" put fail503-9 obj "$T/obj2"
expect_rc 1 "an S3 PUT gives up after its attempts"
expect_err "^s3-tool: s3 PUT 'fail503-9/obj': 503 SlowDown$" "with S3's error code"

# DeleteObjects reports each key S3 refused, and sends a quiet, checksummed body.
run env AWS_ACCESS_KEY_ID=a AWS_SECRET_ACCESS_KEY=b AWS_ENDPOINT_URL_S3="$U" "$S3" delete bkt ok1 'deny <&> one' ok2 deny2
expect_rc 1 "a batch delete with refused keys fails"
expect_err "^s3-tool: s3 POST 'bkt': 2 of 4 keys not deleted: 'deny <&> one': AccessDenied, 'deny2': AccessDenied$" \
	"naming each refused key and why"
expect_eq "$(grep -c '"keys": \["ok1", "deny <&> one", "ok2", "deny2"\], "quiet": true, "checksum_ok": true' "$T/record")" 1 \
	"the keys went XML-escaped, in quiet mode, with the body's checksum"
i=0; : > "$T/many"
while [ $i -lt 2500 ]; do echo "k$i" >> "$T/many"; i=$((i + 1)); done
# shellcheck disable=SC2046
run env AWS_ACCESS_KEY_ID=a AWS_SECRET_ACCESS_KEY=b AWS_ENDPOINT_URL_S3="$U" "$S3" delete bkt $(cat "$T/many")
expect_rc 0 "2500 keys are deleted"
expect_eq "$($PY -c 'import json,sys
print(" ".join(str(len(r["keys"])) for r in map(json.loads, open(sys.argv[1])) if r["method"] == "POST"))' "$T/record")" "4 1000 1000 500" \
	"in batches of at most 1000"

# A large body from memory (an S3 part) is not cut by the time limit while
# it keeps moving (the limit is on a stall); a small one still is.
head -c 2097152 /dev/urandom > "$T/part"
run "$S3" http-put --memory --timeout-ms 1000 "$U/slow/p" "$T/part"
expect_rc 0 "a 2 MiB body sent slowly from memory outlives a 1 s time limit"
expect_out '"length": 2097152' "and arrives whole"
head -c 500000 /dev/urandom > "$T/part-small"
run "$S3" http-put --memory --timeout-ms 300 "$U/slow/q" "$T/part-small"
expect_rc 1 "a small body still has the time limit"
