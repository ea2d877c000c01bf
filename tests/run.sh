#!/bin/bash
# Runs every unit test (build/*/tests/test-*) and end-to-end test
# (tests/e2e/t*.sh), JOBS at a time, and ends with "N passed, N failed".
# Each test prints TAP lines ("ok ..."/"not ok ..."); a test that exits
# non-zero without a "not ok" line counts as one failure.
#
# No test can hang the suite: each runs in its own session with a time
# limit of TEST_TIMEOUT seconds (default 300). Past it, the test's process
# group gets TERM, then KILL after TEST_GRACE seconds (default 3), and so
# does every process it started that still runs (servers, daemons); the
# test is reported as "not ok - NAME timed out after N s", one failure.
# Leftovers of a test that ended by itself are ended the same way.
#
# Usage: tests/run.sh [PATTERN]   (PATTERN filters test names, e.g. t0001)
# E2E_DIR and UNIT_DIR choose where the tests are (for run.sh's own test).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
: "${SAASCTL:=$top/saasctl}"
: "${UNIT_DIR:=$top/build/std/tests}"
: "${E2E_DIR:=$top/tests/e2e}"
: "${TOOLS:=$top/build/std/tools}"
: "${JOBS:=2}"
: "${TEST_TIMEOUT:=300}"
: "${TEST_GRACE:=3}"
export SAASCTL TOOLS TOP="$top"
pattern=${1:-}
logs=$(mktemp -d "${TMPDIR:-/tmp}/saasctl-tests.XXXXXX")

mkfifo "$logs/never"
list=$logs/list
: > "$list"
for t in "$UNIT_DIR"/test-* "$E2E_DIR"/t*.sh; do
	[ -x "$t" ] || continue
	case $t in *.d|*.o) continue ;; esac
	[ -n "$pattern" ] && case $(basename "$t") in *"$pattern"*) ;; *) continue ;; esac
	echo "$t" >> "$list"
done

# session_pids SID: the live processes (not zombies) a test started. Its
# leftovers may have moved to process groups of their own (a job under
# saasctl run), still in its session, or even left it (a daemon such as
# ssh-agent calls setsid): those still carry TEST_SID=SID, set for every
# test, in their environment.
session_pids() {
	local p stat f
	for p in /proc/[0-9]*; do
		read -r stat 2>/dev/null < "$p/stat" || continue
		read -r -a f <<< "${stat##*) }"	# state ppid pgrp session ...
		[ "${f[3]}" = "$1" ] && [ "${f[0]}" != Z ] && echo "${p#/proc/}"
	done
	grep -lzx "TEST_SID=$1" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3
}

# end_session SID: TERM the test's process group and the rest of its
# session, KILL whatever is left after TEST_GRACE seconds.
end_session() {
	local i left
	kill -TERM -- "-$1" 2>/dev/null
	left=$(session_pids "$1")
	[ -z "$left" ] || kill -TERM $left 2>/dev/null
	for ((i = 0; i < TEST_GRACE * 10; i++)); do
		[ -z "$(session_pids "$1")" ] && return
		sleep 0.1
	done
	kill -KILL -- "-$1" 2>/dev/null
	left=$(session_pids "$1")
	[ -z "$left" ] || kill -KILL $left 2>/dev/null
}

# watchdog SID NAME: after TEST_TIMEOUT seconds, mark NAME as timed out and
# end its session. Once it fires it cannot be called off, so leftovers are
# always killed to the end.
watchdog() {
	# read -t on a fifo nobody writes to: a timer without a child process
	# that could outlive the watchdog when it is called off (TERM).
	read -r -t "$TEST_TIMEOUT" _ <> "$logs/never"
	trap '' TERM
	: > "$logs/$2.timedout"
	end_session "$1"
}

run_one() {
	local t=$1 name start sid wd rc
	name=$(basename "$t")
	start=$(date +%s)
	# Not a process group leader here (no job control), so setsid makes
	# the test the leader of a new session in place: its pid is the sid.
	setsid sh -c 'export TEST_SID=$$; exec "$0"' "$t" > "$logs/$name.log" 2>&1 < /dev/null &
	sid=$!
	echo "$sid" > "$logs/$name.pid"
	watchdog "$sid" "$name" &
	wd=$!
	trap 'kill -TERM $wd 2>/dev/null; wait $wd; end_session $sid; exit 1' INT TERM
	wait "$sid"
	rc=$?
	kill -TERM "$wd" 2>/dev/null
	wait "$wd"
	# A test that ended by itself may still have left processes behind.
	[ -z "$(session_pids "$sid")" ] || end_session "$sid"
	echo "$rc" > "$logs/$name.rc"
	echo $(( $(date +%s) - start )) > "$logs/$name.secs"
}

# Tests run in sessions of their own, out of reach of the terminal's ^C:
# end them when run.sh is interrupted.
on_exit() {
	local f jobs
	jobs=$(jobs -p)
	[ -z "$jobs" ] || { kill -TERM $jobs 2>/dev/null; wait; }
	for f in "$logs"/*.pid; do
		[ -e "$f" ] && [ ! -e "${f%.pid}.rc" ] && end_session "$(cat "$f")"
	done
	rm -rf "$logs"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A small job pool: at most $JOBS tests at a time.
running=0
while read -r t; do
	run_one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$JOBS" ]; then
		wait -n 2>/dev/null || wait
		running=$((running - 1))
	fi
done < "$list"
wait

passed=0 failed=0
while read -r t; do
	name=$(basename "$t")
	log=$logs/$name.log
	rc=$(cat "$logs/$name.rc")
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	timedout=""
	if [ -e "$logs/$name.timedout" ]; then
		timedout="not ok - $name timed out after $TEST_TIMEOUT s"
		f=$((f + 1))
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $rc" >> "$log"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -gt 0 ]; then
		printf 'FAIL %s (%s s)\n' "$name" "$(cat "$logs/$name.secs")"
		sed 's/^/    /' "$log" | tail -n 60
		[ -z "$timedout" ] || echo "$timedout"
	else
		printf 'ok   %s: %d checks (%s s)\n' "$name" "$p" "$(cat "$logs/$name.secs")"
	fi
done < "$list"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
