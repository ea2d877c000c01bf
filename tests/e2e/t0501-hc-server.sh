#!/bin/sh
# The Healthchecks test server answers like the real one: the requests are
# copied from the Healthchecks docs (Pinging API and Management API v3),
# with the host replaced by the test server.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/healthchecks/lib.sh"
need curl
UUID=5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278
hc_server --check $UUID:backups --ping-key my-ping-key --api-key your-api-key --body-limit 100000
HC=$HC_URL

# "Send a success signal"
run curl -m 10 --retry 5 -i $HC/$UUID
expect_out '^HTTP/1.1 200 OK' "success ping: 200"
expect_out '^OK$' "success ping: body OK"
expect_out '^Ping-Body-Limit: 100000' "ping responses carry Ping-Body-Limit"

# HEAD works too.
run curl -sS -I $HC/$UUID/start
expect_out '^HTTP/1.1 200 OK' "HEAD start ping: 200"

# "Send a start signal" with a run ID, then the exit status with the output.
RID=$(cat /proc/sys/kernel/random/uuid)
run curl -fsS -m 10 --retry 5 -o /dev/null "$HC/$UUID/start?rid=$RID"
expect_rc 0 "start ping with rid"
m=$(printf 'line 1\nline 2')
run curl -fsS -m 10 --retry 5 --data-raw "$m" "$HC/$UUID/0?rid=$RID"
expect_rc 0 "exit status ping with a body"
expect_eq "$(hc_ping_get -1 'p["body"]')" "$m" "the body is recorded"
expect_eq "$(hc_ping_get -1 'p["rid"]')" "$RID" "the run ID is recorded"
expect_eq "$(hc_ping_get -1 'p["kind"]')" "success" "exit status 0 is a success"

run curl -fsS -m 10 --retry 5 --data-raw "oops" "$HC/$UUID/1"
expect_eq "$(hc_ping_get -1 'p["kind"]')" "fail" "exit status 1 is a failure"
run curl -sS -i "$HC/$UUID/256"
expect_out '^HTTP/1.1 400' "exit status 256: 400"
expect_out '^invalid url format' "exit status 256: invalid url format"
run curl -sS -i "$HC/$UUID/start?rid=nope"
expect_out '^invalid uuid format' "a bad rid: invalid uuid format"

# "Send a failure signal", "Log"
run curl -fsS -m 10 --retry 5 $HC/$UUID/fail
expect_rc 0 "fail ping"
echo "log line" > "$T/log.txt"
run curl -fsS -m 10 --retry 5 --data-binary @"$T/log.txt" $HC/$UUID/log
expect_rc 0 "log ping with --data-binary"
expect_eq "$(hc_ping_get -1 'p["kind"]')" "log" "log ping recorded as log"

# Unknown UUID: 404 "not found".
run curl -sS -i $HC/00000000-0000-4000-8000-000000000000
expect_out '^HTTP/1.1 404' "unknown UUID: 404"
expect_out '^not found' "unknown UUID: not found"

# Slug URLs and auto-provisioning ("Auto provisioning" doc page).
run curl -sS -i -m 10 --retry 5 $HC/my-ping-key/backups
expect_out '^HTTP/1.1 200' "slug ping: 200"
run curl -sS -i -m 10 --retry 5 $HC/my-ping-key/srv01
expect_out '^HTTP/1.1 404' "unknown slug: 404"
run curl -sS -i -m 10 --retry 5 "$HC/my-ping-key/srv01?create=1"
expect_out '^HTTP/1.1 201' "create=1 makes the check: 201"
expect_out '^Created' "create=1: body Created"
run curl -sS -i -m 10 --retry 5 "$HC/my-ping-key/srv01?create=1"
expect_out '^HTTP/1.1 200' "create=1 on an existing check: 200"
run curl -sS -i $HC/wrong-key/backups
expect_out '^HTTP/1.1 404' "a wrong ping key: 404"

# Management API v3: "Get a list of existing checks".
run curl -sS --header "X-Api-Key: your-api-key" $HC/api/v3/checks/
expect_out '"checks": \[' "list checks"
expect_out '"slug": "srv01"' "the auto-provisioned check is listed"
expect_out "\"uuid\": \"$UUID\"" "checks carry their uuid"
run curl -sS -i $HC/api/v3/checks/
expect_out '^HTTP/1.1 401' "no API key: 401"
expect_out 'missing api key' "no API key: the error says so"
run curl -sS --header "X-Api-Key: nope" $HC/api/v3/checks/
expect_out 'wrong api key' "a wrong API key is refused"

# "Create a new check"
run curl -sS -i $HC/api/v3/checks/ --header "X-Api-Key: your-api-key" \
	--data '{"name": "Backups", "slug": "backups-2", "tags": "prod www", "timeout": 3600, "grace": 60}'
expect_out '^HTTP/1.1 201' "create a check: 201"
NEW=$(sed -n 's/.*"uuid": "\([0-9a-f-]*\)".*/\1/p' "$T/out")
expect_out '"timeout": 3600' "the new check has its timeout"
# "unique": an existing check is returned with 200.
run curl -sS -i $HC/api/v3/checks/ --header "X-Api-Key: your-api-key" \
	--data '{"name": "Backups", "slug": "backups-2", "grace": 120, "unique": ["slug"]}'
expect_out '^HTTP/1.1 200' "create with unique finds the existing check: 200"
run curl -sS -i $HC/api/v3/checks/ --header "X-Api-Key: your-api-key" --data '{"name": "x", "timeout": 10}'
expect_out '^HTTP/1.1 400' "a timeout under 60 s: 400"
expect_out 'timeout is too small' "a timeout under 60 s is explained"

# "Update an existing check"
run curl -sS $HC/api/v3/checks/$NEW --header "X-Api-Key: your-api-key" \
	--data '{"schedule": "0 3 * * *", "tz": "UTC", "grace": 7200}'
expect_out '"schedule": "0 3 \* \* \*"' "update: cron schedule"
expect_out '"grace": 7200' "update: grace"
run curl -sS "$HC/api/v3/checks/$NEW" --header "X-Api-Key: your-api-key" --data '{"schedule": "61 * * * *"}'
expect_out 'not a valid cron' "a bad cron expression is refused"

# "Delete check"
run curl -sS -i $HC/api/v3/checks/$NEW --request DELETE --header "X-Api-Key: your-api-key"
expect_out '^HTTP/1.1 200' "delete: 200"
run curl -sS -i $HC/api/v3/checks/$NEW --header "X-Api-Key: your-api-key"
expect_out '^HTTP/1.1 404' "a deleted check is gone"

# Test knobs: failures, delay, redirects, chunked bodies refused.
hc_config fail_first=1
n=$(hc_ping_count)
run curl -fsS -o /dev/null -m 10 --retry 5 --retry-delay 0 $HC/$UUID
expect_rc 0 "curl --retry gets through a 503"
hc_config fail_first=0
hc_config delay=0.5
start=$(date +%s%N)
run curl -fsS -o /dev/null $HC/$UUID
el=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$el" -ge 450 ] && ok "the delay holds each response ($el ms)" || not_ok "the delay holds each response" "$el ms"
hc_config delay=0
run curl -sS -i --data-raw body $HC/redirect308/$UUID/log
expect_out '^HTTP/1.1 308' "redirect308 answers 308"
expect_out "^Location: /$UUID/log" "redirect308 points at the ping URL"
run curl -sS -H 'Transfer-Encoding: chunked' --data-raw body -i $HC/$UUID
expect_out '^HTTP/1.1 411' "a chunked body is refused"
