/*
 * saasctl seal and saasctl unseal.
 *
 * seal needs only public keys: it reads a Secret (or literals, files, an
 * env file) and prints a SealedSecret, or adds items to one in place with
 * --merge-into. The plaintext never touches disk. unseal opens every item
 * with a secret key and prints a Secret, JSON or env lines; when any item
 * fails it prints nothing.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "cmd.h"
#include "../src/keys.h"
#include "../src/log.h"
#include "../src/monorepo.h"
#include "../src/sealed.h"
#include "../src/secret.h"

/* A source of items, in command-line order. */
enum source_kind { SRC_LITERAL, SRC_FILE, SRC_ENV_FILE };

struct source {
	enum source_kind kind;
	const char *arg;
};

/* Is s valid UTF-8 without control characters? Item keys must be. */
static int valid_item_key(const char *s, size_t len)
{
	size_t i = 0;

	if (len == 0 || len > 253)
		return 0;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t n;

		if (c < 0x20 || c == 0x7f)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0 && c >= 0xc2)
			n = 2;
		else if ((c & 0xf0) == 0xe0)
			n = 3;
		else if ((c & 0xf8) == 0xf0 && c <= 0xf4)
			n = 4;
		else
			return 0;
		if (i + n > len)
			return 0;
		for (size_t k = 1; k < n; k++)
			if (((unsigned char)s[i + k] & 0xc0) != 0x80)
				return 0;
		i += n;
	}
	return 1;
}

static int add_item(struct sealed_plain *p, const char *key, size_t key_len,
		    const void *value, size_t len, const char *what,
		    struct err *e)
{
	if (!valid_item_key(key, key_len))
		return err_set(e, "bad item key '%.*s' in %s: want 1 to 253 bytes of UTF-8 without control characters",
			       (int)key_len, key, what);
	if (len > SEALED_VALUE_MAX)
		return err_set(e, "item '%.*s' in %s is larger than %u bytes",
			       (int)key_len, key, what, SEALED_VALUE_MAX);
	return sealed_plain_set(p, key, key_len, value, len);
}

/* Read the Secret of -f FILE (or stdin) into p. */
static int read_secret(struct sealed_plain *p, const char *path,
		       struct err *e)
{
	struct yamltree *t = NULL;
	const struct ynode *root = NULL;
	size_t ndocs = 0;
	int ret = -1;

	if (!strcmp(path, "-")) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_init(&sb, 64u * 1024 * 1024);
		if (strbuf_read_fd(&sb, 0, e) < 0) {
			strbuf_release(&sb);
			return err_wrap(e, "cannot read stdin");
		}
		ret = yamltree_parse_text(&t, "<stdin>", sb.buf, sb.len, NULL,
					  e);
		sodium_memzero(sb.buf, sb.len);
		strbuf_release(&sb);
		if (ret < 0)
			goto out;
		ret = -1;
	} else if (yamltree_parse_file(&t, path, NULL, e) < 0) {
		goto out;
	}
	for (size_t d = 0; d < t->ndocs; d++)
		if (t->docs[d].root && !ynode_is_null(t->docs[d].root)) {
			root = t->docs[d].root;
			ndocs++;
		}
	if (ndocs != 1) {
		err_set(e, "'%s' holds %zu documents; seal takes one Secret",
			t->path, ndocs);
		goto out;
	}
	ret = sealed_plain_from_node(p, root, t->path, e);
	for (size_t i = 0; ret == 0 && i < p->nitems; i++)
		if (!valid_item_key(p->items[i].key, strlen(p->items[i].key)))
			ret = err_set(e, "bad item key '%s' in '%s'",
				      p->items[i].key, t->path);
out:
	yamltree_free(t);
	return ret;
}

/* KEY=VALUE lines; blank lines and # comments skipped (as kubectl). */
static int read_env_file(struct sealed_plain *p, const char *path,
			 struct err *e)
{
	struct strbuf sb = STRBUF_INIT;
	char *line, *next;
	unsigned lineno = 0;
	int ret = -1;

	if (strbuf_read_file(&sb, path, SEALED_VALUE_MAX, e) < 0)
		return -1;
	for (line = sb.buf; line && line < sb.buf + sb.len; line = next) {
		char *eq, *end = memchr(line, '\n', (size_t)(sb.buf + sb.len - line));
		size_t len;

		next = end ? end + 1 : NULL;
		len = end ? (size_t)(end - line) : strlen(line);
		lineno++;
		if (len && line[len - 1] == '\r')
			len--;
		while (len && (*line == ' ' || *line == '\t')) {
			line++;
			len--;
		}
		if (!len || *line == '#')
			continue;
		eq = memchr(line, '=', len);
		if (!eq || eq == line) {
			err_set(e, "'%s':%u: want KEY=VALUE", path, lineno);
			goto out;
		}
		if (add_item(p, line, (size_t)(eq - line), eq + 1,
			     len - (size_t)(eq - line) - 1, path, e) < 0)
			goto out;
	}
	ret = 0;
out:
	sodium_memzero(sb.buf, sb.len);
	strbuf_release(&sb);
	return ret;
}

static int read_sources(struct cmd_ctx *ctx, struct sealed_plain *p,
			const struct source *src, size_t n, struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		const char *arg = src[i].arg, *eq = strchr(arg, '=');

		switch (src[i].kind) {
		case SRC_LITERAL:
			if (!eq)
				return err_set(e, "--from-literal wants KEY=VALUE");
			cmd_warn(ctx, "--from-literal puts the value of '%.*s' in your shell history and the process list; prefer --from-file or -f",
				 (int)(eq - arg), arg);
			if (add_item(p, arg, (size_t)(eq - arg), eq + 1,
				     strlen(eq + 1), "--from-literal", e) < 0)
				return -1;
			break;
		case SRC_FILE: {
			struct strbuf sb = STRBUF_INIT;
			const char *path = eq ? eq + 1 : arg;
			const char *key = eq ? arg : strrchr(arg, '/');
			size_t klen;
			int r;

			key = eq ? arg : key ? key + 1 : arg;
			klen = eq ? (size_t)(eq - arg) : strlen(key);
			if (strbuf_read_file(&sb, path, SEALED_VALUE_MAX, e) < 0)
				return -1;
			r = add_item(p, key, klen, sb.buf, sb.len, "--from-file", e);
			sodium_memzero(sb.buf, sb.len);
			strbuf_release(&sb);
			if (r < 0)
				return -1;
			break;
		}
		case SRC_ENV_FILE:
			if (read_env_file(p, arg, e) < 0)
				return -1;
			break;
		}
	}
	return 0;
}

/* Copy the template fields of a Secret into a SealedSecret. */
static void take_template(struct sealed_secret *s, const struct sealed_plain *p)
{
	if (p->type) {
		free(s->type);
		s->type = strdup(p->type);
	}
	for (size_t i = 0; i < p->nlabels; i++) {
		size_t j;

		for (j = 0; j < s->nlabels; j++)
			if (!strcmp(s->labels[j].key, p->labels[i].key))
				break;
		if (j == s->nlabels) {
			s->labels = realloc(s->labels, (j + 1) * sizeof(*s->labels));
			if (!s->labels)
				abort();
			s->labels[j].key = strdup(p->labels[i].key);
			s->labels[j].value = NULL;
			s->nlabels++;
		}
		free(s->labels[j].value);
		s->labels[j].value = strdup(p->labels[i].value);
		s->labels[j].value_len = p->labels[i].value_len;
		s->labels[j].line = 0;
	}
	for (size_t i = 0; i < p->nannotations; i++) {
		size_t j;

		for (j = 0; j < s->nannotations; j++)
			if (!strcmp(s->annotations[j].key, p->annotations[i].key))
				break;
		if (j == s->nannotations) {
			s->annotations = realloc(s->annotations,
						 (j + 1) * sizeof(*s->annotations));
			if (!s->annotations)
				abort();
			s->annotations[j].key = strdup(p->annotations[i].key);
			s->annotations[j].value = NULL;
			s->nannotations++;
		}
		free(s->annotations[j].value);
		s->annotations[j].value = strdup(p->annotations[i].value);
		s->annotations[j].value_len = p->annotations[i].value_len;
		s->annotations[j].line = 0;
	}
}

/* "a, b" of the key IDs, for messages. */
static void ids_text(struct strbuf *out, char *const *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		strbuf_addf(out, "%s%s", i ? ", " : "", ids[i]);
	if (!n)
		strbuf_addstr(out, "none");
}

static int cmp_hex(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Does the recipient set of s equal these keys? */
static int same_recipients(const struct sealed_secret *s,
			   const struct keys_public *keys, size_t n,
			   struct strbuf *theirs, struct strbuf *ours)
{
	char **mine = calloc(n + 1, sizeof(char *));
	int same = s->nrecipients == n;

	if (!mine)
		abort();
	for (size_t i = 0; i < n; i++)
		mine[i] = (char *)keys[i].id_hex;
	qsort(mine, n, sizeof(char *), cmp_hex);
	for (size_t i = 0; same && i < n; i++)
		same = !strcmp(mine[i], s->recipients[i]);
	ids_text(theirs, s->recipients, s->nrecipients);
	ids_text(ours, mine, n);
	free(mine);
	return same;
}

static int write_output(const char *path, const struct strbuf *sb,
			struct err *e)
{
	if (path)
		return sealed_write_atomic(path, sb->buf, sb->len, e);
	if (fwrite(sb->buf, 1, sb->len, stdout) != sb->len)
		return err_errno(e, "cannot write output");
	return 0;
}

static int cmd_seal(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from-literal", required_argument, NULL, 'L' },
		{ "from-file", required_argument, NULL, 'F' },
		{ "from-env-file", required_argument, NULL, 'E' },
		{ "name", required_argument, NULL, 'N' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "scope", required_argument, NULL, 'S' },
		{ "merge-into", required_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	struct source *src = calloc((size_t)argc + 1, sizeof(*src));
	const char **rfiles = calloc((size_t)argc + 1, sizeof(char *));
	const char *file = NULL, *name = NULL, *ns = NULL, *scope = NULL;
	const char *out_path = NULL, *merge = NULL;
	size_t nsrc = 0, nr = 0, nkeys = 0;
	struct sealed_plain plain = { 0 };
	struct sealed_secret fresh = { 0 }, *target = &fresh;
	struct sealed_file mf = { 0 };
	struct keys_public *keys = NULL;
	struct monorepo *repo = NULL;
	struct strbuf y = STRBUF_INIT, item = STRBUF_INIT;
	struct err e = { "" };
	enum sealed_scope sc = SEALED_STRICT;
	int c, status = EXIT_FAIL;
	char label[512];

	if (!src || !rfiles)
		abort();
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":f:n:r:o:", opts, NULL)) != -1) {
		switch (c) {
		case 'f': file = optarg; break;
		case 'L': src[nsrc++] = (struct source){ SRC_LITERAL, optarg }; break;
		case 'F': src[nsrc++] = (struct source){ SRC_FILE, optarg }; break;
		case 'E': src[nsrc++] = (struct source){ SRC_ENV_FILE, optarg }; break;
		case 'N': name = optarg; break;
		case 'n': ns = optarg; break;
		case 'S': scope = optarg; break;
		case 'r': rfiles[nr++] = optarg; break;
		case 'o': out_path = optarg; break;
		case 'M': merge = optarg; break;
		default:
			status = cmd_option_error(ctx, c, argv);
			goto out;
		}
	}
	if (optind < argc) {
		status = cmd_usage_error(ctx, "unexpected argument '%s'",
					 argv[optind]);
		goto out;
	}
	if (out_path && merge) {
		status = cmd_usage_error(ctx, "-o and --merge-into do not go together");
		goto out;
	}
	if (scope && sealed_scope_parse(scope, &sc) < 0) {
		status = cmd_usage_error(ctx, "bad scope '%s': want strict, namespace or cluster",
					 scope);
		goto out;
	}
	if (!file && !nsrc) {
		if (isatty(STDIN_FILENO)) {
			status = cmd_usage_error(ctx, "nothing to seal: give -f FILE, --from-literal, --from-file or --from-env-file, or pipe a Secret");
			goto out;
		}
		file = "-";
	}
	if (file && read_secret(&plain, file, &e) < 0)
		goto fail;
	if (read_sources(ctx, &plain, src, nsrc, &e) < 0)
		goto fail;
	if (!plain.nitems) {
		err_set(&e, "nothing to seal: the Secret has no data or stringData");
		goto fail;
	}

	if (monorepo_open_optional(&repo, ctx->dir, &e) < 0 ||
	    sealed_recipients_load(repo, rfiles, nr, &keys, &nkeys, &e) < 0)
		goto fail;
	if (!nkeys) {
		err_set(&e, "no recipients: list public keys in saasctl.yaml (secrets.recipients) or pass -r FILE.pub");
		goto fail;
	}

	if (merge) {
		struct strbuf theirs = STRBUF_INIT, ours = STRBUF_INIT;
		int same;

		if (sealed_file_load(&mf, merge, &e) < 0)
			goto fail;
		if (mf.nsecrets != 1 || mf.nother) {
			err_set(&e, "cannot merge into '%s': it holds %zu documents; --merge-into needs a file with one SealedSecret",
				merge, mf.nsecrets + mf.nother);
			goto fail;
		}
		target = &mf.secrets[0];
		sealed_secret_label(target, label, sizeof(label));
		if ((name && strcmp(name, target->name)) ||
		    (!name && plain.name && strcmp(plain.name, target->name))) {
			err_set(&e, "cannot merge into '%s': it seals '%s', not '%s'",
				merge, target->name, name ? name : plain.name);
			goto fail;
		}
		if ((ns || plain.namespace) &&
		    (!target->namespace ||
		     strcmp(ns ? ns : plain.namespace, target->namespace))) {
			err_set(&e, "cannot merge into '%s': its namespace is '%s', not '%s'",
				merge, target->namespace ? target->namespace : "",
				ns ? ns : plain.namespace);
			goto fail;
		}
		if (scope && sc != target->scope) {
			err_set(&e, "cannot merge into '%s': its scope is %s, not %s",
				merge, sealed_scope_name(target->scope), scope);
			goto fail;
		}
		same = same_recipients(target, keys, nkeys, &theirs, &ours);
		if (!same)
			err_set(&e, "cannot merge into '%s': it is sealed to %s but the recipients are now %s; run 'saasctl secrets rekey' first",
				merge, theirs.buf, ours.buf);
		strbuf_release(&theirs);
		strbuf_release(&ours);
		if (!same)
			goto fail;
	} else {
		fresh.name = strdup(name ? name : plain.name ? plain.name : "");
		if (!*fresh.name) {
			err_set(&e, "no name: pass --name NAME or set metadata.name");
			goto fail;
		}
		if (ns || plain.namespace)
			fresh.namespace = strdup(ns ? ns : plain.namespace);
		else if (sc != SEALED_CLUSTER) {
			err_set(&e, "no namespace: pass -n NAMESPACE or set metadata.namespace (or use --scope cluster)");
			goto fail;
		}
		fresh.scope = sc;
		sealed_secret_set_recipients(&fresh, keys, nkeys);
		sealed_secret_label(&fresh, label, sizeof(label));
	}
	take_template(target, &plain);

	for (size_t i = 0; i < plain.nitems; i++) {
		struct sealed_binding b;

		sealed_secret_binding(target, plain.items[i].key, &b);
		strbuf_reset(&item);
		log_debug("sealing '%s' item '%s' (%zu bytes) to %zu recipients",
			  label, plain.items[i].key, plain.items[i].value_len,
			  nkeys);
		if (sealed_item_seal(&item, &b,
				     (const unsigned char *)plain.items[i].value,
				     plain.items[i].value_len, keys, nkeys,
				     &e) < 0) {
			err_wrap(&e, "cannot seal '%s' item '%s'", label,
				 plain.items[i].key);
			goto fail;
		}
		sealed_secret_set_item(target, plain.items[i].key,
				       strlen(plain.items[i].key), item.buf,
				       item.len);
	}
	/* A merge edits the file's own bytes, so what saasctl does not
	 * model (comments, the SealedSecret's labels) is kept. */
	if (!merge) {
		sealed_secret_emit(&y, target);
	} else if (sealed_file_update(&y, &mf, &e) < 0) {
		err_wrap(&e, "cannot merge into '%s'", merge);
		goto fail;
	}
	if (write_output(merge ? merge : out_path, &y, &e) < 0)
		goto fail;
	if (merge || out_path)
		cmd_info(ctx, "sealed %zu item%s of '%s' to %zu recipient%s in %s",
			 plain.nitems, plain.nitems == 1 ? "" : "s", label,
			 nkeys, nkeys == 1 ? "" : "s", merge ? merge : out_path);
	status = EXIT_OK;
	goto out;
fail:
	status = cmd_fail_err(ctx, &e);
out:
	sealed_plain_release(&plain);
	sealed_secret_release(&fresh);
	sealed_file_release(&mf);
	strbuf_release(&y);
	strbuf_release(&item);
	monorepo_free(repo);
	free(keys);
	free(src);
	free(rfiles);
	return status;
}

const struct cmd_entry cmd_seal_entry = {
	.name = "seal",
	.usage = "[-f FILE] [--from-literal KEY=VALUE] [--from-file [KEY=]PATH] [--from-env-file FILE] [--name NAME] [-n NAMESPACE] [--scope strict|namespace|cluster] [-r FILE.pub] [-o FILE | --merge-into FILE]",
	.summary = "encrypt a Secret into a SealedSecret that only its recipients can open",
	.exec = cmd_seal,
	.complete = COMPLETE_FILES,
	.secrets = 1,
};

/* ---- unseal ---- */

static int cmd_unseal(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	const char *keyfile = NULL, *format = ctx->json ? "json" : "yaml";
	const char *file = NULL;
	struct sealed_file f = { 0 };
	struct sealed_plain *plain = NULL;
	struct keys_secret *k = NULL;
	struct strbuf out = STRBUF_INIT;
	struct err e = { "" };
	size_t nopen = 0;
	int c, status = EXIT_FAIL;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":k:o:", opts, NULL)) != -1) {
		switch (c) {
		case 'k': keyfile = optarg; break;
		case 'o': format = optarg; break;
		default:
			return cmd_option_error(ctx, c, argv);
		}
	}
	if (optind != argc - 1)
		return cmd_usage_error(ctx, optind >= argc ?
				       "which file? give one SealedSecret file" :
				       "one file at a time");
	file = argv[optind];
	if (!keyfile)
		return cmd_usage_error(ctx, "no key: pass -k KEYFILE (a NAME.key from saasctl keygen)");
	if (strcmp(format, "yaml") && strcmp(format, "json") &&
	    strcmp(format, "env"))
		return cmd_usage_error(ctx, "bad output format '%s': want yaml, json or env",
				       format);

	if (sealed_file_load(&f, file, &e) < 0 ||
	    keys_secret_load(&k, keyfile, &e) < 0)
		goto fail;
	plain = calloc(f.nsecrets, sizeof(*plain));
	if (!plain)
		abort();
	/* Open everything before printing anything: fail closed. */
	for (nopen = 0; nopen < f.nsecrets; nopen++)
		if (sealed_secret_open(&f.secrets[nopen], k, &plain[nopen],
				       &e) < 0)
			goto fail;
	if (!strcmp(format, "json")) {
		json_t *doc;
		char *s;

		if (f.nsecrets == 1) {
			doc = secret_json(&plain[0]);
		} else {
			json_t *items = json_array();

			for (size_t i = 0; i < f.nsecrets; i++)
				json_array_append_new(items, secret_json(&plain[i]));
			doc = json_pack("{s:s, s:s, s:o}", "apiVersion", "v1",
					"kind", "List", "items", items);
		}
		s = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
		strbuf_addstr(&out, s);
		strbuf_addch(&out, '\n');
		sodium_memzero(s, strlen(s));
		free(s);
		json_decref(doc);
	} else {
		for (size_t i = 0; i < f.nsecrets; i++) {
			if (!strcmp(format, "env")) {
				if (secret_env(&out, &plain[i], &e) < 0)
					goto fail;
				continue;
			}
			if (i)
				strbuf_addstr(&out, "---\n");
			secret_yaml(&out, &plain[i]);
		}
	}
	/* An empty result (no items) has no buffer at all. */
	if (out.len && fwrite(out.buf, 1, out.len, stdout) != out.len) {
		err_errno(&e, "cannot write output");
		goto fail;
	}
	status = EXIT_OK;
	goto out;
fail:
	status = cmd_fail_err(ctx, &e);
out:
	for (size_t i = 0; plain && i < nopen; i++)
		sealed_plain_release(&plain[i]);
	free(plain);
	if (out.buf)
		sodium_memzero(out.buf, out.len);
	strbuf_release(&out);
	sealed_file_release(&f);
	keys_secret_free(k);
	return status;
}

const struct cmd_entry cmd_unseal_entry = {
	.name = "unseal",
	.usage = "FILE -k KEYFILE [-o yaml|json|env]",
	.summary = "decrypt a SealedSecret with a secret key into a Secret or env lines",
	.exec = cmd_unseal,
	.complete = COMPLETE_FILES,
	.secrets = 1,
};
