#ifndef SAASCTL_CMD_HC_COMMON_H
#define SAASCTL_CMD_HC_COMMON_H

#include "cmd.h"
#include "../src/hc.h"
#include "../src/monorepo.h"

/*
 * Settings for the Healthchecks commands. ping and run must work from a
 * cron job far from any monorepo, so a missing monorepo is not an error:
 * *repo is then NULL and only the environment counts. A saasctl.yaml that
 * is there but broken is reported (the job still runs).
 */
int hc_cmd_open(struct cmd_ctx *ctx, struct hc *hc, struct monorepo **repo,
		int need_repo);

#endif
