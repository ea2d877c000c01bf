#ifndef SAASCTL_LAZYCURL_H
#define SAASCTL_LAZYCURL_H

#include "err.h"

/*
 * libcurl is loaded on first use rather than at start-up: with the
 * libraries Debian's libcurl pulls in (OpenSSL, GnuTLS, Kerberos, LDAP,
 * RTMP, SSH ...), linking it costs every saasctl process about 4 ms and
 * 6 MiB before main(), and most commands (lint, seal, deploy) never make
 * an HTTP request. src/lazycurl.c defines the curl_* functions saasctl
 * calls; each loads libcurl.so.4 once and forwards to it.
 */

/* Load libcurl now; fails with the loader's reason. Thread-safe. */
int lazycurl_load(struct err *e);

#endif
