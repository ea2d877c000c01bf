#!/bin/sh
# saasctl deploy / rollback / history against a bare remote over file://:
# byte-exact edits, what gets committed and pushed, refusals, retries.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/data/deploy/lib.sh"
need git

W=$T/work R=$T/remote.git
setup_monorepo "$W" "$R"
cd "$W" || exit 1
head_sha() { git rev-parse HEAD; }
remote_main() { git --git-dir="$R" rev-parse main; }

# --dry-run: the unified diff, nothing written.
before=$(head_sha)
saas deploy web --image ghcr.io/acme/web:v2 --dry-run
expect_rc 0 "--dry-run exits 0"
expect_out '^-          image: ghcr.io/acme/web:v1   # bumped by saasctl deploy$' "--dry-run shows the old line"
expect_out '^\+          image: ghcr.io/acme/web:v2   # bumped by saasctl deploy$' "--dry-run shows the new line"
expect_out '^\+\+\+ b/manifests/apps/web/celery.yaml$' "--dry-run covers every file of the app"
expect_err 'nothing written' "--dry-run says nothing was written"
expect_eq "$(git status --porcelain)$(head_sha)" "$before" "--dry-run changes nothing"

# A deploy: every container on ghcr.io/acme/web moves, byte for byte.
mkdir "$T/before"
cp manifests/apps/web/*.yaml "$T/before/"
echo "local notes" > notes.txt
git add notes.txt && git commit -q -m notes && git push -q origin main
echo "unsaved edit" >> notes.txt
echo "scratch" > untracked.txt
before=$(head_sha)
GITHUB_OUTPUT=$T/gh-out GITHUB_STEP_SUMMARY=$T/gh-sum saas deploy web --image ghcr.io/acme/web:v2
expect_rc 0 "deploy exits 0"
sha=$(cat "$T/out")
expect_eq "$sha" "$(head_sha)" "deploy prints the commit SHA"
expect_eq "$(remote_main)" "$sha" "deploy pushes the commit"
expect_eq "$(git rev-parse HEAD~1)" "$before" "the commit builds on HEAD"
expect_err '^deploy\(web\): ghcr.io/acme/web:v1 → ghcr.io/acme/web:v2 \(5 containers\)$' "deploy says what moved"
expect_err "^pushed ${sha%"${sha#???????}"} to origin$" "deploy says it pushed"
expect_eq "$(git log -1 --format=%s)" "deploy(web): ghcr.io/acme/web:v1 → ghcr.io/acme/web:v2" "commit subject"
expect_eq "$(git log -1 --format=%b)" "Saasctl-App: web
Saasctl-Previous-Image: ghcr.io/acme/web:v1
Saasctl-Image: ghcr.io/acme/web:v2" "commit trailers"
expect_eq "$(git log -1 --format='%an <%ae>')" "Test Author <test@example.com>" "author from GIT_AUTHOR_*"
expect_eq "$(git show --name-only --format= HEAD | sort | tr '\n' ' ')" "manifests/apps/web/celery.yaml manifests/apps/web/webserver.yaml " "only the app's image files are committed"
for f in webserver.yaml celery.yaml redis.yaml; do
	sed 's#ghcr.io/acme/web:v1#ghcr.io/acme/web:v2#' "$T/before/$f" > "$T/want"
	expect_file_same "$T/want" "manifests/apps/web/$f" "$f: only the image bytes changed"
	git show "HEAD:manifests/apps/web/$f" > "$T/committed"
	expect_file_same "$T/want" "$T/committed" "$f: committed bytes equal the work tree"
done
expect_eq "$(cat notes.txt)" "local notes
unsaved edit" "an unrelated dirty file is left alone"
expect_eq "$(git status --porcelain | tr '\n' ' ')" " M notes.txt ?? untracked.txt " "only the unrelated changes stay in the work tree"
expect_eq "$(cat "$T/gh-out")" "sha=$sha
previous-image=ghcr.io/acme/web:v1
image=ghcr.io/acme/web:v2" "GITHUB_OUTPUT gets sha, previous-image and image"
expect_eq "$(cat "$T/gh-sum")" "Deployed **web**: \`ghcr.io/acme/web:v1\` → \`ghcr.io/acme/web:v2\` ($sha)" "GITHUB_STEP_SUMMARY gets a line"

# Already deployed: nothing to do, exit 0.
before=$(head_sha)
saas deploy web --image ghcr.io/acme/web:v2
expect_rc 0 "deploying the current image exits 0"
expect_err 'web is already at ghcr.io/acme/web:v2; nothing to deploy' "deploying the current image says so"
expect_eq "$(head_sha)" "$before" "deploying the current image makes no commit"

# CRLF, an anchor shared through an alias, a comment on the image line.
cp manifests/apps/api/api.yaml "$T/api-before"
saas deploy api --tag 1.1.0
expect_rc 0 "deploy --tag on a CRLF file with an anchor"
sed 's#ghcr.io/acme/api:1.0.0#ghcr.io/acme/api:1.1.0#' "$T/api-before" > "$T/want"
expect_file_same "$T/want" manifests/apps/api/api.yaml "CRLF, anchor and comment are kept byte for byte"
expect_eq "$(git log -1 --format=%s)" "deploy(api): ghcr.io/acme/api:1.0.0 → ghcr.io/acme/api:1.1.0" "--tag keeps the repository"

# --digest keeps the tag and pins the digest.
d=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
saas deploy api --digest "$d" --no-push
expect_rc 0 "--digest --no-push exits 0"
expect_eq "$(grep -c "ghcr.io/acme/api:1.1.0@$d # pinned" manifests/apps/api/api.yaml)" 1 "--digest pins tag@digest"
expect_err 'committed [0-9a-f]{7} \(not pushed\)' "--no-push says it did not push"
expect_eq "$(remote_main)" "$(git rev-parse HEAD~1)" "--no-push leaves the remote alone"
git push -q origin main

# Refusals: nothing is written and the message names the problem.
before=$(head_sha)
saas deploy nope --image ghcr.io/acme/web:v3
expect_rc 1 "a missing app exits 1"
expect_err "^saasctl: deploy: no app 'nope' in manifests/apps/ \(apps: api, multi, web\)$" "a missing app is named, with the apps"
saas deploy multi --tag 2
expect_rc 1 "an ambiguous target exits 1"
expect_err "app 'multi' runs 2 images, so the target is ambiguous; pick one with --container: app \(ghcr.io/acme/multi:1 in Deployment/multi\), proxy \(nginx:1.25 in Deployment/multi\)" "an ambiguous target lists the containers"
saas deploy multi --container nosuch --tag 2
expect_rc 1 "an unknown container exits 1"
expect_err "app 'multi' has no container 'nosuch' \(containers: app, proxy\)" "an unknown container lists the containers"
saas deploy web --image 'ghcr.io/acme/Web:v3'
expect_rc 1 "an invalid image exits 1"
expect_err "^saasctl: deploy: cannot deploy 'web': invalid image reference 'ghcr.io/acme/Web:v3': repository names must be lowercase$" "an invalid image is explained"
saas deploy web --image 'ghcr.io/acme/web:'
expect_rc 1 "an empty tag exits 1"
saas deploy web --tag '-bad'
expect_rc 1 "an invalid --tag exits 1"
expect_err "invalid tag '-bad'" "an invalid --tag is named"
saas deploy web
expect_rc 2 "no image option is a usage error"
saas deploy web --image a:1 --tag 2
expect_rc 2 "two image options are a usage error"
saas deploy web --image ghcr.io/acme/web:v3 --bogus
expect_rc 2 "an unknown option is a usage error"
echo "# local tweak" >> manifests/apps/web/celery.yaml
saas deploy web --image ghcr.io/acme/web:v3
expect_rc 1 "a dirty file to edit exits 1"
expect_err "'manifests/apps/web/celery.yaml' has uncommitted changes" "the dirty file is named"
git checkout -q manifests/apps/web/celery.yaml
git checkout -q --detach
saas deploy web --image ghcr.io/acme/web:v3
expect_rc 1 "a detached HEAD exits 1"
expect_err "HEAD is detached" "a detached HEAD is explained"
git checkout -q main
saas deploy web --image ghcr.io/acme/web:v3 --branch release
expect_rc 1 "a branch that is not checked out exits 1"
expect_err "branch 'release' is not checked out \(HEAD is on 'main'\)" "--branch is checked"
saas deploy web --image ghcr.io/acme/web:v3 --remote upstream
expect_rc 1 "a missing remote exits 1"
expect_err "no git remote 'upstream'" "a missing remote is named"
expect_eq "$(head_sha)$(git status --porcelain | tr '\n' ' ')" "$before M notes.txt ?? untracked.txt " "refusals write nothing"

# Someone pushed first: fetch, rebuild on their commit, push again.
clone_remote "$R" "$T/colleague"
(cd "$T/colleague" && echo "more" >> notes.txt && git commit -qam "colleague's change" && git push -q origin main)
theirs=$(remote_main)
saas deploy web --image ghcr.io/acme/web:v3
expect_rc 0 "a deploy after someone else pushed succeeds"
expect_err 'push rejected: the remote branch moved; fetching and trying again \(attempt 2 of 5\)' "the retry is reported"
expect_eq "$(git rev-parse HEAD~1)" "$theirs" "the retried commit builds on the remote tip"
expect_eq "$(remote_main)" "$(head_sha)" "the retried commit is pushed"
expect_eq "$(git show HEAD:notes.txt)" "local notes
more" "the colleague's change is kept"
expect_eq "$(cat notes.txt)" "local notes
unsaved edit" "the local edit survives the retry"
expect_err "^saasctl: warning: left 'notes.txt' as it was in the work tree: it has local changes$" "a dirty file the remote changed is left alone, with a warning"

# A lost race on the remote: 4 deploys of 4 apps at once, none is lost.
# (Each may lose several times on a loaded machine: they get 10 attempts,
# not 5, as what is checked is that no commit is lost.)
for i in 1 2 3 4; do
	mkdir -p "manifests/apps/race$i"
	sed -e "s/name: multi/name: race$i/" -e "s#ghcr.io/acme/multi:1#ghcr.io/acme/race$i:1#" -e '/proxy/,$d' \
		manifests/apps/multi/app.yaml > "manifests/apps/race$i/app.yaml"
done
git add manifests && git commit -q -m "race apps" && git push -q origin main
base=$(head_sha)
for i in 1 2 3 4; do
	clone_remote "$R" "$T/race$i"
	(SAASCTL_DEPLOY_ATTEMPTS=10 "$SAASCTL" -C "$T/race$i" deploy "race$i" --tag 2 > "$T/race$i.out" 2> "$T/race$i.err"; echo $? > "$T/race$i.rc") &
done
wait
for i in 1 2 3 4; do
	expect_eq "$(cat "$T/race$i.rc")" 0 "racing deploy $i succeeds"
done
expect_eq "$(git --git-dir="$R" log --format=%s "$base..main" | sort | tr '\n' '|')" \
	"deploy(race1): ghcr.io/acme/race1:1 → ghcr.io/acme/race1:2|deploy(race2): ghcr.io/acme/race2:1 → ghcr.io/acme/race2:2|deploy(race3): ghcr.io/acme/race3:1 → ghcr.io/acme/race3:2|deploy(race4): ghcr.io/acme/race4:1 → ghcr.io/acme/race4:2|" \
	"all 4 racing commits land"
expect_eq "$(git --git-dir="$R" rev-list --merges "$base..main" | wc -l)" 0 "the history stays linear"
expect_eq "$(git --git-dir="$R" rev-list "$base..main" | wc -l)" 4 "nothing else was pushed"
git pull -q --ff-only origin main

# Rollback after 3 deploys restores the 2nd image; history lists all 4.
saas deploy multi --container app --tag 2
saas deploy multi --container app --tag 3
saas deploy multi --container app --tag 4
expect_rc 0 "three deploys"
saas rollback multi
expect_rc 0 "rollback exits 0"
expect_eq "$(git log -1 --format=%s)" "rollback(multi): ghcr.io/acme/multi:4 → ghcr.io/acme/multi:3" "rollback is a forward commit"
expect_eq "$(git rev-list --count HEAD~1..HEAD)" 1 "rollback adds one commit"
expect_eq "$(grep -c 'image: ghcr.io/acme/multi:3$' manifests/apps/multi/app.yaml)" 1 "rollback restores the 2nd image"
expect_eq "$(grep -c 'image: nginx:1.25$' manifests/apps/multi/app.yaml)" 1 "rollback leaves the other container alone"
expect_eq "$(remote_main)" "$(head_sha)" "rollback pushes"
saas history multi
expect_rc 0 "history exits 0"
expect_eq "$(tail -n +2 "$T/out" | wc -l)" 4 "history lists all 4 entries"
expect_out '^\* [0-9T:Z-]+  rollback  ghcr.io/acme/multi:3 +[0-9a-f]{7}  Test Author$' "history marks the rollback as current"
expect_out '^  [0-9T:Z-]+  deploy    ghcr.io/acme/multi:2 +[0-9a-f]{7}  Test Author$' "history lists the first deploy"
saas history multi --json -n 2
expect_rc 0 "history --json exits 0"
expect_eq "$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d), d[0]["action"], d[0]["image"], d[0]["current"], d[1]["previous_image"])' "$T/out")" \
	"2 rollback ghcr.io/acme/multi:3 True ghcr.io/acme/multi:3" "history --json -n 2 gives the newest two"
saas rollback multi
expect_rc 0 "a second rollback exits 0"
expect_eq "$(git log -1 --format=%s)" "rollback(multi): ghcr.io/acme/multi:3 → ghcr.io/acme/multi:2" "a second rollback keeps going back"
saas rollback multi --to "$(git rev-parse HEAD~2)"
expect_rc 0 "rollback --to COMMIT exits 0"
expect_eq "$(git log -1 --format=%s)" "rollback(multi): ghcr.io/acme/multi:2 → ghcr.io/acme/multi:4" "rollback --to COMMIT re-pins that commit's image"
saas rollback multi --to -9
expect_rc 1 "rolling back past the history exits 1"
expect_err "has no image 9 deploys back" "rolling back past the history is explained"
saas rollback multi --to ghcr.io/acme/multi:1 --dry-run
expect_rc 0 "rollback --to IMAGE --dry-run"
expect_out '^\+          image: ghcr.io/acme/multi:1$' "rollback --dry-run shows the diff"
saas history nope
expect_rc 1 "history of a missing app exits 1"
saas history api -n 0
expect_rc 2 "history -n 0 is a usage error"

# The completions complete app names for all three commands.
for c in deploy rollback history; do
	expect_eq "$(grep -c "^        '$c') opts='.*'; what=apps ;;\$" "$TOP/completions/saasctl.bash")" 1 "bash completes app names for '$c'"
done

# lint's image-drift rule: a workload left behind on an older tag.
sed -i 's#image: "ghcr.io/acme/web:v3"#image: "ghcr.io/acme/web:v2"#' manifests/apps/web/celery.yaml
saas lint
expect_out "^manifests/apps/web/celery.yaml:15:18: warning: workloads 'celery-scheduler' and 'celery-workers' run different versions of 'ghcr.io/acme/web': 'ghcr.io/acme/web:v3' and 'ghcr.io/acme/web:v2'; deploy moves them together \[image-drift\]$" "lint reports a workload on another tag"
git checkout -q manifests/apps/web/celery.yaml

# Rollback without trailers reads the file history.
sed -i 's#image: nginx:1.25#image: nginx:1.26#' manifests/apps/multi/app.yaml
git commit -qam "bump nginx by hand"
saas rollback multi --container proxy
expect_rc 0 "rollback of a container deployed by hand"
expect_eq "$(git log -1 --format=%s)" "rollback(multi): nginx:1.26 → nginx:1.25" "the file history gives the previous image"

# --json: one object with the commit.
saas deploy api --tag 1.2.0 --json
expect_rc 0 "deploy --json exits 0"
expect_eq "$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["app"], d["image"], d["previous_image"], d["pushed"], d["sha"] == sys.argv[2])' "$T/out" "$(git rev-parse HEAD)")" \
	"api ghcr.io/acme/api:1.2.0 ghcr.io/acme/api:1.1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef True True" "deploy --json describes the commit"

# The author: GIT_AUTHOR_*, else the git config, else GITHUB_ACTOR.
unset GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL
GITHUB_ACTOR=octocat saas deploy api --tag 1.3.0 --no-push
expect_rc 0 "deploy in GitHub Actions without a git identity"
expect_eq "$(git log -1 --format='%an <%ae>')" "octocat <octocat@users.noreply.github.com>" "the author falls back to GITHUB_ACTOR"
git config user.name "Config Person"; git config user.email config@example.com
GITHUB_ACTOR=octocat saas deploy api --tag 1.4.0 --no-push
expect_eq "$(git log -1 --format='%an <%ae>')" "Config Person <config@example.com>" "the git config wins over GITHUB_ACTOR"
git config --unset user.name; git config --unset user.email
saas deploy api --tag 1.5.0 --no-push
expect_rc 1 "no identity at all exits 1"
expect_err "cannot commit: no author; set git config user.name and user.email" "no identity is explained"

# bash completes app names after deploy, rollback and history.
mkdir -p "$T/bin" && ln -sf "$SAASCTL" "$T/bin/saasctl"
for c in deploy rollback history; do
	got=$(PATH="$T/bin:$PATH" bash -c '. "$1"; COMP_WORDS=(saasctl "$2" m); COMP_CWORD=2; _saasctl; printf "%s\n" "${COMPREPLY[@]}"' _ "$TOP/completions/saasctl.bash" "$c")
	expect_eq "$got" "multi" "bash completes 'saasctl $c m' to the app 'multi'"
done

# A staged unrelated change stays staged and out of the deploy commit.
export GIT_AUTHOR_NAME="Test Author" GIT_AUTHOR_EMAIL=test@example.com GIT_COMMITTER_NAME="Test Author" GIT_COMMITTER_EMAIL=test@example.com
echo "staged" > staged.txt && git add staged.txt
saas deploy api --tag 1.6.0
expect_rc 0 "deploy with an unrelated staged file"
expect_eq "$(git show --name-only --format= HEAD)" "manifests/apps/api/api.yaml" "the staged file is not committed"
expect_eq "$(git diff --cached --name-only)" "staged.txt" "the staged file stays staged"

# The monorepo in a folder of a bigger repository, a relative remote path,
# run from deep inside, with a retry that has to fetch.
mkdir -p "$T/big" && cp -r "$TOP/tests/data/deploy/monorepo" "$T/big/infra"
(cd "$T/big" && git init -q -b main && git add -A && git commit -qm big &&
	git init -q --bare -b main ../big-remote.git && git remote add origin ../big-remote.git && git push -q origin main)
git clone -q "$T/big-remote.git" "$T/big-colleague"
(cd "$T/big-colleague" && echo x > other.txt && git add other.txt && git commit -qm other && git push -q origin main)
(cd "$T/big/infra/manifests/apps" && "$SAASCTL" deploy api --tag 2.0.0 > "$T/out" 2> "$T/err"); rc=$?
expect_rc 0 "a monorepo in a subfolder with a relative remote deploys"
expect_err "fetching and trying again" "the deploy in a subfolder retried after a fetch"
expect_eq "$(git -C "$T/big" show --name-only --format= HEAD)" "infra/manifests/apps/api/api.yaml" "paths are relative to the top of the repository"
expect_eq "$(git --git-dir="$T/big-remote.git" rev-parse main)" "$(git -C "$T/big" rev-parse HEAD)" "the retry through the relative remote pushed"
expect_eq "$(git -C "$T/big" status --porcelain)" "" "the work tree follows"

# Pods and the items of a List are workloads too: deploy pins their images.
P=$T/pods
setup_monorepo "$P" "$T/pods-remote.git"
mkdir -p "$P/manifests/apps/tools"
cat > "$P/manifests/apps/tools/tools.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: shell, namespace: tools}
spec:
  containers:
    - name: shell
      image: ghcr.io/acme/tools:v1
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ReplicationController
    metadata: {name: runner, namespace: tools}
    spec:
      selector: {app.kubernetes.io/name: runner}
      template:
        metadata: {labels: {app.kubernetes.io/name: runner}}
        spec:
          containers:
            - name: runner
              image: ghcr.io/acme/tools:v1
YAML
(cd "$P" && git add -A && git commit -qm tools && git push -q origin main)
saas -C "$P" deploy tools --tag v2 --no-push
expect_rc 0 "deploy pins a Pod and a List item"
expect_eq "$(grep -c 'image: ghcr.io/acme/tools:v2$' "$P/manifests/apps/tools/tools.yaml")" 2 "both images were rewritten in place"
# Server hooks of a local remote run as git push runs them: the push goes
# through `git receive-pack`, so a hook's refusal fails the deploy with its
# message, and the local branch stays where it was (as over ssh or https).
H=$T/hooks-work HR=$T/hooks-remote.git
setup_monorepo "$H" "$HR"
cd "$H" || exit 1
hr_main() { git --git-dir="$HR" rev-parse "${1:-main}"; }
cat > "$HR/hooks/pre-receive" <<'HOOK'
#!/bin/sh
echo "deploys are frozen until Monday" >&2
exit 1
HOOK
chmod +x "$HR/hooks/pre-receive"
before=$(head_sha)
saas deploy web --image ghcr.io/acme/web:v2
expect_rc 1 "a push refused by a local remote's pre-receive hook exits 1"
expect_err "^saasctl: deploy: cannot deploy 'web': push to 'origin' rejected: 'refs/heads/main' pre-receive hook declined: remote: deploys are frozen until Monday$" "the pre-receive hook's message is shown"
expect_no_err "pushed|retry|trying again" "a push refused by a hook claims nothing and is not retried"
expect_eq "$(cat "$T/out")" "" "a push refused by a hook prints no commit"
expect_eq "$(hr_main)" "$before" "a pre-receive refusal leaves the remote ref unchanged"
expect_eq "$(head_sha)" "$before" "a pre-receive refusal leaves the local branch unchanged"
expect_eq "$(git status --porcelain)" "" "a pre-receive refusal leaves the work tree unchanged"

# The same hook in the folder core.hooksPath names (relative: to the
# repository); a hook that is not executable is ignored, as git does.
mkdir "$HR/custom-hooks" && mv "$HR/hooks/pre-receive" "$HR/custom-hooks/"
git --git-dir="$HR" config core.hooksPath custom-hooks
saas deploy web --image ghcr.io/acme/web:v2
expect_rc 1 "a pre-receive hook in the remote's core.hooksPath refuses"
expect_err "pre-receive hook declined: remote: deploys are frozen until Monday$" "the core.hooksPath hook's message is shown"
expect_eq "$(hr_main)" "$before" "a core.hooksPath refusal leaves the remote ref unchanged"

# Without git, the hook cannot run: refused, naming the hook.
mkdir -p "$T/nogit"
PATH=$T/nogit saas deploy web --image ghcr.io/acme/web:v2
expect_rc 1 "a local remote with a hook and no git installed exits 1"
expect_err "^saasctl: deploy: cannot deploy 'web': cannot push to 'origin': pushing to '$HR' needs git receive-pack to run its pre-receive hook, and git is not installed; install git, or push with git push or to an ssh or https remote$" "without git the hook is named and the way out given"
expect_eq "$(hr_main)$(head_sha)" "$before$before" "without git nothing moves"

# The rollback goes through the same hooks.
chmod -x "$HR/custom-hooks/pre-receive"
saas deploy web --image ghcr.io/acme/web:v2
expect_rc 0 "a hook that is not executable does not run, as with git push"
chmod +x "$HR/custom-hooks/pre-receive"
before=$(head_sha)
saas rollback web
expect_rc 1 "a rollback refused by a pre-receive hook exits 1"
expect_err "push to 'origin' rejected: 'refs/heads/main' pre-receive hook declined: remote: deploys are frozen until Monday$" "the rollback shows the hook's message"
expect_eq "$(hr_main)$(head_sha)" "$before$before" "a refused rollback moves nothing"
git --git-dir="$HR" config --unset core.hooksPath

# An update hook refuses one ref: main, not staging.
cat > "$HR/hooks/update" <<HOOK
#!/bin/sh
echo "\$1 \$2 \$3" >> "$T/update.args"
[ "\$1" != refs/heads/main ] || { echo "main is protected, deploy to staging" >&2; exit 1; }
HOOK
chmod +x "$HR/hooks/update"
saas deploy web --image ghcr.io/acme/web:v3
expect_rc 1 "a push refused by the update hook exits 1"
expect_err "^saasctl: deploy: cannot deploy 'web': push to 'origin' rejected: 'refs/heads/main' hook declined: remote: main is protected, deploy to staging; remote: error: hook declined to update refs/heads/main$" "the update hook's message is shown"
expect_eq "$(hr_main)$(head_sha)" "$before$before" "an update hook refusal moves nothing"
git checkout -q -b staging
saas deploy web --image ghcr.io/acme/web:v3
expect_rc 0 "the update hook accepts another ref"
expect_eq "$(hr_main staging)" "$(head_sha)" "the accepted ref is pushed"
expect_eq "$(tail -n 1 "$T/update.args")" "refs/heads/staging 0000000000000000000000000000000000000000 $(head_sha)" "the update hook gets REF OLD NEW"
git checkout -q main
rm "$HR/hooks/update"

# Hooks that accept get what git push gives them: pre-receive and
# post-receive read "OLD NEW REF", post-update gets the ref; all have run
# when the deploy returns.
cat > "$HR/hooks/pre-receive" <<HOOK
#!/bin/sh
cat > "$T/pre-receive.in"
echo "GIT_DIR=\$GIT_DIR" > "$T/pre-receive.env"
echo "checks passed"
HOOK
cat > "$HR/hooks/post-receive" <<HOOK
#!/bin/sh
sleep 1
cat > "$T/post-receive.in"
HOOK
cat > "$HR/hooks/post-update" <<HOOK
#!/bin/sh
echo "\$@" > "$T/post-update.args"
HOOK
chmod +x "$HR/hooks/pre-receive" "$HR/hooks/post-receive" "$HR/hooks/post-update"
GIT_DIR=$T/nowhere saas -C "$H" deploy web --image ghcr.io/acme/web:v4
expect_rc 0 "a push the hooks accept succeeds"
new=$(head_sha)
expect_eq "$(cat "$T/out")" "$new" "an accepted push prints the commit"
expect_err "^pushed ${new%"${new#???????}"} to origin$" "an accepted push says it pushed"
expect_eq "$(hr_main)" "$new" "an accepted push moves the remote ref"
expect_eq "$(git rev-parse HEAD~1)" "$before" "the accepted commit builds on the old tip"
expect_eq "$(cat "$T/pre-receive.in")" "$before $new refs/heads/main" "pre-receive reads OLD NEW refs/heads/main"
expect_eq "$(cat "$T/pre-receive.env")" "GIT_DIR=." "the hook runs in the remote with git's GIT_DIR, not ours"
expect_eq "$(cat "$T/post-receive.in" 2>/dev/null)" "$before $new refs/heads/main" "post-receive ran with OLD NEW refs/heads/main before the deploy returned"
expect_eq "$(cat "$T/post-update.args")" "refs/heads/main" "post-update ran with the ref"
# git push feeds the hook the same line.
git commit -q --allow-empty -m "by git push"
git push -q origin main 2>/dev/null
expect_eq "$(cat "$T/pre-receive.in")" "$new $(head_sha) refs/heads/main" "git push gives pre-receive the same line (oracle)"

# Racing deploys through receive-pack: none is lost.
for i in 1 2 3; do
	mkdir -p "manifests/apps/race$i"
	sed -e "s/name: multi/name: race$i/" -e "s#ghcr.io/acme/multi:1#ghcr.io/acme/race$i:1#" -e '/proxy/,$d' \
		manifests/apps/multi/app.yaml > "manifests/apps/race$i/app.yaml"
done
git add manifests && git commit -q -m "race apps" && git push -q origin main 2>/dev/null
base=$(hr_main)
for i in 1 2 3; do
	clone_remote "$HR" "$T/hrace$i"
	(SAASCTL_DEPLOY_ATTEMPTS=10 "$SAASCTL" -C "$T/hrace$i" deploy "race$i" --tag 3 > "$T/hrace$i.out" 2> "$T/hrace$i.err"; echo $? > "$T/hrace$i.rc") &
done
wait
for i in 1 2 3; do
	expect_eq "$(cat "$T/hrace$i.rc")" 0 "racing deploy $i through the hooks succeeds"
done
expect_eq "$(git --git-dir="$HR" log --format=%s "$base..main" | sort | tr '\n' '|')" \
	"deploy(race1): ghcr.io/acme/race1:1 → ghcr.io/acme/race1:3|deploy(race2): ghcr.io/acme/race2:1 → ghcr.io/acme/race2:3|deploy(race3): ghcr.io/acme/race3:1 → ghcr.io/acme/race3:3|" \
	"all 3 racing commits land through the hooks"

# The branch moves while receive-pack holds the push (another push won the
# ref's lock first): the server answers "failed to update ref", and the
# deploy fetches and tries again, as when it sees the branch moved.
clone_remote "$HR" "$T/mover"
(cd "$T/mover" && echo "moved under the push" > moved.txt && git add moved.txt &&
	git commit -qm "a push that wins the lock" && git push -q origin HEAD:refs/heads/side 2>/dev/null)
side=$(git --git-dir="$HR" rev-parse side)
cat > "$HR/hooks/pre-receive" <<HOOK
#!/bin/sh
cat > /dev/null
[ -e "$T/moved-once" ] && exit 0
touch "$T/moved-once"
env -u GIT_QUARANTINE_PATH git update-ref refs/heads/main $side
HOOK
git -C "$H" pull -q --rebase origin main 2>/dev/null
saas -C "$H" deploy web --image ghcr.io/acme/web:v4.1
expect_rc 0 "a push that lost the ref's lock on the server is retried and succeeds"
expect_err 'push rejected: the remote branch moved; fetching and trying again \(attempt 2 of 5\)' "losing the lock counts as the branch having moved"
expect_eq "$(git --git-dir="$HR" rev-parse main~1)" "$side" "the retried commit builds on the commit that won"
expect_eq "$(git --git-dir="$HR" show main:moved.txt)" "moved under the push" "the winner's change is kept"

# Another push holds the ref's lock: the branch has not moved yet, but it
# will. The server answers "failed to update ref" here too, and the deploy
# backs off and tries again rather than calling it a refusal.
# The lock goes when the retry arrives, not after a delay: under load the
# first push could otherwise find it gone already.
cat > "$HR/hooks/pre-receive" <<HOOK
#!/bin/sh
cat > /dev/null
[ -e "$T/locked-once" ] && { rm -f refs/heads/main.lock; exit 0; }
touch "$T/locked-once" refs/heads/main.lock
HOOK
before=$(git --git-dir="$HR" rev-parse main)
saas -C "$H" deploy web --image ghcr.io/acme/web:v4.2
expect_rc 0 "a push that found the ref locked on the server is retried and succeeds"
expect_err 'push rejected: the remote branch moved; fetching and trying again \(attempt 2 of 5\)' "a locked ref is retried"
expect_eq "$(git --git-dir="$HR" rev-parse main~1)" "$before" "the retried commit lands on the unchanged tip"

# A non-bare remote with the branch checked out: refused as git push
# refuses (receive.denyCurrentBranch), its work tree untouched; with
# updateInstead its work tree follows.
git clone -q "$HR" "$T/nonbare"
git pull -q --ff-only origin main
for url in "$T/nonbare" "file://$T/nonbare/.git"; do
	git remote set-url origin "$url"
	before=$(head_sha)
	saas deploy web --image ghcr.io/acme/web:v5
	expect_rc 1 "a push to the checked-out branch of a non-bare remote ($url) exits 1"
	expect_err "push to 'origin' rejected: 'refs/heads/main' branch is currently checked out: remote: error: refusing to update checked out branch: refs/heads/main" "the refusal says the branch is checked out ($url)"
	expect_eq "$(git -C "$T/nonbare" rev-parse main)$(git -C "$T/nonbare" status --porcelain)" "$before" "the non-bare remote is untouched ($url)"
	expect_eq "$(head_sha)" "$before" "the local branch is unchanged ($url)"
done
git -C "$T/nonbare" config receive.denyCurrentBranch updateInstead
saas deploy web --image ghcr.io/acme/web:v5
expect_rc 0 "receive.denyCurrentBranch=updateInstead accepts the push"
expect_eq "$(git -C "$T/nonbare" rev-parse main)" "$(head_sha)" "the non-bare remote's branch moves"
expect_eq "$(git -C "$T/nonbare" status --porcelain)" "" "the non-bare remote's work tree follows"
expect_file_same manifests/apps/web/webserver.yaml "$T/nonbare/manifests/apps/web/webserver.yaml" "the non-bare remote's files have the new image"
