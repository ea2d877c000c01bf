/*
 * saasctl checks sync|list: Healthchecks checks as code. saasctl.yaml
 * (healthchecks.checks) lists them; sync makes the project match through
 * the Management API v3, matching checks by slug.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc-common.h"

/* The fields sync manages, in the order a plan shows them. */
static const char *const managed[] = { "name", "tags", "desc", "schedule",
				       "tz", "timeout", "grace", NULL };

/* 7200 -> "2h", 5400 -> "1h30m", 90 -> "1m30s" */
static void fmt_secs(struct strbuf *out, json_int_t s)
{
	static const struct { long secs; char unit; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' },
	};

	if (s <= 0) {
		strbuf_addf(out, "%lld", (long long)s);
		return;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (s >= units[i].secs) {
			strbuf_addf(out, "%lld%c", (long long)(s / units[i].secs),
				    units[i].unit);
			s %= units[i].secs;
		}
}

static void fmt_value(struct strbuf *out, const char *field, json_t *v)
{
	if (!v || json_is_null(v))
		strbuf_addstr(out, "(none)");
	else if (json_is_integer(v) && (!strcmp(field, "timeout") ||
					  !strcmp(field, "grace")))
		fmt_secs(out, json_integer_value(v));
	else if (json_is_string(v))
		strbuf_addf(out, "\"%s\"", json_string_value(v));
	else {
		char *s = json_dumps(v, JSON_ENCODE_ANY);

		strbuf_addstr(out, s ? s : "?");
		free(s);
	}
}

/* The fields of want that differ from have: {"grace": [old, new]}. */
static json_t *diff_check(json_t *want, json_t *have)
{
	json_t *changes = json_object();

	for (int i = 0; managed[i]; i++) {
		json_t *w = json_object_get(want, managed[i]);
		json_t *h = json_object_get(have, managed[i]);

		if (!w)
			continue; /* not managed by saasctl.yaml */
		/* A cron check has no timeout and vice versa: switching
		 * kind shows up on the field that is set. */
		if (!h || !json_equal(w, h))
			json_object_set_new(changes, managed[i],
					    json_pack("[OO]", h ? h : json_null(), w));
	}
	return changes;
}

static json_t *find_by_slug(json_t *checks, const char *slug, int *count)
{
	json_t *found = NULL, *c;
	size_t i;

	*count = 0;
	json_array_foreach(checks, i, c) {
		const char *s = json_string_value(json_object_get(c, "slug"));

		if (s && !strcmp(s, slug)) {
			found = found ? found : c;
			(*count)++;
		}
	}
	return found;
}

static void print_action(struct cmd_ctx *ctx, const char *verb,
			 const char *name, json_t *changes)
{
	struct strbuf line = STRBUF_INIT;
	const char *field;
	json_t *pair;
	int first = 1;

	if (ctx->json)
		return;
	strbuf_init(&line, 0);
	strbuf_addf(&line, "%-9s %s", verb, name);
	if (changes && json_object_size(changes)) {
		strbuf_addstr(&line, ":");
		for (int i = 0; managed[i]; i++) {
			field = managed[i];
			pair = json_object_get(changes, field);
			if (!pair)
				continue;
			strbuf_addf(&line, "%s %s ", first ? "" : ",", field);
			first = 0;
			if (!strcmp(verb, "create") ||
			    !strcmp(verb, "would create")) {
				fmt_value(&line, field, json_array_get(pair, 1));
				continue;
			}
			fmt_value(&line, field, json_array_get(pair, 0));
			strbuf_addstr(&line, " -> ");
			fmt_value(&line, field, json_array_get(pair, 1));
		}
	}
	printf("%s\n", line.buf);
	strbuf_release(&line);
}

static int cmd_checks_sync(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct monorepo *repo = NULL;
	struct hc hc = { 0 };
	struct err e = { { 0 } };
	json_t *want = NULL, *reply = NULL, *have, *report = NULL, *spec;
	int dry_run = 0, prune = 0, status = EXIT_FAIL, have_hc = 0;
	int n_create = 0, n_update = 0, n_same = 0, n_delete = 0;
	size_t i;

	for (int k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--dry-run"))
			dry_run = 1;
		else if (!strcmp(argv[k], "--prune"))
			prune = 1;
		else
			return cmd_usage_error(ctx, "unexpected argument '%s'",
					       argv[k]);
	}
	if (hc_cmd_open(ctx, &hc, &repo, 1) != 0)
		return EXIT_FAIL;
	have_hc = 1;
	if (hc_config_checks(repo, &want, &e) < 0) {
		status = cmd_fail_err(ctx, &e);
		goto out;
	}
	if (!json_array_size(want) && !prune) {
		cmd_info(ctx, "saasctl: checks sync: saasctl.yaml lists no checks (healthchecks.checks)");
		status = EXIT_OK;
		goto out;
	}
	if (hc_api(&hc, "GET", "checks/", NULL, &reply, &e) < 0) {
		status = cmd_fail_err(ctx, &e);
		goto out;
	}
	have = json_object_get(reply, "checks");
	if (!json_is_array(have)) {
		status = cmd_fail(ctx, "the list of checks from '%s' has no \"checks\" array",
				  hc.api_url);
		goto out;
	}
	report = json_array();

	json_array_foreach(want, i, spec) {
		const char *name = json_string_value(json_object_get(spec, "name"));
		const char *slug = json_string_value(json_object_get(spec, "slug"));
		int count;
		json_t *cur = find_by_slug(have, slug, &count);
		json_t *changes, *entry;
		const char *verb;

		if (count > 1) {
			status = cmd_fail(ctx, "check '%s': %d checks of the project have the slug '%s'; remove the extra ones first",
					  name, count, slug);
			goto out;
		}
		if (cur) {
			changes = diff_check(spec, cur);
		} else {
			json_t *none = json_object();

			changes = diff_check(spec, none);
			json_decref(none);
		}
		if (!cur)
			verb = "create";
		else if (json_object_size(changes))
			verb = "update";
		else
			verb = "unchanged";
		entry = json_pack("{s:s, s:s, s:s, s:O}", "action", verb,
				  "name", name, "slug", slug, "changes", changes);
		json_array_append_new(report, entry);
		if (!dry_run && !strcmp(verb, "create")) {
			if (hc_api(&hc, "POST", "checks/", spec, NULL, &e) < 0) {
				json_decref(changes);
				err_wrap(&e, "cannot create check '%s'", name);
				status = cmd_fail_err(ctx, &e);
				goto out;
			}
		} else if (!dry_run && !strcmp(verb, "update")) {
			const char *uuid = json_string_value(json_object_get(cur, "uuid"));
			json_t *body = json_object();
			struct strbuf path = STRBUF_INIT;
			const char *field;
			json_t *pair;
			int r;

			if (!uuid || !hc_is_uuid(uuid)) {
				json_decref(changes);
				json_decref(body);
				status = cmd_fail(ctx, "check '%s': the API did not give its uuid (a read-only key?)",
						  name);
				goto out;
			}
			json_object_foreach(changes, field, pair)
				json_object_set(body, field, json_array_get(pair, 1));
			strbuf_init(&path, 0);
			strbuf_addf(&path, "checks/%s", uuid);
			r = hc_api(&hc, "POST", path.buf, body, NULL, &e);
			strbuf_release(&path);
			json_decref(body);
			if (r < 0) {
				json_decref(changes);
				err_wrap(&e, "cannot update check '%s'", name);
				status = cmd_fail_err(ctx, &e);
				goto out;
			}
		}
		if (!strcmp(verb, "create"))
			n_create++;
		else if (!strcmp(verb, "update"))
			n_update++;
		else
			n_same++;
		print_action(ctx, dry_run && strcmp(verb, "unchanged")
			     ? (!strcmp(verb, "create") ? "would create" : "would update")
			     : verb, name, changes);
		json_decref(changes);
	}

	if (prune) {
		json_array_foreach(have, i, spec) {
			const char *slug = json_string_value(json_object_get(spec, "slug"));
			const char *name = json_string_value(json_object_get(spec, "name"));
			const char *uuid = json_string_value(json_object_get(spec, "uuid"));
			int count;

			if (slug && *slug && find_by_slug(want, slug, &count))
				continue;
			if (!name || !*name)
				name = slug && *slug ? slug : uuid;
			json_array_append_new(report, json_pack("{s:s, s:s?, s:s?, s:s?}",
				"action", "delete", "name", name, "slug", slug,
				"uuid", uuid));
			if (!dry_run) {
				struct strbuf path = STRBUF_INIT;
				int r;

				if (!uuid || !hc_is_uuid(uuid)) {
					status = cmd_fail(ctx, "check '%s': the API did not give its uuid (a read-only key?)",
							  name);
					goto out;
				}
				strbuf_init(&path, 0);
				strbuf_addf(&path, "checks/%s", uuid);
				r = hc_api(&hc, "DELETE", path.buf, NULL, NULL, &e);
				strbuf_release(&path);
				if (r < 0) {
					err_wrap(&e, "cannot delete check '%s'", name);
					status = cmd_fail_err(ctx, &e);
					goto out;
				}
			}
			n_delete++;
			print_action(ctx, dry_run ? "would delete" : "delete", name,
				     NULL);
		}
	}

	if (ctx->json) {
		json_t *doc = json_pack("{s:b, s:O}", "dry_run", dry_run,
					"checks", report);
		char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		printf("%s\n", s);
		free(s);
		json_decref(doc);
	} else {
		char del[32] = "";

		fflush(stdout); /* the plan, then the count */

		if (prune)
			snprintf(del, sizeof(del), dry_run ? ", %d to delete"
							   : ", %d deleted",
				 n_delete);
		if (dry_run)
			cmd_info(ctx, "dry run: %d to create, %d to update, %d unchanged%s; nothing was changed",
				 n_create, n_update, n_same, del);
		else
			cmd_info(ctx, "%d created, %d updated, %d unchanged%s",
				 n_create, n_update, n_same, del);
	}
	status = EXIT_OK;
out:
	json_decref(want);
	json_decref(reply);
	json_decref(report);
	if (have_hc)
		hc_release(&hc);
	monorepo_free(repo);
	return status;
}

/* "2026-11-25T10:00:03+00:00" -> "2026-11-25 10:00:03" (UTC) */
static void fmt_time(char *out, size_t len, json_t *v)
{
	const char *s = json_string_value(v);

	if (!s) {
		snprintf(out, len, "-");
		return;
	}
	snprintf(out, len, "%.19s", s);
	if (strlen(out) > 10 && out[10] == 'T')
		out[10] = ' ';
}

static int cmd_checks_list(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct monorepo *repo = NULL;
	struct hc hc = { 0 };
	struct err e = { { 0 } };
	json_t *reply = NULL, *checks, *c;
	int status = EXIT_FAIL;
	size_t i;

	if (argc > 1)
		return cmd_usage_error(ctx, "unexpected argument '%s'", argv[1]);
	if (hc_cmd_open(ctx, &hc, &repo, 0) != 0)
		return EXIT_FAIL;
	if (hc_api(&hc, "GET", "checks/", NULL, &reply, &e) < 0) {
		status = cmd_fail_err(ctx, &e);
		goto out;
	}
	checks = json_object_get(reply, "checks");
	if (!json_is_array(checks)) {
		status = cmd_fail(ctx, "the list of checks from '%s' has no \"checks\" array",
				  hc.api_url);
		goto out;
	}
	if (ctx->json) {
		json_t *out = json_array();

		json_array_foreach(checks, i, c)
			json_array_append_new(out, json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?}",
				"name", json_object_get(c, "name"),
				"slug", json_object_get(c, "slug"),
				"uuid", json_object_get(c, "uuid"),
				"status", json_object_get(c, "status"),
				"last_ping", json_object_get(c, "last_ping"),
				"next_ping", json_object_get(c, "next_ping"),
				"schedule", json_object_get(c, "schedule"),
				"tz", json_object_get(c, "tz"),
				"timeout", json_object_get(c, "timeout"),
				"grace", json_object_get(c, "grace")));
		char *s = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		printf("%s\n", s);
		free(s);
		json_decref(out);
	} else {
		printf("%-24s %-8s %-19s  %-19s  %s\n", "NAME", "STATUS",
		       "LAST PING", "NEXT PING", "SCHEDULE");
		json_array_foreach(checks, i, c) {
			char last[32], next[32];
			struct strbuf sched = STRBUF_INIT;
			const char *name = json_string_value(json_object_get(c, "name"));
			const char *st = json_string_value(json_object_get(c, "status"));

			strbuf_init(&sched, 0);
			fmt_time(last, sizeof(last), json_object_get(c, "last_ping"));
			fmt_time(next, sizeof(next), json_object_get(c, "next_ping"));
			if (json_is_string(json_object_get(c, "schedule")))
				strbuf_addf(&sched, "%s %s",
					    json_string_value(json_object_get(c, "schedule")),
					    json_string_value(json_object_get(c, "tz")) ?: "UTC");
			else if (json_is_integer(json_object_get(c, "timeout"))) {
				strbuf_addstr(&sched, "every ");
				fmt_secs(&sched, json_integer_value(json_object_get(c, "timeout")));
			}
			if (json_is_integer(json_object_get(c, "grace"))) {
				strbuf_addstr(&sched, ", grace ");
				fmt_secs(&sched, json_integer_value(json_object_get(c, "grace")));
			}
			printf("%-24s %-8s %-19s  %-19s  %s\n", name && *name ? name : "-",
			       st ? st : "-", last, next, sched.buf);
			strbuf_release(&sched);
		}
	}
	status = EXIT_OK;
out:
	json_decref(reply);
	hc_release(&hc);
	monorepo_free(repo);
	return status;
}

const struct cmd_entry cmd_checks_sync_entry = {
	.name = "checks sync",
	.usage = "[--dry-run] [--prune]",
	.summary = "create, update and prune Healthchecks checks to match saasctl.yaml",
	.exec = cmd_checks_sync,
	.secrets = 1,
};

const struct cmd_entry cmd_checks_list_entry = {
	.name = "checks list",
	.usage = "[--json]",
	.summary = "show the checks: status, last ping and next expected ping",
	.exec = cmd_checks_list,
	.secrets = 1,
};
