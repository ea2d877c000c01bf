/* placeholder */
#include "hc-common.h"
static int cmd_checks_sync(struct cmd_ctx *ctx, int argc, char **argv) { (void)ctx; (void)argc; (void)argv; return 0; }
static int cmd_checks_list(struct cmd_ctx *ctx, int argc, char **argv) { (void)ctx; (void)argc; (void)argv; return 0; }
const struct cmd_entry cmd_checks_sync_entry = {
	.name = "checks sync",
	.usage = "[--dry-run] [--prune]",
	.summary = "create, update and prune Healthchecks checks from saasctl.yaml",
	.exec = cmd_checks_sync,
};
const struct cmd_entry cmd_checks_list_entry = {
	.name = "checks list",
	.usage = "",
	.summary = "show the checks: status, last ping and next expected ping",
	.exec = cmd_checks_list,
};
