/*
 * saasctl status: one screen for the whole SaaS (src/status).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "../src/kube.h"
#include "../src/kubewatch.h"
#include "../src/monorepo.h"
#include "../src/status.h"

#define EXIT_DEGRADED 3

static const char *s(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

static long long n(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static const char *mark(json_t *o)
{
	const char *h = s(o, "health");

	return !strcmp(h, "healthy") || !*h ? "" : h;
}

/* "5m ago", "7h ago", "3d ago" from age_seconds. */
static const char *ago(json_t *o, char *buf, size_t len)
{
	json_t *a = json_object_get(o, "age_seconds");
	long long sec = json_integer_value(a);

	if (!json_is_integer(a))
		snprintf(buf, len, "at %s", s(o, "time"));
	else if (sec < 0)
		snprintf(buf, len, "in the future (%s)", s(o, "time"));
	else if (sec < 7200)
		snprintf(buf, len, "%lldm ago", sec / 60);
	else if (sec < 2 * 86400)
		snprintf(buf, len, "%lldh ago", sec / 3600);
	else
		snprintf(buf, len, "%lldd ago", sec / 86400);
	return buf;
}

static void print_screen(FILE *f, json_t *doc)
{
	json_t *app, *x, *hc;
	size_t i, j;

	json_array_foreach(json_object_get(doc, "apps"), i, app) {
		json_t *flux = json_object_get(app, "flux");

		fprintf(f, "%s%-40s %s\n", i ? "\n" : "", s(app, "name"), s(app, "health"));
		json_array_foreach(json_object_get(app, "images"), j, x) {
			json_t *run = json_object_get(x, "running");

			fprintf(f, "  image     %s/%s  %s", s(x, "workload"), s(x, "container"), s(x, "pinned"));
			if (json_is_string(run) && json_is_true(json_object_get(x, "drift")))
				fprintf(f, "  running %s  drift", json_string_value(run));
			else if (json_is_null(run))
				fprintf(f, "  (not in the cluster)");
			fputc('\n', f);
		}
		if (strcmp(s(flux, "state"), "ok")) {
			fprintf(f, "  flux      %s\n", s(flux, "state"));
		} else {
			fprintf(f, "  flux      %s  %s  Ready=%s  %s%s%s\n", s(flux, "kustomization"),
				*s(flux, "revision") ? s(flux, "revision") : "(nothing applied)",
				s(flux, "ready"),
				json_is_true(json_object_get(flux, "at_origin")) ? "at origin" :
				"not at origin", *mark(flux) ? "  " : "", mark(flux));
			if (!strcmp(s(flux, "ready"), "False") && *s(flux, "message"))
				fprintf(f, "            %s\n", s(flux, "message"));
		}
		json_array_foreach(json_object_get(app, "workloads"), j, x) {
			json_t *hpa = json_object_get(x, "hpa");

			if (!strcmp(s(x, "rollout"), "missing")) {
				fprintf(f, "  workload  %s  not in the cluster  failing\n", s(x, "name"));
				continue;
			}
			fprintf(f, "  workload  %s  %s  %lld/%lld ready  %lld restarted (1h)",
				s(x, "name"), s(x, "rollout"), n(x, "ready"), n(x, "desired"),
				n(x, "restarts_1h"));
			if (hpa)
				fprintf(f, "  hpa %lld/%lld (max %lld)", n(hpa, "current"),
					n(hpa, "desired"), n(hpa, "max"));
			fprintf(f, "%s%s\n", *mark(x) ? "  " : "", mark(x));
			if (*s(x, "stuck"))
				fprintf(f, "            %s\n", s(x, "stuck"));
			else if (!strcmp(s(x, "rollout"), "failed") || !strcmp(s(x, "rollout"), "progressing"))
				fprintf(f, "            %s\n", s(x, "message"));
		}
		json_array_foreach(json_object_get(app, "certificates"), j, x) {
			if (json_object_get(x, "days_left"))
				fprintf(f, "  cert      %s  %s  expires in %lld days%s%s\n", s(x, "name"),
					s(x, "host"), n(x, "days_left"), *mark(x) ? "  " : "", mark(x));
			else
				fprintf(f, "  cert      %s  %s  not issued  %s\n", s(x, "name"),
					s(x, "host"), mark(x));
		}
	}
	hc = json_object_get(doc, "healthchecks");
	fprintf(f, "\nhealthchecks  %s\n", s(hc, "state"));
	json_array_foreach(json_object_get(hc, "checks"), j, x)
		fprintf(f, "  %-30s %s\n", s(x, "name"), s(x, "status"));
	x = json_object_get(doc, "backups");
	fprintf(f, "backups       %s%s%s%s%s\n", s(x, "state"), *s(x, "store") ? "  " : "",
		s(x, "store"), *mark(x) ? "  " : "", mark(x));
	if (!strcmp(s(x, "state"), "ok")) {
		json_t *nb = json_object_get(x, "newest"), *dr = json_object_get(x, "drill");
		char age[32];

		if (json_is_object(nb))
			fprintf(f, "  newest    %s  %s\n", s(nb, "backup"),
				ago(nb, age, sizeof(age)));
		else
			fprintf(f, "  newest    no complete backup\n");
		if (json_is_object(dr))
			fprintf(f, "  drill     %s  %s  %s\n", s(dr, "backup"),
				s(dr, "verdict"), ago(dr, age, sizeof(age)));
		else
			fprintf(f, "  drill     never\n");
	}
	x = json_object_get(doc, "sources");
	fprintf(f, "cluster       %s\n", s(x, "cluster"));
	fprintf(f, "\n%s\n", s(doc, "health"));
}

static int exit_for(enum status_health h)
{
	return h == STATUS_FAILING ? EXIT_FAIL : h == STATUS_DEGRADED ? EXIT_DEGRADED : EXIT_OK;
}

static void ignore_object(void *ud, const char *type, json_t *obj, int initial)
{
	int *changed = ud;

	(void)type;
	(void)obj;
	if (!initial)
		*changed = 1;
}

/* --watch: draw again whenever a watched collection changes. */
static int watch_loop(struct cmd_ctx *ctx, struct monorepo *repo,
		      struct status_options *so, struct kube_client *kc)
{
	static const char *const what[] = {
		"/apis/apps/v1/deployments", "/apis/apps/v1/statefulsets",
		"/apis/apps/v1/daemonsets", "/api/v1/pods",
	};
	struct kubewatch w[4];
	int changed = 1, tty = isatty(STDOUT_FILENO), status = EXIT_FAIL;
	struct kubewatch_ops ops = { ignore_object, NULL, NULL, &changed };
	struct err e = { { 0 } };
	CURLM *multi = curl_multi_init();
	size_t nw = 0;

	if (!multi)
		return cmd_fail(ctx, "out of memory");
	for (; nw < 4; nw++) {
		kubewatch_init(&w[nw], kc, multi, what[nw], NULL, what[nw], &ops, &e);
		if (kubewatch_list(&w[nw], 1) < 0 || w[nw].failed) {
			nw++;
			status = cmd_fail_err(ctx, &e);
			goto out;
		}
	}
	for (;;) {
		int running, left;
		CURLMsg *msg;

		if (changed) {
			json_t *doc = NULL;
			enum status_health h;

			changed = 0;
			so->now = time(NULL);
			if (status_collect(repo, so, &doc, &h, &e) < 0) {
				status = cmd_fail_err(ctx, &e);
				goto out;
			}
			if (ctx->json) {
				json_dumpf(doc, stdout, JSON_COMPACT | JSON_SORT_KEYS);
				fputc('\n', stdout);
			} else {
				if (tty)
					fputs("\033[H\033[2J", stdout);
				print_screen(stdout, doc);
			}
			json_decref(doc);
			if (fflush(stdout) != 0 || ferror(stdout)) {
				status = EXIT_OK;	/* the reader left */
				goto out;
			}
		}
		for (size_t i = 0; i < nw; i++)
			if (kubewatch_step(&w[i]) < 0 || w[i].failed) {
				status = cmd_fail_err(ctx, &e);
				goto out;
			}
		curl_multi_perform(multi, &running);
		while ((msg = curl_multi_info_read(multi, &left)))
			if (msg->msg == CURLMSG_DONE)
				for (size_t i = 0; i < nw; i++)
					if (kubewatch_done(&w[i], msg->easy_handle, msg->data.result))
						break;
		curl_multi_poll(multi, NULL, 0, 1000, NULL);
	}
out:
	for (size_t i = 0; i < nw; i++)
		kubewatch_release(&w[i]);
	curl_multi_cleanup(multi);
	return status;
}

static int cmd_status(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct monorepo *repo = NULL;
	struct kube_client *kc = NULL;
	struct kube_options ko = { 0 };
	struct status_options so = { 0 };
	struct err e = { { 0 } }, ke = { { 0 } };
	const char **apps = calloc((size_t)argc + 1, sizeof(*apps));
	json_t *doc = NULL;
	enum status_health h;
	int watch = 0, status = EXIT_FAIL;

	if (!apps)
		return cmd_fail(ctx, "out of memory");
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--watch")) {
			watch = 1;
		} else if (!strcmp(argv[i], "--json")) {
			ctx->json = 1;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			status = cmd_usage_error(ctx, "unknown option '%s'", argv[i]);
			goto out;
		} else {
			apps[so.napps++] = argv[i];
		}
	}
	so.apps = apps;
	if (monorepo_open(&repo, ctx->dir, &e) < 0 || monorepo_load(repo, &e) < 0) {
		status = cmd_fail_err(ctx, &e);
		goto out;
	}
	cmd_warn_skipped(ctx, repo);
	ko.context = monorepo_get(repo, "cluster.context");
	ko.kubeconfig = monorepo_get(repo, "cluster.kubeconfig");
	if (kube_client_new(&kc, &ko, &ke) < 0) {
		kc = NULL;
		so.kube_error = ke.msg;
	}
	so.kc = kc;
	so.store_url = monorepo_get(repo, "backups.store");
	if (watch) {
		if (!kc) {
			status = cmd_fail(ctx, "--watch needs the cluster: %s", ke.msg);
			goto out;
		}
		status = watch_loop(ctx, repo, &so, kc);
		goto out;
	}
	so.now = time(NULL);
	if (status_collect(repo, &so, &doc, &h, &e) < 0) {
		status = cmd_fail_err(ctx, &e);
		goto out;
	}
	if (ctx->json) {
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', stdout);
	} else {
		print_screen(stdout, doc);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		status = cmd_fail(ctx, "cannot write the status: %s", strerror(errno));
		goto out;
	}
	status = exit_for(h);
out:
	json_decref(doc);
	kube_client_free(kc);
	monorepo_free(repo);
	free(apps);
	return status;
}

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.usage = "[APP]... [--json] [--watch]",
	.summary = "show what every app runs against what the monorepo pins, and its health",
	.exec = cmd_status,
	.complete = COMPLETE_APPS,
};
