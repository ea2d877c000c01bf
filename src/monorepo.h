#ifndef SAASCTL_MONOREPO_H
#define SAASCTL_MONOREPO_H

/*
 * The infra monorepo: where its root is, what saasctl.yaml says (with
 * SAASCTL_* environment overrides), and the app model built from
 * manifests/apps/<app>/ and manifests/cluster/<svc>/.
 */

#include <stddef.h>

#include "dirwalk.h"
#include "err.h"
#include "strbuf.h"
#include "yamltree.h"

struct monorepo_resource {
	const char *kind;		/* "Deployment"; NULL when missing */
	const char *api_version;
	const char *namespace;		/* metadata.namespace, or NULL */
	const char *name;		/* metadata.name, or NULL */
	const char *generate_name;	/* metadata.generateName, or NULL */
	const char *file;		/* path relative to the root */
	unsigned line, col;		/* where the document (or List item) starts */
	struct yamltree *tree;		/* the file it came from */
	struct ydoc *doc;
	struct ynode *node;		/* the document's root map, or the item */
};

/*
 * A ConfigMap or Secret that a kustomization.yaml generates
 * (configMapGenerator, secretGenerator): it exists in the cluster without
 * a manifest of its own. kustomize adds a hash suffix to the name and
 * rewrites the references, so both the generator's plain name and the
 * name with namePrefix/nameSuffix are known.
 */
struct monorepo_generated {
	const char *kind;		/* "ConfigMap" or "Secret" */
	const char *name;		/* as the generator names it */
	const char *full_name;		/* with namePrefix and nameSuffix */
	const char *file;		/* the kustomization, relative */
	struct ynode *node;		/* the generator entry */
};

struct monorepo_container {
	const char *name;
	const char *image;		/* NULL when missing */
	struct ynode *image_node;	/* the scalar, for byte-exact edits */
	struct ynode *node;		/* the container map */
	int init;			/* an initContainer */
};

/*
 * Everything that runs pods: Deployment, StatefulSet, DaemonSet,
 * ReplicaSet, ReplicationController, Job, CronJob and the bare Pod (its
 * "template" is itself). The one list is in monorepo.c.
 */
struct monorepo_workload {
	struct monorepo_resource *res;
	struct ynode *pod_spec;		/* the pod template's spec */
	struct ynode *template_labels;	/* pod template metadata.labels */
	struct ynode *selector_node;	/* spec.selector itself, or NULL */
	struct ynode *selector;		/* matchLabels (an RC: spec.selector) */
	struct ynode *match_expressions; /* matchExpressions, or NULL */
	int selector_required;		/* apps/v1: a selector must be given */
	struct monorepo_container *containers;
	size_t ncontainers;
	int replicas;			/* -1 when not set */
};

struct monorepo_ingress {
	struct monorepo_resource *res;
	const char **hosts;		/* rules[].host */
	size_t nhosts;
	const char **tls_hosts;		/* tls[].hosts[] */
	size_t ntls_hosts;
	const char *limit_rpm;		/* nginx.ingress.kubernetes.io/limit-rpm */
	const char *cluster_issuer;	/* cert-manager.io/cluster-issuer */
	const char *cloudflare_proxied;	/* external-dns.alpha.kubernetes.io/cloudflare-proxied */
};

struct monorepo_hpa {
	struct monorepo_resource *res;
	int min, max;			/* -1 when not set */
	int cpu_target;			/* averageUtilization, -1 when not set */
	const char *target_kind, *target_name;
};

struct monorepo_app {
	const char *name;		/* the folder name */
	const char *dir;		/* manifests/apps/<name>, relative */
	/*
	 * The app's namespace: the one most of its namespaced resources
	 * declare in metadata.namespace (a tie: the first seen). Resources
	 * without metadata.namespace, Namespace objects and cluster-scoped
	 * kinds do not count; when no resource declares one, the folder
	 * name. monorepo_app_namespace() is the rule.
	 */
	const char *namespace;
	struct monorepo_resource *resources;
	size_t nresources;
	struct monorepo_workload *workloads;
	size_t nworkloads;
	struct monorepo_ingress *ingresses;
	size_t ningresses;
	struct monorepo_hpa *hpas;
	size_t nhpas;
	struct monorepo_generated *generated;	/* by kustomization.yaml */
	size_t ngenerated;
	/* Services, ConfigMaps, Secrets, SealedSecrets: see resources[] */
	struct yamltree **files;	/* every file, parsed */
	size_t nfiles;
	/* files that failed to parse, with their error (for lint) */
	struct monorepo_bad_file *bad_files;
	size_t nbad_files;
};

struct monorepo_bad_file {
	const char *file;		/* relative to the root */
	struct yamltree *tree;		/* text and error position, or NULL */
	char *message;			/* "file:line:col: ..." */
};

/* A folder of manifests/cluster/ (ingress-nginx, cert-manager ...). */
struct monorepo_service {
	const char *name;
	const char *dir;
	size_t nresources;
	const char **kinds;		/* distinct kinds, in order of appearance */
	size_t nkinds;
	const char *namespace;
	struct yamltree **files;
	size_t nfiles;
};

struct monorepo {
	char *root;			/* absolute path */
	struct yamltree *config_tree;	/* saasctl.yaml, or NULL when absent */
	struct monorepo_app *apps;	/* sorted by name, after load_apps */
	size_t napps;
	struct monorepo_service *services;
	size_t nservices;
	struct monorepo_arena *arena;
	struct dirwalk *walk;		/* every folder walk goes through it */
};

/*
 * Find the root from start_dir (NULL: the working directory) the way git
 * finds .git: the first folder upwards holding saasctl.yaml or manifests/.
 * Parses and validates saasctl.yaml: an unknown key is an error naming the
 * nearest known key.
 */
int monorepo_open(struct monorepo **out, const char *start_dir,
		  struct err *e);
/*
 * The same for commands that also work outside a monorepo (seal, ping,
 * logs): no root found is success with *out NULL; a broken saasctl.yaml
 * is still an error.
 */
int monorepo_open_optional(struct monorepo **out, const char *start_dir,
			   struct err *e);
void monorepo_free(struct monorepo *repo);

/*
 * A setting by its dotted key ("clickhouse.url", "healthchecks.ping_url").
 * Its SAASCTL_* environment variable (see saasctl.yaml(5)) wins over the
 * file. NULL when set nowhere.
 */
const char *monorepo_get(const struct monorepo *repo, const char *key);
/*
 * A list setting ("secrets.recipients"); the environment variable holds a
 * comma-separated list. Returns the count; *items is valid as long as repo.
 */
size_t monorepo_get_list(const struct monorepo *repo, const char *key,
			 const char *const **items);
/*
 * A list whose items are strings or lists of strings ("clickhouse.shards":
 * a shard is a URL, or the list of its replicas' URLs). (*groups)[i] is a
 * NULL-terminated list (one string for a string item). The environment
 * variable holds the items separated by spaces, the strings of one item
 * by commas. Returns the count; valid as long as repo.
 */
size_t monorepo_get_lists(const struct monorepo *repo, const char *key,
			  const char *const *const **groups);
/* The node of a setting in saasctl.yaml ("healthchecks.checks"), or NULL. */
struct ynode *monorepo_config_node(const struct monorepo *repo,
				   const char *key);
/*
 * The folder symlinks the walks so far did not follow (a loop, or a
 * target outside the monorepo: see dirwalk.h), for the command to warn
 * about. Valid as long as repo.
 */
size_t monorepo_skipped(const struct monorepo *repo,
			const struct dirwalk_skip **skipped);
/* root + "/" + rel, for the caller to free(). */
char *monorepo_path(const struct monorepo *repo, const char *rel);

/* Parse every app folder and every cluster service folder. Bad files are kept in
 * app->bad_files rather than failing the whole load. */
int monorepo_load(struct monorepo *repo, struct err *e);
struct monorepo_app *monorepo_app(const struct monorepo *repo,
				  const char *name);
/*
 * Load the apps one at a time, in name order, and call fn on each; the
 * app's parsed files are freed when fn returns, so memory stays that of
 * one app however big the monorepo is (lint, apps). A non-zero return
 * from fn stops the walk and is returned. repo->apps is not touched.
 */
int monorepo_each_app(struct monorepo *repo,
		      int (*fn)(struct monorepo_app *app, void *ud), void *ud);
/* The same for the folders of manifests/cluster/, each as an app. */
int monorepo_each_service(struct monorepo *repo,
			  int (*fn)(struct monorepo_app *app, void *ud),
			  void *ud);
/* "app=web,tier=frontend" from a workload's selector. */
int monorepo_workload_selector(const struct monorepo_workload *w,
			       struct strbuf *out);

/*
 * What a folder holds, seen the way kubectl apply sees it: each YAML
 * document is one object, except that a List (kind "List" or any
 * "*List" with an items sequence) stands for its items, and a
 * kustomization (apiVersion kustomize.config.k8s.io/..., or a document
 * without apiVersion in a file named kustomization.yaml, .yml or
 * Kustomization) is no object at all: it is read for what it generates.
 */
/* The items sequence when root is a List, else NULL. */
struct ynode *monorepo_list_items(const struct ynode *root);
/* Is this document of the file named path a kustomization? */
int monorepo_is_kustomization(const char *path, const struct ynode *root);

/* Does kind run pods (Deployment ... Pod)? */
int monorepo_is_workload_kind(const char *kind);
/* The pod spec of a workload object (the Pod's own spec), or NULL. */
struct ynode *monorepo_pod_spec(const struct ynode *obj, const char *kind);
/* Is kind cluster-scoped (Namespace, ClusterRole, StorageClass ...)? */
int monorepo_cluster_scoped(const char *kind);

/*
 * Does a label selector select a pod with these labels? match_labels is
 * a map of key: value (a Service's or an RC's selector, or matchLabels);
 * match_expressions a list of {key, operator: In|NotIn|Exists|
 * DoesNotExist, values}. Both are ANDed. Keys are looked up whole:
 * "app.kubernetes.io/name" is one key. A selector with no terms, or an
 * expression it cannot read, selects nothing.
 */
int monorepo_selector_matches(const struct ynode *match_labels,
			      const struct ynode *match_expressions,
			      const struct ynode *labels);

/*
 * The namespace rule of struct monorepo_app, for n resources; fallback
 * when none declares one.
 */
const char *monorepo_app_namespace(const struct monorepo_resource *res,
				   size_t n, const char *fallback);

/* Is a ConfigMap or Secret of this name made by a generator of app? */
int monorepo_app_generates(const struct monorepo_app *app, const char *kind,
			   const char *name);

#endif
