/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Milestone notifications: one SNS message per milestone of a response
 * (the Slack relay and any other subscriber read the topic). Published with
 * the security account's own credentials: the topic is there, not in the
 * member account.
 */
#ifndef FORENSICS_NOTIFY_H
#define FORENSICS_NOTIFY_H

#include "aws/awsapi.h"

#include <json-c/json.h>

#define NOTIFY_SUBJECT_MAX 100  /* SNS's limit */

/* "arn:aws:sns:<region>:<account>:<name>" → region (malloc'd); -EINVAL otherwise. */
int notify_topic_region(const char *topic_arn, char **region);
/*
 * Publish {"case_id", "instance_id", "milestone", "at", "summary", ...fields}
 * with a one-line subject. fields (may be NULL) is consumed.
 */
int notify_publish(struct awsapi_client *sns, const char *topic_arn, const char *case_id,
		   const char *instance_id, const char *milestone, const char *summary,
		   json_object *fields, struct awsapi_error *err);

/*
 * The failures of this run in the case record's timeline, for a message:
 * {"failed_steps": [step, …], "errors": [{"step", "api", "code", "error"}, …]}
 * (the first NOTIFY_ERRORS_MAX errors); *names gets "step, step" (at most
 * nameslen bytes, "" when none failed).
 */
#define NOTIFY_ERRORS_MAX 5
json_object *notify_failures(json_object *timeline, int run, char *names, size_t nameslen);

#endif
