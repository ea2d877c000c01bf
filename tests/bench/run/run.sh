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
N=${N:-40}
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

now_ns() { date +%s%N; }

# Interleave the two, so that both see the same machine and server.
t_saas=0 t_curl=0
for i in $(seq "$N"); do
	a=$(now_ns)
	"$SAASCTL" run --check $UUID -- true
	b=$(now_ns)
	sh -c 'curl -fsS -m 10 --retry 5 -o /dev/null "$1/start"; out=$(true 2>&1); curl -fsS -m 10 --retry 5 -o /dev/null --data-raw "$out" "$1/$?"' _ "$URL"
	c=$(now_ns)
	t_saas=$((t_saas + b - a))
	t_curl=$((t_curl + c - b))
done
ms_saas=$(echo "scale=2; $t_saas / $N / 1000000" | bc)
ms_curl=$(echo "scale=2; $t_curl / $N / 1000000" | bc)
ratio=$(echo "scale=2; $t_saas / $t_curl" | bc)
echo "run: saasctl run --check X -- true: $ms_saas ms per run (mean of $N)"
echo "run: curl start + curl exit-code one-liner: $ms_curl ms per run"
echo "run: ratio saasctl/curl = ${ratio}x (target <= 0.5x)"

# Peak RSS wrapping 1 GB of output (passed through to /dev/null).
/usr/bin/time -f '%M' -o "$T/rss" "$SAASCTL" run --check $UUID -- \
	sh -c 'head -c 1073741824 /dev/zero | tr "\0" "x"' > /dev/null
kb=$(cat "$T/rss")
echo "run: peak RSS wrapping a command that prints 1 GB: $((kb / 1024)).$(( (kb % 1024) * 10 / 1024 )) MiB ($kb KiB; target <= 8 MiB)"
