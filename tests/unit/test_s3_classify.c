// SPDX-License-Identifier: GPL-2.0-only
/* What the uploader does with every kind of S3 answer: a table of them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/s3.h"

struct answer {
	const char *name;
	CURLcode curl;
	long status;
	const char *body;
	const char *date;
	enum aws_http_verdict verdict;
	const char *why_has;
};

static const struct answer answers[] = {
	{ "200 empty", CURLE_OK, 200, "", NULL, AWS_HTTP_OK, NULL },
	{ "200 initiate", CURLE_OK, 200,
	  "<InitiateMultipartUploadResult><UploadId>u</UploadId></InitiateMultipartUploadResult>",
	  NULL, AWS_HTTP_OK, NULL },
	{ "200 carrying an error (Complete)", CURLE_OK, 200,
	  "<Error><Code>InternalError</Code><Message>try again</Message></Error>", NULL,
	  AWS_HTTP_RETRY, "InternalError" },
	{ "200 carrying a fatal error", CURLE_OK, 200,
	  "<Error><Code>InvalidPart</Code><Message>m</Message></Error>", NULL, AWS_HTTP_FATAL,
	  "InvalidPart" },
	{ "503 SlowDown", CURLE_OK, 503, "<Error><Code>SlowDown</Code></Error>", NULL,
	  AWS_HTTP_RETRY, "SlowDown" },
	{ "400 BadDigest: a corrupted body is sent again", CURLE_OK, 400,
	  "<Error><Code>BadDigest</Code></Error>", NULL, AWS_HTTP_RETRY, "BadDigest" },
	{ "400 InvalidDigest", CURLE_OK, 400, "<Error><Code>InvalidDigest</Code></Error>", NULL,
	  AWS_HTTP_RETRY, "InvalidDigest" },
	{ "400 XAmzContentSHA256Mismatch", CURLE_OK, 400,
	  "<Error><Code>XAmzContentSHA256Mismatch</Code></Error>", NULL, AWS_HTTP_RETRY,
	  "XAmzContentSHA256Mismatch" },
	{ "409 ConditionalRequestConflict", CURLE_OK, 409,
	  "<Error><Code>ConditionalRequestConflict</Code></Error>", NULL, AWS_HTTP_RETRY,
	  "ConditionalRequestConflict" },
	{ "412 PreconditionFailed: an object exists, not retried", CURLE_OK, 412,
	  "<Error><Code>PreconditionFailed</Code></Error>", NULL, AWS_HTTP_FATAL,
	  "PreconditionFailed" },
	{ "500 no body", CURLE_OK, 500, "", NULL, AWS_HTTP_RETRY, "HTTP 500" },
	{ "502 html", CURLE_OK, 502, "<html>bad gateway</html>", NULL, AWS_HTTP_RETRY, "HTTP 502" },
	{ "504", CURLE_OK, 504, "", NULL, AWS_HTTP_RETRY, "HTTP 504" },
	{ "400 RequestTimeout", CURLE_OK, 400, "<Error><Code>RequestTimeout</Code></Error>", NULL,
	  AWS_HTTP_RETRY, "RequestTimeout" },
	{ "403 SignatureDoesNotMatch", CURLE_OK, 403,
	  "<Error><Code>SignatureDoesNotMatch</Code><Message>m</Message></Error>", NULL,
	  AWS_HTTP_FATAL, "SignatureDoesNotMatch" },
	{ "403 AccessDenied", CURLE_OK, 403, "<Error><Code>AccessDenied</Code></Error>", NULL,
	  AWS_HTTP_FATAL, "AccessDenied" },
	{ "404 NoSuchBucket", CURLE_OK, 404, "<Error><Code>NoSuchBucket</Code></Error>", NULL,
	  AWS_HTTP_FATAL, "NoSuchBucket" },
	{ "400 ExpiredToken", CURLE_OK, 400, "<Error><Code>ExpiredToken</Code></Error>", NULL,
	  AWS_HTTP_RETRY_NOW, "ExpiredToken" },
	{ "403 RequestTimeTooSkewed, ServerTime", CURLE_OK, 403,
	  "<Error><Code>RequestTimeTooSkewed</Code><ServerTime>2030-01-01T00:00:00Z</ServerTime>"
	  "</Error>", NULL, AWS_HTTP_RETRY_NOW, "RequestTimeTooSkewed" },
	{ "403 RequestTimeTooSkewed, Date header only", CURLE_OK, 403,
	  "<Error><Code>RequestTimeTooSkewed</Code></Error>", "Tue, 01 Jan 2030 00:00:00 GMT",
	  AWS_HTTP_RETRY_NOW, "RequestTimeTooSkewed" },
	{ "403 RequestTimeTooSkewed, no time at all", CURLE_OK, 403,
	  "<Error><Code>RequestTimeTooSkewed</Code></Error>", NULL, AWS_HTTP_FATAL,
	  "RequestTimeTooSkewed" },
	{ "connection reset", CURLE_RECV_ERROR, 0, NULL, NULL, AWS_HTTP_RETRY, "transport" },
	{ "timeout", CURLE_OPERATION_TIMEDOUT, 0, NULL, NULL, AWS_HTTP_RETRY, "transport" },
	{ "refused", CURLE_COULDNT_CONNECT, 0, NULL, NULL, AWS_HTTP_RETRY, "transport" },
};

static void test_answers(void **state)
{
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		const struct answer *a = &answers[i];
		struct aws_http_client c = { .max_attempts = 3 };
		struct aws_http_response resp = { 0 };
		char why[S3_REASON_MAX] = "";

		print_message("case: %s\n", a->name);
		resp.curl_code = a->curl;
		resp.status = a->status;
		if (a->body) {
			resp.body = strdup(a->body);
			resp.body_len = strlen(a->body);
		}
		if (a->date)
			resp.date = strdup(a->date);
		assert_int_equal(s3_classify(&c, &resp, why, sizeof(why)), a->verdict);
		if (a->why_has)
			assert_non_null(strstr(why, a->why_has));
		if (a->verdict == AWS_HTTP_RETRY_NOW && strstr(a->name, "Skewed"))
			/* The clock now follows the server's: 2030 is years ahead. */
			assert_true(c.clock_offset > 365L * 24 * 3600);
		aws_http_response_reset(&resp);
	}
}

static void test_backoff_bounded(void **state)
{
	struct aws_http_client c = { .random_state = 1 };

	for (unsigned int attempt = 1; attempt < 30; attempt++) {
		long ms = aws_http_backoff_ms(&c, attempt);

		assert_true(ms >= 0 && ms <= AWS_HTTP_BACKOFF_CAP_MS);
		if (attempt == 1)
			assert_true(ms <= AWS_HTTP_BACKOFF_BASE_MS);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_backoff_bounded),
	};

	return cmocka_run_group_tests_name("s3_classify", tests, NULL, NULL);
}
