#!/bin/sh
# src/clickhouse against Debian's clickhouse-server 18.16: listing, schema,
# partition fingerprints and checksums, and exports with 18.16's hazards
# (an empty 200 under 1 MiB with compress=1; an error inside a 200).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/clickhouse/lib.sh"
ch_start
URL=$CH_URL VERSION=18 PASSWORD=$CH_PASSWORD
q() { curl -sS --fail-with-body "$URL/" --data-binary "$1"; }
. "$TOP/tests/servers/clickhouse/client-checks.sh"
