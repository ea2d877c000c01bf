#!/bin/sh
# saasctl seal / unseal round trips: 1 and 3 recipients, the three scopes,
# binary, empty, 1 MiB and UTF-8 items, every input form, every output form.
. "$(dirname "$0")/../lib.sh"
R=$T/repo
mkdir -p "$R/keys" "$R/manifests/apps/web"
cd "$R"
for k in cluster recovery third; do "$SAASCTL" keygen -q --name $k --out keys > /dev/null; done
cat > saasctl.yaml <<'YEOF'
project: acme
secrets: {recipients: [keys/cluster.pub, keys/recovery.pub]}
YEOF

# same_values SEALED KEY DIR: unseal as JSON with KEY; every file of DIR
# must come back byte for byte under its name.
same_values() {
	"$SAASCTL" unseal "$1" -k "$2" -o json > "$T/json" 2> "$T/err" || { echo "unseal failed: $(cat "$T/err")"; return 1; }
	$PY - "$T/json" "$3" <<'PYEOF'
import base64, json, os, sys
doc = json.load(open(sys.argv[1]))
want = {n: open(os.path.join(sys.argv[2], n), "rb").read() for n in os.listdir(sys.argv[2])}
got = {k: base64.b64decode(v) for k, v in doc["data"].items()}
if got != want:
    print("differ:", sorted(got), sorted(want)); sys.exit(1)
PYEOF
}

mkdir -p "$T/vals"
printf 'hunter2' > "$T/vals/DB_PASSWORD"
: > "$T/vals/EMPTY"
head -c 4096 /dev/urandom > "$T/vals/BINARY"
printf 'line one\nline two\n' > "$T/vals/MULTILINE"
printf 'caf\303\251 \342\230\225' > "$T/vals/$(printf 'mot-de-passe-\303\251t\303\251')"
args=""
for f in "$T"/vals/*; do args="$args --from-file $f"; done

saas seal $args --name app -n web -o manifests/apps/web/app.sealed.yaml
expect_rc 0 "seal from files to the recipients of saasctl.yaml"
expect_eq "$(cat "$T/out")" "" "seal -o prints nothing on stdout"
expect_err "sealed 5 items of 'web/app' to 2 recipients" "seal -o reports what it did"
grep -c '^  - [0-9a-f]\{16\}$' manifests/apps/web/app.sealed.yaml > "$T/n"
expect_eq "$(cat "$T/n")" 2 "spec.recipients lists 2 key IDs"
for k in cluster recovery; do
	if same_values manifests/apps/web/app.sealed.yaml keys/$k.key "$T/vals"; then ok "round trip with the $k key (binary, empty, UTF-8 key and value)"
	else not_ok "round trip with the $k key"; fi
done
saas unseal manifests/apps/web/app.sealed.yaml -k keys/third.key
expect_rc 1 "a key that is not a recipient fails"

# Keys sorted; every item is a plain base64 scalar.
$PY -c 'import sys,yaml; k=list(yaml.safe_load(open(sys.argv[1]))["spec"]["encryptedData"]); assert k==sorted(k, key=lambda s: s.encode()) and len(k)==5, k' manifests/apps/web/app.sealed.yaml \
	&& ok "items are in sorted order" || not_ok "items are in sorted order"
grep -q '^    "mot-de-passe-été": AQ\|^    "mot-de-passe-été": A' manifests/apps/web/app.sealed.yaml \
	&& ok "a UTF-8 item key is written as UTF-8" || not_ok "a UTF-8 item key is written as UTF-8"
$PY -c 'import sys,yaml; d=yaml.safe_load(open(sys.argv[1])); assert d["apiVersion"]=="saasctl.dev/v1" and d["kind"]=="SealedSecret" and d["spec"]["scope"]=="strict", d' manifests/apps/web/app.sealed.yaml \
	&& ok "the output is YAML another parser reads" || not_ok "the output is YAML another parser reads"

# 3 recipients: saasctl.yaml's 2 and -r.
saas seal $args --name app -n web -r keys/third.pub
expect_rc 0 "seal to 3 recipients prints the SealedSecret"
cp "$T/out" three.yaml
all=1
for k in cluster recovery third; do same_values three.yaml keys/$k.key "$T/vals" || all=0; done
[ $all = 1 ] && ok "each of 3 recipients opens every item" || not_ok "each of 3 recipients opens every item"

# 1 recipient, outside the monorepo: only -r.
mkdir -p "$T/elsewhere"
(cd "$T/elsewhere" && "$SAASCTL" seal --from-literal ONE=1 --name x -n y -r "$R/keys/third.pub" > one.yaml 2>/dev/null)
run "$SAASCTL" unseal "$T/elsewhere/one.yaml" -k keys/third.key -o env
expect_out '^ONE=1$' "round trip with 1 recipient"
expect_eq "$(grep -c '^  - ' "$T/elsewhere/one.yaml")" 1 "1 recipient listed"

# A 1 MiB value.
mkdir -p "$T/big"
head -c 1048576 /dev/urandom > "$T/big/BIG"
saas seal --from-file "$T/big/BIG" --name big -n web -o big.yaml
expect_rc 0 "seal a 1 MiB value"
same_values big.yaml keys/cluster.key "$T/big" && ok "a 1 MiB value round-trips" || not_ok "a 1 MiB value round-trips"

# Scopes: namespace and cluster, recorded in the object.
saas seal --from-literal K=ns-wide --name a -n web --scope namespace -o ns.yaml
expect_rc 0 "seal with --scope namespace"
grep -q '^  scope: namespace$' ns.yaml && ok "the scope is recorded" || not_ok "the scope is recorded"
sed 's/^  name: a$/  name: renamed/' ns.yaml > ns2.yaml
saas unseal ns2.yaml -k keys/cluster.key -o env
expect_out '^K=ns-wide$' "namespace scope opens under another name"
sed 's/^  namespace: web$/  namespace: prod/' ns.yaml > ns3.yaml
saas unseal ns3.yaml -k keys/cluster.key
expect_rc 1 "namespace scope fails in another namespace"
saas seal --from-literal K=anywhere --name a --scope cluster -o cl.yaml
expect_rc 0 "seal with --scope cluster needs no namespace"
sed 's/^  name: a$/  name: b\n  namespace: other/' cl.yaml > cl2.yaml
saas unseal cl2.yaml -k keys/cluster.key -o env
expect_out '^K=anywhere$' "cluster scope opens anywhere"

# Input forms: a Secret on stdin (data + stringData), env files, literals.
cat > "$T/secret.yaml" <<'YEOF'
apiVersion: v1
kind: Secret
metadata:
  name: from-stdin
  namespace: web
  labels: {app: web}
  annotations: {owner: ops}
type: kubernetes.io/basic-auth
data:
  username: YWRtaW4=
  password: b2xk
stringData:
  password: new
YEOF
run sh -c '"$0" seal < "$1"' "$SAASCTL" "$T/secret.yaml"
expect_rc 0 "seal reads a Secret from stdin"
cp "$T/out" stdin.yaml
saas unseal stdin.yaml -k keys/recovery.key
expect_out '^  password: bmV3$' "stringData wins over data"
expect_out '^  username: YWRtaW4=$' "data is decoded and sealed"
expect_out '^type: kubernetes.io/basic-auth$' "the type is kept"
expect_out '^    app: web$' "labels are kept"
expect_out '^    owner: ops$' "annotations are kept"
printf '# comment\n\nA=1\nB=x=y\n' > "$T/env"
saas seal --from-env-file "$T/env" --name e -n web
expect_rc 0 "seal --from-env-file"
cp "$T/out" env.yaml
saas unseal env.yaml -k keys/cluster.key -o env
expect_out '^A=1$' "env file value"
expect_out "^B=x=y$" "env file value after the first ="
saas seal --from-literal 'Q=it'"'"'s a $secret' --name l -n web
expect_rc 0 "seal --from-literal"
expect_err "warning: --from-literal puts the value of 'Q' in your shell history" "--from-literal warns"
expect_no_err 'secret' "the warning does not show the value"
cp "$T/out" lit.yaml
saas unseal lit.yaml -k keys/cluster.key -o env
expect_out "^Q='it'\\\\''s a \\\$secret'\$" "env output quotes for the shell"
eval "$(cat "$T/out")"
expect_eq "$Q" "it's a \$secret" "env output reads back in a shell"

# Output forms.
saas unseal lit.yaml -k keys/cluster.key --json
expect_out '"kind": "Secret"' "--json prints a Secret"
saas unseal lit.yaml -k keys/cluster.key -o toml
expect_rc 2 "a bad -o is a usage error"

# Errors.
saas seal --from-literal A=1 --name x
expect_rc 1 "no namespace fails"
expect_err "no namespace: pass -n NAMESPACE" "no namespace is explained"
(cd "$T/elsewhere" && "$SAASCTL" seal --from-literal A=1 --name x -n y > "$T/out" 2> "$T/err"); rc=$?
expect_rc 1 "no recipients fails"
expect_err "no recipients: list public keys in saasctl.yaml" "no recipients is explained"
saas seal --from-literal A=1 --name x -n y --scope galaxy
expect_rc 2 "a bad scope is a usage error"
saas seal -f "$T/nonexistent.yaml"
expect_rc 1 "a missing input fails"
expect_err "nonexistent.yaml" "the missing input is named"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n' > "$T/cm.yaml"
saas seal -f "$T/cm.yaml"
expect_err "not a Secret: kind is 'ConfigMap'" "a ConfigMap is not a Secret"
printf 'kind: Secret\nmetadata: {name: x, namespace: y}\ndata: {A: "!!notbase64"}\n' > "$T/bad.yaml"
saas seal -f "$T/bad.yaml"
expect_err "data item 'A' is not valid base64" "bad base64 in data is named"
saas seal --from-literal A=1 --name x -n y -o /nonexistent/dir/out.yaml
expect_rc 1 "an unwritable -o fails"

# A Secret whose stringData fails part-way: the values read before the bad
# entry are freed and wiped (the sanitizer build reports a leak otherwise).
printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: y}\nstringData:\n  DB_PASSWORD: SUPERSECRETPASSWORD1\n  BAD: {x: 1}\n' > "$T/partial.yaml"
saas seal -f "$T/partial.yaml"
expect_rc 1 "stringData with a map value fails"
expect_err "partial.yaml:6: stringData must map strings to strings" "the bad entry's line is named"
expect_no_err "Sanitizer|runtime error" "no leak of the values read before the failure"
expect_no_err "SUPERSECRETPASSWORD1" "no value in the error"
printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: y}\ndata: {A: U0VDUkVU}\nstringData: {B: SUPERSECRET, C: [1]}\n' > "$T/partial2.yaml"
saas seal -f "$T/partial2.yaml"
expect_rc 1 "data then a bad stringData fails"
expect_no_err "Sanitizer|runtime error" "no leak of data or stringData values"
