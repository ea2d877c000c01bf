#!/bin/sh
# backup clickhouse --incremental, backup verify and backup drill against
# ClickHouse 26.7 (libchdb.so behind the fixture's HTTP layer).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/clickhouse-chdb/lib.sh"
chdb_start
URL=$CHDB_URL VERSION=26 PASSWORD=$CHDB_PASSWORD
q() { curl -sS --fail-with-body "$URL/" --data-binary "$1"; }
. "$TOP/tests/servers/clickhouse/lifecycle-checks.sh"
