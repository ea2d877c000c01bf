/*
 * saasctl deploy | rollback | history: GitOps rollouts by git push.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cmd.h"
#include "../src/jsonout.h"
#include "../src/deploy.h"
#include "../src/monorepo.h"

/* Options shared by deploy and rollback. */
struct opts {
	const char *app;
	struct deploy_spec spec;
	const char *to;
	long n;
};

/* "--name VALUE" or "--name=VALUE" at argv[*i]; NULL when not this option. */
static const char *opt_value(struct cmd_ctx *ctx, int argc, char **argv,
			     int *i, const char *name, int *bad)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n))
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n])
		return NULL;
	if (*i + 1 >= argc) {
		cmd_usage_error(ctx, "option '%s' needs a value", name);
		*bad = 1;
		return NULL;
	}
	return argv[++*i];
}

static int parse(struct cmd_ctx *ctx, int argc, char **argv, struct opts *o,
		 int rollback, int history)
{
	memset(o, 0, sizeof(*o));
	o->spec.rollback = rollback;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		int bad = 0;

#define VALUE(name, field)                                                \
		if ((v = opt_value(ctx, argc, argv, &i, name, &bad)) || bad) { \
			if (bad)                                          \
				return EXIT_USAGE;                        \
			field = v;                                        \
			continue;                                         \
		}
		if (!history) {
			if (!rollback) {
				VALUE("--image", o->spec.image)
				VALUE("--tag", o->spec.tag)
				VALUE("--digest", o->spec.digest)
			} else {
				VALUE("--to", o->to)
			}
			VALUE("--container", o->spec.container)
			VALUE("--message", o->spec.message)
			VALUE("-m", o->spec.message)
			VALUE("--remote", o->spec.remote)
			VALUE("--branch", o->spec.branch)
			if (!strcmp(a, "--no-push")) {
				o->spec.no_push = 1;
				continue;
			}
			if (!strcmp(a, "--dry-run")) {
				o->spec.dry_run = 1;
				continue;
			}
		} else {
			const char *nv = NULL;

			if (!strncmp(a, "-n", 2) && a[2])
				nv = a + 2;
			else if ((v = opt_value(ctx, argc, argv, &i, "-n", &bad)) || bad) {
				if (bad)
					return EXIT_USAGE;
				nv = v;
			}
			if (nv) {
				char *end;

				errno = 0;
				o->n = strtol(nv, &end, 10);
				if (*end || errno || o->n < 1)
					return cmd_usage_error(ctx, "bad -n '%s': want a number from 1", nv);
				continue;
			}
		}
#undef VALUE
		if (a[0] == '-' && a[1])
			return cmd_usage_error(ctx, "unknown option '%s'", a);
		if (o->app)
			return cmd_usage_error(ctx, "unexpected argument '%s'", a);
		o->app = a;
	}
	if (!o->app)
		return cmd_usage_error(ctx, "missing APP");
	if (!rollback && !history) {
		int k = !!o->spec.image + !!o->spec.tag + !!o->spec.digest;

		if (k != 1)
			return cmd_usage_error(ctx, "give exactly one of --image, --tag or --digest");
	}
	if (o->spec.dry_run && o->spec.no_push)
		return cmd_usage_error(ctx, "--dry-run and --no-push do not go together");
	return EXIT_OK;
}

/* Open and load the monorepo and find the app, or fail with a clear line. */
static int load_app(struct cmd_ctx *ctx, const char *name,
		    struct monorepo **repo, struct monorepo_app **app)
{
	struct err e = { { 0 } };
	struct strbuf names = STRBUF_INIT;

	*repo = NULL;
	*app = NULL;
	if (monorepo_open(repo, ctx->dir, &e) < 0 || monorepo_load(*repo, &e) < 0)
		return cmd_fail_err(ctx, &e);
	cmd_warn_skipped(ctx, *repo);
	*app = monorepo_app(*repo, name);
	if (*app)
		return EXIT_OK;
	for (size_t i = 0; i < (*repo)->napps; i++)
		strbuf_addf(&names, "%s%s", i ? ", " : "", (*repo)->apps[i].name);
	cmd_fail(ctx, "no app '%s' in manifests/apps/ (apps: %s)", name,
		 names.len ? names.buf : "none");
	strbuf_release(&names);
	return EXIT_FAIL;
}

static void progress(void *ud, const char *line)
{
	cmd_info(ud, "%s", line);
}

/* GitHub Actions: step outputs and a line in the job summary. */
static void github_outputs(struct cmd_ctx *ctx, const char *app,
			   const struct deploy_result *r, int rollback)
{
	const char *out = getenv("GITHUB_OUTPUT");
	const char *summary = getenv("GITHUB_STEP_SUMMARY");
	FILE *f;

	if (out && *out) {
		f = fopen(out, "a");
		if (!f || fprintf(f, "sha=%s\nprevious-image=%s\nimage=%s\n",
				  r->sha, r->old_image ? r->old_image : "",
				  r->new_image ? r->new_image : "") < 0 ||
		    fclose(f) != 0)
			cmd_warn(ctx, "cannot write GITHUB_OUTPUT '%s': %s", out, strerror(errno));
	}
	if (summary && *summary) {
		f = fopen(summary, "a");
		if (!f || fprintf(f, "%s **%s**: `%s` \xe2\x86\x92 `%s` (%s)\n",
				  rollback ? "Rolled back" : "Deployed", app,
				  r->old_image ? r->old_image : "",
				  r->new_image ? r->new_image : "", r->sha) < 0 ||
		    fclose(f) != 0)
			cmd_warn(ctx, "cannot write GITHUB_STEP_SUMMARY '%s': %s", summary, strerror(errno));
	}
}

static int print_json(json_t *doc)
{
	int rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);

	fputc('\n', stdout);
	json_decref(doc);
	return rc;
}

static json_t *lines_json(struct jsonout *jo, const struct strbuf *sb)
{
	json_t *a = json_array();
	const char *p = sb->buf ? sb->buf : "";

	while (*p) {
		size_t n = strcspn(p, "\n");

		json_array_append_new(a, jsonout_strn(jo, p, n));
		p += n;
		if (*p)
			p++;
	}
	return a;
}

static int report(struct cmd_ctx *ctx, const char *app,
		  const struct deploy_spec *spec, struct deploy_result *r)
{
	const char *verb = spec->rollback ? "roll back" : "deploy";
	const char *remote = spec->remote ? spec->remote : "origin";

	if (ctx->json) {
		struct jsonout jo = JSONOUT_INIT;
		struct err e = { { 0 } };
		json_t *doc = json_pack("{s:s, s:b, s:s?, s:s?, s:b, s:b, s:b}",
					"app", app, "changed", !r->noop,
					"previous_image", r->old_image,
					"image", r->new_image,
					"dry_run", spec->dry_run,
					"committed", r->committed,
					"pushed", r->pushed);

		if (r->sha[0])
			json_object_set_new(doc, "sha", json_string(r->sha));
		if (r->pushed)
			json_object_set_new(doc, "attempts", json_integer(r->attempts));
		json_object_set_new(doc, "files", lines_json(&jo, &r->files));
		if (spec->dry_run)
			json_object_set_new(doc, "diff", jsonout_str(&jo, r->diff.buf ? r->diff.buf : ""));
		if (jsonout_check(&jo, &e) < 0) {
			json_decref(doc);
			return cmd_fail(ctx, "%s%s", e.msg,
					spec->dry_run || r->noop ? "" : " (done all the same)");
		}
		print_json(doc);
	}
	if (r->noop) {
		cmd_info(ctx, "%s is already at %s; nothing to %s", app,
			 r->new_image, verb);
		return EXIT_OK;
	}
	if (spec->dry_run) {
		if (!ctx->json)
			fwrite(r->diff.buf ? r->diff.buf : "", 1, r->diff.len, stdout);
		cmd_info(ctx, "dry run: would %s %s: %s \xe2\x86\x92 %s (%zu container%s); nothing written",
			 verb, app, r->old_image, r->new_image, r->ncontainers,
			 r->ncontainers == 1 ? "" : "s");
		return EXIT_OK;
	}
	cmd_info(ctx, "%s(%s): %s \xe2\x86\x92 %s (%zu container%s)",
		 spec->rollback ? "rollback" : "deploy", app, r->old_image,
		 r->new_image, r->ncontainers, r->ncontainers == 1 ? "" : "s");
	if (r->pushed)
		cmd_info(ctx, "pushed %.7s to %s%s", r->sha, remote,
			 r->attempts > 1 ? " after a retry" : "");
	else
		cmd_info(ctx, "committed %.7s (not pushed)", r->sha);
	if (r->skipped.len) {
		const char *p = r->skipped.buf;

		while (*p) {
			size_t n = strcspn(p, "\n");

			cmd_warn(ctx, "left '%.*s' as it was in the work tree: it has local changes",
				 (int)n, p);
			p += n + (p[n] == '\n');
		}
	}
	if (!ctx->json)
		printf("%s\n", r->sha);
	github_outputs(ctx, app, r, spec->rollback);
	return EXIT_OK;
}

static int run_deploy(struct cmd_ctx *ctx, struct opts *o)
{
	struct monorepo *repo = NULL;
	struct monorepo_app *app = NULL;
	struct deploy_result r;
	struct err e = { { 0 } };
	char *image = NULL;
	int status;

	deploy_result_init(&r);
	status = load_app(ctx, o->app, &repo, &app);
	if (status != EXIT_OK)
		goto out;
	o->spec.progress = progress;
	o->spec.ud = ctx;
	if (getenv("SAASCTL_DEPLOY_ATTEMPTS"))
		o->spec.attempts = atoi(getenv("SAASCTL_DEPLOY_ATTEMPTS"));
	if (o->spec.rollback) {
		if (deploy_rollback_image(repo, app, o->to, o->spec.container,
					  &image, &e) < 0) {
			err_wrap(&e, "cannot roll back '%s'", o->app);
			status = cmd_fail_err(ctx, &e);
			goto out;
		}
		o->spec.image = image;
	}
	if (deploy_run(repo, app, &o->spec, &r, &e) < 0) {
		err_wrap(&e, "cannot %s '%s'", o->spec.rollback ? "roll back" : "deploy", o->app);
		status = cmd_fail_err(ctx, &e);
		goto out;
	}
	status = report(ctx, o->app, &o->spec, &r);
out:
	free(image);
	deploy_result_release(&r);
	monorepo_free(repo);
	return status;
}

static int cmd_deploy(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct opts o;
	int status = parse(ctx, argc, argv, &o, 0, 0);

	return status != EXIT_OK ? status : run_deploy(ctx, &o);
}

static int cmd_rollback(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct opts o;
	int status = parse(ctx, argc, argv, &o, 1, 0);

	return status != EXIT_OK ? status : run_deploy(ctx, &o);
}

static void fmt_time(char *buf, size_t size, long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int cmd_history(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct opts o;
	struct monorepo *repo = NULL;
	struct monorepo_app *app = NULL;
	struct deploy_entry *v = NULL;
	struct err e = { { 0 } };
	size_t n = 0, wimg = 5;
	int status = parse(ctx, argc, argv, &o, 0, 1);

	if (status != EXIT_OK)
		return status;
	status = load_app(ctx, o.app, &repo, &app);
	if (status != EXIT_OK)
		goto out;
	if (deploy_history(repo, app, (size_t)o.n, &v, &n, &e) < 0) {
		err_wrap(&e, "cannot read the history of '%s'", o.app);
		status = cmd_fail_err(ctx, &e);
		goto out;
	}
	if (ctx->json) {
		struct jsonout jo = JSONOUT_INIT;
		json_t *a = json_array();

		for (size_t i = 0; i < n; i++) {
			char t[32];

			fmt_time(t, sizeof(t), v[i].time);
			json_array_append_new(a, json_pack(
				"{s:s, s:o, s:o, s:o, s:o, s:o, s:b}",
				"time", t, "author", jsonout_str(&jo, v[i].author),
				"action", jsonout_str(&jo, v[i].action),
				"image", jsonout_str(&jo, v[i].image),
				"previous_image", jsonout_str(&jo, v[i].previous),
				"sha", jsonout_str(&jo, v[i].sha),
				"current", v[i].current));
		}
		if (jsonout_check(&jo, &e) < 0) {
			json_decref(a);
			status = cmd_fail_err(ctx, &e);
			goto out;
		}
		print_json(a);
		goto out;
	}
	if (!n) {
		cmd_info(ctx, "no deploys of '%s' in the git history", o.app);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (strlen(v[i].image) > wimg)
			wimg = strlen(v[i].image);
	printf("  %-20s  %-8s  %-*s  %-7s  %s\n", "TIME", "ACTION", (int)wimg,
	       "IMAGE", "COMMIT", "AUTHOR");
	for (size_t i = 0; i < n; i++) {
		char t[32];

		fmt_time(t, sizeof(t), v[i].time);
		printf("%s %-20s  %-8s  %-*s  %.7s  %s\n",
		       v[i].current ? "*" : " ", t, v[i].action, (int)wimg,
		       v[i].image, v[i].sha, v[i].author);
	}
out:
	deploy_entries_free(v, n);
	monorepo_free(repo);
	return status;
}

const struct cmd_entry cmd_deploy_entry = {
	.name = "deploy",
	.usage = "APP (--image REPO:TAG | --tag TAG | --digest sha256:...) [--container NAME] [-m MESSAGE] [--no-push] [--dry-run] [--remote NAME] [--branch BRANCH]",
	.summary = "pin a new image for an app's workloads, commit and push it",
	.exec = cmd_deploy,
	.complete = COMPLETE_APPS,
	.secrets = 1,
};

const struct cmd_entry cmd_rollback_entry = {
	.name = "rollback",
	.usage = "APP [--to IMAGE|COMMIT|-N] [--container NAME] [-m MESSAGE] [--no-push] [--dry-run] [--remote NAME] [--branch BRANCH]",
	.summary = "re-pin an app's previous image with a new commit and push it",
	.exec = cmd_rollback,
	.complete = COMPLETE_APPS,
	.secrets = 1,
};

const struct cmd_entry cmd_history_entry = {
	.name = "history",
	.usage = "APP [--json] [-n N]",
	.summary = "list an app's deploys and rollbacks from the git history",
	.exec = cmd_history,
	.complete = COMPLETE_APPS,
};
