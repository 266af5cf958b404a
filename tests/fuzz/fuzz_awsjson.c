// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer: JSON 1.1 answers (SSM, KMS) as the controller reads them: the
 * answer parser, the error reader on the same bytes, SendCommand's answer as
 * ssm_send() takes the command id from it, and GetCommandInvocation's as
 * ssm_wait() turns it into the case record's view of the agent's run (the
 * steps those two take once the HTTP exchange succeeded).
 */
#include "aws/awsapi.h"
#include "response/ssm.h"

#include <errno.h>
#include <string.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aws_http_response resp = { .content_length = -1 };
	struct awsapi_error err;
	json_object *out = NULL, *answer = NULL;
	char *command_id = NULL, *body = malloc(size + 1);

	if (!body)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0';
	/* As an error answer: awsapi_read_error() wants the NUL http.c's on_body() keeps. */
	resp.body = body;
	resp.body_len = size;
	resp.status = 400;
	awsapi_read_error(&resp);
	if (resp.error.code) {
		if (strlen(resp.error.code) >= AWSAPI_CODE_MAX || strchr(resp.error.code, ':'))
			abort();
		(void)awsapi_code_errno(resp.error.code, resp.status);
	}
	resp.body = NULL;
	aws_http_response_reset(&resp);
	/* As a successful answer, unterminated: the parser must keep to its length. */
	if (!awsapi_json_answer((const char *)data, size, &answer)) {
		const char *status;

		if (!ssm_command_id(answer, &command_id) && !command_id)
			abort();
		free(command_id);
		out = ssm_invocation_view(answer, &status);
		(void)ssm_status_running(status);
		(void)json_object_to_json_string(out);
		json_object_put(out);
		json_object_put(answer);
	}
	free(body);
	return 0;
}
