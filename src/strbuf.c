#include "strbuf.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char strbuf_empty[1];

void strbuf_init(struct strbuf *sb, size_t max)
{
	sb->buf = strbuf_empty;
	sb->len = 0;
	sb->alloc = 0;
	sb->max = max;
}

void strbuf_release(struct strbuf *sb)
{
	if (sb->alloc)
		free(sb->buf);
	strbuf_init(sb, sb->max);
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->alloc)
		sb->buf[0] = '\0';
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *out;

	if (!sb->alloc) {
		out = calloc(1, 1);
		if (!out)
			abort();
	} else {
		out = sb->buf;
	}
	if (len)
		*len = sb->len;
	strbuf_init(sb, sb->max);
	return out;
}

int strbuf_grow(struct strbuf *sb, size_t extra)
{
	size_t want;
	char *nbuf;

	if (!sb->buf)
		strbuf_init(sb, 0);
	if (extra > SIZE_MAX / 2 - sb->len - 1)
		return -1;
	want = sb->len + extra + 1;
	if (sb->max && sb->len + extra > sb->max)
		return -1;
	if (want <= sb->alloc)
		return 0;
	if (want < sb->alloc * 3 / 2)
		want = sb->alloc * 3 / 2;
	if (want < 64)
		want = 64;
	nbuf = realloc(sb->alloc ? sb->buf : NULL, want);
	if (!nbuf)
		abort(); /* out of memory: no sane recovery in a CLI */
	if (!sb->alloc)
		nbuf[0] = '\0';
	sb->buf = nbuf;
	sb->alloc = want;
	return 0;
}

int strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	if (strbuf_grow(sb, len) < 0)
		return -1;
	if (len)
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
	return 0;
}

int strbuf_addstr(struct strbuf *sb, const char *s)
{
	return strbuf_add(sb, s, strlen(s));
}

int strbuf_addch(struct strbuf *sb, char c)
{
	return strbuf_add(sb, &c, 1);
}

int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || strbuf_grow(sb, (size_t)n) < 0)
		return -1;
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
	return 0;
}

int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
	return r;
}

int strbuf_read_fd(struct strbuf *sb, int fd, struct err *e)
{
	for (;;) {
		char small[4096];
		size_t room = sb->alloc > sb->len + 1 ? sb->alloc - sb->len - 1 : 0;
		ssize_t n;

		/*
		 * Read into reserved room when there is some (a file whose
		 * size is known); otherwise into a small buffer first, so
		 * that reaching EOF never grows the buffer.
		 */
		if (room)
			n = read(fd, sb->buf + sb->len, room);
		else
			n = read(fd, small, sizeof(small));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_errno(e, "read failed");
		}
		if (n == 0)
			break;
		if (room) {
			if (sb->max && sb->len + (size_t)n > sb->max)
				return err_set(e, "input larger than %zu bytes",
					       sb->max);
			sb->len += (size_t)n;
			sb->buf[sb->len] = '\0';
		} else if (strbuf_add(sb, small, (size_t)n) < 0) {
			return err_set(e, "input larger than %zu bytes", sb->max);
		}
	}
	return 0;
}

int strbuf_read_file(struct strbuf *sb, const char *path, size_t max,
		     struct err *e)
{
	struct stat st;
	size_t oldmax = sb->max;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_errno(e, "cannot open '%s'", path);
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return err_set(e, "cannot read '%s': is a directory", path);
	}
	if (max && st.st_size > 0 && (size_t)st.st_size > max) {
		close(fd);
		return err_set(e, "cannot read '%s': larger than %zu bytes",
			       path, max);
	}
	if (st.st_size > 0)
		strbuf_grow(sb, (size_t)st.st_size);
	sb->max = max ? sb->len + max : 0;
	r = strbuf_read_fd(sb, fd, e);
	sb->max = oldmax;
	close(fd);
	if (r < 0)
		return err_wrap(e, "cannot read '%s'", path);
	return 0;
}

void strbuf_setlen(struct strbuf *sb, size_t len)
{
	if (len > sb->len)
		return;
	sb->len = len;
	if (sb->alloc)
		sb->buf[len] = '\0';
}
