#!/bin/sh
# The checks of t0901 (ClickHouse 18.16) with an s3:// store on a real Ceph
# RGW: the same round trips, reruns, encryption, corruption, locks and
# killed runs; awscli reads back every object and the manifest. 5 MiB
# parts, so that the larger partitions are multipart uploads.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/rgw/lib.sh"
. "$TOP/tests/servers/clickhouse/lib.sh"
need aws
rgw_start
"$TOOLS/s3-tool" mb ch-backups || not_ok "a bucket is created"
ch_start
URL=$CH_URL VERSION=18 PASSWORD=$CH_PASSWORD
q() { curl -sS --fail-with-body "$URL/" --data-binary "$1"; }
export SAASCTL_S3_PART_SIZE=5242880
STORE_URL=s3://ch-backups/prod/clickhouse
. "$TOP/tests/servers/clickhouse/backup-checks.sh"
. "$TOP/tests/servers/clickhouse/backup-checks-s3.sh"
