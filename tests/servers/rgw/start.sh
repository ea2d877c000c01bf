#!/bin/sh
# Starts a throw-away Ceph cluster with an S3 gateway in DIR: one monitor,
# one memstore OSD (data in memory), radosgw on 127.0.0.1:PORT, cephx off,
# everything on loopback and under DIR; then creates the S3 user
# ACCESS/SECRET. About 10-20 s.
# Usage: start.sh DIR PORT ACCESS SECRET
# Prints nothing on success; the daemons' pids are in DIR/run/*.pid
# (stop.sh DIR ends them). Logs in DIR/log.
# With RGW_OWNER_PID set, a watcher stops the cluster when that process
# is gone, even if it was killed before its own clean-up ran.
set -eu
dir=$1 port=$2 access=$3 secret=$4
mkdir -p "$dir/mon" "$dir/osd" "$dir/run" "$dir/log"
if [ -n "${RGW_OWNER_PID:-}" ]; then
	stop=$(cd "$(dirname "$0")" && pwd)/stop.sh
	(
		while kill -0 "$RGW_OWNER_PID" 2>/dev/null; do sleep 1; done
		"$stop" "$dir"
	) < /dev/null > /dev/null 2>&1 &
fi
monport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
fsid=$(cat /proc/sys/kernel/random/uuid)
conf=$dir/ceph.conf
cat > "$conf" <<CONF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$monport
public addr = 127.0.0.1
ms bind ipv6 = false
ms bind msgr1 = false
# With auth none only the crc mode works; radosgw asks for secure.
ms mon client mode = crc
ms client mode = crc
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
client mount timeout = 30
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 1
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
osd objectstore = memstore
memstore device bytes = 2147483648
osd crush update on start = false
run dir = $dir/run
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
pid file = $dir/run/\$name.pid
mon data = $dir/mon
osd data = $dir/osd
keyring = $dir/keyring
mon cluster log file = $dir/log/cluster.log
crash dir = $dir/crash
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$port
rgw thread pool size = 32
rgw init timeout = 60
rgw enable usage log = false
rgw enable ops log = false
CONF
: > "$dir/keyring"
monmaptool --create --add a "v2:127.0.0.1:$monport" --fsid "$fsid" "$dir/monmap" >/dev/null
ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" >"$dir/log/mon-mkfs.out" 2>&1
ceph-mon -c "$conf" -i a
ceph -c "$conf" osd create >/dev/null
ceph-osd -c "$conf" -i 0 --mkfs >"$dir/log/osd-mkfs.out" 2>&1
ceph -c "$conf" osd crush add osd.0 1 host=localhost root=default >/dev/null 2>&1
ceph-osd -c "$conf" -i 0 2>"$dir/log/osd.err"
radosgw -c "$conf" -n client.rgw
i=0
until curl -sf -o /dev/null "http://127.0.0.1:$port/"; do
	i=$((i + 1))
	if [ "$i" -gt 600 ]; then
		echo "rgw: radosgw does not answer on port $port after 60 s" >&2
		tail -n 20 "$dir/log/client.rgw.log" >&2
		exit 1
	fi
	sleep 0.1
done
radosgw-admin -c "$conf" user create --uid=test --display-name=test \
	--access-key="$access" --secret-key="$secret" >/dev/null
