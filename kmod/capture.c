// SPDX-License-Identifier: GPL-2.0-only
/*
 * The LiME stream of one open: headers and page data assembled on demand
 * at the reader's offset, through a one-page bounce buffer.
 *
 * Each physical page is fetched once into the bounce page (only its part
 * inside the range: a range may begin or end mid-page, and the rest of
 * that page is not System RAM), then handed out with copy_to_user(), which
 * may fault and sleep because no page is mapped any more by then.  Pages
 * that cannot be read are zero-filled so every byte keeps its address, and
 * recorded, merged, in a bounded list.
 *
 * Slow pages.  A page copy that takes longer than page_timeout_ms is kept
 * (its bytes are good) but counted as slow, and the rest of its 2 MiB
 * aligned block is zero-filled and recorded without being touched: slow
 * memory comes in regions (a failing DIMM, host swap behind a VM), and
 * probing every page of such a region would cost a timeout each.  After
 * FMEM_SLOW_STREAK_MAX slow pages with no fast page in between, the rest of
 * the range is given up the same way.  So one range costs at most that many
 * slow copies, however large it is.  A fast page ends the streak; a new
 * range starts afresh.  A single copy that never returns cannot be cut
 * short from here (it is one instruction stream); the timeout bounds how
 * many such copies are attempted, not how long one of them takes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "capture.h"

#ifdef DEBUG
/*
 * Debug builds only (make module-debug): pretend the pages in [start, end)
 * copy slowly, so that the slow-page policy can be tested on healthy
 * memory.  Never in a normal build: a capture must not be able to be told
 * to drop memory.
 */
static unsigned long long debug_slow_start, debug_slow_end;
module_param(debug_slow_start, ullong, 0444);
MODULE_PARM_DESC(debug_slow_start, "debug: first physical address to treat as slow");
module_param(debug_slow_end, ullong, 0444);
MODULE_PARM_DESC(debug_slow_end, "debug: end (exclusive) of the addresses to treat as slow");

static u64 debug_elapsed(u64 phys, u64 ns, u64 timeout_ns)
{
	if (timeout_ns && phys >= debug_slow_start && phys < debug_slow_end)
		return timeout_ns + 1;
	return ns;
}
#else
static inline u64 debug_elapsed(u64 phys, u64 ns, u64 timeout_ns)
{
	return ns;
}
#endif

#define LIME_MAGIC 0x4C694D45
#define LIME_VERSION 1

struct lime_header {
	__le32 magic;
	__le32 version;
	__le64 start;
	__le64 end;		/* inclusive */
	__le64 reserved;
} __packed;

static_assert(sizeof(struct lime_header) == FMEM_LIME_HEADER_SIZE);

int fmem_capture_init(struct fmem_capture *c, unsigned int timeout_ms)
{
	int ret;

	memset(c, 0, sizeof(*c));
	mutex_init(&c->lock);
	c->timeout_ns = (u64)timeout_ms * NSEC_PER_MSEC;
	c->bounce_range = -1;

	c->bounce = (void *)__get_free_page(GFP_KERNEL);
	if (!c->bounce) {
		ret = -ENOMEM;
		goto err;
	}
	c->unreadable = kvcalloc(FMEM_UNREADABLE_MAX, sizeof(*c->unreadable),
				 GFP_KERNEL);
	if (!c->unreadable) {
		ret = -ENOMEM;
		goto err_bounce;
	}
	ret = fmem_ranges_collect(&c->ranges);
	if (ret) {
		pr_err("no System RAM in the resource tree (%d)\n", ret);
		goto err_unreadable;
	}
	return 0;

err_unreadable:
	kvfree(c->unreadable);
err_bounce:
	free_page((unsigned long)c->bounce);
err:
	mutex_destroy(&c->lock);
	return ret;
}

void fmem_capture_destroy(struct fmem_capture *c)
{
	int i;

	pr_info("closed at %llu of %llu bytes; %llu pages unreadable, %llu slow\n",
		c->offset, c->ranges.stream_size, c->unreadable_pages,
		c->slow_pages);
	for (i = FMEM_PAGE_OK + 1; i < FMEM_PAGE_RESULTS; i++)
		if (c->pages_by_result[i])
			pr_info("  %llu pages %s\n", c->pages_by_result[i],
				fmem_page_result_name(i));
	fmem_ranges_free(&c->ranges);
	kvfree(c->unreadable);
	free_page((unsigned long)c->bounce);
	mutex_destroy(&c->lock);
}

/* [start, end) was zero-filled; called in ascending order. */
static void note_unreadable(struct fmem_capture *c, u64 start, u64 end,
			    enum fmem_page_result why)
{
	struct forensics_mem_range *last;

	c->unreadable_pages++;
	c->pages_by_result[why]++;
	if (c->unreadable_count) {
		last = &c->unreadable[c->unreadable_count - 1];
		if (last->end == start) {
			last->end = end;
			return;
		}
	}
	pr_debug("zero-filling from %#llx (%s)\n", start,
		 fmem_page_result_name(why));
	if (c->unreadable_count == FMEM_UNREADABLE_MAX) {
		c->unreadable_truncated = true;
		return;
	}
	c->unreadable[c->unreadable_count].start = start;
	c->unreadable[c->unreadable_count].end = end;
	c->unreadable_count++;
}

static void note_slow(struct fmem_capture *c, const struct fmem_range *r,
		      u64 phys, u64 ns)
{
	u64 block_end = ALIGN_DOWN(phys, FMEM_SLOW_BLOCK) + FMEM_SLOW_BLOCK;

	c->slow_pages++;
	c->slow_streak++;
	if (c->slow_streak >= FMEM_SLOW_STREAK_MAX)
		c->skip_end = r->end + 1;
	else
		c->skip_end = min(block_end, r->end + 1);
	pr_warn_ratelimited("page at %#llx took %llu us; zero-filling %#llx-%#llx\n",
			    phys, div_u64(ns, NSEC_PER_USEC), phys + PAGE_SIZE,
			    c->skip_end - 1);
}

/* Fill the bounce page with the part of page_phys that lies in range ri. */
static void fetch_page(struct fmem_capture *c, u32 ri, u64 page_phys)
{
	const struct fmem_range *r = &c->ranges.v[ri];
	u64 lo = max(page_phys, r->start);
	u64 end = min(page_phys + PAGE_SIZE, r->end + 1);
	unsigned int len = end - lo;
	void *dst = c->bounce + offset_in_page(lo);
	enum fmem_page_result result;
	u64 ns;

	if (lo < c->skip_end) {
		result = FMEM_PAGE_SKIPPED;
	} else {
		result = fmem_page_copy(lo, len, dst, &ns);
		ns = debug_elapsed(lo, ns, c->timeout_ns);
		if (c->timeout_ns && ns > c->timeout_ns)
			note_slow(c, r, lo, ns);
		else if (result == FMEM_PAGE_OK)
			c->slow_streak = 0;
	}
	if (result == FMEM_PAGE_OK) {
		c->pages_by_result[FMEM_PAGE_OK]++;
	} else {
		memset(dst, 0, len);
		note_unreadable(c, lo, end, result);
	}
	c->bounce_phys = page_phys;
	c->bounce_range = ri;
}

static void fill_header(struct lime_header *h, const struct fmem_range *r)
{
	h->magic = cpu_to_le32(LIME_MAGIC);
	h->version = cpu_to_le32(LIME_VERSION);
	h->start = cpu_to_le64(r->start);
	h->end = cpu_to_le64(r->end);
	h->reserved = 0;
}

ssize_t fmem_capture_read(struct fmem_capture *c, char __user *buf, size_t count)
{
	struct lime_header header;
	size_t done = 0;
	ssize_t ret = 0;

	if (mutex_lock_killable(&c->lock))
		return -EINTR;
	while (done < count && c->offset < c->ranges.stream_size) {
		const struct fmem_range *r = &c->ranges.v[c->cur];
		u64 rel = c->offset - r->stream_off;
		const void *src;
		unsigned long left;
		size_t n;

		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		if (rel >= fmem_range_stream_len(r)) {
			/* Offsets only grow: the next range is the next one. */
			c->cur++;
			c->skip_end = 0;
			c->slow_streak = 0;
			continue;
		}
		if (rel < FMEM_LIME_HEADER_SIZE) {
			fill_header(&header, r);
			n = min_t(u64, count - done, FMEM_LIME_HEADER_SIZE - rel);
			src = (const char *)&header + rel;
		} else {
			u64 phys = r->start + (rel - FMEM_LIME_HEADER_SIZE);
			u64 page_phys = phys & PAGE_MASK;

			if (c->bounce_range != c->cur || c->bounce_phys != page_phys)
				fetch_page(c, c->cur, page_phys);
			n = min_t(u64, count - done, PAGE_SIZE - offset_in_page(phys));
			n = min_t(u64, n, r->end - phys + 1);
			src = c->bounce + offset_in_page(phys);
		}
		left = copy_to_user(buf + done, src, n);
		done += n - left;
		c->offset += n - left;
		if (left) {
			ret = -EFAULT;
			break;
		}
		cond_resched();
	}
	mutex_unlock(&c->lock);
	/* Bytes already handed out are not taken back by a later error. */
	return done ? done : ret;
}

void fmem_capture_info(struct fmem_capture *c, struct forensics_mem_info *info)
{
	memset(info, 0, sizeof(*info));
	mutex_lock(&c->lock);
	info->abi_version = FORENSICS_MEM_ABI_VERSION;
	info->range_count = c->ranges.count;
	info->stream_size = c->ranges.stream_size;
	info->ram_bytes = c->ranges.ram_bytes;
	info->stream_offset = c->offset;
	info->unreadable_pages = c->unreadable_pages;
	info->slow_pages = c->slow_pages;
	mutex_unlock(&c->lock);
}

int fmem_capture_unreadable(struct fmem_capture *c,
			    struct forensics_mem_unreadable __user *arg)
{
	struct forensics_mem_unreadable u;
	int ret = 0;
	u32 n;

	if (copy_from_user(&u, arg, sizeof(u)))
		return -EFAULT;
	if (mutex_lock_killable(&c->lock))
		return -EINTR;
	n = min(u.capacity, c->unreadable_count);
	if (n && copy_to_user(u64_to_user_ptr(u.ranges), c->unreadable,
			      n * sizeof(*c->unreadable)))
		ret = -EFAULT;
	u.count = n;
	u.total = c->unreadable_count;
	u.truncated = c->unreadable_truncated;
	mutex_unlock(&c->lock);
	if (!ret && copy_to_user(arg, &u, sizeof(u)))
		ret = -EFAULT;
	return ret;
}
