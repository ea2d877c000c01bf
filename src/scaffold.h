#ifndef SAASCTL_SCAFFOLD_H
#define SAASCTL_SCAFFOLD_H

/*
 * Writing new things into a monorepo: the layout of a new one (init) and
 * the manifests of a new app (new app). Both never overwrite a file and
 * leave nothing half-written when they fail.
 */

#include <stddef.h>

#include "err.h"

struct scaffold_init_result {
	char **created;		/* paths relative to the folder, in order */
	size_t ncreated;
	char **kept;		/* files that existed and were left alone */
	size_t nkept;
	char commit[41];	/* the first commit, hex; "" when none was made */
	int reused_repo;	/* the folder already was a git repository */
};

/*
 * Lay out a monorepo in dir (created when missing). A folder that holds
 * anything is refused unless force is set; even then no existing file is
 * touched. Initialises a git repository (or reuses the one there) and
 * commits the files it created.
 */
int scaffold_init(const char *dir, int force,
		  struct scaffold_init_result *res, struct err *e);
void scaffold_init_result_release(struct scaffold_init_result *res);

struct scaffold_app {
	const char *name;		/* DNS label */
	const char **hosts;		/* at least one */
	size_t nhosts;
	const char *image;		/* with a tag, not :latest */
	const char *namespace;		/* default: name */
	int port;			/* container and Service port */
	int min_replicas, max_replicas;
	int cpu_target;			/* percent */
	int rpm;			/* nginx limit-rpm */
};

/* Is s a DNS-1123 label (lowercase letters, digits, '-', at most 63)? */
int scaffold_valid_label(const char *s);
/* Is s a plausible DNS host name (labels joined by dots, at most 253)? */
int scaffold_valid_host(const char *s);
/* Does an image reference carry a tag or digest other than :latest? */
int scaffold_image_pinned(const char *image);

/*
 * Write manifests/apps/<name>/ under root: deployment, service, ingress,
 * hpa and configmap. Refuses an app whose folder exists. The folder is
 * built aside and renamed into place, so it appears whole or not at all.
 * *files receives the written paths relative to root (free with free()
 * on each and the array).
 */
int scaffold_new_app(const char *root, const struct scaffold_app *app,
		     char ***files, size_t *nfiles, struct err *e);

/*
 * The manifests of sealed secrets in the cluster, for
 * manifests/cluster/saasctl-secrets/ (secrets install, init): CRD,
 * namespace and ServiceAccount, RBAC, the controller's Deployment. Ends
 * with a NULL path.
 */
struct scaffold_file {
	const char *path;		/* relative to the folder */
	const char *text;
};
extern const struct scaffold_file scaffold_secrets_files[];
#define SCAFFOLD_SECRETS_DIR "manifests/cluster/saasctl-secrets"

/*
 * Write the files of scaffold_secrets_files into dir (created when
 * missing). A file that exists is kept as it is. *created and *kept get
 * the paths written and left (free each and the arrays).
 */
int scaffold_secrets_install(const char *dir, char ***created,
			     size_t *ncreated, char ***kept, size_t *nkept,
			     struct err *e);

#endif
