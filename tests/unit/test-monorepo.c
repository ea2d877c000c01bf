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
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		return 1;
	return UNIT_DONE();
}
