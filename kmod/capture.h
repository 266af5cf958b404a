/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef FORENSICS_MEM_CAPTURE_H
#define FORENSICS_MEM_CAPTURE_H

#include <linux/mutex.h>
#include <linux/types.h>

#include "page.h"
#include "ranges.h"
#include "uapi/forensics_mem.h"

/* Entries of the unreadable list; more sets its truncated flag. */
#define FMEM_UNREADABLE_MAX 4096
/* Slow pages in a row after which the rest of the range is given up. */
#define FMEM_SLOW_STREAK_MAX 4
/* After a slow page the rest of this aligned block is skipped. */
#define FMEM_SLOW_BLOCK SZ_2M

/* One open of the device: the stream being read and what it met so far. */
struct fmem_capture {
	struct mutex lock;		/* serialises read() and the ioctls */
	struct fmem_ranges ranges;
	u64 offset;			/* stream bytes returned so far */
	u32 cur;			/* range holding offset */
	u64 timeout_ns;			/* 0: no limit */

	void *bounce;			/* one page */
	u64 bounce_phys;		/* page held, valid if bounce_range >= 0 */
	s64 bounce_range;

	u64 skip_end;			/* zero-fill below this, in range cur */
	u32 slow_streak;

	struct forensics_mem_range *unreadable;
	u32 unreadable_count;
	bool unreadable_truncated;
	u64 unreadable_pages;
	u64 slow_pages;
	u64 pages_by_result[FMEM_PAGE_RESULTS];
};

int fmem_capture_init(struct fmem_capture *c, unsigned int timeout_ms);
void fmem_capture_destroy(struct fmem_capture *c);
ssize_t fmem_capture_read(struct fmem_capture *c, char __user *buf, size_t count);
void fmem_capture_info(struct fmem_capture *c, struct forensics_mem_info *info);
int fmem_capture_unreadable(struct fmem_capture *c,
			    struct forensics_mem_unreadable __user *arg);

#endif
