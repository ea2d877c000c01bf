#!/bin/sh
# Backups to S3 (Ceph RGW) from ClickHouse 18.16 while things break: S3
# answers 500/503 to 10% of requests and resets connections (through
# tests/servers/faultproxy), ClickHouse is killed mid-export, an error
# arrives inside a 200 stream. Each run either completes through retries
# with the right data (count and checksum after a restore), or exits 1 with
# no manifest and no open multipart upload.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/rgw/lib.sh"
. "$TOP/tests/servers/clickhouse/lib.sh"
. "$TOP/tests/servers/faultproxy/lib.sh"
rgw_start
"$TOOLS/s3-tool" mb faults || not_ok "a bucket is created"
ch_start
q() { curl -sS --fail-with-body "$CH_URL/" --data-binary "$1"; }
export SAASCTL_S3_PART_SIZE=5242880 SAASCTL_CLICKHOUSE_URL=$CH_URL
export SAASCTL_BACKUP_STORE=s3://faults/ch
uploads() { "$TOOLS/s3-tool" uploads faults ch/; }
complete() { # the ids of complete backups, from RGW itself
	AWS_ENDPOINT_URL_S3=$RGW_URL "$SAASCTL" backup list --json |
		$PY -c 'import json,sys; print(" ".join(sorted(b["id"] for b in json.load(sys.stdin) if b["complete"])))'
}
sig() { q "SELECT count(), sum(cityHash64(*)) FROM $1"; }

q "CREATE DATABASE src"
q "CREATE TABLE src.events (d Date, n UInt64, s String) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY n"
q "INSERT INTO src.events SELECT toDate('2024-01-01') + number % 90, number, toString(cityHash64(number))
	FROM numbers(1500000)"
q "CREATE TABLE src.small (x UInt8) ENGINE = TinyLog"
q "INSERT INTO src.small VALUES (1), (2)"

# 1. S3 answers 500/503 to 10% of requests and resets 5% of connections.
proxy_start S3P "$RGW_PORT" --error-rate 0.10 --reset-rate 0.05 --seed 7
for round in 1 2; do
	AWS_ENDPOINT_URL_S3=$S3P_URL saas backup clickhouse --db src
	brc=$rc
	ID=$(sed -n 's/^backup \([0-9TZ-]*\):.*/\1/p' "$T/out")
	expect_eq "$(uploads)" "" "round $round: no multipart upload is left open"
	if [ "$brc" -eq 0 ]; then
		ok "round $round: the backup completes through the faults"
		AWS_ENDPOINT_URL_S3=$S3P_URL saas restore clickhouse "$ID" --db-map src=r$round
		expect_rc 0 "round $round: the restore, through the faults too, succeeds"
		expect_eq "$(sig r$round.events)" "$(sig src.events)" "round $round: same rows and checksum"
		expect_eq "$(sig r$round.small)" "$(sig src.small)" "round $round: the small table too"
	else
		expect_rc 1 "round $round: a backup that gives up exits 1"
		expect_eq "$(complete | grep -c "$ID")" 0 "round $round: and leaves no manifest"
	fi
done
errors=$(grep -c ' error ' "$T/S3P.log") resets=$(grep -c ' reset' "$T/S3P.log")
[ "$errors" -gt 3 ] && [ "$resets" -gt 0 ] && ok "faults were injected: $errors errors, $resets resets" ||
	not_ok "faults were injected" "errors $errors resets $resets" "$(tail -5 "$T/S3P.log")"
# half the GETs cut in the middle of their body: the restore resumes them
proxy_start S3G "$RGW_PORT" --cut-gets 0.5 --seed 3
AWS_ENDPOINT_URL_S3=$S3G_URL saas restore clickhouse "$ID" --db-map src=cut
expect_rc 0 "a restore whose GETs are cut mid-body succeeds"
expect_eq "$(sig cut.events)" "$(sig src.events)" "with the same rows and checksum"
cuts=$(grep -c 'reset-mid' "$T/S3G.log")
[ "$cuts" -gt 0 ] && ok "$cuts GETs were cut in the middle" || not_ok "GETs were cut in the middle" "$(cat "$T/S3G.log")"

# 2. ClickHouse sends an error inside a 200 stream (as 18.16 does when a
#    query fails after its first blocks).
proxy_start CHP "$CH_PORT" --inject-after 300000
before=$(complete)
SAASCTL_CLICKHOUSE_URL=$CHP_URL saas backup clickhouse --db src --table events
expect_rc 1 "an error inside a 200 fails the backup"
expect_err "Code: 241" "and the error quotes the server's"
expect_eq "$(complete)" "$before" "no manifest is written"
expect_eq "$(uploads)" "" "no multipart upload is left open"
grep -q ' inject ' "$T/CHP.log" && ok "the error was injected in a 200 stream" ||
	not_ok "the error was injected in a 200 stream" "$(cat "$T/CHP.log")"

# 3. ClickHouse killed mid-export, while the object is a multipart upload.
q "CREATE TABLE src.big (n UInt64, s String) ENGINE = MergeTree ORDER BY n"
q "INSERT INTO src.big SELECT number, toString(cityHash64(number)) FROM numbers(6000000)"
before=$(complete)
"$SAASCTL" backup clickhouse --db src --table big > "$T/kill.out" 2>&1 & bpid=$!
i=0
until [ -n "$(uploads)" ] || [ $i -gt 3000 ]; do
	i=$((i + 1)); kill -0 "$bpid" 2>/dev/null || break
done
kill -9 "$CH_PID" 2>/dev/null && ok "ClickHouse was killed mid-export" ||
	not_ok "ClickHouse was killed mid-export"
wait "$bpid"; brc=$?
expect_eq "$brc" 1 "the backup exits 1"
grep -q 'big' "$T/kill.out" && ok "and names the table" || not_ok "and names the table" "$(cat "$T/kill.out")"
expect_eq "$(complete)" "$before" "no manifest is written"
expect_eq "$(uploads)" "" "no multipart upload is left open"
CH_PID=
