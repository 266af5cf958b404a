// SPDX-License-Identifier: GPL-2.0-only
#include "capture/lime.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void put_le32(unsigned char *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static void put_le64(unsigned char *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

static uint32_t get_le32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static uint64_t get_le64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

void lime_header_encode(const struct mem_range *range, unsigned char out[LIME_HEADER_SIZE])
{
	memset(out, 0, LIME_HEADER_SIZE);
	put_le32(out, LIME_MAGIC);
	put_le32(out + 4, LIME_VERSION);
	put_le64(out + 8, range->start);
	put_le64(out + 16, range->end);
}

int lime_header_decode(const unsigned char in[LIME_HEADER_SIZE], struct lime_header *h,
		       const char **why)
{
	static const unsigned char zero[8];

	h->magic = get_le32(in);
	h->version = get_le32(in + 4);
	h->start = get_le64(in + 8);
	h->end = get_le64(in + 16);
	if (h->magic != LIME_MAGIC) {
		*why = "bad magic";
		return -EBADMSG;
	}
	if (h->version != LIME_VERSION) {
		*why = "unsupported version";
		return -EBADMSG;
	}
	if (memcmp(in + 24, zero, sizeof(zero))) {
		*why = "reserved bytes not zero";
		return -EBADMSG;
	}
	if (h->end < h->start) {
		*why = "range end before start";
		return -EBADMSG;
	}
	return 0;
}

void lime_reader_init(struct lime_reader *r, const struct lime_reader_ops *ops, void *ctx)
{
	memset(r, 0, sizeof(*r));
	r->ops = ops;
	r->ctx = ctx;
}

static int fail(struct lime_reader *r, uint64_t at, const char *why)
{
	snprintf(r->error, sizeof(r->error), "malformed LiME stream at byte %" PRIu64 ": %s",
		 at, why);
	return -EBADMSG;
}

static int begin_range(struct lime_reader *r)
{
	uint64_t header_offset = r->offset - LIME_HEADER_SIZE;
	struct lime_header h;
	const char *why;
	int ret;

	if (lime_header_decode(r->header, &h, &why))
		return fail(r, header_offset, why);
	if (r->have_previous && h.start <= r->previous_end)
		return fail(r, header_offset, "ranges overlap or descend");
	r->range.start = h.start;
	r->range.end = h.end;
	r->in_range = true;
	/* A range covering all 2^64 addresses cannot be stored; treat as too big. */
	if (h.start == 0 && h.end == UINT64_MAX)
		return fail(r, header_offset, "range covers the whole address space");
	r->remaining = mem_range_size(&r->range);
	r->range_count++;
	if (r->ops && r->ops->range_begin) {
		ret = r->ops->range_begin(r->ctx, &r->range, header_offset);
		if (ret)
			return ret;
	}
	return 0;
}

static int end_range(struct lime_reader *r)
{
	r->in_range = false;
	r->have_previous = true;
	r->previous_end = r->range.end;
	r->header_fill = 0;
	if (r->ops && r->ops->range_end)
		return r->ops->range_end(r->ctx, &r->range);
	return 0;
}

int lime_reader_feed(struct lime_reader *r, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	int ret;

	while (len) {
		if (!r->in_range) {
			size_t want = LIME_HEADER_SIZE - r->header_fill;
			size_t take = len < want ? len : want;

			memcpy(r->header + r->header_fill, p, take);
			r->header_fill += take;
			r->offset += take;
			p += take;
			len -= take;
			if (r->header_fill < LIME_HEADER_SIZE)
				break;
			ret = begin_range(r);
			if (ret)
				return ret;
			continue;
		}
		size_t take = len < r->remaining ? len : (size_t)r->remaining;

		if (r->ops && r->ops->range_data) {
			ret = r->ops->range_data(r->ctx, p, take);
			if (ret)
				return ret;
		}
		r->offset += take;
		r->remaining -= take;
		p += take;
		len -= take;
		if (!r->remaining) {
			ret = end_range(r);
			if (ret)
				return ret;
		}
	}
	return 0;
}

int lime_reader_finish(struct lime_reader *r)
{
	if (r->in_range)
		return fail(r, r->offset, "truncated inside a range");
	if (r->header_fill)
		return fail(r, r->offset, "truncated inside a range header");
	if (!r->range_count)
		return fail(r, r->offset, "no ranges");
	return 0;
}
