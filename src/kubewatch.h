#ifndef SAASCTL_KUBEWATCH_H
#define SAASCTL_KUBEWATCH_H

/*
 * Keeping up with a collection of the Kubernetes API: list (every page),
 * then watch from the list's resourceVersion, as client-go's reflector
 * does. The watch asks for BOOKMARKs (which only move the resourceVersion
 * on) and ends every few minutes by design; it is then opened again from
 * the last resourceVersion seen. A dropped connection is resumed with a
 * back-off; 410 Gone (the version was compacted away) means a relist, and
 * after a relist the owner learns which objects it did not see again. A
 * 401 renews an exec plugin's credential once; 401 and 403 are fatal.
 *
 * The watch runs on the caller's curl multi handle, so one thread can
 * also serve log streams (logs) or reconcile (the secrets controller):
 * call kubewatch_step() each time round the loop and hand every finished
 * easy handle to kubewatch_done().
 */

#include <curl/curl.h>
#include <jansson.h>

#include "err.h"
#include "kube.h"
#include "strbuf.h"

#define KUBEWATCH_TIMEOUT_S 300

struct kubewatch_ops {
	/*
	 * An object: from a list (type NULL; initial on the first list) or
	 * from the watch ("ADDED", "MODIFIED", "DELETED").
	 */
	void (*object)(void *ud, const char *type, json_t *obj, int initial);
	/*
	 * A relist ended (not the first list): objects the owner knew and
	 * did not see in it are gone. May be NULL.
	 */
	void (*relisted)(void *ud);
	/* Something the user should know; may be NULL. */
	void (*note)(void *ud, const char *msg);
	void *ud;
};

struct kubewatch {
	struct kube_client *kc;
	CURLM *multi;
	char *path;			/* "/api/v1/namespaces/x/pods" */
	char *query;			/* "labelSelector=..." or NULL */
	char *what;			/* "pods", for messages */
	struct kubewatch_ops ops;
	struct err *e;
	char *rv;			/* resourceVersion to watch from */
	CURL *curl;
	struct curl_slist *hdrs;
	struct strbuf part, errbody;
	long long retry_at;
	int active;
	int failures;
	int gone;			/* 410: relist before watching again */
	int auth_retries;
	unsigned auth_gen;
	int failed;			/* 401/403: e says why */
	unsigned long restarts;		/* watches opened again, relists */
	unsigned long relists;
};

/*
 * Set w up (copies path, query and what). e receives a fatal error; the
 * caller checks w->failed.
 */
void kubewatch_init(struct kubewatch *w, struct kube_client *kc,
		    CURLM *multi, const char *path, const char *query,
		    const char *what, const struct kubewatch_ops *ops,
		    struct err *e);
void kubewatch_release(struct kubewatch *w);

/* List every page; initial says whether this is the first list. */
int kubewatch_list(struct kubewatch *w, int initial);

/*
 * Relist after a 410, and (re)open the watch when it is due. Returns -1
 * only when the watch cannot be set up at all.
 */
int kubewatch_step(struct kubewatch *w);

/* A finished easy handle: returns 1 when it was the watch's. */
int kubewatch_done(struct kubewatch *w, CURL *easy, CURLcode result);

/* Ask for a relist at the next step (as after a 410). */
void kubewatch_relist(struct kubewatch *w);

#endif
