#!/bin/sh
# seal --merge-into and secrets rekey edit the file's own bytes: comments,
# the SealedSecret's own labels and annotations (an Argo CD sync-wave) and
# unchanged items stay byte-identical; a new item goes in beside its
# neighbours; a removed recipient's line disappears; the file is replaced
# atomically, and left untouched when anything fails.
. "$(dirname "$0")/../lib.sh"
R=$T/repo
mkdir -p "$R/keys" "$R/manifests/apps/web"
cd "$R"
for k in cluster recovery new; do "$SAASCTL" keygen -q --name $k --out keys > /dev/null; done
printf 'project: acme\nsecrets: {recipients: [keys/cluster.pub, keys/recovery.pub]}\n' > saasctl.yaml
F=manifests/apps/web/secrets.sealed.yaml
printf 'API_TOKEN=t\nDB_PASSWORD=d\nSTRIPE_KEY=s\n' > "$T/env"
"$SAASCTL" seal --from-env-file "$T/env" --name web-secrets -n web -o "$T/plain.yaml" 2>/dev/null
cluster=$(cut -d' ' -f2 keys/cluster.pub) recovery=$(cut -d' ' -f2 keys/recovery.pub)
new=$(cut -d' ' -f2 keys/new.pub)

# layout OUT [crlf] [unsorted] [flow]: the sealed items in a hand-kept file,
# as in the field: a header comment, metadata with labels and annotations,
# comments between items.
layout() {
	$PY - "$T/plain.yaml" "$@" <<'PYEOF'
import sys, yaml
src, out, *opts = sys.argv[1:]
d = yaml.safe_load(open(src))
items = d["spec"]["encryptedData"]
keys = ["STRIPE_KEY", "API_TOKEN", "DB_PASSWORD"] if "unsorted" in opts else sorted(items)
s = "# Managed by saasctl; rotate yearly (ticket OPS-42)\n"
s += "apiVersion: saasctl.dev/v1\nkind: SealedSecret\nmetadata:\n  name: web-secrets\n"
s += "  labels:\n    team: payments\n  annotations:\n    argocd.argoproj.io/sync-wave: \"-1\"\n  namespace: web\n"
s += "spec:\n"
if "flow" in opts:
    s += "  encryptedData: {" + ", ".join("%s: %s" % (k, items[k]) for k in keys) + "}\n"
else:
    s += "  encryptedData:\n"
    for k in keys:
        if k == "DB_PASSWORD":
            s += "    # the primary's password\n"
        s += "    %s: %s  # kept\n" % (k, items[k])
s += "  recipients:\n" + "".join("  - %s\n" % r for r in d["spec"]["recipients"])
s += "  scope: strict\n  template:\n    type: Opaque\n# end\n"
if "crlf" in opts:
    s = s.replace("\n", "\r\n")
open(out, "w", newline="").write(s)
PYEOF
}
# changes A B: the lines of diff A B, "-" and "+" only, keys only.
changes() { diff "$1" "$2" | grep '^[<>]' | sed 's/^\([<>]\) *\([^:]*\).*/\1\2/' | tr '\n' ' '; }
# unseal_env FILE KEY: the items it opens to, on one line.
unseal_env() { "$SAASCTL" unseal "$1" -k "$2" -o env 2>&1 | tr '\n' ' '; }

layout $F
cp $F "$T/before"
printf 'new-value' > "$T/new"
saas seal --from-file "NEW_ITEM=$T/new" --name web-secrets -n web --merge-into $F
expect_rc 0 "merging a new item into a hand-kept file"
expect_eq "$(changes "$T/before" $F)" ">NEW_ITEM " "the diff is the new item's line alone"
grep -q '^    NEW_ITEM: A' $F && ok "the new item has its neighbours' indentation" || not_ok "the new item has its neighbours' indentation" "$(cat $F)"
expect_eq "$(grep -B1 '^    STRIPE_KEY:' $F | head -1 | cut -c1-14)" "    NEW_ITEM: " "the new item is in its sorted place"
expect_eq "$(unseal_env $F keys/recovery.key)" "API_TOKEN=t DB_PASSWORD=d NEW_ITEM=new-value STRIPE_KEY=s " "the merged file opens"

cp $F "$T/m1"
saas seal --from-literal DB_PASSWORD=changed --from-literal AAA=first --merge-into $F -q
expect_rc 0 "merging a changed and a new item"
expect_eq "$(changes "$T/m1" $F)" ">AAA <DB_PASSWORD >DB_PASSWORD " "only the changed and the new item's lines differ"
grep -q '^    # the primary.s password$' $F && ok "the comment above a replaced item stays" || not_ok "the comment above a replaced item stays"
grep -q '^    DB_PASSWORD: [A-Za-z0-9+/=]*  # kept$' $F && ok "a replaced value keeps its line's comment" || not_ok "a replaced value keeps its line's comment" "$(cat $F)"

# A Secret with a type and labels: the template gets them, the
# SealedSecret's own metadata stays as it was.
printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-secrets\n  namespace: web\n  labels: {app: web}\ntype: kubernetes.io/basic-auth\nstringData: {username: u}\n' > "$T/secret.yaml"
cp $F "$T/m2"
saas seal -f "$T/secret.yaml" --merge-into $F -q
expect_rc 0 "merging a Secret with a type and labels"
expect_eq "$(changes "$T/m2" $F)" ">username <type >metadata >labels >app >type " "the template and the item change, nothing else"
expect_eq "$(head -11 $F)" "$(head -11 "$T/before")" "the header comment and the SealedSecret's metadata are byte-identical"
expect_eq "$(tail -1 $F)" "# end" "the trailing comment stays"

# rekey: adding a recipient changes the items' lines and adds one line.
cp $F "$T/r0"
saas secrets rekey $F -k keys/recovery.key --add-recipient keys/new.pub
expect_rc 0 "rekey adding a recipient"
expect_eq "$(changes "$T/r0" $F | tr ' ' '\n' | grep -c '^<')" 6 "rekey replaces the six items"
expect_eq "$(diff "$T/r0" $F | grep '^>' | grep -c -- "- $new")" 1 "and adds one recipient line"
expect_eq "$(head -11 $F)" "$(head -11 "$T/before")" "rekey keeps the comments and the SealedSecret's metadata"
expect_eq "$(grep -c '# kept$' $F)" 3 "rekey keeps the comments on the items' lines"
expect_eq "$(unseal_env $F keys/new.key | cut -c1-20)" "AAA=first API_TOKEN=" "the added recipient opens the file"
cp $F "$T/r1"
saas secrets rekey $F -k keys/new.key --remove-recipient "$cluster"
expect_rc 0 "rekey removing a recipient"
expect_eq "$(diff "$T/r1" $F | grep '^<' | grep -c -- "- $cluster")" 1 "the removed recipient's line goes"
expect_eq "$(diff "$T/r1" $F | grep -c '^>.*- ')" 0 "and no recipient line is added"
expect_eq "$(grep -c '^  - ' $F)" 2 "two recipient lines are left"
saas unseal $F -k keys/cluster.key
expect_rc 1 "the removed key opens nothing"

# Unsorted items: a new one goes at the end of the map.
layout $F unsorted
saas seal --from-literal BBB=b --merge-into $F -q
expect_eq "$(sed -n '/^  encryptedData:/,/^  recipients:/p' $F | sed 's/ *#.*//' | grep . | cut -d: -f1 | tr -d ' ' | tr '\n' ' ')" "encryptedData STRIPE_KEY API_TOKEN DB_PASSWORD BBB recipients " "unsorted items: the new one goes last"

# CRLF stays CRLF; a flow map stays a flow map.
layout $F crlf
saas seal --from-literal NEW_ITEM=n --merge-into $F -q
expect_rc 0 "merging into a CRLF file"
expect_eq "$(grep -c "$(printf '\r')\$" $F)" "$(wc -l < $F)" "every line still ends in CRLF"
layout $F flow
saas seal --from-literal NEW_ITEM=n --merge-into $F -q
expect_rc 0 "merging into a flow map"
grep -q '^  encryptedData: {API_TOKEN: .*, DB_PASSWORD: .*, NEW_ITEM: .*, STRIPE_KEY: .*}$' $F && ok "the flow map gets the item in its place" || not_ok "the flow map gets the item in its place" "$(cat $F)"
expect_eq "$(unseal_env $F keys/recovery.key)" "API_TOKEN=t DB_PASSWORD=d NEW_ITEM=n STRIPE_KEY=s " "the flow file opens"

# Atomic replacement: the mode and a symlink are kept, no temporary file
# is left, and a failure leaves the file untouched.
layout $F
chmod 640 $F
mv $F manifests/apps/web/real.yaml
ln -s real.yaml $F
saas seal --from-literal L=1 --merge-into $F -q
expect_rc 0 "merging through a symlink"
[ -L $F ] && ok "the symlink stays a symlink" || not_ok "the symlink stays a symlink"
grep -q '^    L: ' manifests/apps/web/real.yaml && ok "its target gets the item" || not_ok "its target gets the item"
expect_eq "$(stat -c %a manifests/apps/web/real.yaml)" 640 "the file keeps its mode"
expect_eq "$(ls manifests/apps/web | tr '\n' ' ')" "real.yaml secrets.sealed.yaml " "no temporary file is left"
rm $F; mv manifests/apps/web/real.yaml $F
# A block scalar cannot be edited in place: the command fails and the file
# is as it was.
sed 's/^    API_TOKEN: \(.*\)  # kept$/    API_TOKEN: |-\n      \1/' $F > "$T/block" && cp "$T/block" $F
cp $F "$T/f0"
saas secrets rekey $F -k keys/recovery.key --add-recipient keys/new.pub
expect_rc 1 "a rekey that cannot edit in place fails"
expect_err "cannot rekey '$F': .*cannot edit a block scalar in place" "and says why"
expect_file_same $F "$T/f0" "the file is untouched"
saas seal --from-literal API_TOKEN=x --merge-into $F
expect_rc 1 "a merge that cannot edit in place fails"
expect_err "cannot merge into '$F'" "the merge failure names the file"
expect_file_same $F "$T/f0" "the file is untouched by the failed merge"
expect_eq "$(ls manifests/apps/web)" "secrets.sealed.yaml" "failures leave no temporary file"
