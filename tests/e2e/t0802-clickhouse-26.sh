#!/bin/sh
# src/clickhouse against ClickHouse 26.7 (libchdb.so behind the fixture's
# HTTP layer): the same checks as t0801.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/clickhouse-chdb/lib.sh"
chdb_start
URL=$CHDB_URL VERSION=26 PASSWORD=$CHDB_PASSWORD
q() { curl -sS --fail-with-body "$URL/" --data-binary "$1"; }
. "$TOP/tests/servers/clickhouse/client-checks.sh"
grep -q 's3cret' "$CHDB_DIR/requests.log" && not_ok "the password never shows in a request line" ||
	ok "the password never shows in a request line"
