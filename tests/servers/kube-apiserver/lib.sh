# Sourced by the tests of saasctl logs after tests/lib.sh: starts the
# kube-apiserver fixture with its own CA and writes kubeconfigs for it.
KUBE_FIXTURE=$TOP/tests/servers/kube-apiserver

# kube_certs: a CA, server and client certificates in $T/pki (openssl).
kube_certs() {
	[ -f "$T/pki/ca.crt" ] || "$KUBE_FIXTURE/mkcerts.sh" "$T/pki"
}

# kube_start SCENARIO-JSON [NAME]: starts a TLS fixture; sets KPORT and
# KURL (and ${NAME}_PORT when NAME is given). Requests are recorded in
# $T/requests-NAME.jsonl.
kube_start() {
	kube_certs
	_name=${2:-main}
	printf '%s\n' "$1" > "$T/scenario-$_name.json"
	KPORT=$(free_port)
	: > "$T/requests-$_name.jsonl"
	$PY "$KUBE_FIXTURE/server.py" --port "$KPORT" --scenario "$T/scenario-$_name.json" \
		--certs "$T/pki" --record "$T/requests-$_name.jsonl" > "$T/server-$_name.log" 2>&1 &
	_pid=$!
	t_at_exit "kill $_pid"
	wait_port "$KPORT" || { not_ok "the kube-apiserver fixture starts" "$(cat "$T/server-$_name.log")"; exit 1; }
	KURL=https://127.0.0.1:$KPORT
	eval "KPID_$_name=$_pid"
}

# kube_config FILE USER-YAML [CLUSTER-EXTRA-YAML]: a kubeconfig with one
# context "fx" for the fixture at $KURL, user "u" given as YAML lines
# indented by four spaces.
kube_config() {
	cat > "$1" <<EOF
apiVersion: v1
kind: Config
current-context: fx
clusters:
- name: fx
  cluster:
    server: ${KSERVER:-$KURL}
    certificate-authority: $T/pki/ca.crt
${3:-}
users:
- name: u
  user:
$2
contexts:
- name: fx
  context:
    cluster: fx
    user: u
    namespace: ${KNS:-default}
EOF
}

# A scenario of pods that all write one line per period_ms.
kube_tokens='"tokens": {"tok-alice": "alice", "tok-bob": "bob"}, "forbidden_users": ["bob"]'
