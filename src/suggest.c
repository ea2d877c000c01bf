#include "suggest.h"

#include <string.h>

int suggest_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int row[64];

	if (lb >= 64 || la >= 64)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int prev = row[0];

		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int cur = row[j];
			int best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
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
