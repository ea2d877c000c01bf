#!/bin/sh
# saasctl checks sync|list: saasctl.yaml's checks made real through the
# Management API v3; idempotent; updates; prune.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/healthchecks/lib.sh"
hc_server --api-key api-secret-1
export SAASCTL_HC_API_URL=$HC_URL SAASCTL_HC_PING_URL=$HC_URL
mkdir -p "$T/repo"
cd "$T/repo"
cat > saasctl.yaml <<'YAML'
project: acme
healthchecks:
  checks:
    clickhouse-backup:
      schedule: "0 3 * * *"
      tz: Europe/Paris
      grace: 2h
      tags: [backup, clickhouse]
      desc: nightly ClickHouse backup to S3
    usage-stats: {timeout: 15m, grace: 5m}
YAML

saas checks sync
expect_rc 1 "sync without HC_API_KEY fails"
expect_err "^saasctl: checks sync: GET $HC_URL/api/v3/checks/: the Management API needs a key: set HC_API_KEY$" "a missing API key is explained"
HC_API_KEY=wrong saas checks sync
expect_rc 1 "a wrong API key fails"
expect_err "the API key was refused \(401 wrong api key\)" "a wrong API key is explained"
export HC_API_KEY=api-secret-1

saas checks sync --dry-run
expect_rc 0 "dry run exits 0"
expect_out '^would create clickhouse-backup: name "clickhouse-backup", tags "backup clickhouse", desc "nightly ClickHouse backup to S3", schedule "0 3 \* \* \*", tz "Europe/Paris", grace 2h$' "dry run shows the cron check to create"
expect_out '^would create usage-stats: name "usage-stats", timeout 15m, grace 5m$' "dry run shows the simple check to create"
expect_err '^dry run: 2 to create, 0 to update, 0 unchanged; nothing was changed$' "dry run sums up"
expect_eq "$(curl -s -H 'X-Api-Key: api-secret-1' $HC_URL/api/v3/checks/)" '{"checks": []}' "dry run changes nothing"

saas checks sync
expect_rc 0 "sync creates"
expect_out '^create +clickhouse-backup' "sync reports the creation"
expect_err '^2 created, 0 updated, 0 unchanged$' "sync sums up"
curl -s -H 'X-Api-Key: api-secret-1' $HC_URL/api/v3/checks/ > checks.json
expect_eq "$($PY -c 'import json; c={x["slug"]: x for x in json.load(open("checks.json"))["checks"]}; b=c["clickhouse-backup"]; u=c["usage-stats"]; print(b["schedule"], b["tz"], b["grace"], b["tags"], u["timeout"], u["grace"])')" \
	"0 3 * * * Europe/Paris 7200 backup clickhouse 900 300" "the server has the checks as saasctl.yaml says"

n0=$(hc_ping_count)
saas checks sync
expect_rc 0 "a second sync exits 0"
expect_out '^unchanged +clickhouse-backup$' "a second sync changes nothing"
expect_err '^0 created, 0 updated, 2 unchanged$' "a second sync sums up"
expect_eq "$(( $(hc_ping_count) - n0 ))" "1" "a second sync only reads (one GET)"

# A changed schedule is an update of that field only.
sed -i 's/"0 3 \* \* \*"/"30 4 * * *"/; s/timeout: 15m/timeout: 30m/' saasctl.yaml
saas checks sync --dry-run
expect_out '^would update clickhouse-backup: schedule "0 3 \* \* \*" -> "30 4 \* \* \*"$' "dry run shows the schedule change"
saas checks sync
expect_rc 0 "sync updates"
expect_out '^update +usage-stats: timeout 15m -> 30m$' "sync shows the timeout change"
expect_eq "$(hc_ping_get -1 'p["method"] + " " + p["path"][:15] + " " + p["body"]')" 'POST /api/v3/checks/ {"timeout":1800}' "an update sends only the changed fields"
saas checks sync
expect_err '^0 created, 0 updated, 2 unchanged$' "after the update, sync is a no-op again"

# Prune: a check saasctl.yaml does not list.
curl -s -H 'X-Api-Key: api-secret-1' $HC_URL/api/v3/checks/ --data '{"name": "old job", "slug": "old-job", "timeout": 3600}' > /dev/null
saas checks sync
expect_no_out 'old' "without --prune, other checks are left alone"
saas checks sync --prune --dry-run
expect_out '^would delete old job$' "--prune --dry-run shows the deletion"
saas --json checks sync --prune
expect_rc 0 "--prune exits 0"
expect_eq "$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print([(c["action"], c["name"]) for c in d["checks"]])' "$T/out")" \
	"[('unchanged', 'clickhouse-backup'), ('unchanged', 'usage-stats'), ('delete', 'old job')]" "--json lists every action"
curl -s -H 'X-Api-Key: api-secret-1' $HC_URL/api/v3/checks/ > checks.json
expect_eq "$($PY -c 'import json; print(sorted(x["slug"] for x in json.load(open("checks.json"))["checks"]))')" "['clickhouse-backup', 'usage-stats']" "the old check is gone"

# list: status, last ping, next expected ping.
saas ping usage-stats
HC_PING_KEY=test-ping-key saas ping usage-stats
saas checks list
expect_rc 0 "list exits 0"
expect_out '^NAME +STATUS +LAST PING +NEXT PING +SCHEDULE$' "list has a header"
expect_out '^usage-stats +up +20[0-9-]+ [0-9:]+  20[0-9-]+ [0-9:]+  every 30m, grace 5m$' "list shows status, last and next ping"
expect_out '^clickhouse-backup +new +- +- +30 4 \* \* \* Europe/Paris, grace 2h$' "list shows a check never pinged"
saas checks list --json
expect_eq "$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sorted((c["slug"], c["status"]) for c in d))' "$T/out")" \
	"[('clickhouse-backup', 'new'), ('usage-stats', 'up')]" "list --json"

# ping and run know the names of saasctl.yaml (a slug of their own) and
# its ping_url.
unset SAASCTL_HC_PING_URL
cat > saasctl.yaml <<YAML
project: acme
healthchecks:
  ping_url: $HC_URL/
  checks:
    nightly: {slug: clickhouse-backup, schedule: "30 4 * * *", tz: Europe/Paris, grace: 2h}
YAML
mkdir -p sub
HC_PING_KEY=test-ping-key saas -C sub ping nightly start
expect_rc 0 "ping by a name of saasctl.yaml"
expect_eq "$(hc_ping_get -1 'p["path"]')" "/test-ping-key/clickhouse-backup/start" "a name maps to its slug, ping_url from saasctl.yaml"
HC_PING_KEY=test-ping-key saas run --check nightly -- true
expect_eq "$rc:$(hc_ping_get -1 'p["path"]')" "0:/test-ping-key/clickhouse-backup/0" "run --check takes a name too"
export SAASCTL_HC_PING_URL=$HC_URL

# Bad saasctl.yaml: clear errors, nothing sent.
cat > saasctl.yaml <<'YAML'
project: acme
healthchecks:
  checks:
    nightly: {timeout: soon}
YAML
saas checks sync
expect_rc 1 "a bad duration fails"
expect_err "check 'nightly': timeout 'soon' is not a duration like 90s, 15m or 2h \(line 4\)" "a bad duration is explained"
cat > saasctl.yaml <<'YAML'
project: acme
healthchecks:
  checks:
    nightly: {timeout: 1h, schedule: "0 1 * * *"}
YAML
saas checks sync
expect_rc 1 "a schedule and a timeout together fail"
expect_err "check 'nightly': give a schedule or a timeout, not both" "schedule and timeout together are explained"
cat > saasctl.yaml <<'YAML'
project: acme
healthchecks:
  checks:
    nightly: {timeout: 1h, grace: 10s}
YAML
saas checks sync
expect_err "check 'nightly': grace '10s' must be between 1m and 365d" "a grace under a minute is explained"
cat > saasctl.yaml <<'YAML'
project: acme
healthchecks:
  checks:
    nightly: {timout: 1h}
YAML
saas checks sync
expect_rc 1 "an unknown key fails"
expect_err "unknown key 'healthchecks.checks.nightly.timout'; did you mean 'timeout'\?" "an unknown key is named with a suggestion"
cd "$T"
saas checks sync
expect_rc 1 "sync outside a monorepo fails"
expect_err "not inside an infra monorepo" "sync outside a monorepo says so"
