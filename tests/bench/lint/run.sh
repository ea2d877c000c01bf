#!/bin/bash
# Lint benchmark: a monorepo of 200 apps x 25 documents (5,000 documents).
#   saasctl lint, saasctl apps --json  vs  the floor (libyaml events only): <= 2.0x
#   PyYAML safe_load_all with the C loader  vs  saasctl lint: >= 5x slower
#   peak RSS of saasctl lint: <= 50 MiB
#   saasctl --version  vs  kubectl version --client (medians): <= 0.2x
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
SAASCTL=${SAASCTL:-$top/saasctl}
PY=/usr/bin/python3
RUNS=${RUNS:-10}
W=$(mktemp -d "${TMPDIR:-/tmp}/saasctl-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

command -v hyperfine >/dev/null || { echo "bench lint: needs hyperfine (make deps)" >&2; exit 1; }
$PY "$here/gen.py" "$W/repo" 200
cc -O2 -o "$W/floor" "$here/floor.c" $(pkg-config --cflags --libs yaml-0.1)
nfiles=$(find "$W/repo/manifests/apps" -name '*.yaml' | wc -l)
ndocs=$(cat "$W/repo"/manifests/apps/*/*.yaml | grep -c '^kind: ')
bytes=$(cat "$W/repo"/manifests/apps/*/*.yaml | wc -c)
echo "bench lint: $nfiles files, $ndocs documents, $((bytes / 1024)) KiB"

# The work must be real: lint finds nothing to report and apps sees all.
"$SAASCTL" -C "$W/repo" lint -q || { echo "bench lint: lint found problems in the generated monorepo" >&2; exit 1; }
[ "$("$SAASCTL" -C "$W/repo" apps --json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 200 ] || { echo "bench lint: apps does not see 200 apps" >&2; exit 1; }
"$W/floor" "$W/repo"

cat > "$W/pyyaml.py" <<'PYEOF'
import glob, sys, yaml
n = 0
for f in sorted(glob.glob(sys.argv[1] + "/manifests/apps/*/*.yaml")):
    with open(f, "rb") as fh:
        n += sum(1 for _ in yaml.load_all(fh, Loader=yaml.CSafeLoader))
PYEOF

hyperfine -N --style none --warmup 2 --runs "$RUNS" --export-json "$W/parse.json" \
	-n floor "$W/floor $W/repo" \
	-n lint "$SAASCTL -C $W/repo lint -q" \
	-n apps "$SAASCTL -C $W/repo apps --json" \
	-n pyyaml "$PY $W/pyyaml.py $W/repo" > /dev/null 2> "$W/hf.err" || { cat "$W/hf.err" >&2; exit 1; }
hyperfine -N --style none --warmup 3 --runs $((RUNS * 3)) --export-json "$W/start.json" \
	-n version "$SAASCTL --version" \
	-n kubectl "kubectl version --client" > /dev/null 2> "$W/hf.err" || { cat "$W/hf.err" >&2; exit 1; }

rss=$( { /usr/bin/time -f '%M' "$SAASCTL" -C "$W/repo" lint -q > /dev/null; } 2>&1 | tail -n 1)

$PY - "$W/parse.json" "$W/start.json" "$rss" <<'PYEOF'
import json, sys
m = {}
for path in sys.argv[1:3]:
    for r in json.load(open(path))["results"]:
        m[r["command"]] = r["median"]
rss_mib = int(sys.argv[3]) / 1024
ms = lambda s: "%.1f ms" % (s * 1000)
rows = [
    ("saasctl lint / floor", m["lint"] / m["floor"], "<=", 2.0),
    ("saasctl apps --json / floor", m["apps"] / m["floor"], "<=", 2.0),
    ("pyyaml CSafeLoader / saasctl lint", m["pyyaml"] / m["lint"], ">=", 5.0),
    ("peak RSS of saasctl lint (MiB)", rss_mib, "<=", 50.0),
    ("saasctl --version / kubectl version --client", m["version"] / m["kubectl"], "<=", 0.2),
]
print("medians: floor %s, lint %s, apps --json %s, pyyaml %s; --version %s, kubectl %s"
      % (ms(m["floor"]), ms(m["lint"]), ms(m["apps"]), ms(m["pyyaml"]), ms(m["version"]), ms(m["kubectl"])))
for name, v, op, target in rows:
    good = v <= target if op == "<=" else v >= target
    print("  %-46s %7.2f  (target %s %.1f)  %s" % (name, v, op, target, "ok" if good else "MISSED"))
PYEOF
