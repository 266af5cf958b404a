// SPDX-License-Identifier: GPL-2.0-only
/* contain <instance-id>: describe and isolate only (the tag change "Contain"). */
#include "subcommands.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: %s contain <instance-id> --case ID [options]\n\n"
		"Preserve the instance (termination protection, shutdown behaviour stop,\n"
		"volumes kept), take it out of its Auto Scaling group and load balancers,\n"
		"isolate it (network, Elastic IPs, instance profile, role sessions, tag)\n"
		"and print the case record (JSON). respond's memory and snapshot options\n"
		"are accepted and ignored, so one option set serves every event.\n\n",
		CONTROLLER_NAME);
}

const struct subcommand contain_subcommand = { "contain", RESPOND_CONTAIN, usage };

int contain_main(int argc, char *argv[])
{
	return respond_command(&contain_subcommand, argc, argv);
}
