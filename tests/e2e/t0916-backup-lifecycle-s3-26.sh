#!/bin/sh
# The checks of t0915 against ClickHouse 26.7 (libchdb.so behind the
# fixture's HTTP layer): incremental, resume, verify --read-data and drill
# on a real Ceph RGW, every S3 request counted at a proxy in between.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/clickhouse-chdb/lib.sh"
chdb_start
URL=$CHDB_URL
q() { curl -sS --fail-with-body "$URL/" --data-binary "$1"; }
. "$TOP/tests/servers/clickhouse/lifecycle-checks-s3.sh"
