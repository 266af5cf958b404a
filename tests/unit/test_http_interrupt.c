// SPDX-License-Identifier: GPL-2.0-only
/* When a client's requests must end: a stop, a deadline, a stop during cleanup. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "aws/http.h"

#include <errno.h>

struct case_ {
	const char *name;
	int stop;                  /* *stop */
	long long deadline_in_ms;  /* from now; 0: none */
	long grace_ms;
	int want;
	long long deadline_after;  /* -1: unchanged; else about now + this */
};

static const struct case_ cases[] = {
	{ "nothing set", 0, 0, 0, 0, -1 },
	{ "stop: at once", SIGTERM, 0, 0, -EINTR, -1 },
	{ "deadline ahead", 0, 60000, 0, 0, -1 },
	{ "deadline passed", 0, -1, 0, -ETIMEDOUT, -1 },
	{ "cleanup, no stop: its budget", 0, 60000, 5000, 0, -1 },
	{ "cleanup, stop: the budget shrinks to the grace", SIGINT, 60000, 5000, 0, 5000 },
	{ "cleanup, stop, less left than the grace: unchanged", SIGINT, 2000, 5000, 0, -1 },
	{ "cleanup, stop, no budget: the grace", SIGINT, 0, 5000, 0, 5000 },
};

static void interrupted(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct case_ *t = &cases[i];
		volatile sig_atomic_t stop = t->stop;
		struct aws_http_client c = { .stop = &stop, .stop_grace_ms = t->grace_ms };
		long long now = aws_http_now_ms(), before;

		c.deadline_ms = t->deadline_in_ms ? now + t->deadline_in_ms : 0;
		before = c.deadline_ms;
		print_message("%s\n", t->name);
		assert_int_equal(aws_http_interrupted(&c), t->want);
		if (t->deadline_after < 0) {
			assert_true(c.deadline_ms == before);
		} else {
			assert_true(c.deadline_ms >= now + t->deadline_after);
			assert_true(c.deadline_ms <= now + t->deadline_after + 1000);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(interrupted),
	};

	return cmocka_run_group_tests_name("http_interrupt", tests, NULL, NULL);
}
