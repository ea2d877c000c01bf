/* The ClickHouse parsers against answers captured from the real servers
 * (tests/data/clickhouse/, see capture.sh there). */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "clickhouse.h"

static struct strbuf data_file(const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	struct err e;
	char path[1024];
	const char *top = getenv("TOP");

	snprintf(path, sizeof(path), "%s/tests/data/clickhouse/%s",
		 top ? top : ".", name);
	strbuf_init(&sb, 0);
	if (strbuf_read_file(&sb, path, 0, &e) < 0)
		printf("# %s\n", e.msg);
	return sb;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* The payload clickhouse-compressor was given for frame i. */
static const int lens[] = { 1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33,
			    63, 64, 65, 100, 119, 127, 128, 129, 150, 191,
			    192, 200, 255, 256, 257, 300 };

static void test_cityhash(void)
{
	struct strbuf sb = data_file("cityhash.frames");
	const uint8_t *p = (const uint8_t *)sb.buf, *end = p + sb.len;
	int n = 0, good = 0, sized = 0;

	while (p + 25 <= end) {
		uint32_t size = le32(p + 17);
		uint64_t lo, hi;

		if (size < 9 || p + 16 + size > end)
			break;
		clickhouse_cityhash128(p + 16, size, &lo, &hi);
		good += lo == le64(p) && hi == le64(p + 8);
		sized += n < 29 && le32(p + 21) == (uint32_t)lens[n];
		n++;
		p += 16 + size;
	}
	CHECK(n == 29 && sized == 29, "29 frames of method none were captured");
	CHECK(good == 29, "CityHash128 matches ClickHouse's checksum for lengths 10..309");
	if (good != 29)
		printf("#   %d of %d match\n", good, n);
	strbuf_release(&sb);
}

#include "../lz4-plain.h"

static uint32_t lz4_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void lz4_put_length(struct strbuf *sb, size_t n)
{
	for (; n >= 255; n -= 255)
		strbuf_add(sb, "\xff", 1);
	strbuf_addch(sb, (char)n);
}

/*
 * An LZ4 block of sequences of every shape the decoder tells apart:
 * literal runs of 0-3, 13-16 and hundreds of bytes, matches of 4-18,
 * 19-40 and hundreds of bytes, from 1-16 bytes back, 17-100 back and
 * anywhere; its output, up to about want bytes, in *plain.
 */
static void lz4_make(uint32_t seed, size_t want, struct strbuf *blk,
		     struct strbuf *plain)
{
	uint32_t s = seed | 1;

	strbuf_reset(blk);
	strbuf_reset(plain);
	for (;;) {
		uint32_t r = lz4_rand(&s);
		size_t lit = r % 4 == 0 ? 13 + r / 4 % 4 : r % 16 == 1 ? 100 + r / 16 % 500 : r / 4 % 4;
		size_t ml, off, most;
		int last = plain->len + lit >= want;

		if (plain->len + lit == 0)
			lit = 1;
		r = lz4_rand(&s);
		ml = r % 3 == 0 ? 4 + r / 3 % 15 : r % 7 == 1 ? 100 + r / 7 % 900 : 19 + r / 3 % 22;
		r = lz4_rand(&s);
		most = plain->len + lit < 65535 ? plain->len + lit : 65535;
		off = r % 3 == 0 ? 1 + r / 3 % 16 : r % 3 == 1 ? 17 + r / 3 % 84 : 1 + r / 3 % 65535;
		if (off > most)
			off = 1 + off % most;
		strbuf_addch(blk, (char)((lit < 15 ? lit : 15) << 4 | (last ? 0 : ml - 4 < 15 ? ml - 4 : 15)));
		if (lit >= 15)
			lz4_put_length(blk, lit - 15);
		for (size_t i = 0; i < lit; i++) {
			/* a small alphabet, so that matches look like data */
			char c = (char)('a' + lz4_rand(&s) % 3);

			strbuf_addch(blk, c);
			strbuf_addch(plain, c);
		}
		if (last)
			break;
		strbuf_addch(blk, (char)(off & 255));
		strbuf_addch(blk, (char)(off >> 8));
		if (ml - 4 >= 15)
			lz4_put_length(blk, ml - 4 - 15);
		for (size_t i = 0; i < ml; i++)
			strbuf_addch(plain, plain->buf[plain->len - off]);
	}
}

/* Decodes in[0..inlen) into a buffer of exactly outlen bytes, both on the
 * heap on their own, so that the sanitizers see a byte read or written
 * past either, and again into one followed by 64 bytes that must stay as
 * they were (the sanitizers can miss a few bytes written past by an
 * unaligned copy). The verdict both give, with the same bytes, or -2
 * when they differ. */
static int lz4_agrees(const uint8_t *in, size_t inlen, size_t outlen)
{
	uint8_t *i = malloc(inlen ? inlen : 1), *a = malloc(outlen ? outlen : 1);
	uint8_t *b = malloc(outlen ? outlen : 1), *g = malloc(outlen + 64);
	uint8_t guard[64];
	int ra, rb, same;

	if (!i || !a || !b || !g)
		abort();
	memcpy(i, in, inlen);
	memset(guard, 0xa5, sizeof(guard));
	memcpy(g + outlen, guard, sizeof(guard));
	ra = clickhouse_lz4_decompress(i, inlen, a, outlen);
	rb = lz4_plain(i, inlen, b, outlen);
	same = ra == rb && (ra < 0 || !memcmp(a, b, outlen)) &&
	       clickhouse_lz4_decompress(i, inlen, g, outlen) == ra &&
	       !memcmp(g + outlen, guard, sizeof(guard));
	free(i);
	free(a);
	free(b);
	free(g);
	return same ? ra : -2;
}

static void test_lz4(void)
{
	struct strbuf sb = data_file("lz4.frames");
	const uint8_t *p = (const uint8_t *)sb.buf, *end = p + sb.len;
	int n = 0, good = 0;
	uint8_t out[512], want[512];

	while (p + 25 <= end && n < 29) {
		uint32_t size = le32(p + 17), plain = le32(p + 21);

		for (int i = 0; i < lens[n]; i++)
			want[i] = (uint8_t)((i * 7 + 3) % 256);
		if (p[16] == 0x82 && plain == (uint32_t)lens[n] &&
		    clickhouse_lz4_decompress(p + 25, size - 9, out, plain) == 0 &&
		    !memcmp(out, want, plain))
			good++;
		n++;
		p += 16 + size;
	}
	CHECK(good == 29, "LZ4 frames of clickhouse-compressor decompress to their input");
	/* a match pointing before the start, and a short output */
	{
		const uint8_t bad[] = { 0x1f, 'a', 0x05, 0x00 };
		const uint8_t lit[] = { 0x30, 'a', 'b', 'c' };

		CHECK(clickhouse_lz4_decompress(bad, sizeof(bad), out, 20) < 0,
		      "an LZ4 offset before the output start is refused");
		CHECK(clickhouse_lz4_decompress(lit, sizeof(lit), out, 4) < 0,
		      "LZ4 output shorter than announced is refused");
		CHECK(clickhouse_lz4_decompress(lit, sizeof(lit), out, 3) == 0 &&
		      !memcmp(out, "abc", 3), "LZ4 literals-only block");
	}
	strbuf_release(&sb);

	/* sequences of every shape, in blocks of 1 byte to 64 KiB */
	{
		struct strbuf blk = STRBUF_INIT, plain = STRBUF_INIT;
		int decoded = 0, agreed = 0, cut = 0, cuts = 0, bent = 0, bends = 0;
		uint32_t s = 7;

		for (int k = 0; k < 400; k++) {
			size_t size = k < 200 ? (size_t)k : 1 + lz4_rand(&s) % 65536;
			uint8_t *o;

			lz4_make(0x9e3779b9u * (k + 1), size, &blk, &plain);
			o = malloc(plain.len ? plain.len : 1);
			if (!o)
				abort();
			if (clickhouse_lz4_decompress((uint8_t *)blk.buf, blk.len, o, plain.len) == 0 &&
			    !memcmp(o, plain.buf, plain.len))
				decoded++;
			free(o);
			/* exact buffers: one byte less room, or one more */
			if (lz4_agrees((uint8_t *)blk.buf, blk.len, plain.len) == 0 &&
			    (!plain.len || lz4_agrees((uint8_t *)blk.buf, blk.len, plain.len - 1) == -1) &&
			    lz4_agrees((uint8_t *)blk.buf, blk.len, plain.len + 1) == -1)
				agreed++;
			/* cut short anywhere, or one byte changed */
			for (size_t at = 0; at < blk.len && k < 250; at += 1 + at / 64, cuts++)
				cut += lz4_agrees((uint8_t *)blk.buf, at, plain.len) != -2;
			for (int j = 0; j < 8 && blk.len; j++, bends++) {
				size_t at = lz4_rand(&s) % blk.len;
				char was = blk.buf[at];

				blk.buf[at] = (char)lz4_rand(&s);
				bent += lz4_agrees((uint8_t *)blk.buf, blk.len, plain.len) != -2;
				blk.buf[at] = was;
			}
		}
		/* one sequence of each shape at each distance from the ends */
		{
			static const size_t offs[] = { 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64 };
			size_t tried = 0, same = 0;

			for (size_t lit = 0; lit <= 18; lit++)
				for (size_t ml = 4; ml <= 24; ml += 1 + ml / 20)
					for (size_t o = 0; o < sizeof(offs) / sizeof(*offs); o++)
						for (size_t tail = 0; tail <= 36; tail++, tried++) {
							strbuf_reset(&blk);
							/* 64 literals and 4 bytes from 7 back */
							strbuf_addch(&blk, (char)0xf0);
							lz4_put_length(&blk, 64 - 15);
							for (int i = 0; i < 64; i++)
								strbuf_addch(&blk, (char)('a' + i % 7));
							strbuf_add(&blk, "\x07\x00", 2);
							strbuf_addch(&blk, (char)((lit < 15 ? lit : 15) << 4 | (ml - 4 < 15 ? ml - 4 : 15)));
							if (lit >= 15)
								lz4_put_length(&blk, lit - 15);
							for (size_t i = 0; i < lit; i++)
								strbuf_addch(&blk, (char)('A' + i));
							strbuf_addch(&blk, (char)offs[o]);
							strbuf_addch(&blk, 0);
							if (ml - 4 >= 15)
								lz4_put_length(&blk, ml - 4 - 15);
							strbuf_addch(&blk, (char)((tail < 15 ? tail : 15) << 4));
							if (tail >= 15)
								lz4_put_length(&blk, tail - 15);
							for (size_t i = 0; i < tail; i++)
								strbuf_addch(&blk, 'z');
							same += lz4_agrees((uint8_t *)blk.buf, blk.len, 68 + lit + ml + tail) == 0;
						}
			CHECK(same == tried, "LZ4 sequences of each shape, 0 to 36 bytes from the end, decode as a plain decoder does");
		}
		CHECK(decoded == 400, "LZ4 blocks of every sequence shape decode to their bytes");
		CHECK(agreed == 400, "LZ4 blocks decode into exactly their size, and not one byte more or less");
		CHECK(cut == cuts, "LZ4 blocks cut short: the same verdict as a plain decoder, nothing read past");
		CHECK(bent == bends, "LZ4 blocks with a byte changed: the same verdict and bytes as a plain decoder");
		if (decoded != 400 || agreed != 400 || cut != cuts || bent != bends)
			printf("#   %d, %d of 400; %d of %d cuts, %d of %d changes\n",
			       decoded, agreed, cut, cuts, bent, bends);
		strbuf_release(&blk);
		strbuf_release(&plain);
	}
}

struct sink_count {
	size_t frames, bytes;
	struct strbuf copy;
};

static int count_sink(void *ud, const void *frame, size_t len, struct err *e)
{
	struct sink_count *c = ud;

	(void)e;
	c->frames++;
	c->bytes += len;
	return strbuf_add(&c->copy, frame, len);
}

/* Feed a capture in pieces of `step` bytes; 0 ok, -1 with e set. */
static int feed(const char *name, size_t step, struct clickhouse_frames *fr,
		struct sink_count *c, struct err *e)
{
	struct strbuf sb = data_file(name);
	int r = 0;

	memset(c, 0, sizeof(*c));
	strbuf_init(&c->copy, 0);
	clickhouse_frames_init(fr, count_sink, c);
	for (size_t off = 0; off < sb.len && r == 0; off += step) {
		size_t n = sb.len - off < step ? sb.len - off : step;

		r = clickhouse_frames_feed(fr, sb.buf + off, n, e);
	}
	if (r == 0)
		r = clickhouse_frames_finish(fr, e);
	if (r == 0 && (c->copy.len != sb.len || memcmp(c->copy.buf, sb.buf, sb.len)))
		r = err_set(e, "the sink did not get the stream as it came");
	strbuf_release(&sb);
	return r;
}

static void test_frames(void)
{
	struct clickhouse_frames fr;
	struct sink_count c;
	struct err e = { "" };
	size_t steps[] = { 1, 7, 4096, 1 << 20 };

	for (size_t i = 0; i < 4; i++) {
		int r = feed("numbers-18.16.lz4", steps[i], &fr, &c, &e);
		char name[128];

		snprintf(name, sizeof(name),
			 "18.16 compress=1 answer in %zu-byte pieces: 400000 rows", steps[i]);
		CHECK(r == 0 && fr.native.rows == 400000 && fr.frames == 2, name);
		if (r < 0)
			printf("#   %s\n", e.msg);
		clickhouse_frames_release(&fr);
		strbuf_release(&c.copy);
	}

	CHECK(feed("types-26.7.lz4", 100, &fr, &c, &e) == 0 &&
	      fr.native.rows == 100 && fr.native.blocks == 1,
	      "26.7: Nullable, Array, LowCardinality, Map, named Tuple, DateTime64, IPv4, Int128 columns");
	if (fr.native.rows != 100)
		printf("#   %s\n", e.msg);
	clickhouse_frames_release(&fr);
	strbuf_release(&c.copy);

	CHECK(feed("midstream-18.16.lz4", 33, &fr, &c, &e) < 0 &&
	      strstr(e.msg, "Code: 395") && strstr(e.msg, "after 0 rows"),
	      "18.16: the error text in a 200 is found (the data before it never came)");
	printf("#   %s\n", e.msg);
	clickhouse_frames_release(&fr);
	strbuf_release(&c.copy);

	CHECK(feed("midstream-26.7.lz4", 500, &fr, &c, &e) < 0 &&
	      strstr(e.msg, "Code: 395"),
	      "26.7: the error text after data is found");
	printf("#   %s\n", e.msg);
	clickhouse_frames_release(&fr);
	strbuf_release(&c.copy);

	/* one flipped byte in the payload of the second frame */
	{
		struct strbuf sb = data_file("numbers-18.16.lz4");
		uint32_t first = le32((const uint8_t *)sb.buf + 17) + 16;

		sb.buf[first + 40] ^= 1;
		clickhouse_frames_init(&fr, NULL, NULL);
		CHECK(clickhouse_frames_feed(&fr, sb.buf, sb.len, &e) < 0 &&
		      strstr(e.msg, "checksum mismatch in compressed frame 2"),
		      "a flipped byte fails the frame's checksum");
		clickhouse_frames_release(&fr);

		sb.buf[first + 40] ^= 1;
		clickhouse_frames_init(&fr, NULL, NULL);
		CHECK(clickhouse_frames_feed(&fr, sb.buf, sb.len - 10, &e) == 0 &&
		      clickhouse_frames_finish(&fr, &e) < 0 &&
		      strstr(e.msg, "inside compressed frame 2"),
		      "a cut stream fails at the end");
		clickhouse_frames_release(&fr);

		clickhouse_frames_init(&fr, NULL, NULL);
		CHECK(clickhouse_frames_feed(&fr, sb.buf, first, &e) == 0 &&
		      clickhouse_frames_finish(&fr, &e) < 0 &&
		      strstr(e.msg, "inside a block"),
		      "a stream cut at a frame boundary inside a block fails");
		clickhouse_frames_release(&fr);
		strbuf_release(&sb);
	}
}

static void test_native(void)
{
	struct strbuf sb = data_file("types-18.16.native");
	struct clickhouse_native nv;
	struct err e = { "" };
	int r = 0;

	clickhouse_native_init(&nv);
	for (size_t off = 0; off < sb.len && r == 0; off += 13)
		r = clickhouse_native_feed(&nv, sb.buf + off,
					   sb.len - off < 13 ? sb.len - off : 13, &e);
	if (r == 0)
		r = clickhouse_native_finish(&nv, &e);
	CHECK(r == 0 && nv.rows == 100 && nv.blocks == 1,
	      "18.16 plain Native with Nullable, Array(Array), Tuple, FixedString, Decimal, UUID, Enum8");
	if (r < 0)
		printf("#   %s\n", e.msg);
	clickhouse_native_release(&nv);

	/* an unknown type is named */
	{
		const char blk[] = "\x01\x01\x01x\x0f" "AggregateFunct\x00";

		clickhouse_native_init(&nv);
		CHECK(clickhouse_native_feed(&nv, blk, sizeof(blk) - 1, &e) < 0 &&
		      strstr(e.msg, "cannot read columns of type AggregateFunct"),
		      "an unreadable type fails with its name");
		clickhouse_native_release(&nv);
	}
	strbuf_release(&sb);
}

/*
 * The checksum counted from Native blocks equals the server's: the sum
 * below is what ClickHouse 18.16 answered for these rows to
 *   SELECT sum(cityHash64(x, s, if(isNull(n), 0, cityHash64(assumeNotNull(n)))))
 * (version 2 of the checksum); the 70-byte string takes CityHash64's
 * longest branch. tests/e2e/t0923 checks every type against both servers.
 */
/* a string literal's bytes, without its final NUL */
#define ADD(lit) strbuf_add(&blk, lit, sizeof(lit) - 1)

static void test_native_hash(void)
{
	struct strbuf blk = STRBUF_INIT;
	struct clickhouse_native nv;
	struct err e = { "" };
	char x70[70];
	int r = 0;

	memset(x70, 'x', sizeof(x70));
	strbuf_init(&blk, 0);
	ADD("\x03\x03");		/* 3 columns, 3 rows */
	ADD("\x01x\x06UInt32");
	ADD("\x01\0\0\0\x02\0\0\0\x03\0\0\0");
	ADD("\x01s\x06String");
	ADD("\x00\x02" "ab\x46");
	strbuf_add(&blk, x70, sizeof(x70));
	ADD("\x01n\x10Nullable(String)");
	ADD("\x01\x00\x01");		/* NULL, 'q', NULL */
	ADD("\x00\x01q\x00");

	clickhouse_native_init(&nv);
	nv.hash = 1;
	for (size_t off = 0; off < blk.len && r == 0; off += 5)
		r = clickhouse_native_feed(&nv, blk.buf + off,
					   blk.len - off < 5 ? blk.len - off : 5, &e);
	CHECK(r == 0 && clickhouse_native_finish(&nv, &e) == 0 && nv.rows == 3 &&
	      nv.hash && nv.sum == 8784096910698075277ULL,
	      "the checksum of UInt32, String and Nullable(String) rows is the server's, fed in pieces");
	clickhouse_native_release(&nv);

	/* a type it does not hash: the rows still count, the checksum is off */
	strbuf_reset(&blk);
	ADD("\x01\x01\x01" "a\x04" "IPv4");
	ADD("\x7f\0\0\x01");
	clickhouse_native_init(&nv);
	nv.hash = 1;
	CHECK(clickhouse_native_feed(&nv, blk.buf, blk.len, &e) == 0 &&
	      nv.rows == 1 && !nv.hash, "an IPv4 column turns the checksum off");
	clickhouse_native_release(&nv);

	/* FixedString(2^63): 2 rows of it are 2^64 bytes, not 0 */
	strbuf_reset(&blk);
	ADD("\x01\x02\x01" "f\x20" "FixedString(9223372036854775808)");
	ADD("abcdefgh");
	clickhouse_native_init(&nv);
	nv.hash = 1;
	CHECK(clickhouse_native_feed(&nv, blk.buf, blk.len, &e) < 0 &&
	      strstr(e.msg, "malformed type FixedString"),
	      "a FixedString size that overflows the block's length fails");
	clickhouse_native_release(&nv);
	strbuf_release(&blk);
}
#undef ADD

static int plain_sink(void *ud, const void *frame, size_t len, struct err *e)
{
	return clickhouse_frames_feed(ud, frame, len, e);
}

static void test_frame_plain(void)
{
	struct strbuf sb = data_file("types-18.16.native");
	struct clickhouse_frames fr;
	struct err e = { "" };

	clickhouse_frames_init(&fr, NULL, NULL);
	CHECK(clickhouse_frame_plain(sb.buf, sb.len, plain_sink, &fr, &e) == 0 &&
	      clickhouse_frames_finish(&fr, &e) == 0 && fr.native.rows == 100 &&
	      fr.frames == 1,
	      "plain Native framed with method none reads back");
	clickhouse_frames_release(&fr);
	strbuf_release(&sb);
}

/* ---- Native streams built here, fed in pieces ---- */

static void nb_varint(struct strbuf *b, uint64_t v)
{
	do {
		strbuf_addch(b, (char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0)));
		v >>= 7;
	} while (v);
}

static void nb_str(struct strbuf *b, const char *s, size_t n)
{
	nb_varint(b, n);
	strbuf_add(b, s, n);
}

static void nb_le(struct strbuf *b, uint64_t v, int size)
{
	for (int i = 0; i < size; i++)
		strbuf_addch(b, (char)(v >> (8 * i)));
}

/* A block's header, or a column's name and type. */
static void nb_block(struct strbuf *b, uint64_t cols, uint64_t rows)
{
	nb_varint(b, cols);
	nb_varint(b, rows);
}

static void nb_col(struct strbuf *b, const char *name, const char *type)
{
	nb_str(b, name, strlen(name));
	nb_str(b, type, strlen(type));
}

/*
 * Four blocks: integers, String and FixedString; String first, then
 * Nullable, Array and LowCardinality (walked, then hashed); no rows (the
 * types are not looked at); Date then a String that ends the block and
 * the stream. *string_end is where the String of block 1 ends, ends[]
 * where each block does.
 */
static void nb_stream_a(struct strbuf *b, size_t *string_end, size_t ends[4])
{
	char x70[70];

	memset(x70, 'x', sizeof(x70));
	nb_block(b, 3, 4);
	nb_col(b, "x", "UInt32");
	for (int i = 0; i < 4; i++)
		nb_le(b, 1000 + i, 4);
	nb_col(b, "s", "String");
	nb_str(b, "", 0);
	nb_str(b, "ab", 2);
	nb_str(b, x70, 20);
	nb_str(b, x70, 70);
	*string_end = b->len;
	nb_col(b, "f", "FixedString(3)");
	strbuf_add(b, "abcdefghijkl", 12);
	ends[0] = b->len;

	nb_block(b, 4, 3);
	nb_col(b, "s", "String");
	nb_str(b, "q", 1);
	nb_str(b, x70, 33);
	nb_str(b, "", 0);
	nb_col(b, "n", "Nullable(UInt8)");
	strbuf_add(b, "\x00\x01\x00", 3);
	strbuf_add(b, "\x07\x00\x09", 3);
	nb_col(b, "a", "Array(UInt16)");
	nb_le(b, 2, 8);
	nb_le(b, 2, 8);
	nb_le(b, 5, 8);
	for (int i = 0; i < 5; i++)
		nb_le(b, 300 + i, 2);
	nb_col(b, "l", "LowCardinality(String)");
	nb_le(b, 1, 8);			/* serialization version */
	nb_le(b, 0x600, 8);		/* UInt8 keys, its own dictionary */
	nb_le(b, 2, 8);
	nb_str(b, "", 0);
	nb_str(b, "lc", 2);
	nb_le(b, 3, 8);
	strbuf_add(b, "\x01\x00\x01", 3);
	ends[1] = b->len;

	nb_block(b, 2, 0);
	nb_col(b, "x", "UInt32");
	nb_col(b, "u", "AggregateFunction(uniq, UInt64)");
	ends[2] = b->len;

	nb_block(b, 2, 2);
	nb_col(b, "d", "Date");
	nb_le(b, 19000, 2);
	nb_le(b, 19001, 2);
	nb_col(b, "s", "String");
	nb_str(b, "last", 4);
	nb_str(b, x70, 17);
	ends[3] = b->len;
}

struct native_result {
	int r;			/* feed and finish */
	uint64_t rows, blocks, sum;
	int hash;
	char msg[512];
};

/* Feed b in pieces of step bytes (0: at once), then finish. */
static struct native_result native_pieces(const struct strbuf *b, size_t step)
{
	struct clickhouse_native nv;
	struct native_result res = { 0 };
	struct err e = { "" };

	clickhouse_native_init(&nv);
	nv.hash = 1;
	if (!step)
		step = b->len;
	for (size_t off = 0; off < b->len && res.r == 0; off += step)
		res.r = clickhouse_native_feed(&nv, b->buf + off,
					       b->len - off < step ? b->len - off : step,
					       &e);
	if (res.r == 0)
		res.r = clickhouse_native_finish(&nv, &e);
	res.rows = nv.rows;
	res.blocks = nv.blocks;
	res.sum = nv.sum;
	res.hash = nv.hash;
	snprintf(res.msg, sizeof(res.msg), "%s", res.r < 0 ? e.msg : "");
	clickhouse_native_release(&nv);
	return res;
}

static int same_result(const struct native_result *a,
		       const struct native_result *b)
{
	return a->r == b->r && a->rows == b->rows && a->blocks == b->blocks &&
		a->sum == b->sum && a->hash == b->hash && !strcmp(a->msg, b->msg);
}

/* Pieces of every size from 1 to the whole stream: the same as at once.
 * Returns the first size that differs, 0 for none. */
static size_t native_every_piece(const struct strbuf *b,
				 const struct native_result *whole)
{
	for (size_t step = 1; step <= b->len; step++) {
		struct native_result r = native_pieces(b, step);

		if (!same_result(&r, whole)) {
			printf("#   in %zu-byte pieces: rows %" PRIu64 " blocks %" PRIu64
			       " sum %" PRIu64 " hash %d '%s'\n", step, r.rows,
			       r.blocks, r.sum, r.hash, r.msg);
			return step;
		}
	}
	return 0;
}

static void test_native_pieces(void)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	struct native_result whole, r;
	struct clickhouse_native nv;
	struct err e = { "" };
	size_t string_end, ends[4];
	char want[256];

	strbuf_init(&a, 0);
	strbuf_init(&b, 0);
	nb_stream_a(&a, &string_end, ends);
	whole = native_pieces(&a, 0);
	/* the sum the walk of whole blocks counted before it resumed in
	 * the middle of one */
	CHECK(whole.r == 0 && whole.rows == 9 && whole.blocks == 4 &&
	      whole.hash && whole.sum == 5139123781757095576ULL,
	      "four blocks at once: 9 rows and their checksum");
	if (whole.r < 0 || whole.sum != 5139123781757095576ULL)
		printf("#   sum %" PRIu64 " '%s'\n", whole.sum, whole.msg);
	CHECK(native_every_piece(&a, &whole) == 0,
	      "the same rows, blocks and checksum in pieces of every size");

	/* a piece that ends where a String column ends, mid-block */
	clickhouse_native_init(&nv);
	nv.hash = 1;
	CHECK(clickhouse_native_feed(&nv, a.buf, string_end, &e) == 0 &&
	      nv.rows == 0 &&
	      clickhouse_native_feed(&nv, a.buf + string_end, a.len - string_end,
				     &e) == 0 &&
	      clickhouse_native_finish(&nv, &e) == 0 && nv.rows == whole.rows &&
	      nv.sum == whole.sum,
	      "a piece that ends with a String column: the block waits, then counts");
	clickhouse_native_release(&nv);

	/* the stream cut inside its last block, at every byte of it */
	for (size_t cut = ends[2] + 1; cut < a.len; cut++) {
		strbuf_reset(&b);
		strbuf_add(&b, a.buf, cut);
		snprintf(want, sizeof(want), "the Native stream ends inside a block "
			 "after 7 rows (%zu bytes left)", cut - ends[2]);
		r = native_pieces(&b, 0);
		if (r.r == 0 || strcmp(r.msg, want) || native_every_piece(&b, &r))
			break;
	}
	CHECK(r.r < 0 && !strcmp(r.msg, want) && r.rows == 7,
	      "a stream cut inside its last block fails as before, in any pieces");
	printf("#   %s\n", r.msg);

	/* the server's error after a block, in any pieces */
	strbuf_reset(&b);
	strbuf_add(&b, a.buf, ends[0]);
	strbuf_addstr(&b, "\nCode: 241. DB::Exception: Memory limit exceeded\n");
	r = native_pieces(&b, 0);
	CHECK_STR(r.msg, "the server failed after 4 rows: Code: 241. "
		  "DB::Exception: Memory limit exceeded",
		  "the server's error text after a block is found");
	for (size_t step = 1; step <= b.len; step++) {
		r = native_pieces(&b, step);
		if (r.r == 0 || !strstr(r.msg, "the server failed after 4 rows: Code: ")) {
			printf("#   in %zu-byte pieces: '%s'\n", step, r.msg);
			break;
		}
	}
	CHECK(r.r < 0 && strstr(r.msg, "the server failed after 4 rows: Code: "),
	      "the server's error text after a block is found in pieces of every size");

	/* a malformed column in the second block */
	strbuf_reset(&b);
	strbuf_add(&b, a.buf, a.len);
	/* LowCardinality's serialization version: before its flags, keys
	 * (8 + 8 + 1 + 3 bytes) and indexes (8 + 3) */
	b.buf[ends[1] - 3 - 8 - 3 - 1 - 8 - 8 - 8] = 2;
	r = native_pieces(&b, 0);
	CHECK_STR(r.msg, "after 4 rows: unsupported LowCardinality serialization "
		  "of LowCardinality(String)", "a malformed column fails with its type");
	CHECK(native_every_piece(&b, &r) == 0,
	      "a malformed column fails the same way in pieces of every size");

	/* a type name cut short by a NUL byte */
	strbuf_reset(&b);
	nb_block(&b, 1, 1);
	nb_str(&b, "x", 1);
	nb_str(&b, "\0String", 7);
	nb_str(&b, "ab", 2);
	r = native_pieces(&b, 0);
	CHECK_STR(r.msg, "after 0 rows: cannot read columns of type",
		  "a type name that starts with a NUL byte is not read");

	/* a type it walks but does not hash, between two it hashes */
	strbuf_reset(&b);
	nb_block(&b, 1, 2);
	nb_col(&b, "x", "UInt8");
	strbuf_add(&b, "\x01\x02", 2);
	nb_block(&b, 3, 2);
	nb_col(&b, "s", "String");
	nb_str(&b, "ab", 2);
	nb_str(&b, "cd", 2);
	nb_col(&b, "ip", "IPv4");
	nb_le(&b, 0x7f000001, 4);
	nb_le(&b, 0x0a000001, 4);
	nb_col(&b, "t", "String");
	nb_str(&b, "ef", 2);
	nb_str(&b, "", 0);
	nb_block(&b, 1, 1);
	nb_col(&b, "x", "UInt8");
	strbuf_add(&b, "\x03", 1);
	whole = native_pieces(&b, 0);
	r = native_pieces(&b, 2);
	CHECK(whole.r == 0 && whole.rows == 5 && whole.blocks == 3 && !whole.hash &&
	      whole.sum == r.sum && r.rows == 5 && !r.hash,
	      "an IPv4 column turns the checksum off; the rows still count");
	CHECK(native_every_piece(&b, &whole) == 0,
	      "... in pieces of every size too");

	strbuf_release(&b);
	strbuf_release(&a);
}

/* Blocks of 65,536 rows of Date, UInt64, UInt32 and String, as a backup
 * reads them: each spans frames of 1 MiB. */
static void test_native_frames(void)
{
	struct strbuf a = STRBUF_INIT;
	struct native_result whole;
	struct clickhouse_frames fr;
	struct err e = { "" };
	static const size_t steps[] = { 4093, 65536, 1 << 20, 3 << 19 };
	const uint64_t rows[] = { 65536, 65536, 65536, 1000 };
	uint64_t seed = 1;
	char name[128];
	int r;

	strbuf_init(&a, 0);
	for (size_t k = 0; k < 4; k++) {
		nb_block(&a, 4, rows[k]);
		nb_col(&a, "d", "Date");
		for (uint64_t i = 0; i < rows[k]; i++)
			nb_le(&a, 19000 + i % 31, 2);
		nb_col(&a, "id", "UInt64");
		for (uint64_t i = 0; i < rows[k]; i++)
			nb_le(&a, k << 32 | i, 8);
		nb_col(&a, "n", "UInt32");
		for (uint64_t i = 0; i < rows[k]; i++)
			nb_le(&a, (uint32_t)(i * 2654435761u), 4);
		nb_col(&a, "s", "String");
		for (uint64_t i = 0; i < rows[k]; i++) {
			char s[48];

			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			memset(s, 'a' + (int)(seed >> 60), sizeof(s));
			nb_str(&a, s, (seed >> 33) % sizeof(s));
		}
	}
	whole = native_pieces(&a, 0);
	CHECK(whole.r == 0 && whole.rows == 197608 && whole.blocks == 4 &&
	      whole.hash && whole.sum == 4816920840936940063ULL,
	      "blocks of 65,536 rows at once: their rows and checksum");
	if (whole.sum != 4816920840936940063ULL)
		printf("#   sum %" PRIu64 " '%s'\n", whole.sum, whole.msg);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct native_result p = native_pieces(&a, steps[i]);

		snprintf(name, sizeof(name),
			 "the same in %zu-byte pieces", steps[i]);
		CHECK(same_result(&p, &whole), name);
	}

	clickhouse_frames_init(&fr, NULL, NULL);
	fr.native.hash = 1;
	r = clickhouse_frame_plain(a.buf, a.len, plain_sink, &fr, &e);
	CHECK(r == 0 && clickhouse_frames_finish(&fr, &e) == 0 &&
	      fr.frames == (a.len + (1 << 20) - 1) >> 20 &&
	      fr.native.rows == whole.rows && fr.native.blocks == 4 &&
	      fr.native.hash && fr.native.sum == whole.sum,
	      "the same through frames of 1 MiB");
	clickhouse_frames_release(&fr);
	strbuf_release(&a);
}

static void test_type_readable(void)
{
	static const char *const readable[] = {
		"UInt8", "Int256", "Bool", "Float64", "Date", "Date32",
		"DateTime", "DateTime('Europe/Paris')", "DateTime64(3, 'UTC')",
		"Decimal(10, 2)", "Decimal128(4)", "UUID", "IPv4", "IPv6",
		"Enum8('a' = 1, 'b,c' = 2)", "Enum16('x' = 1000)", "String",
		"FixedString(16)", "Nullable(String)", "Nullable(Decimal(40, 3))",
		"LowCardinality(String)", "LowCardinality(Nullable(String))",
		"Array(Array(UInt32))", "Array(LowCardinality(String))",
		"Map(String, Array(UInt64))", "Tuple(UInt8, String)",
		"Tuple(a UInt8, b Nullable(String))", "Nested(a UInt8, b String)",
		"SimpleAggregateFunction(sum, UInt64)",
		"SimpleAggregateFunction(anyLast, Nullable(String))",
		"SimpleAggregateFunction(f(1, 2), UInt64)",
		" String ",
	};
	static const char *const opaque[] = {
		"AggregateFunction(uniq, UInt64)",
		"AggregateFunction(quantiles(0.5, 0.9), Float64)",
		"AggregateFunction(sum, UInt64)", "JSON", "JSON(a UInt32)",
		"Dynamic", "Variant(String, UInt64)", "Object('json')", "Point",
		"Array(AggregateFunction(uniq, UInt64))",
		"Nullable(Dynamic)", "LowCardinality(Dynamic)",
		"Map(String, JSON)", "Tuple(a UInt8, b Variant(String, UInt8))",
		"SimpleAggregateFunction(anyLast, Dynamic)",
		"Nested(a UInt8, b JSON)", "Strin", "", NULL,
	};
	int good = 0;

	for (size_t i = 0; i < sizeof(readable) / sizeof(readable[0]); i++) {
		if (clickhouse_type_readable(readable[i]))
			good++;
		else
			printf("#   %s is not readable\n", readable[i]);
	}
	CHECK(good == (int)(sizeof(readable) / sizeof(readable[0])),
	      "the Native walker reads fixed types, String, Nullable, LowCardinality, "
	      "Array, Map, Nested, Tuple, SimpleAggregateFunction");
	good = 0;
	for (size_t i = 0; i < sizeof(opaque) / sizeof(opaque[0]); i++) {
		if (!clickhouse_type_readable(opaque[i]))
			good++;
		else
			printf("#   %s is readable\n", opaque[i]);
	}
	CHECK(good == (int)(sizeof(opaque) / sizeof(opaque[0])),
	      "AggregateFunction, JSON, Dynamic, Variant and unknown types, at any "
	      "depth, are not readable");
}

/* Frames of a table with types the walker does not read: checked and
 * decompressed, not walked. */
static void test_frames_opaque(void)
{
	struct strbuf sb = data_file("numbers-18.16.lz4");
	const char blk[] = "\x01\x01\x01x\x1f" "AggregateFunction(uniq, UInt64)" "\x05";
	struct clickhouse_frames fr;
	struct err e = { "" };
	uint64_t lo, hi, plain = 0;
	uint8_t *p = (uint8_t *)sb.buf;

	for (size_t off = 0; off + 25 <= sb.len; off += 16 + le32(p + off + 17))
		plain += le32(p + off + 21);
	clickhouse_frames_init(&fr, NULL, NULL);
	fr.opaque = 1;
	CHECK(clickhouse_frames_feed(&fr, sb.buf, sb.len, &e) == 0 &&
	      clickhouse_frames_finish(&fr, &e) == 0 && fr.frames == 2 &&
	      fr.native.rows == 0 && plain > 400000 && fr.native.bytes == plain,
	      "opaque: LZ4 frames are decompressed and their bytes counted, rows not");
	clickhouse_frames_release(&fr);

	clickhouse_frames_init(&fr, NULL, NULL);
	fr.opaque = 1;
	CHECK(clickhouse_frame_plain(blk, sizeof(blk) - 1, plain_sink, &fr, &e) == 0 &&
	      clickhouse_frames_finish(&fr, &e) == 0 && fr.frames == 1,
	      "opaque: a block of a type the walker does not know passes");
	clickhouse_frames_release(&fr);

	/* the first frame announces one byte more than its LZ4 data holds */
	p[21]++;
	clickhouse_cityhash128(p + 16, le32(p + 17), &lo, &hi);
	for (int i = 0; i < 8; i++) {
		p[i] = (uint8_t)(lo >> (8 * i));
		p[8 + i] = (uint8_t)(hi >> (8 * i));
	}
	clickhouse_frames_init(&fr, NULL, NULL);
	fr.opaque = 1;
	CHECK(clickhouse_frames_feed(&fr, sb.buf, sb.len, &e) < 0 &&
	      strstr(e.msg, "corrupt LZ4 data in frame 1"),
	      "opaque: LZ4 data is still validated");
	clickhouse_frames_release(&fr);
	p[0] ^= 1;
	clickhouse_frames_init(&fr, NULL, NULL);
	fr.opaque = 1;
	CHECK(clickhouse_frames_feed(&fr, sb.buf, sb.len, &e) < 0 &&
	      strstr(e.msg, "checksum mismatch in compressed frame 1"),
	      "opaque: the frames' checksums are still checked");
	clickhouse_frames_release(&fr);
	strbuf_release(&sb);
}

static void test_kinds(void)
{
	CHECK(clickhouse_engine_kind("a", "ReplicatedReplacingMergeTree") == CLICKHOUSE_DATA &&
	      clickhouse_engine_kind("a", "MergeTree") == CLICKHOUSE_DATA &&
	      clickhouse_engine_kind("a", "TinyLog") == CLICKHOUSE_DATA &&
	      clickhouse_engine_kind("a", "StripeLog") == CLICKHOUSE_DATA &&
	      clickhouse_engine_kind("a", "Log") == CLICKHOUSE_DATA &&
	      clickhouse_engine_kind("a", "Memory") == CLICKHOUSE_DATA,
	      "MergeTree family, Log family and Memory carry data");
	CHECK(clickhouse_engine_kind("a", "View") == CLICKHOUSE_SCHEMA &&
	      clickhouse_engine_kind("a", "MaterializedView") == CLICKHOUSE_SCHEMA &&
	      clickhouse_engine_kind("a", "Distributed") == CLICKHOUSE_SCHEMA &&
	      clickhouse_engine_kind("a", "Merge") == CLICKHOUSE_SCHEMA &&
	      clickhouse_engine_kind("a", "Buffer") == CLICKHOUSE_SCHEMA &&
	      clickhouse_engine_kind("a", "Dictionary") == CLICKHOUSE_SCHEMA &&
	      clickhouse_engine_kind("a", "Kafka") == CLICKHOUSE_SCHEMA &&
	      clickhouse_engine_kind("a", "MySQL") == CLICKHOUSE_SCHEMA &&
	      clickhouse_engine_kind("a", "SomethingNew") == CLICKHOUSE_SCHEMA,
	      "views, MVs, Distributed, Merge, Buffer, Dictionary, Kafka, external: schema only");
	CHECK(clickhouse_engine_kind("system", "MergeTree") == CLICKHOUSE_SKIP &&
	      clickhouse_engine_kind("a", "SystemNumbers") == CLICKHOUSE_SKIP,
	      "system is skipped");
}

static void test_quote(void)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_init(&sb, 0);
	clickhouse_quote_ident(&sb, "we`ird\\");
	strbuf_addch(&sb, ' ');
	clickhouse_quote_string(&sb, "it's\\");
	CHECK_STR(sb.buf, "`we\\`ird\\\\` 'it\\'s\\\\'", "identifiers and strings are quoted");
	strbuf_release(&sb);
}

static void test_engine_setting(void)
{
	static const struct {
		const char *sql, *want;
	} cases[] = {
		{ "CREATE TABLE a.t (d Date, s AggregateFunction(sum, UInt64)) "
		  "ENGINE = AggregatingMergeTree ORDER BY d SETTINGS index_granularity = 8192",
		  "CREATE TABLE a.t (d Date, s AggregateFunction(sum, UInt64)) "
		  "ENGINE = AggregatingMergeTree ORDER BY d SETTINGS x = 1, index_granularity = 8192" },
		/* SETTINGS in a column, a string and a name come before */
		{ "CREATE TABLE `settings` (c String DEFAULT ' SETTINGS ' COMMENT 'ENGINE', "
		  "j JSON SETTINGS (max_dynamic_paths = 8)) engine = MergeTree "
		  "ORDER BY c settings a = 2",
		  "CREATE TABLE `settings` (c String DEFAULT ' SETTINGS ' COMMENT 'ENGINE', "
		  "j JSON SETTINGS (max_dynamic_paths = 8)) engine = MergeTree "
		  "ORDER BY c settings x = 1, a = 2" },
		{ "CREATE TABLE t (n UInt8) ENGINE = AggregatingMergeTree ORDER BY n",
		  "CREATE TABLE t (n UInt8) ENGINE = AggregatingMergeTree ORDER BY n SETTINGS x = 1" },
		/* a view's engine SETTINGS, not its SELECT's */
		{ "CREATE MATERIALIZED VIEW v ENGINE = AggregatingMergeTree ORDER BY k "
		  "SETTINGS index_granularity = 8192 AS SELECT k FROM t SETTINGS max_threads = 1",
		  "CREATE MATERIALIZED VIEW v ENGINE = AggregatingMergeTree ORDER BY k "
		  "SETTINGS x = 1, index_granularity = 8192 AS SELECT k FROM t SETTINGS max_threads = 1" },
		{ "CREATE MATERIALIZED VIEW v ENGINE = AggregatingMergeTree ORDER BY k "
		  "AS SELECT k FROM t SETTINGS max_threads = 1", NULL },
		{ "CREATE TABLE t (n UInt8) ENGINE = MergeTree ORDER BY n COMMENT 'c'", NULL },
		{ "CREATE VIEW v AS SELECT 1", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf out = STRBUF_INIT;
		int r;

		strbuf_init(&out, 0);
		r = clickhouse_add_engine_setting(cases[i].sql, "x = 1", &out);
		if (cases[i].want)
			CHECK_STR(r == 0 ? out.buf : "(refused)", cases[i].want,
				  "the setting goes first in the engine's SETTINGS");
		else
			CHECK(r == -1 && out.len == 0,
			      "no engine SETTINGS to add to: refused, nothing written");
		strbuf_release(&out);
	}
}

int main(void)
{
	test_cityhash();
	test_lz4();
	test_frames();
	test_native();
	test_native_hash();
	test_frame_plain();
	test_native_pieces();
	test_native_frames();
	test_type_readable();
	test_frames_opaque();
	test_kinds();
	test_quote();
	test_engine_setting();
	return UNIT_DONE();
}
