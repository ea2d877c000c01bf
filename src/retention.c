/*
 * restic's forget rules over backup times: see retention.h.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "retention.h"
#include "strbuf.h"

static const char *const rule_names[RETENTION_NRULES] = {
	"last", "hourly", "daily", "weekly", "monthly", "yearly",
};

int retention_parse_within(struct retention_policy *p, const char *s,
			   struct err *e)
{
	static const char units[] = "ymdh";
	int *fields[] = { &p->within_years, &p->within_months,
			  &p->within_days, &p->within_hours };
	const char *q = s;
	int next = 0, any = 0;

	p->within_years = p->within_months = p->within_days = p->within_hours = 0;
	while (*q) {
		char *end;
		long v = strtol(q, &end, 10);
		const char *u;

		if (end == q || v < 0 || v > 100000 || !*end ||
		    !(u = strchr(units, *end)) || u - units < next)
			return err_set(e, "'%s' is not a duration such as 1y5m7d2h", s);
		*fields[u - units] = (int)v;
		next = (int)(u - units) + 1;
		any = 1;
		q = end + 1;
	}
	if (!any || strlen(s) >= sizeof(p->within))
		return err_set(e, "'%s' is not a duration such as 1y5m7d2h", s);
	snprintf(p->within, sizeof(p->within), "%s", s);
	return 0;
}

int retention_empty(const struct retention_policy *p)
{
	for (int i = 0; i < RETENTION_NRULES; i++)
		if (p->count[i])
			return 0;
	return !p->within[0];
}

/* The bucket of t for a rule; the "last" rule's buckets are all distinct. */
static long long bucket(int rule, int64_t t, size_t nr)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[16];

	gmtime_r(&tt, &tm);
	switch (rule) {
	case RETENTION_HOURLY:
		return (long long)(tm.tm_year + 1900) * 1000000 +
		       (tm.tm_mon + 1) * 10000 + tm.tm_mday * 100 + tm.tm_hour;
	case RETENTION_DAILY:
		return (long long)(tm.tm_year + 1900) * 10000 +
		       (tm.tm_mon + 1) * 100 + tm.tm_mday;
	case RETENTION_WEEKLY:
		strftime(buf, sizeof(buf), "%G%V", &tm);
		return atoll(buf);
	case RETENTION_MONTHLY:
		return (long long)(tm.tm_year + 1900) * 100 + tm.tm_mon + 1;
	case RETENTION_YEARLY:
		return tm.tm_year + 1900;
	default:
		return (long long)nr;
	}
}

/* latest minus the within duration, calendar-wise like Go's AddDate. */
static int64_t within_cutoff(const struct retention_policy *p, int64_t latest)
{
	time_t tt = (time_t)latest;
	struct tm tm;

	gmtime_r(&tt, &tm);
	tm.tm_year -= p->within_years;
	tm.tm_mon -= p->within_months;
	tm.tm_mday -= p->within_days;
	return (int64_t)timegm(&tm) - (int64_t)p->within_hours * 3600;
}

struct order {
	int64_t t;
	size_t i;
};

static int newest_first(const void *a, const void *b)
{
	const struct order *x = a, *y = b;

	if (x->t != y->t)
		return x->t > y->t ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;	/* stable */
}

int retention_apply(const struct retention_policy *p, const int64_t *times,
		    size_t n, int64_t now, int *keep, char **reasons,
		    struct err *e)
{
	struct order *o = calloc(n + 1, sizeof(*o));
	int count[RETENTION_NRULES];
	long long last[RETENTION_NRULES];
	int64_t latest = INT64_MIN, cutoff = 0;
	int have_latest = 0;

	if (!o)
		return err_set(e, "out of memory");
	for (size_t i = 0; i < n; i++) {
		o[i] = (struct order){ times[i], i };
		if (times[i] < now && (!have_latest || times[i] > latest)) {
			latest = times[i];
			have_latest = 1;
		}
	}
	qsort(o, n, sizeof(*o), newest_first);
	if (p->within[0])
		cutoff = have_latest ? within_cutoff(p, latest) : INT64_MAX;
	for (int r = 0; r < RETENTION_NRULES; r++) {
		count[r] = p->count[r];
		last[r] = -1;
	}
	for (size_t nr = 0; nr < n; nr++) {
		size_t i = o[nr].i;
		struct strbuf why = STRBUF_INIT;

		strbuf_init(&why, 0);
		if (p->within[0] && o[nr].t > cutoff)
			strbuf_addf(&why, "within %s", p->within);
		for (int r = 0; r < RETENTION_NRULES; r++) {
			long long b;
			int extra;

			if (count[r] == 0)
				continue;
			b = bucket(r, o[nr].t, nr);
			/* the oldest is kept while the rule has counts left */
			extra = b == last[r];
			if (extra && nr != n - 1)
				continue;
			last[r] = b;
			if (count[r] > 0)
				count[r]--;
			strbuf_addf(&why, "%s%s%s", why.len ? ", " : "", rule_names[r],
				    extra ? " (oldest)" : "");
		}
		keep[i] = why.len > 0;
		if (reasons)
			reasons[i] = why.len ? strbuf_detach(&why, NULL) : NULL;
		strbuf_release(&why);
	}
	free(o);
	return 0;
}
