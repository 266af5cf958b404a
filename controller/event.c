// SPDX-License-Identifier: GPL-2.0-only
/*
 * event [--role-name NAME] [--event FILE] [respond options]: the event (stdin
 * by default) says which instance, account, region and case, and whether to
 * respond or only contain; the member role is arn:aws:iam::<account>:role/NAME.
 */
#include "base/exitcodes.h"
#include "base/log.h"
#include "response/events.h"
#include "subcommands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENT_MAX_ARGS 64

int event_main(int argc, char *argv[])
{
	const char *role_name = NULL, *file = NULL;
	char *args[EVENT_MAX_ARGS], *buf = NULL;
	size_t len = 0, n = 0;
	FILE *in = stdin;
	int i;

	args[n++] = argv[0];
	args[n++] = NULL;  /* the instance, once known */
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("Usage: %s event [--role-name NAME] [--event FILE] [options]\n\n"
			       "Respond to (or only contain, for SecurityIncidentStatus=Contain)\n"
			       "the instance an EventBridge tag change, Security Hub custom\n"
			       "action or manual event names; read from FILE or stdin. Other\n"
			       "options as for respond.\n", CONTROLLER_NAME);
			return EXIT_OK;
		}
		if ((!strcmp(argv[i], "--role-name") || !strcmp(argv[i], "--event")) &&
		    i + 1 < argc) {
			*(argv[i][2] == 'r' ? &role_name : &file) = argv[i + 1];
			i++;
		} else if (n + 10 < EVENT_MAX_ARGS) {
			args[n++] = argv[i];
		} else {
			log_error("usage", "event: too many options");
			return EXIT_USAGE;
		}
	}
	if (file && !(in = fopen(file, "r"))) {
		log_error("usage", "event: cannot open %s: %m", file);
		return EXIT_USAGE;
	}
	buf = malloc(EVENT_MAX + 1);
	if (buf)
		len = fread(buf, 1, EVENT_MAX + 1, in);
	if (in != stdin)
		fclose(in);
	if (!buf)
		return EXIT_FAILURE_INTERNAL;
	i = event_run(buf, len, role_name, (int)n, args);
	free(buf);
	return i;
}

/* One instance the event names: its respond or contain run. */
static int run_one(const struct event_request *ev, const char *role_name, int argc,
		   char *argv[])
{
	char *args[EVENT_MAX_ARGS], role_arn[160];
	size_t n = 0;

	for (int i = 0; i < argc; i++)
		args[n++] = argv[i];
	if (ev->action == EVENT_IGNORE) {
		log_info("event", "%s event for %s: %s, nothing to do", ev->kind, ev->instance_id,
			 ev->self_made ? "the controller's own tag change" :
			 "not Analyze or Contain");
		return EXIT_OK;
	}
	if (ev->after_release)
		log_info("event", "the case of %s was released: a new case %s", ev->instance_id,
			 ev->case_id);
	log_info("event", "%s event: %s %s in %s/%s, case %s", ev->kind,
		 ev->action == EVENT_CONTAIN ? "contain" : "respond to", ev->instance_id,
		 ev->account, ev->region, ev->case_id);
	args[1] = (char *)ev->instance_id;
	args[n++] = "--case";
	args[n++] = (char *)ev->case_id;
	args[n++] = "--region";
	args[n++] = (char *)ev->region;
	args[n++] = "--account";
	args[n++] = (char *)ev->account;
	if (role_name) {
		snprintf(role_arn, sizeof(role_arn), "arn:aws:iam::%s:role/%s", ev->account,
			 role_name);
		args[n++] = "--role-arn";
		args[n++] = role_arn;
	}
	args[n] = NULL;
	return respond_command(ev->action == EVENT_CONTAIN ? &contain_subcommand :
			       &respond_subcommand, (int)n, args);
}

int event_run(const char *body, size_t len, const char *role_name, int argc, char *argv[])
{
	struct event_request ev;
	char why[256] = "";
	int code = EXIT_OK;

	if (argc + 10 > EVENT_MAX_ARGS) {
		log_error("usage", "event: too many options");
		return EXIT_USAGE;
	}
	/* Each instance the event names (Security Hub's may name several): first failure wins. */
	for (size_t k = 0;; k++) {
		int ret = event_parse_nth(body, len, k, &ev, why, sizeof(why));

		if (ret == -ENOENT && k)
			break;
		if (ret) {
			log_error("event", "%s", why);
			return EXIT_EVENT;
		}
		ret = run_one(&ev, role_name, argc, argv);
		if (!code)
			code = ret;
	}
	return code;
}
