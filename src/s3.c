#include "s3.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "http.h"
#include "sigv4.h"

#define S3_DEFAULT_PART (16u << 20)
#define S3_MIN_PART (5u << 20)
#define S3_MAX_PART (5ull << 30)
#define S3_MAX_PARTS 10000
/* Over TLS, payloads up to this size are hashed and signed anyway. */
#define S3_SIGN_PAYLOAD_MAX (1u << 20)

/* ---- the XML reader -------------------------------------------------- */

/* Skip a comment, processing instruction or CDATA section at p, or NULL. */
static const char *s3_xml_skip(const char *p, const char *end)
{
	static const struct {
		const char *open, *close;
	} skip[] = { { "<!--", "-->" }, { "<?", "?>" },
		     { "<![CDATA[", "]]>" }, { "<!", ">" } };

	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++) {
		size_t ol = strlen(skip[i].open), cl = strlen(skip[i].close);

		if ((size_t)(end - p) < ol || memcmp(p, skip[i].open, ol))
			continue;
		for (const char *q = p + ol; q + cl <= end; q++)
			if (!memcmp(q, skip[i].close, cl))
				return q + cl;
		return end;
	}
	return NULL;
}

int s3_xml_find(const char *doc, size_t len, const char *name,
		const char **inner, size_t *inner_len, const char **after)
{
	const char *end = doc + len;
	size_t nl = strlen(name);
	const char *p = doc;

	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p));
		const char *q, *skipped;
		int selfclose = 0;
		char quote = 0;

		if (!lt)
			return -1;
		if ((skipped = s3_xml_skip(lt, end))) {
			p = skipped;
			continue;
		}
		p = lt + 1;
		if ((size_t)(end - p) < nl + 1 || memcmp(p, name, nl) ||
		    !(p[nl] == '>' || p[nl] == '/' || isspace((unsigned char)p[nl])))
			continue;
		/* The end of the start tag, quotes respected. */
		for (q = p + nl; q < end; q++) {
			if (quote) {
				if (*q == quote)
					quote = 0;
			} else if (*q == '"' || *q == '\'') {
				quote = *q;
			} else if (*q == '>') {
				break;
			}
		}
		if (q >= end)
			return -1;
		selfclose = q[-1] == '/';
		q++;
		if (selfclose) {
			*inner = q;
			*inner_len = 0;
			if (after)
				*after = q;
			return 0;
		}
		/* S3 never nests an element in one of the same name: the
		 * first end tag closes it. */
		for (const char *c = q; c + nl + 3 <= end; c++) {
			if (c[0] == '<' && c[1] == '/' && !memcmp(c + 2, name, nl) &&
			    c[2 + nl] == '>') {
				*inner = q;
				*inner_len = (size_t)(c - q);
				if (after)
					*after = c + nl + 3;
				return 0;
			}
		}
		return -1;
	}
	return -1;
}

static int s3_utf8_put(struct strbuf *out, unsigned long cp)
{
	char b[4];
	size_t n;

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return strbuf_add(out, b, n);
}

int s3_xml_text(struct strbuf *out, const char *s, size_t len)
{
	static const struct {
		const char *name;
		char c;
	} ent[] = { { "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' },
		    { "quot;", '"' }, { "apos;", '\'' } };
	const char *end = s + len;

	while (s < end) {
		if (*s == '<')
			return -1; /* markup where text belongs */
		if (!*s)
			return -1; /* XML has no NUL; a C string would end there */
		if (*s != '&') {
			if (strbuf_addch(out, *s++) < 0)
				return -1;
			continue;
		}
		s++;
		if (s < end && *s == '#') {
			unsigned long cp = 0;
			int hex = s + 1 < end && (s[1] == 'x' || s[1] == 'X');
			const char *d = s + 1 + hex;
			int digits = 0;

			for (; d < end && *d != ';' && digits < 8; d++, digits++) {
				int v = isdigit((unsigned char)*d) ? *d - '0'
					: hex && isxdigit((unsigned char)*d)
						? (tolower((unsigned char)*d) - 'a' + 10)
						: -1;
				if (v < 0)
					return -1;
				cp = cp * (hex ? 16 : 10) + (unsigned long)v;
			}
			if (!digits || d >= end || *d != ';' || s3_utf8_put(out, cp) < 0)
				return -1;
			s = d + 1;
			continue;
		}
		size_t i;

		for (i = 0; i < sizeof(ent) / sizeof(ent[0]); i++) {
			size_t nl = strlen(ent[i].name);

			if ((size_t)(end - s) >= nl && !memcmp(s, ent[i].name, nl)) {
				if (strbuf_addch(out, ent[i].c) < 0)
					return -1;
				s += nl;
				break;
			}
		}
		if (i == sizeof(ent) / sizeof(ent[0]))
			return -1;
	}
	return 0;
}

/* The decoded text of child `name` in [doc, doc+len): 0, or -1 absent/bad. */
static int s3_xml_child(const char *doc, size_t len, const char *name,
			struct strbuf *out)
{
	const char *in;
	size_t il;

	strbuf_reset(out);
	if (s3_xml_find(doc, len, name, &in, &il, NULL) < 0)
		return -1;
	return s3_xml_text(out, in, il);
}

static int s3_xml_escape(struct strbuf *out, const char *s)
{
	for (; *s; s++) {
		int r;

		switch (*s) {
		case '&': r = strbuf_addstr(out, "&amp;"); break;
		case '<': r = strbuf_addstr(out, "&lt;"); break;
		case '>': r = strbuf_addstr(out, "&gt;"); break;
		case '"': r = strbuf_addstr(out, "&quot;"); break;
		case '\'': r = strbuf_addstr(out, "&apos;"); break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n' &&
			    *s != '\r')
				r = strbuf_addf(out, "&#%d;", *s);
			else
				r = strbuf_addch(out, *s);
		}
		if (r < 0)
			return -1;
	}
	return 0;
}

/* Decode encoding-type=url values: %XX and '+' for a space. */
static int s3_url_decode(struct strbuf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '+') {
			if (strbuf_addch(out, ' ') < 0)
				return -1;
		} else if (*s == '%' && isxdigit((unsigned char)s[1]) &&
			   isxdigit((unsigned char)s[2])) {
			char h[3] = { s[1], s[2], 0 };

			if (strbuf_addch(out, (char)strtol(h, NULL, 16)) < 0)
				return -1;
			s += 2;
		} else if (strbuf_addch(out, *s) < 0) {
			return -1;
		}
	}
	return 0;
}

/* ---- the answers ---------------------------------------------------- */

int s3_parse_error(const char *body, size_t len, struct strbuf *code,
		   struct strbuf *msg)
{
	const char *in;
	size_t il;

	strbuf_reset(code);
	strbuf_reset(msg);
	if (!body || !len || s3_xml_find(body, len, "Error", &in, &il, NULL) < 0)
		return -1;
	if (s3_xml_child(in, il, "Code", code) < 0)
		strbuf_reset(code);
	if (s3_xml_child(in, il, "Message", msg) < 0)
		strbuf_reset(msg);
	return 0;
}

int s3_parse_list(const char *body, size_t len, struct s3_list *l,
		  struct err *e)
{
	struct strbuf v = STRBUF_INIT, k = STRBUF_INIT;
	const char *p, *end, *in;
	size_t il;
	int ret = -1;

	memset(l, 0, sizeof(*l));
	if (!body || s3_xml_find(body, len, "ListBucketResult", &in, &il, NULL) < 0) {
		err_set(e, "the answer is not a listing");
		goto out;
	}
	p = in;
	end = in + il;
	while (s3_xml_find(p, (size_t)(end - p), "Contents", &in, &il, &p) == 0) {
		struct s3_object *grown, *o;

		grown = realloc(l->objects, (l->n + 1) * sizeof(*grown));
		if (!grown) {
			err_set(e, "out of memory");
			goto out;
		}
		l->objects = grown;
		o = &l->objects[l->n];
		memset(o, 0, sizeof(*o));
		strbuf_reset(&k);
		if (s3_xml_child(in, il, "Key", &v) < 0 || !v.len ||
		    s3_url_decode(&k, v.buf) < 0 || !k.len) {
			err_set(e, "a listed object without a Key");
			goto out;
		}
		o->key = strdup(k.buf);
		l->n++;
		o->size = s3_xml_child(in, il, "Size", &v) == 0 && v.len ? strtoll(v.buf, NULL, 10) : -1;
		if (s3_xml_child(in, il, "ETag", &v) == 0 && v.len)
			snprintf(o->etag, sizeof(o->etag), "%s", v.buf);
		if (s3_xml_child(in, il, "LastModified", &v) == 0 && v.len)
			snprintf(o->last_modified, sizeof(o->last_modified), "%s", v.buf);
	}
	if (s3_xml_child(body, len, "IsTruncated", &v) == 0 && v.len &&
	    !strcmp(v.buf, "true")) {
		if (s3_xml_child(body, len, "NextContinuationToken", &v) < 0 ||
		    !v.len) {
			err_set(e, "a truncated listing without a continuation token");
			goto out;
		}
		l->next_token = strdup(v.buf);
	}
	ret = 0;
out:
	if (ret < 0)
		s3_list_release(l);
	strbuf_release(&v);
	strbuf_release(&k);
	return ret;
}

int s3_parse_upload_id(const char *body, size_t len, char **upload_id,
		       struct err *e)
{
	struct strbuf id = STRBUF_INIT;

	*upload_id = NULL;
	strbuf_init(&id, 4096);
	if (!body || s3_xml_child(body, len, "UploadId", &id) < 0 || !id.len) {
		strbuf_release(&id);
		return err_set(e, "no UploadId in the answer");
	}
	*upload_id = strbuf_detach(&id, NULL);
	return 0;
}

int s3_parse_delete_result(const char *body, size_t len, struct strbuf *failed,
			   size_t *nfailed)
{
	struct strbuf k = STRBUF_INIT, code = STRBUF_INIT;
	const char *p = body, *end = body ? body + len : body, *in;
	size_t il;

	while (p && s3_xml_find(p, (size_t)(end - p), "Error", &in, &il, &p) == 0) {
		if (s3_xml_child(in, il, "Key", &k) < 0)
			strbuf_reset(&k);
		if (s3_xml_child(in, il, "Code", &code) < 0)
			strbuf_reset(&code);
		if (code.len && !strcmp(code.buf, "NoSuchKey"))
			continue;
		if (*nfailed < 5)
			strbuf_addf(failed, "%s'%s': %s", *nfailed ? ", " : "",
				    k.len ? k.buf : "", code.len ? code.buf : "error");
		(*nfailed)++;
	}
	strbuf_release(&k);
	strbuf_release(&code);
	return 0;
}

int s3_parse_uploads(const char *body, size_t len, struct s3_upload_info **list,
		     size_t *n, struct strbuf *key_marker,
		     struct strbuf *id_marker, int *truncated, struct err *e)
{
	struct strbuf k = STRBUF_INIT, id = STRBUF_INIT, t = STRBUF_INIT;
	const char *p = body, *end = body ? body + len : body, *in;
	size_t il;
	int ret = -1;

	*truncated = 0;
	strbuf_reset(key_marker);
	strbuf_reset(id_marker);
	while (p && s3_xml_find(p, (size_t)(end - p), "Upload", &in, &il, &p) == 0) {
		struct s3_upload_info *grown;

		if (s3_xml_child(in, il, "Key", &k) < 0 || !k.len ||
		    s3_xml_child(in, il, "UploadId", &id) < 0 || !id.len) {
			err_set(e, "a listed upload without Key or UploadId");
			goto out;
		}
		grown = realloc(*list, (*n + 1) * sizeof(**list));
		if (!grown) {
			err_set(e, "out of memory");
			goto out;
		}
		*list = grown;
		(*list)[*n].key = strdup(k.buf);
		(*list)[*n].upload_id = strdup(id.buf);
		(*n)++;
	}
	if (!body)
		goto done;
	*truncated = s3_xml_child(body, len, "IsTruncated", &t) == 0 && t.len &&
		     !strcmp(t.buf, "true");
	if (s3_xml_child(body, len, "NextKeyMarker", key_marker) < 0)
		strbuf_reset(key_marker);
	if (s3_xml_child(body, len, "NextUploadIdMarker", id_marker) < 0)
		strbuf_reset(id_marker);
done:
	ret = 0;
out:
	strbuf_release(&k);
	strbuf_release(&id);
	strbuf_release(&t);
	return ret;
}

/* ---- settings ------------------------------------------------------- */

static char *s3_secret_dup(const char *v)
{
	size_t n = strlen(v) + 1;
	char *p = sodium_malloc(n);

	if (p)
		memcpy(p, v, n);
	return p;
}

static void s3_secret_free(char *p)
{
	sodium_free(p); /* wipes */
}

static const char *s3_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/*
 * Value of `key` in section `section` of an AWS INI file, into out.
 * 1 found, 0 not, -1 unreadable (a missing file is "not found").
 */
static int s3_ini_get(const char *path, const char *section, const char *key,
		      struct strbuf *out, struct err *e)
{
	struct strbuf sb = STRBUF_INIT;
	char *line, *save = NULL;
	int in = 0, found = 0;

	strbuf_reset(out);
	if (strbuf_read_file(&sb, path, 1 << 20, e) < 0) {
		strbuf_release(&sb);
		if (errno == ENOENT)
			return 0;
		return -1;
	}
	for (line = strtok_r(sb.buf, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		char *p = line, *eq, *k, *v, *endp;

		while (isspace((unsigned char)*p))
			p++;
		endp = p + strlen(p);
		while (endp > p && isspace((unsigned char)endp[-1]))
			*--endp = '\0';
		if (*p == '#' || *p == ';' || !*p)
			continue;
		if (*p == '[') {
			char *close = strchr(p, ']');
			char *name = p + 1;

			if (!close)
				continue;
			*close = '\0';
			while (isspace((unsigned char)*name))
				name++;
			for (char *t = close; t > name && isspace((unsigned char)t[-1]);)
				*--t = '\0';
			in = !strcmp(name, section);
			continue;
		}
		if (!in || !(eq = strchr(p, '=')))
			continue;
		k = p;
		v = eq + 1;
		for (char *t = eq; t > k && isspace((unsigned char)t[-1]);)
			*--t = '\0';
		*eq = '\0';
		while (isspace((unsigned char)*v))
			v++;
		if (!strcmp(k, key)) {
			strbuf_addstr(out, v);
			found = 1;
		}
	}
	if (sb.buf)
		sodium_memzero(sb.buf, sb.len);
	strbuf_release(&sb);
	return found;
}

static int s3_aws_file(struct strbuf *path, const char *env, const char *name)
{
	const char *v = s3_env(env), *home = s3_env("HOME");

	strbuf_reset(path);
	if (v)
		return strbuf_addstr(path, v);
	return strbuf_addf(path, "%s/.aws/%s", home ? home : "", name);
}

void s3_release(struct s3 *s)
{
	free(s->access_key);
	s3_secret_free(s->secret_key);
	s3_secret_free(s->session_token);
	free(s->region);
	free(s->endpoint);
	memset(s, 0, sizeof(*s));
}

int s3_init(struct s3 *s, struct err *e)
{
	struct strbuf path = STRBUF_INIT, v = STRBUF_INIT, sect = STRBUF_INIT;
	const char *profile = s3_env("AWS_PROFILE");
	const char *endpoint;
	int ret = -1, r;

	memset(s, 0, sizeof(*s));
	if (sodium_init() < 0)
		return err_set(e, "cannot initialise libsodium");
	if (!profile)
		profile = "default";

	/* Keys: both from the environment, or both from the file. */
	if (s3_env("AWS_ACCESS_KEY_ID") && s3_env("AWS_SECRET_ACCESS_KEY")) {
		s->access_key = strdup(s3_env("AWS_ACCESS_KEY_ID"));
		s->secret_key = s3_secret_dup(s3_env("AWS_SECRET_ACCESS_KEY"));
		if (s3_env("AWS_SESSION_TOKEN"))
			s->session_token = s3_secret_dup(s3_env("AWS_SESSION_TOKEN"));
	} else {
		s3_aws_file(&path, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
		if ((r = s3_ini_get(path.buf, profile, "aws_access_key_id", &v, e)) < 0)
			goto out;
		if (r)
			s->access_key = strdup(v.buf);
		if ((r = s3_ini_get(path.buf, profile, "aws_secret_access_key", &v, e)) < 0)
			goto out;
		if (r)
			s->secret_key = s3_secret_dup(v.buf);
		if ((r = s3_ini_get(path.buf, profile, "aws_session_token", &v, e)) < 0)
			goto out;
		if (r)
			s->session_token = s3_secret_dup(v.buf);
		if (v.buf)
			sodium_memzero(v.buf, v.len);
		if (!s->access_key || !s->secret_key) {
			err_set(e, "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or profile '%s' in '%s'",
				profile, path.buf);
			goto out;
		}
	}

	/* Region: environment, then ~/.aws/config. */
	if (s3_env("AWS_REGION"))
		s->region = strdup(s3_env("AWS_REGION"));
	else if (s3_env("AWS_DEFAULT_REGION"))
		s->region = strdup(s3_env("AWS_DEFAULT_REGION"));
	else {
		s3_aws_file(&path, "AWS_CONFIG_FILE", "config");
		if (strcmp(profile, "default"))
			strbuf_addf(&sect, "profile %s", profile);
		else
			strbuf_addstr(&sect, "default");
		if ((r = s3_ini_get(path.buf, sect.buf, "region", &v, e)) < 0)
			goto out;
		s->region = strdup(r && v.len ? v.buf : "us-east-1");
	}

	endpoint = s3_env("AWS_ENDPOINT_URL_S3");
	if (!endpoint)
		endpoint = s3_env("AWS_ENDPOINT_URL");
	strbuf_reset(&v);
	if (endpoint) {
		size_t n;

		if (strncmp(endpoint, "http://", 7) && strncmp(endpoint, "https://", 8)) {
			err_set(e, "S3 endpoint '%s' is not an http:// or https:// URL",
				endpoint);
			goto out;
		}
		strbuf_addstr(&v, endpoint);
		while (v.len && v.buf[v.len - 1] == '/')
			strbuf_setlen(&v, v.len - 1);
		/* curl leaves a default port out of Host; so must the signature. */
		n = v.len;
		if (!strncmp(v.buf, "https://", 8) && n > 4 && !strcmp(v.buf + n - 4, ":443"))
			strbuf_setlen(&v, n - 4);
		else if (!strncmp(v.buf, "http://", 7) && n > 3 && !strcmp(v.buf + n - 3, ":80"))
			strbuf_setlen(&v, n - 3);
		s->custom_endpoint = 1;
	} else {
		strbuf_addf(&v, "https://s3.%s.amazonaws.com", s->region);
	}
	s->endpoint = strbuf_detach(&v, NULL);
	if (!s->access_key || !s->secret_key || !s->region || !s->endpoint) {
		err_set(e, "out of memory");
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		s3_release(s);
	strbuf_release(&path);
	strbuf_release(&v);
	strbuf_release(&sect);
	return ret;
}

void s3_object_release(struct s3_object *o)
{
	free(o->key);
	o->key = NULL;
}

/* ---- one request ---------------------------------------------------- */

struct s3_call {
	const char *method;
	const char *bucket;
	const char *key;		/* NULL: the bucket itself */
	const struct sigv4_param *query;
	size_t nquery;
	const void *body;		/* in memory, or */
	size_t body_len;
	long long (*body_read)(void *buf, size_t len, void *ud);
	void *body_ud;
	long long body_size;
	int (*on_body)(const void *data, size_t len, void *ud);
	void *on_body_ud;
	const char *content_type;
	const char *range;
	const char *if_match;
	int if_none_match;
	const char *checksum_sha256;	/* base64, for DeleteObjects */
};

static int s3_path_style(const struct s3 *s, const char *bucket)
{
	return s->custom_endpoint || strchr(bucket, '.');
}

/* What the user reads in errors: 'bucket/key' or 'bucket'. */
static void s3_subject(struct strbuf *out, const char *bucket, const char *key)
{
	strbuf_reset(out);
	strbuf_addf(out, "%s%s%s", bucket, key ? "/" : "", key ? key : "");
}

/*
 * Turn a non-2xx answer into "s3 PUT 'b/k': 403 AccessDenied: message".
 * Returns -1.
 */
static int s3_fail(struct err *e, const char *method, const char *bucket,
		   const char *key, const struct http_response *res)
{
	struct strbuf subj = STRBUF_INIT, code = STRBUF_INIT, msg = STRBUF_INIT;

	s3_subject(&subj, bucket, key);
	strbuf_init(&code, 256);
	strbuf_init(&msg, 512);
	s3_parse_error(res->body.buf, res->body.len, &code, &msg);
	if (code.len)
		err_set(e, "s3 %s '%s': %ld %s%s%s", method, subj.buf,
			res->status, code.buf, msg.len ? ": " : "",
			msg.len ? msg.buf : "");
	else
		err_set(e, "s3 %s '%s': HTTP %ld", method, subj.buf, res->status);
	strbuf_release(&subj);
	strbuf_release(&code);
	strbuf_release(&msg);
	return -1;
}

static int s3_do(struct s3 *s, const struct s3_call *c,
		 struct http_response *res, struct err *e)
{
	struct sigv4_credentials cred = {
		s->access_key, s->secret_key, s->session_token, s->region, "s3",
	};
	struct sigv4_header sh[8];
	struct sigv4_request sr = { 0 };
	struct sigv4_result sig;
	struct http_request req = { 0 };
	struct strbuf host = STRBUF_INIT, path = STRBUF_INIT, url = STRBUF_INIT;
	struct strbuf subj = STRBUF_INIT;
	struct strbuf hl[10];
	const char *hp[11];
	const char *scheme_end = strstr(s->endpoint, "://") + 3;
	const char *base = strchr(scheme_end, '/');
	char payload[65];
	size_t nh = 0, nhl = 0;
	int ret = -1, tls = !strncmp(s->endpoint, "https", 5);

	sigv4_result_init(&sig);
	for (size_t i = 0; i < sizeof(hl) / sizeof(hl[0]); i++)
		strbuf_init(&hl[i], 0);

	/* Where: path-style /bucket/key or virtual-hosted bucket.host/key. */
	if (s3_path_style(s, c->bucket)) {
		if (base)
			strbuf_add(&host, scheme_end, (size_t)(base - scheme_end));
		else
			strbuf_addstr(&host, scheme_end);
		strbuf_addf(&path, "%s/%s", base ? base : "", c->bucket);
		if (c->key)
			strbuf_addf(&path, "/%s", c->key);
	} else {
		strbuf_addf(&host, "%s.%s", c->bucket, scheme_end);
		strbuf_addf(&path, "/%s", c->key ? c->key : "");
	}

	/* What: the payload is signed when it is in memory and, over TLS,
	 * small; a stream is sent UNSIGNED-PAYLOAD (never aws-chunked). */
	if (!c->body_read && (!tls || c->body_len <= S3_SIGN_PAYLOAD_MAX))
		sigv4_payload_hash(payload, c->body ? c->body : "", c->body_len);
	else
		strcpy(payload, SIGV4_UNSIGNED_PAYLOAD);
	sh[nh++] = (struct sigv4_header){ "x-amz-content-sha256", payload };
	if (c->content_type)
		sh[nh++] = (struct sigv4_header){ "content-type", c->content_type };
	if (c->range)
		sh[nh++] = (struct sigv4_header){ "range", c->range };
	if (c->if_match)
		sh[nh++] = (struct sigv4_header){ "if-match", c->if_match };
	if (c->if_none_match)
		sh[nh++] = (struct sigv4_header){ "if-none-match", "*" };
	if (c->checksum_sha256)
		sh[nh++] = (struct sigv4_header){ "x-amz-checksum-sha256",
						  c->checksum_sha256 };
	sr.method = c->method;
	sr.host = host.buf;
	sr.path = path.buf;
	sr.query = c->query;
	sr.nquery = c->nquery;
	sr.headers = sh;
	sr.nheaders = nh;
	sr.payload_hash = payload;
	if (sigv4_sign(&cred, &sr, &sig, e) < 0)
		goto out;

	strbuf_add(&url, s->endpoint, (size_t)(scheme_end - s->endpoint));
	strbuf_addf(&url, "%s%s%s%s", host.buf, sig.path.buf,
		    sig.query.len ? "?" : "", sig.query.buf);
	strbuf_addf(&hl[nhl++], "Authorization: %s", sig.authorization.buf);
	strbuf_addf(&hl[nhl++], "x-amz-date: %s", sig.amz_date);
	if (s->session_token)
		strbuf_addf(&hl[nhl++], "x-amz-security-token: %s", s->session_token);
	for (size_t i = 0; i < nh; i++)
		strbuf_addf(&hl[nhl++], "%s: %s", sh[i].name, sh[i].value);
	if (!c->content_type && (c->body || c->body_read))
		strbuf_addstr(&hl[nhl++], "Content-Type:"); /* not curl's form type */
	for (size_t i = 0; i < nhl; i++)
		hp[i] = hl[i].buf;
	hp[nhl] = NULL;

	req.method = c->method;
	req.url = url.buf;
	req.path_as_is = 1; /* the key as signed, "../" and all */
	req.headers = hp;
	req.body = c->body;
	req.body_len = c->body_len;
	if (c->body_read) {
		req.body_read = c->body_read;
		req.body_ud = c->body_ud;
		req.body_size = c->body_size;
	}
	req.on_body = c->on_body;
	req.on_body_ud = c->on_body_ud;
	req.max_attempts = s->max_attempts > 0 ? s->max_attempts : 6;
	req.deadline_ms = s->deadline_ms;
	req.cancel = s->cancel;
	if (c->on_body || c->body_read)
		req.timeout_ms = 0; /* streams: a stall fails, not the length */
	if (http_do(&req, res, e) < 0) {
		s3_subject(&subj, c->bucket, c->key);
		err_wrap(e, "s3 %s '%s'", c->method, subj.buf);
		goto out;
	}
	ret = 0;
out:
	/* The Authorization line held the signature only, but wipe anyway. */
	for (size_t i = 0; i < sizeof(hl) / sizeof(hl[0]); i++) {
		if (hl[i].buf)
			sodium_memzero(hl[i].buf, hl[i].len);
		strbuf_release(&hl[i]);
	}
	sigv4_result_release(&sig);
	strbuf_release(&host);
	strbuf_release(&path);
	strbuf_release(&url);
	strbuf_release(&subj);
	return ret;
}

static int s3_ok(long status)
{
	return status >= 200 && status < 300;
}

/* ---- objects -------------------------------------------------------- */

static void s3_object_from_headers(struct s3_object *o,
				   const struct http_response *res)
{
	char v[80];

	o->size = -1;
	if (http_header(res, "Content-Length", v, sizeof(v)) == 0)
		o->size = strtoll(v, NULL, 10);
	o->etag[0] = o->last_modified[0] = '\0';
	if (http_header(res, "ETag", o->etag, sizeof(o->etag)) < 0)
		o->etag[0] = '\0';
	if (http_header(res, "Last-Modified", o->last_modified,
			sizeof(o->last_modified)) < 0)
		o->last_modified[0] = '\0';
}

int s3_head(struct s3 *s, const char *bucket, const char *key, int *found,
	    struct s3_object *o, struct err *e)
{
	struct s3_call c = { .method = "HEAD", .bucket = bucket, .key = key };
	struct http_response res;
	int ret = -1;

	http_response_init(&res);
	*found = 0;
	if (s3_do(s, &c, &res, e) < 0)
		goto out;
	if (res.status == 404) {
		ret = 0;
		goto out;
	}
	if (!s3_ok(res.status)) {
		s3_fail(e, "HEAD", bucket, key, &res);
		goto out;
	}
	*found = 1;
	if (o) {
		s3_object_from_headers(o, &res);
		free(o->key);
		o->key = strdup(key);
	}
	ret = 0;
out:
	http_response_release(&res);
	return ret;
}

int s3_get(struct s3 *s, const char *bucket, const char *key,
	   int (*sink)(const void *data, size_t len, void *ud), void *ud,
	   struct s3_object *o, struct err *e)
{
	struct http_response res;
	struct s3_object first = { 0 };
	long long got = 0;
	char range[64];
	int ret = -1;

	http_response_init(&res);
	/* Each try resumes where the last one stopped. */
	for (int resume = 0;; resume++) {
		struct s3_call c = {
			.method = "GET", .bucket = bucket, .key = key,
			.on_body = sink, .on_body_ud = ud,
		};

		if (got > 0) {
			snprintf(range, sizeof(range), "bytes=%lld-", got);
			c.range = range;
			c.if_match = first.etag[0] ? first.etag : NULL;
		}
		res.streamed = 0;
		if (s3_do(s, &c, &res, e) == 0)
			break;
		if (res.streamed <= 0 || resume >= 5)
			goto out;
		if (!got)
			s3_object_from_headers(&first, &res);
		got += res.streamed;
	}
	if (!s3_ok(res.status)) {
		s3_fail(e, "GET", bucket, key, &res);
		goto out;
	}
	if (got && res.status != 206) {
		err_set(e, "s3 GET '%s/%s': resumed at byte %lld but got HTTP %ld",
			bucket, key, got, res.status);
		goto out;
	}
	if (o) {
		if (got)
			*o = first;
		else
			s3_object_from_headers(o, &res);
		o->size = got + res.streamed;
		o->key = strdup(key);
	}
	ret = 0;
out:
	http_response_release(&res);
	return ret;
}

int s3_put_buffer(struct s3 *s, const char *bucket, const char *key,
		  const void *data, size_t len,
		  const struct s3_put_options *opt, int *exists,
		  struct err *e)
{
	struct s3_call c = {
		.method = "PUT", .bucket = bucket, .key = key,
		.body = len ? data : "", .body_len = len,
	};
	struct http_response res;
	int ret = -1;

	if (exists)
		*exists = 0;
	if (opt) {
		c.if_none_match = opt->if_none_match;
		c.content_type = opt->content_type;
	}
	http_response_init(&res);
	if (s3_do(s, &c, &res, e) < 0)
		goto out;
	if (res.status == 412 && c.if_none_match && exists) {
		*exists = 1;
		s3_fail(e, "PUT", bucket, key, &res);
		goto out;
	}
	if (!s3_ok(res.status)) {
		s3_fail(e, "PUT", bucket, key, &res);
		goto out;
	}
	ret = 0;
out:
	http_response_release(&res);
	return ret;
}

int s3_bucket_create(struct s3 *s, const char *bucket, struct err *e)
{
	struct s3_call c = {
		.method = "PUT", .bucket = bucket, .body = "", .body_len = 0,
	};
	struct strbuf body = STRBUF_INIT;
	struct http_response res;
	int ret = -1;

	/* Outside us-east-1, S3 wants the region named in the body. */
	if (!s->custom_endpoint && strcmp(s->region, "us-east-1")) {
		strbuf_addf(&body, "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>%s</LocationConstraint></CreateBucketConfiguration>",
			    s->region);
		c.body = body.buf;
		c.body_len = body.len;
	}
	http_response_init(&res);
	if (s3_do(s, &c, &res, e) < 0)
		goto out;
	if (!s3_ok(res.status)) {
		s3_fail(e, "PUT", bucket, NULL, &res);
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&body);
	http_response_release(&res);
	return ret;
}

/* ---- multipart ------------------------------------------------------ */

int s3_multipart_create(struct s3 *s, const char *bucket, const char *key,
			const struct s3_put_options *opt, char **upload_id,
			struct err *e)
{
	struct sigv4_param q[] = { { "uploads", NULL } };
	struct s3_call c = {
		.method = "POST", .bucket = bucket, .key = key, .query = q,
		.nquery = 1, .body = "", .body_len = 0,
	};
	struct http_response res;
	int ret = -1;

	*upload_id = NULL;
	if (opt)
		c.content_type = opt->content_type;
	http_response_init(&res);
	if (s3_do(s, &c, &res, e) < 0)
		goto out;
	if (!s3_ok(res.status)) {
		s3_fail(e, "POST", bucket, key, &res);
		goto out;
	}
	if (s3_parse_upload_id(res.body.buf, res.body.len, upload_id, e) < 0) {
		err_wrap(e, "s3 POST '%s/%s'", bucket, key);
		goto out;
	}
	ret = 0;
out:
	http_response_release(&res);
	return ret;
}

int s3_multipart_part(struct s3 *s, const char *bucket, const char *key,
		      const char *upload_id, int number, const void *data,
		      size_t len, struct s3_part *part, struct err *e)
{
	char num[16];
	struct sigv4_param q[] = { { "partNumber", num },
				   { "uploadId", upload_id } };
	struct s3_call c = {
		.method = "PUT", .bucket = bucket, .key = key, .query = q,
		.nquery = 2, .body = len ? data : "", .body_len = len,
	};
	struct http_response res;
	int ret = -1;

	snprintf(num, sizeof(num), "%d", number);
	http_response_init(&res);
	if (s3_do(s, &c, &res, e) < 0)
		goto out;
	if (!s3_ok(res.status)) {
		s3_fail(e, "PUT", bucket, key, &res);
		err_wrap(e, "part %d", number);
		goto out;
	}
	part->number = number;
	if (http_header(&res, "ETag", part->etag, sizeof(part->etag)) < 0) {
		err_set(e, "s3 PUT '%s/%s': part %d: no ETag in the answer",
			bucket, key, number);
		goto out;
	}
	ret = 0;
out:
	http_response_release(&res);
	return ret;
}

int s3_multipart_complete(struct s3 *s, const char *bucket, const char *key,
			  const char *upload_id, const struct s3_part *parts,
			  size_t nparts, const struct s3_put_options *opt,
			  int *exists, struct err *e)
{
	struct sigv4_param q[] = { { "uploadId", upload_id } };
	struct s3_call c = {
		.method = "POST", .bucket = bucket, .key = key, .query = q,
		.nquery = 1, .content_type = "application/xml",
	};
	struct strbuf body = STRBUF_INIT, code = STRBUF_INIT, msg = STRBUF_INIT;
	struct http_response res;
	int ret = -1;

	if (exists)
		*exists = 0;
	if (opt)
		c.if_none_match = opt->if_none_match;
	http_response_init(&res);
	strbuf_addstr(&body, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	for (size_t i = 0; i < nparts; i++) {
		strbuf_addf(&body, "<Part><PartNumber>%d</PartNumber><ETag>",
			    parts[i].number);
		s3_xml_escape(&body, parts[i].etag);
		strbuf_addstr(&body, "</ETag></Part>");
	}
	if (strbuf_addstr(&body, "</CompleteMultipartUpload>") < 0) {
		err_set(e, "out of memory");
		goto out;
	}
	c.body = body.buf;
	c.body_len = body.len;
	if (s3_do(s, &c, &res, e) < 0)
		goto out;
	/* A 200 can still carry an error: S3 answers while it assembles. */
	if (!s3_ok(res.status) ||
	    s3_parse_error(res.body.buf, res.body.len, &code, &msg) == 0) {
		if (res.status == 412 && exists)
			*exists = 1;
		s3_fail(e, "POST", bucket, key, &res);
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&body);
	strbuf_release(&code);
	strbuf_release(&msg);
	http_response_release(&res);
	return ret;
}

int s3_multipart_abort(struct s3 *s, const char *bucket, const char *key,
		       const char *upload_id, struct err *e)
{
	struct sigv4_param q[] = { { "uploadId", upload_id } };
	struct s3_call c = {
		.method = "DELETE", .bucket = bucket, .key = key, .query = q,
		.nquery = 1,
	};
	struct http_response res;
	int ret = -1;

	http_response_init(&res);
	if (s3_do(s, &c, &res, e) < 0)
		goto out;
	/* 404 NoSuchUpload: already gone, which is what was asked. */
	if (!s3_ok(res.status) && res.status != 404) {
		s3_fail(e, "DELETE", bucket, key, &res);
		goto out;
	}
	ret = 0;
out:
	http_response_release(&res);
	return ret;
}

void s3_upload_info_free(struct s3_upload_info *u, size_t n)
{
	for (size_t i = 0; u && i < n; i++) {
		free(u[i].key);
		free(u[i].upload_id);
	}
	free(u);
}

int s3_multipart_list(struct s3 *s, const char *bucket, const char *prefix,
		      struct s3_upload_info **out, size_t *n, struct err *e)
{
	struct strbuf key_marker = STRBUF_INIT, id_marker = STRBUF_INIT;
	struct strbuf prev = STRBUF_INIT, next = STRBUF_INIT;
	struct s3_upload_info *list = NULL;
	size_t nl = 0;
	int ret = -1;

	*out = NULL;
	*n = 0;
	for (int page = 0; page < 1000; page++) {
		struct sigv4_param q[4] = { { "uploads", NULL },
					    { "prefix", prefix ? prefix : "" } };
		struct s3_call c = {
			.method = "GET", .bucket = bucket, .query = q, .nquery = 2,
		};
		struct http_response res;
		int truncated;

		if (key_marker.len) {
			q[c.nquery++] = (struct sigv4_param){ "key-marker", key_marker.buf };
			q[c.nquery++] = (struct sigv4_param){ "upload-id-marker",
							      id_marker.len ? id_marker.buf : "" };
		}
		http_response_init(&res);
		if (s3_do(s, &c, &res, e) < 0 ||
		    (!s3_ok(res.status) && s3_fail(e, "GET", bucket, NULL, &res))) {
			http_response_release(&res);
			goto out;
		}
		/* the markers this page was asked with */
		strbuf_reset(&prev);
		strbuf_addf(&prev, "%s %s", key_marker.len ? key_marker.buf : "",
			    id_marker.len ? id_marker.buf : "");
		if (s3_parse_uploads(res.body.buf, res.body.len, &list, &nl,
				     &key_marker, &id_marker, &truncated, e) < 0) {
			err_wrap(e, "s3 GET '%s'", bucket);
			http_response_release(&res);
			goto out;
		}
		strbuf_reset(&next);
		strbuf_addf(&next, "%s %s", key_marker.len ? key_marker.buf : "",
			    id_marker.len ? id_marker.buf : "");
		/* a page that repeats its markers would be asked for forever */
		if (truncated && key_marker.len && !strcmp(prev.buf, next.buf)) {
			err_set(e, "s3 GET '%s': the upload listing does not advance "
				"(the same markers again)", bucket);
			http_response_release(&res);
			goto out;
		}
		http_response_release(&res);
		if (!truncated || !key_marker.len)
			break;
	}
	*out = list;
	*n = nl;
	list = NULL;
	ret = 0;
out:
	s3_upload_info_free(list, nl);
	strbuf_release(&key_marker);
	strbuf_release(&id_marker);
	strbuf_release(&prev);
	strbuf_release(&next);
	return ret;
}

/* Fill buf from read() until full or the end: bytes read, or -1. */
static long long s3_fill(long long (*rd)(void *, size_t, void *), void *ud,
			 char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		long long n = rd(buf + got, len - got, ud);

		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (long long)got;
}

size_t s3_part_size(size_t base, long long size_hint, size_t parts_done)
{
	size_t part = base ? base : S3_DEFAULT_PART;

	if (part < S3_MIN_PART)
		part = S3_MIN_PART; /* S3 refuses smaller parts but the last */
	/* A known size picks a part size that fits from the start. */
	while (size_hint > 0 &&
	       (unsigned long long)size_hint / part >= S3_MAX_PARTS &&
	       part < S3_MAX_PART)
		part *= 2;
	/* Unknown length: every 1000 parts, parts twice the size, so that
	 * 10,000 parts hold more than S3's 5 TiB object limit. */
	for (size_t k = parts_done / 1000; k > 0 && part < S3_MAX_PART; k--)
		part *= 2;
	return part < S3_MAX_PART ? part : (size_t)S3_MAX_PART;
}

int s3_upload(struct s3 *s, const char *bucket, const char *key,
	      long long (*rd)(void *buf, size_t len, void *ud), void *ud,
	      long long size_hint, const struct s3_put_options *opt,
	      int *exists, struct err *e)
{
	size_t part = s3_part_size(s->part_size, size_hint, 0);
	struct s3_part *parts = NULL;
	char *upload_id = NULL;
	char *buf = NULL;
	size_t nparts = 0;
	long long n;
	int ret = -1;

	if (exists)
		*exists = 0;
	buf = malloc(part);
	if (!buf)
		return err_set(e, "out of memory for a %zu-byte part", part);

	n = s3_fill(rd, ud, buf, part);
	if (n < 0) {
		err_set(e, "s3 PUT '%s/%s': cannot read the data to upload",
			bucket, key);
		goto out;
	}
	if ((size_t)n < part) {
		/* It fits in one part: one PUT, retried from memory. */
		ret = s3_put_buffer(s, bucket, key, buf, (size_t)n, opt, exists, e);
		goto out;
	}

	if (s3_multipart_create(s, bucket, key, opt, &upload_id, e) < 0)
		goto out;
	parts = calloc(S3_MAX_PARTS, sizeof(*parts));
	if (!parts) {
		err_set(e, "out of memory");
		goto abort;
	}
	for (;;) {
		if (nparts >= S3_MAX_PARTS) {
			err_set(e, "s3 PUT '%s/%s': more than %d parts", bucket,
				key, S3_MAX_PARTS);
			goto abort;
		}
		if (s3_multipart_part(s, bucket, key, upload_id, (int)nparts + 1,
				      buf, (size_t)n, &parts[nparts], e) < 0)
			goto abort;
		nparts++;
		if ((size_t)n < part)
			break; /* the short last part */
		if (s3_part_size(s->part_size, size_hint, nparts) > part) {
			size_t next = s3_part_size(s->part_size, size_hint, nparts);
			char *bigger = realloc(buf, next);

			if (!bigger) {
				err_set(e, "out of memory for a %zu-byte part", next);
				goto abort;
			}
			buf = bigger;
			part = next;
		}
		n = s3_fill(rd, ud, buf, part);
		if (n < 0) {
			err_set(e, "s3 PUT '%s/%s': cannot read the data to upload",
				bucket, key);
			goto abort;
		}
		if (n == 0)
			break;
	}
	if (s3_multipart_complete(s, bucket, key, upload_id, parts, nparts,
				  opt, exists, e) < 0)
		goto abort;
	ret = 0;
	goto out;
abort: {
		struct err ae;
		struct strbuf m = STRBUF_INIT;

		/* Never leave an open upload behind (its parts cost money). */
		if (s3_multipart_abort(s, bucket, key, upload_id, &ae) < 0) {
			strbuf_addf(&m, "%s (and aborting the upload failed: %s)",
				    e->msg, ae.msg);
			err_set(e, "%s", m.buf);
			strbuf_release(&m);
		}
	}
out:
	free(parts);
	free(upload_id);
	free(buf);
	return ret;
}

/* ---- listing and deleting ------------------------------------------- */

void s3_list_release(struct s3_list *l)
{
	for (size_t i = 0; l->objects && i < l->n; i++)
		s3_object_release(&l->objects[i]);
	free(l->objects);
	free(l->next_token);
	memset(l, 0, sizeof(*l));
}

int s3_list_page(struct s3 *s, const char *bucket, const char *prefix,
		 const char *token, int max_keys, struct s3_list *l,
		 struct err *e)
{
	char mk[16];
	struct sigv4_param q[5] = {
		{ "list-type", "2" }, { "encoding-type", "url" },
		{ "max-keys", mk }, { "prefix", prefix ? prefix : "" },
	};
	struct s3_call c = {
		.method = "GET", .bucket = bucket, .query = q, .nquery = 4,
	};
	struct http_response res;
	int ret = -1;

	memset(l, 0, sizeof(*l));
	snprintf(mk, sizeof(mk), "%d", max_keys > 0 ? max_keys : 1000);
	if (token)
		q[c.nquery++] = (struct sigv4_param){ "continuation-token", token };
	http_response_init(&res);
	if (s3_do(s, &c, &res, e) < 0)
		goto out;
	if (!s3_ok(res.status)) {
		s3_fail(e, "GET", bucket, NULL, &res);
		goto out;
	}
	if (s3_parse_list(res.body.buf, res.body.len, l, e) < 0) {
		err_wrap(e, "s3 GET '%s'", bucket);
		goto out;
	}
	/* a page that hands back its own token would be asked for forever */
	if (token && l->next_token && !strcmp(token, l->next_token)) {
		err_set(e, "s3 GET '%s': the listing does not advance (the same "
			"continuation token again)", bucket);
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		s3_list_release(l);
	http_response_release(&res);
	return ret;
}

static int s3_delete_batch(struct s3 *s, const char *bucket,
			   const char *const *keys, size_t n,
			   struct strbuf *failed, size_t *nfailed,
			   struct err *e)
{
	struct sigv4_param q[] = { { "delete", NULL } };
	struct s3_call c = {
		.method = "POST", .bucket = bucket, .query = q, .nquery = 1,
		.content_type = "application/xml",
	};
	struct strbuf body = STRBUF_INIT;
	struct http_response res;
	unsigned char sum[crypto_hash_sha256_BYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES,
					   sodium_base64_VARIANT_ORIGINAL)];
	int ret = -1;

	http_response_init(&res);
	strbuf_addstr(&body, "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>");
	for (size_t i = 0; i < n; i++) {
		strbuf_addstr(&body, "<Object><Key>");
		s3_xml_escape(&body, keys[i]);
		strbuf_addstr(&body, "</Key></Object>");
	}
	if (strbuf_addstr(&body, "</Delete>") < 0) {
		err_set(e, "out of memory");
		goto out;
	}
	/* S3 wants a checksum of the body of a DeleteObjects. */
	crypto_hash_sha256(sum, (unsigned char *)body.buf, body.len);
	sodium_bin2base64(b64, sizeof(b64), sum, sizeof(sum),
			  sodium_base64_VARIANT_ORIGINAL);
	c.checksum_sha256 = b64;
	c.body = body.buf;
	c.body_len = body.len;
	if (s3_do(s, &c, &res, e) < 0)
		goto out;
	if (!s3_ok(res.status)) {
		s3_fail(e, "POST", bucket, NULL, &res);
		goto out;
	}
	s3_parse_delete_result(res.body.buf, res.body.len, failed, nfailed);
	ret = 0;
out:
	strbuf_release(&body);
	http_response_release(&res);
	return ret;
}

int s3_delete(struct s3 *s, const char *bucket, const char *const *keys,
	      size_t n, struct err *e)
{
	struct strbuf failed = STRBUF_INIT;
	size_t nfailed = 0;
	int ret = -1;

	for (size_t i = 0; i < n; i += 1000) {
		size_t batch = n - i < 1000 ? n - i : 1000;

		if (s3_delete_batch(s, bucket, keys + i, batch, &failed,
				    &nfailed, e) < 0)
			goto out;
	}
	if (nfailed) {
		err_set(e, "s3 POST '%s': %zu of %zu keys not deleted: %s%s",
			bucket, nfailed, n, failed.buf, nfailed > 5 ? ", ..." : "");
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&failed);
	return ret;
}
