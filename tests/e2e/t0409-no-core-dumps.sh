#!/bin/sh
# Commands that hold secrets or credentials make themselves not dumpable:
# no core dump can carry a secret, and no other process of the same user
# may ptrace them or read their memory or environment. Seen from outside:
# another process of that user is refused /proc/PID/environ.
. "$(dirname "$0")/../lib.sh"
need su pgrep

if [ "$(id -u)" -ne 0 ]; then
	ok "# skipped: needs root to switch to an unprivileged user"
	exit 0
fi
chmod 755 "$T"
mkfifo -m 666 "$T/fifo"
# nobody may not reach the build tree (a clone under /root is 0700): run a
# copy from $T.
cp "$SAASCTL" "$T/saasctl"
chmod 755 "$T/saasctl"
BIN=$T/saasctl

# A su that cannot start a command as nobody would make every check below
# meaningless: say so and stop.
out=$(su -s /bin/sh nobody -c "'$BIN' --version" 2>&1 < /dev/null)
case $out in
saasctl*) ok "su starts saasctl as nobody" ;;
*) not_ok "su starts saasctl as nobody" "$out"; exit 1 ;;
esac

# wait_gone PID: wait up to 5 s for PID to end, then kill it and fail.
wait_gone() {
	for i in $(seq 50); do
		kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 1
}

# environ_as_nobody PATTERN: can another process of nobody read the
# environment of nobody's process matching PATTERN? "readable"/"refused".
environ_as_nobody() {
	for i in 1 2 3 4 5 6 7 8 9 10; do
		pid=$(pgrep -u nobody -f "$1" | head -1)
		[ -n "$pid" ] && break
		sleep 0.1
	done
	[ -n "$pid" ] || { echo "no process"; return; }
	su -s /bin/sh nobody -c "cat /proc/$pid/environ > /dev/null 2>&1 && echo readable || echo refused"
}

# seal reads the Secret from stdin: it waits on the fifo meanwhile.
su -s /bin/sh nobody -c "exec '$BIN' seal -n web --name t0409 < '$T/fifo' > /dev/null 2>&1" < /dev/null &
sealer=$!
# Let the open of seal's stdin return. Read-write, because opening a fifo
# write-only waits for a reader, forever if su never started one.
exec 3<> "$T/fifo"
sleep 0.3
expect_eq "$(environ_as_nobody "^$BIN seal -n web --name t0409")" refused \
	"seal is not dumpable: the same user cannot read its environment"
exec 3>&-	# end of input: seal ends
wait_gone "$sealer" || not_ok "seal ends at the end of its input"

# The control: an ordinary process of that user can be read, so the
# check above tells the difference.
su -s /bin/sh nobody -c "exec sleep 1.5" 2>/dev/null < /dev/null &
sleeper=$!
sleep 0.3
expect_eq "$(environ_as_nobody "^sleep 1.5")" readable \
	"an ordinary process of the same user can be read"
wait_gone "$sleeper" || not_ok "sleep 1.5 ends"
