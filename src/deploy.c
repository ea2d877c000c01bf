/*
 * deploy, rollback and history on top of the app model (monorepo), the
 * byte-exact YAML editor (yamltree) and libgit2 (gitops).
 *
 * The app model, built from the work tree, decides which containers move.
 * Each attempt then reads those files from the commit it builds on (HEAD,
 * or the remote's tip after a lost race), finds the containers again by
 * kind, name and container name, edits the image bytes and proves by
 * re-parsing that nothing else changed.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "deploy.h"
#include "gitops.h"
#include "image.h"
#include "lint.h"
#include "log.h"
#include "yamltree.h"

/* One container to re-pin: found again in each version of its file. */
struct target {
	char *path;		/* relative to the git work tree */
	const char *file;	/* relative to the monorepo root */
	const char *kind, *name, *container;
	int init;
	const char *image;	/* in the work tree */
};

struct plan {
	struct target *t;
	size_t n;
	char repo_name[256];	/* the repository that moves, as written */
	char new_image[600];
};

/* A container of the app with its parsed image. */
struct cand {
	const struct monorepo_workload *w;
	const struct monorepo_container *c;
	struct image_ref ref;
};

static void plan_release(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->t[i].path);
	free(p->t);
	memset(p, 0, sizeof(*p));
}

static const char *wname(const struct monorepo_workload *w)
{
	return w->res->name ? w->res->name : "?";
}

static struct cand *candidates(const struct monorepo_app *app, size_t *n)
{
	struct cand *cs = NULL;
	size_t cap = 0;
	struct err ignored;

	*n = 0;
	for (size_t i = 0; i < app->nworkloads; i++) {
		const struct monorepo_workload *w = &app->workloads[i];

		for (size_t j = 0; j < w->ncontainers; j++) {
			const struct monorepo_container *c = &w->containers[j];

			if (!c->image || !c->name || !c->image_node)
				continue;
			if (*n == cap) {
				struct cand *g;

				cap = cap ? cap * 2 : 16;
				g = realloc(cs, cap * sizeof(*cs));
				if (!g) {
					free(cs);
					*n = 0;
					return NULL;
				}
				cs = g;
			}
			cs[*n].w = w;
			cs[*n].c = c;
			/* An unparsable image still has a name to match on. */
			if (image_parse(&cs[*n].ref, c->image, &ignored) < 0) {
				memset(&cs[*n].ref, 0, sizeof(cs[*n].ref));
				snprintf(cs[*n].ref.name, sizeof(cs[*n].ref.name), "%s", c->image);
			}
			(*n)++;
		}
	}
	return cs;
}

/* "web (ghcr.io/acme/web:v1 in Deployment/webserver), ..." */
static void describe(struct strbuf *sb, const struct cand *cs, size_t n,
		     const char *only_name)
{
	for (size_t i = 0; i < n; i++) {
		if (only_name && strcmp(cs[i].c->name, only_name))
			continue;
		strbuf_addf(sb, "%s%s (%s in %s/%s)", sb->len ? ", " : "",
			    cs[i].c->name, cs[i].c->image,
			    cs[i].w->res->kind ? cs[i].w->res->kind : "?",
			    wname(cs[i].w));
	}
}

/* The distinct repositories among cs (init containers only if none else). */
static size_t distinct_repos(const struct cand *cs, size_t n, int init,
			     const char *only_name, const char **first)
{
	const char *seen[64];
	size_t k = 0;

	*first = NULL;
	for (size_t i = 0; i < n; i++) {
		int dup = 0;

		if (cs[i].c->init != init)
			continue;
		if (only_name && strcmp(cs[i].c->name, only_name))
			continue;
		for (size_t j = 0; j < k; j++)
			dup |= image_same_repo(seen[j], cs[i].ref.name);
		if (!dup && k < 64)
			seen[k++] = cs[i].ref.name;
	}
	if (k)
		*first = seen[0];
	return k;
}

static int plan_build(struct plan *p, struct monorepo *repo,
		      struct gitops *g, const struct monorepo_app *app,
		      const struct deploy_spec *spec, struct err *e)
{
	struct cand *cs = NULL;
	struct strbuf sb = STRBUF_INIT;
	struct image_ref want;
	const char *repo_name = NULL;
	size_t n = 0, k;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	if (spec->image && image_parse(&want, spec->image, e) < 0)
		return -1;
	if (spec->tag && !image_tag_valid(spec->tag))
		return err_set(e, "invalid tag '%s': use up to 128 of A-Z a-z 0-9 _ . - (not starting with . or -)",
			       spec->tag);
	if (spec->digest && !image_digest_valid(spec->digest))
		return err_set(e, "invalid digest '%s': want sha256: and 64 lowercase hex digits",
			       spec->digest);
	cs = candidates(app, &n);
	if (!n) {
		err_set(e, "app '%s' has no workload with a container image in '%s'",
			app->name, app->dir);
		goto out;
	}
	if (spec->container) {
		size_t hits = 0;

		for (size_t i = 0; i < n; i++)
			hits += !strcmp(cs[i].c->name, spec->container);
		if (!hits) {
			for (size_t i = 0; i < n; i++) {
				int seen = 0;

				for (size_t j = 0; j < i; j++)
					seen |= !strcmp(cs[j].c->name, cs[i].c->name);
				if (!seen)
					strbuf_addf(&sb, "%s%s", sb.len ? ", " : "", cs[i].c->name);
			}
			err_set(e, "app '%s' has no container '%s' (containers: %s)",
				app->name, spec->container, sb.buf);
			goto out;
		}
		k = distinct_repos(cs, n, 0, spec->container, &repo_name);
		k += distinct_repos(cs, n, 1, spec->container, &repo_name);
		if (k > 1) {
			describe(&sb, cs, n, spec->container);
			err_set(e, "container '%s' of app '%s' is ambiguous: it runs different images: %s",
				spec->container, app->name, sb.buf);
			goto out;
		}
		if (!repo_name)
			distinct_repos(cs, n, 0, spec->container, &repo_name);
	} else {
		if (spec->image)
			for (size_t i = 0; i < n && !repo_name; i++)
				if (image_same_repo(cs[i].ref.name, want.name))
					repo_name = cs[i].ref.name;
		if (!repo_name) {
			k = distinct_repos(cs, n, 0, NULL, &repo_name);
			if (!k)
				k = distinct_repos(cs, n, 1, NULL, &repo_name);
			if (k > 1) {
				describe(&sb, cs, n, NULL);
				err_set(e, "app '%s' runs %zu images, so the target is ambiguous; pick one with --container: %s",
					app->name, k, sb.buf);
				goto out;
			}
		}
	}
	snprintf(p->repo_name, sizeof(p->repo_name), "%s", repo_name);

	/* Every container on that repository moves, init containers too. */
	p->t = calloc(n, sizeof(*p->t));
	if (!p->t) {
		err_set(e, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct target *t;
		char *abs;

		if (!image_same_repo(cs[i].ref.name, repo_name))
			continue;
		t = &p->t[p->n++];
		t->file = cs[i].w->res->file;
		t->kind = cs[i].w->res->kind;
		t->name = cs[i].w->res->name;
		t->container = cs[i].c->name;
		t->init = cs[i].c->init;
		t->image = cs[i].c->image;
		abs = monorepo_path(repo, t->file);
		t->path = abs ? gitops_relpath(g, abs) : NULL;
		free(abs);
		if (!t->path) {
			err_set(e, "'%s' is not inside the git work tree '%s'",
				t->file, g->workdir);
			goto out;
		}
		if (cs[i].c->image_node->style == YSTYLE_LITERAL ||
		    cs[i].c->image_node->style == YSTYLE_FOLDED) {
			err_set(e, "%s:%u: cannot edit the image of container '%s': it is a block scalar",
				t->file, cs[i].c->image_node->line, t->container);
			goto out;
		}
	}

	/* The new image, written the way the first target writes the name. */
	if (spec->image) {
		snprintf(p->new_image, sizeof(p->new_image), "%s", spec->image);
	} else {
		struct image_ref r;
		struct err ignored;

		if (image_parse(&r, p->t[0].image, &ignored) < 0)
			snprintf(r.name, sizeof(r.name), "%s", p->repo_name);
		if (spec->tag) {
			snprintf(r.tag, sizeof(r.tag), "%s", spec->tag);
			r.digest[0] = '\0';
		} else if (spec->digest) {
			snprintf(r.digest, sizeof(r.digest), "%s", spec->digest);
		}
		image_format(p->new_image, sizeof(p->new_image), &r);
	}
	rc = 0;
out:
	if (rc < 0)
		plan_release(p);
	strbuf_release(&sb);
	free(cs);
	return rc;
}

/* The image scalar of target tg in one object (a document or List item). */
static struct ynode *object_image(const struct ynode *obj,
				  const struct target *tg)
{
	const char *kind, *name;
	struct ynode *pod, *list;

	if (!obj || obj->type != YNODE_MAP)
		return NULL;
	kind = ynode_str(obj, "kind");
	name = ynode_str(obj, "metadata.name");
	if (!kind || !name || !tg->kind || !tg->name ||
	    strcmp(kind, tg->kind) || strcmp(name, tg->name))
		return NULL;
	pod = monorepo_pod_spec(obj, kind);
	list = ynode_get(pod, tg->init ? "initContainers" : "containers");
	for (size_t i = 0; list && list->type == YNODE_SEQ && i < list->n; i++) {
		const char *cn = ynode_str(list->items[i], "name");
		struct ynode *img;

		if (!cn || strcmp(cn, tg->container))
			continue;
		img = ynode_get(list->items[i], "image");
		return img && img->type == YNODE_SCALAR ? img : NULL;
	}
	return NULL;
}

/* The image scalar of a target in one version of its file, or NULL. */
static struct ynode *find_image(const struct yamltree *t,
				const struct target *tg)
{
	for (size_t d = 0; d < t->ndocs; d++) {
		const struct ynode *root = t->docs[d].root;
		const struct ynode *items = monorepo_list_items(root);
		struct ynode *img = NULL;

		/* Objects the way the app model reads them: List items too. */
		for (size_t i = 0; items && i < items->n && !img; i++)
			img = object_image(items->items[i], tg);
		if (!items)
			img = object_image(root, tg);
		if (img)
			return img;
	}
	return NULL;
}

/*
 * Is b the same document tree as a, except that the scalars in `edited`
 * now read `value`? Aliased nodes are shared, so a budget bounds the walk.
 */
static int same_except(const struct ynode *a, const struct ynode *b,
		       struct ynode *const *edited, size_t nedited,
		       const char *value, size_t *budget)
{
	if (!a || !b)
		return a == b;
	if ((*budget)-- == 0 || a->type != b->type)
		return 0;
	if (a->type == YNODE_SCALAR) {
		for (size_t i = 0; i < nedited; i++)
			if (a == edited[i])
				return !strcmp(b->value, value);
		return a->len == b->len && !memcmp(a->value, b->value, a->len);
	}
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		if (a->type == YNODE_SEQ) {
			if (!same_except(a->items[i], b->items[i], edited,
					 nedited, value, budget))
				return 0;
		} else if (!same_except(a->entries[i].key, b->entries[i].key,
					edited, nedited, value, budget) ||
			   !same_except(a->entries[i].value, b->entries[i].value,
					edited, nedited, value, budget)) {
			return 0;
		}
	}
	return 1;
}

/* One file's edit at one commit. */
struct file_edit {
	const char *path;
	struct strbuf old, new;
	int changed;
};

/*
 * Edit every target of one file (all targets share path) in text old,
 * writing fe->new. *old_image gets the first image that differs.
 */
static int edit_file(struct file_edit *fe, const struct plan *p,
		     const char *value, char *old_image, size_t old_size,
		     size_t *moved, struct err *e)
{
	struct yamltree *orig = NULL, *cur = NULL, *check = NULL;
	struct ynode **edited = NULL;
	struct strbuf next = STRBUF_INIT;
	size_t nedited = 0, budget = 4000000;
	int rc = -1;

	strbuf_reset(&fe->new);
	if (strbuf_add(&fe->new, fe->old.buf ? fe->old.buf : "", fe->old.len) < 0 ||
	    yamltree_parse_text(&orig, fe->path, fe->old.buf ? fe->old.buf : "",
				fe->old.len, NULL, e) < 0)
		goto out;
	edited = calloc(p->n, sizeof(*edited));
	if (!edited) {
		err_set(e, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct target *tg = &p->t[i];
		struct ynode *on, *cn;

		if (strcmp(tg->path, fe->path))
			continue;
		on = find_image(orig, tg);
		if (!on) {
			err_set(e, "'%s' has no container '%s' in %s '%s' any more",
				fe->path, tg->container, tg->kind, tg->name);
			goto out;
		}
		if (!strcmp(on->value, value))
			continue;
		if (!old_image[0])
			snprintf(old_image, old_size, "%s", on->value);
		edited[nedited++] = on;
		(*moved)++;
		/* Re-parse before each edit: the spans of later nodes shift. */
		yamltree_free(cur);
		cur = NULL;
		if (yamltree_parse_text(&cur, fe->path, fe->new.buf, fe->new.len,
					NULL, e) < 0)
			goto out;
		cn = find_image(cur, tg);
		if (!cn) {
			err_set(e, "'%s': lost container '%s' while editing", fe->path,
				tg->container);
			goto out;
		}
		if (!strcmp(cn->value, value))
			continue;	/* an alias of a node already edited */
		strbuf_reset(&next);
		if (yamltree_replace_scalar(&next, cur, cn, value, e) < 0)
			goto out;
		strbuf_reset(&fe->new);
		if (strbuf_add(&fe->new, next.buf, next.len) < 0) {
			err_set(e, "out of memory");
			goto out;
		}
	}
	fe->changed = nedited > 0;
	if (!fe->changed) {
		rc = 0;
		goto out;
	}
	/* The proof: the new text parses to the same tree but for the images. */
	if (yamltree_parse_text(&check, fe->path, fe->new.buf, fe->new.len,
				NULL, e) < 0) {
		err_wrap(e, "the edited file does not parse");
		goto out;
	}
	if (check->ndocs != orig->ndocs) {
		err_set(e, "editing '%s' changed its number of documents; nothing was written",
			fe->path);
		goto out;
	}
	for (size_t d = 0; d < orig->ndocs; d++) {
		if (!same_except(orig->docs[d].root, check->docs[d].root, edited,
				 nedited, value, &budget)) {
			err_set(e, "editing '%s' would change more than the image; nothing was written",
				fe->path);
			goto out;
		}
	}
	rc = 0;
out:
	strbuf_release(&next);
	free(edited);
	yamltree_free(orig);
	yamltree_free(cur);
	yamltree_free(check);
	return rc;
}

struct edits {
	struct file_edit *f;
	size_t n;
	char old_image[600];
	size_t moved;
};

static void edits_release(struct edits *ed)
{
	for (size_t i = 0; i < ed->n; i++) {
		strbuf_release(&ed->f[i].old);
		strbuf_release(&ed->f[i].new);
	}
	free(ed->f);
	memset(ed, 0, sizeof(*ed));
}

/* Apply the plan to the files as they are at commit base. */
static int edits_at(struct edits *ed, struct gitops *g, const git_oid *base,
		    const struct plan *p, struct err *e)
{
	edits_release(ed);
	ed->f = calloc(p->n, sizeof(*ed->f));
	if (!ed->f)
		return err_set(e, "out of memory");
	for (size_t i = 0; i < p->n; i++) {
		struct file_edit *fe = NULL;
		int missing;

		for (size_t j = 0; j < ed->n; j++)
			if (!strcmp(ed->f[j].path, p->t[i].path))
				fe = &ed->f[j];
		if (fe)
			continue;
		fe = &ed->f[ed->n++];
		fe->path = p->t[i].path;
		strbuf_init(&fe->old, 0);
		strbuf_init(&fe->new, 0);
		if (gitops_read_file(g, base, fe->path, &fe->old, &missing, e) < 0)
			return -1;
		if (missing)
			return err_set(e, "'%s' is not in the commit to build on", fe->path);
		if (edit_file(fe, p, p->new_image, ed->old_image,
			      sizeof(ed->old_image), &ed->moved, e) < 0)
			return -1;
	}
	return 0;
}

static void say(const struct deploy_spec *spec, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(const struct deploy_spec *spec, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_debug("deploy: %s", line);
	if (spec->progress)
		spec->progress(spec->ud, line);
}

/* 250 ms doubling per attempt, capped at 4 s, times a jitter of 0.5 to 1.5. */
static void backoff(int attempt)
{
	unsigned base = 250u << (attempt > 5 ? 4 : attempt - 1);
	unsigned ms = (base > 4000 ? 4000 : base) / 2 +
		      randombytes_uniform(base > 4000 ? 4000 : base);
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

void deploy_result_init(struct deploy_result *r)
{
	memset(r, 0, sizeof(*r));
	strbuf_init(&r->files, 0);
	strbuf_init(&r->diff, 0);
	strbuf_init(&r->skipped, 0);
}

void deploy_result_release(struct deploy_result *r)
{
	free(r->old_image);
	free(r->new_image);
	strbuf_release(&r->files);
	strbuf_release(&r->diff);
	strbuf_release(&r->skipped);
	memset(r, 0, sizeof(*r));
}

static int message(struct strbuf *m, const char *app,
		   const struct deploy_spec *spec, const char *old,
		   const char *new)
{
	strbuf_reset(m);
	strbuf_addf(m, "%s(%s): %s \xe2\x86\x92 %s\n\n",
		    spec->rollback ? "rollback" : "deploy", app, old, new);
	if (spec->message && *spec->message)
		strbuf_addf(m, "%s\n\n", spec->message);
	return strbuf_addf(m, "Saasctl-App: %s\nSaasctl-Previous-Image: %s\nSaasctl-Image: %s\n",
			   app, old, new);
}

int deploy_run(struct monorepo *repo, const struct monorepo_app *app,
	       const struct deploy_spec *spec, struct deploy_result *res,
	       struct err *e)
{
	struct gitops *g = NULL;
	struct plan p = { 0 };
	struct edits ed = { 0 };
	struct strbuf msg = STRBUF_INIT, url = STRBUF_INIT;
	struct gitops_file *files = NULL;
	const char *remote = spec->remote ? spec->remote : "origin";
	const char *branch;
	int attempts = spec->attempts > 0 ? spec->attempts : DEPLOY_ATTEMPTS;
	git_oid head, base, new;
	int rc = -1;

	if (gitops_open(&g, repo->root, e) < 0)
		goto out;
	if (!g->branch) {
		err_set(e, "HEAD is detached; check out the branch to deploy from (git switch main)");
		goto out;
	}
	if (g->unborn) {
		err_set(e, "branch '%s' has no commits yet", g->branch);
		goto out;
	}
	branch = g->branch;
	if (spec->branch && strcmp(spec->branch, g->branch)) {
		err_set(e, "branch '%s' is not checked out (HEAD is on '%s'); switch to it first",
			spec->branch, g->branch);
		goto out;
	}
	if (plan_build(&p, repo, g, app, spec, e) < 0)
		goto out;
	for (size_t i = 0; i < p.n; i++)
		if (gitops_require_clean(g, p.t[i].path, e) < 0)
			goto out;
	if (!spec->no_push && !spec->dry_run &&
	    gitops_remote_url(g, remote, &url, e) < 0)
		goto out;
	if (gitops_head(g, &head, e) < 0)
		goto out;
	res->new_image = strdup(p.new_image);
	git_oid_cpy(&base, &head);

	for (int attempt = 1;; attempt++) {
		enum gitops_push_failure why;
		int fetched = 0;
		size_t nf = 0;

		if (edits_at(&ed, g, &base, &p, e) < 0)
			goto out;
		if (!ed.moved) {
			res->noop = 1;
			rc = 0;
			goto out;
		}
		free(res->old_image);
		res->old_image = strdup(ed.old_image);
		res->ncontainers = ed.moved;
		strbuf_reset(&res->files);
		for (size_t i = 0; i < ed.n; i++)
			if (ed.f[i].changed)
				strbuf_addf(&res->files, "%s\n", ed.f[i].path);
		if (spec->dry_run) {
			for (size_t i = 0; i < ed.n; i++)
				if (ed.f[i].changed &&
				    gitops_diff(&res->diff, ed.f[i].path, ed.f[i].old.buf,
						ed.f[i].old.len, ed.f[i].new.buf,
						ed.f[i].new.len, e) < 0)
					goto out;
			rc = 0;
			goto out;
		}
		free(files);
		files = calloc(ed.n, sizeof(*files));
		if (!files) {
			err_set(e, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < ed.n; i++)
			if (ed.f[i].changed)
				files[nf++] = (struct gitops_file){
					ed.f[i].path, ed.f[i].new.buf, ed.f[i].new.len };
		if (message(&msg, app->name, spec, ed.old_image, p.new_image) < 0 ||
		    gitops_commit(g, &new, &base, files, nf, msg.buf, e) < 0)
			goto out;
		git_oid_tostr(res->sha, sizeof(res->sha), &new);
		if (spec->no_push)
			break;
		res->attempts = attempt;
		if (gitops_push(g, remote, branch, &new, &why, e) == 0) {
			res->pushed = 1;
			break;
		}
		if (why == GITOPS_PUSH_ERROR)
			goto out;
		if (why == GITOPS_PUSH_REFUSED) {
			struct err fe;
			git_oid tip;

			/*
			 * A server refuses a ref it could not move because another
			 * push won the race, as well as one a hook rejects. Only a
			 * remote branch that moved on is worth another try.
			 */
			if (gitops_fetch(g, remote, branch, &tip, &fe) < 0 ||
			    gitops_is_ancestor(g, &tip, &base))
				goto out;
			git_oid_cpy(&base, &tip);
			fetched = 1;
		}
		/* Someone pushed first (or the server raced us): build on theirs. */
		if (attempt >= attempts) {
			err_wrap(e, "gave up after %d attempts", attempts);
			goto out;
		}
		say(spec, "push rejected: the remote branch moved; fetching and trying again (attempt %d of %d)",
		    attempt + 1, attempts);
		backoff(attempt);
		if (!fetched && gitops_fetch(g, remote, branch, &base, e) < 0)
			goto out;
		if (!gitops_is_ancestor(g, &head, &base)) {
			err_set(e, "branch '%s' has local commits that are not on '%s'; push or rebase them first",
				branch, remote);
			goto out;
		}
	}
	res->committed = 1;
	if (gitops_advance(g, &head, &new, &res->skipped, e) < 0) {
		if (res->pushed)
			err_wrap(e, "pushed %.7s to '%s', but", res->sha, remote);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0 && !res->pushed)
		res->sha[0] = '\0';
	free(files);
	edits_release(&ed);
	strbuf_release(&msg);
	strbuf_release(&url);
	plan_release(&p);
	gitops_free(g);
	return rc;
}

/* ---- history ---- */

struct walk_state {
	const char *app;
	size_t limit;
	struct deploy_entry *v;
	size_t n, cap;
	int failed;
};

static int collect(void *ud, const git_commit *c)
{
	struct walk_state *w = ud;
	const char *msg = git_commit_message(c);
	const git_signature *a = git_commit_author(c);
	char app[256], image[600], prev[600];
	struct deploy_entry *d;

	/* Cheap test first: most commits are not deploys. */
	if (!strstr(msg, "Saasctl-App:"))
		return 0;
	if (!gitops_trailer(msg, "Saasctl-App", app, sizeof(app)) ||
	    strcmp(app, w->app) ||
	    !gitops_trailer(msg, "Saasctl-Image", image, sizeof(image)))
		return 0;
	if (!gitops_trailer(msg, "Saasctl-Previous-Image", prev, sizeof(prev)))
		prev[0] = '\0';
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 32;
		struct deploy_entry *v = realloc(w->v, cap * sizeof(*v));

		if (!v) {
			w->failed = 1;
			return -1;
		}
		w->v = v;
		w->cap = cap;
	}
	d = &w->v[w->n++];
	memset(d, 0, sizeof(*d));
	git_oid_tostr(d->sha, sizeof(d->sha), git_commit_id(c));
	d->time = (long long)a->when.time;
	d->offset = a->when.offset;
	d->author = strdup(a->name ? a->name : "");
	d->action = strdup(!strncmp(msg, "rollback(", 9) ? "rollback" : "deploy");
	d->image = strdup(image);
	d->previous = strdup(prev);
	if (w->limit && w->n >= w->limit)
		return 1;
	return 0;
}

void deploy_entries_free(struct deploy_entry *entries, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(entries[i].author);
		free(entries[i].action);
		free(entries[i].image);
		free(entries[i].previous);
	}
	free(entries);
}

/* Is image what some container of app pins now (same repository)? */
static int pinned_now(const struct monorepo_app *app, const char *image)
{
	for (size_t i = 0; i < app->nworkloads; i++)
		for (size_t j = 0; j < app->workloads[i].ncontainers; j++) {
			const char *cur = app->workloads[i].containers[j].image;

			if (cur && !strcmp(cur, image))
				return 1;
		}
	return 0;
}

static int history(struct gitops *g, const struct monorepo_app *app,
		   size_t limit, struct deploy_entry **out, size_t *n,
		   struct err *e)
{
	struct walk_state w = { app->name, limit, NULL, 0, 0, 0 };
	git_oid head;
	int rc;

	*out = NULL;
	*n = 0;
	if (g->unborn)
		return 0;
	if (gitops_head(g, &head, e) < 0)
		return -1;
	rc = gitops_log(g, &head, collect, &w, e);
	if (rc < 0 || w.failed) {
		deploy_entries_free(w.v, w.n);
		return w.failed ? err_set(e, "out of memory") : -1;
	}
	/* The newest entry whose image the files pin now is current. */
	for (size_t i = 0; i < w.n; i++)
		if (pinned_now(app, w.v[i].image)) {
			w.v[i].current = 1;
			break;
		}
	*out = w.v;
	*n = w.n;
	return 0;
}

int deploy_history(struct monorepo *repo, const struct monorepo_app *app,
		   size_t limit, struct deploy_entry **out, size_t *n,
		   struct err *e)
{
	struct gitops *g = NULL;
	int rc;

	if (gitops_open(&g, repo->root, e) < 0)
		return -1;
	rc = history(g, app, limit, out, n, e);
	gitops_free(g);
	return rc;
}

/* ---- rollback ---- */

struct file_walk {
	struct gitops *g;
	const struct target *tg;
	char **seq;
	size_t n, cap;
	size_t seen;
	git_oid last_blob;
	int have_last;
};

static int file_step(void *ud, const git_commit *c)
{
	struct file_walk *fw = ud;
	git_tree *tree = NULL;
	git_tree_entry *te = NULL;
	struct strbuf text = STRBUF_INIT;
	struct yamltree *t = NULL;
	struct ynode *img;
	struct err ignored;
	int missing;

	/* Bounded: this is the fallback when no commit has trailers. */
	if (++fw->seen > 5000)
		return 1;
	if (git_commit_tree(&tree, c) < 0)
		return 0;
	if (git_tree_entry_bypath(&te, tree, fw->tg->path) < 0)
		goto out;
	if (fw->have_last && git_oid_equal(&fw->last_blob, git_tree_entry_id(te)))
		goto out;
	git_oid_cpy(&fw->last_blob, git_tree_entry_id(te));
	fw->have_last = 1;
	if (gitops_read_file(fw->g, git_commit_id(c), fw->tg->path, &text,
			     &missing, &ignored) < 0 || missing ||
	    yamltree_parse_text(&t, fw->tg->path, text.buf, text.len, NULL,
				&ignored) < 0)
		goto out;
	img = find_image(t, fw->tg);
	if (img && (!fw->n || strcmp(fw->seq[fw->n - 1], img->value))) {
		if (fw->n == fw->cap) {
			size_t cap = fw->cap ? fw->cap * 2 : 16;
			char **v = realloc(fw->seq, cap * sizeof(*v));

			if (!v)
				goto out;
			fw->seq = v;
			fw->cap = cap;
		}
		fw->seq[fw->n++] = strdup(img->value);
	}
out:
	yamltree_free(t);
	strbuf_release(&text);
	git_tree_entry_free(te);
	git_tree_free(tree);
	return 0;
}

/* Images of one container through the file history, newest first. */
static int file_history(struct gitops *g, const struct target *tg,
			char ***seq, size_t *n, struct err *e)
{
	struct file_walk fw = { g, tg, NULL, 0, 0, 0, { { 0 } }, 0 };
	git_oid head;

	if (gitops_head(g, &head, e) < 0 ||
	    gitops_log(g, &head, file_step, &fw, e) < 0) {
		for (size_t i = 0; i < fw.n; i++)
			free(fw.seq[i]);
		free(fw.seq);
		return -1;
	}
	*seq = fw.seq;
	*n = fw.n;
	return 0;
}

/* Is image a reference into repository repo? */
static int image_in_repo(const char *image, const char *repo)
{
	struct image_ref r;
	struct err ignored;

	return image_parse(&r, image, &ignored) == 0 &&
	       image_same_repo(r.name, repo);
}

static int seq_add(char ***seq, size_t *n, const char *image)
{
	char **v;

	if (!image || !*image || (*n && !strcmp((*seq)[*n - 1], image)))
		return 0;
	v = realloc(*seq, (*n + 1) * sizeof(*v));
	if (!v)
		return -1;
	*seq = v;
	v[(*n)++] = strdup(image);
	return 0;
}

/*
 * The image a commit means for a container: what it deployed (its
 * trailers), or else what the manifest pinned at that commit.
 */
static int image_at_commit(struct gitops *g, const struct monorepo_app *app,
			   const struct plan *p, const git_oid *id,
			   const char *rev, char **image, struct err *e)
{
	git_commit *c = NULL;
	struct strbuf text = STRBUF_INIT;
	struct yamltree *t = NULL;
	struct ynode *node;
	const struct target *tg = &p->t[0];
	char app_name[256], img[600];
	int missing, rc = -1;

	if (git_commit_lookup(&c, g->repo, id) < 0) {
		err_set(e, "cannot read commit '%s'", rev);
		goto out;
	}
	if (gitops_trailer(git_commit_message(c), "Saasctl-App", app_name, sizeof(app_name)) &&
	    !strcmp(app_name, app->name) &&
	    gitops_trailer(git_commit_message(c), "Saasctl-Image", img, sizeof(img)) &&
	    image_in_repo(img, p->repo_name)) {
		*image = strdup(img);
		rc = 0;
		goto out;
	}
	if (gitops_read_file(g, id, tg->path, &text, &missing, e) < 0)
		goto out;
	if (missing || yamltree_parse_text(&t, tg->path, text.buf, text.len, NULL, e) < 0 ||
	    !(node = find_image(t, tg))) {
		err_set(e, "commit '%s' has no container '%s' in '%s'", rev,
			tg->container, tg->path);
		goto out;
	}
	*image = strdup(node->value);
	rc = 0;
out:
	yamltree_free(t);
	strbuf_release(&text);
	git_commit_free(c);
	return rc;
}

int deploy_rollback_image(struct monorepo *repo,
			  const struct monorepo_app *app, const char *to,
			  const char *container, char **image, struct err *e)
{
	struct gitops *g = NULL;
	struct plan p = { 0 };
	struct deploy_entry *hist = NULL;
	struct deploy_spec probe = { 0 };
	char **seq = NULL;
	size_t nhist = 0, nseq = 0;
	long back = 1;
	int rc = -1;

	*image = NULL;
	if (gitops_open(&g, repo->root, e) < 0)
		goto out;
	if (history(g, app, 0, &hist, &nhist, e) < 0)
		goto out;
	probe.container = container;
	/* The repository to roll back is the one the last deploy moved. */
	if (nhist && !container)
		probe.image = hist[0].image;
	if (plan_build(&p, repo, g, app, &probe, e) < 0)
		goto out;

	if (to && !(to[0] == '-' && to[1] >= '0' && to[1] <= '9')) {
		struct image_ref r;
		struct err ignored;
		git_oid id;

		if (gitops_resolve(g, to, &id, &ignored) == 0) {
			rc = image_at_commit(g, app, &p, &id, to, image, e);
			goto out;
		}
		if ((strchr(to, ':') || strchr(to, '/') || strchr(to, '@')) &&
		    image_parse(&r, to, e) == 0) {
			*image = strdup(to);
			rc = 0;
			goto out;
		}
		if (!strchr(to, ':') && !strchr(to, '/') && !strchr(to, '@') &&
		    image_tag_valid(to)) {
			struct image_ref cur;
			char buf[600];

			if (image_parse(&cur, p.t[0].image, e) < 0)
				goto out;
			snprintf(cur.tag, sizeof(cur.tag), "%s", to);
			cur.digest[0] = '\0';
			*image = strdup(image_format(buf, sizeof(buf), &cur));
			rc = 0;
			goto out;
		}
		err_set(e, "'%s' is neither a commit, an image nor -N", to);
		goto out;
	}
	if (to) {
		char *end;

		back = strtol(to + 1, &end, 10);
		if (*end || back < 1 || back > 10000) {
			err_set(e, "bad --to '%s': want -N with N from 1", to);
			goto out;
		}
	}
	/*
	 * The images the app went through, newest first: what each deploy
	 * pinned, then what was there before the oldest one. Rollbacks are
	 * left out, so rolling back twice keeps going back.
	 */
	for (size_t i = 0; i < nhist; i++) {
		if (strcmp(hist[i].action, "deploy") ||
		    !image_in_repo(hist[i].image, p.repo_name))
			continue;
		if (seq_add(&seq, &nseq, hist[i].image) < 0)
			goto oom;
	}
	for (size_t i = nhist; i-- > 0;)
		if (!strcmp(hist[i].action, "deploy") &&
		    image_in_repo(hist[i].image, p.repo_name)) {
			if (seq_add(&seq, &nseq, hist[i].previous) < 0)
				goto oom;
			break;
		}
	if (!nseq && file_history(g, &p.t[0], &seq, &nseq, e) < 0)
		goto out;
	{
		size_t idx = nseq;	/* where the current image is */

		for (size_t i = 0; i < nseq; i++)
			if (!strcmp(seq[i], p.t[0].image)) {
				idx = i;
				break;
			}
		size_t want = idx == nseq ? (size_t)back - 1 : idx + (size_t)back;

		if (want >= nseq) {
			err_set(e, "app '%s' has no image %ld deploy%s back (history: %zu image%s)",
				app->name, back, back == 1 ? "" : "s", nseq,
				nseq == 1 ? "" : "s");
			goto out;
		}
		*image = strdup(seq[want]);
	}
	rc = 0;
	goto out;
oom:
	err_set(e, "out of memory");
out:
	for (size_t i = 0; i < nseq; i++)
		free(seq[i]);
	free(seq);
	deploy_entries_free(hist, nhist);
	plan_release(&p);
	gitops_free(g);
	return rc;
}

/* ---- lint ---- */

/* How many containers run exactly this image. */
static size_t image_count(const struct cand *cs, size_t n, const char *image)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += !strcmp(cs[i].c->image, image);
	return k;
}

void deploy_lint_image_drift(struct lint *l, const struct monorepo_app *app)
{
	struct cand *cs;
	size_t n;

	cs = candidates(app, &n);
	for (size_t i = 0; i < n; i++) {
		const struct cand *best = NULL;
		size_t best_count = 0;

		/*
		 * The version most containers of the repository run is the
		 * reference (the first one seen on a tie); the others are
		 * reported against a workload that runs it.
		 */
		for (size_t j = 0; j < n; j++) {
			size_t k;

			if (!image_same_repo(cs[i].ref.name, cs[j].ref.name))
				continue;
			k = image_count(cs, n, cs[j].c->image);
			if (k > best_count) {
				best = &cs[j];
				best_count = k;
			}
		}
		if (!best || !strcmp(best->c->image, cs[i].c->image))
			continue;
		for (size_t j = 0; j < n; j++) {
			if (cs[j].w == cs[i].w || strcmp(cs[j].c->image, best->c->image))
				continue;
			lint_add(l, cs[i].w->res, cs[i].c->image_node,
				 "workloads '%s' and '%s' run different versions of '%s': '%s' and '%s'; deploy moves them together",
				 wname(cs[j].w), wname(cs[i].w), cs[i].ref.name,
				 cs[j].c->image, cs[i].c->image);
			break;
		}
	}
	free(cs);
}
