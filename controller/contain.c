// SPDX-License-Identifier: GPL-2.0-only
/* contain <instance-id>: describe and isolate only (the tag change "Contain"). */
#include "subcommands.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: %s contain <instance-id> --case ID [options]\n\n"
		"Isolate the instance (network, Elastic IPs, instance profile, role\n"
		"sessions, tag) and print the case record (JSON). Options as for respond;\n"
		"the snapshot options are ignored.\n\n", CONTROLLER_NAME);
}

const struct subcommand contain_subcommand = { "contain", RESPOND_CONTAIN, usage };

int contain_main(int argc, char *argv[])
{
	return respond_command(&contain_subcommand, argc, argv);
}
