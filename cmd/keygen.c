/*
 * saasctl keygen: make an X25519 key pair for sealed secrets, NAME.pub to
 * commit and NAME.key to keep (mode 0600, optionally passphrase-protected).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "../src/jsonout.h"
#include "../src/keys.h"

static int valid_name(const char *name)
{
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	return strchr(name, '/') == NULL;
}

static int cmd_keygen(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'N' },
		{ "out", required_argument, NULL, 'O' },
		{ "passphrase", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = "saasctl", *dir = ".";
	struct keys_secret *k = NULL;
	char *pass = NULL, prompt[600];
	size_t plen = 0;
	int want_pass = 0, c, status = EXIT_FAIL;
	struct err e = { "" };

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'N': name = optarg; break;
		case 'O': dir = optarg; break;
		case 'P': want_pass = 1; break;
		default:
			return cmd_usage_error(ctx, "unknown option '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cmd_usage_error(ctx, "unexpected argument '%s'",
				       argv[optind]);
	if (!valid_name(name))
		return cmd_usage_error(ctx, "bad key name '%s': a file name without '/'",
				       name);
	if (want_pass) {
		snprintf(prompt, sizeof(prompt), "passphrase for '%s/%s.key': ",
			 dir, name);
		if (keys_passphrase_read(&pass, &plen, prompt, 1, &e) < 0)
			goto fail;
	}
	/* Refused before any key is written: JSON could not name the files. */
	if (ctx->json) {
		struct jsonout jo = JSONOUT_INIT;

		json_decref(jsonout_str(&jo, dir));
		json_decref(jsonout_str(&jo, name));
		if (jsonout_check(&jo, &e) < 0)
			goto fail;
	}
	if (keys_generate(&k, &e) < 0 ||
	    keys_write_pair(k, dir, name, pass, plen, &e) < 0)
		goto fail;

	if (ctx->json) {
		json_t *o = json_pack("{s:s, s:s, s:s++, s:s++, s:b}",
				      "name", name, "key_id", k->pub.id_hex,
				      "public_key_file", dir, "/", name, ".pub",
				      "secret_key_file", dir, "/", name, ".key",
				      "passphrase", want_pass);
		char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		puts(s);
		free(s);
		json_decref(o);
	} else {
		printf("%s\n", k->pub.id_hex);
		cmd_info(ctx, "wrote %s/%s.pub (commit it) and %s/%s.key (keep it secret%s)",
			 dir, name, dir, name,
			 want_pass ? ", passphrase-protected" : "");
	}
	status = EXIT_OK;
	goto out;
fail:
	status = cmd_fail_err(ctx, &e);
out:
	keys_passphrase_free(pass, plen);
	keys_secret_free(k);
	return status;
}

const struct cmd_entry cmd_keygen_entry = {
	.name = "keygen",
	.usage = "[--name NAME] [--out DIR] [--passphrase]",
	.summary = "make a key pair for sealed secrets (NAME.pub to commit, NAME.key to keep)",
	.exec = cmd_keygen,
	.secrets = 1,
};
