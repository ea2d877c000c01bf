/*
 * saasctl deploy | rollback | history: GitOps rollouts by git push.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "../src/jsonout.h"
#include "../src/deploy.h"
#include "../src/deploywait.h"
#include "../src/hc.h"
#include "../src/kube.h"
#include "../src/monorepo.h"

/* Options shared by deploy and rollback. */
struct opts {
	const char *app;
	struct deploy_spec spec;
	const char *to;
	long n;
	int wait;
	const char *timeout;
	long timeout_ms;
	int rollback_on_failure;
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
				VALUE("--timeout", o->timeout)
				if (!strcmp(a, "--wait")) {
					o->wait = 1;
					continue;
				}
				if (!strcmp(a, "--rollback-on-failure")) {
					o->rollback_on_failure = 1;
					continue;
				}
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
	if ((o->timeout || o->rollback_on_failure) && !o->wait)
		return cmd_usage_error(ctx, "%s needs --wait",
				       o->timeout ? "--timeout" : "--rollback-on-failure");
	if (o->wait && (o->spec.dry_run || o->spec.no_push))
		return cmd_usage_error(ctx, "--wait needs a push: not with %s",
				       o->spec.dry_run ? "--dry-run" : "--no-push");
	o->timeout_ms = 10 * 60 * 1000;
	if (o->timeout && (hc_duration_parse(o->timeout, &o->timeout_ms) < 0 ||
			   o->timeout_ms <= 0))
		return cmd_usage_error(ctx, "bad --timeout '%s' (want a duration: 90s, 10m, 1h)",
				       o->timeout);
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
		  const struct deploy_spec *spec, struct deploy_result *r,
		  int ndjson)
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
		if (ndjson) {
			/* the first event of the --wait stream */
			json_object_set_new(doc, "event", json_string("deploy"));
			json_dumpf(doc, stdout, JSON_COMPACT | JSON_SORT_KEYS);
			fputc('\n', stdout);
			fflush(stdout);
			json_decref(doc);
		} else {
			print_json(doc);
		}
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

/* Progress of deploy --wait: a live line per stage, plain lines, or NDJSON. */
struct wait_out {
	struct cmd_ctx *ctx;
	int tty;
	char open[16];		/* the stage whose live line is open */
};

static void emit_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_COMPACT | JSON_SORT_KEYS);
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(j);
}

static void wait_event(void *ud, const struct deploywait_event *ev)
{
	struct wait_out *w = ud;
	const char *state = strcmp(ev->state, "waiting") ? ev->state : NULL;

	if (w->ctx->json) {
		struct jsonout jo = JSONOUT_INIT;

		emit_json(json_pack("{s:s, s:s, s:o, s:s, s:o}", "event", "stage",
				    "stage", ev->stage, "subject", jsonout_str(&jo, ev->subject),
				    "state", ev->state, "message", jsonout_str(&jo, ev->msg)));
		return;
	}
	if (w->ctx->quiet)
		return;
	if (!w->tty) {
		fprintf(stderr, "%s: %s%s%s\n", ev->stage, state ? state : "",
			state ? ": " : "", ev->msg);
		return;
	}
	if (*w->open && strcmp(w->open, ev->stage))
		fputc('\n', stderr);
	fprintf(stderr, "\r\033[K%s: %s%s%s", ev->stage, state ? state : "",
		state ? ": " : "", ev->msg);
	snprintf(w->open, sizeof(w->open), "%s", ev->stage);
	fflush(stderr);
}

static json_t *lines_array(const struct strbuf *sb)
{
	struct jsonout jo = JSONOUT_INIT;

	return lines_json(&jo, sb);
}

/* The indented lines of sb on stderr. */
static void print_lines(const char *title, const struct strbuf *sb)
{
	const char *p = sb->buf;

	if (!sb->len)
		return;
	fprintf(stderr, "%s\n", title);
	while (*p) {
		size_t n = strcspn(p, "\n");

		fprintf(stderr, "  %.*s\n", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

static void github_rollout(struct cmd_ctx *ctx, const char *app, const char *image,
			   const struct deploywait_failure *f, int failed,
			   const char *rollback_sha)
{
	const char *out = getenv("GITHUB_OUTPUT");
	const char *summary = getenv("GITHUB_STEP_SUMMARY");
	FILE *fp;
	int bad;

	if (out && *out) {
		fp = fopen(out, "a");
		bad = !fp || fprintf(fp, "rollout=%s\n", failed ? "failed" : "succeeded") < 0 ||
		      (rollback_sha && fprintf(fp, "rollback-sha=%s\n", rollback_sha) < 0);
		if (fp && fclose(fp) != 0)
			bad = 1;
		if (bad)
			cmd_warn(ctx, "cannot write GITHUB_OUTPUT '%s': %s", out, strerror(errno));
	}
	if (!summary || !*summary)
		return;
	fp = fopen(summary, "a");
	if (!fp) {
		cmd_warn(ctx, "cannot write GITHUB_STEP_SUMMARY '%s': %s", summary, strerror(errno));
		return;
	}
	if (!failed) {
		fprintf(fp, "\n### Rollout of %s succeeded\n\n`%s` is running.\n", app, image);
	} else {
		fprintf(fp, "\n### Rollout of %s failed\n\n- **Stage:** %s\n- **Reason:** %s\n- **Where:** `%s`\n\n> %s\n",
			app, f->stage, f->reason, f->subject, f->msg);
		if (f->events.len)
			fprintf(fp, "\n#### Events\n\n```\n%s```\n", f->events.buf);
		if (f->logs.len)
			fprintf(fp, "\n#### Last log lines of `%s/%s`\n\n```\n%s```\n",
				f->pod, f->container, f->logs.buf);
		if (rollback_sha)
			fprintf(fp, "\nRolled back with %.7s.\n", rollback_sha);
	}
	if (fclose(fp) != 0)
		cmd_warn(ctx, "cannot write GITHUB_STEP_SUMMARY '%s': %s", summary, strerror(errno));
}

/* --rollback-on-failure: the forward commit `saasctl rollback` makes. */
static int roll_back(struct cmd_ctx *ctx, struct opts *o,
		     const struct deploy_result *r, const char *reason,
		     char sha[41])
{
	struct monorepo *repo = NULL;
	struct monorepo_app *app = NULL;
	struct deploy_spec spec = o->spec;
	struct deploy_result rb;
	struct err e = { { 0 } };
	char msg[256];
	int status;

	deploy_result_init(&rb);
	/* the deploy moved the work tree: read it again */
	status = load_app(ctx, o->app, &repo, &app);
	if (status != EXIT_OK)
		goto out;
	snprintf(msg, sizeof(msg), "Automatic rollback: the rollout of %s failed (%s).",
		 r->new_image, reason);
	spec.image = r->old_image;
	spec.tag = spec.digest = NULL;
	spec.rollback = 1;
	spec.message = msg;
	if (deploy_run(repo, app, &spec, &rb, &e) < 0) {
		err_wrap(&e, "cannot roll back '%s'", o->app);
		status = cmd_fail_err(ctx, &e);
		goto out;
	}
	snprintf(sha, 41, "%s", rb.sha);
	if (!ctx->json)
		cmd_info(ctx, "rollback(%s): %s \xe2\x86\x92 %s; pushed %.7s to %s", o->app,
			 rb.old_image, rb.new_image, rb.sha,
			 spec.remote ? spec.remote : "origin");
out:
	deploy_result_release(&rb);
	monorepo_free(repo);
	return status;
}

static int wait_rollout(struct cmd_ctx *ctx, struct opts *o,
			struct monorepo *repo, const struct monorepo_app *app,
			const struct deploy_result *r)
{
	struct kube_options ko = { 0 };
	struct kube_client *kc = NULL;
	struct deploywait_workload *wl = NULL;
	struct deploywait_options wo = { 0 };
	struct deploywait_failure f;
	struct wait_out out = { ctx, isatty(STDERR_FILENO), "" };
	struct err e = { { 0 } };
	char rollback_sha[41] = "";
	size_t n = 0;
	int rc, status = EXIT_FAIL;

	deploywait_failure_init(&f);
	ko.context = monorepo_get(repo, "cluster.context");
	ko.kubeconfig = monorepo_get(repo, "cluster.kubeconfig");
	if (kube_client_new(&kc, &ko, &e) < 0 ||
	    deploywait_workloads(app, r->new_image, &wl, &n, &e) < 0) {
		err_wrap(&e, "cannot wait for the rollout of '%s'", o->app);
		status = cmd_fail_err(ctx, &e);
		goto out;
	}
	wo.sha = r->sha;
	wo.image = r->new_image;
	wo.dir = app->dir;
	wo.workloads = wl;
	wo.nworkloads = n;
	wo.timeout_ms = o->timeout_ms;
	wo.event = wait_event;
	wo.ud = &out;
	rc = deploywait_run(kc, &wo, &f, &e);
	if (*out.open)
		fputc('\n', stderr);
	if (rc < 0) {
		err_wrap(&e, "cannot wait for the rollout of '%s'", o->app);
		status = cmd_fail_err(ctx, &e);
		goto out;
	}
	if (rc == 0) {
		if (ctx->json)
			emit_json(json_pack("{s:s, s:s, s:s}", "event", "result",
					    "rollout", "succeeded", "image", r->new_image));
		else
			cmd_info(ctx, "rollout of %s succeeded: %s", o->app, r->new_image);
		github_rollout(ctx, o->app, r->new_image, &f, 0, NULL);
		status = EXIT_OK;
		goto out;
	}
	if (!ctx->json) {
		cmd_fail(ctx, "rollout of '%s' failed: %s: %s", o->app, f.reason, f.msg);
		print_lines("events:", &f.events);
		if (f.logs.len) {
			char title[600];

			snprintf(title, sizeof(title), "last log lines of %s/%s:", f.pod, f.container);
			print_lines(title, &f.logs);
		}
	}
	if (o->rollback_on_failure &&
	    roll_back(ctx, o, r, f.reason, rollback_sha) != EXIT_OK)
		rollback_sha[0] = '\0';
	if (ctx->json) {
		struct jsonout jo = JSONOUT_INIT;
		json_t *doc = json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:o}",
					"event", "result", "rollout", "failed",
					"stage", f.stage, "subject", jsonout_str(&jo, f.subject),
					"reason", f.reason, "message", jsonout_str(&jo, f.msg),
					"events", lines_array(&f.events),
					"logs", lines_array(&f.logs));

		if (*f.pod) {
			json_object_set_new(doc, "pod", json_string(f.pod));
			json_object_set_new(doc, "container", json_string(f.container));
		}
		if (rollback_sha[0])
			json_object_set_new(doc, "rollback_sha", json_string(rollback_sha));
		emit_json(doc);
	}
	github_rollout(ctx, o->app, r->new_image, &f, 1, rollback_sha[0] ? rollback_sha : NULL);
	status = EXIT_FAIL;
out:
	free(wl);
	deploywait_failure_release(&f);
	kube_client_free(kc);
	return status;
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
	status = report(ctx, o->app, &o->spec, &r, o->wait);
	if (status == EXIT_OK && o->wait && !r.noop && r.pushed)
		status = wait_rollout(ctx, o, repo, app, &r);
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
	.usage = "APP (--image REPO:TAG | --tag TAG | --digest sha256:...) [--container NAME] [-m MESSAGE] [--no-push] [--dry-run] [--remote NAME] [--branch BRANCH] [--wait [--timeout DURATION] [--rollback-on-failure]]",
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
