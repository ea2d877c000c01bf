#!/bin/bash
# Runs every unit test (build/*/tests/test-*) and end-to-end test
# (tests/e2e/t*.sh), JOBS at a time, and ends with "N passed, N failed".
# Each test prints TAP lines ("ok ..."/"not ok ..."); a test that exits
# non-zero without a "not ok" line counts as one failure.
# Usage: tests/run.sh [PATTERN]   (PATTERN filters test names, e.g. t0001)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
: "${SAASCTL:=$top/saasctl}"
: "${UNIT_DIR:=$top/build/std/tests}"
: "${TOOLS:=$top/build/std/tools}"
: "${JOBS:=2}"
export SAASCTL TOOLS TOP="$top"
pattern=${1:-}
logs=$(mktemp -d "${TMPDIR:-/tmp}/saasctl-tests.XXXXXX")
trap 'rm -rf "$logs"' EXIT

list=$logs/list
: > "$list"
for t in "$UNIT_DIR"/test-* "$top"/tests/e2e/t*.sh; do
	[ -x "$t" ] || continue
	case $t in *.d|*.o) continue ;; esac
	[ -n "$pattern" ] && case $(basename "$t") in *"$pattern"*) ;; *) continue ;; esac
	echo "$t" >> "$list"
done

run_one() {
	t=$1
	name=$(basename "$t")
	start=$(date +%s)
	"$t" > "$logs/$name.log" 2>&1 < /dev/null
	echo $? > "$logs/$name.rc"
	echo $(( $(date +%s) - start )) > "$logs/$name.secs"
}

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
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $rc" >> "$log"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -gt 0 ]; then
		printf 'FAIL %s (%s s)\n' "$name" "$(cat "$logs/$name.secs")"
		sed 's/^/    /' "$log" | tail -n 60
	else
		printf 'ok   %s: %d checks (%s s)\n' "$name" "$p" "$(cat "$logs/$name.secs")"
	fi
done < "$list"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
