/*
 * src/s3 without a server: the XML reader on real RGW answers
 * (tests/data/s3) and on hostile input, and where the settings come from
 * (environment, ~/.aws/credentials and config, profiles, endpoints).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "s3.h"
#include "unit.h"

static char datadir[4096];

static char *load(const char *name, size_t *len)
{
	char path[4200];
	struct strbuf sb = STRBUF_INIT;
	struct err e;

	snprintf(path, sizeof(path), "%s/%s", datadir, name);
	if (strbuf_read_file(&sb, path, 0, &e) < 0) {
		printf("# %s\n", e.msg);
		*len = 0;
		return strdup("");
	}
	*len = sb.len;
	return strbuf_detach(&sb, NULL);
}

/* Text of the first `name` in doc (decoded), or "(none)" / "(bad)". */
static const char *text(const char *doc, size_t len, const char *name)
{
	static char out[4][512];
	static int slot;
	struct strbuf sb = STRBUF_INIT;
	const char *in;
	size_t il;
	char *r = out[slot++ % 4];

	if (s3_xml_find(doc, len, name, &in, &il, NULL) < 0)
		return "(none)";
	if (s3_xml_text(&sb, in, il) < 0) {
		strbuf_release(&sb);
		return "(bad)";
	}
	snprintf(r, 512, "%s", sb.buf ? sb.buf : "");
	strbuf_release(&sb);
	return r;
}

static void test_rgw_answers(void)
{
	size_t len, il, n = 0;
	char *doc = load("rgw-list-page1.xml", &len);
	const char *p, *in, *end;

	CHECK_STR(text(doc, len, "IsTruncated"), "true", "list: IsTruncated");
	CHECK_STR(text(doc, len, "NextContinuationToken"), "c+d", "list: the token as given");
	CHECK_STR(text(doc, len, "ETag"), "\"401b30e3b8b5d629635a5c613cdb7919\"", "list: &quot; decoded in the ETag");
	CHECK_STR(text(doc, len, "Prefix"), "", "list: an empty element");
	CHECK_STR(text(doc, len, "Key"), "a%20b", "list: a url-encoded key");
	p = doc;
	end = doc + len;
	while (s3_xml_find(p, (size_t)(end - p), "Contents", &in, &il, &p) == 0)
		n++;
	CHECK(n == 2, "list: two Contents, walked one after the other");
	CHECK_STR(text(doc, len, "Contents"), "(bad)", "an element holding markup is not text");
	free(doc);

	doc = load("rgw-list-empty.xml", &len);
	CHECK_STR(text(doc, len, "Contents"), "(none)", "an empty listing has no Contents");
	CHECK_STR(text(doc, len, "KeyCount"), "0", "and KeyCount 0");
	free(doc);

	doc = load("rgw-uploads.xml", &len);
	CHECK_STR(text(doc, len, "Key"), "open & up", "uploads: &amp; decoded");
	CHECK_STR(text(doc, len, "UploadId"), "2~OoLzhrShuwcUtF6CfSMMQMjY3lHGTyw", "uploads: the id");
	free(doc);

	doc = load("rgw-initiate.xml", &len);
	CHECK_STR(text(doc, len, "UploadId"), "2~mIn_RGKgcvuGVs-xkdtSCIIOP5j1jR8", "initiate: the upload id");
	free(doc);

	doc = load("rgw-error-nosuchkey.xml", &len);
	CHECK_STR(text(doc, len, "Code"), "NoSuchKey", "error: the code");
	CHECK_STR(text(doc, len, "Message"), "", "error: RGW's empty message");
	free(doc);
}

static void test_hostile(void)
{
	static const struct {
		const char *doc, *name, *want, *what;
	} cases[] = {
		{ "<A>x", "A", "(none)", "an unclosed element is not found" },
		{ "<A", "A", "(none)", "a cut start tag" },
		{ "<A attr=\"a>b\">v</A>", "A", "v", "'>' inside a quoted attribute" },
		{ "<A attr=\"never closed>v</A>", "A", "(none)", "an unterminated attribute" },
		{ "<AB>no</AB><A>yes</A>", "A", "yes", "a longer name is not a match" },
		{ "<!-- <A>comment</A> --><A>real</A>", "A", "real", "comments are skipped" },
		{ "<![CDATA[<A>cdata</A>]]><A>real</A>", "A", "real", "CDATA is skipped" },
		{ "<?xml version=\"1.0\"?><A>v</A>", "A", "v", "the declaration is skipped" },
		{ "<!-- never closed <A>v</A>", "A", "(none)", "an unterminated comment hides the rest" },
		{ "<A/>", "A", "", "a self-closing element is empty" },
		{ "<A>a&amp;b&lt;c&gt;d&quot;e&apos;f</A>", "A", "a&b<c>d\"e'f", "the five entities" },
		{ "<A>&#233;&#x65E5;</A>", "A", "\xc3\xa9\xe6\x97\xa5", "character references become UTF-8" },
		{ "<A>&#0;</A>", "A", "(bad)", "&#0; is refused" },
		{ "<A>&#xD800;</A>", "A", "(bad)", "a surrogate is refused" },
		{ "<A>&#x110000;</A>", "A", "(bad)", "a code point past U+10FFFF is refused" },
		{ "<A>&#99999999999;</A>", "A", "(bad)", "an overlong reference is refused" },
		{ "<A>&unknown;</A>", "A", "(bad)", "an unknown entity is refused" },
		{ "<A>&amp</A>", "A", "(bad)", "an entity without ';'" },
		{ "<A>&</A>", "A", "(bad)", "a bare '&'" },
		{ "<A>&#;</A>", "A", "(bad)", "an empty reference" },
		{ "<A><A>nested</A></A>", "A", "(bad)", "a nested same name holds markup: refused, not misread" },
		{ "", "A", "(none)", "an empty document" },
		{ "<", "A", "(none)", "a lone '<'" },
		{ "</A>", "A", "(none)", "an end tag alone" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_STR(text(cases[i].doc, strlen(cases[i].doc), cases[i].name),
			  cases[i].want, cases[i].what);

	/* Lengths are respected: nothing is read past len. */
	{
		const char *doc = "<A>inside</A><B>outside</B>";

		CHECK_STR(text(doc, 13, "B"), "(none)", "a search stays within its span");
		CHECK_STR(text(doc, 12, "A"), "(none)", "an end tag cut by the span is not seen");
	}
	/* A deep document costs no stack: the reader does not recurse. */
	{
		size_t n = 200000;
		char *deep = malloc(n * 3 + 16);
		size_t o = 0;

		for (size_t i = 0; i < n; i++) {
			memcpy(deep + o, "<x>", 3);
			o += 3;
		}
		memcpy(deep + o, "<A>v</A>", 8);
		o += 8;
		CHECK_STR(text(deep, o, "A"), "v", "200,000 levels of nesting are walked without recursion");
		free(deep);
	}
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static void clear_env(void)
{
	static const char *const vars[] = {
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
		"AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", NULL,
	};
	for (int i = 0; vars[i]; i++)
		unsetenv(vars[i]);
}

static void test_settings(void)
{
	char home[] = "/tmp/saasctl-s3-unit.XXXXXX";
	char path[256];
	struct s3 s;
	struct err e;

	if (!mkdtemp(home)) {
		CHECK(0, "a temporary HOME");
		return;
	}
	clear_env();
	setenv("HOME", home, 1);

	CHECK(s3_init(&s, &e) < 0, "no keys anywhere: refused");
	CHECK(strstr(e.msg, "no S3 credentials") != NULL, "saying there are no credentials");

	setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret-env", 1);
	CHECK(s3_init(&s, &e) == 0, "keys from the environment");
	CHECK_STR(s.access_key, "AKENV", "the access key");
	CHECK_STR(s.region, "us-east-1", "the default region");
	CHECK_STR(s.endpoint, "https://s3.us-east-1.amazonaws.com", "AWS's endpoint for the region");
	CHECK(!s.custom_endpoint, "virtual-hosted on AWS");
	CHECK(s.session_token == NULL, "no session token");
	s3_release(&s);

	setenv("AWS_REGION", "eu-west-3", 1);
	setenv("AWS_SESSION_TOKEN", "tok", 1);
	setenv("AWS_ENDPOINT_URL", "https://gw.example:443/", 1);
	CHECK(s3_init(&s, &e) == 0, "region, token and endpoint from the environment");
	CHECK_STR(s.region, "eu-west-3", "AWS_REGION");
	CHECK_STR(s.session_token, "tok", "AWS_SESSION_TOKEN");
	CHECK_STR(s.endpoint, "https://gw.example", "the default port and '/' are dropped, as curl sends Host");
	CHECK(s.custom_endpoint, "a custom endpoint is path-style");
	s3_release(&s);

	setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:7480", 1);
	CHECK(s3_init(&s, &e) == 0, "AWS_ENDPOINT_URL_S3");
	CHECK_STR(s.endpoint, "http://127.0.0.1:7480", "wins over AWS_ENDPOINT_URL");
	s3_release(&s);

	setenv("AWS_ENDPOINT_URL_S3", "ftp://x", 1);
	CHECK(s3_init(&s, &e) < 0, "an endpoint that is not http(s) is refused");
	clear_env();
	setenv("HOME", home, 1);

	/* ~/.aws/credentials and ~/.aws/config, with profiles. */
	snprintf(path, sizeof(path), "%s/.aws", home);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/.aws/credentials", home);
	write_file(path, "# keys\n[default]\naws_access_key_id = AKDEF\naws_secret_access_key=secret-def\n\n"
			 "[ backup ]\n  aws_access_key_id =  AKBACKUP  \naws_secret_access_key = secret/b+k=\n"
			 "aws_session_token = tok-b\n");
	snprintf(path, sizeof(path), "%s/.aws/config", home);
	write_file(path, "[default]\nregion = ap-south-1\n[profile backup]\nregion=ca-central-1\n");
	CHECK(s3_init(&s, &e) == 0, "keys from ~/.aws/credentials");
	CHECK_STR(s.access_key, "AKDEF", "the default profile's key");
	CHECK_STR(s.secret_key, "secret-def", "and secret");
	CHECK_STR(s.region, "ap-south-1", "the region from ~/.aws/config");
	s3_release(&s);

	setenv("AWS_PROFILE", "backup", 1);
	CHECK(s3_init(&s, &e) == 0, "AWS_PROFILE picks a profile");
	CHECK_STR(s.access_key, "AKBACKUP", "its key, spaces trimmed");
	CHECK_STR(s.secret_key, "secret/b+k=", "its secret");
	CHECK_STR(s.session_token, "tok-b", "its session token");
	CHECK_STR(s.region, "ca-central-1", "its region from [profile backup]");
	s3_release(&s);

	setenv("AWS_PROFILE", "nobody", 1);
	CHECK(s3_init(&s, &e) < 0, "a profile that is not there: refused");
	CHECK(strstr(e.msg, "'nobody'") != NULL, "naming the profile");
	CHECK(strstr(e.msg, "secret") == NULL || strstr(e.msg, "secret-") == NULL, "and no secret");

	clear_env();
	snprintf(path, sizeof(path), "rm -rf '%s'", home);
	if (system(path) != 0)
		printf("# cannot remove %s\n", home);
}

static void test_part_size(void)
{
	const size_t MiB = 1 << 20;
	unsigned long long total = 0;

	CHECK(s3_part_size(0, -1, 0) == 16 * MiB, "the default part is 16 MiB");
	CHECK(s3_part_size(MiB, -1, 0) == 5 * MiB, "never under S3's 5 MiB minimum");
	CHECK(s3_part_size(0, 100LL * 1024 * MiB, 0) == 16 * MiB, "100 GiB fits 16 MiB parts");
	CHECK(s3_part_size(0, 1024LL * 1024 * MiB, 0) == 128 * MiB, "1 TiB known: 128 MiB parts");
	CHECK((1024ULL * 1024 * MiB) / s3_part_size(0, 1024LL * 1024 * MiB, 0) < 10000,
	      "and those fit 10,000 parts");
	CHECK(s3_part_size(0, -1, 999) == 16 * MiB, "unknown length: 16 MiB for the first 1000 parts");
	CHECK(s3_part_size(0, -1, 1000) == 32 * MiB, "then 32 MiB");
	for (size_t i = 0; i < 10000; i++)
		total += s3_part_size(0, -1, i);
	CHECK(total >= 5ULL << 40, "10,000 growing parts hold S3's 5 TiB object limit");
	CHECK(s3_part_size(0, -1, 9999) <= (5ULL << 30), "and no part exceeds 5 GiB");
}

/* The readers of whole answers, on what the operations hand them. */
static void test_answers(void)
{
	struct s3_list l;
	struct s3_upload_info *ups = NULL;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	size_t len, n = 0, nfailed = 0;
	char *doc, *id = NULL;
	struct err e;
	int truncated = 0;

	doc = load("rgw-list-page1.xml", &len);
	CHECK(s3_parse_list(doc, len, &l, &e) == 0 && l.n > 0 && l.next_token &&
	      !strcmp(l.next_token, "c+d"), "list: RGW's page and its token");
	s3_list_release(&l);
	free(doc);
	doc = load("rgw-uploads.xml", &len);
	CHECK(s3_parse_uploads(doc, len, &ups, &n, &a, &b, &truncated, &e) == 0 && n > 0,
	      "uploads: RGW's listing");
	s3_upload_info_free(ups, n);
	ups = NULL;
	n = 0;
	free(doc);
	doc = load("rgw-initiate.xml", &len);
	CHECK(s3_parse_upload_id(doc, len, &id, &e) == 0 && id && *id, "initiate: the upload ID");
	free(id);
	free(doc);

	/* empty elements, which left the reader a NULL buffer */
	doc = strdup("<ListBucketResult><Contents><Key></Key></Contents></ListBucketResult>");
	CHECK(s3_parse_list(doc, strlen(doc), &l, &e) < 0, "list: an empty Key is refused");
	CHECK_STR(e.msg, "a listed object without a Key", "and said so");
	free(doc);
	doc = strdup("<ListBucketResult><Contents><Key>k</Key><Size></Size><ETag></ETag>"
		     "<LastModified></LastModified></Contents><IsTruncated></IsTruncated>"
		     "</ListBucketResult>");
	CHECK(s3_parse_list(doc, strlen(doc), &l, &e) == 0 && l.n == 1 &&
	      l.objects[0].size == -1 && !l.next_token,
	      "list: empty Size, ETag, LastModified and IsTruncated");
	s3_list_release(&l);
	free(doc);
	doc = strdup("<ListBucketResult><IsTruncated>true</IsTruncated>"
		     "<NextContinuationToken></NextContinuationToken></ListBucketResult>");
	CHECK(s3_parse_list(doc, strlen(doc), &l, &e) < 0, "list: truncated, an empty token");
	CHECK_STR(e.msg, "a truncated listing without a continuation token", "and said so");
	free(doc);
	doc = strdup("<DeleteResult><Error><Code></Code></Error><Error><Key>a</Key>"
		     "<Code>NoSuchKey</Code></Error><Error></Error></DeleteResult>");
	strbuf_reset(&a);
	s3_parse_delete_result(doc, strlen(doc), &a, &nfailed);
	CHECK(nfailed == 2, "delete: errors without a Code count, NoSuchKey does not");
	CHECK_STR(a.buf, "'': error, '': error", "and are described");
	free(doc);
	doc = strdup("<ListMultipartUploadsResult><IsTruncated></IsTruncated><Upload><Key>"
		     "</Key><UploadId>u</UploadId></Upload></ListMultipartUploadsResult>");
	CHECK(s3_parse_uploads(doc, strlen(doc), &ups, &n, &a, &b, &truncated, &e) < 0,
	      "uploads: an empty Key is refused");
	s3_upload_info_free(ups, n);
	ups = NULL;
	n = 0;
	free(doc);
	doc = strdup("<ListMultipartUploadsResult><IsTruncated></IsTruncated>"
		     "<NextKeyMarker></NextKeyMarker></ListMultipartUploadsResult>");
	CHECK(s3_parse_uploads(doc, strlen(doc), &ups, &n, &a, &b, &truncated, &e) == 0 &&
	      !n && !truncated && !a.len, "uploads: empty IsTruncated and marker");
	free(doc);
	CHECK(s3_parse_error(NULL, 0, &a, &b) < 0 && !a.len, "error: no body");
	doc = strdup("<Error><Code></Code><Message>m</Message></Error>");
	CHECK(s3_parse_error(doc, strlen(doc), &a, &b) == 0 && !a.len, "error: an empty Code");
	free(doc);
	CHECK(s3_parse_upload_id(NULL, 0, &id, &e) < 0 && !id, "initiate: no body");
	{
		static const char nul[] = "<InitiateMultipartUploadResult><UploadId>ab\0cd"
					  "</UploadId></InitiateMultipartUploadResult>";

		CHECK(s3_parse_upload_id(nul, sizeof(nul) - 1, &id, &e) < 0 && !id,
		      "initiate: an UploadId with a NUL byte is refused, not cut short");
		CHECK_STR(e.msg, "no UploadId in the answer", "and said so");
	}
	strbuf_release(&a);
	strbuf_release(&b);
}

int main(void)
{
	const char *top = getenv("TOP");

	snprintf(datadir, sizeof(datadir), "%s/tests/data/s3", top ? top : ".");
	test_rgw_answers();
	test_hostile();
	test_answers();
	test_settings();
	test_part_size();
	return UNIT_DONE();
}
