#ifndef SAASCTL_CMD_H
#define SAASCTL_CMD_H

#include <stdio.h>

#include "../src/err.h"

/* Exit statuses: every command returns one of these. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
};

/* What a positional argument completes to, for the shell completions. */
enum cmd_complete {
	COMPLETE_NONE = 0,
	COMPLETE_FILES,
	COMPLETE_APPS,
};

/* Global options, parsed by cmd/main.c before the command runs. */
struct cmd_ctx {
	const char *dir;	/* -C DIR: where the monorepo search starts */
	int json;		/* --json */
	int color_out;		/* colour on stdout (resolved from --color) */
	int color_err;		/* colour on stderr */
	int quiet;		/* -q */
	int verbose;		/* -v, repeatable */
	const struct cmd_entry *entry;
};

struct cmd_entry {
	const char *name;	/* "lint", or "secrets rekey" for a group */
	const char *usage;	/* arguments after the name, for -h and man */
	const char *summary;	/* one line, lowercase, no full stop */
	int (*exec)(struct cmd_ctx *ctx, int argc, char **argv);
	enum cmd_complete complete;
	int hidden;		/* internal helpers: not listed, no man page */
	int secrets;		/* holds secrets or credentials: no core dumps */
};

/*
 * The command table lives in cmd/main.c. Each cmd/<group>.c defines its
 * entries; declare them here.
 */
extern const struct cmd_entry cmd_help_entry;
extern const struct cmd_entry cmd_completion_entry;
/* the monorepo */
extern const struct cmd_entry cmd_init_entry;
extern const struct cmd_entry cmd_new_app_entry;
extern const struct cmd_entry cmd_apps_entry;
extern const struct cmd_entry cmd_get_entry;
extern const struct cmd_entry cmd_lint_entry;
extern const struct cmd_entry cmd_keygen_entry, cmd_seal_entry, cmd_unseal_entry,
	cmd_secrets_rekey_entry, cmd_secrets_verify_entry, cmd_exec_entry,
	cmd_secrets_apply_entry, cmd_secrets_install_entry,
	cmd_secrets_install_key_entry, cmd_secrets_controller_entry;
/* GitOps rollouts */
extern const struct cmd_entry cmd_deploy_entry;
extern const struct cmd_entry cmd_rollback_entry;
extern const struct cmd_entry cmd_history_entry;
extern const struct cmd_entry cmd_status_entry;
/* Healthchecks */
extern const struct cmd_entry cmd_ping_entry;
extern const struct cmd_entry cmd_run_entry;
extern const struct cmd_entry cmd_checks_sync_entry;
extern const struct cmd_entry cmd_checks_list_entry;
/* ClickHouse backups */
extern const struct cmd_entry cmd_backup_clickhouse_entry;
extern const struct cmd_entry cmd_backup_list_entry;
extern const struct cmd_entry cmd_backup_verify_entry;
extern const struct cmd_entry cmd_backup_drill_entry;
extern const struct cmd_entry cmd_backup_prune_entry;
extern const struct cmd_entry cmd_backup_drill_entry;
extern const struct cmd_entry cmd_restore_clickhouse_entry;
/* Kubernetes */
extern const struct cmd_entry cmd_logs_entry;
extern const struct cmd_entry *const cmd_table[];

/* Print "saasctl: NAME: message" to stderr; returns EXIT_FAIL. */
/* The width of the terminal on fd (COLUMNS, else the terminal's); 0 when
 * fd is not a terminal or the width is unknown. */
size_t cmd_terminal_width(int fd);
int cmd_fail(const struct cmd_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print the struct err the library filled; returns EXIT_FAIL. */
int cmd_fail_err(const struct cmd_ctx *ctx, const struct err *e);
/* Print a usage error and the usage line; returns EXIT_USAGE. */
int cmd_usage_error(const struct cmd_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * The usage error for getopt_long()'s ':' (a value is missing) or '?' (an
 * unknown option) return, with opterr = 0 and a leading ':' in optstring.
 */
int cmd_option_error(const struct cmd_ctx *ctx, int c, char **argv);
/* A warning on stderr (suppressed by -q). */
void cmd_warn(const struct cmd_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
struct monorepo;
/*
 * Warn about each folder symlink the monorepo walks skipped so far (a
 * loop, or a target outside the monorepo); once per link per call.
 */
void cmd_warn_skipped(const struct cmd_ctx *ctx, const struct monorepo *repo);
/* An informational line on stderr (suppressed by -q). */
void cmd_info(const struct cmd_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print "usage: saasctl NAME USAGE" to the stream. */
void cmd_print_usage(FILE *f, const struct cmd_entry *entry);
/* Look a command up by its full name ("secrets rekey"). */
const struct cmd_entry *cmd_find(const char *name);

#endif
