#ifndef SAASCTL_KUBESECRET_H
#define SAASCTL_KUBESECRET_H

/*
 * Opened SealedSecrets written to a cluster as Kubernetes Secrets, for
 * 'secrets apply' and the controller.
 *
 * A Secret is written with server-side apply (PATCH,
 * application/apply-patch+yaml, fieldManager "saasctl"): type, labels and
 * annotations from spec.template, data from the items, and, when the
 * SealedSecret came from the cluster, an owner reference to it so that
 * deleting it deletes the Secret (the garbage collector does that).
 *
 * A Secret is only written when it changed. What it holds is summed up
 * in the annotation saasctl.dev/sealed-hash: a keyed BLAKE2b hash of each
 * item and one of the metadata, keyed with a key derived from the secret
 * key that opened it. The plaintext is never compared, sent anywhere else
 * or logged; the hashes say nothing without the cluster key. A Secret
 * opened with another key (after a rotation) is written once again.
 */

#include <stddef.h>

#include <jansson.h>

#include "err.h"
#include "keys.h"
#include "kube.h"
#include "sealed.h"

#define KUBESECRET_MANAGER "saasctl"
#define KUBESECRET_HASH_ANNOTATION "saasctl.dev/sealed-hash"
#define KUBESECRET_PATH "/apis/saasctl.dev/v1"
#define KUBESECRET_PATH_NS KUBESECRET_PATH "/namespaces/"
/* Where 'secrets install' puts the controller and its key. */
#define KUBESECRET_NAMESPACE "saasctl-secrets"
#define KUBESECRET_KEY_SECRET "saasctl-cluster-key"

/* The SealedSecret object a Secret belongs to (from the cluster). */
struct kubesecret_owner {
	const char *name;
	const char *uid;
};

enum kubesecret_action {
	KUBESECRET_UNCHANGED,
	KUBESECRET_CREATE,
	KUBESECRET_UPDATE,
};

/* What applying would do: item keys by change, no values. */
struct kubesecret_plan {
	enum kubesecret_action action;
	char **added, **changed, **removed;
	size_t nadded, nchanged, nremoved;
	int metadata;			/* type, labels, annotations or owner */
};

/*
 * Compare p (to go to namespace ns) with the Secret the cluster holds.
 * k is the key that opened p. On failure *status holds the API's answer
 * (403: the namespace is forbidden), 0 when none came.
 */
int kubesecret_plan(struct kube_client *kc, const struct sealed_plain *p,
		    const char *ns, const struct keys_secret *k,
		    const struct kubesecret_owner *owner,
		    struct kubesecret_plan *plan, long *status,
		    struct err *e);
void kubesecret_plan_release(struct kubesecret_plan *plan);

/* Write p to namespace ns with server-side apply. */
int kubesecret_apply(struct kube_client *kc, const struct sealed_plain *p,
		     const char *ns, const struct keys_secret *k,
		     const struct kubesecret_owner *owner, long *status,
		     struct err *e);

/*
 * A SealedSecret object of the cluster (a sealedsecrets.saasctl.dev item)
 * read into out; *name and *uid point into obj.
 */
int kubesecret_from_object(struct sealed_secret *out, json_t *obj,
			   struct err *e);

/*
 * Put k into the Secret saasctl-cluster-key of namespace ns as the item
 * "<KEYID>.key" (an unencrypted key file), with server-side apply under a
 * field manager of its own, so that loading a second key during a
 * rotation keeps the first. The key goes in the request body only.
 */
int kubesecret_install_key(struct kube_client *kc, const char *ns,
			   const struct keys_secret *k, struct err *e);

/* The sealed-hash annotation of p as applied (for tests). */
int kubesecret_hash(struct strbuf *out, const struct sealed_plain *p,
		    const char *ns, const struct keys_secret *k,
		    const struct kubesecret_owner *owner);

#endif
