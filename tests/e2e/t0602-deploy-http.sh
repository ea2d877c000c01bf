#!/bin/sh
# saasctl deploy over smart HTTP (git http-backend behind a CGI server that
# wants a token): credentials, a race of 4 deploys, a pre-receive hook.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/data/deploy/lib.sh"
need git

TOKEN=tok-$$-9f8e7d6c5b4a
port=$(free_port)
mkdir -p "$T/srv"
$PY "$TOP/tests/servers/git-http/server.py" "$port" "$T/srv" "$TOKEN" "$T/http.log" 2> "$T/server.err" &
server=$!
t_at_exit "kill $server"
wait_port "$port" || { not_ok "git http server starts" "$(cat "$T/server.err")"; exit 1; }

URL=http://127.0.0.1:$port/infra.git R=$T/srv/infra.git W=$T/work
setup_monorepo "$W" "$R" "$URL"
cd "$W" || exit 1
remote_main() { git --git-dir="$R" rev-parse main; }

saas deploy web --image ghcr.io/acme/web:v2
expect_rc 1 "a push without a token exits 1"
expect_err "authentication failed \(tried: nothing; set SAASCTL_GIT_TOKEN, GITHUB_TOKEN or GH_TOKEN\)" "a push without a token says what to set"
expect_no_err "pushed" "a failed push claims nothing"

GH_TOKEN=wrong-token saas deploy web --image ghcr.io/acme/web:v2
expect_rc 1 "a wrong token exits 1 (no endless retry)"
expect_err "authentication failed \(tried: GH_TOKEN\)" "a wrong token names where it came from"
expect_no_err "wrong-token" "the token is not printed"
expect_eq "$(git status --porcelain)" "" "a failed push leaves the work tree clean"
expect_eq "$(git rev-parse HEAD)" "$(remote_main)" "a failed push moves no branch"

GITHUB_TOKEN=$TOKEN saas -v deploy web --image ghcr.io/acme/web:v2
expect_rc 0 "a push with GITHUB_TOKEN succeeds"
expect_eq "$(remote_main)" "$(cat "$T/out")" "the commit reaches the server"
expect_no_err "$TOKEN" "-v does not print the token"
expect_eq "$(grep -c '^POST /infra.git/git-receive-pack x-access-token 200$' "$T/http.log")" 1 "the server saw user x-access-token"

# SAASCTL_GIT_TOKEN wins over GITHUB_TOKEN.
SAASCTL_GIT_TOKEN=$TOKEN GITHUB_TOKEN=wrong saas deploy web --image ghcr.io/acme/web:v3
expect_rc 0 "SAASCTL_GIT_TOKEN is tried first"

# 4 deploys of 4 apps at once through the server: none is lost.
for i in 1 2 3 4; do
	mkdir -p "manifests/apps/race$i"
	sed -e "s/name: multi/name: race$i/" -e "s#ghcr.io/acme/multi:1#ghcr.io/acme/race$i:1#" -e '/proxy/,$d' \
		manifests/apps/multi/app.yaml > "manifests/apps/race$i/app.yaml"
done
git add manifests && git commit -q -m "race apps" && git push -q "$R" main
base=$(remote_main)
for i in 1 2 3 4; do
	git clone -q "$R" "$T/race$i" && git -C "$T/race$i" remote set-url origin "$URL"
	(GH_TOKEN=$TOKEN "$SAASCTL" -C "$T/race$i" deploy "race$i" --tag 2 > "$T/race$i.out" 2> "$T/race$i.err"; echo $? > "$T/race$i.rc") &
	pids="${pids:-} $!"
done
wait $pids
for i in 1 2 3 4; do
	expect_eq "$(cat "$T/race$i.rc") $(cat "$T/race$i.err" | grep -v '^push rejected' | grep -v '^deploy(' | grep -v '^pushed')" "0 " "racing deploy $i over http succeeds"
done
expect_eq "$(git --git-dir="$R" log --format=%s "$base..main" | sort | tr '\n' '|')" \
	"deploy(race1): ghcr.io/acme/race1:1 → ghcr.io/acme/race1:2|deploy(race2): ghcr.io/acme/race2:1 → ghcr.io/acme/race2:2|deploy(race3): ghcr.io/acme/race3:1 → ghcr.io/acme/race3:2|deploy(race4): ghcr.io/acme/race4:1 → ghcr.io/acme/race4:2|" \
	"all 4 racing commits land"
expect_eq "$(git --git-dir="$R" rev-list --merges "$base..main" | wc -l) $(git --git-dir="$R" rev-list "$base..main" | wc -l)" "0 4" "the history is linear, nothing else pushed"

# A pre-receive hook refuses: its message, exit 1, no "pushed".
git pull -q "$R" main
cat > "$R/hooks/pre-receive" <<'HOOK'
#!/bin/sh
echo "deploys are frozen until Monday" >&2
exit 1
HOOK
chmod +x "$R/hooks/pre-receive"
before=$(remote_main)
GH_TOKEN=$TOKEN saas deploy web --image ghcr.io/acme/web:v9
expect_rc 1 "a push refused by a hook exits 1"
expect_err "^saasctl: deploy: cannot deploy 'web': push to 'origin' rejected: 'refs/heads/main' pre-receive hook declined: remote: deploys are frozen until Monday$" "the hook's message is shown"
expect_no_err "pushed|retry" "a refused push claims nothing and is not retried"
expect_eq "$(remote_main)" "$before" "the remote is unchanged"
expect_eq "$(git rev-parse HEAD)" "$before" "the local branch is unchanged"
expect_eq "$(git status --porcelain)" "" "the work tree is unchanged"
