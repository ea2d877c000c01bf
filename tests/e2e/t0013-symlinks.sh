#!/bin/sh
# Folder symlinks under manifests/: loops are skipped with a warning naming
# the link, links inside the monorepo are followed, links out of it are not.
. "$(dirname "$0")/../lib.sh"

M=$T/m
mkdir -p "$M/manifests/apps/a" "$M/manifests/apps/b" "$M/shared" "$T/elsewhere"
printf 'project: x\n' > "$M/saasctl.yaml"
cm() { printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\ndata: {k: v}\n' "$1" "$2"; }
cm c a > "$M/manifests/apps/a/cm.yaml"
cm c b > "$M/manifests/apps/b/cm.yaml"

# Under a time limit: before, two links made the walk exponential.
lim() { run timeout 10 "$SAASCTL" "$@"; }

ln -s . "$M/manifests/apps/a/x"
lim -C "$M" lint
expect_rc 0 "lint with one 'x -> .' link finishes"
expect_err '^0 errors, 0 warnings in 2 files$' "each file is read once"
expect_err "^saasctl: warning: skipped symlink 'manifests/apps/a/x': it loops back to 'manifests/apps/a'$" \
	"the warning names the link and where it loops to"
expect_eq "$(grep -c 'skipped symlink' "$T/err")" 1 "the link is named once"

ln -s . "$M/manifests/apps/a/y"
lim -C "$M" lint
expect_rc 0 "lint with two loop links finishes"
expect_err '^0 errors, 0 warnings in 2 files$' "still each file once"
expect_err "skipped symlink 'manifests/apps/a/y'" "the second link is named too"
lim -C "$M" apps
expect_rc 0 "apps with two loop links finishes"
expect_out '^a +a ' "apps still lists the app"
expect_err "skipped symlink 'manifests/apps/a/x'" "apps warns about the link"
lim -C "$M" secrets verify
expect_rc 0 "secrets verify with two loop links finishes"
expect_err "skipped symlink 'manifests/apps/a/y'" "secrets verify warns about the link"
lim -C "$M" get a
expect_rc 0 "get with loop links finishes"
expect_eq "$(grep -c '^kind: ConfigMap' "$T/out")" 1 "get prints the app's one object once"
expect_err "skipped symlink 'manifests/apps/a/x'" "get warns about the link"
lim -q -C "$M" lint
expect_eq "$(cat "$T/err")" "" "-q keeps the warnings quiet"

# A link to a folder above, and an app folder that is a link to its parent.
ln -s .. "$M/manifests/apps/b/up"
ln -s . "$M/manifests/apps/self"
lim -C "$M" lint
expect_rc 0 "lint with links to parent folders finishes"
expect_err '^0 errors, 0 warnings in 2 files$' "no file is read twice through them"
expect_err "skipped symlink 'manifests/apps/b/up': it loops back to 'manifests/apps'$" "a link to .. is a loop"
expect_err "skipped symlink 'manifests/apps/self': it loops back to 'manifests/apps'$" "an app folder linking to its parent is a loop"
lim -C "$M" apps --names
expect_eq "$(cat "$T/out" | tr '\n' ' ')" "a b " "apps --names leaves the looping folder out"

# A link to a folder elsewhere in the monorepo is followed, and a loop
# through it (back into manifests/) is caught by device and inode.
cm shared-config b > "$M/shared/shared.yaml"
ln -s ../../../shared "$M/manifests/apps/b/common"
ln -s ../manifests "$M/shared/back"
lim -C "$M" get b
expect_rc 0 "get with a link to a folder in the monorepo"
expect_out '^  name: shared-config$' "the linked folder is read"
expect_err "skipped symlink 'manifests/apps/b/common/back': it loops back to 'manifests'$" \
	"a loop through a followed link is caught"
expect_no_err "skipped symlink 'manifests/apps/b/common':" "the link itself is not skipped"

# A link out of the monorepo is not followed: git would commit the link only.
cm outside b > "$T/elsewhere/o.yaml"
ln -s "$T/elsewhere" "$M/manifests/apps/b/ext"
lim -C "$M" get b
expect_rc 0 "get with a link out of the monorepo"
expect_no_out 'name: outside' "the folder outside is not read"
expect_err "skipped symlink 'manifests/apps/b/ext': it points outside the monorepo$" \
	"the warning says the link leaves the monorepo"
