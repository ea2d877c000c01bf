/*
 * LZ4's block format in its plainest form, one byte at a time: what the
 * fast decoder (clickhouse_lz4_decompress) is compared with, in the unit
 * tests and under fuzzing. Included by both.
 */
#ifndef SAASCTL_TESTS_LZ4_PLAIN_H
#define SAASCTL_TESTS_LZ4_PLAIN_H

#include <stddef.h>
#include <stdint.h>

static int lz4_plain(const uint8_t *in, size_t inlen, uint8_t *out,
		     size_t outlen)
{
	size_t i = 0, o = 0, lit, ml, off;

	while (i < inlen) {
		unsigned token = in[i++], b;

		lit = token >> 4;
		if (lit == 15)
			do {
				if (i >= inlen)
					return -1;
				lit += b = in[i++];
			} while (b == 255);
		if (lit > inlen - i || lit > outlen - o)
			return -1;
		while (lit--)
			out[o++] = in[i++];
		if (i == inlen)
			break;
		if (inlen - i < 2)
			return -1;
		off = in[i] | (size_t)in[i + 1] << 8;
		i += 2;
		if (off == 0 || off > o)
			return -1;
		ml = token & 15;
		if (ml == 15)
			do {
				if (i >= inlen)
					return -1;
				ml += b = in[i++];
			} while (b == 255);
		ml += 4;
		if (ml > outlen - o)
			return -1;
		for (; ml; ml--, o++)
			out[o] = out[o - off];
	}
	return o == outlen ? 0 : -1;
}

#endif
