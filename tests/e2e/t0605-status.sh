#!/bin/sh
# saasctl status: the apps' images against the cluster's, Flux against
# HEAD and origin, rollouts, restarts, HPAs and certificates, from the
# kube-apiserver fixture; each health state, each source missing, --json
# and --watch.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/data/deploy/lib.sh"
. "$TOP/tests/servers/kube-apiserver/lib.sh"
need git openssl curl

W=$T/work R=$T/remote.git
setup_monorepo "$W" "$R"
cd "$W" || exit 1
cat > manifests/apps/web/ingress.yaml <<'EOF'
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: web
spec:
  tls:
    - hosts: [app.example.com]
      secretName: web-tls
  rules:
    - host: app.example.com
EOF
git add -A && git commit -q -m ingress && git push -q origin main && git fetch -q origin
sha=$(git rev-parse HEAD)
now=$(date +%s)
iso() { date -u -d "@$(($now + $1 * 86400))" +%Y-%m-%dT%H:%M:%SZ; }

# scenario [no-flux] [no-certs]: the rollout scenario's objects, all rolled
# out at v1, plus redis, an HPA and the web certificate
scenario() {
	kind=success
	case " $* " in *" no-flux "*) kind=no-flux ;; esac
	FLUX_SHA=$sha $PY "$TOP/tests/data/deploy/rollout-scenario.py" $kind "$R" |
	$PY -c '
import json, sys
d = json.load(sys.stdin)
d.pop("script")
objs = d["objects"]
objs.append({"apiVersion": "apps/v1", "kind": "StatefulSet",
  "metadata": {"name": "redis", "namespace": "web", "generation": 1},
  "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "redis"}},
           "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
           "template": {"spec": {"containers": [{"name": "redis", "image": "redis:7.2"}]}}},
  "status": {"observedGeneration": 1, "replicas": 1, "readyReplicas": 1, "updatedReplicas": 1,
             "currentReplicas": 1, "currentRevision": "redis-1", "updateRevision": "redis-1"}})
objs.append({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
  "metadata": {"name": "webserver", "namespace": "web"},
  "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "webserver"},
           "minReplicas": 2, "maxReplicas": 10},
  "status": {"currentReplicas": 2, "desiredReplicas": 2}})
if "no-certs" not in sys.argv:
    objs.insert(0, {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
      "metadata": {"name": "certificates.cert-manager.io"},
      "spec": {"group": "cert-manager.io", "scope": "Namespaced",
               "names": {"plural": "certificates", "singular": "certificate", "kind": "Certificate"},
               "versions": [{"name": "v1", "served": True, "storage": True,
                             "subresources": {"status": {}}}]}})
    objs.append({"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
      "metadata": {"name": "web-tls", "namespace": "web"},
      "spec": {"secretName": "web-tls", "dnsNames": ["app.example.com"]},
      "status": {"notAfter": sys.argv[1],
                 "conditions": [{"type": "Ready", "status": "True"}]}})
print(json.dumps(d))
' "$(iso 60)" "$@" > "$T/scen.json"
	[ -n "${KPID_main:-}" ] && kill "$KPID_main" 2>/dev/null
	kube_start "$(cat "$T/scen.json")"
	kube_config "$T/kc" '    token: tok-alice'
	export KUBECONFIG="$T/kc"
}
api() { # METHOD PATH BODY: a merge patch
	curl -s -X "$1" --cacert "$T/pki/ca.crt" -H 'Authorization: Bearer tok-alice' \
		-H 'Content-Type: application/merge-patch+json' --data-binary "$3" "$KURL$2" > /dev/null
}

scenario
saas status web
expect_rc 0 "all healthy: exit 0"
expect_out '^web +healthy$' "the app is healthy"
expect_out '^  image     deployment/webserver/web  ghcr.io/acme/web:v1$' "the pinned image, running as pinned"
expect_out "^  flux      flux-system/apps  main@sha1:$sha  Ready=True  at origin\$" "Flux at origin"
expect_out '^  workload  deployment/webserver  complete  2/2 ready  0 restarted \(1h\)  hpa 2/2 \(max 10\)$' "the workload, its pods and HPA"
expect_out '^  workload  statefulset/redis  complete  1/1 ready' "the StatefulSet"
expect_out '^  cert      web/web-tls  app.example.com  expires in (59|60) days$' "the certificate of the Ingress host"
expect_out '^healthchecks  not configured$' "Healthchecks not configured"
expect_eq "$(cat "$T/err")" "" "nothing on stderr"

saas status web --json
expect_rc 0 "--json: exit 0"
field() { $PY -c 'import json,sys; d=json.load(open(sys.argv[2])); print(eval(sys.argv[1]))' "$1" "$T/out"; }
expect_eq "$(field 'd["health"], d["apps"][0]["name"], d["apps"][0]["flux"]["at_origin"], d["sources"]["cluster"]')" "('healthy', 'web', True, 'ok')" "--json: one document"
expect_eq "$(field '[(w["name"], w["rollout"], w["ready"], w["desired"]) for w in d["apps"][0]["workloads"]][-1]')" "('deployment/webserver', 'complete', 2, 2)" "--json: workloads"

# degraded: drift, a certificate close to expiry
api PATCH /apis/apps/v1/namespaces/web/deployments/webserver '{"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "ghcr.io/acme/web:hotfix"}]}}}}'
api PATCH /apis/cert-manager.io/v1/namespaces/web/certificates/web-tls/status "{\"status\": {\"notAfter\": \"$(iso 5)\"}}"
saas status web
expect_rc 3 "drift and a certificate under 14 days: exit 3"
expect_out '^  image     deployment/webserver/web  ghcr.io/acme/web:v1  running ghcr.io/acme/web:hotfix  drift$' "drift is marked"
expect_out '^  cert      web/web-tls  app.example.com  expires in [45] days  degraded$' "the certificate is flagged"
expect_out '^  workload  deployment/webserver  progressing' "the new generation is not rolled out yet"
expect_out '^degraded$' "the whole is degraded"

# failing: Flux cannot apply
api PATCH /apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/apps/status '{"status": {"conditions": [{"type": "Ready", "status": "False", "reason": "BuildFailed", "message": "kustomize build failed: no such file"}]}}'
saas status web
expect_rc 1 "Flux Ready=False: exit 1"
expect_out 'Ready=False' "Flux's state"
expect_out '^            kustomize build failed: no such file$' "and its message"
expect_out '^failing$' "the whole is failing"

# a commit not yet applied: Flux behind origin
scenario
echo "# more" >> manifests/apps/web/ingress.yaml
git commit -q -am more && git push -q origin main && git fetch -q origin
saas status web
expect_rc 3 "Flux behind origin: exit 3"
expect_out "Ready=True  not at origin  degraded\$" "Flux not at origin"

# sources missing: no Flux, no cert-manager, then no cluster at all
scenario no-flux no-certs
saas status web
expect_rc 0 "without Flux and cert-manager the rest is judged"
expect_out '^  flux      not installed$' "Flux not installed"
expect_no_out '^  cert ' "no certificates"
expect_out '^  workload  deployment/webserver  complete' "the workloads still"
kube_config "$T/kc-down" '    token: tok-alice'
sed -i "s#server: .*#server: https://127.0.0.1:$(free_port)#" "$T/kc-down"
KUBECONFIG=$T/kc-down saas status web
expect_rc 3 "an unreachable cluster is not healthy"
expect_out '^cluster       unreachable: ' "an unreachable cluster says so"
expect_out '^  image     deployment/webserver/web  ghcr.io/acme/web:v1$' "the pinned images still print"
KUBECONFIG=$T/none saas status web
expect_out '^cluster       not configured$' "no kubeconfig: not configured"
saas status nope
expect_rc 1 "an unknown app fails"
expect_err "no app 'nope'" "naming it"

# backups: the newest complete backup and the last drill, from the store
saas status web
expect_out '^backups       not configured$' "no store: backups not configured"
S=$T/store
hours() { date -u -d "@$(($now - $1 * 3600))" +%Y-%m-%dT%H:%M:%SZ; }
backup() { # ID HOURS-AGO: a complete backup
	mkdir -p "$S/$1"
	printf '{"format": "saasctl-backup/2", "id": "%s", "time": "%s", "tables": [], "objects": []}' \
		"$1" "$(hours "$2")" > "$S/$1/manifest.json"
}
drill() { # ID HOURS-AGO VERDICT
	printf '{"format": "saasctl-drill/1", "backup": "%s", "time": "%s", "verdict": "%s", "summary": "s"}' \
		"$1" "$(hours "$2")" "$3" > "$S/$1/drill.json"
}
backup old 100
backup new 5
mkdir -p "$S/newer/data" && echo x > "$S/newer/data/a.native.lz4"	# incomplete
drill old 90 failed
drill new 3 ok
SAASCTL_BACKUP_STORE=file://$S saas status web
expect_rc 0 "a backup of 5 hours and a passed drill of 3 hours: healthy"
expect_out "^backups       ok  file://$S\$" "the store"
expect_out '^  newest    new  5h ago$' "the newest complete backup and its age"
expect_out '^  drill     new  ok  3h ago$' "the last drill, its verdict and age"
SAASCTL_BACKUP_STORE=file://$S saas status web --json
expect_eq "$(field 'd["backups"]["health"], d["backups"]["newest"]["backup"], d["backups"]["newest"]["age_seconds"] // 3600, d["backups"]["drill"]["verdict"]')" \
	"('healthy', 'new', 5, 'ok')" "--json: the backups"
backup new 49
SAASCTL_BACKUP_STORE=file://$S saas status web
expect_rc 3 "a newest backup older than 2 days: exit 3"
expect_out '^backups       ok  file://[^ ]*  degraded$' "backups degraded"
expect_out '^  newest    new  2d ago$' "its age in days"
backup new 5
drill new 2 failed
SAASCTL_BACKUP_STORE=file://$S saas status web
expect_rc 3 "a failed last drill: exit 3"
expect_out '^  drill     new  failed  2h ago$' "the failed verdict"
drill new $((15 * 24)) ok
drill old $((16 * 24)) ok
SAASCTL_BACKUP_STORE=file://$S saas status web
expect_rc 3 "a last drill older than 14 days: exit 3"
expect_out '^  drill     new  ok  15d ago$' "the newest drill record counts"
rm "$S/new/drill.json" "$S/old/drill.json"
SAASCTL_BACKUP_STORE=file://$S saas status web
expect_rc 3 "no drill ever: exit 3"
expect_out '^  drill     never$' "never drilled"
rm -r "$S/new" "$S/old"
drill newer 1 ok
SAASCTL_BACKUP_STORE=file://$S saas status web
expect_rc 3 "no complete backup: exit 3"
expect_out '^  newest    no complete backup$' "says so"
SAASCTL_BACKUP_STORE=s3://b/p AWS_ENDPOINT_URL=http://127.0.0.1:$(free_port) \
	AWS_ACCESS_KEY_ID=a AWS_SECRET_ACCESS_KEY=b saas status web
expect_rc 3 "an unreachable store: exit 3"
expect_out '^backups       unreachable: .*  s3://b/p$' "says so"

# --watch: redrawn from watches
scenario
: > "$T/watch.out"
"$SAASCTL" status web --watch --json > "$T/watch.out" 2> "$T/watch.err" &
wpid=$!
t_at_exit "kill $wpid"
i=0; while [ "$(wc -l < "$T/watch.out")" -lt 1 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
api PATCH /apis/apps/v1/namespaces/web/deployments/celery-workers/status '{"status": {"readyReplicas": 0, "availableReplicas": 0}}'
i=0; while [ "$(wc -l < "$T/watch.out")" -lt 2 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill $wpid 2>/dev/null
expect_eq "$(wc -l < "$T/watch.out")" 2 "--watch draws again when the cluster changes (and only then)"
expect_eq "$(tail -1 "$T/watch.out" | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["health"], [w["ready"] for w in d["apps"][0]["workloads"] if w["name"] == "deployment/celery-workers"])')" "degraded [0]" "with the change"
