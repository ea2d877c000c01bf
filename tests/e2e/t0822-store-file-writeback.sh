#!/bin/sh
# src/store's file:// backend writes a large object back as it grows
# (sync_file_range every 8 MiB) and syncs it at its end, so the final
# fsync() waits for the last few MiB only. strace shows the calls.
. "$(dirname "$0")/../lib.sh"
need strace
ST=$TOOLS/store-tool
head -c 30000000 /dev/urandom > "$T/blob"
# (LeakSanitizer cannot run under ptrace: off for a sanitizer build)
ASAN_OPTIONS=detect_leaks=0 strace -f -e trace=sync_file_range,fsync -o "$T/trace" "$ST" put --chunk 1048576 "file://$T/store" id/data/a.native.lz4 "$T/blob"
expect_eq "$?" "0" "a 30 MB object is written"
expect_file_same "$T/store/id/data/a.native.lz4" "$T/blob" "with its bytes"
expect_eq "$(grep -o 'sync_file_range([0-9]*, [0-9]*, [0-9]*' "$T/trace" | sed 's/.*(\([0-9]*\), \([0-9]*\), \([0-9]*\)/\2+\3/' | tr '\n' ' ')" \
	"0+8388608 8388608+8388608 16777216+8388608 " \
	"the kernel is asked to write back each 8 MiB as it is written"
n=$(grep -c '^[0-9]* *fsync(' "$T/trace")
[ "$n" -ge 2 ] && ok "the object and its folder are synced at the end" ||
	not_ok "the object and its folder are synced at the end" "$(cat "$T/trace")"
t_finish
