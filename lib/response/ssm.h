/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Memory acquisition through SSM Run Command: the project's Command document
 * (forensics-acquire, see ssmdoc.h) sent to the instance with its parameters,
 * then GetCommandInvocation polled with growing, jittered intervals until the
 * command ends or the deadline passes. The agent's last line of output is its
 * manifest.
 */
#ifndef FORENSICS_SSM_H
#define FORENSICS_SSM_H

#include "aws/awsapi.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <time.h>

#define SSM_POLL_FIRST_MS 1000
#define SSM_POLL_CAP_MS 30000
#define SSM_DEFAULT_TIMEOUT_S (4 * 3600)
/* How long an instance may take to show up in SSM (a profile just attached). */
#define SSM_REGISTER_TIMEOUT_S 300

/*
 * SendCommand of the document to the instance, params {"Name": "value", ...}
 * (sent as SSM's {"Name": ["value"]}); *command_id malloc'd. An instance not
 * (yet) registered with SSM (InvalidInstanceId) is asked again until
 * register_deadline: a profile just attached takes a few minutes to show. A
 * document the account does not have (InvalidDocument) is named in err.
 */
int ssm_send(struct awsapi_client *ssm, const char *instance_id, const char *document,
	     json_object *params, const char *comment, time_t register_deadline,
	     char **command_id, struct awsapi_error *err);
/*
 * A command sent to the instance with this document and comment that has not
 * failed (Pending, InProgress or Success: a rerun adopts it rather than send
 * a second), through ListCommands: 0 with *command_id malloc'd, or NULL when
 * there is none; or the call's error.
 */
int ssm_find_command(struct awsapi_client *ssm, const char *instance_id, const char *document,
		     const char *comment, char **command_id, struct awsapi_error *err);
/* Pure step of it, for tests: the first such command of a ListCommands answer, or NULL. */
const char *ssm_command_match(json_object *answer, const char *document, const char *comment);
/*
 * Until the invocation ends: *out {"status", "status_details", "response_code",
 * "stdout_tail", "stderr_tail"}; 0 for Success, -EIO for another end,
 * -ETIMEDOUT at the deadline (with *out as last seen).
 */
int ssm_wait(struct awsapi_client *ssm, const char *command_id, const char *instance_id,
	     time_t deadline, json_object **out, struct awsapi_error *err);

/* Pure steps of the two, for tests: SendCommand's answer to its command id (0 or -EIO). */
int ssm_command_id(json_object *answer, char **command_id);
/*
 * GetCommandInvocation's answer as the record keeps it; *status points into
 * answer ("" for a missing or null Status).
 */
json_object *ssm_invocation_view(json_object *answer, const char **status);
bool ssm_status_running(const char *status);

#endif
