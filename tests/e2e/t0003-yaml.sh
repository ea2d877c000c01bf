#!/bin/sh
# Hostile and odd YAML, driven through 'saasctl lint': every case gives a
# clear finding with file:line:col and a caret, bounded memory, no crash.
. "$(dirname "$0")/../lib.sh"

R=$T/repo
A=$R/manifests/apps/x
mkdir -p "$A"
echo "project: yamltest" > "$R/saasctl.yaml"

# A clean manifest, used as the body of several cases.
good() {
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: x\ndata:\n  A: "1"\n' "$1"
}

# lint_one NAME: lint with only $A/NAME present; findings as JSON in $T/out.
lint_one() {
	find "$A" -type f ! -name "$1" -delete
	saas -C "$R" lint --format json
}
# finding FIELD: a field of the first finding.
finding() {
	$PY -c 'import json,sys; f=json.load(open(sys.argv[1]))["findings"]; print(f[0][sys.argv[2]] if f else "")' "$T/out" "$1"
}
# peak_rss_kib CMD...: the command's maximum resident set size.
peak_rss_kib() {
	/usr/bin/time -f '%M' -o "$T/rss" "$@" > /dev/null 2>&1
	tail -n 1 "$T/rss"
}

# Tabs for indentation.
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: tabbed\n' > "$A/tabs.yaml"
lint_one tabs.yaml
expect_rc 1 "a tab in the indentation is an error"
expect_eq "$(finding rule):$(finding line):$(finding col)" "yaml-syntax:4:1" "a tab is placed at its line and column"
expect_out "tab character" "a tab is named as the cause"

# Unclosed quote, shown where it opened, with the line and a caret.
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "open\n  namespace: x\n' > "$A/quote.yaml"
saas -C "$R" lint
expect_rc 1 "an unclosed quote is an error"
expect_out '^manifests/apps/x/quote.yaml:4:9: error: .*never closed.* \[yaml-syntax\]$' "an unclosed quote gives file:line:col and the rule"
expect_out '^    4 \|   name: "open$' "the offending line is shown"
expect_out '^      \|         \^$' "a caret points at the column"
rm -f "$A/quote.yaml"

# Binary garbage.
head -c 65536 /dev/urandom > "$A/garbage.yaml"
printf '\000\001\002\377' >> "$A/garbage.yaml"
lint_one garbage.yaml
expect_rc 1 "binary garbage is an error, not a crash"
expect_eq "$(finding rule)" "yaml-syntax" "binary garbage is a syntax finding"
saas -C "$R" lint
expect_out '^manifests/apps/x/garbage.yaml:[0-9]+:[0-9]+: error: ' "binary garbage is placed in the file"

# 10,000 levels of nesting, in flow and block style: a limit, no stack overflow.
$PY -c 'print("a: " + "[" * 10000 + "]" * 10000)' > "$A/deep.yaml"
lint_one deep.yaml
expect_rc 1 "10,000 levels of flow nesting are refused"
expect_out 'deep|depth|nest' "deep nesting is named as the cause"
$PY -c '
import sys
for i in range(10000):
    sys.stdout.write("  " * i + "k:\n")
' > "$A/deep.yaml"
lint_one deep.yaml
expect_rc 1 "10,000 levels of block nesting are refused"
expect_out 'deep|depth|nest' "deep block nesting is named as the cause"

# The billion laughs: aliases that expand to 10^9 nodes.
cat > "$A/laughs.yaml" <<'YAML'
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
YAML
lint_one laughs.yaml
expect_rc 1 "an alias bomb is refused"
expect_out 'alias' "an alias bomb is named as the cause"
if [ -z "${SANITIZE:-}" ]; then
	rss=$(peak_rss_kib "$SAASCTL" -C "$R" lint)
	[ "$rss" -lt 65536 ] && ok "an alias bomb stays under 64 MiB ($rss KiB)" || not_ok "an alias bomb stays under 64 MiB" "peak RSS $rss KiB"
fi

# A 10 MB file of valid manifests lints, in bounded time and memory.
$PY - "$A/big.yaml" <<'PYEOF'
import sys
with open(sys.argv[1], "w") as f:
    i = 0
    while f.tell() < 10 * 1024 * 1024:
        f.write("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\n  namespace: x\ndata:\n  KEY: \"%s\"\n" % (i, "v" * 100))
        i += 1
PYEOF
lint_one big.yaml
expect_rc 0 "a 10 MB file of valid manifests lints clean"
if [ -z "${SANITIZE:-}" ]; then
	rss=$(peak_rss_kib "$SAASCTL" -C "$R" lint)
	[ "$rss" -lt 262144 ] && ok "a 10 MB file stays under 256 MiB ($rss KiB)" || not_ok "a 10 MB file stays under 256 MiB" "peak RSS $rss KiB"
fi

# A UTF-8 byte order mark is fine.
{ printf '\357\273\277'; good bom; } > "$A/bom.yaml"
lint_one bom.yaml
expect_rc 0 "a file with a UTF-8 BOM lints clean"
saas -C "$R" get x ConfigMap/bom
expect_eq "$(head -c 11 "$T/out")" "apiVersion:" "get shows a BOM file without the BOM"

# CRLF line endings are fine; an error in a CRLF file shows the line without \r.
good crlf | sed 's/$/\r/' > "$A/crlf.yaml"
lint_one crlf.yaml
expect_rc 0 "a file with CRLF line endings lints clean"
printf 'apiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: [oops\r\n' > "$A/crlf.yaml"
saas -C "$R" lint
expect_rc 1 "an error in a CRLF file is found"
if grep -q "$(printf '\r')" "$T/out"; then not_ok "the excerpt of a CRLF file has no carriage return"; else ok "the excerpt of a CRLF file has no carriage return"; fi

# Empty flow collections: a sanitizer build once aborted on [].
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: empty\n  namespace: x\n  labels: {}\ndata: {}\nx: [[], {}]\n' > "$A/empty.yaml"
lint_one empty.yaml
expect_rc 0 "[] and {} lint clean"
saas -C "$R" apps --json
expect_rc 0 "apps reads [] and {}"

# Duplicate keys, with both places named.
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: x\n  name: b\n' > "$A/dup.yaml"
saas -C "$R" lint
expect_rc 1 "a duplicate key is an error"
expect_out "^manifests/apps/x/dup.yaml:6:3: error: duplicate key 'name' \(first at line 4\) \[duplicate-key\]$" "a duplicate key names both lines"
expect_out '^    6 \|   name: b$' "a duplicate key shows the line"

# UTF-16 is refused with a hint.
printf '\377\376a\000:\000 \0001\000\n\000' > "$A/utf16.yaml"
lint_one utf16.yaml
expect_rc 1 "UTF-16 is refused"
expect_out 'UTF-8' "UTF-16 is refused with a hint"

# Nesting multiplied through aliases: each anchor wraps the previous alias
# in 250 levels, so 85 KB of text would nest 40,000 levels deep.
deep_aliases() {
	$PY - "$@" <<'PYEOF'
import sys
key = sys.argv[1] if len(sys.argv) > 1 else ""
if not key:
    print("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\n  namespace: x\nx:")
else:
    print("apiVersion: v1\nkind: Config\ncurrent-context: x\nx:")
for i in range(160):
    inner = "*a%d" % (i - 1) if i else "leaf"
    print("  l%d: &a%d %s%s%s" % (i, i, "[" * 250, inner, "]" * 250))
PYEOF
}
deep_aliases > "$A/deep.yaml"
saas -C "$R" get x configmap/deep -o json
expect_rc 1 "get -o json refuses nesting multiplied through aliases"
expect_eq "$(wc -c < "$T/out")" "0" "nothing is printed before the refusal"
expect_err "^saasctl: get: manifests/apps/x/deep.yaml:8:261: alias '\*a0' nests deeper than 256 levels$" \
	"the refusal names the alias by file:line:col"
saas -C "$R" get x configmap/deep
expect_rc 1 "get -o yaml refuses it too"
lint_one deep.yaml
expect_rc 1 "lint reports nesting multiplied through aliases"
expect_eq "$(finding line):$(finding col)" "8:261" "lint places it at the alias"
cp "$A/deep.yaml" "$T/deep.yaml"
good other > "$A/other.yaml"
saas -C "$R" get x configmap/other
expect_rc 0 "get still prints what the other files hold"
expect_err "warning: skipped manifests/apps/x/deep.yaml:8:261: " "and says which file it skipped"
rm -f "$A/other.yaml"

# A kubeconfig built the same way is refused, not a crash of logs.
deep_aliases kubeconfig > "$T/kubeconfig"
good web > "$A/web.yaml"
saas -C "$R" logs x --kubeconfig "$T/kubeconfig"
expect_rc 1 "logs refuses a kubeconfig nested through aliases"
expect_err "cannot read kubeconfig: .*kubeconfig:6:261: alias '\*a0' nests deeper than 256 levels" \
	"logs names the alias in the kubeconfig"
rm -f "$A/web.yaml"

# A 100 MB hostile file is refused at once, in little memory.
$PY - "$A/huge.yaml" <<'PYEOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("a: &a [" + "x," * 1000 + "]\nb: [")
    chunk = "*a," * 100000
    while f.tell() < 100 * 1000 * 1000:
        f.write(chunk)
    f.write("]\n")
PYEOF
lint_one huge.yaml
expect_rc 1 "a 100 MB file is refused"
expect_out 'larger than' "its size is named as the cause"
if [ -z "${SANITIZE:-}" ]; then
	rss=$(peak_rss_kib "$SAASCTL" -C "$R" lint)
	[ "$rss" -lt 65536 ] && ok "a 100 MB file is refused under 64 MiB ($rss KiB)" || not_ok "a 100 MB file is refused under 64 MiB" "peak RSS $rss KiB"
fi
rm -f "$A/huge.yaml"

# The same aliases in a file under the size limit: refused by expansion.
$PY - "$A/wide.yaml" <<'PYEOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: wide\n  namespace: x\n")
    f.write("a: &a [" + "x," * 1000 + "]\nb: [")
    chunk = "*a," * 100000
    while f.tell() < 30 * 1000 * 1000:
        f.write(chunk)
    f.write("]\n")
PYEOF
saas -C "$R" get x configmap/wide -o json
expect_rc 1 "30 MB of aliases are refused"
expect_eq "$(wc -c < "$T/out")" "0" "nothing is printed for them"
expect_err "wide.yaml:7:[0-9]+: alias '\*a' expands the file to more than 16 times its size" \
	"the alias over the budget is named"
if [ -z "${SANITIZE:-}" ]; then
	rss=$(peak_rss_kib "$SAASCTL" -C "$R" get x configmap/wide -o json)
	[ "$rss" -lt 65536 ] && ok "30 MB of aliases are refused under 64 MiB ($rss KiB)" || not_ok "30 MB of aliases are refused under 64 MiB" "peak RSS $rss KiB"
fi
rm -f "$A/wide.yaml"

# Hex and octal beyond 64 bits are refused by -o json, like decimal.
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nums\n  namespace: x\ndata:\n  hex: 0xFFFFFFFFFFFFFFFFFFFF\n  oct: 0o7777777777777777777777777\n  dec: 99999999999999999999' > "$A/nums.yaml"
saas -C "$R" get x configmap/nums -o json
expect_rc 1 "a hex integer beyond 64 bits is refused"
expect_err "nums.yaml:7:8: '0xFFFFFFFFFFFFFFFFFFFF' is an integer outside the signed 64-bit range" \
	"the hex integer is named with its place"
sed -i '/hex:/d' "$A/nums.yaml"
saas -C "$R" get x configmap/nums -o json
expect_err "nums.yaml:7:8: '0o7777777777777777777777777' is an integer outside" "so is an octal one"
rm -f "$A/nums.yaml"

# Nothing above may crash: every run exited 0 or 1.
saas -C "$R" lint
[ "$rc" -le 1 ] && ok "lint never dies on bad input" || not_ok "lint never dies on bad input" "rc $rc"
