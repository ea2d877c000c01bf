#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static log_sink_fn log_sink;
static int log_level;

void log_set_sink(log_sink_fn sink, int verbosity)
{
	log_sink = sink;
	log_level = verbosity;
}

int log_verbosity(void)
{
	return log_sink ? log_level : 0;
}

void log_debug(const char *fmt, ...)
{
	char line[4096];
	va_list ap;

	if (!log_sink || log_level < 1)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_sink(line);
}
