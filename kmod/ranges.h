/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef FORENSICS_MEM_RANGES_H
#define FORENSICS_MEM_RANGES_H

#include <linux/types.h>

/* Bytes of the LiME header in front of every range. */
#define FMEM_LIME_HEADER_SIZE 32

/* One merged span of System RAM and where it sits in the LiME stream. */
struct fmem_range {
	u64 start;
	u64 end;		/* inclusive, as in /proc/iomem and LiME */
	u64 stream_off;		/* offset of the range's header */
};

struct fmem_ranges {
	struct fmem_range *v;
	u32 count;
	u32 capacity;
	u64 ram_bytes;
	u64 stream_size;	/* headers and data of every range */
};

int fmem_ranges_collect(struct fmem_ranges *ranges);
void fmem_ranges_free(struct fmem_ranges *ranges);

/* Bytes of the stream that belong to range r: header and data. */
static inline u64 fmem_range_stream_len(const struct fmem_range *r)
{
	return FMEM_LIME_HEADER_SIZE + (r->end - r->start + 1);
}

#endif
