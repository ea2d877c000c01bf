/* Image references: what parses, what is refused, and repository equality. */
#include "unit.h"
#include "image.h"

static int parses(const char *s)
{
	struct image_ref r;
	struct err e;

	return image_parse(&r, s, &e) == 0;
}

int main(void)
{
	struct image_ref r;
	struct err e;
	char buf[600];
	const char *digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

	CHECK(image_parse(&r, "ghcr.io/acme/web:v1.2.3", &e) == 0, "registry/path:tag parses");
	CHECK_STR(r.name, "ghcr.io/acme/web", "name");
	CHECK_STR(r.tag, "v1.2.3", "tag");
	CHECK_STR(r.digest, "", "no digest");

	CHECK(image_parse(&r, "localhost:5000/app", &e) == 0, "registry with port, no tag");
	CHECK_STR(r.name, "localhost:5000/app", "port is part of the name");
	CHECK_STR(r.tag, "", "a port is not a tag");

	snprintf(buf, sizeof(buf), "nginx:1.25@%s", digest);
	CHECK(image_parse(&r, buf, &e) == 0, "tag and digest parse");
	CHECK_STR(r.tag, "1.25", "tag before the digest");
	CHECK_STR(r.digest, digest, "digest");
	CHECK_STR(image_format(buf, sizeof(buf), &r), buf, "format round-trips");

	CHECK(parses("nginx"), "bare name");
	CHECK(parses("my_org/my-app__x.y"), "separators");
	CHECK(parses("registry.example.com:443/a/b/c:latest"), "deep path");

	CHECK(!parses(""), "empty is refused");
	CHECK(!parses("Nginx:1"), "uppercase name is refused");
	CHECK(image_parse(&r, "Nginx:1", &e) < 0 && strstr(e.msg, "lowercase"), "uppercase is explained");
	CHECK(!parses("nginx:"), "empty tag is refused");
	CHECK(!parses("nginx:-x"), "tag starting with a dash is refused");
	CHECK(!parses("nginx:1.25 "), "trailing space is refused");
	CHECK(!parses("nginx@sha256:abc"), "short digest is refused");
	CHECK(!parses("nginx@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"), "uppercase digest is refused");
	CHECK(!parses("-nginx"), "leading dash is refused");
	CHECK(!parses("a//b"), "empty component is refused");
	CHECK(!parses("a/b/"), "trailing slash is refused");
	CHECK(!parses(":tag"), "missing name is refused");

	CHECK(image_same_repo("nginx", "docker.io/library/nginx"), "hub short form equals long form");
	CHECK(image_same_repo("library/nginx", "nginx"), "library/ prefix");
	CHECK(!image_same_repo("ghcr.io/acme/web", "ghcr.io/acme/worker"), "different repositories differ");
	CHECK(image_tag_valid("v1.0_rc-1"), "tag charset");
	CHECK(image_digest_valid(digest), "digest valid");
	return UNIT_DONE();
}
