#!/bin/sh
# saasctl exec: the app's ConfigMap and unsealed secrets reach CMD through
# execve, and no secret value is ever in an argv (/proc/PID/cmdline), an
# error message or -v output.
. "$(dirname "$0")/../lib.sh"
R=$T/repo
mkdir -p "$R/keys" "$R/manifests/apps/web" "$R/manifests/apps/api"
cd "$R"
for k in cluster recovery; do "$SAASCTL" keygen -q --name $k --out keys > /dev/null; done
printf 'project: acme\nsecrets: {recipients: [keys/cluster.pub, keys/recovery.pub]}\n' > saasctl.yaml
cat > manifests/apps/web/configmap.yaml <<'YEOF'
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config, namespace: web}
data:
  LOG_LEVEL: debug
  DB_PASSWORD: overridden-by-the-secret
YEOF
printf 'DB_PASSWORD=Sup3r-S3cret-Db\nAPI_TOKEN=Sup3r-S3cret-Api\n' > "$T/env"
"$SAASCTL" seal --from-env-file "$T/env" --name web-secrets -n web -o manifests/apps/web/secrets.sealed.yaml 2>/dev/null
rm "$T/env"

run "$SAASCTL" exec web -k keys/cluster.key -- sh -c 'printf "%s|%s|%s|%s\n" "$LOG_LEVEL" "$DB_PASSWORD" "$API_TOKEN" "$KEEP"' 
expect_rc 0 "exec runs the command"
expect_eq "$(cat "$T/out")" "debug|Sup3r-S3cret-Db|Sup3r-S3cret-Api|" "CMD sees the ConfigMap and the secrets; a secret wins"
KEEP=inherited run "$SAASCTL" exec web -k keys/cluster.key -- sh -c 'echo "$KEEP"'
expect_eq "$(cat "$T/out")" "inherited" "the inherited environment is kept"
run "$SAASCTL" exec web -k keys/cluster.key -- sh -c 'exit 7'
expect_rc 7 "exec returns the command's status"

# While CMD runs, it is the same process (execve), and neither its argv
# nor anything else on a command line holds a secret; its environment does.
"$SAASCTL" exec web -k keys/cluster.key -- sleep 30 > /dev/null 2>&1 &
pid=$!
t_at_exit "kill $pid"
i=0
while [ $i -lt 100 ] && [ "$(tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null)" != "sleep 30 " ]; do sleep 0.05; i=$((i + 1)); done
expect_eq "$(tr '\0' ' ' < /proc/$pid/cmdline)" "sleep 30 " "the saasctl process became CMD (execve, no shell)"
if grep -q 'Sup3r' /proc/$pid/cmdline; then not_ok "no secret in CMD's argv"; else ok "no secret in CMD's argv"; fi
leak=""
for p in /proc/[0-9]*; do
	grep -q 'Sup3r' "$p/cmdline" 2>/dev/null && leak="$leak $(basename "$p")"
done
expect_eq "$leak" "" "no process on the machine has a secret in its argv"
if tr '\0' '\n' < /proc/$pid/environ | grep -qx 'API_TOKEN=Sup3r-S3cret-Api'; then ok "the secret is in CMD's environment"; else not_ok "the secret is in CMD's environment"; fi
kill $pid; wait $pid 2>/dev/null

# -v says what it does, with names only.
saas -v exec web -k keys/cluster.key -- true
expect_rc 0 "exec -v"
expect_err "opened 'web/web-secrets' item 'API_TOKEN'" "-v names the items"
expect_err "running '/.*true' for app 'web' with 3 added variables" "-v names the command and the count"
expect_no_err 'Sup3r' "-v output holds no secret"
saas -v unseal manifests/apps/web/secrets.sealed.yaml -k keys/cluster.key
expect_no_err 'Sup3r' "unseal -v stderr holds no secret"
printf 'Sup3r-S3cret-Db' > "$T/v"
saas -v seal --from-file "DB=$T/v" --name x -n web
expect_err "sealing 'web/x' item 'DB' \\(15 bytes\\) to 2 recipients" "seal -v names the item and its size"
expect_no_err 'Sup3r' "seal -v stderr holds no secret"
expect_no_out 'Sup3r' "seal output holds no secret"

# Errors: clear, and never with a value.
saas exec nope -k keys/cluster.key -- true
expect_rc 1 "an unknown app fails"
expect_err "no app 'nope' in manifests/apps/ \\(apps: api, web\\)" "the apps are listed"
saas exec web -k keys/cluster.key -- no-such-command-here
expect_rc 127 "an unknown command exits 127"
expect_err "cannot run 'no-such-command-here': not found in PATH" "an unknown command is named"
saas exec web -k keys/cluster.key
expect_rc 2 "no command is a usage error"
saas exec web -- true
expect_rc 2 "no key is a usage error"
"$SAASCTL" keygen -q --name other --out "$T" > /dev/null
saas exec web -k "$T/other.key" -- true
expect_rc 1 "a key that opens nothing fails before running anything"
expect_err "cannot open 'web/web-secrets' item '[A-Z_]+': not sealed to key ID" "the wrong key is explained"
expect_no_err 'Sup3r' "the error holds no secret"
sed 's/^  name: web-secrets$/  name: moved/' manifests/apps/web/secrets.sealed.yaml > manifests/apps/api/moved.sealed.yaml
saas exec api -k keys/cluster.key -- true
expect_rc 1 "a moved SealedSecret does not open"
expect_err "fails authentication" "the moved SealedSecret is explained"
expect_no_err 'Sup3r' "the moved-secret error holds no secret"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad}\ndata: {"BAD-NAME": x}\n' > manifests/apps/api/cm.yaml
rm manifests/apps/api/moved.sealed.yaml
saas exec api -k keys/cluster.key -- true
expect_rc 1 "a key that is not a variable name fails"
expect_err "cannot pass 'BAD-NAME' from ConfigMap 'bad'" "the bad variable name is named"
