/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef FORENSICS_CONTROLLER_SUBCOMMANDS_H
#define FORENSICS_CONTROLLER_SUBCOMMANDS_H

#include "base/command.h"
#include "options.h"

#include <stddef.h>

#define CONTROLLER_NAME "forensics-controller"

COMMAND_MAIN(respond);
COMMAND_MAIN(contain);
COMMAND_MAIN(release);
COMMAND_MAIN(event);
COMMAND_MAIN(lambda);

/* What event runs: respond, or contain for a "Contain" event. */
extern const struct subcommand respond_subcommand, contain_subcommand;
/* A response as sc runs it from argv: parse, run, print the record. The exit code. */
int respond_command(const struct subcommand *sc, int argc, char *argv[]);
/*
 * One event (body, len) with the given options: argv[0] the command name,
 * argv[1] a slot for the instance, then respond options. The exit code.
 */
int event_run(const char *body, size_t len, const char *role_name, int argc, char *argv[]);

#endif
