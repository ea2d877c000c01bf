#ifndef SAASCTL_GITOPS_H
#define SAASCTL_GITOPS_H

/*
 * GitOps plumbing on libgit2: open the monorepo's repository, read files
 * at a commit, build a commit from edited files without touching the work
 * tree, push it (checking every ref the server reports on, since libgit2
 * returns success for a push the server refused), fetch, move the branch
 * and bring clean work-tree files along, and walk the history.
 *
 * Authentication, tried in order with a cap on attempts: ssh-agent
 * (SSH_AUTH_SOCK), SAASCTL_SSH_KEY or ~/.ssh/id_ed25519 / id_rsa, and for
 * https a token from SAASCTL_GIT_TOKEN, GITHUB_TOKEN or GH_TOKEN (user
 * x-access-token). ssh host keys must be in ~/.ssh/known_hosts (or the file
 * SAASCTL_SSH_KNOWN_HOSTS names); an unknown host fails with its SHA256
 * fingerprint.
 */

#include <stddef.h>

#include <git2.h>

#include "err.h"
#include "strbuf.h"

struct gitops {
	git_repository *repo;
	char *workdir;		/* absolute, ends in "/" */
	char *branch;		/* checked-out branch, NULL when HEAD is detached */
	int unborn;		/* the branch has no commit yet */
};

int gitops_open(struct gitops **out, const char *dir, struct err *e);
void gitops_free(struct gitops *g);

/* An absolute path relative to the work tree (for the caller to free). */
char *gitops_relpath(const struct gitops *g, const char *abs);

/* Fails, naming path, when it differs from HEAD in the index or work tree. */
int gitops_require_clean(struct gitops *g, const char *path, struct err *e);

int gitops_head(struct gitops *g, git_oid *out, struct err *e);
/* A revision ("HEAD~2", "abc123") to a commit id. */
int gitops_resolve(struct gitops *g, const char *rev, git_oid *out,
		   struct err *e);
/* The file's bytes at a commit; *missing is set when it is not there. */
int gitops_read_file(struct gitops *g, const git_oid *commit,
		     const char *path, struct strbuf *out, int *missing,
		     struct err *e);

struct gitops_file {
	const char *path;	/* relative to the work tree */
	const char *data;
	size_t len;
};

/*
 * Write a commit on parent that replaces the given files, with the author
 * from GIT_AUTHOR_NAME/EMAIL, the git config (user.name, user.email) or
 * GITHUB_ACTOR. No ref moves.
 */
int gitops_commit(struct gitops *g, git_oid *out, const git_oid *parent,
		  const struct gitops_file *files, size_t nfiles,
		  const char *message, struct err *e);

/*
 * Move the checked-out branch from old to new (failing if it moved in the
 * meantime) and update the work tree and index from old's tree to new's.
 * Files with local changes are left alone; their paths are listed in
 * skipped (one per line) so the caller can say so.
 */
int gitops_advance(struct gitops *g, const git_oid *old, const git_oid *new,
		   struct strbuf *skipped, struct err *e);

enum gitops_push_failure {
	GITOPS_PUSH_ERROR = 0,	/* network, authentication, host key ... */
	GITOPS_PUSH_STALE,	/* the remote branch moved on: fetch and rebuild */
	GITOPS_PUSH_REFUSED,	/* the server refused the ref (a hook, a lost race) */
};

/*
 * Push new to refs/heads/<branch> of remote. On failure *why says what
 * kind it was; for a refusal, e holds the server's status and its
 * "remote:" lines (what a hook printed).
 *
 * A remote on this machine (a path or file://) that has a hook receive-pack
 * runs (core.hooksPath honoured) or a work tree is pushed to as git push
 * does it, through `git receive-pack PATH`, so its hooks and
 * receive.denyCurrentBranch apply; without git installed such a push
 * fails and says so. A bare one without such hooks is written in-process.
 */
int gitops_push(struct gitops *g, const char *remote, const char *branch,
		const git_oid *new, enum gitops_push_failure *why,
		struct err *e);
/* Fetch refs/heads/<branch> of remote; *tip is its commit. */
int gitops_fetch(struct gitops *g, const char *remote, const char *branch,
		 git_oid *tip, struct err *e);
/* The remote's URL, to check it exists before doing any work. */
int gitops_remote_url(struct gitops *g, const char *remote,
		      struct strbuf *url, struct err *e);

/* Is a an ancestor of (or equal to) b? */
int gitops_is_ancestor(struct gitops *g, const git_oid *a, const git_oid *b);

/*
 * Call fn for every commit reachable from `from`, newest first; fn returns
 * non-zero to stop (that value is returned).
 */
int gitops_log(struct gitops *g, const git_oid *from,
	       int (*fn)(void *ud, const git_commit *c), void *ud,
	       struct err *e);

/* The value of the last "Key: value" trailer in a commit message, copied. */
int gitops_trailer(const char *message, const char *key, char *out,
		   size_t size);

/* A unified diff ("--- a/path" ...) between two versions of a file. */
int gitops_diff(struct strbuf *out, const char *path, const char *old,
		size_t oldlen, const char *new, size_t newlen, struct err *e);

/* The first 7 hex digits of an id. */
void gitops_short(char out[8], const git_oid *id);

#endif
