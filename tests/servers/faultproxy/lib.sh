# Sourced by the fault-injection tests after tests/lib.sh.
# proxy_start NAME UPSTREAM_PORT ARGS...: a fault proxy in front of
# 127.0.0.1:UPSTREAM_PORT; sets NAME_PORT and NAME_URL, logs to
# $T/NAME.log; stopped at exit.
proxy_start() {
	_name=$1 _up=$2; shift 2
	_port=$(free_port)
	$PY "$TOP/tests/servers/faultproxy/proxy.py" --listen "$_port" \
		--upstream "127.0.0.1:$_up" --log "$T/$_name.log" "$@" \
		> "$T/$_name.out" 2>&1 &
	eval "${_name}_PID=$!"
	t_at_exit "kill $! 2>/dev/null"
	wait_port "$_port" 10 || { not_ok "the fault proxy $_name starts" "$(cat "$T/$_name.out")"; exit 1; }
	eval "${_name}_PORT=$_port ${_name}_URL=http://127.0.0.1:$_port"
}
