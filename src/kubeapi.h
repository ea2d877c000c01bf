#ifndef SAASCTL_KUBEAPI_H
#define SAASCTL_KUBEAPI_H

/*
 * The API versions Kubernetes (and cert-manager) deprecated and then
 * stopped serving, in one table (kubeapi.c): for each group/version and
 * kind, the release that deprecated it, the release that removed it and
 * what replaces it. The deprecated-api rule of 'saasctl lint' asks it
 * about every resource, given the cluster release the manifests target.
 *
 * Releases are Kubernetes 1.N and are held as N: 1.25 is 25.
 */

#include <stddef.h>

struct kubeapi_removal {
	const char *api_version;	/* "policy/v1beta1" */
	const char *kind;		/* "PodSecurityPolicy"; NULL: every kind */
	/*
	 * Not Kubernetes itself ("cert-manager"): its releases are its own,
	 * so the cluster's release says nothing and the API counts as
	 * removed. NULL for Kubernetes.
	 */
	const char *project;
	unsigned deprecated, removed;	/* minor of 1.N */
	const char *replacement;	/* "policy/v1"; NULL when there is none */
	const char *advice;		/* what to do when there is no replacement */
};

enum kubeapi_state {
	KUBEAPI_SERVED,		/* not deprecated at the target release */
	KUBEAPI_DEPRECATED,	/* deprecated, still served at the target */
	KUBEAPI_REMOVED,	/* no longer served at the target */
};

/* The entry for apiVersion and kind, or NULL when it is current. */
const struct kubeapi_removal *kubeapi_find(const char *api_version,
					   const char *kind);

/*
 * What the entry means for a cluster at release 1.target. target 0 means
 * "no release given": the newest release in the table, so that everything
 * removed by then counts as removed.
 */
enum kubeapi_state kubeapi_state(const struct kubeapi_removal *r,
				 unsigned target);

/* The newest removal in the table (32 for 1.32). */
unsigned kubeapi_newest(void);

/*
 * Parse a cluster release: "1.29", "v1.29" or "1.29.3" (a patch release
 * is allowed and ignored). Stores 29 in *minor. Returns 0, or -1 for
 * anything else ("banana", "2.0", "1.0", "1.x").
 */
int kubeapi_parse_version(const char *s, unsigned *minor);

#endif
