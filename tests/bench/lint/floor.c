/*
 * The floor of the lint benchmark: walk manifests/apps/ of a monorepo and
 * pull every libyaml parse event of every YAML file, building nothing.
 * Anything saasctl does on top of this is its own cost.
 */
#define _GNU_SOURCE 1
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

static unsigned long events, files;

static int parse(const char *path, const struct stat *st, int flag,
		 struct FTW *ftw)
{
	size_t n = strlen(path);
	yaml_parser_t p;
	yaml_event_t ev;
	FILE *f;
	int done = 0;

	(void)st; (void)ftw;
	if (flag != FTW_F || n < 5 || strcmp(path + n - 5, ".yaml"))
		return 0;
	f = fopen(path, "rb");
	if (!f)
		return 0;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev))
			break;
		done = ev.type == YAML_STREAM_END_EVENT;
		events++;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	fclose(f);
	files++;
	return 0;
}

int main(int argc, char **argv)
{
	char dir[4096];

	if (argc != 2)
		return 2;
	snprintf(dir, sizeof(dir), "%s/manifests/apps", argv[1]);
	nftw(dir, parse, 32, FTW_PHYS);
	printf("%lu files, %lu events\n", files, events);
	return 0;
}
