/*
 * saasctl apps [--json] [--names]: one row per app of the monorepo.
 */
#define _GNU_SOURCE 1
#include <dirent.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "../src/jsonout.h"
#include "../src/monorepo.h"
#include "../src/strbuf.h"

/* Distinct strings, in order of appearance. */
struct uniq {
	const char **v;
	size_t n;
};

static void uniq_add(struct uniq *u, const char *s)
{
	const char **nv;

	if (!s)
		return;
	for (size_t i = 0; i < u->n; i++)
		if (!strcmp(u->v[i], s))
			return;
	nv = realloc(u->v, (u->n + 1) * sizeof(*nv));
	if (!nv)
		abort();
	u->v = nv;
	u->v[u->n++] = s;
}

struct app_row {
	struct uniq images, hosts, rpm, secrets;
	int min, max;		/* -1: unknown */
};

static void row_build(struct app_row *row, const struct monorepo_app *app)
{
	memset(row, 0, sizeof(*row));
	row->min = row->max = -1;
	for (size_t i = 0; i < app->nworkloads; i++)
		for (size_t c = 0; c < app->workloads[i].ncontainers; c++)
			if (!app->workloads[i].containers[c].init)
				uniq_add(&row->images, app->workloads[i].containers[c].image);
	for (size_t i = 0; i < app->ningresses; i++) {
		for (size_t h = 0; h < app->ingresses[i].nhosts; h++)
			uniq_add(&row->hosts, app->ingresses[i].hosts[h]);
		uniq_add(&row->rpm, app->ingresses[i].limit_rpm);
	}
	for (size_t i = 0; i < app->nresources; i++) {
		const struct monorepo_resource *r = &app->resources[i];

		if (r->kind && (!strcmp(r->kind, "Secret") ||
				!strcmp(r->kind, "SealedSecret")))
			uniq_add(&row->secrets, r->name);
	}
	/* Replicas: the autoscaler's range, else the workloads' counts. */
	for (size_t i = 0; i < app->nhpas; i++) {
		const struct monorepo_hpa *h = &app->hpas[i];

		if (h->min >= 0 && (row->min < 0 || h->min < row->min))
			row->min = h->min;
		if (h->max > row->max)
			row->max = h->max;
	}
	if (row->max < 0)
		for (size_t i = 0; i < app->nworkloads; i++) {
			int n = app->workloads[i].replicas;

			if (!app->workloads[i].res->kind ||
			    strcmp(app->workloads[i].res->kind, "Deployment"))
				continue;
			n = n < 0 ? 1 : n; /* Kubernetes' default */
			if (row->min < 0 || n < row->min)
				row->min = n;
			if (n > row->max)
				row->max = n;
		}
	if (row->min < 0 && row->max >= 0)
		row->min = 1;
}

static void row_release(struct app_row *row)
{
	free(row->images.v);
	free(row->hosts.v);
	free(row->rpm.v);
	free(row->secrets.v);
}

static char *join(const struct uniq *u)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_init(&sb, 0);
	for (size_t i = 0; i < u->n; i++)
		strbuf_addf(&sb, "%s%s", i ? "," : "", u->v[i]);
	if (!u->n)
		strbuf_addstr(&sb, "-");
	return strbuf_detach(&sb, NULL);
}

static json_t *json_strings(struct jsonout *jo, const struct uniq *u)
{
	json_t *a = json_array();

	for (size_t i = 0; i < u->n; i++)
		json_array_append_new(a, jsonout_str(jo, u->v[i]));
	return a;
}

/* The shell completions call --names: it reads folder names only. */
static int print_names(struct cmd_ctx *ctx)
{
	struct monorepo *repo = NULL;
	struct err e = { { 0 } };
	char **names;

	if (monorepo_open(&repo, ctx->dir, &e) < 0)
		return cmd_fail_err(ctx, &e);
	names = dirwalk_subdirs(repo->walk, "manifests/apps");
	for (size_t i = 0; names[i]; i++)
		printf("%s\n", names[i]);
	dirwalk_free_names(names);
	monorepo_free(repo);
	return EXIT_OK;
}

enum { NCOL = 7 };

/* What the walk over the apps collects: JSON objects or table cells. */
struct apps_run {
	int json;
	json_t *arr;
	struct jsonout jo;
	char *(*cells)[NCOL];
	size_t n, cap;
};

static char *replicas_cell(const struct app_row *row)
{
	char *rep = NULL;

	if (row->max < 0)
		return strdup("-");
	if (asprintf(&rep, "%d-%d", row->min, row->max) < 0)
		abort();
	return rep;
}

static int collect_app(struct monorepo_app *app, void *ud)
{
	struct apps_run *run = ud;
	struct app_row row;

	row_build(&row, app);
	if (run->json) {
		json_array_append_new(run->arr, json_pack(
			"{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:i}",
			"name", jsonout_str(&run->jo, app->name),
			"dir", jsonout_str(&run->jo, app->dir),
			"namespace", jsonout_str(&run->jo, app->namespace ? app->namespace : app->name),
			"images", json_strings(&run->jo, &row.images),
			"hosts", json_strings(&run->jo, &row.hosts),
			"replicas_min", row.min >= 0 ? json_integer(row.min) : json_null(),
			"replicas_max", row.max >= 0 ? json_integer(row.max) : json_null(),
			"rpm", row.rpm.n == 1 ? json_integer(atoll(row.rpm.v[0])) : json_null(),
			"secrets", json_strings(&run->jo, &row.secrets),
			"resources", (int)app->nresources));
	} else {
		if (run->n == run->cap) {
			run->cap = run->cap ? run->cap * 2 : 16;
			run->cells = realloc(run->cells, run->cap * sizeof(*run->cells));
			if (!run->cells)
				abort();
		}
		run->cells[run->n][0] = strdup(app->name);
		run->cells[run->n][1] = strdup(app->namespace ? app->namespace : app->name);
		run->cells[run->n][2] = join(&row.images);
		run->cells[run->n][3] = join(&row.hosts);
		run->cells[run->n][4] = replicas_cell(&row);
		run->cells[run->n][5] = join(&row.rpm);
		run->cells[run->n][6] = join(&row.secrets);
		run->n++;
	}
	row_release(&row);
	return 0;
}

/* Columns on the terminal: UTF-8 characters, not bytes. */
static size_t text_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* A cell in width columns: padded, or cut with an ellipsis. */
static void put_cell(const char *cell, size_t width, int last)
{
	size_t w = text_width(cell);

	if (w > width) {
		size_t keep = width ? width - 1 : 0;
		const char *p = cell;

		for (size_t c = 0; *p && c <= keep; p++)
			if (((unsigned char)*p & 0xc0) != 0x80 && c++ == keep)
				break;
		fwrite(cell, 1, (size_t)(p - cell), stdout);
		fputs("\xe2\x80\xa6", stdout); /* … */
		w = width;
	} else {
		fputs(cell, stdout);
	}
	if (last)
		putchar('\n');
	else
		printf("%*s", (int)(width - w + 2), "");
}

/*
 * On a terminal the table fits its width: the widest column gives up
 * room first, its long cells cut with '…'. Piped, rows are whole, for
 * grep, column or a script.
 */
static void print_table(struct apps_run *run)
{
	static const char *const head[NCOL] = {
		"APP", "NAMESPACE", "IMAGES", "HOSTS", "REPLICAS", "RPM", "SECRETS",
	};
	size_t width[NCOL], total = 2 * (NCOL - 1), limit = cmd_terminal_width(STDOUT_FILENO);

	for (int c = 0; c < NCOL; c++) {
		width[c] = text_width(head[c]);
		for (size_t i = 0; i < run->n; i++)
			if (text_width(run->cells[i][c]) > width[c])
				width[c] = text_width(run->cells[i][c]);
		total += width[c];
	}
	while (limit && total > limit) {
		int widest = 0;

		for (int c = 1; c < NCOL; c++)
			if (width[c] > width[widest])
				widest = c;
		/* No column narrower than its header or 8 columns. */
		if (width[widest] <= 8 || width[widest] <= text_width(head[widest]))
			break;
		width[widest]--;
		total--;
	}
	for (size_t i = 0; i <= run->n; i++)
		for (int c = 0; c < NCOL; c++)
			put_cell(i ? run->cells[i - 1][c] : head[c], width[c],
				 c == NCOL - 1);
}

static int cmd_apps(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct apps_run run = { 0 };
	struct monorepo *repo = NULL;
	struct err e = { { 0 } };
	int names = 0, status = EXIT_OK;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--names"))
			names = 1;
		else
			return cmd_usage_error(ctx, "unexpected argument '%s'", argv[i]);
	}
	if (names)
		return print_names(ctx);
	if (monorepo_open(&repo, ctx->dir, &e) < 0)
		return cmd_fail_err(ctx, &e);
	run.json = ctx->json;
	run.arr = json_array();
	/* One app at a time, so memory stays small in a big monorepo. */
	/*
	 * Apps are loaded and freed one after another: keep the freed memory
	 * for the next one rather than hand it back to the kernel and take
	 * page faults for it again.
	 */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	monorepo_each_app(repo, collect_app, &run);
	cmd_warn_skipped(ctx, repo);
	if (run.json && jsonout_check(&run.jo, &e) < 0) {
		status = cmd_fail_err(ctx, &e);
	} else if (run.json) {
		json_dumpf(run.arr, stdout, JSON_INDENT(2));
		putchar('\n');
	} else if (!run.n) {
		cmd_info(ctx, "no apps in '%s/manifests/apps'; add one with 'saasctl new app NAME --host HOST'",
			 repo->root);
	} else {
		print_table(&run);
	}
	for (size_t i = 0; i < run.n; i++)
		for (int c = 0; c < NCOL; c++)
			free(run.cells[i][c]);
	free(run.cells);
	json_decref(run.arr);
	monorepo_free(repo);
	return status;
}

const struct cmd_entry cmd_apps_entry = {
	.name = "apps",
	.usage = "[--json] [--names]",
	.summary = "list the apps: namespace, images, hosts, replicas, rpm limit, secrets",
	.exec = cmd_apps,
};
