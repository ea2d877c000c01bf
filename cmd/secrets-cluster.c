/*
 * Sealed secrets in the cluster.
 *
 * saasctl secrets apply: open every SealedSecret (of the monorepo, or the
 * cluster's sealedsecrets.saasctl.dev objects) with the cluster key or
 * keys and write each Secret with server-side apply, skipping those that
 * are up to date. Runs once: a CI deploy step, a Job, an init container.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cmd.h"
#include "../src/dirwalk.h"
#include "../src/http.h"
#include "../src/jsonout.h"
#include "../src/keys.h"
#include "../src/kube.h"
#include "../src/kubesecret.h"
#include "../src/monorepo.h"
#include "../src/scaffold.h"
#include "../src/sealed.h"
#include "../src/secret.h"
#include "../src/secretctl.h"
#include "../src/strbuf.h"
#include "../src/yamltree.h"

/* One SealedSecret to apply and where it came from. */
struct apply_one {
	const struct sealed_secret *s;
	const char *from;		/* file, or NULL for the cluster */
	struct kubesecret_owner owner;	/* from the cluster */
	int has_owner;
};

struct apply_run {
	struct cmd_ctx *ctx;
	struct kube_client *kc;
	struct keys_secret **keys;
	size_t nkeys;
	const char *only_ns;
	int dry_run;
	char **forbidden;		/* namespaces that answered 403 */
	size_t nforbidden;
	size_t created, updated, unchanged, failed;
	json_t *report;
	struct jsonout jo;
};

static void apply_names(struct strbuf *out, const char *how, char **keys,
			size_t n)
{
	for (size_t i = 0; i < n; i++)
		strbuf_addf(out, "%s%s%s%s", out->len ? ", " : "", keys[i],
			    how ? " " : "", how ? how : "");
}

static json_t *apply_json_list(struct apply_run *r, char **keys, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, jsonout_str(&r->jo, keys[i]));
	return a;
}

static int apply_is_forbidden(const struct apply_run *r, const char *ns)
{
	for (size_t i = 0; i < r->nforbidden; i++)
		if (!strcmp(r->forbidden[i], ns))
			return 1;
	return 0;
}

static void apply_report(struct apply_run *r, const char *ns,
			 const char *name, const char *action,
			 const struct kubesecret_plan *plan, const char *error)
{
	if (r->ctx->json) {
		json_t *o = json_pack("{s:o, s:o, s:s}", "namespace",
				      jsonout_str(&r->jo, ns), "name",
				      jsonout_str(&r->jo, name), "action", action);

		if (plan && plan->action != KUBESECRET_UNCHANGED) {
			json_object_set_new(o, "added", apply_json_list(r, plan->added, plan->nadded));
			json_object_set_new(o, "changed", apply_json_list(r, plan->changed, plan->nchanged));
			json_object_set_new(o, "removed", apply_json_list(r, plan->removed, plan->nremoved));
			json_object_set_new(o, "metadata", json_boolean(plan->metadata));
		}
		if (error)
			json_object_set_new(o, "error", jsonout_str(&r->jo, error));
		json_array_append_new(r->report, o);
		return;
	}
	if (error)
		return;
	if (plan && plan->action != KUBESECRET_UNCHANGED) {
		struct strbuf what = STRBUF_INIT;

		if (plan->action == KUBESECRET_CREATE) {
			apply_names(&what, NULL, plan->added, plan->nadded);
		} else {
			apply_names(&what, "(added)", plan->added, plan->nadded);
			apply_names(&what, "(changed)", plan->changed, plan->nchanged);
			apply_names(&what, "(removed)", plan->removed, plan->nremoved);
			if (plan->metadata)
				strbuf_addf(&what, "%smetadata",
					    what.len ? ", " : "");
		}
		printf("%s %s/%s: %s\n", action, ns, name, what.buf);
		strbuf_release(&what);
		return;
	}
	if (!r->ctx->quiet)
		printf("%s %s/%s\n", action, ns, name);
}

/* A failure of one SealedSecret: reported, the others go on. */
static void apply_fail(struct apply_run *r, const char *ns, const char *name,
		       const struct err *e)
{
	r->failed++;
	cmd_fail_err(r->ctx, e);
	apply_report(r, ns, name, "failed", NULL, e->msg);
}

static void apply_forbid(struct apply_run *r, const char *ns,
			 const char *name, const struct err *e)
{
	struct err fe = { "" };

	r->forbidden = realloc(r->forbidden,
			       (r->nforbidden + 1) * sizeof(char *));
	if (!r->forbidden)
		abort();
	r->forbidden[r->nforbidden++] = strdup(ns);
	err_set(&fe, "namespace '%s' is forbidden, skipping its Secrets: %s",
		ns, e->msg);
	apply_fail(r, ns, name, &fe);
}

static void apply_secret(struct apply_run *r, const struct apply_one *one)
{
	const struct sealed_secret *s = one->s;
	const struct kubesecret_owner *owner = one->has_owner ? &one->owner : NULL;
	const char *ns = s->namespace ? s->namespace : r->only_ns ? r->only_ns :
		kube_namespace(r->kc);
	const struct keys_secret *k;
	struct sealed_plain plain = { 0 };
	struct kubesecret_plan plan = { 0 };
	struct err e = { "" };
	long status = 0;
	char label[512];

	snprintf(label, sizeof(label), "%s/%s", ns, s->name);
	if (r->only_ns && strcmp(ns, r->only_ns))
		return;
	if (apply_is_forbidden(r, ns)) {
		err_set(&e, "cannot apply '%s': namespace '%s' is forbidden",
			label, ns);
		apply_fail(r, ns, s->name, &e);
		return;
	}
	k = secret_pick_key(s, r->keys, r->nkeys, &e);
	if (!k || sealed_secret_open(s, k, &plain, &e) < 0) {
		err_wrap(&e, "cannot open '%s'%s%s%s", label,
			 one->from ? " (" : "", one->from ? one->from : "",
			 one->from ? ")" : "");
		apply_fail(r, ns, s->name, &e);
		goto out;
	}
	if (kubesecret_plan(r->kc, &plain, ns, k, owner, &plan, &status,
			    &e) < 0) {
		if (status == 403)
			apply_forbid(r, ns, s->name, &e);
		else
			apply_fail(r, ns, s->name,
				   (err_wrap(&e, "cannot read Secret '%s'", label), &e));
		goto out;
	}
	if (plan.action == KUBESECRET_UNCHANGED) {
		r->unchanged++;
		apply_report(r, ns, s->name, "unchanged", &plan, NULL);
		goto out;
	}
	if (!r->dry_run &&
	    kubesecret_apply(r->kc, &plain, ns, k, owner, &status, &e) < 0) {
		if (status == 403)
			apply_forbid(r, ns, s->name, &e);
		else
			apply_fail(r, ns, s->name,
				   (err_wrap(&e, "cannot apply Secret '%s'", label), &e));
		goto out;
	}
	if (plan.action == KUBESECRET_CREATE)
		r->created++;
	else
		r->updated++;
	apply_report(r, ns, s->name,
		     plan.action == KUBESECRET_CREATE ?
		     (r->dry_run ? "would create" : "created") :
		     (r->dry_run ? "would update" : "updated"), &plan, NULL);
out:
	kubesecret_plan_release(&plan);
	sealed_plain_release(&plain);
}

/*
 * Does the file hold a SealedSecret document? Files that only mention the
 * kind (the CRD, RBAC rules) are not ours to load.
 */
static int apply_holds_sealed(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	struct yamltree *t = NULL;
	struct err e = { "" };
	int r = 0;

	if (strbuf_read_file(&sb, path, 0, &e) == 0 &&
	    strstr(sb.buf, SEALED_KIND) != NULL) {
		/* one that does not parse is for sealed_file_load to report */
		if (yamltree_parse_text(&t, path, sb.buf, sb.len, NULL, &e) < 0)
			r = 1;
		for (size_t d = 0; !r && t && d < t->ndocs; d++)
			r = t->docs[d].root &&
				sealed_is_sealed_secret(t->docs[d].root);
	}
	yamltree_free(t);
	strbuf_release(&sb);
	return r;
}

static int cmd_secrets_apply(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "from-repo", no_argument, NULL, 'R' },
		{ "from-cluster", no_argument, NULL, 'C' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "dry-run", no_argument, NULL, 'D' },
		{ "kubeconfig", required_argument, NULL, 'K' },
		{ "context", required_argument, NULL, 'X' },
		{ NULL, 0, NULL, 0 },
	};
	const char **keyfiles = calloc((size_t)argc + 1, sizeof(char *));
	struct apply_run r = { 0 };
	struct kube_options ko = { 0 };
	struct monorepo *repo = NULL;
	struct sealed_file *files = NULL;
	struct sealed_secret *objs = NULL;
	struct apply_one *todo = NULL;
	json_t *list = NULL;
	char **found = NULL;
	size_t nkeyfiles = 0, nfiles = 0, nobjs = 0, ntodo = 0;
	int c, from_repo = 0, from_cluster = 0, status = EXIT_FAIL;
	struct err e = { "" };

	if (!keyfiles)
		abort();
	r.ctx = ctx;
	r.report = json_array();
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":k:n:", opts, NULL)) != -1) {
		switch (c) {
		case 'k': keyfiles[nkeyfiles++] = optarg; break;
		case 'R': from_repo = 1; break;
		case 'C': from_cluster = 1; break;
		case 'n': r.only_ns = optarg; break;
		case 'D': r.dry_run = 1; break;
		case 'K': ko.kubeconfig = optarg; break;
		case 'X': ko.context = optarg; break;
		default:
			status = cmd_option_error(ctx, c, argv);
			goto out;
		}
	}
	if (optind < argc) {
		status = cmd_usage_error(ctx, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (from_repo && from_cluster) {
		status = cmd_usage_error(ctx, "--from-repo and --from-cluster do not go together");
		goto out;
	}
	if (!nkeyfiles) {
		status = cmd_usage_error(ctx, "no key: pass -k KEYFILE, the cluster's secret key (repeat it during a rotation)");
		goto out;
	}
	if (keys_secret_load_all(&r.keys, &r.nkeys, keyfiles, nkeyfiles,
				 &e) < 0)
		goto fail;
	if (from_cluster) {
		if (monorepo_open_optional(&repo, ctx->dir, &e) < 0)
			goto fail;
	} else if (monorepo_open(&repo, ctx->dir, &e) < 0) {
		goto fail;
	}
	if (repo && !ko.context)
		ko.context = monorepo_get(repo, "cluster.context");
	if (repo && !ko.kubeconfig)
		ko.kubeconfig = monorepo_get(repo, "cluster.kubeconfig");
	if (kube_client_new(&r.kc, &ko, &e) < 0)
		goto fail;

	if (from_cluster) {
		struct strbuf path = STRBUF_INIT;
		json_t *items;

		strbuf_addstr(&path, KUBESECRET_PATH);
		if (r.only_ns) {
			strbuf_addstr(&path, "/namespaces/");
			http_escape(&path, r.only_ns);
		}
		strbuf_addstr(&path, "/sealedsecrets");
		c = kube_get_json(r.kc, path.buf, &list, NULL, &e);
		strbuf_release(&path);
		if (c < 0) {
			err_wrap(&e, "cannot list the cluster's SealedSecrets");
			goto fail;
		}
		items = json_object_get(list, "items");
		objs = calloc(json_array_size(items) + 1, sizeof(*objs));
		todo = calloc(json_array_size(items) + 1, sizeof(*todo));
		if (!objs || !todo)
			abort();
		for (size_t i = 0; i < json_array_size(items); i++) {
			json_t *o = json_array_get(items, i);
			json_t *meta = json_object_get(o, "metadata");
			const char *ns = json_string_value(json_object_get(meta, "namespace"));
			const char *name = json_string_value(json_object_get(meta, "name"));
			struct err oe = { "" };

			if (kubesecret_from_object(&objs[nobjs], o, &oe) < 0) {
				err_wrap(&oe, "cannot read SealedSecret '%s/%s'",
					 ns ? ns : "", name ? name : "");
				apply_fail(&r, ns ? ns : "", name ? name : "", &oe);
				continue;
			}
			todo[ntodo].s = &objs[nobjs++];
			todo[ntodo].owner.name = name;
			todo[ntodo].owner.uid = json_string_value(json_object_get(meta, "uid"));
			todo[ntodo].has_owner = todo[ntodo].owner.uid != NULL;
			ntodo++;
		}
	} else {
		size_t nfound = dirwalk_yaml(repo->walk, "manifests", &found);

		cmd_warn_skipped(ctx, repo);
		files = calloc(nfound + 1, sizeof(*files));
		if (!files)
			abort();
		for (size_t i = 0; i < nfound; i++) {
			char *abs = monorepo_path(repo, found[i]);

			if (apply_holds_sealed(abs) &&
			    sealed_file_load(&files[nfiles], abs, &e) < 0) {
				/* one bad file does not stop the others */
				r.failed++;
				cmd_fail_err(ctx, &e);
				e.msg[0] = 0;
			}
			if (files[nfiles].nsecrets)
				nfiles++;
			free(abs);
		}
		for (size_t f = 0; f < nfiles; f++)
			ntodo += files[f].nsecrets;
		todo = calloc(ntodo + 1, sizeof(*todo));
		if (!todo)
			abort();
		ntodo = 0;
		for (size_t f = 0; f < nfiles; f++)
			for (size_t i = 0; i < files[f].nsecrets; i++) {
				todo[ntodo].s = &files[f].secrets[i];
				todo[ntodo++].from = files[f].tree->path;
			}
	}
	for (size_t i = 0; i < ntodo; i++)
		apply_secret(&r, &todo[i]);

	if (ctx->json) {
		json_t *doc = json_pack("{s:b, s:i, s:i, s:i, s:i, s:O}",
					"dry_run", r.dry_run, "created",
					(int)r.created, "updated", (int)r.updated,
					"unchanged", (int)r.unchanged, "failed",
					(int)r.failed, "secrets", r.report);
		char *s;

		if (jsonout_check(&r.jo, &e) < 0) {
			json_decref(doc);
			goto fail;
		}
		s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		puts(s);
		free(s);
		json_decref(doc);
	}
	cmd_info(ctx, "%zu SealedSecret%s: %zu %s, %zu %s, %zu unchanged, %zu failed",
		 r.created + r.updated + r.unchanged + r.failed,
		 r.created + r.updated + r.unchanged + r.failed == 1 ? "" : "s",
		 r.created, r.dry_run ? "to create" : "created",
		 r.updated, r.dry_run ? "to update" : "updated",
		 r.unchanged, r.failed);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		err_errno(&e, "cannot write output");
		goto fail;
	}
	status = r.failed ? EXIT_FAIL : EXIT_OK;
	goto out;
fail:
	status = cmd_fail_err(ctx, &e);
out:
	for (size_t i = 0; i < nobjs; i++)
		sealed_secret_release(&objs[i]);
	free(objs);
	for (size_t f = 0; f < nfiles; f++)
		sealed_file_release(&files[f]);
	free(files);
	free(todo);
	dirwalk_free_names(found);
	json_decref(list);
	json_decref(r.report);
	for (size_t i = 0; i < r.nforbidden; i++)
		free(r.forbidden[i]);
	free(r.forbidden);
	for (size_t i = 0; i < r.nkeys; i++)
		keys_secret_free(r.keys[i]);
	free(r.keys);
	free(keyfiles);
	kube_client_free(r.kc);
	monorepo_free(repo);
	return status;
}

const struct cmd_entry cmd_secrets_apply_entry = {
	.name = "secrets apply",
	.usage = "[-k KEYFILE]... [--from-repo | --from-cluster] [-n NS] [--dry-run] [--kubeconfig FILE] [--context NAME]",
	.summary = "open every SealedSecret with the cluster key and write the Secrets that changed",
	.exec = cmd_secrets_apply,
	.secrets = 1,
};

/* ---- install, install-key ---- */

static int cmd_secrets_install(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	char *dir = NULL, **created = NULL, **kept = NULL;
	size_t ncreated = 0, nkept = 0;
	struct monorepo *repo = NULL;
	struct err e = { "" };
	int c, status = EXIT_FAIL;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		default:
			return cmd_option_error(ctx, c, argv);
		}
	}
	if (optind < argc)
		return cmd_usage_error(ctx, "unexpected argument '%s'", argv[optind]);
	if (!out) {
		if (monorepo_open(&repo, ctx->dir, &e) < 0)
			goto fail;
		dir = monorepo_path(repo, SCAFFOLD_SECRETS_DIR);
	} else if (!(dir = strdup(out))) {
		abort();
	}
	if (scaffold_secrets_install(dir, &created, &ncreated, &kept, &nkept,
				     &e) < 0) {
		err_wrap(&e, "cannot write the manifests to '%s'", dir);
		goto fail;
	}
	for (size_t i = 0; i < ncreated; i++)
		printf("created %s\n", created[i]);
	for (size_t i = 0; i < nkept; i++)
		cmd_info(ctx, "kept %s: it exists", kept[i]);
	cmd_info(ctx, "next: apply them, then load the cluster key with 'saasctl secrets install-key -k KEYFILE'");
	status = fflush(stdout) ? cmd_fail(ctx, "cannot write output") : EXIT_OK;
	goto out;
fail:
	status = cmd_fail_err(ctx, &e);
out:
	for (size_t i = 0; i < ncreated; i++)
		free(created[i]);
	for (size_t i = 0; i < nkept; i++)
		free(kept[i]);
	free(created);
	free(kept);
	free(dir);
	monorepo_free(repo);
	return status;
}

const struct cmd_entry cmd_secrets_install_entry = {
	.name = "secrets install",
	.usage = "[--out DIR]",
	.summary = "write the CRD, RBAC and controller manifests of sealed secrets in the cluster",
	.exec = cmd_secrets_install,
};

static int cmd_secrets_install_key(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "kubeconfig", required_argument, NULL, 'K' },
		{ "context", required_argument, NULL, 'X' },
		{ NULL, 0, NULL, 0 },
	};
	const char *keyfile = NULL, *ns = KUBESECRET_NAMESPACE;
	struct kube_options ko = { 0 };
	struct kube_client *kc = NULL;
	struct keys_secret *k = NULL;
	struct monorepo *repo = NULL;
	struct err e = { "" };
	int c, status = EXIT_FAIL;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":k:n:", opts, NULL)) != -1) {
		switch (c) {
		case 'k': keyfile = optarg; break;
		case 'n': ns = optarg; break;
		case 'K': ko.kubeconfig = optarg; break;
		case 'X': ko.context = optarg; break;
		default:
			return cmd_option_error(ctx, c, argv);
		}
	}
	if (optind < argc)
		return cmd_usage_error(ctx, "unexpected argument '%s'", argv[optind]);
	if (!keyfile)
		return cmd_usage_error(ctx, "no key: pass -k KEYFILE, the cluster's secret key");
	if (keys_secret_load(&k, keyfile, &e) < 0 ||
	    monorepo_open_optional(&repo, ctx->dir, &e) < 0)
		goto fail;
	if (repo && !ko.context)
		ko.context = monorepo_get(repo, "cluster.context");
	if (repo && !ko.kubeconfig)
		ko.kubeconfig = monorepo_get(repo, "cluster.kubeconfig");
	if (kube_client_new(&kc, &ko, &e) < 0 ||
	    kubesecret_install_key(kc, ns, k, &e) < 0)
		goto fail;
	cmd_info(ctx, "loaded key ID %s into Secret '%s/%s' as '%s.key'",
		 k->pub.id_hex, ns, KUBESECRET_KEY_SECRET, k->pub.id_hex);
	status = EXIT_OK;
	goto out;
fail:
	status = cmd_fail_err(ctx, &e);
out:
	keys_secret_free(k);
	kube_client_free(kc);
	monorepo_free(repo);
	return status;
}

const struct cmd_entry cmd_secrets_install_key_entry = {
	.name = "secrets install-key",
	.usage = "-k KEYFILE [-n NS] [--kubeconfig FILE] [--context NAME]",
	.summary = "load the cluster's secret key into the cluster as a Secret, through the API",
	.exec = cmd_secrets_install_key,
	.secrets = 1,
};

/* ---- controller ---- */

static void controller_on_signal(int sig)
{
	(void)sig;
	secretctl_interrupt();
}

static void controller_log(void *ud, const char *line)
{
	struct cmd_ctx *ctx = ud;
	char now[32];
	time_t t = time(NULL);
	struct tm tm;

	if (ctx->quiet)
		return;
	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s %s\n", now, line);
}

static int cmd_secrets_controller(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "health-addr", required_argument, NULL, 'H' },
		{ "kubeconfig", required_argument, NULL, 'K' },
		{ "context", required_argument, NULL, 'X' },
		{ NULL, 0, NULL, 0 },
	};
	const char **keyfiles = calloc((size_t)argc + 1, sizeof(char *));
	struct secretctl_options so = { 0 };
	struct kube_options ko = { 0 };
	struct kube_client *kc = NULL;
	struct keys_secret **keys = NULL;
	size_t nkeyfiles = 0, nkeys = 0;
	struct sigaction sa;
	struct err e = { "" };
	int c, status = EXIT_FAIL;

	if (!keyfiles)
		abort();
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":k:n:", opts, NULL)) != -1) {
		switch (c) {
		case 'k': keyfiles[nkeyfiles++] = optarg; break;
		case 'n': so.namespace = optarg; break;
		case 'H': so.health_addr = optarg; break;
		case 'K': ko.kubeconfig = optarg; break;
		case 'X': ko.context = optarg; break;
		default:
			status = cmd_option_error(ctx, c, argv);
			goto out;
		}
	}
	if (optind < argc) {
		status = cmd_usage_error(ctx, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (!nkeyfiles) {
		status = cmd_usage_error(ctx, "no key: pass -k KEYFILE or a folder of key files (the mounted key Secret)");
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = controller_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (keys_secret_load_all(&keys, &nkeys, keyfiles, nkeyfiles, &e) < 0 ||
	    kube_client_new(&kc, &ko, &e) < 0)
		goto fail;
	so.keys = keys;
	so.nkeys = nkeys;
	so.log = controller_log;
	so.ud = ctx;
	if (secretctl_run(kc, &so, &e) < 0)
		goto fail;
	controller_log(ctx, "stopped");
	status = EXIT_OK;
	goto out;
fail:
	status = cmd_fail_err(ctx, &e);
out:
	for (size_t i = 0; i < nkeys; i++)
		keys_secret_free(keys[i]);
	free(keys);
	free(keyfiles);
	kube_client_free(kc);
	return status;
}

const struct cmd_entry cmd_secrets_controller_entry = {
	.name = "secrets controller",
	.usage = "[-k KEYFILE]... [--namespace NS] [--health-addr 127.0.0.1:PORT] [--kubeconfig FILE] [--context NAME]",
	.summary = "keep the Secret of every SealedSecret of the cluster, until stopped",
	.exec = cmd_secrets_controller,
	.secrets = 1,
};
