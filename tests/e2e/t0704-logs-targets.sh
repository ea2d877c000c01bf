#!/bin/sh
# What saasctl logs tails: an app of the monorepo (namespace and selectors
# from its manifests), KIND/NAME through the API, pod/NAME, a pod regex, -l,
# --field-selector, -A; it waits for pods that do not exist yet, queues
# streams beyond --max-streams, and explains what matched nothing.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/kube-apiserver/lib.sh"
need openssl

kube_start '{'"$kube_tokens"', "pods": [
 {"name": "pb-web-1", "namespace": "panelbear", "labels": {"app": "panelbear", "component": "web"}, "containers": ["app"], "period_ms": 100},
 {"name": "pb-worker-1", "namespace": "panelbear", "labels": {"app": "panelbear", "component": "worker"}, "containers": ["celery"], "period_ms": 100},
 {"name": "pb-cron-1", "namespace": "panelbear", "labels": {"app": "panelbear", "component": "cron"}, "containers": ["app"], "period_ms": 100},
 {"name": "web-1", "labels": {"app": "web"}, "containers": ["app"], "period_ms": 100, "node": "node-a"},
 {"name": "web-2", "labels": {"app": "web"}, "containers": ["app"], "period_ms": 100, "node": "node-b"}],
 "generate": [{"count": 6, "pod": {"name": "many-{i}", "labels": {"app": "many"}, "containers": ["app"], "period_ms": 100}}],
 "workloads": [{"kind": "Deployment", "name": "web", "matchLabels": {"app": "web"}},
               {"kind": "StatefulSet", "name": "db", "matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]}]}'
cd "$T"
# Two contexts; the monorepo picks "fx", the kubeconfig's current one is broken.
kube_config kc '    token: tok-alice'
cat >> kc <<EOF
- name: broken
  context: {cluster: nowhere, user: u}
EOF
sed -i 's/current-context: fx/current-context: broken/' kc
export KUBECONFIG="$T/kc"

mkdir -p repo/manifests/apps/panelbear repo/manifests/apps/empty
printf 'project: acme\ncluster:\n  context: fx\n' > repo/saasctl.yaml
cat > repo/manifests/apps/panelbear/webserver.yaml <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: webserver, namespace: panelbear}
spec:
  selector:
    matchLabels: {app: panelbear, component: web}
  template:
    metadata:
      labels: {app: panelbear, component: web}
    spec:
      containers: [{name: app, image: "registry.example/panelbear:1"}]
EOF
sed -e 's/webserver/celery-worker/' -e 's/component: web/component: worker/g' \
	repo/manifests/apps/panelbear/webserver.yaml > repo/manifests/apps/panelbear/celery-worker.yaml
cat > repo/manifests/apps/empty/configmap.yaml <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: empty}
data: {a: b}
EOF
sleep 1

saas -C repo logs panelbear --no-follow -o raw
expect_rc 0 "an app: exit 0"
expect_out '^pb-web-1 app r0 line 1$' "an app: its webserver's pods"
expect_out '^pb-worker-1 celery r0 line 1$' "an app: its worker's pods"
expect_no_out 'pb-cron' "an app: pods of no workload of the app are left out"
grep '/namespaces/panelbear/pods"' requests-main.jsonl | grep -q '"labelSelector": "app=panelbear"' && ok "an app: its namespace, and the labels its workloads share sent to the API" || not_ok "an app: namespace and shared labels" "$(grep pods\" requests-main.jsonl | tail -2)"

saas -C repo logs nosuchapp --no-follow
expect_rc 1 "an unknown app: exit 1"
expect_err "^saasctl: logs: unknown app 'nosuchapp', and no pod in namespace 'default' matches it$" "an unknown app: one clear line"
saas -C repo logs nosuchapp
expect_rc 1 "an unknown app, following: exit 1 rather than wait"
saas -C repo logs empty --no-follow
expect_rc 1 "an app without workloads: exit 1"
expect_err "app 'empty' has no workload with a selector" "an app without workloads: says so"

saas logs --context nowhere web-1 --no-follow
expect_rc 1 "an unknown --context: exit 1"
saas logs web-1 --no-follow
expect_rc 1 "outside the monorepo the kubeconfig's current context is used"
expect_err "cluster 'nowhere' not found" "a broken context: one clear line"

saas logs deploy/web --context fx --no-follow -o raw
expect_rc 0 "deploy/NAME: exit 0"
expect_eq "$(cut -d' ' -f1 out | sort -u | tr '\n' ' ')" "web-1 web-2 " "deploy/NAME: the pods of its selector"
saas logs sts/db --context fx --no-follow -o raw
expect_eq "$(cut -d' ' -f1 out | sort -u | tr '\n' ' ')" "web-1 web-2 " "sts/NAME: matchExpressions become a selector"
grep -q '"labelSelector": "app in (web)"' requests-main.jsonl && ok "sts/NAME: 'app in (web)' sent" || not_ok "sts/NAME: 'app in (web)' sent"
saas logs deploy/nope --context fx --no-follow
expect_rc 1 "an unknown deployment: exit 1"
expect_err "^saasctl: logs: cannot read deploy 'nope' in namespace 'default': 404 Not Found: deployments.apps \"nope\" not found$" "an unknown deployment: one clear line"
saas logs widget/x --context fx --no-follow
expect_rc 1 "an unknown kind: exit 1"
expect_err "unknown kind 'widget'" "an unknown kind: named"

saas logs pod/web-2 --context fx --no-follow -o raw
expect_eq "$(cut -d' ' -f1 out | sort -u)" "web-2" "pod/NAME: that pod only"
saas logs 'web-[0-9]$' --context fx --no-follow -o raw
expect_eq "$(cut -d' ' -f1 out | sort -u | tr '\n' ' ')" "web-1 web-2 " "POD-REGEX: pods whose names match"
saas logs -l app=web --field-selector spec.nodeName=node-b --context fx --no-follow -o raw
expect_eq "$(cut -d' ' -f1 out | sort -u)" "web-2" "--field-selector is applied"
saas logs -A -l 'app in (panelbear)' --context fx --no-follow --tail 1
expect_out '^panelbear/pb-web-1/app ' "-A: every namespace, the namespace in the prefix"
grep -q '"path": "/api/v1/pods"' requests-main.jsonl && ok "-A lists pods cluster-wide" || not_ok "-A lists pods cluster-wide"
saas logs -l app=nothing --context fx --no-follow
expect_rc 1 "no pods (no follow): exit 1"
expect_err "^saasctl: logs: no pods match selector 'app=nothing' in namespace 'default'$" "no pods: one clear line"

# More streams than --max-streams: queued, not fatal.
saas logs -l app=many --context fx --no-follow --max-streams 2 -o raw
expect_rc 0 "--max-streams 2 with 6 pods: exit 0"
expect_eq "$(grep -c ' line 1$' out)" 6 "--max-streams 2 with 6 pods: every pod's logs"
expect_err "4 streams queued: --max-streams 2 are open" "--max-streams: the queueing is said"

# Following a selector with no pods yet: it says so, waits, and picks the
# pod up when it appears.
kube_start '{'"$kube_tokens"', "pods": [
 {"name": "later-1", "labels": {"app": "later"}, "containers": ["app"], "period_ms": 100, "create_ms": 1200}]}' later
kube_config kc-later '    token: tok-alice'
"$SAASCTL" logs -l app=later --kubeconfig kc-later -o raw > later.out 2> later.err &
pid=$!
sleep 2.6
kill -INT $pid
wait $pid
expect_eq "$?" 0 "waiting for pods: Ctrl-C exits 0"
grep -q 'no pods match yet; waiting for them' later.err && ok "waiting for pods: says so" || not_ok "waiting for pods: says so" "$(cat later.err)"
grep -q '^later-1 app r0 line 1$' later.out && ok "waiting for pods: a new pod is streamed" || not_ok "waiting for pods: a new pod is streamed" "$(cat later.out)"

# A broken saasctl.yaml is reported, not silently ignored: logs would
# otherwise fall back to another context or namespace than the project's.
mkdir -p broken && printf 'project: acme\ncluster: {contxet: prod}\n' > broken/saasctl.yaml
saas -C broken logs web --no-follow
expect_rc 1 "a broken saasctl.yaml fails logs"
expect_err "saasctl.yaml:2:11: unknown key 'cluster.contxet'; did you mean 'context'\?" "a broken saasctl.yaml is named with its position"
