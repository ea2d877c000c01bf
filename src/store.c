/*
 * Backup stores: the interface of store.h and its file:// backend. The
 * s3:// backend adds one more struct store_ops.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

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
	/* optional: abort multipart uploads under prefix begun before */
	int (*abort_uploads)(struct store *st, const char *prefix,
			     int64_t before, size_t *aborted, struct err *e);
	void (*close)(struct store *st);
};

struct store {
	const struct store_ops *ops;
	char *url;
	char *root;		/* file: the folder, without a trailing '/' */
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
	}
	return 0;
}

static int file_commit(struct store_writer *w, int *exists, struct err *e)
{
	if (fsync(w->fd) < 0)
		return err_errno(e, "cannot write '%s'", w->tmp);
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
	for (;;) {
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

static const struct store_ops file_ops = {
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
		store_close(st);
		return err_set(e, "store URL '%s': s3:// is not built in yet",
			       url);
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

const char *store_url(const struct store *st)
{
	return st->url;
}

static void writer_free(struct store_writer *w)
{
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

int store_abort_uploads(struct store *st, const char *prefix, int64_t before,
			size_t *aborted, struct err *e)
{
	*aborted = 0;
	if (!st->ops->abort_uploads)
		return 0;
	return st->ops->abort_uploads(st, prefix ? prefix : "", before, aborted, e);
}
