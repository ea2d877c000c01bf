/*
 * saasctl get APP [KIND/NAME] [-o yaml|json]: an app's resources as they
 * are written in the repository.
 */
#define _GNU_SOURCE 1
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "cmd.h"
#include "../src/monorepo.h"
#include "../src/strbuf.h"

/*
 * The built-in kinds with the plural and the short names kubectl takes for
 * them (kubectl api-resources), in one table.
 */
static const struct {
	const char *kind, *plural, *shorts[3];
} kinds[] = {
	{ "APIService", "apiservices", { 0 } },
	{ "Binding", "bindings", { 0 } },
	{ "CertificateSigningRequest", "certificatesigningrequests", { "csr" } },
	{ "ClusterRole", "clusterroles", { 0 } },
	{ "ClusterRoleBinding", "clusterrolebindings", { 0 } },
	{ "ComponentStatus", "componentstatuses", { "cs" } },
	{ "ConfigMap", "configmaps", { "cm" } },
	{ "ControllerRevision", "controllerrevisions", { 0 } },
	{ "CronJob", "cronjobs", { "cj" } },
	{ "CSIDriver", "csidrivers", { 0 } },
	{ "CSINode", "csinodes", { 0 } },
	{ "CSIStorageCapacity", "csistoragecapacities", { 0 } },
	{ "CustomResourceDefinition", "customresourcedefinitions", { "crd", "crds" } },
	{ "DaemonSet", "daemonsets", { "ds" } },
	{ "Deployment", "deployments", { "deploy" } },
	{ "Endpoints", "endpoints", { "ep" } },
	{ "EndpointSlice", "endpointslices", { 0 } },
	{ "Event", "events", { "ev" } },
	{ "FlowSchema", "flowschemas", { 0 } },
	{ "HorizontalPodAutoscaler", "horizontalpodautoscalers", { "hpa" } },
	{ "Ingress", "ingresses", { "ing" } },
	{ "IngressClass", "ingressclasses", { 0 } },
	{ "Job", "jobs", { 0 } },
	{ "Lease", "leases", { 0 } },
	{ "LimitRange", "limitranges", { "limits" } },
	{ "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", { 0 } },
	{ "Namespace", "namespaces", { "ns" } },
	{ "NetworkPolicy", "networkpolicies", { "netpol" } },
	{ "Node", "nodes", { "no" } },
	{ "PersistentVolume", "persistentvolumes", { "pv" } },
	{ "PersistentVolumeClaim", "persistentvolumeclaims", { "pvc" } },
	{ "Pod", "pods", { "po" } },
	{ "PodDisruptionBudget", "poddisruptionbudgets", { "pdb" } },
	{ "PodTemplate", "podtemplates", { 0 } },
	{ "PriorityClass", "priorityclasses", { "pc" } },
	{ "PriorityLevelConfiguration", "prioritylevelconfigurations", { 0 } },
	{ "ReplicaSet", "replicasets", { "rs" } },
	{ "ReplicationController", "replicationcontrollers", { "rc" } },
	{ "ResourceQuota", "resourcequotas", { "quota" } },
	{ "Role", "roles", { 0 } },
	{ "RoleBinding", "rolebindings", { 0 } },
	{ "RuntimeClass", "runtimeclasses", { 0 } },
	{ "Secret", "secrets", { 0 } },
	{ "Service", "services", { "svc" } },
	{ "ServiceAccount", "serviceaccounts", { "sa" } },
	{ "StatefulSet", "statefulsets", { "sts" } },
	{ "StorageClass", "storageclasses", { "sc" } },
	{ "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", { 0 } },
	{ "VolumeAttachment", "volumeattachments", { 0 } },
};

static int kind_matches(const char *want, const char *kind)
{
	if (!kind)
		return 0;
	if (!strcasecmp(want, kind))
		return 1;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(kind, kinds[i].kind))
			continue;
		if (!strcasecmp(want, kinds[i].plural))
			return 1;
		for (size_t s = 0; s < 3 && kinds[i].shorts[s]; s++)
			if (!strcasecmp(want, kinds[i].shorts[s]))
				return 1;
		return 0;
	}
	/* Custom kinds: plurals as kubectl makes them ("certificates",
	 * "ingressroutes", "issuers", "policies"). */
	{
		size_t wl = strlen(want), kl = strlen(kind);

		if (wl == kl + 1 && want[wl - 1] == 's' && !strncasecmp(want, kind, kl))
			return 1;
		if (wl == kl + 2 && !strcasecmp(want + kl, "es") && !strncasecmp(want, kind, kl))
			return 1;
		if (kl > 1 && wl == kl + 2 && (kind[kl - 1] == 'y' || kind[kl - 1] == 'Y') &&
		    !strcasecmp(want + kl - 1, "ies") && !strncasecmp(want, kind, kl - 1))
			return 1;
	}
	return 0;
}

static int cmd_get(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct monorepo *repo = NULL;
	struct monorepo_app *app = NULL;
	struct err e = { { 0 } };
	const char *app_name = NULL, *sel = NULL, *output = ctx->json ? "json" : "yaml";
	char *want_kind = NULL;
	const char *want_name = NULL;
	const struct monorepo_resource **found = NULL;
	size_t nfound = 0;
	struct strbuf out = STRBUF_INIT;
	int status = EXIT_FAIL;

	strbuf_init(&out, 0);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
			if (i + 1 >= argc)
				return cmd_usage_error(ctx, "'%s' needs a value", a);
			output = argv[++i];
		} else if (!strncmp(a, "-o", 2) && a[2]) {
			output = a + 2 + (a[2] == '=');
		} else if (!strncmp(a, "--output=", 9)) {
			output = a + 9;
		} else if (a[0] == '-' && a[1]) {
			return cmd_usage_error(ctx, "unknown option '%s'", a);
		} else if (!app_name) {
			app_name = a;
		} else if (!sel) {
			sel = a;
		} else {
			return cmd_usage_error(ctx, "too many arguments: '%s'", a);
		}
	}
	if (!app_name)
		return cmd_usage_error(ctx, "missing the APP");
	if (strcmp(output, "yaml") && strcmp(output, "json"))
		return cmd_usage_error(ctx, "bad output format '%s': want yaml or json", output);
	if (sel) {
		const char *slash = strchr(sel, '/');

		want_kind = strndup(sel, slash ? (size_t)(slash - sel) : strlen(sel));
		want_name = slash ? slash + 1 : NULL;
		if (!want_kind || !*want_kind || (want_name && !*want_name)) {
			free(want_kind);
			return cmd_usage_error(ctx, "bad resource '%s': want KIND/NAME or KIND", sel);
		}
	}

	if (monorepo_open(&repo, ctx->dir, &e) < 0 ||
	    monorepo_load(repo, &e) < 0) {
		status = cmd_fail_err(ctx, &e);
		goto out;
	}
	cmd_warn_skipped(ctx, repo);
	app = monorepo_app(repo, app_name);
	if (!app) {
		struct strbuf names = STRBUF_INIT;

		strbuf_init(&names, 0);
		for (size_t i = 0; i < repo->napps; i++)
			strbuf_addf(&names, "%s%s", i ? ", " : "", repo->apps[i].name);
		status = cmd_fail(ctx, "no app '%s' in 'manifests/apps' (%s%s)",
				  app_name, repo->napps ? "apps: " : "there are no apps",
				  names.buf);
		strbuf_release(&names);
		goto out;
	}
	found = calloc(app->nresources + 1, sizeof(*found));
	if (!found)
		abort();
	for (size_t i = 0; i < app->nresources; i++) {
		const struct monorepo_resource *r = &app->resources[i];

		if (want_kind && !kind_matches(want_kind, r->kind))
			continue;
		if (want_name && (!r->name || strcmp(r->name, want_name)))
			continue;
		found[nfound++] = r;
	}
	/* A file that does not parse may hold what was asked for: say so. */
	if (!nfound && app->nbad_files) {
		status = cmd_fail(ctx, "%s", app->bad_files[0].message);
		goto out;
	}
	for (size_t i = 0; i < app->nbad_files; i++)
		cmd_warn(ctx, "skipped %s", app->bad_files[i].message);
	if (!nfound) {
		if (sel)
			status = cmd_fail(ctx, "no %s in app '%s'", sel, app_name);
		else
			status = cmd_fail(ctx, "app '%s' has no resources", app_name);
		goto out;
	}

	if (!strcmp(output, "json")) {
		json_t *doc = NULL, *items = json_array();

		/* Nothing is printed unless every resource converts. */
		for (size_t i = 0; i < nfound; i++) {
			json_t *j;

			if (ynode_json(&j, found[i]->node, &e) < 0) {
				json_decref(items);
				status = cmd_fail(ctx, "%s:%s", found[i]->file, e.msg);
				goto out;
			}
			json_array_append_new(items, j);
		}
		if (nfound == 1 && want_name)
			doc = json_incref(json_array_get(items, 0));
		else
			doc = json_pack("{s:s, s:s, s:O}", "apiVersion", "v1",
					"kind", "List", "items", items);
		json_decref(items);
		json_dumpf(doc, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(doc);
	} else {
		for (size_t i = 0; i < nfound; i++)
			yamltree_doc_yaml(&out, found[i]->tree, found[i]->doc,
					  i == 0, i + 1 == nfound);
		fwrite(out.buf, 1, out.len, stdout);
	}
	status = EXIT_OK;
out:
	free(found);
	free(want_kind);
	strbuf_release(&out);
	monorepo_free(repo);
	return status;
}

const struct cmd_entry cmd_get_entry = {
	.name = "get",
	.usage = "APP [KIND/NAME] [-o yaml|json]",
	.summary = "print an app's resources as written (yaml) or as JSON",
	.exec = cmd_get,
	.complete = COMPLETE_APPS,
};
