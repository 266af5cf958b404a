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
#include "response/ssm.h"
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

/* The store's write, counted; -EBUSY once another run holds the case. */
struct saves {
	int count;
	int fail_at;  /* 0: never */
	bool pending_seen;
};

static int count_save(struct case_record *r, void *ctx)
{
	struct saves *s = ctx;

	s->count++;
	s->pending_seen |= json_object_object_get_ex(r->root, "pending", NULL);
	return s->fail_at && s->count >= s->fail_at ? -EBUSY : 0;
}

static void test_intent(void **state)
{
	struct saves saves = { 0 };
	struct case_record rec;
	json_object *p;

	assert_int_equal(case_record_init(&rec, CASE, INSTANCE, "eu-west-1"), 0);
	rec.save = count_save;
	rec.save_ctx = &saves;
	/* Saved before the call with the intent, and after it without. */
	assert_int_equal(case_record_intent(&rec, "snapshots", "EC2 CreateSnapshots"), 0);
	assert_int_equal(saves.count, 1);
	assert_true(saves.pending_seen);
	assert_true(json_object_object_get_ex(rec.root, "pending", &p));
	assert_string_equal(json_object_get_string(json_object_object_get(p, "step")),
			    "snapshots");
	/* Another step's result leaves it pending; its own clears it. */
	case_record_step(&rec, "describe", "EC2 DescribeInstances", 0, NULL);
	assert_true(json_object_object_get_ex(rec.root, "pending", NULL));
	case_record_step(&rec, "snapshots", "EC2 CreateSnapshots", 0, NULL);
	assert_false(json_object_object_get_ex(rec.root, "pending", NULL));
	assert_int_equal(saves.count, 3);
	/* A save that fails records a step, which must not save again from within. */
	saves.fail_at = 4;
	assert_int_equal(case_record_intent(&rec, "copy", "EC2 CopySnapshot"), -EBUSY);
	case_record_intent_clear(&rec);
	assert_false(json_object_object_get_ex(rec.root, "pending", NULL));
	case_record_free(&rec);
}

static void test_interrupted(void **state)
{
	struct case_record rec;
	json_object *e;

	/* A run killed between the intent and the answer: its call becomes "interrupted". */
	resume("{\"case_id\":\"" CASE "\",\"instance_id\":\"" INSTANCE "\",\"runs\":1,\"timeline\":["
	       "{\"run\":1,\"step\":\"memory-command\",\"result\":\"failed\"}],"
	       "\"pending\":{\"at\":\"x\",\"run\":1,\"step\":\"memory-command\","
	       "\"api\":\"SSM SendCommand\"}}", &rec, 0);
	assert_false(json_object_object_get_ex(rec.root, "pending", NULL));
	assert_int_equal(json_object_array_length(rec.timeline), 2);
	e = json_object_array_get_idx(rec.timeline, 1);
	assert_string_equal(json_object_get_string(json_object_object_get(e, "result")),
			    "interrupted");
	assert_int_equal(json_object_get_int(json_object_object_get(e, "run")), 1);
	assert_string_equal(case_record_last(&rec, "memory-command"), "interrupted");
	assert_null(case_record_last(&rec, "snapshots"));
	case_record_step(&rec, "memory-command", "SSM SendCommand", 0, NULL);
	assert_string_equal(case_record_last(&rec, "memory-command"), "ok");
	case_record_free(&rec);
	/* Outside input: a pending that is not an object, or has no step, is dropped. */
	resume("{\"case_id\":\"" CASE "\",\"instance_id\":\"" INSTANCE "\",\"timeline\":[],"
	       "\"pending\":[1]}", &rec, 0);
	assert_false(json_object_object_get_ex(rec.root, "pending", NULL));
	assert_int_equal(json_object_array_length(rec.timeline), 0);
	case_record_free(&rec);
	resume("{\"case_id\":\"" CASE "\",\"instance_id\":\"" INSTANCE "\",\"timeline\":[],"
	       "\"pending\":{\"step\":7}}", &rec, 0);
	assert_int_equal(json_object_array_length(rec.timeline), 0);
	case_record_free(&rec);
}

static void test_command_match(void **state)
{
	json_object *answer = json_tokener_parse(
		"{\"Commands\":["
		"{\"CommandId\":\"c-other\",\"DocumentName\":\"forensics-acquire\","
		"\"Comment\":\"forensics case other: memory\",\"Status\":\"InProgress\"},"
		"{\"CommandId\":\"c-failed\",\"DocumentName\":\"forensics-acquire\","
		"\"Comment\":\"forensics case " CASE ": memory\",\"Status\":\"Failed\"},"
		"{\"CommandId\":\"c-doc\",\"DocumentName\":\"AWS-RunShellScript\","
		"\"Comment\":\"forensics case " CASE ": memory\",\"Status\":\"Success\"},"
		"{\"CommandId\":7},"
		"{\"CommandId\":\"c-mine\",\"DocumentName\":\"forensics-acquire\","
		"\"Comment\":\"forensics case " CASE ": memory\",\"Status\":\"Pending\"}]}");

	assert_non_null(answer);
	assert_string_equal(ssm_command_match(answer, "forensics-acquire",
					      "forensics case " CASE ": memory"), "c-mine");
	/* A shared document named by ARN: SSM may answer with the name. */
	assert_string_equal(ssm_command_match(answer,
		"arn:aws:ssm:eu-west-1:111122223333:document/forensics-acquire",
		"forensics case " CASE ": memory"), "c-mine");
	assert_null(ssm_command_match(answer, "forensics-acquire", "forensics case x: memory"));
	json_object_put(answer);
	answer = json_tokener_parse("{\"Commands\":{}}");
	assert_null(ssm_command_match(answer, "forensics-acquire", "c"));
	json_object_put(answer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_done),
		cmocka_unit_test(test_intent),
		cmocka_unit_test(test_interrupted),
		cmocka_unit_test(test_command_match),
	};

	return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
