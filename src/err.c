#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_set(struct err *e, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* Append "sep" and "tail" to dst (size cap), truncating quietly. */
static void err_append(char *dst, size_t cap, const char *sep, const char *tail)
{
	size_t len = strlen(dst);

	for (const char *p = sep; *p && len + 1 < cap; p++)
		dst[len++] = *p;
	for (const char *p = tail; *p && len + 1 < cap; p++)
		dst[len++] = *p;
	dst[len] = '\0';
}

int err_wrap(struct err *e, const char *fmt, ...)
{
	char old[sizeof(e->msg)];
	va_list ap;

	if (!e)
		return -1;
	memcpy(old, e->msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	if (old[0])
		err_append(e->msg, sizeof(e->msg), ": ", old);
	return -1;
}

int err_errno(struct err *e, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	err_append(e->msg, sizeof(e->msg), ": ", strerror(saved));
	errno = saved;
	return -1;
}

void err_clear(struct err *e)
{
	if (e)
		e->msg[0] = '\0';
}
