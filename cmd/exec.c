/*
 * saasctl exec APP -k KEYFILE -- CMD ARGS: the 12-factor local run. CMD
 * gets the environment plus the app's ConfigMap data plus its unsealed
 * secrets, through execve(): no shell, no temporary file, nothing on a
 * command line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cmd.h"
#include "../src/keys.h"
#include "../src/log.h"
#include "../src/monorepo.h"
#include "../src/sealed.h"

extern char **environ;

/* The variables we add, as "NAME=value" strings. */
struct envset {
	char **vars;
	size_t n, cap;
};

static void envset_wipe(struct envset *env)
{
	for (size_t i = 0; i < env->n; i++) {
		sodium_memzero(env->vars[i], strlen(env->vars[i]));
		free(env->vars[i]);
	}
	free(env->vars);
	memset(env, 0, sizeof(*env));
}

/* Set name=value; a later source (secrets after ConfigMaps) wins. */
static int envset_put(struct envset *env, const char *name, const char *value,
		      size_t len, const char *from, struct err *e)
{
	size_t nlen = strlen(name);
	char *var;

	if (!sealed_env_name_ok(name))
		return err_set(e, "cannot pass '%s' from %s: not a valid variable name",
			       name, from);
	if (memchr(value, '\0', len))
		return err_set(e, "cannot pass '%s' from %s: the value holds a NUL byte",
			       name, from);
	var = malloc(nlen + len + 2);
	if (!var)
		abort();
	memcpy(var, name, nlen);
	var[nlen] = '=';
	memcpy(var + nlen + 1, value, len);
	var[nlen + 1 + len] = '\0';
	for (size_t i = 0; i < env->n; i++)
		if (!strncmp(env->vars[i], var, nlen + 1)) {
			sodium_memzero(env->vars[i], strlen(env->vars[i]));
			free(env->vars[i]);
			env->vars[i] = var;
			return 0;
		}
	if (env->n == env->cap) {
		env->cap = env->cap ? env->cap * 2 : 16;
		env->vars = realloc(env->vars, env->cap * sizeof(char *));
		if (!env->vars)
			abort();
	}
	env->vars[env->n++] = var;
	return 0;
}

static int add_configmap(struct envset *env, const struct monorepo_resource *r,
			 struct err *e)
{
	const struct ynode *data = ynode_get(r->node, "data");
	char from[512];

	snprintf(from, sizeof(from), "ConfigMap '%s' (%s:%u)",
		 r->name ? r->name : "", r->file, r->line);
	if (!data || ynode_is_null(data))
		return 0;
	if (data->type != YNODE_MAP)
		return err_set(e, "%s: data must be a map", from);
	for (size_t i = 0; i < data->n; i++) {
		const struct ynode *k = data->entries[i].key;
		const struct ynode *v = data->entries[i].value;

		if (k->type != YNODE_SCALAR || v->type != YNODE_SCALAR)
			return err_set(e, "%s: data must map names to strings",
				       from);
		if (envset_put(env, k->value, ynode_is_null(v) ? "" : v->value,
			       ynode_is_null(v) ? 0 : v->len, from, e) < 0)
			return -1;
	}
	log_debug("%zu variables from %s", (size_t)data->n, from);
	return 0;
}

static int add_sealed(struct envset *env, const struct monorepo_resource *r,
		      const struct keys_secret *k, struct err *e)
{
	struct sealed_secret s;
	struct sealed_plain p;
	char from[512];
	int ret = -1;

	if (sealed_secret_from_node(&s, r->node, r->file, e) < 0)
		return -1;
	snprintf(from, sizeof(from), "SealedSecret '%s' (%s:%u)", s.name,
		 r->file, r->line);
	if (sealed_secret_open(&s, k, &p, e) < 0) {
		sealed_secret_release(&s);
		return err_wrap(e, "%s", r->file);
	}
	for (size_t i = 0; i < p.nitems; i++)
		if (envset_put(env, p.items[i].key, p.items[i].value,
			       p.items[i].value_len, from, e) < 0)
			goto out;
	log_debug("%zu variables from %s", p.nitems, from);
	ret = 0;
out:
	sealed_plain_release(&p);
	sealed_secret_release(&s);
	return ret;
}

/* Find CMD as execvp would, but without a shell fallback. */
static char *find_command(const char *cmd)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL, *found = NULL;

	if (strchr(cmd, '/'))
		return strdup(cmd);
	copy = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	for (dir = strtok_r(copy, ":", &save); dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		size_t n = strlen(dir) + strlen(cmd) + 2;
		char *cand = malloc(n);
		struct stat st;

		if (!cand)
			abort();
		snprintf(cand, n, "%s/%s", *dir ? dir : ".", cmd);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(cand, X_OK) == 0)
			found = cand;
		else
			free(cand);
	}
	free(copy);
	return found;
}

static int cmd_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	const char *keyfile = NULL, *appname = NULL;
	char **cmdv = NULL, **envp = NULL, *path = NULL;
	struct monorepo *repo = NULL;
	struct monorepo_app *app;
	struct keys_secret *k = NULL;
	struct envset env = { 0 };
	struct err e = { "" };
	size_t nenv = 0, nsecrets = 0;
	int i, status = EXIT_FAIL;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			cmdv = argv + i + 1;
			break;
		}
		if (!strcmp(a, "-k") || !strcmp(a, "--key")) {
			if (++i >= argc)
				return cmd_usage_error(ctx, "option '%s' needs a value", a);
			keyfile = argv[i];
		} else if (!strncmp(a, "--key=", 6)) {
			keyfile = a + 6;
		} else if (!strncmp(a, "-k", 2)) {
			keyfile = a + 2;
		} else if (a[0] == '-') {
			return cmd_usage_error(ctx, "unknown option '%s'", a);
		} else if (!appname) {
			appname = a;
		} else {
			return cmd_usage_error(ctx, "unexpected argument '%s'; put the command after --",
					       a);
		}
	}
	if (!appname)
		return cmd_usage_error(ctx, "which app? give its folder name under manifests/apps/");
	if (!cmdv || !cmdv[0])
		return cmd_usage_error(ctx, "no command: put it after --");
	if (!keyfile)
		return cmd_usage_error(ctx, "no key: pass -k KEYFILE");

	if (monorepo_open(&repo, ctx->dir, &e) < 0 ||
	    monorepo_load(repo, &e) < 0 ||
	    keys_secret_load(&k, keyfile, &e) < 0)
		goto fail;
	cmd_warn_skipped(ctx, repo);
	app = monorepo_app(repo, appname);
	if (!app) {
		struct strbuf names = STRBUF_INIT;

		for (size_t a = 0; a < repo->napps; a++)
			strbuf_addf(&names, "%s%s", a ? ", " : "",
				    repo->apps[a].name);
		err_set(&e, "no app '%s' in manifests/apps/ (apps: %s)", appname,
			repo->napps ? names.buf : "none");
		strbuf_release(&names);
		goto fail;
	}
	/* ConfigMaps first, then secrets: a secret wins over a setting. */
	for (size_t r = 0; r < app->nresources; r++) {
		const struct monorepo_resource *res = &app->resources[r];

		if (res->kind && !strcmp(res->kind, "ConfigMap") &&
		    add_configmap(&env, res, &e) < 0)
			goto fail;
	}
	for (size_t r = 0; r < app->nresources; r++) {
		const struct monorepo_resource *res = &app->resources[r];

		if (!sealed_is_sealed_secret(res->node))
			continue;
		if (add_sealed(&env, res, k, &e) < 0)
			goto fail;
		nsecrets++;
	}
	path = find_command(cmdv[0]);
	if (!path) {
		err_set(&e, "cannot run '%s': not found in PATH", cmdv[0]);
		cmd_fail_err(ctx, &e);
		status = 127;
		goto out;
	}

	for (char **p = environ; p && *p; p++)
		nenv++;
	envp = calloc(nenv + env.n + 1, sizeof(char *));
	if (!envp)
		abort();
	nenv = 0;
	for (char **p = environ; p && *p; p++) {
		size_t n = strcspn(*p, "=");
		int shadowed = 0;

		for (size_t v = 0; v < env.n && !shadowed; v++)
			shadowed = !strncmp(env.vars[v], *p, n) &&
				   env.vars[v][n] == '=';
		if (!shadowed)
			envp[nenv++] = *p;
	}
	for (size_t v = 0; v < env.n; v++)
		envp[nenv++] = env.vars[v];
	log_debug("running '%s' for app '%s' with %zu added variables (%zu SealedSecrets)",
		  path, appname, env.n, nsecrets);
	fflush(stdout);
	fflush(stderr);
	execve(path, cmdv, envp);
	{
		int saved = errno;

		err_errno(&e, "cannot run '%s'", cmdv[0]);
		cmd_fail_err(ctx, &e);
		/* As env(1) and shells do. */
		status = saved == ENOENT ? 127 : 126;
	}
	goto out;
fail:
	status = cmd_fail_err(ctx, &e);
out:
	free(envp);
	free(path);
	envset_wipe(&env);
	keys_secret_free(k);
	monorepo_free(repo);
	return status;
}

const struct cmd_entry cmd_exec_entry = {
	.name = "exec",
	.usage = "APP -k KEYFILE -- CMD [ARG...]",
	.summary = "run a command with an app's ConfigMap and unsealed secrets in its environment",
	.exec = cmd_exec,
	.complete = COMPLETE_APPS,
	.secrets = 1,
};
