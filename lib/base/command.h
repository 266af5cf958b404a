/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A program is a table of subcommands, each `int x_main(int argc, char
 * *argv[])` in a file of its own; command_dispatch() is the main() both
 * programs share: usage, --help, --version, the unknown command.
 */
#ifndef FORENSICS_COMMAND_H
#define FORENSICS_COMMAND_H

#include <stddef.h>

/* Agent and module ship as one version (scripts/install-kmod-source.sh reads it). */
#define FORENSICS_VERSION "0.1.0"

#define COMMAND_MAIN(name) int name##_main(int argc, char *argv[])

struct command {
	const char *name;
	int (*main)(int argc, char *argv[]);
	const char *description;
};

struct program {
	const char *name;
	const struct command *commands;
	size_t count;
	const char *exit_codes;    /* the usage text's summary of exit codes */
	/* Around each command: process-wide set-up and tear-down (may be NULL). */
	void (*before)(void);
	void (*after)(void);
};

/* The exit code of the command argv[1] names, or of the usage error. */
int command_dispatch(const struct program *p, int argc, char *argv[]);

#endif
