/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef FORENSICS_CONTROLLER_SUBCOMMANDS_H
#define FORENSICS_CONTROLLER_SUBCOMMANDS_H

#include <stddef.h>

#define CONTROLLER_NAME "forensics-controller"
#define CONTROLLER_VERSION "0.1.0"

int respond_main(int argc, char *argv[]);
int contain_main(int argc, char *argv[]);
int release_main(int argc, char *argv[]);
int event_main(int argc, char *argv[]);
int lambda_main(int argc, char *argv[]);
/*
 * One event (body, len) with the given options: argv[0] the command name,
 * argv[1] a slot for the instance, then respond options. The exit code.
 */
int event_run(const char *body, size_t len, const char *role_name, int argc, char *argv[]);

#endif
