// SPDX-License-Identifier: GPL-2.0-only
#include "exitcodes.h"
#include "log.h"
#include "subcommands.h"

int convert_main(int argc, char *argv[])
{
	log_error("usage", "convert: not built yet");
	return EXIT_FAILURE_INTERNAL;
}
