# Sourced by every tests/e2e/tNNNN-*.sh. Gives each test its own temp
# folder and HOME, TAP output, assertions and free ports.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
SAASCTL=${SAASCTL:-$TOP/saasctl}
# Debian's python3 has the oracles (python3-nacl, python3-botocore, yaml).
PY=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/saasctl-t.XXXXXX")
export HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config"
mkdir -p "$HOME"
unset NO_COLOR KUBECONFIG SAASCTL_PASSPHRASE_FILE HC_PING_KEY HC_API_KEY \
	SSH_AUTH_SOCK GITHUB_ACTIONS GITHUB_OUTPUT GITHUB_STEP_SUMMARY
for v in $(env | sed -n 's/^\(SAASCTL_[A-Z_]*\)=.*/\1/p'); do
	[ "$v" = SAASCTL ] || unset "$v"
done
# Leaks inside system libraries (see the file) are not ours to fix.
export LSAN_OPTIONS="suppressions=$TOP/tests/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME="Test Author" \
	GIT_AUTHOR_EMAIL=test@example.com GIT_COMMITTER_NAME="Test Author" \
	GIT_COMMITTER_EMAIL=test@example.com
t_n=0 t_failed=0
t_cleanup_hooks=""

t_at_exit() { t_cleanup_hooks="$1; $t_cleanup_hooks"; }
t_finish() {
	eval "$t_cleanup_hooks" 2>/dev/null
	rm -rf "$T"
	echo "1..$t_n"
	[ "$t_failed" -eq 0 ]
}
trap 't_finish' EXIT
# Killed for its time limit by tests/run.sh (TERM first), a test still stops
# its servers and removes its temp folder.
trap 'exit 143' TERM

ok() { t_n=$((t_n + 1)); echo "ok $t_n - $1"; }
not_ok() {
	t_n=$((t_n + 1)); t_failed=$((t_failed + 1))
	echo "not ok $t_n - $1"
	shift
	for line in "$@"; do printf '#   %s\n' "$line"; done
}

# run CMD...: runs it, keeping stdout in $T/out, stderr in $T/err and the
# exit status in $rc.
run() {
	"$@" > "$T/out" 2> "$T/err"
	rc=$?
}
# saas ARGS...: run the binary under test.
saas() { run "$SAASCTL" "$@"; }

# expect_rc N NAME: the last run exited with N.
expect_rc() {
	if [ "$rc" -eq "$1" ]; then ok "$2"
	else not_ok "$2" "exit status $rc, want $1" "stdout: $(head -c 2000 "$T/out")" "stderr: $(head -c 2000 "$T/err")"
	fi
}
# expect_out REGEX NAME / expect_err REGEX NAME: grep -E on stdout/stderr.
expect_out() {
	if grep -Eq -- "$1" "$T/out"; then ok "$2"
	else not_ok "$2" "stdout lacks /$1/" "stdout: $(head -c 2000 "$T/out")" "stderr: $(head -c 1000 "$T/err")"
	fi
}
expect_err() {
	if grep -Eq -- "$1" "$T/err"; then ok "$2"
	else not_ok "$2" "stderr lacks /$1/" "stderr: $(head -c 2000 "$T/err")"
	fi
}
expect_no_out() {
	if grep -Eq -- "$1" "$T/out"; then not_ok "$2" "stdout has /$1/" "stdout: $(head -c 2000 "$T/out")"
	else ok "$2"
	fi
}
expect_no_err() {
	if grep -Eq -- "$1" "$T/err"; then not_ok "$2" "stderr has /$1/" "stderr: $(head -c 2000 "$T/err")"
	else ok "$2"
	fi
}
# expect_eq GOT WANT NAME
expect_eq() {
	if [ "$1" = "$2" ]; then ok "$3"
	else not_ok "$3" "got:  $1" "want: $2"
	fi
}
# expect_file_same A B NAME: byte-identical files.
expect_file_same() {
	if cmp -s "$1" "$2"; then ok "$3"
	else not_ok "$3" "$(diff -u "$1" "$2" | head -40)"
	fi
}

# free_port: a TCP port on 127.0.0.1 nobody listens on right now.
free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# wait_port PORT [SECONDS]: until something accepts on 127.0.0.1:PORT.
wait_port() {
	$PY - "$1" "${2:-20}" <<'PYEOF'
import socket, sys, time
port, limit = int(sys.argv[1]), float(sys.argv[2])
end = time.time() + limit
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close(); sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PYEOF
}
# need CMD...: skip-as-failure with a clear line when a tool is missing.
need() {
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || { not_ok "needs '$c' (run make deps)"; exit 1; }
	done
}
