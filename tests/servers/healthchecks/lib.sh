# Sourced by tests after tests/lib.sh: starts the Healthchecks test server.

# hc_server [ARGS...]: the server on a free port, recording into $HC_REC;
# sets HC_PORT, HC_URL and HC_PID. It is stopped when the test ends.
hc_server() {
	HC_PORT=$(free_port)
	HC_REC=$T/hc-pings.jsonl
	: > "$HC_REC"
	$PY "$TOP/tests/servers/healthchecks/server.py" --port "$HC_PORT" \
		--record "$HC_REC" "$@" > "$T/hc-server.log" 2>&1 &
	HC_PID=$!
	t_at_exit "kill $HC_PID"
	if ! wait_port "$HC_PORT" 20; then
		not_ok "the healthchecks test server starts" "$(cat "$T/hc-server.log")"
		exit 1
	fi
	HC_URL=http://127.0.0.1:$HC_PORT
}

# hc_config KEY=VALUE...: change delay, fail_rate, fail_first, body_limit.
hc_config() {
	$PY - "$HC_URL" "$@" <<'PYEOF'
import json, sys, urllib.request
doc = {}
for kv in sys.argv[2:]:
    k, v = kv.split("=", 1)
    doc[k] = float(v) if "." in v else int(v)
urllib.request.urlopen(sys.argv[1] + "/__config", json.dumps(doc).encode()).read()
PYEOF
}

# hc_ping_count: how many pings were recorded.
hc_ping_count() { wc -l < "$HC_REC" | tr -d ' '; }

# hc_ping_get INDEX EXPR: EXPR (Python, over the recorded ping `p`) for
# ping INDEX (0-based; -1 is the last). Headers: p["headers"]["Name"].
hc_ping_get() {
	$PY - "$HC_REC" "$1" "$2" <<'PYEOF'
import json, sys
pings = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
p = pings[int(sys.argv[2])]
v = eval(sys.argv[3])
sys.stdout.write(v if isinstance(v, str) else json.dumps(v))
PYEOF
}
