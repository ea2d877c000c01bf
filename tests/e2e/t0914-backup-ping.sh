#!/bin/sh
# backup clickhouse --ping CHECK (and backups.ping): a start ping, then
# success with the one-line summary, or fail with the reason; both with
# the same run ID. Healthchecks fixture, ClickHouse 18.16, file:// store.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/healthchecks/lib.sh"
. "$TOP/tests/servers/clickhouse/lib.sh"
UUID=5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278
hc_server --check $UUID:clickhouse-backup --ping-key pk-secret-123
ch_start
q() { curl -sS --fail-with-body "$CH_URL/" --data-binary "$1"; }
export SAASCTL_HC_PING_URL=$HC_URL SAASCTL_CLICKHOUSE_URL=$CH_URL \
	SAASCTL_BACKUP_STORE=file://$T/store
q "CREATE DATABASE src"
q "CREATE TABLE src.t (n UInt64) ENGINE = MergeTree ORDER BY n"
q "INSERT INTO src.t SELECT number FROM numbers(1000)"

saas backup clickhouse --db src --ping $UUID
expect_rc 0 "a backup with --ping succeeds"
expect_eq "$(hc_ping_count)" 2 "two pings are sent"
expect_eq "$(hc_ping_get 0 'p["path"]')" "/$UUID/start" "first start"
expect_eq "$(hc_ping_get 1 'p["path"]')" "/$UUID" "then success"
expect_eq "$(hc_ping_get 1 'p["body"]')" "$(sed -n '/^backup /p' "$T/out")" \
	"the success ping carries the summary line the user sees"
expect_eq "$(hc_ping_get 1 'p["body"].rstrip("\n").count("\n")')" 0 "on one line"
hc_ping_get 1 'p["body"]' | grep -Eq '^backup [0-9TZ-]+: 1 table, 1000 rows, .* in [0-9.]+ s$' &&
	ok "with tables, rows, bytes and duration" || not_ok "with tables, rows, bytes and duration" "$(hc_ping_get 1 'p["body"]')"
rid=$(hc_ping_get 0 'p["rid"]')
[ -n "$rid" ] && [ "$rid" = "$(hc_ping_get 1 'p["rid"]')" ] && ok "start and success share a run ID" ||
	not_ok "start and success share a run ID"

# a failure: the lock held by a live process
sleep 300 & holder=$!
mkdir -p "$T/store"
printf '{"pid": %d, "host": "%s", "started": "2026-01-01T00:00:00Z"}\n' "$holder" "$(hostname)" > "$T/store/saasctl.lock"
saas backup clickhouse --db src --ping $UUID
expect_rc 1 "a failing backup with --ping exits 1"
kill "$holder"; wait "$holder" 2>/dev/null
expect_eq "$(hc_ping_get -1 'p["path"]')" "/$UUID/fail" "the last ping is fail"
expect_eq "$(hc_ping_get -2 'p["path"]')" "/$UUID/start" "after a start"
hc_ping_get -1 'p["body"]' | grep -q "another backup holds the lock 'saasctl.lock': pid $holder" &&
	ok "the fail ping says why" || not_ok "the fail ping says why" "$(hc_ping_get -1 'p["body"]')"
rm -f "$T/store/saasctl.lock"

# backups.ping in saasctl.yaml, by slug with the ping key
mkdir -p "$T/repo" && cd "$T/repo"
printf 'project: acme\nbackups:\n  ping: clickhouse-backup\n' > saasctl.yaml
HC_PING_KEY=pk-secret-123 saas backup clickhouse --db src
expect_rc 0 "a backup with backups.ping succeeds"
expect_eq "$(hc_ping_get -1 'p["path"]')" "/pk-secret-123/clickhouse-backup" "the slug of backups.ping is pinged with the key"
expect_no_err "pk-secret-123" "the ping key is printed nowhere"

# Healthchecks down: the backup still succeeds and says the ping failed
kill "$HC_PID"; wait "$HC_PID" 2>/dev/null
saas backup clickhouse --db src --ping $UUID
expect_rc 0 "a backup succeeds when Healthchecks is down"
expect_err "warning|ping" "and warns that the ping failed"
