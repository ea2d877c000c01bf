#!/bin/bash
# Proves the README's two commands on a fresh Debian 12: debootstraps a
# minbase bookworm chroot holding only git, make and ca-certificates, from
# the Debian mirror this machine's own apt sources name; clones the commit
# under test (HEAD of this repository: uncommitted changes are not part of
# it) into /root/saasctl inside; runs `make demo`, then `make check`, there
# with a clean environment. Prints each command's exit status and wall time
# and exits non-zero if either fails. Called by .ci/run; needs root.
#
# The chroot lives under ${TMPDIR:-/var/tmp} (about 2 GB) and is removed on
# every exit path: processes whose root is the chroot are ended, mounts are
# undone deepest first (lazily if busy), and nothing is removed while a
# mount is still present under it.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
say() { printf 'fresh-debian: %s\n' "$*"; }
die() { printf 'fresh-debian: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, mount, chroot)"
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

# apt_uri SUITE: the first URI of an enabled "deb" source for SUITE with
# component main, from one-line (*.list) and deb822 (*.sources) files.
apt_uri() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk -v s="$1" '
			{ sub(/#.*/, ""); sub(/\[[^]]*\]/, "") }	# comments, [options]
			$1 != "deb" || $3 != s { next }
			{ for (j = 4; j <= NF; j++) if ($j == "main") { print $2; exit } }
		' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		# Paragraphs are separated by blank lines; keys are case-insensitive.
		awk -v s="$1" '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " s " ") &&
				    (" " comps " ") ~ / main / && tolower(enabled) != "no" && uris != "") {
					split(uris, u, " "); print u[1]; done = 1; exit
				}
				types = uris = suites = comps = enabled = ""
			}
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			{
				k = tolower($1); v = $0; sub(/^[^:]*:[ \t]*/, "", v); gsub(/[ \t]+/, " ", v)
				if (k == "types:") types = v; else if (k == "uris:") uris = v
				else if (k == "suites:") suites = v; else if (k == "components:") comps = v
				else if (k == "enabled:") enabled = v
			}
			END { if (!done) flush() }
		' "$f"
	done
}
mirror=$(apt_uri bookworm | head -1)
[ -n "$mirror" ] || die "no 'deb ... bookworm main' source in /etc/apt/sources.list{,.d}: cannot tell which Debian mirror to use"
updates=$(apt_uri bookworm-updates | head -1)
security=$(apt_uri bookworm-security | head -1)
say "mirror $mirror${updates:+, updates $updates}${security:+, security $security}"

if ! command -v debootstrap > /dev/null 2>&1; then
	say "installing debootstrap"
	apt-get update -qq && apt-get install -y -qq --no-install-recommends debootstrap > /dev/null ||
		die "cannot install debootstrap"
fi

base=${TMPDIR:-/var/tmp}
case $base in *[[:space:]\\]*) die "'$base': a folder without spaces or backslashes, please (set TMPDIR)" ;; esac
case ,$(findmnt -n -o OPTIONS -T "$base" 2>/dev/null), in
*,noexec,*|*,nodev,*) die "'$base' is mounted noexec or nodev: the chroot cannot run there (set TMPDIR)" ;;
esac
need_kb=$((2 * 1024 * 1024))
avail_kb=$(df -Pk "$base" | awk 'NR == 2 { print $4 }')
[ "${avail_kb:-0}" -ge "$need_kb" ] ||
	die "not enough free space in '$base': $((avail_kb / 1024)) MB free, the chroot needs about 2048 MB (set TMPDIR to a bigger folder)"

root=$(mktemp -d "$base/saasctl-fresh.XXXXXX")
root=$(readlink -f "$root")
mounted=""	# mount points inside the chroot, in the order they were made
child=""	# the long command running now (debootstrap, chroot)

# bg CMD...: run CMD in the background and wait for it, so that INT and
# TERM interrupt the wait at once (bash defers traps until a foreground
# command ends).
bg() {
	"$@" &
	child=$!
	wait "$child"
}

# mounts_under: every mount point at or below $root, deepest first.
mounts_under() {
	awk -v r="$root" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo |
		awk '{ print length($0), $0 }' | sort -rn | cut -d' ' -f2-
}

cleanup() {
	local rc=$? pid p m left i
	trap - EXIT INT TERM
	set +e
	# debootstrap runs outside the chroot: end it first.
	if [ -n "$child" ] && kill -TERM "$child" 2>/dev/null; then
		wait "$child" 2>/dev/null
	fi
	# End only the processes living in this chroot (servers the tests left).
	for i in 1 2 3 4 5 6 7 8 9 10 11; do
		left=""
		for p in /proc/[0-9]*; do
			[ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] || continue
			pid=${p#/proc/}
			left="$left $pid"
			if [ "$i" -le 10 ]; then kill -TERM "$pid" 2>/dev/null; else kill -KILL "$pid" 2>/dev/null; fi
		done
		[ -z "$left" ] && break
		sleep 0.5
	done
	for m in $(printf '%s\n' $mounted | tac) $(mounts_under); do
		mountpoint -q "$m" 2>/dev/null || continue
		umount "$m" 2>/dev/null || umount -l "$m" || say "cannot unmount '$m'"
	done
	left=$(mounts_under)
	if [ -n "$left" ]; then
		say "still mounted under '$root', not removing it:" $left
		[ "$rc" -ne 0 ] || rc=1
	else
		rm -rf --one-file-system "$root"
	fi
	rm -f "$root.log"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

chmod 0755 "$root"	# it is / inside the chroot
say "debootstrap bookworm into $root"
t0=$(date +%s)
bg debootstrap --variant=minbase --include=git,make,ca-certificates \
	bookworm "$root" "$mirror" > "$root.log" 2>&1 || {
	tail -n 30 "$root.log" >&2
	die "debootstrap failed"
}
say "debootstrap done in $(( $(date +%s) - t0 )) s"

{
	echo "deb $mirror bookworm main"
	[ -z "$updates" ] || echo "deb $updates bookworm-updates main"
	[ -z "$security" ] || echo "deb $security bookworm-security main"
} > "$root/etc/apt/sources.list"
cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
# The network's own trust anchors, as the mirror: where this machine reaches
# HTTPS through a TLS-inspecting proxy, its CA sits in
# /usr/local/share/ca-certificates, and npm in the chroot needs it too. A
# machine without one copies nothing.
if ls /usr/local/share/ca-certificates/*.crt > /dev/null 2>&1; then
	mkdir -p "$root/usr/local/share/ca-certificates"
	cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
	chroot "$root" update-ca-certificates > /dev/null 2>&1 ||
		die "update-ca-certificates failed in the chroot"
	say "trusted the machine's local CA certificates"
fi
[ -s "$root/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"

# Bind mounts, each made private so that mounting below $root/dev never
# propagates back to the host's /dev.
for m in proc sys dev dev/pts dev/shm; do
	mkdir -p "$root/$m"
	mount --bind "/$m" "$root/$m"
	mounted="$mounted $root/$m"
	mount --make-private "$root/$m"
done

head=$(git -C "$top" -c safe.directory='*' rev-parse HEAD)
src="$root/root/saasctl"
git init -q "$src"
git -C "$src" -c safe.directory='*' fetch -q "$top" HEAD
git -C "$src" checkout -q --detach FETCH_HEAD
[ "$(git -C "$src" rev-parse HEAD)" = "$head" ] || die "cloned $(git -C "$src" rev-parse HEAD), want $head"
say "cloned $head into /root/saasctl"

failed=0
# in_chroot NAME CMD: run CMD in the clone's folder with a clean environment.
in_chroot() {
	local name=$1 t rc
	shift
	say "$name ..."
	t=$(date +%s)
	rc=0
	bg chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/sh -c 'cd /root/saasctl && exec "$@"' sh "$@" < /dev/null || rc=$?
	say "$name: exit status $rc, wall time $(( $(date +%s) - t )) s"
	[ "$rc" -eq 0 ] || failed=1
}
in_chroot "make demo" make demo
in_chroot "make check" make check
[ "$failed" -eq 0 ] || die "the README's commands failed on a fresh Debian 12"
say "make demo and make check pass on a fresh Debian 12"
