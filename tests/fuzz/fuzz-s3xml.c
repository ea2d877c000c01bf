/*
 * S3's XML answers, whoever sent them: each reader src/s3 uses on a
 * response body (an error, a ListObjectsV2 page, InitiateMultipartUpload,
 * a DeleteResult, a ListMultipartUploads page) never crashes, reads only
 * within the body (which is not NUL-terminated here, as a response need
 * not be), and gives an answer or an error with a message: a listing's
 * keys are never empty, a truncated page always has its token, an upload
 * ID is never empty.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3.h"

static void fail(const char *what)
{
	fprintf(stderr, "fuzz-s3xml: %s\n", what);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = size ? (const char *)data : NULL;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	struct s3_list l;
	struct s3_upload_info *ups = NULL;
	size_t n = 0, nfailed = 0;
	char *id = NULL;
	struct err e = { "" };
	int truncated;

	s3_parse_error(body, size, &a, &b);

	if (s3_parse_list(body, size, &l, &e) == 0) {
		for (size_t i = 0; i < l.n; i++)
			if (!l.objects[i].key || !*l.objects[i].key)
				fail("a listed object without a key");
		if (l.next_token && !*l.next_token)
			fail("an empty continuation token");
		s3_list_release(&l);
	} else if (!e.msg[0]) {
		fail("a listing refused without a message");
	}

	e.msg[0] = '\0';
	if (s3_parse_upload_id(body, size, &id, &e) == 0 ? !id || !*id : !e.msg[0])
		fail("an upload ID, or a message");
	free(id);

	strbuf_reset(&a);
	s3_parse_delete_result(body, size, &a, &nfailed);
	if (nfailed && !a.len)
		fail("keys not deleted, none described");

	e.msg[0] = '\0';
	if (s3_parse_uploads(body, size, &ups, &n, &a, &b, &truncated, &e) == 0) {
		for (size_t i = 0; i < n; i++)
			if (!*ups[i].key || !*ups[i].upload_id)
				fail("an upload without a key or ID");
	} else if (!e.msg[0]) {
		fail("an upload listing refused without a message");
	}
	s3_upload_info_free(ups, n);
	strbuf_release(&a);
	strbuf_release(&b);
	return 0;
}
