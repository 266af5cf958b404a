/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Containment, as the reference does it and also when acquisition failed:
 * every ENI first to a group that allows all traffic (its tracked
 * connections become untracked), then to an isolation group with no rules,
 * which cuts them; Elastic IPs disassociated; the instance profile replaced
 * by a deny-all one; sessions issued before now denied on the instance
 * role; the instance tagged SecurityIncidentStatus=Contain. What was there
 * before is in the record's "instance", for `release`.
 */
#ifndef FORENSICS_CONTAIN_H
#define FORENSICS_CONTAIN_H

#include "aws/awsapi.h"
#include "response/record.h"

#include <json-c/json.h>

#define CONTAIN_ALLOW_ALL_GROUP "forensics-allow-all"
#define CONTAIN_ISOLATION_GROUP "forensics-isolation"
#define CONTAIN_STATUS_TAG "SecurityIncidentStatus"
#define CONTAIN_REVOKE_POLICY "ForensicsRevokeOlderSessions"
/*
 * Written with each status the controller sets, as "<status> <case> <time>",
 * so that events.c tells the controller's own tag changes from a person's,
 * and a released case from an open one.
 */
#define CONTAIN_MARKER_TAG "ForensicsController"

struct awsapi_params;
/* Tag.<first>… and Tag.<first+1>…: the status and the marker naming case. */
void contain_status_tags(struct awsapi_params *p, int first, const char *status,
			 const char *case_id);

struct contain_options {
	const char *instance_id;
	const char *case_id;
	const char *deny_profile_arn;  /* NULL: the profile is left, its role still revoked */
	const char *own_profile_arn;   /* ours (attached for SSM): its role is not revoked */
};

/*
 * Runs every containment step it can, recording each in rec; the groups,
 * moves, disassociations and replacements go into rec's "containment".
 * instance: the record's description of the instance (ec2_describe_instance).
 */
void contain_instance(struct awsapi_client *ec2, struct awsapi_client *iam,
		      const struct contain_options *o, json_object *instance,
		      struct case_record *rec);

#endif
