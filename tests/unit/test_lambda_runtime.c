// SPDX-License-Identifier: GPL-2.0-only
/* The Runtime API's next invocation: request id and deadline from the headers, bounded body. */
#include <string.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <cmocka.h>

#include "aws/lambda_runtime.h"

static const struct {
	const char *line;
	long long deadline_ms;
	const char *request_id;
} headers[] = {
	{ "Lambda-Runtime-Aws-Request-Id: 8476a536-e9f4-11e8\r\n", 0, "8476a536-e9f4-11e8" },
	{ "lambda-runtime-aws-request-id:req-1\n", 0, "req-1" },
	{ "Lambda-Runtime-Aws-Request-Id:    \r\n", 0, "" },
	{ "Lambda-Runtime-Aws-Request-Id", 0, "" },
	{ "Lambda-Runtime-Deadline-Ms: 1542409706888\r\n", 1542409706888LL, "" },
	{ "LAMBDA-RUNTIME-DEADLINE-MS:42\r\n", 42, "" },
	{ "Lambda-Runtime-Deadline-Ms: 15424x\r\n", 0, "" },
	{ "Lambda-Runtime-Deadline-Ms: -5\r\n", 0, "" },
	{ "Lambda-Runtime-Deadline-Ms: 1234567890123456789\r\n", 0, "" },
	{ "Lambda-Runtime-Deadline-Ms: \r\n", 0, "" },
	{ "Content-Type: application/json\r\n", 0, "" },
};

static void test_headers(void **state)
{
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		struct lambda_invocation inv = { 0 };
		char *line = strdup(headers[i].line);
		size_t n = strlen(line);

		assert_int_equal(lambda_runtime_header(line, 1, n, &inv), n);
		if (strcmp(inv.request_id, headers[i].request_id) ||
		    inv.deadline_ms != headers[i].deadline_ms)
			fail_msg("%s: request id '%s', deadline %lld", headers[i].line,
				 inv.request_id, inv.deadline_ms);
		free(line);
	}
}

static void test_long_request_id(void **state)
{
	struct lambda_invocation inv = { 0 };
	char line[LAMBDA_REQUEST_ID_MAX * 2 + 64];
	size_t n;

	n = (size_t)snprintf(line, sizeof(line), "Lambda-Runtime-Aws-Request-Id: %0*d\r\n",
			     LAMBDA_REQUEST_ID_MAX * 2, 7);
	assert_int_equal(lambda_runtime_header(line, 1, n, &inv), n);
	assert_int_equal(strlen(inv.request_id), LAMBDA_REQUEST_ID_MAX - 1);
}

static void test_body_bound(void **state)
{
	static char piece[64 << 10];
	struct lambda_invocation inv = { 0 };

	memset(piece, 'x', sizeof(piece));
	for (int i = 0; i < 4; i++)
		assert_int_equal(lambda_runtime_body(piece, 1, sizeof(piece), &inv), sizeof(piece));
	assert_false(inv.overflow);
	assert_int_equal(inv.len, LAMBDA_EVENT_MAX);
	assert_int_equal(inv.body[inv.len], '\0');
	assert_int_equal(lambda_runtime_body(piece, 1, 1, &inv), 1);
	assert_true(inv.overflow);
	assert_int_equal(inv.len, LAMBDA_EVENT_MAX);
	lambda_invocation_free(&inv);
	assert_null(inv.body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_long_request_id),
		cmocka_unit_test(test_body_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
