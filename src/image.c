/*
 * Image references after the grammar of distribution/reference:
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [domain "/"] component ("/" component)*
 *   domain     := host [ ":" port ]   (first part with "." or ":", or "localhost")
 *   component  := [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
 *   tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest     := algorithm ":" hex   (sha256: 64 lowercase hex digits)
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "image.h"

static int is_lower_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int image_tag_valid(const char *tag)
{
	size_t n = strlen(tag);

	if (n == 0 || n > 128)
		return 0;
	if (!(isalnum((unsigned char)tag[0]) || tag[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)tag[i]) || strchr("_.-", tag[i])))
			return 0;
	return 1;
}

int image_digest_valid(const char *digest)
{
	const char *colon = strchr(digest, ':');
	size_t hexlen, want = 0;

	if (!colon || colon == digest)
		return 0;
	for (const char *p = digest; p < colon; p++)
		if (!(is_lower_alnum(*p) || strchr("+._-", *p)))
			return 0;
	if (!strncmp(digest, "sha256:", 7))
		want = 64;
	else if (!strncmp(digest, "sha512:", 7))
		want = 128;
	hexlen = strlen(colon + 1);
	if (hexlen < 32 || (want && hexlen != want))
		return 0;
	for (const char *p = colon + 1; *p; p++)
		if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
			return 0;
	return 1;
}

/* A path component: lowercase alphanumerics joined by ".", "_", "__" or dashes. */
static int component_valid(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return 0;
	while (i < n) {
		if (is_lower_alnum(s[i])) {
			i++;
			continue;
		}
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			return 0;
		}
		if (i >= n || !is_lower_alnum(s[i]))
			return 0;
	}
	return 1;
}

static int domain_valid(const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	size_t host = colon ? (size_t)(colon - s) : n;

	if (host == 0)
		return 0;
	for (size_t i = 0; i < host; i++) {
		int c = (unsigned char)s[i];

		if (!(isalnum(c) || c == '.' || c == '-'))
			return 0;
		if ((c == '.' || c == '-') && (i == 0 || i == host - 1))
			return 0;
	}
	if (colon) {
		size_t plen = n - host - 1;

		if (plen == 0 || plen > 5)
			return 0;
		for (size_t i = host + 1; i < n; i++)
			if (!isdigit((unsigned char)s[i]))
				return 0;
	}
	return 1;
}

/* Does the first "/"-part name a registry rather than a path component? */
static int looks_like_domain(const char *s, size_t n)
{
	return memchr(s, '.', n) || memchr(s, ':', n) ||
	       (n == 9 && !memcmp(s, "localhost", 9));
}

int image_parse(struct image_ref *ref, const char *s, struct err *e)
{
	const char *at, *p, *name_end, *slash, *tag = NULL;
	size_t nlen;

	memset(ref, 0, sizeof(*ref));
	if (!*s)
		return err_set(e, "invalid image reference '': it is empty");
	for (p = s; *p; p++)
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
			return err_set(e, "invalid image reference '%s': it contains a space or control character", s);

	at = strchr(s, '@');
	name_end = at ? at : s + strlen(s);
	if (at) {
		if (!image_digest_valid(at + 1))
			return err_set(e, "invalid image reference '%s': bad digest '%s' (want sha256: and 64 lowercase hex digits)",
				       s, at + 1);
		if (strlen(at + 1) >= sizeof(ref->digest))
			return err_set(e, "invalid image reference '%s': digest too long", s);
		strcpy(ref->digest, at + 1);
	}
	/* A tag is after the last ":" that follows the last "/". */
	slash = NULL;
	for (p = s; p < name_end; p++)
		if (*p == '/')
			slash = p;
	for (p = slash ? slash : s; p < name_end; p++)
		if (*p == ':')
			tag = p;
	if (tag) {
		size_t tlen = (size_t)(name_end - tag - 1);

		if (tlen >= sizeof(ref->tag))
			return err_set(e, "invalid image reference '%s': tag longer than 128 characters", s);
		memcpy(ref->tag, tag + 1, tlen);
		ref->tag[tlen] = '\0';
		if (!image_tag_valid(ref->tag))
			return err_set(e, "invalid image reference '%s': bad tag '%s'", s, ref->tag);
		name_end = tag;
	}
	nlen = (size_t)(name_end - s);
	if (nlen == 0)
		return err_set(e, "invalid image reference '%s': the repository name is empty", s);
	if (nlen >= sizeof(ref->name))
		return err_set(e, "invalid image reference '%s': repository name longer than 255 characters", s);
	memcpy(ref->name, s, nlen);
	ref->name[nlen] = '\0';

	/* Walk the "/"-separated parts; the first may be a registry. */
	p = ref->name;
	for (int first = 1;; first = 0) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (first && end && looks_like_domain(p, n)) {
			if (!domain_valid(p, n))
				return err_set(e, "invalid image reference '%s': bad registry '%.*s'", s, (int)n, p);
		} else if (!component_valid(p, n)) {
			for (size_t i = 0; i < n; i++)
				if (isupper((unsigned char)p[i]))
					return err_set(e, "invalid image reference '%s': repository names must be lowercase", s);
			return err_set(e, "invalid image reference '%s': bad name part '%.*s'", s, (int)n, p);
		}
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

/* Drop Docker Hub's implicit "docker.io/" and "library/". */
static const char *hub_short(const char *name)
{
	static const char *const hosts[] = {
		"docker.io/", "index.docker.io/", "registry-1.docker.io/", NULL,
	};

	for (int i = 0; hosts[i]; i++)
		if (!strncmp(name, hosts[i], strlen(hosts[i]))) {
			name += strlen(hosts[i]);
			break;
		}
	if (!strncmp(name, "library/", 8) && !strchr(name + 8, '/'))
		name += 8;
	return name;
}

int image_same_repo(const char *a, const char *b)
{
	return !strcmp(hub_short(a), hub_short(b));
}

char *image_format(char *buf, size_t size, const struct image_ref *ref)
{
	snprintf(buf, size, "%s%s%s%s%s", ref->name, ref->tag[0] ? ":" : "",
		 ref->tag, ref->digest[0] ? "@" : "", ref->digest);
	return buf;
}
