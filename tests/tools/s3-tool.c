/*
 * s3-tool: src/s3, src/sigv4 and the streaming side of src/http driven
 * from the shell tests, so that no unfinished user command ships (the
 * backup commands are the user surface). Settings from the environment as
 * s3_init() reads them. Errors: "s3-tool: MESSAGE" on stderr, exit 1;
 * exit 3 when If-None-Match found the key there.
 *
 *   s3-tool put [--part-size N] [--if-none-match] [--fail-after N] B K FILE|-
 *   s3-tool get B K                 the object on stdout
 *   s3-tool head B K                "SIZE ETAG", or "absent"
 *   s3-tool list [--max-keys N] B [PREFIX]   keys, one a line; "pages N" on stderr
 *   s3-tool mb B                    creates bucket B
 *   s3-tool delete B K...
 *   s3-tool uploads B [PREFIX]      open multipart uploads: "KEY\tID"
 *   s3-tool mpu-start B K           starts an upload and leaves it open
 *   s3-tool sign FILE.json          Authorization of each case, one a line
 *   s3-tool http-put [--chunked|--replayable|--memory] [--timeout-ms N] URL FILE
 *                                   the answer's body on stdout
 *   s3-tool http-get [--fail-at N] URL   the 2xx body on stdout; "status N
 *                                   streamed N attempts N" on stderr
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "http.h"
#include "log.h"
#include "s3.h"
#include "sigv4.h"

static void log_line(const char *line)
{
	fprintf(stderr, "%s\n", line);
}

static int fail(const struct err *e)
{
	fprintf(stderr, "s3-tool: %s\n", e->msg);
	return 1;
}

struct src {
	int fd;
	long long fail_after;		/* -1: never */
	long long done;
	const char *mem;		/* replayable: the file in memory */
	size_t mem_len;
};

static long long src_read(void *buf, size_t len, void *ud)
{
	struct src *s = ud;
	ssize_t n;

	if (s->mem) {
		size_t left = s->mem_len - (size_t)s->done;

		n = (ssize_t)(len < left ? len : left);
		memcpy(buf, s->mem + s->done, (size_t)n);
		s->done += n;
		return n;
	}
	if (s->fail_after >= 0 && s->done >= s->fail_after)
		return -1;
	if (s->fail_after >= 0 && (long long)len > s->fail_after - s->done)
		len = (size_t)(s->fail_after - s->done);
	n = read(s->fd, buf, len);
	if (n > 0)
		s->done += n;
	return n < 0 ? -1 : n;
}

static int src_rewind(void *ud)
{
	struct src *s = ud;

	s->done = 0;
	return 0;
}

static int out_write(const void *data, size_t len, void *ud)
{
	long long *fail_at = ud;

	if (*fail_at >= 0) {
		if ((long long)len > *fail_at)
			return -1;
		*fail_at -= (long long)len;
	}
	return fwrite(data, 1, len, stdout) == len ? 0 : -1;
}

static int cmd_sign(const char *file)
{
	json_error_t jerr;
	json_t *cases = json_load_file(file, 0, &jerr);
	size_t i;
	json_t *c;

	if (!cases) {
		fprintf(stderr, "s3-tool: %s: %s\n", file, jerr.text);
		return 1;
	}
	json_array_foreach(cases, i, c) {
		struct sigv4_credentials cred = {
			json_string_value(json_object_get(c, "access_key")),
			json_string_value(json_object_get(c, "secret_key")),
			json_string_value(json_object_get(c, "session_token")),
			json_string_value(json_object_get(c, "region")), "s3",
		};
		json_t *q = json_object_get(c, "query");
		json_t *h = json_object_get(c, "headers");
		struct sigv4_param qp[32];
		struct sigv4_header hp[32];
		struct sigv4_request r = {
			.method = json_string_value(json_object_get(c, "method")),
			.host = json_string_value(json_object_get(c, "host")),
			.path = json_string_value(json_object_get(c, "path")),
			.amz_date = json_string_value(json_object_get(c, "date")),
			.query = qp, .headers = hp,
		};
		struct sigv4_result res;
		struct err e;
		char hash[65];
		const char *k;
		json_t *v;
		size_t j;

		json_array_foreach(q, j, v) {
			qp[r.nquery].name = json_string_value(json_array_get(v, 0));
			qp[r.nquery++].value = json_string_value(json_array_get(v, 1));
		}
		json_object_foreach(h, k, v) {
			hp[r.nheaders].name = k;
			hp[r.nheaders++].value = json_string_value(v);
		}
		/* As src/s3 does: the payload line is also a signed header. */
		if (json_is_true(json_object_get(c, "unsigned"))) {
			strcpy(hash, SIGV4_UNSIGNED_PAYLOAD);
		} else {
			const char *body = json_string_value(json_object_get(c, "body"));

			sigv4_payload_hash(hash, body ? body : "", body ? strlen(body) : 0);
		}
		r.payload_hash = hash;
		hp[r.nheaders].name = "x-amz-content-sha256";
		hp[r.nheaders++].value = hash;
		sigv4_result_init(&res);
		if (sigv4_sign(&cred, &r, &res, &e) < 0) {
			json_decref(cases);
			return fail(&e);
		}
		printf("%s\n", res.authorization.buf);
		sigv4_result_release(&res);
	}
	json_decref(cases);
	return 0;
}

static int cmd_http(int argc, char **argv)
{
	struct http_request req = { 0 };
	struct http_response res;
	struct src src = { .fail_after = -1 };
	struct strbuf file = STRBUF_INIT;
	long long fail_at = -1;
	int chunked = 0, replayable = 0, memory = 0;
	int put = !strcmp(argv[0], "http-put");
	int i, rc = 0;
	struct err e;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--chunked"))
			chunked = 1;
		else if (!strcmp(argv[i], "--replayable"))
			replayable = 1;
		else if (!strcmp(argv[i], "--fail-at") && i + 1 < argc)
			fail_at = atoll(argv[++i]);
		else if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc)
			req.timeout_ms = atol(argv[++i]);
		else if (!strcmp(argv[i], "--memory"))
			memory = 1;
	}
	if (i >= argc)
		return 2;
	req.url = argv[i];
	req.max_attempts = 4;
	if (put) {
		if (i + 1 >= argc)
			return 2;
		src.fd = open(argv[i + 1], O_RDONLY);
		if (src.fd < 0) {
			perror(argv[i + 1]);
			return 1;
		}
		req.method = "PUT";
		if (memory) {
			/* A plain in-memory body, as src/s3 sends a part. */
			if (strbuf_read_fd(&file, src.fd, &e) < 0)
				return fail(&e);
			req.body = file.buf ? file.buf : "";
			req.body_len = file.len;
			goto send;
		}
		req.body_read = src_read;
		req.body_ud = &src;
		req.body_size = -1;
		if (!chunked) {
			off_t end = lseek(src.fd, 0, SEEK_END);

			lseek(src.fd, 0, SEEK_SET);
			req.body_size = end;
		}
		if (replayable) {
			/* The caller holds the body in memory, as s3 does a part. */
			if (strbuf_read_fd(&file, src.fd, &e) < 0)
				return fail(&e);
			src.mem = file.buf ? file.buf : "";
			src.mem_len = file.len;
			req.body_rewind = src_rewind;
		}
	} else {
		req.on_body = out_write;
		req.on_body_ud = &fail_at;
	}
send:
	http_response_init(&res);
	if (http_do(&req, &res, &e) < 0) {
		rc = fail(&e);
	} else {
		fwrite(res.body.buf ? res.body.buf : "", 1, res.body.len, stdout);
	}
	fprintf(stderr, "status %ld streamed %lld attempts %d\n", res.status,
		res.streamed, res.attempts);
	http_response_release(&res);
	strbuf_release(&file);
	return rc;
}

int main(int argc, char **argv)
{
	struct s3 s;
	struct err e;
	const char *cmd;
	int rc = 0;

	if (getenv("S3_TOOL_VERBOSE"))
		log_set_sink(log_line, 1);
	if (argc < 2)
		return 2;
	cmd = argv[1];
	if (!strcmp(cmd, "sign"))
		return argc == 3 ? cmd_sign(argv[2]) : 2;
	if (!strncmp(cmd, "http-", 5))
		return cmd_http(argc - 1, argv + 1);
	if (s3_init(&s, &e) < 0)
		return fail(&e);
	argc -= 2;
	argv += 2;

	if (!strcmp(cmd, "put")) {
		struct s3_put_options opt = { 0 };
		struct src src = { .fail_after = -1 };
		int exists = 0;

		while (argc && argv[0][0] == '-' && argv[0][1]) {
			if (!strcmp(argv[0], "--part-size") && argc > 1) {
				s.part_size = (size_t)atoll(argv[1]);
				argc--, argv++;
			} else if (!strcmp(argv[0], "--fail-after") && argc > 1) {
				src.fail_after = atoll(argv[1]);
				argc--, argv++;
			} else if (!strcmp(argv[0], "--if-none-match")) {
				opt.if_none_match = 1;
			}
			argc--, argv++;
		}
		if (argc != 3)
			return 2;
		src.fd = strcmp(argv[2], "-") ? open(argv[2], O_RDONLY) : 0;
		if (src.fd < 0) {
			perror(argv[2]);
			return 1;
		}
		if (s3_upload(&s, argv[0], argv[1], src_read, &src, -1, &opt,
			      &exists, &e) < 0)
			rc = exists ? (fail(&e), 3) : fail(&e);
	} else if (!strcmp(cmd, "get") && argc == 2) {
		struct s3_object o = { 0 };
		long long never = -1;

		if (s3_get(&s, argv[0], argv[1], out_write, &never, &o, &e) < 0)
			rc = fail(&e);
		s3_object_release(&o);
		if (fflush(stdout) != 0)
			rc = 1;
	} else if (!strcmp(cmd, "head") && argc == 2) {
		struct s3_object o = { 0 };
		int found;

		if (s3_head(&s, argv[0], argv[1], &found, &o, &e) < 0)
			rc = fail(&e);
		else if (found)
			printf("%lld %s\n", o.size, o.etag);
		else
			printf("absent\n");
		s3_object_release(&o);
	} else if (!strcmp(cmd, "list") && argc >= 1) {
		struct s3_list l;
		char *token = NULL;
		int max = 0, pages = 0;

		if (argc > 2 && !strcmp(argv[0], "--max-keys")) {
			max = atoi(argv[1]);
			argc -= 2, argv += 2;
		}
		do {
			if (s3_list_page(&s, argv[0], argc > 1 ? argv[1] : "",
					 token, max, &l, &e) < 0) {
				rc = fail(&e);
				break;
			}
			pages++;
			for (size_t i = 0; i < l.n; i++)
				printf("%s\t%lld\n", l.objects[i].key, l.objects[i].size);
			free(token);
			token = l.next_token ? strdup(l.next_token) : NULL;
			s3_list_release(&l);
		} while (token);
		free(token);
		fprintf(stderr, "pages %d\n", pages);
	} else if (!strcmp(cmd, "delete") && argc >= 1) {
		if (s3_delete(&s, argv[0], (const char *const *)argv + 1,
			      (size_t)argc - 1, &e) < 0)
			rc = fail(&e);
	} else if (!strcmp(cmd, "uploads") && argc >= 1) {
		struct s3_upload_info *u;
		size_t n;

		if (s3_multipart_list(&s, argv[0], argc > 1 ? argv[1] : "", &u, &n,
				      &e) < 0) {
			rc = fail(&e);
		} else {
			for (size_t i = 0; i < n; i++)
				printf("%s\t%s\n", u[i].key, u[i].upload_id);
			s3_upload_info_free(u, n);
		}
	} else if (!strcmp(cmd, "mb") && argc == 1) {
		if (s3_bucket_create(&s, argv[0], &e) < 0)
			rc = fail(&e);
	} else if (!strcmp(cmd, "mpu-start") && argc == 2) {
		char *id;

		if (s3_multipart_create(&s, argv[0], argv[1], NULL, &id, &e) < 0)
			rc = fail(&e);
		else
			printf("%s\n", id);
		free(id);
	} else {
		rc = 2;
	}
	s3_release(&s);
	return rc;
}
