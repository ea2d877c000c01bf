#!/bin/sh
# The kube-apiserver fixture speaks the real API: the real kubectl lists
# pods, follows a pod's log and reads logs by label selector against it.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/kube-apiserver/lib.sh"
need kubectl openssl

kube_start '{'"$kube_tokens"', "pods": [
 {"name": "web-1", "labels": {"app": "web"}, "containers": ["app"], "period_ms": 100},
 {"name": "web-2", "labels": {"app": "web"}, "containers": ["app"], "period_ms": 100},
 {"name": "db-1", "labels": {"app": "db"}, "containers": ["pg"], "period_ms": 100, "restarts": [{"at_ms": 300}]}]}'
kube_config "$T/kc" '    token: tok-alice'
export KUBECONFIG="$T/kc"
sleep 1

run kubectl get pods
expect_rc 0 "kubectl get pods works against the fixture"
expect_out '^NAME +READY +STATUS +RESTARTS +AGE' "kubectl prints the server-side table"
expect_out '^web-1 +1/1 +Running +0 ' "kubectl shows a running pod"
expect_out '^db-1 +1/1 +Running +1 ' "kubectl shows a restarted pod"

run kubectl get pods -l app=web -o name
expect_eq "$(cat "$T/out" | tr '\n' ' ')" "pod/web-1 pod/web-2 " "kubectl get pods -l filters by label"

run timeout 2 kubectl logs -f web-1
expect_out '^web-1 app r0 line 1$' "kubectl logs -f streams the first line"
n=$(grep -c 'web-1 app r0 line' "$T/out")
[ "$n" -ge 10 ] && ok "kubectl logs -f keeps streaming ($n lines)" || not_ok "kubectl logs -f keeps streaming" "$n lines"
$PY -c '
import sys
n = [int(l.split()[-1]) for l in open(sys.argv[1])]
sys.exit(0 if n == list(range(1, len(n) + 1)) else 1)' "$T/out" && ok "kubectl logs -f gets numbered lines in order" || not_ok "kubectl logs -f gets numbered lines in order"

run kubectl logs -l app=web --prefix --tail 2 --timestamps
expect_rc 0 "kubectl logs -l works against the fixture"
expect_eq "$(grep -c '^\[pod/web-[12]/app\] 20[0-9-]*T[0-9:.]*Z web-[12] app r0 line' "$T/out")" 4 "kubectl logs -l --tail 2 gets two lines of each pod"

run kubectl logs db-1 --previous
expect_rc 0 "kubectl logs --previous works"
expect_out '^db-1 pg r0 line 2$' "--previous serves the earlier instance"

run kubectl logs web-1 --since-time "2000-01-01T00:00:00Z"
expect_out '^web-1 app r0 line 1$' "kubectl logs --since-time works"

kube_config "$T/kc-bad" '    token: nope'
run kubectl --kubeconfig "$T/kc-bad" get pods
expect_rc 1 "kubectl is refused with a bad token"
expect_err 'Unauthorized|must be logged in' "kubectl reports 401"

kube_config "$T/kc-bob" '    token: tok-bob'
run kubectl --kubeconfig "$T/kc-bob" get pods
expect_err 'forbidden' "kubectl reports 403 for a forbidden user"

kube_config "$T/kc-cert" "    client-certificate: $T/pki/client-ec.crt
    client-key: $T/pki/client-ec.key"
run kubectl --kubeconfig "$T/kc-cert" get pods -o name
expect_rc 0 "kubectl authenticates with an EC client certificate"
grep -q '"user": "k3s-admin"' "$T/requests-main.jsonl" && ok "the fixture maps the certificate CN to the user" || not_ok "the fixture maps the certificate CN to the user"
