// SPDX-License-Identifier: GPL-2.0-only
/*
 * respond <instance-id>: the response to one suspect instance (preservation,
 * memory, snapshots, containment: lib/response/respond.h); the case record
 * is printed on stdout, also when a step failed, saying which. contain,
 * release and event run the same way with another mode.
 */
#include "aws/awsapi.h"
#include "aws/region.h"
#include "base/exitcodes.h"
#include "base/log.h"
#include "subcommands.h"

#include <stdio.h>
#include <stdlib.h>

static void usage(FILE *out)
{
	fprintf(out, "Usage: %s respond <instance-id> --case ID [options]\n\n"
		"Preserve a suspect instance's evidence, snapshot its disks, contain it and\n"
		"print the case record (JSON).\n\n", CONTROLLER_NAME);
}

const struct subcommand respond_subcommand = { "respond", RESPOND_FULL, usage };

int respond_command(const struct subcommand *sc, int argc, char *argv[])
{
	struct respond_options o;
	char why[AWSAPI_ERROR_MAX] = "", *region = NULL;
	json_object *record = NULL;
	int ret;

	ret = options_parse(argc, argv, sc, &o);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (aws_region_resolve(o.region, NULL, &region, why, sizeof(why))) {
		log_error("usage", "%s: region: %s", o.command, why);
		return EXIT_USAGE;
	}
	ret = respond_run(&o, region, &record);
	if (record) {
		printf("%s\n", json_object_to_json_string_ext(record, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
		fflush(stdout);
	}
	json_object_put(record);
	free(region);
	return ret;
}

int respond_main(int argc, char *argv[])
{
	return respond_command(&respond_subcommand, argc, argv);
}
