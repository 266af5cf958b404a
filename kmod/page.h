/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef FORENSICS_MEM_PAGE_H
#define FORENSICS_MEM_PAGE_H

#include <linux/types.h>

/* Why a piece of a page was zero-filled instead of copied. */
enum fmem_page_result {
	FMEM_PAGE_OK = 0,
	FMEM_PAGE_NO_MEMMAP,	/* no struct page, or its section is offline */
	FMEM_PAGE_OFFLINE,	/* logically offline: balloon, virtio-mem */
	FMEM_PAGE_POISONED,	/* marked hardware-poisoned by the kernel */
	FMEM_PAGE_UNMAPPED,	/* not in the direct map (secretmem, KFENCE) */
	FMEM_PAGE_COPY_FAILED,	/* copy_mc_to_kernel() stopped: machine check */
	FMEM_PAGE_SKIPPED,	/* skipped after slow pages (capture.c) */
	FMEM_PAGE_RESULTS
};

enum fmem_page_result fmem_page_copy(u64 phys, unsigned int len, void *dst,
				     u64 *elapsed_ns);
const char *fmem_page_result_name(enum fmem_page_result result);

int fmem_page_hotplug_register(void);
void fmem_page_hotplug_unregister(void);

#endif
