/* Unit tests of src/keys and src/sealed: key files, the item format, the
 * SealedSecret document. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "keys.h"
#include "monorepo.h"
#include "sealed.h"
#include "yamltree.h"
#include "unit.h"

static char tmpdir[] = "/tmp/saasctl-unit-sealed.XXXXXX";

static char *path_in(const char *name)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
	return buf;
}

static int seal_one(struct strbuf *out, const struct sealed_binding *b,
		    const char *value, const struct keys_public *r, size_t n)
{
	struct err e = { "" };

	strbuf_reset(out);
	return sealed_item_seal(out, b, (const unsigned char *)value,
				strlen(value), r, n, &e);
}

/* Open b64 with k under b; returns 0 and compares with want. */
static int open_one(const char *b64, const struct sealed_binding *b,
		    const struct keys_secret *k, const char *want,
		    struct err *e)
{
	struct sealed_item it;
	unsigned char *v = NULL;
	size_t len = 0;
	int r;

	err_clear(e);
	if (sealed_item_decode(&it, b64, strlen(b64), e) < 0)
		return -1;
	r = sealed_item_open(&it, b, k, &v, &len, e);
	if (r == 0 && want && (len != strlen(want) || memcmp(v, want, len)))
		r = -2;
	sealed_value_free(v, len);
	sealed_item_release(&it);
	return r;
}

static void test_keys(void)
{
	struct keys_secret *k = NULL, *k2 = NULL;
	struct keys_public pub;
	struct strbuf line = STRBUF_INIT;
	struct err e = { "" };
	struct stat st;
	FILE *f;

	CHECK(keys_generate(&k, &e) == 0, "generate a key pair");
	CHECK(strlen(k->pub.id_hex) == 16, "key ID is 16 hex digits");
	keys_public_format(&line, &k->pub, "cluster");
	CHECK(!strncmp(line.buf, "x25519 ", 7), ".pub line starts with the tag");
	CHECK(keys_public_parse(&pub, line.buf, line.len, "x.pub", &e) == 0,
	      ".pub line parses back");
	CHECK(!memcmp(pub.pk, k->pub.pk, 32), ".pub line keeps the key");

	/* A key ID that does not match its key is damage, not a new key. */
	line.buf[7] = line.buf[7] == '0' ? '1' : '0';
	CHECK(keys_public_parse(&pub, line.buf, line.len, "x.pub", &e) < 0 &&
	      strstr(e.msg, "does not match"), "a wrong key ID in .pub is refused");
	CHECK(keys_public_parse(&pub, "ssh-ed25519 AAAA", 16, "x.pub", &e) < 0 &&
	      strstr(e.msg, "not a saasctl public key"), "a foreign .pub is refused");

	CHECK(keys_write_pair(k, tmpdir, "plain", NULL, 0, &e) == 0,
	      "write a plain key pair");
	CHECK(stat(path_in("plain.key"), &st) == 0 && (st.st_mode & 0777) == 0600,
	      ".key is mode 0600");
	CHECK(keys_write_pair(k, tmpdir, "plain", NULL, 0, &e) < 0 &&
	      strstr(e.msg, "exists"), "an existing key pair is not overwritten");
	CHECK(keys_secret_load(&k2, path_in("plain.key"), &e) == 0 &&
	      !memcmp(k2->sk, k->sk, 32), "a plain key loads");
	keys_secret_free(k2);
	k2 = NULL;
	CHECK(keys_public_load(&pub, path_in("plain.pub"), &e) == 0 &&
	      !strcmp(pub.id_hex, k->pub.id_hex), "the .pub loads");

	chmod(path_in("plain.key"), 0644);
	CHECK(keys_secret_load(&k2, path_in("plain.key"), &e) < 0 &&
	      strstr(e.msg, "refusing") && strstr(e.msg, "0644"),
	      "a 0644 key is refused");
	chmod(path_in("plain.key"), 0600);
	CHECK(keys_secret_load(&k2, path_in("plain.pub"), &e) < 0,
	      "a .pub given as secret key is refused");

	/* Passphrase-protected keys. */
	f = fopen(path_in("pass"), "w");
	fputs("correct horse\n", f);
	fclose(f);
	chmod(path_in("pass"), 0600);
	setenv("SAASCTL_PASSPHRASE_FILE", path_in("pass"), 1);
	CHECK(keys_write_pair(k, tmpdir, "locked", "correct horse", 13, &e) == 0,
	      "write a passphrase-protected key");
	CHECK(keys_secret_load(&k2, path_in("locked.key"), &e) == 0 &&
	      !memcmp(k2->sk, k->sk, 32), "the right passphrase opens it");
	keys_secret_free(k2);
	k2 = NULL;
	f = fopen(path_in("pass"), "w");
	fputs("wrong horse\n", f);
	fclose(f);
	CHECK(keys_secret_load(&k2, path_in("locked.key"), &e) < 0 &&
	      strstr(e.msg, "wrong passphrase"), "a wrong passphrase is refused");
	unsetenv("SAASCTL_PASSPHRASE_FILE");

	strbuf_release(&line);
	keys_secret_free(k);
}

static void test_aad(void)
{
	struct strbuf aad = STRBUF_INIT;
	struct sealed_binding b = { SEALED_STRICT, "web", "app", "K", 1 };
	static const char want[] =
		"\x01" "\0\0\0\x06" "strict" "\0\0\0\x03" "web"
		"\0\0\0\x03" "app" "\0\0\0\x01" "K";

	sealed_aad(&aad, &b);
	CHECK(aad.len == sizeof(want) - 1 && !memcmp(aad.buf, want, aad.len),
	      "AAD is version then length-prefixed scope/namespace/name/key");
	strbuf_reset(&aad);
	b.scope = SEALED_CLUSTER;
	sealed_aad(&aad, &b);
	CHECK(aad.len == 1 + 4 + 7 + 4 + 4 + 4 + 1,
	      "cluster scope leaves namespace and name empty");
	strbuf_release(&aad);
}

static void test_items(void)
{
	struct keys_secret *k[3] = { NULL, NULL, NULL }, *other = NULL;
	struct keys_public pubs[3];
	struct strbuf b64 = STRBUF_INIT, re = STRBUF_INIT;
	struct sealed_binding b = { SEALED_STRICT, "web", "app", "DB", 2 };
	struct sealed_binding moved;
	struct sealed_item it;
	struct err e = { "" };
	int all;

	for (int i = 0; i < 3; i++) {
		keys_generate(&k[i], &e);
		pubs[i] = k[i]->pub;
	}
	keys_generate(&other, &e);

	CHECK(seal_one(&b64, &b, "s3cret", pubs, 1) == 0, "seal to 1 recipient");
	CHECK(open_one(b64.buf, &b, k[0], "s3cret", &e) == 0, "open with its key");
	CHECK(b64.buf[0] == 'A', "item starts with version 1");

	CHECK(seal_one(&b64, &b, "s3cret", pubs, 3) == 0, "seal to 3 recipients");
	all = 1;
	for (int i = 0; i < 3; i++)
		all &= open_one(b64.buf, &b, k[i], "s3cret", &e) == 0;
	CHECK(all, "each of 3 recipients opens it");

	CHECK(open_one(b64.buf, &b, other, NULL, &e) < 0 &&
	      strstr(e.msg, other->pub.id_hex) && strstr(e.msg, pubs[0].id_hex) &&
	      strstr(e.msg, pubs[2].id_hex),
	      "an unknown key names its ID and the IDs present");

	moved = b;
	moved.name = "other";
	CHECK(open_one(b64.buf, &moved, k[0], NULL, &e) < 0 &&
	      strstr(e.msg, "moved"), "moved to another name fails");
	moved = b;
	moved.namespace = "prod";
	CHECK(open_one(b64.buf, &moved, k[0], NULL, &e) < 0, "moved to another namespace fails");
	moved = b;
	moved.key = "DC";
	CHECK(open_one(b64.buf, &moved, k[0], NULL, &e) < 0, "moved to another item key fails");
	moved = b;
	moved.scope = SEALED_NAMESPACE;
	CHECK(open_one(b64.buf, &moved, k[0], NULL, &e) < 0, "another scope fails");

	/* Namespace scope: any name in the namespace, not another one. */
	b.scope = SEALED_NAMESPACE;
	seal_one(&b64, &b, "ns-wide", pubs, 1);
	moved = b;
	moved.name = "renamed";
	CHECK(open_one(b64.buf, &moved, k[0], "ns-wide", &e) == 0,
	      "namespace scope opens under another name");
	moved.namespace = "prod";
	CHECK(open_one(b64.buf, &moved, k[0], NULL, &e) < 0,
	      "namespace scope fails in another namespace");
	b.scope = SEALED_CLUSTER;
	seal_one(&b64, &b, "anywhere", pubs, 1);
	moved = b;
	moved.namespace = "prod";
	moved.name = "x";
	CHECK(open_one(b64.buf, &moved, k[0], "anywhere", &e) == 0,
	      "cluster scope opens anywhere");
	b.scope = SEALED_STRICT;

	/* Flip every byte of the decoded item in turn: none may open. */
	seal_one(&b64, &b, "tamper me", pubs, 2);
	sealed_item_decode(&it, b64.buf, b64.len, &e);
	all = 1;
	for (size_t i = 0; i < it.len; i++) {
		struct strbuf t = STRBUF_INIT;
		unsigned char *copy = malloc(it.len);
		char *enc = malloc(it.len * 2 + 8);

		memcpy(copy, it.blob, it.len);
		copy[i] ^= 0x01;
		sodium_bin2base64(enc, it.len * 2 + 8, copy, it.len,
				  sodium_base64_VARIANT_ORIGINAL);
		/* A flipped key ID byte makes the wrap unfindable for
		 * one key; the other recipient must still fail or not
		 * be affected, so check both keys. */
		if (open_one(enc, &b, k[0], NULL, &e) == 0 &&
		    open_one(enc, &b, k[1], NULL, &e) == 0)
			all = 0;
		if (i >= SEALED_HEADER_BYTES + 2 * SEALED_WRAP_BYTES &&
		    (open_one(enc, &b, k[0], NULL, &e) == 0 ||
		     open_one(enc, &b, k[1], NULL, &e) == 0))
			all = 0;
		strbuf_release(&t);
		free(copy);
		free(enc);
	}
	CHECK(all, "a flipped byte anywhere makes the item fail");
	/* Truncations. */
	all = 1;
	for (size_t cut = 0; cut < it.len; cut += 7) {
		char *enc = malloc(it.len * 2 + 8);

		sodium_bin2base64(enc, it.len * 2 + 8, it.blob, cut,
				  sodium_base64_VARIANT_ORIGINAL);
		if (open_one(enc, &b, k[0], NULL, &e) == 0)
			all = 0;
		free(enc);
	}
	CHECK(all, "a truncated item fails");
	CHECK(open_one("AQAB", &b, k[0], NULL, &e) < 0 && strstr(e.msg, "truncated"),
	      "a short item says truncated");
	CHECK(open_one("Ag==", &b, k[0], NULL, &e) < 0 && strstr(e.msg, "version 2"),
	      "an unknown version is named");
	CHECK(open_one("!!!", &b, k[0], NULL, &e) < 0 && strstr(e.msg, "base64"),
	      "bad base64 is named");

	/* Rewrap: add a recipient, keep the value ciphertext. */
	CHECK(sealed_item_rewrap(&re, &it, &b, k[0], pubs, 3, &e) == 0,
	      "rewrap for 3 recipients");
	CHECK(open_one(re.buf, &b, k[2], "tamper me", &e) == 0,
	      "the added recipient opens the rewrapped item");
	{
		struct sealed_item it2;

		sealed_item_decode(&it2, re.buf, re.len, &e);
		CHECK(it2.ct_len == it.ct_len && !memcmp(it2.ct, it.ct, it.ct_len) &&
		      !memcmp(it2.nonce, it.nonce, SEALED_NONCE_BYTES),
		      "rewrap keeps nonce and value ciphertext");
		sealed_item_release(&it2);
	}
	CHECK(sealed_item_rewrap(&re, &it, &b, other, pubs, 3, &e) < 0,
	      "rewrap needs a key the item is sealed to");
	sealed_item_release(&it);

	/* Binary, empty and large values. */
	{
		size_t big = 1024 * 1024;
		unsigned char *v = malloc(big), *got = NULL;
		size_t len = 0;

		for (size_t i = 0; i < big; i++)
			v[i] = (unsigned char)(i * 31 + 7);
		strbuf_reset(&b64);
		CHECK(sealed_item_seal(&b64, &b, v, big, pubs, 2, &e) == 0,
		      "seal 1 MiB of binary");
		sealed_item_decode(&it, b64.buf, b64.len, &e);
		CHECK(sealed_item_open(&it, &b, k[1], &got, &len, &e) == 0 &&
		      len == big && !memcmp(got, v, big), "open 1 MiB of binary");
		sealed_value_free(got, len);
		sealed_item_release(&it);
		strbuf_reset(&b64);
		sealed_item_seal(&b64, &b, v, 0, pubs, 1, &e);
		CHECK(open_one(b64.buf, &b, k[0], "", &e) == 0, "an empty value round-trips");
		free(v);
	}
	{
		struct keys_public dup[2] = { pubs[0], pubs[0] };

		CHECK(seal_one(&b64, &b, "x", dup, 2) < 0, "a recipient listed twice is refused");
	}

	strbuf_release(&b64);
	strbuf_release(&re);
	for (int i = 0; i < 3; i++)
		keys_secret_free(k[i]);
	keys_secret_free(other);
}

static void test_document(void)
{
	struct sealed_secret s = { 0 }, back;
	struct strbuf y = STRBUF_INIT, y2 = STRBUF_INIT;
	struct yamltree *t = NULL;
	struct keys_secret *k = NULL;
	struct err e = { "" };

	keys_generate(&k, &e);
	s.name = strdup("app");
	s.namespace = strdup("web");
	s.scope = SEALED_STRICT;
	sealed_secret_set_item(&s, "ZED", 3, "AQzz", 4);
	sealed_secret_set_item(&s, "A", 1, "AQaa", 4);
	sealed_secret_set_item(&s, "mot-de-passe-\xc3\xa9t\xc3\xa9", 18, "AQbb", 4);
	sealed_secret_set_item(&s, "yes", 3, "AQcc", 4);
	sealed_secret_set_recipients(&s, &k->pub, 1);
	sealed_secret_emit(&y, &s);
	CHECK(strstr(y.buf, "    A: AQaa\n    ZED: AQzz\n") != NULL, "items are sorted");
	CHECK(strstr(y.buf, "\"yes\": AQcc") != NULL, "a YAML-1.1 boolean key is quoted");
	CHECK(strstr(y.buf, "apiVersion: saasctl.dev/v1\nkind: SealedSecret\n") == y.buf,
	      "the document starts with apiVersion and kind");
	CHECK(yamltree_parse_text(&t, "mem.yaml", y.buf, y.len, NULL, &e) == 0,
	      "the output parses as YAML");
	if (!t || !t->ndocs) printf("# %s\n%s", e.msg, y.buf);
	CHECK(t && t->ndocs == 1 &&
	      sealed_secret_from_node(&back, t->docs[0].root, "mem.yaml", &e) == 0,
	      "the output reads back as a SealedSecret");
	if (t && t->ndocs == 1 && back.name) {
		sealed_secret_emit(&y2, &back);
		CHECK(y.len == y2.len && !memcmp(y.buf, y2.buf, y.len),
		      "read and emit again is byte-identical");
		CHECK(back.nitems == 4, "4 items read back");
		sealed_secret_release(&back);
	}
	yamltree_free(t);
	t = NULL;
	{
		const char bad[] = "apiVersion: saasctl.dev/v1\nkind: SealedSecret\n"
				   "metadata: {name: x}\nspec: {encryptedData: {}}\n";

		yamltree_parse_text(&t, "bad.yaml", bad, sizeof(bad) - 1, NULL, &e);
		CHECK(sealed_secret_from_node(&back, t->docs[0].root, "bad.yaml", &e) < 0 &&
		      strstr(e.msg, "namespace"), "strict scope needs a namespace");
		yamltree_free(t);
	}
	sealed_secret_release(&s);
	strbuf_release(&y);
	strbuf_release(&y2);
	keys_secret_free(k);
}


/* The lint rule: recipients of saasctl.yaml missing from a SealedSecret. */
static void test_lint_hook(void)
{
	struct keys_secret *c = NULL, *r = NULL;
	struct monorepo *repo = NULL;
	struct sealed_secret s = { 0 };
	struct strbuf y = STRBUF_INIT, item = STRBUF_INIT, msg = STRBUF_INIT;
	struct sealed_binding b = { SEALED_STRICT, "web", "app", "K", 1 };
	struct yamltree *t = NULL;
	struct err e = { "" };
	char dir[600];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/repo", tmpdir);
	mkdir(dir, 0755);
	keys_generate(&c, &e);
	keys_generate(&r, &e);
	keys_write_pair(c, dir, "cluster", NULL, 0, &e);
	keys_write_pair(r, dir, "recovery", NULL, 0, &e);
	snprintf(dir, sizeof(dir), "%s/repo/saasctl.yaml", tmpdir);
	f = fopen(dir, "w");
	fputs("project: acme\nsecrets: {recipients: [cluster.pub, recovery.pub]}\n", f);
	fclose(f);
	snprintf(dir, sizeof(dir), "%s/repo", tmpdir);
	CHECK(monorepo_open(&repo, dir, &e) == 0, "open the test monorepo");

	s.name = strdup("app");
	s.namespace = strdup("web");
	sealed_item_seal(&item, &b, (const unsigned char *)"v", 1, &c->pub, 1, &e);
	sealed_secret_set_item(&s, "K", 1, item.buf, item.len);
	sealed_secret_set_recipients(&s, &c->pub, 1);
	sealed_secret_emit(&y, &s);
	yamltree_parse_text(&t, "x.yaml", y.buf, y.len, NULL, &e);
	CHECK(sealed_check_recipients(repo, t->docs[0].root, &msg, &e) == 1,
	      "a SealedSecret without the recovery key is a finding");
	CHECK(strstr(msg.buf, "recipients lack 'recovery.pub' (key ID ") &&
	      strstr(msg.buf, r->pub.id_hex), "the finding names the missing key file and ID");
	yamltree_free(t);
	t = NULL;

	{
		struct keys_public both[2] = { c->pub, r->pub };

		strbuf_reset(&item);
		strbuf_reset(&y);
		strbuf_reset(&msg);
		sealed_item_seal(&item, &b, (const unsigned char *)"v", 1, both, 2, &e);
		sealed_secret_set_item(&s, "K", 1, item.buf, item.len);
		sealed_secret_set_recipients(&s, both, 2);
		sealed_secret_emit(&y, &s);
		yamltree_parse_text(&t, "x.yaml", y.buf, y.len, NULL, &e);
		CHECK(sealed_check_recipients(repo, t->docs[0].root, &msg, &e) == 0 &&
		      msg.len == 0, "a SealedSecret with every recipient passes");
		yamltree_free(t);
	}
	sealed_secret_release(&s);
	strbuf_release(&y);
	strbuf_release(&item);
	strbuf_release(&msg);
	monorepo_free(repo);
	keys_secret_free(c);
	keys_secret_free(r);
}

int main(void)
{
	char cmd[128];

	if (!mkdtemp(tmpdir))
		return 1;
	test_keys();
	test_aad();
	test_items();
	test_document();
	test_lint_hook();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		return 1;
	return UNIT_DONE();
}
