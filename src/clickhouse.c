/*
 * ClickHouse over HTTP: see clickhouse.h.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "clickhouse.h"
#include "http.h"
#include "log.h"

#define CH_SMALL_MAX (16u << 20)
/* 18.16's empty answer means the result is under 1 MiB uncompressed; a
 * little room for data inserted in between (the fingerprint then tells). */
#define CH_REFETCH_MAX (64u << 20)
/* An export whose Native blocks are not walked (see clickhouse.h). */
#define OPAQUE_PARAMS "wait_end_of_query=1"
/* One Native block (65536 rows by default) must fit in memory. */
#define CH_BLOCK_MAX (512u << 20)

/* ---------------------------------------------------------------- */
/* CityHash128 v1.0.2 (ClickHouse's contrib/cityhash102)            */

static const uint64_t k0 = 0xc3a5c85c97cb3127ULL;
static const uint64_t k1 = 0xb492b66fbe98f273ULL;
static const uint64_t k2 = 0x9ae16a3b2f90404fULL;
static const uint64_t k3 = 0xc949d7c7509e6557ULL;

static uint64_t fetch64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint32_t fetch32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t rot(uint64_t v, int s)
{
	return s == 0 ? v : (v >> s) | (v << (64 - s));
}

static uint64_t shift_mix(uint64_t v)
{
	return v ^ (v >> 47);
}

static uint64_t hash_len16(uint64_t u, uint64_t v)
{
	const uint64_t mul = 0x9ddfea08eb382d69ULL;
	uint64_t a = (u ^ v) * mul;

	a ^= a >> 47;
	uint64_t b = (v ^ a) * mul;
	b ^= b >> 47;
	return b * mul;
}

static uint64_t hash_len0to16(const uint8_t *s, size_t len)
{
	if (len > 8) {
		uint64_t a = fetch64(s), b = fetch64(s + len - 8);

		/* RotateByAtLeast1: len is 9..16 here */
		uint64_t r = ((b + len) >> len) | ((b + len) << (64 - len));
		return hash_len16(a, r) ^ b;
	}
	if (len >= 4) {
		uint64_t a = fetch32(s);

		return hash_len16(len + (a << 3), fetch32(s + len - 4));
	}
	if (len > 0) {
		uint8_t a = s[0], b = s[len >> 1], c = s[len - 1];
		uint32_t y = (uint32_t)a + ((uint32_t)b << 8);
		uint32_t z = (uint32_t)len + ((uint32_t)c << 2);

		return shift_mix(y * k2 ^ z * k3) * k2;
	}
	return k2;
}

static void city_murmur(const uint8_t *s, size_t len, uint64_t slo,
			uint64_t shi, uint64_t *lo, uint64_t *hi)
{
	uint64_t a = slo, b = shi, c, d;
	long l = (long)len - 16;

	if (l <= 0) {
		a = shift_mix(a * k1) * k1;
		c = b * k1 + hash_len0to16(s, len);
		d = shift_mix(a + (len >= 8 ? fetch64(s) : c));
	} else {
		c = hash_len16(fetch64(s + len - 8) + k1, a);
		d = hash_len16(b + len, c + fetch64(s + len - 16));
		a += d;
		do {
			a ^= shift_mix(fetch64(s) * k1) * k1;
			a *= k1;
			b ^= a;
			c ^= shift_mix(fetch64(s + 8) * k1) * k1;
			c *= k1;
			d ^= c;
			s += 16;
			l -= 16;
		} while (l > 0);
	}
	a = hash_len16(a, c);
	b = hash_len16(d, b);
	*lo = a ^ b;
	*hi = hash_len16(b, a);
}

static void weak32(const uint8_t *s, uint64_t a, uint64_t b, uint64_t *f,
		   uint64_t *g)
{
	uint64_t w = fetch64(s), x = fetch64(s + 8), y = fetch64(s + 16),
		 z = fetch64(s + 24);

	a += w;
	b = rot(b + a + z, 21);
	uint64_t c = a;
	a += x;
	a += y;
	b += rot(a, 44);
	*f = a + z;
	*g = b + c;
}

/* One 64-byte round of the long-input loops of CityHash64 and 128. */
static inline void city_round(const uint8_t *s, uint64_t *x, uint64_t *y,
			      uint64_t *z, uint64_t *v1, uint64_t *v2,
			      uint64_t *w1, uint64_t *w2)
{
	uint64_t t;

	*x = rot(*x + *y + *v1 + fetch64(s + 16), 37) * k1;
	*y = rot(*y + *v2 + fetch64(s + 48), 42) * k1;
	*x ^= *w2;
	*y ^= *v1;
	*z = rot(*z ^ *w1, 33);
	weak32(s, *v2 * k1, *x + *w1, v1, v2);
	weak32(s + 32, *z + *w2, *y, w1, w2);
	t = *z;
	*z = *x;
	*x = t;
}

static void city128_seed(const uint8_t *s, size_t len, uint64_t slo,
			 uint64_t shi, uint64_t *lo, uint64_t *hi)
{
	if (len < 128) {
		city_murmur(s, len, slo, shi, lo, hi);
		return;
	}
	uint64_t x = slo, y = shi, z = len * k1;
	uint64_t v1, v2, w1, w2;

	v1 = rot(y ^ k1, 49) * k1 + fetch64(s);
	v2 = rot(v1, 42) * k1 + fetch64(s + 8);
	w1 = rot(y + z, 35) * k1 + x;
	w2 = rot(x + fetch64(s + 88), 53) * k1;
	do {
		for (int half = 0; half < 2; half++) {
			city_round(s, &x, &y, &z, &v1, &v2, &w1, &w2);
			s += 64;
		}
		len -= 128;
	} while (len >= 128);
	y += rot(w1, 37) * k0 + z;
	x += rot(v1 + z, 49) * k0;
	for (size_t done = 0; done < len;) {
		done += 32;
		y = rot(y - x, 42) * k0 + v2;
		w1 += fetch64(s + len - done + 16);
		x = rot(x, 49) * k0 + w1;
		w1 += v1;
		weak32(s + len - done, v1, v2, &v1, &v2);
	}
	x = hash_len16(x, v1);
	y = hash_len16(y, w1);
	*lo = hash_len16(x + v2, w2) + y;
	*hi = hash_len16(x + w2, y + v2);
}

void clickhouse_cityhash128(const void *data, size_t len, uint64_t *lo,
			    uint64_t *hi)
{
	const uint8_t *s = data;

	if (len >= 16)
		city128_seed(s + 16, len - 16, fetch64(s) ^ k3, fetch64(s + 8),
			     lo, hi);
	else if (len >= 8)
		city128_seed(NULL, 0, fetch64(s) ^ (len * k0),
			     fetch64(s + len - 8) ^ k1, lo, hi);
	else
		city128_seed(s, len, k0, k1, lo, hi);
}

/* CityHash64 v1.0.2: ClickHouse's cityHash64 of a string. */
static uint64_t hash_len17to32(const uint8_t *s, size_t len)
{
	uint64_t a = fetch64(s) * k1, b = fetch64(s + 8);
	uint64_t c = fetch64(s + len - 8) * k2, d = fetch64(s + len - 16) * k0;

	return hash_len16(rot(a - b, 43) + rot(c, 30) + d,
			  a + rot(b ^ k3, 20) - c + len);
}

static uint64_t hash_len33to64(const uint8_t *s, size_t len)
{
	uint64_t z = fetch64(s + 24);
	uint64_t a = fetch64(s) + (len + fetch64(s + len - 16)) * k0;
	uint64_t b = rot(a + z, 52), c = rot(a, 37);

	a += fetch64(s + 8);
	c += rot(a, 7);
	a += fetch64(s + 16);
	uint64_t vf = a + z, vs = b + rot(a, 31) + c;

	a = fetch64(s + 16) + fetch64(s + len - 32);
	z = fetch64(s + len - 8);
	b = rot(a + z, 52);
	c = rot(a, 37);
	a += fetch64(s + len - 24);
	c += rot(a, 7);
	a += fetch64(s + len - 16);
	uint64_t wf = a + z, ws = b + rot(a, 31) + c;
	uint64_t r = shift_mix((vf + ws) * k2 + (wf + vs) * k0);

	return shift_mix(r * k0 + vs) * k2;
}

static uint64_t city64(const uint8_t *s, size_t len)
{
	if (len <= 16)
		return hash_len0to16(s, len);
	if (len <= 32)
		return hash_len17to32(s, len);
	if (len <= 64)
		return hash_len33to64(s, len);

	uint64_t x = fetch64(s), y = fetch64(s + len - 16) ^ k1;
	uint64_t z = fetch64(s + len - 56) ^ k0;
	uint64_t v1, v2, w1, w2;

	weak32(s + len - 64, len, y, &v1, &v2);
	weak32(s + len - 32, len * k1, k0, &w1, &w2);
	z += shift_mix(v2) * k1;
	x = rot(z + x, 39) * k1;
	y = rot(y, 33) * k1;
	len = (len - 1) & ~(size_t)63;
	do {
		city_round(s, &x, &y, &z, &v1, &v2, &w1, &w2);
		s += 64;
		len -= 64;
	} while (len != 0);
	return hash_len16(hash_len16(v1, w1) + shift_mix(y) * k1 + z,
			  hash_len16(v2, w2) + x);
}

/* ---------------------------------------------------------------- */
/* LZ4 block format                                                  */

/*
 * The decoder is shaped by what ClickHouse sends: mostly short sequences
 * (0-2 literals and a match of 5-8 bytes, from 8 bytes back in a column
 * of UInt64 or further in others) and, for repetitive columns, long
 * matches a few to a hundred bytes back. While both buffers have room to
 * spare, copies have a fixed size and may run past the bytes a sequence
 * owns: what they write there lies inside the output and the sequences
 * that follow write it again (a block that stops short is refused), what
 * they read there lies inside the input or the output. Near the ends of
 * the buffers every copy is exact. Every length and offset is checked
 * against both buffers before anything is copied.
 *
 * A load that spans bytes from two stores the CPU has not yet written to
 * its cache waits for them, so copies read where one earlier store wrote:
 * a short match is loaded before its literals are stored, and a long one
 * repeats from a multiple of 16 bytes back once it can.
 */

/* Room the common sequence (both lengths < 15, in the token) needs:
 * input, the token and 16 literal bytes read, the offset among them;
 * output, 16 literal bytes written, then from the 15th at most a match
 * of 18 bytes. */
#define LZ4_SHORT_IN 17
#define LZ4_SHORT_OUT 32

/*
 * Copies n bytes 16 at a time, reading and writing up to 16 bytes past
 * them (16 when n is 0): the caller has that room in both buffers, and
 * src is in another buffer.
 */
static inline void copy16(uint8_t *dst, const uint8_t *src, size_t n)
{
	uint8_t *end = dst + n;

	do {
		memcpy(dst, src, 16);
		dst += 16;
		src += 16;
	} while (dst < end);
}

/*
 * Copies a match of n bytes from off back (off >= 1, n >= 4), writing up
 * to 16 bytes past it: the caller has that room. Where off < n the match
 * repeats its last off bytes, so a copy from any multiple of off back
 * gives the same bytes: each 16-byte copy reads from a multiple of off
 * that is 16 or more back, so only bytes already written; once lcm (of
 * off and 16) bytes are written, from lcm back, which is where one
 * earlier copy wrote. Closer than 16 bytes, the first 16 bytes come
 * first: under 8 bytes back the first 8 one at a time (each may be one
 * just written), then 8 from a multiple of off of 8..14 back.
 */
static inline void copy_match(uint8_t *op, size_t off, size_t n)
{
	static const uint8_t step8[8] = { 0, 8, 8, 9, 8, 10, 12, 14 };
	static const uint8_t step16[16] = { 0, 16, 16, 18, 16, 20, 18, 21,
					    16, 18, 20, 22, 24, 26, 28, 30 };
	static const uint8_t lcm_per_off[16] = { 1, 16, 8, 16, 4, 16, 8, 16,
						 2, 16, 8, 16, 4, 16, 8, 16 };
	const uint8_t *m = op - off;
	size_t i = 0, step = off, lcm = off * lcm_per_off[off & 15];

	if (off < 16) {
		if (off < 8) {
			for (i = 0; i < 8; i++)
				op[i] = m[i];
			memcpy(op + 8, op + 8 - step8[off], 8);
		} else {
			memcpy(op, m, 8);
			memcpy(op + 8, m + 8, 8);
		}
		i = 16;
		step = step16[off];
	}
	for (; i < n && i < lcm; i += 16)
		memcpy(op + i, op + i - step, 16);
	for (; i < n; i += 16)
		memcpy(op + i, op + i - lcm, 16);
}

/* The rest of a length the token gives as 15: bytes added up to the
 * first that is not 255. -1 when the input ends first or the length
 * passes limit (the room left), before it can overflow. */
static inline int lz4_length(const uint8_t **ipp, const uint8_t *iend,
			     size_t *len, size_t limit)
{
	const uint8_t *ip = *ipp;
	size_t n = *len;
	unsigned b;

	do {
		if (ip == iend || n > limit)
			return -1;
		b = *ip++;
		n += b;
	} while (b == 255);
	*ipp = ip;
	*len = n;
	return 0;
}

static inline size_t lz4_offset(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int clickhouse_lz4_decompress(const uint8_t *in, size_t inlen, uint8_t *out,
			      size_t outlen)
{
	const uint8_t *ip = in, *iend = in + inlen;
	uint8_t *op = out, *oend = out + outlen;
	/* the common sequence is copied the fast way from below these */
	const uint8_t *ishort = inlen >= LZ4_SHORT_IN ? iend - LZ4_SHORT_IN + 1 : in;
	uint8_t *oshort = outlen >= LZ4_SHORT_OUT ? oend - LZ4_SHORT_OUT + 1 : out;

	while (ip < iend) {
		unsigned token = *ip;
		size_t lit = token >> 4, ml = token & 15, off;
		const uint8_t *m;

		if (lit < 15 && ml < 15 && ip < ishort && op < oshort) {
			uint8_t v[16];

			off = lz4_offset(ip + 1 + lit);
			if (off - 1 >= (size_t)(op - out) + lit)
				return -1;	/* 0, or before the start */
			ml += 4;
			m = op + lit - off;
			if (off >= lit + ml) {
				/* the match lies before the literals */
				memcpy(v, m, 16);
				memcpy(op, ip + 1, 16);
				memcpy(op + lit, v, 16);
				if (ml > 16)
					memcpy(op + lit + 16, m + 16, 2);
			} else {
				memcpy(op, ip + 1, 16);
				if (off >= 16) {
					memcpy(op + lit, m, 16);
					memcpy(op + lit + 16, m + 16, 2);
				} else {
					for (size_t i = 0; i < ml; i++)
						op[lit + i] = m[i];
				}
			}
			ip += 3 + lit;
			op += lit + ml;
			continue;
		}

		ip++;
		if (lit == 15 && lz4_length(&ip, iend, &lit, (size_t)(oend - op)) < 0)
			return -1;
		if (lit > (size_t)(iend - ip) || lit > (size_t)(oend - op))
			return -1;
		if ((size_t)(iend - ip) >= lit + 16 && (size_t)(oend - op) >= lit + 16)
			copy16(op, ip, lit);
		else
			memcpy(op, ip, lit);
		op += lit;
		ip += lit;
		if (ip == iend)
			break;	/* the last sequence has literals only */
		if (iend - ip < 2)
			return -1;
		off = lz4_offset(ip);
		ip += 2;
		if (off - 1 >= (size_t)(op - out))
			return -1;	/* 0, or before the start */
		if (ml == 15 && lz4_length(&ip, iend, &ml, (size_t)(oend - op)) < 0)
			return -1;
		ml += 4;
		if (ml > (size_t)(oend - op))
			return -1;
		m = op - off;
		if ((size_t)(oend - op) >= ml + 16) {
			copy_match(op, off, ml);
		} else if (off >= ml) {
			memcpy(op, m, ml);
		} else {
			for (size_t i = 0; i < ml; i++)
				op[i] = m[i];	/* each may read one just written */
		}
		op += ml;
	}
	return op == oend ? 0 : -1;
}

/* ---------------------------------------------------------------- */
/* Native blocks                                                     */

/* A cursor over a block being parsed; `need` means "ran out of bytes". */
struct cur {
	const uint8_t *p, *end;
	int need;
	struct err *e;
	int failed;
};

static int cur_fail(struct cur *c, const char *what, const char *type)
{
	if (!c->failed && !c->need)
		err_set(c->e, "%s%s%s", what, *type ? " " : "", type);
	c->failed = 1;
	return -1;
}

static int cur_take(struct cur *c, uint64_t n, const uint8_t **at)
{
	if (c->failed || c->need)
		return -1;
	if (n > (uint64_t)(c->end - c->p)) {
		c->need = 1;
		return -1;
	}
	if (at)
		*at = c->p;
	c->p += n;
	return 0;
}

static int cur_varint(struct cur *c, uint64_t *v)
{
	uint64_t r = 0;

	for (int i = 0; i < 10; i++) {
		const uint8_t *b;

		if (cur_take(c, 1, &b) < 0)
			return -1;
		r |= (uint64_t)(*b & 0x7f) << (7 * i);
		if (!(*b & 0x80)) {
			*v = r;
			return 0;
		}
	}
	return cur_fail(c, "malformed varint in a Native block", "");
}

static int cur_string(struct cur *c, const uint8_t **s, uint64_t *len)
{
	if (cur_varint(c, len) < 0)
		return -1;
	if (*len > CH_BLOCK_MAX)
		return cur_fail(c, "malformed Native block: a string too long", "");
	return cur_take(c, *len, s);
}

/* cur_string() for loops over many short strings: a one-byte length
 * (under 128) inline. */
static inline int cur_str(struct cur *c, const uint8_t **s, uint64_t *len)
{
	if (!c->failed && !c->need && c->p < c->end && *c->p < 0x80 &&
	    *c->p < (size_t)(c->end - c->p)) {
		*len = *c->p;
		*s = c->p + 1;
		c->p += *len + 1;
		return 0;
	}
	return cur_string(c, s, len);
}

/* Copy of a type name, trimmed. */
struct tname {
	char s[512];
};

static int tn_set(struct tname *t, const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= sizeof(t->s))
		return -1;
	memcpy(t->s, s, n);
	t->s[n] = 0;
	return 0;
}

/* If t is NAME(ARGS), the args part (without parens) in args. */
static int tn_args(const char *t, const char *name, const char **args,
		   size_t *alen)
{
	size_t n = strlen(name), tl = strlen(t);

	if (strncmp(t, name, n) || t[n] != '(' || t[tl - 1] != ')')
		return 0;
	*args = t + n + 1;
	*alen = tl - n - 2;
	return 1;
}

/* Split args at top-level commas; calls back for each piece. */
static int tn_split(const char *a, size_t alen, int (*fn)(void *, const char *,
							 size_t), void *ud)
{
	int depth = 0, quote = 0;
	size_t start = 0;

	for (size_t i = 0; i <= alen; i++) {
		char ch = i < alen ? a[i] : ',';

		if (quote) {
			if (ch == '\\')
				i++;
			else if (ch == '\'')
				quote = 0;
			continue;
		}
		if (ch == '\'')
			quote = 1;
		else if (ch == '(')
			depth++;
		else if (ch == ')')
			depth--;
		else if (ch == ',' && depth == 0) {
			if (fn(ud, a + start, i - start) < 0)
				return -1;
			start = i + 1;
		}
	}
	return 0;
}

/* The value type T of SimpleAggregateFunction(f, T), from its args: after
 * the first comma outside the function's own brackets. */
static int tn_saf_type(const char *args, size_t alen, struct tname *t)
{
	int depth = 0;

	for (size_t i = 0; i < alen; i++) {
		if (args[i] == '(')
			depth++;
		else if (args[i] == ')')
			depth--;
		else if (args[i] == ',' && depth == 0)
			return tn_set(t, args + i + 1, alen - i - 1);
	}
	return -1;
}

/* A Tuple element "name Type" (26.x names them) becomes "Type". */
static void tn_unname(struct tname *t)
{
	int depth = 0;

	for (char *p = t->s; *p; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
		else if (*p == ' ' && depth == 0 && p > t->s &&
			 (isalnum((unsigned char)p[1]) || p[1] == '`')) {
			/* a name before the type: the type starts with a
			 * capital or is backquoted; names do not hold '(' */
			memmove(t->s, p + 1, strlen(p + 1) + 1);
			return;
		}
	}
}

static int skip_column(struct cur *c, const char *type, uint64_t rows,
		       int depth);
static int skip_prefix(struct cur *c, const char *type, int depth);

struct skip_ctx {
	struct cur *c;
	uint64_t rows;
	int depth;
	int n;
	int prefix;		/* skip the element's prefix, not its data */
};

/* A Tuple element: "Type" or "name Type". */
static int skip_element(void *ud, const char *s, size_t n)
{
	struct skip_ctx *k = ud;
	struct tname t;

	if (tn_set(&t, s, n) < 0)
		return cur_fail(k->c, "type name too long:", "Tuple");
	tn_unname(&t);
	k->n++;
	if (k->prefix)
		return skip_prefix(k->c, t.s, k->depth + 1);
	return skip_column(k->c, t.s, k->rows, k->depth + 1);
}

static const struct {
	const char *name;
	unsigned size;
} fixed_types[] = {
	{ "UInt8", 1 }, { "Int8", 1 }, { "Bool", 1 }, { "Nothing", 1 },
	{ "UInt16", 2 }, { "Int16", 2 }, { "Date", 2 }, { "BFloat16", 2 },
	{ "UInt32", 4 }, { "Int32", 4 }, { "Float32", 4 }, { "DateTime", 4 },
	{ "Date32", 4 }, { "IPv4", 4 }, { "Decimal32", 4 },
	{ "UInt64", 8 }, { "Int64", 8 }, { "Float64", 8 },
	{ "Decimal64", 8 }, { "Time", 4 }, { "Time64", 8 },
	{ "UInt128", 16 }, { "Int128", 16 }, { "UUID", 16 }, { "IPv6", 16 },
	{ "Decimal128", 16 },
	{ "UInt256", 32 }, { "Int256", 32 }, { "Decimal256", 32 },
};

static long fixed_size(const char *t)
{
	const char *args;
	size_t alen;

	for (size_t i = 0; i < sizeof(fixed_types) / sizeof(fixed_types[0]); i++) {
		size_t n = strlen(fixed_types[i].name);

		if (!strncmp(t, fixed_types[i].name, n) &&
		    (t[n] == 0 || t[n] == '('))
			return fixed_types[i].size;
	}
	if (!strncmp(t, "Enum8(", 6))
		return 1;
	if (!strncmp(t, "Enum16(", 7))
		return 2;
	if (!strncmp(t, "DateTime64(", 11))
		return 8;
	if (tn_args(t, "Decimal", &args, &alen)) {
		long p = strtol(args, NULL, 10);

		return p <= 9 ? 4 : p <= 18 ? 8 : p <= 38 ? 16 : 32;
	}
	return -1;
}

/* N of FixedString(N): 1 to ClickHouse's limit, 0xFFFFFF; -1 otherwise
 * (so that rows * N cannot overflow). */
static long fixed_string_size(const char *args)
{
	char *end;
	unsigned long n = strtoul(args, &end, 10);

	return *end == ')' && n >= 1 && n <= 0xFFFFFF ? (long)n : -1;
}

/* LowCardinality's index width, by the low byte of its flags. */
static const unsigned lc_key_size[] = { 1, 2, 4, 8 };

/* The type its dictionary holds, inner without Nullable: 1 when inner
 * is Nullable (key 0 is then NULL), 0 when not, -1 for a name too long. */
static int lc_dict_type(const char *inner, struct tname *dict)
{
	const char *args;
	size_t alen;

	if (tn_args(inner, "Nullable", &args, &alen))
		return tn_set(dict, args, alen) < 0 ? -1 : 1;
	return tn_set(dict, inner, strlen(inner)) < 0 ? -1 : 0;
}

static int skip_lowcard(struct cur *c, const char *inner, uint64_t rows,
			int depth)
{
	const uint8_t *b;
	uint64_t flags, nkeys, nidx;
	struct tname dict;

	/* its serialization version came first, in skip_prefix() */
	if (cur_take(c, 8, &b) < 0)
		return -1;
	flags = fetch64(b);
	if ((flags & 0xff) > 3)
		return cur_fail(c, "malformed LowCardinality column of", inner);
	if (lc_dict_type(inner, &dict) < 0)
		return cur_fail(c, "type name too long:", inner);
	if (flags & (1u << 9)) {	/* HasAdditionalKeysBit */
		if (cur_take(c, 8, &b) < 0)
			return -1;
		nkeys = fetch64(b);
		if (skip_column(c, dict.s, nkeys, depth + 1) < 0)
			return -1;
	}
	if (cur_take(c, 8, &b) < 0)
		return -1;
	nidx = fetch64(b);
	if (nidx != rows)
		return cur_fail(c, "malformed LowCardinality column of", inner);
	return cur_take(c, nidx * lc_key_size[flags & 0xff], NULL);
}

/*
 * What a column writes before its data: each LowCardinality in it, at
 * any depth, its serialization version (1). So Array(LowCardinality(T))
 * is the version, the offsets, then the elements; Tuple(UInt8,
 * LowCardinality(T)) the version, the UInt8s, then the LowCardinality.
 */
static int skip_prefix(struct cur *c, const char *type, int depth)
{
	const char *args;
	size_t alen;
	struct tname inner;
	const uint8_t *b;

	if (depth > 32)
		return cur_fail(c, "type nested too deeply:", type);
	if (tn_args(type, "LowCardinality", &args, &alen)) {
		if (cur_take(c, 8, &b) < 0)
			return -1;
		if (fetch64(b) != 1)
			return cur_fail(c, "unsupported LowCardinality serialization of",
					type);
		return 0;
	}
	if (tn_args(type, "SimpleAggregateFunction", &args, &alen)) {
		if (tn_saf_type(args, alen, &inner) < 0)
			return cur_fail(c, "cannot read type", type);
		return skip_prefix(c, inner.s, depth + 1);
	}
	if (tn_args(type, "Nullable", &args, &alen) ||
	    tn_args(type, "Array", &args, &alen)) {
		if (tn_set(&inner, args, alen) < 0)
			return cur_fail(c, "type name too long:", type);
		return skip_prefix(c, inner.s, depth + 1);
	}
	if (tn_args(type, "Map", &args, &alen) ||
	    tn_args(type, "Nested", &args, &alen) ||
	    tn_args(type, "Tuple", &args, &alen)) {
		struct skip_ctx k = { c, 0, depth, 0, 1 };

		return tn_split(args, alen, skip_element, &k);
	}
	return 0;
}

static int skip_column(struct cur *c, const char *type, uint64_t rows,
		       int depth)
{
	const char *args;
	size_t alen;
	long fs;
	struct tname inner;

	if (depth > 32)
		return cur_fail(c, "type nested too deeply:", type);
	if (rows > CH_BLOCK_MAX)
		return cur_fail(c, "malformed Native block: too many rows for",
				type);
	if ((fs = fixed_size(type)) > 0)
		return cur_take(c, rows * (uint64_t)fs, NULL);
	if (!strcmp(type, "String")) {
		for (uint64_t i = 0; i < rows; i++) {
			const uint8_t *s;
			uint64_t n;

			if (cur_str(c, &s, &n) < 0)
				return -1;
		}
		return 0;
	}
	if (tn_args(type, "FixedString", &args, &alen)) {
		long n = fixed_string_size(args);

		if (n < 0)
			return cur_fail(c, "malformed type", type);
		return cur_take(c, rows * (uint64_t)n, NULL);
	}
	if (tn_args(type, "Nullable", &args, &alen)) {
		if (tn_set(&inner, args, alen) < 0)
			return cur_fail(c, "type name too long:", type);
		if (cur_take(c, rows, NULL) < 0)
			return -1;
		return skip_column(c, inner.s, rows, depth + 1);
	}
	if (tn_args(type, "LowCardinality", &args, &alen)) {
		if (tn_set(&inner, args, alen) < 0)
			return cur_fail(c, "type name too long:", type);
		if (rows == 0)	/* a type check too: the dictionary's type */
			return skip_column(c, inner.s, 0, depth + 1);
		return skip_lowcard(c, inner.s, rows, depth);
	}
	if (tn_args(type, "SimpleAggregateFunction", &args, &alen)) {
		if (tn_saf_type(args, alen, &inner) < 0)
			return cur_fail(c, "cannot read type", type);
		return skip_column(c, inner.s, rows, depth + 1);
	}
	if (tn_args(type, "Array", &args, &alen) ||
	    tn_args(type, "Map", &args, &alen) ||
	    tn_args(type, "Nested", &args, &alen)) {
		const uint8_t *b;
		uint64_t total = 0;
		struct skip_ctx k = { c, 0, depth, 0, 0 };

		if (rows) {
			if (cur_take(c, rows * 8, &b) < 0)
				return -1;
			total = fetch64(b + (rows - 1) * 8);
		}
		k.rows = total;
		if (type[0] == 'A') {
			if (tn_set(&inner, args, alen) < 0)
				return cur_fail(c, "type name too long:", type);
			return skip_column(c, inner.s, total, depth + 1);
		}
		/* Map(K, V) and Nested(...) are arrays of tuples */
		return tn_split(args, alen, skip_element, &k);
	}
	if (tn_args(type, "Tuple", &args, &alen)) {
		struct skip_ctx k = { c, rows, depth, 0, 0 };

		return tn_split(args, alen, skip_element, &k);
	}
	return cur_fail(c, "cannot read columns of type", type);
}

/*
 * The walker itself decides: zero rows of a type take no bytes, so
 * skip_column() on an empty cursor fails only on a type it does not know,
 * at whatever depth. One table of types, not a second list to drift.
 */
int clickhouse_type_readable(const char *type)
{
	static const uint8_t none[1];
	struct err e = { "" };
	struct cur c = { none, none, 0, &e, 0 };
	struct tname t;

	if (!type || tn_set(&t, type, strlen(type)) < 0 || !t.s[0])
		return 0;
	return skip_column(&c, t.s, 0, 0) == 0;
}

/* ---------------------------------------------------------------- */
/* The content checksum, counted from the exported blocks            */

/*
 * clickhouse_checksum_expr()'s version 2, computed here from the Native
 * blocks of an export as the server computes it, for the types below:
 * the export's one read of a partition then gives both the object and
 * its checksum. Any other type, or anything unexpected, leaves it to the
 * server (clickhouse_partition_stats()).
 *
 * cityHash64(a1, a2, ...) is, for each row, the hash of a1, then of each
 * next argument combined in: combine(h, hash). An argument's hash is
 *   an integer, Date, DateTime, Enum or Float   IntHash64 of its bytes,
 *                                                zero-extended to 64 bits
 *   String, FixedString                         CityHash64 of its bytes
 *   Array                                       IntHash64(length), then
 *                                                each element's combined
 *   Tuple                                       each element, as an
 *                                                argument of its own
 * and version 2's forms become: Nullable(T) the UInt64 isNull ? 0 :
 * cityHash64(T); UUID its text; Decimal its bytes without trailing zeros
 * (a String); an array of elements that a form rewrote, the array of
 * their cityHash64s; LowCardinality(T) and SimpleAggregateFunction(f, T)
 * T itself.
 */
#define ROWHASH_MAX (4u << 20)	/* values a vector of hashes holds */

static inline uint64_t int_hash64(uint64_t x)
{
	x ^= 0x4cf2d2baae6da887ULL;	/* IntHash64Impl, then Murmur3's mix */
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static int rowhash_int_size(const char *t)
{
	static const char *const ok[] = {
		"UInt8", "UInt16", "UInt32", "UInt64", "Int8", "Int16",
		"Int32", "Int64", "Float32", "Float64", "Date", "DateTime",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcmp(t, ok[i]))
			return (int)fixed_size(t);
	if (!strncmp(t, "DateTime(", 9) || !strncmp(t, "Enum8(", 6) ||
	    !strncmp(t, "Enum16(", 7))
		return (int)fixed_size(t);
	return 0;
}

/*
 * Can rowhash_arg() hash columns of this type? 0 no; 1 yes, and version 2
 * hashes it as it is; 2 yes, and version 2 rewrites it (a Nullable, UUID
 * or Decimal in it), which makes an array of it an array of hashes.
 */
static int rowhash_type(const char *type, int depth);

struct rowhash_tuple {
	int depth, kind;
};

static int rowhash_element_type(void *ud, const char *s, size_t n)
{
	struct rowhash_tuple *k = ud;
	struct tname t;
	int kind;

	if (tn_set(&t, s, n) < 0)
		return -1;
	tn_unname(&t);
	if (!(kind = rowhash_type(t.s, k->depth + 1)))
		return -1;
	if (kind > k->kind)
		k->kind = kind;
	return 0;
}

static int rowhash_type(const char *type, int depth)
{
	const char *args;
	size_t alen;
	struct tname inner;

	if (depth > 32)
		return 0;
	if (rowhash_int_size(type) || !strcmp(type, "String") ||
	    tn_args(type, "FixedString", &args, &alen))
		return 1;
	if (!strcmp(type, "UUID") ||
	    (!strncmp(type, "Decimal", 7) && fixed_size(type) > 0))
		return 2;
	if (tn_args(type, "SimpleAggregateFunction", &args, &alen))
		return tn_saf_type(args, alen, &inner) == 0 ?
			rowhash_type(inner.s, depth + 1) : 0;
	if (tn_args(type, "Nullable", &args, &alen))
		return tn_set(&inner, args, alen) == 0 &&
			rowhash_type(inner.s, depth + 1) ? 2 : 0;
	if (tn_args(type, "LowCardinality", &args, &alen) ||
	    tn_args(type, "Array", &args, &alen))
		return tn_set(&inner, args, alen) == 0 ?
			rowhash_type(inner.s, depth + 1) : 0;
	if (tn_args(type, "Tuple", &args, &alen) && alen) {
		struct rowhash_tuple k = { depth, 1 };

		return tn_split(args, alen, rowhash_element_type, &k) == 0 ?
			k.kind : 0;
	}
	return 0;
}

static uint64_t *rowhash_vec(uint64_t n)
{
	return n > ROWHASH_MAX ? NULL : malloc((n ? n : 1) * sizeof(uint64_t));
}

static int rowhash_arg(struct cur *c, const char *type, uint64_t rows,
		       uint64_t *acc, int first, int depth);

/*
 * The loops below run for every value of a backup. The Makefile builds
 * this file with -O3, which vectorises them; on x86-64 they also get a
 * clone for AVX-512 (x86-64-v4), which multiplies 64-bit lanes, chosen
 * when the program loads: the row hashes then take half the time they
 * take at -O2.
 */
#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones) && !defined(__SANITIZE_ADDRESS__)
#define ROWHASH_CLONES __attribute__((target_clones("arch=x86-64-v4", "default")))
#endif
#endif
#ifndef ROWHASH_CLONES
#define ROWHASH_CLONES
#endif

/* Put hash i into acc: the first argument's, or combined in. */
#define ROWHASH_PUT(acc, i, h, first) \
	((acc)[i] = (first) ? (h) : hash_len16((acc)[i], (h)))
/* The same for every row i, with the test out of the loop. */
#define ROWHASH_EACH(acc, rows, first, h) do {				\
	if (first)							\
		for (uint64_t i = 0; i < (rows); i++)			\
			(acc)[i] = (h);					\
	else								\
		for (uint64_t i = 0; i < (rows); i++)			\
			(acc)[i] = hash_len16((acc)[i], (h));		\
} while (0)

/* IntHash64 of rows little-endian integers of size bytes at b. */
ROWHASH_CLONES
static void rowhash_ints(uint64_t *acc, const uint8_t *b, uint64_t rows,
			 int size, int first)
{
	switch (size) {
	case 8:
		ROWHASH_EACH(acc, rows, first, int_hash64(fetch64(b + 8 * i)));
		break;
	case 4:
		ROWHASH_EACH(acc, rows, first, int_hash64(fetch32(b + 4 * i)));
		break;
	case 2:
		ROWHASH_EACH(acc, rows, first, int_hash64((uint64_t)b[2 * i] |
							  (uint64_t)b[2 * i + 1] << 8));
		break;
	default:
		ROWHASH_EACH(acc, rows, first, int_hash64(b[i]));
	}
}

/* Combine the hashes h of rows into acc (first: they are the rows'). */
ROWHASH_CLONES
static void rowhash_put(uint64_t *acc, const uint64_t *h, uint64_t rows,
			int first)
{
	ROWHASH_EACH(acc, rows, first, h[i]);
}

static int rowhash_lowcard(struct cur *c, const char *inner, uint64_t rows,
			   uint64_t *acc, int first, int depth)
{
	const uint8_t *b, *idx;
	uint64_t flags, nkeys, *keys;
	unsigned ks;
	struct tname dict;
	int nullable = lc_dict_type(inner, &dict), ret = -1;

	if (nullable < 0 || cur_take(c, 8, &b) < 0)
		return -1;
	flags = fetch64(b);
	/* a dictionary of the block's own (a shared one is not in Native) */
	if ((flags & 0xff) > 3 || !(flags & (1u << 9)) || cur_take(c, 8, &b) < 0)
		return -1;
	nkeys = fetch64(b);
	if (!(keys = rowhash_vec(nkeys)))
		return -1;
	ks = lc_key_size[flags & 0xff];
	if (rowhash_arg(c, dict.s, nkeys, keys, 1, depth + 1) < 0 ||
	    cur_take(c, 8, &b) < 0 || fetch64(b) != rows ||
	    cur_take(c, rows * ks, &idx) < 0)
		goto out;
	for (uint64_t i = 0; i < rows; i++) {
		uint64_t k = 0, h;

		for (unsigned j = 0; j < ks; j++)
			k |= (uint64_t)idx[i * ks + j] << (8 * j);
		if (k >= nkeys)
			goto out;
		/* Nullable: key 0 is NULL; the value is isNull ? 0 : hash */
		h = nullable ? int_hash64(k ? keys[k] : 0) : keys[k];
		ROWHASH_PUT(acc, i, h, first);
	}
	ret = 0;
out:
	free(keys);
	return ret;
}

static int rowhash_array(struct cur *c, const char *elem, uint64_t rows,
			 uint64_t *acc, int first, int depth)
{
	const uint8_t *b;
	uint64_t total, prev = 0, *eh;
	/* elements with a Nullable in them are their cityHash64s */
	int rehash = rowhash_type(elem, depth + 1) == 2, ret = -1;

	if (cur_take(c, rows * 8, &b) < 0)
		return -1;
	total = rows ? fetch64(b + (rows - 1) * 8) : 0;
	if (!(eh = rowhash_vec(total)))
		return -1;
	if (rowhash_arg(c, elem, total, eh, 1, depth + 1) < 0)
		goto out;
	for (uint64_t i = 0; i < rows; i++) {
		uint64_t end = fetch64(b + i * 8);

		if (end < prev || end > total)
			goto out;
		ROWHASH_PUT(acc, i, int_hash64(end - prev), first);
		for (; prev < end; prev++)
			acc[i] = hash_len16(acc[i], rehash ? int_hash64(eh[prev]) :
					    eh[prev]);
	}
	ret = 0;
out:
	free(eh);
	return ret;
}

struct rowhash_elements {
	struct cur *c;
	uint64_t rows, *acc;
	int first, depth;
};

static int rowhash_element(void *ud, const char *s, size_t n)
{
	struct rowhash_elements *k = ud;
	struct tname t;

	if (tn_set(&t, s, n) < 0)
		return -1;
	tn_unname(&t);
	if (rowhash_arg(k->c, t.s, k->rows, k->acc, k->first, k->depth + 1) < 0)
		return -1;
	k->first = 0;
	return 0;
}

/*
 * Read rows values of a column of this type at c and put each one's hash
 * into acc (first: the row's first argument). -1 for anything it does
 * not hash as the server would; the walk already checked the bytes.
 */
static int rowhash_arg(struct cur *c, const char *type, uint64_t rows,
		       uint64_t *acc, int first, int depth)
{
	const char *args;
	size_t alen;
	struct tname inner;
	const uint8_t *b;
	int size;

	if (depth > 32)
		return -1;
	if ((size = rowhash_int_size(type)) > 0) {
		if (cur_take(c, rows * (uint64_t)size, &b) < 0)
			return -1;
		rowhash_ints(acc, b, rows, size, first);
		return 0;
	}
	if (!strcmp(type, "String")) {
		/* the strings one by one, then the vector combines them */
		uint64_t *h = first ? acc : rowhash_vec(rows);
		int ret = -1;

		if (!h)
			return -1;
		for (uint64_t i = 0; i < rows; i++) {
			uint64_t n;

			if (cur_str(c, &b, &n) < 0)
				goto str_out;
			h[i] = city64(b, n);
		}
		if (!first)
			rowhash_put(acc, h, rows, 0);
		ret = 0;
str_out:
		if (h != acc)
			free(h);
		return ret;
	}
	if (tn_args(type, "FixedString", &args, &alen)) {
		long n = fixed_string_size(args);

		if (n < 0 || cur_take(c, rows * (uint64_t)n, &b) < 0)
			return -1;
		for (uint64_t i = 0; i < rows; i++)
			ROWHASH_PUT(acc, i, city64(b + i * n, n), first);
		return 0;
	}
	if (!strcmp(type, "UUID")) {
		/* toString(x): bytes 7..0 and 15..8 in hex, 8-4-4-4-12 */
		static const char hex[] = "0123456789abcdef";
		static const int order[] = { 7, 6, 5, 4, -1, 3, 2, -1, 1, 0, -1,
					     15, 14, -1, 13, 12, 11, 10, 9, 8 };
		uint8_t text[36];

		if (cur_take(c, rows * 16, &b) < 0)
			return -1;
		for (uint64_t i = 0; i < rows; i++, b += 16) {
			size_t o = 0;

			for (size_t j = 0; j < sizeof(order) / sizeof(order[0]); j++) {
				if (order[j] < 0) {
					text[o++] = '-';
					continue;
				}
				text[o++] = hex[b[order[j]] >> 4];
				text[o++] = hex[b[order[j]] & 15];
			}
			ROWHASH_PUT(acc, i, city64(text, sizeof(text)), first);
		}
		return 0;
	}
	if (!strncmp(type, "Decimal", 7) && (size = (int)fixed_size(type)) > 0) {
		/* reinterpretAsString(x): its bytes, trailing zeros cut */
		if (cur_take(c, rows * (uint64_t)size, &b) < 0)
			return -1;
		for (uint64_t i = 0; i < rows; i++, b += size) {
			size_t n = (size_t)size;

			while (n && !b[n - 1])
				n--;
			ROWHASH_PUT(acc, i, city64(b, n), first);
		}
		return 0;
	}
	if (tn_args(type, "Tuple", &args, &alen) && alen) {
		/* its elements, as arguments of their own */
		struct rowhash_elements k = { c, rows, acc, first, depth };

		return tn_split(args, alen, rowhash_element, &k);
	}
	if (tn_args(type, "SimpleAggregateFunction", &args, &alen))
		return tn_saf_type(args, alen, &inner) < 0 ? -1 :
			rowhash_arg(c, inner.s, rows, acc, first, depth + 1);
	if (tn_args(type, "Nullable", &args, &alen)) {
		const uint8_t *nulls;
		uint64_t *v;
		int ret = -1;

		if (tn_set(&inner, args, alen) < 0 || cur_take(c, rows, &nulls) < 0 ||
		    !(v = rowhash_vec(rows)))
			return -1;
		if (rowhash_arg(c, inner.s, rows, v, 1, depth + 1) == 0) {
			for (uint64_t i = 0; i < rows; i++)
				ROWHASH_PUT(acc, i, int_hash64(nulls[i] ? 0 : v[i]),
					    first);
			ret = 0;
		}
		free(v);
		return ret;
	}
	if (tn_args(type, "LowCardinality", &args, &alen))
		return tn_set(&inner, args, alen) < 0 ? -1 :
			rowhash_lowcard(c, inner.s, rows, acc, first, depth);
	if (tn_args(type, "Array", &args, &alen))
		return tn_set(&inner, args, alen) < 0 ? -1 :
			rowhash_array(c, inner.s, rows, acc, first, depth);
	return -1;
}

/*
 * Types whose hashing reads exactly the bytes skip_column() reads, and
 * checks each read as it does: for these the hashing pass is the walk.
 * rowhash_arg() leaves acc as it was when it runs out of bytes in one of
 * them, but for a first column, whose values are written over when it
 * is read again.
 */
static int rowhash_walks(const char *type)
{
	const char *args;
	size_t alen;

	if (!type[0] || isspace((unsigned char)type[0]) ||
	    isspace((unsigned char)type[strlen(type) - 1]))
		return 0;	/* the hash reads it trimmed, the walk not */
	return rowhash_int_size(type) > 0 || !strcmp(type, "String") ||
		(tn_args(type, "FixedString", &args, &alen) &&
		 fixed_string_size(args) > 0);
}

/* Put the row hashes of a column already walked, the bytes [p, end),
 * into acc; -1 when it cannot, or when the hash would not read exactly
 * those bytes. */
static int rowhash_column(uint64_t *acc, const uint8_t *p, const uint8_t *end,
			  const char *type, uint64_t rows, int first)
{
	struct err e = { "" };
	struct cur c = { p, end, 0, &e, 0 };
	struct tname t;

	if (tn_set(&t, type, strlen(type)) < 0 || skip_prefix(&c, t.s, 0) < 0 ||
	    rowhash_arg(&c, t.s, rows, acc, first, 0) < 0 || c.p != end)
		return -1;
	return 0;
}

void clickhouse_native_init(struct clickhouse_native *nv)
{
	memset(nv, 0, sizeof(*nv));
	strbuf_init(&nv->pending, CH_BLOCK_MAX);
}

void clickhouse_native_release(struct clickhouse_native *nv)
{
	strbuf_release(&nv->pending);
	free(nv->acc);
	nv->acc = NULL;
}

/* The server's error text where a block should start. */
static int native_server_error(const uint8_t *p, size_t n, struct err *e,
			       uint64_t rows)
{
	const char *tag = "__exception__";
	size_t skip = 0;

	while (skip < n && (p[skip] == '\r' || p[skip] == '\n'))
		skip++;
	if (n - skip >= strlen(tag) && !memcmp(p + skip, tag, strlen(tag)))
		skip += strlen(tag);
	while (skip < n && isspace(p[skip]))
		skip++;
	/* 26.x puts a random tag line before the text */
	if (n - skip >= 6 && memcmp(p + skip, "Code: ", 6)) {
		const uint8_t *nl = memchr(p + skip, '\n', n - skip);

		if (nl && nl - (p + skip) < 64 && (size_t)(nl + 1 - p) + 6 <= n &&
		    !memcmp(nl + 1, "Code: ", 6))
			skip = nl + 1 - p;
	}
	if (n - skip < 6 || memcmp(p + skip, "Code: ", 6))
		return 0;
	size_t len = 0;

	while (skip + len < n && p[skip + len] != '\n' && p[skip + len] != '\r' &&
	       len < 400)
		len++;
	err_set(e, "the server failed after %" PRIu64 " rows: %.*s", rows,
		(int)len, (const char *)p + skip);
	return 1;
}

/* Stop hashing the block being read: the stream's hash turns off at its
 * end. */
static void native_unhash(struct clickhouse_native *nv)
{
	free(nv->acc);
	nv->acc = NULL;
}

/* The header of the block at nv->start; 1 read, 0 needs more, -1. */
static int native_header(struct clickhouse_native *nv, struct err *e)
{
	const uint8_t *base = (const uint8_t *)nv->pending.buf;
	struct cur c = { base + nv->start, base + nv->pending.len, 0, e, 0 };
	uint64_t ncols, nrows;

	if (cur_varint(&c, &ncols) < 0 || cur_varint(&c, &nrows) < 0)
		return c.failed ? -1 : 0;
	if (ncols > 100000 || nrows > CH_BLOCK_MAX) {
		err_set(e, "malformed Native block header (%" PRIu64
			" columns, %" PRIu64 " rows)", ncols, nrows);
		return -1;
	}
	nv->header = 1;
	nv->ncols = ncols;
	nv->nrows = nrows;
	nv->col = 0;
	nv->at = (size_t)(c.p - base);
	/* a block of no rows has nothing to hash; of no columns, no hash
	 * the server's would equal */
	if (nv->hash && nrows && ncols)
		nv->acc = rowhash_vec(nrows);
	return 1;
}

/* Column nv->col of the block, at nv->at: walk it and, when the block is
 * hashed, hash it; 1 read, 0 needs more (acc as it was), -1. */
static int native_column(struct clickhouse_native *nv, struct err *e)
{
	const uint8_t *base = (const uint8_t *)nv->pending.buf, *data;
	struct cur c = { base + nv->at, base + nv->pending.len, 0, e, 0 };
	const uint8_t *name, *type;
	uint64_t nl, tl, rows = nv->nrows;
	char tbuf[512];
	int first = nv->col == 0;

	if (cur_string(&c, &name, &nl) < 0 || cur_string(&c, &type, &tl) < 0)
		return c.failed ? -1 : 0;
	if (tl == 0 || tl >= sizeof(tbuf)) {
		err_set(e, "malformed Native block: bad type of column %" PRIu64,
			nv->col + 1);
		return -1;
	}
	memcpy(tbuf, type, tl);
	tbuf[tl] = 0;
	data = c.p;
	if (!rows) {
		/* no data, and its type is not looked at */
	} else if (nv->acc && rowhash_walks(tbuf)) {
		if (rowhash_arg(&c, tbuf, rows, nv->acc, first, 0) < 0) {
			if (c.need || c.failed)
				return c.failed ? -1 : 0;
			native_unhash(nv);	/* out of memory: walk it */
			c.p = data;
			if (skip_column(&c, tbuf, rows, 0) < 0)
				return c.failed ? -1 : 0;
		}
	} else {
		if (skip_prefix(&c, tbuf, 0) < 0 ||
		    skip_column(&c, tbuf, rows, 0) < 0)
			return c.failed ? -1 : 0;
		if (nv->acc &&
		    rowhash_column(nv->acc, data, c.p, tbuf, rows, first) < 0)
			native_unhash(nv);
	}
	nv->at = (size_t)(c.p - base);
	return 1;
}

/* Read on in the block at nv->start; 1 it is complete and counted, 0
 * needs more, -1 malformed. */
static int native_block(struct clickhouse_native *nv, struct err *e)
{
	int r;

	if (!nv->header && (r = native_header(nv, e)) <= 0)
		return r;
	for (; nv->col < nv->ncols; nv->col++)
		if ((r = native_column(nv, e)) <= 0)
			return r;
	if (nv->hash && nv->nrows) {
		if (nv->acc) {
			for (uint64_t i = 0; i < nv->nrows; i++)
				nv->sum += nv->acc[i];
		} else {
			log_debug("clickhouse: block %" PRIu64 " not hashed here; "
				  "the server will count the checksum",
				  nv->blocks + 1);
			nv->hash = 0;
		}
	}
	native_unhash(nv);
	nv->rows += nv->nrows;
	nv->blocks++;
	nv->start = nv->at;
	nv->header = 0;
	return 1;
}

/* Room for len more bytes after the pending ones, to be written in place
 * and then parsed by native_take(); NULL past the block size limit. The
 * bytes already read go only when the new ones would not fit otherwise:
 * each byte then moves at most once, with the block it belongs to. */
static uint8_t *native_room(struct clickhouse_native *nv, size_t len,
			    struct err *e)
{
	struct strbuf *sb = &nv->pending;
	size_t left = sb->len - nv->start;	/* not read yet */

	if (len > sb->max - left)
		goto too_large;
	if (len >= sb->alloc - sb->len) {
		if (nv->start) {
			memmove(sb->buf, sb->buf + nv->start, left);
			strbuf_setlen(sb, left);
			nv->at -= nv->start;
			nv->start = 0;
		}
		if (strbuf_grow(sb, len) < 0)
			goto too_large;
	}
	return (uint8_t *)sb->buf + sb->len;
too_large:
	err_set(e, "a Native block is larger than %u MiB", CH_BLOCK_MAX >> 20);
	return NULL;
}

/* Parse the whole blocks once len bytes were written at native_room(). */
static int native_take(struct clickhouse_native *nv, size_t len, struct err *e)
{
	nv->bytes += len;
	nv->pending.len += len;	/* written in the room native_room() made */
	nv->pending.buf[nv->pending.len] = '\0';
	while (nv->start < nv->pending.len) {
		const uint8_t *p = (const uint8_t *)nv->pending.buf + nv->start;
		int r;

		if (native_server_error(p, nv->pending.len - nv->start, e, nv->rows))
			return -1;
		r = native_block(nv, e);
		if (r < 0) {
			err_wrap(e, "after %" PRIu64 " rows", nv->rows);
			return -1;
		}
		if (r == 0)
			break;
	}
	if (nv->start == nv->pending.len) {	/* all read: start over free */
		strbuf_reset(&nv->pending);
		nv->start = nv->at = 0;
	}
	return 0;
}

int clickhouse_native_feed(struct clickhouse_native *nv, const void *data,
			   size_t len, struct err *e)
{
	uint8_t *room = native_room(nv, len, e);

	if (!room)
		return -1;
	memcpy(room, data, len);
	return native_take(nv, len, e);
}

int clickhouse_native_finish(struct clickhouse_native *nv, struct err *e)
{
	size_t left = nv->pending.len - nv->start;

	if (!left)
		return 0;
	if (native_server_error((const uint8_t *)nv->pending.buf + nv->start,
				left, e, nv->rows))
		return -1;
	return err_set(e, "the Native stream ends inside a block after %" PRIu64
		       " rows (%zu bytes left)", nv->rows, left);
}

/* ---------------------------------------------------------------- */
/* Compressed block framing                                          */

void clickhouse_frames_init(struct clickhouse_frames *fr,
			    clickhouse_sink_fn sink, void *ud)
{
	memset(fr, 0, sizeof(*fr));
	strbuf_init(&fr->pending, CLICKHOUSE_FRAME_MAX + CLICKHOUSE_FRAME_HEADER);
	clickhouse_native_init(&fr->native);
	fr->sink = sink;
	fr->sink_ud = ud;
}

void clickhouse_frames_release(struct clickhouse_frames *fr)
{
	strbuf_release(&fr->pending);
	clickhouse_native_release(&fr->native);
}

/* A whole frame at p (n bytes): check, decompress, count, hand on. */
static int frame_one(struct clickhouse_frames *fr, const uint8_t *p, size_t n,
		     struct err *e)
{
	uint64_t lo, hi;
	uint32_t plain = fetch32(p + 21);
	uint8_t method = p[16], *room;

	clickhouse_cityhash128(p + 16, n - 16, &lo, &hi);
	if (lo != fetch64(p) || hi != fetch64(p + 8))
		return err_set(e, "checksum mismatch in compressed frame %" PRIu64,
			       fr->frames + 1);
	if (plain > CLICKHOUSE_FRAME_MAX)
		return err_set(e, "compressed frame %" PRIu64 " is too large",
			       fr->frames + 1);
	if (method != 0x82 && method != 0x02)
		return err_set(e, method == 0x90 ?
			       "ZSTD frames are not supported (ask for LZ4)" :
			       "unknown compression method 0x%02x in frame %" PRIu64,
			       method, fr->frames + 1);
	if (method == 0x02 && n - CLICKHOUSE_FRAME_HEADER != plain)
		return err_set(e, "malformed frame %" PRIu64, fr->frames + 1);
	/* straight into the Native parser's buffer, without a copy */
	if (!(room = native_room(&fr->native, plain, e)))
		return -1;
	if (method == 0x02)
		memcpy(room, p + CLICKHOUSE_FRAME_HEADER, plain);
	else if (clickhouse_lz4_decompress(p + CLICKHOUSE_FRAME_HEADER,
					   n - CLICKHOUSE_FRAME_HEADER,
					   room, plain) < 0)
		return err_set(e, "corrupt LZ4 data in frame %" PRIu64,
			       fr->frames + 1);
	if (fr->opaque)
		fr->native.bytes += plain;	/* decoded, not walked: the room
						   is reused by the next frame */
	else if (native_take(&fr->native, plain, e) < 0)
		return -1;
	fr->frames++;
	fr->bytes += n;
	if (fr->sink && fr->sink(fr->sink_ud, p, n, e) < 0)
		return -1;
	return 0;
}

int clickhouse_frames_feed(struct clickhouse_frames *fr, const void *data,
			   size_t len, struct err *e)
{
	const uint8_t *in = data;

	while (len) {
		struct strbuf *pb = &fr->pending;
		size_t want = CLICKHOUSE_FRAME_HEADER, take;

		if (pb->len >= CLICKHOUSE_FRAME_HEADER) {
			const uint8_t *h = (const uint8_t *)pb->buf;
			uint32_t csize = fetch32(h + 17);

			if (csize < 9 || csize > CLICKHOUSE_FRAME_MAX)
				goto bad;
			want = 16 + (size_t)csize;
		}
		take = want - pb->len < len ? want - pb->len : len;
		if (strbuf_add(pb, in, take) < 0)
			return err_set(e, "out of memory");
		in += take;
		len -= take;
		if (pb->len == CLICKHOUSE_FRAME_HEADER) {
			const uint8_t *h = (const uint8_t *)pb->buf;
			uint32_t csize = fetch32(h + 17);

			if (csize < 9 || csize > CLICKHOUSE_FRAME_MAX)
				goto bad;
			if (csize == 9)	/* an empty frame is complete */
				want = pb->len;
			else
				continue;
		}
		if (pb->len == want) {
			if (frame_one(fr, (const uint8_t *)pb->buf, pb->len, e) < 0)
				return -1;
			strbuf_reset(pb);
		}
	}
	return 0;
bad:
	/* Not a frame: the server's text, or garbage. */
	if (native_server_error((const uint8_t *)fr->pending.buf, fr->pending.len,
				e, fr->native.rows))
		return -1;
	return err_set(e, "malformed compressed frame after %" PRIu64 " frames",
		       fr->frames);
}

int clickhouse_frames_finish(struct clickhouse_frames *fr, struct err *e)
{
	if (fr->pending.len) {
		if (native_server_error((const uint8_t *)fr->pending.buf,
					fr->pending.len, e, fr->native.rows))
			return -1;
		return err_set(e, "the stream ends inside compressed frame %" PRIu64
			       " (%zu bytes of it)", fr->frames + 1,
			       fr->pending.len);
	}
	return clickhouse_native_finish(&fr->native, e);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}

int clickhouse_frame_plain(const void *data, size_t len, clickhouse_sink_fn sink,
			   void *ud, struct err *e)
{
	const uint8_t *in = data;
	size_t max = 1u << 20;
	uint8_t *f = malloc(CLICKHOUSE_FRAME_HEADER + max);
	int ret = -1;

	if (!f)
		return err_set(e, "out of memory");
	while (len) {
		size_t n = len < max ? len : max;
		uint64_t lo, hi;

		f[16] = 0x02;
		put32(f + 17, (uint32_t)(n + 9));
		put32(f + 21, (uint32_t)n);
		memcpy(f + CLICKHOUSE_FRAME_HEADER, in, n);
		clickhouse_cityhash128(f + 16, n + 9, &lo, &hi);
		put64(f, lo);
		put64(f + 8, hi);
		if (sink(ud, f, CLICKHOUSE_FRAME_HEADER + n, e) < 0)
			goto out;
		in += n;
		len -= n;
	}
	ret = 0;
out:
	free(f);
	return ret;
}

/* ---------------------------------------------------------------- */
/* The client                                                        */

/* s between two q characters, with q and backslash escaped by a backslash. */
static int quote_with(struct strbuf *out, const char *s, char q)
{
	if (strbuf_addch(out, q) < 0)
		return -1;
	for (const char *p = s; *p; p++) {
		if ((*p == q || *p == '\\') && strbuf_addch(out, '\\') < 0)
			return -1;
		if (strbuf_addch(out, *p) < 0)
			return -1;
	}
	return strbuf_addch(out, q);
}

/* Is the keyword kw (upper case) at p, as a whole word? */
static int sql_word(const char *sql, const char *p, const char *kw)
{
	size_t n = strlen(kw);

	return (p == sql || !(isalnum((unsigned char)p[-1]) || p[-1] == '_')) &&
		!strncasecmp(p, kw, n) &&
		!(isalnum((unsigned char)p[n]) || p[n] == '_');
}

int clickhouse_add_engine_setting(const char *sql, const char *setting,
				  struct strbuf *out)
{
	const char *p, *engine = NULL;
	char quote = 0;
	int depth = 0;

	for (p = sql; *p; p++) {
		if (quote) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == quote)
				quote = 0;
			continue;
		}
		if (*p == '\'' || *p == '`' || *p == '"')
			quote = *p;
		else if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
		else if (depth)
			continue;
		else if (!engine && sql_word(sql, p, "ENGINE"))
			engine = p;
		else if (engine && sql_word(sql, p, "SETTINGS")) {
			p += strlen("SETTINGS");
			strbuf_reset(out);
			strbuf_add(out, sql, (size_t)(p - sql));
			strbuf_addf(out, " %s,%s", setting, p);
			return 0;
		} else if (engine && (sql_word(sql, p, "AS") ||
				      sql_word(sql, p, "COMMENT")))
			return -1;
	}
	if (!engine)
		return -1;
	strbuf_reset(out);
	strbuf_addf(out, "%s SETTINGS %s", sql, setting);
	return 0;
}

int clickhouse_quote_ident(struct strbuf *out, const char *name)
{
	return quote_with(out, name, '`');
}

int clickhouse_quote_string(struct strbuf *out, const char *s)
{
	return quote_with(out, s, '\'');
}

int clickhouse_init(struct clickhouse *ch, const char *url, const char *user,
		    const char *database, struct err *e)
{
	const char *pw = getenv("SAASCTL_CLICKHOUSE_PASSWORD");
	size_t n;

	memset(ch, 0, sizeof(*ch));
	ch->checksum = CLICKHOUSE_CHECKSUM_V2;
	if (!url || !*url)
		return err_set(e, "no ClickHouse URL");
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
		return err_set(e, "ClickHouse URL '%s' is not http:// or https://",
			       url);
	if (strchr(url, '?') || strchr(url, '@'))
		return err_set(e, "ClickHouse URL '%s' must hold no query or "
			       "credentials (the password comes from "
			       "SAASCTL_CLICKHOUSE_PASSWORD)", url);
	if (sodium_init() < 0)
		return err_set(e, "libsodium failed to initialise");
	n = strlen(url);
	while (n && url[n - 1] == '/')
		n--;
	ch->url = strndup(url, n);
	ch->user = user && *user ? strdup(user) : NULL;
	ch->database = database && *database ? strdup(database) : NULL;
	if (pw && *pw) {
		ch->password = sodium_malloc(strlen(pw) + 1);
		if (ch->password)
			memcpy(ch->password, pw, strlen(pw) + 1);
	}
	if (!ch->url || (user && *user && !ch->user) ||
	    (database && *database && !ch->database) ||
	    (pw && *pw && !ch->password)) {
		clickhouse_release(ch);
		return err_set(e, "out of memory");
	}
	return 0;
}

void clickhouse_release(struct clickhouse *ch)
{
	free(ch->url);
	free(ch->user);
	free(ch->database);
	if (ch->password)
		sodium_free(ch->password);
	memset(ch, 0, sizeof(*ch));
}

/* URL with the given parameters; the database when set. */
static int ch_url(struct clickhouse *ch, struct strbuf *u, const char *params)
{
	if (strbuf_addf(u, "%s/?", ch->url) < 0)
		return -1;
	if (ch->database) {
		if (strbuf_addstr(u, "database=") < 0 ||
		    http_escape(u, ch->database) < 0 || strbuf_addch(u, '&') < 0)
			return -1;
	}
	if (ch->settings && strbuf_addf(u, "%s&", ch->settings) < 0)
		return -1;
	return strbuf_addstr(u, params ? params : "");
}

/* X-ClickHouse-User/-Key headers; freed by ch_headers_free. */
static int ch_headers(struct clickhouse *ch, char *hdr[3])
{
	hdr[0] = hdr[1] = hdr[2] = NULL;
	int i = 0;

	if (ch->user && asprintf(&hdr[i++], "X-ClickHouse-User: %s", ch->user) < 0)
		return -1;
	if (ch->password) {
		size_t n = strlen(ch->password) + sizeof("X-ClickHouse-Key: ");

		hdr[i] = sodium_malloc(n);
		if (!hdr[i])
			return -1;
		snprintf(hdr[i], n, "X-ClickHouse-Key: %s", ch->password);
		i++;
		/* with a password but no user, ClickHouse wants both */
		if (!ch->user) {
			hdr[i] = hdr[i - 1];
			if (asprintf(&hdr[i - 1], "X-ClickHouse-User: default") < 0) {
				hdr[i - 1] = hdr[i];
				hdr[i] = NULL;
				return -1;
			}
		}
	}
	return 0;
}

static void ch_headers_free(struct clickhouse *ch, char *hdr[3])
{
	for (int i = 0; i < 3; i++) {
		if (!hdr[i])
			continue;
		if (!strncmp(hdr[i], "X-ClickHouse-Key:", 17))
			sodium_free(hdr[i]);
		else
			free(hdr[i]);
	}
	(void)ch;
}

/* The first line of a ClickHouse error body, trimmed. */
static void ch_status_error(struct err *e, long status, const char *body,
			    size_t len)
{
	size_t n = 0;

	while (n < len && body[n] != '\n' && body[n] != '\r' && n < 500)
		n++;
	if (n)
		err_set(e, "%ld %.*s", status, (int)n, body);
	else
		err_set(e, "the server answered %ld", status);
}

/* clickhouse_query() with URL parameters ("wait_end_of_query=1"). */
static int ch_query(struct clickhouse *ch, const char *params, const char *sql,
		    size_t max, struct strbuf *out, struct err *e)
{
	struct strbuf url = STRBUF_INIT;
	struct http_request req = { 0 };
	struct http_response res;
	char *hdr[3];
	int ret = -1;

	http_response_init(&res);
	strbuf_init(&url, 0);
	if (ch_headers(ch, hdr) < 0 || ch_url(ch, &url, params) < 0) {
		err_set(e, "out of memory");
		goto out;
	}
	req.method = "POST";
	req.url = url.buf;
	req.headers = (const char *const *)hdr;
	req.body = sql;
	req.body_len = strlen(sql);
	req.timeout_ms = ch->timeout_ms ? ch->timeout_ms : 60000;
	req.max_response = max ? max : CH_SMALL_MAX;
	if (http_do(&req, &res, e) < 0)
		goto out;
	if (res.status != 200) {
		ch_status_error(e, res.status, res.body.buf, res.body.len);
		goto out;
	}
	strbuf_reset(out);
	if (strbuf_add(out, res.body.buf ? res.body.buf : "", res.body.len) < 0) {
		err_set(e, "out of memory");
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		err_wrap(e, "clickhouse");
	ch_headers_free(ch, hdr);
	http_response_release(&res);
	strbuf_release(&url);
	return ret;
}

int clickhouse_query(struct clickhouse *ch, const char *sql, size_t max,
		     struct strbuf *out, struct err *e)
{
	return ch_query(ch, "", sql, max, out, e);
}

int clickhouse_query_json(struct clickhouse *ch, const char *sql,
			  void **rows_json, struct err *e)
{
	struct strbuf q = STRBUF_INIT, out = STRBUF_INIT;
	json_t *doc = NULL, *data;
	json_error_t je;
	int ret = -1;

	strbuf_init(&q, 0);
	strbuf_init(&out, 0);
	*rows_json = NULL;
	if (strbuf_addf(&q, "%s FORMAT JSON", sql) < 0) {
		err_set(e, "out of memory");
		goto out;
	}
	if (clickhouse_query(ch, q.buf, 0, &out, e) < 0)
		goto out;
	doc = json_loadb(out.buf, out.len, 0, &je);
	data = json_object_get(doc, "data");
	if (!json_is_array(data)) {
		err_set(e, "clickhouse: the answer is not FORMAT JSON: %s",
			doc ? "no data" : je.text);
		goto out;
	}
	*rows_json = json_incref(data);
	ret = 0;
out:
	json_decref(doc);
	strbuf_release(&q);
	strbuf_release(&out);
	return ret;
}

/* A column of a JSON row as text: strings as they are, numbers printed. */
static const char *row_str(json_t *row, const char *key, char *buf,
			   size_t buflen)
{
	json_t *v = json_object_get(row, key);

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, buflen, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	return NULL;
}

static uint64_t row_u64(json_t *row, const char *key)
{
	char buf[32];
	const char *s = row_str(row, key, buf, sizeof(buf));

	return s ? strtoull(s, NULL, 10) : 0;
}

int clickhouse_version(struct clickhouse *ch, char *out, size_t outlen,
		       struct err *e)
{
	struct strbuf res = STRBUF_INIT;
	int ret = -1;

	strbuf_init(&res, 4096);
	if (clickhouse_query(ch, "SELECT version() FORMAT TabSeparated", 0, &res,
			     e) < 0)
		goto out;
	while (res.len && (res.buf[res.len - 1] == '\n' || res.buf[res.len - 1] == '\r'))
		strbuf_setlen(&res, res.len - 1);
	if (!res.len || res.len >= outlen) {
		err_set(e, "clickhouse: no version in the answer");
		goto out;
	}
	memcpy(out, res.buf, res.len + 1);
	ret = 0;
out:
	strbuf_release(&res);
	return ret;
}

int clickhouse_has_setting(struct clickhouse *ch, const char *name, int *has,
			   struct err *e)
{
	struct strbuf q = STRBUF_INIT, res = STRBUF_INIT;
	int ret = -1;

	strbuf_init(&q, 0);
	strbuf_init(&res, 4096);
	strbuf_addstr(&q, "SELECT count() FROM system.settings WHERE name = ");
	clickhouse_quote_string(&q, name);
	strbuf_addstr(&q, " FORMAT TabSeparated");
	if (clickhouse_query(ch, q.buf, 0, &res, e) < 0)
		goto out;
	*has = strtoul(res.buf, NULL, 10) > 0;
	ret = 0;
out:
	strbuf_release(&q);
	strbuf_release(&res);
	return ret;
}

static const char *const schema_only[] = {
	"View", "MaterializedView", "LiveView", "WindowView", "Distributed",
	"Merge", "Buffer", "Dictionary", "Kafka", "RabbitMQ", "NATS",
	"S3Queue", "AzureQueue", "FileLog", "Null", "Set", "Join", "URL", "File",
	"S3", "HDFS", "MySQL", "PostgreSQL", "MongoDB", "ODBC", "JDBC",
	"SQLite", "Redis", "EmbeddedRocksDB", "GenerateRandom", "Iceberg",
	"DeltaLake", "Hudi", "Hive", "AzureBlobStorage", "ExternalDistributed",
	"MaterializedPostgreSQL", "MaterializedMySQL", "KeeperMap", "Executable",
	"ExecutablePool", "TimeSeries", "Loop", "Alias", NULL,
};

int clickhouse_engine_is_mergetree(const char *engine)
{
	size_t n = strlen(engine);

	return n >= 9 && !strcmp(engine + n - 9, "MergeTree");
}

enum clickhouse_kind clickhouse_engine_kind(const char *database,
					    const char *engine)
{
	if (database && (!strcmp(database, "system") ||
			 !strcmp(database, "INFORMATION_SCHEMA") ||
			 !strcmp(database, "information_schema")))
		return CLICKHOUSE_SKIP;
	if (!engine || !*engine || !strncmp(engine, "System", 6))
		return CLICKHOUSE_SKIP;
	if (clickhouse_engine_is_mergetree(engine) || !strcmp(engine, "Log") ||
	    !strcmp(engine, "TinyLog") || !strcmp(engine, "StripeLog") ||
	    !strcmp(engine, "Memory"))
		return CLICKHOUSE_DATA;
	for (int i = 0; schema_only[i]; i++)
		if (!strcmp(engine, schema_only[i]))
			return CLICKHOUSE_SCHEMA;
	/* An engine this list does not know: its schema, never guessed data. */
	return CLICKHOUSE_SCHEMA;
}

const char *clickhouse_kind_name(enum clickhouse_kind k)
{
	switch (k) {
	case CLICKHOUSE_DATA: return "data";
	case CLICKHOUSE_SCHEMA: return "schema";
	default: return "skip";
	}
}

static int tbl_cmp(const void *a, const void *b)
{
	const struct clickhouse_table *x = a, *y = b;
	int c = strcmp(x->database, y->database);

	return c ? c : strcmp(x->name, y->name);
}

int clickhouse_list_tables(struct clickhouse *ch, const char *database,
			   struct clickhouse_tables *out, struct err *e)
{
	struct strbuf q = STRBUF_INIT;
	json_t *rows = NULL;
	void *rv = NULL;
	size_t i;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	strbuf_init(&q, 0);
	strbuf_addstr(&q, "SELECT database, name, engine FROM system.tables WHERE ");
	if (database) {
		strbuf_addstr(&q, "database = ");
		clickhouse_quote_string(&q, database);
	} else {
		strbuf_addstr(&q, "database NOT IN ('system', 'INFORMATION_SCHEMA', "
			      "'information_schema')");
	}
	/* 18.16 has is_temporary too */
	strbuf_addstr(&q, " AND NOT is_temporary");
	if (clickhouse_query_json(ch, q.buf, &rv, e) < 0)
		goto out;
	rows = rv;
	out->v = calloc(json_array_size(rows) + 1, sizeof(*out->v));
	if (!out->v) {
		err_set(e, "out of memory");
		goto out;
	}
	for (i = 0; i < json_array_size(rows); i++) {
		json_t *r = json_array_get(rows, i);
		const char *db = json_string_value(json_object_get(r, "database"));
		const char *name = json_string_value(json_object_get(r, "name"));
		const char *eng = json_string_value(json_object_get(r, "engine"));
		struct clickhouse_table *t = &out->v[out->n];

		if (!db || !name || !eng)
			continue;
		t->database = strdup(db);
		t->name = strdup(name);
		t->engine = strdup(eng);
		t->kind = clickhouse_engine_kind(db, eng);
		out->n++;
		if (!t->database || !t->name || !t->engine) {
			err_set(e, "out of memory");
			goto out;
		}
	}
	qsort(out->v, out->n, sizeof(*out->v), tbl_cmp);
	ret = 0;
out:
	if (ret < 0) {
		clickhouse_tables_release(out);
		err_wrap(e, "cannot list the tables");
	}
	json_decref(rows);
	strbuf_release(&q);
	return ret;
}

void clickhouse_tables_release(struct clickhouse_tables *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].database);
		free(t->v[i].name);
		free(t->v[i].engine);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int clickhouse_list_databases(struct clickhouse *ch, char ***out,
			      struct err *e)
{
	json_t *rows = NULL;
	void *rv = NULL;
	char **v = NULL;
	size_t n = 0;
	int ret = -1;

	*out = NULL;
	if (clickhouse_query_json(ch, "SELECT name FROM system.databases WHERE "
				  "name NOT IN ('system', 'INFORMATION_SCHEMA', "
				  "'information_schema')", &rv, e) < 0)
		goto out;
	rows = rv;
	v = calloc(json_array_size(rows) + 1, sizeof(*v));
	if (!v) {
		err_set(e, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(rows); i++) {
		const char *s = json_string_value(
			json_object_get(json_array_get(rows, i), "name"));

		if (s && !(v[n++] = strdup(s))) {
			err_set(e, "out of memory");
			goto out;
		}
	}
	qsort(v, n, sizeof(*v), str_cmp);
	*out = v;
	v = NULL;
	ret = 0;
out:
	if (ret < 0)
		err_wrap(e, "cannot list the databases");
	clickhouse_strv_free(v);
	json_decref(rows);
	return ret;
}

void clickhouse_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static int db_table(struct strbuf *q, const char *database, const char *table)
{
	if (clickhouse_quote_ident(q, database) < 0 || strbuf_addch(q, '.') < 0)
		return -1;
	return clickhouse_quote_ident(q, table);
}

int clickhouse_show_create(struct clickhouse *ch, const char *database,
			   const char *table, struct strbuf *out, struct err *e)
{
	struct strbuf q = STRBUF_INIT;
	json_t *rows = NULL;
	void *rv = NULL;
	const char *stmt;
	int ret = -1;

	strbuf_init(&q, 0);
	strbuf_addstr(&q, "SHOW CREATE TABLE ");
	db_table(&q, database, table);
	if (clickhouse_query_json(ch, q.buf, &rv, e) < 0)
		goto out;
	rows = rv;
	/* the one column is "statement" (18.16 and 26.x) */
	stmt = json_string_value(json_object_iter_value(
		json_object_iter(json_array_get(rows, 0))));
	if (!stmt) {
		err_set(e, "no statement in the answer");
		goto out;
	}
	strbuf_reset(out);
	if (strbuf_addstr(out, stmt) < 0) {
		err_set(e, "out of memory");
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		err_wrap(e, "cannot read the schema of '%s.%s'", database, table);
	json_decref(rows);
	strbuf_release(&q);
	return ret;
}

/* The columns a backup exports, in table order: [{name, type}, ...]. */
static int data_columns(struct clickhouse *ch, const char *database,
			const char *table, json_t **rows, struct err *e)
{
	struct strbuf q = STRBUF_INIT;
	void *rv = NULL;
	int ret = -1;

	strbuf_init(&q, 0);
	strbuf_addstr(&q, "SELECT name, type FROM system.columns WHERE database = ");
	clickhouse_quote_string(&q, database);
	strbuf_addstr(&q, " AND table = ");
	clickhouse_quote_string(&q, table);
	strbuf_addstr(&q, " AND default_kind != 'ALIAS'");
	/* in table order: 18.16 has no position column to sort by */
	if (clickhouse_query_json(ch, q.buf, &rv, e) < 0)
		goto out;
	*rows = rv;
	if (!json_array_size(*rows)) {
		err_set(e, "no columns");
		json_decref(*rows);
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		err_wrap(e, "cannot list the columns of '%s.%s'", database, table);
	strbuf_release(&q);
	return ret;
}

/*
 * The data columns, backquoted and joined with ", "; with opaque, whether
 * the Native walker can read all of their types (0) or not (1).
 */
static int column_list(struct clickhouse *ch, const char *database,
		       const char *table, struct strbuf *out, int *opaque,
		       struct err *e)
{
	json_t *rows, *row;
	size_t i;
	int ret = -1;

	if (data_columns(ch, database, table, &rows, e) < 0)
		return -1;
	strbuf_reset(out);
	if (opaque)
		*opaque = 0;
	json_array_foreach(rows, i, row) {
		const char *s = json_string_value(json_object_get(row, "name"));
		const char *type = json_string_value(json_object_get(row, "type"));

		if (!s)
			continue;
		if ((out->len && strbuf_addstr(out, ", ") < 0) ||
		    clickhouse_quote_ident(out, s) < 0) {
			err_set(e, "out of memory");
			goto out;
		}
		if (opaque && !*opaque && !clickhouse_type_readable(type)) {
			log_debug("clickhouse: '%s.%s' column '%s' is of type %s, "
				  "which saasctl does not read: its rows are "
				  "not counted in the export", database, table,
				  s, type ? type : "(none)");
			*opaque = 1;
		}
	}
	ret = 0;
out:
	json_decref(rows);
	return ret;
}

int clickhouse_data_columns(struct clickhouse *ch, const char *database,
			    const char *table, struct strbuf *out,
			    struct err *e)
{
	return column_list(ch, database, table, out, NULL, e);
}

/*
 * The active parts of a partition sorted by block number, with runs of
 * neighbours that have the same data version coalesced into one range:
 * exactly what merges can produce, since a merge takes neighbouring parts
 * of one data version and covers [first min, last max]. So merges leave
 * the runs alone; an insert adds a run (a new, higher block number), a
 * mutation changes a part's data version and so splits or renames runs,
 * a dropped part removes its range. Row counts stay out: merges of
 * Replacing/Collapsing/Summing tables change them. One merge does change
 * it: a mutated part with a newer, unmutated neighbour. That costs a
 * needless second export, never a missed change.
 */
struct range {
	int64_t min, max, version;
};

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->min < y->min ? -1 : x->min > y->min;
}

static void fingerprint_of(struct range *r, size_t n, char out[65])
{
	crypto_generichash_state st;
	uint8_t h[32];
	size_t i = 0;

	qsort(r, n, sizeof(*r), range_cmp);
	/* data_version is min_block_number until a mutation rewrites the
	 * part; a merge of unmutated parts keeps its first part's, so only
	 * a mutation's number says something about the data */
	for (i = 0; i < n; i++)
		if (r[i].version == r[i].min)
			r[i].version = 0;
	i = 0;
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	while (i < n) {
		struct range cur = r[i++];
		char line[96];

		while (i < n && r[i].version == cur.version)
			cur.max = r[i++].max;
		snprintf(line, sizeof(line), "%" PRId64 "-%" PRId64 "@%" PRId64 "\n",
			 cur.min, cur.max, cur.version);
		crypto_generichash_update(&st, (const uint8_t *)line, strlen(line));
	}
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(out, 65, h, sizeof(h));
}

static int part_int(json_t *row, const char *key, int64_t *v)
{
	char buf[32];
	const char *s = row_str(row, key, buf, sizeof(buf));

	if (!s)
		return -1;
	*v = strtoll(s, NULL, 10);
	return 0;
}

static int parts_query(struct clickhouse *ch, const char *database,
		       const char *table, const char *partition_id,
		       json_t **rows, struct err *e)
{
	struct strbuf q = STRBUF_INIT;
	void *rv = NULL;
	int ret;

	strbuf_init(&q, 0);
	strbuf_addstr(&q, "SELECT partition_id, partition, min_block_number, "
		      "max_block_number, data_version, rows, bytes_on_disk "
		      "FROM system.parts WHERE active AND database = ");
	clickhouse_quote_string(&q, database);
	strbuf_addstr(&q, " AND table = ");
	clickhouse_quote_string(&q, table);
	if (partition_id) {
		strbuf_addstr(&q, " AND partition_id = ");
		clickhouse_quote_string(&q, partition_id);
	}
	strbuf_addstr(&q, " ORDER BY partition_id, min_block_number");
	ret = clickhouse_query_json(ch, q.buf, &rv, e);
	*rows = rv;
	strbuf_release(&q);
	return ret;
}

void clickhouse_partitions_release(struct clickhouse_partitions *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].id);
		free(p->v[i].value);
		free(p->v[i].literal);
	}
	free(p->v);
	free(p->key);
	memset(p, 0, sizeof(*p));
}

/*
 * The partition key expression of a MergeTree table ("" for none,
 * "tuple()") and the type of its value, from system.tables and the
 * server itself; *key stays NULL where the server does not say, and then
 * every slice goes by its id alone.
 */
static int partition_key(struct clickhouse *ch, const char *database,
			 const char *table, char **key, char **type,
			 struct err *e)
{
	struct strbuf q = STRBUF_INIT;
	struct err qe = { "" };
	void *rv = NULL;
	const char *k, *t;
	int ret = -1;

	*key = *type = NULL;
	strbuf_init(&q, 0);
	strbuf_addstr(&q, "SELECT partition_key FROM system.tables WHERE database = ");
	clickhouse_quote_string(&q, database);
	strbuf_addstr(&q, " AND name = ");
	clickhouse_quote_string(&q, table);
	if (clickhouse_query_json(ch, q.buf, &rv, &qe) < 0)
		goto none;
	k = json_string_value(json_object_get(json_array_get(rv, 0), "partition_key"));
	if (!k)
		goto none;
	if (!k[0] || !strcmp(k, "tuple()")) {
		*key = strdup("");
		ret = *key ? 0 : -1;
		goto out;
	}
	if (!(*key = strdup(k)))
		goto out;
	json_decref(rv);
	rv = NULL;
	strbuf_reset(&q);
	strbuf_addf(&q, "SELECT toTypeName(%s) AS t FROM ", *key);
	db_table(&q, database, table);
	strbuf_addstr(&q, " LIMIT 1");
	if (clickhouse_query_json(ch, q.buf, &rv, &qe) < 0)
		goto none;
	t = json_string_value(json_object_get(json_array_get(rv, 0), "t"));
	if (t && !(*type = strdup(t)))
		goto out;
	ret = 0;
	goto out;
none:
	log_debug("clickhouse: no partition key of '%s.%s': %s", database,
		  table, qe.msg);
	ret = 0;
out:
	if (ret == 0 && *key && **key && !*type) {
		free(*key);
		*key = NULL;
	}
	if (ret < 0)
		err_set(e, "out of memory");
	json_decref(rv);
	strbuf_release(&q);
	return ret;
}

/*
 * The partition's value as an SQL expression of the key's type: system.parts
 * writes a tuple as a literal ("('x',1)"), one value as plain text
 * ("2024-01-02", "it's"), which CAST reads back.
 */
static char *partition_literal(const char *type, const char *value)
{
	struct strbuf q = STRBUF_INIT;

	strbuf_init(&q, 0);
	if (!strncmp(type, "Tuple(", 6)) {
		strbuf_addstr(&q, value);
	} else {
		strbuf_addstr(&q, "CAST(");
		clickhouse_quote_string(&q, value);
		strbuf_addf(&q, " AS %s)", type);
	}
	return strbuf_detach(&q, NULL);
}

/*
 * Does "(key) = value" of a key of this type name one partition? Its
 * values must compare equal only to themselves (not floats: -0 = 0 in
 * two partitions) and read back from system.parts' text exactly (not
 * DateTime: an hour that the clocks repeat).
 */
static int key_type_one_to_one(const char *type, int depth);

static int key_element_one_to_one(void *ud, const char *s, size_t n)
{
	struct tname t;

	if (tn_set(&t, s, n) < 0)
		return -1;
	tn_unname(&t);
	return key_type_one_to_one(t.s, *(int *)ud + 1) ? 0 : -1;
}

static int key_type_one_to_one(const char *type, int depth)
{
	static const char *const ok[] = {
		"UInt8", "UInt16", "UInt32", "UInt64", "UInt128", "UInt256",
		"Int8", "Int16", "Int32", "Int64", "Int128", "Int256",
		"Date", "Date32", "String",
	};
	const char *args;
	size_t alen;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcmp(type, ok[i]))
			return 1;
	if (!strncmp(type, "Enum8(", 6) || !strncmp(type, "Enum16(", 7))
		return 1;
	if (depth < 8 && tn_args(type, "Tuple", &args, &alen) && alen)
		return tn_split(args, alen, key_element_one_to_one, &depth) == 0;
	return 0;
}

struct clickhouse_slice clickhouse_slice_of(const struct clickhouse_partitions *ps,
					    const struct clickhouse_partition *p)
{
	struct clickhouse_slice s = { p->id, ps->key, p->literal, 0 };

	/* without a partition key there is one partition: the table */
	if (ps->key && !ps->key[0])
		s.id = NULL;
	return s;
}

int clickhouse_slice_by_key(struct clickhouse_slice *s,
			    const struct clickhouse_partitions *ps)
{
	s->by_key = s->id && s->key && s->key[0] && s->value && ps->one_to_one;
	return s->by_key;
}

int clickhouse_slice_exact(const struct clickhouse_slice *s, uint64_t rows,
			   uint64_t parts_rows)
{
	return !s || !s->id || !s->key || !s->value || rows == parts_rows;
}

/* Fingerprint of a table without parts: its count and checksum. */
static int plain_fingerprint(struct clickhouse *ch, const char *database,
			     const char *table, struct clickhouse_partition *p,
			     struct err *e)
{
	uint64_t rows, sum;
	uint8_t h[32];
	char line[64];

	if (clickhouse_partition_stats(ch, database, table, NULL, &rows, &sum, e) < 0)
		return -1;
	snprintf(line, sizeof(line), "%" PRIu64 ":%" PRIu64, rows, sum);
	crypto_generichash(h, sizeof(h), (const uint8_t *)line, strlen(line), NULL, 0);
	sodium_bin2hex(p->fingerprint, sizeof(p->fingerprint), h, sizeof(h));
	p->rows = rows;
	return 0;
}

int clickhouse_list_partitions(struct clickhouse *ch, const char *database,
			       const char *table, const char *engine,
			       struct clickhouse_partitions *out,
			       struct err *e)
{
	json_t *rows = NULL;
	struct range *r = NULL;
	size_t n, i, start;
	char *type = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (!clickhouse_engine_is_mergetree(engine)) {
		out->v = calloc(1, sizeof(*out->v));
		if (!out->v || !(out->v[0].id = strdup("all")) ||
		    !(out->v[0].value = strdup("tuple()"))) {
			err_set(e, "out of memory");
			goto out;
		}
		out->n = 1;
		if (plain_fingerprint(ch, database, table, &out->v[0], e) < 0)
			goto out;
		ret = 0;
		goto out;
	}
	if (parts_query(ch, database, table, NULL, &rows, e) < 0)
		goto out;
	if (json_array_size(rows) &&
	    partition_key(ch, database, table, &out->key, &type, e) < 0)
		goto out;
	out->one_to_one = type && key_type_one_to_one(type, 0);
	n = json_array_size(rows);
	out->v = calloc(n + 1, sizeof(*out->v));
	r = calloc(n + 1, sizeof(*r));
	if (!out->v || !r) {
		err_set(e, "out of memory");
		goto out;
	}
	for (start = 0; start < n; start = i) {
		json_t *first = json_array_get(rows, start);
		const char *id = json_string_value(json_object_get(first, "partition_id"));
		json_t *jval = json_object_get(first, "partition");
		const char *val = json_string_value(jval);
		struct clickhouse_partition *p = &out->v[out->n];
		size_t k = 0;

		if (!id || !val) {
			err_set(e, "system.parts has no partition_id");
			goto out;
		}
		for (i = start; i < n; i++) {
			json_t *row = json_array_get(rows, i);

			if (strcmp(json_string_value(json_object_get(row, "partition_id")), id))
				break;
			if (part_int(row, "min_block_number", &r[k].min) < 0 ||
			    part_int(row, "max_block_number", &r[k].max) < 0 ||
			    part_int(row, "data_version", &r[k].version) < 0) {
				err_set(e, "system.parts lacks block numbers");
				goto out;
			}
			k++;
			p->rows += row_u64(row, "rows");
			p->bytes += row_u64(row, "bytes_on_disk");
		}
		p->id = strdup(id);
		p->value = strdup(val);
		/* a value with a NUL in it has no literal here */
		if (type && strlen(val) == json_string_length(jval))
			p->literal = partition_literal(type, val);
		out->n++;
		if (!p->id || !p->value) {
			err_set(e, "out of memory");
			goto out;
		}
		fingerprint_of(r, k, p->fingerprint);
	}
	ret = 0;
out:
	if (ret < 0) {
		clickhouse_partitions_release(out);
		err_wrap(e, "cannot list the partitions of '%s.%s'", database, table);
	}
	free(r);
	free(type);
	json_decref(rows);
	return ret;
}

int clickhouse_partition_fingerprint(struct clickhouse *ch,
				     const char *database, const char *table,
				     const char *partition_id, char out[65],
				     uint64_t *nrows, struct err *e)
{
	json_t *rows = NULL;
	struct range *r = NULL;
	size_t n;
	int ret = -1;

	if (nrows)
		*nrows = 0;
	if (parts_query(ch, database, table, partition_id, &rows, e) < 0)
		goto out;
	n = json_array_size(rows);
	r = calloc(n + 1, sizeof(*r));
	if (!r) {
		err_set(e, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *row = json_array_get(rows, i);

		if (part_int(row, "min_block_number", &r[i].min) < 0 ||
		    part_int(row, "max_block_number", &r[i].max) < 0 ||
		    part_int(row, "data_version", &r[i].version) < 0) {
			err_set(e, "system.parts lacks block numbers");
			goto out;
		}
		if (nrows)
			*nrows += row_u64(row, "rows");
	}
	fingerprint_of(r, n, out);
	ret = 0;
out:
	if (ret < 0)
		err_wrap(e, "cannot take the fingerprint of '%s.%s' partition '%s'",
			 database, table, partition_id);
	free(r);
	json_decref(rows);
	return ret;
}

/* WHERE for one partition: _partition_id exists from 18.16 on. */
static int where_partition(struct strbuf *q, const struct clickhouse_slice *s)
{
	if (!s || !s->id)
		return 0;
	if (strbuf_addstr(q, " WHERE ") < 0)
		return -1;
	if (s->key && s->key[0] && s->value) {
		if (strbuf_addf(q, "(%s) = %s", s->key, s->value) < 0)
			return -1;
		if (s->by_key)
			return 0;
		if (strbuf_addstr(q, " AND ") < 0)
			return -1;
	}
	if (strbuf_addstr(q, "_partition_id = ") < 0)
		return -1;
	return clickhouse_quote_string(q, s->id);
}

static const char *slice_name(const struct clickhouse_slice *s)
{
	return s && s->id ? s->id : NULL;
}

/*
 * The content checksum, version 2: cityHash64 over every column, each
 * made hashable first so that 18.16 and current servers give the same
 * number for the same rows. 18.16's cityHash64 refuses UUID, Decimal,
 * AggregateFunction and Nullable inside arrays, tuples and
 * LowCardinality; a NULL anywhere made version 1's row hash NULL, and
 * sum() skipped the row. So:
 *   UUID                 toString(x)  (one spelling on every version)
 *   Decimal              reinterpretAsString(x)  (its bytes; toString
 *                        drops trailing zeros from 21.x on)
 *   Nullable(T)          if(isNull(x), 0, cityHash64(N(T, assumeNotNull(x))))
 *   Array(T)             arrayMap(e -> cityHash64(N(T, e)), x)
 *   Tuple(T1, ...)       tuple(N(T1, tupleElement(x, 1)), ...)
 *   LowCardinality(T), SimpleAggregateFunction(f, T)   N(T, x)
 *   AggregateFunction    N(final type, finalizeAggregation(x))
 *   anything else        x
 * and a type that needs none of it is hashed as it is, as in version 1.
 * Every form was compared on 18.16 and 26.7 (tests/e2e/t0922).
 */
struct ck_ctx {
	struct strbuf *out;
	const char *x;		/* the value's SQL */
	int depth;		/* of lambdas, for their variable names */
	int changed;		/* out is not just x */
	int i;			/* the tuple element being written, 1-based */
	struct err *e;
};

static int ck_norm(struct ck_ctx *k, const char *type);

static int ck_element(void *ud, const char *s, size_t n)
{
	struct ck_ctx *k = ud, sub = *k;
	struct strbuf x = STRBUF_INIT;
	struct tname t;
	int ret;

	if (tn_set(&t, s, n) < 0)
		return err_set(k->e, "type name too long: Tuple(%.*s)", (int)n, s);
	tn_unname(&t);
	strbuf_init(&x, 0);
	strbuf_addf(&x, "tupleElement(%s, %d)", k->x, k->i);
	if (k->i > 1)
		strbuf_addstr(k->out, ", ");
	sub.x = x.buf;
	sub.changed = 0;
	ret = ck_norm(&sub, t.s);
	k->changed |= sub.changed;
	k->i++;
	strbuf_release(&x);
	return ret;
}

static int ck_norm(struct ck_ctx *k, const char *type)
{
	const char *args;
	size_t alen, start = k->out->len;
	struct tname inner;
	struct strbuf x = STRBUF_INIT;
	int ret = 0;

	if (k->depth > 32)
		return err_set(k->e, "type nested too deeply: %s", type);
	strbuf_init(&x, 0);
	if (tn_args(type, "LowCardinality", &args, &alen)) {
		if (tn_set(&inner, args, alen) < 0)
			goto long_name;
		ret = ck_norm(k, inner.s);
	} else if (tn_args(type, "SimpleAggregateFunction", &args, &alen)) {
		if (tn_saf_type(args, alen, &inner) < 0)
			goto long_name;
		ret = ck_norm(k, inner.s);
	} else if (tn_args(type, "Nullable", &args, &alen)) {
		struct ck_ctx sub = *k;

		if (tn_set(&inner, args, alen) < 0)
			goto long_name;
		strbuf_addf(&x, "assumeNotNull(%s)", k->x);
		strbuf_addf(k->out, "if(isNull(%s), 0, cityHash64(", k->x);
		sub.x = x.buf;
		ret = ck_norm(&sub, inner.s);
		strbuf_addstr(k->out, "))");
		k->changed = 1;
	} else if (tn_args(type, "Array", &args, &alen)) {
		struct ck_ctx sub = *k;

		if (tn_set(&inner, args, alen) < 0)
			goto long_name;
		strbuf_addf(&x, "_saasctl_e%d", k->depth + 1);
		strbuf_addf(k->out, "arrayMap(%s -> cityHash64(", x.buf);
		sub.x = x.buf;
		sub.depth = k->depth + 1;
		sub.changed = 0;
		if ((ret = ck_norm(&sub, inner.s)) == 0 && !sub.changed) {
			strbuf_setlen(k->out, start);
			strbuf_addstr(k->out, k->x);
		} else {
			strbuf_addf(k->out, "), %s)", k->x);
			k->changed = 1;
		}
	} else if (tn_args(type, "Tuple", &args, &alen)) {
		struct ck_ctx sub = *k;

		strbuf_addstr(k->out, "tuple(");
		sub.i = 1;
		sub.changed = 0;
		if ((ret = tn_split(args, alen, ck_element, &sub)) == 0 &&
		    !sub.changed) {
			strbuf_setlen(k->out, start);
			strbuf_addstr(k->out, k->x);
		} else {
			strbuf_addch(k->out, ')');
			k->changed = 1;
		}
	} else if (!strcmp(type, "UUID")) {
		strbuf_addf(k->out, "toString(%s)", k->x);
		k->changed = 1;
	} else if (!strncmp(type, "Decimal", 7)) {
		strbuf_addf(k->out, "reinterpretAsString(%s)", k->x);
		k->changed = 1;
	} else if (!strncmp(type, "AggregateFunction(", 18)) {
		/* the caller rewrote it: a final type, or none known */
		ret = err_set(k->e, "cannot checksum a column of type %s", type);
	} else {
		strbuf_addstr(k->out, k->x);
	}
	strbuf_release(&x);
	return ret;
long_name:
	strbuf_release(&x);
	return err_set(k->e, "type name too long: %s", type);
}

/* The types of the final values of a table's AggregateFunction columns,
 * "name" -> "type", from the header of a query that reads no row. */
static int final_types(struct clickhouse *ch, const char *database,
		       const char *table, json_t *cols, json_t **out,
		       struct err *e)
{
	struct strbuf q = STRBUF_INIT, ans = STRBUF_INIT;
	json_t *doc = NULL, *col, *meta;
	json_error_t je;
	size_t i, n = 0;
	int ret = -1;

	*out = json_object();
	strbuf_init(&q, 0);
	strbuf_init(&ans, 4096);
	strbuf_addstr(&q, "SELECT ");
	json_array_foreach(cols, i, col) {
		const char *name = json_string_value(json_object_get(col, "name"));
		const char *type = json_string_value(json_object_get(col, "type"));

		if (!name || !type || strncmp(type, "AggregateFunction(", 18))
			continue;
		if (n++)
			strbuf_addstr(&q, ", ");
		strbuf_addstr(&q, "finalizeAggregation(");
		clickhouse_quote_ident(&q, name);
		strbuf_addstr(&q, ")");
	}
	if (!n) {
		ret = 0;
		goto out;
	}
	strbuf_addstr(&q, " FROM ");
	db_table(&q, database, table);
	strbuf_addstr(&q, " LIMIT 0 FORMAT JSON");
	if (clickhouse_query(ch, q.buf, 0, &ans, e) < 0)
		goto out;
	doc = json_loadb(ans.buf, ans.len, 0, &je);
	meta = json_object_get(doc, "meta");
	if (json_array_size(meta) != n) {
		err_set(e, "unexpected answer '%.40s'", ans.buf);
		goto out;
	}
	n = 0;
	json_array_foreach(cols, i, col) {
		const char *type = json_string_value(json_object_get(col, "type"));

		if (type && !strncmp(type, "AggregateFunction(", 18))
			json_object_set(*out, json_string_value(json_object_get(col, "name")),
					json_object_get(json_array_get(meta, n++), "type"));
	}
	ret = 0;
out:
	if (ret < 0)
		err_wrap(e, "cannot read the final types of '%s.%s'", database, table);
	json_decref(doc);
	strbuf_release(&q);
	strbuf_release(&ans);
	return ret;
}

int clickhouse_checksum_expr(struct clickhouse *ch, const char *database,
			     const char *table, struct strbuf *out,
			     struct err *e)
{
	json_t *cols = NULL, *finals = NULL, *col;
	struct strbuf x = STRBUF_INIT;
	size_t i;
	int ret = -1;

	strbuf_init(&x, 0);
	if (ch->checksum == CLICKHOUSE_CHECKSUM_V1) {
		/* saasctl-backup/1 to /3: the columns as they are */
		if (clickhouse_data_columns(ch, database, table, &x, e) < 0)
			goto out;
		strbuf_reset(out);
		strbuf_addf(out, "cityHash64(%s)", x.buf);
		ret = 0;
		goto out;
	}
	if (data_columns(ch, database, table, &cols, e) < 0 ||
	    final_types(ch, database, table, cols, &finals, e) < 0)
		goto out;
	strbuf_reset(out);
	strbuf_addstr(out, "cityHash64(");
	json_array_foreach(cols, i, col) {
		const char *name = json_string_value(json_object_get(col, "name"));
		const char *type = json_string_value(json_object_get(col, "type"));
		const char *final = json_string_value(json_object_get(finals, name ?: ""));
		struct ck_ctx k = { out, NULL, 0, 0, 0, e };

		if (!name || !type)
			continue;
		strbuf_reset(&x);
		if (final)
			strbuf_addstr(&x, "finalizeAggregation(");
		clickhouse_quote_ident(&x, name);
		if (final)
			strbuf_addch(&x, ')');
		k.x = x.buf;
		if (out->len > strlen("cityHash64("))
			strbuf_addstr(out, ", ");
		if (ck_norm(&k, final ? final : type) < 0) {
			err_wrap(e, "column %s", name);
			goto out;
		}
	}
	if (strbuf_addch(out, ')') < 0) {
		err_set(e, "out of memory");
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		err_wrap(e, "cannot checksum '%s.%s'", database, table);
	json_decref(cols);
	json_decref(finals);
	strbuf_release(&x);
	return ret;
}

int clickhouse_checksum_local(struct clickhouse *ch, const char *database,
			      const char *table, int *local, struct err *e)
{
	json_t *cols, *col;
	size_t i;

	*local = 0;
	if (ch->checksum != CLICKHOUSE_CHECKSUM_V2)
		return 0;
	if (data_columns(ch, database, table, &cols, e) < 0)
		return -1;
	*local = 1;
	json_array_foreach(cols, i, col) {
		const char *name = json_string_value(json_object_get(col, "name"));
		const char *type = json_string_value(json_object_get(col, "type"));
		struct tname t;

		if (!type || tn_set(&t, type, strlen(type)) < 0 ||
		    !rowhash_type(t.s, 0)) {
			log_debug("clickhouse: '%s.%s' column '%s' (%s): the "
				  "server counts its checksum", database, table,
				  name ? name : "", type ? type : "no type");
			*local = 0;
			break;
		}
	}
	json_decref(cols);
	return 0;
}

int clickhouse_partition_stats(struct clickhouse *ch, const char *database,
			       const char *table,
			       const struct clickhouse_slice *slice,
			       uint64_t *rows, uint64_t *checksum,
			       struct err *e)
{
	const char *partition_id = slice_name(slice);
	struct strbuf q = STRBUF_INIT, cols = STRBUF_INIT, out = STRBUF_INIT;
	char *tab;
	int ret = -1;

	strbuf_init(&q, 0);
	strbuf_init(&cols, 0);
	strbuf_init(&out, 4096);
	if (clickhouse_checksum_expr(ch, database, table, &cols, e) < 0)
		goto out;
	strbuf_addf(&q, "SELECT count(), sum(%s) FROM ", cols.buf);
	db_table(&q, database, table);
	where_partition(&q, slice);
	strbuf_addstr(&q, " FORMAT TabSeparated");
	if (clickhouse_query(ch, q.buf, 0, &out, e) < 0)
		goto out;
	tab = strchr(out.buf, '\t');
	if (!tab) {
		err_set(e, "unexpected answer '%.40s'", out.buf);
		goto out;
	}
	*rows = strtoull(out.buf, NULL, 10);
	*checksum = strtoull(tab + 1, NULL, 10);
	ret = 0;
out:
	if (ret < 0)
		err_wrap(e, "cannot count '%s.%s'%s%s", database, table,
			 partition_id ? " partition " : "",
			 partition_id ? partition_id : "");
	strbuf_release(&q);
	strbuf_release(&cols);
	strbuf_release(&out);
	return ret;
}

/* ---------------------------------------------------------------- */
/* The export                                                        */

static int frames_sink(void *ud, const void *frame, size_t len, struct err *e)
{
	return clickhouse_frames_feed(ud, frame, len, e);
}

struct stream_ctx {
	struct clickhouse_frames *fr;
	struct strbuf errbody;	/* the body of a non-200 answer */
	long status;
	int failed;
	struct err *e;
	struct err ferr;
};

static size_t stream_write(char *data, size_t size, size_t n, void *ud)
{
	struct stream_ctx *sc = ud;
	size_t len = size * n;

	if (sc->status != 200) {
		strbuf_add(&sc->errbody, data, len); /* capped; losing the tail is fine */
		return len;
	}
	if (clickhouse_frames_feed(sc->fr, data, len, &sc->ferr) < 0) {
		sc->failed = 1;
		return 0;	/* aborts the transfer */
	}
	return len;
}

static size_t stream_header(char *data, size_t size, size_t n, void *ud)
{
	struct stream_ctx *sc = ud;
	size_t len = size * n;

	if (len > 9 && !strncmp(data, "HTTP/", 5)) {
		const char *sp = memchr(data, ' ', len);

		sc->status = sp ? strtol(sp + 1, NULL, 10) : 0;
	}
	return len;
}

/*
 * The text of an error answer that came in compressed frames (18.16 frames
 * it under compress=1 when the query failed before anything was sent, as
 * with wait_end_of_query=1); -1 when body is not whole, verified frames.
 */
static int unframe(const char *body, size_t len, struct strbuf *out)
{
	const uint8_t *p = (const uint8_t *)body, *end = p + len;

	while (p < end) {
		uint32_t csize, plain;
		uint64_t lo, hi;

		if ((size_t)(end - p) < CLICKHOUSE_FRAME_HEADER)
			return -1;
		csize = fetch32(p + 17);
		plain = fetch32(p + 21);
		if (csize < 9 || csize > (size_t)(end - p) - 16 ||
		    plain > CLICKHOUSE_FRAME_MAX)
			return -1;
		clickhouse_cityhash128(p + 16, csize, &lo, &hi);
		if (lo != fetch64(p) || hi != fetch64(p + 8) ||
		    strbuf_grow(out, plain) < 0)
			return -1;
		if (p[16] == 0x02 && csize - 9 == plain)
			memcpy(out->buf + out->len, p + CLICKHOUSE_FRAME_HEADER, plain);
		else if (p[16] != 0x82 ||
			 clickhouse_lz4_decompress(p + CLICKHOUSE_FRAME_HEADER,
						   csize - 9, (uint8_t *)out->buf +
						   out->len, plain) < 0)
			return -1;
		out->len += plain;	/* written in the room strbuf_grow() made */
		out->buf[out->len] = '\0';
		p += 16 + csize;
	}
	return 0;
}

/*
 * The streamed transfer: POST sql to url, feeding the answer into fr.
 * This is the one function to move onto src/http's streamed responses.
 */
static int clickhouse_stream(struct clickhouse *ch, const char *url,
			     const char *sql, struct clickhouse_frames *fr,
			     struct err *e)
{
	struct http_request req = { 0 };
	struct curl_slist *hl = NULL;
	struct stream_ctx sc;
	CURL *curl = NULL;
	CURLcode rc;
	char *hdr[3];
	int ret = -1;

	memset(&sc, 0, sizeof(sc));
	sc.fr = fr;
	sc.e = e;
	strbuf_init(&sc.errbody, 64 << 10);
	if (ch_headers(ch, hdr) < 0) {
		err_set(e, "out of memory");
		goto out;
	}
	if (http_global_init(e) < 0)
		goto out;
	curl = curl_easy_init();
	if (!curl) {
		err_set(e, "cannot start a transfer");
		goto out;
	}
	req.method = "POST";
	req.url = url;
	req.headers = (const char *const *)hdr;
	req.body = sql;
	req.body_len = strlen(sql);
	req.timeout_ms = -1;	/* a partition takes as long as it takes */
	if (http_easy_setup(curl, &req, &hl, e) < 0)
		goto out;
	/* ... but a stalled one fails: under 1 KiB/s for 5 minutes */
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 300L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, stream_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sc);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, stream_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &sc);
	/* fewer, larger reads of a stream of hundreds of megabytes */
	curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 512L * 1024);
	rc = curl_easy_perform(curl);
	if (sc.failed) {
		*e = sc.ferr;
		goto out;
	}
	if (sc.status && sc.status != 200) {
		struct strbuf text = STRBUF_INIT;

		strbuf_init(&text, 64 << 10);
		if (sc.errbody.len &&
		    unframe(sc.errbody.buf, sc.errbody.len, &text) == 0 && text.len)
			ch_status_error(e, sc.status, text.buf, text.len);
		else
			ch_status_error(e, sc.status, sc.errbody.buf ? sc.errbody.buf : "",
					sc.errbody.len);
		strbuf_release(&text);
		goto out;
	}
	if (rc != CURLE_OK) {
		/* a cut connection: a 200 whose body stopped */
		if (fr->opaque)
			err_set(e, "transfer failed after %" PRIu64 " bytes: %s",
				fr->bytes, curl_easy_strerror(rc));
		else
			err_set(e, "transfer failed after %" PRIu64 " rows: %s",
				fr->native.rows, curl_easy_strerror(rc));
		goto out;
	}
	ret = 0;
out:
	if (curl)
		curl_easy_cleanup(curl);
	if (hl)
		curl_slist_free_all(hl);
	ch_headers_free(ch, hdr);
	strbuf_release(&sc.errbody);
	return ret;
}

int clickhouse_export_partition(struct clickhouse *ch, const char *database,
				const char *table,
				const struct clickhouse_slice *slice,
				clickhouse_sink_fn sink, void *ud,
				struct clickhouse_export *st, struct err *e)
{
	const char *partition_id = slice_name(slice);
	struct strbuf q = STRBUF_INIT, cols = STRBUF_INIT, url = STRBUF_INIT,
		      plain = STRBUF_INIT;
	struct clickhouse_frames fr;
	int opaque, ret = -1;

	memset(st, 0, sizeof(*st));
	clickhouse_frames_init(&fr, sink, ud);
	strbuf_init(&q, 0);
	strbuf_init(&cols, 0);
	strbuf_init(&url, 0);
	strbuf_init(&plain, CH_REFETCH_MAX);
	if (column_list(ch, database, table, &cols, &opaque, e) < 0)
		goto out;
	strbuf_addf(&q, "SELECT %s FROM ", cols.buf);
	db_table(&q, database, table);
	where_partition(&q, slice);
	strbuf_addstr(&q, " FORMAT Native");
	/* Blocks the walker cannot read: the server holds the answer until
	 * the query ended, so that its failure is a non-200 answer, never
	 * text inside a 200 stream that only the walker would see. */
	fr.opaque = opaque;
	fr.native.hash = ch->checksum == CLICKHOUSE_CHECKSUM_V2;
	if (ch_url(ch, &url, opaque ? "compress=1&" OPAQUE_PARAMS :
		   "compress=1") < 0) {
		err_set(e, "out of memory");
		goto out;
	}
	log_debug("clickhouse: export '%s.%s' partition '%s'%s%s%s", database,
		  table, partition_id ? partition_id : "all",
		  opaque ? " (opaque, " OPAQUE_PARAMS ")" : "",
		  strstr(q.buf, " WHERE ") ? ":" : "",
		  strstr(q.buf, " WHERE ") ? strstr(q.buf, " WHERE ") : "");
	if (clickhouse_stream(ch, url.buf, q.buf, &fr, e) < 0)
		goto out;
	if (fr.bytes == 0 && fr.pending.len == 0) {
		/* 18.16: under 1 MiB, compress=1 gives an empty 200 (with
		 * wait_end_of_query=1 too). Ask again uncompressed and frame
		 * the answer ourselves. */
		struct clickhouse_frames fr2;
		int r;

		log_debug("clickhouse: empty compressed answer; asking again "
			  "without compress=1");
		if (ch_query(ch, opaque ? OPAQUE_PARAMS : "", q.buf,
			     CH_REFETCH_MAX, &plain, e) < 0)
			goto out;
		st->reframed = 1;
		clickhouse_frames_release(&fr);
		clickhouse_frames_init(&fr2, sink, ud);
		fr = fr2;
		fr.opaque = opaque;
		fr.native.hash = ch->checksum == CLICKHOUSE_CHECKSUM_V2;
		/* through the same checks: frames, then Native */
		r = plain.len ? clickhouse_frame_plain(plain.buf, plain.len,
						       frames_sink, &fr, e) : 0;
		if (r < 0)
			goto out;
	}
	if (clickhouse_frames_finish(&fr, e) < 0)
		goto out;
	st->opaque = opaque;
	st->checksummed = !opaque && fr.native.hash;
	st->checksum = fr.native.sum;
	st->rows = fr.native.rows;
	st->blocks = fr.native.blocks;
	st->frames = fr.frames;
	st->bytes = fr.bytes;
	st->plain_bytes = fr.native.bytes;
	ret = 0;
out:
	if (ret < 0)
		err_wrap(e, "cannot export '%s.%s'%s%s", database, table,
			 partition_id ? " partition " : "",
			 partition_id ? partition_id : "");
	clickhouse_frames_release(&fr);
	strbuf_release(&q);
	strbuf_release(&cols);
	strbuf_release(&url);
	strbuf_release(&plain);
	return ret;
}

/* ---------------------------------------------------------------- */
/* The import                                                        */

struct insert_ctx {
	int fd;
	int read_failed;
	int read_errno;
	long status;
	struct strbuf answer;
};

static size_t insert_read(char *buf, size_t size, size_t n, void *ud)
{
	struct insert_ctx *ic = ud;

	for (;;) {
		ssize_t r = read(ic->fd, buf, size * n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ic->read_failed = 1;
			ic->read_errno = errno;
			return CURL_READFUNC_ABORT;
		}
		return (size_t)r;
	}
}

static size_t insert_write(char *data, size_t size, size_t n, void *ud)
{
	struct insert_ctx *ic = ud;

	strbuf_add(&ic->answer, data, size * n);	/* capped */
	return size * n;
}

int clickhouse_insert_fd(struct clickhouse *ch, const char *sql,
			 const char *params, int fd, struct err *e)
{
	struct strbuf url = STRBUF_INIT;
	struct http_request req = { 0 };
	struct curl_slist *hl = NULL;
	struct insert_ctx ic;
	CURL *curl = NULL;
	CURLcode rc;
	char *hdr[4] = { NULL, NULL, NULL, NULL };
	int ret = -1;

	memset(&ic, 0, sizeof(ic));
	ic.fd = fd;
	strbuf_init(&ic.answer, 64 << 10);
	strbuf_init(&url, 0);
	if (ch_headers(ch, hdr) < 0 || ch_url(ch, &url, params) < 0 ||
	    strbuf_addstr(&url, params && *params ? "&query=" : "query=") < 0 ||
	    http_escape(&url, sql) < 0) {
		err_set(e, "out of memory");
		goto out;
	}
	if (http_global_init(e) < 0)
		goto out;
	curl = curl_easy_init();
	if (!curl) {
		err_set(e, "cannot start a transfer");
		goto out;
	}
	/* the body is streamed: no Expect: 100-continue round trip */
	hdr[3] = "Expect:";
	if (!hdr[2]) {
		hdr[2] = hdr[3];
		hdr[3] = NULL;
	}
	req.method = "POST";
	req.url = url.buf;
	req.headers = (const char *const *)hdr;
	req.timeout_ms = -1;
	if (http_easy_setup(curl, &req, &hl, e) < 0)
		goto out;
	curl_easy_setopt(curl, CURLOPT_POST, 1L);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, insert_read);
	curl_easy_setopt(curl, CURLOPT_READDATA, &ic);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, insert_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ic);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 300L);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &ic.status);
	if (ic.read_failed) {
		errno = ic.read_errno;
		err_errno(e, "cannot read the data to insert");
		goto out;
	}
	if (ic.status && ic.status != 200) {
		ch_status_error(e, ic.status, ic.answer.buf ? ic.answer.buf : "",
				ic.answer.len);
		goto out;
	}
	if (rc != CURLE_OK) {
		err_set(e, "insert failed: %s", curl_easy_strerror(rc));
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		err_wrap(e, "clickhouse");
	if (hdr[2] && !strcmp(hdr[2], "Expect:"))
		hdr[2] = NULL;
	hdr[3] = NULL;
	if (curl)
		curl_easy_cleanup(curl);
	if (hl)
		curl_slist_free_all(hl);
	ch_headers_free(ch, hdr);
	strbuf_release(&ic.answer);
	strbuf_release(&url);
	return ret;
}
