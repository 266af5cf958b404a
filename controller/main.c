// SPDX-License-Identifier: GPL-2.0-only
/*
 * forensics-controller: the security account's half of the response. It
 * preserves the evidence of a suspect instance in a member account and
 * keeps a case record of every call. One static binary, like the agent.
 */
#include "base/command.h"
#include "subcommands.h"

#include <curl/curl.h>

static const struct command commands[] = {
	{ "respond", respond_main, "preserve, snapshot and contain; print the case record" },
	{ "contain", contain_main, "isolate the instance only, print the case record" },
	{ "release", release_main, "restore what a response changed, from the case record" },
	{ "event", event_main, "act on an EventBridge, Security Hub or manual event (stdin)" },
	{ "lambda", lambda_main, "run as a Lambda custom runtime (events from the Runtime API)" },
};

static void curl_start(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static const struct program controller = {
	.name = CONTROLLER_NAME,
	.commands = commands,
	.count = sizeof(commands) / sizeof(commands[0]),
	.exit_codes = "Exit codes: 0 ok, 1 internal, 2 usage, 10 no credentials, 20 denied,\n"
		      "21 no such instance, 22 throttled, 23 AWS error, 24 role not assumed,\n"
		      "25 wrong account, 26 a step failed, 27 case record unusable,\n"
		      "28 event not understood.\n",
	.before = curl_start,
	.after = curl_global_cleanup,
};

int main(int argc, char *argv[])
{
	return command_dispatch(&controller, argc, argv);
}
