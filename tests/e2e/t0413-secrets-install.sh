#!/bin/sh
# secrets install writes the in-cluster manifests (init too, and lint
# passes on them); install-key loads a key through the API; and the key's
# life as man saasctl-secrets tells it: generation, loading, rotation,
# recovery, each step run here.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/kube-apiserver/lib.sh"
need openssl

saas secrets install --out "$T/inst"
expect_rc 0 "secrets install --out writes the manifests"
for f in crd namespace rbac deployment; do
	[ -f "$T/inst/$f.yaml" ] && ok "it writes $f.yaml" || not_ok "it writes $f.yaml"
done
$PY - "$T/inst" <<'PY' && ok "the manifests say what the controller needs, and no more" || not_ok "the manifests say what the controller needs, and no more"
import sys, yaml
d = sys.argv[1]
crd = yaml.safe_load(open(d + "/crd.yaml"))
v = crd["spec"]["versions"][0]
assert crd["spec"]["group"] == "saasctl.dev" and v["name"] == "v1"
assert "status" in v["subresources"]
assert "encryptedData" in v["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
docs = list(yaml.safe_load_all(open(d + "/rbac.yaml")))
rules = {(r["apiGroups"][0], r["resources"][0]): sorted(r["verbs"]) for r in docs[0]["rules"]}
assert rules == {("saasctl.dev", "sealedsecrets"): ["get", "list", "watch"],
                 ("saasctl.dev", "sealedsecrets/status"): ["update"],
                 ("", "secrets"): ["create", "get", "patch"],
                 ("", "events"): ["create"]}, rules
dep = yaml.safe_load(open(d + "/deployment.yaml"))
pod = dep["spec"]["template"]["spec"]
c = pod["containers"][0]
assert pod["securityContext"]["runAsNonRoot"] is True
assert c["securityContext"]["readOnlyRootFilesystem"] is True
assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
assert c["volumeMounts"][0]["readOnly"] is True
assert pod["volumes"][0]["secret"]["secretName"] == "saasctl-cluster-key"
kinds = [x["kind"] for x in yaml.safe_load_all(open(d + "/namespace.yaml"))]
assert kinds == ["Namespace", "ServiceAccount"], kinds
PY
echo '# mine' > "$T/inst/rbac.yaml"
saas secrets install --out "$T/inst"
expect_rc 0 "a second install succeeds"
expect_err "kept $T/inst/rbac.yaml" "and keeps a file that exists"
expect_eq "$(cat "$T/inst/rbac.yaml")" "# mine" "the kept file is untouched"

run "$SAASCTL" init "$T/repo"
expect_rc 0 "init succeeds"
cmp -s "$T/repo/manifests/cluster/saasctl-secrets/crd.yaml" "$T/inst/crd.yaml" && ok "init lays out the in-cluster manifests" || not_ok "init lays out the in-cluster manifests"
cd "$T/repo"
saas lint
expect_rc 0 "lint passes on what init wrote"
expect_err "0 errors, 0 warnings" "with no finding at all"
grep -q 'saasctl secrets install-key' DISASTER.md && ok "DISASTER.md tells how to load the key" || not_ok "DISASTER.md tells how to load the key"
grep -q 'Rotation' DISASTER.md && grep -q 'Recovery' DISASTER.md && ok "DISASTER.md has the key's life" || not_ok "DISASTER.md has the key's life"

# --- the key's life ---------------------------------------------------------
# Generation: a cluster key and an offline recovery key, both recipients.
"$SAASCTL" keygen -q --name cluster --out keys > /dev/null
printf 'pass phrase 1\n' > "$T/pp"; chmod 600 "$T/pp"
SAASCTL_PASSPHRASE_FILE=$T/pp "$SAASCTL" keygen -q --name recovery --out keys --passphrase > /dev/null
printf 'project: repo\nsecrets: {recipients: [keys/cluster.pub, keys/recovery.pub]}\n' > saasctl.yaml
mkdir -p manifests/apps/web
"$SAASCTL" seal --from-literal API_KEY=plain-key-e41 --name web -n web -o manifests/apps/web/secrets.sealed.yaml 2>/dev/null
saas secrets verify -k keys/cluster.key
expect_rc 0 "generation: the cluster key opens what is sealed"
SAASCTL_PASSPHRASE_FILE=$T/pp run "$SAASCTL" secrets verify -k keys/recovery.key
expect_rc 0 "generation: so does the offline recovery key"

# Loading: the key goes into the cluster through the API.
kube_start '{'"$kube_tokens"'}'
kube_config "$T/kc" '    token: tok-alice'
export KUBECONFIG="$T/kc"
REQ=$T/requests-main.jsonl
saas secrets install-key -k keys/cluster.key
expect_rc 0 "loading: install-key succeeds"
cid=$(cut -d' ' -f2 keys/cluster.pub)
expect_err "loaded key ID $cid into Secret 'saasctl-secrets/saasctl-cluster-key'" "it names the key ID and the Secret"
grep '"method": "PATCH"' "$REQ" | grep -q '"path": "/api/v1/namespaces/saasctl-secrets/secrets/saasctl-cluster-key"' && ok "the key goes in one server-side apply" || not_ok "the key goes in one server-side apply"
# what the controller mounts: one file per item
keydir() {
	rm -rf "$1"; mkdir -p "$1"
	curl -s --cacert "$T/pki/ca.crt" -H 'Authorization: Bearer tok-alice' \
		"$KURL/api/v1/namespaces/saasctl-secrets/secrets/saasctl-cluster-key" |
	$PY -c '
import base64, json, os, sys
d = sys.argv[1]
for k, v in json.load(sys.stdin)["data"].items():
    fd = os.open(os.path.join(d, k), os.O_WRONLY | os.O_CREAT, 0o400)
    os.write(fd, base64.b64decode(v)); os.close(fd)' "$1"
}
keydir "$T/mounted"
expect_eq "$(ls "$T/mounted")" "$cid.key" "the Secret holds the key as KEYID.key"
saas secrets apply -k "$T/mounted"
expect_rc 0 "loading: apply opens everything with the loaded key (a folder of keys)"
expect_out '^created web/web: API_KEY$' "and writes the Secret"

# Rotation: a new key next to the old one, rekey, verify, retire.
"$SAASCTL" keygen -q --name cluster-2 --out keys > /dev/null
saas secrets install-key -k keys/cluster-2.key
expect_rc 0 "rotation: the new key is loaded"
keydir "$T/mounted"
expect_eq "$(ls "$T/mounted" | wc -l)" 2 "rotation: loading a second key keeps the first"
printf 'project: repo\nsecrets: {recipients: [keys/cluster-2.pub, keys/recovery.pub]}\n' > saasctl.yaml
saas secrets verify
expect_rc 1 "rotation: verify reports SealedSecrets still sealed to the old key"
SAASCTL_PASSPHRASE_FILE=$T/pp run "$SAASCTL" secrets rekey manifests/apps/web/secrets.sealed.yaml -k keys/recovery.key --add-recipient keys/cluster-2.pub --remove-recipient keys/cluster.pub
expect_rc 0 "rotation: rekey re-wraps for the new key"
saas secrets verify -k keys/cluster-2.key
expect_rc 0 "rotation: verify reports nothing uses the old key"
saas secrets apply -k "$T/mounted"
expect_rc 0 "rotation: apply with both keys picks the new one by key ID"
saas secrets apply -k keys/cluster.key
expect_rc 1 "rotation: the retired key opens nothing any more"

# Recovery: the offline key opens everything.
SAASCTL_PASSPHRASE_FILE=$T/pp run "$SAASCTL" unseal manifests/apps/web/secrets.sealed.yaml -k keys/recovery.key -o env
expect_eq "$(cat "$T/out")" "API_KEY=plain-key-e41" "recovery: the offline key opens the SealedSecret"

saas secrets install-key
expect_rc 2 "install-key without a key is a usage error"
