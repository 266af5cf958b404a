/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef FORENSICS_CONTROLLER_SUBCOMMANDS_H
#define FORENSICS_CONTROLLER_SUBCOMMANDS_H

#include "base/command.h"

#define CONTROLLER_NAME "forensics-controller"

COMMAND_MAIN(respond);
COMMAND_MAIN(contain);
COMMAND_MAIN(release);
COMMAND_MAIN(event);
COMMAND_MAIN(lambda);
/*
 * One event (body, len) with the given options: argv[0] the command name,
 * argv[1] a slot for the instance, then respond options. The exit code.
 */
int event_run(const char *body, size_t len, const char *role_name, int argc, char *argv[]);

#endif
