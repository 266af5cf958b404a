/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef FORENSICS_CONTROLLER_OPTIONS_H
#define FORENSICS_CONTROLLER_OPTIONS_H

#include "response/respond.h"

#include <stdio.h>

/* A command that runs a response: respond, contain or release. */
struct subcommand {
	const char *name;
	enum respond_mode mode;
	void (*usage)(FILE *out);  /* its own lines, before the options it takes */
};

/*
 * argv (argv[0] the command, then options and one instance id) into *o,
 * checked, defaults filled in: 0, -1 after --help (printed on stdout), or
 * the exit code of a usage error (logged).
 */
int options_parse(int argc, char *argv[], const struct subcommand *sc, struct respond_options *o);

#endif
