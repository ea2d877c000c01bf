#ifndef SAASCTL_RETENTION_H
#define SAASCTL_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * Which backups a retention policy keeps, with restic's `forget`
 * semantics, in UTC:
 *
 *   last N      the N newest
 *   daily N     for the N newest days that have a backup, the newest of
 *               each day (likewise hourly, weekly by ISO week, monthly,
 *               yearly)
 *   within D    every backup newer than D ("1y5m7d2h") before the newest
 *               backup that is not in the future
 *
 * A bucket rule whose count is not used up when the oldest backup is
 * reached keeps that oldest one too (restic 0.17), so a young history
 * keeps its beginning. A count of -1 means unlimited. A backup is kept
 * when any rule keeps it; its reasons name every rule that did.
 */

enum {
	RETENTION_LAST,
	RETENTION_HOURLY,
	RETENTION_DAILY,
	RETENTION_WEEKLY,
	RETENTION_MONTHLY,
	RETENTION_YEARLY,
	RETENTION_NRULES,
};

struct retention_policy {
	int count[RETENTION_NRULES];	/* 0: rule off; -1: unlimited */
	int within_years, within_months, within_days, within_hours;
	char within[32];		/* as given; "" when off */
};

/* "1y5m7d2h", any of the parts, each at most once, in that order. */
int retention_parse_within(struct retention_policy *p, const char *s,
			   struct err *e);
/* Is any rule on? */
int retention_empty(const struct retention_policy *p);

/*
 * times[i]: seconds since the epoch of backup i. keep[i] is set to 1 or
 * 0; reasons[i] (may be NULL) to a static-lifetime-free malloc'd string
 * such as "last, daily, monthly (oldest)", or NULL when not kept.
 * now: backups after it are not "the newest" for within.
 */
int retention_apply(const struct retention_policy *p, const int64_t *times,
		    size_t n, int64_t now, int *keep, char **reasons,
		    struct err *e);

#endif
