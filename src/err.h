#ifndef SAASCTL_ERR_H
#define SAASCTL_ERR_H

/*
 * The library reports failures through a struct err: one line, lowercase,
 * failure first, cause last. Callers add context with err_wrap() so the
 * final message reads outermost first:
 *   "backup 'analytics.events': s3 PUT 'x': 503 SlowDown"
 */
struct err {
	char msg[2048];
};

/* Set the message; always returns -1 so `return err_set(...)` reads well. */
int err_set(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prefix the current message with "context: "; returns -1. */
int err_wrap(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* err_set() with ": strerror(errno)" appended; returns -1. */
int err_errno(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void err_clear(struct err *e);

#endif
