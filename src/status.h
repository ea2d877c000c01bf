#ifndef SAASCTL_STATUS_H
#define SAASCTL_STATUS_H

/*
 * What the whole SaaS runs, against what the monorepo pins (`saasctl
 * status`): one JSON document the command prints as a screen or as is.
 *
 * Every source is read once for all apps, with one list call per
 * resource across namespaces (Deployments, StatefulSets, DaemonSets,
 * pods, HPAs, Flux Kustomizations, cert-manager Certificates), so the
 * cost does not grow with the number of apps; a source that is not
 * installed (404) or not reachable is reported as such and the rest is
 * still filled in.
 *
 * Per app:
 *   images        each container's image pinned at HEAD and the images
 *                 the cluster's workload runs; "drift" when they differ
 *   flux          the Kustomization covering the app: lastAppliedRevision
 *                 and Ready, against HEAD and the remote-tracking
 *                 origin/<branch> (as last fetched)
 *   workloads     the rollout verdict (src/rollout, kubectl's rules),
 *                 ready/desired, containers restarted in the last hour,
 *                 the HPA's current/desired/max replicas
 *   certificates  cert-manager Certificates for the app's Ingress hosts:
 *                 status.notAfter, degraded under 14 days
 * And once: the Healthchecks checks of saasctl.yaml (Management API), and
 * the backup store (backups.store): the newest complete backup and the
 * newest drill record (saasctl-backup(5)), with their ages.
 *
 * Health: "healthy", "degraded" (drift, a certificate under 14 days, a
 * container restarted in the last hour, a rollout in progress, Flux
 * behind origin, a check in its grace period, no complete backup in the
 * last STATUS_BACKUP_MAX_DAYS, no drill, a failed drill or none in the last
 * STATUS_DRILL_MAX_DAYS, a store that cannot be read) or "failing" (a failed
 * rollout, a stuck pod, Flux Ready=False, an expired certificate, a check
 * down). Sources that are missing count as neither.
 */

#include <stddef.h>

#include <jansson.h>

#include "err.h"
#include "kube.h"
#include "monorepo.h"

#define STATUS_CERT_WARN_DAYS 14
#define STATUS_BACKUP_MAX_DAYS 2
#define STATUS_DRILL_MAX_DAYS 14

enum status_health {
	STATUS_HEALTHY = 0,
	STATUS_DEGRADED,
	STATUS_FAILING,
};

struct status_options {
	const char *const *apps;	/* names; NULL/0: every app */
	size_t napps;
	struct kube_client *kc;		/* NULL: the cluster is not configured */
	const char *kube_error;		/* why kc is NULL, for the report */
	const char *store_url;		/* backups.store; NULL: not configured */
	long long now;			/* seconds since the epoch (tests) */
};

/*
 * Build the document in *out. Fails only for what the caller must fix
 * (an unknown app name); everything the cluster or a service does wrong
 * is in the document.
 */
int status_collect(struct monorepo *repo, const struct status_options *o,
		   json_t **out, enum status_health *health, struct err *e);

const char *status_health_name(enum status_health h);

#endif
