#!/bin/sh
# saasctl get: the original bytes as yaml, JSON, selection by kind and name.
. "$(dirname "$0")/../lib.sh"

M=$TOP/tests/data/monorepo
P=$M/manifests/apps/panelbear

# A file with one document: exactly its bytes, comments included.
saas -C "$M" get panelbear ingress/panelbear
expect_rc 0 "get KIND/NAME exits 0"
expect_file_same "$T/out" "$P/ingress.yaml" "yaml output of a one-document file is the file's bytes"

# A document of a multi-document file: its bytes without the --- line.
saas -C "$M" get panelbear Service/redis
$PY - "$P/redis.yaml" "$T/out" <<'PYEOF' > "$T/check"
import sys
whole = open(sys.argv[1]).read()
want = whole.split("---\n")[1]
print("same" if open(sys.argv[2]).read() == want else "differs")
PYEOF
expect_eq "$(cat "$T/check")" "same" "yaml output of one document of several is its bytes"

# KIND alone: every resource of that kind, separated by ---, in file order.
saas -C "$M" get panelbear deployments
expect_rc 0 "get KIND exits 0"
expect_eq "$(grep -c '^---$' "$T/out")" "2" "three Deployments are separated by ---"
expect_eq "$(sed -n 's/^  name: //p' "$T/out" | tr '\n' ' ')" "celery-scheduler celery-workers webserver " "get KIND lists every one"
$PY -c 'import yaml,sys; d=list(yaml.safe_load_all(open(sys.argv[1]))); assert len(d) == 3 and all(x["kind"] == "Deployment" for x in d)' "$T/out" \
	&& ok "the yaml stream parses back" || not_ok "the yaml stream parses back"

# Short names, any case.
for k in deploy/webserver Deployment/webserver deployment/webserver DEPLOYMENT/webserver; do
	saas -C "$M" get panelbear "$k"
	expect_eq "$rc:$(grep -c '^kind: Deployment$' "$T/out")" "0:1" "get understands '$k'"
done
saas -C "$M" get panelbear svc
expect_eq "$(grep -c '^kind: Service$' "$T/out")" "3" "svc selects the Services"

# JSON: one object for KIND/NAME, a List otherwise; typed scalars.
saas -C "$M" get panelbear hpa/webserver -o json
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["kind"] == "HorizontalPodAutoscaler" and d["spec"]["minReplicas"] == 2' "$T/out" \
	&& ok "-o json prints the object with typed numbers" || not_ok "-o json prints the object with typed numbers" "$(head -20 "$T/out")"
saas -C "$M" --json get panelbear ConfigMap
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["kind"] == "List" and [i["metadata"]["name"] for i in d["items"]] == ["panelbear-config", "clickhouse-config"]' "$T/out" \
	&& ok "--json prints a List for several" || not_ok "--json prints a List for several" "$(head -20 "$T/out")"
saas -C "$M" get panelbear -ojson
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["items"]) == 14' "$T/out" \
	&& ok "get APP prints every resource" || not_ok "get APP prints every resource"
# The JSON agrees with an independent parser.
saas -C "$M" get panelbear statefulset/clickhouse -o json
$PY - "$T/out" "$P/clickhouse.yaml" <<'PYEOF' && ok "-o json agrees with PyYAML" || not_ok "-o json agrees with PyYAML"
import json, sys, yaml
got = json.load(open(sys.argv[1]))
want = next(yaml.safe_load_all(open(sys.argv[2])))
sys.exit(0 if got == want else 1)
PYEOF

# Errors.
saas -C "$M" get nosuch
expect_rc 1 "an unknown app fails"
expect_err "^saasctl: get: no app 'nosuch' in 'manifests/apps' \(apps: panelbear\)$" "an unknown app names the apps there are"
saas -C "$M" get panelbear deploy/nosuch
expect_rc 1 "an unknown resource fails"
expect_err "^saasctl: get: no deploy/nosuch in app 'panelbear'$" "an unknown resource is named"
saas -C "$M" get panelbear -o xml
expect_rc 2 "a bad output format is a usage error"
saas -C "$M" get
expect_rc 2 "get without an app is a usage error"
saas -C "$M" get panelbear a b
expect_rc 2 "get with three arguments is a usage error"
saas -C "$M" get panelbear deploy/
expect_rc 2 "an empty name is a usage error"

# yaml_as_json APP KIND: the yaml output of 'get APP KIND' parses (PyYAML) to
# the same values as its -o json, one document per resource.
yaml_as_json() {
	"$SAASCTL" -C "$R" get "$1" "$2" > "$T/y" 2>&1
	"$SAASCTL" -C "$R" get "$1" "$2" -o json > "$T/j" 2>&1
	$PY - "$T/y" "$T/j" <<'PYEOF'
import json, sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
want = json.load(open(sys.argv[2]))["items"]
if docs != want:
    print("yaml:", docs)
    print("json:", want)
    sys.exit(1)
PYEOF
}
R=$T/nl
A=$R/manifests/apps/web
mkdir -p "$A"
echo "project: acme" > "$R/saasctl.yaml"

# Files without a final line break, ending in block scalars.
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: clip\ndata:\n  filter: |\n    x %% 2 !== 0' > "$A/a-clip.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep\ndata:\n  filter: |+2\n    x\n\n    y' > "$A/b-keep.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: folded\ndata:\n  filter: >\n    a\n    b\n  ' > "$A/c-folded.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep2\ndata:\n  filter: |+\n    x\n\n  ' > "$A/d-keep.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  filter: "q"' > "$A/e-plain.yaml"
saas -C "$R" get web configmap/clip
expect_file_same "$T/out" "$A/a-clip.yaml" "get KIND/NAME adds no line break the file lacks"
saas -C "$R" get web configmap/clip -o json
expect_out '"filter": "x % 2 !== 0"$' "-o json reads a final block scalar without its line break"
yaml_as_json web configmap && ok "documents after a final block scalar keep its value" \
	|| not_ok "documents after a final block scalar keep its value" "$(cat "$T/y")"
expect_eq "$(tail -c 1 "$T/y" | od -An -c | tr -d ' ')" '"' "the last document is written without an added line break"

# Files that start with ---, maybe after a comment: one --- between resources.
rm -f "$A"/*.yaml
printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n' > "$A/a.yaml"
printf -- '# b\n--- # the one\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n' > "$A/b.yaml"
printf -- 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: d\n' > "$A/c.yaml"
printf -- '%%YAML 1.1\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: e\n' > "$A/e.yaml"
saas -C "$R" get web cm
expect_eq "$(grep -c "^---" "$T/out")" "5" "one --- before each resource after the first, whether files start with one or not"
yaml_as_json web cm && ok "the stream parses to exactly the resources" \
	|| not_ok "the stream parses to exactly the resources" "$(cat "$T/y")"
saas -C "$R" get web cm/a
expect_file_same "$T/out" "$A/a.yaml" "a file that starts with --- is printed as it is"

# Empty flow collections (a sanitizer build once aborted on []).
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: empty\n  labels: {}\ndata: {}\nbinaryData: {}\nx: []\nz: [[], {}]\n' > "$A/empty.yaml"
saas -C "$R" get web cm/empty -o json
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["x"] == [] and d["z"] == [[], {}] and d["data"] == {}' "$T/out" \
	&& ok "empty flow sequences and maps" || not_ok "empty flow sequences and maps" "$(cat "$T/out" "$T/err")"

# -o json reads plain scalars as kubectl does (YAML 1.1 integers and booleans).
printf 'apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: modes\nspec:\n  mode: 0755\n  hex: 0x1F\n  big: 1_000\n  flag: yes\n  off: off\n  quoted: "0755"\n  tagged: ! 12\n  date: 2024-01-02\n' > "$A/modes.yaml"
saas -C "$R" get web cronjob/modes -o json
$PY -c '
import json, sys
s = json.load(open(sys.argv[1]))["spec"]
want = {"mode": 493, "hex": 31, "big": 1000, "flag": True, "false": False, "quoted": "0755", "tagged": "12", "date": "2024-01-02"}
sys.exit(0 if s == want else "%r" % s)' "$T/out" \
	&& ok "-o json: 0755 is 493, yes is true, ! 12 is a string, as kubectl reads them" \
	|| not_ok "-o json: 0755 is 493, yes is true, ! 12 is a string, as kubectl reads them" "$(cat "$T/out" "$T/err")"

# Numbers JSON cannot hold are refused, never clamped.
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nums\ndata:\n  hex: 0xFFFFFFFFFFFFFFFFFFFF\n' > "$A/nums.yaml"
saas -C "$R" get web cm/nums -o json
expect_rc 1 "an integer outside 64 bits fails -o json"
expect_err "^saasctl: get: manifests/apps/web/nums.yaml:6:8: '0xFFFFFFFFFFFFFFFFFFFF' is an integer outside the signed 64-bit range" "the overflow is placed and named"
expect_eq "$(wc -c < "$T/out")" "0" "nothing is printed when a resource cannot be converted"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nums\ndata:\n  x: .inf\n' > "$A/nums.yaml"
saas -C "$R" get web cm -o json
expect_rc 1 "infinity fails -o json"
expect_err "'.inf' is infinity or not-a-number" "infinity is named"
rm -f "$A/nums.yaml"

# Every plural and short name kubectl takes for the built-in kinds.
rm -f "$A"/*.yaml
for k in NetworkPolicy CustomResourceDefinition PersistentVolume Ingress StorageClass ResourceQuota; do
	printf 'apiVersion: v1\nkind: %s\nmetadata:\n  name: x\n' "$k" > "$A/$k.yaml"
done
for pair in networkpolicies:NetworkPolicy netpol:NetworkPolicy networkpolicy:NetworkPolicy \
	crd:CustomResourceDefinition crds:CustomResourceDefinition customresourcedefinitions:CustomResourceDefinition \
	pv:PersistentVolume persistentvolumes:PersistentVolume ing:Ingress ingresses:Ingress \
	sc:StorageClass storageclasses:StorageClass quota:ResourceQuota; do
	saas -C "$R" get web "${pair%%:*}/x"
	expect_eq "$rc:$(sed -n 's/^kind: //p' "$T/out")" "0:${pair#*:}" "get understands '${pair%%:*}'"
done
saas -C "$R" get web pvc
expect_rc 1 "pvc does not select PersistentVolumes"
