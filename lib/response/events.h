/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The events that start a response, as EventBridge delivers them (on stdin
 * for the CLI, through the Lambda Runtime API later):
 *
 *   - tag change on an instance ("aws.tag"): SecurityIncidentStatus=Analyze
 *     starts the full response, =Contain only isolates, anything else is
 *     ignored;
 *   - Security Hub custom action ("aws.securityhub"): the full response for
 *     the first EC2 instance among the findings' resources;
 *   - a manual event {"CaseId", "InstanceId", "Account", "Region"[, "Action"]}.
 *
 * Parsing only, of outside input: bounded, no I/O.
 */
#ifndef FORENSICS_EVENTS_H
#define FORENSICS_EVENTS_H

#include <stddef.h>

#define EVENT_MAX (256u << 10)

enum event_action {
	EVENT_IGNORE,    /* not for us (another tag value): nothing to do */
	EVENT_ANALYZE,   /* respond */
	EVENT_CONTAIN,   /* contain only */
};

struct event_request {
	enum event_action action;
	char kind[32];          /* "tag-change", "security-hub", "manual" */
	char instance_id[24];
	char account[16];
	char region[32];
	char case_id[65];       /* from the event, or "<instance>-<yyyymmdd>" of its time */
};

/* 0 with *out, or -EINVAL with why (not an event we know, or a field missing or malformed). */
int event_parse(const char *json, size_t len, struct event_request *out, char *why,
		size_t whylen);

#endif
