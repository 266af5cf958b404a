// SPDX-License-Identifier: GPL-2.0-only
#include "response/ssm.h"
#include "base/jsonutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void pause_jittered(long *pause_ms, long cap_ms, unsigned int *seed)
{
	usleep((useconds_t)(*pause_ms / 2 + rand_r(seed) % (*pause_ms / 2 + 1)) * 1000);
	*pause_ms *= 2;
	if (*pause_ms > cap_ms)
		*pause_ms = cap_ms;
}

int ssm_send(struct awsapi_client *ssm, const char *instance_id, const char *document,
	     json_object *params, const char *comment, time_t register_deadline,
	     char **command_id, struct awsapi_error *err)
{
	json_object *req = json_object_new_object(), *lists = json_object_new_object();
	json_object *ids = json_object_new_array();
	json_object *answer = NULL;
	unsigned int seed = (unsigned int)time(NULL) ^ (unsigned int)getpid();
	long pause_ms = SSM_POLL_FIRST_MS;
	int ret;

	*command_id = NULL;
	json_object_array_add(ids, json_object_new_string(instance_id));
	json_object_object_foreach(params, name, value) {
		json_object *one = json_object_new_array();

		json_object_array_add(one, json_object_get(value));
		json_object_object_add(lists, name, one);
	}
	json_object_object_add(req, "DocumentName", json_object_new_string(document));
	json_object_object_add(req, "InstanceIds", ids);
	json_object_object_add(req, "Parameters", lists);
	json_object_object_add(req, "Comment", json_object_new_string(comment));
	for (;;) {
		ret = awsapi_json(ssm, "SendCommand", req, &answer, err);
		if (ret != -ENOENT || strcmp(err->code, "InvalidInstanceId") ||
		    time(NULL) + pause_ms / 1000 > register_deadline)
			break;
		pause_jittered(&pause_ms, SSM_POLL_CAP_MS, &seed);
	}
	json_object_put(req);
	if (ret && !strcmp(err->code, "InvalidDocument"))
		snprintf(err->text, sizeof(err->text),
			 "SSM SendCommand: InvalidDocument: no document %.128s in this account "
			 "and region (create it from delivery/ssm/forensics-acquire.json, or name "
			 "another with --document): %.200s", document, err->message);
	if (ret)
		return ret;
	ret = ssm_command_id(answer, command_id);
	if (ret)
		snprintf(err->text, sizeof(err->text),
			 "SSM SendCommand: no CommandId in the answer");
	json_object_put(answer);
	return ret;
}

const char *ssm_command_match(json_object *answer, const char *document, const char *comment)
{
	static const char *const live[] = { "Pending", "InProgress", "Success" };
	json_object *list = json_object_object_get(answer, "Commands");
	const char *name = strrchr(document, '/');  /* a shared document named by ARN */

	name = name ? name + 1 : document;

	for (size_t i = 0; json_object_is_type(list, json_type_array) &&
			   i < json_object_array_length(list); i++) {
		json_object *c = json_object_array_get_idx(list, i);
		const char *id = json_member_text(c, "CommandId");
		const char *doc = json_member_text(c, "DocumentName");
		const char *text = json_member_text(c, "Comment");
		const char *status = json_member_text(c, "Status");
		bool alive = false;

		for (size_t k = 0; status && k < sizeof(live) / sizeof(live[0]); k++)
			alive |= !strcmp(status, live[k]);
		if (id && alive && doc && (!strcmp(doc, document) || !strcmp(doc, name)) && text &&
		    !strcmp(text, comment))
			return id;
	}
	return NULL;
}

int ssm_find_command(struct awsapi_client *ssm, const char *instance_id, const char *document,
		     const char *comment, char **command_id, struct awsapi_error *err)
{
	char *token = NULL;
	int ret = 0;

	*command_id = NULL;
	/* SSM keeps 30 days of history: a few pages cover one case's commands. */
	for (int page = 0; page < 20 && !*command_id; page++) {
		json_object *req = json_object_new_object(), *answer = NULL;
		const char *id, *next;

		json_object_object_add(req, "InstanceId", json_object_new_string(instance_id));
		json_object_object_add(req, "MaxResults", json_object_new_int(50));
		if (token)
			json_object_object_add(req, "NextToken", json_object_new_string(token));
		ret = awsapi_json(ssm, "ListCommands", req, &answer, err);
		json_object_put(req);
		if (ret)
			break;
		id = ssm_command_match(answer, document, comment);
		if (id && !(*command_id = strdup(id)))
			ret = -ENOMEM;
		next = json_member_text(answer, "NextToken");
		free(token);
		token = next && *next ? strdup(next) : NULL;
		json_object_put(answer);
		if (ret || !token)
			break;
	}
	free(token);
	return ret;
}

int ssm_command_id(json_object *answer, char **command_id)
{
	const char *id = json_path_string(answer, "Command/CommandId");

	*command_id = id ? strdup(id) : NULL;
	return *command_id ? 0 : -EIO;
}

static void copy_field(json_object *to, const char *key, json_object *from, const char *name)
{
	json_object *v;

	if (json_object_object_get_ex(from, name, &v))
		json_object_object_add(to, key, json_object_get(v));
}

json_object *ssm_invocation_view(json_object *answer, const char **status)
{
	json_object *view = json_object_new_object();
	const char *s = json_path_string(answer, "Status");

	copy_field(view, "status", answer, "Status");
	copy_field(view, "status_details", answer, "StatusDetails");
	copy_field(view, "response_code", answer, "ResponseCode");
	copy_field(view, "stdout_tail", answer, "StandardOutputContent");
	copy_field(view, "stderr_tail", answer, "StandardErrorContent");
	*status = s ? s : "";
	return view;
}

bool ssm_status_running(const char *status)
{
	return !strcmp(status, "Pending") || !strcmp(status, "InProgress") ||
	       !strcmp(status, "Delayed");
}

int ssm_wait(struct awsapi_client *ssm, const char *command_id, const char *instance_id,
	     time_t deadline, json_object **out, struct awsapi_error *err)
{
	unsigned int seed = (unsigned int)time(NULL) ^ (unsigned int)getpid();
	long pause_ms = SSM_POLL_FIRST_MS;
	json_object *req = json_object_new_object();
	int ret;

	*out = NULL;
	json_object_object_add(req, "CommandId", json_object_new_string(command_id));
	json_object_object_add(req, "InstanceId", json_object_new_string(instance_id));
	for (;;) {
		json_object *answer = NULL;
		const char *status;

		ret = awsapi_json(ssm, "GetCommandInvocation", req, &answer, err);
		/* Right after SendCommand the invocation may not exist yet. */
		if (ret && strcmp(err->code, "InvocationDoesNotExist"))
			break;
		if (!ret) {
			json_object_put(*out);
			*out = ssm_invocation_view(answer, &status);
			if (!ssm_status_running(status)) {
				if (strcmp(status, "Success")) {
					snprintf(err->text, sizeof(err->text),
						 "SSM GetCommandInvocation: the agent ended %s",
						 status[0] ? status : "without a status");
					ret = -EIO;
				}
				json_object_put(answer);
				break;
			}
		}
		json_object_put(answer);
		if (time(NULL) + pause_ms / 1000 > deadline) {
			snprintf(err->text, sizeof(err->text),
				 "SSM GetCommandInvocation: %s still running at the deadline",
				 command_id);
			ret = -ETIMEDOUT;
			break;
		}
		pause_jittered(&pause_ms, SSM_POLL_CAP_MS, &seed);
	}
	json_object_put(req);
	return ret;
}
