#!/bin/sh
# seal --merge-into adds or replaces items in place with public keys only;
# items not named stay byte-identical, so git diff shows just the change.
. "$(dirname "$0")/../lib.sh"
R=$T/repo
mkdir -p "$R/keys" "$R/manifests/apps/web"
cd "$R"
for k in cluster recovery; do "$SAASCTL" keygen -q --name $k --out keys > /dev/null; done
printf 'project: acme\nsecrets: {recipients: [keys/cluster.pub, keys/recovery.pub]}\n' > saasctl.yaml
F=manifests/apps/web/app.sealed.yaml
printf 'A=one\nB=two\nC=three\n' > "$T/env"
"$SAASCTL" seal --from-env-file "$T/env" --name app -n web -o $F 2>/dev/null
mv keys/cluster.key keys/recovery.key "$T"   # no secret key in the repo from here
git init -q . && git add -A && git commit -qm sealed

printf 'new-b' > "$T/b"
saas seal --from-file "B=$T/b" --from-literal D=four --merge-into $F
expect_rc 0 "--merge-into without any secret key"
expect_err "sealed 2 items of 'web/app' to 2 recipients in $F" "--merge-into reports"
git diff --numstat > "$T/stat"
expect_eq "$(cat "$T/stat")" "2	1	$F" "git diff: B replaced and D added, nothing else"
git diff | grep '^[-+] ' | sed 's/:.*//' > "$T/changed"
expect_eq "$(tr '\n' ' ' < "$T/changed")" "-    B +    B +    D " "the diff touches only items B and D"
run "$SAASCTL" unseal $F -k "$T/recovery.key" -o env
expect_eq "$(tr '\n' ' ' < "$T/out")" "A=one B=new-b C=three D=four " "the merged file opens with every item"
ls manifests/apps/web > "$T/ls"
expect_eq "$(cat "$T/ls")" "app.sealed.yaml" "no temporary file is left behind"

# Merging the same file twice with nothing new keeps A and C identical.
git add -A && git commit -qm merged
saas seal --from-literal A=uno --merge-into $F -q
expect_eq "$(git diff --numstat)" "1	1	$F" "replacing one item changes one line"

# Refusals leave the file untouched.
git checkout -q $F
cp $F "$T/before"
saas seal --from-literal X=1 --name other --merge-into $F
expect_rc 1 "merging another name fails"
expect_err "it seals 'app', not 'other'" "another name is explained"
saas seal --from-literal X=1 -n prod --merge-into $F
expect_err "its namespace is 'web', not 'prod'" "another namespace is explained"
saas seal --from-literal X=1 --scope cluster --merge-into $F
expect_err "its scope is strict, not cluster" "another scope is explained"
"$SAASCTL" keygen -q --name extra --out "$T" > /dev/null
saas seal --from-literal X=1 -r "$T/extra.pub" --merge-into $F
expect_rc 1 "merging with other recipients fails"
expect_err "run 'saasctl secrets rekey' first" "other recipients point to rekey"
saas seal --from-literal X=1 -o x.yaml --merge-into $F
expect_rc 2 "-o with --merge-into is a usage error"
{ printf 'kind: ConfigMap\n---\n'; cat $F; } > "$T/two.yaml"
saas seal --from-literal X=1 --merge-into "$T/two.yaml"
expect_err "holds 2 documents" "a file with other documents is refused"
saas seal --from-literal X=1 --merge-into missing.yaml
expect_rc 1 "a missing target fails"
expect_file_same $F "$T/before" "refused merges leave the file untouched"
chmod 640 $F
saas seal --from-literal X=1 --merge-into $F -q
expect_eq "$(stat -c %a $F)" 640 "the file keeps its mode"
