#ifndef SAASCTL_LOG_H
#define SAASCTL_LOG_H

/*
 * The library never prints. Diagnostics for -v go through a sink that
 * cmd/main.c installs; with no sink they are dropped. Callers must never
 * pass a secret: redact before logging (see http.c for headers).
 */
typedef void (*log_sink_fn)(const char *line);

void log_set_sink(log_sink_fn sink, int verbosity);
int log_verbosity(void);
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
