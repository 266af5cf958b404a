// SPDX-License-Identifier: GPL-2.0-only
/* /proc/iomem parsing and the RAM ranges derived from it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "capture/iomem.h"

struct iomem_case {
	const char *name;
	const char *text;
	int expect_ret;
	size_t expect_count;
	struct mem_range expect[4];
};

static const struct iomem_case cases[] = {
	{ "qemu 256M",
	  "00000000-00000fff : Reserved\n"
	  "00001000-0009fbff : System RAM\n"
	  "0009fc00-0009ffff : Reserved\n"
	  "000f0000-000fffff : System ROM\n"
	  "00100000-0ffdffff : System RAM\n"
	  "  01000000-01ffffff : Kernel code\n"
	  "  02000000-0220ffff : Kernel data\n"
	  "0ffe0000-0fffffff : Reserved\n"
	  "fd000000-fdffffff : PCI Bus 0000:00\n",
	  0, 2, { { 0x1000, 0x9fbff }, { 0x100000, 0xffdffff } } },
	/* The last byte of each range is inclusive: 0x9fbff itself is RAM. */
	{ "inclusive end kept",
	  "00001000-00001000 : System RAM\n", 0, 1, { { 0x1000, 0x1000 } } },
	{ "nested virtio_mem",
	  "00100000-3fffffff : System RAM\n"
	  "140000000-33fffffff : virtio0\n"
	  "  140000000-147ffffff : System RAM (virtio_mem)\n"
	  "  148000000-14fffffff : System RAM (virtio_mem)\n",
	  0, 2, { { 0x100000, 0x3fffffff }, { 0x140000000, 0x14fffffff } } },
	{ "touching ranges merge, unsorted input sorts",
	  "00200000-002fffff : System RAM\n"
	  "00100000-001fffff : System RAM\n", 0, 1, { { 0x100000, 0x2fffff } } },
	{ "crash kernel nested in RAM stays RAM",
	  "00100000-7fffffff : System RAM\n"
	  "  2b000000-3affffff : Crash kernel\n", 0, 1, { { 0x100000, 0x7fffffff } } },
	{ "top of the address space",
	  "ffffffffffff0000-ffffffffffffffff : System RAM\n", 0, 1,
	  { { 0xffffffffffff0000ull, UINT64_MAX } } },
	{ "hidden addresses (no CAP_SYS_ADMIN)",
	  "00000000-00000000 : Reserved\n"
	  "00000000-00000000 : System RAM\n", -EPERM, 0, { { 0, 0 } } },
	{ "malformed separator", "00001000+0009fbff : System RAM\n", -EINVAL, 0, { { 0, 0 } } },
	{ "end before start", "00002000-00001000 : System RAM\n", -EINVAL, 0, { { 0, 0 } } },
	{ "seventeen hex digits", "10000000000000000-10000000000000001 : System RAM\n", -EINVAL, 0,
	  { { 0, 0 } } },
	{ "no name separator", "00001000-00002000 System RAM\n", -EINVAL, 0, { { 0, 0 } } },
	{ "empty file", "", 0, 0, { { 0, 0 } } },
	{ "no trailing newline", "00001000-00001fff : System RAM", 0, 1, { { 0x1000, 0x1fff } } },
};

static void test_cases(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct iomem_case *c = &cases[i];
		struct iomem_table table;
		struct range_list ram;
		int ret;

		print_message("case: %s\n", c->name);
		range_list_init(&ram);
		ret = iomem_parse(c->text, strlen(c->text), &table);
		assert_int_equal(ret, c->expect_ret);
		if (ret)
			continue;
		assert_int_equal(iomem_system_ram(&table, &ram), 0);
		assert_int_equal(ram.count, c->expect_count);
		for (size_t j = 0; j < c->expect_count; j++) {
			assert_int_equal(ram.items[j].start, c->expect[j].start);
			assert_int_equal(ram.items[j].end, c->expect[j].end);
		}
		range_list_free(&ram);
		iomem_table_free(&table);
	}
}

static void test_depth_and_names(void **state)
{
	const char *text = "00100000-0ffdffff : System RAM\n  01000000-01ffffff : Kernel code\n";
	struct iomem_table table;

	assert_int_equal(iomem_parse(text, strlen(text), &table), 0);
	assert_int_equal(table.count, 2);
	assert_int_equal(table.entries[0].depth, 0);
	assert_int_equal(table.entries[1].depth, 1);
	assert_string_equal(table.entries[1].name, "Kernel code");
	iomem_table_free(&table);
}

static void test_intersect(void **state)
{
	struct range_list a, b, out;

	range_list_init(&a);
	range_list_init(&b);
	range_list_init(&out);
	range_list_add(&a, 0x1000, 0x9fff);
	range_list_add(&a, 0x100000, 0x1fffff);
	range_list_add(&b, 0x5000, 0x150000);
	assert_int_equal(range_list_intersect(&a, &b, &out), 0);
	assert_int_equal(out.count, 2);
	assert_int_equal(out.items[0].start, 0x5000);
	assert_int_equal(out.items[0].end, 0x9fff);
	assert_int_equal(out.items[1].start, 0x100000);
	assert_int_equal(out.items[1].end, 0x150000);
	assert_int_equal(range_list_total(&out), 0x5000 + 0x50001);
	range_list_free(&a);
	range_list_free(&b);
	range_list_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_depth_and_names),
		cmocka_unit_test(test_intersect),
	};

	return cmocka_run_group_tests_name("iomem", tests, NULL, NULL);
}
