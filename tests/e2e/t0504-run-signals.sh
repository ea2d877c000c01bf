#!/bin/sh
# saasctl run: signals reach the command's process group, --timeout ends
# the whole group (grandchildren too), --lock keeps runs from overlapping.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/healthchecks/lib.sh"
UUID=5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278
hc_server --check $UUID:nightly
export SAASCTL_HC_PING_URL=$HC_URL
cd "$T"

# wait_for FILE: until FILE exists (at most 10 s).
wait_for() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
}
# alive PID: running (a zombie waiting for its reaper does not count).
alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:.*Z' "/proc/$1/status"; }

# SIGTERM to saasctl reaches `sleep 100` in the command's group.
"$SAASCTL" run --check $UUID -- sh -c 'echo $$ > sh.pid; sleep 100 & echo $! > sleep.pid; wait' > "$T/out" 2> "$T/err" &
pid=$!
wait_for sleep.pid
kill -TERM $pid
wait $pid; rc=$?
expect_rc 143 "SIGTERM: saasctl exits 128+15 like the command"
alive "$(cat sleep.pid)" && not_ok "SIGTERM reaches the grandchild 'sleep 100'" || ok "SIGTERM reaches the grandchild 'sleep 100'"
expect_eq "$(hc_ping_get -1 'p["path"]')" "/$UUID/fail" "the forwarded signal ends in a fail ping"
expect_eq "$(hc_ping_get -1 'p["body"].splitlines()[-1].split(" after")[0]')" "saasctl: killed by SIGTERM" "the fail ping names SIGTERM"

# SIGINT and SIGHUP are forwarded too; a command that handles one decides.
rm -f sh.pid
"$SAASCTL" run -- sh -c 'trap "echo got-int; exit 7" INT; echo $$ > sh.pid; while :; do sleep 0.05; done' > "$T/out" 2> "$T/err" &
pid=$!
wait_for sh.pid
kill -INT $pid
wait $pid; rc=$?
expect_rc 7 "SIGINT is forwarded and the command's own exit status wins"
expect_out '^got-int$' "the command saw SIGINT"
rm -f sh.pid
"$SAASCTL" run -- sh -c 'echo $$ > sh.pid; sleep 100' > "$T/out" 2> "$T/err" &
pid=$!
wait_for sh.pid
kill -HUP $pid
wait $pid; rc=$?
expect_rc 129 "SIGHUP is forwarded (128+1)"

# --timeout: SIGTERM to the group, then SIGKILL after --kill-after for
# what ignores it, grandchildren included.
rm -f sleep.pid
t0=$(date +%s)
saas run --check $UUID --timeout 1s --kill-after 1s -- sh -c 'trap "" TERM; sleep 100 & echo $! > sleep.pid; wait; wait'
el=$(( $(date +%s) - t0 ))
expect_rc 124 "a timeout exits 124"
expect_err "^saasctl: run: 'sh' timed out after 1.0 s; killed with SIGKILL$" "a timeout is reported"
[ "$el" -le 5 ] && ok "the timeout and kill-after hold ($el s)" || not_ok "the timeout and kill-after hold" "$el s"
sleep 0.2
alive "$(cat sleep.pid)" && not_ok "the timeout kills the grandchild" || ok "the timeout kills the grandchild"
expect_eq "$(hc_ping_get -1 'p["path"]')" "/$UUID/fail" "a timeout is a fail ping"
expect_eq "$(hc_ping_get -1 'p["body"].splitlines()[-1]')" "saasctl: timed out after 1.0 s: sent SIGTERM, then SIGKILL" "the fail ping says it timed out"
rm -f sleep.pid
saas run --timeout 1 -- sh -c 'sleep 100 & echo $! > sleep.pid; wait'
expect_rc 124 "a timeout with a command that obeys SIGTERM"
alive "$(cat sleep.pid)" && not_ok "SIGTERM alone ends the group" || ok "SIGTERM alone ends the group"
saas run --timeout 5 -- true
expect_rc 0 "a command within its timeout is untouched"

# A daemon left behind holding the output pipe does not hold saasctl.
t0=$(date +%s)
saas run --check $UUID -- sh -c 'sleep 3 & echo bye'
el=$(( $(date +%s) - t0 ))
expect_rc 0 "a command that leaves a child behind"
[ "$el" -le 2 ] && ok "saasctl does not wait for a leftover child ($el s)" || not_ok "saasctl does not wait for a leftover child" "$el s"

# --lock: a second run while the first holds the lock is skipped.
: > "$HC_REC"
"$SAASCTL" run --lock job.lock -- sh -c 'echo started > first.started; sleep 3' > /dev/null 2>&1 &
first=$!
wait_for first.started
saas run --check $UUID --lock job.lock -- touch second.ran
expect_rc 1 "an overlapping run exits 1"
expect_err "^saasctl: run: skipped: previous run still active \(lock 'job.lock' is held\)$" "an overlapping run says why"
[ -e second.ran ] && not_ok "the overlapping command does not run" || ok "the overlapping command does not run"
expect_eq "$(hc_ping_get -1 'p["path"]'):$(hc_ping_get -1 'p["body"]')" "/$UUID/fail:skipped: previous run still active" "the skip is a fail ping"
saas run --check $UUID --lock job.lock --if-locked log -- touch second.ran
expect_rc 0 "--if-locked log: an overlapping run exits 0"
expect_err "skipped: previous run still active" "--if-locked log: it still says so"
expect_eq "$(hc_ping_get -1 'p["path"]')" "/$UUID/log" "--if-locked log sends a log ping"
wait $first
saas run --check $UUID --lock job.lock -- touch second.ran
expect_rc 0 "once the first run ended, the lock is free"
[ -e second.ran ] && ok "the next command runs" || not_ok "the next command runs"
saas run --lock /nonexistent/dir/x.lock -- true
expect_rc 1 "a lock that cannot be created fails"
expect_err "cannot open the lock '/nonexistent/dir/x.lock': No such file or directory" "a bad lock path is named"
