#include "dirwalk.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "strbuf.h"

/* The folders on the current path from the root, by device and inode. */
struct frame {
	dev_t dev;
	ino_t ino;
	char *rel;
};

struct stack {
	struct frame *f;
	size_t n, cap;
};

/* A growable, NULL-terminated list of names. */
struct names {
	char **v;
	size_t n, cap;
};

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p)
		abort();
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		abort();
	return p;
}

static void names_add(struct names *l, char *s)
{
	if (l->n + 2 > l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = s;
	l->v[l->n] = NULL;
}

static char **names_finish(struct names *l)
{
	if (!l->v)
		l->v = calloc(1, sizeof(*l->v));
	if (!l->v)
		abort();
	return l->v;
}

void dirwalk_free_names(char **names)
{
	for (size_t i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
}

void dirwalk_init(struct dirwalk *w, const char *root)
{
	memset(w, 0, sizeof(*w));
	w->root = xstrdup(root);
	w->real_root = realpath(root, NULL);
}

void dirwalk_release(struct dirwalk *w)
{
	for (size_t i = 0; i < w->nskipped; i++) {
		free(w->skipped[i].link);
		free(w->skipped[i].reason);
	}
	free(w->skipped);
	free(w->root);
	free(w->real_root);
	memset(w, 0, sizeof(*w));
}

static char *join(const char *a, const char *b)
{
	struct strbuf sb = STRBUF_INIT;

	if (!*a)
		strbuf_addstr(&sb, b);
	else
		strbuf_addf(&sb, "%s/%s", a, b);
	return strbuf_detach(&sb, NULL);
}

static char *abs_path(const struct dirwalk *w, const char *rel)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "%s/%s", w->root, rel);
	return strbuf_detach(&sb, NULL);
}

/* Record a skipped link once; takes reason. */
static void skip(struct dirwalk *w, const char *link, char *reason)
{
	for (size_t i = 0; i < w->nskipped; i++)
		if (!strcmp(w->skipped[i].link, link)) {
			free(reason);
			return;
		}
	if (w->nskipped == w->skipped_cap) {
		w->skipped_cap = w->skipped_cap ? w->skipped_cap * 2 : 4;
		w->skipped = xrealloc(w->skipped,
				      w->skipped_cap * sizeof(*w->skipped));
	}
	w->skipped[w->nskipped].link = xstrdup(link);
	w->skipped[w->nskipped].reason = reason;
	w->nskipped++;
}

static void stack_push(struct stack *s, const struct stat *st, const char *rel)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->f = xrealloc(s->f, s->cap * sizeof(*s->f));
	}
	s->f[s->n].dev = st->st_dev;
	s->f[s->n].ino = st->st_ino;
	s->f[s->n].rel = xstrdup(rel);
	s->n++;
}

static void stack_pop(struct stack *s)
{
	free(s->f[--s->n].rel);
}

static void stack_release(struct stack *s)
{
	while (s->n)
		stack_pop(s);
	free(s->f);
}

static const struct frame *stack_find(const struct stack *s,
				      const struct stat *st)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->f[i].dev == st->st_dev && s->f[i].ino == st->st_ino)
			return &s->f[i];
	return NULL;
}

/* Is the resolved path inside the root (or the root itself)? */
static int inside_root(const struct dirwalk *w, const char *path)
{
	char *real = realpath(path, NULL);
	size_t n;
	int in;

	if (!real || !w->real_root) {
		free(real);
		return 0;
	}
	n = strlen(w->real_root);
	if (n == 1) /* the root is / */
		in = 1;
	else
		in = !strncmp(real, w->real_root, n) &&
		     (real[n] == '/' || !real[n]);
	free(real);
	return in;
}

enum { ENTRY_OTHER, ENTRY_FILE, ENTRY_DIR };

/*
 * What the entry rel (at abs) is, seen from the folders on the stack:
 * a folder to walk, a file, or something skipped. *st gets the target's.
 */
static int classify(struct dirwalk *w, const struct stack *s, const char *abs,
		    const char *rel, struct stat *st)
{
	struct stat lst;
	const struct frame *f;

	if (lstat(abs, &lst) < 0)
		return ENTRY_OTHER;
	if (stat(abs, st) < 0)
		return ENTRY_FILE; /* a dangling link: reading it says why */
	if (!S_ISDIR(st->st_mode))
		return ENTRY_FILE;
	if ((f = stack_find(s, st))) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "it loops back to '%s'", *f->rel ? f->rel : ".");
		skip(w, rel, strbuf_detach(&sb, NULL));
		return ENTRY_OTHER;
	}
	if (S_ISLNK(lst.st_mode) && !inside_root(w, abs)) {
		skip(w, rel, xstrdup("it points outside the monorepo"));
		return ENTRY_OTHER;
	}
	return ENTRY_DIR;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names in the folder abs, no dot files. */
static char **read_names(const char *abs)
{
	struct names l = { 0 };
	struct dirent *de;
	DIR *d = opendir(abs);

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			names_add(&l, xstrdup(de->d_name));
	if (d)
		closedir(d);
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_str);
	return names_finish(&l);
}

/*
 * Push the folders from the root down to rel onto the stack; 0 when rel
 * is a folder to walk, -1 when it is missing or loops (then recorded).
 */
static int descend_to(struct dirwalk *w, struct stack *s, const char *rel)
{
	char *abs = abs_path(w, "");
	char *path = xstrdup(rel);
	struct stat st;
	int r = 0;

	if (stat(abs, &st) < 0 || !S_ISDIR(st.st_mode)) {
		r = -1;
		goto out;
	}
	stack_push(s, &st, "");
	for (char *p = path; *p && r == 0;) {
		char *slash = strchr(p, '/');
		char *sub_abs;
		int kind;

		if (slash)
			*slash = '\0';
		sub_abs = abs_path(w, path);
		kind = classify(w, s, sub_abs, path, &st);
		free(sub_abs);
		if (kind != ENTRY_DIR)
			r = -1;
		else
			stack_push(s, &st, path);
		if (!slash)
			break;
		*slash = '/';
		p = slash + 1;
	}
out:
	free(path);
	free(abs);
	return r;
}

/* Fill files (YAML) and dirs (to walk) from the folder rel. */
static void read_folder(struct dirwalk *w, const struct stack *s,
			const char *rel, struct names *files,
			struct names *dirs, struct stack *dir_stats)
{
	char *abs = abs_path(w, rel);
	char **names = read_names(abs);

	for (size_t i = 0; names[i]; i++) {
		char *sub = join(rel, names[i]);
		char *sub_abs = abs_path(w, sub);
		struct stat st;
		int kind = classify(w, s, sub_abs, sub, &st);

		if (kind == ENTRY_DIR && dirs) {
			names_add(dirs, xstrdup(names[i]));
			if (dir_stats)
				stack_push(dir_stats, &st, sub);
		} else if (kind == ENTRY_FILE && files) {
			names_add(files, xstrdup(names[i]));
		}
		free(sub);
		free(sub_abs);
	}
	dirwalk_free_names(names);
	free(abs);
}

static int is_yaml_name(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && !strcmp(name + n - 5, ".yaml")) ||
	       (n > 4 && !strcmp(name + n - 4, ".yml"));
}

static void walk_yaml(struct dirwalk *w, struct stack *s, const char *rel,
		      struct names *out)
{
	struct names files = { 0 }, dirs = { 0 };
	struct stack dir_stats = { 0 };

	read_folder(w, s, rel, &files, &dirs, &dir_stats);
	for (size_t i = 0; i < files.n; i++)
		if (is_yaml_name(files.v[i]))
			names_add(out, join(rel, files.v[i]));
	for (size_t i = 0; i < dirs.n; i++) {
		struct stat st;

		st.st_dev = dir_stats.f[i].dev;
		st.st_ino = dir_stats.f[i].ino;
		stack_push(s, &st, dir_stats.f[i].rel);
		walk_yaml(w, s, dir_stats.f[i].rel, out);
		stack_pop(s);
	}
	dirwalk_free_names(names_finish(&files));
	dirwalk_free_names(names_finish(&dirs));
	stack_release(&dir_stats);
}

size_t dirwalk_yaml(struct dirwalk *w, const char *rel, char ***files)
{
	struct stack s = { 0 };
	struct names out = { 0 };

	if (descend_to(w, &s, rel) == 0)
		walk_yaml(w, &s, rel, &out);
	stack_release(&s);
	*files = names_finish(&out);
	return out.n;
}

char **dirwalk_subdirs(struct dirwalk *w, const char *rel)
{
	struct stack s = { 0 };
	struct names dirs = { 0 };

	if (descend_to(w, &s, rel) == 0)
		read_folder(w, &s, rel, NULL, &dirs, NULL);
	stack_release(&s);
	return names_finish(&dirs);
}
