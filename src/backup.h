#ifndef SAASCTL_BACKUP_H
#define SAASCTL_BACKUP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "clickhouse.h"
#include "err.h"
#include "keys.h"
#include "retention.h"
#include "store.h"

/*
 * ClickHouse backups in a store (store.h), over the HTTP interface only.
 * saasctl-backup(5) documents the layout and the manifest:
 *
 *   <id>/schema/<db>/<table>.sql                  SHOW CREATE, every table
 *   <id>/data/<db>/<table>/<partition>.native.lz4[.enc]
 *   <id>/manifest.json                            written last
 *   saasctl.lock                                  while a backup runs
 *
 * Names in keys are escaped: bytes outside [A-Za-z0-9_.-], and a leading
 * '.', become %XX ('.inner.mv' is '%2Einner.mv').
 *
 * A backup without manifest.json is incomplete: never listed as good,
 * never restored. The manifest is written only when every table
 * succeeded; it lists every object with its size and BLAKE2b-256, and per
 * partition the rows, the order-independent checksum and the fingerprint
 * they were taken under.
 *
 * A partition is exported as a consistent snapshot: fingerprint, count
 * and checksum, export, fingerprint again; a changed fingerprint means an
 * insert or mutation raced the export and the partition is exported again
 * (at most BACKUP_SNAPSHOT_TRIES times). The rows counted in the exported
 * Native blocks must equal the count taken under the same fingerprint:
 * that is what catches an answer that was short or empty but said 200.
 * A table with columns the walker cannot read (clickhouse.h: "opaque")
 * is exported with wait_end_of_query=1, so a failed query is a non-200
 * answer; its export must not be empty while the count is not, and the
 * count is recorded as its rows.
 *
 * With recipients, a random 32-byte data key is made per backup and
 * sealed to each recipient's X25519 public key (crypto_box_seal); each
 * object is encrypted with crypto_secretstream_xchacha20poly1305 in
 * chunks of BACKUP_CHUNK bytes, its key within the backup as additional
 * data of the first chunk. The backup machine needs public keys only.
 *
 * Incremental backups (saasctl-backup(5), format 2): a partition whose
 * fingerprint and rows equal those in the newest complete backup, in a
 * table of the same engine and SHOW CREATE, is not exported; its entry
 * is copied, and its object names the backup that holds it ("backup").
 * References are always to the holder, never to a reference, so a chain
 * is one level deep whatever its length. Objects are shared only between
 * backups encrypted to the same recipients; the holder's sealed data
 * keys are copied into "bases" so that one manifest opens every object.
 *
 * Resume: each partition exported by a plain (unencrypted) backup is
 * recorded in a journal object next to it, <id>/journal/<object>.json:
 * its manifest entry plus the table's engine and SHOW CREATE hash. With
 * resume, when the newest backup of the store is incomplete and has a
 * journal, the run continues it under the same ID: a partition whose
 * fingerprint, rows, engine and structure equal its journal entry, and
 * whose object reads back whole with the journal's size and BLAKE2b, is
 * taken as it is; every other partition is exported again. The manifest
 * is still written only when every table succeeded, so a resumed backup
 * is never "valid" with objects missing; the journal is deleted after
 * the manifest. An encrypted backup keeps no journal (its data key is
 * sealed to keys the backup machine does not hold), so resuming one
 * starts a new backup.
 *
 * Shards: a backup of a cluster takes one server per shard (the first of
 * its replicas that answers, saying which in the manifest) and puts each
 * shard's objects under shard-N/ (N from 1, in the order given):
 *
 *   <id>/shard-N/schema/<db>/<table>.sql
 *   <id>/shard-N/data/<db>/<table>/<partition>.native.lz4[.enc]
 *
 * Its partitions are exported by one pool of workers, the shards' jobs
 * interleaved so that every shard is read at once; its one manifest
 * (format 3) has a "shards" array, each with its tables, instead of
 * "tables". One shard keeps the layout and manifest of one server (format
 * 2). Every object is still listed in "objects" (keys with their shard-N/
 * prefix), so verify and prune need not know about shards. An
 * incremental compares each shard with the same shard of its base; a base
 * with another number of shards makes a full backup.
 *
 * A sharded backup restores shard by shard into as many servers, or into
 * one server: then a partition is the same partition of every shard, all
 * their objects staged into one temporary table and checked against the
 * sums of their rows and checksums before it is moved in, so their rows
 * add up and a rerun still skips what is there. A Distributed table whose
 * cluster that one server does not know is skipped with the server's
 * reason. A drill does the latter.
 *
 * Restore stages each partition into a temporary table, checks the
 * object's BLAKE2b (and, encrypted, its authentication) and the staged
 * rows and checksum, and only then moves the partition in (REPLACE
 * PARTITION ... FROM for the MergeTree family; INSERT ... SELECT for Log
 * and Memory tables, whose whole content is one partition). A partition
 * whose target already holds exactly the manifest's rows and checksum is
 * skipped, so a rerun after a crash neither duplicates nor redoes work.
 */

#define BACKUP_SNAPSHOT_TRIES 5
/* Partitions exported at once per shard by default: while one query
 * starts or drains, the other keeps the server reading. */
#define BACKUP_PARALLEL 2
#define BACKUP_CHUNK 65536
#define BACKUP_LOCK_KEY "saasctl.lock"

enum backup_event_kind {
	BACKUP_EV_TABLE,	/* a table is done (or failed: error set) */
	BACKUP_EV_PARTITION,	/* a partition is done */
	BACKUP_EV_RETRY,	/* a partition changed during its export */
	BACKUP_EV_REPLICA,	/* a shard's server was picked (error NULL),
				   or a replica did not answer (error set);
				   only for shards or replicas */
};

struct backup_event {
	enum backup_event_kind kind;
	const char *database, *table, *partition;
	const char *inner_of;	/* table is this materialized view's inner
				   table (".inner_id.<uuid>") */
	uint64_t rows, bytes;
	uint64_t done_bytes;	/* whole run so far */
	uint64_t reused;	/* BACKUP_EV_TABLE: partitions unchanged since
				   the base, referenced and not exported */
	const char *error;	/* NULL on success */
	int shard;		/* 1-based; 0: a backup of one server */
	const char *url;	/* BACKUP_EV_REPLICA: the replica */
};
/* Called from worker threads, one at a time. */
typedef void (*backup_event_fn)(void *ud, const struct backup_event *ev);

struct backup_options {
	const char *const *databases;	/* NULL/0: every database */
	size_t ndatabases;
	const char *const *tables;	/* fnmatch globs on "db.table" or "table" */
	size_t ntables;
	const struct keys_public *recipients;
	size_t nrecipients;
	int parallel;			/* partitions exported at once per
					   shard; 0: BACKUP_PARALLEL */
	const char *id;			/* NULL: the UTC start time */
	int incremental;		/* build on the newest complete backup */
	int full_every;			/* incremental: a full one every N runs */
	int resume;			/* continue the newest backup when it
					   is incomplete (see below) */
	backup_event_fn on_event;
	void *ud;
};

struct backup_result {
	char id[64];
	uint64_t tables, partitions, rows, bytes, objects;
	uint64_t failed_tables;
	char first_error[2048];
	char base[64];		/* incremental: the backup built on, or "" */
	uint64_t reused;	/* partitions referenced in the base */
	char full_reason[160];	/* incremental asked, full made: why */
	char resumed[64];	/* resume: the backup continued, or "" */
	uint64_t resumed_partitions;	/* taken from its journal */
	char resume_note[200];	/* resume asked, a new backup made: why */
	size_t shards;		/* 1 for one server */
};

/* A shard: its replicas, tried in order; the first that answers (SELECT
 * version()) is the one read from, or restored into. */
struct backup_shard {
	struct clickhouse *replicas;
	size_t nreplicas;
};

/*
 * Take a backup. Takes the store's lock first: when another run holds
 * it, fails with "locked by pid N on HOST since TIME". Returns -1 when
 * any table failed; then no manifest was written (the objects already
 * written stay, as an incomplete backup).
 */
int backup_run(struct store *st, struct clickhouse *ch,
	       const struct backup_options *o, struct backup_result *r,
	       struct err *e);
/* The same for shards[0..n): with n > 1 a sharded backup (see above); a
 * shard none of whose replicas answers fails the backup. */
int backup_run_shards(struct store *st, const struct backup_shard *shards,
		      size_t n, const struct backup_options *o,
		      struct backup_result *r, struct err *e);

/* ---- the lock ---- */
/* Take the lock (an exclusive create). A lock left by a dead process of
 * this host is taken over. */
int backup_lock(struct store *st, struct err *e);
void backup_unlock(struct store *st);

/* ---- listing ---- */
struct backup_info {
	char *id;
	char *time;		/* RFC 3339, UTC */
	int complete;
	int pruned;		/* forgotten by prune; objects kept for others */
	int encrypted;
	uint64_t bytes, rows, tables;
	uint64_t shards;	/* complete: 1 for one server */
	char *server_version;	/* NULL when incomplete */
};
struct backup_infos {
	struct backup_info *v;
	size_t n;
};
/* Every backup in the store, oldest first. */
int backup_list(struct store *st, struct backup_infos *out, struct err *e);
void backup_infos_release(struct backup_infos *l);

/* ---- restore ---- */
struct restore_event {
	const char *database, *table, *partition;
	const char *what;	/* "created", "restored", "skipped", "dropped",
				   "server" (url: a shard's server) */
	uint64_t rows, bytes;
	int shard;		/* restoring shard N into its own server; 0:
				   one server, or every shard into one */
	const char *url;	/* "server": the one picked */
	const char *note;	/* why a table was skipped, or NULL */
	/* The whole run: partitions restored or skipped so far, and all the
	 * partitions it will look at (sizes of the objects in the store),
	 * known before the first event, so a caller can show an ETA. */
	uint64_t done_bytes, total_bytes;
	uint64_t done_rows, total_rows;
};
typedef void (*restore_event_fn)(void *ud, const struct restore_event *ev);

struct restore_options {
	const char *const *db_map;	/* "OLD=NEW" */
	size_t ndb_map;
	const char *const *tables;	/* globs as for backups */
	size_t ntables;
	const struct keys_secret *key;	/* for encrypted backups */
	int drop_existing;
	/* set (by a signal handler) to stop at the next partition, with
	 * "interrupted"; NULL: never */
	const volatile sig_atomic_t *stop;
	restore_event_fn on_event;
	void *ud;
};

struct restore_result {
	uint64_t tables, partitions, skipped, rows, bytes;
};

int restore_run(struct store *st, struct clickhouse *ch, const char *id,
		const struct restore_options *o, struct restore_result *r,
		struct err *e);
/* A sharded backup into n servers: one per shard (shard N into
 * shards[N-1]), or every shard into one (n == 1). Any other n fails
 * before anything is touched; so does n > 1 for a backup of one server. */
int restore_run_shards(struct store *st, const struct backup_shard *shards,
		       size_t n, const char *id,
		       const struct restore_options *o,
		       struct restore_result *r, struct err *e);

/* ---- drill ---- */
/*
 * A restore rehearsal: restore a complete backup into scratch databases
 * (prefix + each database's name) and compare every partition's rows and
 * content checksum there with the values the manifest recorded at backup
 * time, never with the live tables, so a source that changed since does
 * not matter. The scratch databases must not exist beforehand (they are
 * never someone else's data to drop); the ones the drill created are
 * dropped on every way out, failure and o->stop included.
 *
 * Returns 0 when the drill ran to a verdict: r->ok, or the restore's
 * error in r->error and the differences through on_event. Returns -1
 * when it could not run (no such backup, a scratch database exists, the
 * server is unreachable), was stopped, or could not drop its scratch
 * databases (they are named in the error).
 */
struct drill_event {
	const char *database, *table;	/* as backed up; a view's inner
					   table is reported as the view */
	const char *partition;		/* NULL: the table's summary */
	const char *problem;		/* NULL: equal to the manifest */
	uint64_t partitions, rows;	/* summary: what the manifest has */
};
typedef void (*drill_event_fn)(void *ud, const struct drill_event *ev);

struct drill_options {
	const char *prefix;		/* NULL: "drill_" */
	const struct keys_secret *key;
	const volatile sig_atomic_t *stop;
	drill_event_fn on_event;
	void *ud;
};

struct drill_result {
	char id[64];
	int ok;
	uint64_t tables, partitions, rows;	/* compared */
	uint64_t bad_tables, bad_partitions;
	char error[2048];		/* the restore's failure, or "" */
	char scratch[512];		/* the scratch databases, ", "-separated */
};

/* id NULL: the newest complete backup. A drill that ran to a verdict
 * records it in <id>/drill.json (saasctl-backup(5)), replacing the record
 * of an earlier drill of the same backup; failing to write it is -1. */
int backup_drill(struct store *st, struct clickhouse *ch, const char *id,
		 const struct drill_options *o, struct drill_result *r,
		 struct err *e);

#define BACKUP_DRILL_KEY "drill.json"

struct drill_record {
	char id[64];		/* the backup drilled */
	char time[32];		/* RFC 3339, UTC: when the drill ended */
	int ok;
	char summary[2400];
};
/* The newest drill record in the store; *found 0 when there is none. */
int backup_last_drill(struct store *st, struct drill_record *out, int *found,
		      struct err *e);

/* ---- verify ---- */
/*
 * Check a complete backup against its manifest: every object it lists,
 * in this backup or the one holding it, exists with its size. With
 * read_data each is read whole and its BLAKE2b checked; with a key the
 * objects of an encrypted backup are decrypted too, which checks their
 * authentication. Problems go to on_problem and are counted; -1 only
 * when the backup cannot be checked at all (no manifest, store errors).
 */
struct verify_problem {
	const char *key;	/* relative to its backup's folder */
	const char *holder;	/* the backup whose folder holds it */
	const char *problem;
};
typedef void (*verify_problem_fn)(void *ud, const struct verify_problem *p);

struct verify_options {
	int read_data;
	const struct keys_secret *key;	/* NULL: hashes only */
	verify_problem_fn on_problem;
	void *ud;
};

struct verify_result {
	uint64_t objects, bytes, problems;
	int encrypted, decrypted;
};

int backup_verify(struct store *st, const char *id,
		  const struct verify_options *o, struct verify_result *r,
		  struct err *e);

/* ---- prune ---- */
/*
 * Forget the complete backups the policy does not keep (retention.h),
 * and remove incomplete backups older than the grace period. An object a
 * kept backup references is never deleted: a forgotten backup holding
 * such objects loses its manifest and every other object, and gets
 * BACKUP_PRUNED_KEY listing the backups it is kept for; a later prune
 * deletes the rest once nothing references it. Takes the lock unless
 * dry_run; with dry_run nothing is changed and the events say what would.
 */
#define BACKUP_PRUNED_KEY "pruned.json"

enum prune_action {
	PRUNE_KEEP,		/* kept by the rules in why */
	PRUNE_FORGET,		/* forgotten; its unreferenced objects deleted */
	PRUNE_INCOMPLETE_REMOVE,	/* incomplete, older than the grace */
	PRUNE_INCOMPLETE_KEEP,	/* incomplete, within the grace (running?) */
	PRUNE_PRUNED_KEEP,	/* forgotten earlier, objects still referenced */
	PRUNE_PRUNED_REMOVE,	/* forgotten earlier, nothing referenced now */
};

struct prune_event {
	const char *id;
	const char *time;	/* RFC 3339 */
	enum prune_action action;
	const char *why;	/* the rules, or the reason */
	uint64_t deleted, deleted_bytes;	/* objects (would be) deleted */
	uint64_t kept;		/* objects kept because others reference them */
	const char *kept_for;	/* those backups, ", "-separated, or NULL */
};
typedef void (*prune_event_fn)(void *ud, const struct prune_event *ev);

struct prune_options {
	struct retention_policy policy;
	int64_t now;		/* seconds since the epoch */
	int64_t grace;		/* seconds */
	int dry_run;
	prune_event_fn on_event;
	void *ud;
};

struct prune_result {
	uint64_t kept, forgotten, incomplete_removed;
	uint64_t deleted, deleted_bytes;
};

int backup_prune(struct store *st, const struct prune_options *o,
		 struct prune_result *r, struct err *e);

/*
 * The "s" a noun takes after a count in a message: "" for 1, else "s":
 * "1 table", "0 tables"; in "N of M" the noun follows M ("1 of 3
 * tables"). The backup commands print every count through it.
 */
const char *backup_plural(uint64_t n);

/* ---- the manifest ---- */
/*
 * Manifest text (<id>/manifest.json) into the JSON every reader walks
 * (list, verify, prune, restore, drill, an incremental's base). The store
 * may hold a manifest someone else wrote, so it is checked here, once,
 * for everything a reader relies on: the format, an RFC 3339 "time",
 * "tables" and "objects" lists whose entries have their members with the
 * right types, object keys the store accepts, BLAKE2b digests of 64 hex
 * digits, holders ("backup") and "bases" that are backup IDs, and the
 * "encryption" recipients. Returns -1 with the first problem found, named
 * by its place ("tables[2].partitions[0] has no 'rows'"). *out: release
 * with json_decref().
 */
struct json_t;
int backup_manifest_parse(struct json_t **out, const char *text, size_t len,
			  struct err *e);

/* Key escaping, for tests. */
int backup_escape_name(struct strbuf *out, const char *name);

#endif
