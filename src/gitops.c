/*
 * GitOps plumbing on libgit2. See gitops.h for what each call promises.
 *
 * Commits are built from blobs and trees in the object database, never by
 * staging the work tree, so unrelated local changes are never committed;
 * the work tree follows afterwards with a safe checkout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <git2/sys/transport.h>

#include <libssh2.h>
#include <sodium.h>

#include "gitops.h"
#include "lazygit.h"
#include "log.h"

/* libgit2 asks again and again while a server refuses; stop after this. */
#define GITOPS_MAX_AUTH_ATTEMPTS 6
/* Server progress and hook output kept for error messages. */
#define GITOPS_REMOTE_MSG_MAX 4096

/* err_set() with libgit2's last error as the cause. */
static int git_fail(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int git_fail(struct err *e, const char *fmt, ...)
{
	const git_error *ge = git_error_last();
	char what[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_set(e, "%s: %s", what,
		       ge && ge->message ? ge->message : "unknown libgit2 error");
}

int gitops_open(struct gitops **out, const char *dir, struct err *e)
{
	struct gitops *g = NULL;
	git_reference *head = NULL;
	const char *wd;
	int rc = -1, err;

	*out = NULL;
	if (lazygit_load(e) < 0)
		return -1;
	git_libgit2_init();
	g = calloc(1, sizeof(*g));
	if (!g) {
		err_set(e, "out of memory");
		git_libgit2_shutdown();
		return -1;
	}
	if (git_repository_open_ext(&g->repo, dir, 0, NULL) < 0) {
		err_set(e, "'%s' is not in a git repository", dir);
		goto out;
	}
	wd = git_repository_workdir(g->repo);
	if (!wd) {
		err_set(e, "'%s' is a bare repository", dir);
		goto out;
	}
	g->workdir = strdup(wd);
	err = git_repository_head(&head, g->repo);
	if (err == GIT_EUNBORNBRANCH) {
		g->unborn = 1;
	} else if (err < 0) {
		git_fail(e, "cannot read HEAD of '%s'", wd);
		goto out;
	}
	if (!git_repository_head_detached(g->repo)) {
		git_reference *sym = NULL;

		if (git_reference_lookup(&sym, g->repo, "HEAD") == 0 &&
		    git_reference_type(sym) == GIT_REFERENCE_SYMBOLIC) {
			const char *t = git_reference_symbolic_target(sym);

			if (!strncmp(t, "refs/heads/", 11))
				g->branch = strdup(t + 11);
		}
		git_reference_free(sym);
	}
	rc = 0;
out:
	git_reference_free(head);
	if (rc < 0)
		gitops_free(g);
	else
		*out = g;
	return rc;
}

void gitops_free(struct gitops *g)
{
	if (!g)
		return;
	git_repository_free(g->repo);
	free(g->workdir);
	free(g->branch);
	free(g);
	git_libgit2_shutdown();
}

char *gitops_relpath(const struct gitops *g, const char *abs)
{
	char real[PATH_MAX], realwd[PATH_MAX];
	size_t n;

	/* The file may be a symlinked path; compare resolved folders. */
	if (!realpath(g->workdir, realwd))
		return NULL;
	if (!realpath(abs, real))
		return NULL;
	n = strlen(realwd);
	if (strncmp(real, realwd, n) || (real[n] != '/' && real[n] != '\0'))
		return NULL;
	return strdup(real[n] == '/' ? real + n + 1 : real + n);
}

int gitops_require_clean(struct gitops *g, const char *path, struct err *e)
{
	unsigned int flags = 0;

	if (git_status_file(&flags, g->repo, path) < 0)
		return git_fail(e, "cannot read the git status of '%s'", path);
	if (flags & GIT_STATUS_WT_NEW)
		return err_set(e, "'%s' is not committed", path);
	if (flags & ~(unsigned)GIT_STATUS_IGNORED)
		return err_set(e, "'%s' has uncommitted changes; commit or stash them first",
			       path);
	return 0;
}

int gitops_head(struct gitops *g, git_oid *out, struct err *e)
{
	if (git_reference_name_to_id(out, g->repo, "HEAD") < 0)
		return git_fail(e, "cannot resolve HEAD");
	return 0;
}

int gitops_resolve(struct gitops *g, const char *rev, git_oid *out,
		   struct err *e)
{
	git_object *obj = NULL;

	if (git_revparse_single(&obj, g->repo, rev) < 0) {
		err_set(e, "unknown revision '%s'", rev);
		return -1;
	}
	if (git_object_type(obj) == GIT_OBJECT_TAG) {
		git_object *peeled = NULL;

		if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
			git_object_free(obj);
			return err_set(e, "'%s' is not a commit", rev);
		}
		git_object_free(obj);
		obj = peeled;
	}
	if (git_object_type(obj) != GIT_OBJECT_COMMIT) {
		git_object_free(obj);
		return err_set(e, "'%s' is not a commit", rev);
	}
	git_oid_cpy(out, git_object_id(obj));
	git_object_free(obj);
	return 0;
}

int gitops_read_file(struct gitops *g, const git_oid *commit,
		     const char *path, struct strbuf *out, int *missing,
		     struct err *e)
{
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_tree_entry *te = NULL;
	git_blob *blob = NULL;
	int rc = -1, err;

	*missing = 0;
	strbuf_reset(out);
	if (git_commit_lookup(&c, g->repo, commit) < 0 ||
	    git_commit_tree(&tree, c) < 0) {
		git_fail(e, "cannot read commit of '%s'", path);
		goto out;
	}
	err = git_tree_entry_bypath(&te, tree, path);
	if (err == GIT_ENOTFOUND) {
		*missing = 1;
		rc = 0;
		goto out;
	}
	if (err < 0 || git_tree_entry_type(te) != GIT_OBJECT_BLOB ||
	    git_blob_lookup(&blob, g->repo, git_tree_entry_id(te)) < 0) {
		git_fail(e, "cannot read '%s' from git", path);
		goto out;
	}
	if (strbuf_add(out, git_blob_rawcontent(blob),
		       (size_t)git_blob_rawsize(blob)) < 0) {
		err_set(e, "'%s' is too large", path);
		goto out;
	}
	rc = 0;
out:
	git_blob_free(blob);
	git_tree_entry_free(te);
	git_tree_free(tree);
	git_commit_free(c);
	return rc;
}

/* A config string, copied, or NULL. */
static char *config_str(git_repository *repo, const char *key)
{
	git_config *cfg = NULL;
	git_buf buf = GIT_BUF_INIT;
	char *v = NULL;

	if (git_repository_config_snapshot(&cfg, repo) == 0 &&
	    git_config_get_string_buf(&buf, cfg, key) == 0 && buf.size)
		v = strdup(buf.ptr);
	git_buf_dispose(&buf);
	git_config_free(cfg);
	return v;
}

/*
 * The author, as git would pick it, with GitHub Actions as the last
 * resort: GIT_AUTHOR_* (or GIT_COMMITTER_* for the committer), then
 * user.name/user.email, then GITHUB_ACTOR.
 */
static int signature(struct gitops *g, git_signature **out, int committer,
		     struct err *e)
{
	const char *name_env = getenv(committer ? "GIT_COMMITTER_NAME" : "GIT_AUTHOR_NAME");
	const char *email_env = getenv(committer ? "GIT_COMMITTER_EMAIL" : "GIT_AUTHOR_EMAIL");
	const char *actor = getenv("GITHUB_ACTOR");
	char *name = NULL, *email = NULL, noreply[300];
	int rc = -1;

	name = name_env && *name_env ? strdup(name_env) : config_str(g->repo, "user.name");
	email = email_env && *email_env ? strdup(email_env) : config_str(g->repo, "user.email");
	if (!name && actor && *actor)
		name = strdup(actor);
	if (!email && actor && *actor) {
		snprintf(noreply, sizeof(noreply), "%s@users.noreply.github.com", actor);
		email = strdup(noreply);
	}
	if (!name || !email) {
		err_set(e, "cannot commit: no author; set git config user.name and user.email, or GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL");
		goto out;
	}
	if (git_signature_now(out, name, email) < 0) {
		git_fail(e, "cannot commit: bad author '%s'", name);
		goto out;
	}
	rc = 0;
out:
	free(name);
	free(email);
	return rc;
}

int gitops_commit(struct gitops *g, git_oid *out, const git_oid *parent,
		  const struct gitops_file *files, size_t nfiles,
		  const char *message, struct err *e)
{
	git_commit *pc = NULL;
	git_tree *base = NULL, *tree = NULL;
	git_tree_update *ups = NULL;
	git_signature *author = NULL, *committer = NULL;
	git_oid tree_id;
	int rc = -1;

	if (signature(g, &author, 0, e) < 0)
		goto out;
	if ((getenv("GIT_COMMITTER_NAME") || getenv("GIT_COMMITTER_EMAIL"))) {
		if (signature(g, &committer, 1, e) < 0)
			goto out;
	} else if (git_signature_dup(&committer, author) < 0) {
		err_set(e, "out of memory");
		goto out;
	}
	if (git_commit_lookup(&pc, g->repo, parent) < 0 ||
	    git_commit_tree(&base, pc) < 0) {
		git_fail(e, "cannot read the parent commit");
		goto out;
	}
	ups = calloc(nfiles ? nfiles : 1, sizeof(*ups));
	if (!ups) {
		err_set(e, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nfiles; i++) {
		git_tree_entry *te = NULL;
		git_filemode_t mode = GIT_FILEMODE_BLOB;

		/* Keep an executable bit. */
		if (git_tree_entry_bypath(&te, base, files[i].path) == 0) {
			mode = git_tree_entry_filemode(te);
			git_tree_entry_free(te);
		}
		if (git_blob_create_from_buffer(&ups[i].id, g->repo,
						files[i].data, files[i].len) < 0) {
			git_fail(e, "cannot store '%s'", files[i].path);
			goto out;
		}
		ups[i].action = GIT_TREE_UPDATE_UPSERT;
		ups[i].filemode = mode;
		ups[i].path = files[i].path;
	}
	if (git_tree_create_updated(&tree_id, g->repo, base, nfiles, ups) < 0 ||
	    git_tree_lookup(&tree, g->repo, &tree_id) < 0) {
		git_fail(e, "cannot build the tree");
		goto out;
	}
	if (git_commit_create(out, g->repo, NULL, author, committer, NULL,
			      message, tree, 1, (const git_commit **)&pc) < 0) {
		git_fail(e, "cannot commit");
		goto out;
	}
	rc = 0;
out:
	free(ups);
	git_tree_free(tree);
	git_tree_free(base);
	git_commit_free(pc);
	git_signature_free(author);
	git_signature_free(committer);
	return rc;
}

struct checkout_notes {
	struct strbuf *skipped;
};

static int checkout_notify(git_checkout_notify_t why, const char *path,
			   const git_diff_file *baseline,
			   const git_diff_file *target,
			   const git_diff_file *workdir, void *payload)
{
	struct checkout_notes *n = payload;

	(void)why; (void)baseline; (void)target; (void)workdir;
	if (n->skipped)
		strbuf_addf(n->skipped, "%s\n", path);
	return 0;
}

int gitops_advance(struct gitops *g, const git_oid *old, const git_oid *new,
		   struct strbuf *skipped, struct err *e)
{
	git_checkout_options co;
	git_commit *oc = NULL, *nc = NULL;
	git_tree *ot = NULL, *nt = NULL;
	git_reference *ref = NULL;
	struct checkout_notes notes = { skipped };
	char refname[512];
	int rc = -1;

	if (!g->branch)
		return err_set(e, "HEAD is detached");
	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	snprintf(refname, sizeof(refname), "refs/heads/%s", g->branch);
	if (git_commit_lookup(&oc, g->repo, old) < 0 ||
	    git_commit_tree(&ot, oc) < 0 ||
	    git_commit_lookup(&nc, g->repo, new) < 0 ||
	    git_commit_tree(&nt, nc) < 0) {
		git_fail(e, "cannot read commits");
		goto out;
	}
	/* Compare-and-swap: a commit made meanwhile is never overwritten. */
	if (git_reference_create_matching(&ref, g->repo, refname, new, 1, old,
					  git_commit_summary(nc)) < 0) {
		git_fail(e, "cannot move branch '%s'", g->branch);
		goto out;
	}
	/*
	 * Update only files that are as old's tree has them; a file with local
	 * changes stays as it is and is reported.
	 */
	co.checkout_strategy = GIT_CHECKOUT_SAFE | GIT_CHECKOUT_ALLOW_CONFLICTS;
	co.baseline = ot;
	co.notify_flags = GIT_CHECKOUT_NOTIFY_CONFLICT;
	co.notify_cb = checkout_notify;
	co.notify_payload = &notes;
	if (git_checkout_tree(g->repo, (git_object *)nt, &co) < 0) {
		git_fail(e, "committed, but cannot update the work tree");
		goto out;
	}
	rc = 0;
out:
	git_reference_free(ref);
	git_tree_free(ot);
	git_tree_free(nt);
	git_commit_free(oc);
	git_commit_free(nc);
	return rc;
}

int gitops_is_ancestor(struct gitops *g, const git_oid *a, const git_oid *b)
{
	if (git_oid_equal(a, b))
		return 1;
	return git_graph_descendant_of(g->repo, b, a) == 1;
}

/* ---- remotes: credentials, host keys, push, fetch ---- */

struct remote_state {
	struct gitops *g;
	char url[1024];
	int attempts;
	int tried_agent, tried_token, key_next;
	char tried[512];		/* what was offered, for the error */
	char cert_err[8192];
	struct strbuf remote_msg;	/* "remote:" lines from the server */
	char rejected[1024];		/* first ref the server refused */
	int moved;			/* ...because the ref moved under it */
	/* A local remote pushed to through `git receive-pack` (see below). */
	const char *rp_path;		/* its folder */
	char rp_why[600];		/* why it needs receive-pack, for errors */
	char rp_err[1024];		/* what receive-pack wrote to stderr */
};

/* A URL without its user info ("https://user:secret@host/x" -> "https://host/x"). */
static const char *url_redacted(const char *url, char *buf, size_t size)
{
	const char *scheme = strstr(url, "://"), *host, *at, *slash;

	if (!scheme)
		return url;
	host = scheme + 3;
	slash = strchr(host, '/');
	at = strchr(host, '@');
	if (!at || (slash && at > slash))
		return url;
	snprintf(buf, size, "%.*s%s", (int)(host - url), url, at + 1);
	return buf;
}

static void tried_add(struct remote_state *st, const char *what)
{
	size_t n = strlen(st->tried);

	snprintf(st->tried + n, sizeof(st->tried) - n, "%s%s",
		 n ? ", " : "", what);
}

/* Key files in order: SAASCTL_SSH_KEY alone when set, else ~/.ssh's. */
static const char *key_file(int idx, char *buf, size_t size)
{
	const char *env = getenv("SAASCTL_SSH_KEY");
	const char *home = getenv("HOME");
	static const char *const names[] = { "id_ed25519", "id_rsa" };

	if (env && *env) {
		if (idx > 0)
			return NULL;
		snprintf(buf, size, "%s", env);
		return buf;
	}
	if (!home || idx >= 2)
		return NULL;
	snprintf(buf, size, "%s/.ssh/%s", home, names[idx]);
	return buf;
}

static int credentials_cb(git_credential **out, const char *url,
			  const char *username_from_url,
			  unsigned int allowed, void *payload)
{
	struct remote_state *st = payload;
	const char *user = username_from_url && *username_from_url ?
		username_from_url : "git";
	char path[PATH_MAX + 16], msg[1024], shown[1024];

	/* Log lines name the remote, never a password in its URL. */
	url = url_redacted(url, shown, sizeof(shown));

	if (++st->attempts > GITOPS_MAX_AUTH_ATTEMPTS)
		goto give_up;
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user);
	if (allowed & GIT_CREDENTIAL_SSH_KEY) {
		const char *sock = getenv("SSH_AUTH_SOCK");

		if (!st->tried_agent && sock && *sock) {
			st->tried_agent = 1;
			tried_add(st, "ssh-agent");
			log_debug("git: %s: offering keys from ssh-agent", url);
			return git_credential_ssh_key_from_agent(out, user);
		}
		for (;;) {
			const char *kf = key_file(st->key_next, path, sizeof(path));

			if (!kf)
				break;
			st->key_next++;
			if (access(kf, R_OK) != 0)
				continue;
			tried_add(st, kf);
			log_debug("git: %s: offering key '%s'", url, kf);
			return git_credential_ssh_key_new(out, user, NULL, kf,
							  NULL);
		}
	}
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && !st->tried_token) {
		static const char *const vars[] = {
			"SAASCTL_GIT_TOKEN", "GITHUB_TOKEN", "GH_TOKEN", NULL,
		};

		st->tried_token = 1;
		for (int i = 0; vars[i]; i++) {
			const char *tok = getenv(vars[i]);

			if (tok && *tok) {
				tried_add(st, vars[i]);
				log_debug("git: %s: offering the token from %s", url, vars[i]);
				return git_credential_userpass_plaintext_new(
					out, "x-access-token", tok);
			}
		}
	}
give_up:
	snprintf(msg, sizeof(msg), "authentication failed (tried: %s)",
		 st->tried[0] ? st->tried :
		 (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) ?
		 "nothing; set SAASCTL_GIT_TOKEN, GITHUB_TOKEN or GH_TOKEN" :
		 "nothing; start ssh-agent or set SAASCTL_SSH_KEY");
	git_error_set_str(GIT_ERROR_NET, msg);
	return GIT_EAUTH;
}

/* The port in an ssh URL ("ssh://u@h:2222/x"), 22 when absent. */
static int url_port(const char *url)
{
	const char *p = strstr(url, "://"), *colon, *slash;

	if (!p)
		return 22;	/* scp-like "user@host:path" */
	p += 3;
	slash = strchr(p, '/');
	colon = strrchr(p, ':');
	if (!colon || (slash && colon > slash) || colon[1] < '0' || colon[1] > '9')
		return 22;
	return atoi(colon + 1);
}

static int libssh2_key_type(git_cert_ssh_raw_type_t t, const char **name)
{
	switch (t) {
	case GIT_CERT_SSH_RAW_TYPE_RSA:
		*name = "rsa";
		return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
	case GIT_CERT_SSH_RAW_TYPE_DSS:
		*name = "dsa";
		return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
	case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_256:
		*name = "ecdsa";
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
	case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_384:
		*name = "ecdsa";
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
	case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_521:
		*name = "ecdsa";
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
	case GIT_CERT_SSH_RAW_TYPE_KEY_ED25519:
		*name = "ed25519";
		return LIBSSH2_KNOWNHOST_KEY_ED25519;
	default:
		*name = "unknown";
		return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
	}
}

/* "SHA256:<unpadded base64 of the key's SHA-256>", as ssh prints it. */
static void fingerprint(char *out, size_t size, const unsigned char *key,
			size_t len)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES,
					   sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];

	crypto_hash_sha256(h, key, len);
	sodium_bin2base64(b64, sizeof(b64), h, sizeof(h),
			  sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	snprintf(out, size, "SHA256:%s", b64);
}

/*
 * libgit2 1.5 accepts any ssh host key unless told otherwise: check it
 * against known_hosts with libssh2's parser (which understands hashed
 * entries and "[host]:port").
 */
static int certificate_cb(git_cert *cert, int valid, const char *host,
			  void *payload)
{
	struct remote_state *st = payload;
	git_cert_hostkey *hk = (git_cert_hostkey *)cert;
	LIBSSH2_SESSION *session = NULL;
	LIBSSH2_KNOWNHOSTS *hosts = NULL;
	struct libssh2_knownhost *found = NULL;
	const char *env = getenv("SAASCTL_SSH_KNOWN_HOSTS");
	const char *home = getenv("HOME");
	const char *tname;
	char file[PATH_MAX], fp[80], hostdesc[300];
	int port, ktype, check, rc = GIT_ECERTIFICATE;

	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
		return valid ? 0 : GIT_PASSTHROUGH;
	if (!(hk->type & GIT_CERT_SSH_RAW)) {
		snprintf(st->cert_err, sizeof(st->cert_err),
			 "cannot check the host key of '%s': libgit2 gave no raw key", host);
		goto out;
	}
	port = url_port(st->url);
	ktype = libssh2_key_type(hk->raw_type, &tname);
	fingerprint(fp, sizeof(fp), (const unsigned char *)hk->hostkey,
		    hk->hostkey_len);
	if (port == 22)
		snprintf(hostdesc, sizeof(hostdesc), "%s", host);
	else
		snprintf(hostdesc, sizeof(hostdesc), "[%s]:%d", host, port);
	if (env && *env)
		snprintf(file, sizeof(file), "%s", env);
	else
		snprintf(file, sizeof(file), "%s/.ssh/known_hosts", home ? home : "");

	session = libssh2_session_init();
	hosts = session ? libssh2_knownhost_init(session) : NULL;
	if (!hosts) {
		snprintf(st->cert_err, sizeof(st->cert_err), "cannot check host keys: out of memory");
		goto out;
	}
	/* A missing file is the same as a host not in it. */
	if (access(file, F_OK) == 0 &&
	    libssh2_knownhost_readfile(hosts, file, LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
		snprintf(st->cert_err, sizeof(st->cert_err),
			 "cannot read known hosts file '%s'", file);
		goto out;
	}
	check = libssh2_knownhost_checkp(hosts, host, port, hk->hostkey,
					 hk->hostkey_len,
					 LIBSSH2_KNOWNHOST_TYPE_PLAIN |
					 LIBSSH2_KNOWNHOST_KEYENC_RAW | ktype,
					 &found);
	switch (check) {
	case LIBSSH2_KNOWNHOST_CHECK_MATCH:
		log_debug("git: host key of %s (%s) matches '%s'", hostdesc, fp, file);
		rc = 0;
		break;
	case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
		snprintf(st->cert_err, sizeof(st->cert_err),
			 "host key of '%s' does not match '%s' (got %s key %s): someone may be intercepting the connection",
			 hostdesc, file, tname, fp);
		break;
	case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
		snprintf(st->cert_err, sizeof(st->cert_err),
			 "unknown ssh host '%s' (%s key %s): add it to '%s' (ssh-keyscan) or set SAASCTL_SSH_KNOWN_HOSTS",
			 hostdesc, tname, fp, file);
		break;
	default:
		snprintf(st->cert_err, sizeof(st->cert_err),
			 "cannot check the host key of '%s' against '%s'", hostdesc, file);
		break;
	}
out:
	if (hosts)
		libssh2_knownhost_free(hosts);
	if (session)
		libssh2_session_free(session);
	if (rc < 0)
		git_error_set_str(GIT_ERROR_SSH, st->cert_err);
	return rc;
}

static int sideband_cb(const char *str, int len, void *payload)
{
	struct remote_state *st = payload;

	/* Keep what fits; the first lines say why. */
	if (st->remote_msg.len + (size_t)len < GITOPS_REMOTE_MSG_MAX)
		strbuf_add(&st->remote_msg, str, (size_t)len);
	return 0;
}

/*
 * Did the server refuse a ref because another push got to it first? A
 * receive-pack that found the ref locked, or moved under it, answers
 * "failed to update ref" ("failed to lock" in older gits); one that checks
 * fast-forwards itself answers "non-fast-forward" or "fetch first". When
 * the ref was only locked, a fetch right away still shows the old tip, so
 * the push is not judged by the tip: it is retried after a back-off, as
 * when the client sees the branch moved. A hook's refusal is not.
 */
static int ref_moved_status(const char *status)
{
	static const char *const moved[] = {
		"failed to lock", "failed to update ref", "cannot lock ref",
		"non-fast-forward", "fetch first", "stale info",
	};

	for (size_t i = 0; i < sizeof(moved) / sizeof(moved[0]); i++)
		if (strstr(status, moved[i]))
			return 1;
	return 0;
}

static int update_reference_cb(const char *refname, const char *status,
			       void *payload)
{
	struct remote_state *st = payload;

	if (status && !st->rejected[0]) {
		snprintf(st->rejected, sizeof(st->rejected), "'%s' %s",
			 refname, status);
		st->moved = ref_moved_status(status);
	}
	return 0;
}

static void remote_callbacks(git_remote_callbacks *cb, struct remote_state *st)
{
	cb->credentials = credentials_cb;
	cb->certificate_check = certificate_cb;
	cb->sideband_progress = sideband_cb;
	cb->push_update_reference = update_reference_cb;
	cb->payload = st;
}

/* The server's messages on one line: "remote: a; remote: b". */
static void remote_lines(struct strbuf *out, const struct strbuf *msg)
{
	const char *p = msg->buf ? msg->buf : "";

	while (*p) {
		size_t n = strcspn(p, "\r\n");

		if (n) {
			/* Drop progress counters; keep what a hook said. */
			if (strncmp(p, "Counting", 8) && strncmp(p, "Compressing", 11) &&
			    strncmp(p, "Writing", 7) && strncmp(p, "Resolving", 9) &&
			    strncmp(p, "Total", 5))
				strbuf_addf(out, "%sremote: %.*s", out->len ? "; " : "",
					    (int)n, p);
		}
		p += n;
		while (*p == '\r' || *p == '\n')
			p++;
	}
}

static void state_init(struct remote_state *st, struct gitops *g)
{
	memset(st, 0, sizeof(*st));
	st->g = g;
	strbuf_init(&st->remote_msg, GITOPS_REMOTE_MSG_MAX);
}

/* The error libgit2 (or our callbacks) left, as the cause in e. */
static int remote_fail(struct err *e, struct remote_state *st,
		       const char *what, const char *remote)
{
	const git_error *ge = git_error_last();

	if (st->cert_err[0])
		return err_set(e, "cannot %s '%s': %s", what, remote, st->cert_err);
	return err_set(e, "cannot %s '%s': %s", what, remote,
		       ge && ge->message ? ge->message : "unknown error");
}

int gitops_remote_url(struct gitops *g, const char *remote,
		      struct strbuf *url, struct err *e)
{
	git_remote *r = NULL;
	int rc;

	if (git_remote_lookup(&r, g->repo, remote) < 0)
		return err_set(e, "no git remote '%s'; add one or use --no-push", remote);
	strbuf_reset(url);
	rc = strbuf_addstr(url, git_remote_pushurl(r) ? git_remote_pushurl(r) :
			   git_remote_url(r) ? git_remote_url(r) : "");
	git_remote_free(r);
	if (rc < 0)
		return err_set(e, "out of memory");
	return 0;
}

/*
 * The folder of a remote on this machine (file:// or a path, which git
 * reads relative to the top of the work tree), or NULL.
 */
static const char *local_path(const struct gitops *g, const char *url,
			      char *buf, size_t size)
{
	const char *colon = strchr(url, ':'), *slash = strchr(url, '/');
	struct stat st;

	if (!strncmp(url, "file://", 7))
		return url + 7;
	if (strstr(url, "://") || (colon && (!slash || colon < slash)))
		return NULL;	/* a URL, or scp-like "host:path" */
	if (url[0] == '/')
		snprintf(buf, size, "%s", url);
	else
		snprintf(buf, size, "%s%s", g->workdir, url);
	if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
		return buf;
	return NULL;
}

/*
 * libgit2's local transport updates the remote ref with force, so two
 * pushes racing on one bare repository can lose a commit. Do it here
 * instead: write the missing objects as a pack, then move the ref with a
 * compare-and-swap on the tip we checked as an ancestor. Only for a bare
 * repository without receive hooks: this runs none (see receive_hooks).
 */
static int push_local(struct gitops *g, const char *remote, const char *path,
		      const char *refname, const git_oid *new, int *stale,
		      struct err *e)
{
	git_repository *rr = NULL;
	git_packbuilder *pb = NULL;
	git_revwalk *walk = NULL;
	git_reference *ref = NULL;
	git_odb *odb = NULL;
	git_oid tip;
	char packdir[PATH_MAX];
	int have_tip, rc = -1, err;

	if (git_repository_open_bare(&rr, path) < 0) {
		err_set(e, "cannot push to '%s': '%s' is not a bare git repository",
			remote, path);
		goto out;
	}
	have_tip = git_reference_name_to_id(&tip, rr, refname) == 0;
	if (have_tip) {
		if (git_repository_odb(&odb, g->repo) < 0)
			goto giterr;
		if (!git_odb_exists(odb, &tip) ||
		    !gitops_is_ancestor(g, &tip, new)) {
			*stale = 1;
			err_set(e, "cannot push to '%s': '%s' has commits that are not here (non-fast-forward)",
				remote, refname);
			goto out;
		}
	}
	if (git_packbuilder_new(&pb, g->repo) < 0 ||
	    git_revwalk_new(&walk, g->repo) < 0 ||
	    git_revwalk_push(walk, new) < 0 ||
	    (have_tip && git_revwalk_hide(walk, &tip) < 0) ||
	    git_packbuilder_insert_walk(pb, walk) < 0)
		goto giterr;
	snprintf(packdir, sizeof(packdir), "%s/objects/pack",
		 git_repository_path(rr));
	if (git_packbuilder_write(pb, packdir, 0, NULL, NULL) < 0)
		goto giterr;
	if (have_tip)
		err = git_reference_create_matching(&ref, rr, refname, new, 1,
						    &tip, "push");
	else
		err = git_reference_create(&ref, rr, refname, new, 0, "push");
	if (err == GIT_EMODIFIED || err == GIT_ELOCKED || err == GIT_EEXISTS) {
		*stale = 1;
		err_set(e, "cannot push to '%s': '%s' moved while pushing",
			remote, refname);
		goto out;
	}
	if (err < 0)
		goto giterr;
	rc = 0;
	goto out;
giterr:
	remote_fail(e, &(struct remote_state){ 0 }, "push to", remote);
out:
	git_odb_free(odb);
	git_reference_free(ref);
	git_revwalk_free(walk);
	git_packbuilder_free(pb);
	git_repository_free(rr);
	return rc;
}

/* ---- local remotes that run hooks: git receive-pack on a socket ---- */

/*
 * What `git receive-pack` runs when a ref is pushed, in its order. Writing
 * a local remote's refs in-process (push_local, or libgit2's own local
 * transport) runs none of them, so a remote that has one (or has a work tree, which receive.denyCurrentBranch
 * guards) is pushed to the way git push does it: libgit2's smart protocol
 * talking to `git receive-pack PATH` on a socket, as it would over ssh.
 * receive-pack then runs the hooks (stdin "OLD NEW REF", quarantine,
 * GIT_DIR), sends their output as "remote:" lines and reports each ref.
 */
static const char *const receive_hooks[] = {
	"pre-receive", "update", "proc-receive", "reference-transaction",
	"post-receive", "post-update", "push-to-checkout", NULL,
};

/*
 * 1 when the repository at path needs receive-pack (why says what for:
 * "to run its pre-receive hook"), 0 when it is bare and has none of them.
 */
static int local_needs_receive_pack(const char *path, char *why, size_t size,
				    struct err *e)
{
	git_repository *rr = NULL;
	git_config *cfg = NULL;
	git_buf hp = GIT_BUF_INIT;
	char dir[PATH_MAX], hook[PATH_MAX + 32];
	const char *gd;
	int rc = 0;

	why[0] = '\0';
	if (git_repository_open_ext(&rr, path, GIT_REPOSITORY_OPEN_NO_SEARCH,
				    NULL) < 0)
		return err_set(e, "'%s' is not a git repository", path);
	if (!git_repository_is_bare(rr)) {
		snprintf(why, size, "to keep its checked-out branch and work tree in step (receive.denyCurrentBranch)");
		rc = 1;
		goto out;
	}
	gd = git_repository_path(rr);	/* ends in "/" */
	/* core.hooksPath, relative to the repository as receive-pack reads it. */
	if (git_repository_config_snapshot(&cfg, rr) == 0 &&
	    git_config_get_path(&hp, cfg, "core.hooksPath") == 0 && hp.size)
		snprintf(dir, sizeof(dir), "%s%s", hp.ptr[0] == '/' ? "" : gd,
			 hp.ptr);
	else
		snprintf(dir, sizeof(dir), "%shooks", gd);
	for (size_t i = 0; receive_hooks[i]; i++) {
		snprintf(hook, sizeof(hook), "%s/%s", dir, receive_hooks[i]);
		/* git's test: an executable file by that name. */
		if (access(hook, X_OK) == 0) {
			snprintf(why, size, "to run its %s hook", receive_hooks[i]);
			rc = 1;
			break;
		}
	}
out:
	git_buf_dispose(&hp);
	git_config_free(cfg);
	git_repository_free(rr);
	return rc;
}

extern char **environ;

struct receive_pack {
	git_smart_subtransport parent;
	git_smart_subtransport_stream stream;
	struct remote_state *st;
	pid_t pid;		/* 0 when not running */
	int started;
	int fd;			/* our end of the socket, -1 once closed */
	FILE *errf;		/* its stderr */
};

/*
 * Variables git drops before it runs receive-pack for a local push
 * (`git rev-parse --local-env-vars`): ours must not point it elsewhere.
 */
static int local_env_var(const char *kv)
{
	static const char *const vars[] = {
		"GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_CONFIG",
		"GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT",
		"GIT_OBJECT_DIRECTORY", "GIT_DIR", "GIT_WORK_TREE",
		"GIT_IMPLICIT_WORK_TREE", "GIT_GRAFT_FILE", "GIT_INDEX_FILE",
		"GIT_NO_REPLACE_OBJECTS", "GIT_REPLACE_REF_BASE", "GIT_PREFIX",
		"GIT_INTERNAL_SUPER_PREFIX", "GIT_SHALLOW_FILE",
		"GIT_COMMON_DIR", "GIT_PROTOCOL", NULL,
	};

	for (size_t i = 0; vars[i]; i++) {
		size_t n = strlen(vars[i]);

		if (!strncmp(kv, vars[i], n) && kv[n] == '=')
			return 1;
	}
	return 0;
}

/* Wait for receive-pack to end; keep what it wrote on stderr. */
static void receive_pack_finish(struct receive_pack *rp)
{
	struct remote_state *st = rp->st;
	char buf[4096];
	size_t n;
	int status;

	if (rp->fd >= 0) {
		/* End its input; read what is left (post-receive output). */
		shutdown(rp->fd, SHUT_WR);
		for (;;) {
			ssize_t r = read(rp->fd, buf, sizeof(buf));

			if (r > 0 || (r < 0 && errno == EINTR))
				continue;
			break;
		}
		close(rp->fd);
		rp->fd = -1;
	}
	if (rp->pid > 0) {
		while (waitpid(rp->pid, &status, 0) < 0 && errno == EINTR)
			;
		rp->pid = 0;
	}
	if (rp->errf) {
		rewind(rp->errf);
		n = fread(st->rp_err, 1, sizeof(st->rp_err) - 1, rp->errf);
		st->rp_err[n] = '\0';
		/* One line for error messages. */
		while (n && (st->rp_err[n - 1] == '\n' || st->rp_err[n - 1] == ' '))
			st->rp_err[--n] = '\0';
		for (char *p = st->rp_err; *p; p++)
			if (*p == '\n')
				*p = ';';
		fclose(rp->errf);
		rp->errf = NULL;
	}
}

static int receive_pack_read(git_smart_subtransport_stream *s, char *buf,
			     size_t size, size_t *nread)
{
	struct receive_pack *rp = (struct receive_pack *)s->subtransport;
	ssize_t n = 0;

	*nread = 0;
	if (rp->fd < 0)
		goto eof;
	do
		n = read(rp->fd, buf, size);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		git_error_set_str(GIT_ERROR_OS, strerror(errno));
		return -1;
	}
	if (n == 0) {
eof:
		/* It ended early: its stderr says why. */
		receive_pack_finish(rp);
		if (rp->st->rp_err[0]) {
			git_error_set_str(GIT_ERROR_NET, rp->st->rp_err);
			return -1;
		}
	}
	*nread = (size_t)n;
	return 0;
}

static int receive_pack_write(git_smart_subtransport_stream *s,
			      const char *buf, size_t len)
{
	struct receive_pack *rp = (struct receive_pack *)s->subtransport;

	while (len) {
		ssize_t n = rp->fd < 0 ? -1 :
			send(rp->fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			receive_pack_finish(rp);
			git_error_set_str(GIT_ERROR_NET, rp->st->rp_err[0] ?
					  rp->st->rp_err :
					  "git receive-pack ended early");
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void receive_pack_stream_free(git_smart_subtransport_stream *s)
{
	(void)s;	/* the process ends in close() */
}

static int receive_pack_start(struct receive_pack *rp)
{
	struct remote_state *st = rp->st;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t deflt;
	char *argv[] = { "git", "receive-pack", (char *)st->rp_path, NULL };
	char **envp = NULL;
	size_t n = 0, k = 0;
	int sv[2] = { -1, -1 }, err;

	while (environ[n])
		n++;
	envp = calloc(n + 1, sizeof(*envp));
	rp->errf = tmpfile();
	if (rp->errf)
		fcntl(fileno(rp->errf), F_SETFD, FD_CLOEXEC);
	if (!envp || !rp->errf) {
		free(envp);
		git_error_set_str(GIT_ERROR_OS, "cannot start git receive-pack: out of memory or no temporary folder");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!local_env_var(environ[i]))
			envp[k++] = environ[i];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		free(envp);
		git_error_set_str(GIT_ERROR_OS, strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, sv[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, fileno(rp->errf), STDERR_FILENO);
	posix_spawnattr_init(&attr);
	sigemptyset(&deflt);
	sigaddset(&deflt, SIGPIPE);
	posix_spawnattr_setsigdefault(&attr, &deflt);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
	err = posix_spawnp(&rp->pid, "git", &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(envp);
	close(sv[1]);
	if (err) {
		char msg[800];

		close(sv[0]);
		rp->pid = 0;
		if (err == ENOENT)
			snprintf(msg, sizeof(msg),
				 "pushing to '%s' needs git receive-pack %s, and git is not installed; install git, or push with git push or to an ssh or https remote",
				 st->rp_path, st->rp_why);
		else
			snprintf(msg, sizeof(msg), "cannot run git receive-pack: %s",
				 strerror(err));
		git_error_set_str(GIT_ERROR_OS, msg);
		return -1;
	}
	rp->fd = sv[0];
	log_debug("git: pushing through 'git receive-pack %s' %s",
		  st->rp_path, st->rp_why);
	return 0;
}

static int receive_pack_action(git_smart_subtransport_stream **out,
			       git_smart_subtransport *t, const char *url,
			       git_smart_service_t action)
{
	struct receive_pack *rp = (struct receive_pack *)t;

	(void)url;	/* the folder is in rp->st->rp_path */
	*out = NULL;
	/* One conversation: the advertisement, the push, a closing flush. */
	if (rp->started) {
		*out = &rp->stream;
		return 0;
	}
	if (action != GIT_SERVICE_RECEIVEPACK_LS) {
		git_error_set_str(GIT_ERROR_NET, "git receive-pack is only for pushing");
		return -1;
	}
	rp->started = 1;
	if (receive_pack_start(rp) < 0)
		return -1;
	*out = &rp->stream;
	return 0;
}

static int receive_pack_close(git_smart_subtransport *t)
{
	receive_pack_finish((struct receive_pack *)t);
	return 0;
}

static void receive_pack_free(git_smart_subtransport *t)
{
	receive_pack_finish((struct receive_pack *)t);
	free(t);
}

static int receive_pack_subtransport(git_smart_subtransport **out,
				     git_transport *owner, void *param)
{
	struct receive_pack *rp = calloc(1, sizeof(*rp));

	(void)owner;
	if (!rp) {
		git_error_set_str(GIT_ERROR_NOMEMORY, "out of memory");
		return -1;
	}
	rp->parent.action = receive_pack_action;
	rp->parent.close = receive_pack_close;
	rp->parent.free = receive_pack_free;
	rp->stream.subtransport = &rp->parent;
	rp->stream.read = receive_pack_read;
	rp->stream.write = receive_pack_write;
	rp->stream.free = receive_pack_stream_free;
	rp->st = param;
	rp->fd = -1;
	*out = &rp->parent;
	return 0;
}

/* remote_callbacks().transport for a local remote that needs receive-pack. */
static int receive_pack_transport(git_transport **out, git_remote *owner,
				  void *payload)
{
	git_smart_subtransport_definition def = {
		receive_pack_subtransport, 0, payload,
	};

	return git_transport_smart(out, owner, &def);
}

/* refs/remotes/<remote>/<branch> follows what we pushed or fetched. */
static void update_tracking(struct gitops *g, const char *remote,
			    const char *branch, const git_oid *id)
{
	git_reference *ref = NULL;
	char name[512];

	snprintf(name, sizeof(name), "refs/remotes/%s/%s", remote, branch);
	if (git_reference_create(&ref, g->repo, name, id, 1, "update by push") < 0)
		log_debug("git: cannot update '%s'", name);
	git_reference_free(ref);
}

int gitops_push(struct gitops *g, const char *remote, const char *branch,
		const git_oid *new, enum gitops_push_failure *why,
		struct err *e)
{
	git_push_options po;
	git_remote *r = NULL;
	struct remote_state st;
	char refspec[1100], refname[520], tmpref[64], pathbuf[PATH_MAX];
	char *specs[] = { refspec };
	git_strarray arr = { specs, 1 };
	git_reference *tmp = NULL;
	const char *url, *lp;
	int rc = -1, err;

	int stale = 0;

	*why = GITOPS_PUSH_ERROR;
	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	state_init(&st, g);
	snprintf(refname, sizeof(refname), "refs/heads/%s", branch);
	snprintf(refspec, sizeof(refspec), "%s:%s", refname, refname);
	if (git_remote_lookup(&r, g->repo, remote) < 0) {
		err_set(e, "no git remote '%s'; add one or use --no-push", remote);
		goto out;
	}
	url = git_remote_pushurl(r) ? git_remote_pushurl(r) : git_remote_url(r);
	snprintf(st.url, sizeof(st.url), "%s", url ? url : "");
	lp = local_path(g, st.url, pathbuf, sizeof(pathbuf));
	if (lp) {
		int need = local_needs_receive_pack(lp, st.rp_why,
						    sizeof(st.rp_why), e);

		if (need < 0) {
			err_wrap(e, "cannot push to '%s'", remote);
			goto out;
		}
		if (need) {
			st.rp_path = lp;
		} else {
			rc = push_local(g, remote, lp, refname, new, &stale, e);
			if (rc == 0)
				update_tracking(g, remote, branch, new);
			else if (stale)
				*why = GITOPS_PUSH_STALE;
			goto out;
		}
	}
	/*
	 * A push refspec names a local ref, and the branch moves only once the
	 * push is accepted: push a temporary ref that points at the commit.
	 */
	snprintf(tmpref, sizeof(tmpref), "refs/saasctl/push-%ld", (long)getpid());
	if (git_reference_create(&tmp, g->repo, tmpref, new, 1, "push") < 0) {
		git_fail(e, "cannot push to '%s'", remote);
		goto out;
	}
	snprintf(refspec, sizeof(refspec), "%s:%s", tmpref, refname);
	remote_callbacks(&po.callbacks, &st);
	if (st.rp_path)
		po.callbacks.transport = receive_pack_transport;
	err = git_remote_push(r, &arr, &po);
	if (err == GIT_ENONFASTFORWARD) {
		*why = GITOPS_PUSH_STALE;
		err_set(e, "cannot push to '%s': '%s' has moved on (non-fast-forward)",
			remote, refname);
		goto out;
	}
	if (err < 0) {
		remote_fail(e, &st, "push to", remote);
		goto out;
	}
	/* git_remote_push() succeeds even when the server refused a ref. */
	if (st.rejected[0]) {
		struct strbuf lines = STRBUF_INIT;

		remote_lines(&lines, &st.remote_msg);
		*why = st.moved ? GITOPS_PUSH_STALE : GITOPS_PUSH_REFUSED;
		err_set(e, "push to '%s' rejected: %s%s%s", remote, st.rejected,
			lines.len ? ": " : "", lines.len ? lines.buf : "");
		strbuf_release(&lines);
		goto out;
	}
	rc = 0;
out:
	if (tmp) {
		git_reference_delete(tmp);
		git_reference_free(tmp);
	}
	strbuf_release(&st.remote_msg);
	git_remote_free(r);
	return rc;
}

int gitops_fetch(struct gitops *g, const char *remote, const char *branch,
		 git_oid *tip, struct err *e)
{
	git_fetch_options fo;
	git_remote *r = NULL;
	struct remote_state st;
	char refspec[600], tracking[520], pathbuf[PATH_MAX];
	char *specs[] = { refspec };
	git_strarray arr = { specs, 1 };
	const char *url, *lp;
	int rc = -1;

	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	state_init(&st, g);
	snprintf(refspec, sizeof(refspec), "+refs/heads/%s:refs/remotes/%s/%s",
		 branch, remote, branch);
	snprintf(tracking, sizeof(tracking), "refs/remotes/%s/%s", remote, branch);
	if (git_remote_lookup(&r, g->repo, remote) < 0) {
		err_set(e, "no git remote '%s'", remote);
		goto out;
	}
	url = git_remote_url(r);
	snprintf(st.url, sizeof(st.url), "%s", url ? url : "");
	/* libgit2 would read a relative path from the working directory. */
	if ((lp = local_path(g, st.url, pathbuf, sizeof(pathbuf))) &&
	    git_remote_set_instance_url(r, lp) < 0) {
		remote_fail(e, &st, "fetch from", remote);
		goto out;
	}
	remote_callbacks(&fo.callbacks, &st);
	fo.callbacks.push_update_reference = NULL;
	if (git_remote_fetch(r, &arr, &fo, "fetch") < 0) {
		remote_fail(e, &st, "fetch from", remote);
		goto out;
	}
	if (git_reference_name_to_id(tip, g->repo, tracking) < 0) {
		err_set(e, "cannot fetch from '%s': it has no branch '%s'", remote, branch);
		goto out;
	}
	rc = 0;
out:
	strbuf_release(&st.remote_msg);
	git_remote_free(r);
	return rc;
}

int gitops_log(struct gitops *g, const git_oid *from,
	       int (*fn)(void *ud, const git_commit *c), void *ud,
	       struct err *e)
{
	git_revwalk *walk = NULL;
	git_oid id;
	int rc = 0;

	if (git_revwalk_new(&walk, g->repo) < 0 ||
	    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME) < 0 ||
	    git_revwalk_push(walk, from) < 0) {
		git_revwalk_free(walk);
		return git_fail(e, "cannot walk the history");
	}
	while (git_revwalk_next(&id, walk) == 0) {
		git_commit *c = NULL;

		if (git_commit_lookup(&c, g->repo, &id) < 0) {
			rc = git_fail(e, "cannot read a commit");
			break;
		}
		rc = fn(ud, c);
		git_commit_free(c);
		if (rc)
			break;
	}
	git_revwalk_free(walk);
	return rc;
}

int gitops_trailer(const char *message, const char *key, char *out,
		   size_t size)
{
	size_t klen = strlen(key);
	const char *p = message;
	int found = 0;

	/* The last occurrence wins, as git interpret-trailers reads them. */
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);

		if (n > klen + 1 && !strncmp(p, key, klen) && p[klen] == ':') {
			const char *v = p + klen + 1;
			size_t vn;

			while (*v == ' ')
				v++;
			vn = n - (size_t)(v - p);
			while (vn && (v[vn - 1] == '\r' || v[vn - 1] == ' '))
				vn--;
			if (vn < size) {
				memcpy(out, v, vn);
				out[vn] = '\0';
				found = 1;
			}
		}
		p = eol ? eol + 1 : NULL;
	}
	return found;
}

int gitops_diff(struct strbuf *out, const char *path, const char *old,
		size_t oldlen, const char *new, size_t newlen, struct err *e)
{
	git_patch *patch = NULL;
	git_buf buf = GIT_BUF_INIT;
	int rc = -1;

	if (lazygit_load(e) < 0)
		return -1;
	git_libgit2_init();
	if (git_patch_from_buffers(&patch, old, oldlen, path, new, newlen,
				   path, NULL) < 0 ||
	    git_patch_to_buf(&buf, patch) < 0) {
		git_fail(e, "cannot diff '%s'", path);
		goto out;
	}
	if (strbuf_add(out, buf.ptr, buf.size) < 0) {
		err_set(e, "out of memory");
		goto out;
	}
	rc = 0;
out:
	git_buf_dispose(&buf);
	git_patch_free(patch);
	git_libgit2_shutdown();
	return rc;
}

void gitops_short(char out[8], const git_oid *id)
{
	git_oid_tostr(out, 8, id);
}
