# Sourced by tests after tests/lib.sh: starts Debian's clickhouse-server
# 18.16 on private ports with a private config and data folder under $T,
# and stops it when the test exits. Start-up takes about 1-2 s.
#
#   ch_start [NAME]    sets CH_PORT (HTTP), CH_TCP_PORT, CH_URL, CH_DIR,
#                      CH_PID; with NAME (A, B ...) another server, on its
#                      own ports and folder: NAME_PORT, NAME_TCP_PORT,
#                      NAME_URL, NAME_DIR, NAME_PID
#   ch_stop [NAME]     stops it (at exit anyway)
#   ch_query SQL       runs SQL through the HTTP interface (curl), prints
#                      the result; fails on a non-200 answer
#
# NAME_PORT and NAME_TCP_PORT set beforehand are used.
# CH_EXTRA_XML, when set, is written to the server's config.d/ (merged into
# its config by the server itself), e.g. a <remote_servers> cluster.
# The config has a second user "backup" with the password in CH_PASSWORD.
CH_FIXTURE=$TOP/tests/servers/clickhouse
CH_PASSWORD='s3cret pass+word'

ch_start() {
	need clickhouse-server curl
	_ch_n=${1:-CH}
	_ch_dir=$T/clickhouse
	[ "$_ch_n" = CH ] || _ch_dir=$T/clickhouse-$_ch_n
	# ports set beforehand (e.g. for a cluster in CH_EXTRA_XML) are kept
	eval "_ch_port=\${${_ch_n}_PORT:-} _ch_tcp=\${${_ch_n}_TCP_PORT:-}"
	[ -n "$_ch_port" ] || _ch_port=$(free_port)
	[ -n "$_ch_tcp" ] || _ch_tcp=$(free_port)
	_ch_inter=$(free_port)
	$PY "$CH_FIXTURE/mkconfig.py" "$_ch_dir" "$_ch_port" "$_ch_tcp" "$_ch_inter" ||
		{ not_ok "clickhouse-server config is written"; exit 1; }
	if [ -n "${CH_EXTRA_XML:-}" ]; then
		mkdir -p "$_ch_dir/etc/config.d"
		printf '%s\n' "$CH_EXTRA_XML" > "$_ch_dir/etc/config.d/test.xml"
	fi
	_ch_t0=$(date +%s.%N)
	# Not a daemon: the trap kills this process and waits for it.
	(cd "$_ch_dir" && exec clickhouse-server --config-file="$_ch_dir/etc/config.xml") \
		> "$_ch_dir/log/stdout.log" 2>&1 &
	_ch_pid=$!
	eval "${_ch_n}_PID=$_ch_pid ${_ch_n}_DIR=\$_ch_dir ${_ch_n}_PORT=$_ch_port \
		${_ch_n}_TCP_PORT=$_ch_tcp ${_ch_n}_URL=http://127.0.0.1:$_ch_port"
	t_at_exit "ch_stop $_ch_n"
	_i=0
	until [ "$(curl -s "http://127.0.0.1:$_ch_port/ping" 2>/dev/null)" = "Ok." ]; do
		_i=$((_i + 1))
		if [ "$_i" -gt 300 ] || ! kill -0 "$_ch_pid" 2>/dev/null; then
			not_ok "clickhouse-server 18.16 starts" "$(tail -20 "$_ch_dir/log/server.err.log" "$_ch_dir/log/stdout.log" 2>/dev/null)"
			exit 1
		fi
		sleep 0.1
	done
	CH_START_SECS=$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $_ch_t0 }")
	echo "# clickhouse-server 18.16 ${1:+($1) }started in ${CH_START_SECS} s"
}

ch_stop() {
	_ch_n=${1:-CH}
	eval "_ch_pid=\${${_ch_n}_PID:-}"
	[ -n "$_ch_pid" ] || return 0
	kill "$_ch_pid" 2>/dev/null
	# It flushes and exits in about a second; do not leave it behind.
	_i=0
	while kill -0 "$_ch_pid" 2>/dev/null && [ "$_i" -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
	kill -9 "$_ch_pid" 2>/dev/null
	eval "${_ch_n}_PID="
}

ch_query() {
	curl -sS --fail-with-body "$CH_URL/" --data-binary "$1"
}
