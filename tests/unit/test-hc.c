/* src/hc: the ping body, the tail ring, durations, run IDs. */
#include <stdlib.h>
#include <string.h>

#include "hc.h"
#include "unit.h"

static void test_body(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct hc_ping p = { 0 };
	char big[5000];

	strbuf_init(&sb, 0);
	p.body = "hello\n";
	p.body_len = 6;
	hc_body_build(&sb, &p, 100);
	CHECK_STR(sb.buf, "hello\n", "a body under the limit is sent as is");

	strbuf_reset(&sb);
	p.summary = "saasctl: exit status 0";
	hc_body_build(&sb, &p, 100);
	CHECK_STR(sb.buf, "hello\nsaasctl: exit status 0\n", "the summary is the last line");

	strbuf_reset(&sb);
	p.body = "no newline";
	p.body_len = 10;
	hc_body_build(&sb, &p, 100);
	CHECK_STR(sb.buf, "no newline\nsaasctl: exit status 0\n", "the summary starts a line of its own");

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	strbuf_reset(&sb);
	p.body = big;
	p.body_len = sizeof(big);
	p.summary = NULL;
	hc_body_build(&sb, &p, 1000);
	CHECK(sb.len <= 1000, "a long body fits the limit");
	CHECK(!strncmp(sb.buf, "[saasctl: output truncated: the first ", 38), "a cut body starts with the note");
	CHECK(!memcmp(sb.buf + sb.len - 10, big + sizeof(big) - 10, 10), "a cut body keeps the end");
	{
		const char *nl = strchr(sb.buf, '\n');
		size_t kept = sb.len - (size_t)(nl + 1 - sb.buf);
		char want[128];

		snprintf(want, sizeof(want), "[saasctl: output truncated: the first %zu of 5000 bytes were dropped]",
			 5000 - kept);
		CHECK(!strncmp(sb.buf, want, strlen(want)), "the note counts the dropped bytes");
	}

	/* Bytes dropped earlier (by the ring) are counted in the note. */
	strbuf_reset(&sb);
	p.body = "tail\n";
	p.body_len = 5;
	p.dropped = 95;
	hc_body_build(&sb, &p, 1000);
	CHECK_STR(sb.buf, "[saasctl: output truncated: the first 95 of 100 bytes were dropped]\ntail\n", "bytes dropped before the tail get a note");

	/* A limit too small for anything but the tail. */
	strbuf_reset(&sb);
	p.dropped = 0;
	p.body = big;
	p.body_len = sizeof(big);
	hc_body_build(&sb, &p, 20);
	CHECK(sb.len <= 20, "a tiny limit is respected");

	/* UTF-8: never start inside a character. */
	{
		char u[3000];

		for (size_t i = 0; i < sizeof(u); i += 2) {
			u[i] = (char)0xc3;
			u[i + 1] = (char)0xa9;
		}
		for (size_t lim = 200; lim < 210; lim++) {
			const char *nl;

			strbuf_reset(&sb);
			p.body = u;
			p.body_len = sizeof(u);
			hc_body_build(&sb, &p, lim);
			nl = strchr(sb.buf, '\n');
			if ((unsigned char)nl[1] != 0xc3)
				break;
		}
		CHECK((unsigned char)strchr(sb.buf, '\n')[1] == 0xc3, "the tail starts on a character boundary");
	}
	strbuf_release(&sb);
}

static void test_tail(void)
{
	struct hc_tail t;
	struct strbuf sb = STRBUF_INIT;

	strbuf_init(&sb, 0);
	hc_tail_init(&t, 8);
	hc_tail_add(&t, "abc", 3);
	hc_tail_get(&t, &sb);
	CHECK_STR(sb.buf, "abc", "the tail holds what fits");
	hc_tail_add(&t, "defgh", 5);
	hc_tail_add(&t, "ijk", 3);
	strbuf_reset(&sb);
	hc_tail_get(&t, &sb);
	CHECK_STR(sb.buf, "defghijk", "the ring keeps the last bytes across the wrap");
	CHECK(t.total == 11, "the ring counts every byte");
	hc_tail_add(&t, "0123456789XY", 12);
	strbuf_reset(&sb);
	hc_tail_get(&t, &sb);
	CHECK_STR(sb.buf, "456789XY", "a chunk larger than the ring keeps its end");
	for (int i = 0; i < 100; i++)
		hc_tail_add(&t, "z", 1);
	strbuf_reset(&sb);
	hc_tail_get(&t, &sb);
	CHECK_STR(sb.buf, "zzzzzzzz", "byte by byte");
	hc_tail_add(&t, "12345", 5);
	hc_tail_grow(&t, 16);
	hc_tail_add(&t, "abcdef", 6);
	strbuf_reset(&sb);
	hc_tail_get(&t, &sb);
	CHECK_STR(sb.buf, "zzz12345abcdef", "growing keeps the tail in order");
	hc_tail_release(&t);
	strbuf_release(&sb);
}

static void test_duration(void)
{
	long ms = -1;

	CHECK(hc_duration_parse("90", &ms) == 0 && ms == 90000, "a bare number is seconds");
	CHECK(hc_duration_parse("15m", &ms) == 0 && ms == 900000, "minutes");
	CHECK(hc_duration_parse("2h", &ms) == 0 && ms == 7200000, "hours");
	CHECK(hc_duration_parse("1d", &ms) == 0 && ms == 86400000, "days");
	CHECK(hc_duration_parse("1h30m", &ms) == 0 && ms == 5400000, "combined");
	CHECK(hc_duration_parse("500ms", &ms) == 0 && ms == 500, "milliseconds");
	CHECK(hc_duration_parse("", &ms) < 0, "empty is refused");
	CHECK(hc_duration_parse("soon", &ms) < 0, "words are refused");
	CHECK(hc_duration_parse("5x", &ms) < 0, "unknown units are refused");
	CHECK(hc_duration_parse("1h30", &ms) < 0, "a bare number after a unit is refused");
	CHECK(hc_duration_parse("-5s", &ms) < 0, "negative is refused");
	CHECK(hc_duration_parse("99999999999d", &ms) < 0, "overflow is refused");
}

static void test_rid(void)
{
	char a[37], b[37];

	hc_new_rid(a);
	hc_new_rid(b);
	CHECK(hc_is_uuid(a), "a run ID is a UUID");
	CHECK(a[14] == '4', "a run ID is a version 4 UUID");
	CHECK(strcmp(a, b) != 0, "run IDs differ");
	CHECK(!hc_is_uuid("5bf66975-d4c7-4bf5-bcc8-b8d8a82ea27"), "a short UUID is refused");
	CHECK(!hc_is_uuid("5bf66975-d4c7-4bf5-bcc8-b8d8a82ea2788"), "a long UUID is refused");
	CHECK(!hc_is_uuid("5bf66975xd4c7-4bf5-bcc8-b8d8a82ea278"), "a UUID without dashes is refused");
}

int main(void)
{
	test_body();
	test_tail();
	test_duration();
	test_rid();
	return UNIT_DONE();
}
