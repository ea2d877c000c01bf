/* Unit tests of src/secret and src/kubesecret: rendering an opened
 * Secret, picking a key by ID, and the keyed hashes that tell an
 * up-to-date Secret without comparing plaintext. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keys.h"
#include "kubesecret.h"
#include "sealed.h"
#include "secret.h"
#include "unit.h"

static void plain_init(struct sealed_plain *p, const char *value)
{
	memset(p, 0, sizeof(*p));
	p->name = strdup("db");
	p->namespace = strdup("prod");
	p->type = strdup("Opaque");
	sealed_plain_set(p, "URL", 3, value, strlen(value));
	sealed_plain_set(p, "A_KEY", 5, "it's", 4);
}

int main(void)
{
	struct keys_secret *k1 = NULL, *k2 = NULL, *k3 = NULL;
	struct sealed_plain p, q;
	struct sealed_secret s = { 0 };
	struct strbuf out = STRBUF_INIT, h1 = STRBUF_INIT, h2 = STRBUF_INIT,
		h3 = STRBUF_INIT, h4 = STRBUF_INIT;
	struct kubesecret_owner owner = { "db", "uid-1" };
	struct err e = { "" };
	json_t *j;

	CHECK(keys_init(&e) == 0, "libsodium starts");
	keys_generate(&k1, &e);
	keys_generate(&k2, &e);
	keys_generate(&k3, &e);

	plain_init(&p, "postgres://u:p@h/db");
	secret_yaml(&out, &p);
	CHECK_STR(out.buf, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n"
		  "  namespace: prod\ntype: Opaque\ndata:\n  A_KEY: aXQncw==\n"
		  "  URL: cG9zdGdyZXM6Ly91OnBAaC9kYg==\n",
		  "secret_yaml renders sorted items in base64");
	strbuf_reset(&out);
	CHECK(secret_env(&out, &p, &e) == 0, "secret_env renders env lines");
	CHECK_STR(out.buf, "A_KEY='it'\\''s'\nURL=postgres://u:p@h/db\n",
		  "a value that needs quoting is one shell word");
	j = secret_json(&p);
	CHECK_STR(json_string_value(json_object_get(json_object_get(j, "data"), "URL")),
		  "cG9zdGdyZXM6Ly91OnBAaC9kYg==", "secret_json holds the data in base64");
	json_decref(j);

	/* the key is picked by ID, never by trial */
	s.name = strdup("db");
	s.recipients = calloc(2, sizeof(char *));
	s.recipients[0] = strdup(k2->pub.id_hex);
	s.nrecipients = 1;
	{
		struct keys_secret *both[] = { k1, k2 };

		CHECK(secret_pick_key(&s, both, 2, &e) == k2,
		      "secret_pick_key picks the recipient's key");
		CHECK(secret_pick_key(&s, both, 1, &e) == NULL &&
		      strstr(e.msg, k2->pub.id_hex) != NULL,
		      "without it, the message names the recipient's key ID");
	}

	/* keyed hashes */
	kubesecret_hash(&h1, &p, "prod", k1, NULL);
	kubesecret_hash(&h2, &p, "prod", k1, NULL);
	CHECK_STR(h1.buf, h2.buf, "the hash of the same Secret is stable");
	CHECK(!strstr(h1.buf, "postgres"), "the hash holds no value");
	plain_init(&q, "postgres://u:p2@h/db");
	kubesecret_hash(&h3, &q, "prod", k1, NULL);
	j = json_loads(h1.buf, 0, NULL);
	{
		json_t *j3 = json_loads(h3.buf, 0, NULL);

		CHECK(!json_equal(json_object_get(json_object_get(j, "items"), "URL"),
				  json_object_get(json_object_get(j3, "items"), "URL")),
		      "a changed value changes its item's hash");
		CHECK(json_equal(json_object_get(json_object_get(j, "items"), "A_KEY"),
				 json_object_get(json_object_get(j3, "items"), "A_KEY")),
		      "and only that item's");
		json_decref(j3);
	}
	json_decref(j);
	kubesecret_hash(&h4, &p, "prod", k3, NULL);
	CHECK(strcmp(h1.buf, h4.buf) != 0, "another key gives other hashes");
	strbuf_reset(&h4);
	kubesecret_hash(&h4, &p, "prod", k1, &owner);
	CHECK(strcmp(h1.buf, h4.buf) != 0, "the owner is part of the metadata hash");

	sealed_plain_release(&p);
	sealed_plain_release(&q);
	sealed_secret_release(&s);
	strbuf_release(&out);
	strbuf_release(&h1);
	strbuf_release(&h2);
	strbuf_release(&h3);
	strbuf_release(&h4);
	keys_secret_free(k1);
	keys_secret_free(k2);
	keys_secret_free(k3);
	return UNIT_DONE();
}
