#!/bin/sh
# The checks of t0901 against ClickHouse 26.7 (libchdb.so behind the
# fixture's HTTP layer), LowCardinality columns included.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/clickhouse-chdb/lib.sh"
chdb_start
URL=$CHDB_URL VERSION=26 PASSWORD=$CHDB_PASSWORD
q() { curl -sS --fail-with-body "$URL/" --data-binary "$1"; }
. "$TOP/tests/servers/clickhouse/backup-checks.sh"
