// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every input is turned into a sequence of (range, bytes) and every output
 * is written from that sequence, so each pair of formats is the same code.
 */
#include "convert.h"
#include "base/exitcodes.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* Zeros for padded gaps; in .bss, so it costs nothing until the first gap. */
#define ZERO_CHUNK (256u << 10)
static unsigned char zeros[ZERO_CHUNK];

/* ---- output ---- */

static int out_write(struct convert *c, const void *buf, size_t len)
{
	int ret = sink_write(c->top, buf, len);

	if (ret)
		return convert_stop(c, EXIT_OUTPUT, "%s: cannot write: %s", c->output_name,
				    strerror(-ret));
	return 0;
}

static int out_zero_fill(struct convert *c, uint64_t len)
{
	c->zero_filled += len;
	while (len) {
		size_t take = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		int ret = out_write(c, zeros, take);

		if (ret)
			return ret;
		len -= take;
	}
	return 0;
}

static int out_range_begin(struct convert *c, const struct mem_range *range)
{
	unsigned char header[LIME_HEADER_SIZE];
	int ret;

	c->ranges_written++;
	switch (c->to) {
	case FORMAT_LIME:
		lime_header_encode(range, header);
		return out_write(c, header, sizeof(header));
	case FORMAT_PADDED:
		if (range->end > PADDED_MAX_ADDRESS)
			return convert_stop(c, EXIT_USAGE,
				    "range 0x%" PRIx64 "-0x%" PRIx64 " lies beyond the 52-bit physical "
				    "address space: a padded image cannot hold it, use --to lime or raw",
				    range->start, range->end);
		/* Ranges ascend (LiME reader, manifest parser), so this never goes back. */
		ret = out_zero_fill(c, range->start - c->out_position);
		c->out_position = range->start;
		return ret;
	default:
		return 0;
	}
}

static int out_range_data(struct convert *c, const void *buf, size_t len)
{
	c->out_position += len;
	return out_write(c, buf, len);
}

static int lime_begin(void *ctx, const struct mem_range *range, uint64_t header_offset)
{
	return out_range_begin(ctx, range);
}

static int lime_data(void *ctx, const void *buf, size_t len)
{
	return out_range_data(ctx, buf, len);
}

static const struct lime_reader_ops convert_lime_ops = {
	.range_begin = lime_begin,
	.range_data = lime_data,
};

/* ---- input ---- */

/* Input offset of segment i's first byte: its address if padded, else right after i - 1. */
static uint64_t segment_start_offset(const struct convert *c, size_t i, uint64_t previous_end)
{
	if (c->from == FORMAT_PADDED)
		return c->segments->items[i].start;
	return i ? previous_end + 1 : 0;
}

static int feed_segments(struct convert *c, const unsigned char *p, size_t len)
{
	while (len) {
		const struct mem_range *range;
		uint64_t last, room;
		size_t take;
		int ret;

		if (c->segment == c->segments->count) {
			/* Past the last range: padded memory nobody asked for, or excess raw data. */
			c->skipped += len;
			c->in_position += len;
			return 0;
		}
		range = &c->segments->items[c->segment];
		if (c->in_position < c->segment_offset) {
			uint64_t gap = c->segment_offset - c->in_position;

			take = len < gap ? len : (size_t)gap;
			c->skipped += take;
			c->in_position += take;
			p += take;
			len -= take;
			continue;
		}
		if (!c->segment_open) {
			ret = out_range_begin(c, range);
			if (ret)
				return ret;
			c->segment_open = true;
		}
		/* Inclusive arithmetic: a range may end at the top of the address space. */
		last = c->segment_offset + (range->end - range->start);
		room = last - c->in_position;   /* bytes left in the range, minus one */
		take = (uint64_t)len - 1 <= room ? len : (size_t)room + 1;
		ret = out_range_data(c, p, take);
		if (ret)
			return ret;
		c->in_position += take;
		p += take;
		len -= take;
		if (c->in_position - 1 == last) {
			c->segment_open = false;
			c->segment++;
			if (c->segment < c->segments->count)
				c->segment_offset = segment_start_offset(c, c->segment, last);
		}
	}
	return 0;
}

static int dispatch(struct convert *c, const void *buf, size_t len)
{
	switch (c->mode) {
	case MODE_LIME:
		return lime_reader_feed(&c->lime, buf, len);
	case MODE_SEGMENTS:
		return feed_segments(c, buf, len);
	case MODE_PASSTHROUGH:
		c->in_position += len;
		return out_range_data(c, buf, len);
	default:
		return convert_stop(c, EXIT_FAILURE_INTERNAL, "input format undecided");
	}
}

static int decide(struct convert *c)
{
	uint32_t magic = 0;

	if (c->prefix_fill == sizeof(magic))
		memcpy(&magic, c->prefix, sizeof(magic));
	if (c->from == FORMAT_AUTO) {
		c->from = le32toh(magic) == LIME_MAGIC ? FORMAT_LIME : FORMAT_RAW;
		/* Not memory that happens to start so: another tool's compressed image. */
		if (c->from == FORMAT_RAW && image_other_compressor(c->reader.head, c->reader.head_len))
			return convert_stop(c, EXIT_MALFORMED, "%s: %s", c->input_name,
				    convert_input_hint(c) + 2);
		if (convert_check_formats(c, c->from))
			return -ECANCELED;
	} else if (c->from != FORMAT_LIME && le32toh(magic) == LIME_MAGIC) {
		/* Read as raw or padded, LiME's headers would land in the output as memory. */
		return convert_stop(c, EXIT_USAGE, "%s starts with the LiME magic but --from %s was "
			    "given: drop --from (LiME is detected) or pass --from lime", c->input_name,
			    convert_format_names[c->from]);
	}
	if (c->from == FORMAT_LIME) {
		c->mode = MODE_LIME;
		lime_reader_init(&c->lime, &convert_lime_ops, c);
	} else if (c->have_manifest) {
		c->mode = MODE_SEGMENTS;
		c->segments = &c->manifest.ranges;
	} else if (c->from == FORMAT_PADDED && c->to == FORMAT_LIME) {
		c->mode = MODE_SEGMENTS;
		c->segments = &c->whole;
	} else {
		/* raw -> raw, padded -> padded or raw: the bytes stay as they are. */
		c->mode = MODE_PASSTHROUGH;
	}
	if (c->mode == MODE_SEGMENTS && c->segments->count)
		c->segment_offset = segment_start_offset(c, 0, 0);
	return dispatch(c, c->prefix, c->prefix_fill);
}

int convert_feed(void *ctx, const void *buf, size_t len)
{
	struct convert *c = ctx;
	const unsigned char *p = buf;
	int ret;

	if (c->mode == MODE_UNDECIDED) {
		size_t take = sizeof(c->prefix) - c->prefix_fill;

		take = len < take ? len : take;
		memcpy(c->prefix + c->prefix_fill, p, take);
		c->prefix_fill += take;
		p += take;
		len -= take;
		if (c->prefix_fill < sizeof(c->prefix))
			return 0;
		ret = decide(c);
		if (ret)
			return ret;
	}
	return dispatch(c, p, len);
}

int convert_finish_input(struct convert *c)
{
	const struct mem_range *range;
	int ret;

	if (c->mode == MODE_UNDECIDED) {
		if (!c->prefix_fill)
			return convert_stop(c, EXIT_MALFORMED, "%s: input is empty", c->input_name);
		ret = decide(c);
		if (ret)
			return ret;
	}
	switch (c->mode) {
	case MODE_LIME:
		if (lime_reader_finish(&c->lime))
			return convert_stop(c, EXIT_MALFORMED, "%s: %s%s", c->input_name, c->lime.error,
				    convert_input_hint(c));
		return 0;
	case MODE_SEGMENTS:
		if (c->segment < c->segments->count) {
			range = &c->segments->items[c->segment];
			return convert_stop(c, EXIT_MISMATCH,
				    "%s: input ends after %" PRIu64 " bytes, inside or before range "
				    "0x%" PRIx64 "-0x%" PRIx64 " of %s", c->input_name,
				    c->in_position, range->start, range->end,
				    c->have_manifest ? c->manifest_path : "the input");
		}
		if (c->from == FORMAT_RAW && c->skipped)
			return convert_stop(c, EXIT_MISMATCH,
				    "%s: raw input has %" PRIu64 " bytes more than the ranges of %s",
				    c->input_name, c->skipped, c->manifest_path);
		return 0;
	default:
		return 0;
	}
}
