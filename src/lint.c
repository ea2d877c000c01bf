#define _GNU_SOURCE 1
#include "lint.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deploy.h"
#include "kubeapi.h"
#include "sealed.h"
#include "strbuf.h"

/* ---- the report --------------------------------------------------------- */

void lint_report_init(struct lint_report *r)
{
	memset(r, 0, sizeof(*r));
}

void lint_report_release(struct lint_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->items[i].file);
		free(r->items[i].message);
	}
	free(r->items);
	lint_report_init(r);
}

static void report_vadd(struct lint *l, enum lint_severity sev,
			const char *file, const struct yamltree *tree,
			unsigned line, unsigned col, const char *fmt,
			va_list ap)
{
	struct lint_report *r = l->report;
	struct lint_finding *f;
	struct strbuf sb = STRBUF_INIT;

	if (r->n == r->alloc) {
		size_t na = r->alloc ? r->alloc * 2 : 16;
		struct lint_finding *ni = realloc(r->items, na * sizeof(*ni));

		if (!ni)
			abort();
		r->items = ni;
		r->alloc = na;
	}
	strbuf_init(&sb, 0);
	strbuf_vaddf(&sb, fmt, ap);
	f = &r->items[r->n++];
	f->rule = l->rule;
	f->severity = sev;
	f->file = strdup(file ? file : "-");
	if (!f->file)
		abort();
	f->line = line;
	f->col = col;
	f->message = strbuf_detach(&sb, NULL);
	f->tree = tree;
	if (sev == LINT_ERROR)
		r->nerrors++;
	else
		r->nwarnings++;
}

/* A finding at NODE of RES, or at the resource itself when NODE is NULL. */
static void resource_vadd(struct lint *l, enum lint_severity sev,
			  const struct monorepo_resource *res,
			  const struct ynode *node, const char *fmt, va_list ap)
{
	unsigned line = node ? node->line : res->line;
	unsigned col = node ? node->col : res->col ? res->col : 1;

	report_vadd(l, sev, res->file, res->tree, line, col, fmt, ap);
}

void lint_add(struct lint *l, const struct monorepo_resource *res,
	      const struct ynode *node, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	resource_vadd(l, l->rule->severity, res, node, fmt, ap);
	va_end(ap);
}

void lint_add_warning(struct lint *l, const struct monorepo_resource *res,
		      const struct ynode *node, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	resource_vadd(l, LINT_WARNING, res, node, fmt, ap);
	va_end(ap);
}

void lint_add_at(struct lint *l, const char *file,
		 const struct yamltree *tree, unsigned line, unsigned col,
		 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_vadd(l, l->rule->severity, file, tree, line, col, fmt, ap);
	va_end(ap);
}

static int finding_cmp(const void *a, const void *b)
{
	const struct lint_finding *x = a, *y = b;
	int c = strcmp(x->file, y->file);

	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return strcmp(x->rule->id, y->rule->id);
}

void lint_report_sort(struct lint_report *r)
{
	if (r->n > 1)
		qsort(r->items, r->n, sizeof(r->items[0]), finding_cmp);
}

/* ---- helpers --------------------------------------------------------- */

static int streq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* The key node of an entry, for pointing at "data:" rather than its value. */
static const struct ynode *key_node(const struct ynode *map, const char *key)
{
	if (!map || map->type != YNODE_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++) {
		const struct ynode *k = map->entries[i].key;

		if (k->type == YNODE_SCALAR && !strcmp(k->value, key))
			return k;
	}
	return NULL;
}

static size_t node_count(const struct ynode *n)
{
	return n && n->type != YNODE_SCALAR ? n->n : 0;
}

static const struct ynode *seq_item(const struct ynode *seq, size_t i)
{
	return seq && seq->type == YNODE_SEQ && i < seq->n ? seq->items[i]
							   : NULL;
}

static const struct monorepo_resource *
find_resource(const struct monorepo_app *app, const char *kind,
	      const char *name)
{
	for (size_t i = 0; i < app->nresources; i++)
		if (streq(app->resources[i].kind, kind) &&
		    streq(app->resources[i].name, name))
			return &app->resources[i];
	return NULL;
}

/* What a folder is, for messages: an app or a cluster service. */
static const char *unit(const struct monorepo_app *app)
{
	return app->dir && !strncmp(app->dir, "manifests/cluster/", 18)
		       ? "cluster service"
		       : "app";
}

/* Namespaced kinds live in the app's namespace; these do not. */
static int cluster_scoped(const char *kind)
{
	return monorepo_cluster_scoped(kind);
}

/* ---- the rules ----------------------------------------------------------- */

/* Skip "path:line:col: " (or "path: ") that yamltree put before a message. */
static const char *bare_message(const struct monorepo_bad_file *bad)
{
	const char *m = bad->message ? bad->message : "cannot parse";
	const char *names[2] = { bad->file, bad->tree ? bad->tree->path : NULL };

	for (int i = 0; i < 2; i++) {
		size_t n = names[i] ? strlen(names[i]) : 0;

		if (!n || strncmp(m, names[i], n) || m[n] != ':')
			continue;
		m += n + 1;
		while (*m == ':' || (*m >= '0' && *m <= '9'))
			m++;
		while (*m == ' ')
			m++;
		break;
	}
	return m;
}

static void rule_bad_file(struct lint *l, const struct monorepo_app *app,
			  int duplicates)
{
	for (size_t i = 0; i < app->nbad_files; i++) {
		const struct monorepo_bad_file *bad = &app->bad_files[i];
		int dup = bad->tree && bad->tree->error_kind == YERR_DUPLICATE_KEY;

		if (dup != duplicates)
			continue;
		lint_add_at(l, bad->file, bad->tree,
			    bad->tree ? bad->tree->error_line : 0,
			    bad->tree ? bad->tree->error_col : 0, "%s",
			    bare_message(bad));
	}
}

static void rule_yaml_syntax(struct lint *l, const struct monorepo_app *app)
{
	rule_bad_file(l, app, 0);
}

static void rule_duplicate_key(struct lint *l, const struct monorepo_app *app)
{
	rule_bad_file(l, app, 1);
}

static void rule_missing_field(struct lint *l, const struct monorepo_app *app)
{
	for (size_t i = 0; i < app->nresources; i++) {
		const struct monorepo_resource *res = &app->resources[i];

		if (!res->node || res->node->type != YNODE_MAP) {
			lint_add(l, res, res->node,
				 "the document is not a mapping: a manifest needs apiVersion, kind and metadata");
			continue;
		}
		if (!res->api_version)
			lint_add(l, res, NULL, "%s%s%s%s has no 'apiVersion'",
				 res->kind ? res->kind : "the resource",
				 res->name ? " '" : "", res->name ? res->name : "",
				 res->name ? "'" : "");
		if (!res->kind)
			lint_add(l, res, NULL, "the resource%s%s%s has no 'kind'",
				 res->name ? " '" : "", res->name ? res->name : "",
				 res->name ? "'" : "");
		/* generateName: the API server names it (Argo CD hooks, Jobs). */
		if (!res->name && !res->generate_name)
			lint_add(l, res, key_node(res->node, "metadata"),
				 "%s has no 'metadata.name'",
				 res->kind ? res->kind : "the resource");
	}
}

/* A value sops encrypted: "ENC[AES256_GCM,data:...,type:str]". */
static int sops_value(const struct ynode *v)
{
	return v && v->type == YNODE_SCALAR && v->len >= 5 &&
	       !strncmp(v->value, "ENC[", 4) && v->value[v->len - 1] == ']';
}

/*
 * A Secret encrypted with sops (Flux decrypts it on apply) carries a
 * top-level "sops" map with the wrapped data key: its ENC[...] values are
 * not plain text, but any value sops left unencrypted is. ENC[...] values
 * without that map cannot be decrypted by anyone, and applied as they are
 * they would become the secret: an error with a message of its own.
 */
static void rule_plain_secret(struct lint *l, const struct monorepo_app *app)
{
	static const char *const fields[] = { "data", "stringData" };

	for (size_t i = 0; i < app->nresources; i++) {
		const struct monorepo_resource *res = &app->resources[i];
		const struct ynode *sops = ynode_get(res->node, "sops");
		int has_sops = sops && sops->type == YNODE_MAP;
		const struct ynode *plain = NULL, *first = NULL;
		const char *field = NULL;	/* of plain */

		if (!streq(res->kind, "Secret") || !res->api_version ||
		    strcmp(res->api_version, "v1"))
			continue;
		for (size_t f = 0; f < 2 && !plain; f++) {
			const struct ynode *v = ynode_get(res->node, fields[f]);

			if (!node_count(v))
				continue;
			if (!first)
				first = key_node(res->node, fields[f]);
			field = fields[f];
			if (v->type != YNODE_MAP)
				plain = key_node(res->node, fields[f]);
			for (size_t k = 0; !plain && k < v->n; k++)
				if (!sops_value(v->entries[k].value))
					plain = v->entries[k].key;
		}
		if (!first)
			continue;
		if (!plain && !has_sops)
			lint_add(l, res, first,
				 "Secret '%s' has sops-encrypted values but no "
				 "'sops' metadata, so nothing can decrypt them: "
				 "encrypt the plain file again with sops, or seal "
				 "it with 'saasctl seal'",
				 res->name ? res->name : "?");
		else if (plain && has_sops)
			lint_add(l, res, plain,
				 "Secret '%s' is encrypted with sops but its %s "
				 "key '%s' is in plain text: encrypt it too (check "
				 "encrypted_regex and unencrypted_suffix)",
				 res->name ? res->name : "?", field,
				 plain->type == YNODE_SCALAR ? plain->value : "?");
		else if (plain)
			lint_add(l, res, key_node(res->node, field),
				 "Secret '%s' commits its %s in plain text "
				 "(base64 is not encryption): seal it with "
				 "'saasctl seal' and delete this file",
				 res->name ? res->name : "?", field);
	}
}

static void rule_sealed_recipients(struct lint *l,
				   const struct monorepo_app *app)
{
	for (size_t i = 0; i < app->nresources; i++) {
		const struct monorepo_resource *res = &app->resources[i];
		struct strbuf msg = STRBUF_INIT;
		struct err e = { { 0 } };
		int r;

		if (!sealed_is_sealed_secret(res->node))
			continue;
		strbuf_init(&msg, 0);
		r = sealed_check_recipients(l->repo, res->node, &msg, &e);
		if (r > 0)
			lint_add(l, res, ynode_path(res->node, "spec.encryptedData"),
				 "SealedSecret '%s': %s; reseal with 'saasctl secrets rekey'",
				 res->name ? res->name : "?", msg.buf);
		else if (r < 0)
			lint_add(l, res, NULL, "SealedSecret '%s': %s",
				 res->name ? res->name : "?", e.msg);
		strbuf_release(&msg);
	}
}

static void rule_image_tag(struct lint *l, const struct monorepo_app *app)
{
	for (size_t i = 0; i < app->nworkloads; i++) {
		const struct monorepo_workload *w = &app->workloads[i];

		for (size_t c = 0; c < w->ncontainers; c++) {
			const struct monorepo_container *ct = &w->containers[c];
			const char *img = ct->image, *slash, *colon;

			if (!img || !*img) {
				lint_add(l, w->res, ct->node,
					 "container '%s' has no image",
					 ct->name ? ct->name : "?");
				continue;
			}
			if (strchr(img, '@'))
				continue; /* a digest pins it */
			slash = strrchr(img, '/');
			colon = strrchr(slash ? slash + 1 : img, ':');
			if (!colon || !colon[1])
				lint_add(l, w->res, ct->image_node,
					 "image '%s' has no tag: pin a version "
					 "so a rollout is repeatable", img);
			else if (!strcmp(colon + 1, "latest"))
				lint_add(l, w->res, ct->image_node,
					 "image '%s' uses ':latest': pin a version "
					 "so a rollout is repeatable", img);
		}
	}
}

static void rule_resources(struct lint *l, const struct monorepo_app *app)
{
	for (size_t i = 0; i < app->nworkloads; i++) {
		const struct monorepo_workload *w = &app->workloads[i];

		for (size_t c = 0; c < w->ncontainers; c++) {
			const struct monorepo_container *ct = &w->containers[c];
			const struct ynode *res = ynode_get(ct->node, "resources");
			int req = node_count(ynode_get(res, "requests")) > 0;
			int lim = node_count(ynode_get(res, "limits")) > 0;

			if (req && lim)
				continue;
			lint_add(l, w->res, ct->node,
				 "container '%s' of %s '%s' has no resource %s",
				 ct->name ? ct->name : "?",
				 w->res->kind, w->res->name ? w->res->name : "?",
				 !req && !lim ? "requests or limits"
				 : !req	      ? "requests"
					      : "limits");
		}
	}
}

/*
 * A workload's selector must select its own pod template. Without one,
 * apps/v1 refuses the object; older APIs, Jobs and ReplicationControllers
 * take the template's labels, and a Pod has none.
 */
static void rule_selector(struct lint *l, const struct monorepo_app *app)
{
	for (size_t i = 0; i < app->nworkloads; i++) {
		const struct monorepo_workload *w = &app->workloads[i];
		const struct ynode *spec = ynode_get(w->res->node, "spec");

		if (!node_count(w->selector) && !node_count(w->match_expressions)) {
			if (!w->selector_required)
				continue;
			lint_add(l, w->res, key_node(spec, "selector") ? key_node(spec, "selector")
								 : key_node(w->res->node, "spec"),
				 "%s '%s' has no spec.selector (matchLabels or matchExpressions)",
				 w->res->kind, w->res->name ? w->res->name : "?");
			continue;
		}
		if (!monorepo_selector_matches(w->selector, w->match_expressions,
					       w->template_labels))
			lint_add(l, w->res, node_count(w->selector) ? w->selector
								    : w->match_expressions,
				 "the selector of %s '%s' does not match its "
				 "pod template labels: it would own no pods",
				 w->res->kind, w->res->name ? w->res->name : "?");
	}
}

static void rule_service_selector(struct lint *l,
				  const struct monorepo_app *app)
{
	for (size_t i = 0; i < app->nresources; i++) {
		const struct monorepo_resource *res = &app->resources[i];
		const struct ynode *sel;
		int found = 0;

		if (!streq(res->kind, "Service"))
			continue;
		sel = ynode_path(res->node, "spec.selector");
		if (!node_count(sel))
			continue; /* ExternalName or hand-made endpoints */
		for (size_t w = 0; w < app->nworkloads && !found; w++)
			found = monorepo_selector_matches(sel, NULL,
							  app->workloads[w].template_labels);
		if (!found) {
			struct strbuf sb = STRBUF_INIT;

			strbuf_init(&sb, 0);
			for (size_t k = 0; k < sel->n; k++)
				strbuf_addf(&sb, "%s%s=%s", k ? "," : "",
					    sel->entries[k].key->value ? sel->entries[k].key->value : "",
					    sel->entries[k].value->type == YNODE_SCALAR
						    ? sel->entries[k].value->value : "?");
			lint_add(l, res, sel,
				 "Service '%s' selects '%s' but no workload of "
				 "%s '%s' has those pod labels",
				 res->name ? res->name : "?", sb.buf, unit(app), app->name);
			strbuf_release(&sb);
		}
	}
}

/* Does the Service have a port with this number or this name? */
static int service_has_port(const struct monorepo_resource *svc,
			    const struct ynode *port)
{
	const struct ynode *ports = ynode_path(svc->node, "spec.ports");
	const char *want = port->value;
	int by_number = want && want[0] >= '0' && want[0] <= '9';

	for (size_t i = 0; i < node_count(ports); i++) {
		const struct ynode *p = seq_item(ports, i);

		if (streq(ynode_str(p, by_number ? "port" : "name"), want))
			return 1;
	}
	return 0;
}

static void check_backend(struct lint *l, const struct monorepo_app *app,
			  const struct monorepo_resource *ing,
			  const struct ynode *backend)
{
	const struct ynode *name = ynode_path(backend, "service.name");
	const struct ynode *port = ynode_path(backend, "service.port.number");
	const struct monorepo_resource *svc;

	if (!port)
		port = ynode_path(backend, "service.port.name");
	if (!name) { /* the v1beta1 shape */
		name = ynode_get(backend, "serviceName");
		port = ynode_get(backend, "servicePort");
	}
	if (!name || name->type != YNODE_SCALAR)
		return; /* a resource backend, not a Service */
	svc = find_resource(app, "Service", name->value);
	if (!svc) {
		lint_add(l, ing, name,
			 "Ingress '%s' sends traffic to Service '%s', which "
			 "%s '%s' does not define",
			 ing->name ? ing->name : "?", name->value, unit(app), app->name);
		return;
	}
	if (port && port->type == YNODE_SCALAR && !service_has_port(svc, port))
		lint_add(l, ing, port,
			 "Ingress '%s' names port '%s' of Service '%s', "
			 "which has no such port",
			 ing->name ? ing->name : "?", port->value, name->value);
}

static void rule_ingress_backend(struct lint *l,
				 const struct monorepo_app *app)
{
	for (size_t i = 0; i < app->nresources; i++) {
		const struct monorepo_resource *res = &app->resources[i];
		const struct ynode *spec, *rules, *def;

		if (!streq(res->kind, "Ingress"))
			continue;
		spec = ynode_get(res->node, "spec");
		def = ynode_get(spec, "defaultBackend");
		if (!def)
			def = ynode_get(spec, "backend");
		if (def)
			check_backend(l, app, res, def);
		rules = ynode_get(spec, "rules");
		for (size_t r = 0; r < node_count(rules); r++) {
			const struct ynode *paths =
				ynode_path(seq_item(rules, r), "http.paths");

			for (size_t p = 0; p < node_count(paths); p++)
				check_backend(l, app, res,
					      ynode_get(seq_item(paths, p), "backend"));
		}
	}
}

/* Does a TLS host entry cover host (exactly, or as "*.example.com")? */
static int tls_covers(const char *tls, const char *host)
{
	const char *dot;

	if (!strcmp(tls, host))
		return 1;
	dot = strchr(host, '.');
	return tls[0] == '*' && tls[1] == '.' && dot && !strcmp(tls + 1, dot);
}

static void rule_ingress_tls(struct lint *l, const struct monorepo_app *app)
{
	for (size_t i = 0; i < app->nresources; i++) {
		const struct monorepo_resource *res = &app->resources[i];
		const struct ynode *spec, *rules, *tls;

		if (!streq(res->kind, "Ingress"))
			continue;
		spec = ynode_get(res->node, "spec");
		rules = ynode_get(spec, "rules");
		tls = ynode_get(spec, "tls");
		for (size_t r = 0; r < node_count(rules); r++) {
			const struct ynode *host = ynode_get(seq_item(rules, r), "host");
			int covered = 0;

			if (!host || host->type != YNODE_SCALAR || !host->len)
				continue;
			for (size_t t = 0; t < node_count(tls) && !covered; t++) {
				const struct ynode *hosts =
					ynode_get(seq_item(tls, t), "hosts");

				for (size_t h = 0; h < node_count(hosts); h++) {
					const struct ynode *th = seq_item(hosts, h);

					if (th->type == YNODE_SCALAR &&
					    tls_covers(th->value, host->value))
						covered = 1;
				}
			}
			if (!covered)
				lint_add(l, res, host,
					 "host '%s' of Ingress '%s' has no TLS "
					 "entry: it would be served over plain HTTP",
					 host->value, res->name ? res->name : "?");
		}
	}
}

static void rule_hpa_range(struct lint *l, const struct monorepo_app *app)
{
	for (size_t i = 0; i < app->nhpas; i++) {
		const struct monorepo_hpa *h = &app->hpas[i];
		const struct ynode *spec = ynode_get(h->res->node, "spec");

		if (h->min >= 0 && h->max >= 0 && h->min > h->max)
			lint_add(l, h->res, ynode_get(spec, "minReplicas"),
				 "HorizontalPodAutoscaler '%s' has minReplicas "
				 "%d above maxReplicas %d",
				 h->res->name ? h->res->name : "?", h->min, h->max);
	}
}

static void rule_hpa_target(struct lint *l, const struct monorepo_app *app)
{
	for (size_t i = 0; i < app->nhpas; i++) {
		const struct monorepo_hpa *h = &app->hpas[i];
		const struct ynode *ref = ynode_path(h->res->node, "spec.scaleTargetRef");
		int found = 0;

		for (size_t w = 0; w < app->nworkloads && !found; w++)
			found = streq(app->workloads[w].res->kind, h->target_kind) &&
				streq(app->workloads[w].res->name, h->target_name);
		if (!found)
			lint_add(l, h->res, ref ? ynode_get(ref, "name") ? ynode_get(ref, "name") : ref : NULL,
				 "HorizontalPodAutoscaler '%s' scales %s '%s', "
				 "which %s '%s' does not define",
				 h->res->name ? h->res->name : "?",
				 h->target_kind ? h->target_kind : "(no kind)",
				 h->target_name ? h->target_name : "(no name)",
				 unit(app), app->name);
	}
}

static const char *effective_ns(const struct monorepo_app *app,
				const struct monorepo_resource *res)
{
	if (cluster_scoped(res->kind))
		return "";
	return res->namespace ? res->namespace : app->namespace;
}

/* Resources ordered by kind, namespace, name, then position (qsort_r). */
static int resource_order(const void *x, const void *y, void *ctx)
{
	const struct monorepo_app *app = ctx;
	const struct monorepo_resource *a = *(const struct monorepo_resource *const *)x;
	const struct monorepo_resource *b = *(const struct monorepo_resource *const *)y;
	int c = strcmp(a->kind, b->kind);

	if (!c)
		c = strcmp(effective_ns(app, a), effective_ns(app, b));
	if (!c)
		c = strcmp(a->name, b->name);
	if (!c)
		c = a < b ? -1 : a > b;
	return c;
}

/* Sorted, so that a big app costs n log n rather than n squared. */
static void rule_duplicate_resource(struct lint *l,
				    const struct monorepo_app *app)
{
	const struct monorepo_resource **v = calloc(app->nresources + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		abort();
	for (size_t i = 0; i < app->nresources; i++)
		if (app->resources[i].kind && app->resources[i].name)
			v[n++] = &app->resources[i];
	qsort_r(v, n, sizeof(*v), resource_order, (void *)app);
	for (size_t i = 1, first = 0; i < n; i++) {
		const struct monorepo_resource *a = v[i], *b = v[first];

		if (strcmp(a->kind, b->kind) || strcmp(a->name, b->name) ||
		    strcmp(effective_ns(app, a), effective_ns(app, b))) {
			first = i;
			continue;
		}
		lint_add(l, a, ynode_path(a->node, "metadata.name"),
			 "%s '%s' is defined twice: first at %s:%u",
			 a->kind, a->name, b->file, b->line);
	}
	free(v);
}

/*
 * A RoleBinding elsewhere that grants the app's own ServiceAccounts rights in
 * that namespace is placed there on purpose (extension-apiserver-
 * authentication-reader lives in kube-system), and so is the Role it binds.
 */
static int grants_to_namespace(const struct ynode *binding, const char *ns)
{
	const struct ynode *subjects = ynode_get(binding, "subjects");
	const struct ynode *s;

	for (size_t i = 0; (s = seq_item(subjects, i)); i++)
		if (streq(ynode_str(s, "kind"), "ServiceAccount") &&
		    streq(ynode_str(s, "namespace"), ns))
			return 1;
	return 0;
}

static int cross_namespace_grant(const struct monorepo_app *app,
				 const struct monorepo_resource *res,
				 const char *major)
{
	if (streq(res->kind, "RoleBinding"))
		return grants_to_namespace(res->node, major);
	if (!streq(res->kind, "Role"))
		return 0;
	for (size_t i = 0; i < app->nresources; i++) {
		const struct monorepo_resource *b = &app->resources[i];

		if (streq(b->kind, "RoleBinding") && streq(b->namespace, res->namespace) &&
		    streq(ynode_str(b->node, "roleRef.kind"), "Role") &&
		    streq(ynode_str(b->node, "roleRef.name"), res->name) &&
		    grants_to_namespace(b->node, major))
			return 1;
	}
	return 0;
}

static void rule_mixed_namespaces(struct lint *l,
				  const struct monorepo_app *app)
{
	/* The app model's rule (monorepo_app_namespace), as 'apps' shows it. */
	const char *major = app->namespace;

	for (size_t i = 0; major && i < app->nresources; i++) {
		const struct monorepo_resource *res = &app->resources[i];

		if (!res->namespace || cluster_scoped(res->kind) ||
		    !strcmp(res->namespace, major) ||
		    cross_namespace_grant(app, res, major))
			continue;
		lint_add(l, res, ynode_path(res->node, "metadata.namespace"),
			 "%s '%s' is in namespace '%s' but the rest of %s "
			 "'%s' is in '%s'",
			 res->kind ? res->kind : "resource",
			 res->name ? res->name : "?", res->namespace,
			 unit(app), app->name, major);
	}
}

/*
 * The table is src/kubeapi.c. Against the target release (cluster.version,
 * --kube-version; by default the newest release the table knows) an API
 * already removed is an error, one deprecated but still served a warning.
 */
static void rule_deprecated_api(struct lint *l, const struct monorepo_app *app)
{
	unsigned target = l->report->kube_version;

	for (size_t i = 0; i < app->nresources; i++) {
		const struct monorepo_resource *res = &app->resources[i];
		const struct kubeapi_removal *d = kubeapi_find(res->api_version, res->kind);
		const struct ynode *at = ynode_get(res->node, "apiVersion");
		const char *project = d && d->project ? d->project : "Kubernetes";
		struct strbuf use = STRBUF_INIT;

		if (!d)
			continue;
		strbuf_init(&use, 0);
		if (d->replacement)
			strbuf_addf(&use, "use '%s'", d->replacement);
		else
			strbuf_addstr(&use, d->advice);
		switch (kubeapi_state(d, target)) {
		case KUBEAPI_REMOVED:
			lint_add(l, res, at, "%s '%s' uses apiVersion '%s', removed in %s 1.%u: %s",
				 res->kind ? res->kind : "resource",
				 res->name ? res->name : "?", res->api_version,
				 project, d->removed, use.buf);
			break;
		case KUBEAPI_DEPRECATED:
			lint_add_warning(l, res, at,
					 "%s '%s' uses apiVersion '%s', deprecated in %s 1.%u "
					 "and removed in 1.%u: %s",
					 res->kind ? res->kind : "resource",
					 res->name ? res->name : "?", res->api_version,
					 project, d->deprecated, d->removed, use.buf);
			break;
		case KUBEAPI_SERVED:
			break;
		}
		strbuf_release(&use);
	}
}

static int optional_ref(const struct ynode *ref)
{
	return streq(ynode_str(ref, "optional"), "true");
}

static int api_group_is(const struct monorepo_resource *res, const char *group)
{
	size_t n = strlen(group);

	return res->api_version && !strncmp(res->api_version, group, n) &&
	       res->api_version[n] == '/';
}

/*
 * Is a Secret named name in the app, or made in the cluster from
 * something the app defines? A SealedSecret (saasctl's or Bitnami's)
 * becomes the Secret of its spec.template.metadata.name, else its own
 * name; a cert-manager Certificate writes spec.secretName; an
 * ExternalSecret spec.target.name, else its own name; cert-manager's
 * ingress-shim makes the tls[].secretName of an Ingress annotated with an
 * issuer.
 */
static int secret_defined(const struct monorepo_app *app, const char *name)
{
	for (size_t i = 0; i < app->nresources; i++) {
		const struct monorepo_resource *res = &app->resources[i];
		const struct ynode *spec = ynode_get(res->node, "spec");
		const char *made = NULL;

		if (streq(res->kind, "Secret")) {
			made = res->name;
		} else if (streq(res->kind, "SealedSecret")) {
			made = ynode_str(ynode_path(spec, "template.metadata"), "name");
			if (!made)
				made = res->name;
		} else if (streq(res->kind, "Certificate") &&
			   api_group_is(res, "cert-manager.io")) {
			made = ynode_str(spec, "secretName");
		} else if (streq(res->kind, "ExternalSecret") &&
			   api_group_is(res, "external-secrets.io")) {
			made = ynode_str(ynode_get(spec, "target"), "name");
			if (!made)
				made = res->name;
		} else if (streq(res->kind, "Ingress")) {
			const struct ynode *ann = ynode_path(res->node, "metadata.annotations");
			const struct ynode *tls = ynode_get(spec, "tls");

			if (!ynode_get(ann, "cert-manager.io/cluster-issuer") &&
			    !ynode_get(ann, "cert-manager.io/issuer"))
				continue;
			for (size_t t = 0; t < node_count(tls); t++)
				if (streq(ynode_str(seq_item(tls, t), "secretName"), name))
					return 1;
			continue;
		}
		if (streq(made, name))
			return 1;
	}
	return 0;
}

/* Does a sequence of scalars hold want (or "*")? */
static int seq_has(const struct ynode *seq, const char *want)
{
	for (size_t i = 0; i < node_count(seq); i++) {
		const struct ynode *it = seq_item(seq, i);

		if (it && it->type == YNODE_SCALAR &&
		    (!strcmp(it->value, want) || !strcmp(it->value, "*")))
			return 1;
	}
	return 0;
}

/* Does a Role or ClusterRole let its holder create resource ("secrets")? */
static int role_creates(const struct monorepo_resource *role, const char *resource)
{
	const struct ynode *rules = ynode_get(role->node, "rules");

	for (size_t i = 0; i < node_count(rules); i++) {
		const struct ynode *r = seq_item(rules, i);

		if (seq_has(ynode_get(r, "apiGroups"), "") &&
		    seq_has(ynode_get(r, "resources"), resource) &&
		    seq_has(ynode_get(r, "verbs"), "create"))
			return 1;
	}
	return 0;
}

static const char *service_account(const struct monorepo_workload *w)
{
	const char *sa = ynode_str(w->pod_spec, "serviceAccountName");

	if (!sa)
		sa = ynode_str(w->pod_spec, "serviceAccount");
	return sa ? sa : "default";
}

/*
 * What in the app may create a resource ("secrets", "configmaps") at run
 * time, for the message ("Job 'x'"); empty when nothing can. A workload whose
 * ServiceAccount a (Cluster)RoleBinding of the app binds to a
 * (Cluster)Role of the app granting create on it; for Secrets also any
 * Job or CronJob, which is how charts make their certificates and
 * passwords (ingress-nginx's admission Jobs) with RBAC the linter may
 * not see.
 */
static void runtime_maker(const struct monorepo_app *app, const char *resource,
			  struct strbuf *out)
{
	for (size_t b = 0; b < app->nresources; b++) {
		const struct monorepo_resource *bind = &app->resources[b];
		const struct ynode *ref = ynode_get(bind->node, "roleRef");
		const struct ynode *subjects = ynode_get(bind->node, "subjects");
		const struct monorepo_resource *role;

		if (!streq(bind->kind, "RoleBinding") &&
		    !streq(bind->kind, "ClusterRoleBinding"))
			continue;
		role = find_resource(app, ynode_str(ref, "kind"), ynode_str(ref, "name"));
		if (!role || !role_creates(role, resource))
			continue;
		for (size_t s = 0; s < node_count(subjects); s++) {
			const struct ynode *sub = seq_item(subjects, s);
			const char *sa = ynode_str(sub, "name");

			if (!streq(ynode_str(sub, "kind"), "ServiceAccount"))
				continue;
			for (size_t w = 0; w < app->nworkloads; w++) {
				if (!streq(service_account(&app->workloads[w]), sa))
					continue;
				strbuf_addf(out, "%s '%s' (its ServiceAccount '%s' "
					    "may create %s through %s '%s')",
					    app->workloads[w].res->kind,
					    app->workloads[w].res->name ? app->workloads[w].res->name : "?",
					    sa, resource, role->kind, role->name);
				return;
			}
		}
	}
	if (strcmp(resource, "secrets"))
		return;
	for (size_t w = 0; w < app->nworkloads; w++) {
		const struct monorepo_resource *res = app->workloads[w].res;

		if (streq(res->kind, "Job") || streq(res->kind, "CronJob")) {
			strbuf_addf(out, "%s '%s'", res->kind,
				    res->name ? res->name : "?");
			return;
		}
	}
}

/* What may make a missing Secret or ConfigMap, worked out once per app. */
struct ref_makers {
	int done;
	struct strbuf secrets, configmaps;
};

/*
 * A reference to a ConfigMap (want_secret 0) or a Secret (1). Missing is
 * an error, or a warning when something in the app may create it at run
 * time.
 */
static void check_ref(struct lint *l, const struct monorepo_app *app,
		      const struct monorepo_workload *w,
		      const struct ynode *ref, const char *name_key,
		      int want_secret, struct ref_makers *makers)
{
	const struct ynode *name = ynode_get(ref, name_key);
	const char *what = want_secret ? "Secret" : "ConfigMap";
	const struct strbuf *maker;

	if (!name || name->type != YNODE_SCALAR || optional_ref(ref))
		return;
	if (want_secret ? secret_defined(app, name->value)
			: find_resource(app, "ConfigMap", name->value) != NULL)
		return;
	/* made by a configMapGenerator or secretGenerator of kustomize */
	if (monorepo_app_generates(app, what, name->value))
		return;
	if (!makers->done) {
		runtime_maker(app, "secrets", &makers->secrets);
		runtime_maker(app, "configmaps", &makers->configmaps);
		makers->done = 1;
	}
	maker = want_secret ? &makers->secrets : &makers->configmaps;
	if (maker->len)
		lint_add_warning(l, w->res, name,
				 "%s '%s' uses %s '%s', which %s '%s' does not "
				 "define; %s may make it at run time",
				 w->res->kind, w->res->name ? w->res->name : "?",
				 what, name->value, unit(app), app->name, maker->buf);
	else
		lint_add(l, w->res, name,
			 "%s '%s' uses %s '%s', which %s '%s' does not define",
			 w->res->kind, w->res->name ? w->res->name : "?",
			 what, name->value, unit(app), app->name);
}

static void rule_missing_ref(struct lint *l, const struct monorepo_app *app)
{
	struct ref_makers makers = { 0, STRBUF_INIT, STRBUF_INIT };

	strbuf_init(&makers.secrets, 0);
	strbuf_init(&makers.configmaps, 0);
	for (size_t i = 0; i < app->nworkloads; i++) {
		const struct monorepo_workload *w = &app->workloads[i];
		const struct ynode *vols = ynode_get(w->pod_spec, "volumes");

		for (size_t c = 0; c < w->ncontainers; c++) {
			const struct ynode *ct = w->containers[c].node;
			const struct ynode *from = ynode_get(ct, "envFrom");
			const struct ynode *env = ynode_get(ct, "env");

			for (size_t k = 0; k < node_count(from); k++) {
				const struct ynode *it = seq_item(from, k);

				check_ref(l, app, w, ynode_get(it, "configMapRef"), "name", 0, &makers);
				check_ref(l, app, w, ynode_get(it, "secretRef"), "name", 1, &makers);
			}
			for (size_t k = 0; k < node_count(env); k++) {
				const struct ynode *vf = ynode_get(seq_item(env, k), "valueFrom");

				check_ref(l, app, w, ynode_get(vf, "configMapKeyRef"), "name", 0, &makers);
				check_ref(l, app, w, ynode_get(vf, "secretKeyRef"), "name", 1, &makers);
			}
		}
		for (size_t k = 0; k < node_count(vols); k++) {
			const struct ynode *v = seq_item(vols, k);

			check_ref(l, app, w, ynode_get(v, "configMap"), "name", 0, &makers);
			check_ref(l, app, w, ynode_get(v, "secret"), "secretName", 1, &makers);
		}
	}
	strbuf_release(&makers.secrets);
	strbuf_release(&makers.configmaps);
}

/* ---- CronJobs that run saasctl backup ------------------------------------- */

/* Does a command or args entry (a word, or a whole "sh -c" line) hold s? */
static int words_have(const struct ynode *seq, const char *s)
{
	if (seq && seq->type == YNODE_SCALAR)
		return seq->value && strstr(seq->value, s) != NULL;
	for (size_t i = 0; i < node_count(seq); i++) {
		const struct ynode *w = seq_item(seq, i);

		if (w && w->type == YNODE_SCALAR && w->value && strstr(w->value, s))
			return 1;
	}
	return 0;
}

static int container_has(const struct ynode *ct, const char *s)
{
	return words_have(ynode_get(ct, "command"), s) ||
	       words_have(ynode_get(ct, "args"), s);
}

/*
 * Something tells Healthchecks about the run: --ping (backup clickhouse,
 * drill), the `saasctl run --check` wrapper (any job, prune included), or
 * SAASCTL_BACKUPS_PING in env (backups.ping, read by backup clickhouse).
 * A ping set by envFrom or by the image's saasctl.yaml cannot be seen
 * here, so the rule is a warning.
 */
static int container_pings(const struct ynode *ct)
{
	const struct ynode *env = ynode_get(ct, "env");

	if (container_has(ct, "--ping") || container_has(ct, "--check"))
		return 1;
	for (size_t k = 0; k < node_count(env); k++)
		if (streq(ynode_str(seq_item(env, k), "name"), "SAASCTL_BACKUPS_PING"))
			return 1;
	return 0;
}

/*
 * A backup from a CronJob runs unwatched: it must ping, or a night that
 * fails (or never starts) goes unnoticed, and two runs must not overlap
 * (the second would fail on the lock, or export the same data twice).
 */
static void rule_backup_cronjob(struct lint *l, const struct monorepo_app *app)
{
	for (size_t i = 0; i < app->nworkloads; i++) {
		const struct monorepo_workload *w = &app->workloads[i];
		const char *name = w->res->name ? w->res->name : "?";
		const struct ynode *policy;
		int runs = 0;

		if (!streq(w->res->kind, "CronJob"))
			continue;
		for (size_t c = 0; c < w->ncontainers; c++) {
			const struct ynode *ct = w->containers[c].node;

			if (!container_has(ct, "saasctl") || !container_has(ct, "backup"))
				continue;
			runs = 1;
			if (!container_pings(ct))
				lint_add(l, w->res, ct,
					 "container '%s' of CronJob '%s' runs "
					 "'saasctl backup' without --ping: a run "
					 "that fails or never starts goes unnoticed "
					 "(add --ping CHECK, wrap it in 'saasctl run "
					 "--check CHECK', or set SAASCTL_BACKUPS_PING)",
					 w->containers[c].name ? w->containers[c].name : "?",
					 name);
		}
		if (!runs)
			continue;
		policy = ynode_get(ynode_get(w->res->node, "spec"), "concurrencyPolicy");
		if (policy && policy->type == YNODE_SCALAR &&
		    streq(policy->value, "Forbid"))
			continue;
		if (policy && policy->type == YNODE_SCALAR)
			lint_add(l, w->res, policy,
				 "CronJob '%s' runs 'saasctl backup' with "
				 "concurrencyPolicy '%s': %s; set "
				 "concurrencyPolicy: Forbid",
				 name, policy->value ? policy->value : "",
				 streq(policy->value, "Replace")
					 ? "a slow run is killed when the next one starts"
					 : "a slow run and the next one overlap");
		else
			lint_add(l, w->res, NULL,
				 "CronJob '%s' runs 'saasctl backup' without "
				 "concurrencyPolicy (Allow): a slow run and the next "
				 "one overlap; set concurrencyPolicy: Forbid", name);
	}
}

/* ---- the table ----------------------------------------------------------- */

/*
 * Every rule: its ID (stable; used in output and in man/saasctl-lint.1),
 * severity, a one-line summary and its function. Add a rule with one line.
 */
const struct lint_rule lint_rules[] = {
	{ "yaml-syntax", LINT_ERROR, "the file is not valid YAML", rule_yaml_syntax, 0 },
	{ "duplicate-key", LINT_ERROR, "a mapping has the same key twice", rule_duplicate_key, 0 },
	{ "missing-field", LINT_ERROR, "a resource without apiVersion, kind or metadata.name", rule_missing_field, 0 },
	{ "plain-secret", LINT_ERROR, "a Secret with data committed in plain text", rule_plain_secret, 0 },
	{ "sealed-recipients", LINT_ERROR, "a SealedSecret not sealed to every recipient of saasctl.yaml", rule_sealed_recipients, 0 },
	{ "image-tag", LINT_ERROR, "an image with no tag, or :latest", rule_image_tag, 0 },
	{ "resources", LINT_WARNING, "a container without resource requests or limits", rule_resources, 0 },
	{ "selector-mismatch", LINT_ERROR, "a workload selector that does not match its pod labels", rule_selector, 0 },
	{ "service-selector", LINT_ERROR, "a Service selector that matches no workload of the app", rule_service_selector, 1 },
	{ "ingress-backend", LINT_ERROR, "an Ingress backend naming an undefined Service or port", rule_ingress_backend, 1 },
	{ "ingress-tls", LINT_WARNING, "an Ingress host without TLS", rule_ingress_tls, 0 },
	{ "hpa-range", LINT_ERROR, "an HPA with minReplicas above maxReplicas", rule_hpa_range, 0 },
	{ "hpa-target", LINT_ERROR, "an HPA scaling a workload the app does not define", rule_hpa_target, 1 },
	{ "duplicate-resource", LINT_ERROR, "two resources with the same kind, namespace and name", rule_duplicate_resource, 0 },
	{ "mixed-namespaces", LINT_WARNING, "resources of one app in different namespaces", rule_mixed_namespaces, 0 },
	{ "deprecated-api", LINT_ERROR, "a removed or deprecated apiVersion", rule_deprecated_api, 0 },
	{ "missing-ref", LINT_ERROR, "envFrom, env or a volume naming a ConfigMap or Secret that does not exist", rule_missing_ref, 1 },
	{ "image-drift", LINT_WARNING, "workloads of one app on different tags of the same image", deploy_lint_image_drift, 0 },
	{ "backup-cronjob", LINT_WARNING, "a CronJob running saasctl backup without --ping or concurrencyPolicy: Forbid", rule_backup_cronjob, 0 },
	{ NULL, 0, NULL, NULL, 0 },
};

const struct lint_rule *lint_rule_find(const char *id)
{
	for (const struct lint_rule *r = lint_rules; r->id; r++)
		if (!strcmp(r->id, id))
			return r;
	return NULL;
}

void lint_app(struct lint_report *r, const struct monorepo *repo,
	      const struct monorepo_app *app)
{
	struct lint l = { r, repo, NULL };

	r->nfiles += app->nfiles + app->nbad_files;
	for (const struct lint_rule *rule = lint_rules; rule->id; rule++) {
		if (rule->needs_whole_app && app->nbad_files)
			continue;
		l.rule = rule;
		rule->check(&l, app);
	}
}

void lint_repo(struct lint_report *r, const struct monorepo *repo)
{
	for (size_t i = 0; i < repo->napps; i++)
		lint_app(r, repo, &repo->apps[i]);
}
