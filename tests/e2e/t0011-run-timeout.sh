#!/bin/sh
# tests/run.sh gives every test a time limit (TEST_TIMEOUT): a test that
# hangs is reported as a failure and killed together with what it started,
# even children that moved to a process group or a session of their own;
# an interrupted run.sh leaves no test running either.
. "$(dirname "$0")/../lib.sh"
need setsid timeout

# A suite of one test that hangs and leaves two children behind.
mkdir -p "$T/unit" "$T/e2e"
cat > "$T/e2e/t9999-hang.sh" <<HANG
#!/bin/sh
. "\$TOP/tests/lib.sh"
sleep 1001 &
echo \$! > "$T/child.pid"
$PY -c 'import os; os.setpgid(0, 0); os.execvp("sleep", ["sleep", "1002"])' &
echo \$! > "$T/grandchild.pid"
setsid sleep 1004 &
echo \$! > "$T/daemon.pid"
echo "# hanging"
sleep 1003
HANG
chmod +x "$T/e2e/t9999-hang.sh"

# alive PID: a process that is not a zombie.
alive() {
	[ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -c1)" != Z ]
}
# expect_gone NAME: the child whose pid is in $T/NAME.pid was started and
# is no longer running.
expect_gone() {
	pid=$(cat "$T/$1.pid" 2>/dev/null)
	if [ -z "$pid" ]; then not_ok "$2" "the test never started its $1"
	elif alive "$pid"; then not_ok "$2" "pid $pid still runs"; kill -KILL "$pid"
	else ok "$2"
	fi
}

mkdir "$T/tmp"
start=$(date +%s)
run timeout -k 5 60 env TMPDIR="$T/tmp" TEST_TIMEOUT=2 E2E_DIR="$T/e2e" UNIT_DIR="$T/unit" "$TOP/tests/run.sh"
took=$(( $(date +%s) - start ))
expect_rc 1 "a suite with a test past its limit fails"
expect_out '^not ok - t9999-hang\.sh timed out after 2 s$' "the test is reported as timed out"
expect_eq "$(tail -n 1 "$T/out")" "0 passed, 1 failed" "a timeout counts as one failure"
[ "$took" -le 10 ] && ok "the suite goes on after the limit ($took s)" || not_ok "the suite goes on after the limit" "took $took s"
expect_gone child "the test's background child is killed"
expect_gone grandchild "a child in a process group of its own is killed too"
expect_gone daemon "a child in a session of its own is killed too"
expect_eq "$(ls "$T/tmp")" "" "the killed test and run.sh leave no temp folder"

# Interrupted: run.sh ends the tests it started.
rm -f "$T/child.pid" "$T/grandchild.pid" "$T/daemon.pid"
TEST_TIMEOUT=100 E2E_DIR="$T/e2e" UNIT_DIR="$T/unit" "$TOP/tests/run.sh" > /dev/null 2>&1 &
runner=$!
for i in $(seq 50); do [ -s "$T/grandchild.pid" ] && break; sleep 0.1; done
kill -TERM "$runner"
for i in $(seq 100); do alive "$runner" || break; sleep 0.1; done
alive "$runner" && { not_ok "run.sh ends when told to"; kill -KILL "$runner"; } || ok "run.sh ends when told to"
wait "$runner" 2>/dev/null
expect_gone child "an interrupted run.sh kills the test's background child"
expect_gone grandchild "an interrupted run.sh kills a child in its own process group"
expect_gone daemon "an interrupted run.sh kills a child in its own session"
