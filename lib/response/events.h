/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The events that start a response, as EventBridge delivers them (on stdin
 * for the CLI, through the Lambda Runtime API later):
 *
 *   - tag change on an instance ("aws.tag"): SecurityIncidentStatus=Analyze
 *     starts the full response, =Contain isolates, anything else is
 *     ignored, and so is a change the controller made itself (its marker
 *     tag changed with the status);
 *   - Security Hub custom action ("aws.securityhub"): the full response for
 *     each EC2 instance among the findings' resources;
 *   - a manual event {"CaseId", "InstanceId", "Account", "Region"[, "Action"]}.
 *
 * Parsing only, of outside input: bounded, no I/O.
 */
#ifndef FORENSICS_EVENTS_H
#define FORENSICS_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

#define EVENT_MAX (256u << 10)
#define EVENT_MAX_INSTANCES 32

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
	bool self_made;         /* the controller's own tag change: ignored */
	bool after_release;     /* the named case was released: case_id is a new one */
};

/* 0 with *out, or -EINVAL with why (not an event we know, or a field missing or malformed). */
int event_parse(const char *json, size_t len, struct event_request *out, char *why,
		size_t whylen);
/*
 * The same for the index-th instance the event names (Security Hub's may
 * name several, each once): -ENOENT past the last.
 */
int event_parse_nth(const char *json, size_t len, size_t index, struct event_request *out,
		    char *why, size_t whylen);

#endif
