#ifndef SAASCTL_CLOCK_H
#define SAASCTL_CLOCK_H

/*
 * Milliseconds on the monotonic clock: for deadlines, timeouts and
 * back-off, which must not jump when the wall clock is set.
 */
long long clock_now_ms(void);

#endif
