// SPDX-License-Identifier: GPL-2.0-only
/* release <instance-id>: put back what a response changed, from its stored case record. */
#include "subcommands.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: %s release <instance-id> --case ID --record S3URI [options]\n\n"
		"Put back what the response changed (groups, Elastic IPs, instance\n"
		"profile, termination protection, shutdown behaviour,\n"
		"DeleteOnTermination), from the case record's instance as first found;\n"
		"tag it Released. Snapshots and the policy revoking older role sessions\n"
		"stay. The instance stays out of its Auto Scaling group and load\n"
		"balancers unless --reattach. A later trigger opens a new case.\n\n",
		CONTROLLER_NAME);
}

static const struct subcommand release_subcommand = { "release", RESPOND_RELEASE, usage };

int release_main(int argc, char *argv[])
{
	return respond_command(&release_subcommand, argc, argv);
}
