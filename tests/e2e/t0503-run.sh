#!/bin/sh
# saasctl run: exit codes, output passed through separately while the
# ping carries the merged tail, and the pings a job sends.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/healthchecks/lib.sh"
UUID=5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278
hc_server --check $UUID:nightly --body-limit 2000
export SAASCTL_HC_PING_URL=$HC_URL
cd "$T"

# Without a check: just the command, its status and output untouched.
saas run -- sh -c 'echo out; echo err >&2; exit 3'
expect_rc 3 "run exits with the command's status"
expect_eq "$(cat "$T/out")|$(cat "$T/err")" "out|err" "stdout and stderr pass through, each to its own"
expect_eq "$(hc_ping_count)" "0" "no check, no ping"
saas run -- 'echo hi'
expect_rc 127 "no shell: 'echo hi' is one program name"
expect_err "^saasctl: run: cannot run 'echo hi': No such file or directory$" "a missing program is named"
saas run
expect_rc 2 "no command is a usage error"
expect_err 'missing the command to run' "no command is explained"
saas run --timeout soon -- true
expect_rc 2 "a bad --timeout is a usage error"
expect_err "\-\-timeout 'soon' is not a duration" "a bad --timeout is explained"

# With a check: a start ping, then the exit code with the merged tail.
saas run --check $UUID -- sh -c 'echo out1; echo err1 >&2; sleep 0.1; echo out2; exit 3'
expect_rc 3 "with a check, run still exits with the command's status"
expect_eq "$(cat "$T/out")" "$(printf 'out1\nout2')" "stdout passes through alone"
expect_eq "$(cat "$T/err")" "err1" "stderr passes through alone"
expect_eq "$(hc_ping_count)" "2" "two pings: start and finish"
expect_eq "$(hc_ping_get 0 'p["path"]')" "/$UUID/start" "the first ping is the start"
expect_eq "$(hc_ping_get 1 'p["path"]')" "/$UUID/3" "the finish pings the exit code"
rid=$(hc_ping_get 0 'p["rid"]')
expect_eq "$(hc_ping_get 1 'p["rid"]')" "$rid" "start and finish share a run ID"
expect_eq "$(hc_ping_get 1 'p["client_port"]')" "$(hc_ping_get 0 'p["client_port"]')" "start and finish share one connection"
expect_eq "$(hc_ping_get 1 'p["body"].splitlines()[:3]')" '["out1", "err1", "out2"]' "the ping body holds the merged output"
expect_eq "$(hc_ping_get 1 'p["body"].splitlines()[-1].startswith("saasctl: exit status 3 after ")')" "true" "the body ends with the exit status"

: > "$HC_REC"
saas run --check $UUID --no-start-ping -- true
expect_rc 0 "a successful job exits 0"
expect_eq "$(hc_ping_count):$(hc_ping_get 0 'p["path"]'):$(hc_ping_get 0 'p["query"]')" "1:/$UUID/0:" "--no-start-ping: only the exit code, no run ID"

# Deaths by signal: 128+N, and a fail ping naming the signal.
: > "$HC_REC"
saas run --check $UUID -- sh -c 'echo dying; kill -KILL $$'
expect_rc 137 "a death by SIGKILL exits 137"
expect_eq "$(hc_ping_get -1 'p["path"]')" "/$UUID/fail" "a death by signal is a fail ping"
expect_eq "$(hc_ping_get -1 'p["body"].splitlines()[-1].split(" after")[0]')" "saasctl: killed by SIGKILL" "the fail ping names the signal"

# A program that does not exist: 127, and the check hears of it.
saas run --check $UUID -- ./no-such-program
expect_rc 127 "a missing program exits 127"
expect_eq "$(hc_ping_get -1 'p["path"]')" "/$UUID/fail" "a missing program is a fail ping"
expect_eq "$(hc_ping_get -1 'p["body"].splitlines()[-1]')" "saasctl: cannot run './no-such-program': No such file or directory" "the fail ping says why"

# --quiet: the output only goes to the ping.
saas run --quiet --check $UUID -- sh -c 'echo secretive; echo noisy >&2'
expect_eq "$rc:$(cat "$T/out")$(cat "$T/err")" "0:" "--quiet passes nothing through"
expect_eq "$(hc_ping_get -1 'p["body"].splitlines()[:2]')" '["secretive", "noisy"]' "--quiet still sends the output"

# 10 MB of output: all of it passes through; the ping keeps the tail, cut
# to the limit the server announced on the start ping (2000).
$PY -c '
import sys
for i in range(1, 10 * 1024 * 1024 // 16 + 1):
    sys.stdout.write("ln %09d ..\n" % i)' > big.txt
saas run --check $UUID -- cat big.txt
expect_rc 0 "a job printing 10 MB succeeds"
expect_file_same "$T/out" big.txt "all 10 MB pass through unchanged"
len=$(hc_ping_get -1 'p["body_len"]')
[ "$len" -le 2000 ] && [ "$len" -ge 1900 ] && ok "the body fits the server's Ping-Body-Limit ($len)" || not_ok "the body fits the server's Ping-Body-Limit" "$len"
expect_eq "$(hc_ping_get -1 'p["body"].splitlines()[0].startswith("[saasctl: output truncated: the first ")')" "true" "the body starts with the truncation note"
expect_eq "$(hc_ping_get -1 'p["body"].splitlines()[-2]')" "ln 000655360 .." "the body keeps the last line"

# Broken settings: the job still runs, with its own exit status.
SAASCTL_HC_PING_URL=ftp://nowhere saas run --check $UUID -- sh -c 'echo ran; exit 6'
expect_eq "$rc:$(cat "$T/out")" "6:ran" "a bad ping URL does not stop the job"
expect_err "ping URL 'ftp://nowhere' is not an http\(s\) URL" "a bad ping URL is reported"
expect_err "warning: running the command without pings" "the job runs without pings, and says so"

# A server announcing a larger limit than the 10,000 default gets more.
hc_config body_limit=50000
saas run --check $UUID -- sh -c 'sleep 0.3; head -c 200000 big.txt'
len=$(hc_ping_get -1 'p["body_len"]')
[ "$len" -le 50000 ] && [ "$len" -ge 49000 ] && ok "the tail grows to the limit the start ping announced ($len)" || not_ok "the tail grows to the limit the start ping announced" "$len"
hc_config body_limit=2000

# A slow server (5 s a request) delays the command by less than 1 s.
hc_config delay=5
t0=$($PY -c 'import time; print(time.time())')
saas run --check $UUID -- sh -c 'python3 -c "import time; print(time.time())" > started; exit 4'
expect_rc 4 "a slow server keeps the exit status"
d=$($PY -c "print(round($(cat started) - $t0, 3))")
expect_eq "$($PY -c "print($d < 1)")" "True" "a slow server delays the command by less than 1 s ($d s)"
hc_config delay=0

# A dead server: the exit status stays, a warning says the ping was lost.
dead=$(free_port)
SAASCTL_HC_PING_URL=http://127.0.0.1:$dead saas -q run --check $UUID -- sh -c 'exit 5'
expect_rc 5 "a dead server keeps the exit status"
expect_err "^saasctl: run: warning: cannot send the exit code 5 ping to '$UUID': " "an undeliverable ping is warned about, even with -q"
