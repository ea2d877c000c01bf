#ifndef SAASCTL_SUGGEST_H
#define SAASCTL_SUGGEST_H

#include <stddef.h>

/* Edit distance (Levenshtein) between two short names; large when long. */
int suggest_distance(const char *a, const char *b);

/*
 * The candidate nearest to word, or NULL when none is close enough to be
 * a likely typo (distance at most 2 and under half the word).
 */
const char *suggest_nearest(const char *word, const char *const *candidates,
			    size_t n);

#endif
