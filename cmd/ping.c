/*
 * saasctl ping: one ping to Healthchecks, for CI steps and scripts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hc-common.h"
#include "../src/log.h"

int hc_cmd_open(struct cmd_ctx *ctx, struct hc *hc, struct monorepo **repo,
		int need_repo)
{
	struct err e = { { 0 } };

	*repo = NULL;
	if (need_repo) {
		if (monorepo_open(repo, ctx->dir, &e) < 0)
			return cmd_fail_err(ctx, &e);
	} else if (monorepo_open_optional(repo, ctx->dir, &e) < 0) {
		/* A broken saasctl.yaml is worth a word, and -C DIR names
		 * a monorepo that should be there. */
		cmd_warn(ctx, "%s", e.msg);
	} else if (!*repo && ctx->dir) {
		cmd_warn(ctx, "'%s' is not inside an infra monorepo; using the environment",
			 ctx->dir);
	} else if (!*repo) {
		/* No monorepo at all is the normal case of a cron job. */
		log_debug("hc: no monorepo; using the environment");
	}
	if (hc_init(hc, *repo, &e) < 0) {
		monorepo_free(*repo);
		*repo = NULL;
		return cmd_fail_err(ctx, &e);
	}
	return 0;
}

/* Read up to the tail of a file or stdin: a 10 MB log costs 1 MiB. */
static int read_tail(int fd, struct hc_tail *tail, struct err *e)
{
	char buf[65536];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_errno(e, "read failed");
		if (n == 0)
			return 0;
		hc_tail_add(tail, buf, (size_t)n);
	}
}

static int parse_signal(const char *s, struct hc_ping *p)
{
	char *end;
	long v;

	if (!strcmp(s, "start"))
		p->signal = HC_START;
	else if (!strcmp(s, "success"))
		p->signal = HC_SUCCESS;
	else if (!strcmp(s, "fail"))
		p->signal = HC_FAIL;
	else if (!strcmp(s, "log"))
		p->signal = HC_LOG;
	else {
		v = strtol(s, &end, 10);
		if (end == s || *end || v < 0 || v > 255)
			return -1;
		p->signal = HC_EXIT;
		p->exit_code = (int)v;
	}
	return 0;
}

static int cmd_ping(struct cmd_ctx *ctx, int argc, char **argv)
{
	const char *check = NULL, *kind = NULL, *body_file = NULL, *rid = NULL;
	int body_stdin = 0, create = 0, soft = 0, status = EXIT_FAIL, fd = -1;
	struct hc_ping p = { .signal = HC_SUCCESS };
	struct hc hc = { 0 };
	struct hc_tail tail = { 0 };
	struct strbuf body = STRBUF_INIT;
	struct monorepo *repo = NULL;
	struct err e = { { 0 } };
	int have_hc = 0;

	strbuf_init(&body, 0);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--body-file") && i + 1 < argc)
			body_file = argv[++i];
		else if (!strncmp(a, "--body-file=", 12))
			body_file = a + 12;
		else if (!strcmp(a, "--body-stdin"))
			body_stdin = 1;
		else if (!strcmp(a, "--rid") && i + 1 < argc)
			rid = argv[++i];
		else if (!strncmp(a, "--rid=", 6))
			rid = a + 6;
		else if (!strcmp(a, "--create"))
			create = 1;
		else if (!strcmp(a, "--soft"))
			soft = 1;
		else if (a[0] == '-' && a[1] && strcmp(a, "--")) {
			status = cmd_usage_error(ctx, "unknown option '%s'", a);
			goto out;
		} else if (!strcmp(a, "--"))
			continue;
		else if (!check)
			check = a;
		else if (!kind)
			kind = a;
		else {
			status = cmd_usage_error(ctx, "unexpected argument '%s'", a);
			goto out;
		}
	}
	if (!check) {
		status = cmd_usage_error(ctx, "missing CHECK");
		goto out;
	}
	if (kind && parse_signal(kind, &p) < 0) {
		status = cmd_usage_error(ctx, "'%s' is not start, success, fail, log or an exit code 0-255",
					 kind);
		goto out;
	}
	if (body_file && body_stdin) {
		status = cmd_usage_error(ctx, "--body-file and --body-stdin exclude each other");
		goto out;
	}
	if (rid && !hc_is_uuid(rid)) {
		status = cmd_usage_error(ctx, "--rid '%s' is not a UUID", rid);
		goto out;
	}
	if (body_file || body_stdin) {
		fd = body_stdin ? STDIN_FILENO
				: open(body_file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			status = cmd_fail(ctx, "cannot open '%s': %s", body_file,
					  strerror(errno));
			goto out;
		}
		if (hc_tail_init(&tail, HC_TAIL_MAX) < 0 ||
		    read_tail(fd, &tail, &e) < 0) {
			err_wrap(&e, "cannot read '%s'",
				 body_stdin ? "stdin" : body_file);
			status = cmd_fail_err(ctx, &e);
			goto out;
		}
		hc_tail_get(&tail, &body);
		p.body = body.buf;
		p.body_len = body.len;
		p.dropped = tail.total - tail.len;
	}
	if (hc_cmd_open(ctx, &hc, &repo, 0) != 0)
		goto out;
	have_hc = 1;
	hc.create = create;
	p.rid = rid;
	if (hc_ping(&hc, check, &p, NULL, &e) < 0) {
		if (soft) {
			cmd_warn(ctx, "%s", e.msg);
			status = EXIT_OK;
		} else {
			status = cmd_fail_err(ctx, &e);
		}
		goto out;
	}
	status = EXIT_OK;
out:
	if (fd > STDIN_FILENO)
		close(fd);
	if (have_hc)
		hc_release(&hc);
	monorepo_free(repo);
	hc_tail_release(&tail);
	strbuf_release(&body);
	return status;
}

const struct cmd_entry cmd_ping_entry = {
	.name = "ping",
	.usage = "CHECK [start|success|fail|log|EXIT-CODE] [--body-file F | --body-stdin] [--rid UUID] [--create] [--soft]",
	.summary = "send one ping to Healthchecks: start, success, fail, log or an exit code",
	.exec = cmd_ping,
	.secrets = 1,
};
