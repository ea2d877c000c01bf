/*
 * The backup manifest reader (backup_manifest_parse) on manifests the code
 * wrote (tests/fuzz/corpus/fuzz-manifest/, made by `backup clickhouse`
 * against ClickHouse 26.7) and on damaged ones: each damage is refused
 * with a message that names where it is.
 */
#include <stdlib.h>

#include <jansson.h>

#include "unit.h"
#include "backup.h"

static char *corpus_file(const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	struct err e;
	char path[1024];
	const char *top = getenv("TOP");

	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/fuzz-manifest/%s",
		 top ? top : ".", name);
	strbuf_init(&sb, 0);
	if (strbuf_read_file(&sb, path, 0, &e) < 0)
		printf("# %s\n", e.msg);
	return strbuf_detach(&sb, NULL);
}

/* The manifest text with one member of one object replaced (or removed:
 * value NULL), at the JSON pointer-like place "tables/0/partitions/0". */
static char *damage(const char *text, const char *where, const char *key,
		    json_t *value)
{
	json_t *m = json_loads(text, 0, NULL), *o = m;
	char *s, *w = strdup(where), *tok, *save = NULL;

	for (tok = strtok_r(w, "/", &save); tok; tok = strtok_r(NULL, "/", &save))
		o = json_is_array(o) ? json_array_get(o, (size_t)atoi(tok))
				     : json_object_get(o, tok);
	if (value)
		json_object_set_new(o, key, value);
	else
		json_object_del(o, key);
	s = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	free(w);
	return s;
}

static void test_real(void)
{
	static const char *files[] = {
		"full-plain.json", "incremental-plain.json",
		"full-encrypted-two-recipients.json", "incremental-encrypted.json",
		"format-1.json",
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *text = corpus_file(files[i]), name[200];
		json_t *m = NULL;
		struct err e = { "" };
		int r = backup_manifest_parse(&m, text, strlen(text), &e);

		snprintf(name, sizeof(name), "a manifest the code wrote reads: %s", files[i]);
		CHECK(r == 0 && json_array_size(json_object_get(m, "tables")) == 6, name);
		if (r < 0)
			printf("# %s\n", e.msg);
		json_decref(m);
		free(text);
	}
	{
		/* two shards, each with its own tables (format 3) */
		char *text = corpus_file("sharded-two-shards.json");
		json_t *m = NULL, *sh;
		struct err e = { "" };
		int r = backup_manifest_parse(&m, text, strlen(text), &e);

		sh = json_object_get(m, "shards");
		CHECK(r == 0 && json_array_size(sh) == 2 &&
		      json_array_size(json_object_get(json_array_get(sh, 1), "tables")) > 0,
		      "a sharded manifest the code wrote reads");
		if (r < 0)
			printf("# %s\n", e.msg);
		json_decref(m);
		/* a shard's table is checked as a table is */
		m = NULL;
		{
			char *bad = strdup(text), *p = strstr(bad, "\"engine\"");

			if (p)
				memcpy(p, "\"engin_\"", 8);
			r = backup_manifest_parse(&m, bad, strlen(bad), &e);
			CHECK(r < 0 && strstr(e.msg, "shards[0].tables[") &&
			      strstr(e.msg, "has no 'engine'"),
			      "a shard's table without its engine is named by its place");
			json_decref(m);
			free(bad);
		}
		free(text);
	}
}

static void test_damaged(void)
{
	char *text = corpus_file("incremental-encrypted.json");
	static const char hash0[] = "0000000000000000000000000000000000000000000000000000000000000000";
	const struct {
		const char *where, *key;
		json_t *value;
		const char *msg;
	} cases[] = {
		{ "", "format", json_string("saasctl-backup/5"),
		  "'format' is not saasctl-backup/1, /2, /3 or /4" },
		{ "", "time", json_string("yesterday"),
		  "'time' is not an RFC 3339 time" },
		{ "", "time", NULL, "'time' is not an RFC 3339 time" },
		{ "", "tables", json_object(), "'tables' is not a list" },
		{ "", "objects", NULL, "'objects' is not a list" },
		{ "", "rows", json_integer(-1), "the manifest: 'rows' is not a count" },
		{ "", "base", json_string("../etc"), "'base' is not a backup ID" },
		{ "", "bases", json_pack("{s:n}", "a/b"),
		  "bases['a/b'] does not name a backup ID" },
		{ "", "bases", json_string("x"), "'bases' is not an object" },
		{ "", "encryption", json_pack("{s:s}", "recipients", "all"),
		  "'encryption' has no 'recipients' list" },
		{ "encryption/recipients/1", "data_key", json_integer(1),
		  "'encryption'.recipients[1]: 'data_key' is not a string" },
		{ "tables/2", "name", NULL, "tables[2] has no 'name'" },
		{ "tables/2", "name", json_string(""),
		  "tables[2] has an empty database or table name" },
		{ "tables/2", "database", json_array(),
		  "tables[2]: 'database' is not a string" },
		{ "tables/2", "schema", json_string("schema/../../x.sql"),
		  "tables[2]: 'schema': object key 'schema/../../x.sql' has an empty, '.' or '..' component" },
		{ "tables/2", "inner_of", json_true(),
		  "tables[2]: 'inner_of' is not a string" },
		{ "tables/2", "partitions", json_object(),
		  "tables[2]: 'partitions' is not a list" },
		{ "tables/2/partitions/1", "rows", json_string("12x"),
		  "tables[2].partitions[1]: 'rows' is not a count" },
		{ "tables/2/partitions/1", "checksum", json_real(1.5),
		  "tables[2].partitions[1]: 'checksum' is not a count" },
		{ "tables/2/partitions/1", "object", json_string("data/x"),
		  "tables[2].partitions[1].object is not an object" },
		{ "tables/2/partitions/1/object", "backup", json_string(".."),
		  "tables[2].partitions[1].object: 'backup' is not a backup ID" },
		{ "objects/0", "key", json_string("/etc/passwd"),
		  "objects[0]: 'key': object key '/etc/passwd' starts with '/'" },
		{ "objects/0", "size", json_string("12"),
		  "objects[0]: 'size' is not a count" },
		{ "objects/0", "blake2b", json_string("abc"),
		  "objects[0]: 'blake2b' is not 64 hex digits" },
		{ "objects/0", "blake2b", NULL, "objects[0] has no 'blake2b'" },
		{ "objects/3", "backup", json_string("a/b"),
		  "objects[3]: 'backup' is not a backup ID" },
	};
	json_t *m = NULL;
	struct err e = { "" };
	char *s;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[300];

		s = damage(text, cases[i].where, cases[i].key, cases[i].value);
		e.msg[0] = '\0';
		snprintf(name, sizeof(name), "refused, and says why: %s", cases[i].msg);
		CHECK(backup_manifest_parse(&m, s, strlen(s), &e) < 0 && !m, name);
		CHECK_STR(e.msg, cases[i].msg, "the message names the place");
		free(s);
	}
	/* what the writer never writes but a reader may meet, and takes */
	s = damage(text, "objects/0", "blake2b", json_string(hash0));
	CHECK(backup_manifest_parse(&m, s, strlen(s), &e) == 0, "any 64 hex digits");
	json_decref(m);
	free(s);
	s = damage(text, "tables/2/partitions/0", "rows", json_string("18446744073709551615"));
	CHECK(backup_manifest_parse(&m, s, strlen(s), &e) == 0, "rows as a decimal string");
	json_decref(m);
	free(s);

	CHECK(backup_manifest_parse(&m, "{\"format\": 1", 12, &e) < 0 &&
	      !strncmp(e.msg, "not JSON: ", 10), "not JSON");
	CHECK(backup_manifest_parse(&m, "[]", 2, &e) < 0, "not an object");
	CHECK_STR(e.msg, "not a JSON object", "says so");
	s = strdup("{\"format\": \"saasctl-backup/2\", \"format\": \"saasctl-backup/2\"}");
	CHECK(backup_manifest_parse(&m, s, strlen(s), &e) < 0 &&
	      strstr(e.msg, "duplicate"), "a member given twice is refused");
	free(s);
	free(text);
}

int main(void)
{
	test_real();
	test_damaged();
	return UNIT_DONE();
}
