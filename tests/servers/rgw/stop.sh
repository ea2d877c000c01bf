#!/bin/sh
# Stops what start.sh DIR started, by the pids it recorded: TERM, then
# KILL after 2 s (memstore keeps nothing worth a clean stop). Usage: stop.sh DIR
dir=$1
pids=""
for f in "$dir"/run/*.pid; do
	[ -f "$f" ] || continue
	p=$(cat "$f")
	[ -n "$p" ] && kill "$p" 2>/dev/null && pids="$pids $p"
done
i=0
while [ -n "$pids" ] && [ "$i" -lt 20 ]; do
	alive=""
	for p in $pids; do
		kill -0 "$p" 2>/dev/null && alive="$alive $p"
	done
	pids=$alive
	[ -n "$pids" ] && sleep 0.1
	i=$((i + 1))
done
for p in $pids; do
	kill -9 "$p" 2>/dev/null
done
exit 0
