#!/bin/sh
# backup clickhouse, restore clickhouse and backup drill on the published
# ClickHouse schemas of real projects (tests/data/realworld/clickhouse):
# ClickHouse 26.7 (chdb) loads all of them, Debian's 18.16 what it
# accepts. Every table is filled with generated rows (the materialized
# views' targets through their sources) and compared after the restore
# with an oracle of its own: every row as TSV, AggregateFunction states
# finalized, sorted and hashed outside ClickHouse, and count().
# One line per table and step says what failed.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/servers/clickhouse-chdb/lib.sh"
. "$TOP/tests/servers/clickhouse/lib.sh"
DATA=$TOP/tests/data/realworld/clickhouse
TO=20	# seconds for any one command

# SOURCES names every schema file, and every schema file is named
( cd "$DATA" && find . -name '*.sql' | sed 's|^\./||' | sort ) > "$T/files"
cut -d' ' -f1 "$DATA/SOURCES" | sort > "$T/named"
expect_file_same "$T/files" "$T/named" "SOURCES names every schema file"

# load URL VERSION PROJECT DB: runs the statements of PROJECT's files on
# the server, in database DB; prints a line per statement the server
# refused (18.16 refuses newer syntax; 26.7 must accept all of them).
# The rewrites are those of tests/data/realworld/clickhouse/README.md.
load() {
	$PY - "$1" "$2" "$DATA/$3" "$4" <<'PY'
import re, sys, glob, urllib.request, urllib.parse, os
url, version, folder, db = sys.argv[1:5]
def rewrite(s):
    # langfuse: its migration templates, for a single server
    s = re.sub(r"\{CLICKHOUSE_(CLUSTERED|UNCLUSTERED)_ONLY:[^}]*\}", "", s)
    s = re.sub(r"\{CLICKHOUSE_HISTORICAL_FINAL_NEWLINES:\d+\}", "", s)
    s = s.replace("{CLICKHOUSE_CLUSTER_CLAUSE}", "").replace("{CLICKHOUSE_REPLICATION_PREFIX}", "")
    # highlight: logs_new took the name logs in a later migration
    s = re.sub(r"\bFROM logs\b", "FROM logs_new", s)
    return s
def agg26(body):
    # 26.7 refuses a new AggregatingMergeTree with columns outside its
    # sorting key that are no aggregates, unless the table allows it
    if version != "26" or not re.search(r"CREATE TABLE.*AggregatingMergeTree", body, re.S):
        return body
    if re.search(r"\bSETTINGS\b", body):
        return body + ", allow_dimensions_outside_sorting_key = 1"
    return body + "\nSETTINGS allow_dimensions_outside_sorting_key = 1"
params = {"database": db}
if version == "18":
    params["allow_experimental_low_cardinality_type"] = "1"
stmts = []
for f in sorted(glob.glob(folder + "/*.sql")):
    text = rewrite(open(f).read())
    for stmt in re.split(r";\s*(?:\n|$)", text):
        body = "\n".join(l for l in stmt.splitlines() if not l.strip().startswith("--")).strip()
        if body:
            stmts.append((f, agg26(body)))
# tables before the materialized views that read them
stmts.sort(key=lambda fb: "MATERIALIZED VIEW" in fb[1].split("(")[0])
for f, body in stmts:
        req = urllib.request.Request(url + "/?" + urllib.parse.urlencode(params),
                                     data=body.encode())
        try:
            urllib.request.urlopen(req, timeout=30).read()
        except urllib.error.HTTPError as e:
            first = " ".join(body.split()[:4])
            err = e.read().decode(errors="replace").strip().splitlines()[0][:300]
            print("%s: %s: %s" % (os.path.basename(f), first, err))
PY
}

q() { timeout $TO curl -sS --fail-with-body "$URL/" --data-binary "$1"; }

# fill DB TABLE [REPLACE-LIST] [ROWS]: generated rows for the columns an
# INSERT takes (not MATERIALIZED, not ALIAS), partition keys replaced so
# the rows land in a few partitions
fill26() {
	_cols=$(q "SELECT arrayStringConcat(groupArray(concat('\`', name, '\` ', type)), ', ')
		FROM (SELECT name, type FROM system.columns WHERE database = '$1' AND table = '$2'
		AND default_kind NOT IN ('MATERIALIZED', 'ALIAS') ORDER BY position)")
	_names=$(q "SELECT arrayStringConcat(groupArray(concat('\`', name, '\`')), ', ')
		FROM (SELECT name FROM system.columns WHERE database = '$1' AND table = '$2'
		AND default_kind NOT IN ('MATERIALIZED', 'ALIAS') ORDER BY position)")
	_rep=""; [ -n "${3:-}" ] && _rep=" REPLACE ($3)"
	# TSV output escaped the quotes of the types already: DateTime(\'UTC\')
	q "INSERT INTO \`$1\`.\`$2\` ($_names) SELECT *$_rep FROM generateRandom('$_cols', 42, 12, 3) LIMIT ${4:-300}"
}

# what a table holds, seen from outside: count() and the md5 of its rows
# as TSV, sorted by sort(1); AggregateFunction states are finalized
oracle() { # DB TABLE
	_sel=$(q "SELECT arrayStringConcat(groupArray(if(type LIKE 'AggregateFunction(%',
			concat('finalizeAggregation(\`', name, '\`)'), concat('\`', name, '\`'))), ', ')
		FROM (SELECT name, type FROM system.columns WHERE database = '$1' AND table = '$2'
		AND default_kind != 'ALIAS')")
	_n=$(q "SELECT count() FROM \`$1\`.\`$2\`") || { echo "count failed: $_n"; return; }
	_h=$(q "SELECT $_sel FROM \`$1\`.\`$2\` FORMAT TSV" > "$T/rows" && LC_ALL=C sort "$T/rows" | md5sum | cut -c1-32) ||
		{ echo "select failed: $(head -c 300 "$T/rows")"; return; }
	echo "$_n rows, $_h"
}

# tables whose data is compared: not views, not a Null engine, not a
# materialized view writing TO another table (that table is compared)
data_tables() { # DB
	q "SELECT name FROM system.tables WHERE database = '$1' AND name NOT LIKE '.inner%'
		AND engine NOT IN ('View', 'Null')
		AND NOT (engine = 'MaterializedView' AND create_table_query LIKE '% TO %')
		ORDER BY name"
}

compare() { # LABEL SRC TABLE: r_SRC.TABLE holds what SRC.TABLE holds
	want=$(oracle "$2" "$3"); got=$(oracle "r_$2" "$3")
	case $want in *" rows, "*) ;; *) not_ok "$1 $2.$3: the oracle reads the source" "$want"; return ;; esac
	expect_eq "$got" "$want" "$1 $2.$3: restored rows and content equal the source ($want)"
}

# run_project LABEL PROJECT SRC: back up SRC, restore it as r_SRC, drill
# it, and compare every table; SRC has been loaded and filled
run_project() {
	lab=$1 src=$3
	for t in $(data_tables "$src"); do
		q "OPTIMIZE TABLE \`$src\`.\`$t\` FINAL" >/dev/null 2>&1
	done
	export SAASCTL_CLICKHOUSE_URL=$URL SAASCTL_BACKUP_STORE=file://$T/store-$lab
	run timeout $TO "$SAASCTL" backup clickhouse --db "$src"
	brc=$rc; cp "$T/out" "$T/backup.out"; cp "$T/err" "$T/backup.err"
	[ "$brc" -eq 0 ] && ok "$lab $src: backup succeeds" ||
		not_ok "$lab $src: backup succeeds" "exit status $brc" "$(cat "$T/backup.out" "$T/backup.err" | head -40)"
	for t in $(data_tables "$src"); do
		if grep -Eq "^ok +$src\\.$t " "$T/backup.out"; then ok "$lab $src.$t: backed up"
		else not_ok "$lab $src.$t: backed up" "$(grep -F "$src.$t" "$T/backup.out" "$T/backup.err" | head -5)"
		fi
	done
	ID=$(sed -n 's/^backup \([0-9TZ-]*\):.*/\1/p' "$T/backup.out")
	if [ -z "$ID" ]; then
		# no manifest: back up and restore the tables that did back up
		# one by one, to see how far the others get
		not_ok "$lab $src: no backup of the whole database to restore or drill"
		for t in $(data_tables "$src"); do
			grep -Eq "^ok +$src\\.$t " "$T/backup.out" || continue
			run timeout $TO "$SAASCTL" backup clickhouse --db "$src" --table "$t"
			tid=$(sed -n 's/^backup \([0-9TZ-]*\):.*/\1/p' "$T/out")
			[ -n "$tid" ] || { not_ok "$lab $src.$t: a backup of it alone" "$(cat "$T/out" "$T/err" | head -5)"; continue; }
			run timeout $TO "$SAASCTL" restore clickhouse "$tid" --db-map "$src=r_$src"
			[ "$rc" -eq 0 ] || { not_ok "$lab $src.$t: restore of it alone" "$(cat "$T/out" "$T/err" | head -5)"; continue; }
			compare "$lab" "$src" "$t"
		done
		return
	fi
	run timeout $TO "$SAASCTL" restore clickhouse "$ID" --db-map "$src=r_$src"
	[ "$rc" -eq 0 ] && ok "$lab $src: restore succeeds" ||
		not_ok "$lab $src: restore succeeds" "exit status $rc" "$(cat "$T/out" "$T/err" | head -40)"
	for t in $(data_tables "$src"); do
		compare "$lab" "$src" "$t"
	done
	run timeout $TO "$SAASCTL" backup drill "$ID"
	[ "$rc" -eq 0 ] && ok "$lab $src: drill passes" ||
		not_ok "$lab $src: drill passes" "exit status $rc" "$(cat "$T/out" "$T/err" | head -40)"
	cp "$T/out" "$T/drill.out"
	for t in $(data_tables "$src"); do
		if grep -Eq "^ok +$src\\.$t\\b" "$T/drill.out"; then ok "$lab $src.$t: drill says ok"
		else not_ok "$lab $src.$t: drill says ok" "$(grep -F "$src.$t" "$T/drill.out" | head -5)"
		fi
	done
	unset SAASCTL_CLICKHOUSE_URL SAASCTL_BACKUP_STORE
}

# ---- ClickHouse 26.7: every schema, generated rows
chdb_start
URL=$CHDB_URL
for p in umami gitlab langfuse highlight; do
	q "CREATE DATABASE $p" >/dev/null
	load "$URL" 26 "$p" "$p" > "$T/refused"
	[ -s "$T/refused" ] && not_ok "26.7 accepts every statement of $p" "$(cat "$T/refused")" ||
		ok "26.7 accepts every statement of $p"
done

# partition keys over a few months (or days under a TTL, which would
# otherwise drop the rows) by the row's number
rn="rowNumberInAllBlocks()"
ago="now64(3) - toIntervalHour($rn % 48)"
fill26 umami website_event "toDateTime('2024-01-01 00:00:00', 'UTC') + toIntervalHour($rn * 7) AS created_at"
fill26 umami event_data
fill26 umami session_data
fill26 gitlab ai_usage_events "toDateTime64('2023-11-01 00:00:00', 6, 'UTC') + toIntervalHour($rn * 11) AS timestamp,
	toUInt16($rn % 7) AS event,
	'{\"ide_name\": \"vscode\", \"language\": \"c\", \"suggestion_size\": 12}' AS extras"
fill26 gitlab ci_finished_builds "toDateTime64('2023-06-01 00:00:00', 6, 'UTC') + toIntervalDay($rn * 3) AS finished_at,
	toDateTime64('2023-06-01 00:00:00', 6, 'UTC') + toIntervalDay($rn * 3) - toIntervalSecond($rn) AS started_at"
fill26 gitlab events_new "toDateTime64('2023-06-01 00:00:00', 6, 'UTC') + toIntervalDay($rn * 3) AS created_at,
	toUInt8(if($rn % 2 = 0, 5, 1)) AS action, if($rn % 2 = 0, '', 'Issue') AS target_type"
q "INSERT INTO gitlab.agent_platform_sessions SELECT number % 7, concat('ns/', toString(number % 3)), number, number,
	'flow', 'env', toUInt16(2024 + number % 2),
	initializeAggregation('anyIfState', toNullable(toDateTime64('2024-01-01 00:00:00', 6, 'UTC') + toIntervalSecond(number)), toUInt8(number % 2)),
	initializeAggregation('anyIfState', toNullable(toDateTime64('2024-01-02 00:00:00', 6, 'UTC')), toUInt8(1)),
	initializeAggregation('anyIfState', CAST(NULL, 'Nullable(DateTime64(6, \\'UTC\\'))'), toUInt8(1)),
	initializeAggregation('anyIfState', toNullable(toDateTime64('2024-01-03 00:00:00', 6, 'UTC')), toUInt8(0)),
	initializeAggregation('anyIfState', toNullable(toDateTime64('2024-01-04 00:00:00', 6, 'UTC')), toUInt8(1)),
	initializeAggregation('anyIfState', toNullable(toDateTime64('2024-01-05 00:00:00', 6, 'UTC')), toUInt8(1))
	FROM numbers(200)"
fill26 langfuse traces "toDateTime64('2024-01-01 00:00:00', 3) + toIntervalHour($rn * 9) AS timestamp, toUInt8($rn % 5 = 0) AS is_deleted"
fill26 langfuse observations "toDateTime64('2024-01-01 00:00:00', 3) + toIntervalHour($rn * 9) AS start_time, toUInt8($rn % 5 = 0) AS is_deleted"
fill26 langfuse traces_null "concat('p', toString($rn % 3)) AS project_id, toString($rn % 50) AS id,
	$ago AS start_time"
# its materialized view is not among the statements taken
q "INSERT INTO langfuse.traces_7d_amt SELECT * FROM langfuse.traces_all_amt"
fill26 highlight logs_new "toDateTime(now() - toIntervalHour($rn % 60)) AS Timestamp"
fill26 highlight traces_new "toDateTime64(now64(3) - toIntervalHour($rn % 60), 9) AS Timestamp,
	[Timestamp] AS \`Events.Timestamp\`, [concat('ev', toString($rn % 3))] AS \`Events.Name\`,
	[map('k', toString($rn))] AS \`Events.Attributes\`, ['t', 'u'] AS \`Links.TraceId\`,
	['s', 's2'] AS \`Links.SpanId\`, ['', 'x'] AS \`Links.TraceState\`,
	[map(), map('a', 'b')] AS \`Links.Attributes\`"
for p in umami gitlab langfuse highlight; do
	for t in $(data_tables "$p"); do
		n=$(q "SELECT count() FROM $p.\`$t\`")
		[ "${n:-0}" -gt 0 ] 2>/dev/null && ok "26.7 $p.$t holds generated rows ($n)" ||
			not_ok "26.7 $p.$t holds generated rows" "$n"
	done
done
for p in umami gitlab langfuse highlight; do
	run_project 26.7 "$p" "$p"
done
chdb_stop

# ---- ClickHouse 18.16: the statements it accepts, rows from numbers()
ch_start
URL=$CH_URL
q "CREATE DATABASE umami" >/dev/null
load "$URL" 18 umami umami > "$T/refused"
echo "# 18.16 refuses (newer syntax):"; sed 's/^/#   /' "$T/refused"
for t in website_event event_data session_data; do
	grep -q "CREATE TABLE umami\\.$t " "$T/refused" && not_ok "18.16 accepts umami.$t" "$(grep "umami\\.$t " "$T/refused")" ||
		ok "18.16 accepts umami.$t"
done
uuid="toUUID(concat('00000000-0000-0000-0000-', substring(toString(1000000000000 + number % 1000), 2)))"
q "INSERT INTO umami.website_event SELECT $uuid, $uuid, $uuid, generateUUIDv4(),
	'example.com', 'firefox', 'linux', 'desktop', '1920x1080', 'en', 'DE', 'DE-BE', '', 'Berlin', '10.0.0.1',
	concat('/p/', toString(number % 17)), '', '', '', 'ref.example', 'Title',
	toUInt32(number % 2 + 1), 'click', '', toDateTime('2024-01-01 00:00:00', 'UTC') + number * 25000,
	if(number % 3 = 0, NULL, $uuid) FROM numbers(300)"
q "INSERT INTO umami.event_data SELECT $uuid, $uuid, $uuid, '/p', 'ev', concat('k', toString(number % 4)),
	if(number % 2 = 0, NULL, 'v'), if(number % 3 = 0, NULL, toDecimal64(number / 7, 4)),
	if(number % 5 = 0, NULL, toDateTime('2024-01-01 00:00:00', 'UTC') + number), toUInt32(number % 4),
	toDateTime('2024-01-01 00:00:00', 'UTC') + number, NULL FROM numbers(300)"
q "INSERT INTO umami.session_data SELECT $uuid, $uuid, concat('k', toString(number % 4)),
	'v', toDecimal64(number, 4), NULL, 1, toDateTime('2024-01-01 00:00:00', 'UTC'), $uuid FROM numbers(300)"
URL=$CH_URL
run_project 18.16 umami umami
