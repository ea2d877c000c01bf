/*
 * The table of removed Kubernetes APIs: lookups by group/version and kind,
 * the state at a target release, and the release strings accepted.
 */
#include "unit.h"
#include "kubeapi.h"

int main(void)
{
	const struct kubeapi_removal *r;
	unsigned v = 99;

	r = kubeapi_find("policy/v1beta1", "PodSecurityPolicy");
	CHECK(r && r->removed == 25 && r->deprecated == 21 && !r->replacement && r->advice,
	      "PodSecurityPolicy: deprecated 1.21, removed 1.25, no successor");
	r = kubeapi_find("storage.k8s.io/v1beta1", "StorageClass");
	CHECK(r && r->removed == 22, "v1beta1 StorageClass is removed in 1.22");
	CHECK_STR(r ? r->replacement : NULL, "storage.k8s.io/v1", "v1beta1 StorageClass names storage.k8s.io/v1");
	CHECK(!kubeapi_find("storage.k8s.io/v1beta1", "VolumeAttributesClass"),
	      "a kind added later to an old group/version is not flagged");
	CHECK(!kubeapi_find("admissionregistration.k8s.io/v1beta1", "ValidatingAdmissionPolicy"),
	      "ValidatingAdmissionPolicy v1beta1 is not the 1.22 webhook removal");
	CHECK(!kubeapi_find("networking.k8s.io/v1beta1", "ServiceCIDR"),
	      "ServiceCIDR v1beta1 is not the 1.22 Ingress removal");
	CHECK(!kubeapi_find("apps/v1", "Deployment") && !kubeapi_find(NULL, "Deployment"),
	      "current and missing apiVersions are not in the table");
	r = kubeapi_find("extensions/v1beta1", "Ingress");
	CHECK(r && r->removed == 22, "extensions/v1beta1 Ingress lasted until 1.22");
	r = kubeapi_find("extensions/v1beta1", "PodSecurityPolicy");
	CHECK(r && r->removed == 16, "extensions/v1beta1 PodSecurityPolicy went in 1.16");
	r = kubeapi_find("apps/v1beta2", "ControllerRevision");
	CHECK(r && r->removed == 16, "every kind of apps/v1beta2 went in 1.16");
	r = kubeapi_find("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema");
	CHECK(r && r->removed == 32, "flowcontrol v1beta3 is removed in 1.32");
	CHECK(kubeapi_find("storage.k8s.io/v1beta1", "CSIStorageCapacity") &&
	      kubeapi_find("storage.k8s.io/v1beta1", "CSIStorageCapacity")->removed == 27,
	      "CSIStorageCapacity v1beta1 is removed in 1.27");
	CHECK(kubeapi_newest() == 32, "the newest removal in the table is 1.32");

	r = kubeapi_find("autoscaling/v2beta2", "HorizontalPodAutoscaler");
	CHECK(r && kubeapi_state(r, 0) == KUBEAPI_REMOVED, "no target: removed");
	CHECK(r && kubeapi_state(r, 26) == KUBEAPI_REMOVED, "removed at the removal release");
	CHECK(r && kubeapi_state(r, 25) == KUBEAPI_DEPRECATED, "deprecated the release before");
	CHECK(r && kubeapi_state(r, 23) == KUBEAPI_DEPRECATED, "deprecated from the deprecation release");
	CHECK(r && kubeapi_state(r, 22) == KUBEAPI_SERVED, "served before its deprecation");
	r = kubeapi_find("cert-manager.io/v1alpha2", "Certificate");
	CHECK(r && r->project && kubeapi_state(r, 20) == KUBEAPI_REMOVED,
	      "cert-manager's removals do not depend on the Kubernetes release");

	CHECK(kubeapi_parse_version("1.29", &v) == 0 && v == 29, "1.29 parses");
	CHECK(kubeapi_parse_version("v1.22", &v) == 0 && v == 22, "v1.22 parses");
	CHECK(kubeapi_parse_version("1.30.2", &v) == 0 && v == 30, "a patch release is ignored");
	v = 7;
	CHECK(kubeapi_parse_version("banana", &v) < 0 && v == 7, "banana is refused, *minor untouched");
	CHECK(kubeapi_parse_version("2.0", &v) < 0, "only major 1");
	CHECK(kubeapi_parse_version("1.0", &v) < 0, "1.0 is refused");
	CHECK(kubeapi_parse_version("1.", &v) < 0 && kubeapi_parse_version("1", &v) < 0,
	      "a minor is required");
	CHECK(kubeapi_parse_version("1.029", &v) < 0 && kubeapi_parse_version("1.29 ", &v) < 0 &&
	      kubeapi_parse_version("1.29.", &v) < 0 && kubeapi_parse_version("1.99999", &v) < 0 &&
	      kubeapi_parse_version("", &v) < 0 && kubeapi_parse_version(NULL, &v) < 0,
	      "leading zeros, trailing text, huge numbers and empty strings are refused");
	return UNIT_DONE();
}
