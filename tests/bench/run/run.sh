#!/bin/sh
# saasctl run against the Healthchecks test server, measured in the same run
# as the curl one-liner the Healthchecks docs suggest for cron:
#   sh -c 'curl .../start; true; curl --data-raw "$out" .../$?'
# Target: saasctl run takes <= 0.5x the time of the one-liner.
# Then the peak RSS of saasctl run wrapping a command that prints 1 GB:
# target <= 8 MiB (the tail it keeps for the ping is bounded).
set -eu
top=$(cd "$(dirname "$0")/../../.." && pwd)
SAASCTL=${SAASCTL:-$top/saasctl}
PY=/usr/bin/python3
N=${N:-200}
T=$(mktemp -d "${TMPDIR:-/tmp}/saasctl-bench.XXXXXX")
UUID=5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278
port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
$PY "$top/tests/servers/healthchecks/server.py" --port "$port" --check "$UUID:bench" > "$T/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$T"' EXIT
for i in $(seq 100); do
	$PY -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2).close()" 2>/dev/null && break
	sleep 0.05
done
URL=http://127.0.0.1:$port/$UUID
export SAASCTL_HC_PING_URL=http://127.0.0.1:$port

# hyperfine runs both in the same session, against the same server.
hyperfine -N -w 10 -r "$N" --export-json "$T/time.json" \
	-n "saasctl run" "$SAASCTL run --check $UUID -- true" \
	-n "saasctl --version" "$SAASCTL --version" -n "curl --version" "curl --version" \
	-n "curl one-liner" "sh -c 'curl -fsS -m 10 --retry 5 -o /dev/null $URL/start; out=\$(true 2>&1); curl -fsS -m 10 --retry 5 -o /dev/null --data-raw \"\$out\" $URL/\$?'" \
	> "$T/hyperfine.log" 2>&1 || { cat "$T/hyperfine.log"; exit 1; }
$PY - "$T/time.json" <<'PYEOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
s, c = r["saasctl run"], r["curl one-liner"]
print("run: saasctl run --check X -- true: median %.2f ms, mean %.2f +- %.2f (%d runs)" % (s["median"] * 1e3, s["mean"] * 1e3, s["stddev"] * 1e3, len(s["times"])))
print("run: curl start + curl exit-code one-liner: median %.2f ms, mean %.2f +- %.2f" % (c["median"] * 1e3, c["mean"] * 1e3, c["stddev"] * 1e3))
print("run: process start alone: saasctl --version %.2f ms, curl --version %.2f ms (the floor: the libraries both load)" % (r["saasctl --version"]["median"] * 1e3, r["curl --version"]["median"] * 1e3))
print("run: ratio saasctl/curl = %.2fx by the median, %.2fx by the mean (target <= 0.5x)" % (s["median"] / c["median"], s["mean"] / c["mean"]))
PYEOF

# Peak RSS wrapping 1 GB of output (passed through to /dev/null): the
# whole process (VmHWM), what saasctl --version alone maps (the shared
# libraries every saasctl process has), and the private part sampled
# during the run.
$PY - "$SAASCTL" "$UUID" <<'PYEOF'
import subprocess, sys, time
saasctl, uuid = sys.argv[1], sys.argv[2]

def status(pid, key):
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None

def private(pid):
    try:
        kb = 0
        for line in open("/proc/%d/smaps_rollup" % pid):
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                kb += int(line.split()[1])
        return kb
    except OSError:
        return None

def measure(argv):
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    hwm = priv = 0
    while p.poll() is None:
        h, v = status(p.pid, "VmHWM"), private(p.pid)
        hwm = max(hwm, h or 0)
        priv = max(priv, v or 0)
        time.sleep(0.01)
    return hwm, priv

base, _ = measure([saasctl, "run", "--", "sleep", "0.3"])
# The pause keeps the process alive long enough to be sampled.
small, _ = measure([saasctl, "run", "--check", uuid, "--", "sh", "-c", "head -c 10485760 /dev/zero; sleep 0.3"])
t0 = time.time()
hwm, priv = measure([saasctl, "run", "--check", uuid, "--", "sh", "-c",
                     "head -c 1073741824 /dev/zero | tr '\\0' x"])
mib = lambda kb: kb / 1024.0
print("run: 1 GB through saasctl run in %.1f s" % (time.time() - t0))
print("run: peak RSS wrapping a command that prints 1 GB: %.1f MiB (target <= 8 MiB)" % mib(hwm))
print("run:   of which the libraries any saasctl process maps (run -- sleep): %.1f MiB" % mib(base))
print("run:   the same wrapping 10 MB: %.1f MiB (bounded: output size does not matter)" % mib(small))
print("run:   private memory at its peak: %.1f MiB; growth over the bare process: %.1f MiB" % (mib(priv), mib(hwm - base)))
PYEOF
