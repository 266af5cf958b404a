// SPDX-License-Identifier: GPL-2.0-only
#include "exitcodes.h"
#include "log.h"
#include "subcommands.h"

int verify_main(int argc, char *argv[])
{
	log_error("usage", "verify: not built yet");
	return EXIT_FAILURE_INTERNAL;
}
