#ifndef SAASCTL_STRBUF_H
#define SAASCTL_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

#include "err.h"

/*
 * A growable, always NUL-terminated byte buffer (after git's strbuf).
 * `max` caps the length for data that comes from the network or a file;
 * 0 means no cap. Adding past the cap fails and leaves the buffer as it was.
 */
struct strbuf {
	char *buf;
	size_t len;
	size_t alloc;
	size_t max;
};

#define STRBUF_INIT { NULL, 0, 0, 0 }

void strbuf_init(struct strbuf *sb, size_t max);
void strbuf_release(struct strbuf *sb);
/* Hand the buffer to the caller (never NULL); the strbuf is reset. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_reset(struct strbuf *sb);
/* Shorten to len bytes (len <= sb->len). */
void strbuf_setlen(struct strbuf *sb, size_t len);

int strbuf_grow(struct strbuf *sb, size_t extra);
int strbuf_add(struct strbuf *sb, const void *data, size_t len);
int strbuf_addstr(struct strbuf *sb, const char *s);
int strbuf_addch(struct strbuf *sb, char c);
int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);

/* Read a whole file; fails when it is larger than `max` (0: no cap). */
int strbuf_read_file(struct strbuf *sb, const char *path, size_t max,
		     struct err *e);
/* Read a whole file descriptor until EOF. */
int strbuf_read_fd(struct strbuf *sb, int fd, struct err *e);

#endif
