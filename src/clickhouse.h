#ifndef SAASCTL_CLICKHOUSE_H
#define SAASCTL_CLICKHOUSE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "strbuf.h"

/*
 * A client for ClickHouse's HTTP interface, from 18.16 to current, over
 * src/http. It is what backups stand on:
 *
 *   - small queries (FORMAT JSON / TabSeparated), the server version,
 *     databases and tables with their engines and the kind of backup each
 *     engine gets, SHOW CREATE;
 *   - the partitions of a table with a fingerprint that merges leave alone
 *     and inserts and mutations change (block-number ranges and data
 *     versions of the active parts), and per partition a row count and an
 *     order-independent checksum, the sum of a hash of each row;
 *   - the export of one partition in FORMAT Native with compress=1,
 *     streamed: ClickHouse's compressed block framing is parsed as it
 *     arrives, each frame's CityHash128 is checked, and rows are counted
 *     by walking the Native blocks.
 *
 * The walker reads the columns of the types it knows (numbers, dates,
 * String, FixedString, Nullable, LowCardinality, Array, Map, Nested,
 * Tuple, SimpleAggregateFunction). A table with a column of another type
 * (AggregateFunction, JSON, Dynamic, Variant ...) is exported "opaque",
 * decided from system.columns before the export: with wait_end_of_query=1,
 * so that the server holds the answer until the query ended and a failure
 * is a non-200 answer; the frames are still checked and decompressed, but
 * the blocks are not walked and the export's rows are unknown.
 *
 * Two hazards are handled in the export, not left to callers:
 *   - 18.16 answers compress=1 with 200 and an empty body when the whole
 *     result is under 1 MiB. The export then asks again without compress
 *     and frames the answer itself (method "none"), so the object has the
 *     same format either way.
 *   - An error after the answer started is still a 200: the server
 *     appends "Code: NNN ..." to the stream. The Native parser finds text
 *     where a block header should be, or the framing breaks, and the
 *     export fails.
 *
 * The password comes from SAASCTL_CLICKHOUSE_PASSWORD and travels only in
 * the X-ClickHouse-Key header: never in argv, the URL or a message.
 */

struct clickhouse {
	char *url;		/* base, e.g. http://127.0.0.1:8123 (no query) */
	char *user;		/* NULL: the server's default user */
	char *password;		/* sodium_malloc'd, or NULL */
	char *database;		/* NULL: default */
	long timeout_ms;	/* per small query; 0: 60 s */
	int checksum;		/* CLICKHOUSE_CHECKSUM_V2 (the default) or _V1 */
	const char *settings;	/* "name=value&...": added to every query */
};

/*
 * How a content checksum is computed (clickhouse_checksum_expr):
 *   V1  sum(cityHash64(columns)), as saasctl-backup/1 to /3 recorded it:
 *       18.16 cannot compute it over UUID, Decimal, AggregateFunction or
 *       Nullable values inside arrays, tuples or LowCardinality, and a
 *       row with a NULL counts for nothing;
 *   V2  the same with each column first made hashable in one way that
 *       every server version computes alike, NULLs counted.
 */
enum { CLICKHOUSE_CHECKSUM_V1 = 1, CLICKHOUSE_CHECKSUM_V2 = 2 };

/* url is required; user and database may be NULL. The password is read
 * from SAASCTL_CLICKHOUSE_PASSWORD. */
int clickhouse_init(struct clickhouse *ch, const char *url, const char *user,
		    const char *database, struct err *e);
void clickhouse_release(struct clickhouse *ch);

/*
 * Run sql (with its FORMAT clause, if any) and keep the answer, at most
 * max bytes (0: 16 MiB). A non-200 answer fails with the server's first
 * line ("Code: 60 ... doesn't exist").
 */
int clickhouse_query(struct clickhouse *ch, const char *sql, size_t max,
		     struct strbuf *out, struct err *e);
/* sql without FORMAT; the "data" rows of FORMAT JSON (a new reference).
 * 64-bit integers arrive as strings, as ClickHouse quotes them. */
int clickhouse_query_json(struct clickhouse *ch, const char *sql,
			  void **rows_json, struct err *e);

/* Does the server know the setting name (system.settings)? */
int clickhouse_has_setting(struct clickhouse *ch, const char *name, int *has,
			   struct err *e);

/* "18.16.1", "26.7.2.1" */
int clickhouse_version(struct clickhouse *ch, char *out, size_t outlen,
		       struct err *e);

/* How a backup treats a table. */
enum clickhouse_kind {
	CLICKHOUSE_DATA,	/* MergeTree family, Log family, Memory */
	CLICKHOUSE_SCHEMA,	/* views, MVs, Distributed, Merge, Buffer, Dictionary,
				   Kafka, external engines: SHOW CREATE only */
	CLICKHOUSE_SKIP,	/* system tables, temporary tables */
};
enum clickhouse_kind clickhouse_engine_kind(const char *database,
					    const char *engine);
/* Does this engine keep parts and partitions (system.parts)? */
int clickhouse_engine_is_mergetree(const char *engine);
const char *clickhouse_kind_name(enum clickhouse_kind k);

struct clickhouse_table {
	char *database;
	char *name;
	char *engine;
	enum clickhouse_kind kind;
};
struct clickhouse_tables {
	struct clickhouse_table *v;
	size_t n;
};
/* Every table of database (NULL: all databases but system), sorted. */
int clickhouse_list_tables(struct clickhouse *ch, const char *database,
			   struct clickhouse_tables *out, struct err *e);
void clickhouse_tables_release(struct clickhouse_tables *t);
/* Databases but system (and INFORMATION_SCHEMA), sorted. NULL-terminated. */
int clickhouse_list_databases(struct clickhouse *ch, char ***out,
			      struct err *e);
void clickhouse_strv_free(char **v);

/* SHOW CREATE TABLE db.table, unescaped: the statement itself. */
int clickhouse_show_create(struct clickhouse *ch, const char *database,
			   const char *table, struct strbuf *out, struct err *e);

/* Columns a backup exports: all but ALIAS (MATERIALIZED ones too),
 * each backquoted, joined with ", ". */
int clickhouse_data_columns(struct clickhouse *ch, const char *database,
			    const char *table, struct strbuf *out,
			    struct err *e);

struct clickhouse_partition {
	char *id;		/* partition_id: "202401", "all"; used in WHERE */
	char *value;		/* system.parts partition: "(202401,0)" */
	char *literal;		/* the value as SQL of the key's type, or NULL */
	char fingerprint[65];	/* hex BLAKE2b-256 of the parts' block ranges
				   and data versions */
	uint64_t rows;		/* from system.parts (active parts) */
	uint64_t bytes;		/* bytes on disk */
};
struct clickhouse_partitions {
	struct clickhouse_partition *v;
	size_t n;
	char *key;		/* system.tables partition_key: "toYYYYMM(d)";
				   NULL when the server does not say */
	int one_to_one;		/* the key's values compare equal only to
				   themselves and read back from their text
				   (integers, Date, String, Enum, tuples of
				   them): "(key) = literal" names one
				   partition */
};
/*
 * Partitions of a MergeTree-family table from system.parts, sorted by id.
 * A merge rewrites parts but keeps the union of their block ranges and
 * their data version; an insert adds a block number, a mutation raises
 * data_version, a drop removes a range: each changes the fingerprint.
 * Tables of other engines have one partition "all" whose fingerprint is
 * made from its row count and checksum.
 */
int clickhouse_list_partitions(struct clickhouse *ch, const char *database,
			       const char *table, const char *engine,
			       struct clickhouse_partitions *out,
			       struct err *e);
void clickhouse_partitions_release(struct clickhouse_partitions *p);
/* The fingerprint of one partition now (same hashing as the listing),
 * and the rows of its active parts (rows may be NULL). */
int clickhouse_partition_fingerprint(struct clickhouse *ch,
				     const char *database, const char *table,
				     const char *partition_id, char out[65],
				     uint64_t *rows, struct err *e);

/*
 * The rows of one partition, for the queries that read them. The
 * condition is _partition_id = id, which alone selects exactly the
 * partition; but ClickHouse 18.16 then reads and filters every part of
 * the table (a table of 24 partitions is read 24 times over). With the
 * table's partition key and the partition's value, "(key) = value" comes
 * first, and the server skips the other partitions' parts by their
 * min/max index. Where the key's condition does not select the
 * partition's rows, clickhouse_slice_exact() tells: a value that does
 * not compare equal to itself (NULL, a NaN) selects none; a key that
 * now evaluates otherwise than when its rows were inserted (a column's
 * time zone altered under toYYYYMM(t)) selects some.
 */
struct clickhouse_slice {
	const char *id;		/* partition_id; NULL: the whole table */
	const char *key;	/* partition key expression, or NULL */
	const char *value;	/* the partition's value as SQL ("CAST('2024-01-02'
				   AS Date)"), or NULL */
	int by_key;		/* the key's condition alone, without the id:
				   see clickhouse_slice_by_key() */
};
/* The slice of partition p of a table listed with its key in ps. */
struct clickhouse_slice clickhouse_slice_of(const struct clickhouse_partitions *ps,
					    const struct clickhouse_partition *p);
/*
 * Did the slice's key condition select the whole partition? rows is the
 * partition's count through the slice, parts_rows what its active parts
 * hold under the same fingerprint. Any difference says no (rows hidden
 * by a lightweight delete too), and the partition is read again through
 * its id alone, which is exact: then this says yes.
 */
int clickhouse_slice_exact(const struct clickhouse_slice *s, uint64_t rows,
			   uint64_t parts_rows);
/*
 * Read the slice through its key's condition alone, when the key's
 * values are one to one with partitions. "_partition_id = id" then
 * drops out: 18.16 builds and compares that string for every row read,
 * some 15% of the server's CPU for an export. The condition alone takes
 * every row whose key evaluates to the value now, which is the
 * partition's rows unless the key evaluates otherwise than when they
 * were inserted (the server's time zone changed under toYYYYMM(t)). So
 * the caller compares the rows it read with the rows the partition's
 * parts hold, under the same fingerprint, and reads again with the id
 * on any difference. Only as many rows leaving the value as coming to
 * it would pass, and each of those rows is still read once, with the
 * partition its key names now. Returns whether it set by_key.
 */
int clickhouse_slice_by_key(struct clickhouse_slice *s,
			    const struct clickhouse_partitions *ps);

/* The per-row hash of ch->checksum over a table's exported columns, as
 * SQL: "cityHash64(...)". Order-independent once summed; with V2 equal on
 * any server version for equal data. */
int clickhouse_checksum_expr(struct clickhouse *ch, const char *database,
			     const char *table, struct strbuf *out,
			     struct err *e);

/*
 * Can an export of this table count its checksum itself, from the blocks
 * it reads (clickhouse_export.checksummed)? Version 2 over columns of
 * integers, floats, dates, enums, strings, UUIDs, Decimals, and
 * Nullable, LowCardinality, arrays and tuples of them. Any other table's
 * checksum is the server's.
 */
int clickhouse_checksum_local(struct clickhouse *ch, const char *database,
			      const char *table, int *local, struct err *e);

/* count() and the sum of clickhouse_checksum_expr() over a slice (NULL:
 * the whole table). */
int clickhouse_partition_stats(struct clickhouse *ch, const char *database,
			       const char *table,
			       const struct clickhouse_slice *slice,
			       uint64_t *rows, uint64_t *checksum,
			       struct err *e);

/* ---- the compressed block framing and the Native format ---- */

/* Can the Native walker read columns of this type (as system.columns and
 * the block headers spell it: "Array(LowCardinality(String))")? */
int clickhouse_type_readable(const char *type);

/* CityHash128 v1.0.2 as ClickHouse uses it: lo, hi as written in frames. */
void clickhouse_cityhash128(const void *data, size_t len, uint64_t *lo,
			    uint64_t *hi);

/* LZ4 block decompression into exactly outlen bytes; -1 on bad input. */
int clickhouse_lz4_decompress(const uint8_t *in, size_t inlen, uint8_t *out,
			      size_t outlen);

/* Frames: 16-byte CityHash128 of the rest, method (0x82 LZ4, 0x02 none,
 * 0x90 zstd), compressed size incl. this 9-byte header (u32 LE),
 * decompressed size (u32 LE), payload. */
#define CLICKHOUSE_FRAME_HEADER 25
#define CLICKHOUSE_FRAME_MAX (64u << 20)	/* ClickHouse writes 1 MiB */

/*
 * Counts rows and blocks of a Native stream fed in pieces; with hash,
 * the checksum of its rows too, where clickhouse_checksum_local() says it
 * can.
 *
 * A block (some 1.4 MB for 65,536 rows) usually spans two of the 1 MiB
 * frames it arrives in, so the walk stops where the bytes run out and
 * resumes there, one column at a time; no column is read twice once
 * complete. The block being read is in one of two states:
 *
 *   header == 0   nothing of it read: at `start` come ncols and nrows;
 *                 when they are not all there, wait for more;
 *   header == 1   ncols and nrows read; columns [0, col) walked (and
 *                 hashed into acc), column col starts at `at`. When its
 *                 bytes are not all there, wait: acc keeps the hashes of
 *                 the columns before it, and the column is read again
 *                 from `at` when more bytes came. After the last
 *                 column the block counts, and `start` moves to its end:
 *                 header == 0 again.
 *
 * A column is hashed as soon as it is complete. For integers, dates,
 * enums, String and FixedString the hashing pass is the walk itself; any
 * other type is walked first, then hashed. acc is NULL when the block is
 * not hashed (hash off, or a column it cannot hash: hash then turns off
 * when the block ends, as the sum no longer counts every row).
 *
 * pending holds [0, start) already read, then the bytes not yet read;
 * it is compacted only when new bytes would not fit otherwise.
 */
struct clickhouse_native {
	struct strbuf pending;	/* bytes from the block being read on,
				   after `start` bytes already read */
	uint64_t rows;
	uint64_t blocks;
	uint64_t bytes;		/* uncompressed bytes seen */
	int hash;		/* set: count sum; cleared when it cannot */
	uint64_t sum;		/* of the rows' checksum, version 2 */
	/* the block being read: see above */
	size_t start;		/* its offset in pending */
	size_t at;		/* the offset of column col */
	int header;		/* ncols and nrows read */
	uint64_t ncols, nrows, col;
	uint64_t *acc;		/* the row hashes of columns [0, col) */
};
void clickhouse_native_init(struct clickhouse_native *nv);
void clickhouse_native_release(struct clickhouse_native *nv);
/* Feed bytes; fails on a malformed block, an unsupported type or the
 * server's error text ("Code: NNN ...") where a block should start. */
int clickhouse_native_feed(struct clickhouse_native *nv, const void *data,
			   size_t len, struct err *e);
/* The stream ended: fails when it stopped inside a block. */
int clickhouse_native_finish(struct clickhouse_native *nv, struct err *e);

/* Called with each verified frame, whole, as received. */
typedef int (*clickhouse_sink_fn)(void *ud, const void *frame, size_t len,
				  struct err *e);

/* Splits a compressed stream into frames, verifies and decompresses them
 * into a Native counter, and hands each frame to a sink. */
struct clickhouse_frames {
	struct strbuf pending;	/* an incomplete frame */
	struct clickhouse_native native;
	clickhouse_sink_fn sink;
	void *sink_ud;
	int opaque;		/* decompress each frame but do not walk the
				   Native blocks: native.bytes alone counts */
	uint64_t frames;
	uint64_t bytes;		/* compressed bytes, headers included */
};
void clickhouse_frames_init(struct clickhouse_frames *fr,
			    clickhouse_sink_fn sink, void *ud);
void clickhouse_frames_release(struct clickhouse_frames *fr);
int clickhouse_frames_feed(struct clickhouse_frames *fr, const void *data,
			   size_t len, struct err *e);
/* The stream ended: fails inside a frame or inside a Native block. */
int clickhouse_frames_finish(struct clickhouse_frames *fr, struct err *e);

/* Wrap plain bytes in frames of method "none" (at most 1 MiB each),
 * checksummed as ClickHouse does; what decompress=1 accepts. */
int clickhouse_frame_plain(const void *data, size_t len, clickhouse_sink_fn sink,
			   void *ud, struct err *e);

struct clickhouse_export {
	int opaque;		/* a column the walker cannot read: rows and
				   blocks are unknown (0); asked with
				   wait_end_of_query=1 */
	uint64_t rows;		/* from the Native blocks */
	uint64_t blocks;
	uint64_t frames;
	uint64_t bytes;		/* compressed bytes handed to the sink */
	uint64_t plain_bytes;	/* Native bytes */
	int checksummed;	/* checksum counted from the blocks read */
	uint64_t checksum;	/* version 2 (clickhouse_checksum_local) */
	int reframed;		/* 18.16's empty answer: fetched uncompressed */
};
/*
 * SELECT the data columns of one partition (partition_id NULL: the whole
 * table) in FORMAT Native with compress=1 and hand each verified frame to
 * sink. The sink sees frames before the end of the stream is known: only
 * a 0 return means the object is complete; on -1 the caller discards
 * what the sink wrote. The caller still compares rows with the count it
 * took under the same fingerprint; when st->opaque, it has no rows to
 * compare and must take its count as the rows (see backup.c).
 *
 * The transfer itself is clickhouse_stream() in clickhouse.c: a curl easy
 * handle set up by http_easy_setup() with a write callback, to be moved
 * to src/http's streamed responses when they exist.
 */
int clickhouse_export_partition(struct clickhouse *ch, const char *database,
				const char *table,
				const struct clickhouse_slice *slice,
				clickhouse_sink_fn sink, void *ud,
				struct clickhouse_export *st, struct err *e);

/*
 * Run an INSERT whose data is read from fd until its end and streamed to
 * the server as the request body (chunked). params are extra URL
 * parameters ("decompress=1&insert_allow_materialized_columns=1") or NULL.
 * The statement travels in the URL, the data alone in the body.
 */
int clickhouse_insert_fd(struct clickhouse *ch, const char *sql,
			 const char *params, int fd, struct err *e);

/*
 * A CREATE statement with setting ("name = value") added to its engine's
 * SETTINGS: first in the first SETTINGS after ENGINE outside quotes and
 * brackets, or in a new clause at the end of a statement that ends with
 * its engine. -1 (out untouched) when it has neither: no ENGINE, or an
 * AS SELECT or COMMENT after it.
 */
int clickhouse_add_engine_setting(const char *sql, const char *setting,
				  struct strbuf *out);

/* Backquote an identifier for SQL (`a``b`). */
int clickhouse_quote_ident(struct strbuf *out, const char *name);
/* Quote a string literal for SQL ('it\'s'). */
int clickhouse_quote_string(struct strbuf *out, const char *s);

#endif
