#include "monorepo.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "suggest.h"

/* Everything a struct monorepo hands out is freed with it. */
struct monorepo_arena {
	void **ptrs;
	size_t n, cap;
};

static void *mr_keep(struct monorepo *repo, void *p)
{
	struct monorepo_arena *a = repo->arena;

	if (!p)
		abort();
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->ptrs = realloc(a->ptrs, a->cap * sizeof(*a->ptrs));
		if (!a->ptrs)
			abort();
	}
	a->ptrs[a->n++] = p;
	return p;
}

static void *mr_calloc(struct monorepo *repo, size_t n, size_t size)
{
	return mr_keep(repo, calloc(n ? n : 1, size));
}

static char *mr_strdup(struct monorepo *repo, const char *s)
{
	return mr_keep(repo, strdup(s));
}

/*
 * The settings of saasctl.yaml. '*' stands for any key (a check's name).
 * env: an extra variable name on top of SAASCTL_<KEY>.
 */
enum setting_type {
	SETTING_STR,
	SETTING_LIST,
	SETTING_LISTS,	/* a list of strings or lists of strings */
	SETTING_INT,
	SETTING_MAP,	/* a map of named entries, each validated below */
};

struct setting {
	const char *key;
	enum setting_type type;
	const char *env;
};

static const struct setting settings[] = {
	{ "project", SETTING_STR, NULL },
	{ "cluster.context", SETTING_STR, "SAASCTL_CONTEXT" },
	{ "cluster.namespace", SETTING_STR, NULL },
	{ "cluster.kubeconfig", SETTING_STR, NULL },
	{ "cluster.version", SETTING_STR, NULL },
	{ "secrets.recipients", SETTING_LIST, NULL },
	{ "clickhouse.url", SETTING_STR, NULL },
	{ "clickhouse.user", SETTING_STR, NULL },
	{ "clickhouse.shards", SETTING_LISTS, NULL },
	{ "backups.store", SETTING_STR, "SAASCTL_BACKUP_STORE" },
	{ "backups.databases", SETTING_LIST, NULL },
	{ "backups.encrypt_to", SETTING_LIST, NULL },
	{ "backups.keep.last", SETTING_INT, NULL },
	{ "backups.keep.daily", SETTING_INT, NULL },
	{ "backups.keep.weekly", SETTING_INT, NULL },
	{ "backups.keep.monthly", SETTING_INT, NULL },
	{ "backups.keep.within", SETTING_STR, NULL },
	{ "backups.full_every", SETTING_INT, NULL },
	{ "backups.ping", SETTING_STR, NULL },
	{ "healthchecks.ping_url", SETTING_STR, "SAASCTL_HC_PING_URL" },
	{ "healthchecks.api_url", SETTING_STR, "SAASCTL_HC_API_URL" },
	{ "healthchecks.checks", SETTING_MAP, NULL },
	{ "healthchecks.checks.*.slug", SETTING_STR, NULL },
	{ "healthchecks.checks.*.schedule", SETTING_STR, NULL },
	{ "healthchecks.checks.*.tz", SETTING_STR, NULL },
	{ "healthchecks.checks.*.timeout", SETTING_STR, NULL },
	{ "healthchecks.checks.*.grace", SETTING_STR, NULL },
	{ "healthchecks.checks.*.tags", SETTING_LIST, NULL },
	{ "healthchecks.checks.*.desc", SETTING_STR, NULL },
	{ NULL, 0, NULL },
};

/*
 * Does key (klen bytes) match the first plen bytes of a pattern?
 * '*' in the pattern matches one dotted component.
 */
static int key_matches(const char *pattern, size_t plen, const char *key,
		       size_t klen)
{
	const char *p = pattern, *pend = pattern + plen;
	const char *k = key, *kend = key + klen;

	while (p < pend && k < kend) {
		if (*p == '*') {
			const char *start = k;

			while (k < kend && *k != '.')
				k++;
			if (k == start)
				return 0;
			p++;
			continue;
		}
		if (*p != *k)
			return 0;
		p++;
		k++;
	}
	return p == pend && k == kend;
}

static const struct setting *setting_find(const char *key, size_t len)
{
	for (const struct setting *s = settings; s->key; s++)
		if (key_matches(s->key, strlen(s->key), key, len))
			return s;
	return NULL;
}

/* Is key a section (a dotted prefix of some setting)? */
static int section_known(const char *key, size_t len)
{
	for (const struct setting *s = settings; s->key; s++)
		for (const char *dot = strchr(s->key, '.'); dot;
		     dot = strchr(dot + 1, '.'))
			if (key_matches(s->key, (size_t)(dot - s->key), key, len))
				return 1;
	return 0;
}

/*
 * The names allowed right under a section (prefix), for "did you mean".
 * Fills names[] with pointers into a static buffer; returns the count.
 */
static size_t names_under(const char *prefix, size_t plen, char buf[][64],
			  size_t max)
{
	size_t n = 0;

	for (const struct setting *s = settings; s->key && n < max; s++) {
		const char *rest = s->key, *dot;
		size_t len;
		int dup = 0;

		if (plen) {
			/* find where the section ends inside the pattern */
			dot = s->key;
			rest = NULL;
			while ((dot = strchr(dot, '.'))) {
				if (key_matches(s->key, (size_t)(dot - s->key),
						prefix, plen)) {
					rest = dot + 1;
					break;
				}
				dot++;
			}
			if (!rest)
				continue;
		}
		len = strcspn(rest, ".");
		if (len >= 64 || (len == 1 && *rest == '*'))
			continue;
		for (size_t i = 0; i < n; i++)
			if (strlen(buf[i]) == len && !strncmp(buf[i], rest, len))
				dup = 1;
		if (dup)
			continue;
		memcpy(buf[n], rest, len);
		buf[n][len] = '\0';
		n++;
	}
	return n;
}

static int config_error(struct err *e, const struct yamltree *t,
			const struct ynode *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int config_error(struct err *e, const struct yamltree *t,
			const struct ynode *n, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(e, "%s:%u:%u: %s", t->path, n->line, n->col, msg);
}

static int check_value(const struct yamltree *t, const struct setting *s,
		       const char *key, const struct ynode *v, struct err *e)
{
	switch (s->type) {
	case SETTING_STR:
		if (v->type != YNODE_SCALAR)
			return config_error(e, t, v, "'%s' must be a string", key);
		return 0;
	case SETTING_INT: {
		char *end;

		if (v->type != YNODE_SCALAR || !*v->value ||
		    (strtol(v->value, &end, 10), *end))
			return config_error(e, t, v, "'%s' must be a whole number",
					    key);
		return 0;
	}
	case SETTING_LIST:
		if (v->type == YNODE_SCALAR)
			return 0; /* one item */
		if (v->type != YNODE_SEQ)
			return config_error(e, t, v, "'%s' must be a list", key);
		for (size_t i = 0; i < v->n; i++)
			if (v->items[i]->type != YNODE_SCALAR)
				return config_error(e, t, v->items[i],
						    "items of '%s' must be strings",
						    key);
		return 0;
	case SETTING_LISTS:
		if (v->type != YNODE_SEQ)
			return config_error(e, t, v, "'%s' must be a list", key);
		for (size_t i = 0; i < v->n; i++) {
			const struct ynode *it = v->items[i];

			if (it->type == YNODE_SCALAR)
				continue;
			if (it->type != YNODE_SEQ || !it->n)
				return config_error(e, t, it, "items of '%s' must be "
						    "strings or lists of strings", key);
			for (size_t k = 0; k < it->n; k++)
				if (it->items[k]->type != YNODE_SCALAR)
					return config_error(e, t, it->items[k],
							    "items of '%s' must be strings "
							    "or lists of strings", key);
		}
		return 0;
	case SETTING_MAP:
		if (v->type != YNODE_MAP && !ynode_is_null(v))
			return config_error(e, t, v, "'%s' must be a map", key);
		return 0;
	}
	return 0;
}

/*
 * Check every key of a map (a section named prefix) against settings[].
 * pattern is prefix as settings[] spells it: the entries of a SETTING_MAP
 * (named, e.g. a check) are '*', so that a name with dots in it
 * ("db.backup") stays one component rather than becoming a path.
 */
static int validate_map(const struct yamltree *t, const struct ynode *map,
			struct strbuf *prefix, struct strbuf *pattern,
			int named, struct err *e)
{
	size_t plen = prefix->len, patlen = pattern->len;

	if (map->type != YNODE_MAP)
		return config_error(e, t, map, "'%s' must be a map",
				    plen ? prefix->buf : "saasctl.yaml");
	for (size_t i = 0; i < map->n; i++) {
		const struct ynode *k = map->entries[i].key;
		const struct ynode *v = map->entries[i].value;
		const struct setting *s;
		int r = 0;

		if (k->type != YNODE_SCALAR)
			return config_error(e, t, k, "keys must be strings");
		if (plen)
			strbuf_addch(prefix, '.');
		strbuf_addstr(prefix, k->value);
		if (patlen)
			strbuf_addch(pattern, '.');
		strbuf_addstr(pattern, named ? "*" : k->value);
		s = named ? NULL : setting_find(pattern->buf, pattern->len);
		if (s) {
			r = check_value(t, s, prefix->buf, v, e);
			if (!r && s->type == SETTING_MAP && v->type == YNODE_MAP)
				r = validate_map(t, v, prefix, pattern, 1, e);
		} else if (section_known(pattern->buf, pattern->len)) {
			if (!ynode_is_null(v))
				r = validate_map(t, v, prefix, pattern, 0, e);
		} else {
			char names[32][64];
			const char *cands[32];
			size_t n = names_under(pattern->buf, patlen, names, 32);
			const char *near;

			for (size_t j = 0; j < n; j++)
				cands[j] = names[j];
			near = suggest_nearest(k->value, cands, n);
			if (near)
				r = config_error(e, t, k,
						 "unknown key '%s'; did you mean '%s'?",
						 prefix->buf, near);
			else
				r = config_error(e, t, k, "unknown key '%s'",
						 prefix->buf);
		}
		strbuf_setlen(prefix, plen);
		strbuf_setlen(pattern, patlen);
		if (r < 0)
			return r;
	}
	return 0;
}

static int load_config(struct monorepo *repo, struct err *e)
{
	struct strbuf prefix = STRBUF_INIT, pattern = STRBUF_INIT;
	struct yamltree *t = NULL;
	char *path = monorepo_path(repo, "saasctl.yaml");
	struct ynode *root;
	int r = -1;

	if (access(path, F_OK) < 0) {
		free(path);
		return 0; /* a bare manifests/ folder is a monorepo too */
	}
	if (yamltree_parse_file(&t, path, NULL, e) < 0)
		goto out;
	if (t->ndocs > 1) {
		err_set(e, "%s: more than one YAML document", path);
		goto out;
	}
	root = t->ndocs ? t->docs[0].root : NULL;
	if (!root || ynode_is_null(root)) {
		err_set(e, "%s: empty; it needs at least 'project: NAME'", path);
		goto out;
	}
	strbuf_init(&prefix, 0);
	strbuf_init(&pattern, 0);
	if (validate_map(t, root, &prefix, &pattern, 0, e) < 0)
		goto out;
	if (!ynode_str(root, "project")) {
		config_error(e, t, root, "'project' is missing (project: NAME)");
		goto out;
	}
	repo->config_tree = t;
	t = NULL;
	r = 0;
out:
	strbuf_release(&prefix);
	strbuf_release(&pattern);
	yamltree_free(t);
	free(path);
	return r;
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_root(const char *dir)
{
	struct strbuf p = STRBUF_INIT;
	int found;

	strbuf_init(&p, 0);
	strbuf_addf(&p, "%s/saasctl.yaml", dir);
	found = access(p.buf, F_OK) == 0;
	if (!found) {
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/manifests", dir);
		found = is_dir(p.buf);
	}
	strbuf_release(&p);
	return found;
}

int monorepo_open(struct monorepo **out, const char *start_dir, struct err *e)
{
	if (monorepo_open_optional(out, start_dir, e) < 0)
		return -1;
	if (!*out)
		return err_set(e, "not inside an infra monorepo (no saasctl.yaml or manifests/ in '%s' or above); see 'saasctl init'",
			       start_dir ? start_dir : ".");
	return 0;
}

int monorepo_open_optional(struct monorepo **out, const char *start_dir,
			   struct err *e)
{
	char dir[PATH_MAX];
	struct monorepo *repo;

	*out = NULL;
	if (!realpath(start_dir ? start_dir : ".", dir))
		return err_errno(e, "cannot open '%s'", start_dir ? start_dir : ".");
	if (!is_dir(dir))
		return err_set(e, "'%s' is not a folder", start_dir);
	for (;;) {
		char *slash;

		if (is_root(dir))
			break;
		slash = strrchr(dir, '/');
		if (!slash || dir[1] == '\0')
			return 0; /* no monorepo: *out stays NULL */
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	repo = calloc(1, sizeof(*repo));
	if (!repo)
		abort();
	repo->arena = calloc(1, sizeof(*repo->arena));
	repo->root = strdup(dir);
	repo->walk = calloc(1, sizeof(*repo->walk));
	if (!repo->arena || !repo->root || !repo->walk)
		abort();
	dirwalk_init(repo->walk, repo->root);
	if (load_config(repo, e) < 0) {
		monorepo_free(repo);
		return -1;
	}
	*out = repo;
	return 0;
}

void monorepo_free(struct monorepo *repo)
{
	if (!repo)
		return;
	for (size_t i = 0; i < repo->napps; i++) {
		struct monorepo_app *app = &repo->apps[i];

		for (size_t f = 0; f < app->nfiles; f++)
			yamltree_free(app->files[f]);
		for (size_t f = 0; f < app->nbad_files; f++)
			yamltree_free(app->bad_files[f].tree);
	}
	for (size_t i = 0; i < repo->nservices; i++)
		for (size_t f = 0; f < repo->services[i].nfiles; f++)
			yamltree_free(repo->services[i].files[f]);
	yamltree_free(repo->config_tree);
	if (repo->arena) {
		for (size_t i = 0; i < repo->arena->n; i++)
			free(repo->arena->ptrs[i]);
		free(repo->arena->ptrs);
		free(repo->arena);
	}
	if (repo->walk) {
		dirwalk_release(repo->walk);
		free(repo->walk);
	}
	free(repo->root);
	free(repo);
}

size_t monorepo_skipped(const struct monorepo *repo,
			const struct dirwalk_skip **skipped)
{
	*skipped = repo->walk ? repo->walk->skipped : NULL;
	return repo->walk ? repo->walk->nskipped : 0;
}

char *monorepo_path(const struct monorepo *repo, const char *rel)
{
	size_t n = strlen(repo->root) + strlen(rel) + 2;
	char *p = malloc(n);

	if (!p)
		abort();
	snprintf(p, n, "%s/%s", repo->root, rel);
	return p;
}

/* SAASCTL_CLICKHOUSE_URL for "clickhouse.url". */
static void env_name(char *out, size_t outlen, const char *key)
{
	size_t n = (size_t)snprintf(out, outlen, "SAASCTL_");

	for (; *key && n + 1 < outlen; key++)
		out[n++] = *key == '.' ? '_' : (char)toupper((unsigned char)*key);
	out[n] = '\0';
}

static const char *env_value(const char *key)
{
	const struct setting *s = setting_find(key, strlen(key));
	char name[128];
	const char *v;

	env_name(name, sizeof(name), key);
	if ((v = getenv(name)) && *v)
		return v;
	if (s && s->env && (v = getenv(s->env)) && *v)
		return v;
	return NULL;
}

struct ynode *monorepo_config_node(const struct monorepo *repo,
				   const char *key)
{
	if (!repo->config_tree || !repo->config_tree->ndocs)
		return NULL;
	return ynode_path(repo->config_tree->docs[0].root, key);
}

const char *monorepo_get(const struct monorepo *repo, const char *key)
{
	const char *v = env_value(key);

	if (v)
		return v;
	return ynode_str(monorepo_config_node(repo, key), NULL);
}

size_t monorepo_get_list(const struct monorepo *repo, const char *key,
			 const char *const **items)
{
	struct monorepo *r = (struct monorepo *)repo;
	const char *env = env_value(key);
	const struct ynode *node;
	const char **out;
	size_t n = 0;

	*items = NULL;
	if (env) {
		char *copy = mr_strdup(r, env), *tok, *save = NULL;
		size_t cap = 1;

		for (const char *p = env; *p; p++)
			cap += *p == ',';
		out = mr_calloc(r, cap, sizeof(*out));
		for (tok = strtok_r(copy, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			while (*tok == ' ')
				tok++;
			if (*tok)
				out[n++] = tok;
		}
		*items = out;
		return n;
	}
	node = monorepo_config_node(repo, key);
	if (!node || ynode_is_null(node))
		return 0;
	if (node->type == YNODE_SCALAR) {
		out = mr_calloc(r, 1, sizeof(*out));
		out[n++] = node->value;
	} else {
		out = mr_calloc(r, node->n, sizeof(*out));
		for (size_t i = 0; i < node->n; i++)
			if (node->items[i]->type == YNODE_SCALAR)
				out[n++] = node->items[i]->value;
	}
	*items = out;
	return n;
}

size_t monorepo_get_lists(const struct monorepo *repo, const char *key,
			  const char *const *const **groups)
{
	struct monorepo *r = (struct monorepo *)repo;
	const char *env = env_value(key);
	const struct ynode *node;
	const char ***out;
	size_t n = 0;

	*groups = NULL;
	if (env) {
		char *copy = mr_strdup(r, env), *tok, *save = NULL;
		size_t cap = 1;

		for (const char *p = env; *p; p++)
			cap += *p == ' ';
		out = mr_calloc(r, cap, sizeof(*out));
		for (tok = strtok_r(copy, " ", &save); tok;
		     tok = strtok_r(NULL, " ", &save)) {
			char *item, *save2 = NULL;
			size_t m = 0, icap = 2;

			for (const char *p = tok; *p; p++)
				icap += *p == ',';
			out[n] = mr_calloc(r, icap, sizeof(**out));
			for (item = strtok_r(tok, ",", &save2); item;
			     item = strtok_r(NULL, ",", &save2))
				out[n][m++] = item;
			if (m)
				n++;
		}
		*groups = (const char *const *const *)out;
		return n;
	}
	node = monorepo_config_node(repo, key);
	if (!node || node->type != YNODE_SEQ)
		return 0;
	out = mr_calloc(r, node->n, sizeof(*out));
	for (size_t i = 0; i < node->n; i++) {
		const struct ynode *it = node->items[i];
		size_t m = 0;

		if (it->type == YNODE_SCALAR) {
			out[n] = mr_calloc(r, 2, sizeof(**out));
			out[n++][0] = it->value;
			continue;
		}
		if (it->type != YNODE_SEQ)
			continue;
		out[n] = mr_calloc(r, it->n + 1, sizeof(**out));
		for (size_t k = 0; k < it->n; k++)
			if (it->items[k]->type == YNODE_SCALAR)
				out[n][m++] = it->items[k]->value;
		if (m)
			n++;
	}
	*groups = (const char *const *const *)out;
	return n;
}

/* A growable array of resources while a folder is read. */
struct resource_list {
	struct monorepo_resource *items;
	size_t n, cap;
	struct yamltree **trees;
	size_t ntrees, trees_cap;
	struct monorepo_bad_file *bad;
	size_t nbad, bad_cap;
	struct monorepo_generated *gen;
	size_t ngen, gen_cap;
};

static void *grow(void *ptr, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return ptr;
	*cap = *cap ? *cap * 2 : 16;
	ptr = realloc(ptr, *cap * size);
	if (!ptr)
		abort();
	return ptr;
}

struct ynode *monorepo_list_items(const struct ynode *root)
{
	const char *kind = ynode_str(root, "kind");
	struct ynode *items = ynode_get(root, "items");
	size_t n = kind ? strlen(kind) : 0;

	if (n < 4 || strcmp(kind + n - 4, "List") || !items ||
	    items->type != YNODE_SEQ)
		return NULL;
	return items;
}

int monorepo_is_kustomization(const char *path, const struct ynode *root)
{
	const char *api = ynode_str(root, "apiVersion");
	const char *kind = ynode_str(root, "kind");
	const char *base = path ? strrchr(path, '/') : NULL;

	if (!root || root->type != YNODE_MAP)
		return 0;
	if (api)
		return !strncmp(api, "kustomize.config.k8s.io/", 24);
	base = base ? base + 1 : path;
	return (base && (!strcmp(base, "kustomization.yaml") ||
			 !strcmp(base, "kustomization.yml") ||
			 !strcmp(base, "Kustomization"))) ||
	       (kind && (!strcmp(kind, "Kustomization") ||
			 !strcmp(kind, "Component")));
}

/* The ConfigMaps and Secrets a kustomization generates. */
static void read_kustomization(struct monorepo *repo, struct resource_list *rl,
			       const char *file, const struct ynode *root)
{
	static const struct {
		const char *key, *kind;
	} gens[] = {
		{ "configMapGenerator", "ConfigMap" },
		{ "secretGenerator", "Secret" },
	};
	const char *prefix = ynode_str(root, "namePrefix");
	const char *suffix = ynode_str(root, "nameSuffix");

	for (size_t g = 0; g < 2; g++) {
		struct ynode *list = ynode_get(root, gens[g].key);

		for (size_t i = 0; list && list->type == YNODE_SEQ && i < list->n; i++) {
			struct ynode *entry = list->items[i];
			const char *name = ynode_str(entry, "name");
			struct monorepo_generated *m;
			struct strbuf full = STRBUF_INIT;

			if (!name)
				continue;
			rl->gen = grow(rl->gen, &rl->gen_cap, rl->ngen, sizeof(*rl->gen));
			m = &rl->gen[rl->ngen++];
			m->kind = gens[g].kind;
			m->name = name;
			m->file = file;
			m->node = entry;
			strbuf_init(&full, 0);
			strbuf_addf(&full, "%s%s%s", prefix ? prefix : "", name,
				    suffix ? suffix : "");
			m->full_name = mr_keep(repo, strbuf_detach(&full, NULL));
		}
	}
}

static void add_resource(struct resource_list *rl, const char *file,
			 struct yamltree *t, struct ydoc *doc,
			 struct ynode *node, int item)
{
	struct monorepo_resource *r;

	rl->items = grow(rl->items, &rl->cap, rl->n, sizeof(*rl->items));
	r = &rl->items[rl->n++];
	memset(r, 0, sizeof(*r));
	r->kind = ynode_str(node, "kind");
	r->api_version = ynode_str(node, "apiVersion");
	r->namespace = ynode_str(node, "metadata.namespace");
	r->name = ynode_str(node, "metadata.name");
	r->generate_name = ynode_str(node, "metadata.generateName");
	r->file = file;
	r->line = item ? node->line : doc->line;
	r->col = item ? node->col : 0;
	r->tree = t;
	r->doc = doc;
	r->node = node;
}

/* Parse every YAML file under rel into resources; bad files are kept. */
static void read_folder(struct monorepo *repo, const char *rel,
			struct resource_list *rl)
{
	char **files = NULL;
	size_t nfiles = dirwalk_yaml(repo->walk, rel, &files);

	for (size_t i = 0; i < nfiles; i++) {
		char *abs = monorepo_path(repo, files[i]);
		const char *relpath = mr_strdup(repo, files[i]);
		struct yamltree *t = NULL;
		struct err e = { { 0 } };

		/* Messages name the file relative to the root. */
		if (yamltree_parse_file(&t, abs, NULL, &e) < 0) {
			const char *msg = e.msg;
			size_t rl_len = strlen(repo->root);

			if (!strncmp(msg, repo->root, rl_len) && msg[rl_len] == '/')
				msg += rl_len + 1;
			rl->bad = grow(rl->bad, &rl->bad_cap, rl->nbad, sizeof(*rl->bad));
			rl->bad[rl->nbad].file = relpath;
			rl->bad[rl->nbad].tree = t;
			rl->bad[rl->nbad].message = mr_strdup(repo, msg);
			rl->nbad++;
			free(abs);
			continue;
		}
		free(abs);
		rl->trees = grow(rl->trees, &rl->trees_cap, rl->ntrees, sizeof(*rl->trees));
		rl->trees[rl->ntrees++] = t;
		for (size_t d = 0; d < t->ndocs; d++) {
			struct ynode *root = t->docs[d].root;
			struct ynode *items;

			if (!root || ynode_is_null(root))
				continue; /* an empty document, e.g. a trailing --- */
			if (monorepo_is_kustomization(relpath, root)) {
				read_kustomization(repo, rl, relpath, root);
				continue;
			}
			/* kubectl apply creates the items of a List. */
			if ((items = monorepo_list_items(root))) {
				for (size_t k = 0; k < items->n; k++)
					add_resource(rl, relpath, t, &t->docs[d],
						     items->items[k], 1);
				continue;
			}
			add_resource(rl, relpath, t, &t->docs[d], root, 0);
		}
	}
	dirwalk_free_names(files);
}

static int kind_is(const struct monorepo_resource *r, const char *kind)
{
	return r->kind && !strcmp(r->kind, kind);
}

static int to_int(const struct ynode *n)
{
	char *end;
	long v;

	if (!n || n->type != YNODE_SCALAR || !*n->value)
		return -1;
	v = strtol(n->value, &end, 10);
	return *end || v < 0 || v > 1000000000 ? -1 : (int)v;
}

static void add_containers(struct monorepo *repo, struct monorepo_workload *w,
			   const struct ynode *list, int init, size_t *cap)
{
	if (!list || list->type != YNODE_SEQ)
		return;
	for (size_t i = 0; i < list->n; i++) {
		struct ynode *c = list->items[i];
		struct monorepo_container *mc;

		if (c->type != YNODE_MAP)
			continue;
		if (w->ncontainers == *cap) {
			struct monorepo_container *bigger;

			*cap = *cap ? *cap * 2 : 4;
			bigger = mr_calloc(repo, *cap, sizeof(*bigger));
			if (w->ncontainers)
				memcpy(bigger, w->containers,
				       w->ncontainers * sizeof(*bigger));
			w->containers = bigger;
		}
		mc = &w->containers[w->ncontainers++];
		mc->name = ynode_str(c, "name");
		mc->image_node = ynode_get(c, "image");
		mc->image = ynode_str(mc->image_node, NULL);
		if (mc->image_node && mc->image_node->type != YNODE_SCALAR)
			mc->image_node = NULL;
		mc->node = c;
		mc->init = init;
	}
}

/*
 * The one list of kinds that run pods. parent: the path to the spec that
 * holds "template" and "selector" (NULL: the object is the pod itself).
 * selector: 0 none, 1 a label selector (matchLabels, matchExpressions),
 * 2 a plain map of labels (ReplicationController). required: apps/v1
 * refuses the object without a selector.
 */
static const struct workload_kind {
	const char *kind;
	const char *parent;
	int selector;
	int required;
} workload_kinds[] = {
	{ "Deployment", "spec", 1, 1 },
	{ "StatefulSet", "spec", 1, 1 },
	{ "DaemonSet", "spec", 1, 1 },
	{ "ReplicaSet", "spec", 1, 1 },
	{ "ReplicationController", "spec", 2, 0 },
	{ "Job", "spec", 1, 0 },
	{ "CronJob", "spec.jobTemplate.spec", 1, 0 },
	{ "Pod", NULL, 0, 0 },
};

static const struct workload_kind *workload_kind(const char *kind)
{
	for (size_t i = 0; kind && i < sizeof(workload_kinds) / sizeof(workload_kinds[0]); i++)
		if (!strcmp(kind, workload_kinds[i].kind))
			return &workload_kinds[i];
	return NULL;
}

int monorepo_is_workload_kind(const char *kind)
{
	return workload_kind(kind) != NULL;
}

/* The pod template of obj (the Pod itself), or NULL. */
static struct ynode *pod_template(const struct ynode *obj,
				  const struct workload_kind *wk)
{
	if (!wk)
		return NULL;
	if (!wk->parent)
		return (struct ynode *)obj;
	return ynode_get(ynode_path(obj, wk->parent), "template");
}

struct ynode *monorepo_pod_spec(const struct ynode *obj, const char *kind)
{
	return ynode_get(pod_template(obj, workload_kind(kind)), "spec");
}

int monorepo_cluster_scoped(const char *kind)
{
	static const char *const kinds[] = {
		"Namespace", "ClusterRole", "ClusterRoleBinding",
		"ClusterIssuer", "CustomResourceDefinition", "IngressClass",
		"PersistentVolume", "StorageClass", "PriorityClass",
		"ValidatingWebhookConfiguration",
		"MutatingWebhookConfiguration", "APIService", "RuntimeClass",
		"CSIDriver", "Node", NULL,
	};

	for (int i = 0; kind && kinds[i]; i++)
		if (!strcmp(kind, kinds[i]))
			return 1;
	return 0;
}

static void build_workload(struct monorepo *repo, struct monorepo_resource *r,
			   struct monorepo_workload *w)
{
	const struct workload_kind *wk = workload_kind(r->kind);
	struct ynode *tmpl = pod_template(r->node, wk);
	size_t cap = 0;

	memset(w, 0, sizeof(*w));
	w->res = r;
	w->replicas = to_int(ynode_path(r->node, "spec.replicas"));
	w->pod_spec = ynode_get(tmpl, "spec");
	w->template_labels = ynode_path(tmpl, "metadata.labels");
	if (wk->selector)
		w->selector_node = ynode_get(ynode_path(r->node, wk->parent), "selector");
	if (wk->selector == 2) {
		w->selector = w->selector_node;
	} else if (wk->selector == 1) {
		w->selector = ynode_get(w->selector_node, "matchLabels");
		w->match_expressions = ynode_get(w->selector_node, "matchExpressions");
	}
	w->selector_required = wk->required && r->api_version &&
			       !strcmp(r->api_version, "apps/v1");
	add_containers(repo, w, ynode_get(w->pod_spec, "initContainers"), 1, &cap);
	add_containers(repo, w, ynode_get(w->pod_spec, "containers"), 0, &cap);
}

/* Does one matchExpressions term hold for labels? */
static int expression_holds(const struct ynode *ex, const struct ynode *labels)
{
	const char *key = ynode_str(ex, "key");
	const char *op = ynode_str(ex, "operator");
	const struct ynode *values = ynode_get(ex, "values");
	const char *have;
	int in = 0;

	if (!key || !op)
		return 0;
	have = ynode_str(ynode_get(labels, key), NULL);
	if (!strcmp(op, "Exists"))
		return have != NULL;
	if (!strcmp(op, "DoesNotExist"))
		return have == NULL;
	if (!values || values->type != YNODE_SEQ)
		return 0;
	for (size_t i = 0; have && i < values->n; i++)
		if (values->items[i]->type == YNODE_SCALAR &&
		    !strcmp(values->items[i]->value, have))
			in = 1;
	if (!strcmp(op, "In"))
		return in;
	if (!strcmp(op, "NotIn"))
		return !in;
	return 0;
}

int monorepo_selector_matches(const struct ynode *match_labels,
			      const struct ynode *match_expressions,
			      const struct ynode *labels)
{
	size_t terms = 0;

	if (match_labels && match_labels->type == YNODE_MAP) {
		for (size_t i = 0; i < match_labels->n; i++) {
			const struct ynode *k = match_labels->entries[i].key;
			const struct ynode *v = match_labels->entries[i].value;
			const char *have;

			if (k->type != YNODE_SCALAR || v->type != YNODE_SCALAR)
				return 0;
			/* ynode_get, not ynode_str: label keys hold dots. */
			have = ynode_str(ynode_get(labels, k->value), NULL);
			if (!have || strcmp(have, v->value))
				return 0;
			terms++;
		}
	}
	if (match_expressions && match_expressions->type == YNODE_SEQ) {
		for (size_t i = 0; i < match_expressions->n; i++) {
			if (!expression_holds(match_expressions->items[i], labels))
				return 0;
			terms++;
		}
	}
	return terms > 0;
}

/* Declared namespaces with where they were first seen, for sorting. */
struct ns_seen {
	const char *ns;
	size_t first;
};

static int ns_seen_order(const void *x, const void *y)
{
	const struct ns_seen *a = x, *b = y;
	int c = strcmp(a->ns, b->ns);

	return c ? c : a->first < b->first ? -1 : a->first > b->first;
}

/* Sorted rather than counted pairwise: a big app costs n log n. */
const char *monorepo_app_namespace(const struct monorepo_resource *res,
				   size_t n, const char *fallback)
{
	struct ns_seen *v = calloc(n + 1, sizeof(*v));
	const char *best = fallback;
	size_t nv = 0, best_count = 0, best_first = 0;

	if (!v)
		abort();
	for (size_t i = 0; i < n; i++)
		if (res[i].namespace && !monorepo_cluster_scoped(res[i].kind)) {
			v[nv].ns = res[i].namespace;
			v[nv].first = i;
			nv++;
		}
	qsort(v, nv, sizeof(*v), ns_seen_order);
	for (size_t i = 0, run = 0; i < nv; i += run) {
		for (run = 1; i + run < nv && !strcmp(v[i].ns, v[i + run].ns); run++)
			;
		if (run > best_count ||
		    (run == best_count && v[i].first < best_first)) {
			best = v[i].ns;
			best_count = run;
			best_first = v[i].first;
		}
	}
	free(v);
	return best;
}

int monorepo_app_generates(const struct monorepo_app *app, const char *kind,
			   const char *name)
{
	for (size_t i = 0; name && i < app->ngenerated; i++) {
		const struct monorepo_generated *g = &app->generated[i];

		if (!strcmp(g->kind, kind) &&
		    (!strcmp(g->name, name) || !strcmp(g->full_name, name)))
			return 1;
	}
	return 0;
}

/* Scalar strings of a list node, or of a single scalar. */
static const char **scalars_of(struct monorepo *repo, const struct ynode *list,
			       size_t *n)
{
	const char **out;

	*n = 0;
	if (!list || list->type != YNODE_SEQ)
		return NULL;
	out = mr_calloc(repo, list->n, sizeof(*out));
	for (size_t i = 0; i < list->n; i++)
		if (list->items[i]->type == YNODE_SCALAR)
			out[(*n)++] = list->items[i]->value;
	return out;
}

static void build_ingress(struct monorepo *repo, struct monorepo_resource *r,
			  struct monorepo_ingress *in)
{
	struct ynode *spec = ynode_get(r->node, "spec");
	struct ynode *rules = ynode_get(spec, "rules");
	struct ynode *tls = ynode_get(spec, "tls");
	struct ynode *ann = ynode_path(r->node, "metadata.annotations");
	size_t ntls = 0;

	memset(in, 0, sizeof(*in));
	in->res = r;
	if (rules && rules->type == YNODE_SEQ) {
		in->hosts = mr_calloc(repo, rules->n, sizeof(*in->hosts));
		for (size_t i = 0; i < rules->n; i++) {
			const char *h = ynode_str(rules->items[i], "host");

			if (h)
				in->hosts[in->nhosts++] = h;
		}
	}
	if (tls && tls->type == YNODE_SEQ) {
		for (size_t i = 0; i < tls->n; i++) {
			struct ynode *hs = ynode_get(tls->items[i], "hosts");

			ntls += hs && hs->type == YNODE_SEQ ? hs->n : 0;
		}
		in->tls_hosts = mr_calloc(repo, ntls, sizeof(*in->tls_hosts));
		for (size_t i = 0; i < tls->n; i++) {
			size_t k;
			const char **hs = scalars_of(repo, ynode_get(tls->items[i], "hosts"), &k);

			for (size_t j = 0; j < k; j++)
				in->tls_hosts[in->ntls_hosts++] = hs[j];
		}
	}
	in->limit_rpm = ynode_str(ynode_get(ann, "nginx.ingress.kubernetes.io/limit-rpm"), NULL);
	in->cluster_issuer = ynode_str(ynode_get(ann, "cert-manager.io/cluster-issuer"), NULL);
	in->cloudflare_proxied = ynode_str(ynode_get(ann, "external-dns.alpha.kubernetes.io/cloudflare-proxied"), NULL);
}

static void build_hpa(struct monorepo_resource *r, struct monorepo_hpa *h)
{
	struct ynode *spec = ynode_get(r->node, "spec");
	struct ynode *metrics = ynode_get(spec, "metrics");

	memset(h, 0, sizeof(*h));
	h->res = r;
	h->min = to_int(ynode_get(spec, "minReplicas"));
	h->max = to_int(ynode_get(spec, "maxReplicas"));
	h->cpu_target = to_int(ynode_get(spec, "targetCPUUtilizationPercentage"));
	h->target_kind = ynode_str(spec, "scaleTargetRef.kind");
	h->target_name = ynode_str(spec, "scaleTargetRef.name");
	if (metrics && metrics->type == YNODE_SEQ) {
		for (size_t i = 0; i < metrics->n; i++) {
			struct ynode *m = metrics->items[i];
			const char *name = ynode_str(m, "resource.name");
			int v = to_int(ynode_path(m, "resource.target.averageUtilization"));

			if (v < 0) /* autoscaling/v2beta1 */
				v = to_int(ynode_path(m, "resource.targetAverageUtilization"));
			if (name && !strcmp(name, "cpu") && v >= 0)
				h->cpu_target = v;
		}
	}
}

static void build_app(struct monorepo *repo, struct monorepo_app *app,
		      struct resource_list *rl)
{
	size_t nw = 0, ni = 0, nh = 0;

	app->resources = mr_keep(repo, rl->items ? (void *)rl->items : calloc(1, 1));
	app->nresources = rl->n;
	app->files = mr_keep(repo, rl->trees ? (void *)rl->trees : calloc(1, 1));
	app->nfiles = rl->ntrees;
	app->bad_files = mr_keep(repo, rl->bad ? (void *)rl->bad : calloc(1, 1));
	app->nbad_files = rl->nbad;
	app->generated = mr_keep(repo, rl->gen ? (void *)rl->gen : calloc(1, 1));
	app->ngenerated = rl->ngen;
	app->namespace = monorepo_app_namespace(app->resources, app->nresources,
						app->name);
	for (size_t i = 0; i < rl->n; i++) {
		struct monorepo_resource *r = &app->resources[i];

		nw += monorepo_is_workload_kind(r->kind);
		ni += kind_is(r, "Ingress");
		nh += kind_is(r, "HorizontalPodAutoscaler");
	}
	app->workloads = mr_calloc(repo, nw, sizeof(*app->workloads));
	app->ingresses = mr_calloc(repo, ni, sizeof(*app->ingresses));
	app->hpas = mr_calloc(repo, nh, sizeof(*app->hpas));
	for (size_t i = 0; i < rl->n; i++) {
		struct monorepo_resource *r = &app->resources[i];

		if (monorepo_is_workload_kind(r->kind))
			build_workload(repo, r, &app->workloads[app->nworkloads++]);
		else if (kind_is(r, "Ingress"))
			build_ingress(repo, r, &app->ingresses[app->ningresses++]);
		else if (kind_is(r, "HorizontalPodAutoscaler"))
			build_hpa(r, &app->hpas[app->nhpas++]);
	}
}

static void build_service(struct monorepo *repo, struct monorepo_service *svc,
			  struct resource_list *rl)
{
	svc->nresources = rl->n;
	svc->files = mr_keep(repo, rl->trees ? (void *)rl->trees : calloc(1, 1));
	svc->nfiles = rl->ntrees;
	svc->kinds = mr_calloc(repo, rl->n, sizeof(*svc->kinds));
	svc->namespace = monorepo_app_namespace(rl->items, rl->n, NULL);
	for (size_t i = 0; i < rl->n; i++) {
		const struct monorepo_resource *r = &rl->items[i];
		int seen = 0;

		if (!r->kind)
			continue;
		for (size_t k = 0; k < svc->nkinds; k++)
			seen |= !strcmp(svc->kinds[k], r->kind);
		if (!seen)
			svc->kinds[svc->nkinds++] = r->kind;
	}
	/* Bad files of cluster services are left to 'saasctl lint'. */
	for (size_t i = 0; i < rl->nbad; i++)
		yamltree_free(rl->bad[i].tree);
	free(rl->bad);
	free(rl->items);
	free(rl->gen);
}

int monorepo_load(struct monorepo *repo, struct err *e)
{
	char **apps = dirwalk_subdirs(repo->walk, "manifests/apps");
	char **svcs = dirwalk_subdirs(repo->walk, "manifests/cluster");
	size_t n;

	(void)e;
	if (repo->apps || repo->services)
		goto out; /* loaded already */
	for (n = 0; apps && apps[n]; n++)
		;
	repo->apps = mr_calloc(repo, n, sizeof(*repo->apps));
	for (size_t i = 0; i < n; i++) {
		struct monorepo_app *app = &repo->apps[repo->napps++];
		struct resource_list rl;
		char rel[PATH_MAX];

		memset(&rl, 0, sizeof(rl));
		snprintf(rel, sizeof(rel), "manifests/apps/%s", apps[i]);
		app->name = mr_strdup(repo, apps[i]);
		app->dir = mr_strdup(repo, rel);
		read_folder(repo, rel, &rl);
		build_app(repo, app, &rl);
	}
	for (n = 0; svcs && svcs[n]; n++)
		;
	repo->services = mr_calloc(repo, n, sizeof(*repo->services));
	for (size_t i = 0; i < n; i++) {
		struct monorepo_service *svc = &repo->services[repo->nservices++];
		struct resource_list rl;
		char rel[PATH_MAX];

		memset(&rl, 0, sizeof(rl));
		snprintf(rel, sizeof(rel), "manifests/cluster/%s", svcs[i]);
		svc->name = mr_strdup(repo, svcs[i]);
		svc->dir = mr_strdup(repo, rel);
		read_folder(repo, rel, &rl);
		build_service(repo, svc, &rl);
	}
out:
	dirwalk_free_names(apps);
	dirwalk_free_names(svcs);
	return 0;
}

/* Each folder under base ("manifests/apps"), built as an app, then freed. */
static int each_folder(struct monorepo *repo, const char *base,
		       int (*fn)(struct monorepo_app *app, void *ud), void *ud)
{
	char **names = dirwalk_subdirs(repo->walk, base);
	int r = 0;

	for (size_t i = 0; names && names[i] && !r; i++) {
		struct monorepo_app app;
		struct resource_list rl;
		char rel[PATH_MAX];

		memset(&app, 0, sizeof(app));
		memset(&rl, 0, sizeof(rl));
		snprintf(rel, sizeof(rel), "%s/%s", base, names[i]);
		app.name = mr_strdup(repo, names[i]);
		app.dir = mr_strdup(repo, rel);
		read_folder(repo, rel, &rl);
		build_app(repo, &app, &rl);
		r = fn(&app, ud);
		/* The trees are the bulk; the small arrays stay in the arena. */
		for (size_t f = 0; f < app.nfiles; f++)
			yamltree_free(app.files[f]);
		for (size_t f = 0; f < app.nbad_files; f++)
			yamltree_free(app.bad_files[f].tree);
	}
	dirwalk_free_names(names);
	return r;
}

int monorepo_each_app(struct monorepo *repo,
		      int (*fn)(struct monorepo_app *app, void *ud), void *ud)
{
	return each_folder(repo, "manifests/apps", fn, ud);
}

int monorepo_each_service(struct monorepo *repo,
			  int (*fn)(struct monorepo_app *app, void *ud),
			  void *ud)
{
	return each_folder(repo, "manifests/cluster", fn, ud);
}

struct monorepo_app *monorepo_app(const struct monorepo *repo, const char *name)
{
	for (size_t i = 0; i < repo->napps; i++)
		if (!strcmp(repo->apps[i].name, name))
			return &repo->apps[i];
	return NULL;
}

int monorepo_workload_selector(const struct monorepo_workload *w,
			       struct strbuf *out)
{
	const struct ynode *sel = w->selector ? w->selector : w->template_labels;

	if (!sel || sel->type != YNODE_MAP || !sel->n)
		return -1;
	for (size_t i = 0; i < sel->n; i++) {
		const struct ynode *k = sel->entries[i].key;
		const char *v = ynode_str(sel->entries[i].value, NULL);

		if (k->type != YNODE_SCALAR)
			return -1;
		strbuf_addf(out, "%s%s=%s", i ? "," : "", k->value, v ? v : "");
	}
	return 0;
}
