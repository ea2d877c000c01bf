#!/bin/sh
# backup clickhouse --incremental, backup verify and backup drill against
# Debian's clickhouse-server 18.16 and a file:// store.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/clickhouse/lib.sh"
ch_start
URL=$CH_URL VERSION=18 PASSWORD=$CH_PASSWORD
q() { curl -sS --fail-with-body "$URL/" --data-binary "$1"; }
. "$TOP/tests/servers/clickhouse/lifecycle-checks.sh"
