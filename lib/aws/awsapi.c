// SPDX-License-Identifier: GPL-2.0-only
#include "aws/awsapi.h"
#include "aws/endpoint.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GLOBAL_SIGNING_REGION "us-east-1"
#define QUERY_CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"
#define JSON_CONTENT_TYPE "application/x-amz-json-1.1"

const struct awsapi_service awsapi_ec2 = { "EC2", "ec2", "ec2", "2016-11-15", NULL, false, NULL };
const struct awsapi_service awsapi_sts = { "STS", "sts", "sts", "2011-06-15", NULL, false, NULL };
const struct awsapi_service awsapi_iam = { "IAM", "iam", "iam", "2010-05-08", NULL, true, NULL };
const struct awsapi_service awsapi_sns = { "SNS", "sns", "sns", "2010-03-31", NULL, false, NULL };
const struct awsapi_service awsapi_ssm = { "SSM", "ssm", "ssm", NULL, "AmazonSSM", false, NULL };
const struct awsapi_service awsapi_kms = { "KMS", "kms", "kms", NULL, "TrentService", false, NULL };
/* Named as the SDKs name their endpoint variables: AWS_ENDPOINT_URL_AUTO_SCALING, … */
const struct awsapi_service awsapi_autoscaling = {
	"AutoScaling", "autoscaling", "autoscaling", "2011-01-01", NULL, false, "AUTO_SCALING",
};
const struct awsapi_service awsapi_elb = {
	"ELB", "elasticloadbalancing", "elasticloadbalancing", "2012-06-01", NULL, false,
	"ELASTIC_LOAD_BALANCING",
};
const struct awsapi_service awsapi_elbv2 = {
	"ELBv2", "elasticloadbalancing", "elasticloadbalancing", "2015-12-01", NULL, false,
	"ELASTIC_LOAD_BALANCING_V2",
};


static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static bool in_list(const char *code, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(code, *list))
			return true;
	return false;
}

bool awsapi_code_is_throttling(const char *code)
{
	static const char *const throttling[] = {
		"RequestLimitExceeded", "Throttling", "ThrottlingException", "ThrottledException",
		"TooManyRequestsException", "RequestThrottled", "RequestThrottledException",
		"ProvisionedThroughputExceededException", "SlowDown", "EC2ThrottledException",
		"BandwidthLimitExceeded", "PriorRequestNotComplete", NULL,
	};

	return code && in_list(code, throttling);
}

int awsapi_code_errno(const char *code, long status)
{
	static const char *const denied[] = {
		"AuthFailure", "SignatureDoesNotMatch", "InvalidClientTokenId",
		"UnrecognizedClientException", "AccessDenied", "AccessDeniedException",
		"UnauthorizedOperation", "IncompleteSignature", "MissingAuthenticationToken",
		"InvalidAccessKeyId", "ExpiredToken", "ExpiredTokenException", "RequestExpired",
		"InvalidSignatureException", "AuthorizationError", "OptInRequired", NULL,
	};

	if (!code || !*code)
		return status == 401 || status == 403 ? -EACCES : status == 404 ? -ENOENT : -EIO;
	if (awsapi_code_is_throttling(code))
		return -EAGAIN;
	if (in_list(code, denied))
		return -EACCES;
	if (ends_with(code, ".NotFound") || ends_with(code, "NotFound") ||
	    ends_with(code, "NotFoundException") || !strncmp(code, "NoSuch", 6) ||
	    !strcmp(code, "InvalidInstanceId"))
		return -ENOENT;
	if (ends_with(code, ".Malformed") || !strncmp(code, "InvalidParameter", 16) ||
	    !strcmp(code, "MissingParameter") || !strcmp(code, "ValidationError") ||
	    !strcmp(code, "ValidationException"))
		return -EINVAL;
	return -EIO;
}

int awsapi_client_init(struct awsapi_client *c, const struct awsapi_service *service,
		       const char *region, struct aws_credentials_provider *credentials,
		       char *why, size_t whylen)
{
	struct aws_http_client *h = &c->http;
	int ret;

	memset(c, 0, sizeof(*c));
	c->service = service;
	ret = aws_http_client_init(h, service->global ? GLOBAL_SIGNING_REGION : region,
				   service->signing_name, credentials);
	if (ret) {
		snprintf(why, whylen, "out of memory");
		return ret;
	}
	h->classify = awsapi_classify;
	ret = aws_endpoint_resolve(service->endpoint_id ? service->endpoint_id : service->id,
				   service->host_prefix,
				   service->global ? NULL : region, &h->endpoint, why, whylen);
	if (ret)
		aws_http_client_free(h);
	return ret;
}

void awsapi_client_free(struct awsapi_client *c)
{
	aws_http_client_free(&c->http);
	c->service = NULL;
}

void awsapi_params_add(struct awsapi_params *p, const char *name, const char *fmt, ...)
{
	char *n = NULL, *v = NULL;
	va_list ap;
	int r;

	if (p->error)
		return;
	if (p->count == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		struct sigv4_pair *grown = realloc(p->items, cap * sizeof(*grown));

		if (!grown) {
			p->error = -ENOMEM;
			return;
		}
		p->items = grown;
		p->cap = cap;
	}
	va_start(ap, fmt);
	r = vasprintf(&v, fmt, ap);
	va_end(ap);
	n = strdup(name);
	if (r < 0 || !n) {
		if (r >= 0)
			free(v);
		free(n);
		p->error = -ENOMEM;
		return;
	}
	p->items[p->count].name = n;
	p->items[p->count].value = v;
	p->count++;
}

void awsapi_params_free(struct awsapi_params *p)
{
	for (size_t i = 0; i < p->count; i++) {
		free((char *)p->items[i].name);
		free((char *)p->items[i].value);
	}
	free(p->items);
	memset(p, 0, sizeof(*p));
}

/* ---- answers ---- */

/* At most size - 1 bytes of s, on one line: a message is printed on one. */
static const char *one_line(const char *s, char *buf, size_t size)
{
	if (!s)
		return NULL;
	snprintf(buf, size, "%s", s);
	for (char *c = buf; *c; c++)
		if (*c == '\n' || *c == '\r' || *c == '\t')
			*c = ' ';
	return buf;
}

/* Code and message of an error answer, kept in resp->error (freed with resp). */
void awsapi_read_error(struct aws_http_response *resp)
{
	const char *code = NULL, *message = NULL;
	char code_buf[AWSAPI_CODE_MAX], message_buf[AWSAPI_MESSAGE_MAX];
	struct awsxml_node *root = NULL;
	json_object *j = NULL, *v;
	const char *b = resp->body;

	if (!b || resp->body_overflow)
		return;
	while (*b == ' ' || *b == '\n' || *b == '\r' || *b == '\t')
		b++;
	if (*b == '{') {
		j = json_tokener_parse(b);
		if (j && json_object_is_type(j, json_type_object)) {
			if (json_object_object_get_ex(j, "__type", &v) ||
			    json_object_object_get_ex(j, "code", &v))
				code = json_object_get_string(v);
			if (json_object_object_get_ex(j, "message", &v) ||
			    json_object_object_get_ex(j, "Message", &v))
				message = json_object_get_string(v);
		}
		/* "com.amazonaws.ssm#InvalidInstanceId" → "InvalidInstanceId" */
		if (code && strchr(code, '#'))
			code = strrchr(code, '#') + 1;
	} else if (*b == '<' && !awsxml_parse(resp->body, resp->body_len, &root)) {
		/* EC2: Response/Errors/Error; Query: ErrorResponse/Error; S3 shape: Error. */
		const struct awsxml_node *e = !strcmp(root->name, "Error") ? root :
					      awsxml_find(root, "Error");

		code = awsxml_text(e, "Code");
		message = awsxml_text(e, "Message");
	}
	if (code) {
		/* "ThrottlingException:http://internal.amazon.com/" → "ThrottlingException" */
		code = one_line(code, code_buf, sizeof(code_buf));
		code_buf[strcspn(code_buf, ":")] = '\0';
		aws_http_error_set(resp, code, one_line(message, message_buf, sizeof(message_buf)),
				   NULL, NULL);
	}
	json_object_put(j);
	awsxml_free(root);
}

/*
 * Our clock is off: EC2 says RequestExpired, STS and the JSON services a
 * signature that "expired" (or is not yet current).
 */
static bool clock_skewed(const char *code, const char *message)
{
	if (!strcmp(code, "RequestExpired") || !strcmp(code, "RequestTimeTooSkewed"))
		return true;
	return (!strcmp(code, "SignatureDoesNotMatch") || !strcmp(code, "AuthFailure") ||
		!strcmp(code, "InvalidSignatureException")) && message &&
	       (strcasestr(message, "expired") || strcasestr(message, "not yet current"));
}

enum aws_http_verdict awsapi_classify(struct aws_http_client *c, struct aws_http_response *resp,
				      char *why, size_t whylen)
{
	const char *code, *message;
	bool fatal;

	if (aws_http_transport_failed(c, resp, &fatal, why, whylen))
		return fatal ? AWS_HTTP_FATAL : AWS_HTTP_RETRY;
	if (resp->status >= 200 && resp->status < 300)
		return AWS_HTTP_OK;
	if (!resp->error.code)
		awsapi_read_error(resp);
	code = resp->error.code ? resp->error.code : "";
	message = resp->error.message;
	snprintf(why, whylen, "%s%s%s (HTTP %ld)", code[0] ? code : "no error code",
		 message ? ": " : "", message ? message : "", resp->status);
	/* These services' errors carry no ServerTime: the Date header says. */
	if (clock_skewed(code, message) && aws_http_clock_correct(c, resp))
		return AWS_HTTP_RETRY_NOW;
	if (!strcmp(code, "ExpiredToken") || !strcmp(code, "ExpiredTokenException")) {
		aws_credentials_invalidate(c->credentials);
		return AWS_HTTP_RETRY_NOW;
	}
	if (awsapi_code_is_throttling(code) || !strcmp(code, "InternalError") ||
	    !strcmp(code, "InternalFailure") || !strcmp(code, "ServiceUnavailable") ||
	    !strcmp(code, "Unavailable"))
		return AWS_HTTP_RETRY;
	/* Throttled without a code we know. */
	if (resp->status == 429)
		return AWS_HTTP_RETRY;
	return aws_http_status_verdict(resp->status);
}

static int perform(struct awsapi_client *c, const char *api, const char *target,
		   const char *content_type, const char *body, size_t body_len,
		   struct aws_http_response *resp, struct awsapi_error *err)
{
	struct aws_http_request r = { .method = "POST", .path = "" };
	char why[AWSAPI_ERROR_MAX] = "";
	int ret;

	memset(err, 0, sizeof(*err));
	aws_http_request_add_header(&r, "content-type", content_type);
	if (target)
		aws_http_request_add_header(&r, "x-amz-target", target);
	aws_http_request_set_body(&r, body, body_len);
	resp->body_max = AWSXML_BODY_MAX;
	ret = aws_http_perform(&c->http, &r, resp, why, sizeof(why));
	if (!ret && resp->body_overflow) {
		snprintf(why, sizeof(why), "the answer is larger than %u bytes", AWSXML_BODY_MAX);
		ret = -EIO;
	}
	if (!ret)
		return 0;
	err->status = resp->status;
	if (resp->error.code) {
		snprintf(err->code, sizeof(err->code), "%s", resp->error.code);
		snprintf(err->message, sizeof(err->message), "%s",
			 resp->error.message ? resp->error.message : "");
		ret = awsapi_code_errno(err->code, resp->status);
		/* Throttled to the end is -EAGAIN; a 5xx to the end stays -EIO. */
	} else if (resp->status) {
		ret = awsapi_code_errno(NULL, resp->status);
	} else if (ret != -EINVAL && ret != -AWS_HTTP_ENOTRUST) {
		ret = -EIO;  /* transport */
	}
	snprintf(err->text, sizeof(err->text), "%s %s: %s", c->service->id, api,
		 why[0] ? why : strerror(-ret));
	return ret;
}

int awsapi_form_append(char **body, size_t *len, const char *name, const char *value)
{
	int ret = aws_http_pair_append(body, '&', name, value, true);

	if (!ret)
		*len = strlen(*body);
	return ret;
}

int awsapi_query(struct awsapi_client *c, const char *action, const struct awsapi_params *params,
		 struct awsxml_node **result, struct awsapi_error *err)
{
	struct aws_http_response resp = { .content_length = -1 };
	char *body = NULL;
	size_t len = 0;
	int ret;

	*result = NULL;
	memset(err, 0, sizeof(*err));
	ret = params && params->error ? params->error : 0;
	if (!ret)
		ret = awsapi_form_append(&body, &len, "Action", action);
	if (!ret)
		ret = awsapi_form_append(&body, &len, "Version", c->service->version);
	for (size_t i = 0; !ret && params && i < params->count; i++)
		ret = awsapi_form_append(&body, &len, params->items[i].name, params->items[i].value);
	if (ret) {
		snprintf(err->text, sizeof(err->text), "%s %s: cannot build the request: %s",
			 c->service->id, action, strerror(-ret));
		free(body);
		return ret;
	}
	ret = perform(c, action, NULL, QUERY_CONTENT_TYPE, body, len, &resp, err);
	if (!ret) {
		ret = awsxml_parse(resp.body ? resp.body : "", resp.body_len, result);
		if (ret)
			snprintf(err->text, sizeof(err->text), "%s %s: the answer is not XML",
				 c->service->id, action);
		ret = ret ? -EIO : 0;
	}
	aws_http_response_reset(&resp);
	free(body);
	return ret;
}

int awsapi_json(struct awsapi_client *c, const char *operation, json_object *request,
		json_object **result, struct awsapi_error *err)
{
	struct aws_http_response resp = { .content_length = -1 };
	char target[160];
	const char *body;
	int ret;

	*result = NULL;
	memset(err, 0, sizeof(*err));
	snprintf(target, sizeof(target), "%s.%s", c->service->json_target, operation);
	body = request ? json_object_to_json_string_ext(request, JSON_C_TO_STRING_PLAIN) : "{}";
	ret = perform(c, operation, target, JSON_CONTENT_TYPE, body, strlen(body), &resp, err);
	if (!ret) {
		ret = awsapi_json_answer(resp.body ? resp.body : "{}", resp.body ? resp.body_len : 2,
					 result);
		if (ret)
			snprintf(err->text, sizeof(err->text),
				 "%s %s: the answer is not a JSON object", c->service->id,
				 operation);
	}
	aws_http_response_reset(&resp);
	return ret;
}

int awsapi_json_answer(const char *body, size_t len, json_object **result)
{
	struct json_tokener *tok = len <= INT_MAX ? json_tokener_new() : NULL;

	*result = tok ? json_tokener_parse_ex(tok, body, (int)len) : NULL;
	if (tok)
		json_tokener_free(tok);
	if (!*result || !json_object_is_type(*result, json_type_object)) {
		json_object_put(*result);
		*result = NULL;
		return -EIO;
	}
	return 0;
}
