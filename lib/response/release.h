/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Release: put back what the response changed, from the case record's
 * "instance" (the instance as first found): each ENI's groups, the Elastic
 * IP associations, the instance profile, termination protection, shutdown
 * behaviour and DeleteOnTermination; the status tag becomes "Released".
 * The policy denying role sessions issued before containment stays: those
 * sessions may be the intruder's, and later ones are not affected by it.
 * Snapshots and their copies are evidence: they stay too.
 */
#ifndef FORENSICS_RELEASE_H
#define FORENSICS_RELEASE_H

#include "aws/awsapi.h"
#include "response/record.h"

#include <json-c/json.h>

/* found: the instance as first found; now: as it is now (for current associations). */
void release_instance(struct awsapi_client *ec2, const char *instance_id, json_object *found,
		      json_object *now, struct case_record *rec);

#endif
