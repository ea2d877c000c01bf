/*
 * src/sigv4 against AWS's published Signature Version 4 test suite
 * (tests/data/sigv4, see SOURCES there): the canonical request, the string
 * to sign and the Authorization header, byte for byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sigv4.h"
#include "unit.h"

static const char *const suite[] = {
	"get-vanilla", "get-vanilla-query", "get-vanilla-query-order-key-case",
	"get-vanilla-query-unreserved", "get-vanilla-empty-query-key",
	"get-vanilla-utf8-query", "get-unreserved", "get-utf8",
	"get-header-value-trim", "get-header-value-order",
	"get-vanilla-with-session-token", "post-vanilla", "post-vanilla-query",
	"post-header-key-sort", "post-header-key-case",
	"post-x-www-form-urlencoded", "post-x-www-form-urlencoded-parameters",
	NULL,
};

static char *slurp(const char *dir, const char *name, const char *ext)
{
	char path[4096];
	struct strbuf sb = STRBUF_INIT;
	struct err e;

	snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
	if (strbuf_read_file(&sb, path, 0, &e) < 0) {
		printf("# %s\n", e.msg);
		return NULL;
	}
	/* The suite's files end without a newline; some copies add one. */
	while (sb.len && sb.buf[sb.len - 1] == '\n')
		strbuf_setlen(&sb, sb.len - 1);
	return strbuf_detach(&sb, NULL);
}

static int unhex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : (c | 32) - 'a' + 10;
}

/* Percent-decode in place: the suite writes its queries as sent. */
static void decode(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '%' && s[1] && s[2]) {
			*w++ = (char)(unhex(s[1]) * 16 + unhex(s[2]));
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

static void run_case(const char *dir, const char *name)
{
	char *req = slurp(dir, name, "req");
	char *creq = slurp(dir, name, "creq");
	char *sts = slurp(dir, name, "sts");
	char *authz = slurp(dir, name, "authz");
	struct sigv4_credentials c = {
		"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL,
		"us-east-1", "service",
	};
	struct sigv4_request r = { 0 };
	struct sigv4_param q[16];
	struct sigv4_header h[16];
	struct sigv4_result res;
	char hash[65];
	char msg[256];
	char *line, *next, *sp, *body = "";
	struct err e;

	sigv4_result_init(&res);
	if (!req || !creq || !sts || !authz) {
		snprintf(msg, sizeof(msg), "%s: the vector's files are there", name);
		CHECK(0, msg);
		goto out;
	}
	if (!strcmp(name, "get-vanilla-with-session-token"))
		c.session_token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";

	/* "METHOD /path?query HTTP/1.1", headers, a blank line, the body. */
	next = strchr(req, '\n');
	*next++ = '\0';
	line = req;
	sp = strchr(line, ' ');
	*sp = '\0';
	r.method = line;
	r.path = sp + 1;
	*strrchr(sp + 1, ' ') = '\0';
	if ((sp = strchr(r.path, '?'))) {
		char *tok, *save = NULL;

		*sp = '\0';
		for (tok = strtok_r(sp + 1, "&", &save); tok;
		     tok = strtok_r(NULL, "&", &save)) {
			char *eq = strchr(tok, '=');

			if (eq)
				*eq = '\0';
			decode(tok);
			q[r.nquery].name = tok;
			q[r.nquery].value = eq ? eq + 1 : NULL;
			if (eq)
				decode(eq + 1);
			r.nquery++;
		}
	}
	r.query = q;
	for (line = next; line && *line && *line != '\n'; line = next) {
		char *colon;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		colon = strchr(line, ':');
		*colon = '\0';
		if (!strcasecmp(line, "host"))
			r.host = colon + 1;
		else if (!strcasecmp(line, "x-amz-date"))
			r.amz_date = colon + 1;
		else {
			h[r.nheaders].name = line;
			h[r.nheaders++].value = colon + 1;
		}
	}
	if (line && *line == '\n')
		body = line + 1;
	r.headers = h;
	sigv4_payload_hash(hash, body, strlen(body));
	r.payload_hash = hash;

	snprintf(msg, sizeof(msg), "%s: signs", name);
	CHECK(sigv4_sign(&c, &r, &res, &e) == 0, msg);
	snprintf(msg, sizeof(msg), "%s: canonical request", name);
	CHECK_STR(res.canonical.buf, creq, msg);
	snprintf(msg, sizeof(msg), "%s: string to sign", name);
	CHECK_STR(res.string_to_sign.buf, sts, msg);
	snprintf(msg, sizeof(msg), "%s: authorization", name);
	CHECK_STR(res.authorization.buf, authz, msg);
out:
	sigv4_result_release(&res);
	free(req);
	free(creq);
	free(sts);
	free(authz);
}

static void test_encoding(void)
{
	struct strbuf sb = STRBUF_INIT;
	const char *key = "a b+c~d=e/f\xc3\xa9*";

	strbuf_init(&sb, 0);
	sigv4_uri_encode(&sb, key, strlen(key), 1);
	CHECK_STR(sb.buf, "a%20b%2Bc~d%3De/f%C3%A9%2A", "a path keeps '/' and '~', encodes the rest");
	strbuf_reset(&sb);
	sigv4_uri_encode(&sb, key, strlen(key), 0);
	CHECK_STR(sb.buf, "a%20b%2Bc~d%3De%2Ff%C3%A9%2A", "a query value encodes '/'");
	strbuf_release(&sb);
}

static void test_s3_request(void)
{
	/* ?uploads has no value, and sorts among the others by its name. */
	struct sigv4_credentials c = { "AK", "SK", NULL, "us-east-1", "s3" };
	struct sigv4_param q[] = { { "uploads", NULL }, { "prefix", "a b" } };
	struct sigv4_header h[] = { { "x-amz-content-sha256", SIGV4_UNSIGNED_PAYLOAD } };
	struct sigv4_request r = {
		.method = "POST", .host = "127.0.0.1:7480", .path = "/bkt/k y",
		.query = q, .nquery = 2, .headers = h, .nheaders = 1,
		.amz_date = "20240101T000000Z",
	};
	struct sigv4_result res;
	struct err e;

	sigv4_result_init(&res);
	CHECK(sigv4_sign(&c, &r, &res, &e) == 0, "an S3 request signs");
	CHECK_STR(res.path.buf, "/bkt/k%20y", "the path as sent is encoded");
	CHECK_STR(res.query.buf, "prefix=a%20b&uploads=", "the query as sent is sorted, uploads=");
	CHECK(strstr(res.canonical.buf, "\nhost;x-amz-content-sha256;x-amz-date\nUNSIGNED-PAYLOAD") != NULL,
	      "x-amz-content-sha256 is signed, UNSIGNED-PAYLOAD by default");
	c.secret_key = NULL;
	CHECK(sigv4_sign(&c, &r, &res, &e) < 0, "no secret: refused");
	sigv4_result_release(&res);
}

int main(void)
{
	const char *top = getenv("TOP");
	char dir[4096];

	snprintf(dir, sizeof(dir), "%s/tests/data/sigv4", top ? top : ".");
	for (int i = 0; suite[i]; i++)
		run_case(dir, suite[i]);
	test_encoding();
	test_s3_request();
	return UNIT_DONE();
}
