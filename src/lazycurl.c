/*
 * The curl_* functions saasctl uses, forwarding to libcurl.so.4 loaded
 * with dlopen() on the first call (see lazycurl.h for why). Adding a call
 * to another curl function means adding it here: the link fails until
 * then, since the binary does not link -lcurl.
 */
#define CURL_DISABLE_TYPECHECK /* we define curl_easy_setopt itself */
#include "lazycurl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include <curl/curl.h>

static struct {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	void (*easy_reset)(CURL *);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLSH *(*share_init)(void);
	CURLSHcode (*share_setopt)(CURLSH *, CURLSHoption, ...);
	CURLSHcode (*share_cleanup)(CURLSH *);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd[], unsigned int,
				int, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLMcode (*multi_cleanup)(CURLM *);
} lc;

static pthread_once_t lc_once = PTHREAD_ONCE_INIT;
static int lc_loaded;
static char lc_error[512];

static void lc_open(void)
{
	static const struct {
		void **slot;
		const char *name;
	} syms[] = {
		{ (void **)&lc.global_init, "curl_global_init" },
		{ (void **)&lc.easy_init, "curl_easy_init" },
		{ (void **)&lc.easy_cleanup, "curl_easy_cleanup" },
		{ (void **)&lc.easy_reset, "curl_easy_reset" },
		{ (void **)&lc.easy_perform, "curl_easy_perform" },
		{ (void **)&lc.easy_setopt, "curl_easy_setopt" },
		{ (void **)&lc.easy_getinfo, "curl_easy_getinfo" },
		{ (void **)&lc.easy_strerror, "curl_easy_strerror" },
		{ (void **)&lc.slist_append, "curl_slist_append" },
		{ (void **)&lc.slist_free_all, "curl_slist_free_all" },
		{ (void **)&lc.share_init, "curl_share_init" },
		{ (void **)&lc.share_setopt, "curl_share_setopt" },
		{ (void **)&lc.share_cleanup, "curl_share_cleanup" },
		{ (void **)&lc.multi_init, "curl_multi_init" },
		{ (void **)&lc.multi_setopt, "curl_multi_setopt" },
		{ (void **)&lc.multi_add_handle, "curl_multi_add_handle" },
		{ (void **)&lc.multi_remove_handle, "curl_multi_remove_handle" },
		{ (void **)&lc.multi_perform, "curl_multi_perform" },
		{ (void **)&lc.multi_poll, "curl_multi_poll" },
		{ (void **)&lc.multi_info_read, "curl_multi_info_read" },
		{ (void **)&lc.multi_cleanup, "curl_multi_cleanup" },
	};
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(lc_error, sizeof(lc_error), "cannot load libcurl: %s",
			 dlerror());
		return;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (!*syms[i].slot) {
			snprintf(lc_error, sizeof(lc_error),
				 "libcurl.so.4 lacks '%s'", syms[i].name);
			return;
		}
	}
	lc_loaded = 1; /* the handle stays open for the process's life */
}

static int lc_ready(void)
{
	pthread_once(&lc_once, lc_open);
	return lc_loaded;
}

int lazycurl_load(struct err *e)
{
	if (lc_ready())
		return 0;
	return err_set(e, "%s", lc_error);
}

CURLcode curl_global_init(long flags)
{
	return lc_ready() ? lc.global_init(flags) : CURLE_FAILED_INIT;
}

CURL *curl_easy_init(void)
{
	return lc_ready() ? lc.easy_init() : NULL;
}

void curl_easy_cleanup(CURL *curl)
{
	if (curl && lc_ready())
		lc.easy_cleanup(curl);
}

void curl_easy_reset(CURL *curl)
{
	if (lc_ready())
		lc.easy_reset(curl);
}

CURLcode curl_easy_perform(CURL *curl)
{
	return lc_ready() ? lc.easy_perform(curl) : CURLE_FAILED_INIT;
}

/*
 * The variadic setters take one argument whose type follows from the
 * option's number, as libcurl documents: long below 10000, an object
 * pointer below 20000, a function pointer below 30000, curl_off_t below
 * 40000, a struct curl_blob pointer above.
 */
#define FORWARD_TYPED(call, opt, ap)                                          \
	((opt) < CURLOPTTYPE_OBJECTPOINT     ? call(va_arg(ap, long))         \
	 : (opt) < CURLOPTTYPE_FUNCTIONPOINT ? call(va_arg(ap, void *))       \
	 : (opt) < CURLOPTTYPE_OFF_T         ? call(va_arg(ap, void (*)(void))) \
	 : (opt) < CURLOPTTYPE_BLOB          ? call(va_arg(ap, curl_off_t))   \
					     : call(va_arg(ap, void *)))

CURLcode curl_easy_setopt(CURL *curl, CURLoption option, ...)
{
	CURLcode r;
	va_list ap;

	if (!lc_ready())
		return CURLE_FAILED_INIT;
	va_start(ap, option);
#define EASY(arg) lc.easy_setopt(curl, option, arg)
	r = FORWARD_TYPED(EASY, option, ap);
#undef EASY
	va_end(ap);
	return r;
}

CURLMcode curl_multi_setopt(CURLM *multi, CURLMoption option, ...)
{
	CURLMcode r;
	va_list ap;

	if (!lc_ready())
		return CURLM_INTERNAL_ERROR;
	va_start(ap, option);
#define MULTI(arg) lc.multi_setopt(multi, option, arg)
	r = FORWARD_TYPED(MULTI, option, ap);
#undef MULTI
	va_end(ap);
	return r;
}

/* Every CURLINFO takes one pointer to where the answer goes. */
CURLcode curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
	CURLcode r;
	va_list ap;

	if (!lc_ready())
		return CURLE_FAILED_INIT;
	va_start(ap, info);
	r = lc.easy_getinfo(curl, info, va_arg(ap, void *));
	va_end(ap);
	return r;
}

const char *curl_easy_strerror(CURLcode code)
{
	return lc_ready() ? lc.easy_strerror(code) : lc_error;
}

struct curl_slist *curl_slist_append(struct curl_slist *list, const char *s)
{
	return lc_ready() ? lc.slist_append(list, s) : NULL;
}

void curl_slist_free_all(struct curl_slist *list)
{
	if (list && lc_ready())
		lc.slist_free_all(list);
}

CURLSH *curl_share_init(void)
{
	return lc_ready() ? lc.share_init() : NULL;
}

/* SHARE and UNSHARE take an int, the rest a (function) pointer. */
CURLSHcode curl_share_setopt(CURLSH *share, CURLSHoption option, ...)
{
	CURLSHcode r;
	va_list ap;

	if (!lc_ready())
		return CURLSHE_NOT_BUILT_IN;
	va_start(ap, option);
	if (option == CURLSHOPT_SHARE || option == CURLSHOPT_UNSHARE)
		r = lc.share_setopt(share, option, va_arg(ap, int));
	else if (option == CURLSHOPT_USERDATA)
		r = lc.share_setopt(share, option, va_arg(ap, void *));
	else
		r = lc.share_setopt(share, option, va_arg(ap, void (*)(void)));
	va_end(ap);
	return r;
}

CURLSHcode curl_share_cleanup(CURLSH *share)
{
	return lc_ready() ? lc.share_cleanup(share) : CURLSHE_NOT_BUILT_IN;
}

CURLM *curl_multi_init(void)
{
	return lc_ready() ? lc.multi_init() : NULL;
}

CURLMcode curl_multi_add_handle(CURLM *multi, CURL *curl)
{
	return lc_ready() ? lc.multi_add_handle(multi, curl)
			  : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_remove_handle(CURLM *multi, CURL *curl)
{
	return lc_ready() ? lc.multi_remove_handle(multi, curl)
			  : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_perform(CURLM *multi, int *running)
{
	return lc_ready() ? lc.multi_perform(multi, running)
			  : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_poll(CURLM *multi, struct curl_waitfd extra[],
			  unsigned int n, int timeout_ms, int *numfds)
{
	return lc_ready() ? lc.multi_poll(multi, extra, n, timeout_ms, numfds)
			  : CURLM_INTERNAL_ERROR;
}

CURLMsg *curl_multi_info_read(CURLM *multi, int *left)
{
	return lc_ready() ? lc.multi_info_read(multi, left) : NULL;
}

CURLMcode curl_multi_cleanup(CURLM *multi)
{
	return lc_ready() ? lc.multi_cleanup(multi) : CURLM_INTERNAL_ERROR;
}
