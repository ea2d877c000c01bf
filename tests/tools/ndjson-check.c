/*
 * ndjson-check FIELD... < FILE: checks with jansson, the library saasctl
 * writes JSON with, that every line of FILE is one JSON object holding
 * each FIELD as a string. Prints the number of lines; exits 1 naming the
 * first line that fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

int main(int argc, char **argv)
{
	char *line = NULL;
	size_t cap = 0, n = 0;
	ssize_t len;

	while ((len = getline(&line, &cap, stdin)) > 0) {
		json_error_t jerr;
		json_t *o;

		n++;
		if (line[len - 1] != '\n') {
			printf("line %zu: not terminated by a newline\n", n);
			return 1;
		}
		o = json_loadb(line, (size_t)len, 0, &jerr);
		if (!o || !json_is_object(o)) {
			printf("line %zu: not a JSON object: %s\n", n,
			       o ? "another value" : jerr.text);
			return 1;
		}
		for (int i = 1; i < argc; i++) {
			if (!json_is_string(json_object_get(o, argv[i]))) {
				printf("line %zu: no string '%s'\n", n, argv[i]);
				return 1;
			}
		}
		json_decref(o);
	}
	free(line);
	printf("%zu\n", n);
	return 0;
}
