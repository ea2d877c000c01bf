#!/bin/sh
# secrets controller: reconciles SealedSecrets as they come and change,
# through watch drops and 410s; a SealedSecret that does not open sets
# Synced=False with the reason, raises an Event and leaves its Secret as
# it was; /healthz and /metrics; SIGTERM ends it within a second; no
# plaintext in its output, the requests or the Events.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/kube-apiserver/lib.sh"
need openssl curl

R=$T/repo
mkdir -p "$R/keys"
cd "$R"
"$SAASCTL" keygen -q --name cluster --out keys > /dev/null
printf 'project: acme\nsecrets: {recipients: [keys/cluster.pub]}\n' > saasctl.yaml
"$SAASCTL" secrets install --out "$T/inst" > /dev/null 2>&1
# sealed NAME NS ITEM=VALUE...: a SealedSecret as JSON in $T/NAME.json
sealed() {
	_n=$1 _ns=$2; shift 2
	_args=""
	for kv in "$@"; do _args="$_args --from-literal $kv"; done
	"$SAASCTL" seal $_args --name "$_n" -n "$_ns" -o "$T/$_n.yaml" 2>/dev/null
	$PY -c 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))' "$T/$_n.yaml" > "$T/$_n.json"
}
tojson() { $PY -c 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))' "$1"; }
api() { curl -s -X "$1" --cacert "$T/pki/ca.crt" -H 'Authorization: Bearer tok-alice' ${3:+-H "Content-Type: $3"} ${4:+--data-binary "@$4"} "$KURL$2"; }
py() { $PY -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# until SECONDS CMD...: retry a check for up to SECONDS
until_ok() { _end=$(( $(date +%s) + $1 )); shift; while ! "$@" 2>/dev/null; do [ "$(date +%s)" -ge $_end ] && return 1; sleep 0.1; done; }
value() { api GET /api/v1/namespaces/$1/secrets/$2 | $PY -c 'import base64,json,sys; print(base64.b64decode(json.load(sys.stdin)["data"][sys.argv[1]]).decode())' "$3"; }
has_value() { [ "$(value "$1" "$2" "$3")" = "$4" ]; }

kube_start '{'"$kube_tokens"', "bookmark_every_ms": 200, "faults": {"drop_watch_every_ms": 700}}'
kube_config "$T/kc" '    token: tok-alice'
export KUBECONFIG="$T/kc"
REQ=$T/requests-main.jsonl
tojson "$T/inst/crd.yaml" > "$T/crd.json"
api POST /apis/apiextensions.k8s.io/v1/customresourcedefinitions application/json "$T/crd.json" > /dev/null
sealed first web DATABASE_URL=plain-db-1111 SECRET_KEY=plain-sk-2222
api POST /apis/saasctl.dev/v1/namespaces/web/sealedsecrets application/json "$T/first.json" > /dev/null

HP=$(free_port)
"$SAASCTL" secrets controller -k keys --health-addr 127.0.0.1:$HP > "$T/ctl.out" 2> "$T/ctl.err" &
CPID=$!
t_at_exit "kill $CPID"
wait_port "$HP" || not_ok "the controller listens"
until_ok 2 sh -c "curl -sf http://127.0.0.1:$HP/healthz | grep -q ok" && ok "/healthz answers 200 once the first list is done" || not_ok "/healthz answers 200" "$(cat "$T/ctl.err")"

until_ok 5 has_value web first DATABASE_URL plain-db-1111 && ok "a SealedSecret that existed at start is reconciled" || not_ok "a SealedSecret that existed at start is reconciled" "$(cat "$T/ctl.err")"
api GET /apis/saasctl.dev/v1/namespaces/web/sealedsecrets/first > "$T/first.now"
expect_eq "$(py '(d["status"]["conditions"][0]["type"], d["status"]["conditions"][0]["status"], d["status"]["observedGeneration"] == d["metadata"]["generation"])' < "$T/first.now")" "('Synced', 'True', True)" "its status says Synced=True for its generation"
uid=$(py 'd["metadata"]["uid"]' < "$T/first.now")
expect_eq "$(api GET /api/v1/namespaces/web/secrets/first | py 'd["metadata"]["ownerReferences"][0]["uid"]')" "$uid" "the Secret is owned by its SealedSecret"

# created after start, across watch drops
sealed second api TOKEN=plain-token-3333
api POST /apis/saasctl.dev/v1/namespaces/api/sealedsecrets application/json "$T/second.json" > /dev/null
until_ok 5 has_value api second TOKEN plain-token-3333 && ok "a SealedSecret created after start is reconciled" || not_ok "a SealedSecret created after start is reconciled" "$(cat "$T/ctl.err")"
sleep 1
# modified later: a new value for one item
"$SAASCTL" seal --from-literal TOKEN=plain-token-4444 --merge-into "$T/second.yaml" 2>/dev/null
tojson "$T/second.yaml" > "$T/second.json"
api PUT /apis/saasctl.dev/v1/namespaces/api/sealedsecrets/second application/json "$T/second.json" > /dev/null
until_ok 5 has_value api second TOKEN plain-token-4444 && ok "a modified SealedSecret is reconciled (the watch survived drops)" || not_ok "a modified SealedSecret is reconciled" "$(cat "$T/ctl.err")"

# 410: the fixture compacts; the controller relists and goes on
api POST /_fixture/compact > /dev/null
sealed third web KEY=plain-key-5555
api POST /apis/saasctl.dev/v1/namespaces/web/sealedsecrets application/json "$T/third.json" > /dev/null
until_ok 5 has_value web third KEY plain-key-5555 && ok "after a 410 the controller relists and goes on" || not_ok "after a 410 the controller relists and goes on" "$(cat "$T/ctl.err")"

# tampered: one byte of one item changed
$PY - "$T/first.json" <<'PY'
import base64, json, sys
d = json.load(open(sys.argv[1]))
b = bytearray(base64.b64decode(d["spec"]["encryptedData"]["DATABASE_URL"]))
b[-1] ^= 1
d["spec"]["encryptedData"]["DATABASE_URL"] = base64.b64encode(bytes(b)).decode()
d["spec"]["encryptedData"]["SECRET_KEY"] = d["spec"]["encryptedData"]["SECRET_KEY"]
json.dump(d, open(sys.argv[1], "w"))
PY
before=$(api GET /api/v1/namespaces/web/secrets/first | py 'd["metadata"]["resourceVersion"]')
api PUT /apis/saasctl.dev/v1/namespaces/web/sealedsecrets/first application/json "$T/first.json" > /dev/null
synced_false() { api GET /apis/saasctl.dev/v1/namespaces/web/sealedsecrets/first | py 'd["status"]["conditions"][0]["status"]' | grep -q False; }
until_ok 5 synced_false && ok "a tampered item sets Synced=False" || not_ok "a tampered item sets Synced=False" "$(cat "$T/ctl.err")"
api GET /apis/saasctl.dev/v1/namespaces/web/sealedsecrets/first > "$T/first.now"
expect_eq "$(py 'd["status"]["conditions"][0]["reason"]' < "$T/first.now")" CannotOpen "with a reason"
py 'd["status"]["conditions"][0]["message"]' < "$T/first.now" > "$T/msg"
grep -q "item .DATABASE_URL.*fails authentication" "$T/msg" && ok "the message names the item" || not_ok "the message names the item" "$(cat "$T/msg")"
expect_eq "$(api GET /api/v1/namespaces/web/secrets/first | py 'd["metadata"]["resourceVersion"]')" "$before" "the Secret is left as it was"
expect_eq "$(value web first DATABASE_URL)" plain-db-1111 "with its old value"
api GET /api/v1/namespaces/web/events > "$T/events.json"
expect_eq "$(py '[(e["type"], e["reason"], e["involvedObject"]["name"]) for e in d["items"]]' < "$T/events.json")" "[('Warning', 'CannotOpen', 'first')]" "one Warning Event on the SealedSecret"

curl -s http://127.0.0.1:$HP/metrics > "$T/metrics"
grep -Eq '^saasctl_secrets_reconciles_total [1-9]' "$T/metrics" && ok "/metrics counts reconciles" || not_ok "/metrics counts reconciles" "$(cat "$T/metrics")"
grep -Eq '^saasctl_secrets_failures_total [1-9]' "$T/metrics" && ok "/metrics counts failures" || not_ok "/metrics counts failures"
grep -Eq '^saasctl_secrets_watch_restarts_total [1-9]' "$T/metrics" && ok "/metrics counts watch restarts" || not_ok "/metrics counts watch restarts"
grep -Eq '^saasctl_secrets_last_success_timestamp_seconds [1-9][0-9]{9}' "$T/metrics" && ok "/metrics has the time of the last success" || not_ok "/metrics has the time of the last success"
grep -q '^# TYPE saasctl_secrets_reconciles_total counter$' "$T/metrics" && ok "in the Prometheus text format" || not_ok "in the Prometheus text format"

# deletion: the Secret goes through its owner reference
api DELETE /apis/saasctl.dev/v1/namespaces/api/sealedsecrets/second > /dev/null
expect_eq "$(api GET /api/v1/namespaces/api/secrets/second | py 'd["code"]')" 404 "deleting a SealedSecret deletes its Secret"
grep '"method": "DELETE"' "$REQ" | grep -q '/secrets/' && not_ok "the controller deletes no Secret by hand" || ok "the controller deletes no Secret by hand"

# SIGTERM
t0=$($PY -c 'import time; print(time.time())')
kill -TERM $CPID
wait $CPID
crc=$?
t1=$($PY -c 'import time; print(time.time())')
expect_eq "$crc" 0 "SIGTERM ends the controller cleanly"
$PY -c "import sys; sys.exit(0 if $t1 - $t0 < 1 else 1)" && ok "within a second" || not_ok "within a second" "$t0 $t1"

# Nothing leaks
grep -q 'plain-' "$T/ctl.out" "$T/ctl.err" && not_ok "no plaintext in the controller's output" "$(grep plain- "$T/ctl.err")" || ok "no plaintext in the controller's output"
grep -q 'plain-' "$T/events.json" && not_ok "no plaintext in the Events" || ok "no plaintext in the Events"
$PY - "$REQ" <<'PY' && ok "no plaintext in the requests outside Secret bodies" || not_ok "no plaintext in the requests outside Secret bodies"
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "/secrets/" in r["path"]:
        r["body"] = ""
    assert "plain-" not in json.dumps(r), r
PY

saas secrets controller
expect_rc 2 "the controller without a key is a usage error"
