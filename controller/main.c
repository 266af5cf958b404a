// SPDX-License-Identifier: GPL-2.0-only
/*
 * forensics-controller: the security account's half of the response. It
 * preserves the evidence of a suspect instance in a member account and
 * keeps a case record of every call. One static binary, like the agent.
 */
#include "base/exitcodes.h"
#include "base/log.h"
#include "subcommands.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int (*main)(int argc, char *argv[]);
	const char *description;
} subcommands[] = {
	{ "respond", respond_main, "preserve, snapshot and contain; print the case record" },
	{ "contain", contain_main, "isolate the instance only, print the case record" },
	{ "release", release_main, "restore what a response changed, from the case record" },
	{ "event", event_main, "act on an EventBridge, Security Hub or manual event (stdin)" },
	{ "lambda", lambda_main, "run as a Lambda custom runtime (events from the Runtime API)" },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: %s <command> [options]\n\nCommands:\n", CONTROLLER_NAME);
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(out, "  %-9s %s\n", subcommands[i].name, subcommands[i].description);
	fprintf(out, "\n'%s <command> --help' describes a command's options.\n"
		     "Exit codes: 0 ok, 1 internal, 2 usage, 10 no credentials, 20 denied,\n"
		     "21 no such instance, 22 throttled, 23 AWS error, 24 role not assumed,\n"
		     "25 wrong account, 26 a step failed, 27 case record unusable,\n"
		     "28 event not understood.\n",
		CONTROLLER_NAME);
}

int main(int argc, char *argv[])
{
	int ret = EXIT_USAGE;

	log_init(LOG_FORMAT_AUTO);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("%s %s\n", CONTROLLER_NAME, CONTROLLER_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
		if (!strcmp(argv[1], subcommands[i].name)) {
			curl_global_init(CURL_GLOBAL_DEFAULT);
			ret = subcommands[i].main(argc - 1, argv + 1);
			curl_global_cleanup();
			return ret;
		}
	}
	log_error("usage", "unknown command '%s' (try --help)", argv[1]);
	return ret;
}
