#ifndef SAASCTL_DIRWALK_H
#define SAASCTL_DIRWALK_H

/*
 * The one folder walk of the monorepo: every command that looks through
 * manifests/ (apps, lint, get, deploy, secrets verify ...) lists folders
 * through here, so symlinks are treated the same everywhere.
 *
 * Folder symlinks are followed, except
 *  - a link (or a bind mount) to a folder that is already on the current
 *    path from the monorepo root, compared by device and inode: following
 *    it would loop (one `x -> .` reads every file again and again, two
 *    make the walk exponential);
 *  - a link whose target lies outside the monorepo root: git commits the
 *    link, not what it points to, so CI and Flux would never see those
 *    files (and a link to / would walk the whole machine).
 * Each skipped link is recorded once, with the reason, for the command to
 * warn about. Symlinks to files are read as files. Dot files and dot
 * folders are never listed. Unreadable folders read as empty.
 */

#include <stddef.h>

struct dirwalk_skip {
	char *link;		/* the link, relative to the root */
	char *reason;		/* "it loops back to 'manifests/apps/a'" */
};

struct dirwalk {
	char *root;		/* as given (absolute) */
	char *real_root;	/* realpath() of root, NULL if unresolvable */
	struct dirwalk_skip *skipped;
	size_t nskipped, skipped_cap;
};

void dirwalk_init(struct dirwalk *w, const char *root);
void dirwalk_release(struct dirwalk *w);

/*
 * Every *.yaml and *.yml file under root/rel, relative to the root:
 * a folder's files in name order, then its subfolders, each in name
 * order. Returns the count; *files is NULL-terminated, free it with
 * dirwalk_free_names(). rel itself is skipped (nothing found) when it
 * loops back to one of the folders above it.
 */
size_t dirwalk_yaml(struct dirwalk *w, const char *rel, char ***files);

/*
 * The names of the folders in root/rel, sorted, NULL-terminated (never
 * NULL); links that loop or leave the monorepo are skipped and recorded.
 */
char **dirwalk_subdirs(struct dirwalk *w, const char *rel);

void dirwalk_free_names(char **names);

#endif
