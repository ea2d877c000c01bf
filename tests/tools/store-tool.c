/*
 * store-tool: src/store driven from the shell tests, for any store URL
 * (file:// or s3://, settings as store_open() reads them). Errors:
 * "store-tool: MESSAGE" on stderr, exit 1; exit 3 when an exclusive
 * create found the key there.
 *
 *   store-tool put [--exclusive] [--fail-after N] [--chunk N] [--writers N]
 *                  URL KEY FILE|-   streamed through a writer in pieces of
 *                                   --chunk bytes (64 KiB); --fail-after
 *                                   aborts the writer after N bytes;
 *                                   --writers: store_set_writers()
 *   store-tool get URL KEY          the object on stdout; "absent" on
 *                                   stderr and exit 4 when missing
 *   store-tool head URL KEY         "SIZE", or "absent"
 *   store-tool list URL [PREFIX]    "KEY\tSIZE\tMTIME", one a line
 *   store-tool rm URL KEY...        one store_delete_many()
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

static int fail(const struct err *e)
{
	fprintf(stderr, "store-tool: %s\n", e->msg);
	return 1;
}

static int out_sink(void *ud, const void *data, size_t len, struct err *e)
{
	(void)ud;
	if (fwrite(data, 1, len, stdout) != len)
		return err_set(e, "cannot write stdout");
	return 0;
}

static int cmd_put(struct store *st, int argc, char **argv)
{
	struct store_writer *w;
	struct err e;
	long long fail_after = -1, done = 0;
	size_t chunk = 65536;
	int flags = 0, exists = 0, i = 0;
	FILE *f;
	char *buf;

	while (i < argc && argv[i][0] == '-' && argv[i][1]) {
		if (!strcmp(argv[i], "--exclusive"))
			flags |= STORE_CREATE_EXCLUSIVE;
		else if (!strcmp(argv[i], "--fail-after") && i + 1 < argc)
			fail_after = atoll(argv[++i]);
		else if (!strcmp(argv[i], "--chunk") && i + 1 < argc)
			chunk = (size_t)atoll(argv[++i]);
		else if (!strcmp(argv[i], "--writers") && i + 1 < argc)
			store_set_writers(st, atoi(argv[++i]));
		else
			break;
		i++;
	}
	if (argc - i != 2) {
		fprintf(stderr, "usage: store-tool put [--exclusive] [--fail-after N] [--chunk N] [--writers N] URL KEY FILE|-\n");
		return 2;
	}
	f = strcmp(argv[i + 1], "-") ? fopen(argv[i + 1], "rb") : stdin;
	buf = malloc(chunk);
	if (!f || !buf) {
		perror(argv[i + 1]);
		return 1;
	}
	if (store_writer_open(st, argv[i], -1, flags, &w, &e) < 0)
		return fail(&e);
	for (;;) {
		size_t n = fread(buf, 1, chunk, f);

		if (n == 0)
			break;
		if (fail_after >= 0 && done + (long long)n > fail_after) {
			store_writer_abort(w);
			fprintf(stderr, "store-tool: aborted after %lld bytes\n", done);
			return 1;
		}
		if (store_writer_write(w, buf, n, &e) < 0) {
			store_writer_abort(w);
			return fail(&e);
		}
		done += (long long)n;
	}
	free(buf);
	if (store_writer_commit(w, &exists, &e) < 0) {
		fail(&e);
		return exists ? 3 : 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct store *st = NULL;
	struct err e;
	int ret = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: store-tool put|get|head|list|rm URL ...\n");
		return 2;
	}
	if (!strcmp(argv[1], "put")) {
		int i = 2;

		/* the URL follows the options */
		while (i < argc && argv[i][0] == '-' && argv[i][1]) {
			if (!strcmp(argv[i], "--exclusive"))
				i++;
			else
				i += 2;
		}
		if (i >= argc)
			return 2;
		if (store_open(&st, argv[i], &e) < 0)
			return fail(&e);
		/* drop the URL from the arguments */
		for (int k = i; k + 1 < argc; k++)
			argv[k] = argv[k + 1];
		ret = cmd_put(st, argc - 3, argv + 2);
		store_close(st);
		return ret;
	}
	if (store_open(&st, argv[2], &e) < 0)
		return fail(&e);
	if (!strcmp(argv[1], "get") && argc == 4) {
		int found = 0;

		if (store_get(st, argv[3], out_sink, NULL, &found, &e) < 0)
			ret = fail(&e);
		else if (!found) {
			fprintf(stderr, "absent\n");
			ret = 4;
		}
	} else if (!strcmp(argv[1], "head") && argc == 4) {
		int found = 0;
		uint64_t size = 0;

		if (store_head(st, argv[3], &found, &size, &e) < 0)
			ret = fail(&e);
		else if (found)
			printf("%llu\n", (unsigned long long)size);
		else
			printf("absent\n");
	} else if (!strcmp(argv[1], "list") && (argc == 3 || argc == 4)) {
		struct store_list l;

		if (store_list(st, argc == 4 ? argv[3] : "", &l, &e) < 0)
			ret = fail(&e);
		else
			for (size_t i = 0; i < l.n; i++)
				printf("%s\t%llu\t%lld\n", l.v[i].key,
				       (unsigned long long)l.v[i].size,
				       (long long)l.v[i].mtime);
		store_list_release(&l);
	} else if (!strcmp(argv[1], "rm") && argc >= 4) {
		if (store_delete_many(st, (const char *const *)argv + 3,
				      (size_t)(argc - 3), &e) < 0)
			ret = fail(&e);
	} else {
		fprintf(stderr, "store-tool: bad arguments\n");
		ret = 2;
	}
	store_close(st);
	if (fflush(stdout) != 0)
		ret = 1;
	return ret;
}
