// SPDX-License-Identifier: GPL-2.0-only
/*
 * lambda: the controller as a Lambda custom runtime (a `bootstrap` that
 * execs `forensics-controller lambda`). Events come from the Runtime API
 * (AWS_LAMBDA_RUNTIME_API): next invocation, then its response or error.
 * Configuration comes from the function's environment:
 *
 *   FORENSICS_ROLE_NAME     member accounts' response role (event --role-name)
 *   FORENSICS_OPTIONS       more respond options, split at spaces
 *                           ("--record s3://… --kms-key … --share-with …")
 *
 * The case record goes to the log (stdout) and, with --record, to S3; the
 * invocation answers {"exit_code": N} or an error naming the exit code, so
 * EventBridge's retries rerun the case, which resumes.
 */
#include "aws/lambda_runtime.h"
#include "base/exitcodes.h"
#include "base/log.h"
#include "subcommands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LAMBDA_MAX_OPTIONS 48

static int split_options(char *options, char **args, int n, int max)
{
	for (char *tok = strtok(options, " \t\n"); tok; tok = strtok(NULL, " \t\n")) {
		if (n >= max)
			return -1;
		args[n++] = tok;
	}
	return n;
}

int lambda_main(int argc, char *argv[])
{
	const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
	const char *role_name = getenv("FORENSICS_ROLE_NAME");
	char *options = getenv("FORENSICS_OPTIONS") ? strdup(getenv("FORENSICS_OPTIONS")) : NULL;
	bool once = argc > 1 && !strcmp(argv[1], "--once");  /* tests: one invocation */
	char *args[LAMBDA_MAX_OPTIONS];
	int n = 0;

	if (!api || !*api || strlen(api) > LAMBDA_RUNTIME_API_MAX) {
		log_error("usage", "lambda: AWS_LAMBDA_RUNTIME_API is not set: not in Lambda");
		free(options);
		return EXIT_USAGE;
	}
	args[n++] = "event";
	args[n++] = NULL;
	if (options && (n = split_options(options, args, n, LAMBDA_MAX_OPTIONS - 12)) < 0) {
		log_error("usage", "lambda: FORENSICS_OPTIONS holds too many options");
		free(options);
		return EXIT_USAGE;
	}
	do {
		struct lambda_invocation next;
		char *answer = NULL;
		int code;

		if (lambda_runtime_next(api, &next)) {
			log_error("lambda", "the Runtime API gave no invocation");
			lambda_invocation_free(&next);
			free(options);
			return EXIT_AWS;
		}
		code = next.overflow ? EXIT_EVENT :
		       event_run(next.body ? next.body : "", next.len, role_name, n, args);
		if (code == EXIT_OK) {
			if (asprintf(&answer, "{\"exit_code\":0}") < 0)
				answer = NULL;
		} else if (asprintf(&answer, "{\"errorType\":\"ExitCode%d\",\"errorMessage\":"
				    "\"forensics-controller exit code %d (docs/exit-codes.md); "
				    "the case record says which step\"}", code, code) < 0) {
			answer = NULL;
		}
		if (!answer || lambda_runtime_answer(api, next.request_id, code != EXIT_OK, answer))
			log_error("lambda", "could not report invocation %s", next.request_id);
		free(answer);
		lambda_invocation_free(&next);
	} while (!once);
	free(options);
	return EXIT_OK;
}
