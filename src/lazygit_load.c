/* Loading libgit2 and libssh2 for the wrappers of src/lazygit.c. */
#include "lazygit.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* The Makefile reads them from the libraries with objdump (binutils). */
_Static_assert(sizeof(LIBGIT2_SONAME) > 1 && sizeof(LIBSSH2_SONAME) > 1,
	       "no SONAME for libgit2 or libssh2: run make deps");

static const char *const lazygit_sonames[] = {
	[LAZYGIT_LIBGIT2] = LIBGIT2_SONAME,
	[LAZYGIT_LIBSSH2] = LIBSSH2_SONAME,
};
static void *lazygit_handles[2];
static pthread_once_t lazygit_once = PTHREAD_ONCE_INIT;
static char lazygit_error[512];

static void lazygit_open(void)
{
	for (size_t i = 0; i < 2; i++) {
		lazygit_handles[i] = dlopen(lazygit_sonames[i],
					    RTLD_NOW | RTLD_LOCAL);
		if (!lazygit_handles[i]) {
			snprintf(lazygit_error, sizeof(lazygit_error),
				 "cannot load %s: %s", lazygit_sonames[i],
				 dlerror());
			return;
		}
	}
}

int lazygit_load(struct err *e)
{
	pthread_once(&lazygit_once, lazygit_open);
	if (lazygit_error[0])
		return err_set(e, "%s", lazygit_error);
	return 0;
}

void *lazygit_sym(enum lazygit_lib lib, void **slot, const char *name)
{
	void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (p)
		return p;
	/* Callers checked lazygit_load(); failing here is a broken install. */
	if (lazygit_load(NULL) < 0 || !(p = dlsym(lazygit_handles[lib], name)))
		abort();
	__atomic_store_n(slot, p, __ATOMIC_RELEASE);
	return p;
}
