/*
 * What ClickHouse sends a backup: LZ4 blocks, compressed frames and the
 * Native format. The first byte picks the part:
 *   'L'  an LZ4 block (then 3 bytes, little-endian: the output size, at
 *        most 1 MiB), decoded into a buffer of exactly that size and
 *        compared with a byte-at-a-time decoder: the same verdict and,
 *        when both succeed, the same bytes;
 *   'N'  a Native stream fed in pieces (a piece size from the next byte);
 *   else a stream of compressed frames (the byte is the first of it).
 * Never a crash, a read or write out of bounds, or a disagreement.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clickhouse.h"

#include "../lz4-plain.h"

static int drop(void *ud, const void *frame, size_t len, struct err *e)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e;

	if (size >= 4 && data[0] == 'L') {
		size_t outlen = (data[1] | data[2] << 8 | (size_t)data[3] << 16) & 0xfffff;
		uint8_t *a = malloc(outlen ? outlen : 1), *b = malloc(outlen ? outlen : 1);
		int ra, rb;

		if (!a || !b)
			abort();
		ra = clickhouse_lz4_decompress(data + 4, size - 4, a, outlen);
		rb = lz4_plain(data + 4, size - 4, b, outlen);
		if (ra != rb || (ra == 0 && memcmp(a, b, outlen)))
			abort(); /* the fast decoder disagrees with the plain one */
		free(a);
		free(b);
	} else if (size >= 2 && data[0] == 'N') {
		struct clickhouse_native nv, whole;
		size_t piece = data[1] ? data[1] : 1, at = 2;
		int ok;

		clickhouse_native_init(&nv);
		nv.hash = 1;
		while (at < size) {
			size_t n = size - at < piece ? size - at : piece;

			if (clickhouse_native_feed(&nv, data + at, n, &e) < 0)
				break;
			at += n;
		}
		ok = at >= size && clickhouse_native_finish(&nv, &e) == 0;
		/* in pieces or at once: the same rows, blocks and checksum */
		clickhouse_native_init(&whole);
		whole.hash = 1;
		if (clickhouse_native_feed(&whole, data + 2, size - 2, &e) == 0 &&
		    clickhouse_native_finish(&whole, &e) == 0 && ok &&
		    (nv.rows != whole.rows || nv.blocks != whole.blocks ||
		     nv.hash != whole.hash || nv.sum != whole.sum))
			abort();
		clickhouse_native_release(&whole);
		clickhouse_native_release(&nv);
	} else {
		struct clickhouse_frames fr;

		clickhouse_frames_init(&fr, drop, NULL);
		if (clickhouse_frames_feed(&fr, data, size, &e) == 0)
			clickhouse_frames_finish(&fr, &e);
		clickhouse_frames_release(&fr);
	}
	return 0;
}
