#!/bin/sh
# secrets apply: every SealedSecret of the monorepo (or of the cluster)
# opened with the cluster key and written with server-side apply; an
# up-to-date Secret is not written; a forbidden namespace does not stop
# the others; the plaintext never leaves in a log.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/kube-apiserver/lib.sh"
need openssl

R=$T/repo
mkdir -p "$R/keys" "$R/manifests/apps/web" "$R/manifests/apps/api" "$R/manifests/apps/locked"
cd "$R"
for k in cluster recovery other; do "$SAASCTL" keygen -q --name $k --out keys > /dev/null; done
printf 'project: acme\nsecrets: {recipients: [keys/cluster.pub, keys/recovery.pub]}\n' > saasctl.yaml
cat > "$T/web.yaml" <<'YAML'
apiVersion: v1
kind: Secret
metadata:
  name: app
  namespace: web
  labels: {app.kubernetes.io/name: web, tier: front}
  annotations: {example.com/owner: ops}
type: kubernetes.io/basic-auth
stringData:
  username: plain-user-5cb1
  password: plain-pass-93ae
YAML
W=manifests/apps/web/app.sealed.yaml A=manifests/apps/api/app.sealed.yaml L=manifests/apps/locked/app.sealed.yaml
"$SAASCTL" seal -f "$T/web.yaml" -o $W 2>/dev/null
"$SAASCTL" seal --from-literal DATABASE_URL=plain-db-77d0 --from-literal REDIS_URL=plain-redis-1f2a --name app -n api -o $A 2>/dev/null
"$SAASCTL" seal --from-literal TOKEN=plain-token-a4c3 --name app -n locked -o $L 2>/dev/null

kube_start '{'"$kube_tokens"', "deny": [{"namespace": "locked", "resource": "secrets"}]}'
kube_config "$T/kc" '    token: tok-alice'
export KUBECONFIG="$T/kc"
REQ=$T/requests-main.jsonl
# secret NS NAME: the Secret as the API serves it, pretty JSON
secret() { curl -s --cacert "$T/pki/ca.crt" -H 'Authorization: Bearer tok-alice' "$KURL/api/v1/namespaces/$1/secrets/$2"; }
patches() { grep -c '"method": "PATCH"' "$REQ"; }

saas secrets apply --dry-run -k keys/cluster.key
expect_rc 1 "a dry run with a forbidden namespace exits 1"
expect_out '^would create web/app: password, username$' "--dry-run lists the items of a Secret to create"
expect_out '^would create api/app: DATABASE_URL, REDIS_URL$' "--dry-run lists every Secret"
expect_err "namespace 'locked' is forbidden" "the forbidden namespace is reported"
expect_eq "$(patches)" 0 "--dry-run writes nothing"
grep -q 'plain-' "$T/out" "$T/err" && not_ok "--dry-run prints no values" || ok "--dry-run prints no values"

saas secrets apply -k keys/cluster.key
expect_rc 1 "apply exits 1 when a namespace is forbidden"
expect_out '^created web/app: password, username$' "apply creates the Secret of web"
expect_out '^created api/app: DATABASE_URL, REDIS_URL$' "and the one of api"
expect_err "saasctl: secrets apply: namespace 'locked' is forbidden, skipping its Secrets: 403 Forbidden: secrets \"app\" is forbidden" "the 403 is reported with the API's message"
expect_err '3 SealedSecrets: 2 created, 0 updated, 0 unchanged, 1 failed' "a summary counts what happened"
expect_eq "$(patches)" 2 "one PATCH per Secret written"
grep '"method": "PATCH"' "$REQ" | grep -q '"content_type": "application/apply-patch+yaml"' && ok "the write is a server-side apply" || not_ok "the write is a server-side apply"
grep '"method": "PATCH"' "$REQ" | grep -q '"fieldManager": "saasctl"' && ok "with fieldManager saasctl" || not_ok "with fieldManager saasctl"

secret web app > "$T/web.json"
$PY - "$T/web.json" <<'PY' && ok "the Secret has the data, type, labels and annotations" || not_ok "the Secret has the data, type, labels and annotations" "$(cat "$T/web.json")"
import base64, json, sys
s = json.load(open(sys.argv[1]))
m = s["metadata"]
assert s["type"] == "kubernetes.io/basic-auth", s["type"]
assert {k: base64.b64decode(v).decode() for k, v in s["data"].items()} == \
    {"username": "plain-user-5cb1", "password": "plain-pass-93ae"}, s["data"]
assert m["labels"] == {"app.kubernetes.io/name": "web", "tier": "front"}, m["labels"]
assert m["annotations"]["example.com/owner"] == "ops"
h = json.loads(m["annotations"]["saasctl.dev/sealed-hash"])
assert sorted(h["items"]) == ["password", "username"]
assert not any("plain" in v for v in h["items"].values())
assert [f["manager"] for f in m["managedFields"]] == ["saasctl"]
assert "ownerReferences" not in m
PY

saas secrets apply -k keys/cluster.key -n web
expect_rc 0 "a second run of one namespace succeeds"
expect_out '^unchanged web/app$' "an up-to-date Secret is reported unchanged"
expect_eq "$(patches)" 2 "a second run makes no writes"

saas secrets apply -k keys/cluster.key -n api -n web -q
expect_rc 0 "-n limits the run to one namespace"
expect_eq "$(cat "$T/out")" "" "-q prints nothing when nothing changed"

# A changed item updates only that Secret.
"$SAASCTL" seal --from-literal DATABASE_URL=plain-db-new-0b5e --merge-into $A 2>/dev/null
before=$(patches)
saas secrets apply -k keys/cluster.key
expect_out '^updated api/app: DATABASE_URL \(changed\)$' "a changed item is named"
expect_out '^unchanged web/app$' "the other Secret is left alone"
expect_eq "$(( $(patches) - before ))" 1 "a changed item makes one write"
grep '"method": "PATCH"' "$REQ" | tail -1 | grep -q '/namespaces/api/secrets/app' && ok "the write goes to the changed Secret" || not_ok "the write goes to the changed Secret"
[ "$(secret api app | $PY -c 'import base64,json,sys; print(base64.b64decode(json.load(sys.stdin)["data"]["DATABASE_URL"]).decode())')" = plain-db-new-0b5e ] && ok "the new value is in the cluster" || not_ok "the new value is in the cluster"

saas --json secrets apply -k keys/cluster.key --dry-run
expect_rc 1 "--json: the forbidden namespace still fails the run"
$PY - "$T/out" <<'PY' && ok "--json prints one document with counts and one entry per Secret" || not_ok "--json prints one document with counts and one entry per Secret" "$(cat "$T/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["dry_run"] is True and d["unchanged"] == 2 and d["failed"] == 1, d
by = {(x["namespace"], x["action"]) for x in d["secrets"]}
assert by == {("web", "unchanged"), ("api", "unchanged"), ("locked", "failed")}, by
PY

# A key that is no recipient is refused by key ID, and the rest goes on.
saas secrets apply -k keys/other.key -n web
expect_rc 1 "a key that is not a recipient fails"
expect_err "cannot open 'web/app' .*: no key for recipients" "the key IDs are named"

# -v logs requests, never the values.
saas -v secrets apply -k keys/cluster.key -n web --dry-run
grep -q 'plain-' "$T/out" "$T/err" && not_ok "-v logs no plaintext" || ok "-v logs no plaintext"
# The request log, except Secret bodies, holds no plaintext.
$PY - "$REQ" <<'PY' && ok "no plaintext in the requests outside Secret bodies" || not_ok "no plaintext in the requests outside Secret bodies"
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "/secrets/" in r["path"]:
        r["body"] = ""
    assert "plain-" not in json.dumps(r), r
PY

saas secrets apply
expect_rc 2 "apply without a key is a usage error"
saas secrets apply -k keys/cluster.key --from-repo --from-cluster
expect_rc 2 "--from-repo and --from-cluster are exclusive"

# --from-cluster: the cluster's SealedSecret objects, each Secret owned by
# its SealedSecret, so deleting one deletes the other.
kube_start '{'"$kube_tokens"'}' cl
KUBECONFIG=$T/kc-cl; export KUBECONFIG
kube_config "$KUBECONFIG" '    token: tok-alice'
"$SAASCTL" secrets install --out "$T/inst" > /dev/null 2>&1
api() { curl -s -X "$1" --cacert "$T/pki/ca.crt" -H 'Authorization: Bearer tok-alice' ${3:+-H "Content-Type: $3"} ${4:+--data-binary "@$4"} "$KURL$2"; }
tojson() { $PY -c 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))' "$1" > "$2"; }
tojson "$T/inst/crd.yaml" "$T/crd.json"
api POST /apis/apiextensions.k8s.io/v1/customresourcedefinitions application/json "$T/crd.json" > /dev/null
for ns in web api; do
	tojson manifests/apps/$ns/app.sealed.yaml "$T/$ns.json"
	api POST /apis/saasctl.dev/v1/namespaces/$ns/sealedsecrets application/json "$T/$ns.json" > /dev/null
done
saas secrets apply --from-cluster -k keys/cluster.key
expect_rc 0 "--from-cluster applies the cluster's SealedSecrets"
expect_out '^created web/app: password, username$' "--from-cluster creates the Secrets"
uid=$(api GET /apis/saasctl.dev/v1/namespaces/web/sealedsecrets/app | $PY -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["uid"])')
api GET /api/v1/namespaces/web/secrets/app | $PY -c '
import json, sys
r = json.load(sys.stdin)["metadata"]["ownerReferences"]
assert r == [{"apiVersion": "saasctl.dev/v1", "kind": "SealedSecret", "name": "app",
              "uid": sys.argv[1], "controller": True, "blockOwnerDeletion": True}], r' "$uid" \
	&& ok "the Secret's owner is its SealedSecret" || not_ok "the Secret's owner is its SealedSecret"
saas secrets apply --from-cluster -k keys/cluster.key -n web
expect_out '^unchanged web/app$' "a second --from-cluster run writes nothing"
api DELETE /apis/saasctl.dev/v1/namespaces/web/sealedsecrets/app > /dev/null
expect_eq "$(api GET /api/v1/namespaces/web/secrets/app | $PY -c 'import json,sys; print(json.load(sys.stdin)["code"])')" 404 "deleting the SealedSecret deletes its Secret"
