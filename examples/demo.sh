#!/bin/bash
# The 60-second tour behind 'make demo': scaffold a monorepo in a temp
# folder, add an app, list the apps and lint them; then every
# examples/demo-*.sh, each given the binary and the scratch monorepo.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
SAASCTL=${SAASCTL:-$top/saasctl}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/saasctl-demo.XXXXXX")/acme
trap 'rm -rf "$(dirname "$DIR")"' EXIT

bold= off=
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	bold=$(tput bold 2>/dev/null || true) off=$(tput sgr0 2>/dev/null || true)
fi
say() { printf '\n%s# %s%s\n' "$bold" "$*" "$off"; }
show() { printf '%s$ saasctl %s%s\n' "$bold" "$*" "$off"; "$SAASCTL" "$@"; }

say "saasctl $("$SAASCTL" --version | cut -d' ' -f2): the infra monorepo of a one-person SaaS, from one binary"

say "Lay out a new monorepo: settings, runbooks, manifests/, terraform/, and a first git commit"
show init "$DIR"
cd "$DIR"

say "Add an app: Deployment, Service, Ingress (TLS, rate limit), HPA, ConfigMap"
show new app web --host www.acme.example --image ghcr.io/acme/web:1.0.0 --replicas 2:6 --rpm 300
show new app api --host api.acme.example --port 9000

say "What runs where"
show apps

say "Lint: the new apps are clean"
show lint

say "Break something: a Service that selects no pods, an image on :latest"
sed -i 's/app: api$/app: apii/' manifests/apps/api/service.yaml
sed -i 's|image: ghcr.io/acme/web:1.0.0|image: ghcr.io/acme/web:latest|' manifests/apps/web/deployment.yaml
show lint || true

say "The same findings as GitHub Actions annotations (exit status 1 fails the job)"
show lint --format github || true
sed -i 's/app: apii$/app: api/' manifests/apps/api/service.yaml
sed -i 's|image: ghcr.io/acme/web:latest|image: ghcr.io/acme/web:1.0.0|' manifests/apps/web/deployment.yaml

# Commit the apps, so the tours that follow start from a clean tree.
git add -A
git -c user.name="${GIT_AUTHOR_NAME:-saasctl demo}" -c user.email="${GIT_AUTHOR_EMAIL:-demo@example.com}" \
	commit -qm "Add the web and api apps"

say "One resource, exactly as written in the repository"
show get web ingress/web

for demo in "$top"/examples/demo-*.sh; do
	[ -x "$demo" ] || continue
	"$demo" "$SAASCTL" "$DIR"
done

say "Done. 'man saasctl' for everything else; 'make check' runs the tests."
