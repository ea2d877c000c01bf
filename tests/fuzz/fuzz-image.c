/*
 * Image references: parsing never crashes, and what parses formats back
 * to a reference that parses to the same parts. The input's first line
 * is a reference; a second line is compared with it (image_same_repo).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *nl, *other = NULL;
	struct image_ref ref, again;
	struct err e;
	char buf[1024];

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	if ((nl = strchr(s, '\n'))) {
		*nl = '\0';
		other = nl + 1;
	}
	image_digest_valid(s);
	image_tag_valid(s);
	if (other)
		image_same_repo(s, other);
	if (image_parse(&ref, s, &e) == 0) {
		image_format(buf, sizeof(buf), &ref);
		if (image_parse(&again, buf, &e) < 0 ||
		    strcmp(ref.name, again.name) || strcmp(ref.tag, again.tag) ||
		    strcmp(ref.digest, again.digest))
			abort(); /* a parsed reference must format back */
		if (!image_same_repo(ref.name, again.name))
			abort();
	}
	free(s);
	return 0;
}
