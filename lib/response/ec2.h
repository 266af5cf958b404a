/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * EC2 calls of the response, each turning the answer into the case
 * record's JSON (json-c). Evidence preservation comes first: what the
 * instance looks like, then termination protection, shutdown behaviour
 * "stop" and DeleteOnTermination=false on every volume, then the console.
 */
#ifndef FORENSICS_EC2_H
#define FORENSICS_EC2_H

#include "aws/awsapi.h"

#include <json-c/json.h>
#include <stdbool.h>

/* "i-" and 8 or 17 lowercase hex digits (NULL is none): safe in a key, an ARN, a log line. */
bool ec2_instance_id_ok(const char *id);

/*
 * The instance as the record keeps it: state, type, placement, volumes,
 * ENIs with their groups, security groups, instance profile, tags, plus the
 * attributes preservation changes (so `release` can restore them), its
 * profile associations and Elastic IPs. -ENOENT for an unknown instance.
 */
int ec2_describe_instance(struct awsapi_client *ec2, const char *instance_id,
			  json_object **out, struct awsapi_error *err);
/* ModifyInstanceAttribute DisableApiTermination=true. */
int ec2_protect_termination(struct awsapi_client *ec2, const char *instance_id,
			    struct awsapi_error *err);
/* ModifyInstanceAttribute instanceInitiatedShutdownBehavior=stop. */
int ec2_shutdown_stop(struct awsapi_client *ec2, const char *instance_id,
		      struct awsapi_error *err);
/* DeleteOnTermination=false for every device in the described instance's block_devices. */
int ec2_keep_volumes(struct awsapi_client *ec2, const char *instance_id,
		     json_object *instance, struct awsapi_error *err);
/* GetConsoleOutput: {"timestamp", "output_base64"} (output as EC2 gives it). */
int ec2_console_output(struct awsapi_client *ec2, const char *instance_id, json_object **out,
		       struct awsapi_error *err);

#endif
