#!/bin/sh
# Every seed and find of the fuzz corpora (tests/fuzz/corpus/<harness>/)
# through its harness once, built with the normal compiler and, under
# SANITIZE=address,undefined, the sanitizers: a regression on an input
# the fuzzers once found fails here. `make fuzz` runs the fuzzers.
. "$(dirname "$0")/../lib.sh"

: "${FUZZ_REPLAY:=$TOP/build/std/fuzz}"
C=$TOP/tests/fuzz/corpus

for src in "$TOP"/tests/fuzz/fuzz-*.c; do
	h=$(basename "$src" .c)
	if [ ! -x "$FUZZ_REPLAY/$h" ]; then
		not_ok "$h: replay binary built" "missing $FUZZ_REPLAY/$h (make run-tests builds it)"
		continue
	fi
	n=$(find "$C/$h" -type f 2>/dev/null | wc -l)
	if [ "$n" -eq 0 ]; then
		not_ok "$h: has a seed corpus" "no files in tests/fuzz/corpus/$h"
		continue
	fi
	run timeout 300 "$FUZZ_REPLAY/$h" "$C/$h"
	if [ "$rc" -eq 0 ] && grep -qx "$n inputs" "$T/out"; then
		ok "$h: $n corpus inputs replay cleanly"
	else
		not_ok "$h: $n corpus inputs replay cleanly" "exit status $rc" \
			"stdout: $(tail -c 500 "$T/out")" "stderr: $(tail -c 3000 "$T/err")"
	fi
done
