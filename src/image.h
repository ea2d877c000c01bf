#ifndef SAASCTL_IMAGE_H
#define SAASCTL_IMAGE_H

/*
 * Container image references, as Kubernetes and the OCI distribution spec
 * read them: [registry[:port]/]path[:tag][@algorithm:hex].
 *
 * Parsing validates every part, so a typo ("nginx:1.25 ", "Nginx:1",
 * "ghcr.io/acme/web@sha256:abc") is refused before anything is written.
 */

#include <stddef.h>

#include "err.h"

struct image_ref {
	char name[256];		/* "ghcr.io/acme/web", as written */
	char tag[129];		/* "v1.2.3", or "" */
	char digest[136];	/* "sha256:<64 hex>", or "" */
};

/* Parse and validate s. On failure returns -1 and says which part is wrong. */
int image_parse(struct image_ref *ref, const char *s, struct err *e);
/* Is this a valid digest ("sha256:" and 64 lowercase hex digits ...)? */
int image_digest_valid(const char *digest);
/* Is this a valid tag (at most 128 of [A-Za-z0-9_.-], not starting with . or -)? */
int image_tag_valid(const char *tag);

/*
 * Do two repository names denote the same repository? Docker Hub's
 * implicit parts are normalised: "nginx", "library/nginx" and
 * "docker.io/library/nginx" are the same.
 */
int image_same_repo(const char *a, const char *b);

/* "name[:tag][@digest]" into buf; returns buf. */
char *image_format(char *buf, size_t size, const struct image_ref *ref);

#endif
