// SPDX-License-Identifier: GPL-2.0-only
/* The part-size schedule: S3's limits hold for every object size. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "aws/multipart.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define TIB (1ull << 40)

static void test_unknown_size_grows(void **state)
{
	uint64_t total = 0, previous = 0;

	for (unsigned int n = 1; n <= S3_MAX_PARTS; n++) {
		uint64_t size = s3_part_size(0, 0, n);

		assert_true(size >= S3_MIN_PART_SIZE && size <= S3_MAX_PART_SIZE);
		assert_true(size >= previous);
		previous = size;
		total += size;
	}
	assert_int_equal(s3_part_size(0, 0, 1), S3_DEFAULT_PART_SIZE);
	assert_int_equal(s3_part_size(0, 0, 1001), 2 * S3_DEFAULT_PART_SIZE);
	/* S3's largest object, 5 TiB, fits in 10,000 parts. */
	assert_true(total >= 5 * TIB);
	assert_int_equal(s3_schedule_capacity(0, 0), total);
}

struct known_case {
	uint64_t expected;
	uint64_t first;
	uint64_t want_part;
};

static const struct known_case known[] = {
	{ 1, 0, S3_DEFAULT_PART_SIZE },
	{ 64 * GIB, 0, S3_DEFAULT_PART_SIZE },       /* 8192 parts of 8 MiB fit */
	{ 256 * GIB, 0, 30 * MIB },                  /* ceil(256 GiB / 9000) rounded to MiB */
	{ 4 * TIB, 0, 467 * MIB },
	{ 5 * TIB, 0, 583 * MIB },
	{ 10 * GIB, 3 * MIB, S3_MIN_PART_SIZE },     /* never below 5 MiB */
	{ 10 * GIB, 64 * MIB, 64 * MIB },
};

static void test_known_size(void **state)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		const struct known_case *c = &known[i];
		uint64_t part = s3_part_size(c->first, c->expected, 1);

		assert_int_equal(part, c->want_part);
		/* Same size throughout, and the expected size needs at most 9000 parts. */
		assert_int_equal(s3_part_size(c->first, c->expected, 9999), part);
		assert_true((c->expected + part - 1) / part <= 9000);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_size_grows),
		cmocka_unit_test(test_known_size),
	};

	return cmocka_run_group_tests_name("multipart", tests, NULL, NULL);
}
