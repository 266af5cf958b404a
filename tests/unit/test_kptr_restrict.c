// SPDX-License-Identifier: GPL-2.0-only
/*
 * When the agent lowers kernel.kptr_restrict to read kallsyms, and what the
 * manifest says about it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "capture/kptr_restrict.h"
#include "capture/manifest.h"

struct lower_case {
	int found;
	bool cap_syslog;
	int lower_to;    /* -1: left alone */
};

static const struct lower_case lower_cases[] = {
	/* Root (CAP_SYSLOG) sees addresses at 0 and 1: nothing to do. */
	{ 0, true, -1 },
	{ 1, true, -1 },
	/* 2 hides them from everyone: the least that shows them to root. */
	{ 2, true, 1 },
	/* Without CAP_SYSLOG only 0 can help. */
	{ 0, false, -1 },
	{ 1, false, 0 },
	{ 2, false, 0 },
	/* Unreadable, or a value this kernel's sysctl would refuse. */
	{ -1, true, -1 },
	{ -1, false, -1 },
	{ 3, true, -1 },
	{ 99, false, -1 },
};

static void test_lower_to(void **state)
{
	for (size_t i = 0; i < sizeof(lower_cases) / sizeof(lower_cases[0]); i++) {
		const struct lower_case *c = &lower_cases[i];
		int got = kptr_restrict_lower_to(c->found, c->cap_syslog);

		if (got != c->lower_to)
			fail_msg("found %d, cap_syslog %d: lower to %d, expected %d", c->found,
				 c->cap_syslog, got, c->lower_to);
	}
}

struct json_case {
	struct kptr_restrict_step step;
	const char *json;
};

static const struct json_case json_cases[] = {
	{ { .found = 2, .lowered_to = 1, .restored = true },
	  "{\"found\":2,\"lowered_to\":1,\"restored\":true}" },
	{ { .found = 2, .lowered_to = 1, .restored = false },
	  "{\"found\":2,\"lowered_to\":1,\"restored\":false}" },
	{ { .found = 1, .lowered_to = -1 }, "{\"found\":1}" },
	{ { .found = -1, .lowered_to = -1 }, "{\"found\":null}" },
	{ { .found = 2, .lowered_to = -1, .lower_error = -EACCES },
	  "{\"found\":2,\"lower_failed\":\"Permission denied\"}" },
};

static void test_manifest_object(void **state)
{
	for (size_t i = 0; i < sizeof(json_cases) / sizeof(json_cases[0]); i++) {
		json_object *o = manifest_kptr_restrict(&json_cases[i].step);
		const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

		if (strcmp(text, json_cases[i].json))
			fail_msg("case %zu: %s, expected %s", i, text, json_cases[i].json);
		json_object_put(o);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lower_to),
		cmocka_unit_test(test_manifest_object),
	};

	return cmocka_run_group_tests_name("kptr_restrict", tests, NULL, NULL);
}
