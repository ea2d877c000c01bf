#define _GNU_SOURCE

#include "kube.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "http.h"
#include "log.h"
#include "yamltree.h"

#define KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define KUBE_MAX_FILE (4u << 20)

/* A credential an exec plugin returned, kept until it expires. */
struct kube_cred {
	char *token;
	char *cert_pem;
	size_t cert_len;
	char *key_pem;
	size_t key_len;
	time_t expires;			/* 0: no expiry */
	int valid;
};

struct kube_client {
	char *context_name;
	char *cluster_name;
	char *user_name;
	char *namespace;
	char *server;			/* as configured, no trailing slash */
	char *url_base;			/* what request URLs start with */
	struct curl_slist *connect_to;	/* tls-server-name: connect elsewhere */
	char *proxy;
	struct http_tls tls;
	char *ca_file, *cert_file, *key_file;
	struct strbuf ca_pem, cert_pem, key_pem;
	char *token;			/* a static bearer token */
	char *token_file;		/* re-read when older than a minute */
	time_t token_read;
	json_t *exec;			/* the user's exec stanza */
	char *exec_dir;			/* its kubeconfig's folder */
	json_t *cluster;		/* for provideClusterInfo */
	struct kube_cred cred;
	unsigned cred_gen;		/* bumped with every new credential */
	/* every request reuses connections and TLS sessions: the list's
	 * connection serves the first stream, the others resume the session */
	CURLSH *share;
};

static void kube_free_secret(char *s, size_t len)
{
	if (!s)
		return;
	sodium_memzero(s, len ? len : strlen(s));
	free(s);
}

static void kube_cred_clear(struct kube_cred *c)
{
	kube_free_secret(c->token, 0);
	kube_free_secret(c->cert_pem, c->cert_len);
	kube_free_secret(c->key_pem, c->key_len);
	memset(c, 0, sizeof(*c));
}

static void kube_strbuf_wipe(struct strbuf *sb)
{
	if (sb->alloc)
		sodium_memzero(sb->buf, sb->alloc);
	strbuf_release(sb);
}

void kube_client_free(struct kube_client *kc)
{
	if (!kc)
		return;
	free(kc->context_name);
	free(kc->cluster_name);
	free(kc->user_name);
	free(kc->namespace);
	free(kc->server);
	free(kc->url_base);
	curl_slist_free_all(kc->connect_to);
	free(kc->proxy);
	free(kc->ca_file);
	free(kc->cert_file);
	free(kc->key_file);
	strbuf_release(&kc->ca_pem);
	strbuf_release(&kc->cert_pem);
	kube_strbuf_wipe(&kc->key_pem);
	kube_free_secret(kc->token, 0);
	free(kc->token_file);
	json_decref(kc->exec);
	free(kc->exec_dir);
	json_decref(kc->cluster);
	kube_cred_clear(&kc->cred);
	if (kc->share)
		curl_share_cleanup(kc->share);
	free(kc);
}

const char *kube_namespace(const struct kube_client *kc)
{
	return kc->namespace ? kc->namespace : "default";
}

const char *kube_context_name(const struct kube_client *kc)
{
	return kc->context_name ? kc->context_name : "in-cluster";
}

const char *kube_server(const struct kube_client *kc)
{
	return kc->server;
}

int kube_parse_time(const char *s, long long *sec, long *nsec)
{
	struct tm tm = { 0 };
	const char *p;
	long frac = 0;
	int digits = 0;
	long long off = 0;

	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -1;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			if (digits < 9) {
				frac = frac * 10 + (*p - '0');
				digits++;
			}
			p++;
		}
		while (digits < 9) {
			frac *= 10;
			digits++;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		int h = atoi(p + 1), m = atoi(p + 4);

		off = (h * 3600LL + m * 60LL) * (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	*sec = (long long)timegm(&tm) - off;
	*nsec = frac;
	return 0;
}

/* path, or dir/path when path is relative. */
static char *kube_resolve(const char *dir, const char *path)
{
	char *out = NULL;

	if (!path)
		return NULL;
	if (path[0] == '/' || !dir)
		return strdup(path);
	if (asprintf(&out, "%s/%s", dir, path) < 0)
		return NULL;
	return out;
}

static char *kube_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* Decode base64 "-data" fields into sb. */
static int kube_base64(struct strbuf *sb, const char *b64, const char *what,
		       struct err *e)
{
	size_t len = strlen(b64), out_len = 0;

	strbuf_reset(sb);
	if (strbuf_grow(sb, len + 1) < 0)
		return err_set(e, "out of memory");
	if (sodium_base642bin((unsigned char *)sb->buf, len + 1, b64, len,
			      " \t\r\n", &out_len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return err_set(e, "%s is not valid base64", what);
	sb->len = out_len;
	sb->buf[out_len] = '\0';
	return 0;
}

static int kube_load_file(const char *path, json_t **out, struct err *e)
{
	struct yamltree *t = NULL;
	json_t *root = NULL;

	if (yamltree_parse_file(&t, path, NULL, e) < 0) {
		yamltree_free(t);
		return err_wrap(e, "cannot read kubeconfig");
	}
	if (t->ndocs && t->docs[0].root &&
	    ynode_json(&root, t->docs[0].root, e) < 0) {
		err_wrap(e, "cannot read kubeconfig '%s'", path);
		yamltree_free(t);
		return -1;
	}
	if (!root)
		root = json_object();
	yamltree_free(t);
	if (!json_is_object(root)) {
		json_decref(root);
		return err_set(e, "kubeconfig '%s' is not a map", path);
	}
	*out = root;
	return 0;
}

/*
 * Merge one file's clusters, users and contexts into merged[kind][name] =
 * {"v": entry, "dir": folder}; the first definition of a name wins.
 */
static void kube_merge(json_t *merged, json_t *file, const char *path)
{
	static const char *const kinds[][2] = {
		{ "clusters", "cluster" },
		{ "users", "user" },
		{ "contexts", "context" },
	};
	char *dir = kube_dirname(path);
	const char *cur = json_string_value(json_object_get(file, "current-context"));

	if (cur && *cur && !json_object_get(merged, "current-context"))
		json_object_set_new(merged, "current-context", json_string(cur));
	for (size_t k = 0; k < 3; k++) {
		json_t *list = json_object_get(file, kinds[k][0]);
		json_t *dst = json_object_get(merged, kinds[k][0]);
		json_t *item;
		size_t i;

		json_array_foreach(list, i, item) {
			const char *name = json_string_value(json_object_get(item, "name"));
			json_t *v = json_object_get(item, kinds[k][1]);

			if (!name || json_object_get(dst, name))
				continue;
			json_object_set_new(dst, name,
					    json_pack("{s:O?,s:s}", "v", v,
						      "dir", dir ? dir : "."));
		}
	}
	free(dir);
}

static const char *kube_str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s && *s ? s : NULL;
}

static int kube_bool(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_true(v) ||
	       (json_is_string(v) && !strcmp(json_string_value(v), "true"));
}

/* scheme://host[:port][/prefix] with tls-server-name: connect_to. */
static int kube_set_server(struct kube_client *kc, const char *server,
			   const char *tls_name, struct err *e)
{
	const char *hostp, *end, *port = NULL, *prefix;
	char *host = NULL;
	int https;
	size_t n;

	kc->server = strdup(server);
	if (!kc->server)
		return err_set(e, "out of memory");
	n = strlen(kc->server);
	while (n > 0 && kc->server[n - 1] == '/')
		kc->server[--n] = '\0';
	if (!strncmp(server, "https://", 8))
		https = 1;
	else if (!strncmp(server, "http://", 7))
		https = 0;
	else
		return err_set(e, "server '%s' of cluster '%s' is not an http(s) URL",
			       server, kc->cluster_name);
	if (!tls_name) {
		kc->url_base = strdup(kc->server);
		return kc->url_base ? 0 : err_set(e, "out of memory");
	}
	hostp = kc->server + (https ? 8 : 7);
	prefix = strchr(hostp, '/');
	if (!prefix)
		prefix = hostp + strlen(hostp);
	end = prefix;
	if (*hostp == '[') {
		const char *rb = memchr(hostp, ']', (size_t)(end - hostp));

		if (!rb)
			return err_set(e, "server '%s' has a bad IPv6 address", server);
		if (rb + 1 < end && rb[1] == ':')
			port = rb + 2;
		end = rb + 1;
	} else {
		const char *colon = memchr(hostp, ':', (size_t)(end - hostp));

		if (colon) {
			port = colon + 1;
			end = colon;
		}
	}
	host = strndup(hostp, (size_t)(end - hostp));
	{
		char portbuf[16], *entry = NULL;

		if (port)
			snprintf(portbuf, sizeof(portbuf), "%.*s",
				 (int)(prefix - port), port);
		else
			snprintf(portbuf, sizeof(portbuf), "%s", https ? "443" : "80");
		if (asprintf(&kc->url_base, "%s://%s:%s%s", https ? "https" : "http",
			     tls_name, portbuf, prefix) < 0 ||
		    asprintf(&entry, "%s:%s:%s:%s", tls_name, portbuf, host,
			     portbuf) < 0) {
			free(host);
			return err_set(e, "out of memory");
		}
		kc->connect_to = curl_slist_append(NULL, entry);
		free(entry);
	}
	free(host);
	return 0;
}

static int kube_set_cluster(struct kube_client *kc, json_t *cluster,
			    const char *dir, struct err *e)
{
	const char *server = kube_str(cluster, "server");
	const char *s;

	if (!server)
		return err_set(e, "cluster '%s' has no server", kc->cluster_name);
	if (kube_set_server(kc, server, kube_str(cluster, "tls-server-name"), e) < 0)
		return -1;
	if ((s = kube_str(cluster, "certificate-authority-data"))) {
		if (kube_base64(&kc->ca_pem, s, "certificate-authority-data", e) < 0)
			return err_wrap(e, "cluster '%s'", kc->cluster_name);
		kc->tls.ca_pem = kc->ca_pem.buf;
		kc->tls.ca_pem_len = kc->ca_pem.len;
	} else if ((s = kube_str(cluster, "certificate-authority"))) {
		kc->ca_file = kube_resolve(dir, s);
		if (access(kc->ca_file, R_OK) < 0)
			return err_errno(e, "cannot read certificate-authority '%s' of cluster '%s'",
					 kc->ca_file, kc->cluster_name);
		kc->tls.ca_file = kc->ca_file;
	}
	kc->tls.insecure = kube_bool(cluster, "insecure-skip-tls-verify");
	if ((s = kube_str(cluster, "proxy-url")))
		kc->proxy = strdup(s);
	kc->cluster = json_incref(cluster);
	return 0;
}

static const char *kube_provider_hint(const char *name)
{
	if (!strcmp(name, "gcp"))
		return "install gke-gcloud-auth-plugin and run 'gcloud container clusters get-credentials' again";
	if (!strcmp(name, "azure"))
		return "install kubelogin and run 'kubelogin convert-kubeconfig'";
	if (!strcmp(name, "oidc"))
		return "use an exec plugin such as kubelogin ('kubectl oidc-login')";
	return "replace it with an exec credential plugin";
}

static int kube_set_user(struct kube_client *kc, json_t *user, const char *dir,
			 struct err *e)
{
	json_t *ap = json_object_get(user, "auth-provider");
	const char *s;

	if (ap) {
		const char *name = kube_str(ap, "name");

		return err_set(e, "user '%s' uses the auth-provider '%s', which "
			       "Kubernetes clients no longer support: %s "
			       "(an exec credential plugin, client.authentication.k8s.io/v1)",
			       kc->user_name, name ? name : "?",
			       kube_provider_hint(name ? name : ""));
	}
	if ((s = kube_str(user, "token"))) {
		kc->token = strdup(s);
	} else if ((s = kube_str(user, "tokenFile"))) {
		kc->token_file = kube_resolve(dir, s);
	}
	if ((s = kube_str(user, "client-certificate-data"))) {
		if (kube_base64(&kc->cert_pem, s, "client-certificate-data", e) < 0)
			return err_wrap(e, "user '%s'", kc->user_name);
		kc->tls.cert_pem = kc->cert_pem.buf;
		kc->tls.cert_pem_len = kc->cert_pem.len;
	} else if ((s = kube_str(user, "client-certificate"))) {
		kc->cert_file = kube_resolve(dir, s);
		if (access(kc->cert_file, R_OK) < 0)
			return err_errno(e, "cannot read client-certificate '%s' of user '%s'",
					 kc->cert_file, kc->user_name);
		kc->tls.cert_file = kc->cert_file;
	}
	if ((s = kube_str(user, "client-key-data"))) {
		if (kube_base64(&kc->key_pem, s, "client-key-data", e) < 0)
			return err_wrap(e, "user '%s'", kc->user_name);
		kc->tls.key_pem = kc->key_pem.buf;
		kc->tls.key_pem_len = kc->key_pem.len;
	} else if ((s = kube_str(user, "client-key"))) {
		kc->key_file = kube_resolve(dir, s);
		if (access(kc->key_file, R_OK) < 0)
			return err_errno(e, "cannot read client-key '%s' of user '%s'",
					 kc->key_file, kc->user_name);
		kc->tls.key_file = kc->key_file;
	}
	if (json_is_object(json_object_get(user, "exec"))) {
		json_t *ex = json_object_get(user, "exec");
		const char *api = kube_str(ex, "apiVersion");

		if (!kube_str(ex, "command"))
			return err_set(e, "exec plugin of user '%s' has no command",
				       kc->user_name);
		if (!api || (strcmp(api, "client.authentication.k8s.io/v1") &&
			     strcmp(api, "client.authentication.k8s.io/v1beta1")))
			return err_set(e, "exec plugin of user '%s' has apiVersion '%s'; "
				       "want client.authentication.k8s.io/v1 or v1beta1",
				       kc->user_name, api ? api : "");
		kc->exec = json_incref(ex);
		kc->exec_dir = strdup(dir);
	}
	return 0;
}

/* The in-cluster service account, as client-go's InClusterConfig. */
static int kube_in_cluster(struct kube_client *kc, struct err *e)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	const char *dir = getenv("SAASCTL_SERVICEACCOUNT_DIR");
	struct strbuf ns = STRBUF_INIT;
	char *server = NULL, *path = NULL;
	int ret = -1;

	if (!dir || !*dir)
		dir = KUBE_SA_DIR;
	strbuf_init(&ns, 256);
	kc->cluster_name = strdup("in-cluster");
	kc->user_name = strdup("serviceaccount");
	if (asprintf(&server, strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s",
		     host, port) < 0)
		goto oom;
	if (kube_set_server(kc, server, NULL, e) < 0)
		goto out;
	if (asprintf(&kc->ca_file, "%s/ca.crt", dir) < 0 ||
	    asprintf(&kc->token_file, "%s/token", dir) < 0 ||
	    asprintf(&path, "%s/namespace", dir) < 0)
		goto oom;
	if (access(kc->token_file, R_OK) < 0) {
		err_errno(e, "in-cluster config: cannot read service account token '%s'",
			  kc->token_file);
		goto out;
	}
	kc->tls.ca_file = kc->ca_file;
	if (strbuf_read_file(&ns, path, 256, NULL) == 0) {
		while (ns.len && (ns.buf[ns.len - 1] == '\n' || ns.buf[ns.len - 1] == ' '))
			ns.buf[--ns.len] = '\0';
		if (ns.len)
			kc->namespace = strdup(ns.buf);
	}
	ret = 0;
	goto out;
oom:
	err_set(e, "out of memory");
out:
	free(server);
	free(path);
	strbuf_release(&ns);
	return ret;
}

int kube_client_new(struct kube_client **out, const struct kube_options *o,
		    struct err *e)
{
	struct kube_client *kc = calloc(1, sizeof(*kc));
	json_t *merged = json_pack("{s:{},s:{},s:{}}", "clusters", "users",
				   "contexts");
	json_t *ctx, *cl, *us;
	const char *env = getenv("KUBECONFIG");
	const char *home = getenv("HOME");
	const char *name, *s;
	char *list = NULL, *dflt = NULL;
	int loaded = 0, ret = -1;

	*out = NULL;
	if (!kc || !merged) {
		err_set(e, "out of memory");
		goto out;
	}
	strbuf_init(&kc->ca_pem, 0);
	strbuf_init(&kc->cert_pem, 0);
	strbuf_init(&kc->key_pem, 0);
	if (http_global_init(e) < 0)
		goto out;
	kc->share = curl_share_init();
	if (kc->share) {
		curl_share_setopt(kc->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
		curl_share_setopt(kc->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
		curl_share_setopt(kc->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	}
	if (o->kubeconfig) {
		json_t *f = NULL;

		if (kube_load_file(o->kubeconfig, &f, e) < 0)
			goto out;
		kube_merge(merged, f, o->kubeconfig);
		json_decref(f);
		loaded = 1;
	} else if (env && *env) {
		char *save = NULL;

		list = strdup(env);
		for (char *p = strtok_r(list, ":", &save); p;
		     p = strtok_r(NULL, ":", &save)) {
			json_t *f = NULL;

			/* kubectl skips files of the list that do not exist */
			if (access(p, F_OK) < 0)
				continue;
			if (kube_load_file(p, &f, e) < 0)
				goto out;
			kube_merge(merged, f, p);
			json_decref(f);
			loaded = 1;
		}
	} else if (home && asprintf(&dflt, "%s/.kube/config", home) >= 0 &&
		   access(dflt, F_OK) == 0) {
		json_t *f = NULL;

		if (kube_load_file(dflt, &f, e) < 0)
			goto out;
		kube_merge(merged, f, dflt);
		json_decref(f);
		loaded = 1;
	}
	if (!loaded) {
		if (o->context) {
			err_set(e, "context '%s' not found: no kubeconfig (tried %s)",
				o->context, env && *env ? "$KUBECONFIG" : "~/.kube/config");
			goto out;
		}
		if (getenv("KUBERNETES_SERVICE_HOST") && getenv("KUBERNETES_SERVICE_PORT")) {
			if (kube_in_cluster(kc, e) < 0)
				goto out;
			ret = 0;
			goto out;
		}
		err_set(e, "no Kubernetes configuration: no kubeconfig (tried %s) "
			"and not running in a cluster",
			env && *env ? "$KUBECONFIG" : "~/.kube/config");
		goto out;
	}

	name = o->context ? o->context
			  : json_string_value(json_object_get(merged, "current-context"));
	if (!name) {
		err_set(e, "no current context in kubeconfig; pick one with --context");
		goto out;
	}
	ctx = json_object_get(json_object_get(merged, "contexts"), name);
	if (!ctx) {
		err_set(e, "context '%s' not found in kubeconfig", name);
		goto out;
	}
	kc->context_name = strdup(name);
	ctx = json_object_get(ctx, "v");
	if ((s = kube_str(ctx, "namespace")))
		kc->namespace = strdup(s);
	s = kube_str(ctx, "cluster");
	cl = s ? json_object_get(json_object_get(merged, "clusters"), s) : NULL;
	if (!cl) {
		err_set(e, "context '%s': cluster '%s' not found in kubeconfig", name,
			s ? s : "");
		goto out;
	}
	kc->cluster_name = strdup(s);
	if (kube_set_cluster(kc, json_object_get(cl, "v"),
			     json_string_value(json_object_get(cl, "dir")), e) < 0)
		goto out;
	s = kube_str(ctx, "user");
	if (s) {
		us = json_object_get(json_object_get(merged, "users"), s);
		if (!us) {
			err_set(e, "context '%s': user '%s' not found in kubeconfig",
				name, s);
			goto out;
		}
		kc->user_name = strdup(s);
		if (kube_set_user(kc, json_object_get(us, "v"),
				  json_string_value(json_object_get(us, "dir")), e) < 0)
			goto out;
	} else {
		kc->user_name = strdup("(none)");
	}
	ret = 0;
out:
	free(list);
	free(dflt);
	json_decref(merged);
	if (ret < 0)
		kube_client_free(kc);
	else
		*out = kc;
	return ret;
}

/* KUBERNETES_EXEC_INFO for the plugin. */
static char *kube_exec_info(struct kube_client *kc, const char *api)
{
	json_t *info = json_pack("{s:s,s:s,s:{s:b}}", "kind", "ExecCredential",
				 "apiVersion", api, "spec", "interactive", 0);
	char *out;

	if (kube_bool(kc->exec, "provideClusterInfo") && kc->cluster) {
		json_t *c = json_pack("{s:s}", "server", kc->server);
		const char *s;

		if ((s = kube_str(kc->cluster, "tls-server-name")))
			json_object_set_new(c, "tls-server-name", json_string(s));
		if (kc->tls.insecure)
			json_object_set_new(c, "insecure-skip-tls-verify", json_true());
		if (kc->ca_pem.len || kc->ca_file) {
			struct strbuf ca = STRBUF_INIT;

			strbuf_init(&ca, KUBE_MAX_FILE);
			if (kc->ca_pem.len ||
			    strbuf_read_file(&ca, kc->ca_file, KUBE_MAX_FILE, NULL) == 0) {
				const char *pem = kc->ca_pem.len ? kc->ca_pem.buf : ca.buf;
				size_t len = kc->ca_pem.len ? kc->ca_pem.len : ca.len;
				size_t b64len = sodium_base64_ENCODED_LEN(len,
						sodium_base64_VARIANT_ORIGINAL);
				char *b64 = malloc(b64len);

				if (b64) {
					sodium_bin2base64(b64, b64len,
							  (const unsigned char *)pem, len,
							  sodium_base64_VARIANT_ORIGINAL);
					json_object_set_new(c, "certificate-authority-data",
							    json_string(b64));
					free(b64);
				}
			}
			strbuf_release(&ca);
		}
		if (kc->proxy)
			json_object_set_new(c, "proxy-url", json_string(kc->proxy));
		{
			json_t *ext;
			size_t i;

			json_array_foreach(json_object_get(kc->cluster, "extensions"), i, ext)
				if (!strcmp(kube_str(ext, "name") ? kube_str(ext, "name") : "",
					    "client.authentication.k8s.io/exec"))
					json_object_set(c, "config",
							json_object_get(ext, "extension"));
		}
		json_object_set_new(json_object_get(info, "spec"), "cluster", c);
	}
	out = json_dumps(info, JSON_COMPACT);
	json_decref(info);
	return out;
}

/*
 * Run the exec credential plugin and keep what it returns. Its stderr goes
 * to ours (plugins explain themselves there); stdin is /dev/null because
 * nothing here is interactive.
 */
static int kube_exec_run(struct kube_client *kc, struct err *e)
{
	const char *cmd = kube_str(kc->exec, "command");
	const char *api = kube_str(kc->exec, "apiVersion");
	json_t *args = json_object_get(kc->exec, "args");
	json_t *envs = json_object_get(kc->exec, "env");
	struct strbuf outb = STRBUF_INIT;
	char *path = NULL, *info = NULL, **argv = NULL;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	json_t *doc = NULL, *status, *v;
	json_error_t jerr;
	pid_t pid = -1;
	int child_errno = 0, wst = 0, ret = -1;
	size_t i, nargs = json_array_size(args);

	strbuf_init(&outb, 1u << 20);
	kube_cred_clear(&kc->cred);
	path = strchr(cmd, '/') ? kube_resolve(kc->exec_dir, cmd) : strdup(cmd);
	info = kube_exec_info(kc, api);
	argv = calloc(nargs + 2, sizeof(*argv));
	if (!path || !info || !argv) {
		err_set(e, "out of memory");
		goto out;
	}
	argv[0] = path;
	for (i = 0; i < nargs; i++)
		argv[i + 1] = (char *)(json_string_value(json_array_get(args, i)) ?
				       json_string_value(json_array_get(args, i)) : "");
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		err_errno(e, "cannot run exec plugin '%s'", cmd);
		goto out;
	}
	log_debug("kube: running exec plugin '%s' for user '%s'", cmd, kc->user_name);
	pid = fork();
	if (pid < 0) {
		err_errno(e, "cannot run exec plugin '%s'", cmd);
		goto out;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		json_t *item;
		size_t k;

		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(outp[1], 1);
		json_array_foreach(envs, k, item) {
			const char *n = kube_str(item, "name");
			const char *val = json_string_value(json_object_get(item, "value"));

			if (n)
				setenv(n, val ? val : "", 1);
		}
		setenv("KUBERNETES_EXEC_INFO", info, 1);
		signal(SIGPIPE, SIG_DFL);
		execvp(path, argv);
		child_errno = errno;
		if (write(errp[1], &child_errno, sizeof(child_errno)) < 0)
			_exit(127);
		_exit(127);
	}
	close(outp[1]);
	outp[1] = -1;
	close(errp[1]);
	errp[1] = -1;
	if (read(errp[0], &child_errno, sizeof(child_errno)) != sizeof(child_errno))
		child_errno = 0;
	if (strbuf_read_fd(&outb, outp[0], e) < 0) {
		err_wrap(e, "exec plugin '%s'", cmd);
		goto out;
	}
	while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	if (child_errno) {
		const char *hint = kube_str(kc->exec, "installHint");

		if (child_errno == ENOENT)
			err_set(e, "exec plugin '%s' of user '%s' not found%s%s", cmd,
				kc->user_name, hint ? ": " : "", hint ? hint : "");
		else
			err_set(e, "cannot run exec plugin '%s' of user '%s': %s", cmd,
				kc->user_name, strerror(child_errno));
		goto out;
	}
	if (!WIFEXITED(wst) || WEXITSTATUS(wst) != 0) {
		err_set(e, "exec plugin '%s' of user '%s' failed (%s %d)", cmd,
			kc->user_name, WIFEXITED(wst) ? "exit status" : "signal",
			WIFEXITED(wst) ? WEXITSTATUS(wst) : WTERMSIG(wst));
		goto out;
	}
	doc = json_loadb(outb.buf, outb.len, 0, &jerr);
	if (!json_is_object(doc)) {
		err_set(e, "exec plugin '%s' printed no ExecCredential JSON", cmd);
		goto out;
	}
	if (!kube_str(doc, "apiVersion") || strcmp(kube_str(doc, "apiVersion"), api)) {
		err_set(e, "exec plugin '%s' answered with apiVersion '%s', want '%s'",
			cmd, kube_str(doc, "apiVersion") ? kube_str(doc, "apiVersion") : "",
			api);
		goto out;
	}
	status = json_object_get(doc, "status");
	if ((v = json_object_get(status, "token")) && json_string_length(v))
		kc->cred.token = strdup(json_string_value(v));
	if ((v = json_object_get(status, "clientCertificateData")) &&
	    json_string_length(v)) {
		kc->cred.cert_len = json_string_length(v);
		kc->cred.cert_pem = strdup(json_string_value(v));
		v = json_object_get(status, "clientKeyData");
		if (!json_string_length(v)) {
			err_set(e, "exec plugin '%s' returned a certificate without clientKeyData",
				cmd);
			goto out;
		}
		kc->cred.key_len = json_string_length(v);
		kc->cred.key_pem = strdup(json_string_value(v));
	}
	if (!kc->cred.token && !kc->cred.cert_pem) {
		err_set(e, "exec plugin '%s' returned neither a token nor a client certificate",
			cmd);
		goto out;
	}
	if ((v = json_object_get(status, "expirationTimestamp")) && json_is_string(v)) {
		long long sec;
		long nsec;

		if (kube_parse_time(json_string_value(v), &sec, &nsec) < 0) {
			err_set(e, "exec plugin '%s' returned a bad expirationTimestamp", cmd);
			goto out;
		}
		kc->cred.expires = (time_t)sec;
	}
	kc->cred.valid = 1;
	kc->cred_gen++;
	ret = 0;
out:
	if (ret < 0)
		kube_cred_clear(&kc->cred);
	if (doc) {
		/* the token lives in jansson's strings too: wipe them */
		json_t *st = json_object_get(doc, "status");
		const char *key;
		json_t *val;

		json_object_foreach(st, key, val)
			if (json_is_string(val))
				sodium_memzero((char *)json_string_value(val),
					       json_string_length(val));
		json_decref(doc);
	}
	kube_strbuf_wipe(&outb);
	for (int k = 0; k < 2; k++) {
		if (outp[k] >= 0)
			close(outp[k]);
		if (errp[k] >= 0)
			close(errp[k]);
	}
	if (pid > 0)
		while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
			;
	free(info);
	free(argv);
	free(path);
	return ret;
}

/* Make sure a credential is at hand: run the plugin, re-read a token file. */
static int kube_refresh(struct kube_client *kc, struct err *e)
{
	time_t now = time(NULL);

	if (kc->exec) {
		/* a little early, so a request does not race the expiry */
		if (!kc->cred.valid || (kc->cred.expires && kc->cred.expires - 10 <= now))
			if (kube_exec_run(kc, e) < 0)
				return -1;
		kc->tls.cert_pem = kc->cred.cert_pem;
		kc->tls.cert_pem_len = kc->cred.cert_len;
		kc->tls.key_pem = kc->cred.key_pem;
		kc->tls.key_pem_len = kc->cred.key_len;
		if (kc->cred.cert_pem) {
			kc->tls.cert_file = NULL;
			kc->tls.key_file = NULL;
		}
	}
	if (kc->token_file && (!kc->token || now - kc->token_read >= 60)) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_init(&sb, 64 << 10);
		if (strbuf_read_file(&sb, kc->token_file, 64 << 10, e) < 0) {
			kube_strbuf_wipe(&sb);
			return err_wrap(e, "user '%s': tokenFile", kc->user_name);
		}
		while (sb.len && (sb.buf[sb.len - 1] == '\n' || sb.buf[sb.len - 1] == '\r' ||
				  sb.buf[sb.len - 1] == ' '))
			sb.buf[--sb.len] = '\0';
		kube_free_secret(kc->token, 0);
		kc->token = strdup(sb.buf);
		kube_strbuf_wipe(&sb);
		kc->token_read = now;
		kc->cred_gen++;
	}
	return 0;
}

unsigned kube_auth_generation(const struct kube_client *kc)
{
	return kc->cred_gen;
}

int kube_auth_rejected(struct kube_client *kc, unsigned gen)
{
	if (!kc->exec && !kc->token_file)
		return 0;
	if (gen != kc->cred_gen)
		return 1; /* already renewed since that request */
	if (kc->exec)
		kube_cred_clear(&kc->cred);
	else
		kc->token_read = 0;
	return 1;
}

/* "Authorization: Bearer ..." in a wiped buffer; NULL when none. */
static char *kube_auth_header(struct kube_client *kc)
{
	const char *tok = kc->exec && kc->cred.token ? kc->cred.token : kc->token;
	char *h = NULL;

	if (kc->exec && !kc->cred.token)
		tok = NULL;
	if (!tok)
		return NULL;
	if (asprintf(&h, "Authorization: Bearer %s", tok) < 0)
		return NULL;
	return h;
}

static void kube_request_init(struct kube_client *kc, struct http_request *req,
			      const char *url, const char **headers)
{
	memset(req, 0, sizeof(*req));
	req->url = url;
	req->headers = headers;
	req->tls = &kc->tls;
	req->proxy = kc->proxy;
	req->connect_to = kc->connect_to;
	req->share = kc->share;
}

int kube_easy_setup(struct kube_client *kc, CURL *curl, const char *path,
		    long timeout_ms, struct curl_slist **headers, struct err *e)
{
	struct http_request req;
	const char *hdrs[3] = { "Accept: */*", NULL, NULL };
	char *url = NULL, *auth = NULL;
	int ret = -1;

	if (kube_refresh(kc, e) < 0)
		return -1;
	if (asprintf(&url, "%s%s", kc->url_base, path) < 0)
		return err_set(e, "out of memory");
	auth = kube_auth_header(kc);
	hdrs[1] = auth;
	kube_request_init(kc, &req, url, hdrs);
	req.timeout_ms = timeout_ms > 0 ? timeout_ms : -1;
	if (http_easy_setup(curl, &req, headers, e) < 0)
		goto out;
	curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	/* many streams to one server share an HTTP/2 connection */
	curl_easy_setopt(curl, CURLOPT_PIPEWAIT, 1L);
	ret = 0;
out:
	kube_free_secret(auth, 0);
	free(url);
	return ret;
}

static const char *kube_reason(long status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

void kube_status_message(long status, const char *body, size_t len, char *out,
			 size_t outlen)
{
	json_t *doc = body && len ? json_loadb(body, len, 0, NULL) : NULL;
	const char *msg = json_string_value(json_object_get(doc, "message"));
	const char *reason = kube_reason(status);

	if (msg && *msg)
		snprintf(out, outlen, "%ld%s%s: %s", status, *reason ? " " : "",
			 reason, msg);
	else
		snprintf(out, outlen, "%ld%s%s", status, *reason ? " " : "", reason);
	json_decref(doc);
}

int kube_request_json(struct kube_client *kc, const char *method,
		      const char *path, const char *content_type,
		      const char *body, size_t len, json_t **out, long *status,
		      struct err *e)
{
	struct http_response res;
	struct http_request req;
	const char *hdrs[4] = { "Accept: application/json", NULL, NULL, NULL };
	char *url = NULL, *auth = NULL, *ctype = NULL;
	json_error_t jerr;
	int ret = -1;

	if (out)
		*out = NULL;
	if (status)
		*status = 0;
	http_response_init(&res);
	if (asprintf(&url, "%s%s", kc->url_base, path) < 0 ||
	    (content_type && asprintf(&ctype, "Content-Type: %s", content_type) < 0)) {
		free(url);
		return err_set(e, "out of memory");
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		unsigned gen;

		if (kube_refresh(kc, e) < 0)
			goto out;
		gen = kc->cred_gen;
		kube_free_secret(auth, 0);
		auth = kube_auth_header(kc);
		hdrs[1] = auth;
		hdrs[auth ? 2 : 1] = ctype;
		kube_request_init(kc, &req, url, hdrs);
		req.method = method;
		req.body = body;
		req.body_len = len;
		req.max_attempts = 5;
		req.deadline_ms = 60000;
		if (http_do(&req, &res, e) < 0) {
			err_wrap(e, "cannot reach the Kubernetes API at '%s'", kc->server);
			goto out;
		}
		if (res.status != 401 || !kube_auth_rejected(kc, gen))
			break;
		log_debug("kube: 401 from %s, renewing the credential", path);
	}
	if (status)
		*status = res.status;
	if (res.status == 401) {
		err_set(e, "the Kubernetes API at '%s' rejected the credentials of user '%s' "
			"(401 Unauthorized: expired or invalid)", kc->server, kc->user_name);
		goto out;
	}
	if (res.status < 200 || res.status > 299) {
		char msg[1024];

		kube_status_message(res.status, res.body.buf, res.body.len, msg,
				    sizeof(msg));
		err_set(e, "%s", msg);
		goto out;
	}
	if (out && res.body.len) {
		*out = json_loadb(res.body.buf, res.body.len, 0, &jerr);
		if (!*out) {
			err_set(e, "the Kubernetes API sent bad JSON for '%s': %s",
				path, jerr.text);
			goto out;
		}
	}
	ret = 0;
out:
	/* the answer to a Secret write holds its values */
	if (res.body.buf)
		sodium_memzero(res.body.buf, res.body.len);
	kube_free_secret(auth, 0);
	http_response_release(&res);
	free(ctype);
	free(url);
	return ret;
}

int kube_get_json(struct kube_client *kc, const char *path, json_t **out,
		  long *status, struct err *e)
{
	int ret = kube_request_json(kc, NULL, path, NULL, NULL, 0, out, status,
				    e);

	if (ret == 0 && !*out)
		ret = err_set(e, "the Kubernetes API sent an empty answer for '%s'",
			      path);
	return ret;
}
