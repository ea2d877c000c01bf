/*
 * Backup stores: the interface of store.h and its two backends, file://
 * and s3://, each one struct store_ops.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "s3.h"
#include "store.h"

/*
 * A file store streams objects through the page cache in windows of this
 * many bytes: each window written is sent to the disk at once, and the
 * one before it, on the disk by then, is dropped from the cache. An
 * object keeps at most two windows of the cache however large it is, so
 * that a backup taken on the database's machine does not evict the
 * database's own cache, and the memory it writes through is the memory
 * it has just freed. Reads drop what they have read the same way.
 */
#define FILE_WINDOW (8 << 20)

struct store_ops {
	int (*writer_open)(struct store *st, const char *key, long long hint,
			   int flags, struct store_writer *w, struct err *e);
	int (*write)(struct store_writer *w, const void *data, size_t len,
		     struct err *e);
	int (*commit)(struct store_writer *w, int *exists, struct err *e);
	void (*abort)(struct store_writer *w);
	int (*get)(struct store *st, const char *key, store_sink_fn sink,
		   void *ud, int *found, struct err *e);
	int (*head)(struct store *st, const char *key, int *found,
		    uint64_t *size, struct err *e);
	int (*list)(struct store *st, const char *prefix,
		    struct store_list *out, struct err *e);
	int (*del)(struct store *st, const char *key, struct err *e);
	/* NULL: one del per key */
	int (*del_many)(struct store *st, const char *const *keys, size_t n,
			struct err *e);
	int (*sweep)(struct store *st, size_t *n, struct err *e);
	void (*close)(struct store *st);
};

struct store {
	const struct store_ops *ops;
	char *url;
	char *root;		/* file: the folder, without a trailing '/' */
	/* s3 backend */
	struct s3 s3;
	int s3_ready;
	char *bucket;
	char *prefix;		/* "" or "a/b/" (with the trailing '/') */
	int writers;		/* written at once (store_set_writers) */
};

/* One part of an S3 upload on its way, sent by a thread of its own so
 * that the next part fills meanwhile. */
struct s3_inflight {
	pthread_t th;
	int running;
	struct store_writer *w;
	const char *data;
	size_t len;
	int number;
	int ret;
	struct err e;
};

struct store_writer {
	struct store *st;
	char *key;
	int flags;
	uint64_t size;
	/* file backend */
	int fd;
	char *tmp;
	char *path;
	off_t dropped, flushed, unflushed;	/* out of the cache / asked to
						 * be written back / neither */
	/* s3 backend */
	char *okey;		/* the object's key in the bucket */
	long long hint;
	char *buf;		/* the part being filled */
	size_t fill, cap;
	char *spare;		/* the part in flight, then reused */
	size_t spare_cap;
	char *upload_id;	/* once a part went out */
	struct s3_part *parts;
	size_t nparts;
	struct s3_inflight fl;
};

/* ---------------------------------------------------------------- */
/* keys                                                              */

int store_key_check(const char *key, struct err *e)
{
	const char *p = key;

	if (!*key)
		return err_set(e, "an empty object key");
	if (*key == '/')
		return err_set(e, "object key '%s' starts with '/'", key);
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return err_set(e, "object key '%s' has an empty, '.' or "
				       "'..' component", key);
		/* the file backend's temporary names start with '.' */
		if (p[0] == '.')
			return err_set(e, "object key '%s' has a component "
				       "starting with '.'", key);
		p += n;
		if (*p == '/')
			p++;
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* file://                                                           */

static char *file_path(struct store *st, const char *key)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", st->root, key) < 0)
		return NULL;
	return p;
}

/* mkdir -p of the folder holding path. */
static int mkdir_parents(const char *path, struct err *e)
{
	char *d = strdup(path), *s;
	int ret = 0;

	if (!d)
		return err_set(e, "out of memory");
	for (s = d + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(d, 0755) < 0 && errno != EEXIST) {
			ret = err_errno(e, "cannot create folder '%s'", d);
			break;
		}
		*s = '/';
	}
	free(d);
	return ret;
}

static int fsync_dir_of(const char *path)
{
	char *d = strdup(path), *s;
	int fd, r = 0;

	if (!d)
		return -1;
	s = strrchr(d, '/');
	if (s && s != d)
		*s = '\0';
	fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		r = fsync(fd);
		close(fd);
	}
	free(d);
	return r;
}

static int file_writer_open(struct store *st, const char *key, long long hint,
			    int flags, struct store_writer *w, struct err *e)
{
	static unsigned counter;
	char *slash;

	(void)hint;
	(void)flags;
	w->fd = -1;
	w->path = file_path(st, key);
	if (!w->path)
		return err_set(e, "out of memory");
	if (mkdir_parents(w->path, e) < 0)
		return -1;
	slash = strrchr(w->path, '/');
	if (asprintf(&w->tmp, "%.*s/.%s.tmp-%ld-%u", (int)(slash - w->path),
		     w->path, slash + 1, (long)getpid(),
		     __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED)) < 0) {
		w->tmp = NULL;
		return err_set(e, "out of memory");
	}
	w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (w->fd < 0)
		return err_errno(e, "cannot create '%s'", w->tmp);
	return 0;
}

static int file_write(struct store_writer *w, const void *data, size_t len,
		      struct err *e)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(w->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_errno(e, "cannot write '%s'", w->tmp);
		p += n;
		len -= (size_t)n;
		w->unflushed += n;
	}
#ifdef SYNC_FILE_RANGE_WRITE
	/*
	 * Start writing back each window as it is written, so that the
	 * fsync() at the end waits for the last window, not the whole
	 * object, while the next object's export stands still. Then wait
	 * for the window before (its writes had a window's time to end)
	 * and drop it. Advisory: fsync() still decides whether the data is
	 * durable, and only pages already on the disk are dropped.
	 */
	if (w->unflushed >= FILE_WINDOW) {
		(void)sync_file_range(w->fd, w->flushed, w->unflushed,
				      SYNC_FILE_RANGE_WRITE);
		if (w->flushed > w->dropped) {
			(void)sync_file_range(w->fd, w->dropped,
					      w->flushed - w->dropped,
					      SYNC_FILE_RANGE_WAIT_BEFORE |
					      SYNC_FILE_RANGE_WRITE |
					      SYNC_FILE_RANGE_WAIT_AFTER);
			(void)posix_fadvise(w->fd, w->dropped,
					    w->flushed - w->dropped,
					    POSIX_FADV_DONTNEED);
			w->dropped = w->flushed;
		}
		w->flushed += w->unflushed;
		w->unflushed = 0;
	}
#endif
	return 0;
}

static int file_commit(struct store_writer *w, int *exists, struct err *e)
{
	if (fsync(w->fd) < 0)
		return err_errno(e, "cannot write '%s'", w->tmp);
	(void)posix_fadvise(w->fd, w->dropped, 0, POSIX_FADV_DONTNEED);
	if (close(w->fd) < 0) {
		w->fd = -1;
		return err_errno(e, "cannot write '%s'", w->tmp);
	}
	w->fd = -1;
	if (w->flags & STORE_CREATE_EXCLUSIVE) {
		/* link(2) fails when the name exists: an atomic create */
		if (link(w->tmp, w->path) < 0) {
			if (errno == EEXIST && exists)
				*exists = 1;
			return errno == EEXIST ?
				err_set(e, "'%s' already exists", w->key) :
				err_errno(e, "cannot create '%s'", w->path);
		}
		unlink(w->tmp);
	} else if (rename(w->tmp, w->path) < 0) {
		return err_errno(e, "cannot rename '%s' to '%s'", w->tmp,
				 w->path);
	}
	free(w->tmp);
	w->tmp = NULL;
	if (fsync_dir_of(w->path) < 0)
		return err_errno(e, "cannot sync the folder of '%s'", w->path);
	return 0;
}

static void file_abort(struct store_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->tmp)
		unlink(w->tmp);
}

static int file_get(struct store *st, const char *key, store_sink_fn sink,
		    void *ud, int *found, struct err *e)
{
	char *path = file_path(st, key);
	char *buf = NULL;
	int fd = -1, ret = -1;

	if (found)
		*found = 1;
	if (!path)
		return err_set(e, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && found) {
			*found = 0;
			ret = 0;
		} else if (errno == ENOENT) {
			err_set(e, "'%s' does not exist", key);
		} else {
			err_errno(e, "cannot open '%s'", path);
		}
		goto out;
	}
	buf = malloc(1 << 20);
	if (!buf) {
		err_set(e, "out of memory");
		goto out;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	for (off_t done = 0, dropped = 0;;) {
		ssize_t n = read(fd, buf, 1 << 20);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_errno(e, "cannot read '%s'", path);
			goto out;
		}
		if (n == 0)
			break;
		if (sink(ud, buf, (size_t)n, e) < 0)
			goto out;
		done += n;
		if (done - dropped >= FILE_WINDOW) {
			(void)posix_fadvise(fd, dropped, done - dropped,
					    POSIX_FADV_DONTNEED);
			dropped = done;
		}
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(path);
	return ret;
}

static int file_head(struct store *st, const char *key, int *found,
		     uint64_t *size, struct err *e)
{
	char *path = file_path(st, key);
	struct stat sb;

	if (!path)
		return err_set(e, "out of memory");
	*found = 0;
	if (stat(path, &sb) < 0) {
		int er = errno;

		free(path);
		if (er == ENOENT || er == ENOTDIR)
			return 0;
		errno = er;
		return err_errno(e, "cannot stat '%s'", key);
	}
	free(path);
	*found = S_ISREG(sb.st_mode);
	if (size)
		*size = (uint64_t)sb.st_size;
	return 0;
}

static int list_add(struct store_list *l, size_t *cap, const char *key,
		    const struct stat *sb)
{
	if (l->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct store_entry *v = realloc(l->v, nc * sizeof(*v));

		if (!v)
			return -1;
		l->v = v;
		*cap = nc;
	}
	l->v[l->n].key = strdup(key);
	if (!l->v[l->n].key)
		return -1;
	l->v[l->n].size = (uint64_t)sb->st_size;
	l->v[l->n].mtime = sb->st_mtime;
	l->n++;
	return 0;
}

/*
 * Walk root/rel. Symlinks are not followed (a backup folder holds none of
 * its own), so a loop cannot happen; dot names are temporary files.
 */
static int file_walk(const char *root, const char *rel, const char *prefix,
		     struct store_list *l, size_t *cap, int depth,
		     struct err *e)
{
	char *dir = NULL;
	DIR *d;
	struct dirent *de;
	int ret = 0;

	if (depth > 32)
		return 0;
	if (asprintf(&dir, "%s%s%s", root, *rel ? "/" : "", rel) < 0)
		return err_set(e, "out of memory");
	d = opendir(dir);
	if (!d) {
		ret = (errno == ENOENT || errno == ENOTDIR) ? 0 :
			err_errno(e, "cannot list '%s'", dir);
		free(dir);
		return ret;
	}
	while (ret == 0 && (de = readdir(d))) {
		char *key = NULL, *path = NULL;
		struct stat sb;
		size_t kl, pl = strlen(prefix);

		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&key, "%s%s%s", rel, *rel ? "/" : "", de->d_name) < 0 ||
		    asprintf(&path, "%s/%s", dir, de->d_name) < 0) {
			free(key);
			ret = err_set(e, "out of memory");
			break;
		}
		kl = strlen(key);
		if (lstat(path, &sb) == 0) {
			if (S_ISDIR(sb.st_mode)) {
				/* descend only where the prefix may match */
				size_t n = kl < pl ? kl : pl;

				if (!strncmp(key, prefix, n))
					ret = file_walk(root, key, prefix, l, cap,
							depth + 1, e);
			} else if (S_ISREG(sb.st_mode) &&
				   !strncmp(key, prefix, pl)) {
				if (list_add(l, cap, key, &sb) < 0)
					ret = err_set(e, "out of memory");
			}
		}
		free(key);
		free(path);
	}
	closedir(d);
	free(dir);
	return ret;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct store_entry *)a)->key,
		      ((const struct store_entry *)b)->key);
}

static int file_list(struct store *st, const char *prefix,
		     struct store_list *out, struct err *e)
{
	size_t cap = 0;

	if (file_walk(st->root, "", prefix, out, &cap, 0, e) < 0)
		return -1;
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), entry_cmp);
	return 0;
}

static int file_del(struct store *st, const char *key, struct err *e)
{
	char *path = file_path(st, key);
	int ret = 0;

	if (!path)
		return err_set(e, "out of memory");
	if (unlink(path) < 0 && errno != ENOENT)
		ret = err_errno(e, "cannot delete '%s'", path);
	/* folders left empty go too, up to the store's: a pruned backup
	 * leaves nothing behind (rmdir fails on a folder still in use) */
	for (char *slash; ret == 0 && (slash = strrchr(path, '/')) &&
	     (size_t)(slash - path) > strlen(st->root);) {
		*slash = '\0';
		if (rmdir(path) < 0)
			break;
	}
	free(path);
	return ret;
}

static void file_close(struct store *st)
{
	(void)st;
}

/* Temporary files below dir that writers of dead runs left. */
static int file_sweep_dir(const char *dir, size_t *n, int depth,
			  struct err *e)
{
	DIR *d;
	struct dirent *de;
	int ret = 0;

	if (depth > 32)
		return 0;
	d = opendir(dir);
	if (!d)
		return (errno == ENOENT || errno == ENOTDIR) ? 0 :
			err_errno(e, "cannot list '%s'", dir);
	while (ret == 0 && (de = readdir(d))) {
		char *path = NULL;
		struct stat sb;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0) {
			ret = err_set(e, "out of memory");
			break;
		}
		if (lstat(path, &sb) == 0) {
			if (S_ISDIR(sb.st_mode) && de->d_name[0] != '.')
				ret = file_sweep_dir(path, n, depth + 1, e);
			else if (S_ISREG(sb.st_mode) && de->d_name[0] == '.' &&
				 strstr(de->d_name, ".tmp-") && unlink(path) == 0)
				(*n)++;
		}
		free(path);
	}
	closedir(d);
	return ret;
}

static int file_sweep(struct store *st, size_t *n, struct err *e)
{
	return file_sweep_dir(st->root, n, 0, e);
}

static const struct store_ops file_ops = {
	.sweep = file_sweep,
	.writer_open = file_writer_open,
	.write = file_write,
	.commit = file_commit,
	.abort = file_abort,
	.get = file_get,
	.head = file_head,
	.list = file_list,
	.del = file_del,
	.close = file_close,
};

/* ---------------------------------------------------------------- */
/* s3://                                                             */

/*
 * Writes: the writer drives. Bytes fill one part buffer; when it is full
 * and more bytes come, a multipart upload starts (once) and the part goes
 * out from a thread while the next one fills, so reading ClickHouse and
 * sending to S3 overlap: memory is two parts. When the caller writes
 * several objects at once (store_set_writers()), each writer sends its
 * parts itself from its one buffer instead: the others overlap with it,
 * and memory is one part per writer. A stream that
 * ends within its first part is one PUT. An exclusive create is always
 * one PUT with If-None-Match (Ceph RGW ignores the condition on a
 * multipart complete), so it is held whole, up to STORE_S3_EXCLUSIVE_MAX.
 */
#define STORE_S3_EXCLUSIVE_MAX (256u << 20)

static char *s3_key(struct store *st, const char *key)
{
	char *k = NULL;

	if (asprintf(&k, "%s%s", st->prefix, key) < 0)
		return NULL;
	return k;
}

static int s3_writer_open(struct store *st, const char *key, long long hint,
			  int flags, struct store_writer *w, struct err *e)
{
	(void)flags;
	w->okey = s3_key(st, key);
	if (!w->okey)
		return err_set(e, "out of memory");
	w->hint = hint;
	w->cap = s3_part_size(st->s3.part_size, hint, 0);
	/* a small object known in advance needs no part-sized buffer */
	if (hint >= 0 && (unsigned long long)hint < w->cap)
		w->cap = hint ? (size_t)hint : 1;
	if (w->flags & STORE_CREATE_EXCLUSIVE)
		w->cap = hint > 0 && hint < STORE_S3_EXCLUSIVE_MAX ?
			(size_t)hint : 65536;
	w->buf = malloc(w->cap);
	if (!w->buf)
		return err_set(e, "out of memory for a %zu-byte part", w->cap);
	return 0;
}

static void *s3_part_thread(void *ud)
{
	struct s3_inflight *fl = ud;
	struct store_writer *w = fl->w;

	fl->ret = s3_multipart_part(&w->st->s3, w->st->bucket, w->okey,
				    w->upload_id, fl->number, fl->data, fl->len,
				    &w->parts[fl->number - 1], &fl->e);
	return NULL;
}

/* Wait for the part in flight: its result. */
static int s3_wait_part(struct store_writer *w, struct err *e)
{
	if (!w->fl.running)
		return 0;
	pthread_join(w->fl.th, NULL);
	w->fl.running = 0;
	if (w->fl.ret < 0) {
		memcpy(e, &w->fl.e, sizeof(*e));
		return -1;
	}
	return 0;
}

/* Send the full buffer as the next part and give the writer an empty one. */
/* Make w->buf, whose allocation holds have bytes (none when NULL), room
 * for the next part: its size for the parts sent so far, and never less
 * than the last. What it held is not kept. */
static int s3_next_buffer(struct store_writer *w, size_t have, struct err *e)
{
	size_t next = s3_part_size(w->st->s3.part_size, w->hint, w->nparts);

	if (next < w->cap)
		next = w->cap;
	if (!w->buf || have < next) {
		free(w->buf);
		if (!(w->buf = malloc(next)))
			return err_set(e, "out of memory for a %zu-byte part", next);
	}
	w->cap = next;
	return 0;
}

static int s3_send_part(struct store_writer *w, struct err *e)
{
	struct store *st = w->st;
	size_t tmp_cap;
	char *tmp;

	if (!w->upload_id) {
		w->parts = calloc(10000, sizeof(*w->parts));
		if (!w->parts)
			return err_set(e, "out of memory");
		if (s3_multipart_create(&st->s3, st->bucket, w->okey, NULL,
					&w->upload_id, e) < 0)
			return -1;
	}
	if (s3_wait_part(w, e) < 0)
		return -1;
	if (w->nparts >= 10000)
		return err_set(e, "s3 PUT '%s/%s': more than 10000 parts",
			       st->bucket, w->okey);
	if (st->writers > 1) {
		/* the other writers keep the source busy meanwhile */
		if (s3_multipart_part(&st->s3, st->bucket, w->okey,
				      w->upload_id, (int)w->nparts + 1, w->buf,
				      w->fill, &w->parts[w->nparts], e) < 0)
			return -1;
		w->nparts++;
		w->fill = 0;
		return s3_next_buffer(w, w->cap, e);
	}
	/* the filled buffer goes out; the spare one fills next */
	tmp = w->spare;
	tmp_cap = w->spare_cap;
	w->spare = w->buf;
	w->spare_cap = w->cap;
	w->buf = tmp;
	w->fl.w = w;
	w->fl.data = w->spare;
	w->fl.len = w->fill;
	w->fl.number = (int)++w->nparts;
	w->fl.ret = 0;
	w->fill = 0;
	if (s3_next_buffer(w, tmp_cap, e) < 0)
		return -1;
	if (pthread_create(&w->fl.th, NULL, s3_part_thread, &w->fl) != 0)
		return err_set(e, "cannot start a thread for an upload");
	w->fl.running = 1;
	return 0;
}

static int s3_write(struct store_writer *w, const void *data, size_t len,
		    struct err *e)
{
	const char *p = data;

	while (len) {
		size_t n;

		if (w->fill == w->cap) {
			if (w->flags & STORE_CREATE_EXCLUSIVE) {
				size_t nc = w->cap * 2;
				char *b;

				if (nc > STORE_S3_EXCLUSIVE_MAX)
					return err_set(e, "an object created "
						       "exclusively is at most "
						       "%u MiB", STORE_S3_EXCLUSIVE_MAX >> 20);
				b = realloc(w->buf, nc);
				if (!b)
					return err_set(e, "out of memory");
				w->buf = b;
				w->cap = nc;
			} else if (w->cap < s3_part_size(w->st->s3.part_size,
							  -1, 0) && !w->upload_id) {
				/* the size hint was wrong: grow to a part */
				size_t nc = s3_part_size(w->st->s3.part_size, -1, 0);
				char *b = realloc(w->buf, nc);

				if (!b)
					return err_set(e, "out of memory");
				w->buf = b;
				w->cap = nc;
			} else if (s3_send_part(w, e) < 0) {
				return -1;
			}
		}
		n = w->cap - w->fill;
		if (n > len)
			n = len;
		memcpy(w->buf + w->fill, p, n);
		w->fill += n;
		p += n;
		len -= n;
	}
	return 0;
}

static int s3_commit(struct store_writer *w, int *exists, struct err *e)
{
	struct store *st = w->st;
	struct s3_put_options opt = { 0 };

	if (!w->upload_id) {
		opt.if_none_match = !!(w->flags & STORE_CREATE_EXCLUSIVE);
		if (s3_put_buffer(&st->s3, st->bucket, w->okey, w->buf, w->fill,
				  &opt, exists, e) < 0) {
			if (exists && *exists)
				return err_set(e, "'%s' already exists", w->key);
			return -1;
		}
		return 0;
	}
	if (s3_wait_part(w, e) < 0)
		return -1;
	if (w->fill && s3_multipart_part(&st->s3, st->bucket, w->okey,
					 w->upload_id, (int)w->nparts + 1,
					 w->buf, w->fill,
					 &w->parts[w->nparts], e) < 0)
		return -1;
	if (w->fill)
		w->nparts++;
	if (s3_multipart_complete(&st->s3, st->bucket, w->okey, w->upload_id,
				  w->parts, w->nparts, NULL, NULL, e) < 0)
		return -1;
	free(w->upload_id);
	w->upload_id = NULL;	/* done: nothing left to abort */
	return 0;
}

/* Drop a write: wait for its part in flight, abort its upload. */
static void s3_abort(struct store_writer *w)
{
	struct err e;

	if (w->fl.running) {
		pthread_join(w->fl.th, NULL);
		w->fl.running = 0;
	}
	/* Never leave an open upload behind (its parts cost money). A
	 * failure here has no one to tell: the lifecycle rule or
	 * store_sweep_uploads() catches it. */
	if (w->upload_id)
		s3_multipart_abort(&w->st->s3, w->st->bucket, w->okey,
				   w->upload_id, &e);
	free(w->upload_id);
	w->upload_id = NULL;
	free(w->buf);
	free(w->spare);
	free(w->parts);
	w->buf = w->spare = NULL;
	w->parts = NULL;
}

struct s3_sink_ctx {
	store_sink_fn sink;
	void *ud;
	int called, failed;
	struct err e;
};

static int s3_sink(const void *data, size_t len, void *ud)
{
	struct s3_sink_ctx *c = ud;

	c->called = 1;
	/* once the sink said stop, a resumed GET must not feed it again */
	if (c->failed)
		return -1;
	if (c->sink(c->ud, data, len, &c->e) < 0) {
		c->failed = 1;
		return -1;
	}
	return 0;
}

static int s3_store_get(struct store *st, const char *key, store_sink_fn sink,
			void *ud, int *found, struct err *e)
{
	struct s3_sink_ctx c = { .sink = sink, .ud = ud };
	char *k = s3_key(st, key);
	int ret = -1;

	if (found)
		*found = 1;
	if (!k)
		return err_set(e, "out of memory");
	if (s3_get(&st->s3, st->bucket, k, s3_sink, &c, NULL, e) == 0) {
		ret = 0;
		goto out;
	}
	if (c.failed) {
		memcpy(e, &c.e, sizeof(*e));
		goto out;
	}
	/* A missing key is only an error when the caller did not ask; a
	 * missing bucket always is (S3 says which in its 404's code). */
	if (!c.called && strstr(e->msg, ": 404") &&
	    !strstr(e->msg, "NoSuchBucket")) {
		if (found) {
			*found = 0;
			ret = 0;
		} else {
			err_set(e, "'%s' does not exist", key);
		}
	}
out:
	free(k);
	return ret;
}

static int s3_store_head(struct store *st, const char *key, int *found,
			 uint64_t *size, struct err *e)
{
	struct s3_object o = { 0 };
	char *k = s3_key(st, key);
	int ret;

	if (!k)
		return err_set(e, "out of memory");
	ret = s3_head(&st->s3, st->bucket, k, found, &o, e);
	if (ret == 0 && *found && size)
		*size = o.size > 0 ? (uint64_t)o.size : 0;
	s3_object_release(&o);
	free(k);
	return ret;
}

/* "2024-01-02T03:04:05.000Z" (ListObjectsV2) to seconds since the epoch. */
static int64_t s3_time(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

static int s3_store_list(struct store *st, const char *prefix,
			 struct store_list *out, struct err *e)
{
	char *p = s3_key(st, prefix);
	char *token = NULL;
	size_t cap = 0, pl = strlen(st->prefix);
	int ret = -1;

	if (!p)
		return err_set(e, "out of memory");
	do {
		struct s3_list l = { 0 };

		if (s3_list_page(&st->s3, st->bucket, p, token, 0, &l, e) < 0)
			goto out;
		free(token);
		token = l.next_token;
		l.next_token = NULL;
		for (size_t i = 0; i < l.n; i++) {
			const char *k = l.objects[i].key;
			struct stat sb;

			/* a key the store could not have written (another
			 * tool's, or "a//b") is not one of its objects */
			if (strncmp(k, st->prefix, pl) ||
			    store_key_check(k + pl, &(struct err){ 0 }) < 0)
				continue;
			memset(&sb, 0, sizeof(sb));
			sb.st_size = l.objects[i].size > 0 ? l.objects[i].size : 0;
			sb.st_mtime = (time_t)s3_time(l.objects[i].last_modified);
			if (list_add(out, &cap, k + pl, &sb) < 0) {
				s3_list_release(&l);
				err_set(e, "out of memory");
				goto out;
			}
		}
		s3_list_release(&l);
	} while (token);
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), entry_cmp);
	ret = 0;
out:
	free(token);
	free(p);
	return ret;
}

static int s3_store_del(struct store *st, const char *key, struct err *e)
{
	char *k = s3_key(st, key);
	int ret;

	if (!k)
		return err_set(e, "out of memory");
	ret = s3_delete(&st->s3, st->bucket, (const char *const *)&k, 1, e);
	free(k);
	return ret;
}

/* DeleteObjects takes 1000 keys a request. */
static int s3_store_del_many(struct store *st, const char *const *keys,
			     size_t n, struct err *e)
{
	char **k = calloc(n ? n : 1, sizeof(*k));
	int ret = -1;

	if (!k)
		return err_set(e, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (!(k[i] = s3_key(st, keys[i]))) {
			err_set(e, "out of memory");
			goto out;
		}
	ret = n ? s3_delete(&st->s3, st->bucket, (const char *const *)k, n, e) : 0;
out:
	for (size_t i = 0; i < n; i++)
		free(k[i]);
	free(k);
	return ret;
}

/* Open multipart uploads under the prefix, of keys the store can name. */
static int s3_store_sweep(struct store *st, size_t *n, struct err *e)
{
	struct s3_upload_info *u = NULL;
	size_t nu = 0, pl = strlen(st->prefix);
	int ret = 0;

	if (s3_multipart_list(&st->s3, st->bucket, st->prefix, &u, &nu, e) < 0)
		return -1;
	for (size_t i = 0; i < nu && ret == 0; i++) {
		struct err ke;

		if (strncmp(u[i].key, st->prefix, pl) ||
		    store_key_check(u[i].key + pl, &ke) < 0)
			continue;
		ret = s3_multipart_abort(&st->s3, st->bucket, u[i].key,
					 u[i].upload_id, e);
		if (ret == 0)
			(*n)++;
	}
	s3_upload_info_free(u, nu);
	return ret;
}

static void s3_store_close(struct store *st)
{
	if (st->s3_ready)
		s3_release(&st->s3);
	st->s3_ready = 0;
	free(st->bucket);
	free(st->prefix);
}

static const struct store_ops s3_ops = {
	.writer_open = s3_writer_open,
	.write = s3_write,
	.commit = s3_commit,
	.abort = s3_abort,
	.get = s3_store_get,
	.head = s3_store_head,
	.list = s3_store_list,
	.del = s3_store_del,
	.del_many = s3_store_del_many,
	.sweep = s3_store_sweep,
	.close = s3_store_close,
};

/* "s3://bucket[/prefix]": bucket and prefix ("" or "a/b/"). */
static int s3_store_open(struct store *st, const char *url, struct err *e)
{
	const char *b = url + 5, *slash = strchr(b, '/');
	size_t bl = slash ? (size_t)(slash - b) : strlen(b);
	const char *p = slash ? slash + 1 : "";
	size_t pl = strlen(p);
	char *prefix;

	st->ops = &s3_ops;
	if (!bl)
		return err_set(e, "store URL '%s' names no bucket "
			       "(s3://bucket/prefix)", url);
	for (size_t i = 0; i < bl; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789.-_"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ", b[i]))
			return err_set(e, "store URL '%s': '%.*s' is not a "
				       "bucket name", url, (int)bl, b);
	while (pl && p[pl - 1] == '/')
		pl--;
	prefix = strndup(p, pl);
	if (!prefix)
		return err_set(e, "out of memory");
	if (pl && store_key_check(prefix, e) < 0) {
		free(prefix);
		return err_wrap(e, "store URL '%s'", url);
	}
	st->bucket = strndup(b, bl);
	if (asprintf(&st->prefix, "%s%s", prefix, pl ? "/" : "") < 0)
		st->prefix = NULL;
	free(prefix);
	if (!st->bucket || !st->prefix)
		return err_set(e, "out of memory");
	if (s3_init(&st->s3, e) < 0)
		return err_wrap(e, "store '%s'", url);
	st->s3_ready = 1;
	/* SAASCTL_S3_PART_SIZE: bytes per part (S3's minimum is 5 MiB) */
	{
		const char *v = getenv("SAASCTL_S3_PART_SIZE");
		char *end;
		unsigned long long n = v && *v ? strtoull(v, &end, 10) : 0;

		if (v && *v && (*end || n == 0))
			return err_set(e, "SAASCTL_S3_PART_SIZE '%s' is not a "
				       "number of bytes", v);
		st->s3.part_size = (size_t)n;
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* the interface                                                     */

int store_open(struct store **out, const char *url, struct err *e)
{
	struct store *st;
	size_t n;

	*out = NULL;
	if (!url || !*url)
		return err_set(e, "no backup store (give --store, set "
			       "backups.store or SAASCTL_BACKUP_STORE)");
	st = calloc(1, sizeof(*st));
	if (!st || !(st->url = strdup(url))) {
		free(st);
		return err_set(e, "out of memory");
	}
	if (!strncmp(url, "file://", 7)) {
		const char *p = url + 7;

		if (*p != '/') {
			store_close(st);
			return err_set(e, "store URL '%s' needs an absolute "
				       "path (file:///path)", url);
		}
		n = strlen(p);
		while (n > 1 && p[n - 1] == '/')
			n--;
		st->root = strndup(p, n);
		st->ops = &file_ops;
		if (!st->root) {
			store_close(st);
			return err_set(e, "out of memory");
		}
	} else if (!strncmp(url, "s3://", 5)) {
		if (s3_store_open(st, url, e) < 0) {
			store_close(st);
			return -1;
		}
	} else {
		store_close(st);
		return err_set(e, "store URL '%s' is not file:// or s3://", url);
	}
	*out = st;
	return 0;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->ops)
		st->ops->close(st);
	free(st->url);
	free(st->root);
	free(st);
}

void store_set_writers(struct store *st, int n)
{
	st->writers = n;
}

const char *store_url(const struct store *st)
{
	return st->url;
}

static void writer_free(struct store_writer *w)
{
	/* s3: the buffers of a committed write (an aborted one has none) */
	free(w->buf);
	free(w->spare);
	free(w->parts);
	free(w->upload_id);
	free(w->okey);
	free(w->key);
	free(w->tmp);
	free(w->path);
	free(w);
}

int store_writer_open(struct store *st, const char *key, long long size_hint,
		      int flags, struct store_writer **out, struct err *e)
{
	struct store_writer *w;

	*out = NULL;
	if (store_key_check(key, e) < 0)
		return -1;
	w = calloc(1, sizeof(*w));
	if (!w || !(w->key = strdup(key))) {
		free(w);
		return err_set(e, "out of memory");
	}
	w->st = st;
	w->flags = flags;
	w->fd = -1;
	if (st->ops->writer_open(st, key, size_hint, flags, w, e) < 0) {
		err_wrap(e, "cannot write '%s'", key);
		st->ops->abort(w);
		writer_free(w);
		return -1;
	}
	*out = w;
	return 0;
}

int store_writer_write(struct store_writer *w, const void *data, size_t len,
		       struct err *e)
{
	if (w->st->ops->write(w, data, len, e) < 0)
		return -1;
	w->size += len;
	return 0;
}

int store_writer_commit(struct store_writer *w, int *exists, struct err *e)
{
	int r;

	if (exists)
		*exists = 0;
	r = w->st->ops->commit(w, exists, e);
	if (r < 0)
		w->st->ops->abort(w);
	writer_free(w);
	return r;
}

void store_writer_abort(struct store_writer *w)
{
	if (!w)
		return;
	w->st->ops->abort(w);
	writer_free(w);
}

uint64_t store_writer_size(const struct store_writer *w)
{
	return w->size;
}

int store_put(struct store *st, const char *key, const void *data,
	      size_t len, int flags, int *exists, struct err *e)
{
	struct store_writer *w;

	if (store_writer_open(st, key, (long long)len, flags, &w, e) < 0)
		return -1;
	if (store_writer_write(w, data, len, e) < 0) {
		store_writer_abort(w);
		return -1;
	}
	return store_writer_commit(w, exists, e);
}

int store_put_stream(struct store *st, const char *key,
		     long long (*read)(void *buf, size_t len, void *ud,
				       struct err *e),
		     void *ud, long long size_hint, int flags, int *exists,
		     struct err *e)
{
	struct store_writer *w;
	char *buf = malloc(1 << 20);

	if (!buf)
		return err_set(e, "out of memory");
	if (store_writer_open(st, key, size_hint, flags, &w, e) < 0) {
		free(buf);
		return -1;
	}
	for (;;) {
		long long n = read(buf, 1 << 20, ud, e);

		if (n < 0 || (n > 0 && store_writer_write(w, buf, (size_t)n, e) < 0)) {
			store_writer_abort(w);
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
	}
	free(buf);
	return store_writer_commit(w, exists, e);
}

int store_get(struct store *st, const char *key, store_sink_fn sink,
	      void *ud, int *found, struct err *e)
{
	if (store_key_check(key, e) < 0)
		return -1;
	return st->ops->get(st, key, sink, ud, found, e);
}

static int buffer_sink(void *ud, const void *data, size_t len, struct err *e)
{
	if (strbuf_add(ud, data, len) < 0)
		return err_set(e, "too big");
	return 0;
}

int store_get_buffer(struct store *st, const char *key, size_t max,
		     struct strbuf *out, int *found, struct err *e)
{
	strbuf_reset(out);
	out->max = max ? max : (64u << 20);
	if (store_get(st, key, buffer_sink, out, found, e) < 0)
		return err_wrap(e, "cannot read '%s'", key);
	return 0;
}

int store_head(struct store *st, const char *key, int *found,
	       uint64_t *size, struct err *e)
{
	if (store_key_check(key, e) < 0)
		return -1;
	return st->ops->head(st, key, found, size, e);
}

int store_list(struct store *st, const char *prefix, struct store_list *out,
	       struct err *e)
{
	out->v = NULL;
	out->n = 0;
	if (st->ops->list(st, prefix ? prefix : "", out, e) < 0) {
		store_list_release(out);
		return err_wrap(e, "cannot list '%s'", st->url);
	}
	return 0;
}

void store_list_release(struct store_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].key);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int store_delete(struct store *st, const char *key, struct err *e)
{
	if (store_key_check(key, e) < 0)
		return -1;
	return st->ops->del(st, key, e);
}

int store_delete_many(struct store *st, const char *const *keys, size_t n,
		      struct err *e)
{
	for (size_t i = 0; i < n; i++)
		if (store_key_check(keys[i], e) < 0)
			return -1;
	if (st->ops->del_many)
		return st->ops->del_many(st, keys, n, e);
	for (size_t i = 0; i < n; i++)
		if (st->ops->del(st, keys[i], e) < 0)
			return -1;
	return 0;
}

int store_sweep(struct store *st, size_t *n, struct err *e)
{
	size_t dummy = 0;

	if (!n)
		n = &dummy;
	*n = 0;
	if (st->ops->sweep(st, n, e) < 0)
		return err_wrap(e, "cannot clean up '%s'", st->url);
	return 0;
}
