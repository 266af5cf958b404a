// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer: the LiME stream parser, fed in one piece and in pieces split
 * at a point the input chooses: both must agree.
 */
#include "capture/lime.h"

#include <stdint.h>
#include <stdlib.h>

struct tally {
	uint64_t data;
	uint64_t ranges;
};

static int on_begin(void *ctx, const struct mem_range *r, uint64_t off)
{
	((struct tally *)ctx)->ranges++;
	return 0;
}

static int on_data(void *ctx, const void *buf, size_t len)
{
	((struct tally *)ctx)->data += len;
	return 0;
}

static const struct lime_reader_ops ops = { .range_begin = on_begin, .range_data = on_data };

static int parse(const uint8_t *data, size_t size, size_t split, struct tally *t)
{
	struct lime_reader r;
	int ret;

	lime_reader_init(&r, &ops, t);
	ret = lime_reader_feed(&r, data, split);
	if (!ret)
		ret = lime_reader_feed(&r, data + split, size - split);
	if (!ret)
		ret = lime_reader_finish(&r);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tally whole = { 0 }, pieces = { 0 };
	size_t split = size ? data[0] % (size + 1) : 0;
	int a = parse(data, size, size, &whole);
	int b = parse(data, size, split, &pieces);

	if (a != b || whole.data != pieces.data || whole.ranges != pieces.ranges)
		abort();
	return 0;
}
