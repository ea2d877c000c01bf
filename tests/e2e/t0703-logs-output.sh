#!/bin/sh
# saasctl logs --no-follow merges every pod's lines in timestamp order;
# --tail, --since, --since-time and --previous pick lines like kubectl;
# -c/-E pick containers, -i/-e lines; -o text|json|raw and -t format them.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/kube-apiserver/lib.sh"
need openssl

kube_start '{'"$kube_tokens"', "pods": [
 {"name": "web-1", "labels": {"app": "web"}, "containers": ["app", "side"], "period_ms": 70},
 {"name": "web-2", "labels": {"app": "web"}, "containers": ["app"], "period_ms": 110, "create_ms": 150},
 {"name": "json-1", "labels": {"app": "json"}, "containers": ["app"], "period_ms": 100, "format": "json"},
 {"name": "db-1", "labels": {"app": "db"}, "containers": ["pg"], "period_ms": 50, "restarts": [{"at_ms": 500}]},
 {"name": "done-1", "labels": {"app": "done"}, "containers": ["app"], "period_ms": 50, "exit_ms": 400}]}'
kube_config "$T/kc" '    token: tok-alice'
export KUBECONFIG="$T/kc"
sleep 1.6

saas logs -l app=web --no-follow -t
expect_rc 0 "--no-follow: exits 0 when every stream ended"
expect_out '^20[0-9-]+T[0-9:.]+Z web-1/side web-1 side r0 line 1$' "-t: the timestamp first, then pod/container"
$PY - "$T/out" <<'PYEOF' > "$T/check" 2>&1
import sys
ts = [l.split(" ", 1)[0] for l in open(sys.argv[1])]
pods = {l.split(" ")[1] for l in open(sys.argv[1])}
assert len(ts) > 40, len(ts)
# RFC 3339 with nanoseconds trimmed: compare as (seconds, fraction)
key = lambda t: (t[:19], float("0" + t[19:-1]) if len(t) > 20 else 0.0)
assert ts == sorted(ts, key=key), "not in timestamp order"
assert pods == {"web-1/app", "web-1/side", "web-2/app"}, pods
print(len(ts), "lines")
PYEOF
[ $? -eq 0 ] && ok "--no-follow: lines of all pods merged in timestamp order ($(cat "$T/check"))" || not_ok "--no-follow: merged in timestamp order" "$(cat "$T/check")"

saas logs -l app=web --no-follow --tail 3 -o raw
expect_eq "$(grep -c 'web-1 app' "$T/out") $(grep -c 'web-1 side' "$T/out") $(grep -c 'web-2 app' "$T/out")" "3 3 3" "--tail 3: three lines per container"
grep '/log"' "$T/requests-main.jsonl" | tail -1 | grep -q '"tailLines": "3"' && ok "--tail is sent as tailLines" || not_ok "--tail is sent as tailLines"

saas logs web-1 -c side --no-follow --since 1s -o raw
n=$(wc -l < "$T/out")
[ "$n" -ge 10 ] && [ "$n" -le 16 ] && ok "--since 1s: about a second of lines ($n)" || not_ok "--since 1s: about a second of lines" "$n lines"
expect_no_out ' line 1$' "--since 1s: older lines are left out"
grep '/log"' "$T/requests-main.jsonl" | tail -1 | grep -q '"sinceSeconds": "1"' && ok "--since is sent as sinceSeconds" || not_ok "--since is sent as sinceSeconds"

saas logs web-1 --no-follow --since-time 2099-01-01T00:00:00Z
expect_rc 0 "--since-time in the future: exit 0"
expect_eq "$(wc -l < "$T/out")" 0 "--since-time in the future: no lines"
saas logs web-1 --no-follow --since-time 2000-01-01T00:00:00Z -o raw
expect_out '^web-1 app r0 line 1$' "--since-time in the past: every line"

saas logs db-1 --previous -o raw
expect_rc 0 "--previous: exit 0"
expect_out '^db-1 pg r0 line 9$' "--previous: the earlier instance's lines"
expect_no_out ' r1 ' "--previous: none of the current instance"
grep '/log"' "$T/requests-main.jsonl" | tail -1 | grep -q '"previous": "true"' && ok "--previous is sent" || not_ok "--previous is sent"
saas logs web-2 --previous
expect_rc 0 "--previous without an earlier instance: exit 0"
expect_err '^saasctl: logs: pod/web-2/app: no previous instance$' "--previous without an earlier instance: says so"

saas logs done-1 --no-follow -o raw
expect_eq "$(wc -l < "$T/out")" 8 "a terminated container: all its lines"

saas logs 'web-.*' -c '^si' --no-follow -o raw
expect_eq "$(cut -d' ' -f1,2 "$T/out" | sort -u)" "web-1 side" "-c picks containers by regex"
saas logs 'web-.*' -E 'side|nothing' --no-follow -o raw
expect_eq "$(cut -d' ' -f2 "$T/out" | sort -u)" "app" "-E leaves containers out by regex"

saas logs web-2 --no-follow -i 'line (1|2)$' -o raw
expect_eq "$(cat "$T/out" | tr '\n' '|')" "web-2 app r0 line 1|web-2 app r0 line 2|" "-i keeps matching lines"
saas logs web-2 --no-follow -e 'line [0-9]*[02468]$' -o raw
expect_no_out '[02468]$' "-e drops matching lines"
expect_out 'line 3$' "-e keeps the others"
saas logs web-2 --no-follow -i 'line (' -o raw
expect_rc 2 "a bad regex: usage error"
expect_err "bad pattern 'line \('" "a bad regex: named"

saas --color=always logs web-2 --no-follow -i 'line 1$'
expect_out "$(printf '^\033')\\[[0-9]+mweb-2/app$(printf '\033')\\[0m web-2 app r0 $(printf '\033')\\[1;31mline 1$(printf '\033')\\[0m$" "colour: pod prefix coloured, -i match highlighted"
c1=$(head -1 "$T/out" | cut -c1-6)
saas --color=always logs web-2 --no-follow --tail 1
expect_eq "$(head -1 "$T/out" | cut -c1-6)" "$c1" "colour: the same pod keeps its colour"
saas logs web-2 --no-follow --tail 1
expect_no_out "$(printf '\033')" "no colour when stdout is not a terminal"

saas logs -l app=json --no-follow -o json --tail 3
expect_rc 0 "-o json: exit 0"
$PY - "$T/out" <<'PYEOF' > "$T/check" 2>&1
import json, sys
n = 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert set(o) == {"time", "namespace", "pod", "container", "message", "fields"}, o
    assert o["namespace"] == "default" and o["pod"] == "json-1" and o["container"] == "app", o
    assert o["time"].endswith("Z") and o["fields"]["level"] == "info", o
    assert json.loads(o["message"]) == o["fields"], o
    n += 1
assert n == 3, n
PYEOF
[ $? -eq 0 ] && ok "-o json: NDJSON with time, namespace, pod, container, message and parsed fields" || not_ok "-o json: NDJSON" "$(cat "$T/check")"
# The same lines read back with jansson, line by line.
expect_eq "$("$TOOLS/ndjson-check" time namespace pod container message < "$T/out")" 3 "-o json: every line is a JSON object for jansson"
saas --json logs web-2 --no-follow --tail 1
$PY -c 'import json,sys; o=json.loads(open(sys.argv[1]).read()); assert "fields" not in o and o["message"].startswith("web-2 app r0 line"), o' "$T/out" && ok "--json is -o json; plain messages have no fields" || not_ok "--json is -o json" "$(cat "$T/out")"

saas logs web-2 --no-follow -o yaml
expect_rc 2 "-o yaml: usage error"
expect_err "bad output format 'yaml'" "-o yaml: named"
saas logs web-2 --since 10x
expect_rc 2 "a bad --since: usage error"
saas logs web-2 --since-time yesterday
expect_rc 2 "a bad --since-time: usage error"
saas logs web-2 --tail many
expect_rc 2 "a bad --tail: usage error"
saas logs web-2 --max-streams 0
expect_rc 2 "a bad --max-streams: usage error"
saas logs web-2 -n x -A
expect_rc 2 "-n with -A: usage error"
saas logs
expect_rc 2 "no target: usage error"
expect_err '^usage: saasctl logs ' "no target: the usage is printed"

# A closed pipe ends it quietly with status 0.
"$SAASCTL" logs -l app=web -o raw 2> "$T/err" | head -2 > "$T/out"
expect_eq "$(wc -l < "$T/out")" 2 "a closed pipe: the reader got its lines"
expect_eq "$(cat "$T/err")" "" "a closed pipe: nothing on stderr"
{ "$SAASCTL" logs -l app=web -o raw 2>/dev/null; echo $? > "$T/rc"; } | head -1 > /dev/null
expect_eq "$(cat "$T/rc")" 0 "a closed pipe: exit status 0"
