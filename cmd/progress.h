#ifndef SAASCTL_CMD_PROGRESS_H
#define SAASCTL_CMD_PROGRESS_H

#include <stdint.h>

#include "cmd.h"

/*
 * A one-line progress bar on stderr, redrawn in place:
 *
 *   42%  12.3 MiB of 29.1 MiB  120000 of 300000 rows  5.1 MiB/s  ETA 4 s  analytics.events 202609
 *
 * When the totals are not known (0), the done amounts and the time so far
 * stand alone. Drawn only when stderr is a terminal and the command is
 * neither -q nor --json; cut to the terminal's width (COLUMNS, else the
 * terminal's), so that a carriage return always goes back to its start.
 * Clear it before printing a line of your own, and at the end.
 */
struct progress {
	int on;
	long long t0;		/* clock_now_ms() at the start */
	int shown;		/* a bar is on the screen now */
};

void progress_start(struct progress *p, const struct cmd_ctx *ctx);
void progress_show(struct progress *p, uint64_t bytes, uint64_t total_bytes,
		   uint64_t rows, uint64_t total_rows, const char *what);
void progress_clear(struct progress *p);

/* "1.5 MiB": bytes in binary units, one decimal. */
void progress_human(char *out, size_t n, uint64_t bytes);

#endif
