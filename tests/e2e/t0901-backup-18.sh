#!/bin/sh
# backup clickhouse / backup list / restore clickhouse against Debian's
# clickhouse-server 18.16 and a file:// store: round trip of every
# data-carrying engine, reruns, encryption, corruption, locks, --json.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/clickhouse/lib.sh"
ch_start
URL=$CH_URL VERSION=18 PASSWORD=$CH_PASSWORD
q() { curl -sS --fail-with-body "$URL/" --data-binary "$1"; }
. "$TOP/tests/servers/clickhouse/backup-checks.sh"
