#!/bin/sh
# examples/demo-backup.sh, the backup part of `make demo`: backs up to a
# folder and to a local Ceph RGW, lists, verifies, restores from S3 and
# compares; without Ceph it says so and uses the folder. Whether it ends
# or is cut short by ^C, no server it started is left and its temp
# folder is gone.
. "$(dirname "$0")/../lib.sh"
need clickhouse-server radosgw ceph-mon ceph-osd setsid
DEMO=$TOP/examples/demo-backup.sh
mkdir -p "$T/tmp" "$T/repo"

# left: the processes whose command line names the demo's temp folder
left() { pgrep -af "$T/tmp/" | grep -v pgrep || true; }
all_gone() { # NAME: within 10 s nothing of the demo runs, its folder is gone
	i=0
	while [ -n "$(left)" ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	expect_eq "$(left)" "" "$1: no server of the demo is left"
	expect_eq "$(ls -A "$T/tmp")" "" "$1: its temp folder is removed"
}
t_at_exit 'for p in $(pgrep -f "$T/tmp/"); do kill -9 "$p"; done'

TMPDIR=$T/tmp run "$DEMO" "$SAASCTL" "$T/repo"
expect_rc 0 "the demo runs to the end"
expect_out '^\$ saasctl backup clickhouse --store s3://acme-backups/clickhouse$' "it backs up to S3"
[ "$(grep -c '^backup [0-9TZ]*: 1 table, 300000 rows' "$T/out")" = 2 ] &&
	ok "once to the folder, once to S3" || not_ok "once to the folder, once to S3" "$(cat "$T/out")"
expect_out '^\$ saasctl backup list --store s3://acme-backups/clickhouse$' "it lists the S3 store"
expect_out '^ok +[0-9TZ]+  4 objects, .*: hashes match$' "it verifies the backup"
expect_out '^\$ saasctl restore clickhouse [0-9TZ]+ --store s3://acme-backups/clickhouse ' "it restores from S3"
expect_out '^restored [0-9TZ]+: 3 partitions, 300000 rows' "every partition"
a=$(sed -n 's/^analytics  *//p' "$T/out") b=$(sed -n 's/^analytics_restored  *//p' "$T/out")
[ -n "$a" ] && [ "$a" = "$b" ] && ok "the restored rows and checksum are the source's" ||
	not_ok "the restored rows and checksum are the source's" "$(cat "$T/out")"
expect_no_err . "nothing on stderr"
all_gone "after the demo"

# ^C mid-way: the terminal signals the whole process group, as it would
# under make demo. Started from python, in a session of its own, with
# SIGINT at its default (a background job of sh would inherit it ignored,
# and bash cannot trap a signal ignored at its start).
rm -rf "$T/repo" && mkdir "$T/repo"
TMPDIR=$T/tmp $PY -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setsid()
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
os.dup2(fd, 1); os.dup2(fd, 2)
os.execv(sys.argv[2], sys.argv[2:])
' "$T/int.out" "$DEMO" "$SAASCTL" "$T/repo" &
pid=$!
i=0
until grep -q 'Back up every database to a folder' "$T/int.out" 2>/dev/null || [ "$i" -gt 600 ]; do
	sleep 0.1; i=$((i + 1))
done
[ -n "$(left)" ] && ok "the servers run" || not_ok "the servers run" "$(cat "$T/int.out")"
kill -INT "-$pid"
wait "$pid"
expect_eq "$?" "130" "^C ends the demo as interrupted, so the caller stops too"
all_gone "after ^C"

# Without Ceph: it says so and goes on with the folder.
mkdir "$T/bin"
for f in /usr/bin/* /bin/*; do
	case ${f##*/} in radosgw | ceph-* | ceph) continue ;; esac
	[ -e "$T/bin/${f##*/}" ] || ln -s "$f" "$T/bin/"
done
rm -rf "$T/repo" && mkdir "$T/repo"
PATH=$T/bin:/usr/sbin:/sbin TMPDIR=$T/tmp run "$DEMO" "$SAASCTL" "$T/repo"
expect_rc 0 "without Ceph the demo still runs"
expect_out '^# S3: skipped, Ceph RGW is not installed \(missing: radosgw ceph-mon ceph-osd ceph\b' "and says why S3 is skipped"
expect_out '^\$ saasctl restore clickhouse [0-9TZ]+ --store file://' "it restores from the folder"
expect_out '^restored [0-9TZ]+: 3 partitions, 300000 rows' "every partition"
all_gone "without Ceph"
