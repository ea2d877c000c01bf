#!/bin/sh
# saasctl init: the layout, the first commit, refusing non-empty folders,
# never overwriting a file.
. "$(dirname "$0")/../lib.sh"
need git

saas init "$T/acme"
expect_rc 0 "init makes a new folder"
for f in saasctl.yaml README.md DISASTER.md TROUBLESHOOTING.md .gitignore \
	manifests/apps manifests/cluster terraform/aws terraform/cloudflare tasks keys; do
	[ -e "$T/acme/$f" ] && ok "init creates $f" || not_ok "init creates $f"
done
expect_out '^created  saasctl.yaml$' "init lists what it created"
expect_out '^committed [0-9a-f]{12} ' "init reports the commit"
expect_eq "$(sed -n 's/^project: //p' "$T/acme/saasctl.yaml")" "acme" "the project is named after the folder"

# A real git repository with one commit holding every file, and a clean tree.
expect_eq "$(git -C "$T/acme" rev-list --count HEAD)" "1" "init makes exactly one commit"
expect_eq "$(git -C "$T/acme" status --porcelain)" "" "the working tree is clean after init"
git -C "$T/acme" ls-files > "$T/files"
grep -qx 'saasctl.yaml' "$T/files" && grep -qx '.gitignore' "$T/files" && grep -qx 'manifests/apps/.gitkeep' "$T/files" \
	&& ok "the commit holds the files" || not_ok "the commit holds the files" "$(cat "$T/files")"
expect_eq "$(git -C "$T/acme" log -1 --format=%an)" "Test Author" "the commit has the user's identity"
git -C "$T/acme" fsck --no-progress > "$T/fsck" 2>&1 && ok "git fsck passes" || not_ok "git fsck passes" "$(cat "$T/fsck")"

# .gitignore keeps private keys out, public keys in.
touch "$T/acme/keys/cluster.key" "$T/acme/keys/cluster.pub"
expect_eq "$(git -C "$T/acme" status --porcelain --untracked-files=all)" "?? keys/cluster.pub" ".gitignore keeps *.key out and lets *.pub in"

# The result is a valid monorepo: saasctl finds it and lints it clean.
saas -C "$T/acme/manifests" lint
expect_rc 0 "a fresh monorepo lints clean, found from a subfolder"
saas -C "$T/acme" apps --json
expect_eq "$(cat "$T/out")" "[]" "a fresh monorepo has no apps"

# A folder with anything in it is refused, and left as it was.
mkdir "$T/busy"; echo "mine" > "$T/busy/notes.txt"
saas init "$T/busy"
expect_rc 1 "a non-empty folder is refused"
expect_err "^saasctl: init: cannot initialise '$T/busy': the folder is not empty" "the refusal names the folder"
expect_eq "$(ls -A "$T/busy")" "notes.txt" "a refused folder is left untouched"

# --force adds what is missing and never overwrites a file.
echo "project: mine" > "$T/busy/saasctl.yaml"
echo "# my readme" > "$T/busy/README.md"
saas init --force "$T/busy"
expect_rc 0 "--force initialises a non-empty folder"
expect_eq "$(cat "$T/busy/saasctl.yaml")" "project: mine" "--force keeps an existing saasctl.yaml"
expect_eq "$(cat "$T/busy/README.md")" "# my readme" "--force keeps an existing README.md"
expect_out '^kept     README.md \(exists\)$' "--force says which files it kept"
[ -f "$T/busy/DISASTER.md" ] && ok "--force adds the missing files" || not_ok "--force adds the missing files"
expect_eq "$(cat "$T/busy/notes.txt")" "mine" "--force leaves unrelated files alone"
git -C "$T/busy" ls-files > "$T/files"
grep -qx 'DISASTER.md' "$T/files" && ok "--force commits what it created" || not_ok "--force commits what it created"
grep -qx 'README.md' "$T/files" && not_ok "--force does not commit the files it kept" || ok "--force does not commit the files it kept"
grep -qx 'notes.txt' "$T/files" && not_ok "--force does not commit the user's files" || ok "--force does not commit the user's files"

# Running it again on a complete monorepo adds nothing and makes no commit.
saas init --force "$T/acme"
expect_rc 0 "init --force on a complete monorepo succeeds"
expect_out '^nothing to add' "init --force on a complete monorepo adds nothing"
expect_eq "$(git -C "$T/acme" rev-list --count HEAD)" "1" "init --force makes no empty commit"

# Inside an existing git repository, it commits on top of its history.
mkdir "$T/existing" && git -C "$T/existing" init -q && git -C "$T/existing" commit -q --allow-empty -m first
saas init --force "$T/existing"
expect_rc 0 "init --force works in an existing repository"
expect_eq "$(git -C "$T/existing" rev-list --count HEAD)" "2" "init commits on top of the existing history"

# -C and a relative DIR; --json.
mkdir "$T/base"
saas -C "$T/base" --json init sub
expect_rc 0 "init DIR is relative to -C"
[ -f "$T/base/sub/saasctl.yaml" ] && ok "init -C DIR DIR creates the folder under DIR" || not_ok "init -C DIR DIR creates the folder under DIR"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["commit"]) == 40 and "saasctl.yaml" in d["created"]' "$T/out" \
	&& ok "--json reports the commit and the files" || not_ok "--json reports the commit and the files" "$(cat "$T/out")"

# A file where the folder should be; a folder we cannot write.
echo x > "$T/afile"
saas init "$T/afile"
expect_rc 1 "a file is not a folder"
expect_err "cannot use '$T/afile': not a folder" "a file is named as not a folder"
if [ "$(id -u)" -ne 0 ]; then
	mkdir "$T/ro" && chmod 555 "$T/ro"
	saas init "$T/ro/x"
	expect_rc 1 "an unwritable parent is an error"
fi

# When git fails, the files written are taken back.
mkdir "$T/badgit" && echo "gitdir: $T/nowhere" > "$T/badgit/.git"
saas init --force "$T/badgit"
expect_rc 1 "a broken .git fails init"
expect_err "^saasctl: init: cannot initialise a git repository in '$T/badgit': git: " "the git failure is explained"
expect_eq "$(ls -A "$T/badgit")" ".git" "a failed init leaves nothing behind"

# The current folder by default; nested folders are created.
mkdir "$T/here"
(cd "$T/here" && "$SAASCTL" -q init) && [ -f "$T/here/saasctl.yaml" ] && ok "init without DIR uses the current folder" || not_ok "init without DIR uses the current folder"
saas -q init "$T/deep/er/still"
expect_eq "$rc:$(sed -n 's/^project: //p' "$T/deep/er/still/saasctl.yaml")" "0:still" "init creates nested folders"

# Usage errors.
saas init --frobnicate
expect_rc 2 "an unknown option is a usage error"
saas init a b
expect_rc 2 "two folders are a usage error"

# DISASTER.md has the restore and drill runbook, and it and the example
# crontab only use options the backup commands have.
saas init "$T/runbook"
grep -q '^## Restore drills' "$T/runbook/DISASTER.md" && grep -q 'saasctl backup drill' "$T/runbook/DISASTER.md" &&
	grep -q 'saasctl restore clickhouse ID' "$T/runbook/DISASTER.md" &&
	ok "DISASTER.md has the restore steps and the drill" || not_ok "DISASTER.md has the restore steps and the drill"
$PY - "$SAASCTL" "$T/runbook/DISASTER.md" "$TOP/examples/crontab" <<'PY' > "$T/opts" 2>&1 && ok "the backup commands of DISASTER.md and examples/crontab exist with those options" || not_ok "the runbook's commands exist" "$(cat "$T/opts")"
import re, subprocess, sys
bad, seen = [], set()
for path in sys.argv[2:]:
    text = re.sub(r"\\\n\s*", " ", open(path).read())
    for m in re.finditer(r"saasctl(?: -C \S+)? ((?:backup|restore) [a-z]+)([^`\n]*)", text):
        cmd, rest = m.group(1), m.group(2).split(" -- ")[0]
        usage = subprocess.run([sys.argv[1]] + cmd.split() + ["-h"], capture_output=True, text=True)
        if usage.returncode != 0:
            bad.append(f"{path}: '{cmd}' is no command"); continue
        for opt in re.findall(r"(?<!\S)(--?[a-z][a-z-]*)", rest):
            if opt not in re.findall(r"--?[a-z][a-z-]*", usage.stdout):
                bad.append(f"{path}: '{cmd}' has no {opt}")
        seen.add(cmd)
assert {"backup drill", "restore clickhouse", "backup verify", "backup clickhouse"} <= seen, seen
assert not bad, bad
PY
