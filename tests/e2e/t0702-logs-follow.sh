#!/bin/sh
# saasctl logs follows 20 pods x 2 containers while containers restart,
# pods come and go and the server drops every stream (logs and the watch)
# every 2 s and compacts the watch history (410 Gone): every numbered line
# appears exactly once. Then clean EOFs, stalls and 429s.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/kube-apiserver/lib.sh"
need openssl

# check_once FILE POD-PREFIX [SLACK-LINES]: every instance's lines 1..K exactly once, K
# complete for instances that ended, and close to complete otherwise.
check_once() {
	curl -s "$KURL/_fixture/instances" --cacert "$T/pki/ca.crt" > "$T/instances.json"
	$PY - "$1" "$T/instances.json" "$2" "${3:-30}" <<'PYEOF'
import json, re, sys
seen = {}
for line in open(sys.argv[1]):
    m = re.fullmatch(r"(\S+) (\S+) r(\d+) line (\d+)\n", line)
    if not m:
        print("bad line: %r" % line); sys.exit(1)
    seen.setdefault((m[1], m[2], int(m[3])), []).append(int(m[4]))
bad = 0
for k, v in seen.items():
    if v != list(range(1, len(v) + 1)):
        dups = len(v) - len(set(v))
        print("%s: not 1..%d once each (%d duplicates, first %s)" % (k, len(v), dups, v[:5])); bad += 1
total = 0
for i in json.load(open(sys.argv[2])):
    if not i["pod"].startswith(tuple(sys.argv[3].split(","))):
        continue
    k = (i["pod"], i["container"], i["restart"])
    got = len(seen.get(k, []))
    total += i["lines"]
    if not i["started"]:
        continue
    # ended a while ago: complete; running: all but the last moment
    if i["ended"] and i["end_age_ms"] > 1500 and got != i["lines"]:
        print("%s: ended with %d lines, got %d" % (k, i["lines"], got)); bad += 1
    elif not i["ended"] and got < i["lines"] - int(sys.argv[4]):
        print("%s: running with %d lines, got only %d" % (k, i["lines"], got)); bad += 1
print("%d instances, %d lines served, %d printed" % (len(seen), total, sum(len(v) for v in seen.values())))
sys.exit(1 if bad else 0)
PYEOF
}

# 20 pods from the start, 2 containers each, 50 ms per line; restarts,
# later pods with an init container, deletions.
kube_start '{'"$kube_tokens"',
 "bookmark_every_ms": 500, "expire_watch_at_ms": [2600],
 "faults": {"drop_every_ms": 2000, "drop_watch_every_ms": 2000},
 "generate": [
  {"count": 20, "pod": {"name": "fx-{i}", "labels": {"app": "fx"}, "containers": ["app", "side"],
   "period_ms": 50, "restarts": [{"at_ms": 1200, "container": "app"}, {"at_ms": 3300}]}},
  {"count": 4, "stagger_ms": 400, "pod": {"name": "late-{i}", "labels": {"app": "fx"}, "create_ms": 1000,
   "initContainers": ["migrate"], "init_ms": 300, "containers": ["app", "side"], "period_ms": 50}}],
 "pods": [
  {"name": "gone-1", "labels": {"app": "fx"}, "containers": ["app", "side"], "period_ms": 50, "delete_ms": 2200},
  {"name": "other-1", "labels": {"app": "other"}, "containers": ["app"], "period_ms": 50}]}'
kube_config "$T/kc" '    token: tok-alice'
export KUBECONFIG="$T/kc"

"$SAASCTL" logs -l app=fx -o raw > "$T/follow.out" 2> "$T/follow.err" &
pid=$!
sleep 6.5
kill -INT $pid
wait $pid
rc=$?
expect_eq "$rc" 0 "Ctrl-C ends 'saasctl logs' with status 0"
check_once "$T/follow.out" fx-,late-,gone- > "$T/check" 2>&1
if [ $? -eq 0 ]; then ok "every numbered line exactly once across drops, restarts, new and deleted pods ($(tail -1 "$T/check"))"
else not_ok "every numbered line exactly once across drops, restarts, new and deleted pods" "$(head -20 "$T/check")"; fi
grep -q '^late-0 migrate r0 line 1$' "$T/follow.out" && ok "init containers of new pods are streamed" || not_ok "init containers of new pods are streamed"
grep -q '^fx-3 app r2 line 1$' "$T/follow.out" && ok "restarted containers are streamed again" || not_ok "restarted containers are streamed again"
expect_eq "$(grep -c '^other-1' "$T/follow.out")" 0 "pods outside the selector are not streamed"
grep -q '"allowWatchBookmarks": "true"' "$T/requests-main.jsonl" && ok "the watch asks for bookmarks" || not_ok "the watch asks for bookmarks"
grep '"path": "/api/v1/namespaces/default/pods"' "$T/requests-main.jsonl" | grep -vc '"watch"' > "$T/lists"
[ "$(cat "$T/lists")" -ge 2 ] && ok "410 Gone makes it list again" || not_ok "410 Gone makes it list again" "$(cat "$T/lists") lists"
grep -q '"sinceTime"' "$T/requests-main.jsonl" && ok "dropped streams resume with sinceTime" || not_ok "dropped streams resume with sinceTime"
if grep '/log"' "$T/requests-main.jsonl" | grep -vq '"timestamps": "true"'; then not_ok "every log request asks for timestamps"; else ok "every log request asks for timestamps"; fi
grep -q 'waiting to start' "$T/follow.err" && not_ok "waiting containers are not requested" "$(cat "$T/follow.err")" || ok "waiting containers are not requested"

# Clean EOFs while the container runs, a stall, and 429s on every third
# log request: still every line once.
kube_start '{'"$kube_tokens"',
 "faults": {"eof_every_ms": 700, "throttle_every": 3},
 "generate": [{"count": 3, "pod": {"name": "eof-{i}", "labels": {"app": "eof"}, "containers": ["app"], "period_ms": 30}}]}' eof
kube_config "$T/kc-eof" '    token: tok-alice'
SAASCTL_LOGS_STALL_SECONDS=0 "$SAASCTL" logs --kubeconfig "$T/kc-eof" -l app=eof -o raw > "$T/out" 2>&1 &
pid=$!
sleep 4
kill -INT $pid
wait $pid
expect_eq "$?" 0 "clean EOFs and 429s: exits 0"
check_once "$T/out" eof- 70 > "$T/check" 2>&1 && ok "clean EOFs and 429s: every line once ($(tail -1 "$T/check"))" || not_ok "clean EOFs and 429s: every line once" "$(head -20 "$T/check")"
grep -q '"sinceTime"' "$T/requests-eof.jsonl" && ok "a clean EOF of a running container resumes" || not_ok "a clean EOF of a running container resumes"

kube_start '{'"$kube_tokens"',
 "faults": {"stall_after_ms": 500, "stall_ms": 60000},
 "pods": [{"name": "stall-1", "labels": {"app": "stall"}, "containers": ["app"], "period_ms": 30}]}' stall
kube_config "$T/kc-stall" '    token: tok-alice'
SAASCTL_LOGS_STALL_SECONDS=0.8 "$SAASCTL" logs --kubeconfig "$T/kc-stall" -l app=stall -o raw > "$T/stall.out" 2>&1 &
pid=$!
sleep 3.5
kill -INT $pid
wait $pid
check_once "$T/stall.out" stall- > "$T/check" 2>&1 && ok "a stalled stream is reconnected, every line once ($(tail -1 "$T/check"))" || not_ok "a stalled stream is reconnected, every line once" "$(head -20 "$T/check")"
n=$(grep -c '/log"' "$T/requests-stall.jsonl")
[ "$n" -ge 3 ] && ok "stalls are detected and the stream reopened ($n requests)" || not_ok "stalls are detected" "$n requests"
