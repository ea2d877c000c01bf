#!/bin/bash
# saasctl deploy (edit + commit + push to a local bare repo) against the
# same change made with the git CLI (sed -i + git commit -am + git push),
# in a monorepo of 10,000 commits and 2,000 files; and saasctl history over
# those commits. Prints medians and the ratio.
set -eu
top=$(cd "$(dirname "$0")/../../.." && pwd)
SAASCTL=${SAASCTL:-$top/saasctl}
COMMITS=${COMMITS:-10000} FILES=${FILES:-2000} APPS=${APPS:-100} RUNS=${RUNS:-15}
T=$(mktemp -d "${TMPDIR:-/tmp}/saasctl-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
export HOME=$T/home GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME"
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com \
	GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com

echo "deploy bench: generating $COMMITS commits x $FILES files with git fast-import"
git init -q --bare -b main "$T/remote.git"
/usr/bin/python3 "$top/tests/bench/deploy/gen.py" "$COMMITS" "$FILES" "$APPS" |
	git --git-dir="$T/remote.git" fast-import --quiet
git --git-dir="$T/remote.git" gc -q
git clone -q "file://$T/remote.git" "$T/work"
cd "$T/work"
echo "  $(git rev-list --count HEAD) commits, $(git ls-files | wc -l) files"

now() { date +%s%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
: > "$T/saasctl.ns"; : > "$T/git.ns"
for i in $(seq 1 "$RUNS"); do
	# Alternate so that caches and repository growth favour neither.
	a=$(printf 'app%04d' $(( (2 * i) % APPS )))
	s=$(now)
	"$SAASCTL" -q deploy "$a" --image "ghcr.io/acme/$a:bench$i" > /dev/null
	echo $(( $(now) - s )) >> "$T/saasctl.ns"

	b=$(printf 'app%04d' $(( (2 * i + 1) % APPS )))
	s=$(now)
	sed -i "s#image: ghcr.io/acme/$b:[^ ]*#image: ghcr.io/acme/$b:bench$i#" "manifests/apps/$b/deployment.yaml"
	git commit -qam "deploy($b): bench$i"
	git push -q origin main
	echo $(( $(now) - s )) >> "$T/git.ns"
done
[ "$(git status --porcelain)" = "" ] || { echo "bench: work tree not clean" >&2; exit 1; }
[ "$(git rev-parse HEAD)" = "$(git --git-dir="$T/remote.git" rev-parse main)" ] || { echo "bench: not pushed" >&2; exit 1; }

sd=$(median < "$T/saasctl.ns") gd=$(median < "$T/git.ns")
: > "$T/hist.ns"
for i in $(seq 1 5); do
	s=$(now)
	"$SAASCTL" history app0010 > "$T/hist.out"
	echo $(( $(now) - s )) >> "$T/hist.ns"
done
hd=$(median < "$T/hist.ns")
[ "$(wc -l < "$T/hist.out")" -gt 10 ] || { echo "bench: history found nothing" >&2; exit 1; }
awk -v s="$sd" -v g="$gd" -v h="$hd" -v n="$RUNS" 'BEGIN {
	printf "  saasctl deploy (edit+commit+push): %7.1f ms  (median of %d)\n", s / 1e6, n
	printf "  sed -i + git commit -am + git push: %7.1f ms  (median of %d)\n", g / 1e6, n
	printf "  ratio saasctl/git: %.2fx (target <= 1.0x)\n", s / g
	printf "  saasctl history over the whole history: %.1f ms (target <= 500 ms)\n", h / 1e6
}'
