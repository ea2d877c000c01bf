#!/bin/sh
# unseal fails closed: a value moved to another name, namespace or item key,
# a flipped byte, a truncated item, a changed scope, an unknown key ID.
# Each prints nothing on stdout, exits 1 and says which item and why.
. "$(dirname "$0")/../lib.sh"
cd "$T"
for k in a b other; do "$SAASCTL" keygen -q --name $k > /dev/null; done
printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: app, namespace: web}\nstringData: {DB_PASSWORD: s3cr3t-db, API_KEY: s3cr3t-api}\n' |
	"$SAASCTL" seal -r a.pub -r b.pub > good.yaml 2>/dev/null

saas unseal good.yaml -k a.key -o env
expect_rc 0 "the untouched file opens"

# edit IN OUT PYTHON: rewrite the YAML with a Python expression on d
# (the parsed document); helpers flip(item, offset) and cut(item, n).
edit() {
	$PY - "$1" "$2" "$3" <<'PYEOF'
import base64, sys, yaml
src, dst, code = sys.argv[1:]
d = yaml.safe_load(open(src))
data = d["spec"]["encryptedData"]
def flip(key, off):
    b = bytearray(base64.b64decode(data[key])); b[off] ^= 0x01
    data[key] = base64.b64encode(bytes(b)).decode()
def cut(key, n):
    data[key] = base64.b64encode(base64.b64decode(data[key])[:n]).decode()
exec(code)
yaml.safe_dump(d, open(dst, "w"), sort_keys=True)
PYEOF
}
# fails NAME FILE REGEX: unseal fails closed with this error.
fails() {
	saas unseal "$2" -k a.key
	expect_rc 1 "$1: exit 1"
	expect_eq "$(wc -c < "$T/out")" 0 "$1: nothing on stdout"
	expect_err "$3" "$1: the error says why"
	expect_no_err 's3cr3t' "$1: no value in the error"
}

edit good.yaml moved-key.yaml 'data["API_KEY"], data["DB_PASSWORD"] = data["DB_PASSWORD"], data["API_KEY"]'
fails "a value moved to another item key" moved-key.yaml "cannot open 'web/app' item 'API_KEY': fails authentication: tampered with, or moved from another name, namespace, item key or scope"
edit good.yaml moved-name.yaml 'd["metadata"]["name"] = "app2"'
fails "a value moved to another name" moved-name.yaml "cannot open 'web/app2' item '[A-Z_]+': fails authentication"
edit good.yaml moved-ns.yaml 'd["metadata"]["namespace"] = "prod"'
fails "a value moved to another namespace" moved-ns.yaml "cannot open 'prod/app' item '[A-Z_]+': fails authentication"
edit good.yaml scope.yaml 'd["spec"]["scope"] = "namespace"'
fails "a changed scope" scope.yaml "fails authentication"
edit good.yaml flip-value.yaml 'flip("API_KEY", len(base64.b64decode(data["API_KEY"])) - 20)'
fails "a flipped byte in the value" flip-value.yaml "item 'API_KEY': fails authentication"
edit good.yaml flip-tag.yaml 'flip("API_KEY", len(base64.b64decode(data["API_KEY"])) - 1)'
fails "a flipped byte in the tag" flip-tag.yaml "item 'API_KEY': fails authentication"
edit good.yaml flip-epk.yaml 'flip("API_KEY", 5)'
fails "a flipped byte in the ephemeral key" flip-epk.yaml "item 'API_KEY': fails authentication"
edit good.yaml flip-nonce.yaml 'flip("API_KEY", 40)'
fails "a flipped byte in the nonce" flip-nonce.yaml "item 'API_KEY': fails authentication"
edit good.yaml flip-wrap.yaml 'flip("API_KEY", 58 + 8 + 3); flip("API_KEY", 58 + 56 + 8 + 3)'
fails "a flipped byte in the wraps" flip-wrap.yaml "item 'API_KEY': fails authentication"
edit good.yaml version.yaml 'flip("API_KEY", 0)'
fails "another version byte" version.yaml "item 'API_KEY': unsupported format version 0"
edit good.yaml trunc.yaml 'cut("API_KEY", 100)'
fails "a truncated item" trunc.yaml "item 'API_KEY': truncated: 100 bytes, want at least 186"
edit good.yaml trunc2.yaml 'cut("API_KEY", 30)'
fails "a very short item" trunc2.yaml "item 'API_KEY': truncated: 30 bytes, shorter than the 58-byte header"
edit good.yaml notb64.yaml 'data["API_KEY"] = "AQ==="'
fails "an item that is not base64" notb64.yaml "item 'API_KEY': not valid base64|not base64"

# The wrong key: the error names the key's ID and the IDs present; no
# trial decryption happens, and nothing is printed.
other=$(cut -d' ' -f2 other.pub) a=$(cut -d' ' -f2 a.pub) b=$(cut -d' ' -f2 b.pub)
saas unseal good.yaml -k other.key
expect_rc 1 "an unknown key fails"
expect_err "not sealed to key ID $other; it is sealed to ($a, $b|$b, $a)" "an unknown key names its ID and the IDs present"
expect_eq "$(wc -c < "$T/out")" 0 "an unknown key prints nothing"

# -v shows which key and items, never a value.
saas -v unseal good.yaml -k a.key -o env
expect_err "loaded secret key 'a.key' \\(key ID $a\\)" "-v names the key ID"
expect_err "opened 'web/app' item 'API_KEY'" "-v names the items"
expect_no_err 's3cr3t' "-v output holds no value"

# Other files.
saas unseal missing.yaml -k a.key
expect_rc 1 "a missing file fails"
expect_err "cannot open 'missing.yaml'" "a missing file is named"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n' > cm.yaml
saas unseal cm.yaml -k a.key
expect_err "'cm.yaml' holds no SealedSecret" "a file without SealedSecret is named"
saas unseal good.yaml
expect_rc 2 "unseal without -k is a usage error"

# An empty encryptedData opens to an empty Secret in every format (the
# sanitizer build checks that nothing touches a missing buffer).
$PY - good.yaml empty.yaml <<'PYEOF'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1])); d["spec"]["encryptedData"] = {}
yaml.safe_dump(d, open(sys.argv[2], "w"))
PYEOF
saas unseal empty.yaml -k a.key -o env
expect_rc 0 "an empty encryptedData unseals as env"
expect_eq "$(wc -c < "$T/out")" 0 "with no env line"
expect_no_err "Sanitizer|runtime error" "and no sanitizer report"
saas unseal empty.yaml -k a.key -o yaml
expect_out "^data: \{\}$" "an empty encryptedData unseals as a Secret with no data"
expect_no_err "Sanitizer|runtime error" "the YAML output has no sanitizer report"
saas unseal empty.yaml -k a.key -o json
expect_out '"data": \{\}' "an empty encryptedData unseals as JSON with no data"
expect_no_err "Sanitizer|runtime error" "the JSON output has no sanitizer report"
