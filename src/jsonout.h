#ifndef SAASCTL_JSONOUT_H
#define SAASCTL_JSONOUT_H

/*
 * JSON output that never loses a value without a word.
 *
 * jansson refuses text that is not UTF-8: json_string() returns NULL,
 * json_pack() fails, and appending or setting NULL does nothing, so a
 * folder named in Latin-1 ('caf\xe9') vanished from --json output while
 * the command still exited 0. JSON strings are UTF-8 and there is no
 * lossless escape every reader undoes, so such text is refused:
 *
 *	struct jsonout jo = JSONOUT_INIT;
 *	json_pack("{s:o}", "file", jsonout_str(&jo, path));
 *	...
 *	if (jsonout_check(&jo, &e) < 0)
 *		fail: "'manifests/apps/caf\xe9' is not UTF-8 text ..."
 *
 * jsonout_str() always returns a value (null in place of the bad string),
 * so json_pack() never fails on it; jsonout_check() says whether anything
 * was replaced. Use it for every string that comes from a file name, a
 * file's bytes, git or the network; YAML values are UTF-8 already.
 */

#include <stddef.h>

#include <jansson.h>

#include "err.h"

struct jsonout {
	int failed;
	char first[256];	/* the first refused text, escaped */
};
#define JSONOUT_INIT { 0, { 0 } }

/* A new JSON string of s, json null for NULL or text that is not UTF-8. */
json_t *jsonout_str(struct jsonout *jo, const char *s);
json_t *jsonout_strn(struct jsonout *jo, const char *s, size_t len);

/* -1 with e saying which text, when any string was refused. */
int jsonout_check(const struct jsonout *jo, struct err *e);

/* Is s (len bytes) UTF-8 as JSON needs it (no surrogates, no overlongs)? */
int jsonout_utf8_valid(const char *s, size_t len);

#endif
