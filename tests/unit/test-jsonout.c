/* jsonout: strings that JSON cannot hold are refused, never dropped. */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "jsonout.h"

int main(void)
{
	struct jsonout jo = JSONOUT_INIT;
	struct err e = { { 0 } };
	json_t *j;

	j = jsonout_str(&jo, "caf\xc3\xa9");
	CHECK(json_is_string(j) && !jo.failed, "UTF-8 is a string");
	json_decref(j);
	CHECK(jsonout_check(&jo, &e) == 0, "nothing refused");
	j = jsonout_str(&jo, NULL);
	CHECK(json_is_null(j) && !jo.failed, "NULL is null");
	json_decref(j);

	j = jsonout_str(&jo, "manifests/apps/caf\xe9\\x");
	CHECK(json_is_null(j) && jo.failed, "Latin-1 is refused");
	json_decref(j);
	j = jsonout_str(&jo, "second\xff");
	json_decref(j);
	CHECK(jsonout_check(&jo, &e) < 0, "check fails");
	CHECK_STR(e.msg, "cannot write JSON: 'manifests/apps/caf\\xe9\\\\x' is not UTF-8 text (JSON strings must be); rename it or use the text output",
		  "the first refused text, escaped");

	CHECK(!jsonout_utf8_valid("\xed\xa0\x80", 3), "a surrogate is not UTF-8");
	CHECK(!jsonout_utf8_valid("\xc0\xaf", 2), "an overlong form is not UTF-8");
	CHECK(!jsonout_utf8_valid("\xe2\x82", 2), "a cut sequence is not UTF-8");
	CHECK(jsonout_utf8_valid("\xf0\x9f\x98\x80", 4), "an emoji is UTF-8");
	return UNIT_DONE();
}
