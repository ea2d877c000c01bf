/* Lint rule image-drift: workloads of one app on different tags of one image. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "deploy.h"
#include "lint.h"
#include "monorepo.h"

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

#define DEPLOYMENT                    \
	"apiVersion: apps/v1\n"       \
	"kind: Deployment\n"          \
	"metadata: {name: %s}\n"      \
	"spec:\n"                     \
	"  template:\n"               \
	"    spec:\n"                 \
	"      containers:\n"         \
	"        - name: main\n"      \
	"          image: %s\n"

struct findings {
	int n;
	char file[256], msg[1200];
	unsigned line, col;
};

/* The image-drift findings of a report. */
static void collect(struct findings *f, const struct lint_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->items[i].rule->id, "image-drift"))
			continue;
		if (!f->n++) {
			snprintf(f->file, sizeof(f->file), "%s", r->items[i].file);
			snprintf(f->msg, sizeof(f->msg), "%s", r->items[i].message);
			f->line = r->items[i].line;
			f->col = r->items[i].col;
		}
	}
}

static struct findings lint(const char *a_image, const char *b_image,
			    const char *c_image)
{
	char root[] = "/tmp/saasctl-unit-deploy.XXXXXX", dir[600], text[1024];
	struct findings f = { 0 };
	struct monorepo *repo = NULL;
	struct err e;

	if (!mkdtemp(root))
		return f;
	snprintf(dir, sizeof(dir), "%s/manifests/apps/web", root);
	snprintf(text, sizeof(text), "mkdir -p '%s'", dir);
	if (system(text) != 0)
		return f;
	write_file(root, "saasctl.yaml", "project: t\n");
	snprintf(text, sizeof(text), DEPLOYMENT, "webserver", a_image);
	write_file(dir, "a.yaml", text);
	snprintf(text, sizeof(text), DEPLOYMENT, "celery-workers", b_image);
	write_file(dir, "b.yaml", text);
	snprintf(text, sizeof(text), DEPLOYMENT, "redis", c_image);
	write_file(dir, "c.yaml", text);
	if (monorepo_open(&repo, root, &e) == 0 && monorepo_load(repo, &e) == 0) {
		const struct monorepo_app *app = monorepo_app(repo, "web");
		struct lint_report r;

		lint_report_init(&r);
		if (app)
			lint_app(&r, repo, app);
		collect(&f, &r);
		lint_report_release(&r);
	}
	monorepo_free(repo);
	snprintf(text, sizeof(text), "rm -rf '%s'", root);
	if (system(text) != 0)
		f.n = -1;
	return f;
}

int main(void)
{
	struct findings f;

	f = lint("ghcr.io/acme/web:v1", "ghcr.io/acme/web:v1", "redis:7");
	CHECK(f.n == 0, "workloads on one tag: no finding");

	f = lint("ghcr.io/acme/web:v1", "ghcr.io/acme/web:v2", "redis:7");
	CHECK(f.n == 1, "two tags of one repository: one finding");
	CHECK_STR(f.file, "manifests/apps/web/b.yaml", "the finding is at the odd one out");
	CHECK(f.line == 9 && f.col == 18, "at the image value's line and column");
	CHECK_STR(f.msg, "workloads 'webserver' and 'celery-workers' run different versions of 'ghcr.io/acme/web': 'ghcr.io/acme/web:v1' and 'ghcr.io/acme/web:v2'; deploy moves them together",
		  "the message names both workloads and both images");

	f = lint("nginx:1.25", "docker.io/library/nginx:1.24", "redis:7");
	CHECK(f.n == 1, "Docker Hub short and long names are one repository");

	f = lint("ghcr.io/acme/web:v1", "ghcr.io/acme/worker:v2", "redis:7");
	CHECK(f.n == 0, "different repositories are not compared");
	return UNIT_DONE();
}
