// SPDX-License-Identifier: GPL-2.0-only
/*
 * The capture loop against a scripted source: pages that fail to read,
 * spans the source does not map, short reads, and a stop request.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "capture/lime.h"

#define PAGE CAPTURE_PAGE_SIZE

struct fake {
	uint64_t bad_page;          /* reads touching this page fail; 0 = none */
	uint64_t unmapped_start;    /* coverage hole; 0 = none */
	uint64_t unmapped_end;
	size_t max_read;            /* short reads; 0 = unlimited */
	unsigned int reads;
};

/* Memory content: each byte is a function of its physical address. */
static unsigned char byte_at(uint64_t phys)
{
	return (unsigned char)(phys * 31 + (phys >> 12));
}

static ssize_t fake_read(struct mem_source *src, uint64_t phys, void *buf, size_t len)
{
	struct fake *f = src->priv;

	f->reads++;
	if (f->max_read && len > f->max_read)
		len = f->max_read;
	if (f->bad_page && phys < f->bad_page + PAGE && phys + len > f->bad_page)
		return -EIO;
	for (size_t i = 0; i < len; i++)
		((unsigned char *)buf)[i] = byte_at(phys + i);
	return (ssize_t)len;
}

static int fake_coverage(struct mem_source *src, const struct range_list *ram,
			 struct range_list *reachable)
{
	struct fake *f = src->priv;
	struct range_list mapped;
	int ret;

	range_list_init(&mapped);
	if (f->unmapped_start) {
		range_list_add(&mapped, 0, f->unmapped_start - 1);
		range_list_add(&mapped, f->unmapped_end + 1, UINT64_MAX);
	} else {
		range_list_add(&mapped, 0, UINT64_MAX);
	}
	ret = range_list_intersect(ram, &mapped, reachable);
	range_list_free(&mapped);
	return ret;
}

static const struct mem_source_ops fake_ops = {
	.name = "fake", .path = "fake", .read = fake_read, .coverage = fake_coverage,
};

/* A sink that keeps everything, to parse back. */
struct memory_sink {
	struct sink base;
	unsigned char *data;
	size_t len;
};

static int memory_write(struct sink *s, const void *buf, size_t len)
{
	struct memory_sink *m = (struct memory_sink *)s;

	m->data = realloc(m->data, m->len + len);
	memcpy(m->data + m->len, buf, len);
	m->len += len;
	return 0;
}

static void memory_destroy(struct sink *s)
{
	free(((struct memory_sink *)s)->data);
}

struct check {
	const struct fake *fake;
	struct mem_range range;
	uint64_t pos;
	uint64_t mismatches;
};

static int check_begin(void *ctx, const struct mem_range *r, uint64_t off)
{
	struct check *c = ctx;

	c->range = *r;
	c->pos = r->start;
	return 0;
}

static bool expected_zero(const struct fake *f, uint64_t phys)
{
	if (f->bad_page && phys >= f->bad_page && phys < f->bad_page + PAGE)
		return true;
	return f->unmapped_start && phys >= f->unmapped_start && phys <= f->unmapped_end;
}

static int check_data(void *ctx, const void *buf, size_t len)
{
	struct check *c = ctx;

	for (size_t i = 0; i < len; i++, c->pos++) {
		unsigned char want = expected_zero(c->fake, c->pos) ? 0 : byte_at(c->pos);

		if (((const unsigned char *)buf)[i] != want)
			c->mismatches++;
	}
	return 0;
}

static const struct lime_reader_ops check_ops = { .range_begin = check_begin,
						  .range_data = check_data };

struct capture_case {
	const char *name;
	struct fake fake;
	size_t chunk;
	size_t expect_unreadable;
	uint64_t expect_zeroed;
};

static const struct capture_case cases[] = {
	{ "clean", { 0 }, 64 * 1024, 0, 0 },
	{ "one bad page is zero-filled, neighbours kept", { .bad_page = 0x105000 }, 64 * 1024, 1, PAGE },
	{ "bad page in the first range", { .bad_page = 0x2000 }, 16 * 1024, 1, PAGE },
	{ "unmapped hole", { .unmapped_start = 0x110000, .unmapped_end = 0x11ffff }, 64 * 1024, 1,
	  0x10000 },
	{ "short reads", { .max_read = 1000 }, 64 * 1024, 0, 0 },
	{ "hole and bad page", { .bad_page = 0x130000, .unmapped_start = 0x110000,
				 .unmapped_end = 0x11ffff }, 32 * 1024, 2, 0x10000 + PAGE },
};

static void test_cases(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct capture_case *c = &cases[i];
		struct fake fake = c->fake;
		struct mem_source src = { .ops = &fake_ops, .priv = &fake };
		struct memory_sink out = { .base = { .write = memory_write, .destroy = memory_destroy } };
		struct capture_options opt = { .chunk_size = c->chunk };
		struct capture_result res;
		struct range_list ram;
		struct lime_reader reader;
		struct check chk = { .fake = &fake };

		print_message("case: %s\n", c->name);
		range_list_init(&ram);
		range_list_add(&ram, 0x1000, 0x9efff);
		range_list_add(&ram, 0x100000, 0x13ffff);
		assert_int_equal(capture_run(&src, &ram, &out.base, &opt, &res), 0);
		assert_int_equal(res.unreadable_count, c->expect_unreadable);
		assert_int_equal(res.bytes_zeroed, c->expect_zeroed);
		assert_int_equal(res.bytes_read + res.bytes_zeroed, range_list_total(&ram));
		assert_int_equal(out.len, range_list_total(&ram) + 2 * LIME_HEADER_SIZE);
		lime_reader_init(&reader, &check_ops, &chk);
		assert_int_equal(lime_reader_feed(&reader, out.data, out.len), 0);
		assert_int_equal(lime_reader_finish(&reader), 0);
		assert_int_equal(reader.range_count, 2);
		assert_int_equal(chk.mismatches, 0);
		if (fake.bad_page) {
			bool found = false;

			for (size_t j = 0; j < res.unreadable_count; j++)
				if (res.unreadable[j].start == fake.bad_page &&
				    res.unreadable[j].end == fake.bad_page + PAGE - 1 &&
				    res.unreadable[j].error == -EIO)
					found = true;
			assert_true(found);
		}
		capture_result_free(&res);
		range_list_free(&ram);
		memory_destroy(&out.base);
	}
}

static void test_stop_request(void **state)
{
	struct fake fake = { 0 };
	struct mem_source src = { .ops = &fake_ops, .priv = &fake };
	struct memory_sink out = { .base = { .write = memory_write, .destroy = memory_destroy } };
	volatile sig_atomic_t stop = 1;
	struct capture_options opt = { .chunk_size = PAGE, .stop = &stop };
	struct capture_result res;
	struct range_list ram;

	range_list_init(&ram);
	range_list_add(&ram, 0x100000, 0x1fffff);
	assert_int_equal(capture_run(&src, &ram, &out.base, &opt, &res), -EINTR);
	assert_int_equal(fake.reads, 0);
	capture_result_free(&res);
	range_list_free(&ram);
	memory_destroy(&out.base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_stop_request),
	};

	return cmocka_run_group_tests_name("capture", tests, NULL, NULL);
}
