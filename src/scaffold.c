#define _GNU_SOURCE 1
#include "scaffold.h"
#include "lazygit.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "strbuf.h"

/* ---- templates of a new monorepo ---------------------------------- */

static const char tpl_saasctl_yaml[] =
	"# saasctl settings; see saasctl.yaml(5). Only 'project' is required.\n"
	"# Every value can be overridden by a SAASCTL_* environment variable;\n"
	"# secrets never go in this file.\n"
	"project: @PROJECT@\n"
	"\n"
	"# cluster:\n"
	"#   context: prod                    # kubeconfig context\n"
	"# secrets:\n"
	"#   recipients: [keys/cluster.pub, keys/recovery.pub]\n"
	"# clickhouse:\n"
	"#   url: http://clickhouse.analytics.svc:8123\n"
	"#   user: backup\n"
	"# backups:\n"
	"#   store: s3://@PROJECT@-backups/clickhouse\n"
	"#   databases: [analytics]\n"
	"#   encrypt_to: [keys/backup.pub]\n"
	"#   keep: {last: 3, daily: 7, weekly: 4, monthly: 6}\n"
	"#   ping: clickhouse-backup\n"
	"# healthchecks:\n"
	"#   ping_url: https://hc-ping.com\n"
	"#   checks:\n"
	"#     clickhouse-backup: {schedule: \"0 3 * * *\", tz: UTC, grace: 2h}\n";

static const char tpl_gitignore[] =
	"# Private keys never belong in the repository: only *.pub files are\n"
	"# committed. Keep private keys in a password manager or on the cluster.\n"
	"*.key\n"
	"*.key.*\n"
	"*.sec\n"
	"*.pem\n"
	"id_*\n"
	"!*.pub\n"
	"# Plain secrets before they are sealed, and local environment files.\n"
	"*.secret.yaml\n"
	".env\n"
	".env.*\n"
	"# Terraform state and caches hold credentials too.\n"
	"*.tfstate\n"
	"*.tfstate.*\n"
	".terraform/\n";

static const char tpl_readme[] =
	"# @PROJECT@ infrastructure\n"
	"\n"
	"Everything that runs @PROJECT@, in one repository. The cluster syncs itself\n"
	"from `manifests/`; `saasctl` (see `man saasctl`) reads the same files.\n"
	"\n"
	"```\n"
	"saasctl.yaml            project settings (man saasctl.yaml)\n"
	"terraform/aws/          cloud resources\n"
	"terraform/cloudflare/   DNS and proxy settings\n"
	"manifests/cluster/      cluster services: ingress-nginx, cert-manager, external-dns, monitoring\n"
	"manifests/apps/<app>/   one folder per app\n"
	"keys/                   public keys of the sealed-secret recipients (*.pub only)\n"
	"tasks/                  scripts for disaster recovery and CI\n"
	"```\n"
	"\n"
	"## Everyday commands\n"
	"\n"
	"    saasctl new app web --host www.example.com   # scaffold an app\n"
	"    saasctl apps                                  # what runs where\n"
	"    saasctl lint                                  # check every manifest\n"
	"    saasctl get web Deployment/web                # one resource, as written\n"
	"\n"
	"When things break, read TROUBLESHOOTING.md; when everything is gone,\n"
	"DISASTER.md.\n";

static const char tpl_disaster[] =
	"# Disaster recovery for @PROJECT@\n"
	"\n"
	"What to do when the cluster, the cloud account or the data is gone.\n"
	"Rehearse it: a plan nobody ran is a hope.\n"
	"\n"
	"## The sealed-secrets keys\n"
	"\n"
	"- Generation: `saasctl keygen --name cluster --out keys` and\n"
	"  `saasctl keygen --name recovery --out keys --passphrase`; both .pub files\n"
	"  are listed in saasctl.yaml. The recovery key lives offline, never here.\n"
	"- Loading: `saasctl secrets install-key -k keys/cluster.key`.\n"
	"- Rotation: a new key, `install-key` it, `saasctl secrets rekey`, and retire\n"
	"  the old key once `saasctl secrets verify` reports no problem.\n"
	"- Recovery: the recovery key opens everything (step 4 below).\n"
	"\n"
	"## What you need\n"
	"\n"
	"- This repository (any clone).\n"
	"- The recovery private key for sealed secrets (kept offline, never here).\n"
	"- Credentials for the cloud account and the backup store.\n"
	"\n"
	"## Steps\n"
	"\n"
	"1. Recreate the cloud resources: `terraform -chdir=terraform/aws apply`,\n"
	"   then `terraform -chdir=terraform/cloudflare apply`.\n"
	"2. Point kubectl at the new cluster and set `cluster.context` in saasctl.yaml\n"
	"   (or `SAASCTL_CONTEXT`).\n"
	"3. Install the cluster services in `manifests/cluster/` and the GitOps\n"
	"   controller; it syncs `manifests/apps/`.\n"
	"4. Sealed secrets: the old cluster key died with the cluster; the offline\n"
	"   recovery key opens everything (`saasctl secrets verify -k recovery.key`).\n"
	"   Make a new cluster key (`saasctl keygen --name cluster-2 --out keys`),\n"
	"   re-wrap every SealedSecret with the recovery key\n"
	"   (`saasctl secrets rekey manifests/apps/*/*.sealed.yaml -k recovery.key\n"
	"   --add-recipient keys/cluster-2.pub --remove-recipient keys/cluster.pub`),\n"
	"   list keys/cluster-2.pub in saasctl.yaml, apply\n"
	"   `manifests/cluster/saasctl-secrets/` and load the key:\n"
	"   `saasctl secrets install-key -k keys/cluster-2.key`.\n"
	"5. Restore ClickHouse from the newest good backup (the backup key is\n"
	"   offline with the recovery key; the store's credentials are in the\n"
	"   environment, `SAASCTL_CLICKHOUSE_PASSWORD` too, never on a command line):\n"
	"   - `saasctl backup list` shows every backup, complete or not; only a\n"
	"     complete one is restored.\n"
	"   - `saasctl backup verify ID --read-data -k backup.key` reads every object\n"
	"     (in the base backups of an incremental too) and checks its hash.\n"
	"   - `saasctl restore clickhouse ID -k backup.key` creates the databases and\n"
	"     tables and moves each partition in only after its hash, rows and\n"
	"     checksum were checked. A rerun after a crash skips what is already\n"
	"     there. `--db-map analytics=analytics_restored` restores beside the\n"
	"     live data; `--drop-existing` replaces tables that hold other data.\n"
	"   - A nightly backup that was killed: `saasctl backup clickhouse --resume`\n"
	"     finishes it, reusing the partitions already uploaded and intact.\n"
	"6. Check: `saasctl apps`, `saasctl lint`, and the health checks.\n"
	"\n"
	"## Restore drills\n"
	"\n"
	"A backup nobody restored is a hope too. Every week, from cron or CI:\n"
	"\n"
	"    saasctl backup drill -k backup.key --ping clickhouse-drill\n"
	"\n"
	"restores the newest complete backup into scratch databases (`drill_` plus\n"
	"each name; `--url` drills on another server, `--scratch-prefix` changes the\n"
	"names), compares every partition's rows and checksum with the manifest,\n"
	"drops the scratch databases whatever happens, and exits 1 naming the\n"
	"table and partition that differ. A drill that fails is an incident: run\n"
	"`saasctl backup verify --all --read-data -k backup.key` and take a new\n"
	"backup before anything else. A drill killed with SIGKILL leaves its\n"
	"scratch databases; drop them by hand (the next drill refuses to start).\n"
	"examples/crontab in saasctl's sources schedules backup, prune, a weekly\n"
	"`verify --read-data` and the drill.\n"
	"\n"
	"Write down here how long each step took the last time you rehearsed it,\n"
	"and the duration of the last drill (its verdict line gives it).\n";

/*
 * The in-cluster half of sealed secrets (secrets install, and init): the
 * CRD, a namespace, a ServiceAccount, the least RBAC the controller needs,
 * and its Deployment. The cluster key is a Secret (secrets install-key)
 * mounted read-only.
 */
static const char tpl_sec_crd[] =
	"# The SealedSecret resource (saasctl.dev/v1), with a status subresource\n"
	"# the controller writes its Synced condition to.\n"
	"apiVersion: apiextensions.k8s.io/v1\n"
	"kind: CustomResourceDefinition\n"
	"metadata:\n"
	"  name: sealedsecrets.saasctl.dev\n"
	"spec:\n"
	"  group: saasctl.dev\n"
	"  scope: Namespaced\n"
	"  names:\n"
	"    plural: sealedsecrets\n"
	"    singular: sealedsecret\n"
	"    kind: SealedSecret\n"
	"    listKind: SealedSecretList\n"
	"  versions:\n"
	"    - name: v1\n"
	"      served: true\n"
	"      storage: true\n"
	"      subresources:\n"
	"        status: {}\n"
	"      additionalPrinterColumns:\n"
	"        - name: Synced\n"
	"          type: string\n"
	"          jsonPath: .status.conditions[0].status\n"
	"        - name: Reason\n"
	"          type: string\n"
	"          jsonPath: .status.conditions[0].reason\n"
	"      schema:\n"
	"        openAPIV3Schema:\n"
	"          type: object\n"
	"          required: [spec]\n"
	"          properties:\n"
	"            spec:\n"
	"              type: object\n"
	"              required: [encryptedData]\n"
	"              properties:\n"
	"                scope:\n"
	"                  type: string\n"
	"                  enum: [strict, namespace, cluster]\n"
	"                recipients:\n"
	"                  type: array\n"
	"                  items:\n"
	"                    type: string\n"
	"                    pattern: '^[0-9a-f]{16}$'\n"
	"                encryptedData:\n"
	"                  type: object\n"
	"                  additionalProperties:\n"
	"                    type: string\n"
	"                template:\n"
	"                  type: object\n"
	"                  properties:\n"
	"                    type:\n"
	"                      type: string\n"
	"                    metadata:\n"
	"                      type: object\n"
	"                      properties:\n"
	"                        labels:\n"
	"                          type: object\n"
	"                          additionalProperties: {type: string}\n"
	"                        annotations:\n"
	"                          type: object\n"
	"                          additionalProperties: {type: string}\n"
	"            status:\n"
	"              type: object\n"
	"              properties:\n"
	"                observedGeneration:\n"
	"                  type: integer\n"
	"                conditions:\n"
	"                  type: array\n"
	"                  items:\n"
	"                    type: object\n"
	"                    required: [type, status]\n"
	"                    properties:\n"
	"                      type: {type: string}\n"
	"                      status: {type: string, enum: [\"True\", \"False\", Unknown]}\n"
	"                      reason: {type: string}\n"
	"                      message: {type: string}\n"
	"                      lastTransitionTime: {type: string, format: date-time}\n";

static const char tpl_sec_namespace[] =
	"apiVersion: v1\n"
	"kind: Namespace\n"
	"metadata:\n"
	"  name: saasctl-secrets\n"
	"---\n"
	"apiVersion: v1\n"
	"kind: ServiceAccount\n"
	"metadata:\n"
	"  name: saasctl-secrets\n"
	"  namespace: saasctl-secrets\n"
	"automountServiceAccountToken: true\n";

static const char tpl_sec_rbac[] =
	"# What the controller may do, and nothing more: read SealedSecrets and\n"
	"# write their status, write Secrets (never list them), and report\n"
	"# failures as Events.\n"
	"apiVersion: rbac.authorization.k8s.io/v1\n"
	"kind: ClusterRole\n"
	"metadata:\n"
	"  name: saasctl-secrets\n"
	"rules:\n"
	"  - apiGroups: [saasctl.dev]\n"
	"    resources: [sealedsecrets]\n"
	"    verbs: [get, list, watch]\n"
	"  - apiGroups: [saasctl.dev]\n"
	"    resources: [sealedsecrets/status]\n"
	"    verbs: [update]\n"
	"  - apiGroups: [\"\"]\n"
	"    resources: [secrets]\n"
	"    verbs: [get, create, patch]\n"
	"  - apiGroups: [\"\"]\n"
	"    resources: [events]\n"
	"    verbs: [create]\n"
	"---\n"
	"apiVersion: rbac.authorization.k8s.io/v1\n"
	"kind: ClusterRoleBinding\n"
	"metadata:\n"
	"  name: saasctl-secrets\n"
	"roleRef:\n"
	"  apiGroup: rbac.authorization.k8s.io\n"
	"  kind: ClusterRole\n"
	"  name: saasctl-secrets\n"
	"subjects:\n"
	"  - kind: ServiceAccount\n"
	"    name: saasctl-secrets\n"
	"    namespace: saasctl-secrets\n";

static const char tpl_sec_deployment[] =
	"# The controller: opens SealedSecrets with the cluster key (the Secret\n"
	"# saasctl-cluster-key, loaded by 'saasctl secrets install-key') and\n"
	"# writes their Secrets. It starts in milliseconds: no key is generated.\n"
	"apiVersion: apps/v1\n"
	"kind: Deployment\n"
	"metadata:\n"
	"  name: saasctl-secrets\n"
	"  namespace: saasctl-secrets\n"
	"  labels:\n"
	"    app.kubernetes.io/name: saasctl-secrets\n"
	"spec:\n"
	"  replicas: 1\n"
	"  strategy:\n"
	"    type: Recreate\n"
	"  selector:\n"
	"    matchLabels:\n"
	"      app.kubernetes.io/name: saasctl-secrets\n"
	"  template:\n"
	"    metadata:\n"
	"      labels:\n"
	"        app.kubernetes.io/name: saasctl-secrets\n"
	"    spec:\n"
	"      serviceAccountName: saasctl-secrets\n"
	"      securityContext:\n"
	"        runAsNonRoot: true\n"
	"        runAsUser: 65532\n"
	"        runAsGroup: 65532\n"
	"        seccompProfile:\n"
	"          type: RuntimeDefault\n"
	"      containers:\n"
	"        - name: controller\n"
	"          image: ghcr.io/saasctl/saasctl:" SAASCTL_VERSION "\n"
	"          args: [secrets, controller, -k, /var/run/saasctl/keys,\n"
	"                 --health-addr, \"0.0.0.0:8080\"]\n"
	"          ports:\n"
	"            - name: health\n"
	"              containerPort: 8080\n"
	"          livenessProbe:\n"
	"            httpGet: {path: /healthz, port: health}\n"
	"            periodSeconds: 10\n"
	"          readinessProbe:\n"
	"            httpGet: {path: /healthz, port: health}\n"
	"            periodSeconds: 5\n"
	"          resources:\n"
	"            requests: {cpu: 10m, memory: 16Mi}\n"
	"            limits: {memory: 64Mi}\n"
	"          securityContext:\n"
	"            allowPrivilegeEscalation: false\n"
	"            readOnlyRootFilesystem: true\n"
	"            capabilities:\n"
	"              drop: [ALL]\n"
	"          volumeMounts:\n"
	"            - name: keys\n"
	"              mountPath: /var/run/saasctl/keys\n"
	"              readOnly: true\n"
	"      volumes:\n"
	"        # made by 'saasctl secrets install-key', not by a manifest (a\n"
	"        # private key is never committed); until then the controller\n"
	"        # exits saying so\n"
	"        - name: keys\n"
	"          secret:\n"
	"            secretName: saasctl-cluster-key\n"
	"            optional: true\n"
	"            defaultMode: 0400\n";

const struct scaffold_file scaffold_secrets_files[] = {
	{ "crd.yaml", tpl_sec_crd },
	{ "namespace.yaml", tpl_sec_namespace },
	{ "rbac.yaml", tpl_sec_rbac },
	{ "deployment.yaml", tpl_sec_deployment },
	{ NULL, NULL },
};

static const char tpl_troubleshooting[] =
	"# Troubleshooting @PROJECT@\n"
	"\n"
	"Symptoms first, then what to look at.\n"
	"\n"
	"## A deploy did not roll out\n"
	"\n"
	"- `saasctl lint` for manifests the cluster will refuse.\n"
	"- `saasctl logs APP` for crash loops; check probes and resource limits.\n"
	"\n"
	"## 502 or 504 from the ingress\n"
	"\n"
	"- The Service selector must match the pod labels, and the Ingress backend\n"
	"  must name the Service and a port it has: `saasctl lint` checks both.\n"
	"\n"
	"## TLS certificate not issued\n"
	"\n"
	"- Every Ingress host needs a TLS entry and the\n"
	"  `cert-manager.io/cluster-issuer` annotation; look at the cert-manager logs.\n"
	"\n"
	"## A cron job went quiet\n"
	"\n"
	"- Its health check alerts; `saasctl run` wraps a job and pings on success.\n";

/* ---- small file helpers ---------------------------------------------- */

/* Write a new file; an existing one is never replaced (O_EXCL). */
static int write_new_file(const char *path, const char *data, size_t len,
			  struct err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	size_t off = 0;

	if (fd < 0)
		return err_errno(e, "cannot create '%s'", path);
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err_errno(e, "cannot write '%s'", path);
			close(fd);
			unlink(path);
			return -1;
		}
		off += (size_t)n;
	}
	if (close(fd) < 0) {
		err_errno(e, "cannot write '%s'", path);
		unlink(path);
		return -1;
	}
	return 0;
}

static char *path_join(const char *a, const char *b)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_init(&sb, 0);
	strbuf_addf(&sb, "%s/%s", a, b);
	return strbuf_detach(&sb, NULL);
}

static void push(char ***arr, size_t *n, const char *s)
{
	char **na = realloc(*arr, (*n + 1) * sizeof(**arr));
	char *copy = strdup(s);

	if (!na || !copy)
		abort();
	na[*n] = copy;
	*arr = na;
	(*n)++;
}

static void free_list(char **arr, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(arr[i]);
	free(arr);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

/* Remove a tree we created ourselves (a .git we made, a staging dir). */
static void remove_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* mkdir -p, remembering the folders it made (relative to base). */
static int make_dirs(const char *base, const char *rel, char ***made,
		     size_t *nmade, struct err *e)
{
	char buf[PATH_MAX];
	size_t blen = strlen(base);

	if (blen + 1 + strlen(rel) + 1 > sizeof(buf))
		return err_set(e, "cannot create '%s/%s': path too long",
			       base, rel);
	for (const char *p = rel;; p++) {
		if (*p == '/' || !*p) {
			snprintf(buf, sizeof(buf), "%s/%.*s", base,
				 (int)(p - rel), rel);
			if (mkdir(buf, 0755) == 0)
				push(made, nmade, buf);
			else if (errno != EEXIST)
				return err_errno(e, "cannot create '%s'", buf);
			if (!*p)
				break;
		}
	}
	return 0;
}

/* ---- init ------------------------------------------------------------ */

/* A project name from the folder name: lowercase letters, digits, '-'. */
static void project_name(const char *abs, char *out, size_t cap)
{
	const char *base = strrchr(abs, '/');
	size_t n = 0;

	base = base && base[1] ? base + 1 : abs;
	for (const char *p = base; *p && n + 1 < cap && n < 63; p++) {
		unsigned char c = (unsigned char)*p;

		if (isalnum(c))
			out[n++] = (char)tolower(c);
		else if (n && out[n - 1] != '-')
			out[n++] = '-';
	}
	while (n && out[n - 1] == '-')
		n--;
	out[n] = '\0';
	if (!n)
		snprintf(out, cap, "acme");
}

static int dir_is_empty(const char *dir, int *empty, struct err *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return err_errno(e, "cannot read '%s'", dir);
	*empty = 1;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			*empty = 0;
			break;
		}
	}
	closedir(d);
	return 0;
}

static int git_fail(struct err *e, const char *what)
{
	const git_error *ge = git_error_last();

	return err_set(e, "%s: %s", what,
		       ge && ge->message ? ge->message : "libgit2 failed");
}

/* The author of the first commit: git's config, then the environment. */
static int make_signature(git_repository *repo, git_signature **sig)
{
	const char *name = getenv("GIT_AUTHOR_NAME");
	const char *email = getenv("GIT_AUTHOR_EMAIL");
	char host[256] = "localhost", fallback[320];

	if (name && *name && email && *email)
		return git_signature_now(sig, name, email);
	if (git_signature_default(sig, repo) == 0)
		return 0;
	if (!name || !*name)
		name = getenv("USER") && *getenv("USER") ? getenv("USER") : "saasctl";
	if (!email || !*email) {
		gethostname(host, sizeof(host) - 1);
		snprintf(fallback, sizeof(fallback), "%s@%s", name, host);
		email = fallback;
	}
	return git_signature_now(sig, name, email);
}

/* The branch of a new repository: init.defaultBranch, else "main". */
static char *default_branch(void)
{
	git_config *cfg = NULL;
	git_buf buf = { 0 };
	char *out = NULL;

	if (git_config_open_default(&cfg) == 0 &&
	    git_config_get_string_buf(&buf, cfg, "init.defaultBranch") == 0 &&
	    buf.ptr && *buf.ptr)
		out = strdup(buf.ptr);
	git_buf_dispose(&buf);
	git_config_free(cfg);
	return out ? out : strdup("main");
}

static int commit_files(const char *dir, char **files, size_t nfiles,
			struct scaffold_init_result *res, int *made_repo,
			struct err *e)
{
	git_repository *repo = NULL;
	git_repository_init_options opts;
	git_index *index = NULL;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	git_reference *head = NULL;
	git_commit *parent = NULL;
	const git_commit *parents[1];
	git_oid tree_id, commit_id;
	char *branch = NULL, *head_ref = NULL;
	int rc = -1;

	*made_repo = 0;
	if (lazygit_load(e) < 0)
		return -1;
	git_libgit2_init();
	if (git_repository_open_ext(&repo, dir, GIT_REPOSITORY_OPEN_NO_SEARCH,
				    NULL) == 0) {
		res->reused_repo = 1;
	} else {
		git_repository_init_options_init(&opts,
				GIT_REPOSITORY_INIT_OPTIONS_VERSION);
		opts.flags = GIT_REPOSITORY_INIT_MKPATH |
			     GIT_REPOSITORY_INIT_NO_REINIT;
		branch = default_branch();
		if (asprintf(&head_ref, "refs/heads/%s", branch) < 0)
			abort();
		opts.initial_head = branch;
		if (git_repository_init_ext(&repo, dir, &opts) < 0) {
			git_fail(e, "git");
			err_wrap(e, "cannot initialise a git repository in '%s'", dir);
			goto out;
		}
		*made_repo = 1;
	}
	if (git_repository_index(&index, repo) < 0) {
		git_fail(e, "cannot open the git index");
		goto out;
	}
	for (size_t i = 0; i < nfiles; i++) {
		if (git_index_add_bypath(index, files[i]) < 0) {
			git_fail(e, "cannot add a file to git");
			err_wrap(e, "'%s'", files[i]);
			goto out;
		}
	}
	if (git_index_write(index) < 0 ||
	    git_index_write_tree(&tree_id, index) < 0 ||
	    git_tree_lookup(&tree, repo, &tree_id) < 0) {
		git_fail(e, "cannot write the git tree");
		goto out;
	}
	if (make_signature(repo, &sig) < 0) {
		git_fail(e, "cannot make a commit signature");
		goto out;
	}
	if (git_repository_head(&head, repo) == 0)
		git_commit_lookup(&parent, repo, git_reference_target(head));
	parents[0] = parent;
	if (git_commit_create(&commit_id, repo, "HEAD", sig, sig, NULL,
			      "Lay out the monorepo with saasctl init\n",
			      tree, parent ? 1 : 0, parents) < 0) {
		git_fail(e, "cannot commit");
		goto out;
	}
	git_oid_tostr(res->commit, sizeof(res->commit), &commit_id);
	rc = 0;
out:
	git_commit_free(parent);
	git_reference_free(head);
	git_signature_free(sig);
	git_tree_free(tree);
	git_index_free(index);
	git_repository_free(repo);
	git_libgit2_shutdown();
	free(branch);
	free(head_ref);
	return rc;
}

/* Append tpl with every @PROJECT@ replaced by name. */
static void add_template(struct strbuf *sb, const char *tpl, const char *name)
{
	static const char mark[] = "@PROJECT@";
	const char *p;

	while ((p = strstr(tpl, mark))) {
		strbuf_add(sb, tpl, (size_t)(p - tpl));
		strbuf_addstr(sb, name);
		tpl = p + sizeof(mark) - 1;
	}
	strbuf_addstr(sb, tpl);
}

struct init_file {
	const char *path;
	const char *tpl;	/* @PROJECT@ stands for the project name */
};

static const struct init_file init_files[] = {
	{ "saasctl.yaml", tpl_saasctl_yaml },
	{ "README.md", tpl_readme },
	{ "DISASTER.md", tpl_disaster },
	{ "TROUBLESHOOTING.md", tpl_troubleshooting },
	{ ".gitignore", tpl_gitignore },
	{ "manifests/apps/.gitkeep", "" },
	{ "manifests/cluster/saasctl-secrets/crd.yaml", tpl_sec_crd },
	{ "manifests/cluster/saasctl-secrets/namespace.yaml", tpl_sec_namespace },
	{ "manifests/cluster/saasctl-secrets/rbac.yaml", tpl_sec_rbac },
	{ "manifests/cluster/saasctl-secrets/deployment.yaml", tpl_sec_deployment },
	{ "terraform/aws/.gitkeep", "" },
	{ "terraform/cloudflare/.gitkeep", "" },
	{ "keys/.gitkeep", "" },
	{ "tasks/.gitkeep", "" },
};

int scaffold_init(const char *dir, int force,
		  struct scaffold_init_result *res, struct err *e)
{
	char **made_dirs = NULL, **made_files = NULL;
	size_t nmade_dirs = 0, nmade_files = 0;
	char abs[PATH_MAX], name[64], *gitdir = NULL;
	struct strbuf text = STRBUF_INIT;
	struct stat st;
	int empty = 0, made_repo = 0, rc = -1;

	memset(res, 0, sizeof(*res));
	strbuf_init(&text, 0);
	if (stat(dir, &st) < 0) {
		if (errno != ENOENT) {
			err_errno(e, "cannot use '%s'", dir);
			goto out;
		}
		if (make_dirs(dir[0] == '/' ? "" : ".", dir[0] == '/' ? dir + 1 : dir,
			      &made_dirs, &nmade_dirs, e) < 0)
			goto out;
	} else if (!S_ISDIR(st.st_mode)) {
		err_set(e, "cannot use '%s': not a folder", dir);
		goto out;
	} else {
		if (dir_is_empty(dir, &empty, e) < 0)
			goto out;
		if (!empty && !force) {
			err_set(e, "cannot initialise '%s': the folder is not empty "
				"(--force adds what is missing, keeping every file)",
				dir);
			goto out;
		}
	}
	if (!realpath(dir, abs)) {
		err_errno(e, "cannot resolve '%s'", dir);
		goto out;
	}
	project_name(abs, name, sizeof(name));

	for (size_t i = 0; i < sizeof(init_files) / sizeof(init_files[0]); i++) {
		const struct init_file *f = &init_files[i];
		char *full = path_join(dir, f->path);
		const char *slash = strrchr(f->path, '/');

		if (lstat(full, &st) == 0) {
			push(&res->kept, &res->nkept, f->path);
			free(full);
			continue;
		}
		if (slash) {
			char sub[256];

			snprintf(sub, sizeof(sub), "%.*s",
				 (int)(slash - f->path), f->path);
			if (make_dirs(dir, sub, &made_dirs, &nmade_dirs, e) < 0) {
				free(full);
				goto out;
			}
		}
		strbuf_reset(&text);
		add_template(&text, f->tpl, name);
		if (write_new_file(full, text.buf, text.len, e) < 0) {
			free(full);
			goto out;
		}
		push(&made_files, &nmade_files, full);
		push(&res->created, &res->ncreated, f->path);
		free(full);
	}

	if (res->ncreated &&
	    commit_files(dir, res->created, res->ncreated, res, &made_repo,
			 e) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0) {
		/* Leave the folder as we found it. */
		if (made_repo) {
			gitdir = path_join(dir, ".git");
			remove_tree(gitdir);
		}
		for (size_t i = nmade_files; i-- > 0;)
			unlink(made_files[i]);
		for (size_t i = nmade_dirs; i-- > 0;)
			rmdir(made_dirs[i]);
		scaffold_init_result_release(res);
	}
	free(gitdir);
	free_list(made_files, nmade_files);
	free_list(made_dirs, nmade_dirs);
	strbuf_release(&text);
	return rc;
}

void scaffold_init_result_release(struct scaffold_init_result *res)
{
	free_list(res->created, res->ncreated);
	free_list(res->kept, res->nkept);
	res->created = res->kept = NULL;
	res->ncreated = res->nkept = 0;
}

/* ---- new app --------------------------------------------------------- */

int scaffold_valid_label(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) ||
		      isdigit((unsigned char)s[i]) || s[i] == '-'))
			return 0;
	return 1;
}

int scaffold_valid_host(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (!n || n > 253 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.' || !c) {
			if (!label || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!(islower(c) || isdigit(c) || c == '-' ||
		      (c == '*' && i == 0 && s[1] == '.')))
			return 0;
		if (c == '-' && label == 0)
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

int scaffold_image_pinned(const char *image)
{
	const char *slash = strrchr(image, '/');
	const char *last = slash ? slash + 1 : image;
	const char *colon = strrchr(last, ':');

	if (strchr(image, '@'))
		return 1;
	return colon && colon[1] && strcmp(colon + 1, "latest");
}

static int valid_image(const char *s)
{
	if (!*s)
		return 0;
	for (const char *p = s; *p; p++)
		if (!(isalnum((unsigned char)*p) || strchr("./_:@-", *p)))
			return 0;
	return 1;
}

static void tpl_metadata(struct strbuf *sb, const struct scaffold_app *a,
			 const char *name)
{
	strbuf_addf(sb,
		    "metadata:\n"
		    "  name: %s\n"
		    "  namespace: %s\n"
		    "  labels:\n"
		    "    app: %s\n",
		    name, a->namespace, a->name);
}

static void tpl_deployment(struct strbuf *sb, const struct scaffold_app *a)
{
	strbuf_addstr(sb, "apiVersion: apps/v1\nkind: Deployment\n");
	tpl_metadata(sb, a, a->name);
	strbuf_addf(sb,
		"spec:\n"
		"  # No replicas here: hpa.yaml scales it between %d and %d.\n"
		"  selector:\n"
		"    matchLabels:\n"
		"      app: %s\n"
		"  template:\n"
		"    metadata:\n"
		"      labels:\n"
		"        app: %s\n"
		"    spec:\n"
		"      containers:\n"
		"        - name: %s\n"
		"          image: %s\n"
		"          ports:\n"
		"            - name: http\n"
		"              containerPort: %d\n"
		"          envFrom:\n"
		"            - configMapRef:\n"
		"                name: %s-config\n"
		"          resources:\n"
		"            requests:\n"
		"              cpu: 100m\n"
		"              memory: 128Mi\n"
		"            limits:\n"
		"              cpu: \"1\"\n"
		"              memory: 512Mi\n"
		"          readinessProbe:\n"
		"            httpGet:\n"
		"              path: /healthz\n"
		"              port: http\n"
		"            periodSeconds: 5\n"
		"          livenessProbe:\n"
		"            httpGet:\n"
		"              path: /healthz\n"
		"              port: http\n"
		"            initialDelaySeconds: 10\n"
		"            periodSeconds: 10\n",
		a->min_replicas, a->max_replicas, a->name, a->name, a->name,
		a->image, a->port, a->name);
}

static void tpl_service(struct strbuf *sb, const struct scaffold_app *a)
{
	strbuf_addstr(sb, "apiVersion: v1\nkind: Service\n");
	tpl_metadata(sb, a, a->name);
	strbuf_addf(sb,
		"spec:\n"
		"  selector:\n"
		"    app: %s\n"
		"  ports:\n"
		"    - name: http\n"
		"      port: %d\n"
		"      targetPort: http\n",
		a->name, a->port);
}

static void tpl_ingress(struct strbuf *sb, const struct scaffold_app *a)
{
	strbuf_addstr(sb, "apiVersion: networking.k8s.io/v1\nkind: Ingress\n");
	tpl_metadata(sb, a, a->name);
	strbuf_addf(sb,
		"  annotations:\n"
		"    cert-manager.io/cluster-issuer: letsencrypt-prod\n"
		"    nginx.ingress.kubernetes.io/limit-rpm: \"%d\"\n"
		"    external-dns.alpha.kubernetes.io/cloudflare-proxied: \"true\"\n"
		"spec:\n"
		"  ingressClassName: nginx\n"
		"  tls:\n"
		"    - secretName: %s-tls\n"
		"      hosts:\n",
		a->rpm, a->name);
	for (size_t i = 0; i < a->nhosts; i++)
		strbuf_addf(sb, "        - %s\n", a->hosts[i]);
	strbuf_addstr(sb, "  rules:\n");
	for (size_t i = 0; i < a->nhosts; i++)
		strbuf_addf(sb,
			"    - host: %s\n"
			"      http:\n"
			"        paths:\n"
			"          - path: /\n"
			"            pathType: Prefix\n"
			"            backend:\n"
			"              service:\n"
			"                name: %s\n"
			"                port:\n"
			"                  name: http\n",
			a->hosts[i], a->name);
}

static void tpl_hpa(struct strbuf *sb, const struct scaffold_app *a)
{
	strbuf_addstr(sb, "apiVersion: autoscaling/v2\n"
			  "kind: HorizontalPodAutoscaler\n");
	tpl_metadata(sb, a, a->name);
	strbuf_addf(sb,
		"spec:\n"
		"  scaleTargetRef:\n"
		"    apiVersion: apps/v1\n"
		"    kind: Deployment\n"
		"    name: %s\n"
		"  minReplicas: %d\n"
		"  maxReplicas: %d\n"
		"  metrics:\n"
		"    - type: Resource\n"
		"      resource:\n"
		"        name: cpu\n"
		"        target:\n"
		"          type: Utilization\n"
		"          averageUtilization: %d\n",
		a->name, a->min_replicas, a->max_replicas, a->cpu_target);
}

static void tpl_configmap(struct strbuf *sb, const struct scaffold_app *a)
{
	char cm[80];

	snprintf(cm, sizeof(cm), "%s-config", a->name);
	strbuf_addstr(sb, "apiVersion: v1\nkind: ConfigMap\n");
	tpl_metadata(sb, a, cm);
	strbuf_addf(sb,
		"# Plain settings only: secrets go in a SealedSecret (saasctl seal).\n"
		"data:\n"
		"  PORT: \"%d\"\n"
		"  LOG_LEVEL: info\n",
		a->port);
}

static const struct {
	const char *file;
	void (*render)(struct strbuf *sb, const struct scaffold_app *a);
} app_files[] = {
	{ "deployment.yaml", tpl_deployment },
	{ "service.yaml", tpl_service },
	{ "ingress.yaml", tpl_ingress },
	{ "hpa.yaml", tpl_hpa },
	{ "configmap.yaml", tpl_configmap },
};

int scaffold_new_app(const char *root, const struct scaffold_app *a,
		     char ***files, size_t *nfiles, struct err *e)
{
	char **made_dirs = NULL;
	size_t nmade_dirs = 0;
	char *apps = NULL, *final = NULL, *stage = NULL;
	struct strbuf sb = STRBUF_INIT;
	struct stat st;
	int rc = -1;

	*files = NULL;
	*nfiles = 0;
	strbuf_init(&sb, 0);
	if (!scaffold_valid_label(a->name)) {
		err_set(e, "invalid app name '%s': use lowercase letters, "
			"digits and '-' (at most 63)", a->name);
		goto out;
	}
	if (!scaffold_valid_label(a->namespace)) {
		err_set(e, "invalid namespace '%s': use lowercase letters, "
			"digits and '-' (at most 63)", a->namespace);
		goto out;
	}
	for (size_t i = 0; i < a->nhosts; i++)
		if (!scaffold_valid_host(a->hosts[i])) {
			err_set(e, "invalid host '%s': not a lowercase DNS name",
				a->hosts[i]);
			goto out;
		}
	if (!valid_image(a->image)) {
		err_set(e, "invalid image '%s'", a->image);
		goto out;
	}
	if (!scaffold_image_pinned(a->image)) {
		err_set(e, "image '%s' has no version tag: pin one "
			"(name:1.2.3 or name@sha256:...), not :latest", a->image);
		goto out;
	}

	if (make_dirs(root, "manifests/apps", &made_dirs, &nmade_dirs, e) < 0)
		goto out;
	apps = path_join(root, "manifests/apps");
	final = path_join(apps, a->name);
	if (lstat(final, &st) == 0) {
		err_set(e, "app '%s' already exists in 'manifests/apps/%s'",
			a->name, a->name);
		goto out;
	}
	/* Build the folder aside, then rename it into place: whole or not. */
	if (asprintf(&stage, "%s/.%s.new-XXXXXX", apps, a->name) < 0)
		abort();
	if (!mkdtemp(stage)) {
		err_errno(e, "cannot create a folder in '%s'", apps);
		free(stage);
		stage = NULL;
		goto out;
	}
	chmod(stage, 0755);
	for (size_t i = 0; i < sizeof(app_files) / sizeof(app_files[0]); i++) {
		char *p = path_join(stage, app_files[i].file);
		int w;

		strbuf_reset(&sb);
		app_files[i].render(&sb, a);
		w = write_new_file(p, sb.buf, sb.len, e);
		free(p);
		if (w < 0)
			goto out;
	}
	if (renameat2(AT_FDCWD, stage, AT_FDCWD, final, RENAME_NOREPLACE) < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY)
			err_set(e, "app '%s' already exists in 'manifests/apps/%s'",
				a->name, a->name);
		else
			err_errno(e, "cannot create 'manifests/apps/%s'",
				  a->name);
		goto out;
	}
	free(stage);
	stage = NULL;
	for (size_t i = 0; i < sizeof(app_files) / sizeof(app_files[0]); i++) {
		char *rel = NULL;

		if (asprintf(&rel, "manifests/apps/%s/%s", a->name,
			     app_files[i].file) < 0)
			abort();
		push(files, nfiles, rel);
		free(rel);
	}
	rc = 0;
out:
	if (stage)
		remove_tree(stage);
	free(stage);
	free(apps);
	free(final);
	free_list(made_dirs, nmade_dirs);
	strbuf_release(&sb);
	return rc;
}

int scaffold_secrets_install(const char *dir, char ***created,
			     size_t *ncreated, char ***kept, size_t *nkept,
			     struct err *e)
{
	char **made_dirs = NULL;
	size_t nmade_dirs = 0;
	struct stat st;

	*created = *kept = NULL;
	*ncreated = *nkept = 0;
	if (make_dirs(dir[0] == '/' ? "" : ".", dir[0] == '/' ? dir + 1 : dir,
		      &made_dirs, &nmade_dirs, e) < 0)
		return -1;
	for (size_t i = 0; i < nmade_dirs; i++)
		free(made_dirs[i]);
	free(made_dirs);
	for (const struct scaffold_file *f = scaffold_secrets_files; f->path; f++) {
		char *full = path_join(dir, f->path);

		if (lstat(full, &st) == 0) {
			push(kept, nkept, full);
		} else if (write_new_file(full, f->text, strlen(f->text), e) < 0) {
			free(full);
			return -1;
		} else {
			push(created, ncreated, full);
		}
		free(full);
	}
	return 0;
}
