#!/bin/sh
# saasctl deploy --wait: a real bare remote, and the kube-apiserver fixture
# playing Flux and the Deployment controller once the push lands (a script
# of status changes, pods and Events: tests/data/deploy/rollout-scenario.py).
# Success, each way a rollout fails, the timeout, Flux missing or failing,
# --rollback-on-failure, --json events and the GitHub Actions outputs.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/data/deploy/lib.sh"
. "$TOP/tests/servers/kube-apiserver/lib.sh"
need git openssl kubectl

n=0
# scenario KIND: a fresh monorepo and remote in $W/$R and a fixture
# scripted for KIND; KUBECONFIG points at it.
scenario() {
	n=$((n + 1))
	W=$T/work$n R=$T/remote$n.git
	setup_monorepo "$W" "$R"
	kube_start "$($PY "$TOP/tests/data/deploy/rollout-scenario.py" "$1" "$R")" "s$n"
	kube_config "$T/kc$n" '    token: tok-alice'
	export KUBECONFIG="$T/kc$n"
	cd "$W" || exit 1
}
remote_main() { git --git-dir="$R" rev-parse main; }

scenario success
start=$(date +%s)
GITHUB_OUTPUT=$T/gh-out GITHUB_STEP_SUMMARY=$T/gh-sum saas deploy web --image ghcr.io/acme/web:v2 --wait --timeout 20s
expect_rc 0 "a rollout that completes exits 0"
expect_err '^sync: kustomization .apps. at main@sha1:0000000000000000000000000000000000000000' "sync: it waits for Flux"
expect_err "^sync: done: kustomization 'apps' applied main@sha1:$(remote_main)\$" "then Flux applies the pushed commit"
expect_err '^rollout: Waiting for deployment "webserver" rollout to finish: 1 out of 2 new replicas have been updated...$' "rollout: kubectl's progress lines"
expect_err '^rollout: done: deployment "webserver" successfully rolled out$' "every workload of the image is followed"
expect_err '^rollout: done: deployment "celery-workers" successfully rolled out$' "celery too"
expect_err '^rollout of web succeeded: ghcr.io/acme/web:v2$' "it says the rollout succeeded"
[ $(($(date +%s) - start)) -lt 10 ] && ok "it ends as soon as the rollout is done" || not_ok "it ends as soon as the rollout is done"
grep -q '^rollout=succeeded$' "$T/gh-out" && ok "GITHUB_OUTPUT gets rollout=succeeded" || not_ok "GITHUB_OUTPUT gets rollout=succeeded" "$(cat "$T/gh-out")"
grep -q '^### Rollout of web succeeded$' "$T/gh-sum" && ok "the step summary says so" || not_ok "the step summary says so" "$(cat "$T/gh-sum")"
# the oracle: kubectl reads the same objects and agrees
for d in webserver celery-workers celery-scheduler; do
	run kubectl rollout status "deployment/$d" -n web --timeout=5s
	expect_rc 0 "kubectl rollout status: $d is rolled out too"
	expect_out "^deployment \"$d\" successfully rolled out\$" "in the same words"
done
grep -q '"watch": "true"' "$T/requests-s$n.jsonl" && ok "it watches" || not_ok "it watches" "$(tail -3 "$T/requests-s$n.jsonl")"

# on a terminal: one live line per stage, rewritten in place
if command -v script > /dev/null; then
	scenario success
	script -qec "'$SAASCTL' deploy web --image ghcr.io/acme/web:v2 --wait --timeout 20s" /dev/null > "$T/tty.out" 2>&1
	expect_eq "$(grep -c "$(printf '\r\033\[K')rollout: " "$T/tty.out")" 1 "on a TTY the rollout stage is one line"
	grep -q "$(printf '\r\033\[K')rollout: done: " "$T/tty.out" && ok "rewritten in place until done" || not_ok "rewritten in place until done" "$(od -c "$T/tty.out" | head -20)"
fi

scenario crashloop
GITHUB_OUTPUT=$T/gh-out2 GITHUB_STEP_SUMMARY=$T/gh-sum2 saas deploy web --image ghcr.io/acme/web:v2 --wait --timeout 20s
expect_rc 1 "a crash loop fails the deploy"
expect_err "^saasctl: deploy: rollout of 'web' failed: CrashLoopBackOff: pod 'webserver-7d9c5-x2x4k' container 'web': CrashLoopBackOff: back-off 40s" "with the reason"
expect_err '^  Warning BackOff: Back-off restarting failed container web' "the pod's Events"
expect_eq "$(sed -n 's/^  \(Normal\|Warning\) \([A-Za-z]*\):.*/\2/p' "$T/err" | tr '\n' ' ')" "Pulled BackOff " "oldest first"
expect_err '^last log lines of webserver-7d9c5-x2x4k/web:$' "the container's log"
expect_err "^  KeyError: 'DATABASE_URL'\$" "up to the crash"
expect_eq "$(grep -c '^  line [0-9]*$' "$T/err")" 16 "the last 20 lines only"
grep -q '^rollout=failed$' "$T/gh-out2" && ok "GITHUB_OUTPUT gets rollout=failed" || not_ok "GITHUB_OUTPUT gets rollout=failed" "$(cat "$T/gh-out2")"
grep -q "KeyError: 'DATABASE_URL'" "$T/gh-sum2" && grep -q '^### Rollout of web failed$' "$T/gh-sum2" && ok "the step summary has the failure and the log" || not_ok "the step summary has the failure and the log" "$(cat "$T/gh-sum2")"
expect_eq "$(git show "$(remote_main)":manifests/apps/web/webserver.yaml | grep -c 'web:v2')" 2 "without --rollback-on-failure the remote keeps the deploy"
expect_err '^rollout: Waiting for deployment "webserver" rollout to finish: 1 out of 2 new replicas have been updated...$' "saasctl's last word on the Deployment is kubectl's"
run kubectl rollout status deployment/webserver -n web --watch=false
expect_out '^Waiting for deployment "webserver" rollout to finish: 1 out of 2 new replicas have been updated...$' "kubectl would still be waiting: the crash loop is saasctl's own verdict"

scenario imagepull
saas deploy web --image ghcr.io/acme/web:v2 --wait --timeout 20s --rollback-on-failure
expect_rc 1 "ImagePullBackOff fails the deploy"
expect_err "failed: ImagePullBackOff: pod 'webserver-7d9c5-x2x4k' container 'web': ImagePullBackOff: Back-off pulling image" "with the reason"
expect_err '^  Warning Failed: Failed to pull image "ghcr.io/acme/web:v2": not found$' "and the Event"
expect_err '^rollback\(web\): ghcr.io/acme/web:v2 → ghcr.io/acme/web:v1; pushed [0-9a-f]{7} to origin$' "--rollback-on-failure rolls back"
expect_eq "$(git --git-dir="$R" log -1 --format=%s main)" "rollback(web): ghcr.io/acme/web:v2 → ghcr.io/acme/web:v1" "the remote gets the forward rollback commit"
expect_eq "$(git --git-dir="$R" rev-list --count main)" 3 "on top of the deploy"
expect_eq "$(git show "$(remote_main)":manifests/apps/web/webserver.yaml | grep -c 'web:v1')" 2 "pinning the previous image"
git --git-dir="$R" log -1 --format=%b main | grep -q 'rollout of ghcr.io/acme/web:v2 failed (ImagePullBackOff)' && ok "the commit says why" || not_ok "the commit says why" "$(git --git-dir="$R" log -1 --format=%B main)"
expect_eq "$(git rev-parse HEAD)" "$(remote_main)" "the work tree follows"

scenario oomkilled
saas deploy web --image ghcr.io/acme/web:v2 --wait --timeout 20s
expect_rc 1 "an OOMKilled container fails the deploy"
expect_err "failed: OOMKilled: pod 'webserver-7d9c5-x2x4k' container 'web': OOMKilled" "with the reason"
expect_err '^  allocating 2 GiB$' "and its log"

scenario deadline
saas deploy web --image ghcr.io/acme/web:v2 --wait --timeout 20s
expect_rc 1 "ProgressDeadlineExceeded fails the deploy"
expect_err "^saasctl: deploy: rollout of 'web' failed: ProgressDeadlineExceeded: deployment \"webserver\" exceeded its progress deadline\$" "in kubectl's words"
run kubectl rollout status deployment/webserver -n web --timeout=5s
expect_rc 1 "kubectl rollout status fails too"
expect_err '^error: deployment "webserver" exceeded its progress deadline$' "with the same message"

scenario flux-error
saas deploy web --image ghcr.io/acme/web:v2 --wait --timeout 20s
expect_rc 1 "a Flux build error fails the deploy"
expect_err "failed: BuildFailed: kustomization 'apps' failed main@sha1:$(remote_main): kustomize build failed: accumulating resources" "with Flux's message"

scenario flux-never
start=$(date +%s)
saas deploy web --image ghcr.io/acme/web:v2 --wait --timeout 2s
expect_rc 1 "a Flux that never syncs times out"
expect_err "failed: Timeout: timed out after 2s: kustomization 'apps' at main@sha1:0000000000000000000000000000000000000000, waiting for [0-9a-f]{7}\$" "saying what it waited for"
[ $(($(date +%s) - start)) -lt 8 ] && ok "the timeout holds" || not_ok "the timeout holds"

scenario no-flux
saas --json deploy web --image ghcr.io/acme/web:v2 --wait --timeout 20s
expect_rc 0 "without Flux the rollout is still followed"
"$TOP/build/std/tools/ndjson-check" < "$T/out" > /dev/null 2>&1 && ok "--json gives NDJSON" || not_ok "--json gives NDJSON" "$(cat "$T/out")"
first=$(head -1 "$T/out")
case $first in *'"event":"deploy"'*'"pushed":true'*) ok "the first event is the push" ;; *) not_ok "the first event is the push" "$first" ;; esac
expect_out '^\{"event":"stage","message":"Flux is not installed \(no Kustomization resource\): not waiting for a sync","stage":"sync","state":"skipped","subject":"flux"\}$' "the sync stage is skipped, and says so"
expect_out '"event":"stage","message":"Waiting for deployment \\"webserver\\" rollout to finish: 1 out of 2 new replicas have been updated...","stage":"rollout","state":"waiting","subject":"deployment/webserver"' "rollout events"
last=$(tail -1 "$T/out")
expect_eq "$last" '{"event":"result","image":"ghcr.io/acme/web:v2","rollout":"succeeded"}' "the last event is the result"

# usage
saas deploy web --image ghcr.io/acme/web:v3 --timeout 1m
expect_rc 2 "--timeout needs --wait"
saas deploy web --image ghcr.io/acme/web:v3 --wait --no-push
expect_rc 2 "--wait needs a push"
saas deploy web --image ghcr.io/acme/web:v3 --wait --timeout soon
expect_rc 2 "a bad --timeout is a usage error"
expect_err "bad --timeout 'soon'" "and says so"
t_finish
