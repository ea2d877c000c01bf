/*
 * saasctl lint [PATH...] [--format text|json|github] [--kube-version VERSION]:
 * check the manifests of the monorepo. The rules live in src/lint.c; this
 * prints them.
 */
#define _GNU_SOURCE 1
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "../src/jsonout.h"
#include "../src/kubeapi.h"
#include "../src/lint.h"
#include "../src/monorepo.h"
#include "../src/strbuf.h"

enum lint_format { FORMAT_TEXT, FORMAT_JSON, FORMAT_GITHUB };

static const char *severity_name(enum lint_severity s)
{
	return s == LINT_ERROR ? "error" : "warning";
}

static void print_text(const struct cmd_ctx *ctx, const struct lint_report *r)
{
	struct strbuf ex = STRBUF_INIT;

	strbuf_init(&ex, 0);
	for (size_t i = 0; i < r->n; i++) {
		const struct lint_finding *f = &r->items[i];
		int err = f->severity == LINT_ERROR;
		const char *on = !ctx->color_out ? "" : err ? "\033[1;31m" : "\033[1;33m";
		const char *off = ctx->color_out ? "\033[0m" : "";

		printf("%s:%u:%u: %s%s%s: %s [%s]\n", f->file, f->line, f->col,
		       on, severity_name(f->severity), off, f->message,
		       f->rule->id);
		if (f->tree && f->line) {
			strbuf_reset(&ex);
			yamltree_excerpt(&ex, f->tree->text, f->tree->len,
					 f->line, f->col ? f->col : 1);
			fputs(ex.buf, stdout);
		}
	}
	strbuf_release(&ex);
}

static void add_json(json_t *arr, struct jsonout *jo,
		     const struct lint_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct lint_finding *f = &r->items[i];

		json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:i, s:i, s:o}",
			"rule", f->rule->id,
			"severity", severity_name(f->severity),
			"file", jsonout_str(jo, f->file),
			"line", (int)f->line, "col", (int)f->col,
			"message", jsonout_str(jo, f->message)));
	}
}

/* GitHub workflow commands escape '%', CR and LF; properties also ':' and ','. */
static void gh_escape(const char *s, int property)
{
	for (; *s; s++) {
		switch (*s) {
		case '%': fputs("%25", stdout); break;
		case '\r': fputs("%0D", stdout); break;
		case '\n': fputs("%0A", stdout); break;
		case ':': fputs(property ? "%3A" : ":", stdout); break;
		case ',': fputs(property ? "%2C" : ",", stdout); break;
		default: putchar(*s);
		}
	}
}

static void print_github(const struct lint_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct lint_finding *f = &r->items[i];

		printf("::%s file=", severity_name(f->severity));
		gh_escape(f->file, 1);
		printf(",line=%u,col=%u::", f->line, f->col);
		gh_escape(f->message, 0);
		printf(" [%s]\n", f->rule->id);
	}
}

/*
 * PATH arguments narrow the report to findings in those files or folders;
 * the rules still see whole apps, so a Service in one file is checked
 * against the Deployment in another.
 */
static int in_paths(const char *file, char **rel, size_t nrel)
{
	if (!nrel)
		return 1;
	for (size_t i = 0; i < nrel; i++) {
		size_t n = strlen(rel[i]);

		if (!n || (!strncmp(file, rel[i], n) &&
			   (file[n] == '\0' || file[n] == '/')))
			return 1;
	}
	return 0;
}

static void filter_report(struct lint_report *r, char **rel, size_t nrel)
{
	size_t kept = 0;

	r->nerrors = r->nwarnings = 0;
	for (size_t i = 0; i < r->n; i++) {
		struct lint_finding *f = &r->items[i];

		if (!in_paths(f->file, rel, nrel)) {
			free(f->file);
			free(f->message);
			continue;
		}
		if (f->severity == LINT_ERROR)
			r->nerrors++;
		else
			r->nwarnings++;
		r->items[kept++] = *f;
	}
	r->n = kept;
}

/* PATH relative to the root ("" for the root itself), or NULL outside. */
static char *relative_to_root(const char *root, const char *base,
			      const char *path)
{
	char joined[PATH_MAX * 2], abs[PATH_MAX];
	size_t n = strlen(root);

	if (path[0] == '/' || !base)
		snprintf(joined, sizeof(joined), "%s", path);
	else
		snprintf(joined, sizeof(joined), "%s/%s", base, path);
	if (!realpath(joined, abs))
		return NULL;
	if (strncmp(abs, root, n) || (abs[n] && abs[n] != '/'))
		return NULL;
	return strdup(abs[n] ? abs + n + 1 : "");
}

struct lint_run {
	const struct cmd_ctx *ctx;
	const struct monorepo *repo;
	enum lint_format format;
	char **rel;
	size_t nrel;
	json_t *json;		/* findings, for --format json */
	struct jsonout jo;
	size_t nerrors, nwarnings, nfiles;
	unsigned kube_minor;	/* the target release 1.N; 0: the newest known */
};

/*
 * One app at a time (its files are freed afterwards, which keeps memory
 * small): lint it, and print its findings while their text is at hand.
 */
static int lint_one_app(struct monorepo_app *app, void *ud)
{
	struct lint_run *run = ud;
	struct lint_report r;

	lint_report_init(&r);
	r.kube_version = run->kube_minor;
	lint_app(&r, run->repo, app);
	filter_report(&r, run->rel, run->nrel);
	lint_report_sort(&r);
	if (run->format == FORMAT_JSON)
		add_json(run->json, &run->jo, &r);
	else if (run->format == FORMAT_GITHUB)
		print_github(&r);
	else
		print_text(run->ctx, &r);
	run->nerrors += r.nerrors;
	run->nwarnings += r.nwarnings;
	run->nfiles += r.nfiles;
	lint_report_release(&r);
	return 0;
}

static int cmd_lint(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct lint_run run = { 0 };
	struct monorepo *repo = NULL;
	struct err e = { { 0 } };
	enum lint_format format = ctx->json ? FORMAT_JSON : FORMAT_TEXT;
	char **paths = NULL, **rel = NULL, cwd[PATH_MAX];
	const char *kube_version = NULL;
	unsigned kube_minor = 0;
	size_t npaths = 0;
	int status = EXIT_FAIL;

	paths = calloc((size_t)argc, sizeof(*paths));
	rel = calloc((size_t)argc, sizeof(*rel));
	if (!paths || !rel)
		abort();
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;

		if (!strcmp(a, "--format") || !strcmp(a, "-f")) {
			if (i + 1 >= argc) {
				status = cmd_usage_error(ctx, "'%s' needs a value", a);
				goto out;
			}
			val = argv[++i];
		} else if (!strncmp(a, "--format=", 9)) {
			val = a + 9;
		} else if (!strcmp(a, "--kube-version") || !strncmp(a, "--kube-version=", 15)) {
			if (a[14] == '=') {
				kube_version = a + 15;
			} else if (i + 1 >= argc) {
				status = cmd_usage_error(ctx, "'%s' needs a value", a);
				goto out;
			} else {
				kube_version = argv[++i];
			}
			if (kubeapi_parse_version(kube_version, &kube_minor) < 0) {
				status = cmd_usage_error(ctx, "bad --kube-version '%s': want a Kubernetes release such as 1.29", kube_version);
				goto out;
			}
			continue;
		} else if (!strcmp(a, "--")) {
			while (++i < argc)
				paths[npaths++] = argv[i];
			break;
		} else if (a[0] == '-' && a[1]) {
			status = cmd_usage_error(ctx, "unknown option '%s'", a);
			goto out;
		} else {
			paths[npaths++] = argv[i];
			continue;
		}
		if (!strcmp(val, "text"))
			format = FORMAT_TEXT;
		else if (!strcmp(val, "json"))
			format = FORMAT_JSON;
		else if (!strcmp(val, "github"))
			format = FORMAT_GITHUB;
		else {
			status = cmd_usage_error(ctx, "bad --format '%s': want text, json or github", val);
			goto out;
		}
	}

	if (monorepo_open(&repo, ctx->dir, &e) < 0) {
		status = cmd_fail_err(ctx, &e);
		goto out;
	}
	/* The target release: --kube-version, else cluster.version. */
	if (!kube_version && (kube_version = monorepo_get(repo, "cluster.version")) &&
	    kubeapi_parse_version(kube_version, &kube_minor) < 0) {
		status = cmd_fail(ctx, "bad cluster.version '%s' (saasctl.yaml or SAASCTL_CLUSTER_VERSION): want a Kubernetes release such as 1.29",
				  kube_version);
		goto out;
	}
	if (!getcwd(cwd, sizeof(cwd)))
		cwd[0] = '\0';
	for (size_t i = 0; i < npaths; i++) {
		rel[i] = relative_to_root(repo->root, ctx->dir ? ctx->dir : cwd,
					  paths[i]);
		if (!rel[i]) {
			if (access(paths[i], F_OK) < 0)
				status = cmd_fail(ctx, "cannot lint '%s': no such file or folder", paths[i]);
			else
				status = cmd_fail(ctx, "cannot lint '%s': it is not inside the monorepo at '%s'",
						  paths[i], repo->root);
			goto out;
		}
	}
	run.ctx = ctx;
	run.repo = repo;
	run.format = format;
	run.rel = rel;
	run.nrel = npaths;
	run.json = json_array();
	run.kube_minor = kube_minor;
	/*
	 * Apps are loaded and freed one after another: keep the freed memory
	 * for the next one rather than hand it back to the kernel and take
	 * page faults for it again.
	 */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	monorepo_each_app(repo, lint_one_app, &run);
	/* Cluster services: the same rules, each folder taken as one app. */
	monorepo_each_service(repo, lint_one_app, &run);
	cmd_warn_skipped(ctx, repo);
	if (format == FORMAT_JSON && jsonout_check(&run.jo, &e) < 0) {
		status = cmd_fail_err(ctx, &e);
		goto out;
	}
	if (format == FORMAT_JSON) {
		json_t *o = json_pack("{s:O, s:i, s:i, s:i}", "findings", run.json,
				      "errors", (int)run.nerrors,
				      "warnings", (int)run.nwarnings,
				      "files", (int)run.nfiles);

		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	}
	/* The summary follows the findings, also when both go to one pipe. */
	fflush(stdout);
	if (format != FORMAT_JSON)
		cmd_info(ctx, "%zu error%s, %zu warning%s in %zu file%s",
			 run.nerrors, run.nerrors == 1 ? "" : "s",
			 run.nwarnings, run.nwarnings == 1 ? "" : "s",
			 run.nfiles, run.nfiles == 1 ? "" : "s");
	status = run.nerrors ? EXIT_FAIL : EXIT_OK;
out:
	for (size_t i = 0; i < npaths; i++)
		free(rel[i]);
	free(rel);
	free(paths);
	json_decref(run.json);
	monorepo_free(repo);
	return status;
}

const struct cmd_entry cmd_lint_entry = {
	.name = "lint",
	.usage = "[PATH...] [--format text|json|github] [--kube-version VERSION]",
	.summary = "check the manifests: syntax, references, selectors, TLS, images, deprecated APIs",
	.exec = cmd_lint,
	.complete = COMPLETE_FILES,
};
