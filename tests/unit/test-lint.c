/*
 * The lint rule table and report, without files: every rule is well
 * formed and unique, findings sort by place, and rules run on a tiny app
 * built in memory from yamltree.
 */
#include <string.h>

#include "unit.h"
#include "lint.h"

static struct monorepo_app app_from(const char *text, struct yamltree **t,
				    struct monorepo_resource *res, size_t *n)
{
	struct monorepo_app app;
	struct err e;

	memset(&app, 0, sizeof(app));
	yamltree_parse_text(t, "manifests/apps/x/a.yaml", text, strlen(text), NULL, &e);
	*n = 0;
	for (size_t i = 0; *t && i < (*t)->ndocs; i++) {
		struct monorepo_resource *r = &res[(*n)++];

		memset(r, 0, sizeof(*r));
		r->node = (*t)->docs[i].root;
		r->kind = ynode_str(r->node, "kind");
		r->api_version = ynode_str(r->node, "apiVersion");
		r->name = ynode_str(r->node, "metadata.name");
		r->namespace = ynode_str(r->node, "metadata.namespace");
		r->file = "manifests/apps/x/a.yaml";
		r->line = (*t)->docs[i].line;
		r->tree = *t;
		r->doc = &(*t)->docs[i];
	}
	app.name = "x";
	app.dir = "manifests/apps/x";
	app.namespace = "x";
	app.resources = res;
	app.nresources = *n;
	return app;
}

int main(void)
{
	struct monorepo_resource res[8];
	struct lint_report r;
	struct yamltree *t = NULL;
	struct monorepo_app app;
	size_t n, count = 0;
	int unique = 1, formed = 1;

	for (const struct lint_rule *a = lint_rules; a->id; a++, count++) {
		formed &= a->check && a->summary && *a->summary &&
			  (a->severity == LINT_ERROR || a->severity == LINT_WARNING);
		for (const struct lint_rule *b = lint_rules; b < a; b++)
			unique &= strcmp(a->id, b->id) != 0;
	}
	CHECK(count >= 16, "the table has at least sixteen rules");
	CHECK(unique, "rule IDs are unique");
	CHECK(formed, "every rule has a function, a summary and a severity");
	CHECK(lint_rule_find("image-tag") && !lint_rule_find("nope"), "rules are found by ID");

	/* Two resources with the same name and a removed API. */
	app = app_from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: x}\n"
		       "---\napiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: i, namespace: x}\n"
		       "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: x}\n",
		       &t, res, &n);
	CHECK(n == 3, "the in-memory app has three resources");
	lint_report_init(&r);
	lint_app(&r, NULL, &app);
	lint_report_sort(&r);
	CHECK(r.n == 2 && r.nerrors == 2, "two errors are found");
	CHECK(r.n == 2 && !strcmp(r.items[0].rule->id, "deprecated-api") &&
	      r.items[0].line == 5, "the first finding is the removed API on line 5");
	CHECK(r.n == 2 && !strcmp(r.items[1].rule->id, "duplicate-resource") &&
	      strstr(r.items[1].message, "first at manifests/apps/x/a.yaml:1"),
	      "the duplicate names where the first one is");
	CHECK(r.n == 2 && strstr(r.items[0].message, "use 'networking.k8s.io/v1'"),
	      "the removed API names its replacement");
	lint_report_release(&r);
	CHECK(r.n == 0 && r.items == NULL, "a released report is empty");

	/* On a 1.20 cluster the Ingress is deprecated, not yet removed. */
	lint_report_init(&r);
	r.kube_version = 20;
	lint_app(&r, NULL, &app);
	lint_report_sort(&r);
	CHECK(r.n == 2 && r.nerrors == 1 && r.nwarnings == 1,
	      "targeting 1.20: one error and one warning");
	CHECK(r.n == 2 && r.items[0].severity == LINT_WARNING &&
	      r.items[0].rule->severity == LINT_ERROR &&
	      strstr(r.items[0].message, "deprecated in Kubernetes 1.14 and removed in 1.22"),
	      "a deprecated API is a warning of the error rule, naming both releases");
	CHECK(r.n == 2 && r.items[1].severity == LINT_ERROR, "the duplicate stays an error");
	lint_report_release(&r);
	yamltree_free(t);
	return UNIT_DONE();
}
