#!/bin/sh
# saasctl new app: the manifests of a new app, clean under lint, refused
# when the app exists, validated arguments.
. "$(dirname "$0")/../lib.sh"

R=$T/acme
"$SAASCTL" -q init "$R" > /dev/null || { not_ok "init"; exit 1; }

saas -C "$R" new app web --host www.example.com
expect_rc 0 "new app writes an app"
D=$R/manifests/apps/web
for f in deployment service ingress hpa configmap; do
	[ -f "$D/$f.yaml" ] && ok "new app writes $f.yaml" || not_ok "new app writes $f.yaml"
done
expect_out '^created  manifests/apps/web/deployment.yaml$' "new app lists the files"

# What the manifests hold, read back by an independent YAML parser.
$PY - "$D" > "$T/check" 2>&1 <<'PYEOF'
import sys, yaml, os
d = sys.argv[1]
docs = {}
for f in os.listdir(d):
    for doc in yaml.safe_load_all(open(os.path.join(d, f))):
        docs[doc["kind"]] = doc
dep, svc, ing, hpa, cm = (docs[k] for k in ("Deployment", "Service", "Ingress", "HorizontalPodAutoscaler", "ConfigMap"))
c = dep["spec"]["template"]["spec"]["containers"][0]
checks = {
    "deployment apps/v1": dep["apiVersion"] == "apps/v1",
    "namespace defaults to the name": all(x["metadata"]["namespace"] == "web" for x in docs.values()),
    "label app: web on every resource": all(x["metadata"]["labels"]["app"] == "web" for x in docs.values()),
    "selector is app: web": dep["spec"]["selector"]["matchLabels"] == {"app": "web"},
    "pod template labels": dep["spec"]["template"]["metadata"]["labels"] == {"app": "web"},
    "image pinned": c["image"] == "ghcr.io/acme/web:0.1.0",
    "resources": "requests" in c["resources"] and "limits" in c["resources"],
    "probes": "readinessProbe" in c and "livenessProbe" in c,
    "envFrom the configmap": c["envFrom"][0]["configMapRef"]["name"] == cm["metadata"]["name"],
    "service selects app: web": svc["spec"]["selector"] == {"app": "web"},
    "service port 8000": svc["spec"]["ports"][0]["port"] == 8000,
    "ingress networking.k8s.io/v1": ing["apiVersion"] == "networking.k8s.io/v1",
    "ingressClassName nginx": ing["spec"]["ingressClassName"] == "nginx",
    "limit-rpm 600": ing["metadata"]["annotations"]["nginx.ingress.kubernetes.io/limit-rpm"] == "600",
    "letsencrypt-prod issuer": ing["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt-prod",
    "cloudflare-proxied": ing["metadata"]["annotations"]["external-dns.alpha.kubernetes.io/cloudflare-proxied"] == "true",
    "tls for the host": ing["spec"]["tls"][0]["hosts"] == ["www.example.com"],
    "rule for the host": ing["spec"]["rules"][0]["host"] == "www.example.com",
    "backend is the service": ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == "web",
    "hpa autoscaling/v2": hpa["apiVersion"] == "autoscaling/v2",
    "hpa 2..5": (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 5),
    "hpa cpu 70": hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 70,
    "hpa targets the deployment": hpa["spec"]["scaleTargetRef"]["name"] == "web",
}
for name, good in checks.items():
    print(("ok " if good else "BAD ") + name)
PYEOF
if grep -q '^BAD\|Error\|Traceback' "$T/check"; then not_ok "the manifests hold what they should" "$(cat "$T/check")"; else ok "the manifests hold what they should ($(grep -c '^ok' "$T/check") checks)"; fi

saas -C "$R" lint --format json
expect_rc 0 "a new app passes lint"
expect_eq "$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$T/out")" "0" "a new app has no lint findings, not even warnings"

# Every option, then read back through apps --json.
saas -C "$R" new app api --host api.example.com --host api2.example.com --image registry.example.com/api:2.1 \
	--port 9000 --namespace backend --replicas 3:9 --cpu-target 55 --rpm 120
expect_rc 0 "new app takes every option"
saas -C "$R" --json apps
$PY - "$T/out" > "$T/check" <<'PYEOF'
import json, sys
a = {x["name"]: x for x in json.load(open(sys.argv[1]))}["api"]
assert a["namespace"] == "backend", a
assert a["images"] == ["registry.example.com/api:2.1"], a
assert a["hosts"] == ["api.example.com", "api2.example.com"], a
assert (a["replicas_min"], a["replicas_max"]) == (3, 9), a
assert a["rpm"] == 120, a
print("fine")
PYEOF
expect_eq "$(cat "$T/check")" "fine" "the options land in the manifests"
grep -q 'averageUtilization: 55' "$R/manifests/apps/api/hpa.yaml" && ok "--cpu-target sets the HPA target" || not_ok "--cpu-target sets the HPA target"
grep -q 'containerPort: 9000' "$R/manifests/apps/api/deployment.yaml" && ok "--port sets the container port" || not_ok "--port sets the container port"
saas -C "$R" lint
expect_rc 0 "an app with every option passes lint"

# An existing app is refused, and its files are left as they were.
cp -r "$D" "$T/before"
saas -C "$R" new app web --host other.example.com
expect_rc 1 "an existing app is refused"
expect_err "^saasctl: new app: app 'web' already exists in 'manifests/apps/web'$" "the refusal names the app"
diff -r "$T/before" "$D" > /dev/null && ok "a refused app is left untouched" || not_ok "a refused app is left untouched"
expect_eq "$(ls -A "$R/manifests/apps" | grep -c '^\.web')" "0" "no staging folder is left behind"

# Bad arguments are refused before anything is written.
bad() {
	want=$1 msg=$2; shift 2
	saas -C "$R" new app "$@"
	expect_rc "$want" "refused: $*"
	expect_err "$msg" "the refusal explains: $*"
}
bad 2 "missing --host" bad1
bad 2 "missing the app NAME" --host a.example.com
bad 1 "invalid app name 'Bad_Name'" Bad_Name --host a.example.com
bad 1 "invalid host 'not a host'" bad2 --host "not a host"
bad 1 "image 'nginx' has no version tag" bad3 --host a.example.com --image nginx
bad 1 "image 'nginx:latest' has no version tag" bad4 --host a.example.com --image nginx:latest
bad 2 "bad --replicas '5:2'" bad5 --host a.example.com --replicas 5:2
bad 2 "bad --replicas 'x'" bad6 --host a.example.com --replicas x
bad 2 "bad --port '0'" bad7 --host a.example.com --port 0
bad 2 "bad --port '70000'" bad8 --host a.example.com --port 70000
bad 2 "bad --cpu-target '0'" bad9 --host a.example.com --cpu-target 0
bad 2 "bad --rpm 'lots'" bad10 --host a.example.com --rpm lots
bad 2 "unknown option '--frob'" bad11 --host a.example.com --frob 1
bad 1 "invalid namespace 'NS'" bad12 --host a.example.com --namespace NS
expect_eq "$(ls "$R/manifests/apps" | tr '\n' ' ')" "api web " "refused apps leave nothing behind"

# Outside a monorepo.
mkdir "$T/empty"
saas -C "$T/empty" new app web --host www.example.com
expect_rc 1 "new app outside a monorepo fails"
expect_err "not inside an infra monorepo" "new app outside a monorepo says so"

# --json.
saas -C "$R" --json new app j1 --host j1.example.com
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["app"] == "j1" and len(d["files"]) == 5' "$T/out" \
	&& ok "--json reports the app and its files" || not_ok "--json reports the app and its files" "$(cat "$T/out")"
