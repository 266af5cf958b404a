// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer: JSON 1.1 answers (SSM, KMS) as the controller reads them: the
 * answer parser, the error reader on the same bytes, SendCommand's answer as
 * ssm_send() takes the command id from it, and GetCommandInvocation's as
 * ssm_wait() turns it into the case record's view of the agent's run (the
 * transport replaced by the input).
 */
#include "../../controller/awsxml.c"
#define awsapi_json awsapi_json_over_http
#include "../../controller/awsapi.c"
#undef awsapi_json

#include <stdint.h>

int awsapi_json(struct awsapi_client *c, const char *operation, json_object *request,
		json_object **result, struct awsapi_error *err);

#include "../../controller/ssm.c"

static const char *answer;
static size_t answer_len;

/* What awsapi_json() does once the HTTP exchange succeeded. */
int awsapi_json(struct awsapi_client *c, const char *operation, json_object *request,
		json_object **result, struct awsapi_error *err)
{
	memset(err, 0, sizeof(*err));
	if (awsapi_json_answer(answer, answer_len, result)) {
		snprintf(err->text, sizeof(err->text), "SSM %s: the answer is not a JSON object",
			 operation);
		return -EIO;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct s3_response resp = { .content_length = -1 };
	struct awsapi_error err;
	json_object *out = NULL, *params;
	char *command_id = NULL, *body = malloc(size + 1);

	if (!body)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0';
	/* As an error answer: read_error() wants the NUL s3.c's on_body() keeps. */
	resp.body = body;
	resp.body_len = size;
	resp.status = 400;
	read_error(&resp);
	if (resp.xml_parsed && resp.xml.code) {
		if (strlen(resp.xml.code) >= AWSAPI_CODE_MAX || strchr(resp.xml.code, ':'))
			abort();
		(void)awsapi_code_errno(resp.xml.code, resp.status);
	}
	resp.body = NULL;
	s3_response_reset(&resp);
	/* As a successful answer, unterminated: the parser must keep to its length. */
	answer = (const char *)data;
	answer_len = size;
	/* Deadlines passed: one answer read, no waiting between polls. */
	params = json_object_new_object();
	json_object_object_add(params, "CaseId", json_object_new_string("case-1"));
	if (!ssm_send(NULL, "i-0123456789abcdef0", "forensics-acquire", params, "case-1", 0,
		      &command_id, &err) && !command_id)
		abort();
	free(command_id);
	json_object_put(params);

	(void)ssm_wait(NULL, "00000000-0000-0000-0000-000000000000", "i-0123456789abcdef0", 0,
		       &out, &err);
	if (out)
		(void)json_object_to_json_string(out);
	json_object_put(out);
	free(body);
	return 0;
}
