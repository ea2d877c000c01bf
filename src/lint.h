#ifndef SAASCTL_LINT_H
#define SAASCTL_LINT_H

/*
 * Checks on the manifests of a monorepo. One table of rules (lint_rules[]
 * in lint.c), one function per rule; a rule looks at one app at a time and
 * reports findings with lint_report_add(). A module that brings its own
 * rule (sealed secrets, deploys) declares the function in its header and
 * adds one line to the table.
 */

#include <stddef.h>

#include "monorepo.h"
#include "yamltree.h"

enum lint_severity {
	LINT_WARNING,
	LINT_ERROR,
};

struct lint_finding {
	const struct lint_rule *rule;
	enum lint_severity severity;	/* the rule's, or lower (lint_add_warning) */
	char *file;			/* relative to the monorepo root */
	unsigned line, col;		/* 1-based; 0 when unknown */
	char *message;			/* one line, lowercase */
	const struct yamltree *tree;	/* for the excerpt; may be NULL */
};

struct lint_report {
	struct lint_finding *items;
	size_t n, alloc;
	size_t nerrors, nwarnings;
	size_t nfiles;			/* files looked at */
	/*
	 * Set before linting: the Kubernetes release 1.N the manifests
	 * target, as N (deprecated-api); 0 for the newest release kubeapi.h
	 * knows.
	 */
	unsigned kube_version;
};

/* What a rule function gets: where to report, and the whole monorepo. */
struct lint {
	struct lint_report *report;
	const struct monorepo *repo;
	const struct lint_rule *rule;	/* the rule running now */
};

struct lint_rule {
	const char *id;			/* "image-tag" */
	enum lint_severity severity;
	const char *summary;		/* one line for listings */
	void (*check)(struct lint *l, const struct monorepo_app *app);
	/*
	 * Rules that relate resources to each other (a Service to its
	 * workloads) stay quiet in an app with a file that did not parse:
	 * its resources are unknown, and every finding would be noise.
	 */
	int needs_whole_app;
};

/* The table, ended by an entry with a NULL id. */
extern const struct lint_rule lint_rules[];
const struct lint_rule *lint_rule_find(const char *id);

void lint_report_init(struct lint_report *r);
void lint_report_release(struct lint_report *r);

/*
 * Record a finding of the running rule at node (or at the resource's
 * document when node is NULL). printf-style: lowercase, subject quoted.
 */
void lint_add(struct lint *l, const struct monorepo_resource *res,
	      const struct ynode *node, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/*
 * The same as a warning, whatever the rule's severity: for a finding the
 * rule cannot be sure of (an API deprecated but still served, a Secret
 * that something in the app may create at run time).
 */
void lint_add_warning(struct lint *l, const struct monorepo_resource *res,
		      const struct ynode *node, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same for a place in a file with no resource (a syntax error). */
void lint_add_at(struct lint *l, const char *file,
		 const struct yamltree *tree, unsigned line, unsigned col,
		 const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Run every rule over one app; over every app of repo. */
void lint_app(struct lint_report *r, const struct monorepo *repo,
	      const struct monorepo_app *app);
void lint_repo(struct lint_report *r, const struct monorepo *repo);

/* Sort the findings by file, line and column. */
void lint_report_sort(struct lint_report *r);

#endif
