// SPDX-License-Identifier: GPL-2.0-only
/* The case record read back for a rerun: parsed, resumed, its finished steps found. */
#include <string.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/log.h"
#include "response/record.h"
#include "response/store.h"

#define CASE "case-1"
#define INSTANCE "i-0123456789abcdef0"

static void resume(const char *text, struct case_record *rec, int expected)
{
	json_object *stored;

	assert_int_equal(record_store_parse(text, &stored), 0);
	assert_int_equal(case_record_init(rec, CASE, INSTANCE, "eu-west-1"), 0);
	assert_int_equal(case_record_resume(rec, stored), expected);
}

static void test_parse(void **state)
{
	json_object *stored;

	assert_int_equal(record_store_parse(NULL, &stored), -EBADMSG);
	assert_int_equal(record_store_parse("", &stored), -EBADMSG);
	assert_int_equal(record_store_parse("[1,2]", &stored), -EBADMSG);
	assert_null(stored);
	assert_int_equal(record_store_parse("{\"case_id\":\"x\"}", &stored), 0);
	json_object_put(stored);
}

static void test_resume(void **state)
{
	struct case_record rec;

	resume("{\"case_id\":\"" CASE "\",\"instance_id\":\"" INSTANCE "\",\"timeline\":[],"
	       "\"runs\":3}", &rec, 0);
	assert_int_equal(rec.run, 4);
	case_record_free(&rec);
	/* No count, or a nonsense one: the second run. */
	resume("{\"case_id\":\"" CASE "\",\"instance_id\":\"" INSTANCE "\",\"timeline\":[]}",
	       &rec, 0);
	assert_int_equal(rec.run, 2);
	case_record_free(&rec);
	resume("{\"case_id\":\"" CASE "\",\"instance_id\":\"" INSTANCE "\",\"timeline\":[],"
	       "\"runs\":-7}", &rec, 0);
	assert_int_equal(rec.run, 2);
	case_record_free(&rec);
	/* Found by fuzzing: a count json-c clamps to INT32_MAX overflowed on the increment. */
	resume("{\"case_id\":\"" CASE "\",\"instance_id\":\"" INSTANCE "\",\"timeline\":[],"
	       "\"runs\":99999999999}", &rec, 0);
	assert_int_equal(rec.run, INT_MAX);
	case_record_free(&rec);
	/* Another case's, or no timeline: refused. */
	resume("{\"case_id\":\"case-2\",\"instance_id\":\"" INSTANCE "\",\"timeline\":[]}", &rec,
	       -EINVAL);
	case_record_free(&rec);
	resume("{\"case_id\":\"" CASE "\",\"instance_id\":\"" INSTANCE "\",\"timeline\":{}}", &rec,
	       -EINVAL);
	case_record_free(&rec);
}

static void test_done(void **state)
{
	struct case_record rec;

	/* Found by fuzzing: a null step or result was passed to strcmp. */
	resume("{\"case_id\":\"" CASE "\",\"instance_id\":\"" INSTANCE "\",\"runs\":2,\"timeline\":["
	       "{\"run\":1,\"step\":null,\"result\":\"ok\"},"
	       "{\"run\":1,\"step\":\"keep-volumes\",\"result\":null},"
	       "{\"run\":1,\"step\":7,\"result\":\"ok\"},"
	       "{\"run\":1,\"step\":\"console-output\",\"result\":\"ok\"},"
	       "{\"run\":2,\"step\":\"console-output\",\"result\":\"failed\"},"
	       "{\"run\":1,\"step\":\"snapshots\",\"result\":\"ok\"},"
	       "{\"run\":2,\"step\":\"snapshots\",\"result\":\"skipped\"},"
	       "{\"run\":1,\"step\":\"memory-manifest\",\"result\":\"ok\"},"
	       "{\"run\":2,\"step\":\"memory-manifest\",\"result\":\"failed\"},"
	       "\"not an entry\"]}", &rec, 0);
	assert_int_equal(rec.run, 3);
	assert_false(case_record_done(&rec, "keep-volumes"));
	assert_false(case_record_done(&rec, "console-output"));
	assert_true(case_record_done(&rec, "snapshots"));
	assert_false(case_record_done(&rec, "memory-manifest"));
	assert_false(case_record_done(&rec, "termination-protection"));
	case_record_free(&rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_done),
	};

	return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
