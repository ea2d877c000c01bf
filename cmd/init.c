/*
 * saasctl init [--force] [DIR]: lay out a new infra monorepo and make its
 * first commit.
 */
#define _GNU_SOURCE 1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "../src/jsonout.h"
#include "../src/scaffold.h"

static int cmd_init(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct scaffold_init_result res = { 0 };
	struct err e = { { 0 } };
	const char *dir = NULL;
	char *path = NULL;
	int force = 0, status = EXIT_FAIL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f"))
			force = 1;
		else if (!strcmp(argv[i], "--") && i + 1 < argc && !dir)
			dir = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1])
			return cmd_usage_error(ctx, "unknown option '%s'", argv[i]);
		else if (dir)
			return cmd_usage_error(ctx, "too many arguments");
		else
			dir = argv[i];
	}
	if (!dir)
		dir = ".";
	/* -C DIR: the folder is relative to it, like every other path. */
	if (ctx->dir && dir[0] != '/') {
		if (asprintf(&path, "%s/%s", ctx->dir, dir) < 0)
			return cmd_fail(ctx, "out of memory");
	} else {
		path = strdup(dir);
	}

	if (scaffold_init(path, force, &res, &e) < 0) {
		cmd_fail_err(ctx, &e);
		goto out;
	}
	if (ctx->json) {
		struct jsonout jo = JSONOUT_INIT;
		json_t *o = json_pack("{s:o, s:s, s:[], s:[]}",
				      "dir", jsonout_str(&jo, path),
				      "commit", res.commit, "created", "kept");

		for (size_t i = 0; i < res.ncreated; i++)
			json_array_append_new(json_object_get(o, "created"),
					      jsonout_str(&jo, res.created[i]));
		for (size_t i = 0; i < res.nkept; i++)
			json_array_append_new(json_object_get(o, "kept"),
					      jsonout_str(&jo, res.kept[i]));
		if (jsonout_check(&jo, &e) < 0) {
			json_decref(o);
			status = cmd_fail_err(ctx, &e);
			goto out;
		}
		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(o);
	} else if (!ctx->quiet) {
		for (size_t i = 0; i < res.ncreated; i++)
			printf("created  %s\n", res.created[i]);
		for (size_t i = 0; i < res.nkept; i++)
			printf("kept     %s (exists)\n", res.kept[i]);
		if (res.commit[0])
			printf("committed %.12s in %s\n", res.commit, path);
		else
			printf("nothing to add in %s\n", path);
		printf("next: saasctl -C %s new app NAME --host HOST\n", path);
	}
	status = EXIT_OK;
out:
	scaffold_init_result_release(&res);
	free(path);
	return status;
}

const struct cmd_entry cmd_init_entry = {
	.name = "init",
	.usage = "[--force] [DIR]",
	.summary = "lay out a new infra monorepo and make its first commit",
	.exec = cmd_init,
	.complete = COMPLETE_FILES,
};
