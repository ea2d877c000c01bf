/* kube_parse_time, kube_status_message and logs_labels_match. */
#include <stdlib.h>

#include <jansson.h>

#include "unit.h"
#include "kube.h"
#include "logs.h"

static void test_time(void)
{
	long long s = 0;
	long ns = 0;

	CHECK(kube_parse_time("1970-01-01T00:00:00Z", &s, &ns) == 0 && s == 0 && ns == 0,
	      "the epoch");
	CHECK(kube_parse_time("2024-02-29T12:34:56.123456789Z", &s, &ns) == 0 &&
	      s == 1709210096LL && ns == 123456789, "nanoseconds, a leap day");
	CHECK(kube_parse_time("2024-02-29T12:34:56.5Z", &s, &ns) == 0 && ns == 500000000,
	      "trimmed fractions (Go's RFC3339Nano)");
	CHECK(kube_parse_time("2024-02-29T14:34:56+02:00", &s, &ns) == 0 && s == 1709210096LL,
	      "an offset");
	CHECK(kube_parse_time("2024-02-29 12:34:56Z", &s, &ns) < 0, "a space is refused");
	CHECK(kube_parse_time("2024-02-29T12:34:56", &s, &ns) < 0, "no zone is refused");
	CHECK(kube_parse_time("yesterday", &s, &ns) < 0, "words are refused");
}

static void test_status(void)
{
	char out[256];
	const char *body = "{\"kind\":\"Status\",\"message\":\"pods \\\"x\\\" not found\",\"code\":404}";

	kube_status_message(404, body, strlen(body), out, sizeof(out));
	CHECK_STR(out, "404 Not Found: pods \"x\" not found", "a Status body gives its message");
	kube_status_message(502, "<html>", 6, out, sizeof(out));
	CHECK_STR(out, "502 Bad Gateway", "another body gives the status");
}

static void test_labels(void)
{
	json_t *l = json_pack("{s:s,s:s}", "app", "web", "tier", "front");

	CHECK(logs_labels_match("app=web", l), "k=v");
	CHECK(logs_labels_match("app==web,tier=front", l), "k==v and a second term");
	CHECK(!logs_labels_match("app=web,tier=back", l), "every term must hold");
	CHECK(logs_labels_match("app!=db", l), "k!=v");
	CHECK(!logs_labels_match("app!=web", l), "k!=v refuses");
	CHECK(logs_labels_match("tier", l), "exists");
	CHECK(logs_labels_match("!zone", l), "does not exist");
	CHECK(!logs_labels_match("zone", l), "a missing key");
	CHECK(logs_labels_match("", l), "empty matches all");
	json_decref(l);
}

int main(void)
{
	test_time();
	test_status();
	test_labels();
	return UNIT_DONE();
}
