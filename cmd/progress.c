/*
 * The progress bar of the long-running commands (backup and restore):
 * see progress.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"
#include "../src/clock.h"

void progress_human(char *out, size_t n, uint64_t b)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(out, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

/* "45 s", "3 min 05 s", "2 h 07 min" */
static void duration(char *out, size_t n, double secs)
{
	unsigned long s = secs < 0 ? 0 : (unsigned long)(secs + 0.5);

	if (s < 60)
		snprintf(out, n, "%lu s", s);
	else if (s < 3600)
		snprintf(out, n, "%lu min %02lu s", s / 60, s % 60);
	else
		snprintf(out, n, "%lu h %02lu min", s / 3600, s / 60 % 60);
}

void progress_start(struct progress *p, const struct cmd_ctx *ctx)
{
	p->on = isatty(STDERR_FILENO) && !ctx->quiet && !ctx->json;
	p->t0 = clock_now_ms();
	p->shown = 0;
}

void progress_show(struct progress *p, uint64_t bytes, uint64_t total_bytes,
		   uint64_t rows, uint64_t total_rows, const char *what)
{
	double secs;
	char line[512], a[32], b[32], t[32];
	size_t len = 0, cols, used;

	if (!p->on)
		return;
	secs = (double)(clock_now_ms() - p->t0) / 1000.0;
	progress_human(a, sizeof(a), bytes);
#define ADD(...) (len += (size_t)snprintf(line + len, len < sizeof(line) ? \
					  sizeof(line) - len : 0, __VA_ARGS__))
	if (total_bytes) {
		progress_human(b, sizeof(b), total_bytes);
		ADD("%3u%%  %s of %s", (unsigned)(bytes >= total_bytes ? 100 :
						  bytes * 100 / total_bytes), a, b);
	} else {
		ADD("%s", a);
	}
	if (total_rows)
		ADD("  %" PRIu64 " of %" PRIu64 " rows", rows, total_rows);
	else
		ADD("  %" PRIu64 " row%s", rows, rows == 1 ? "" : "s");
	/* a rate over less than a second says little */
	if (secs >= 1 && bytes) {
		progress_human(b, sizeof(b), (uint64_t)((double)bytes / secs));
		ADD("  %s/s", b);
	}
	if (total_bytes && bytes < total_bytes && secs >= 1 && bytes) {
		duration(t, sizeof(t), secs * (double)(total_bytes - bytes) / (double)bytes);
		ADD("  ETA %s", t);
	} else {
		duration(t, sizeof(t), secs);
		ADD("  %s", t);
	}
	if (what)
		ADD("  %s", what);
#undef ADD
	if (len >= sizeof(line))
		len = sizeof(line) - 1;
	/* cut to the width, at a character boundary, one column spare */
	cols = cmd_terminal_width(STDERR_FILENO);
	used = 0;
	for (size_t i = 0; i < len; i++) {
		if (((unsigned char)line[i] & 0xc0) == 0x80)
			continue;
		if (cols && ++used >= cols) {
			len = i;
			break;
		}
	}
	fprintf(stderr, "\r\033[K%.*s", (int)len, line);
	fflush(stderr);
	p->shown = 1;
}

void progress_clear(struct progress *p)
{
	if (!p->shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->shown = 0;
}
