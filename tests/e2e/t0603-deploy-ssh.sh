#!/bin/sh
# saasctl deploy over ssh: Debian's sshd on a loopback port with its own
# host key and authorized keys. Known and unknown hosts, key files,
# ssh-agent, and a retry that fetches over ssh.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/data/deploy/lib.sh"
need git ssh-keygen ssh-agent ssh-add
# See tests/lsan.supp: libgit2's ssh transport leaks on connect.
export ASAN_OPTIONS="fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
SSHD=/usr/sbin/sshd
[ -x "$SSHD" ] || { not_ok "needs $SSHD (openssh-server; run make deps)"; exit 1; }

S=$T/sshd
mkdir -p "$S" "$HOME/.ssh"
ssh-keygen -q -t ed25519 -N '' -C host -f "$S/host_key"
ssh-keygen -q -t ed25519 -N '' -C user -f "$HOME/.ssh/id_ed25519"
ssh-keygen -q -t ed25519 -N '' -C agent -f "$T/agent_key"
ssh-keygen -q -t ed25519 -N '' -C stranger -f "$T/stranger_key"
cat "$HOME/.ssh/id_ed25519.pub" "$T/agent_key.pub" > "$S/authorized_keys"
chmod 600 "$S/authorized_keys"
port=$(free_port)
cat > "$S/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $S/host_key
PidFile $S/sshd.pid
AuthorizedKeysFile $S/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin yes
StrictModes no
UsePAM no
LogLevel ERROR
CONF
# sshd wants its privilege separation folder when started as root.
[ "$(id -u)" -ne 0 ] || [ -d /run/sshd ] || mkdir -p /run/sshd
"$SSHD" -D -e -f "$S/sshd_config" 2> "$S/sshd.log" &
sshd=$!
t_at_exit "kill $sshd"
wait_port "$port" || { not_ok "sshd starts" "$(cat "$S/sshd.log")"; exit 1; }

user=$(id -un)
URL="ssh://$user@127.0.0.1:$port$T/remote.git" R=$T/remote.git W=$T/work
setup_monorepo "$W" "$R" "$URL"
cd "$W" || exit 1
remote_main() { git --git-dir="$R" rev-parse main; }
fp=$(ssh-keygen -l -E sha256 -f "$S/host_key.pub" | awk '{print $2}')
# As a regular expression: base64 has "+".
fp=$(printf '%s' "$fp" | sed 's/[+]/\\+/g')

# An unknown host: refused, with its fingerprint.
saas deploy web --image ghcr.io/acme/web:v2
expect_rc 1 "an unknown ssh host exits 1"
expect_err "unknown ssh host '\[127.0.0.1\]:$port' \(ed25519 key $fp\)" "an unknown host is named with its SHA256 fingerprint"
expect_no_err "pushed" "an unknown host is not pushed to"
expect_eq "$(git rev-parse HEAD)" "$(remote_main)" "an unknown host moves no branch"

# A known host (in the file SAASCTL_SSH_KNOWN_HOSTS names) and ~/.ssh/id_ed25519.
echo "[127.0.0.1]:$port $(cut -d' ' -f1-2 "$S/host_key.pub")" > "$T/known_hosts"
SAASCTL_SSH_KNOWN_HOSTS=$T/known_hosts saas deploy web --image ghcr.io/acme/web:v2
expect_rc 0 "a known host and ~/.ssh/id_ed25519 push"
expect_eq "$(remote_main)" "$(cat "$T/out")" "the commit reaches the ssh remote"

# ~/.ssh/known_hosts, hashed as Debian's ssh writes it.
cp "$T/known_hosts" "$HOME/.ssh/known_hosts"
ssh-keygen -q -H -f "$HOME/.ssh/known_hosts" > /dev/null 2>&1
rm -f "$HOME/.ssh/known_hosts.old"
expect_eq "$(grep -c '^|1|' "$HOME/.ssh/known_hosts")" 1 "known_hosts is hashed"
saas deploy web --image ghcr.io/acme/web:v3
expect_rc 0 "a hashed ~/.ssh/known_hosts entry is accepted"

# A changed host key is refused.
echo "[127.0.0.1]:$port $(cut -d' ' -f1-2 "$T/stranger_key.pub")" > "$T/wrong_hosts"
SAASCTL_SSH_KNOWN_HOSTS=$T/wrong_hosts saas deploy web --image ghcr.io/acme/web:v4
expect_rc 1 "a changed host key exits 1"
expect_err "host key of '\[127.0.0.1\]:$port' does not match '$T/wrong_hosts' \(got ed25519 key $fp\)" "a changed host key is explained"

# A key the server does not know: a bounded number of tries, then a clear error.
SAASCTL_SSH_KEY=$T/stranger_key saas deploy web --image ghcr.io/acme/web:v4
expect_rc 1 "an unauthorized SAASCTL_SSH_KEY exits 1"
expect_err "authentication failed \(tried: $T/stranger_key\)" "the key that was tried is named"
expect_no_err "pushed" "a failed authentication claims nothing"

# ssh-agent is tried first; here it holds the only authorized key.
mv "$HOME/.ssh/id_ed25519" "$T/id_ed25519.away"
eval "$(ssh-agent -s -a "$T/agent.sock")" > /dev/null
t_at_exit "kill $SSH_AGENT_PID"
ssh-add -q "$T/agent_key" 2>/dev/null
saas -v deploy web --image ghcr.io/acme/web:v4
expect_rc 0 "ssh-agent authenticates"
expect_err "offering keys from ssh-agent" "ssh-agent is tried"
expect_no_err "BEGIN OPENSSH PRIVATE KEY" "no key material in the output"
mv "$T/id_ed25519.away" "$HOME/.ssh/id_ed25519"

# Someone pushed first: the fetch and the second push go over ssh too.
git clone -q "$R" "$T/colleague"
(cd "$T/colleague" && echo more >> README.colleague && git add . && git commit -qm colleague && git push -q origin main)
theirs=$(remote_main)
saas deploy web --image ghcr.io/acme/web:v5
expect_rc 0 "a retry over ssh succeeds"
expect_eq "$(git rev-parse HEAD~1)" "$theirs" "the retried commit builds on the remote tip"
expect_eq "$(remote_main)" "$(git rev-parse HEAD)" "the retried commit is pushed over ssh"
