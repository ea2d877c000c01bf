# Sourced by tests after tests/lib.sh: starts the chdb fixture (ClickHouse
# 26.7 from libchdb.so behind server.py) on a private port and folder under
# $T, and stops it when the test exits. Start-up takes about 0.3 s.
#
#   chdb_start         sets CHDB_PORT, CHDB_URL, CHDB_DIR
#   chdb_query SQL     runs SQL through the HTTP interface (curl)
#
# It knows a user "backup" with the password in CHDB_PASSWORD.
CHDB_FIXTURE=$TOP/tests/servers/clickhouse-chdb
CHDB_PASSWORD='s3cret pass+word'

chdb_start() {
	need curl clickhouse-compressor
	[ -f "$CHDB_FIXTURE/node_modules/@chdb/lib-linux-x64-gnu/libchdb.so" ] ||
		{ not_ok "libchdb.so is installed (run make deps)"; exit 1; }
	CHDB_DIR=$T/chdb
	mkdir -p "$CHDB_DIR"
	CHDB_PORT=$(free_port)
	_chdb_t0=$(date +%s.%N)
	$PY "$CHDB_FIXTURE/server.py" --port "$CHDB_PORT" --path "$CHDB_DIR" \
		--user "backup:$CHDB_PASSWORD" --log "$CHDB_DIR/requests.log" \
		> "$CHDB_DIR/stdout.log" 2>&1 &
	CHDB_PID=$!
	t_at_exit "chdb_stop"
	CHDB_URL=http://127.0.0.1:$CHDB_PORT
	wait_port "$CHDB_PORT" 60 ||
		{ not_ok "the chdb fixture starts" "$(tail -20 "$CHDB_DIR/stdout.log")"; exit 1; }
	CHDB_START_SECS=$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $_chdb_t0 }")
	echo "# chdb fixture (ClickHouse 26.7) started in ${CHDB_START_SECS} s"
}

chdb_stop() {
	[ -n "${CHDB_PID:-}" ] || return 0
	kill "$CHDB_PID" 2>/dev/null
	_i=0
	while kill -0 "$CHDB_PID" 2>/dev/null && [ "$_i" -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
	kill -9 "$CHDB_PID" 2>/dev/null
	CHDB_PID=
}

chdb_query() {
	curl -sS --fail-with-body "$CHDB_URL/" --data-binary "$1"
}
