#!/bin/sh
# secrets rekey: offline, with one recipient's secret key. Adding keeps the
# value ciphertexts; removing draws new item keys, and the removed key can
# no longer open anything.
. "$(dirname "$0")/../lib.sh"
R=$T/repo
mkdir -p "$R/keys" "$R/manifests/apps/web" "$R/manifests/apps/api"
cd "$R"
for k in cluster recovery new; do "$SAASCTL" keygen -q --name $k --out keys > /dev/null; done
printf 'project: acme\nsecrets: {recipients: [keys/cluster.pub, keys/recovery.pub]}\n' > saasctl.yaml
W=manifests/apps/web/app.sealed.yaml A=manifests/apps/api/app.sealed.yaml
"$SAASCTL" seal --from-literal X=web-x --from-literal Y=web-y --name app -n web -o $W 2>/dev/null
"$SAASCTL" seal --from-literal X=api-x --name app -n api -o $A 2>/dev/null
new=$(cut -d' ' -f2 keys/new.pub) cluster=$(cut -d' ' -f2 keys/cluster.pub)
cp $W "$T/w0"

saas secrets rekey $W $A -k keys/recovery.key --add-recipient keys/new.pub
expect_rc 0 "rekey adding a recipient"
expect_err "$W: rekeyed for 3 recipients" "rekey reports each file"
grep -q "^  - $new\$" $W && ok "the new key ID is listed" || not_ok "the new key ID is listed"
run "$SAASCTL" unseal $W -k keys/new.key -o env
expect_eq "$(tr '\n' ' ' < "$T/out")" "X=web-x Y=web-y " "the added key opens the rekeyed file"
run "$SAASCTL" unseal $A -k keys/new.key -o env
expect_eq "$(cat "$T/out")" "X=api-x" "every file given is rekeyed"
# Adding keeps the value ciphertext (the last bytes of each item).
tailbytes() { $PY -c 'import base64,sys,yaml; d=yaml.safe_load(open(sys.argv[1])); print(base64.b64decode(d["spec"]["encryptedData"]["X"])[-21:].hex())' "$1"; }
expect_eq "$(tailbytes $W)" "$(tailbytes "$T/w0")" "adding keeps the value ciphertext"

saas secrets rekey $W -k keys/recovery.key --add-recipient keys/new.pub
expect_rc 0 "rekey to the same set succeeds"
expect_err "recipients unchanged" "and says nothing changed"

cp $W "$T/w1"
saas secrets rekey $W -k keys/new.key --remove-recipient "$cluster"
expect_rc 0 "rekey removing a recipient by key ID"
grep -q "^  - $cluster\$" $W && not_ok "the removed key ID is gone" || ok "the removed key ID is gone"
saas unseal $W -k keys/cluster.key
expect_rc 1 "the removed key no longer opens the file"
expect_err "not sealed to key ID $cluster" "the removed key is told so"
run "$SAASCTL" unseal $W -k keys/recovery.key -o env
expect_eq "$(tr '\n' ' ' < "$T/out")" "X=web-x Y=web-y " "the remaining keys still open it"
if [ "$(tailbytes $W)" != "$(tailbytes "$T/w1")" ]; then ok "removing re-encrypts the values"; else not_ok "removing re-encrypts the values"; fi

saas secrets rekey $A -k keys/recovery.key --remove-recipient keys/new.pub
expect_rc 0 "rekey removing a recipient by .pub file"
saas unseal $A -k keys/new.key
expect_rc 1 "the key removed by .pub no longer opens"

# Failures leave every file untouched.
cp $W "$T/w2"; cp $A "$T/a2"
"$SAASCTL" keygen -q --name extra --out "$T" > /dev/null
saas secrets rekey $W $A -k keys/new.key --add-recipient "$T/extra.pub"
expect_rc 1 "rekey with a key that is not a recipient of every file fails"
expect_err "'$A': cannot rekey 'api/app' item 'X': not sealed to key ID $new" "the failing file, item and key are named"
expect_file_same $W "$T/w2" "a failed rekey leaves the first file untouched"
expect_file_same $A "$T/a2" "a failed rekey leaves the second file untouched"
saas secrets rekey $W -k keys/recovery.key --remove-recipient 0123456789abcdef
expect_rc 1 "removing a key ID that is not a recipient fails"
expect_err "key ID 0123456789abcdef is not a recipient of 'web/app'" "the stranger key ID is named"
saas secrets rekey $W -k keys/recovery.key --remove-recipient nonsense
expect_err "is neither a key ID nor a public key file" "a bad --remove-recipient is explained"
"$SAASCTL" keygen -q --name lost --out "$T" > /dev/null
"$SAASCTL" seal --from-literal K=v --name l -n web -r "$T/lost.pub" -o l.yaml 2>/dev/null
saas secrets rekey l.yaml -k keys/recovery.key --add-recipient keys/new.pub
expect_rc 1 "a recipient without a known public key fails"
expect_err "no public key for recipient key ID $(cut -d' ' -f2 "$T/lost.pub")" "the unknown recipient is named"
saas secrets rekey l.yaml -k keys/recovery.key --remove-recipient "$T/lost.pub" --remove-recipient keys/recovery.pub --remove-recipient "$cluster"
expect_err "cannot remove every recipient" "removing everyone is refused"
saas secrets rekey $W
expect_rc 2 "rekey without -k is a usage error"
