#!/bin/sh
# secrets verify: every SealedSecret of the monorepo checked without a key
# (structure, key IDs, recipients against saasctl.yaml, scope), and with -k
# that every item opens. Text and --json; exit 1 on any problem.
. "$(dirname "$0")/../lib.sh"
R=$T/repo
mkdir -p "$R/keys" "$R/manifests/apps/web" "$R/manifests/apps/api" "$R/manifests/cluster/dns"
cd "$R"
for k in cluster recovery; do "$SAASCTL" keygen -q --name $k --out keys > /dev/null; done
"$SAASCTL" keygen -q --name stranger --out "$T" > /dev/null
printf 'project: acme\nsecrets: {recipients: [keys/cluster.pub, keys/recovery.pub]}\n' > saasctl.yaml
recovery=$(cut -d' ' -f2 keys/recovery.pub) stranger=$(cut -d' ' -f2 "$T/stranger.pub")
"$SAASCTL" seal --from-literal A=1 --from-literal B=2 --name app -n web -o manifests/apps/web/app.sealed.yaml 2>/dev/null
"$SAASCTL" seal --from-literal T=token --name dns -n dns -o manifests/cluster/dns/token.yaml 2>/dev/null
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {A: "1"}\n' > manifests/apps/web/config.yaml

saas secrets verify
expect_rc 0 "a clean monorepo verifies"
expect_out '^2 SealedSecrets checked: 0 problems$' "every SealedSecret under manifests/ is found"
saas secrets verify -k keys/recovery.key
expect_rc 0 "with -k every item opens"
expect_out "checked with key $recovery: 0 problems" "the key is named"

# A SealedSecret sealed without the recovery key (SAASCTL_SECRETS_RECIPIENTS
# overrides saasctl.yaml), one with an extra recipient, one broken.
SAASCTL_SECRETS_RECIPIENTS=keys/cluster.pub "$SAASCTL" seal --from-literal K=v --name norecovery -n api -o manifests/apps/api/a.sealed.yaml 2>/dev/null
"$SAASCTL" seal --from-literal K=v --name extra -n api -r "$T/stranger.pub" -o manifests/apps/api/b.sealed.yaml 2>/dev/null
sed 's/^  scope: strict$/  scope: galaxy/' manifests/apps/web/app.sealed.yaml > manifests/apps/api/c.sealed.yaml
$PY - manifests/apps/web/app.sealed.yaml manifests/apps/api/d.sealed.yaml <<'PYEOF'
import base64, sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
d["metadata"]["name"] = "tampered"
e = d["spec"]["encryptedData"]
b = base64.b64decode(e["A"]); e["A"] = base64.b64encode(b[:90]).decode()
b = bytearray(base64.b64decode(e["B"])); b[-3] ^= 1; e["B"] = base64.b64encode(bytes(b)).decode()
yaml.safe_dump(d, open(sys.argv[2], "w"))
PYEOF

saas secrets verify
expect_rc 1 "problems make verify exit 1"
expect_out "^manifests/apps/api/a.sealed.yaml:1: 'api/norecovery'$" "a problem names file, line and secret"
expect_out "recipients lack 'keys/recovery.pub' \\(key ID $recovery\\)" "a missing saasctl.yaml recipient is found (the lint rule)"
expect_out "recipient key ID $stranger is not in saasctl.yaml secrets.recipients" "a recipient unknown to saasctl.yaml is found"
expect_out "^manifests/apps/api/c.sealed.yaml:1:" "a bad scope is found"
expect_out "unknown scope 'galaxy'" "the bad scope is named"
expect_out "^manifests/apps/api/d.sealed.yaml:[0-9]+: 'web/tampered' item 'A'$" "a truncated item is found without a key"
expect_out "truncated: 90 bytes" "the truncation is described"
expect_no_out "item 'B'" "without a key a flipped value byte cannot be seen"
expect_out "^6 SealedSecrets checked: [0-9]+ problems$" "the summary counts"

saas secrets verify -k keys/cluster.key manifests/apps/api/d.sealed.yaml
expect_rc 1 "verify -k FILE"
expect_out "'web/tampered' item 'B'" "with -k a flipped value byte is found"
expect_out "cannot open: fails authentication" "the failure is described"

saas --json secrets verify
expect_rc 1 "--json exits 1 on problems"
$PY - "$T/out" <<'PYEOF' && ok "--json is one document with secrets and problems" || not_ok "--json is one document with secrets and problems" "$(head -c 600 "$T/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["checked"] == 6 and d["problem_count"] == len(d["problems"]) > 0
good = [s for s in d["secrets"] if s["name"] == "app"][0]
assert good["ok"] and good["scope"] == "strict" and len(good["recipients"]) == 2 and good["items"] == 2
assert any(p["file"] == "manifests/apps/api/d.sealed.yaml" and p.get("item") == "A" for p in d["problems"])
PYEOF

saas secrets verify manifests/apps/web/app.sealed.yaml
expect_rc 0 "verify FILE checks only that file"
saas secrets verify nope.yaml
expect_rc 1 "verify of a missing file fails"
expect_out "nope.yaml" "the missing file is named"
cd "$T"
saas secrets verify
expect_rc 1 "verify outside a monorepo fails"
expect_err "not inside an infra monorepo" "outside a monorepo is explained"
