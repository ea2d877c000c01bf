/*
 * Sealed secrets: the item format and the SealedSecret document.
 *  - The input as one item's base64: decoding never crashes, and a
 *    decoded item is opened with a fixed test key (a wrap for it fails
 *    closed unless the seal is right).
 *  - The input as YAML: every SealedSecret document is read; one that
 *    reads is emitted, and the emitted text reads back and emits to the
 *    same bytes; its items are decoded and opened with the test key.
 *    A plain Secret document is read as seal reads it.
 * The test key is fixed (FUZZ_SK below) so that seeds sealed to it reach
 * the code after the key-ID match; tests/fuzz/README says how to make one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keys.h"
#include "sealed.h"
#include "yamltree.h"

static struct keys_secret *test_key;

/* The secret key is 32 bytes of 0x5a: a test key, public on purpose. */
static void make_test_key(void)
{
	unsigned char pk[KEYS_PUBLIC_BYTES];
	struct err e;

	if (keys_init(&e) < 0)
		abort();
	test_key = calloc(1, sizeof(*test_key));
	if (!test_key || !(test_key->sk = sodium_malloc(KEYS_SECRET_BYTES)))
		abort();
	memset(test_key->sk, 0x5a, KEYS_SECRET_BYTES);
	crypto_scalarmult_base(pk, test_key->sk);
	keys_public_set(&test_key->pub, pk);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	make_test_key();
	return 0;
}

static void open_item(const char *b64, size_t len,
		      const struct sealed_binding *b)
{
	struct sealed_item it;
	unsigned char *value = NULL;
	size_t vlen = 0;
	struct err e;

	if (sealed_item_decode(&it, b64, len, &e) < 0)
		return;
	for (size_t i = 0; i < it.nwraps; i++) {
		char hex[KEYS_ID_HEX];

		sealed_item_wrap_id(&it, i, hex);
	}
	if (sealed_item_open(&it, b, test_key, &value, &vlen, &e) == 0)
		sealed_value_free(value, vlen);
	sealed_item_release(&it);
}

static void check_secret(const struct ynode *root)
{
	struct sealed_secret s, again;
	struct strbuf out = STRBUF_INIT, out2 = STRBUF_INIT;
	struct yamltree *t2 = NULL;
	struct sealed_plain plain;
	struct err e;
	char label[512];

	if (sealed_secret_from_node(&s, root, "fuzz.yaml", &e) < 0)
		return;
	sealed_secret_label(&s, label, sizeof(label));
	for (size_t i = 0; i < s.nitems; i++) {
		struct sealed_binding b;

		sealed_secret_binding(&s, s.items[i].key, &b);
		open_item(s.items[i].value, s.items[i].value_len, &b);
	}
	memset(&plain, 0, sizeof(plain));
	if (sealed_secret_open(&s, test_key, &plain, &e) == 0)
		sealed_plain_release(&plain);
	if (sealed_secret_emit(&out, &s) < 0)
		abort();
	if (yamltree_parse_text(&t2, "emitted.yaml", out.buf, out.len, NULL, &e) < 0 ||
	    t2->ndocs != 1 || !t2->docs[0].root) {
		fprintf(stderr, "emitted SealedSecret does not parse: %s\n%s\n",
			e.msg, out.buf);
		abort();
	}
	if (sealed_secret_from_node(&again, t2->docs[0].root, "emitted.yaml", &e) < 0) {
		fprintf(stderr, "emitted SealedSecret does not read back: %s\n%s\n",
			e.msg, out.buf);
		abort();
	}
	if (sealed_secret_emit(&out2, &again) < 0 || out.len != out2.len ||
	    memcmp(out.buf, out2.buf, out.len)) {
		fprintf(stderr, "emitting twice differs:\n%s\n---\n%s\n", out.buf,
			out2.buf);
		abort();
	}
	sealed_secret_release(&again);
	yamltree_free(t2);
	strbuf_release(&out);
	strbuf_release(&out2);
	sealed_secret_release(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sealed_binding b = { SEALED_STRICT, "ns", "name", "KEY", 3 };
	struct yamltree *t = NULL;
	struct err e;
	char *text = malloc(size + 1);

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	open_item(text, size, &b);
	free(text);

	if (yamltree_parse_text(&t, "fuzz.yaml", (const char *)data, size,
				NULL, &e) < 0) {
		yamltree_free(t);
		return 0;
	}
	for (size_t d = 0; d < t->ndocs; d++) {
		const struct ynode *root = t->docs[d].root;
		const char *kind = ynode_str(root, "kind");

		if (!root)
			continue;
		if (sealed_is_sealed_secret(root)) {
			check_secret(root);
		} else if (kind && !strcmp(kind, "Secret")) {
			struct sealed_plain p;

			memset(&p, 0, sizeof(p));
			if (sealed_plain_from_node(&p, root, "fuzz.yaml", &e) == 0)
				sealed_plain_release(&p);
		}
	}
	yamltree_free(t);
	return 0;
}
