/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Memory acquisition, the response's step between preservation and the
 * snapshots: an instance profile for SSM when the instance has none, the
 * forensics-acquire document sent with the agent's location and digest and
 * where it writes (<evidence><case>/<instance>/, with the writer role's
 * narrowed session or the instance's profile), its end awaited, and the
 * agent's manifest collected from the bucket. The session's secrets go to
 * the instance only, never into the record or the log.
 */
#ifndef FORENSICS_MEMORY_H
#define FORENSICS_MEMORY_H

#include "aws/awsapi.h"
#include "response/record.h"
#include "response/respond.h"

#include <json-c/json.h>
#include <stddef.h>

/*
 * The document's values the options decide, checked against its patterns
 * before anything is touched: 0, or -EINVAL (or -ENOMEM) with why.
 */
int memory_options_check(const struct respond_options *o, char *why, size_t whylen);
/*
 * The agent through SSM into rec's "memory"; every call a step in rec.
 * instance: the record's description of the instance (ec2_describe_instance).
 */
void memory_acquire(struct awsapi_client *ssm, struct awsapi_client *ec2,
		    const struct respond_options *o, const char *region, json_object *instance,
		    struct case_record *rec);

#endif
