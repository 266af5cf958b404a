// SPDX-License-Identifier: GPL-2.0-only
/* The events that start a response: what each kind asks for, and what is refused. */
#include <string.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "response/events.h"

struct event_case {
	const char *name, *json;
	int ret;
	enum event_action action;
	const char *instance, *account, *region, *case_id;
};

#define TAG_EVENT(status, changed, extra) \
	"{\"version\":\"0\",\"id\":\"e1\",\"detail-type\":\"Tag Change on Resource\"," \
	"\"source\":\"aws.tag\",\"account\":\"111122223333\",\"time\":\"2026-11-28T17:00:00Z\"," \
	"\"region\":\"eu-west-1\",\"resources\":[\"arn:aws:ec2:eu-west-1:111122223333:" \
	"instance/i-0123456789abcdef0\"],\"detail\":{\"changed-tag-keys\":[\"" changed "\"]," \
	"\"service\":\"ec2\",\"resource-type\":\"instance\",\"tags\":{\"SecurityIncidentStatus\":" \
	"\"" status "\"" extra "}}}"

static const struct event_case cases[] = {
	{ "tag Analyze", TAG_EVENT("Analyze", "SecurityIncidentStatus", ""), 0, EVENT_ANALYZE,
	  "i-0123456789abcdef0", "111122223333", "eu-west-1", "i-0123456789abcdef0-20261128" },
	{ "tag Contain with a case", TAG_EVENT("Contain", "SecurityIncidentStatus",
					       ",\"ForensicsCaseId\":\"IR-42\""),
	  0, EVENT_CONTAIN, "i-0123456789abcdef0", "111122223333", "eu-west-1", "IR-42" },
	{ "tag Released: ignored", TAG_EVENT("Released", "SecurityIncidentStatus", ""), 0,
	  EVENT_IGNORE, "i-0123456789abcdef0", NULL, NULL, NULL },
	{ "another tag changed: ignored", TAG_EVENT("Analyze", "Owner", ""), 0, EVENT_IGNORE,
	  "i-0123456789abcdef0", NULL, NULL, NULL },
	{ "the controller's own Contain: ignored",
	  TAG_EVENT("Contain", "SecurityIncidentStatus\",\"ForensicsController",
		    ",\"ForensicsCaseId\":\"IR-42\",\"ForensicsController\":"
		    "\"Contain IR-42 2026-11-28T16:59:59Z\""),
	  0, EVENT_IGNORE, "i-0123456789abcdef0", NULL, NULL, NULL },
	{ "Contain again by hand (marker unchanged)",
	  TAG_EVENT("Contain", "SecurityIncidentStatus",
		    ",\"ForensicsCaseId\":\"IR-42\",\"ForensicsController\":"
		    "\"Contain IR-42 2026-11-28T16:59:59Z\""),
	  0, EVENT_CONTAIN, "i-0123456789abcdef0", "111122223333", "eu-west-1", "IR-42" },
	{ "Analyze after release: a new case",
	  TAG_EVENT("Analyze", "SecurityIncidentStatus",
		    ",\"ForensicsCaseId\":\"IR-42\",\"ForensicsController\":"
		    "\"Released IR-42 2026-11-28T12:00:00Z\""),
	  0, EVENT_ANALYZE, "i-0123456789abcdef0", "111122223333", "eu-west-1",
	  "i-0123456789abcdef0-20261128T170000Z" },
	{ "Analyze after release of the day's case: a new case",
	  TAG_EVENT("Analyze", "SecurityIncidentStatus",
		    ",\"ForensicsController\":"
		    "\"Released i-0123456789abcdef0-20261128 2026-11-28T12:00:00Z\""),
	  0, EVENT_ANALYZE, "i-0123456789abcdef0", "111122223333", "eu-west-1",
	  "i-0123456789abcdef0-20261128T170000Z" },
	{ "released marker of another case: that case",
	  TAG_EVENT("Analyze", "SecurityIncidentStatus",
		    ",\"ForensicsCaseId\":\"IR-43\",\"ForensicsController\":"
		    "\"Released IR-42 2026-11-28T12:00:00Z\""),
	  0, EVENT_ANALYZE, "i-0123456789abcdef0", "111122223333", "eu-west-1", "IR-43" },
	{ "tag: bad case id", TAG_EVENT("Analyze", "SecurityIncidentStatus",
					",\"ForensicsCaseId\":\"../x\""), -EINVAL, 0, NULL, NULL, NULL,
	  NULL },
	{ "security hub",
	  "{\"source\":\"aws.securityhub\",\"detail-type\":\"Security Hub Findings - Custom Action\","
	  "\"time\":\"2026-11-27T01:02:03Z\",\"detail\":{\"actionName\":\"Forensics\",\"findings\":["
	  "{\"Resources\":[{\"Type\":\"AwsS3Bucket\",\"Id\":\"arn:aws:s3:::b\"}]},"
	  "{\"Resources\":[{\"Type\":\"AwsEc2Instance\",\"Id\":\"arn:aws:ec2:us-east-2:"
	  "444455556666:instance/i-0aaaaaaaaaaaaaaaa\"}]}]}}",
	  0, EVENT_ANALYZE, "i-0aaaaaaaaaaaaaaaa", "444455556666", "us-east-2",
	  "i-0aaaaaaaaaaaaaaaa-20261127" },
	{ "security hub without an instance",
	  "{\"source\":\"aws.securityhub\",\"detail\":{\"findings\":[{\"Resources\":[]}]}}",
	  -EINVAL, 0, NULL, NULL, NULL, NULL },
	{ "manual", "{\"CaseId\":\"IR-7\",\"InstanceId\":\"i-01234567\",\"Account\":\"123456789012\","
	  "\"Region\":\"ap-southeast-2\"}", 0, EVENT_ANALYZE, "i-01234567", "123456789012",
	  "ap-southeast-2", "IR-7" },
	{ "manual contain", "{\"CaseId\":\"IR-7\",\"InstanceId\":\"i-01234567\",\"Account\":"
	  "\"123456789012\",\"Region\":\"eu-west-1\",\"Action\":\"Contain\"}", 0, EVENT_CONTAIN,
	  "i-01234567", "123456789012", "eu-west-1", "IR-7" },
	{ "manual without account", "{\"CaseId\":\"IR-7\",\"InstanceId\":\"i-01234567\","
	  "\"Region\":\"eu-west-1\"}", -EINVAL, 0, NULL, NULL, NULL, NULL },
	{ "manual, bad instance", "{\"CaseId\":\"IR-7\",\"InstanceId\":\"i-0123'\",\"Account\":"
	  "\"123456789012\",\"Region\":\"eu-west-1\"}", -EINVAL, 0, NULL, NULL, NULL, NULL },
	{ "tag event, ARN of another service", "{\"source\":\"aws.tag\",\"resources\":["
	  "\"arn:aws:s3:::bucket\"],\"detail\":{\"tags\":{}}}", -EINVAL, 0, NULL, NULL, NULL, NULL },
	{ "not JSON", "{\"source\":", -EINVAL, 0, NULL, NULL, NULL, NULL },
	{ "an array", "[]", -EINVAL, 0, NULL, NULL, NULL, NULL },
	{ "unknown", "{\"source\":\"aws.ec2\"}", -EINVAL, 0, NULL, NULL, NULL, NULL },
};

static void test_events(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct event_case *c = &cases[i];
		struct event_request ev;
		char why[256] = "";
		int ret = event_parse(c->json, strlen(c->json), &ev, why, sizeof(why));

		if (ret != c->ret)
			fail_msg("%s: ret %d, want %d (%s)", c->name, ret, c->ret, why);
		if (ret) {
			assert_true(why[0] != '\0');
			continue;
		}
		if (ev.action != c->action)
			fail_msg("%s: action %d, want %d", c->name, ev.action, c->action);
		assert_string_equal(ev.instance_id, c->instance);
		if (c->account) {
			assert_string_equal(ev.account, c->account);
			assert_string_equal(ev.region, c->region);
			assert_string_equal(ev.case_id, c->case_id);
		}
	}
}

#define HUB_EVENT(resources) \
	"{\"source\":\"aws.securityhub\",\"time\":\"2026-11-27T01:02:03Z\",\"detail\":" \
	"{\"findings\":[" resources "]}}"
#define HUB_INSTANCE(id) \
	"{\"Type\":\"AwsEc2Instance\",\"Id\":\"arn:aws:ec2:us-east-2:444455556666:instance/" \
	id "\"}"

/* Security Hub events naming several instances: each once, in order, then -ENOENT. */
static void test_several_instances(void **state)
{
	static const struct {
		const char *name, *json;
		const char *instances[4];
	} hub[] = {
		{ "two findings", HUB_EVENT("{\"Resources\":[" HUB_INSTANCE("i-0aaaaaaaaaaaaaaaa")
					    "]},{\"Resources\":[" HUB_INSTANCE("i-0bbbbbbbbbbbbbbbb")
					    "]}"),
		  { "i-0aaaaaaaaaaaaaaaa", "i-0bbbbbbbbbbbbbbbb" } },
		{ "one finding, two resources and a repeat",
		  HUB_EVENT("{\"Resources\":[" HUB_INSTANCE("i-0aaaaaaaaaaaaaaaa") ","
			    HUB_INSTANCE("i-0bbbbbbbbbbbbbbbb") "]},{\"Resources\":["
			    HUB_INSTANCE("i-0aaaaaaaaaaaaaaaa") "]}"),
		  { "i-0aaaaaaaaaaaaaaaa", "i-0bbbbbbbbbbbbbbbb" } },
		{ "one", HUB_EVENT("{\"Resources\":[" HUB_INSTANCE("i-0aaaaaaaaaaaaaaaa") "]}"),
		  { "i-0aaaaaaaaaaaaaaaa" } },
		{ "a tag change names one", TAG_EVENT("Analyze", "SecurityIncidentStatus", ""),
		  { "i-0123456789abcdef0" } },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(hub) / sizeof(hub[0]); i++) {
		size_t k = 0;

		for (;; k++) {
			struct event_request ev;
			char why[256] = "";
			int ret = event_parse_nth(hub[i].json, strlen(hub[i].json), k, &ev, why,
						  sizeof(why));

			if (ret == -ENOENT)
				break;
			if (ret || k >= 4 || !hub[i].instances[k])
				fail_msg("%s: instance %zu: ret %d (%s)", hub[i].name, k, ret, why);
			assert_string_equal(ev.instance_id, hub[i].instances[k]);
			assert_true(ev.action == EVENT_ANALYZE);
		}
		if (k < 4 && hub[i].instances[k])
			fail_msg("%s: only %zu instances", hub[i].name, k);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_several_instances),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
