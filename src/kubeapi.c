#include "kubeapi.h"

#include <string.h>

/*
 * Every removal of the Kubernetes "Deprecated API Migration Guide",
 * https://kubernetes.io/docs/reference/using-api/deprecation-guide/
 * (sections v1.16, v1.22, v1.25, v1.26, v1.27, v1.29 and v1.32), with the
 * removal release and the replacement it names. The guide does not say
 * when each version was deprecated; that comes from the
 * "+k8s:prerelease-lifecycle-gen:deprecated=" tags of the types in
 * k8s.io/api (staging/src/k8s.io/api/<group>/<version>/types.go), or, for
 * versions no longer in that tree (autoscaling/v2beta1, v2beta2,
 * flowcontrol, policy/v1beta1 PodSecurityPolicy), from the release notes
 * that announced the deprecation. extensions/v1beta1 PodSecurityPolicy is
 * from the v1.16 removal announcement
 * (https://kubernetes.io/blog/2019/07/18/api-deprecations-in-1-16/).
 *
 * Kinds are listed one by one because a group/version can come back with
 * new kinds: admissionregistration.k8s.io/v1beta1 serves
 * ValidatingAdmissionPolicy since 1.28, storage.k8s.io/v1beta1
 * VolumeAttributesClass since 1.31, networking.k8s.io/v1beta1 ServiceCIDR
 * since 1.31. Only group/versions gone for good have a NULL kind, after
 * their named kinds.
 *
 * cert-manager's pre-v1 APIs: deprecated in cert-manager 1.4, no longer
 * served from 1.6, deleted from the CRDs in 1.7
 * (https://cert-manager.io/docs/releases/upgrading/remove-deprecated-apis/).
 */
#define PSA "it has no successor; use Pod Security admission (the pod-security.kubernetes.io/enforce namespace label) instead"

static const struct kubeapi_removal removals[] = {
	/* v1.16 */
	{ "extensions/v1beta1", "NetworkPolicy", NULL, 9, 16, "networking.k8s.io/v1", NULL },
	{ "extensions/v1beta1", "PodSecurityPolicy", NULL, 10, 16, NULL, PSA },
	{ "extensions/v1beta1", "DaemonSet", NULL, 8, 16, "apps/v1", NULL },
	{ "extensions/v1beta1", "Deployment", NULL, 8, 16, "apps/v1", NULL },
	{ "extensions/v1beta1", "ReplicaSet", NULL, 8, 16, "apps/v1", NULL },
	{ "apps/v1beta1", "Deployment", NULL, 8, 16, "apps/v1", NULL },
	{ "apps/v1beta1", "StatefulSet", NULL, 8, 16, "apps/v1", NULL },
	{ "apps/v1beta1", NULL, NULL, 8, 16, "apps/v1", NULL },
	{ "apps/v1beta2", "DaemonSet", NULL, 9, 16, "apps/v1", NULL },
	{ "apps/v1beta2", "Deployment", NULL, 9, 16, "apps/v1", NULL },
	{ "apps/v1beta2", "StatefulSet", NULL, 9, 16, "apps/v1", NULL },
	{ "apps/v1beta2", "ReplicaSet", NULL, 9, 16, "apps/v1", NULL },
	{ "apps/v1beta2", NULL, NULL, 9, 16, "apps/v1", NULL },

	/* v1.22 */
	{ "admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration", NULL, 16, 22, "admissionregistration.k8s.io/v1", NULL },
	{ "admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration", NULL, 16, 22, "admissionregistration.k8s.io/v1", NULL },
	{ "apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", NULL, 16, 22, "apiextensions.k8s.io/v1", NULL },
	{ "apiregistration.k8s.io/v1beta1", "APIService", NULL, 19, 22, "apiregistration.k8s.io/v1", NULL },
	{ "authentication.k8s.io/v1beta1", "TokenReview", NULL, 19, 22, "authentication.k8s.io/v1", NULL },
	{ "authorization.k8s.io/v1beta1", "LocalSubjectAccessReview", NULL, 19, 22, "authorization.k8s.io/v1", NULL },
	{ "authorization.k8s.io/v1beta1", "SelfSubjectAccessReview", NULL, 19, 22, "authorization.k8s.io/v1", NULL },
	{ "authorization.k8s.io/v1beta1", "SubjectAccessReview", NULL, 19, 22, "authorization.k8s.io/v1", NULL },
	{ "certificates.k8s.io/v1beta1", "CertificateSigningRequest", NULL, 19, 22, "certificates.k8s.io/v1", NULL },
	{ "coordination.k8s.io/v1beta1", "Lease", NULL, 19, 22, "coordination.k8s.io/v1", NULL },
	{ "extensions/v1beta1", "Ingress", NULL, 14, 22, "networking.k8s.io/v1", NULL },
	{ "networking.k8s.io/v1beta1", "Ingress", NULL, 19, 22, "networking.k8s.io/v1", NULL },
	{ "networking.k8s.io/v1beta1", "IngressClass", NULL, 19, 22, "networking.k8s.io/v1", NULL },
	{ "rbac.authorization.k8s.io/v1beta1", "ClusterRole", NULL, 17, 22, "rbac.authorization.k8s.io/v1", NULL },
	{ "rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding", NULL, 17, 22, "rbac.authorization.k8s.io/v1", NULL },
	{ "rbac.authorization.k8s.io/v1beta1", "Role", NULL, 17, 22, "rbac.authorization.k8s.io/v1", NULL },
	{ "rbac.authorization.k8s.io/v1beta1", "RoleBinding", NULL, 17, 22, "rbac.authorization.k8s.io/v1", NULL },
	{ "scheduling.k8s.io/v1beta1", "PriorityClass", NULL, 14, 22, "scheduling.k8s.io/v1", NULL },
	{ "storage.k8s.io/v1beta1", "CSIDriver", NULL, 19, 22, "storage.k8s.io/v1", NULL },
	{ "storage.k8s.io/v1beta1", "CSINode", NULL, 17, 22, "storage.k8s.io/v1", NULL },
	{ "storage.k8s.io/v1beta1", "StorageClass", NULL, 19, 22, "storage.k8s.io/v1", NULL },
	{ "storage.k8s.io/v1beta1", "VolumeAttachment", NULL, 19, 22, "storage.k8s.io/v1", NULL },
	/* Every other extensions/v1beta1 kind went with the workloads in 1.16. */
	{ "extensions/v1beta1", NULL, NULL, 8, 16, "apps/v1", NULL },

	/* v1.25 */
	{ "batch/v1beta1", "CronJob", NULL, 21, 25, "batch/v1", NULL },
	{ "discovery.k8s.io/v1beta1", "EndpointSlice", NULL, 21, 25, "discovery.k8s.io/v1", NULL },
	{ "events.k8s.io/v1beta1", "Event", NULL, 22, 25, "events.k8s.io/v1", NULL },
	{ "autoscaling/v2beta1", "HorizontalPodAutoscaler", NULL, 22, 25, "autoscaling/v2", NULL },
	{ "policy/v1beta1", "PodDisruptionBudget", NULL, 21, 25, "policy/v1", NULL },
	{ "policy/v1beta1", "PodSecurityPolicy", NULL, 21, 25, NULL, PSA },
	{ "node.k8s.io/v1beta1", "RuntimeClass", NULL, 22, 25, "node.k8s.io/v1", NULL },

	/* v1.26 */
	{ "flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema", NULL, 23, 26, "flowcontrol.apiserver.k8s.io/v1", NULL },
	{ "flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration", NULL, 23, 26, "flowcontrol.apiserver.k8s.io/v1", NULL },
	{ "autoscaling/v2beta2", "HorizontalPodAutoscaler", NULL, 23, 26, "autoscaling/v2", NULL },

	/* v1.27 */
	{ "storage.k8s.io/v1beta1", "CSIStorageCapacity", NULL, 24, 27, "storage.k8s.io/v1", NULL },

	/* v1.29 */
	{ "flowcontrol.apiserver.k8s.io/v1beta2", "FlowSchema", NULL, 26, 29, "flowcontrol.apiserver.k8s.io/v1", NULL },
	{ "flowcontrol.apiserver.k8s.io/v1beta2", "PriorityLevelConfiguration", NULL, 26, 29, "flowcontrol.apiserver.k8s.io/v1", NULL },

	/* v1.32 */
	{ "flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", NULL, 29, 32, "flowcontrol.apiserver.k8s.io/v1", NULL },
	{ "flowcontrol.apiserver.k8s.io/v1beta3", "PriorityLevelConfiguration", NULL, 29, 32, "flowcontrol.apiserver.k8s.io/v1", NULL },

	/* cert-manager */
	{ "cert-manager.io/v1alpha2", NULL, "cert-manager", 4, 7, "cert-manager.io/v1", NULL },
	{ "cert-manager.io/v1alpha3", NULL, "cert-manager", 4, 7, "cert-manager.io/v1", NULL },
	{ "cert-manager.io/v1beta1", NULL, "cert-manager", 4, 7, "cert-manager.io/v1", NULL },
	{ "acme.cert-manager.io/v1alpha2", NULL, "cert-manager", 4, 7, "acme.cert-manager.io/v1", NULL },
	{ "acme.cert-manager.io/v1alpha3", NULL, "cert-manager", 4, 7, "acme.cert-manager.io/v1", NULL },
	{ "acme.cert-manager.io/v1beta1", NULL, "cert-manager", 4, 7, "acme.cert-manager.io/v1", NULL },
};

#define NREMOVALS (sizeof(removals) / sizeof(removals[0]))

const struct kubeapi_removal *kubeapi_find(const char *api_version,
					   const char *kind)
{
	if (!api_version)
		return NULL;
	for (size_t i = 0; i < NREMOVALS; i++) {
		const struct kubeapi_removal *r = &removals[i];

		if (strcmp(r->api_version, api_version))
			continue;
		if (r->kind && (!kind || strcmp(r->kind, kind)))
			continue;
		return r;
	}
	return NULL;
}

unsigned kubeapi_newest(void)
{
	unsigned newest = 0;

	for (size_t i = 0; i < NREMOVALS; i++)
		if (!removals[i].project && removals[i].removed > newest)
			newest = removals[i].removed;
	return newest;
}

enum kubeapi_state kubeapi_state(const struct kubeapi_removal *r,
				 unsigned target)
{
	if (r->project)
		return KUBEAPI_REMOVED;
	if (!target)
		target = kubeapi_newest();
	if (r->removed <= target)
		return KUBEAPI_REMOVED;
	if (r->deprecated <= target)
		return KUBEAPI_DEPRECATED;
	return KUBEAPI_SERVED;
}

/* Digits at *p (at most 4, no leading zero but "0"): the number, or -1. */
static long number(const char **p)
{
	const char *s = *p;
	long n = 0;
	int len = 0;

	while (*s >= '0' && *s <= '9' && len < 5) {
		n = n * 10 + (*s - '0');
		s++;
		len++;
	}
	if (!len || len > 4 || (len > 1 && **p == '0'))
		return -1;
	*p = s;
	return n;
}

int kubeapi_parse_version(const char *s, unsigned *minor)
{
	long major, m;

	if (!s)
		return -1;
	if (*s == 'v')
		s++;
	if ((major = number(&s)) != 1 || *s++ != '.')
		return -1;
	if ((m = number(&s)) <= 0)	/* 1.0 predates every API here */
		return -1;
	if (*s == '.') {
		s++;
		if (number(&s) < 0)
			return -1;
	}
	if (*s)
		return -1;
	*minor = (unsigned)m;
	return 0;
}
