/*
 * saasctl logs: tail every pod of an app (or a selector, a pod regex, a
 * workload) from the Kubernetes API, resuming dropped streams without
 * losing or repeating a line.
 */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "../src/kube.h"
#include "../src/logs.h"
#include "../src/monorepo.h"
#include "../src/strbuf.h"

enum logs_format { FMT_TEXT, FMT_JSON, FMT_RAW };

struct logs_out {
	struct cmd_ctx *ctx;
	enum logs_format format;
	int timestamps;
	int color;
	int show_ns;
	const regex_t *include;
	const regex_t *exclude;
	struct strbuf line;
	int failed;
	int closed;		/* the reader went away (EPIPE) */
};

/* A closed pipe is how `| head` says enough: not an error. */
static void logs_out_error(struct logs_out *out)
{
	if (errno == EPIPE) {
		out->closed = 1;
		/* nothing more can be written: drop what is buffered */
		__fpurge(stdout);
		clearerr(stdout);
		return;
	}
	out->failed = errno ? errno : EIO;
}

static int logs_out_write(struct logs_out *out)
{
	if (fwrite(out->line.buf, 1, out->line.len, stdout) != out->line.len) {
		logs_out_error(out);
		return -1;
	}
	return 0;
}

/* A stable colour per pod: the same pod keeps its colour between runs. */
static int logs_pod_color(const char *pod)
{
	static const int palette[] = { 32, 33, 34, 35, 36, 92, 93, 94, 95, 96 };
	unsigned h = 2166136261u;

	for (const char *p = pod; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return palette[h % (sizeof(palette) / sizeof(palette[0]))];
}

/* msg with every match of -i in bold red. */
static void logs_highlight(struct strbuf *sb, const regex_t *re, const char *msg)
{
	const char *p = msg;
	regmatch_t m;
	int flags = 0;

	while (*p && regexec(re, p, 1, &m, flags) == 0) {
		if (m.rm_eo == m.rm_so) {
			strbuf_addch(sb, *p++);
			flags = REG_NOTBOL;
			continue;
		}
		strbuf_add(sb, p, (size_t)m.rm_so);
		strbuf_addstr(sb, "\033[1;31m");
		strbuf_add(sb, p + m.rm_so, (size_t)(m.rm_eo - m.rm_so));
		strbuf_addstr(sb, "\033[0m");
		p += m.rm_eo;
		flags = REG_NOTBOL;
	}
	strbuf_addstr(sb, p);
}

static int logs_on_line(void *ud, const struct logs_line *l)
{
	struct logs_out *out = ud;
	struct strbuf *sb = &out->line;
	char *msg = NULL;
	size_t len = l->len;

	/* the kubelet ends lines with \n; a CRLF program leaves a \r */
	if (len && l->msg[len - 1] == '\r')
		len--;
	msg = strndup(l->msg, len);
	if (!msg)
		return -1;
	if ((out->include && regexec(out->include, msg, 0, NULL, 0)) ||
	    (out->exclude && !regexec(out->exclude, msg, 0, NULL, 0))) {
		free(msg);
		return 0;
	}
	strbuf_reset(sb);
	switch (out->format) {
	case FMT_RAW:
		strbuf_addstr(sb, msg);
		break;
	case FMT_JSON: {
		json_t *o = json_object(), *parsed = NULL;
		char *text;

		if (l->time)
			json_object_set_new(o, "time", json_stringn(l->time, l->time_len));
		else
			json_object_set_new(o, "time", json_null());
		json_object_set_new(o, "namespace", json_string(l->namespace));
		json_object_set_new(o, "pod", json_string(l->pod));
		json_object_set_new(o, "container", json_string(l->container));
		/* jansson refuses invalid UTF-8: keep the bytes readable */
		if (!json_object_set_new(o, "message", json_stringn(msg, strlen(msg))) &&
		    !json_object_get(o, "message"))
			json_object_set_new(o, "message", json_string("(invalid UTF-8)"));
		if (len && msg[0] == '{')
			parsed = json_loads(msg, JSON_REJECT_DUPLICATES, NULL);
		if (json_is_object(parsed))
			json_object_set_new(o, "fields", parsed);
		else
			json_decref(parsed);
		text = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		if (!text) {
			free(msg);
			return 0;
		}
		strbuf_addstr(sb, text);
		free(text);
		break;
	}
	case FMT_TEXT:
		if (out->timestamps && l->time) {
			strbuf_add(sb, l->time, l->time_len);
			strbuf_addch(sb, ' ');
		}
		if (out->color)
			strbuf_addf(sb, "\033[%dm", logs_pod_color(l->pod));
		if (out->show_ns)
			strbuf_addf(sb, "%s/", l->namespace);
		strbuf_addf(sb, "%s/%s", l->pod, l->container);
		strbuf_addstr(sb, out->color ? "\033[0m " : " ");
		if (out->color && out->include)
			logs_highlight(sb, out->include, msg);
		else
			strbuf_addstr(sb, msg);
		break;
	}
	strbuf_addch(sb, '\n');
	free(msg);
	return logs_out_write(out);
}

static int logs_on_flush(void *ud)
{
	struct logs_out *out = ud;

	if (fflush(stdout) != 0) {
		logs_out_error(out);
		return -1;
	}
	return 0;
}

static void logs_on_note(void *ud, const char *msg)
{
	struct logs_out *out = ud;

	cmd_info(out->ctx, "saasctl: logs: %s", msg);
}

static void logs_on_signal(int sig)
{
	(void)sig;
	logs_interrupt();
}

/* "10m", "1h30m", "45s", "2d" -> seconds; -1 when malformed. */
static long long logs_duration(const char *s)
{
	long long total = 0;
	const char *p = s;

	if (!*p)
		return -1;
	while (*p) {
		char *end;
		double v = strtod(p, &end);
		double mul;

		if (end == p || v < 0)
			return -1;
		if (!strncmp(end, "ms", 2)) {
			mul = 0.001;
			end += 2;
		} else if (*end == 's') {
			mul = 1;
			end++;
		} else if (*end == 'm') {
			mul = 60;
			end++;
		} else if (*end == 'h') {
			mul = 3600;
			end++;
		} else if (*end == 'd') {
			mul = 86400;
			end++;
		} else {
			return -1;
		}
		total += (long long)(v * mul + 0.999);
		p = end;
	}
	return total;
}

static int logs_compile(struct cmd_ctx *ctx, regex_t *re, const char *pattern,
			const char *what, int *compiled)
{
	int rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);

	if (rc) {
		char msg[256];

		regerror(rc, re, msg, sizeof(msg));
		return cmd_usage_error(ctx, "bad %s '%s': %s", what, pattern, msg);
	}
	*compiled = 1;
	return EXIT_OK;
}

/* Does it look like a name rather than a pattern? */
static int logs_plain_name(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return 0;
	return 1;
}

/* The label pairs every selector shares, for the API to filter on. */
static void logs_common_pairs(struct strbuf *out, char **sels, size_t n)
{
	char *first = n ? strdup(sels[0]) : NULL, *save = NULL;

	for (char *t = first ? strtok_r(first, ",", &save) : NULL; t;
	     t = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 1; i < n; i++) {
			char *c = strdup(sels[i]), *s2 = NULL, *u;
			int found = 0;

			for (u = strtok_r(c, ",", &s2); u && !found; u = strtok_r(NULL, ",", &s2))
				found = !strcmp(u, t);
			free(c);
			if (!found)
				break;
		}
		if (i == n)
			strbuf_addf(out, "%s%s", out->len ? "," : "", t);
	}
	free(first);
}

static int cmd_logs(struct cmd_ctx *ctx, int argc, char **argv)
{
	const char *target = NULL, *selector = NULL, *field_selector = NULL;
	const char *ns = NULL, *container_re = NULL, *exclude_container = NULL;
	const char *since = NULL, *since_time = NULL, *tail = NULL;
	const char *include = NULL, *exclude = NULL, *format = NULL;
	const char *max_streams = NULL, *context = NULL, *kubeconfig = NULL;
	int all_ns = 0, no_follow = 0, previous = 0, timestamps = 0;
	struct kube_options ko = { 0 };
	struct logs_options lo = { 0 };
	struct logs_out out = { 0 };
	struct logs_sink sink = { 0 };
	struct kube_client *kc = NULL;
	struct monorepo *repo = NULL;
	struct monorepo_app *app = NULL;
	regex_t pod_re, c_re, ec_re, inc_re, exc_re;
	int have_pod_re = 0, have_c_re = 0, have_ec_re = 0, have_inc = 0, have_exc = 0;
	struct strbuf sel = STRBUF_INIT, common = STRBUF_INIT, what = STRBUF_INIT;
	char **app_sels = NULL;
	size_t napp_sels = 0;
	int maybe_app = 0, status = EXIT_FAIL;
	struct err e = { { 0 } };
	struct sigaction sa;
	struct stat st;
	char **args = NULL, **split = NULL;
	int nargs = 0, nsplit = 0;

	strbuf_init(&sel, 0);
	strbuf_init(&common, 0);
	strbuf_init(&what, 0);
	strbuf_init(&out.line, 0);
	/* --opt=value is --opt value */
	args = calloc((size_t)argc * 2 + 1, sizeof(*args));
	split = calloc((size_t)argc + 1, sizeof(*split));
	if (!args || !split)
		goto out;
	for (int i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');

		if (i > 0 && !strncmp(argv[i], "--", 2) && eq) {
			args[nargs] = strndup(argv[i], (size_t)(eq - argv[i]));
			args[nargs + 1] = (char *)eq + 1;
			split[nsplit++] = args[nargs];
			nargs += 2;
		} else {
			args[nargs++] = argv[i];
		}
	}
	argc = nargs;
	argv = args;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;

#define OPT(name, var) else if (!strcmp(a, name)) slot = &var
		if (!strcmp(a, "-A") || !strcmp(a, "--all-namespaces")) {
			all_ns = 1;
			continue;
		} else if (!strcmp(a, "--no-follow")) {
			no_follow = 1;
			continue;
		} else if (!strcmp(a, "-f") || !strcmp(a, "--follow")) {
			no_follow = 0;
			continue;
		} else if (!strcmp(a, "-p") || !strcmp(a, "--previous")) {
			previous = 1;
			continue;
		} else if (!strcmp(a, "-t") || !strcmp(a, "--timestamps")) {
			timestamps = 1;
			continue;
		}
		OPT("-l", selector);
		OPT("--selector", selector);
		OPT("--field-selector", field_selector);
		OPT("-n", ns);
		OPT("--namespace", ns);
		OPT("-c", container_re);
		OPT("--container", container_re);
		OPT("-E", exclude_container);
		OPT("--exclude-container", exclude_container);
		OPT("--since", since);
		OPT("--since-time", since_time);
		OPT("--tail", tail);
		OPT("-i", include);
		OPT("--include", include);
		OPT("-e", exclude);
		OPT("--exclude", exclude);
		OPT("-o", format);
		OPT("--output", format);
		OPT("--max-streams", max_streams);
		OPT("--context", context);
		OPT("--kubeconfig", kubeconfig);
#undef OPT
		else if (a[0] == '-' && a[1]) {
			status = cmd_usage_error(ctx, "unknown option '%s'", a);
			goto out;
		} else if (!target) {
			target = a;
			continue;
		} else {
			status = cmd_usage_error(ctx, "one target only (got '%s' and '%s')",
						 target, a);
			goto out;
		}
		if (i + 1 >= argc) {
			status = cmd_usage_error(ctx, "'%s' needs a value", a);
			goto out;
		}
		*slot = argv[++i];
	}

	if (ns && all_ns) {
		status = cmd_usage_error(ctx, "-n and -A exclude each other");
		goto out;
	}
	if (since && since_time) {
		status = cmd_usage_error(ctx, "--since and --since-time exclude each other");
		goto out;
	}
	if (ctx->json && format && strcmp(format, "json")) {
		status = cmd_usage_error(ctx, "--json and -o %s exclude each other", format);
		goto out;
	}
	out.format = ctx->json ? FMT_JSON : FMT_TEXT;
	if (format) {
		if (!strcmp(format, "text"))
			out.format = FMT_TEXT;
		else if (!strcmp(format, "json"))
			out.format = FMT_JSON;
		else if (!strcmp(format, "raw"))
			out.format = FMT_RAW;
		else {
			status = cmd_usage_error(ctx, "bad output format '%s' (want text, json or raw)",
						 format);
			goto out;
		}
	}
	lo.tail = -1;
	if (tail) {
		char *end;

		lo.tail = strtol(tail, &end, 10);
		if (*end || end == tail || lo.tail < -1) {
			status = cmd_usage_error(ctx, "bad --tail '%s' (want a number of lines)", tail);
			goto out;
		}
	}
	if (since) {
		lo.since_seconds = logs_duration(since);
		if (lo.since_seconds <= 0) {
			status = cmd_usage_error(ctx, "bad --since '%s' (want a duration such as 10m or 1h30m)",
						 since);
			goto out;
		}
	}
	if (since_time) {
		long long s;
		long n;

		if (kube_parse_time(since_time, &s, &n) < 0) {
			status = cmd_usage_error(ctx, "bad --since-time '%s' (want RFC 3339, such as 2024-05-01T10:00:00Z)",
						 since_time);
			goto out;
		}
		lo.since_time = since_time;
	}
	lo.max_streams = 100;
	if (max_streams) {
		char *end;
		long v = strtol(max_streams, &end, 10);

		if (*end || end == max_streams || v < 1 || v > 100000) {
			status = cmd_usage_error(ctx, "bad --max-streams '%s' (want a positive number)",
						 max_streams);
			goto out;
		}
		lo.max_streams = (int)v;
	}
	if (container_re && (status = logs_compile(ctx, &c_re, container_re,
						   "container pattern", &have_c_re)))
		goto out;
	if (exclude_container && (status = logs_compile(ctx, &ec_re, exclude_container,
							"container pattern", &have_ec_re)))
		goto out;
	if (include && (status = logs_compile(ctx, &inc_re, include, "pattern", &have_inc)))
		goto out;
	if (exclude && (status = logs_compile(ctx, &exc_re, exclude, "pattern", &have_exc)))
		goto out;
	/* -i highlights, so it needs the match offsets */
	if (have_inc) {
		regfree(&inc_re);
		regcomp(&inc_re, include, REG_EXTENDED);
	}
	status = EXIT_FAIL;

	/* The monorepo gives defaults and the app model; outside one, none. */
	if (monorepo_open_optional(&repo, ctx->dir, &e) < 0) {
		cmd_fail_err(ctx, &e);
		goto out;
	}
	if (repo) {
		if (!context)
			context = monorepo_get(repo, "cluster.context");
		if (!kubeconfig)
			kubeconfig = monorepo_get(repo, "cluster.kubeconfig");
	}
	ko.context = context;
	ko.kubeconfig = kubeconfig;
	if (kube_client_new(&kc, &ko, &e) < 0) {
		status = cmd_fail_err(ctx, &e);
		goto out;
	}

	if (target && strchr(target, '/')) {
		const char *slash = strchr(target, '/');
		char kind[64];

		snprintf(kind, sizeof(kind), "%.*s", (int)(slash - target), target);
		if (!ns && repo)
			ns = monorepo_get(repo, "cluster.namespace");
		if (!ns)
			ns = kube_namespace(kc);
		if (!strcmp(kind, "pod") || !strcmp(kind, "pods") || !strcmp(kind, "po")) {
			/* pod/NAME: exactly that pod */
			strbuf_addf(&what, "^%s$", slash + 1);
			if ((status = logs_compile(ctx, &pod_re, what.buf, "pod name", &have_pod_re)))
				goto out;
			strbuf_reset(&what);
		} else if (logs_workload_selector(kc, ns, kind, slash + 1, &sel, &e) < 0) {
			status = cmd_fail_err(ctx, &e);
			goto out;
		}
		status = EXIT_FAIL;
		strbuf_addf(&what, "%s", target);
	} else if (target && repo && monorepo_load(repo, &e) == 0 &&
		   (app = monorepo_app(repo, target))) {
		cmd_warn_skipped(ctx, repo);
		for (size_t i = 0; i < app->nworkloads; i++) {
			struct strbuf one = STRBUF_INIT;
			char **p;

			strbuf_init(&one, 0);
			if (monorepo_workload_selector(&app->workloads[i], &one) < 0) {
				strbuf_release(&one);
				continue;
			}
			p = realloc(app_sels, (napp_sels + 1) * sizeof(*p));
			if (!p) {
				strbuf_release(&one);
				break;
			}
			app_sels = p;
			app_sels[napp_sels++] = strbuf_detach(&one, NULL);
		}
		if (!napp_sels) {
			status = cmd_fail(ctx, "app '%s' has no workload with a selector in '%s'",
					  app->name, app->dir);
			goto out;
		}
		logs_common_pairs(&common, app_sels, napp_sels);
		lo.any_selectors = (const char *const *)app_sels;
		lo.nany_selectors = napp_sels;
		if (!ns)
			ns = app->namespace;
		strbuf_addf(&what, "app '%s'", app->name);
	} else if (target) {
		if ((status = logs_compile(ctx, &pod_re, target, "pod pattern", &have_pod_re)))
			goto out;
		status = EXIT_FAIL;
		maybe_app = repo && logs_plain_name(target);
		strbuf_addf(&what, "pod pattern '%s'", target);
	}
	if (!ns && repo)
		ns = monorepo_get(repo, "cluster.namespace");
	if (!ns)
		ns = kube_namespace(kc);
	if (selector) {
		if (sel.len)
			strbuf_addch(&sel, ',');
		strbuf_addstr(&sel, selector);
	}
	if (common.len) {
		if (sel.len)
			strbuf_addch(&sel, ',');
		strbuf_add(&sel, common.buf, common.len);
	}
	if (!target && !selector && !field_selector) {
		status = cmd_usage_error(ctx, "name an app, a pod pattern or KIND/NAME, or give -l SELECTOR");
		goto out;
	}
	if (selector) {
		strbuf_addf(&what, "%sselector '%s'", what.len ? ", " : "", selector);
	}
	if (field_selector)
		strbuf_addf(&what, "%sfield selector '%s'", what.len ? ", " : "", field_selector);

	lo.namespace = ns;
	lo.all_namespaces = all_ns;
	lo.label_selector = sel.len ? sel.buf : NULL;
	lo.field_selector = field_selector;
	lo.pod_re = have_pod_re ? &pod_re : NULL;
	lo.container_re = have_c_re ? &c_re : NULL;
	lo.exclude_container_re = have_ec_re ? &ec_re : NULL;
	lo.previous = previous;
	lo.follow = !no_follow && !previous;
	lo.sorted = !lo.follow;
	lo.stall_ms = 60000;
	if (getenv("SAASCTL_LOGS_STALL_SECONDS")) {
		double v = atof(getenv("SAASCTL_LOGS_STALL_SECONDS"));

		if (v > 0)
			lo.stall_ms = (long)(v * 1000);
	}
	lo.require_match = maybe_app;

	out.ctx = ctx;
	out.timestamps = timestamps;
	out.color = ctx->color_out;
	out.show_ns = all_ns;
	out.include = have_inc ? &inc_re : NULL;
	out.exclude = have_exc ? &exc_re : NULL;
	sink.line = logs_on_line;
	sink.flush = logs_on_flush;
	sink.note = logs_on_note;
	sink.ud = &out;
	sink.out_fd = -1;
	if (fstat(STDOUT_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		sink.out_fd = STDOUT_FILENO;

	/* Ctrl-C and a closed pipe end it cleanly, with what was read. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = logs_on_signal;
	/* writes restart; curl's poll() still wakes up to notice */
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	if (logs_run(kc, &lo, &sink, &e) < 0) {
		if (!strcmp(e.msg, "no pods match")) {
			if (maybe_app)
				status = cmd_fail(ctx, "unknown app '%s', and no pod in namespace '%s' matches it",
						  target, ns);
			else
				status = cmd_fail(ctx, "no pods match %s in %s%s%s", what.buf,
						  all_ns ? "any namespace" : "namespace '",
						  all_ns ? "" : ns, all_ns ? "" : "'");
		} else {
			status = cmd_fail_err(ctx, &e);
		}
		goto out;
	}
	if (out.failed) {
		status = cmd_fail(ctx, "cannot write output: %s", strerror(out.failed));
		goto out;
	}
	status = EXIT_OK;
out:
	if (have_pod_re)
		regfree(&pod_re);
	if (have_c_re)
		regfree(&c_re);
	if (have_ec_re)
		regfree(&ec_re);
	if (have_inc)
		regfree(&inc_re);
	if (have_exc)
		regfree(&exc_re);
	for (size_t i = 0; i < napp_sels; i++)
		free(app_sels[i]);
	free(app_sels);
	strbuf_release(&sel);
	strbuf_release(&common);
	strbuf_release(&what);
	strbuf_release(&out.line);
	kube_client_free(kc);
	monorepo_free(repo);
	for (int i = 0; i < nsplit; i++)
		free(split[i]);
	free(split);
	free(args);
	return status;
}

const struct cmd_entry cmd_logs_entry = {
	.name = "logs",
	.usage = "[APP | POD-REGEX | KIND/NAME] [-l SELECTOR] [--field-selector S] "
		 "[-n NS | -A] [-c CONTAINER-REGEX] [-E EXCLUDE-CONTAINER] "
		 "[--since 10m | --since-time T] [--tail N] [--no-follow] [--previous] "
		 "[-i INCLUDE-RE] [-e EXCLUDE-RE] [-t] [-o text|json|raw] "
		 "[--max-streams N] [--context C] [--kubeconfig F]",
	.summary = "tail the logs of every pod of an app, nothing lost, nothing twice",
	.exec = cmd_logs,
	.complete = COMPLETE_APPS,
	.secrets = 1,
};
