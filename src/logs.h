#ifndef SAASCTL_LOGS_H
#define SAASCTL_LOGS_H

/*
 * Multi-pod log tailing from the Kubernetes API, nothing lost and nothing
 * twice.
 *
 * Pods are found with a list and then a watch from its resourceVersion
 * (BOOKMARKs requested, 410 Gone answered by a relist). Every container
 * gets one log stream, all of them on one curl multi handle in the calling
 * thread. Streams always ask for timestamps=true; after a dropped
 * connection, a clean EOF while the container still runs, or a stall, a
 * stream resumes with sinceTime at the last timestamp it saw and skips the
 * lines it already delivered. A stream ends only when its container has
 * terminated and the stream reached EOF. A restarted container (a new
 * containerID) gets a new stream once the old one is drained.
 */

#include <regex.h>
#include <stddef.h>

#include <jansson.h>

#include "err.h"
#include "kube.h"
#include "strbuf.h"

struct logs_options {
	const char *namespace;		/* ignored with all_namespaces */
	int all_namespaces;
	const char *label_selector;	/* sent to the API, or NULL */
	/*
	 * Client-side label selectors ("k=v,k2=v2"): a pod must match one
	 * of them. For apps with several workloads.
	 */
	const char *const *any_selectors;
	size_t nany_selectors;
	const char *field_selector;
	const regex_t *pod_re;		/* pod names, or NULL */
	const regex_t *container_re;
	const regex_t *exclude_container_re;
	long long since_seconds;	/* 0: no limit */
	const char *since_time;		/* RFC 3339, or NULL */
	long tail;			/* -1: every line */
	int follow;
	int previous;			/* the previous instance (no follow) */
	int sorted;			/* merge all lines by timestamp (no follow) */
	int max_streams;		/* open at once; more are queued */
	long stall_ms;			/* no bytes this long: reconnect */
	int require_match;		/* no pods at first: fail, even following */
};

struct logs_line {
	const char *namespace;
	const char *pod;
	const char *container;
	const char *time;		/* RFC 3339 as the kubelet wrote it */
	size_t time_len;
	const char *msg;		/* without the newline */
	size_t len;
};

struct logs_sink {
	/* One line; return -1 to stop (the reader went away). */
	int (*line)(void *ud, const struct logs_line *l);
	/* Lines delivered so far may be written out; -1 stops. */
	int (*flush)(void *ud);
	/* Something the user should know (waiting, queued, lines lost). */
	void (*note)(void *ud, const char *msg);
	void *ud;
	/* a pipe the lines go to: its reader leaving ends the run even when
	 * no line is due (-1: none) */
	int out_fd;
};

/*
 * Stream until every stream ended (without follow), logs_interrupt() was
 * called, or the sink said stop. Returns 0, or -1 with e filled: the API
 * unreachable, credentials refused, no pods (without follow).
 */
int logs_run(struct kube_client *kc, const struct logs_options *o,
	     const struct logs_sink *sink, struct err *e);

/* Ask logs_run() to return soon; safe in a signal handler. */
void logs_interrupt(void);

/*
 * The label selector of a workload ("deployment", "statefulset",
 * "daemonset", "job" and their short names) read from the API.
 */
int logs_workload_selector(struct kube_client *kc, const char *ns,
			   const char *kind, const char *name,
			   struct strbuf *out, struct err *e);

/* Does a "k=v,k2!=v2,k3" selector match the labels object (jansson)? */
int logs_labels_match(const char *selector, json_t *labels);

#endif
