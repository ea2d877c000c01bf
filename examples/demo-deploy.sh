#!/bin/bash
# A tour of saasctl deploy, history and rollback: GitOps rollouts by git
# push, against a local bare repository standing in for GitHub.
# usage: examples/demo-deploy.sh SAASCTL MONOREPO_DIR
set -eu
saasctl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
dir=$2
app=demo-web
say() { printf '\n\033[1m# %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

mkdir -p "$dir"
cd "$dir"
export GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-Demo} GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-demo@example.com}
export GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL
[ -f saasctl.yaml ] || echo "project: demo" > saasctl.yaml
if [ ! -d "manifests/apps/$app" ]; then
	mkdir -p "manifests/apps/$app"
	cat > "manifests/apps/$app/webserver.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: webserver
spec:
  selector:
    matchLabels: {app: webserver}
  template:
    metadata:
      labels: {app: webserver}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/demo-web:v1.0.0   # gunicorn + Django
YAML
	cat > "manifests/apps/$app/celery.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: celery-workers
spec:
  selector:
    matchLabels: {app: celery-workers}
  template:
    metadata:
      labels: {app: celery-workers}
    spec:
      containers: [{name: worker, image: "ghcr.io/acme/demo-web:v1.0.0", args: [celery, worker]}]
YAML
fi
[ -d .git ] || { git init -q -b main; }
git add -A && { git diff --cached --quiet || git commit -q -m "demo monorepo"; }
remote=$(mktemp -d "${TMPDIR:-/tmp}/saasctl-demo-remote.XXXXXX")
trap 'rm -rf "$remote"' EXIT
git init -q --bare -b "$(git branch --show-current)" "$remote/infra.git"
git remote remove origin 2>/dev/null || true
git remote add origin "file://$remote/infra.git"
git push -q origin HEAD

say "A dry run shows exactly which bytes change: the webserver and the Celery workers run one image"
run "$saasctl" deploy "$app" --tag v1.1.0 --dry-run

say "Deploy: edit, commit and push in one step; the commit SHA goes to stdout"
run "$saasctl" deploy "$app" --tag v1.1.0
run "$saasctl" deploy "$app" --tag v1.2.0
run git log -1 --format='%s%n%n%b'

say "Deploying the same tag again is a no-op"
run "$saasctl" deploy "$app" --tag v1.2.0

say "History comes from the commit trailers"
run "$saasctl" history "$app"

say "Roll back with a forward commit (no git revert), pushed like a deploy"
run "$saasctl" rollback "$app"
run "$saasctl" history "$app" -n 2
run git --git-dir="$remote/infra.git" log --oneline -4
