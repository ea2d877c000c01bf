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
su -s /bin/sh nobody -c "exec '$SAASCTL' seal -n web --name t0409 < '$T/fifo' > /dev/null 2>&1" &
exec 3> "$T/fifo"	# let the open of seal's stdin return
sleep 0.3
expect_eq "$(environ_as_nobody "^$SAASCTL seal -n web --name t0409")" refused \
	"seal is not dumpable: the same user cannot read its environment"
exec 3>&-
wait

# The control: an ordinary process of that user can be read, so the
# check above tells the difference.
su -s /bin/sh nobody -c "exec sleep 1.5" 2>/dev/null &
sleep 0.3
expect_eq "$(environ_as_nobody "^sleep 1.5")" readable \
	"an ordinary process of the same user can be read"
wait
