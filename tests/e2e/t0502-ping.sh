#!/bin/sh
# saasctl ping: every kind, UUID and slug URLs, bodies cut to the server's
# limit, retries, redirects, and the errors a user sees.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/healthchecks/lib.sh"
UUID=5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278
hc_server --check $UUID:backups --check 11111111-2222-4333-8444-555555555555:twin \
	--check 11111111-2222-4333-8444-666666666666:twin --ping-key pk-secret-123
export SAASCTL_HC_PING_URL=$HC_URL
cd "$T"

saas ping $UUID
expect_rc 0 "success ping exits 0"
expect_eq "$(hc_ping_get -1 'p["path"]')" "/$UUID" "success ping goes to /<uuid>"
expect_eq "$(hc_ping_get -1 'p["method"]')" "POST" "pings are POSTs"
expect_eq "$(hc_ping_get -1 'p["headers"].get("Content-Length")')" "0" "an empty ping has Content-Length: 0"
expect_eq "$(cat "$T/out" "$T/err")" "" "a successful ping prints nothing"

for kind in start success fail log 0 7 255; do
	saas ping $UUID $kind
	want=/$UUID/$kind
	[ $kind = success ] && want=/$UUID
	expect_eq "$rc:$(hc_ping_get -1 'p["path"]')" "0:$want" "'$kind' ping goes to $want"
done
expect_eq "$(hc_ping_get -1 'p["kind"]')" "fail" "exit code 255 is a failure at the server"

saas ping $UUID 256
expect_rc 2 "exit code 256 is a usage error"
expect_err "'256' is not start, success, fail, log or an exit code 0-255" "a bad kind is explained"
saas ping
expect_rc 2 "a missing CHECK is a usage error"

# Run IDs.
RID=0d9e3f0a-5b7c-4c1e-9a0b-1c2d3e4f5a6b
saas ping $UUID start --rid $RID
expect_eq "$(hc_ping_get -1 'p["query"]')" "rid=$RID" "--rid goes into the query"
saas ping $UUID --rid nope
expect_rc 2 "a --rid that is not a UUID is a usage error"

# Slugs need the ping key, which stays out of -v output.
saas ping backups
expect_rc 1 "a slug without a ping key fails"
expect_err "^saasctl: ping: cannot send the success ping to 'backups': check 'backups' is a slug and needs the project's ping key: set HC_PING_KEY$" "a slug without a ping key is explained"
HC_PING_KEY=pk-secret-123 saas -v ping backups fail
expect_rc 0 "slug ping with HC_PING_KEY"
expect_eq "$(hc_ping_get -1 'p["path"]')" "/pk-secret-123/backups/fail" "slug ping goes to /<key>/<slug>/fail"
expect_no_err 'pk-secret-123' "the ping key never shows in -v output"
expect_err 'POST /\[redacted\]/backups/fail' "-v shows the request with the key masked"
SAASCTL_HC_PING_KEY=pk-secret-123 saas ping backups
expect_rc 0 "SAASCTL_HC_PING_KEY works too"
export HC_PING_KEY=pk-secret-123
saas ping brand-new
expect_rc 1 "an unknown slug fails"
expect_err "no check has the slug 'brand-new' for this ping key \(404\); --create makes one" "an unknown slug is explained"
saas ping brand-new start --create
expect_rc 0 "--create makes the check"
expect_eq "$(hc_ping_get -1 'p["path"]')?$(hc_ping_get -1 'p["query"]')" "/pk-secret-123/brand-new/start?create=1" "--create adds create=1"
saas ping brand-new --create --rid $RID
expect_eq "$(hc_ping_get -1 'p["query"]')" "create=1&rid=$RID" "create=1 and rid together"
saas ping $UUID --create
expect_rc 1 "--create with a UUID fails"
expect_err "needs a slug, not a UUID" "--create with a UUID is explained"
saas ping twin
expect_rc 1 "an ambiguous slug fails"
expect_err "slug 'twin' is ambiguous: several checks of the project have it \(409\)" "409 is explained"
saas ping 00000000-0000-4000-8000-000000000000
expect_rc 1 "an unknown UUID fails"
expect_err "^saasctl: ping: cannot send the success ping to '00000000-0000-4000-8000-000000000000': no such check \(404\)$" "404 is explained"
SAASCTL_HC_PING_URL=$HC_URL/a/b saas ping $UUID
expect_rc 1 "a URL the server refuses fails"
expect_err "cannot send the success ping to '$UUID': the server refused the ping URL \(400 invalid url format\)$" "400 is explained"
HC_API_KEY=api-secret SAASCTL_HC_API_URL=$HC_URL saas -v checks list
expect_err "X-Api-Key: \\[redacted\\]" "-v shows the API key header redacted"
expect_no_err 'api-secret' "the API key never shows in -v output"
saas ping 'Not A Slug'
expect_rc 1 "a name that is no slug fails"
expect_err "is neither a UUID nor a slug" "a bad check name is explained"
saas ping $UUID --soft --create
expect_rc 0 "--soft turns a failure into a warning"
expect_err '^saasctl: warning: cannot send' "--soft still says what failed"

# Bodies: from a file or stdin, with a Content-Length, never chunked.
printf 'hello\nworld\n' > body.txt
saas ping $UUID log --body-file body.txt
expect_eq "$(hc_ping_get -1 'p["body"]')" "$(printf 'hello\nworld\n')" "--body-file sends the file"
expect_eq "$(hc_ping_get -1 'p["headers"].get("Content-Length")'):$(hc_ping_get -1 'p["headers"].get("Transfer-Encoding")')" "12:null" "the body has a Content-Length and is not chunked"
printf 'from stdin' | "$SAASCTL" ping $UUID --body-stdin > "$T/out" 2> "$T/err"; rc=$?
expect_eq "$rc:$(hc_ping_get -1 'p["body"]')" "0:from stdin" "--body-stdin sends stdin"
saas ping $UUID --body-file nosuch.txt
expect_rc 1 "a missing body file fails"
expect_err "^saasctl: ping: cannot open 'nosuch.txt': No such file or directory$" "a missing body file is named"
saas ping $UUID --body-file body.txt --body-stdin
expect_rc 2 "--body-file and --body-stdin exclude each other"

# Truncation: 10 MB of output; the tail is kept, cut to the limit a
# self-hosted server has by default (10,000), with a note in front. (run
# learns the server's own limit from its start ping: see t0503.)
$PY -c '
import sys
for i in range(1, 10 * 1024 * 1024 // 16 + 1):
    sys.stdout.write("ln %09d ..\n" % i)' > big.txt
expect_eq "$(wc -c < big.txt | tr -d ' ')" "10485760" "a 10 MB body file"
saas ping $UUID fail --body-file big.txt
expect_rc 0 "a 10 MB body is sent"
len=$(hc_ping_get -1 'p["body_len"]')
[ "$len" -le 10000 ] && [ "$len" -ge 9900 ] && ok "the body fills the 10,000 default limit ($len)" || not_ok "the body fills the 10,000 default limit" "$len"
note=$(hc_ping_get -1 'p["body"].splitlines()[0]')
keep=$(hc_ping_get -1 'len(p["body"].split("\n", 1)[1])')
expect_eq "$note" "[saasctl: output truncated: the first $((10485760 - keep)) of 10485760 bytes were dropped]" "a truncated body starts with a note"
expect_eq "$(hc_ping_get -1 'p["body"].splitlines()[-1]')" "ln 000655360 .." "the tail is kept"
tail -c "$keep" big.txt > tail.txt
expect_eq "$(hc_ping_get -1 'p["body"].split("\n", 1)[1]')" "$(cat tail.txt)" "the tail is exactly the last bytes"
expect_eq "$(hc_ping_get -1 'p["stored_body"] == p["body"]')" "true" "the server stores all of it"

# UTF-8: the cut never splits a character.
$PY -c 'import sys; sys.stdout.write("é" * 3000)' > utf8.txt
saas ping $UUID log --body-file utf8.txt
expect_eq "$(hc_ping_get -1 '"\ufffd" in p["body"]')" "false" "the tail starts on a character boundary"

# Retries: 503s are retried with back-off; 307/308 are followed with the body.
hc_config fail_first=2
n0=$(hc_ping_count)
saas ping $UUID log --body-file body.txt
expect_rc 0 "two 503s are retried"
expect_eq "$(( $(hc_ping_count) - n0 ))" "3" "three attempts reached the server"
hc_config fail_first=0
for code in 307 308; do
	SAASCTL_HC_PING_URL=$HC_URL/redirect$code saas ping $UUID log --body-file body.txt
	expect_eq "$rc:$(hc_ping_get -1 'p["method"]') $(hc_ping_get -1 'p["path"]') $(hc_ping_get -1 'p["body_len"]')" "0:POST /$UUID/log 12" "$code is followed with the method and body"
done

# A dead server: fails within the deadline and says why.
dead=$(free_port)
start=$(date +%s)
SAASCTL_HC_PING_URL=http://127.0.0.1:$dead saas ping $UUID
el=$(( $(date +%s) - start ))
expect_rc 1 "an unreachable server fails"
expect_err "^saasctl: ping: cannot send the success ping to '$UUID': .*(refused|connect)" "an unreachable server is explained"
[ "$el" -le 12 ] && ok "retries stop at the 10 s deadline ($el s)" || not_ok "retries stop at the 10 s deadline" "$el s"
SAASCTL_HC_PING_URL=ftp://x saas ping $UUID
expect_rc 1 "a ping URL that is not http(s) fails"
expect_err "ping URL 'ftp://x' is not an http\(s\) URL" "a bad ping URL is explained"
