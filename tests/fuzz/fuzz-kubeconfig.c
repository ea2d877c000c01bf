/*
 * kubeconfig: loading one (as --kubeconfig FILE) never crashes, whatever
 * it holds; nothing is contacted and no exec plugin runs before the first
 * request, which this harness never makes. The input also goes through
 * the RFC 3339 time parser and the API error message reader.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kube.h"

static char dir[] = "/tmp/saasctl-fuzz-kube.XXXXXX";
static char path[4096];

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/config", dir);
	atexit(cleanup);
	/* Only the given file is read: no $KUBECONFIG, no ~/.kube/config. */
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	setenv("HOME", dir, 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kube_options o = { path, NULL };
	struct kube_client *kc = NULL;
	struct err e;
	FILE *f = fopen(path, "wb");
	char *s = malloc(size + 1);
	char msg[512];
	long long sec;
	long nsec;

	if (!f || !s || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	if (kube_client_new(&kc, &o, &e) == 0) {
		kube_namespace(kc);
		kube_context_name(kc);
		kube_server(kc);
		kube_client_free(kc);
	}
	memcpy(s, data, size);
	s[size] = '\0';
	kube_parse_time(s, &sec, &nsec);
	kube_status_message(403, s, size, msg, sizeof(msg));
	free(s);
	return 0;
}
