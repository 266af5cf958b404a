// SPDX-License-Identifier: GPL-2.0-only
/*
 * LiME header encoding and the push parser. Each table row is its own
 * cmocka test, so a failure names the case.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "capture/lime.h"

#define MAX_TESTS 512
#define MAX_EVENTS 16
#define MAX_DATA 4096
#define MAX_STREAM 4096

static struct CMUnitTest tests[MAX_TESTS];
static size_t test_count;

static void add_test(const char *name, CMUnitTestFunction fn, const void *state)
{
	if (test_count == MAX_TESTS) {
		fprintf(stderr, "MAX_TESTS too small\n");
		exit(1);
	}
	tests[test_count++] = (struct CMUnitTest){ name, fn, NULL, NULL, (void *)state };
}

/* ---- a stream builder and a recorder of the reader's callbacks ---- */

struct stream {
	unsigned char bytes[MAX_STREAM];
	size_t len;
};

static void stream_add_range(struct stream *s, uint64_t start, uint64_t end)
{
	struct mem_range range = { start, end };
	uint64_t size = end - start + 1;

	assert_true(s->len + LIME_HEADER_SIZE + size <= sizeof(s->bytes));
	lime_header_encode(&range, s->bytes + s->len);
	s->len += LIME_HEADER_SIZE;
	for (uint64_t i = 0; i < size; i++)
		s->bytes[s->len++] = (unsigned char)(start * 31 + i * 7);
}

struct event {
	char kind;             /* 'B'egin or 'E'nd */
	uint64_t start, end;
	uint64_t offset;       /* header offset for 'B', data bytes seen for 'E' */
};

struct recorder {
	struct event events[MAX_EVENTS];
	size_t count;
	unsigned char data[MAX_DATA];
	size_t data_len;
	uint64_t range_data;   /* data bytes of the current range */
	int fail_begin, fail_data, fail_end;
};

static int rec_begin(void *ctx, const struct mem_range *range, uint64_t header_offset)
{
	struct recorder *r = ctx;

	if (r->fail_begin)
		return r->fail_begin;
	assert_true(r->count < MAX_EVENTS);
	r->events[r->count++] = (struct event){ 'B', range->start, range->end, header_offset };
	r->range_data = 0;
	return 0;
}

static int rec_data(void *ctx, const void *buf, size_t len)
{
	struct recorder *r = ctx;

	if (r->fail_data)
		return r->fail_data;
	assert_true(r->data_len + len <= sizeof(r->data));
	memcpy(r->data + r->data_len, buf, len);
	r->data_len += len;
	r->range_data += len;
	return 0;
}

static int rec_end(void *ctx, const struct mem_range *range)
{
	struct recorder *r = ctx;

	if (r->fail_end)
		return r->fail_end;
	assert_true(r->count < MAX_EVENTS);
	r->events[r->count++] = (struct event){ 'E', range->start, range->end, r->range_data };
	return 0;
}

static const struct lime_reader_ops rec_ops = {
	.range_begin = rec_begin,
	.range_data = rec_data,
	.range_end = rec_end,
};

/* Feeds s in chunks of chunk bytes (0: all at once); returns feed's or finish's result. */
static int parse(const unsigned char *bytes, size_t len, size_t chunk, struct recorder *rec,
		 struct lime_reader *r)
{
	lime_reader_init(r, &rec_ops, rec);
	for (size_t done = 0; done < len;) {
		size_t take = chunk && chunk < len - done ? chunk : len - done;
		int ret = lime_reader_feed(r, bytes + done, take);

		if (ret)
			return ret;
		done += take;
	}
	return lime_reader_finish(r);
}

/* ---- header round trip ---- */

struct roundtrip_case {
	const char *name;
	uint64_t start, end;
};

static const struct roundtrip_case roundtrip_cases[] = {
	{ "roundtrip/one byte at 0", 0, 0 },
	{ "roundtrip/low RAM", 0x1000, 0x9efff },
	{ "roundtrip/above 4 GiB", 0x100000000ull, 0x13fffffffull },
	{ "roundtrip/all but the last address", 0, UINT64_MAX - 1 },
	{ "roundtrip/the last address", UINT64_MAX, UINT64_MAX },
};

static void test_roundtrip(void **state)
{
	const struct roundtrip_case *c = *state;
	static const unsigned char prefix[8] = { 0x45, 0x4d, 0x69, 0x4c, 1, 0, 0, 0 };
	static const unsigned char zero[8];
	struct mem_range range = { c->start, c->end };
	unsigned char buf[LIME_HEADER_SIZE];
	struct lime_header h;
	const char *why = NULL;

	memset(buf, 0xaa, sizeof(buf));
	lime_header_encode(&range, buf);
	/* "EMiL" and version 1, little-endian, as LiME and Volatility expect on disk. */
	assert_memory_equal(buf, prefix, sizeof(prefix));
	assert_memory_equal(buf + 24, zero, sizeof(zero));
	assert_int_equal(lime_header_decode(buf, &h, &why), 0);
	assert_int_equal(h.magic, LIME_MAGIC);
	assert_int_equal(h.version, LIME_VERSION);
	assert_true(h.start == c->start);
	assert_true(h.end == c->end);
}

static void test_encode_layout(void **state)
{
	static const unsigned char expected[LIME_HEADER_SIZE] = {
		0x45, 0x4d, 0x69, 0x4c, 0x01, 0x00, 0x00, 0x00,
		0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0xff, 0xef, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	struct mem_range range = { 0x1000, 0x9efff };
	unsigned char buf[LIME_HEADER_SIZE];

	lime_header_encode(&range, buf);
	assert_memory_equal(buf, expected, sizeof(buf));
}

/* ---- header decode errors ---- */

struct decode_case {
	const char *name;
	size_t offset;         /* byte of a valid header to change */
	unsigned char value;
	const char *why;
};

/* Base header: 0x2000-0x2fff. */
static const struct decode_case decode_cases[] = {
	{ "decode/magic byte 0", 0, 0x00, "bad magic" },
	{ "decode/magic byte 3", 3, 0x4d, "bad magic" },
	{ "decode/magic byte 0 = 'L'", 0, 0x4c, "bad magic" },
	{ "decode/version 0", 4, 0, "unsupported version" },
	{ "decode/version 2", 4, 2, "unsupported version" },
	{ "decode/version high byte", 7, 1, "unsupported version" },
	{ "decode/reserved byte 24", 24, 1, "reserved bytes not zero" },
	{ "decode/reserved byte 25", 25, 0x80, "reserved bytes not zero" },
	{ "decode/reserved byte 26", 26, 1, "reserved bytes not zero" },
	{ "decode/reserved byte 27", 27, 1, "reserved bytes not zero" },
	{ "decode/reserved byte 28", 28, 1, "reserved bytes not zero" },
	{ "decode/reserved byte 29", 29, 1, "reserved bytes not zero" },
	{ "decode/reserved byte 30", 30, 1, "reserved bytes not zero" },
	{ "decode/reserved byte 31", 31, 0xff, "reserved bytes not zero" },
	/* end 0x2fff -> 0x1fff */
	{ "decode/end before start", 17, 0x1f, "range end before start" },
	/* start 0x2000 -> 0x2001 with end 0x2fff still valid: control row */
	{ "decode/valid control", 8, 0x01, NULL },
};

static void test_decode_error(void **state)
{
	const struct decode_case *c = *state;
	struct mem_range range = { 0x2000, 0x2fff };
	unsigned char buf[LIME_HEADER_SIZE];
	struct lime_header h;
	const char *why = NULL;

	lime_header_encode(&range, buf);
	buf[c->offset] = c->value;
	if (!c->why) {
		assert_int_equal(lime_header_decode(buf, &h, &why), 0);
		return;
	}
	assert_int_equal(lime_header_decode(buf, &h, &why), -EBADMSG);
	assert_non_null(why);
	assert_string_equal(why, c->why);
}

/* ---- the reader, fed in different chunkings ---- */

static struct stream three_ranges;

static void build_three_ranges(void)
{
	three_ranges.len = 0;
	stream_add_range(&three_ranges, 0x10, 0x4f);
	stream_add_range(&three_ranges, 0x50, 0x50);      /* touching the one before */
	stream_add_range(&three_ranges, 0x1000, 0x10ff);
}

static const size_t chunk_sizes[] = { 1, 2, 3, 5, 31, 32, 33, 64, 97, 1000 };

/* The reference: everything in one feed. */
static void test_chunked(void **state)
{
	size_t chunk = *(const size_t *)*state;
	struct recorder whole = { 0 }, pieces = { 0 };
	struct lime_reader r1, r2;

	assert_int_equal(parse(three_ranges.bytes, three_ranges.len, 0, &whole, &r1), 0);
	assert_int_equal(parse(three_ranges.bytes, three_ranges.len, chunk, &pieces, &r2), 0);
	assert_int_equal(whole.count, 6);
	assert_int_equal(pieces.count, whole.count);
	assert_memory_equal(pieces.events, whole.events, whole.count * sizeof(whole.events[0]));
	assert_int_equal(pieces.data_len, whole.data_len);
	assert_memory_equal(pieces.data, whole.data, whole.data_len);
	assert_true(r1.range_count == 3 && r2.range_count == 3);
	assert_true(r1.offset == three_ranges.len && r2.offset == three_ranges.len);
}

static void test_reference_events(void **state)
{
	struct recorder rec = { 0 };
	struct lime_reader r;

	assert_int_equal(parse(three_ranges.bytes, three_ranges.len, 0, &rec, &r), 0);
	assert_int_equal(rec.events[0].kind, 'B');
	assert_true(rec.events[0].start == 0x10 && rec.events[0].end == 0x4f);
	assert_true(rec.events[0].offset == 0);
	assert_int_equal(rec.events[1].kind, 'E');
	assert_true(rec.events[1].offset == 0x40);
	assert_true(rec.events[2].start == 0x50 && rec.events[2].offset == 32 + 0x40);
	assert_true(rec.events[3].offset == 1);
	assert_true(rec.events[4].start == 0x1000 && rec.events[4].offset == 2 * 32 + 0x41);
	assert_true(rec.events[5].offset == 0x100);
	assert_int_equal(rec.data_len, 0x40 + 1 + 0x100);
}

/* ---- range order ---- */

struct order_case {
	const char *name;
	uint64_t a_start, a_end, b_start, b_end;
	bool ok;
};

static const struct order_case order_cases[] = {
	{ "order/ascending with a gap", 0x10, 0x1f, 0x40, 0x4f, true },
	{ "order/touching", 0x10, 0x1f, 0x20, 0x2f, true },
	{ "order/overlap by one byte", 0x10, 0x1f, 0x1f, 0x2f, false },
	{ "order/same range twice", 0x10, 0x1f, 0x10, 0x1f, false },
	{ "order/second inside first", 0x10, 0x3f, 0x20, 0x2f, false },
	{ "order/descending", 0x40, 0x4f, 0x10, 0x1f, false },
	{ "order/descending, adjacent", 0x20, 0x2f, 0x10, 0x1f, false },
	{ "order/same start, longer", 0x10, 0x1f, 0x10, 0x2f, false },
};

static void test_order(void **state)
{
	const struct order_case *c = *state;
	struct recorder rec = { 0 };
	struct stream s = { .len = 0 };
	struct lime_reader r;
	char where[64];
	int ret;

	stream_add_range(&s, c->a_start, c->a_end);
	stream_add_range(&s, c->b_start, c->b_end);
	ret = parse(s.bytes, s.len, 0, &rec, &r);
	if (c->ok) {
		assert_int_equal(ret, 0);
		assert_true(r.range_count == 2);
		return;
	}
	assert_int_equal(ret, -EBADMSG);
	/* Reported at the second header, and its range never announced. */
	snprintf(where, sizeof(where), "at byte %" PRIu64 ":",
		 LIME_HEADER_SIZE + (c->a_end - c->a_start + 1));
	assert_non_null(strstr(r.error, where));
	assert_non_null(strstr(r.error, "ranges overlap or descend"));
	assert_int_equal(rec.count, 2);
}

/* ---- truncation at every offset ---- */

static struct stream two_ranges;
static size_t first_range_end;   /* offset just past the first range's data */
static size_t cut_offsets[MAX_STREAM];

static void build_two_ranges(void)
{
	two_ranges.len = 0;
	stream_add_range(&two_ranges, 0x10, 0x17);
	first_range_end = two_ranges.len;
	stream_add_range(&two_ranges, 0x40, 0x43);
	for (size_t i = 0; i <= two_ranges.len; i++)
		cut_offsets[i] = i;
}

static const char *expected_truncation(size_t cut)
{
	size_t pos = cut < first_range_end ? cut : cut - first_range_end;

	if (cut == 0)
		return "no ranges";
	return pos < LIME_HEADER_SIZE ? "truncated inside a range header" :
					"truncated inside a range";
}

static void check_truncated(size_t cut, size_t chunk)
{
	struct recorder rec = { 0 };
	struct lime_reader r;
	int ret = parse(two_ranges.bytes, cut, chunk, &rec, &r);

	if (cut == two_ranges.len) {
		assert_int_equal(ret, 0);
		return;
	}
	if (cut == first_range_end) {
		/*
		 * A cut between ranges leaves a valid one-range stream: LiME has no
		 * trailer or count. verify catches it by the manifest's byte count.
		 */
		assert_int_equal(ret, 0);
		assert_true(r.range_count == 1);
		return;
	}
	assert_int_equal(ret, -EBADMSG);
	assert_non_null(strstr(r.error, expected_truncation(cut)));
}

static void test_truncated(void **state)
{
	size_t cut = *(const size_t *)*state;

	check_truncated(cut, 0);
	check_truncated(cut, 1);
}

/* ---- trailing bytes after a complete stream ---- */

struct trailing_case {
	const char *name;
	size_t len;
	unsigned char fill;
	int feed_ret, finish_ret;
	const char *why;
};

static const struct trailing_case trailing_cases[] = {
	{ "trailing/one zero byte", 1, 0, 0, -EBADMSG, "truncated inside a range header" },
	{ "trailing/31 bytes", 31, 0xee, 0, -EBADMSG, "truncated inside a range header" },
	{ "trailing/32 zero bytes", 32, 0, -EBADMSG, 0, "bad magic" },
	{ "trailing/100 bytes", 100, 0x41, -EBADMSG, 0, "bad magic" },
};

static void test_trailing(void **state)
{
	const struct trailing_case *c = *state;
	struct recorder rec = { 0 };
	struct stream s = two_ranges;
	struct lime_reader r;
	char where[48];
	int ret;

	memset(s.bytes + s.len, c->fill, c->len);
	lime_reader_init(&r, &rec_ops, &rec);
	ret = lime_reader_feed(&r, s.bytes, s.len + c->len);
	assert_int_equal(ret, c->feed_ret);
	if (!ret)
		assert_int_equal(lime_reader_finish(&r), c->finish_ret);
	assert_non_null(strstr(r.error, c->why));
	snprintf(where, sizeof(where), "at byte %zu:", c->feed_ret ? s.len : s.len + c->len);
	assert_non_null(strstr(r.error, where));
}

/* ---- other stream errors ---- */

static void test_whole_address_space(void **state)
{
	struct mem_range range = { 0, UINT64_MAX };
	unsigned char buf[LIME_HEADER_SIZE];
	struct lime_reader r;

	lime_header_encode(&range, buf);
	lime_reader_init(&r, NULL, NULL);
	assert_int_equal(lime_reader_feed(&r, buf, sizeof(buf)), -EBADMSG);
	assert_non_null(strstr(r.error, "whole address space"));
}

static void test_bad_second_header(void **state)
{
	struct stream s = two_ranges;
	struct recorder rec = { 0 };
	struct lime_reader r;
	char where[48];

	s.bytes[first_range_end] ^= 0xff;
	assert_int_equal(parse(s.bytes, s.len, 0, &rec, &r), -EBADMSG);
	snprintf(where, sizeof(where), "malformed LiME stream at byte %zu: bad magic",
		 first_range_end);
	assert_string_equal(r.error, where);
}

static void test_null_ops(void **state)
{
	struct lime_reader r;

	lime_reader_init(&r, NULL, NULL);
	assert_int_equal(lime_reader_feed(&r, two_ranges.bytes, two_ranges.len), 0);
	assert_int_equal(lime_reader_finish(&r), 0);
}

struct callback_case {
	const char *name;
	int begin, data, end;
	int expected;
};

static const struct callback_case callback_cases[] = {
	{ "callback/range_begin fails", -EIO, 0, 0, -EIO },
	{ "callback/range_data fails", 0, -ENOSPC, 0, -ENOSPC },
	{ "callback/range_end fails", 0, 0, -EPIPE, -EPIPE },
};

static void test_callback_error(void **state)
{
	const struct callback_case *c = *state;
	struct recorder rec = { .fail_begin = c->begin, .fail_data = c->data, .fail_end = c->end };
	struct lime_reader r;

	lime_reader_init(&r, &rec_ops, &rec);
	assert_int_equal(lime_reader_feed(&r, two_ranges.bytes, two_ranges.len), c->expected);
}

int main(void)
{
	static char chunk_names[sizeof(chunk_sizes) / sizeof(chunk_sizes[0])][64];
	static char cut_names[MAX_STREAM + 1][64];

	build_three_ranges();
	build_two_ranges();
	for (size_t i = 0; i < sizeof(roundtrip_cases) / sizeof(roundtrip_cases[0]); i++)
		add_test(roundtrip_cases[i].name, test_roundtrip, &roundtrip_cases[i]);
	add_test("encode/byte layout", test_encode_layout, NULL);
	for (size_t i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++)
		add_test(decode_cases[i].name, test_decode_error, &decode_cases[i]);
	add_test("reader/reference events", test_reference_events, NULL);
	for (size_t i = 0; i < sizeof(chunk_sizes) / sizeof(chunk_sizes[0]); i++) {
		snprintf(chunk_names[i], sizeof(chunk_names[i]), "reader/chunks of %zu",
			 chunk_sizes[i]);
		add_test(chunk_names[i], test_chunked, &chunk_sizes[i]);
	}
	for (size_t i = 0; i < sizeof(order_cases) / sizeof(order_cases[0]); i++)
		add_test(order_cases[i].name, test_order, &order_cases[i]);
	for (size_t i = 0; i <= two_ranges.len; i++) {
		snprintf(cut_names[i], sizeof(cut_names[i]), "truncate/at byte %zu of %zu", i,
			 two_ranges.len);
		add_test(cut_names[i], test_truncated, &cut_offsets[i]);
	}
	for (size_t i = 0; i < sizeof(trailing_cases) / sizeof(trailing_cases[0]); i++)
		add_test(trailing_cases[i].name, test_trailing, &trailing_cases[i]);
	add_test("stream/range over the whole address space", test_whole_address_space, NULL);
	add_test("stream/bad magic in the second header", test_bad_second_header, NULL);
	add_test("stream/no callbacks", test_null_ops, NULL);
	for (size_t i = 0; i < sizeof(callback_cases) / sizeof(callback_cases[0]); i++)
		add_test(callback_cases[i].name, test_callback_error, &callback_cases[i]);
	return _cmocka_run_group_tests("lime", tests, test_count, NULL, NULL);
}
