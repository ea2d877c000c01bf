/*
 * saasctl new app NAME --host HOST ...: the manifests of a new app, ready
 * to deploy and clean under saasctl lint.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "../src/monorepo.h"
#include "../src/scaffold.h"

/* A whole decimal number in [lo, hi]; -1 when it is not one. */
static long parse_num(const char *s, long lo, long hi)
{
	char *end = NULL;
	long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	return v;
}

static int parse_replicas(const char *s, int *min, int *max)
{
	const char *colon = strchr(s, ':');
	char lo[16];
	long a, b;

	if (!colon || (size_t)(colon - s) >= sizeof(lo))
		return -1;
	memcpy(lo, s, (size_t)(colon - s));
	lo[colon - s] = '\0';
	a = parse_num(lo, 1, 1000);
	b = parse_num(colon + 1, 1, 1000);
	if (a < 0 || b < 0 || a > b)
		return -1;
	*min = (int)a;
	*max = (int)b;
	return 0;
}

static int cmd_new_app(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct scaffold_app app = {
		.port = 8000, .min_replicas = 2, .max_replicas = 5,
		.cpu_target = 70, .rpm = 600,
	};
	struct monorepo *repo = NULL;
	struct err e = { { 0 } };
	const char **hosts = NULL;
	char **files = NULL, *image = NULL;
	size_t nfiles = 0;
	int status = EXIT_FAIL;
	long v;

	hosts = calloc((size_t)argc, sizeof(*hosts));
	if (!hosts)
		return cmd_fail(ctx, "out of memory");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;

		if (a[0] != '-' || !a[1]) {
			if (app.name) {
				status = cmd_usage_error(ctx, "too many arguments: '%s'", a);
				goto out;
			}
			app.name = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			if (i + 1 < argc && !app.name)
				app.name = argv[++i];
			continue;
		}
		/* Every option takes a value: "--opt VALUE" or "--opt=VALUE". */
		{
			const char *eq = strchr(a, '=');
			static char optbuf[64];

			if (eq && (size_t)(eq - a) < sizeof(optbuf)) {
				memcpy(optbuf, a, (size_t)(eq - a));
				optbuf[eq - a] = '\0';
				val = eq + 1;
				a = optbuf;
			} else if (i + 1 < argc) {
				val = argv[++i];
			} else {
				status = cmd_usage_error(ctx, "'%s' needs a value", a);
				goto out;
			}
		}
		if (!strcmp(a, "--host")) {
			hosts[app.nhosts++] = val;
		} else if (!strcmp(a, "--image")) {
			app.image = val;
		} else if (!strcmp(a, "--namespace") || !strcmp(a, "-n")) {
			app.namespace = val;
		} else if (!strcmp(a, "--port")) {
			if ((v = parse_num(val, 1, 65535)) < 0) {
				status = cmd_usage_error(ctx, "bad --port '%s': want 1 to 65535", val);
				goto out;
			}
			app.port = (int)v;
		} else if (!strcmp(a, "--replicas")) {
			if (parse_replicas(val, &app.min_replicas, &app.max_replicas) < 0) {
				status = cmd_usage_error(ctx, "bad --replicas '%s': want MIN:MAX with 1 <= MIN <= MAX", val);
				goto out;
			}
		} else if (!strcmp(a, "--cpu-target")) {
			if ((v = parse_num(val, 1, 100)) < 0) {
				status = cmd_usage_error(ctx, "bad --cpu-target '%s': want a percentage from 1 to 100", val);
				goto out;
			}
			app.cpu_target = (int)v;
		} else if (!strcmp(a, "--rpm")) {
			if ((v = parse_num(val, 1, 1000000)) < 0) {
				status = cmd_usage_error(ctx, "bad --rpm '%s': want requests per minute, 1 or more", val);
				goto out;
			}
			app.rpm = (int)v;
		} else {
			status = cmd_usage_error(ctx, "unknown option '%s'", a);
			goto out;
		}
	}
	if (!app.name) {
		status = cmd_usage_error(ctx, "missing the app NAME");
		goto out;
	}
	if (!app.nhosts) {
		status = cmd_usage_error(ctx, "missing --host: the app needs a public host name");
		goto out;
	}
	app.hosts = hosts;
	if (!app.namespace)
		app.namespace = app.name;

	if (monorepo_open(&repo, ctx->dir, &e) < 0) {
		status = cmd_fail_err(ctx, &e);
		goto out;
	}
	if (!app.image) {
		/* A placeholder in the project's registry, pinned like lint wants. */
		const char *project = monorepo_get(repo, "project");

		if (asprintf(&image, "ghcr.io/%s/%s:0.1.0",
			     project && scaffold_valid_label(project) ? project : "acme",
			     app.name) < 0)
			abort();
		app.image = image;
	}
	if (scaffold_new_app(repo->root, &app, &files, &nfiles, &e) < 0) {
		status = cmd_fail_err(ctx, &e);
		goto out;
	}
	if (ctx->json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:[]}", "app", app.name,
				      "namespace", app.namespace, "image",
				      app.image, "files");

		for (size_t i = 0; i < nfiles; i++)
			json_array_append_new(json_object_get(o, "files"),
					      json_string(files[i]));
		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(o);
	} else if (!ctx->quiet) {
		for (size_t i = 0; i < nfiles; i++)
			printf("created  %s\n", files[i]);
		printf("app '%s' in namespace '%s', image %s, %d-%d replicas, "
		       "https://%s\n", app.name, app.namespace, app.image,
		       app.min_replicas, app.max_replicas, app.hosts[0]);
	}
	status = EXIT_OK;
out:
	for (size_t i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	free(image);
	free(hosts);
	monorepo_free(repo);
	return status;
}

const struct cmd_entry cmd_new_app_entry = {
	.name = "new app",
	.usage = "NAME --host HOST [--image IMG] [--port N] [--namespace NS] [--replicas MIN:MAX] [--cpu-target PCT] [--rpm N]",
	.summary = "write the manifests of a new app: deployment, service, ingress, hpa, configmap",
	.exec = cmd_new_app,
};
