/* monorepo: root discovery, saasctl.yaml validation and overrides, apps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monorepo.h"
#include "unit.h"

static char root[256];

static void put(const char *rel, const char *text)
{
	char path[512], dir[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "mkdir -p \"$(dirname '%s')\"", path);
	if (system(dir) != 0)
		abort();
	f = fopen(path, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
}

static void test_config(void)
{
	struct monorepo *repo = NULL;
	const char *const *items;
	struct err e;
	char sub[512];

	put("saasctl.yaml", "project: acme\nclickhouse: {url: http://ch:8123}\n"
			    "secrets:\n  recipients: [keys/cluster.pub, keys/recovery.pub]\n"
			    "healthchecks:\n  checks:\n    nightly: {schedule: '0 3 * * *', grace: 2h}\n");
	put("manifests/apps/.keep", "");
	snprintf(sub, sizeof(sub), "%s/manifests/apps", root);
	CHECK(monorepo_open(&repo, sub, &e) == 0, "root found from a subfolder");
	CHECK(repo && !strcmp(strrchr(repo->root, '/'), strrchr(root, '/')), "root is the folder with saasctl.yaml");
	CHECK_STR(monorepo_get(repo, "project"), "acme", "project");
	CHECK_STR(monorepo_get(repo, "clickhouse.url"), "http://ch:8123", "flow map value");
	setenv("SAASCTL_CLICKHOUSE_URL", "http://other:8123", 1);
	CHECK_STR(monorepo_get(repo, "clickhouse.url"), "http://other:8123", "SAASCTL_* overrides the file");
	unsetenv("SAASCTL_CLICKHOUSE_URL");
	setenv("SAASCTL_HC_PING_URL", "http://hc.local", 1);
	CHECK_STR(monorepo_get(repo, "healthchecks.ping_url"), "http://hc.local", "alias variable");
	unsetenv("SAASCTL_HC_PING_URL");
	CHECK(monorepo_get_list(repo, "secrets.recipients", &items) == 2 &&
	      !strcmp(items[1], "keys/recovery.pub"), "list setting");
	setenv("SAASCTL_SECRETS_RECIPIENTS", "a.pub, b.pub,c.pub", 1);
	CHECK(monorepo_get_list(repo, "secrets.recipients", &items) == 3 &&
	      !strcmp(items[1], "b.pub"), "list from a comma-separated variable");
	unsetenv("SAASCTL_SECRETS_RECIPIENTS");
	CHECK_STR(ynode_str(monorepo_config_node(repo, "healthchecks.checks.nightly"), "grace"), "2h", "config node");
	monorepo_free(repo);

	put("saasctl.yaml", "project: acme\nclikhouse:\n  url: x\n");
	CHECK(monorepo_open(&repo, root, &e) < 0, "unknown key is an error");
	CHECK(strstr(e.msg, "saasctl.yaml:2:1: unknown key 'clikhouse'; did you mean 'clickhouse'?") != NULL,
	      "unknown key names the nearest");
	put("saasctl.yaml", "project: acme\nclickhouse: {ulr: x}\n");
	CHECK(monorepo_open(&repo, root, &e) < 0 &&
	      strstr(e.msg, "unknown key 'clickhouse.ulr'; did you mean 'url'?"),
	      "swapped letters are a typo too");
	put("saasctl.yaml", "project: acme\nhealthchecks:\n  checks:\n    n: {grcae: 1h}\n");
	CHECK(monorepo_open(&repo, root, &e) < 0 &&
	      strstr(e.msg, "unknown key 'healthchecks.checks.n.grcae'; did you mean 'grace'?"),
	      "unknown key inside a check");
	/* A check's name is one key, dots and all, not a path. */
	put("saasctl.yaml", "project: acme\nhealthchecks:\n  checks:\n    db.backup: {grace: 1h}\n");
	CHECK(monorepo_open(&repo, root, &e) == 0, "a check named 'db.backup' is valid");
	monorepo_free(repo);
	repo = NULL;
	put("saasctl.yaml", "project: acme\nhealthchecks:\n  checks:\n    db.backup: {grcae: 1h}\n");
	CHECK(monorepo_open(&repo, root, &e) < 0 &&
	      strstr(e.msg, "unknown key 'healthchecks.checks.db.backup.grcae'; did you mean 'grace'?"),
	      "an unknown key inside a check with a dotted name is named");
	put("saasctl.yaml", "clickhouse: {}\n");
	CHECK(monorepo_open(&repo, root, &e) < 0 && strstr(e.msg, "'project' is missing"), "project is required");
	put("saasctl.yaml", "project: acme\n");
}

static void test_apps(void)
{
	struct monorepo *repo = NULL;
	struct monorepo_app *app;
	struct strbuf sel = STRBUF_INIT;
	struct err e;

	put("manifests/apps/web/deploy.yaml",
	    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n"
	    "spec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n"
	    "  template:\n    metadata: {labels: {app: web}}\n    spec:\n"
	    "      initContainers: [{name: migrate, image: 'shop:1.0'}]\n"
	    "      containers:\n      - name: web\n        image: shop:1.0\n");
	put("manifests/apps/web/ingress.yaml",
	    "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n"
	    "  annotations: {nginx.ingress.kubernetes.io/limit-rpm: '600'}\n"
	    "spec:\n  tls: [{hosts: [shop.example.com]}]\n  rules: [{host: shop.example.com}]\n"
	    "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\n"
	    "spec:\n  minReplicas: 2\n  maxReplicas: 6\n  scaleTargetRef: {kind: Deployment, name: web}\n"
	    "  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}]\n");
	put("manifests/apps/web/broken.yaml", "a: [\n");
	put("manifests/cluster/ingress-nginx/deploy.yaml", "kind: Namespace\nmetadata: {name: ingress-nginx}\n---\nkind: Deployment\nmetadata: {name: c, namespace: ingress-nginx}\n");

	CHECK(monorepo_open(&repo, root, &e) == 0, "open");
	CHECK(monorepo_load(repo, &e) == 0, "load");
	app = monorepo_app(repo, "web");
	CHECK(app != NULL, "app found");
	CHECK(monorepo_app(repo, "nope") == NULL, "unknown app is NULL");
	CHECK(app->nresources == 3, "three resources");
	CHECK_STR(app->namespace, "shop", "namespace from the resources");
	CHECK(app->nworkloads == 1 && app->workloads[0].ncontainers == 2, "workload with init + main container");
	CHECK(app->workloads[0].containers[0].init == 1, "init container first");
	CHECK_STR(app->workloads[0].containers[1].image, "shop:1.0", "image");
	CHECK(app->workloads[0].replicas == 2, "replicas");
	CHECK(monorepo_workload_selector(&app->workloads[0], &sel) == 0, "selector");
	CHECK_STR(sel.buf, "app=web", "selector string");
	CHECK(app->ningresses == 1 && app->ingresses[0].nhosts == 1 &&
	      app->ingresses[0].ntls_hosts == 1, "ingress hosts and TLS");
	CHECK_STR(app->ingresses[0].limit_rpm, "600", "limit-rpm annotation");
	CHECK(app->nhpas == 1 && app->hpas[0].min == 2 && app->hpas[0].max == 6 &&
	      app->hpas[0].cpu_target == 70, "HPA min/max/target");
	CHECK(app->nbad_files == 1 && strstr(app->bad_files[0].message, "manifests/apps/web/broken.yaml:"),
	      "a broken file is kept with a relative path");
	CHECK(repo->nservices == 1 && repo->services[0].nkinds == 2 &&
	      !strcmp(repo->services[0].namespace, "ingress-nginx"), "cluster services");
	strbuf_release(&sel);
	monorepo_free(repo);
}

/* The first document of text, parsed; *t to free. */
static struct ynode *doc(struct yamltree **t, const char *text)
{
	struct err e;

	*t = NULL;
	if (yamltree_parse_text(t, "x.yaml", text, strlen(text), NULL, &e) < 0 ||
	    !(*t)->ndocs)
		return NULL;
	return (*t)->docs[0].root;
}

static void test_selectors(void)
{
	struct yamltree *lt = NULL, *st = NULL;
	struct ynode *labels = doc(&lt, "{app.kubernetes.io/name: web, tier: front, v: 1}");
	struct ynode *sel = doc(&st,
		"dotted: {app.kubernetes.io/name: web}\n"
		"other: {app.kubernetes.io/name: api}\n"
		"split: {app: {kubernetes: x}}\n"
		"in: [{key: tier, operator: In, values: [front, back]}]\n"
		"notin: [{key: tier, operator: NotIn, values: [front]}]\n"
		"notin-absent: [{key: zone, operator: NotIn, values: [a]}]\n"
		"exists: [{key: app.kubernetes.io/name, operator: Exists}]\n"
		"dne: [{key: canary, operator: DoesNotExist}]\n"
		"dne-present: [{key: tier, operator: DoesNotExist}]\n"
		"bad-op: [{key: tier, operator: Like, values: [front]}]\n"
		"empty: {}\n");

	CHECK(monorepo_selector_matches(ynode_get(sel, "dotted"), NULL, labels),
	      "a label key with dots is one key");
	CHECK(!monorepo_selector_matches(ynode_get(sel, "other"), NULL, labels),
	      "a different value does not match");
	CHECK(!monorepo_selector_matches(ynode_get(sel, "empty"), NULL, labels) &&
	      !monorepo_selector_matches(NULL, NULL, labels),
	      "a selector with no terms selects nothing");
	CHECK(monorepo_selector_matches(NULL, ynode_get(sel, "in"), labels), "In");
	CHECK(!monorepo_selector_matches(NULL, ynode_get(sel, "notin"), labels), "NotIn");
	CHECK(monorepo_selector_matches(NULL, ynode_get(sel, "notin-absent"), labels),
	      "NotIn holds when the label is absent");
	CHECK(monorepo_selector_matches(NULL, ynode_get(sel, "exists"), labels), "Exists");
	CHECK(monorepo_selector_matches(NULL, ynode_get(sel, "dne"), labels), "DoesNotExist");
	CHECK(!monorepo_selector_matches(NULL, ynode_get(sel, "dne-present"), labels),
	      "DoesNotExist fails on a present label");
	CHECK(!monorepo_selector_matches(NULL, ynode_get(sel, "bad-op"), labels),
	      "an unknown operator selects nothing");
	CHECK(monorepo_selector_matches(ynode_get(sel, "dotted"), ynode_get(sel, "in"), labels) &&
	      !monorepo_selector_matches(ynode_get(sel, "dotted"), ynode_get(sel, "notin"), labels),
	      "matchLabels and matchExpressions are ANDed");
	yamltree_free(lt);
	yamltree_free(st);
}

static void test_shapes(void)
{
	struct monorepo *repo = NULL;
	struct monorepo_app *app;
	struct yamltree *t = NULL;
	struct ynode *n;
	struct err e;
	int pod = 0, rc = 0, cron = 0;

	n = doc(&t, "apiVersion: v1\nkind: List\nitems: [{kind: ConfigMap}]\n");
	CHECK(monorepo_list_items(n) && monorepo_list_items(n)->n == 1, "a v1 List has items");
	yamltree_free(t);
	n = doc(&t, "kind: PlaylistList\nmetadata: {name: x}\n");
	CHECK(!monorepo_list_items(n), "a kind ending in List without items is an object");
	yamltree_free(t);
	n = doc(&t, "resources: [a.yaml]\n");
	CHECK(monorepo_is_kustomization("manifests/apps/web/kustomization.yaml", n) &&
	      !monorepo_is_kustomization("manifests/apps/web/other.yaml", n),
	      "a kustomization.yaml without apiVersion is a kustomization");
	yamltree_free(t);
	n = doc(&t, "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps}\n");
	CHECK(!monorepo_is_kustomization("manifests/apps/web/kustomization.yaml", n),
	      "a Flux Kustomization is an API object, whatever its file name");
	yamltree_free(t);
	n = doc(&t, "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n");
	CHECK(monorepo_is_kustomization("manifests/apps/web/c.yaml", n), "a kustomize Component");
	yamltree_free(t);

	put("manifests/apps/shapes/all.yaml",
	    "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: b, labels: {app.kubernetes.io/name: p}}\n"
	    "spec: {containers: [{name: c, image: 'busybox:1'}]}\n"
	    "---\napiVersion: v1\nkind: ReplicationController\nmetadata: {name: r, namespace: a}\n"
	    "spec:\n  selector: {app: r}\n  template:\n    metadata: {labels: {app: r}}\n"
	    "    spec: {containers: [{name: c, image: 'nginx:1'}]}\n"
	    "---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: j, namespace: a}\n"
	    "spec:\n  jobTemplate:\n    spec:\n      template:\n        metadata: {labels: {job: j}}\n"
	    "        spec: {containers: [{name: c, image: 'report:1'}]}\n"
	    "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b, namespace: b}\n");
	put("manifests/apps/shapes/list.yaml",
	    "apiVersion: v1\nkind: ConfigMapList\nitems:\n- {kind: ConfigMap, metadata: {name: one, namespace: b}}\n"
	    "- {kind: ConfigMap, metadata: {name: two}}\n");
	put("manifests/apps/shapes/kustomization.yaml",
	    "namePrefix: prod-\nconfigMapGenerator: [{name: cfg}]\nsecretGenerator: [{name: env}, {files: [x]}]\n");
	CHECK(monorepo_open(&repo, root, &e) == 0 && monorepo_load(repo, &e) == 0, "open and load");
	app = monorepo_app(repo, "shapes");
	CHECK(app && app->nresources == 6, "List items are resources; the List and the kustomization are not");
	CHECK(app && app->resources[4].line == 4 && app->resources[4].col == 3 &&
	      !strcmp(app->resources[4].name, "one"), "a List item has its own line and column");
	CHECK(app && app->nworkloads == 3, "Pod, ReplicationController and CronJob are workloads");
	for (size_t i = 0; app && i < app->nworkloads; i++) {
		const struct monorepo_workload *w = &app->workloads[i];

		pod |= !strcmp(w->res->kind, "Pod") && w->ncontainers == 1 &&
		       !strcmp(w->containers[0].image, "busybox:1") &&
		       ynode_get(w->template_labels, "app.kubernetes.io/name") && !w->selector;
		rc |= !strcmp(w->res->kind, "ReplicationController") && w->ncontainers == 1 &&
		      w->selector && !w->selector_required &&
		      monorepo_selector_matches(w->selector, w->match_expressions, w->template_labels);
		cron |= !strcmp(w->res->kind, "CronJob") && w->ncontainers == 1 &&
			!strcmp(w->containers[0].image, "report:1") &&
			ynode_get(w->template_labels, "job");
	}
	CHECK(pod, "a Pod is its own template: containers and labels");
	CHECK(rc, "an RC's selector is a plain map of labels");
	CHECK(cron, "a CronJob's template is under jobTemplate");
	CHECK(app && monorepo_pod_spec(app->resources[0].node, "Pod") &&
	      monorepo_pod_spec(app->resources[2].node, "CronJob") &&
	      !monorepo_pod_spec(app->resources[0].node, "ConfigMap"),
	      "the pod spec of any workload kind");
	/* b: Pod + List item; a: RC + CronJob; the Namespace object does not count. */
	CHECK_STR(app ? app->namespace : NULL, "b", "a tie between namespaces goes to the first seen");
	CHECK(app && app->ngenerated == 2 && monorepo_app_generates(app, "ConfigMap", "cfg") &&
	      monorepo_app_generates(app, "ConfigMap", "prod-cfg") &&
	      monorepo_app_generates(app, "Secret", "env") &&
	      !monorepo_app_generates(app, "Secret", "cfg"),
	      "generators of a kustomization.yaml make ConfigMaps and Secrets");
	monorepo_free(repo);
}

int main(void)
{
	struct monorepo *repo = NULL;
	struct err e;
	char cmd[300];

	snprintf(root, sizeof(root), "%s/saasctl-unit-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root))
		return 1;
	CHECK(monorepo_open(&repo, root, &e) < 0 && strstr(e.msg, "not inside an infra monorepo"),
	      "no monorepo is a clear error");
	test_config();
	test_apps();
	test_selectors();
	test_shapes();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		return 1;
	return UNIT_DONE();
}
