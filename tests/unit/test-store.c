/* store: the file:// backend writes atomically, creates exclusively and
 * lists only whole objects. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "store.h"

static int exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

int main(void)
{
	char dir[] = "/tmp/saasctl-store.XXXXXX", url[128], path[256];
	struct store *st = NULL;
	struct store_writer *w = NULL;
	struct store_list l;
	struct strbuf sb = STRBUF_INIT;
	struct err e = { { 0 } };
	uint64_t size = 0;
	int found = -1, ex = 0;

	if (!mkdtemp(dir))
		return 1;
	CHECK(store_open(&st, "file://rel/x", &e) < 0, "a relative file:// path is refused");
	CHECK(store_open(&st, "ftp://x", &e) < 0, "an unknown scheme is refused");
	snprintf(url, sizeof(url), "file://%s/", dir);
	CHECK(store_open(&st, url, &e) == 0, "a file:// store opens");

	CHECK(store_key_check("a/../b", &e) < 0, "'..' in a key is refused");
	CHECK(store_key_check("/a", &e) < 0, "a leading '/' is refused");
	CHECK(store_key_check("a/.hidden", &e) < 0, "a dot component is refused");
	CHECK(store_key_check("b1/data/db/t/2024.native.lz4", &e) == 0, "a backup key is fine");

	CHECK(store_writer_open(st, "b1/data/x.bin", -1, 0, &w, &e) == 0, "a writer opens");
	store_writer_write(w, "hello ", 6, &e);
	store_writer_write(w, "world", 5, &e);
	snprintf(path, sizeof(path), "%s/b1/data/x.bin", dir);
	CHECK(!exists(path), "nothing is visible before the commit");
	CHECK(store_list(st, "", &l, &e) == 0 && l.n == 0, "the temporary file is not listed");
	store_list_release(&l);
	CHECK(store_writer_commit(w, NULL, &e) == 0, "the commit succeeds");
	CHECK(exists(path), "the object is there after the commit");

	CHECK(store_writer_open(st, "b1/data/y.bin", -1, 0, &w, &e) == 0, "a second writer opens");
	store_writer_write(w, "partial", 7, &e);
	store_writer_abort(w);
	CHECK(store_list(st, "b1/", &l, &e) == 0 && l.n == 1 &&
	      !strcmp(l.v[0].key, "b1/data/x.bin") && l.v[0].size == 11,
	      "an aborted write leaves nothing");
	store_list_release(&l);

	CHECK(store_get_buffer(st, "b1/data/x.bin", 0, &sb, &found, &e) == 0 &&
	      found == 1 && sb.len == 11 && !memcmp(sb.buf, "hello world", 11),
	      "the object reads back");
	CHECK(store_get_buffer(st, "b1/none", 0, &sb, &found, &e) == 0 && found == 0,
	      "a missing object is found=0");
	CHECK(store_head(st, "b1/data/x.bin", &found, &size, &e) == 0 && found && size == 11,
	      "head gives the size");

	CHECK(store_put(st, "lock", "a", 1, STORE_CREATE_EXCLUSIVE, &ex, &e) == 0 && !ex,
	      "an exclusive create of a new key succeeds");
	CHECK(store_put(st, "lock", "b", 1, STORE_CREATE_EXCLUSIVE, &ex, &e) < 0 && ex == 1,
	      "an exclusive create of an existing key fails and says so");
	CHECK(store_get_buffer(st, "lock", 0, &sb, NULL, &e) == 0 && sb.len == 1 && sb.buf[0] == 'a',
	      "the first writer's content stays");
	CHECK(store_list(st, "", &l, &e) == 0 && l.n == 2, "no temporary file is left by the failed create");
	store_list_release(&l);

	CHECK(store_list(st, "b1/data/", &l, &e) == 0 && l.n == 1, "a prefix narrows the listing");
	store_list_release(&l);
	CHECK(store_delete(st, "lock", &e) == 0 && store_delete(st, "lock", &e) == 0,
	      "delete, and deleting a missing key is fine");

	strbuf_release(&sb);
	store_close(st);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		return 1;
	return UNIT_DONE();
}
