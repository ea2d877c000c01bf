/*
 * The LZ4 benchmark's driver: decodes every LZ4 frame of a stream of
 * ClickHouse compressed frames (what `?compress=1` answers) with
 * clickhouse_lz4_decompress() and with the decoder it replaced (kept
 * below, unchanged, as the baseline), in interleaved rounds, and prints
 * the better round of each in MB of output a second and their ratio.
 *
 *   bench FILE [ROUNDS]
 *
 * First both decode every frame into a buffer of exactly its size, and
 * their output is compared. Timed, they decode into one buffer, as saasctl
 * decodes each frame into the Native parser's buffer, which it reuses.
 * CPU time of this thread is measured, so that time the machine gives to
 * others is not counted.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clickhouse.h"

/* The decoder as it was, the baseline. */
static inline void old_copy16(uint8_t *dst, const uint8_t *src, size_t n)
{
	for (size_t i = 0; i < n; i += 16)
		memcpy(dst + i, src + i, 16);
}

static int old_lz4_decompress(const uint8_t *in, size_t inlen, uint8_t *out,
			      size_t outlen)
{
	const uint8_t *ip = in, *iend = in + inlen;
	uint8_t *op = out, *oend = out + outlen;

	while (ip < iend) {
		unsigned token = *ip++;
		size_t lit = token >> 4, ml, off;

		if (lit == 15) {
			unsigned b;

			do {
				if (ip >= iend)
					return -1;
				b = *ip++;
				lit += b;
			} while (b == 255);
		}
		if (lit > (size_t)(iend - ip) || lit > (size_t)(oend - op))
			return -1;
		if ((size_t)(iend - ip) >= lit + 16 && (size_t)(oend - op) >= lit + 16)
			old_copy16(op, ip, lit);
		else
			memcpy(op, ip, lit);
		op += lit;
		ip += lit;
		if (ip == iend)
			break;
		if (iend - ip < 2)
			return -1;
		off = (size_t)ip[0] | (size_t)ip[1] << 8;
		ip += 2;
		if (off == 0 || off > (size_t)(op - out))
			return -1;
		ml = token & 15;
		if (ml == 15) {
			unsigned b;

			do {
				if (ip >= iend)
					return -1;
				b = *ip++;
				ml += b;
			} while (b == 255);
		}
		ml += 4;
		if (ml > (size_t)(oend - op))
			return -1;
		if (off >= 16 && (size_t)(oend - op) >= ml + 16) {
			old_copy16(op, op - off, ml);
			op += ml;
		} else if ((size_t)(oend - op) >= ml + 8 && ml > 16) {
			size_t k = off >= 8 ? off : off * ((8 + off - 1) / off), i = 0;

			if (off < 8)
				for (; i < k; i++)
					op[i] = (op - off)[i];
			for (; i < ml; i += 8)
				memcpy(op + i, op + i - k, 8);
			op += ml;
		} else {
			for (size_t i = 0; i < ml; i++, op++)
				*op = *(op - off);
		}
	}
	return op == oend ? 0 : -1;
}

struct frame {
	const uint8_t *in;
	size_t inlen, outlen;
};

static uint8_t *room;	/* where the timed runs decode */

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef int (*decoder)(const uint8_t *, size_t, uint8_t *, size_t);

/* Seconds to decode every frame `times` times. */
static double run(decoder dec, struct frame *f, size_t n, int times)
{
	double t0 = cpu_seconds();

	for (int t = 0; t < times; t++)
		for (size_t i = 0; i < n; i++)
			if (dec(f[i].in, f[i].inlen, room, f[i].outlen) < 0) {
				fprintf(stderr, "bench lz4: frame %zu does not decode\n", i);
				exit(1);
			}
	return cpu_seconds() - t0;
}

int main(int argc, char **argv)
{
	FILE *fp;
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n = 0, plain = 0, at = 0, most = 0;
	struct frame *f = NULL;
	int rounds = argc > 2 ? atoi(argv[2]) : 20, times;
	double best_old = 1e9, best_new = 1e9;

	if (argc < 2 || rounds < 1) {
		fprintf(stderr, "usage: bench FILE [ROUNDS]\n");
		return 2;
	}
	fp = fopen(argv[1], "rb");
	if (!fp) {
		perror(argv[1]);
		return 1;
	}
	for (;;) {
		if (len == cap && !(buf = realloc(buf, cap = cap ? 2 * cap : 1 << 20)))
			abort();
		size_t r = fread(buf + len, 1, cap - len, fp);

		if (r == 0)
			break;
		len += r;
	}
	fclose(fp);
	while (at + CLICKHOUSE_FRAME_HEADER <= len) {
		size_t size = le32(buf + at + 17), outlen = le32(buf + at + 21);

		if (size < 9 || at + 16 + size > len) {
			fprintf(stderr, "bench lz4: %s: a frame runs past the end\n", argv[1]);
			return 1;
		}
		if (buf[at + 16] == 0x82) {
			uint8_t *a = malloc(outlen ? outlen : 1);
			uint8_t *b = malloc(outlen ? outlen : 1);

			if (!(f = realloc(f, (n + 1) * sizeof(*f))) || !a || !b)
				abort();
			f[n] = (struct frame){ buf + at + CLICKHOUSE_FRAME_HEADER,
					       size - 9, outlen };
			/* the same bytes from both, before anything is timed */
			if (clickhouse_lz4_decompress(f[n].in, f[n].inlen, a, outlen) < 0 ||
			    old_lz4_decompress(f[n].in, f[n].inlen, b, outlen) < 0 ||
			    memcmp(a, b, outlen)) {
				fprintf(stderr, "bench lz4: %s: frame %zu: the decoders disagree\n",
					argv[1], n);
				return 1;
			}
			free(a);
			free(b);
			plain += outlen;
			most = outlen > most ? outlen : most;
			n++;
		}
		at += 16 + size;
	}
	if (n == 0 || at != len) {
		fprintf(stderr, "bench lz4: %s: not a stream of LZ4 frames\n", argv[1]);
		return 1;
	}
	if (!(room = malloc(most)))
		abort();
	/* rounds of 0.05-0.1 s of the baseline: short rounds, many of them,
	 * so that some of each run while the machine is quiet */
	times = 1;
	while (run(old_lz4_decompress, f, n, times) < 0.05 && times < 1 << 20)
		times *= 2;
	for (int r = 0; r < rounds; r++) {
		double o = run(old_lz4_decompress, f, n, times);
		double w = run(clickhouse_lz4_decompress, f, n, times);

		best_old = o < best_old ? o : best_old;
		best_new = w < best_new ? w : best_new;
	}
	printf("%zu frames, %.1f MiB LZ4 -> %.1f MiB; old %.0f MB/s, new %.0f MB/s, ratio %.2fx\n",
	       n, len / 1048576.0, plain / 1048576.0,
	       plain * (double)times / best_old / 1e6,
	       plain * (double)times / best_new / 1e6, best_old / best_new);
	return 0;
}
