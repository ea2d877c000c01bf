#!/bin/sh
# Installs what saasctl needs to build and to run its tests: Debian
# packages with apt-get, and the npm packages of tests/servers (if any).
# Running it again when everything is present does nothing. Not root: it
# prints the command to run instead.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

# Build: compiler, pkg-config and the five libraries.
# Tests: shells for completions, man for the docs check, the servers and
# the independent oracles.
PKGS="build-essential pkg-config libcurl4-openssl-dev libyaml-dev
libjansson-dev libsodium-dev libgit2-dev libssh2-1-dev git ca-certificates curl openssl
python3 python3-yaml python3-nacl python3-botocore zsh fish bash-completion
man-db groff-base openssh-server openssh-client age hyperfine nodejs npm
kubernetes-client time clickhouse-server clickhouse-client clickhouse-tools
radosgw ceph-mon ceph-osd awscli strace"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		# kubectl may come from outside Debian; a working binary is enough.
		[ "$p" = kubernetes-client ] && command -v kubectl >/dev/null 2>&1 && continue
		[ "$p" = nodejs ] && command -v node >/dev/null 2>&1 && continue
		[ "$p" = npm ] && command -v npm >/dev/null 2>&1 && continue
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends$missing"
	if [ "$(id -u)" -ne 0 ]; then
		echo "make deps: missing packages; run as root:" >&2
		echo "  $cmd" >&2
		exit 1
	fi
	echo "make deps: installing$missing"
	sh -c "$cmd"
fi

for pj in "$top"/tests/servers/*/package.json; do
	[ -e "$pj" ] || continue
	d=$(dirname "$pj")
	if [ ! -d "$d/node_modules" ] || [ "$d/package-lock.json" -nt "$d/node_modules" ]; then
		log=$(cd "$d" && npm ci --no-audit --no-fund 2>&1) || {
			printf '%s\n' "$log" >&2
			echo "make deps: npm ci failed in $d" >&2
			exit 1
		}
		touch "$d/node_modules"
	fi
done
