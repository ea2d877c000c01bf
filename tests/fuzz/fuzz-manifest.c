/*
 * Backup manifests: a store may hold a manifest.json someone else wrote.
 * backup_manifest_parse() never crashes and refuses what a reader cannot
 * use; then the readers themselves run on it from a file:// store in a
 * temporary folder, as the commands call them: list, verify (sizes, and
 * reading the objects), prune's reference walk (a dry run) and the drill
 * record reader. Each gives an answer or a clear error; a manifest that
 * parses is listed as complete, one that does not is never complete and
 * verify says why. The objects it names are not there, so verify finds
 * them missing: what is tested is the walk, not the data.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "backup.h"

#define ID "20240501T030000Z"

static char dir[] = "/tmp/saasctl-fuzz-manifest.XXXXXX";
static char sub[4200], mpath[4300], dpath[4300], url[4200];
static struct store *st;

static void cleanup(void)
{
	store_close(st);
	unlink(mpath);
	unlink(dpath);
	rmdir(sub);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct err e;

	(void)argc;
	(void)argv;
	if (!mkdtemp(dir))
		abort();
	snprintf(sub, sizeof(sub), "%s/" ID, dir);
	snprintf(mpath, sizeof(mpath), "%s/manifest.json", sub);
	snprintf(dpath, sizeof(dpath), "%s/" BACKUP_DRILL_KEY, sub);
	snprintf(url, sizeof(url), "file://%s", dir);
	if (mkdir(sub, 0700) < 0 || store_open(&st, url, &e) < 0)
		abort();
	atexit(cleanup);
	return 0;
}

static void put(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
}

static void fail(const char *what, const char *msg)
{
	fprintf(stderr, "fuzz-manifest: %s: %s\n", what, msg);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct backup_infos l = { 0 };
	struct verify_options vo = { 0 };
	struct verify_result vr;
	struct prune_options po = { 0 };
	struct prune_result pr;
	struct drill_record dr;
	json_t *m = NULL;
	struct err e = { "" };
	int ok, found;

	ok = backup_manifest_parse(&m, (const char *)data, size, &e) == 0;
	if (!ok && !e.msg[0])
		fail("refused without a message", "");
	json_decref(m);

	put(mpath, data, size);
	if (backup_list(st, &l, &e) < 0)
		fail("list failed", e.msg);
	if (l.n != 1 || strcmp(l.v[0].id, ID) || l.v[0].complete != ok)
		fail("list", ok ? "a valid manifest is not complete"
				: "a refused manifest is complete");
	backup_infos_release(&l);

	for (vo.read_data = 0; vo.read_data < 2; vo.read_data++) {
		e.msg[0] = '\0';
		if (backup_verify(st, ID, &vo, &vr, &e) < 0 ? !e.msg[0] : !ok)
			fail("verify", ok ? "failed without a message"
					  : "checked a refused manifest");
	}

	po.policy.count[RETENTION_LAST] = 1;
	po.now = 1714532400;
	po.grace = 86400;
	po.dry_run = 1;
	e.msg[0] = '\0';
	if (backup_prune(st, &po, &pr, &e) < 0 ? !e.msg[0] : !ok)
		fail("prune", ok ? "failed without a message"
				  : "planned with a refused manifest");

	/* the drill record is another JSON file of the store */
	put(dpath, data, size);
	if (backup_last_drill(st, &dr, &found, &e) < 0)
		fail("drill record", e.msg);
	unlink(dpath);
	return 0;
}
