/*
 * saasctl secrets rekey: re-wrap SealedSecrets for a new recipient set,
 * offline (the secret key of one current recipient is enough).
 * saasctl secrets verify: check every SealedSecret of the monorepo without
 * a key (structure, key IDs, recipients against saasctl.yaml), and with -k
 * that every item opens.
 */
#include <dirent.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sodium.h>

#include "cmd.h"
#include "../src/jsonout.h"
#include "../src/keys.h"
#include "../src/log.h"
#include "../src/monorepo.h"
#include "../src/sealed.h"
#include "../src/secret.h"

/* A public key by ID from a pool; NULL when absent. */
static const struct keys_public *pool_find(const struct keys_public *pool,
					   size_t n, const char *hex)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(pool[i].id_hex, hex))
			return &pool[i];
	return NULL;
}

static int cmd_rekey(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "add-recipient", required_argument, NULL, 'A' },
		{ "remove-recipient", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	const char *keyfile = NULL;
	const char **addf = calloc((size_t)argc + 1, sizeof(char *));
	char **remove = calloc((size_t)argc + 1, sizeof(char *));
	struct keys_public *add = NULL, *pool = NULL, *conf = NULL;
	struct sealed_file *files = NULL;
	struct strbuf *outs = NULL;
	struct keys_secret *k = NULL;
	struct monorepo *repo = NULL;
	size_t nadd = 0, nremove = 0, npool = 0, nconf = 0, nfiles = 0;
	int c, status = EXIT_FAIL, *changed = NULL;
	struct err e = { "" };

	if (!addf || !remove)
		abort();
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":k:", opts, NULL)) != -1) {
		switch (c) {
		case 'k': keyfile = optarg; break;
		case 'A': addf[nadd++] = optarg; break;
		case 'R': remove[nremove++] = optarg; break;
		default:
			status = cmd_option_error(ctx, c, argv);
			goto out;
		}
	}
	if (optind >= argc) {
		status = cmd_usage_error(ctx, "which files? give one or more SealedSecret files");
		goto out;
	}
	if (!keyfile) {
		status = cmd_usage_error(ctx, "no key: pass -k KEYFILE, the secret key of a current recipient");
		goto out;
	}
	/* --remove-recipient takes a key ID or a .pub file. */
	for (size_t i = 0; i < nremove; i++) {
		unsigned char id[KEYS_ID_BYTES];
		struct keys_public p;

		if (keys_id_parse(id, remove[i]) == 0) {
			remove[i] = strdup(remove[i]);
			continue;
		}
		if (keys_public_load(&p, remove[i], &e) < 0) {
			err_wrap(&e, "--remove-recipient '%s' is neither a key ID nor a public key file",
				 remove[i]);
			for (size_t j = i; j < nremove; j++)
				remove[j] = NULL;
			goto fail;
		}
		remove[i] = strdup(p.id_hex);
	}
	if (keys_secret_load(&k, keyfile, &e) < 0 ||
	    monorepo_open_optional(&repo, ctx->dir, &e) < 0 ||
	    sealed_recipients_load(NULL, addf, nadd, &add, &nadd, &e) < 0 ||
	    sealed_recipients_load(repo, NULL, 0, &conf, &nconf, &e) < 0)
		goto fail;
	pool = calloc(nadd + nconf + 1, sizeof(*pool));
	if (!pool)
		abort();
	memcpy(pool, add, nadd * sizeof(*pool));
	memcpy(pool + nadd, conf, nconf * sizeof(*pool));
	npool = nadd + nconf;
	pool[npool++] = k->pub;

	nfiles = (size_t)(argc - optind);
	files = calloc(nfiles, sizeof(*files));
	outs = calloc(nfiles, sizeof(*outs));
	changed = calloc(nfiles, sizeof(*changed));
	if (!files || !outs || !changed)
		abort();
	/* Everything is re-wrapped in memory first; files are replaced only
	 * when every item of every file opened. */
	for (size_t f = 0; f < nfiles; f++) {
		const char *path = argv[optind + (int)f];

		if (sealed_file_load(&files[f], path, &e) < 0)
			goto fail;
		if (files[f].nother) {
			err_set(&e, "cannot rekey '%s': it holds documents other than SealedSecrets",
				path);
			goto fail;
		}
		for (size_t i = 0; i < files[f].nsecrets; i++) {
			int r = secret_rekey(&files[f].secrets[i], k, pool,
					     npool, add, nadd, remove, nremove,
					     &e);

			if (r < 0) {
				err_wrap(&e, "'%s'", path);
				goto fail;
			}
			changed[f] |= r;
		}
		/* Edit the file's own bytes: comments and what saasctl does
		 * not model stay as they are. */
		if (changed[f] &&
		    sealed_file_update(&outs[f], &files[f], &e) < 0) {
			err_wrap(&e, "cannot rekey '%s'", path);
			goto fail;
		}
	}
	for (size_t f = 0; f < nfiles; f++) {
		const char *path = argv[optind + (int)f];

		if (!changed[f]) {
			cmd_info(ctx, "%s: recipients unchanged", path);
			continue;
		}
		if (sealed_write_atomic(path, outs[f].buf, outs[f].len, &e) < 0)
			goto fail;
		cmd_info(ctx, "%s: rekeyed for %zu recipient%s", path,
			 files[f].secrets[0].nrecipients,
			 files[f].secrets[0].nrecipients == 1 ? "" : "s");
	}
	status = EXIT_OK;
	goto out;
fail:
	status = cmd_fail_err(ctx, &e);
out:
	for (size_t f = 0; f < nfiles; f++) {
		sealed_file_release(&files[f]);
		strbuf_release(&outs[f]);
	}
	free(files);
	free(outs);
	free(changed);
	for (size_t i = 0; i < nremove; i++)
		free(remove[i]);
	free(remove);
	free(addf);
	free(add);
	free(conf);
	free(pool);
	keys_secret_free(k);
	monorepo_free(repo);
	return status;
}

const struct cmd_entry cmd_secrets_rekey_entry = {
	.name = "secrets rekey",
	.usage = "FILE... -k KEYFILE [--add-recipient PUB] [--remove-recipient ID]",
	.summary = "re-wrap SealedSecrets for added or removed recipients, offline",
	.exec = cmd_rekey,
	.complete = COMPLETE_FILES,
	.secrets = 1,
};

/* ---- verify ---- */

struct verify {
	struct cmd_ctx *ctx;
	const struct keys_secret *k;
	struct keys_public *conf;
	char **conf_paths;
	size_t nconf;
	size_t checked, nproblems, nfiles;
	json_t *problems, *secrets;
	struct jsonout jo;
};

static void problem(struct verify *v, const char *file, unsigned line,
		    const char *secret, const char *item, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void problem(struct verify *v, const char *file, unsigned line,
		    const char *secret, const char *item, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	v->nproblems++;
	if (v->ctx->json) {
		json_t *p = json_pack("{s:o, s:i, s:o}", "file",
				      jsonout_str(&v->jo, file), "line",
				      (int)line, "message", jsonout_str(&v->jo, msg));

		if (secret)
			json_object_set_new(p, "secret", jsonout_str(&v->jo, secret));
		if (item)
			json_object_set_new(p, "item", jsonout_str(&v->jo, item));
		json_array_append_new(v->problems, p);
		return;
	}
	printf("%s:%u: %s%s%s%s%s%s\n", file, line,
	       secret ? "'" : "", secret ? secret : "", secret ? "'" : "",
	       item ? " item '" : "", item ? item : "", item ? "'" : "");
	printf("%*s%s\n", 4, "", msg);
}

struct verify_at {
	struct verify *v;
	const char *file, *label;
};

static void verify_problem(void *ud, unsigned line, const char *item,
			   const char *msg)
{
	struct verify_at *at = ud;

	problem(at->v, at->file, line, at->label, item, "%s", msg);
}

static void verify_secret(struct verify *v, const char *file,
			  const struct ynode *root, const struct sealed_secret *s)
{
	char label[512];
	size_t before = v->nproblems;
	struct verify_at at = { v, file, label };

	sealed_secret_label(s, label, sizeof(label));
	v->checked++;
	secret_check(s, v->k, verify_problem, &at);
	if (v->nconf) {
		struct strbuf msg = STRBUF_INIT;
		struct err e = { "" };
		int r = sealed_check_recipients_with(v->conf, v->conf_paths,
						     v->nconf, root, &msg, &e);

		if (r > 0)
			problem(v, file, s->line, label, NULL, "%s", msg.buf);
		strbuf_release(&msg);
		for (size_t i = 0; i < s->nrecipients; i++)
			if (!pool_find(v->conf, v->nconf, s->recipients[i]))
				problem(v, file, s->line, label, NULL,
					"recipient key ID %s is not in saasctl.yaml secrets.recipients",
					s->recipients[i]);
	}
	if (v->ctx->json) {
		json_t *r = json_array();

		for (size_t i = 0; i < s->nrecipients; i++)
			json_array_append_new(r, json_string(s->recipients[i]));
		json_array_append_new(v->secrets, json_pack(
			"{s:o, s:i, s:s, s:s?, s:s, s:i, s:o, s:b}",
			"file", jsonout_str(&v->jo, file), "line", (int)s->line, "name", s->name,
			"namespace", s->namespace, "scope",
			sealed_scope_name(s->scope), "items", (int)s->nitems,
			"recipients", r, "ok", v->nproblems == before));
	}
}

static void verify_file(struct verify *v, const char *path, const char *shown)
{
	struct yamltree *t = NULL;
	struct err e = { "" };

	v->nfiles++;
	if (yamltree_parse_file(&t, path, NULL, &e) < 0) {
		unsigned line = t ? t->error_line : 1;

		problem(v, shown, line, NULL, NULL, "%s", e.msg);
		yamltree_free(t);
		return;
	}
	for (size_t d = 0; d < t->ndocs; d++) {
		const struct ynode *root = t->docs[d].root;
		struct sealed_secret s;

		if (!root || !sealed_is_sealed_secret(root))
			continue;
		if (sealed_secret_from_node(&s, root, shown, &e) < 0) {
			const char *msg = e.msg;
			size_t n = strlen(shown);

			v->checked++;
			/* The message starts "file:line: "; keep the rest. */
			if (!strncmp(msg, shown, n) && msg[n] == ':') {
				msg = strchr(msg + n + 1, ':');
				msg = msg ? msg + 2 : e.msg;
			}
			problem(v, shown, t->docs[d].line, NULL, NULL, "%s", msg);
			continue;
		}
		verify_secret(v, shown, root, &s);
		sealed_secret_release(&s);
	}
	yamltree_free(t);
}

/* Does the file mention SealedSecret at all? Cheap filter for the walk. */
static int mentions_sealed(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	struct err e = { "" };
	int r = 0;

	if (strbuf_read_file(&sb, path, 0, &e) == 0)
		r = strstr(sb.buf, SEALED_KIND) != NULL;
	strbuf_release(&sb);
	return r;
}

static int cmd_verify(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	struct verify v = { 0 };
	struct keys_secret *k = NULL;
	struct monorepo *repo = NULL;
	const char *keyfile = NULL;
	char **found = NULL;
	size_t nfound = 0;
	struct err e = { "" };
	int c, status = EXIT_FAIL;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":k:", opts, NULL)) != -1) {
		switch (c) {
		case 'k': keyfile = optarg; break;
		default:
			return cmd_option_error(ctx, c, argv);
		}
	}
	v.ctx = ctx;
	v.problems = json_array();
	v.secrets = json_array();
	if (optind < argc) {
		if (monorepo_open_optional(&repo, ctx->dir, &e) < 0)
			goto fail;
	} else if (monorepo_open(&repo, ctx->dir, &e) < 0) {
		goto fail;
	}
	if (keyfile && keys_secret_load(&k, keyfile, &e) < 0)
		goto fail;
	v.k = k;
	if (sealed_config_recipients(repo, &v.conf, &v.conf_paths, &v.nconf,
				     &e) < 0)
		goto fail;
	if (optind < argc) {
		for (int i = optind; i < argc; i++)
			verify_file(&v, argv[i], argv[i]);
	} else {
		nfound = dirwalk_yaml(repo->walk, "manifests", &found);
		cmd_warn_skipped(ctx, repo);
		for (size_t i = 0; i < nfound; i++) {
			char *abs = monorepo_path(repo, found[i]);

			if (mentions_sealed(abs))
				verify_file(&v, abs, found[i]);
			free(abs);
		}
	}
	if (ctx->json && jsonout_check(&v.jo, &e) < 0)
		goto fail;
	if (ctx->json) {
		json_t *doc = json_pack("{s:i, s:i, s:O, s:O}", "checked",
					(int)v.checked, "problem_count",
					(int)v.nproblems, "secrets", v.secrets,
					"problems", v.problems);
		char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		puts(s);
		free(s);
		json_decref(doc);
	} else if (!ctx->quiet || v.nproblems) {
		printf("%zu SealedSecret%s checked%s%s: %zu problem%s\n",
		       v.checked, v.checked == 1 ? "" : "s",
		       k ? " with key " : "", k ? k->pub.id_hex : "",
		       v.nproblems, v.nproblems == 1 ? "" : "s");
	}
	status = v.nproblems ? EXIT_FAIL : EXIT_OK;
	goto out;
fail:
	status = cmd_fail_err(ctx, &e);
out:
	dirwalk_free_names(found);
	for (size_t i = 0; i < v.nconf; i++)
		free(v.conf_paths[i]);
	free(v.conf_paths);
	free(v.conf);
	json_decref(v.problems);
	json_decref(v.secrets);
	keys_secret_free(k);
	monorepo_free(repo);
	return status;
}

const struct cmd_entry cmd_secrets_verify_entry = {
	.name = "secrets verify",
	.usage = "[FILE...] [-k KEYFILE]",
	.summary = "check every SealedSecret: structure, key IDs, recipients; with -k that each item opens",
	.exec = cmd_verify,
	.complete = COMPLETE_FILES,
	.secrets = 1,
};
