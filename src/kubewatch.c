/*
 * List and watch a collection of the Kubernetes API (see kubewatch.h):
 * the same code for the pods of logs and the SealedSecrets of the
 * controller.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "http.h"
#include "kubewatch.h"
#include "log.h"

static char *kubewatch_strdup(const char *s)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		abort();
	return d;
}

void kubewatch_init(struct kubewatch *w, struct kube_client *kc,
		    CURLM *multi, const char *path, const char *query,
		    const char *what, const struct kubewatch_ops *ops,
		    struct err *e)
{
	memset(w, 0, sizeof(*w));
	w->kc = kc;
	w->multi = multi;
	w->path = kubewatch_strdup(path);
	w->query = query && *query ? kubewatch_strdup(query) : NULL;
	w->what = kubewatch_strdup(what);
	w->ops = *ops;
	w->e = e;
	strbuf_init(&w->part, 16u << 20);
	strbuf_init(&w->errbody, 8192);
}

static void kubewatch_note(struct kubewatch *w, const char *msg)
{
	if (w->ops.note)
		w->ops.note(w->ops.ud, msg);
}

static void kubewatch_drop(struct kubewatch *w)
{
	if (w->curl) {
		curl_multi_remove_handle(w->multi, w->curl);
		curl_easy_cleanup(w->curl);
		w->curl = NULL;
	}
	curl_slist_free_all(w->hdrs);
	w->hdrs = NULL;
	w->active = 0;
	strbuf_reset(&w->part);
}

void kubewatch_release(struct kubewatch *w)
{
	kubewatch_drop(w);
	strbuf_release(&w->part);
	strbuf_release(&w->errbody);
	free(w->path);
	free(w->query);
	free(w->what);
	free(w->rv);
	memset(w, 0, sizeof(*w));
}

static void kubewatch_set_rv(struct kubewatch *w, const char *rv)
{
	if (!rv)
		return;
	free(w->rv);
	w->rv = kubewatch_strdup(rv);
}

static void kubewatch_url(struct kubewatch *w, struct strbuf *p, int watch)
{
	strbuf_addstr(p, w->path);
	strbuf_addch(p, '?');
	if (w->query) {
		strbuf_addstr(p, w->query);
		strbuf_addch(p, '&');
	}
	if (watch) {
		strbuf_addf(p, "watch=true&allowWatchBookmarks=true&timeoutSeconds=%d"
			    "&resourceVersion=", KUBEWATCH_TIMEOUT_S);
		http_escape(p, w->rv ? w->rv : "0");
	} else {
		strbuf_addstr(p, "limit=500");
	}
}

int kubewatch_list(struct kubewatch *w, int initial)
{
	struct strbuf path = STRBUF_INIT;
	char *cont = NULL;
	int ret = -1;

	strbuf_init(&path, 0);
	if (!initial)
		w->relists++;
	do {
		json_t *doc = NULL, *item;
		const char *c;
		size_t i;

		strbuf_reset(&path);
		kubewatch_url(w, &path, 0);
		if (cont) {
			strbuf_addstr(&path, "&continue=");
			http_escape(&path, cont);
		}
		if (kube_get_json(w->kc, path.buf, &doc, NULL, w->e) < 0)
			goto out;
		/* list items carry no kind; the owners do not need it */
		json_array_foreach(json_object_get(doc, "items"), i, item)
			w->ops.object(w->ops.ud, NULL, item, initial);
		kubewatch_set_rv(w, json_string_value(json_object_get(
			json_object_get(doc, "metadata"), "resourceVersion")));
		c = json_string_value(json_object_get(json_object_get(doc, "metadata"),
						      "continue"));
		free(cont);
		cont = c && *c ? kubewatch_strdup(c) : NULL;
		json_decref(doc);
	} while (cont);
	if (!initial && w->ops.relisted)
		w->ops.relisted(w->ops.ud);
	ret = 0;
out:
	free(cont);
	strbuf_release(&path);
	return ret;
}

static void kubewatch_event(struct kubewatch *w, const char *p, size_t len)
{
	json_t *ev = json_loadb(p, len, 0, NULL);
	const char *type = json_string_value(json_object_get(ev, "type"));
	json_t *obj = json_object_get(ev, "object");
	const char *rv = json_string_value(json_object_get(json_object_get(obj, "metadata"),
							   "resourceVersion"));

	if (!type) {
		json_decref(ev);
		return;
	}
	if (!strcmp(type, "ERROR")) {
		json_int_t code = json_integer_value(json_object_get(obj, "code"));

		if (code == 410) {
			log_debug("watch %s: 410 Gone, relisting", w->what);
			w->gone = 1;
		} else {
			const char *m = json_string_value(json_object_get(obj, "message"));
			char msg[1024];

			snprintf(msg, sizeof(msg), "watch: %s", m ? m : "error");
			kubewatch_note(w, msg);
		}
		json_decref(ev);
		return;
	}
	kubewatch_set_rv(w, rv);
	if (!strcmp(type, "ADDED") || !strcmp(type, "MODIFIED") ||
	    !strcmp(type, "DELETED"))
		w->ops.object(w->ops.ud, type, obj, 0);
	json_decref(ev);
}

static size_t kubewatch_write(char *data, size_t size, size_t nmemb, void *ud)
{
	struct kubewatch *w = ud;
	size_t n = size * nmemb, start = 0;
	long status = 0;

	curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		strbuf_add(&w->errbody, data, n);
		return n;
	}
	while (start < n) {
		char *nl = memchr(data + start, '\n', n - start);

		if (!nl) {
			if (strbuf_add(&w->part, data + start, n - start) < 0)
				return 0;
			break;
		}
		if (w->part.len) {
			strbuf_add(&w->part, data + start, (size_t)(nl - data) - start);
			kubewatch_event(w, w->part.buf, w->part.len);
			strbuf_reset(&w->part);
		} else {
			kubewatch_event(w, data + start, (size_t)(nl - data) - start);
		}
		start = (size_t)(nl - data) + 1;
	}
	return n;
}

static int kubewatch_start(struct kubewatch *w)
{
	struct strbuf path = STRBUF_INIT;
	int ret = -1;

	strbuf_init(&path, 0);
	kubewatch_url(w, &path, 1);
	w->curl = curl_easy_init();
	if (!w->curl) {
		err_set(w->e, "cannot create a curl handle");
		goto out;
	}
	if (kube_easy_setup(w->kc, w->curl, path.buf,
			    (KUBEWATCH_TIMEOUT_S + 30) * 1000L, &w->hdrs, w->e) < 0)
		goto out;
	w->auth_gen = kube_auth_generation(w->kc);
	curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, kubewatch_write);
	curl_easy_setopt(w->curl, CURLOPT_WRITEDATA, w);
	strbuf_reset(&w->part);
	strbuf_reset(&w->errbody);
	if (curl_multi_add_handle(w->multi, w->curl) != CURLM_OK) {
		err_set(w->e, "cannot add the watch to curl");
		goto out;
	}
	log_debug("watch %s: GET %s", w->what, path.buf);
	w->active = 1;
	ret = 0;
out:
	if (ret < 0)
		kubewatch_drop(w);
	strbuf_release(&path);
	return ret;
}

void kubewatch_relist(struct kubewatch *w)
{
	w->gone = 1;
}

int kubewatch_step(struct kubewatch *w)
{
	if (w->active || w->failed)
		return 0;
	if (w->gone) {
		struct err saved = *w->e;

		w->gone = 0;
		if (kubewatch_list(w, 0) < 0) {
			/* a relist that fails is retried, not fatal */
			log_debug("watch %s: relist: %s", w->what, w->e->msg);
			*w->e = saved;
			w->gone = 1;
			w->retry_at = clock_now_ms() + 1000;
			return 0;
		}
	}
	if (w->retry_at > clock_now_ms())
		return 0;
	w->restarts++;
	return kubewatch_start(w);
}

int kubewatch_done(struct kubewatch *w, CURL *easy, CURLcode result)
{
	long status = 0;
	curl_off_t retry_after = -1;
	char msg[1024];

	if (!w->curl || easy != w->curl)
		return 0;
	curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(w->curl, CURLINFO_RETRY_AFTER, &retry_after);
	kubewatch_drop(w);
	if (status == 200) {
		w->auth_retries = 0;
		w->failures = result == CURLE_OK ? 0 : w->failures + 1;
		w->retry_at = clock_now_ms() +
			(w->failures ? http_backoff_ms(w->failures, 100, 5000) : 0);
		return 1;
	}
	kube_status_message(status, w->errbody.buf, w->errbody.len, msg, sizeof(msg));
	if (status == 410) {
		w->gone = 1;
		return 1;
	}
	if (status == 401 && w->auth_retries++ < 1 &&
	    kube_auth_rejected(w->kc, w->auth_gen)) {
		w->retry_at = clock_now_ms();
		return 1;
	}
	if (status == 401 || status == 403) {
		err_set(w->e, "cannot watch %s: %s", w->what, msg);
		w->failed = 1;
		return 1;
	}
	w->failures++;
	if (status)
		log_debug("watch %s: %s", w->what, msg);
	else
		log_debug("watch %s: %s", w->what, curl_easy_strerror(result));
	w->retry_at = clock_now_ms() +
		(retry_after >= 0 ? (long long)retry_after * 1000
				  : http_backoff_ms(w->failures, 250, 10000));
	return 1;
}
