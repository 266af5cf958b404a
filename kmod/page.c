// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copying one piece of one physical page, and only when it is safe to touch.
 *
 * A page of System RAM is read only if it has an online struct page, is not
 * logically offline (balloon-inflated pages and unplugged virtio-mem blocks
 * may be unbacked), is not marked poisoned, and is present in the direct
 * map.  The copy itself goes through copy_mc_to_kernel(), which stops at a
 * machine check (and, on x86, at a fault) instead of taking the machine
 * down.  The page is mapped only around that copy into a kernel bounce
 * buffer, so nothing between map and unmap can sleep or fault on user
 * memory.
 *
 * Memory hot-remove frees the memmap and unmaps the direct map only after
 * the memory block has gone offline.  A memory notifier waits, at
 * MEM_OFFLINE, for copies in flight; any copy that starts later sees the
 * section offline.  So a page is never read after it has gone.
 */
#include <linux/ktime.h>
#include <linux/memory.h>
#include <linux/page-flags.h>
#include <linux/preempt.h>
#include <linux/rwsem.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "page.h"

static DECLARE_RWSEM(hotplug_sem);

enum fmem_page_result fmem_page_copy(u64 phys, unsigned int len, void *dst,
				     u64 *elapsed_ns)
{
	enum fmem_page_result result = FMEM_PAGE_OK;
	struct page *page;
	unsigned long left;
	char *vaddr;
	u64 t0;

	*elapsed_ns = 0;
	down_read(&hotplug_sem);
	page = compat_online_page(PHYS_PFN(phys));
	if (!page) {
		result = FMEM_PAGE_NO_MEMMAP;
		goto out;
	}
	if (PageOffline(page)) {
		result = FMEM_PAGE_OFFLINE;
		goto out;
	}
	if (PageHWPoison(page) || PageHWPoison(compound_head(page))) {
		result = FMEM_PAGE_POISONED;
		goto out;
	}

	vaddr = compat_map_page(page);
	if (!compat_direct_map_present(vaddr)) {
		result = FMEM_PAGE_UNMAPPED;
		goto out_unmap;
	}
	/* Time the copy, not whatever preempted us in the middle of it. */
	preempt_disable();
	t0 = ktime_get_ns();
	left = copy_mc_to_kernel(dst, vaddr + offset_in_page(phys), len);
	*elapsed_ns = ktime_get_ns() - t0;
	preempt_enable();
	if (left)
		result = FMEM_PAGE_COPY_FAILED;

out_unmap:
	compat_unmap_page(vaddr);
out:
	up_read(&hotplug_sem);
	return result;
}

const char *fmem_page_result_name(enum fmem_page_result result)
{
	static const char *const names[FMEM_PAGE_RESULTS] = {
		[FMEM_PAGE_OK] = "ok",
		[FMEM_PAGE_NO_MEMMAP] = "no-memmap",
		[FMEM_PAGE_OFFLINE] = "offline",
		[FMEM_PAGE_POISONED] = "poisoned",
		[FMEM_PAGE_UNMAPPED] = "unmapped",
		[FMEM_PAGE_COPY_FAILED] = "machine-check",
		[FMEM_PAGE_SKIPPED] = "slow-skip",
	};

	return result < FMEM_PAGE_RESULTS ? names[result] : "?";
}

static int hotplug_event(struct notifier_block *nb, unsigned long action,
			 void *data)
{
	/* Let copies that saw the section online finish before removal. */
	if (action == MEM_OFFLINE) {
		down_write(&hotplug_sem);
		up_write(&hotplug_sem);
	}
	return NOTIFY_OK;
}

static struct notifier_block hotplug_nb = {
	.notifier_call = hotplug_event,
};

int fmem_page_hotplug_register(void)
{
	return register_memory_notifier(&hotplug_nb);
}

void fmem_page_hotplug_unregister(void)
{
	unregister_memory_notifier(&hotplug_nb);
}
