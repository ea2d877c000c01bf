#!/bin/sh
# saasctl apps: the table, --json and --names, on the sample monorepo.
. "$(dirname "$0")/../lib.sh"

M=$TOP/tests/data/monorepo

saas -C "$M" apps
expect_rc 0 "apps lists the sample monorepo"
expect_out '^APP +NAMESPACE +IMAGES +HOSTS +REPLICAS +RPM +SECRETS$' "apps prints a header"
expect_out '^panelbear +panelbear +ghcr.io/panelbear/panelbear:2024.06.1,clickhouse/clickhouse-server:23.8.9.54,redis:7.2.4-alpine +panelbear.com,www.panelbear.com +2-12 +1200 +panelbear-secrets$' "apps prints one row with every column"

saas -C "$M" --json apps
expect_rc 0 "apps --json exits 0"
$PY - "$T/out" > "$T/check" 2>&1 <<'PYEOF'
import json, sys
apps = json.load(open(sys.argv[1]))
assert [a["name"] for a in apps] == ["panelbear"], apps
a = apps[0]
assert a["namespace"] == "panelbear"
assert a["dir"] == "manifests/apps/panelbear"
assert a["images"] == ["ghcr.io/panelbear/panelbear:2024.06.1", "clickhouse/clickhouse-server:23.8.9.54", "redis:7.2.4-alpine"], a["images"]
assert a["hosts"] == ["panelbear.com", "www.panelbear.com"]
assert (a["replicas_min"], a["replicas_max"]) == (2, 12)
assert a["rpm"] == 1200
assert a["secrets"] == ["panelbear-secrets"]
assert a["resources"] == 14, a["resources"]
print("fine")
PYEOF
expect_eq "$(cat "$T/out" | head -c 1)$(cat "$T/check")" "[fine" "apps --json holds the app model"
saas -C "$M" apps --json
expect_eq "$(head -c 1 "$T/out")" "[" "--json also works after the command"

saas -C "$M" apps --names
expect_eq "$(cat "$T/out")" "panelbear" "apps --names prints bare names"

# Several apps, sorted; an app without HPA shows its Deployment's replicas.
R=$T/r
"$SAASCTL" -q init "$R" >/dev/null
"$SAASCTL" -q -C "$R" new app zeta --host z.example.com >/dev/null
"$SAASCTL" -q -C "$R" new app alpha --host a.example.com --replicas 1:3 >/dev/null
rm "$R/manifests/apps/zeta/hpa.yaml"
sed -i 's/^spec:$/spec:\n  replicas: 4/' "$R/manifests/apps/zeta/deployment.yaml"
mkdir "$R/manifests/apps/.hidden" "$R/manifests/apps/empty"
saas -C "$R" apps --names
expect_eq "$(cat "$T/out" | tr '\n' ' ')" "alpha empty zeta " "apps --names is sorted and skips dot folders"
saas -C "$R" apps
expect_out '^alpha +alpha +ghcr.io/r/alpha:0.1.0 +a.example.com +1-3 +600 +-$' "apps shows the HPA range"
expect_out '^zeta +zeta +.* +4-4 +600 +-$' "apps shows Deployment replicas without an HPA"
expect_out '^empty +empty +- +- +- +- +-$' "an empty app shows dashes"

# The completions call it: bash completes app names for 'get'.
mkdir -p "$T/bin"; ln -s "$SAASCTL" "$T/bin/saasctl"
got=$(cd "$R" && PATH="$T/bin:$PATH" bash -c '. "$1"; COMP_WORDS=(saasctl get al); COMP_CWORD=2; _saasctl; printf "%s\n" "${COMPREPLY[@]}"' _ "$TOP/completions/saasctl.bash")
expect_eq "$got" "alpha" "bash completes 'saasctl get al' to an app name"

# No apps, no monorepo, bad arguments.
"$SAASCTL" -q init "$T/none" >/dev/null
saas -C "$T/none" apps
expect_rc 0 "apps with no apps exits 0"
expect_err "no apps in" "apps with no apps says so"
mkdir "$T/nothing"
saas -C "$T/nothing" apps
expect_rc 1 "apps outside a monorepo fails"
expect_err "^saasctl: apps: not inside an infra monorepo" "apps outside a monorepo says so"
saas -C "$T/nothing" apps --names
expect_rc 1 "apps --names outside a monorepo fails"
saas -C "$M" apps extra
expect_rc 2 "apps takes no arguments"

# A bad saasctl.yaml is reported with its position.
printf 'project: x\nclickhouse:\n  usr: backup\n' > "$T/none/saasctl.yaml"
saas -C "$T/none" apps
expect_rc 1 "a bad saasctl.yaml fails"
expect_err "saasctl.yaml:3:3: unknown key 'clickhouse.usr'; did you mean 'user'\?" "a bad key is placed and a fix suggested"

# A folder name that is not UTF-8 cannot be a JSON string: refused, never dropped.
L=$T/latin1
"$SAASCTL" -q init "$L" >/dev/null
mkdir "$L/manifests/apps/$(printf 'caf\351')"
printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\ndata: {a: YQ==}\n' > "$L/manifests/apps/$(printf 'caf\351')/x.yaml"
saas -C "$L" apps --json
expect_rc 1 "apps --json fails on a folder name that is not UTF-8"
expect_err "^saasctl: apps: cannot write JSON: 'caf\\\\xe9' is not UTF-8 text" "the name is shown escaped"
expect_eq "$(wc -c < "$T/out")" "0" "no partial JSON is printed"
saas -C "$L" apps
expect_out "^$(printf 'caf\351') " "the table still lists the app"
saas -C "$L" lint --format json
expect_rc 1 "lint --format json fails on a path that is not UTF-8"
expect_err "^saasctl: lint: cannot write JSON: 'manifests/apps/caf\\\\xe9/x.yaml' is not UTF-8 text" "lint names the path"
expect_no_out '"findings"' "lint prints no findings list that would miss one"

# On a terminal the table fits COLUMNS, cells cut with '…'; piped rows are whole.
on_tty() {
	COLUMNS=$1 $PY "$TOP/tests/tools/on-pty.py" "$T/tty.raw" "$SAASCTL" -C "$M" apps
	tr -d '\r' < "$T/tty.raw"
}
on_tty 70 > "$T/tty"
widest=$($PY -c 'import sys; print(max(len(l) for l in open(sys.argv[1], encoding="utf-8").read().splitlines()))' "$T/tty")
[ "$widest" -le 70 ] && ok "on a 70-column terminal no row is wider ($widest)" || not_ok "on a 70-column terminal no row is wider" "$(cat "$T/tty")"
grep -q '^panelbear  panelbear  ghcr.io.*…' "$T/tty" && ok "long cells end in …" || not_ok "long cells end in …" "$(cat "$T/tty")"
on_tty 400 > "$T/tty"
grep -q 'redis:7.2.4-alpine  panelbear.com,www.panelbear.com' "$T/tty" && ok "a wide terminal shows whole rows" || not_ok "a wide terminal shows whole rows" "$(cat "$T/tty")"
COLUMNS=70 "$SAASCTL" -C "$M" apps > "$T/out"
expect_out 'redis:7.2.4-alpine +panelbear.com,www.panelbear.com' "piped, COLUMNS does not cut rows"
