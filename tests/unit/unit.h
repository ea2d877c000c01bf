/*
 * A tiny TAP producer for the unit tests: each check prints "ok N - name"
 * or "not ok N - name"; tests/run.sh counts them.
 */
#ifndef SAASCTL_UNIT_H
#define SAASCTL_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_n, unit_failed;

#define CHECK(cond, name)                                                     \
	do {                                                                  \
		unit_n++;                                                     \
		if (cond) {                                                   \
			printf("ok %d - %s\n", unit_n, name);                 \
		} else {                                                      \
			unit_failed++;                                        \
			printf("not ok %d - %s (%s:%d: %s)\n", unit_n, name,  \
			       __FILE__, __LINE__, #cond);                    \
		}                                                             \
	} while (0)

#define CHECK_STR(got, want, name)                                            \
	do {                                                                  \
		const char *g_ = (got), *w_ = (want);                         \
		int same_ = g_ && w_ && !strcmp(g_, w_);                      \
		CHECK(same_, name);                                           \
		if (!same_)                                                   \
			printf("#   got:  '%s'\n#   want: '%s'\n",            \
			       g_ ? g_ : "(null)", w_ ? w_ : "(null)");       \
	} while (0)

#define UNIT_DONE() (printf("1..%d\n", unit_n), unit_failed ? 1 : 0)

#endif
