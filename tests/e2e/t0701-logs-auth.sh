#!/bin/sh
# saasctl logs authenticates every way a kubeconfig can say: token,
# tokenFile, client certificates (RSA and EC, files and -data), exec
# plugins v1 and v1beta1 (cache, expiry, re-run on 401, env, cluster info,
# installHint), in-cluster service accounts; it merges $KUBECONFIG, honours
# tls-server-name, insecure-skip-tls-verify, proxy-url and HTTPS_PROXY,
# refuses auth-provider with a way out, and never shows a credential.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/kube-apiserver/lib.sh"
need openssl

kube_start '{'"$kube_tokens"', "token_prefixes": {"exec-": "exec-user"},
 "token_max_uses": {"exec-1": 2},
 "pods": [{"name": "web-1", "labels": {"app": "web"}, "containers": ["app"], "period_ms": 100},
          {"name": "web-2", "labels": {"app": "web"}, "containers": ["app"], "period_ms": 100},
          {"name": "web-3", "labels": {"app": "web"}, "containers": ["app"], "period_ms": 100}]}'
sleep 0.5
cd "$T"

# logs_ok NAME ARGS...: saasctl logs reads web-1's first line.
logs_ok() {
	name=$1; shift
	saas logs web-1 --no-follow "$@"
	if [ "$rc" -eq 0 ] && grep -q '^web-1/app web-1 app r0 line 1$' "$T/out"; then ok "$name"
	else not_ok "$name" "exit $rc" "stderr: $(cat "$T/err")"; fi
}
last_user() { tail -1 "$T/requests-main.jsonl" | sed 's/.*"user": "\([^"]*\)".*/\1/'; }

kube_config kc-token '    token: tok-alice'
logs_ok "a bearer token" --kubeconfig kc-token
expect_eq "$(last_user)" alice "the token's user made the requests"

mkdir -p sub && printf 'tok-alice\n' > sub/token
kube_config sub/kc-file '    tokenFile: token'
logs_ok "a tokenFile, relative to its kubeconfig" --kubeconfig sub/kc-file

kube_config kc-rsa "    client-certificate: pki/client-rsa.crt
    client-key: pki/client-rsa.key"
logs_ok "an RSA client certificate from files" --kubeconfig kc-rsa
expect_eq "$(last_user)" alice "the certificate's CN is the user"

kube_config kc-ec "    client-certificate-data: $(base64 -w0 pki/client-ec.crt)
    client-key-data: $(base64 -w0 pki/client-ec.key)"
logs_ok "an EC client certificate inline (k3s)" --kubeconfig kc-ec
expect_eq "$(last_user)" k3s-admin "the EC certificate's CN is the user"

# Exec plugins. The plugin counts its runs, keeps what it was given and
# prints a token (or a certificate) with an expiry.
mkdir -p bin
cat > bin/plugin <<'EOF'
#!/bin/sh
# plugin API EXPIRY [cert]
dir=$(dirname "$0")/..
n=$(( $(cat "$dir/runs" 2>/dev/null || echo 0) + 1 )); echo $n > "$dir/runs"
printf '%s' "$KUBERNETES_EXEC_INFO" > "$dir/exec-info"
printf '%s' "$PLUGIN_GREETING" > "$dir/exec-env"
if [ "${3:-}" = cert ]; then
	c=$(sed ':a;N;$!ba;s/\n/\\n/g' "$dir/pki/client-ec.crt"); k=$(sed ':a;N;$!ba;s/\n/\\n/g' "$dir/pki/client-ec.key")
	printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"clientCertificateData":"%s","clientKeyData":"%s","expirationTimestamp":"%s"}}\n' "$1" "$c" "$k" "$2"
else
	printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"exec-%s","expirationTimestamp":"%s"}}\n' "$1" "$n" "$2"
fi
EOF
chmod +x bin/plugin
exec_user() { # API EXPIRY [cert]
	printf '    exec:\n      apiVersion: %s\n      command: ./bin/plugin\n      args: [%s, "%s", %s]\n      env: [{name: PLUGIN_GREETING, value: hello}]\n      provideClusterInfo: true\n      interactiveMode: Never\n' \
		"$1" "$1" "$2" "${3:-token}"
}

rm -f runs
kube_config kc-exec1 "$(exec_user client.authentication.k8s.io/v1 2099-01-01T00:00:00Z)"
saas logs -l app=web --no-follow --kubeconfig kc-exec1
expect_rc 0 "exec plugin v1: works"
expect_eq "$(grep -c 'line 1$' "$T/out")" 3 "exec plugin v1: every pod's logs"
expect_eq "$(cat runs)" 2 "exec plugin v1: cached, and run again after a 401"
grep -q '"token": *"exec-1"\|exec-user' requests-main.jsonl && ok "exec plugin v1: its token is used" || not_ok "exec plugin v1: its token is used"
expect_eq "$(cat exec-env)" hello "exec plugin: env is passed"
$PY -c '
import json, sys
i = json.load(open("exec-info"))
assert i["apiVersion"] == "client.authentication.k8s.io/v1", i
assert i["kind"] == "ExecCredential" and i["spec"]["interactive"] is False, i
assert i["spec"]["cluster"]["server"] == sys.argv[1], i
assert "BEGIN CERTIFICATE" in __import__("base64").b64decode(i["spec"]["cluster"]["certificate-authority-data"]).decode()
' "$KURL" 2>"$T/py.err" && ok "exec plugin: KUBERNETES_EXEC_INFO with provideClusterInfo" || not_ok "exec plugin: KUBERNETES_EXEC_INFO" "$(cat "$T/py.err")"

# (the run counter goes on, so the token is a fresh one)
before=$(cat runs)
kube_config kc-exec2 "$(exec_user client.authentication.k8s.io/v1beta1 2099-01-01T00:00:00Z)"
saas logs -l app=web --no-follow --kubeconfig kc-exec2
expect_rc 0 "exec plugin v1beta1: works"
expect_eq "$(( $(cat runs) - before ))" 1 "exec plugin v1beta1: a valid credential is cached"

rm -f runs
kube_config kc-exec3 "$(exec_user client.authentication.k8s.io/v1beta1 2000-01-01T00:00:00Z)"
saas logs -l app=web --no-follow --kubeconfig kc-exec3
expect_rc 0 "exec plugin: an expired credential still works once"
[ "$(cat runs)" -ge 4 ] && ok "exec plugin: an expired credential is renewed before each request ($(cat runs) runs)" || not_ok "exec plugin: expired credentials are renewed" "$(cat runs) runs"

kube_config kc-exec4 "$(exec_user client.authentication.k8s.io/v1 2099-01-01T00:00:00Z cert)"
logs_ok "exec plugin: a client certificate" --kubeconfig kc-exec4
expect_eq "$(last_user)" k3s-admin "exec plugin: the certificate it returned is used"

kube_config kc-exec5 '    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: gke-auth-nowhere
      installHint: "install it with: apt-get install gke-auth-nowhere"'
saas logs web-1 --no-follow --kubeconfig kc-exec5
expect_rc 1 "exec plugin missing: exit 1"
expect_err "^saasctl: logs: .*exec plugin 'gke-auth-nowhere' of user 'u' not found: install it with: apt-get install gke-auth-nowhere$" "exec plugin missing: the installHint is shown"

kube_config kc-ap '    auth-provider:
      name: gcp
      config: {access-token: secret-access-token}'
saas logs web-1 --no-follow --kubeconfig kc-ap
expect_rc 1 "auth-provider: exit 1"
expect_err "auth-provider 'gcp'.*gke-gcloud-auth-plugin" "auth-provider: says how to migrate"
expect_no_err 'secret-access-token' "auth-provider: its token is not shown"

# In the cluster: the service account, no kubeconfig anywhere.
mkdir -p sa && printf 'tok-alice' > sa/token && cp pki/ca.crt sa/ca.crt && printf 'default' > sa/namespace
KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=$KPORT SAASCTL_SERVICEACCOUNT_DIR=$T/sa \
	run "$SAASCTL" logs web-1 --no-follow
expect_rc 0 "in-cluster config: works with no kubeconfig"
expect_out '^web-1/app web-1 app r0 line 1$' "in-cluster config: reads logs"
run "$SAASCTL" logs web-1 --no-follow
expect_rc 1 "no kubeconfig and no cluster: exit 1"
expect_err '^saasctl: logs: no Kubernetes configuration: no kubeconfig \(tried ~/.kube/config\) and not running in a cluster$' "no kubeconfig: one clear line"

# ~/.kube/config, then $KUBECONFIG merged (the first definition wins).
mkdir -p home/.kube && kube_config home/.kube/config '    token: tok-alice'
logs_ok "~/.kube/config is the default"
kube_config kc-second '    token: wrong-token'
sed -i 's/current-context: fx/current-context: nowhere/' kc-second
KUBECONFIG="$T/nonexistent:$T/kc-token:$T/kc-second" logs_ok "KUBECONFIG: files merged, the first definition wins"
KUBECONFIG="$T/kc-second:$T/kc-token" run "$SAASCTL" logs web-1 --no-follow
expect_rc 1 "KUBECONFIG: the first file's current-context wins"
expect_err "context 'nowhere' not found" "an unknown context is named"
saas logs web-1 --no-follow --kubeconfig kc-token --context prod
expect_rc 1 "--context NAME: unknown: exit 1"
expect_err "^saasctl: logs: context 'prod' not found in kubeconfig$" "--context NAME: unknown: one clear line"

# TLS: a server name other than the host, verification off, a wrong CA.
kube_config kc-sni '    token: tok-alice' '    tls-server-name: kubernetes'
logs_ok "tls-server-name: verified against that name" --kubeconfig kc-sni
kube_config kc-sni2 '    token: tok-alice' '    tls-server-name: wrong.example'
saas logs web-1 --no-follow --kubeconfig kc-sni2
expect_rc 1 "tls-server-name: a name the certificate lacks fails"
sed "s|certificate-authority: .*|insecure-skip-tls-verify: true|" kc-token > kc-insecure
logs_ok "insecure-skip-tls-verify" --kubeconfig kc-insecure
sed "s|pki/ca.crt|pki/other-ca.crt|" kc-token > kc-wrongca
saas logs web-1 --no-follow --kubeconfig kc-wrongca
expect_rc 1 "a wrong CA: exit 1"
expect_err "^saasctl: logs: cannot list pods in namespace 'default': cannot reach the Kubernetes API at 'https://127.0.0.1:[0-9]+': .*(certificate|SSL)" "a wrong CA: one clear line"
expect_eq "$(wc -l < "$T/err")" 1 "a wrong CA: one line only"

# Bad credentials and forbidden users.
kube_config kc-bad '    token: expired-token'
saas logs web-1 --no-follow --kubeconfig kc-bad
expect_rc 1 "a bad token: exit 1"
expect_err "rejected the credentials of user 'u' \(401 Unauthorized" "a bad token: 401 explained"
expect_no_err 'expired-token' "a bad token is not shown"
kube_config kc-bob '    token: tok-bob'
saas logs web-1 --no-follow --kubeconfig kc-bob
expect_rc 1 "a forbidden user: exit 1"
expect_err '403 Forbidden: pods is forbidden: User "bob"' "a forbidden user: the API's reason"

# -v shows the requests, never the credentials.
saas -v logs web-1 --no-follow --kubeconfig kc-token
expect_err 'Authorization: \[redacted\]' "-v shows the Authorization header redacted"
expect_no_err 'tok-alice' "-v never shows the token"
saas -v logs web-1 --no-follow --kubeconfig kc-exec1
expect_no_err 'exec-[0-9]' "-v never shows an exec plugin's token"

# Proxies: proxy-url in the kubeconfig, and HTTPS_PROXY / NO_PROXY.
PPORT=$(free_port)
$PY "$KUBE_FIXTURE/proxy.py" "$PPORT" "$T/proxy.log" &
t_at_exit "kill $!"
wait_port "$PPORT"
kube_config kc-proxy '    token: tok-alice' "    proxy-url: http://127.0.0.1:$PPORT"
: > proxy.log
logs_ok "proxy-url: through the proxy" --kubeconfig kc-proxy
grep -q "127.0.0.1:$KPORT" proxy.log && ok "proxy-url: the proxy tunnelled the request" || not_ok "proxy-url: the proxy tunnelled the request"
: > proxy.log
HTTPS_PROXY=http://127.0.0.1:$PPORT logs_ok "HTTPS_PROXY: through the proxy" --kubeconfig kc-token
grep -q "127.0.0.1:$KPORT" proxy.log && ok "HTTPS_PROXY is honoured" || not_ok "HTTPS_PROXY is honoured"
: > proxy.log
HTTPS_PROXY=http://127.0.0.1:$PPORT NO_PROXY=127.0.0.1 logs_ok "NO_PROXY: direct" --kubeconfig kc-token
[ ! -s proxy.log ] && ok "NO_PROXY is honoured" || not_ok "NO_PROXY is honoured"

# Unreachable.
UPORT=$(free_port)
KURL=https://127.0.0.1:$UPORT kube_config kc-down '    token: tok-alice'
saas logs web-1 --no-follow --kubeconfig kc-down
expect_rc 1 "an unreachable API: exit 1"
expect_err "^saasctl: logs: cannot list pods in namespace 'default': cannot reach the Kubernetes API at 'https://127.0.0.1:$UPORT': .*" "an unreachable API: one clear line"

# A server URL with a path prefix (an API behind a gateway) keeps it.
kube_start '{'"$kube_tokens"', "path_prefix": "/k8s/prod",
 "pods": [{"name": "web-1", "labels": {"app": "web"}, "containers": ["app"], "period_ms": 100}]}' prefix
sleep 0.4
KSERVER=$KURL/k8s/prod/ kube_config kc-prefix '    token: tok-alice'
logs_ok "a server with a path prefix" --kubeconfig kc-prefix
grep -q '"path": "/k8s/prod/api/v1/namespaces/default/pods/web-1/log"' requests-prefix.jsonl && ok "the path prefix is kept" || not_ok "the path prefix is kept"
