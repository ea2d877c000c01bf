# Sourced by tests after tests/lib.sh: starts Debian's clickhouse-server
# 18.16 on private ports with a private config and data folder under $T,
# and stops it when the test exits. Start-up takes about 1-2 s.
#
#   ch_start           sets CH_PORT (HTTP), CH_TCP_PORT, CH_URL, CH_DIR
#   ch_query SQL       runs SQL through the HTTP interface (curl), prints
#                      the result; fails on a non-200 answer
#
# The config has a second user "backup" with the password in CH_PASSWORD.
CH_FIXTURE=$TOP/tests/servers/clickhouse
CH_PASSWORD='s3cret pass+word'

ch_start() {
	need clickhouse-server curl
	CH_DIR=$T/clickhouse
	CH_PORT=$(free_port)
	CH_TCP_PORT=$(free_port)
	_ch_inter=$(free_port)
	$PY "$CH_FIXTURE/mkconfig.py" "$CH_DIR" "$CH_PORT" "$CH_TCP_PORT" "$_ch_inter" ||
		{ not_ok "clickhouse-server config is written"; exit 1; }
	_ch_t0=$(date +%s.%N)
	# Not a daemon: the trap kills this process and waits for it.
	(cd "$CH_DIR" && exec clickhouse-server --config-file="$CH_DIR/etc/config.xml") \
		> "$CH_DIR/log/stdout.log" 2>&1 &
	CH_PID=$!
	t_at_exit "ch_stop"
	CH_URL=http://127.0.0.1:$CH_PORT
	_i=0
	until [ "$(curl -s "$CH_URL/ping" 2>/dev/null)" = "Ok." ]; do
		_i=$((_i + 1))
		if [ "$_i" -gt 300 ] || ! kill -0 "$CH_PID" 2>/dev/null; then
			not_ok "clickhouse-server 18.16 starts" "$(tail -20 "$CH_DIR/log/server.err.log" "$CH_DIR/log/stdout.log" 2>/dev/null)"
			exit 1
		fi
		sleep 0.1
	done
	CH_START_SECS=$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $_ch_t0 }")
	echo "# clickhouse-server 18.16 started in ${CH_START_SECS} s"
}

ch_stop() {
	[ -n "${CH_PID:-}" ] || return 0
	kill "$CH_PID" 2>/dev/null
	# It flushes and exits in about a second; do not leave it behind.
	_i=0
	while kill -0 "$CH_PID" 2>/dev/null && [ "$_i" -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
	kill -9 "$CH_PID" 2>/dev/null
	CH_PID=
}

ch_query() {
	curl -sS --fail-with-body "$CH_URL/" --data-binary "$1"
}
