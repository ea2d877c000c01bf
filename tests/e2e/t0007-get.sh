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
