#!/bin/sh
# saasctl lint: every rule triggers on its fixture and stays quiet on the
# good one; formats; exit statuses; paths; the sample monorepo; the docs.
. "$(dirname "$0")/../lib.sh"

L=$TOP/tests/data/lint
M=$TOP/tests/data/monorepo

# The rule IDs from the one table in src/lint.c.
sed -n 's/^	{ "\([a-z-]*\)", LINT_[A-Z]*,.*/\1/p' "$TOP/src/lint.c" > "$T/rules"
[ "$(wc -l < "$T/rules")" -ge 16 ] && ok "the rule table has every rule ($(wc -l < "$T/rules"))" || not_ok "the rule table has every rule" "$(cat "$T/rules")"

# README and the man page say how many rules there are, in words.
n_rules=$(wc -l < "$T/rules")
word=$(echo "$n_rules" | $PY -c 'import sys; print(["sixteen", "seventeen", "eighteen", "nineteen", "twenty", "twenty-one", "twenty-two"][int(sys.stdin.read()) - 16])' 2>/dev/null)
grep -q "against $word rules" "$TOP/README.md" && ok "README says '$word rules'" || not_ok "README says '$word rules'" "$(grep -n 'rules (' "$TOP/README.md")"
grep -qi "^$word rules, each" "$TOP/man/saasctl-lint.1" && ok "saasctl-lint(1) says '$word rules'" || not_ok "saasctl-lint(1) says '$word rules'"

# rules_in FILE: the distinct rule IDs of a JSON report.
rules_in() {
	$PY -c 'import json,sys; print(" ".join(sorted(set(f["rule"] for f in json.load(open(sys.argv[1]))["findings"]))))' "$1"
}
while read -r rule; do
	if [ ! -d "$L/$rule/bad" ] || [ ! -d "$L/$rule/good" ]; then
		not_ok "rule '$rule' has bad and good fixtures"
		continue
	fi
	saas -C "$L/$rule/bad" lint --format json
	expect_eq "$(rules_in "$T/out")" "$rule" "'$rule' triggers on its bad fixture, and nothing else does"
	sev=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["findings"][0]["severity"])' "$T/out" 2>/dev/null)
	if [ "$sev" = error ]; then expect_rc 1 "'$rule' (an error) fails the run"
	else expect_rc 0 "'$rule' (a warning) does not fail the run"
	fi
	saas -C "$L/$rule/good" lint --format json
	expect_eq "$rc:$(rules_in "$T/out")" "0:" "'$rule' stays quiet on its good fixture, as does every rule"
	# Documented: a paragraph of its own in the man page.
	grep -q "^\.BR $(echo "$rule" | sed 's/-/\\\\-/g') \" (\(error\|warning\))\"$" "$TOP/man/saasctl-lint.1" \
		&& ok "'$rule' has a paragraph in saasctl-lint(1)" || not_ok "'$rule' has a paragraph in saasctl-lint(1)"
done < "$T/rules"

# Text output: file:line:col: severity: message [rule], the line, a caret.
saas -C "$L/image-tag/bad" lint
expect_rc 1 "errors exit 1"
expect_out "^manifests/apps/web/deployment.yaml:19:18: error: image 'ghcr.io/acme/web:latest' uses ':latest': pin a version so a rollout is repeatable \[image-tag\]$" "text output names file:line:col, severity, message and rule"
expect_out '^   19 \|           image: ghcr.io/acme/web:latest$' "text output shows the offending line"
expect_out '^      \|                  \^$' "text output puts a caret under the column"
expect_err '^2 errors, 0 warnings in 6 files$' "a summary goes to stderr"
expect_no_out "$(printf '\033')" "no colour when stdout is not a terminal"
saas -C "$L/image-tag/bad" lint --color=always
expect_out "$(printf '\033')\[1;31merror" "--color=always colours the severity"

# Warnings only: exit 0, still printed.
saas -C "$L/ingress-tls/bad" lint
expect_rc 0 "warnings alone exit 0"
expect_out "warning: host 'www.example.com' of Ingress 'web' has no TLS entry" "warnings are printed"

# JSON.
saas -C "$L/hpa-range/bad" lint --format json
$PY - "$T/out" <<'PYEOF' && ok "--format json has the fields" || not_ok "--format json has the fields" "$(cat "$T/out")"
import json, sys
d = json.load(open(sys.argv[1]))
f = d["findings"][0]
assert (f["rule"], f["severity"], f["file"], f["line"], f["col"]) == ("hpa-range", "error", "manifests/apps/web/hpa.yaml", 11, 16), f
assert "minReplicas 5 above maxReplicas 2" in f["message"]
assert d["errors"] == 1 and d["warnings"] == 0 and d["files"] == 5
PYEOF
saas -C "$L/hpa-range/bad" --json lint
expect_out '"rule": "hpa-range"' "the global --json selects the JSON format"

# GitHub annotations.
saas -C "$L/deprecated-api/bad" lint --format github
expect_rc 1 "--format github exits 1 on errors"
expect_out "^::error file=manifests/apps/web/ingress.yaml,line=1,col=13::Ingress 'web' uses apiVersion 'networking.k8s.io/v1beta1', removed in Kubernetes 1.22: use 'networking.k8s.io/v1' \[deprecated-api\]$" "--format github prints ::error annotations"
saas -C "$L/mixed-namespaces/bad" lint --format=github
expect_out '^::warning file=manifests/apps/web/service.yaml,line=5,col=14::' "warnings become ::warning annotations"

# The sample monorepo: only its deliberate v1beta1 Ingress, naming the replacement.
saas -C "$M" lint --format json
expect_rc 1 "the sample monorepo fails lint"
expect_eq "$(rules_in "$T/out")" "deprecated-api" "the sample monorepo's only finding is its v1beta1 Ingress"
expect_out "use 'networking.k8s.io/v1'" "the finding names the replacement"

# PATH arguments narrow the report; the rules still see the whole app.
saas -C "$M" lint manifests/apps/panelbear/webserver.yaml
expect_rc 0 "a clean file in an app with findings passes"
saas -C "$M" lint manifests/apps/panelbear/ingress.yaml manifests/apps/panelbear/redis.yaml
expect_rc 1 "the file with the finding fails"
(cd "$M/manifests/apps" && "$SAASCTL" lint panelbear > "$T/out" 2> "$T/err"); rc=$?
expect_rc 1 "PATH is relative to the current folder"
saas -C "$M" lint manifests/apps/panelbear/nosuch.yaml
expect_rc 1 "a missing PATH fails"
expect_err "cannot lint 'manifests/apps/panelbear/nosuch.yaml': no such file or folder" "a missing PATH is named"
saas -C "$M" lint /
expect_rc 1 "a PATH outside the monorepo fails"
expect_err "cannot lint '/': it is not inside the monorepo" "a PATH outside the monorepo is named"

# Relations are not judged in an app with an unparsable file (noise).
R=$T/r
cp -r "$L/service-selector/bad" "$R"
printf 'a: [\n' > "$R/manifests/apps/web/broken.yaml"
saas -C "$R" lint --format json
expect_eq "$(rules_in "$T/out")" "yaml-syntax" "an unparsable file silences the relational rules"

# Cluster services are linted too, each folder as one unit.
C=$T/c
cp -r "$M" "$C"
printf 'apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata:\n  name: old\n  namespace: monitoring\n' > "$C/manifests/cluster/monitoring/old.yaml"
printf 'kind: [\n' > "$C/manifests/cluster/cert-manager/broken.yaml"
saas -C "$C" lint manifests/cluster
expect_rc 1 "lint checks manifests/cluster"
expect_out "^manifests/cluster/monitoring/old.yaml:1:13: error: Deployment 'old' uses apiVersion 'extensions/v1beta1', removed in Kubernetes 1.16: use 'apps/v1' \[deprecated-api\]$" "a cluster service's deprecated API is found"
expect_out "^manifests/cluster/cert-manager/broken.yaml:[0-9]+:[0-9]+: error: .*\[yaml-syntax\]$" "a cluster service's syntax error is found"

# Usage and outside a monorepo.
saas -C "$M" lint --format xml
expect_rc 2 "a bad --format is a usage error"
expect_err "bad --format 'xml': want text, json or github" "a bad --format is named"
saas -C "$M" lint --strict
expect_rc 2 "an unknown option is a usage error"
mkdir "$T/empty"
saas -C "$T/empty" lint
expect_rc 1 "lint outside a monorepo fails"
expect_err "^saasctl: lint: not inside an infra monorepo" "lint outside a monorepo says so"

# Manifests as they come from public repositories: every finding, exactly.
S=$L/shapes
# findings_in FILE: "file:line:col rule" of each finding of a JSON report.
findings_in() {
	$PY -c 'import json,sys; print(" ".join("%s:%d:%d:%s" % (f["file"].split("/")[-1], f["line"], f["col"], f["rule"]) for f in json.load(open(sys.argv[1]))["findings"]))' "$1"
}
saas -C "$S/list" lint --format json
expect_eq "$(findings_in "$T/out")" "extra.yaml:10:5:missing-field" \
	"List and ConfigMapList items are resources: refs to them resolve, a Service in a List finds its pods, the List itself is no finding"
saas -C "$S/list" lint
expect_out "^manifests/apps/web/extra.yaml:10:5: error: ConfigMap 'stray' has no 'apiVersion' \[missing-field\]$" "a List item is reported at its own line and column"
saas -C "$S/kustomization" lint --format json
expect_eq "$(findings_in "$T/out")" "flux.yaml:3:1:missing-field" \
	"kustomization.yaml and kustomization.yml are not resources; generated ConfigMaps and Secrets (plain and with namePrefix/nameSuffix) exist; a Flux Kustomization is still linted"
saas -C "$S/pod-rc" lint --format json
expect_eq "$(findings_in "$T/out")" "pod.yaml:8:5:resources pod.yaml:9:12:image-tag replication.yaml:16:9:resources replication.yaml:17:16:image-tag" \
	"Pods and ReplicationControllers are workloads: Services find their pods, their images and resources are checked"
saas -C "$S/namespace" lint
expect_out "^manifests/apps/web/300-web.yaml:5:14: warning: ConfigMap 'web' is in namespace 'default' but the rest of app 'web' is in 'knative-serving' \[mixed-namespaces\]$" \
	"the app's namespace: most declared (a tie goes to the first seen); Namespace objects, cluster-scoped kinds and resources without a namespace do not count"
expect_out "^manifests/apps/web/010-first.yaml:5:14: warning: ConfigMap 'first' is in namespace 'other' but the rest of app 'web' is in 'knative-serving' \[mixed-namespaces\]$" "the first namespace seen is not the app's when most resources declare another"
expect_eq "$(grep -c mixed-namespaces "$T/out")" 2 "only the odd ones out are reported"
saas -C "$S/namespace" apps
expect_out '^web +knative-serving ' "apps shows the namespace lint holds the app to"
saas -C "$S/match-expressions" lint --format json
expect_eq "$(findings_in "$T/out")" "d.yaml:34:18:selector-mismatch d.yaml:54:3:selector-mismatch" \
	"matchExpressions (In, NotIn, Exists, DoesNotExist) are matched with matchLabels; an empty apps/v1 selector is an error"
saas -C "$S/match-expressions" lint
expect_out "Deployment 'none' has no spec.selector \(matchLabels or matchExpressions\) \[selector-mismatch\]$" "a missing selector is named"
saas -C "$S/generate-name" lint --format json
expect_eq "$(findings_in "$T/out")" "migrate.yaml:22:1:missing-field" "generateName stands in for metadata.name (an Argo CD hook); neither is still an error"
saas -C "$S/rbac-grant" lint --format json
expect_eq "$(findings_in "$T/out")" "adapter.yaml:45:14:mixed-namespaces adapter.yaml:59:14:mixed-namespaces" \
	"a RoleBinding elsewhere granting the app's own ServiceAccount, and its Role, are not mixed namespaces; a grant to another namespace's account is"
# deprecated-api against the target release: removed by then is an error,
# deprecated but still served a warning, newer kinds of an old
# group/version (VolumeAttributesClass, ValidatingAdmissionPolicy) nothing.
# findings_in FILE: "severity file" per finding, sorted.
findings_in() {
	$PY -c 'import json,sys; print(" ".join(sorted(f["severity"][0] + ":" + f["file"].rsplit("/", 1)[1] for f in json.load(open(sys.argv[1]))["findings"])))' "$1"
}
K=$T/k
cp -r "$L/deprecated-api-target" "$K"
saas -C "$K" lint --format json
expect_rc 1 "with no target release every removal is an error"
expect_eq "$(findings_in "$T/out")" "e:flowschema.yaml e:hpa.yaml e:psp.yaml e:storageclass.yaml" \
	"with no target release, the removals of 1.22 to 1.32 are errors and newer beta kinds pass"
saas -C "$K" lint
expect_out "^manifests/apps/web/psp.yaml:1:13: error: PodSecurityPolicy 'restricted' uses apiVersion 'policy/v1beta1', removed in Kubernetes 1.25: it has no successor; use Pod Security admission" "a PodSecurityPolicy is removed in 1.25 and has no successor"
expect_out "^manifests/apps/web/storageclass.yaml:2:13: error: StorageClass 'hdd' uses apiVersion 'storage.k8s.io/v1beta1', removed in Kubernetes 1.22: use 'storage.k8s.io/v1' \[deprecated-api\]$" "a v1beta1 StorageClass is removed in 1.22"
saas -C "$K" lint --format json --kube-version 1.29
expect_eq "$(findings_in "$T/out")" "e:hpa.yaml e:psp.yaml e:storageclass.yaml w:flowschema.yaml" \
	"--kube-version 1.29: flowcontrol v1beta3 (deprecated 1.29, removed 1.32) is a warning"
saas -C "$K" lint --kube-version=v1.23.4
expect_rc 1 "--kube-version=v1.23.4 is accepted"
expect_out "^manifests/apps/web/hpa.yaml:1:13: warning: HorizontalPodAutoscaler 'web' uses apiVersion 'autoscaling/v2beta2', deprecated in Kubernetes 1.23 and removed in 1.26: use 'autoscaling/v2' \[deprecated-api\]$" \
	"an API deprecated at the target release is a warning naming both releases"
saas -C "$K" lint --format json --kube-version 1.21
expect_rc 0 "on 1.21 nothing is removed yet: warnings only"
expect_eq "$(findings_in "$T/out")" "w:psp.yaml w:storageclass.yaml" "on 1.21 the deprecated APIs warn and the not yet deprecated ones pass"
printf 'project: acme\ncluster: {version: "1.21"}\n' > "$K/saasctl.yaml"
saas -C "$K" lint --format json
expect_eq "$rc:$(findings_in "$T/out")" "0:w:psp.yaml w:storageclass.yaml" "cluster.version in saasctl.yaml sets the target release"
saas -C "$K" lint --format json --kube-version 1.25
expect_eq "$rc:$(findings_in "$T/out")" "1:e:psp.yaml e:storageclass.yaml w:hpa.yaml" "--kube-version wins over cluster.version"
SAASCTL_CLUSTER_VERSION=1.32 saas -C "$K" lint --format json
expect_eq "$rc:$(findings_in "$T/out")" "1:e:flowschema.yaml e:hpa.yaml e:psp.yaml e:storageclass.yaml" "SAASCTL_CLUSTER_VERSION wins over saasctl.yaml"
for v in banana 2.0 1. 1.x 1.29.x 1.0; do
	saas -C "$K" lint --kube-version "$v"
	expect_rc 2 "--kube-version '$v' is a usage error"
done
expect_err "^saasctl: lint: bad --kube-version '1.0': want a Kubernetes release such as 1.29$" "a bad --kube-version is named"
saas -C "$K" lint --kube-version
expect_rc 2 "--kube-version needs a value"
printf 'project: acme\ncluster: {version: latest}\n' > "$K/saasctl.yaml"
saas -C "$K" lint
expect_rc 1 "a bad cluster.version fails"
expect_err "bad cluster.version 'latest'" "a bad cluster.version is named"

# missing-ref knows the Secrets made in the cluster from what the app
# defines (Certificate, SealedSecret template name, ExternalSecret target,
# ingress-shim TLS, a service-account token) and only warns about one that
# a Job, or a workload allowed by the app's RBAC to create it, may make.
# refs_in FILE: "severity:app" per missing-ref finding, sorted.
refs_in() {
	$PY -c 'import json,sys; print(" ".join(sorted(f["severity"][0] + ":" + f["file"].split("/")[2] for f in json.load(open(sys.argv[1]))["findings"] if f["rule"] == "missing-ref")))' "$1"
}
MR=$T/mr
cp -r "$L/missing-ref-made" "$MR"
saas -C "$MR" lint --format json
expect_eq "$(rules_in "$T/out")" "missing-ref" "the made-Secrets fixture has only missing-ref findings"
expect_eq "$(refs_in "$T/out")" "e:jobcm w:admission w:config w:metallb" \
	"Secrets made from the app's resources are no finding; run-time ones are warnings; a ConfigMap beside a Job stays an error"
saas -C "$MR" lint manifests/apps/admission
expect_rc 0 "a Secret a Job may make does not fail the run"
expect_out "^manifests/apps/admission/controller.yaml:28:25: warning: Deployment 'ingress-nginx-controller' uses Secret 'ingress-nginx-admission', which app 'admission' does not define; Job 'ingress-nginx-admission-create' may make it at run time \[missing-ref\]$" \
	"the warning names the Job"
saas -C "$MR" lint manifests/apps/metallb
expect_out "warning: DaemonSet 'speaker' uses Secret 'memberlist', which app 'metallb' does not define; Deployment 'controller' \(its ServiceAccount 'controller' may create secrets through Role 'controller'\) may make it at run time \[missing-ref\]$" \
	"the warning names the workload and the Role that lets it create Secrets"
rm "$MR/manifests/apps/admission/admission-job.yaml"
$PY - "$MR/manifests/apps/metallb/controller.yaml" <<'PYEOF'
import sys
p = sys.argv[1]
docs = open(p).read().split("\n---\n")
open(p, "w").write("\n---\n".join(d for d in docs if "kind: RoleBinding" not in d))
PYEOF
saas -C "$MR" lint --format json
expect_eq "$(refs_in "$T/out")" "e:admission e:jobcm e:metallb w:config" \
	"without the Job, or without the RoleBinding, the missing Secret is an error again"

# plain-secret and sops: encrypted values with their sops metadata are not
# plain text (flux2's dockerconfigjson-sops-secret.yaml); a key sops left
# in clear is; ENC[...] values without the metadata cannot be decrypted.
S=$L/plain-secret-sops
saas -C "$S" lint manifests/apps/flux
expect_eq "$rc:$(cat "$T/out")" "0:" "a sops-encrypted Secret is not plain text"
saas -C "$S" lint
expect_rc 1 "a partly encrypted or stripped sops Secret fails"
expect_out "^manifests/apps/partial/secret.sops.yaml:10:3: error: Secret 'app-env' is encrypted with sops but its stringData key 'SENTRY_DSN_unencrypted' is in plain text: encrypt it too .*\[plain-secret\]$" \
	"a value sops left unencrypted is named"
expect_out "^manifests/apps/stripped/secret.yaml:9:1: error: Secret 'docker-secret' has sops-encrypted values but no 'sops' metadata, so nothing can decrypt them" \
	"sops values without their metadata are an error of their own"
expect_no_out "base64 is not encryption" "no sops Secret is called plain base64"

# backup-cronjob: each message names the CronJob and what to change;
# --ping, 'saasctl run --check' and SAASCTL_BACKUPS_PING all count as a
# ping; a CronJob that does not run 'saasctl backup' is left alone.
saas -C "$L/backup-cronjob/bad" lint
expect_rc 0 "backup-cronjob findings are warnings"
expect_out "^manifests/apps/web/backup.yaml:13:15: warning: container 'backup' of CronJob 'clickhouse-backup' runs 'saasctl backup' without --ping: a run that fails or never starts goes unnoticed \(add --ping CHECK, wrap it in 'saasctl run --check CHECK', or set SAASCTL_BACKUPS_PING\) \[backup-cronjob\]$" \
	"a backup CronJob without a ping is named at its container"
expect_out "^manifests/apps/web/backup.yaml:1:1: warning: CronJob 'clickhouse-backup' runs 'saasctl backup' without concurrencyPolicy \(Allow\): a slow run and the next one overlap; set concurrencyPolicy: Forbid \[backup-cronjob\]$" \
	"a backup CronJob without concurrencyPolicy is named"
expect_out "^manifests/apps/web/backup.yaml:[0-9]+:22: warning: CronJob 'clickhouse-backup-prune' runs 'saasctl backup' with concurrencyPolicy 'Allow'" \
	"concurrencyPolicy: Allow is named at its value"
expect_out "container 'prune' of CronJob 'clickhouse-backup-prune' runs 'saasctl backup' without --ping" \
	"a 'sh -c' command line running saasctl backup is seen"
expect_no_out "usage-stats" "a CronJob that runs no backup has no backup-cronjob finding"
expect_eq "$(grep -c 'backup-cronjob\]$' "$T/out")" 4 "four backup-cronjob findings, no more"
BC=$T/bc
cp -r "$L/backup-cronjob/good" "$BC"
sed -i 's/concurrencyPolicy: Forbid/concurrencyPolicy: Replace/' "$BC/manifests/apps/web/backup.yaml"
saas -C "$BC" lint
expect_out "CronJob 'clickhouse-backup' runs 'saasctl backup' with concurrencyPolicy 'Replace': a slow run is killed when the next one starts; set concurrencyPolicy: Forbid \[backup-cronjob\]$" \
	"concurrencyPolicy: Replace says the slow run is killed"
sed -i 's/SAASCTL_BACKUPS_PING/SAASCTL_BACKUP_STORE/; s/saasctl run --check backup-prune -- //' "$BC/manifests/apps/web/backup.yaml"
saas -C "$BC" lint
expect_eq "$(grep -c 'without --ping' "$T/out")" 2 "without SAASCTL_BACKUPS_PING, or without 'saasctl run --check', the ping is missing"

# The example CronJobs lint clean in an app, next to their sealed Secret.
EX=$T/ex
mkdir -p "$EX/manifests/apps/analytics" "$EX/keys"
cp "$TOP/examples/k8s/clickhouse-backup-cronjobs.yaml" "$EX/manifests/apps/analytics/"
printf 'project: acme\nsecrets: {recipients: [keys/cluster.pub]}\n' > "$EX/saasctl.yaml"
saas keygen --name cluster --out "$EX/keys"
saas keygen --name backup --out "$EX/keys"
printf 'clickhouse-password=p\naws-access-key-id=a\naws-secret-access-key=s\nhc-ping-key=h\n' > "$EX/backup.env"
saas -C "$EX" seal -n analytics --name clickhouse-backup --from-env-file "$EX/backup.env" \
	--from-file "backup.key=$EX/keys/backup.key" -o "$EX/manifests/apps/analytics/secrets.sealed.yaml"
expect_rc 0 "the example's Secret is sealed"
saas -C "$EX" lint
expect_eq "$rc:$(cat "$T/out")" "0:" "examples/k8s/clickhouse-backup-cronjobs.yaml lints clean"
expect_err "^0 errors, 0 warnings in 2 files$" "the example's file and its Secret were both read"
grep -q -- "--ping clickhouse-backup\|--ping, clickhouse-backup" "$TOP/examples/k8s/clickhouse-backup-cronjobs.yaml" && grep -q "backup, drill" "$TOP/examples/k8s/clickhouse-backup-cronjobs.yaml" && grep -q "backup prune\|backup, prune" "$TOP/examples/k8s/clickhouse-backup-cronjobs.yaml" \
	&& ok "the example has the nightly backup with --ping, the drill and the prune" || not_ok "the example has the nightly backup with --ping, the drill and the prune"
# The GitHub Actions drill: valid YAML, weekly, the drill with its ping
# and key.
$PY - "$TOP/examples/github/backup-drill.yml" <<'PYEOF' && ok "examples/github/backup-drill.yml runs the drill weekly with --ping and -k" || not_ok "examples/github/backup-drill.yml runs the drill weekly with --ping and -k"
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
cron = d[True]["schedule"][0]["cron"].split()   # YAML 1.1 reads "on" as true
assert cron[2:4] == ["*", "*"] and cron[4] != "*", cron
run = " ".join(s.get("run", "") for s in d["jobs"]["drill"]["steps"])
assert "saasctl backup drill" in run and "--ping clickhouse-drill" in run and "-k " in run, run
PYEOF
