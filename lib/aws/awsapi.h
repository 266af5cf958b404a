/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One client for every AWS API the controller calls, on the AWS request
 * loop (http.h: same backoff with full jitter, same credential refresh as
 * S3's):
 *
 *   Query protocol (EC2, STS, IAM, SNS, Auto Scaling, Elastic Load Balancing
 *     classic and v2): form-encoded POST of
 *     Action=…&Version=…&params, XML answer (a tree: awsxml.h)
 *   JSON 1.1 protocol (SSM, KMS): POST of a JSON object with
 *     X-Amz-Target: <prefix>.<Operation>, JSON answer (json-c)
 *
 * Endpoints as the SDKs find them: AWS_ENDPOINT_URL_<ID>, AWS_ENDPOINT_URL,
 * else https://<service>.<region>.amazonaws.com. Throttling
 * (RequestLimitExceeded, Throttling, ThrottlingException, …) and 5xx are
 * retried with backoff; everything else fails at once with one line naming
 * the service, the API, AWS's code and message.
 *
 * Library code: no printing.
 */
#ifndef FORENSICS_AWSAPI_H
#define FORENSICS_AWSAPI_H

#include "aws/awsxml.h"
#include "aws/credentials.h"
#include "aws/http.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define AWSAPI_ERROR_MAX 768
#define AWSAPI_CODE_MAX 128
#define AWSAPI_MESSAGE_MAX 512

struct awsapi_service {
	const char *id;           /* "EC2": AWS_ENDPOINT_URL_EC2, and in messages */
	const char *signing_name; /* "ec2" */
	const char *host_prefix;  /* "ec2" in ec2.<region>.amazonaws.com */
	const char *version;      /* Query: the API version; JSON: NULL */
	const char *json_target;  /* JSON: X-Amz-Target prefix ("AmazonSSM"); Query: NULL */
	bool global;              /* IAM: one endpoint, signed for us-east-1 */
	const char *endpoint_id;  /* AWS_ENDPOINT_URL_<endpoint_id> when not id's */
};

extern const struct awsapi_service awsapi_ec2, awsapi_sts, awsapi_iam, awsapi_sns, awsapi_ssm,
	awsapi_kms, awsapi_autoscaling, awsapi_elb, awsapi_elbv2;

struct awsapi_client {
	const struct awsapi_service *service;
	struct aws_http_client http;  /* credentials borrowed */
};

/* What AWS said, and one line for the user. */
struct awsapi_error {
	long status;                     /* HTTP status, 0 when none came */
	char code[AWSAPI_CODE_MAX];      /* "InvalidInstanceID.NotFound", "" */
	char message[AWSAPI_MESSAGE_MAX];
	char text[AWSAPI_ERROR_MAX];     /* "EC2 DescribeInstances: <code>: <message> (HTTP 400)" */
};

/* Query parameters, copied. An allocation failure is kept and reported by the call. */
struct awsapi_params {
	struct sigv4_pair *items;
	size_t count, cap;
	int error;
};

/* credentials is borrowed: several clients share one provider. */
int awsapi_client_init(struct awsapi_client *c, const struct awsapi_service *service,
		       const char *region, struct aws_credentials_provider *credentials,
		       char *why, size_t whylen);
void awsapi_client_free(struct awsapi_client *c);

void awsapi_params_add(struct awsapi_params *p, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void awsapi_params_free(struct awsapi_params *p);

/*
 * Returns 0, or: -ENOENT (…NotFound, NoSuch…), -EINVAL (…Malformed,
 * InvalidParameter…), -EACCES (authentication or authorization refused),
 * -EAGAIN (still throttled after the retries), -EIO (anything else), with
 * err filled.
 */
int awsapi_query(struct awsapi_client *c, const char *action, const struct awsapi_params *params,
		 struct awsxml_node **result, struct awsapi_error *err);
/* request may be NULL ({}); *result is the parsed answer, to json_object_put(). */
int awsapi_json(struct awsapi_client *c, const char *operation, json_object *request,
		json_object **result, struct awsapi_error *err);

/* A JSON 1.1 answer's len bytes as a JSON object: 0 with *result, or -EIO. */
int awsapi_json_answer(const char *body, size_t len, json_object **result);

/* The error code's class, as awsapi_query returns it; exposed for tests. */
int awsapi_code_errno(const char *code, long status);
bool awsapi_code_is_throttling(const char *code);
/* What to do with an answer of these protocols (the request loop's classify). */
enum aws_http_verdict awsapi_classify(struct aws_http_client *c, struct aws_http_response *resp,
				      char *why, size_t whylen);
/* An error answer's code and message (XML or JSON) into resp->error. */
void awsapi_read_error(struct aws_http_response *resp);
/* name=value appended to a form body (*body grows, *len its length). */
int awsapi_form_append(char **body, size_t *len, const char *name, const char *value);

#endif
