#!/bin/sh
# backup clickhouse --incremental and --resume, backup verify --read-data
# and backup drill against Debian's clickhouse-server 18.16 and a real Ceph
# RGW, every S3 request counted at a proxy in between.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/clickhouse/lib.sh"
ch_start
URL=$CH_URL
q() { curl -sS --fail-with-body "$URL/" --data-binary "$1"; }
. "$TOP/tests/servers/clickhouse/lifecycle-checks-s3.sh"
