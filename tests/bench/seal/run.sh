#!/bin/bash
# Sealed secrets benchmark, with its baselines measured in the same run:
#  1. saasctl seal of a 20-item Secret to 2 recipients (whole process)
#     against age -r encrypting the same 20 values one by one (target <= 0.5x)
#  2. saasctl unseal of 1,000 items: per-item cost against the RSA-4096
#     private-key operation kubeseal pays per item, from `openssl speed
#     rsa4096` (target >= 20x faster; 4.5 ms is the published figure)
#  3. peak RSS of both (target <= 10 MiB)
set -eu
top=$(cd "$(dirname "$0")/../../.." && pwd)
SAASCTL=${SAASCTL:-$top/saasctl}
for c in age age-keygen openssl /usr/bin/time; do
	command -v "$c" > /dev/null || { echo "bench seal: needs $c (make deps)" >&2; exit 1; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/saasctl-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T"

# median_ms RUNS CMD...: the median wall time of RUNS runs, in ms.
median_ms() {
	local runs=$1 i
	shift
	for ((i = 0; i < runs; i++)); do
		local s e
		s=$(date +%s%N)
		"$@" > /dev/null 2>&1
		e=$(date +%s%N)
		echo $(( (e - s) / 1000 ))
	done | sort -n | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.3f\n", m / 1000 }'
}
# peak_kib CMD...: maximum resident set size in KiB.
peak_kib() {
	/usr/bin/time -v "$@" 2>&1 > /dev/null | sed -n 's/.*Maximum resident set size (kbytes): //p'
}

"$SAASCTL" keygen -q --name a > /dev/null
"$SAASCTL" keygen -q --name b > /dev/null
age-keygen -o age1.key 2> /dev/null; age-keygen -o age2.key 2> /dev/null
r1=$(age-keygen -y age1.key) r2=$(age-keygen -y age2.key)

# 20 items of 32 random bytes (base64), as a Secret and as files for age.
mkdir vals
{
	printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: app, namespace: web}\nstringData:\n'
	for i in $(seq -w 1 20); do
		v=$(head -c 32 /dev/urandom | base64 -w0)
		printf '%s' "$v" > vals/ITEM_$i
		printf '  ITEM_%s: "%s"\n' "$i" "$v"
	done
} > secret20.yaml
cat > age20.sh <<SHEOF
#!/bin/sh
for f in $T/vals/*; do age -r $r1 -r $r2 -o /dev/null "\$f" || exit 1; done
SHEOF
chmod +x age20.sh

seal_ms=$(median_ms 31 "$SAASCTL" seal -f secret20.yaml -r a.pub -r b.pub)
age_ms=$(median_ms 11 ./age20.sh)

# 1,000 items.
{
	printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: big, namespace: web}\nstringData:\n'
	for i in $(seq -w 1 1000); do
		printf '  KEY_%s: "%s"\n' "$i" "$(head -c 32 /dev/urandom | base64 -w0)"
	done
} > secret1000.yaml
"$SAASCTL" seal -f secret1000.yaml -r a.pub -r b.pub -o sealed1000.yaml 2> /dev/null
unseal_ms=$(median_ms 11 "$SAASCTL" unseal sealed1000.yaml -k b.key)
"$SAASCTL" unseal sealed1000.yaml -k b.key | grep -c '^  KEY_' | grep -qx 1000 || { echo "bench seal: unseal did not give 1000 items" >&2; exit 1; }

# RSA-4096 private-key operation ("sign" column), seconds per op.
rsa_s=$(openssl speed -seconds 1 rsa4096 2> /dev/null | awk '/^rsa 4096 bits/ { sub("s", "", $4); print $4 }')

seal_rss=$(peak_kib "$SAASCTL" seal -f secret20.yaml -r a.pub -r b.pub)
unseal_rss=$(peak_kib "$SAASCTL" unseal sealed1000.yaml -k b.key)

awk -v seal="$seal_ms" -v age="$age_ms" -v un="$unseal_ms" -v rsa="$rsa_s" \
    -v srss="$seal_rss" -v urss="$unseal_rss" 'BEGIN {
	per = un / 1000
	rsa_ms = rsa * 1000
	printf "seal 20 items to 2 recipients:   saasctl %.1f ms   age -r x20 %.1f ms   ratio %.3fx (target <= 0.5x)\n", seal, age, seal / age
	printf "unseal 1,000 items:              %.1f ms total, %.4f ms per item (median of 11)\n", un, per
	printf "  vs RSA-4096 private op:        openssl speed %.3f ms -> %.0fx faster; published 4.5 ms -> %.0fx (target >= 20x)\n", rsa_ms, rsa_ms / per, 4.5 / per
	printf "peak RSS:                        seal %.1f MiB, unseal 1,000 items %.1f MiB (target <= 10 MiB)\n", srss / 1024, urss / 1024
	ok = (seal / age <= 0.5) && (rsa_ms / per >= 20) && (4.5 / per >= 20) && (srss <= 10240) && (urss <= 10240)
	print ok ? "bench seal: all targets met" : "bench seal: a target was missed"
	exit ok ? 0 : 1
}'
