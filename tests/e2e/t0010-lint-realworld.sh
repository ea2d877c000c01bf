#!/bin/sh
# saasctl lint on public manifests the project did not write
# (tests/data/realworld, see its README.md): the findings must be exactly
# the reviewed list in tests/data/realworld/expected-findings.
#
# After a change to lint, regenerate the list, then review its diff line
# by line before committing it:
#   UPDATE=1 tests/e2e/t0010-lint-realworld.sh
. "$(dirname "$0")/../lib.sh"

D=$TOP/tests/data/realworld
EXPECTED=$D/expected-findings

# The corpus is what SOURCES says it is: one line per file, no more.
(cd "$D" && find manifests -type f | LC_ALL=C sort) > "$T/files"
cut -d' ' -f1 "$D/SOURCES" | LC_ALL=C sort > "$T/sources"
if cmp -s "$T/files" "$T/sources"; then ok "SOURCES names every file of the corpus, and only those"
else not_ok "SOURCES names every file of the corpus, and only those" "$(diff "$T/sources" "$T/files" | head -20)"
fi
nfiles=$(wc -l < "$T/files")
[ "$nfiles" -ge 150 ] && ok "the corpus has at least 150 files ($nfiles)" || not_ok "the corpus has at least 150 files" "it has $nfiles"

# Every file is YAML another parser reads too (so a finding is about lint,
# not about a template or a broken copy).
$PY - "$D" > "$T/unparsable" <<'PYEOF'
import os, sys, yaml
loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
root = sys.argv[1]
for dirpath, _, names in sorted(os.walk(os.path.join(root, "manifests"))):
    for n in sorted(names):
        p = os.path.join(dirpath, n)
        try:
            with open(p, encoding="utf-8") as f:
                list(yaml.load_all(f, Loader=loader))
        except Exception as e:
            print("%s: %s" % (os.path.relpath(p, root), str(e).splitlines()[0]))
PYEOF
if [ ! -s "$T/unparsable" ]; then ok "every file of the corpus parses with python3 yaml"
else not_ok "every file of the corpus parses with python3 yaml" "$(head -20 "$T/unparsable")"
fi

# Lint a copy, so nothing the run might write lands in the tree.
cp -R "$D" "$T/realworld"
saas -C "$T/realworld" lint --format json
# file:line:col severity rule, one a line, sorted; then the counts.
$PY - "$T/out" "$T/found" 2> /dev/null <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
lines = sorted("%s:%s:%s %s %s" % (f["file"], f["line"], f["col"], f["severity"], f["rule"])
               for f in d["findings"])
with open(sys.argv[2], "w") as out:
    out.write("".join(l + "\n" for l in lines))
    out.write("# %d files, %d errors, %d warnings\n" % (d["files"], d["errors"], d["warnings"]))
PYEOF
json_rc=$?
# A run that crashed or tripped a sanitizer has no report to compare:
# say so, with the report, and stop.
if grep -Eq 'runtime error|Sanitizer' "$T/err" || [ "$json_rc" -ne 0 ]; then
	not_ok "lint reports on the corpus (exit $rc) without a sanitizer report or a crash" \
		"stdout: $(head -c 300 "$T/out")"
	grep -E -A12 'runtime error|Sanitizer' "$T/err" | head -30 | sed 's/^/#   /'
	exit 1
fi
ok "lint reports on the corpus without a sanitizer report or a crash"
# The summary line agrees with the list, and every file was looked at.
$PY - "$T/found" "$nfiles" <<'PYEOF' && ok "the report's counts agree with its findings and the corpus" || not_ok "the report's counts agree with its findings and the corpus" "$(tail -1 "$T/found")"
import sys
lines = open(sys.argv[1]).read().splitlines()
if not lines or not lines[-1].startswith("# "):
    sys.exit(1)
files, errors, warnings = (int(w) for w in lines[-1].replace(",", "").split()[1::2])
body = lines[:-1]
assert files == int(sys.argv[2]), (files, sys.argv[2])
assert errors == sum(1 for l in body if l.split()[1] == "error"), errors
assert warnings == sum(1 for l in body if l.split()[1] == "warning"), warnings
PYEOF

if [ "${UPDATE:-}" = 1 ]; then
	cp "$T/found" "$EXPECTED"
	ok "wrote $EXPECTED ($(grep -vc '^#' "$EXPECTED") findings): review its diff before committing"
	exit 0
fi

if [ ! -f "$EXPECTED" ]; then
	not_ok "expected findings exist" "no $EXPECTED: run UPDATE=1 $0"
elif cmp -s "$EXPECTED" "$T/found"; then
	ok "lint finds exactly the reviewed findings ($(grep -vc '^#' "$EXPECTED"))"
else
	not_ok "lint finds exactly the reviewed findings (- expected, + now; if the change is right, UPDATE=1 $0 and review)"
	diff -u "$EXPECTED" "$T/found" | tail -n +3 | head -300 | sed 's/^/#   /'
fi

# Errors fail the run, warnings alone do not.
if grep -q '^[^#].* error ' "$EXPECTED" 2>/dev/null; then want=1; else want=0; fi
expect_rc "$want" "lint exits $want on the corpus"
