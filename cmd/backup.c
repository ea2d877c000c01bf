/*
 * saasctl backup clickhouse | list, and restore clickhouse: arguments,
 * settings and output. The work is src/backup.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "progress.h"
#include "../src/backup.h"
#include "../src/clock.h"
#include "../src/hc.h"
#include "../src/keys.h"
#include "../src/monorepo.h"

struct strv {
	const char **v;
	size_t n;
};

static void strv_add(struct strv *s, const char *x)
{
	s->v = realloc(s->v, (s->n + 1) * sizeof(*s->v));
	if (!s->v)
		abort();
	s->v[s->n++] = x;
}

/* The monorepo when there is one: backups run from cron jobs too. */
static int open_repo(struct cmd_ctx *ctx, struct monorepo **repo)
{
	struct err e = { "" };

	if (monorepo_open_optional(repo, ctx->dir, &e) < 0)
		return cmd_fail_err(ctx, &e);
	return 0;
}

static int open_store(struct cmd_ctx *ctx, struct monorepo *repo,
		      const char *flag, struct store **st)
{
	struct err e = { "" };
	const char *url = flag ? flag :
		repo ? monorepo_get(repo, "backups.store") :
		getenv("SAASCTL_BACKUP_STORE");

	if (store_open(st, url, &e) < 0)
		return cmd_fail_err(ctx, &e);
	return 0;
}

static int open_clickhouse(struct cmd_ctx *ctx, struct monorepo *repo,
			   const char *flag, struct clickhouse *ch)
{
	struct err e = { "" };
	const char *url = flag ? flag :
		repo ? monorepo_get(repo, "clickhouse.url") :
		getenv("SAASCTL_CLICKHOUSE_URL");
	const char *user = repo ? monorepo_get(repo, "clickhouse.user") :
		getenv("SAASCTL_CLICKHOUSE_USER");
	const char *const *const *groups = NULL;

	/* a drill restores every shard into one server: the first one's */
	if (!url && repo && monorepo_get_lists(repo, "clickhouse.shards", &groups))
		url = groups[0][0];

	if (!url)
		return cmd_fail(ctx, "no ClickHouse URL (give --url, set "
				"clickhouse.url or SAASCTL_CLICKHOUSE_URL)");
	if (clickhouse_init(ch, url, user, NULL, &e) < 0)
		return cmd_fail_err(ctx, &e);
	return 0;
}

/* The ClickHouse servers of a backup or a restore, one per shard. */
struct shards {
	struct backup_shard *v;
	size_t n;
};

static void shards_release(struct shards *s)
{
	for (size_t i = 0; i < s->n; i++) {
		for (size_t k = 0; k < s->v[i].nreplicas; k++)
			clickhouse_release(&s->v[i].replicas[k]);
		free(s->v[i].replicas);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* One shard: "URL" or "URL,URL..." (its replicas, in order). */
static int shards_add(struct shards *s, const char *urls, const char *user,
		      struct err *e)
{
	char *copy = strdup(urls), *tok, *save = NULL;
	struct backup_shard *sh;
	int ret = 0;

	s->v = realloc(s->v, (s->n + 1) * sizeof(*s->v));
	if (!copy || !s->v)
		abort();
	sh = &s->v[s->n++];
	memset(sh, 0, sizeof(*sh));
	for (tok = strtok_r(copy, ",", &save); tok && !ret;
	     tok = strtok_r(NULL, ",", &save)) {
		sh->replicas = realloc(sh->replicas, (sh->nreplicas + 1) *
				       sizeof(*sh->replicas));
		if (!sh->replicas)
			abort();
		memset(&sh->replicas[sh->nreplicas], 0, sizeof(*sh->replicas));
		ret = clickhouse_init(&sh->replicas[sh->nreplicas], tok, user, NULL, e);
		if (!ret)
			sh->nreplicas++;
	}
	if (!ret && !sh->nreplicas)
		ret = err_set(e, "'%s' names no ClickHouse server", urls);
	free(copy);
	return ret;
}

/*
 * Each --url is a shard (its replicas comma-separated); else
 * clickhouse.shards (SAASCTL_CLICKHOUSE_SHARDS); else clickhouse.url
 * (SAASCTL_CLICKHOUSE_URL).
 */
static int open_shards(struct cmd_ctx *ctx, struct monorepo *repo,
		       const struct strv *flags, struct shards *out)
{
	struct err e = { "" };
	const char *user = repo ? monorepo_get(repo, "clickhouse.user") :
		getenv("SAASCTL_CLICKHOUSE_USER");
	const char *url = repo ? monorepo_get(repo, "clickhouse.url") :
		getenv("SAASCTL_CLICKHOUSE_URL");
	const char *env = getenv("SAASCTL_CLICKHOUSE_SHARDS");
	const char *const *const *groups = NULL;
	size_t ngroups = repo ? monorepo_get_lists(repo, "clickhouse.shards",
						   &groups) : 0;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (flags->n) {
		for (size_t i = 0; i < flags->n && !r; i++)
			r = shards_add(out, flags->v[i], user, &e);
	} else if (ngroups) {
		struct strbuf one = STRBUF_INIT;

		strbuf_init(&one, 0);
		for (size_t i = 0; i < ngroups && !r; i++) {
			strbuf_reset(&one);
			for (size_t k = 0; groups[i][k]; k++)
				strbuf_addf(&one, "%s%s", k ? "," : "", groups[i][k]);
			r = shards_add(out, one.buf, user, &e);
		}
		strbuf_release(&one);
	} else if (!repo && env && *env) {
		char *copy = strdup(env), *tok, *save = NULL;

		for (tok = strtok_r(copy, " ", &save); tok && !r;
		     tok = strtok_r(NULL, " ", &save))
			r = shards_add(out, tok, user, &e);
		free(copy);
	} else if (url) {
		r = shards_add(out, url, user, &e);
	}
	if (r < 0) {
		shards_release(out);
		return cmd_fail_err(ctx, &e);
	}
	if (!out->n)
		return cmd_fail(ctx, "no ClickHouse URL (give --url, set "
				"clickhouse.url or SAASCTL_CLICKHOUSE_URL)");
	return 0;
}

/*
 * --ping CHECK: the start ping with a new run ID. A check that cannot be
 * set up fails the command; a start ping that does not arrive is a
 * warning (the job still runs, and its end is pinged).
 */
static int ping_start(struct cmd_ctx *ctx, struct monorepo *repo,
		      const char *check, struct hc *hc, char rid[37], int *hc_on)
{
	struct err e = { "" };

	if (hc_init(hc, repo, &e) < 0)
		return cmd_fail_err(ctx, &e);
	*hc_on = 1;
	hc_new_rid(rid);
	if (hc_start(hc, check, rid, &e) < 0)
		cmd_warn(ctx, "%s", e.msg);
	return 0;
}

/* ---------------------------------------------------------------- */

struct bk_out {
	struct cmd_ctx *ctx;
	struct progress bar;
	uint64_t rows;		/* exported so far */
};

static void on_event(void *ud, const struct backup_event *ev)
{
	struct bk_out *o = ud;
	char sz[32], shard[48] = "";
	const char *name;

	if (ev->kind == BACKUP_EV_REPLICA) {
		if (ev->shard)
			snprintf(shard, sizeof(shard), "shard %d ", ev->shard);
		if (o->ctx->json) {
			json_t *j = json_pack("{s:s, s:s, s:b}", "event", "replica",
					      "url", ev->url, "ok", !ev->error);

			if (ev->shard)
				json_object_set_new(j, "shard", json_integer(ev->shard));
			if (ev->error)
				json_object_set_new(j, "error", json_string(ev->error));
			json_dumpf(j, stdout, JSON_COMPACT);
			fputc('\n', stdout);
			json_decref(j);
		} else {
			progress_clear(&o->bar);
			if (ev->error)
				printf("down    %s%s: %s\n", shard, ev->url, ev->error);
			else
				printf("server  %s%s\n", shard, ev->url);
		}
		fflush(stdout);
		return;
	}
	if (o->ctx->json) {
		json_t *j = json_pack("{s:s, s:s, s:s}", "event",
				      ev->kind == BACKUP_EV_TABLE ? "table" :
				      ev->kind == BACKUP_EV_PARTITION ? "partition" :
				      "retry", "database", ev->database, "table",
				      ev->table);

		if (ev->shard)
			json_object_set_new(j, "shard", json_integer(ev->shard));
		if (ev->inner_of)
			json_object_set_new(j, "inner_of", json_string(ev->inner_of));
		if (ev->partition)
			json_object_set_new(j, "partition", json_string(ev->partition));
		if (ev->kind != BACKUP_EV_RETRY) {
			json_object_set_new(j, "rows", json_integer((json_int_t)ev->rows));
			json_object_set_new(j, "bytes", json_integer((json_int_t)ev->bytes));
		}
		if (ev->kind == BACKUP_EV_TABLE) {
			json_object_set_new(j, "ok", json_boolean(!ev->error));
			json_object_set_new(j, "unchanged_partitions",
					    json_integer((json_int_t)ev->reused));
		}
		if (ev->error)
			json_object_set_new(j, "error", json_string(ev->error));
		json_dumpf(j, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		fflush(stdout);
		json_decref(j);
		return;
	}
	if (ev->kind == BACKUP_EV_PARTITION) {
		char what[512];

		o->rows += ev->rows;
		snprintf(what, sizeof(what), "%s.%s %s", ev->database, ev->table,
			 ev->partition);
		progress_show(&o->bar, ev->done_bytes, 0, o->rows, 0, what);
		return;
	}
	if (ev->kind != BACKUP_EV_TABLE)
		return;
	progress_clear(&o->bar);
	progress_human(sz, sizeof(sz), ev->bytes);
	/* an inner table by its view's name: ".inner_id.<uuid>" says little */
	snprintf(shard, sizeof(shard), "%s%s", ev->inner_of ? " (inner table)" : "",
		 ev->shard ? " (shard " : "");
	if (ev->shard)
		snprintf(shard + strlen(shard), sizeof(shard) - strlen(shard),
			 "%d)", ev->shard);
	name = ev->inner_of ? ev->inner_of : ev->table;
	if (ev->error)
		printf("failed  %s.%s%s: %s\n", ev->database, name, shard,
		       ev->error);
	else if (ev->reused)
		printf("ok      %s.%s%s  %" PRIu64 " row%s  %s  %" PRIu64
		       " unchanged partition%s referenced\n", ev->database,
		       name, shard, ev->rows, backup_plural(ev->rows), sz,
		       ev->reused, backup_plural(ev->reused));
	else
		printf("ok      %s.%s%s  %" PRIu64 " row%s  %s\n", ev->database,
		       name, shard, ev->rows, backup_plural(ev->rows), sz);
	fflush(stdout);
}

/* Public keys: paths relative to the monorepo root when from saasctl.yaml. */
static int load_recipients(struct cmd_ctx *ctx, struct monorepo *repo,
			   struct strv *flags, struct keys_public **out,
			   size_t *n)
{
	const char *const *items = NULL;
	size_t count = flags->n;
	int from_repo = 0;
	struct err e = { "" };

	*out = NULL;
	*n = 0;
	if (!count && repo) {
		count = monorepo_get_list(repo, "backups.encrypt_to", &items);
		from_repo = 1;
	} else {
		items = flags->v;
	}
	if (!count)
		return 0;
	*out = calloc(count, sizeof(**out));
	for (size_t i = 0; i < count; i++) {
		char *path = from_repo && items[i][0] != '/' ?
			monorepo_path(repo, items[i]) : strdup(items[i]);
		int r = keys_public_load(&(*out)[i], path, &e);

		free(path);
		if (r < 0)
			return cmd_fail_err(ctx, &e);
	}
	*n = count;
	return 0;
}

static int cmd_backup_clickhouse(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "db", required_argument, NULL, 'd' },
		{ "table", required_argument, NULL, 't' },
		{ "store", required_argument, NULL, 's' },
		{ "encrypt-to", required_argument, NULL, 'E' },
		{ "parallel", required_argument, NULL, 'P' },
		{ "ping", required_argument, NULL, 'p' },
		{ "incremental", no_argument, NULL, 'I' },
		{ "full-every", required_argument, NULL, 'F' },
		{ "resume", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	struct strv dbs = { 0 }, tables = { 0 }, enc = { 0 }, urls = { 0 };
	const char *full_every = NULL;
	int incremental = 0;
	const char *store_url = NULL, *ping = NULL;
	struct monorepo *repo = NULL;
	struct store *st = NULL;
	struct shards shards = { 0 };
	struct keys_public *recips = NULL;
	struct backup_options o = { 0 };
	struct backup_result r;
	struct bk_out out = { .ctx = ctx };
	struct hc hc;
	int hc_on = 0, c, status = EXIT_FAIL;
	char rid[37], summary[600], sz[32], nshards[32] = "";
	struct err e = { "" };
	long parallel = BACKUP_PARALLEL;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'u': strv_add(&urls, optarg); break;
		case 'd': strv_add(&dbs, optarg); break;
		case 't': strv_add(&tables, optarg); break;
		case 's': store_url = optarg; break;
		case 'E': strv_add(&enc, optarg); break;
		case 'p': ping = optarg; break;
		case 'I': incremental = 1; break;
		case 'R': o.resume = 1; break;
		case 'F': full_every = optarg; incremental = 1; break;
		case 'P': {
			char *end;

			parallel = strtol(optarg, &end, 10);
			if (*end || parallel < 1 || parallel > 64)
				return cmd_usage_error(ctx, "--parallel wants 1 to 64, not '%s'",
						       optarg);
			break;
		}
		default:
			return cmd_option_error(ctx, c, argv);
		}
	}
	if (optind < argc)
		return cmd_usage_error(ctx, "unexpected argument '%s'", argv[optind]);
	if (open_repo(ctx, &repo) != 0)
		goto done;
	if (!dbs.n && repo) {
		const char *const *items;
		size_t n = monorepo_get_list(repo, "backups.databases", &items);

		for (size_t i = 0; i < n; i++)
			strv_add(&dbs, items[i]);
	}
	if (!ping && repo)
		ping = monorepo_get(repo, "backups.ping");
	if (!full_every && repo)
		full_every = monorepo_get(repo, "backups.full_every");
	if (full_every) {
		char *end;
		long n = strtol(full_every, &end, 10);

		if (*end || end == full_every || n < 1 || n > 10000) {
			cmd_usage_error(ctx, "--full-every (backups.full_every) wants "
					"1 to 10000, not '%s'", full_every);
			status = EXIT_USAGE;
			goto done;
		}
		o.full_every = (int)n;
	}
	o.incremental = incremental;
	if (open_store(ctx, repo, store_url, &st) != 0 ||
	    open_shards(ctx, repo, &urls, &shards) != 0 ||
	    load_recipients(ctx, repo, &enc, &recips, &o.nrecipients) != 0)
		goto done;
	if (ping && ping_start(ctx, repo, ping, &hc, rid, &hc_on) != 0)
		goto done;
	o.databases = dbs.v;
	o.ndatabases = dbs.n;
	o.tables = tables.v;
	o.ntables = tables.n;
	o.recipients = recips;
	o.parallel = (int)parallel;
	o.on_event = on_event;
	o.ud = &out;
	progress_start(&out.bar, ctx);
	if (backup_run_shards(st, shards.v, shards.n, &o, &r, &e) < 0) {
		progress_clear(&out.bar);
		snprintf(summary, sizeof(summary), "%s", e.msg);
		if (ctx->json) {
			json_t *j = json_pack("{s:s, s:s, s:b, s:s}", "event", "done",
					      "id", r.id, "ok", 0, "error", e.msg);

			json_dumpf(j, stdout, JSON_COMPACT);
			fputc('\n', stdout);
			json_decref(j);
		}
		cmd_fail_err(ctx, &e);
		if (hc_on && hc_fail(&hc, ping, rid, summary, &e) < 0)
			cmd_warn(ctx, "%s", e.msg);
		goto done;
	}
	progress_human(sz, sizeof(sz), r.bytes);
	if (r.shards > 1)
		snprintf(nshards, sizeof(nshards), "%zu shards, ", r.shards);
	snprintf(summary, sizeof(summary),
		 "backup %s: %s%" PRIu64 " table%s, %" PRIu64 " row%s, %s in %.1f s",
		 r.id, nshards, r.tables, backup_plural(r.tables), r.rows,
		 backup_plural(r.rows), sz,
		 (double)(clock_now_ms() - out.bar.t0) / 1000.0);
	if (r.base[0])
		snprintf(summary + strlen(summary), sizeof(summary) - strlen(summary),
			 "; incremental on %s, %" PRIu64 " of %" PRIu64
			 " partition%s unchanged", r.base, r.reused, r.partitions,
			 backup_plural(r.partitions));
	else if (incremental)
		snprintf(summary + strlen(summary), sizeof(summary) - strlen(summary),
			 "; full: %s", r.full_reason);
	if (r.resumed[0])
		snprintf(summary + strlen(summary), sizeof(summary) - strlen(summary),
			 "; resumed: %" PRIu64 " partition%s reused from its journal",
			 r.resumed_partitions, backup_plural(r.resumed_partitions));
	else if (o.resume)
		snprintf(summary + strlen(summary), sizeof(summary) - strlen(summary),
			 "; new: %s", r.resume_note);
	if (ctx->json) {
		json_t *j = json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:b}", "event",
				      "done", "id", r.id, "ok", 1, "tables",
				      (json_int_t)r.tables, "rows", (json_int_t)r.rows,
				      "bytes", (json_int_t)r.bytes, "encrypted",
				      o.nrecipients > 0);

		json_object_set_new(j, "shards", json_integer((json_int_t)r.shards));
		json_object_set_new(j, "base", r.base[0] ? json_string(r.base) : json_null());
		json_object_set_new(j, "unchanged_partitions", json_integer((json_int_t)r.reused));
		json_object_set_new(j, "resumed", json_boolean(r.resumed[0]));
		json_object_set_new(j, "resumed_partitions",
				    json_integer((json_int_t)r.resumed_partitions));
		json_dumpf(j, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		json_decref(j);
	} else {
		printf("%s\n", summary);
	}
	if (hc_on && hc_success(&hc, ping, rid, summary, &e) < 0)
		cmd_warn(ctx, "%s", e.msg);
	status = EXIT_OK;
done:
	if (hc_on)
		hc_release(&hc);
	free(dbs.v);
	free(tables.v);
	free(enc.v);
	free(urls.v);
	free(recips);
	shards_release(&shards);
	store_close(st);
	monorepo_free(repo);
	return status;
}

static int cmd_backup_list(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store_url = NULL;
	struct monorepo *repo = NULL;
	struct store *st = NULL;
	struct backup_infos l = { 0 };
	struct err e = { "" };
	int c, json = ctx->json, status = EXIT_FAIL;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 's': store_url = optarg; break;
		case 'j': json = 1; break;
		default:
			return cmd_option_error(ctx, c, argv);
		}
	}
	if (optind < argc)
		return cmd_usage_error(ctx, "unexpected argument '%s'", argv[optind]);
	if (open_repo(ctx, &repo) != 0 || open_store(ctx, repo, store_url, &st) != 0)
		goto done;
	if (backup_list(st, &l, &e) < 0) {
		cmd_fail_err(ctx, &e);
		goto done;
	}
	if (json) {
		json_t *a = json_array();

		for (size_t i = 0; i < l.n; i++)
			json_array_append_new(a, json_pack(
				"{s:s, s:s, s:b, s:b, s:b, s:I, s:I, s:I, s:I}", "id",
				l.v[i].id, "time", l.v[i].time, "complete",
				l.v[i].complete, "pruned", l.v[i].pruned,
				"encrypted", l.v[i].encrypted, "bytes",
				(json_int_t)l.v[i].bytes, "rows",
				(json_int_t)l.v[i].rows, "tables",
				(json_int_t)l.v[i].tables, "shards",
				(json_int_t)l.v[i].shards));
		json_dumpf(a, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(a);
	} else {
		if (l.n)
			printf("%-18s  %-20s  %10s  %6s  %6s  %12s  %-9s  %s\n", "ID",
			       "TIME", "SIZE", "SHARDS", "TABLES", "ROWS",
			       "ENCRYPTED", "STATE");
		for (size_t i = 0; i < l.n; i++) {
			char sz[32];

			progress_human(sz, sizeof(sz), l.v[i].bytes);
			if (l.v[i].complete)
				printf("%-18s  %-20s  %10s  %6" PRIu64 "  %6" PRIu64
				       "  %12" PRIu64 "  %-9s  complete\n", l.v[i].id,
				       l.v[i].time, sz, l.v[i].shards, l.v[i].tables,
				       l.v[i].rows, l.v[i].encrypted ? "yes" : "no");
			else
				printf("%-18s  %-20s  %10s  %6s  %6s  %12s  %-9s  %s\n",
				       l.v[i].id, l.v[i].time, sz, "-", "-", "-", "-",
				       l.v[i].pruned ? "pruned" : "incomplete");
		}
	}
	status = EXIT_OK;
done:
	backup_infos_release(&l);
	store_close(st);
	monorepo_free(repo);
	return status;
}

/* ---------------------------------------------------------------- */

struct vf_out {
	struct cmd_ctx *ctx;
	int json;
	json_t *problems;	/* of the backup being checked */
};

static void on_problem(void *ud, const struct verify_problem *p)
{
	struct vf_out *o = ud;

	json_array_append_new(o->problems, json_pack("{s:s, s:s, s:s}", "key",
						     p->key, "backup", p->holder,
						     "problem", p->problem));
}

static int cmd_backup_verify(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "all", no_argument, NULL, 'a' },
		{ "read-data", no_argument, NULL, 'r' },
		{ "key", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store_url = NULL, *keyfile = NULL, *id = NULL;
	struct monorepo *repo = NULL;
	struct store *st = NULL;
	struct keys_secret *k = NULL;
	struct backup_infos l = { 0 };
	struct verify_options o = { 0 };
	struct vf_out out = { ctx, ctx->json, NULL };
	json_t *report = json_array();
	struct err e = { "" };
	int c, all = 0, status = EXIT_FAIL, bad = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":k:", opts, NULL)) != -1) {
		switch (c) {
		case 's': store_url = optarg; break;
		case 'a': all = 1; break;
		case 'r': o.read_data = 1; break;
		case 'k': keyfile = optarg; break;
		case 'j': out.json = 1; break;
		default:
			json_decref(report);
			return cmd_option_error(ctx, c, argv);
		}
	}
	if (optind < argc)
		id = argv[optind++];
	if (optind < argc || (id && all)) {
		json_decref(report);
		return cmd_usage_error(ctx, "give one backup ID or --all");
	}
	if (open_repo(ctx, &repo) != 0 || open_store(ctx, repo, store_url, &st) != 0)
		goto done;
	if (keyfile && keys_secret_load(&k, keyfile, &e) < 0) {
		cmd_fail_err(ctx, &e);
		goto done;
	}
	o.key = k;
	o.on_problem = on_problem;
	o.ud = &out;
	if (backup_list(st, &l, &e) < 0) {
		cmd_fail_err(ctx, &e);
		goto done;
	}
	if (!id && !all) {
		for (size_t i = l.n; i-- > 0 && !id;)
			if (l.v[i].complete)
				id = l.v[i].id;
		if (!id) {
			cmd_fail(ctx, "no complete backup in the store");
			goto done;
		}
	}
	for (size_t i = 0; i < l.n || (id && i == 0); i++) {
		const char *bid = id ? id : l.v[i].id;
		struct verify_result r;
		json_t *j;
		char sz[32];

		if (!id && !l.v[i].complete) {
			json_array_append_new(report, json_pack("{s:s, s:s}", "id", bid,
								"verdict", "incomplete"));
			if (!out.json)
				printf("%-10s %s  not checked: no manifest\n", "incomplete", bid);
			continue;
		}
		out.problems = json_array();
		if (backup_verify(st, bid, &o, &r, &e) < 0) {
			json_decref(out.problems);
			cmd_fail_err(ctx, &e);
			goto done;
		}
		bad |= r.problems > 0;
		j = json_pack("{s:s, s:s, s:I, s:I, s:b, s:b, s:b, s:o}", "id", bid,
			      "verdict", r.problems ? "bad" : "ok", "objects",
			      (json_int_t)r.objects, "bytes", (json_int_t)r.bytes,
			      "read_data", o.read_data, "encrypted", r.encrypted,
			      "decrypted", r.decrypted, "problems", out.problems);
		json_array_append_new(report, j);
		if (out.json)
			continue;
		progress_human(sz, sizeof(sz), r.bytes);
		if (!r.problems)
			printf("%-10s %s  %" PRIu64 " object%s, %s: %s\n", "ok", bid,
			       r.objects, backup_plural(r.objects), sz, !o.read_data ? "present with their sizes" :
			       r.decrypted ? "hashes match, decrypted" :
			       r.encrypted ? "hashes match (give -k to decrypt too)" :
			       "hashes match");
		else
			printf("%-10s %s  %" PRIu64 " of %" PRIu64 " object%s %s problems\n",
			       "BAD", bid, r.problems, r.objects, backup_plural(r.objects),
			       r.problems == 1 ? "has" : "have");
		for (size_t p = 0; p < json_array_size(out.problems); p++) {
			json_t *x = json_array_get(out.problems, p);
			const char *holder = json_string_value(json_object_get(x, "backup"));

			printf("  '%s'%s%s%s %s\n",
			       json_string_value(json_object_get(x, "key")),
			       strcmp(holder, bid) ? " (in " : "",
			       strcmp(holder, bid) ? holder : "",
			       strcmp(holder, bid) ? ")" : "",
			       json_string_value(json_object_get(x, "problem")));
		}
		if (id)
			break;
	}
	if (out.json) {
		json_dumpf(report, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	}
	status = bad ? EXIT_FAIL : EXIT_OK;
	if (bad && !ctx->quiet)
		fprintf(stderr, "saasctl: backup verify: problems found\n");
done:
	json_decref(report);
	keys_secret_free(k);
	backup_infos_release(&l);
	store_close(st);
	monorepo_free(repo);
	return status;
}

/* ---------------------------------------------------------------- */

static const char *const prune_words[][2] = {
	[PRUNE_KEEP] = { "keep", "keep" },
	[PRUNE_FORGET] = { "forget", "would forget" },
	[PRUNE_INCOMPLETE_REMOVE] = { "remove", "would remove" },
	[PRUNE_INCOMPLETE_KEEP] = { "wait", "wait" },
	[PRUNE_PRUNED_KEEP] = { "held", "held" },
	[PRUNE_PRUNED_REMOVE] = { "remove", "would remove" },
};
static const char *const prune_json[] = {
	[PRUNE_KEEP] = "keep", [PRUNE_FORGET] = "forget",
	[PRUNE_INCOMPLETE_REMOVE] = "remove_incomplete",
	[PRUNE_INCOMPLETE_KEEP] = "keep_incomplete",
	[PRUNE_PRUNED_KEEP] = "keep_referenced",
	[PRUNE_PRUNED_REMOVE] = "remove_pruned",
};

struct pr_out {
	int json, dry_run;
	json_t *list;
};

static void on_prune(void *ud, const struct prune_event *ev)
{
	struct pr_out *o = ud;

	if (o->json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "id", ev->id,
				      "time", ev->time, "action", prune_json[ev->action],
				      "why", ev->why ? ev->why : "", "deleted_objects",
				      (json_int_t)ev->deleted, "deleted_bytes",
				      (json_int_t)ev->deleted_bytes, "kept_objects",
				      (json_int_t)ev->kept);

		json_object_set_new(j, "kept_for", ev->kept_for ?
				    json_string(ev->kept_for) : json_null());
		json_array_append_new(o->list, j);
		return;
	}
	printf("%-13s %-20s %-20s %s", prune_words[ev->action][o->dry_run], ev->id,
	       ev->time, ev->why ? ev->why : "");
	if (ev->deleted)
		printf("; %" PRIu64 " object%s %s", ev->deleted,
		       backup_plural(ev->deleted),
		       o->dry_run ? "would be deleted" : "deleted");
	if (ev->kept)
		printf("; %" PRIu64 " object%s kept for %s", ev->kept,
		       backup_plural(ev->kept),
		       ev->kept_for ? ev->kept_for : "?");
	putchar('\n');
}

/* N, or "unlimited" (-1). */
static int keep_count(const char *s, int *out)
{
	char *end;
	long v;

	if (!strcmp(s, "unlimited")) {
		*out = -1;
		return 0;
	}
	v = strtol(s, &end, 10);
	if (end == s || *end || v < 0 || v > 1000000)
		return -1;
	*out = (int)v;
	return 0;
}

/* SAASCTL_NOW: RFC 3339 in UTC, or @SECONDS; else the clock. */
static int prune_now(struct cmd_ctx *ctx, int64_t *now)
{
	const char *s = getenv("SAASCTL_NOW");
	struct tm tm;
	char *end;

	*now = (int64_t)time(NULL);
	if (!s || !*s)
		return 0;
	if (s[0] == '@') {
		long long v = strtoll(s + 1, &end, 10);

		if (end != s + 1 && !*end) {
			*now = v;
			return 0;
		}
	} else {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
		if (end && (!strcmp(end, "Z") || !*end)) {
			*now = (int64_t)timegm(&tm);
			return 0;
		}
	}
	return cmd_fail(ctx, "SAASCTL_NOW '%s' is not a UTC time such as "
			"2026-01-31T03:00:00Z or @SECONDS", s);
}

static int cmd_backup_prune(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "keep-last", required_argument, NULL, RETENTION_LAST + 1 },
		{ "keep-hourly", required_argument, NULL, RETENTION_HOURLY + 1 },
		{ "keep-daily", required_argument, NULL, RETENTION_DAILY + 1 },
		{ "keep-weekly", required_argument, NULL, RETENTION_WEEKLY + 1 },
		{ "keep-monthly", required_argument, NULL, RETENTION_MONTHLY + 1 },
		{ "keep-yearly", required_argument, NULL, RETENTION_YEARLY + 1 },
		{ "keep-within", required_argument, NULL, 'w' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const yaml_keys[RETENTION_NRULES] = {
		"backups.keep.last", NULL, "backups.keep.daily",
		"backups.keep.weekly", "backups.keep.monthly", NULL,
	};
	const char *store_url = NULL, *within = NULL;
	struct monorepo *repo = NULL;
	struct store *st = NULL;
	struct prune_options o = { 0 };
	struct prune_result r;
	struct pr_out out = { ctx->json, 0, json_array() };
	struct err e = { "" };
	int c, given = 0, status = EXIT_FAIL;
	char sz[32];

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 's': store_url = optarg; break;
		case 'w': within = optarg; given = 1; break;
		case 'n': o.dry_run = 1; break;
		case 'j': out.json = 1; break;
		default:
			if (c >= 1 && c <= RETENTION_NRULES) {
				if (keep_count(optarg, &o.policy.count[c - 1]) < 0) {
					json_decref(out.list);
					return cmd_usage_error(ctx, "--%s wants a count or "
							       "'unlimited', not '%s'",
							       opts[c].name, optarg);
				}
				given = 1;
				break;
			}
			json_decref(out.list);
			return cmd_option_error(ctx, c, argv);
		}
	}
	if (optind < argc) {
		json_decref(out.list);
		return cmd_usage_error(ctx, "unexpected argument '%s'", argv[optind]);
	}
	out.dry_run = o.dry_run;
	if (open_repo(ctx, &repo) != 0)
		goto done;
	/* the rules given replace saasctl.yaml's as a whole */
	if (!given && repo) {
		for (int i = 0; i < RETENTION_NRULES; i++) {
			const char *v = yaml_keys[i] ? monorepo_get(repo, yaml_keys[i]) : NULL;

			if (v && keep_count(v, &o.policy.count[i]) < 0) {
				cmd_fail(ctx, "%s: '%s' is not a count", yaml_keys[i], v);
				goto done;
			}
		}
		within = monorepo_get(repo, "backups.keep.within");
	}
	if (within && retention_parse_within(&o.policy, within, &e) < 0) {
		cmd_fail_err(ctx, &e);
		goto done;
	}
	if (retention_empty(&o.policy)) {
		cmd_usage_error(ctx, "no retention rule: give --keep-* or set backups.keep");
		status = EXIT_USAGE;
		goto done;
	}
	if (prune_now(ctx, &o.now) != 0 || open_store(ctx, repo, store_url, &st) != 0)
		goto done;
	o.grace = 24 * 3600;
	o.on_event = on_prune;
	o.ud = &out;
	if (backup_prune(st, &o, &r, &e) < 0) {
		cmd_fail_err(ctx, &e);
		goto done;
	}
	if (out.json) {
		json_t *j = json_pack("{s:b, s:o, s:I, s:I, s:I, s:I, s:I}", "dry_run",
				      o.dry_run, "backups", json_incref(out.list), "kept",
				      (json_int_t)r.kept, "forgotten",
				      (json_int_t)r.forgotten, "incomplete_removed",
				      (json_int_t)r.incomplete_removed, "deleted_objects",
				      (json_int_t)r.deleted, "deleted_bytes",
				      (json_int_t)r.deleted_bytes);

		json_dumpf(j, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(j);
	} else {
		progress_human(sz, sizeof(sz), r.deleted_bytes);
		printf("%s%" PRIu64 " kept, %" PRIu64 " forgotten, %" PRIu64
		       " incomplete removed; %" PRIu64 " object%s (%s) %s\n",
		       o.dry_run ? "dry run: " : "", r.kept, r.forgotten,
		       r.incomplete_removed, r.deleted, backup_plural(r.deleted), sz,
		       o.dry_run ? "would be deleted" : "deleted");
	}
	status = EXIT_OK;
done:
	json_decref(out.list);
	store_close(st);
	monorepo_free(repo);
	return status;
}

/* ---------------------------------------------------------------- */

static volatile sig_atomic_t drill_signal;

static void on_drill_signal(int sig)
{
	drill_signal = sig;
}

struct dr_out {
	json_t *tables;		/* the report, table by table */
	json_t *pending;	/* partitions that differ, of the next table */
};

static void on_drill(void *ud, const struct drill_event *ev)
{
	struct dr_out *o = ud;
	json_t *t;

	if (ev->partition) {
		json_array_append_new(o->pending, json_pack("{s:s, s:s}", "partition",
							     ev->partition, "problem",
							     ev->problem));
		return;
	}
	t = json_pack("{s:s, s:s, s:s, s:I, s:I}", "database", ev->database,
		      "table", ev->table, "verdict", ev->problem ? "bad" : "ok",
		      "partitions", (json_int_t)ev->partitions,
		      "rows", (json_int_t)ev->rows);
	json_object_set_new(t, "problem", ev->problem ? json_string(ev->problem) :
			    json_null());
	json_object_set_new(t, "differences", o->pending);
	o->pending = json_array();
	json_array_append_new(o->tables, t);
}

/* The job summary of GitHub Actions gets a Markdown table. */
static void drill_step_summary(struct cmd_ctx *ctx, const struct drill_result *r,
			       json_t *tables)
{
	const char *path = getenv("GITHUB_STEP_SUMMARY");
	json_t *t;
	size_t i;
	FILE *f;
	int bad = 0;

	if (!path || !*path)
		return;
	f = fopen(path, "a");
	if (!f) {
		cmd_warn(ctx, "cannot write GITHUB_STEP_SUMMARY '%s': %s", path,
			 strerror(errno));
		return;
	}
	fprintf(f, "### Backup drill `%s`: %s\n\n", r->id, r->ok ? "passed" : "FAILED");
	if (r->error[0])
		fprintf(f, "Restore failed: `%s`\n\n", r->error);
	fprintf(f, "| table | partitions | rows | result |\n|---|---:|---:|---|\n");
	json_array_foreach(tables, i, t) {
		const char *problem = json_string_value(json_object_get(t, "problem"));
		json_t *d;
		size_t k;

		fprintf(f, "| %s.%s | %" JSON_INTEGER_FORMAT " | %" JSON_INTEGER_FORMAT
			" | %s |\n", json_string_value(json_object_get(t, "database")),
			json_string_value(json_object_get(t, "table")),
			json_integer_value(json_object_get(t, "partitions")),
			json_integer_value(json_object_get(t, "rows")),
			problem ? problem : "ok");
		json_array_foreach(json_object_get(t, "differences"), k, d)
			fprintf(f, "| &nbsp;&nbsp;partition `%s` | | | %s |\n",
				json_string_value(json_object_get(d, "partition")),
				json_string_value(json_object_get(d, "problem")));
	}
	fputc('\n', f);
	if (ferror(f))
		bad = 1;
	if (fclose(f) != 0 || bad)
		cmd_warn(ctx, "cannot write GITHUB_STEP_SUMMARY '%s': %s", path,
			 strerror(errno));
}

static int cmd_backup_drill(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "store", required_argument, NULL, 's' },
		{ "scratch-prefix", required_argument, NULL, 'P' },
		{ "key", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "ping", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = NULL, *store_url = NULL, *keyfile = NULL, *id = NULL;
	const char *ping = NULL;
	struct monorepo *repo = NULL;
	struct store *st = NULL;
	struct clickhouse ch = { 0 };
	struct keys_secret *k = NULL;
	struct drill_options o = { 0 };
	struct drill_result r;
	struct dr_out out = { json_array(), json_array() };
	struct sigaction sa, old_int, old_term;
	struct hc hc;
	char rid[37], summary[2400];
	struct err e = { "" };
	int c, json = ctx->json, hc_on = 0, status = EXIT_FAIL, sigs = 0;
	int64_t t0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":k:", opts, NULL)) != -1) {
		switch (c) {
		case 'u': url = optarg; break;
		case 's': store_url = optarg; break;
		case 'P': o.prefix = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'j': json = 1; break;
		case 'p': ping = optarg; break;
		default:
			json_decref(out.tables);
			json_decref(out.pending);
			return cmd_option_error(ctx, c, argv);
		}
	}
	if (optind < argc)
		id = argv[optind++];
	if (optind < argc) {
		json_decref(out.tables);
		json_decref(out.pending);
		return cmd_usage_error(ctx, "unexpected argument '%s'", argv[optind]);
	}
	if (open_repo(ctx, &repo) != 0 || open_store(ctx, repo, store_url, &st) != 0 ||
	    open_clickhouse(ctx, repo, url, &ch) != 0)
		goto done;
	if (keyfile && keys_secret_load(&k, keyfile, &e) < 0) {
		cmd_fail_err(ctx, &e);
		goto done;
	}
	if (ping && ping_start(ctx, repo, ping, &hc, rid, &hc_on) != 0)
		goto done;
	/* a signal stops the drill at its next statement, which then drops
	 * the scratch databases; a second one kills as usual */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_drill_signal;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigs = 1;
	o.key = k;
	o.stop = &drill_signal;
	o.on_event = on_drill;
	o.ud = &out;
	t0 = clock_now_ms();
	if (backup_drill(st, &ch, id, &o, &r, &e) < 0) {
		if (drill_signal)
			snprintf(summary, sizeof(summary), "drill %s: interrupted by %s; "
				 "scratch databases dropped", r.id[0] ? r.id : "",
				 strsignal(drill_signal));
		else
			snprintf(summary, sizeof(summary), "%s", e.msg);
		cmd_fail_err(ctx, &e);
		if (hc_on && hc_fail(&hc, ping, rid, summary, &e) < 0)
			cmd_warn(ctx, "%s", e.msg);
		if (drill_signal)
			status = 128 + drill_signal;
		goto done;
	}
	if (r.ok)
		snprintf(summary, sizeof(summary), "drill %s: ok: %" PRIu64 " table%s, %"
			 PRIu64 " partition%s, %" PRIu64 " row%s restored into %s and "
			 "equal to the backup in %.1f s; scratch dropped", r.id,
			 r.tables, backup_plural(r.tables), r.partitions,
			 backup_plural(r.partitions), r.rows, backup_plural(r.rows),
			 r.scratch,
			 (double)(clock_now_ms() - t0) / 1000.0);
	else
		snprintf(summary, sizeof(summary), "drill %s: FAILED: %" PRIu64 " of %"
			 PRIu64 " table%s differ%s from the backup (%" PRIu64
			 " partition%s)%s%s; scratch dropped", r.id, r.bad_tables,
			 r.tables, backup_plural(r.tables), r.bad_tables == 1 ? "s" : "",
			 r.bad_partitions, backup_plural(r.bad_partitions),
			 r.error[0] ? "; " : "", r.error);
	if (json) {
		json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:b, s:O}",
				      "id", r.id, "verdict", r.ok ? "ok" : "failed",
				      "tables_compared", (json_int_t)r.tables,
				      "partitions", (json_int_t)r.partitions,
				      "rows", (json_int_t)r.rows,
				      "bad_tables", (json_int_t)r.bad_tables,
				      "bad_partitions", (json_int_t)r.bad_partitions,
				      "scratch", r.scratch, "scratch_dropped", 1,
				      "tables", out.tables);

		json_object_set_new(j, "error", r.error[0] ? json_string(r.error) : json_null());
		json_object_set_new(j, "seconds",
				    json_real((double)(clock_now_ms() - t0) / 1000.0));
		json_dumpf(j, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(j);
	} else {
		json_t *t, *d;
		size_t i, n;

		json_array_foreach(out.tables, i, t) {
			const char *problem = json_string_value(json_object_get(t, "problem"));

			json_int_t np = json_integer_value(json_object_get(t, "partitions"));
			json_int_t nr = json_integer_value(json_object_get(t, "rows"));

			printf("%-4s %s.%s  %" JSON_INTEGER_FORMAT " partition%s, %"
			       JSON_INTEGER_FORMAT " row%s%s%s\n", problem ? "BAD" : "ok",
			       json_string_value(json_object_get(t, "database")),
			       json_string_value(json_object_get(t, "table")),
			       np, backup_plural((uint64_t)np), nr,
			       backup_plural((uint64_t)nr),
			       problem ? ": " : "", problem ? problem : "");
			json_array_foreach(json_object_get(t, "differences"), n, d)
				printf("       partition %s: %s\n",
				       json_string_value(json_object_get(d, "partition")),
				       json_string_value(json_object_get(d, "problem")));
		}
		printf("%s\n", summary);
	}
	drill_step_summary(ctx, &r, out.tables);
	if (hc_on && (r.ok ? hc_success(&hc, ping, rid, summary, &e) :
		      hc_fail(&hc, ping, rid, summary, &e)) < 0)
		cmd_warn(ctx, "%s", e.msg);
	if (r.ok) {
		status = EXIT_OK;
	} else {
		if (r.error[0])
			cmd_fail(ctx, "drill '%s': %s", r.id, r.error);
		else
			cmd_fail(ctx, "drill '%s': %" PRIu64 " of %" PRIu64
				 " table%s differ%s from the backup", r.id,
				 r.bad_tables, r.tables, backup_plural(r.tables),
				 r.bad_tables == 1 ? "s" : "");
	}
done:
	if (sigs) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	if (hc_on)
		hc_release(&hc);
	json_decref(out.tables);
	json_decref(out.pending);
	keys_secret_free(k);
	clickhouse_release(&ch);
	store_close(st);
	monorepo_free(repo);
	return status;
}

/* ---------------------------------------------------------------- */

struct rs_out {
	struct cmd_ctx *ctx;
	struct progress bar;
};

/* A line per step on stdout; on a terminal, the bar below them. */
static void on_restore(void *ud, const struct restore_event *ev)
{
	struct rs_out *o = ud;
	struct cmd_ctx *ctx = o->ctx;
	char shard[32] = "", what[512];

	if (!strcmp(ev->what, "server")) {
		if (ev->shard)
			snprintf(shard, sizeof(shard), "shard %d ", ev->shard);
		if (ctx->json) {
			json_t *j = json_pack("{s:s, s:s}", "event", "server",
					      "url", ev->url);

			if (ev->shard)
				json_object_set_new(j, "shard", json_integer(ev->shard));
			json_dumpf(j, stdout, JSON_COMPACT);
			fputc('\n', stdout);
			json_decref(j);
		} else {
			progress_clear(&o->bar);
			printf("server   %s%s\n", shard, ev->url);
		}
		fflush(stdout);
		return;
	}
	if (ev->shard)
		snprintf(shard, sizeof(shard), " (shard %d)", ev->shard);
	if (ctx->json) {
		json_t *j = json_pack("{s:s, s:s, s:s}", "event", ev->what,
				      "database", ev->database, "table", ev->table);

		if (ev->partition)
			json_object_set_new(j, "partition", json_string(ev->partition));
		json_object_set_new(j, "rows", json_integer((json_int_t)ev->rows));
		if (ev->shard)
			json_object_set_new(j, "shard", json_integer(ev->shard));
		if (ev->note)
			json_object_set_new(j, "note", json_string(ev->note));
		json_dumpf(j, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		json_decref(j);
		fflush(stdout);
		return;
	}
	progress_clear(&o->bar);
	if (ev->partition) {
		printf("%-8s %s.%s%s partition %s  %" PRIu64 " row%s\n", ev->what,
		       ev->database, ev->table, shard, ev->partition, ev->rows,
		       backup_plural(ev->rows));
	} else {
		printf("%-8s %s.%s%s%s%s\n", ev->what, ev->database, ev->table,
		       shard, ev->note ? ": " : "", ev->note ? ev->note : "");
	}
	fflush(stdout);
	snprintf(what, sizeof(what), "%s.%s%s%s", ev->database, ev->table,
		 ev->partition ? " " : "", ev->partition ? ev->partition : "");
	progress_show(&o->bar, ev->done_bytes, ev->total_bytes, ev->done_rows,
		      ev->total_rows, what);
}

static int cmd_restore_clickhouse(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "store", required_argument, NULL, 's' },
		{ "db-map", required_argument, NULL, 'm' },
		{ "table", required_argument, NULL, 't' },
		{ "key", required_argument, NULL, 'k' },
		{ "drop-existing", no_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	struct strv maps = { 0 }, tables = { 0 }, urls = { 0 };
	const char *store_url = NULL, *keyfile = NULL, *id;
	struct monorepo *repo = NULL;
	struct store *st = NULL;
	struct shards shards = { 0 };
	struct keys_secret *k = NULL;
	struct restore_options o = { 0 };
	struct restore_result r;
	struct rs_out out = { .ctx = ctx };
	struct err e = { "" };
	int c, r2, drop = 0, status = EXIT_FAIL;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":k:", opts, NULL)) != -1) {
		switch (c) {
		case 'u': strv_add(&urls, optarg); break;
		case 's': store_url = optarg; break;
		case 'm':
			if (!strchr(optarg, '=') || optarg[0] == '=' ||
			    !strchr(optarg, '=')[1])
				return cmd_usage_error(ctx, "--db-map wants OLD=NEW, not '%s'",
						       optarg);
			strv_add(&maps, optarg);
			break;
		case 't': strv_add(&tables, optarg); break;
		case 'k': keyfile = optarg; break;
		case 'D': drop = 1; break;
		default:
			return cmd_option_error(ctx, c, argv);
		}
	}
	if (optind >= argc)
		return cmd_usage_error(ctx, "which backup? give its ID (saasctl backup list)");
	id = argv[optind];
	if (optind + 1 < argc)
		return cmd_usage_error(ctx, "unexpected argument '%s'", argv[optind + 1]);
	if (open_repo(ctx, &repo) != 0 || open_store(ctx, repo, store_url, &st) != 0 ||
	    open_shards(ctx, repo, &urls, &shards) != 0)
		goto done;
	if (keyfile && keys_secret_load(&k, keyfile, &e) < 0) {
		cmd_fail_err(ctx, &e);
		goto done;
	}
	o.db_map = maps.v;
	o.ndb_map = maps.n;
	o.tables = tables.v;
	o.ntables = tables.n;
	o.key = k;
	o.drop_existing = drop;
	o.on_event = on_restore;
	o.ud = &out;
	progress_start(&out.bar, ctx);
	r2 = restore_run_shards(st, shards.v, shards.n, id, &o, &r, &e);
	progress_clear(&out.bar);
	if (r2 < 0) {
		cmd_fail_err(ctx, &e);
		goto done;
	}
	if (ctx->json) {
		json_t *j = json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:I}", "event",
				      "done", "id", id, "ok", 1, "partitions",
				      (json_int_t)r.partitions, "skipped",
				      (json_int_t)r.skipped, "rows", (json_int_t)r.rows,
				      "bytes", (json_int_t)r.bytes);

		json_dumpf(j, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		json_decref(j);
	} else {
		printf("restored %s: %" PRIu64 " partition%s, %" PRIu64 " row%s; %"
		       PRIu64 " partition%s already there\n", id, r.partitions,
		       backup_plural(r.partitions), r.rows, backup_plural(r.rows),
		       r.skipped, backup_plural(r.skipped));
	}
	status = EXIT_OK;
done:
	keys_secret_free(k);
	free(maps.v);
	free(tables.v);
	free(urls.v);
	shards_release(&shards);
	store_close(st);
	monorepo_free(repo);
	return status;
}

const struct cmd_entry cmd_backup_clickhouse_entry = {
	.name = "backup clickhouse",
	.usage = "[--url URL[,URL...]]... [--db DB]... [--table GLOB]... [--store URL] "
		 "[--encrypt-to PUB]... [--parallel N] [--ping CHECK] "
		 "[--incremental [--full-every N]] [--resume]",
	.summary = "back up ClickHouse tables to a store, streamed and verified",
	.exec = cmd_backup_clickhouse,
	.secrets = 1,
};

const struct cmd_entry cmd_backup_list_entry = {
	.name = "backup list",
	.usage = "[--store URL] [--json]",
	.summary = "list the backups in a store, complete or not",
	.exec = cmd_backup_list,
};

const struct cmd_entry cmd_backup_verify_entry = {
	.name = "backup verify",
	.usage = "[ID | --all] [--read-data] [-k KEYFILE] [--store URL] [--json]",
	.summary = "check that a backup's objects are all there, or read and check them",
	.exec = cmd_backup_verify,
	.complete = COMPLETE_NONE,
	.secrets = 1,
};

const struct cmd_entry cmd_backup_drill_entry = {
	.name = "backup drill",
	.usage = "[ID] [--url URL] [--store URL] [--scratch-prefix PREFIX] "
		 "[-k KEYFILE] [--json] [--ping CHECK]",
	.summary = "restore a backup into scratch databases and prove it equal to its manifest",
	.exec = cmd_backup_drill,
	.complete = COMPLETE_NONE,
	.secrets = 1,
};

const struct cmd_entry cmd_backup_prune_entry = {
	.name = "backup prune",
	.usage = "[--keep-last N] [--keep-hourly N] [--keep-daily N] [--keep-weekly N] "
		 "[--keep-monthly N] [--keep-yearly N] "
		 "[--keep-within DURATION] [--dry-run] [--store URL] [--json]",
	.summary = "forget old backups by restic's rules, never an object still referenced",
	.exec = cmd_backup_prune,
};

const struct cmd_entry cmd_restore_clickhouse_entry = {
	.name = "restore clickhouse",
	.usage = "ID [--store URL] [--url URL[,URL...]]... [--db-map OLD=NEW]... "
		 "[--table GLOB]... [-k KEYFILE] [--drop-existing]",
	.summary = "restore a backup into ClickHouse, each object checked first",
	.exec = cmd_restore_clickhouse,
	.complete = COMPLETE_NONE,
	.secrets = 1,
};
