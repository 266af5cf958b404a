/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The LiME memory image format, as written by upstream LiME and read by
 * Volatility 3's LiME layer: a sequence of ranges, each a 32-byte
 * little-endian header followed by the range's bytes.
 *
 *   u32 magic    0x4C694D45 ("EMiL" on disk)
 *   u32 version  1
 *   u64 start    first physical address
 *   u64 end      last physical address, INCLUSIVE
 *   u8  reserved[8], zero
 *
 * Ranges ascend and do not overlap.
 */
#ifndef FORENSICS_CAPTURE_LIME_H
#define FORENSICS_CAPTURE_LIME_H

#include "capture/range.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LIME_MAGIC 0x4C694D45u
#define LIME_VERSION 1u
#define LIME_HEADER_SIZE 32u

struct lime_header {
	uint32_t magic;
	uint32_t version;
	uint64_t start;
	uint64_t end;
};

void lime_header_encode(const struct mem_range *range, unsigned char out[LIME_HEADER_SIZE]);
/* 0, or -EBADMSG with a reason in *why (a static string). */
int lime_header_decode(const unsigned char in[LIME_HEADER_SIZE], struct lime_header *h,
		       const char **why);

/*
 * A push parser, so a stream can be checked as it is decompressed or
 * downloaded without holding it: feed() any number of bytes, then finish().
 */
struct lime_reader_ops {
	int (*range_begin)(void *ctx, const struct mem_range *range, uint64_t header_offset);
	int (*range_data)(void *ctx, const void *buf, size_t len);
	int (*range_end)(void *ctx, const struct mem_range *range);
};

struct lime_reader {
	const struct lime_reader_ops *ops;
	void *ctx;
	unsigned char header[LIME_HEADER_SIZE];
	size_t header_fill;
	bool in_range;
	struct mem_range range;
	uint64_t remaining;   /* data bytes left in the current range */
	bool have_previous;
	uint64_t previous_end;
	uint64_t offset;      /* bytes consumed from the stream */
	uint64_t range_count;
	char error[160];
};

void lime_reader_init(struct lime_reader *r, const struct lime_reader_ops *ops, void *ctx);
/*
 * 0, -EBADMSG for a malformed stream (r->error says where and why), or the
 * first negative value a callback returned.
 */
int lime_reader_feed(struct lime_reader *r, const void *buf, size_t len);
/* -EBADMSG if the stream stops inside a header or range, or holds no range. */
int lime_reader_finish(struct lime_reader *r);

#endif
