#ifndef SAASCTL_DEPLOY_H
#define SAASCTL_DEPLOY_H

/*
 * GitOps rollouts: pin a new image for an app's workloads in the infra
 * monorepo, commit and push; roll back with a forward commit; read the
 * deploy history back from commit trailers.
 *
 * An edit replaces only the bytes of the image scalars (yamltree), then
 * re-parses the file and checks that nothing but those values changed.
 * Every container of the app that runs the same image repository moves
 * together (webserver, celery workers and scheduler all run one image).
 */

#include <stddef.h>

#include "err.h"
#include "monorepo.h"
#include "strbuf.h"

#define DEPLOY_ATTEMPTS 5

struct deploy_spec {
	const char *image;	/* --image REPO:TAG */
	const char *tag;	/* --tag TAG */
	const char *digest;	/* --digest sha256:... */
	const char *container;	/* --container NAME */
	const char *message;	/* -m: a paragraph for the commit body */
	const char *remote;	/* default "origin" */
	const char *branch;	/* default: the checked-out branch */
	int no_push;
	int dry_run;
	int rollback;		/* "rollback(APP): ..." rather than "deploy" */
	int attempts;		/* pushes before giving up; 0: DEPLOY_ATTEMPTS */
	/* Progress lines ("push rejected ... retrying"), may be NULL. */
	void (*progress)(void *ud, const char *line);
	void *ud;
};

struct deploy_result {
	int noop;		/* already at that image: nothing done */
	int committed;
	int pushed;
	int attempts;		/* pushes tried */
	char sha[41];
	char *old_image;
	char *new_image;
	size_t ncontainers;	/* containers that run the image */
	struct strbuf files;	/* edited paths, one per line */
	struct strbuf diff;	/* --dry-run: the unified diff */
	struct strbuf skipped;	/* work-tree files left as they were */
};

void deploy_result_init(struct deploy_result *r);
void deploy_result_release(struct deploy_result *r);

/* Deploy (or, with spec->rollback, re-pin) an image for app. */
int deploy_run(struct monorepo *repo, const struct monorepo_app *app,
	       const struct deploy_spec *spec, struct deploy_result *res,
	       struct err *e);

/*
 * The image `saasctl rollback --to` means: NULL or "-N" (N deploys back,
 * following the Saasctl-* trailers, or the file history when there are
 * none), a commit (the image it deployed or pinned), or an image.
 */
int deploy_rollback_image(struct monorepo *repo,
			  const struct monorepo_app *app, const char *to,
			  const char *container, char **image, struct err *e);

struct deploy_entry {
	char sha[41];
	long long time;		/* seconds since the epoch */
	int offset;		/* the author's UTC offset, minutes */
	char *author;
	char *action;		/* "deploy" or "rollback" */
	char *image;
	char *previous;
	int current;		/* the image the files pin now */
};

/* Deploys and rollbacks of app, newest first; at most limit (0: all). */
int deploy_history(struct monorepo *repo, const struct monorepo_app *app,
		   size_t limit, struct deploy_entry **out, size_t *n,
		   struct err *e);
void deploy_entries_free(struct deploy_entry *entries, size_t n);

/*
 * Lint rule "image-drift" (in lint_rules[]): two workloads of one app run
 * different tags (or digests) of the same image repository, which deploy
 * would move together. Reported at each image that differs from the first.
 */
struct lint;
void deploy_lint_image_drift(struct lint *l, const struct monorepo_app *app);

#endif
