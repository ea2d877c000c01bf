#!/bin/bash
# A narrated tour of sealed secrets: a cluster key and an offline recovery
# key, a Secret sealed for an app, the git diff after changing one value,
# and unsealing with the recovery key.
# Usage: examples/demo-secrets.sh SAASCTL MONOREPO_DIR
set -eu
saasctl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
repo=$2
mkdir -p "$repo"
cd "$repo"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

[ -f saasctl.yaml ] || echo "project: demo" > saasctl.yaml
app=$(ls manifests/apps 2>/dev/null | head -n 1 || true)
app=${app:-web}
mkdir -p "manifests/apps/$app" keys
sealed=manifests/apps/$app/secrets.sealed.yaml
rm -f keys/demo-cluster.* keys/demo-recovery.* "$sealed"

say "Two key pairs: the cluster's, and an offline recovery key (passphrase-protected)"
show "$saasctl" keygen --name demo-cluster --out keys
pass=$(mktemp); trap 'rm -f "$pass"' EXIT
echo "correct horse battery staple" > "$pass"
chmod 600 "$pass"   # mktemp makes it 0600; saasctl refuses a readable one
SAASCTL_PASSPHRASE_FILE=$pass show "$saasctl" keygen --name demo-recovery --out keys --passphrase
show cat keys/demo-cluster.pub
ls -l keys/demo-cluster.key keys/demo-recovery.key

# Recipients come from saasctl.yaml; add ours unless it lists some already.
if grep -q '^secrets:' saasctl.yaml; then
	recip=(-r keys/demo-cluster.pub -r keys/demo-recovery.pub)
else
	echo "secrets: {recipients: [keys/demo-cluster.pub, keys/demo-recovery.pub]}" >> saasctl.yaml
	recip=()
fi
say "saasctl.yaml names the recipients"
show cat saasctl.yaml

say "Seal a Secret for app '$app': only public keys are needed"
# The plaintext goes through a pipe: it never touches disk.
printf '%s\n' "apiVersion: v1" "kind: Secret" \
	"metadata: {name: $app-secrets, namespace: $app}" "stringData:" \
	"  DATABASE_URL: postgres://app:hunter2@db/app" \
	"  SECRET_KEY: django-insecure-demo" "  STRIPE_KEY: sk_test_123" |
	"$saasctl" seal ${recip[@]+"${recip[@]}"} -o "$sealed"
show cat "$sealed"

say "Change one value: --merge-into rewrites only that item, so the diff is one line"
cp "$sealed" "$sealed.before"
printf 'sk_live_456' |
	"$saasctl" seal --from-file STRIPE_KEY=/dev/stdin ${recip[@]+"${recip[@]}"} --merge-into "$sealed"
diff -u "$sealed.before" "$sealed" | cut -c1-100 || true
rm -f "$sealed.before"

say "Check every SealedSecret without any key"
show "$saasctl" secrets verify "$sealed" || true

say "Unseal with the recovery key (the cluster key is not needed)"
SAASCTL_PASSPHRASE_FILE=$pass show "$saasctl" unseal "$sealed" -k keys/demo-recovery.key -o env

say "A value moved to another item key does not open"
sed 's/^    SECRET_KEY:/    SECRET_KEY_X:/' "$sealed" > /tmp/demo-moved.$$.yaml
show "$saasctl" unseal /tmp/demo-moved.$$.yaml -k keys/demo-cluster.key || true
rm -f /tmp/demo-moved.$$.yaml
