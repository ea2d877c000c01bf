#ifndef SAASCTL_SECRETCTL_H
#define SAASCTL_SECRETCTL_H

/*
 * The sealed secrets controller: keeps the Secret of every SealedSecret
 * object (sealedsecrets.saasctl.dev) of the cluster, for as long as it
 * runs, in one thread.
 *
 * Watch: src/kubewatch (list, then watch from the resourceVersion with
 * bookmarks; 410 Gone relists; dropped watches resume). Every object
 * listed or changed is queued by namespace/name and reconciled from the
 * main loop, the newest version only.
 *
 * Reconcile: as 'secrets apply --from-cluster' (src/kubesecret): opened
 * with the key its recipients name, written with server-side apply only
 * when the keyed hashes differ, owned by the SealedSecret so that the
 * garbage collector deletes the Secret with it. A SealedSecret that
 * cannot be opened leaves its Secret as it is. The outcome goes to
 * status.conditions (type Synced, True or False with a reason and a
 * message such as "item 'DATABASE_URL' fails authentication") and
 * status.observedGeneration, written only when it changed; a failure
 * also becomes a Warning Event on the SealedSecret when the condition
 * changes. No message ever holds a value.
 *
 * Health: with health_addr, an HTTP listener serves /healthz (200 once
 * the first list is done) and /metrics (Prometheus text: reconciles,
 * failures, watch restarts, time of the last success).
 *
 * secretctl_interrupt() (safe in a signal handler) ends the loop within
 * its 100 ms poll.
 */

#include <stddef.h>

#include "err.h"
#include "keys.h"
#include "kube.h"

struct secretctl_options {
	struct keys_secret *const *keys;
	size_t nkeys;
	const char *namespace;		/* NULL: every namespace */
	const char *health_addr;	/* "127.0.0.1:8080", or NULL */
	/* One line per reconcile outcome and per notice; may be NULL. */
	void (*log)(void *ud, const char *line);
	void *ud;
};

int secretctl_run(struct kube_client *kc, const struct secretctl_options *o,
		  struct err *e);
void secretctl_interrupt(void);

#endif
