#!/bin/sh
# src/store's file:// backend streams an object through the page cache in
# windows of 8 MiB: each window is sent to the disk as it is written, the
# one before it is waited for and dropped from the cache, and the object
# is synced at its end, so the final fsync() waits for the last window
# only and no object holds more than two windows of the cache. Reads drop
# what they have read. strace shows the calls; fincore shows the cache.
. "$(dirname "$0")/../lib.sh"
need strace fincore
ST=$TOOLS/store-tool
head -c 30000000 /dev/urandom > "$T/blob"
# (LeakSanitizer cannot run under ptrace: off for a sanitizer build)
ASAN_OPTIONS=detect_leaks=0 strace -f -e trace=sync_file_range,fsync,fadvise64 -o "$T/trace" "$ST" put --chunk 1048576 "file://$T/store" id/data/a.native.lz4 "$T/blob"
expect_eq "$?" "0" "a 30 MB object is written"
# what the cache holds of the object (tmpfs cannot drop its pages)
cached() { fincore --bytes --noheadings -o RES "$1" | tr -d ' '; }
tmpfs=$(stat -f -c %T "$T")
if [ "$tmpfs" = tmpfs ]; then
	ok "(skipped on tmpfs) the object is out of the cache once written"
else
	expect_eq "$(cached "$T/store/id/data/a.native.lz4")" "0" \
		"the object is out of the cache once written"
fi
expect_file_same "$T/store/id/data/a.native.lz4" "$T/blob" "with its bytes"
ranges() { # CALL FLAGS: OFFSET+LENGTH of each such call in the trace
	grep "$1(.*$2" "$T/trace" | sed 's/.*(\([0-9]*\), \([0-9]*\), \([0-9]*\).*/\2+\3/' | tr '\n' ' '
}
expect_eq "$(ranges sync_file_range 'SYNC_FILE_RANGE_WRITE)')" \
	"0+8388608 8388608+8388608 16777216+8388608 " \
	"the kernel is asked to write back each 8 MiB as it is written"
expect_eq "$(ranges sync_file_range WAIT_AFTER)" "0+8388608 8388608+8388608 " \
	"each window is waited for when the next one is written"
expect_eq "$(ranges fadvise64 DONTNEED)" "0+8388608 8388608+8388608 16777216+0 " \
	"and dropped from the cache then; the rest once it is synced"
n=$(grep -c '^[0-9]* *fsync(' "$T/trace")
[ "$n" -ge 2 ] && ok "the object and its folder are synced at the end" ||
	not_ok "the object and its folder are synced at the end" "$(cat "$T/trace")"

ASAN_OPTIONS=detect_leaks=0 strace -e trace=fadvise64 -o "$T/trace" "$ST" get "file://$T/store" id/data/a.native.lz4 > "$T/got"
expect_file_same "$T/got" "$T/blob" "it reads back whole"
expect_eq "$(ranges fadvise64 DONTNEED)" "0+8388608 8388608+8388608 16777216+8388608 " \
	"a read drops each 8 MiB it has read"
if [ "$tmpfs" = tmpfs ]; then
	ok "(skipped on tmpfs) and once read, at most its last window is left in the cache"
elif [ "$(cached "$T/store/id/data/a.native.lz4")" -le 8388608 ]; then
	ok "and once read, at most its last window is left in the cache"
else
	not_ok "and once read, at most its last window is left in the cache" \
		"$(cached "$T/store/id/data/a.native.lz4") bytes"
fi
t_finish
