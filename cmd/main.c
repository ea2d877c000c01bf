/*
 * saasctl: the operations toolkit of a one-person SaaS.
 *
 * This file holds the command table, parses the global options and
 * dispatches. It is, with the other cmd/ files, the only place that prints
 * or picks an exit status.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>

#include "cmd.h"
#include "../src/log.h"
#include "../src/monorepo.h"
#include "../src/suggest.h"

/* The one table of commands: help, man pages and completions follow it. */
const struct cmd_entry *const cmd_table[] = {
	&cmd_init_entry,
	&cmd_new_app_entry,
	&cmd_apps_entry,
	&cmd_get_entry,
	&cmd_lint_entry,
	&cmd_keygen_entry,
	&cmd_seal_entry,
	&cmd_unseal_entry,
	&cmd_secrets_rekey_entry,
	&cmd_secrets_verify_entry,
	&cmd_secrets_apply_entry,
	&cmd_secrets_install_entry,
	&cmd_secrets_install_key_entry,
	&cmd_secrets_controller_entry,
	&cmd_exec_entry,
	&cmd_deploy_entry,
	&cmd_rollback_entry,
	&cmd_history_entry,
	&cmd_status_entry,
	&cmd_logs_entry,
	&cmd_backup_clickhouse_entry,
	&cmd_backup_list_entry,
	&cmd_backup_verify_entry,
	&cmd_backup_drill_entry,
	&cmd_backup_prune_entry,
	&cmd_restore_clickhouse_entry,
	&cmd_help_entry,
	&cmd_completion_entry,
	&cmd_ping_entry,
	&cmd_run_entry,
	&cmd_checks_sync_entry,
	&cmd_checks_list_entry,
	NULL,
};

static const char global_usage[] =
	"usage: saasctl [-C DIR] [--json] [--color=auto|always|never] [-q] [-v] COMMAND [ARGS]\n"
	"       saasctl --version | --help | help COMMAND\n";

static void print_err_prefix(const struct cmd_ctx *ctx)
{
	const char *red = ctx && ctx->color_err ? "\033[31m" : "";
	const char *off = ctx && ctx->color_err ? "\033[0m" : "";

	fprintf(stderr, "%ssaasctl:%s ", red, off);
	if (ctx && ctx->entry && ctx->entry != &cmd_help_entry)
		fprintf(stderr, "%s: ", ctx->entry->name);
}

size_t cmd_terminal_width(int fd)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;
	char *end;
	long n;

	if (!isatty(fd))
		return 0;
	if (env && *env) {
		n = strtol(env, &end, 10);
		if (!*end && n > 0)
			return (size_t)n;
	}
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col)
		return ws.ws_col;
	return 0;
}

int cmd_fail(const struct cmd_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	print_err_prefix(ctx);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

int cmd_fail_err(const struct cmd_ctx *ctx, const struct err *e)
{
	return cmd_fail(ctx, "%s", e->msg[0] ? e->msg : "failed");
}

int cmd_usage_error(const struct cmd_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	print_err_prefix(ctx);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (ctx && ctx->entry)
		cmd_print_usage(stderr, ctx->entry);
	return EXIT_USAGE;
}

int cmd_option_error(const struct cmd_ctx *ctx, int c, char **argv)
{
	if (c == ':')
		return cmd_usage_error(ctx, "option '%s' needs a value",
				       argv[optind - 1]);
	return cmd_usage_error(ctx, "unknown option '%s'", argv[optind - 1]);
}

void cmd_warn(const struct cmd_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx && ctx->quiet)
		return;
	fprintf(stderr, "%ssaasctl: warning:%s ",
		ctx && ctx->color_err ? "\033[33m" : "",
		ctx && ctx->color_err ? "\033[0m" : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cmd_warn_skipped(const struct cmd_ctx *ctx, const struct monorepo *repo)
{
	const struct dirwalk_skip *skipped;
	size_t n = repo ? monorepo_skipped(repo, &skipped) : 0;

	for (size_t i = 0; i < n; i++)
		cmd_warn(ctx, "skipped symlink '%s': %s", skipped[i].link,
			 skipped[i].reason);
}

void cmd_info(const struct cmd_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx && ctx->quiet)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cmd_print_usage(FILE *f, const struct cmd_entry *entry)
{
	fprintf(f, "usage: saasctl %s%s%s\n", entry->name,
		entry->usage[0] ? " " : "", entry->usage);
}

const struct cmd_entry *cmd_find(const char *name)
{
	for (int i = 0; cmd_table[i]; i++)
		if (!strcmp(cmd_table[i]->name, name))
			return cmd_table[i];
	return NULL;
}

/* First word of an entry name: "secrets" for "secrets rekey". */
static size_t group_len(const char *name)
{
	const char *sp = strchr(name, ' ');

	return sp ? (size_t)(sp - name) : strlen(name);
}

static int unknown_command(struct cmd_ctx *ctx, const char *word)
{
	int best = 99, shown = 0;

	for (int i = 0; cmd_table[i]; i++) {
		char g[64];
		size_t n = group_len(cmd_table[i]->name);
		int d;

		if (cmd_table[i]->hidden || n >= sizeof(g))
			continue;
		memcpy(g, cmd_table[i]->name, n);
		g[n] = '\0';
		d = suggest_distance(word, g);
		if (!strncmp(g, word, strlen(word)) && strlen(word) >= 2)
			d = 1; /* a prefix is as good as a typo */
		if (d < best)
			best = d;
	}
	ctx->entry = NULL;
	cmd_fail(ctx, "'%s' is not a saasctl command; see 'saasctl help'",
		 word);
	if (best > 2 && best * 2 > (int)strlen(word))
		return EXIT_USAGE;
	for (int i = 0; cmd_table[i]; i++) {
		char g[64];
		size_t n = group_len(cmd_table[i]->name);
		int d, dup = 0;

		if (cmd_table[i]->hidden || n >= sizeof(g))
			continue;
		memcpy(g, cmd_table[i]->name, n);
		g[n] = '\0';
		d = suggest_distance(word, g);
		if (!strncmp(g, word, strlen(word)) && strlen(word) >= 2)
			d = 1;
		for (int k = 0; k < i; k++)
			if (group_len(cmd_table[k]->name) == n &&
			    !strncmp(cmd_table[k]->name, g, n))
				dup = 1;
		if (d != best || dup)
			continue;
		if (!shown++)
			fputs("\nthe most similar commands are\n", stderr);
		fprintf(stderr, "\t%s\n", g);
	}
	return EXIT_USAGE;
}

static void print_command_list(FILE *f)
{
	fputs(global_usage, f);
	fputs("\ncommands:\n", f);
	for (int i = 0; cmd_table[i]; i++) {
		if (cmd_table[i]->hidden)
			continue;
		fprintf(f, "  %-20s  %s\n", cmd_table[i]->name,
			cmd_table[i]->summary);
	}
	fputs("\nglobal options:\n"
	      "  -C DIR           run as if started in DIR\n"
	      "  --json           machine-readable output\n"
	      "  --color=WHEN     colour: auto (default), always, never; NO_COLOR is honoured\n"
	      "  -q, --quiet      only errors on stderr\n"
	      "  -v, --verbose    more detail on stderr (secrets are redacted)\n"
	      "  --version        print the version\n"
	      "\nsee 'saasctl help COMMAND' or man saasctl-COMMAND\n",
	      f);
}

static void print_entry_help(FILE *f, const struct cmd_entry *entry)
{
	cmd_print_usage(f, entry);
	fprintf(f, "\n%s\n", entry->summary);
	fprintf(f, "\nsee man saasctl-%.*s for details\n",
		(int)group_len(entry->name), entry->name);
}

/*
 * Resolve "secrets rekey ..." or "lint ..." to an entry. Returns the number
 * of words consumed, 0 when nothing matched.
 */
static int lookup(int argc, char **argv, const struct cmd_entry **out)
{
	if (argc >= 2) {
		char two[128];

		snprintf(two, sizeof(two), "%s %s", argv[0], argv[1]);
		if ((*out = cmd_find(two)))
			return 2;
	}
	if (argc >= 1 && (*out = cmd_find(argv[0])))
		return 1;
	return 0;
}

/* Is WORD the first word of a group ("secrets") with no entry of its own? */
static int is_group(const char *word)
{
	size_t n = strlen(word);

	for (int i = 0; cmd_table[i]; i++)
		if (!strncmp(cmd_table[i]->name, word, n) &&
		    cmd_table[i]->name[n] == ' ')
			return 1;
	return 0;
}

static void group_help(FILE *f, const char *word)
{
	size_t n = strlen(word);

	for (int i = 0; cmd_table[i]; i++)
		if (!strncmp(cmd_table[i]->name, word, n) &&
		    cmd_table[i]->name[n] == ' ')
			cmd_print_usage(f, cmd_table[i]);
}

static int cmd_help(struct cmd_ctx *ctx, int argc, char **argv)
{
	const struct cmd_entry *entry = NULL;

	if (argc <= 1) {
		print_command_list(stdout);
		return EXIT_OK;
	}
	if (lookup(argc - 1, argv + 1, &entry)) {
		print_entry_help(stdout, entry);
		return EXIT_OK;
	}
	if (is_group(argv[1])) {
		group_help(stdout, argv[1]);
		return EXIT_OK;
	}
	return unknown_command(ctx, argv[1]);
}

const struct cmd_entry cmd_help_entry = {
	.name = "help",
	.usage = "[COMMAND]",
	.summary = "show the commands, or the usage and summary of one",
	.exec = cmd_help,
};

static void stderr_sink(const char *line)
{
	fprintf(stderr, "saasctl: %s\n", line);
}

static int parse_color(struct cmd_ctx *ctx, const char *when)
{
	int out_tty = isatty(STDOUT_FILENO), err_tty = isatty(STDERR_FILENO);
	const char *no_color = getenv("NO_COLOR");

	if (!strcmp(when, "always")) {
		ctx->color_out = ctx->color_err = 1;
	} else if (!strcmp(when, "never")) {
		ctx->color_out = ctx->color_err = 0;
	} else if (!strcmp(when, "auto")) {
		int ok = !(no_color && *no_color) &&
			 !(getenv("TERM") && !strcmp(getenv("TERM"), "dumb"));

		ctx->color_out = ok && out_tty;
		ctx->color_err = ok && err_tty;
	} else {
		return -1;
	}
	return 0;
}

/*
 * A global option at argv[i]? Returns how many words it took (0: not one,
 * -1: bad value). -C takes a value and is only understood before the
 * command, where it cannot collide with a command's own options.
 */
static int global_option(struct cmd_ctx *ctx, int argc, char **argv, int i,
			 int before_command)
{
	const char *a = argv[i];

	if (!strcmp(a, "--json")) {
		ctx->json = 1;
		return 1;
	}
	if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
		ctx->quiet = 1;
		return 1;
	}
	if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
		ctx->verbose++;
		return 1;
	}
	if (!strncmp(a, "--color=", 8))
		return parse_color(ctx, a + 8) < 0 ? -1 : 1;
	if (!strcmp(a, "--color")) {
		if (i + 1 >= argc || parse_color(ctx, argv[i + 1]) < 0)
			return -1;
		return 2;
	}
	if (before_command && !strcmp(a, "-C")) {
		if (i + 1 >= argc)
			return -1;
		ctx->dir = argv[i + 1];
		return 2;
	}
	if (before_command && !strncmp(a, "-C", 2) && a[2]) {
		ctx->dir = a + 2;
		return 1;
	}
	return 0;
}

/* Flush stdout and report a failed write (a full disk, a closed pipe). */
static int finish_output(struct cmd_ctx *ctx, int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno == EPIPE)
			return status;
		cmd_fail(ctx, "cannot write output: %s", strerror(errno));
		return EXIT_FAIL;
	}
	return status;
}

int main(int argc, char **argv)
{
	struct cmd_ctx ctx = { 0 };
	const struct cmd_entry *entry = NULL;
	int i = 1, n, status, first, cargc, dashdash = 0;
	char **cargv;

	parse_color(&ctx, "auto");

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--version")) {
			printf("saasctl %s\n", SAASCTL_VERSION);
			return finish_output(&ctx, EXIT_OK);
		}
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			print_command_list(stdout);
			return finish_output(&ctx, EXIT_OK);
		}
		n = global_option(&ctx, argc, argv, i, 1);
		if (n <= 0) {
			fprintf(stderr, "saasctl: %s option '%s'\n%s",
				n < 0 ? "bad value for" : "unknown", argv[i],
				global_usage);
			return EXIT_USAGE;
		}
		i += n;
	}
	if (i >= argc) {
		fputs(global_usage, stderr);
		return EXIT_USAGE;
	}

	n = lookup(argc - i, argv + i, &entry);
	if (!n) {
		if (is_group(argv[i])) {
			fprintf(stderr, "saasctl: '%s' needs a subcommand:\n",
				argv[i]);
			group_help(stderr, argv[i]);
			return EXIT_USAGE;
		}
		return unknown_command(&ctx, argv[i]);
	}
	ctx.entry = entry;
	first = i + n - 1; /* argv[first] becomes the command's argv[0] */

	/*
	 * Build the command's argv: its name, then its arguments with the
	 * long global options (and -q/-v) taken out, up to a "--".
	 */
	cargv = calloc((size_t)argc + 1, sizeof(*cargv));
	if (!cargv)
		return EXIT_FAIL;
	cargc = 0;
	cargv[cargc++] = argv[first];
	for (i = first + 1; i < argc; i++) {
		if (!dashdash && !strcmp(argv[i], "--"))
			dashdash = 1;
		if (!dashdash &&
		    (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
			print_entry_help(stdout, entry);
			free(cargv);
			return finish_output(&ctx, EXIT_OK);
		}
		if (!dashdash) {
			n = global_option(&ctx, argc, argv, i, 0);
			if (n < 0) {
				free(cargv);
				return cmd_usage_error(&ctx, "bad value for '%s'",
						       argv[i]);
			}
			if (n > 0) {
				i += n - 1;
				continue;
			}
		}
		cargv[cargc++] = argv[i];
	}
	cargv[cargc] = NULL;
	if (ctx.verbose)
		log_set_sink(stderr_sink, ctx.verbose);

	/*
	 * A command that holds plaintext secrets must not leave them in a
	 * core dump, nor let another process of the same user ptrace them
	 * out. Not dumpable does both; execve() (saasctl exec) resets it.
	 */
	if (entry->secrets && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		free(cargv);
		return cmd_fail(&ctx, "cannot protect secrets from core dumps: %s",
				strerror(errno));
	}
	status = entry->exec(&ctx, cargc, cargv);
	free(cargv);
	return finish_output(&ctx, status);
}
