#ifndef SAASCTL_KUBE_H
#define SAASCTL_KUBE_H

/*
 * A Kubernetes API client: kubeconfig resolution as kubectl does it, the
 * cluster's TLS and proxy settings, every common way to authenticate
 * (tokens, token files, client certificates, exec credential plugins,
 * in-cluster service accounts), and requests through src/http.
 *
 * Resolution order: an explicit kubeconfig file, else $KUBECONFIG (a
 * colon-separated list merged so that the first definition of a name
 * wins), else ~/.kube/config, else the in-cluster service account. Paths
 * in a kubeconfig resolve against the folder of the file that holds them.
 *
 * Credentials never reach the log: http.c redacts Authorization, and
 * nothing here logs a token, a key or a plugin's output.
 */

#include <curl/curl.h>
#include <jansson.h>

#include "err.h"
#include "strbuf.h"

struct kube_options {
	const char *kubeconfig;		/* --kubeconfig FILE, or NULL */
	const char *context;		/* --context NAME, or NULL */
};

struct kube_client;

/*
 * Load the configuration and pick the context. Nothing is contacted yet;
 * an exec plugin first runs with the first request.
 */
int kube_client_new(struct kube_client **out, const struct kube_options *o,
		    struct err *e);
void kube_client_free(struct kube_client *kc);

/* The context's namespace, or "default". */
const char *kube_namespace(const struct kube_client *kc);
/* The context's name, or "in-cluster". */
const char *kube_context_name(const struct kube_client *kc);
/* The server URL as configured (for messages). */
const char *kube_server(const struct kube_client *kc);

/*
 * GET an API path ("/api/v1/namespaces/x/pods?labelSelector=...") and parse
 * the JSON answer. Retries 429 and 5xx honouring Retry-After; re-runs an
 * exec plugin once on a 401. A status other than 2xx fails with the API's
 * own message; *status (if not NULL) holds it, 0 when no answer came.
 */
int kube_get_json(struct kube_client *kc, const char *path, json_t **out,
		  long *status, struct err *e);

/*
 * The same with any method and a body (NULL: none) of content_type:
 * "PATCH" with "application/apply-patch+yaml" for server-side apply,
 * "POST", "PUT", "DELETE". out may be NULL; *out stays NULL when the
 * answer is empty. The answer's buffer is wiped (a Secret's values come
 * back in it).
 */
int kube_request_json(struct kube_client *kc, const char *method,
		      const char *path, const char *content_type,
		      const char *body, size_t len, json_t **out, long *status,
		      struct err *e);

/*
 * Configure a curl easy handle for a streaming GET of path (curl multi
 * users): URL, TLS, proxy and credentials (running an exec plugin when its
 * credential is missing or expired). timeout_ms 0 means none. The caller
 * frees *headers after the transfer.
 */
int kube_easy_setup(struct kube_client *kc, CURL *curl, const char *path,
		    long timeout_ms, struct curl_slist **headers,
		    struct err *e);

/*
 * Which credential the requests set up from now on use: it changes each
 * time an exec plugin runs or a token file is read again.
 */
unsigned kube_auth_generation(const struct kube_client *kc);

/*
 * A request set up with credential generation gen came back 401. Forget a
 * plugin's cached credential so the next request runs it again (unless a
 * newer one already replaced it: many streams fail at once, one re-run
 * serves them all). Returns 1 when retrying may help (an exec plugin or a
 * token file), 0 when the credential is static.
 */
int kube_auth_rejected(struct kube_client *kc, unsigned gen);

/*
 * The message of a failed API answer: the Status object's message when the
 * body is one, else the HTTP status. For errors like
 * "pods is forbidden: User ...".
 */
void kube_status_message(long status, const char *body, size_t len,
			 char *out, size_t outlen);

/* Parse RFC 3339 ("2024-01-02T03:04:05.123456789Z", offsets allowed). */
int kube_parse_time(const char *s, long long *sec, long *nsec);

#endif
