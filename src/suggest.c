#include "suggest.h"

#include <string.h>

/*
 * Optimal string alignment distance: insertions, deletions,
 * substitutions, and swaps of two neighbours ("ulr" for "url") cost 1.
 */
int suggest_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int d[64][64];

	if (lb >= 64 || la >= 64)
		return 99;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

const char *suggest_nearest(const char *word, const char *const *candidates,
			    size_t n)
{
	const char *best = NULL;
	int best_d = 99;

	for (size_t i = 0; i < n; i++) {
		int d = suggest_distance(word, candidates[i]);

		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	if (best && best_d <= 2 && best_d * 2 <= (int)strlen(word))
		return best;
	if (best && best_d <= 3 && (int)strlen(word) >= 8)
		return best;
	return NULL;
}
