/*
 * Drives src/clickhouse from the shell tests (no user command uses it
 * yet). Usage:
 *   ch-client URL version
 *   ch-client URL tables [DB]                  db.table<TAB>engine<TAB>kind
 *   ch-client URL create DB TABLE
 *   ch-client URL partitions DB TABLE ENGINE   id<TAB>value<TAB>rows<TAB>fingerprint
 *   ch-client URL fingerprint DB TABLE ID
 *   ch-client URL stats DB TABLE [ID]          rows<TAB>checksum
 *   ch-client URL export DB TABLE ID|- FILE    rows<TAB>frames<TAB>reframed
 *   ch-client URL query SQL
 *   ch-client - lz4 < FRAMES > DATA             decompresses LZ4 frames (checks no
 *                                              checksum: the LZ4 decoder alone)
 * The user comes from CH_USER, the password from SAASCTL_CLICKHOUSE_PASSWORD.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickhouse.h"

static int file_sink(void *ud, const void *frame, size_t len, struct err *e)
{
	if (fwrite(frame, 1, len, ud) != len)
		return err_set(e, "cannot write the export");
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Frames: 16 bytes of checksum, method, compressed size (with the 9-byte
 * header), plain size, data. */
static int lz4_frames(FILE *in, FILE *out)
{
	static uint8_t buf[(1 << 21) + 25];
	static uint8_t plain[(1 << 21) + 64];
	size_t n;

	while ((n = fread(buf, 1, 25, in)) == 25) {
		uint32_t size = le32(buf + 17), plen = le32(buf + 21);

		if (buf[16] != 0x82 || size < 9 || size - 9 > sizeof(buf) - 25 ||
		    plen > sizeof(plain) - 64 ||
		    fread(buf + 25, 1, size - 9, in) != size - 9) {
			fprintf(stderr, "ch-client: bad LZ4 frame\n");
			return 1;
		}
		/* a decoder that writes past the frame's size spoils these */
		memset(plain + plen, 0xa5, 64);
		if (clickhouse_lz4_decompress(buf + 25, size - 9, plain, plen) < 0) {
			fprintf(stderr, "ch-client: bad LZ4 frame\n");
			return 1;
		}
		for (int i = 0; i < 64; i++)
			if (plain[plen + i] != 0xa5) {
				fprintf(stderr, "ch-client: the decoder wrote past the end\n");
				return 1;
			}
		fwrite(plain, 1, plen, out);
	}
	return n == 0 && fflush(out) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct clickhouse ch;
	struct err e = { "" };
	const char *op = argc > 2 ? argv[2] : "";
	int ret = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: ch-client URL OP ...\n");
		return 2;
	}
	if (!strcmp(op, "lz4"))
		return lz4_frames(stdin, stdout);
	if (clickhouse_init(&ch, argv[1], getenv("CH_USER"), getenv("CH_DATABASE"), &e) < 0)
		goto fail;
	if (!strcmp(op, "version")) {
		char v[64];

		if (clickhouse_version(&ch, v, sizeof(v), &e) < 0)
			goto fail;
		printf("%s\n", v);
	} else if (!strcmp(op, "tables")) {
		struct clickhouse_tables t;

		if (clickhouse_list_tables(&ch, argc > 3 ? argv[3] : NULL, &t, &e) < 0)
			goto fail;
		for (size_t i = 0; i < t.n; i++)
			printf("%s.%s\t%s\t%s\n", t.v[i].database, t.v[i].name,
			       t.v[i].engine, clickhouse_kind_name(t.v[i].kind));
		clickhouse_tables_release(&t);
	} else if (!strcmp(op, "create") && argc == 5) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_init(&sb, 0);
		if (clickhouse_show_create(&ch, argv[3], argv[4], &sb, &e) < 0)
			goto fail;
		printf("%s\n", sb.buf);
		strbuf_release(&sb);
	} else if (!strcmp(op, "partitions") && argc == 6) {
		struct clickhouse_partitions p;

		if (clickhouse_list_partitions(&ch, argv[3], argv[4], argv[5], &p, &e) < 0)
			goto fail;
		for (size_t i = 0; i < p.n; i++)
			printf("%s\t%s\t%" PRIu64 "\t%s\n", p.v[i].id, p.v[i].value,
			       p.v[i].rows, p.v[i].fingerprint);
		clickhouse_partitions_release(&p);
	} else if (!strcmp(op, "fingerprint") && argc == 6) {
		char fp[65];

		if (clickhouse_partition_fingerprint(&ch, argv[3], argv[4], argv[5], fp, NULL, &e) < 0)
			goto fail;
		printf("%s\n", fp);
	} else if (!strcmp(op, "stats") && argc >= 5) {
		uint64_t rows, sum;

		struct clickhouse_slice sl = { argc > 5 ? argv[5] : NULL, NULL, NULL, 0 };

		if (clickhouse_partition_stats(&ch, argv[3], argv[4], &sl,
					       &rows, &sum, &e) < 0)
			goto fail;
		printf("%" PRIu64 "\t%" PRIu64 "\n", rows, sum);
	} else if (!strcmp(op, "export") && argc == 7) {
		struct clickhouse_export st;
		FILE *f = fopen(argv[6], "wb");

		if (!f) {
			err_errno(&e, "cannot open '%s'", argv[6]);
			goto fail;
		}
		struct clickhouse_slice sl = { strcmp(argv[5], "-") ? argv[5] : NULL, NULL, NULL, 0 };

		if (clickhouse_export_partition(&ch, argv[3], argv[4], &sl,
						file_sink, f, &st, &e) < 0) {
			fclose(f);
			goto fail;
		}
		if (fclose(f) != 0) {
			err_errno(&e, "cannot write '%s'", argv[6]);
			goto fail;
		}
		printf("%" PRIu64 "\t%" PRIu64 "\t%d\n", st.rows, st.frames, st.reframed);
	} else if (!strcmp(op, "query") && argc == 4) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_init(&sb, 0);
		if (clickhouse_query(&ch, argv[3], 0, &sb, &e) < 0)
			goto fail;
		fwrite(sb.buf, 1, sb.len, stdout);
		strbuf_release(&sb);
	} else {
		fprintf(stderr, "ch-client: unknown operation '%s'\n", op);
		clickhouse_release(&ch);
		return 2;
	}
	ret = 0;
	clickhouse_release(&ch);
	return fflush(stdout) == 0 ? ret : 1;
fail:
	fprintf(stderr, "ch-client: %s\n", e.msg);
	clickhouse_release(&ch);
	return ret;
}
