#!/bin/sh
# The kube-apiserver fixture's object store (objects.py) speaks the real
# API: kubectl registers a CRD, lists its objects across namespaces,
# reads a Secret as YAML and applies server-side against it; field
# managers conflict, owners cascade, status is a subresource, watches
# resume and end with 410 once compacted, and RBAC denials are per
# namespace.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/kube-apiserver/lib.sh"
need kubectl openssl curl

kube_start '{'"$kube_tokens"', "deny": [{"namespace": "locked", "verbs": ["get", "list"], "resource": "secrets"}]}'
kube_config "$T/kc" '    token: tok-alice'
export KUBECONFIG="$T/kc"
REQ=$T/requests-main.jsonl
"$SAASCTL" secrets install --out "$T/inst" > /dev/null 2>&1
api() { # METHOD PATH [CONTENT-TYPE BODY]
	curl -s -X "$1" --cacert "$T/pki/ca.crt" -H 'Authorization: Bearer tok-alice' \
		${3:+-H "Content-Type: $3"} ${4:+--data-binary "$4"} "$KURL$2"
}
field() { $PY -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

run kubectl apply --server-side --validate=false -f "$T/inst/crd.yaml"
expect_rc 0 "kubectl apply --server-side creates the CRD"
grep '"method": "PATCH"' "$REQ" | grep -q '"content_type": "application/apply-patch+yaml"' && ok "kubectl sends a server-side apply" || not_ok "kubectl sends a server-side apply"
run kubectl api-resources --api-group saasctl.dev -o name
expect_out '^sealedsecrets.saasctl.dev$' "the CRD's resource is discovered"

ss() { # NS NAME
	printf '{"apiVersion": "saasctl.dev/v1", "kind": "SealedSecret", "metadata": {"name": "%s", "namespace": "%s"}, "spec": {"encryptedData": {"A": "x"}}}' "$2" "$1"
}
api POST /apis/saasctl.dev/v1/namespaces/web/sealedsecrets application/json "$(ss web app)" > "$T/ss.json"
expect_eq "$(field 'd["metadata"]["generation"]' < "$T/ss.json")" 1 "a created custom object has a generation"
api POST /apis/saasctl.dev/v1/namespaces/api/sealedsecrets application/json "$(ss api app)" > /dev/null
run kubectl get sealedsecrets -A
expect_rc 0 "kubectl get sealedsecrets -A works"
expect_out '^NAMESPACE +NAME +SYNCED +REASON +AGE' "with the CRD's printer columns"
expect_out '^api +app ' "it lists every namespace"
expect_out '^web +app ' "in order"

p1=$(api GET '/apis/saasctl.dev/v1/sealedsecrets?limit=1')
expect_eq "$(echo "$p1" | field '([i["metadata"]["namespace"] for i in d["items"]], d["metadata"]["remainingItemCount"])')" "(['api'], 1)" "a list pages with limit"
cont=$(echo "$p1" | field 'd["metadata"]["continue"]')
expect_eq "$(api GET "/apis/saasctl.dev/v1/sealedsecrets?limit=1&continue=$cont" | field '([i["metadata"]["namespace"] for i in d["items"]], d["metadata"].get("continue"))')" "(['web'], None)" "and goes on with the continue token"

# the status subresource
api PUT /apis/saasctl.dev/v1/namespaces/web/sealedsecrets/app application/json \
	'{"apiVersion": "saasctl.dev/v1", "kind": "SealedSecret", "metadata": {"name": "app", "namespace": "web"}, "spec": {"encryptedData": {"A": "y"}}, "status": {"conditions": [{"type": "Synced", "status": "True"}]}}' > "$T/put.json"
expect_eq "$(field 'd.get("status")' < "$T/put.json")" None "an update of the object ignores status"
expect_eq "$(field 'd["metadata"]["generation"]' < "$T/put.json")" 2 "a spec change bumps the generation"
api PUT /apis/saasctl.dev/v1/namespaces/web/sealedsecrets/app/status application/json \
	'{"apiVersion": "saasctl.dev/v1", "kind": "SealedSecret", "metadata": {"name": "app", "namespace": "web"}, "spec": {"encryptedData": {}}, "status": {"conditions": [{"type": "Synced", "status": "False", "reason": "Tampered"}]}}' > "$T/st.json"
expect_eq "$(field 'd["status"]["conditions"][0]["reason"], d["spec"]["encryptedData"]["A"], d["metadata"]["generation"]' < "$T/st.json")" "('Tampered', 'y', 2)" "/status changes only the status"
run kubectl get sealedsecrets -n web
expect_out '^app +False +Tampered ' "kubectl shows the status columns"

# Secrets: server-side apply with field managers, as the real server does
sec() { printf '{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "web"%s}, "data": {%s}}' "$1" "$2"; }
api PATCH '/api/v1/namespaces/web/secrets/db?fieldManager=saasctl' application/apply-patch+yaml "$(sec ', "labels": {"a": "1"}' '"X": "eA==", "Y": "eQ=="')" > "$T/a1.json"
expect_eq "$(field 'd["type"], [m["manager"] for m in d["metadata"]["managedFields"]]' < "$T/a1.json")" "('Opaque', ['saasctl'])" "apply creates a Secret, defaulted and managed"
api PATCH '/api/v1/namespaces/web/secrets/db?fieldManager=other' application/apply-patch+yaml "$(sec '' '"X": "eg=="')" > "$T/c.json"
expect_eq "$(field 'd["code"], d["reason"]' < "$T/c.json")" "(409, 'Conflict')" "another manager changing an owned field conflicts"
grep -q 'conflict with \\"saasctl\\": .data.X' "$T/c.json" && ok "the conflict names the manager and the field" || not_ok "the conflict names the manager and the field" "$(cat "$T/c.json")"
api PATCH '/api/v1/namespaces/web/secrets/db?fieldManager=other' application/apply-patch+yaml "$(sec '' '"X": "eA==", "Z": "eg=="')" > "$T/s.json"
expect_eq "$(field 'sorted(d["data"])' < "$T/s.json")" "['X', 'Y', 'Z']" "the same value is shared without conflict"
api PATCH '/api/v1/namespaces/web/secrets/db?fieldManager=saasctl' application/apply-patch+yaml "$(sec '' '"X": "eA=="')" > "$T/r.json"
expect_eq "$(field 'sorted(d["data"]), d["metadata"].get("labels")' < "$T/r.json")" "(['X', 'Z'], None)" "fields a manager stops applying go, shared ones stay"
api PATCH '/api/v1/namespaces/web/secrets/db?fieldManager=other&force=true' application/apply-patch+yaml "$(sec '' '"X": "dw==", "Z": "eg=="')" > "$T/f.json"
expect_eq "$(field 'd["data"]["X"]' < "$T/f.json")" "dw==" "force takes the field over"
api PATCH /api/v1/namespaces/web/secrets/db application/merge-patch+json '{"data": {"Z": null}}' > "$T/m.json"
expect_eq "$(field 'sorted(d["data"])' < "$T/m.json")" "['X']" "a merge patch removes a key with null"

run kubectl get secret db -n web -o yaml
expect_rc 0 "kubectl get secret -o yaml works"
expect_out '^kind: Secret$' "it prints the Secret"
expect_out '^  X: dw==$' "with its data"

# owner references: the garbage collector's cascade
uid=$(api GET /apis/saasctl.dev/v1/namespaces/api/sealedsecrets/app | field 'd["metadata"]["uid"]')
api PATCH '/api/v1/namespaces/api/secrets/app?fieldManager=saasctl' application/apply-patch+yaml \
	'{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "app", "namespace": "api", "ownerReferences": [{"apiVersion": "saasctl.dev/v1", "kind": "SealedSecret", "name": "app", "uid": "'"$uid"'", "controller": true}]}, "data": {"A": "eA=="}}' > /dev/null
run kubectl delete sealedsecret app -n api
expect_rc 0 "kubectl deletes a custom object"
expect_eq "$(api GET /api/v1/namespaces/api/secrets/app | field 'd["code"]')" 404 "its dependent Secret is deleted too"

# watch: resume from a resourceVersion, 410 once compacted
rv=$(api GET /apis/saasctl.dev/v1/sealedsecrets | field 'd["metadata"]["resourceVersion"]')
api POST /apis/saasctl.dev/v1/namespaces/web/sealedsecrets application/json "$(ss web later)" > /dev/null
curl -s -m 2 --cacert "$T/pki/ca.crt" -H 'Authorization: Bearer tok-alice' \
	"$KURL/apis/saasctl.dev/v1/sealedsecrets?watch=1&resourceVersion=$rv&allowWatchBookmarks=true" > "$T/w.jsonl"
grep -q '"type": "ADDED".*"name": "later"' "$T/w.jsonl" && ok "a watch from a resourceVersion gets what came after" || not_ok "a watch from a resourceVersion gets what came after" "$(head -c 500 "$T/w.jsonl")"
grep -q '"type": "BOOKMARK"' "$T/w.jsonl" && ok "with bookmarks" || not_ok "with bookmarks"
api POST /_fixture/compact > /dev/null
curl -s -m 2 --cacert "$T/pki/ca.crt" -H 'Authorization: Bearer tok-alice' \
	"$KURL/apis/saasctl.dev/v1/sealedsecrets?watch=1&resourceVersion=$rv" > "$T/w2.jsonl"
grep -q '"code": 410' "$T/w2.jsonl" && ok "a watch from a compacted version gets 410 Gone" || not_ok "a watch from a compacted version gets 410 Gone" "$(cat "$T/w2.jsonl")"

# RBAC denials by namespace and verb
run kubectl get secrets -n locked
expect_rc 1 "a denied verb fails in kubectl"
expect_err 'secrets is forbidden: User "alice" cannot list resource "secrets" in API group "" in the namespace "locked"' "with the real message"
run kubectl get secrets -n web -o name
expect_out '^secret/db$' "other namespaces are allowed"
