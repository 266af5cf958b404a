// SPDX-License-Identifier: GPL-2.0-only
/*
 * The controller's AWS client without a network: the XML tree on real
 * answer shapes and hostile bodies, error codes out of every protocol's
 * error shape, retry verdicts, error classes, endpoints, STS times.
 */
#include <string.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "aws/awsxml.h"
#include "aws/awsapi.h"
#include "aws/endpoint.h"
#include "aws/sts.h"

static const char describe_answer[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
	"<requestId>r-1</requestId><reservationSet><item><reservationId>r-0</reservationId>"
	"<instancesSet><item><instanceId>i-0123456789abcdef0</instanceId>"
	"<instanceState><code>16</code><name>running</name></instanceState>"
	"<blockDeviceMapping>"
	"<item><deviceName>/dev/xvda</deviceName><ebs><volumeId>vol-1</volumeId></ebs></item>"
	"<item><deviceName>/dev/sdf</deviceName><ebs><volumeId>vol-2</volumeId></ebs></item>"
	"</blockDeviceMapping>"
	"<tagSet><item><key>a&amp;b</key><value>&lt;x&gt;</value></item></tagSet>"
	"</item></instancesSet></item></reservationSet></DescribeInstancesResponse>";

static void test_tree_walk(void **state)
{
	struct awsxml_node *root;
	const struct awsxml_node *i;
	const char *volumes[2];
	size_t n = 0;

	assert_int_equal(awsxml_parse(describe_answer, strlen(describe_answer), &root), 0);
	assert_string_equal(root->name, "DescribeInstancesResponse");
	i = awsxml_path(root, "reservationSet/item/instancesSet/item");
	assert_non_null(i);
	assert_string_equal(awsxml_text(i, "instanceState/name"), "running");
	awsxml_for_each(b, awsxml_child(i, "blockDeviceMapping"), "item") {
		assert_true(n < 2);
		volumes[n++] = awsxml_text(b, "ebs/volumeId");
	}
	assert_int_equal(n, 2);
	assert_string_equal(volumes[0], "vol-1");
	assert_string_equal(volumes[1], "vol-2");
	assert_string_equal(awsxml_text(i, "tagSet/item/key"), "a&b");
	assert_string_equal(awsxml_text(i, "tagSet/item/value"), "<x>");
	assert_null(awsxml_text(i, "instanceState/missing"));
	assert_null(awsxml_path(NULL, "a"));
	assert_string_equal(awsxml_find(root, "deviceName")->text, "/dev/xvda");
	assert_null(awsxml_find(root, "nothing"));
	awsxml_free(root);
}

static void test_tree_hostile(void **state)
{
	static const char *const bad[] = {
		"",
		"not xml",
		"<a><b></a>",
		"<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>",
		"<!DOCTYPE a SYSTEM \"file:///etc/passwd\"><a/>",
		"<a/><b/>",
	};
	struct awsxml_node *root;
	char deep[4 * (AWSXML_MAX_DEPTH + 2) * 2 + 1], *p = deep;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(awsxml_parse(bad[i], strlen(bad[i]), &root), -EBADMSG);
	for (int i = 0; i < AWSXML_MAX_DEPTH + 1; i++)
		p += sprintf(p, "<a>");
	for (int i = 0; i < AWSXML_MAX_DEPTH + 1; i++)
		p += sprintf(p, "</a>");
	assert_int_equal(awsxml_parse(deep, strlen(deep), &root), -EBADMSG);
	assert_null(root);
}

struct error_case {
	const char *body;
	long status;
	const char *code, *message;
	enum aws_http_verdict verdict;
	int err;
};

static const struct error_case errors[] = {
	/* EC2 */
	{ "<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code><Message>The "
	  "instance ID 'i-1' does not exist</Message></Error></Errors><RequestID>x</RequestID>"
	  "</Response>", 400, "InvalidInstanceID.NotFound", "The instance ID 'i-1' does not exist",
	  AWS_HTTP_FATAL, -ENOENT },
	{ "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit "
	  "exceeded.</Message></Error></Errors></Response>", 503, "RequestLimitExceeded",
	  "Request limit exceeded.", AWS_HTTP_RETRY, -EAGAIN },
	{ "<Response><Errors><Error><Code>AuthFailure</Code><Message>AWS was not able to "
	  "validate the provided access credentials</Message></Error></Errors></Response>", 401,
	  "AuthFailure", NULL, AWS_HTTP_FATAL, -EACCES },
	{ "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>no"
	  "</Message></Error></Errors></Response>", 403, "UnauthorizedOperation", "no",
	  AWS_HTTP_FATAL, -EACCES },
	{ "<Response><Errors><Error><Code>InvalidInstanceID.Malformed</Code><Message>bad"
	  "</Message></Error></Errors></Response>", 400, "InvalidInstanceID.Malformed", "bad",
	  AWS_HTTP_FATAL, -EINVAL },
	/* Query (STS, IAM, SNS) */
	{ "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender"
	  "</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>",
	  400, "Throttling", "Rate exceeded", AWS_HTTP_RETRY, -EAGAIN },
	{ "<ErrorResponse><Error><Code>AccessDenied</Code><Message>User is not authorized to\n"
	  "perform: sts:AssumeRole</Message></Error></ErrorResponse>", 403, "AccessDenied",
	  "User is not authorized to perform: sts:AssumeRole", AWS_HTTP_FATAL, -EACCES },
	{ "<ErrorResponse><Error><Code>ExpiredToken</Code><Message>x</Message></Error>"
	  "</ErrorResponse>", 400, "ExpiredToken", "x", AWS_HTTP_RETRY_NOW, -EACCES },
	/* JSON 1.1 (SSM, KMS) */
	{ "{\"__type\":\"com.amazonaws.ssm#InvalidInstanceId\",\"message\":\"no\"}", 400,
	  "InvalidInstanceId", "no", AWS_HTTP_FATAL, -ENOENT },
	{ "{\"__type\":\"ThrottlingException:http://internal.amazon.com/\",\"Message\":\"slow\"}",
	  400, "ThrottlingException", "slow", AWS_HTTP_RETRY, -EAGAIN },
	/* S3's flat shape (a proxy's), and answers with no code at all */
	{ "<Error><Code>SlowDown</Code><Message>m</Message></Error>", 503, "SlowDown", "m",
	  AWS_HTTP_RETRY, -EAGAIN },
	{ "<html>gateway</html>", 502, NULL, NULL, AWS_HTTP_RETRY, -EIO },
	{ "", 500, NULL, NULL, AWS_HTTP_RETRY, -EIO },
	{ "", 404, NULL, NULL, AWS_HTTP_FATAL, -ENOENT },
	{ "{\"__type\": 3", 400, NULL, NULL, AWS_HTTP_FATAL, -EIO },
};

static void test_errors(void **state)
{
	struct aws_http_client c = { 0 };

	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		const struct error_case *e = &errors[i];
		struct aws_http_response resp = { .content_length = -1, .status = e->status };
		char why[512];

		resp.body = strdup(e->body);
		resp.body_len = strlen(e->body);
		assert_int_equal(awsapi_classify(&c, &resp, why, sizeof(why)), e->verdict);
		if (e->code) {
			assert_string_equal(resp.error.code, e->code);
			assert_non_null(strstr(why, e->code));
		} else {
			assert_null(resp.error.code);
		}
		if (e->message)
			assert_string_equal(resp.error.message, e->message);
		assert_int_equal(awsapi_code_errno(resp.error.code, e->status), e->err);
		aws_http_response_reset(&resp);
	}
}

static void test_transport_retried(void **state)
{
	struct aws_http_client c = { 0 };
	struct aws_http_response resp = { .curl_code = CURLE_COULDNT_CONNECT };
	char why[256];

	assert_int_equal(awsapi_classify(&c, &resp, why, sizeof(why)), AWS_HTTP_RETRY);
	assert_non_null(strstr(why, "transport"));
}

static void test_clock_corrected(void **state)
{
	static const char *const bodies[] = {
		"<Response><Errors><Error><Code>RequestExpired</Code><Message>Request has expired."
		"</Message></Error></Errors></Response>",
		"<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>Signature expired: "
		"20261128T170000Z is now earlier than 20261128T171500Z</Message></Error>"
		"</ErrorResponse>",
		"{\"__type\":\"InvalidSignatureException\",\"message\":\"Signature expired\"}",
	};
	char date[64], why[256];
	time_t later = time(NULL) + 3600;
	struct tm tm;

	gmtime_r(&later, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct aws_http_client c = { 0 };
		struct aws_http_response resp = { .status = i ? 403 : 400 };

		resp.body = strdup(bodies[i]);
		resp.body_len = strlen(bodies[i]);
		resp.date = strdup(date);
		assert_int_equal(awsapi_classify(&c, &resp, why, sizeof(why)), AWS_HTTP_RETRY_NOW);
		assert_true(c.clock_offset > 3590 && c.clock_offset < 3610);
		aws_http_response_reset(&resp);
		/* Without the server's time there is nothing to correct with. */
		resp.status = 400;
		resp.body = strdup(bodies[i]);
		resp.body_len = strlen(bodies[i]);
		assert_int_equal(awsapi_classify(&c, &resp, why, sizeof(why)), AWS_HTTP_FATAL);
		aws_http_response_reset(&resp);
	}
}

static void test_endpoints(void **state)
{
	struct s3_endpoint e;
	char why[256];

	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_EC2");
	unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	assert_int_equal(aws_endpoint_resolve("EC2", "ec2", "eu-west-1", &e, why, sizeof(why)), 0);
	assert_string_equal(e.scheme, "https");
	assert_string_equal(e.host, "ec2.eu-west-1.amazonaws.com");
	assert_string_equal(e.path_prefix, "");
	s3_endpoint_free(&e);
	assert_int_equal(aws_endpoint_resolve("IAM", "iam", NULL, &e, why, sizeof(why)), 0);
	assert_string_equal(e.host, "iam.amazonaws.com");
	s3_endpoint_free(&e);
	assert_int_equal(aws_endpoint_resolve("STS", "sts", "cn-north-1", &e, why, sizeof(why)), 0);
	assert_string_equal(e.host, "sts.cn-north-1.amazonaws.com.cn");
	s3_endpoint_free(&e);
	assert_int_equal(aws_endpoint_resolve("EC2", "ec2", "../x", &e, why, sizeof(why)), -EINVAL);
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000", 1);
	setenv("AWS_ENDPOINT_URL_EC2", "http://LOCALHOST:6000/", 1);
	assert_int_equal(aws_endpoint_resolve("EC2", "ec2", "eu-west-1", &e, why, sizeof(why)), 0);
	assert_string_equal(e.scheme, "http");
	assert_string_equal(e.host, "localhost:6000");
	s3_endpoint_free(&e);
	assert_int_equal(aws_endpoint_resolve("SSM", "ssm", "eu-west-1", &e, why, sizeof(why)), 0);
	assert_string_equal(e.host, "127.0.0.1:5000");
	s3_endpoint_free(&e);
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
	assert_int_equal(aws_endpoint_resolve("SSM", "ssm", "eu-west-1", &e, why, sizeof(why)), 0);
	assert_string_equal(e.host, "ssm.eu-west-1.amazonaws.com");
	s3_endpoint_free(&e);
	unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	setenv("AWS_ENDPOINT_URL_EC2", "ftp://x", 1);
	assert_int_equal(aws_endpoint_resolve("EC2", "ec2", "eu-west-1", &e, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "AWS_ENDPOINT_URL_EC2"));
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_EC2");
}

static void test_params_and_form(void **state)
{
	struct awsapi_params p = { 0 };
	char *body = NULL;
	size_t len = 0;

	awsapi_params_add(&p, "Filter.1.Value.1", "%s", "i-0 a&b=c/d+");
	assert_int_equal(p.count, 1);
	assert_int_equal(awsapi_form_append(&body, &len, "Action", "DescribeInstances"), 0);
	assert_int_equal(awsapi_form_append(&body, &len, p.items[0].name, p.items[0].value), 0);
	assert_string_equal(body, "Action=DescribeInstances&Filter.1.Value.1=i-0+a%26b%3Dc%2Fd%2B");
	assert_int_equal(len, strlen(body));
	free(body);
	awsapi_params_free(&p);
}

static void test_sts_time(void **state)
{
	assert_int_equal(sts_parse_time("2026-11-28T17:00:00Z"), 1795885200);
	assert_int_equal(sts_parse_time("2026-11-28T17:00:00.123Z"), 1795885200);
	assert_int_equal(sts_parse_time("2026-11-28T17:00:00+02:00"), 0);
	assert_int_equal(sts_parse_time("soon"), 0);
	assert_int_equal(sts_parse_time(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree_walk),
		cmocka_unit_test(test_tree_hostile),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_transport_retried),
		cmocka_unit_test(test_clock_corrected),
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_params_and_form),
		cmocka_unit_test(test_sts_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
