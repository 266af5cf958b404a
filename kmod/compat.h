/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every kernel-version difference the module has to bridge, so that the
 * capture code reads the same on 5.10, 6.1 and 6.12.
 */
#ifndef FORENSICS_MEM_COMPAT_H
#define FORENSICS_MEM_COMPAT_H

#include <linux/highmem.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/version.h>
#include <linux/vmstat.h>
#include <asm/pgtable_types.h>

/*
 * Only x86-64 has been reasoned about: there the whole of System RAM sits
 * in the direct map, copy_mc_to_kernel() recovers from both machine checks
 * and page faults, and a direct-map hole can be seen in the page tables.
 * Elsewhere (arm64 unmaps the crash kernel, for one) those promises do not
 * hold, so refuse to build rather than build something that can oops.
 */
#ifndef CONFIG_X86_64
#error "forensics_mem supports x86-64 kernels only"
#endif

/*
 * The page is mapped only for one copy_mc_to_kernel() into the bounce
 * buffer; nothing in between may sleep.  kmap_local_page() arrived in 5.11;
 * kmap_atomic() is the equivalent before it (on x86-64 both return the
 * direct-map address; kmap_atomic also disables preemption).
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 11, 0)
static inline void *compat_map_page(struct page *page)
{
	return kmap_atomic(page);
}

static inline void compat_unmap_page(void *addr)
{
	kunmap_atomic(addr);
}
#else
static inline void *compat_map_page(struct page *page)
{
	return kmap_local_page(page);
}

static inline void compat_unmap_page(void *addr)
{
	kunmap_local(addr);
}
#endif

/*
 * The struct page of an online memory section, or NULL.  5.10 has it as a
 * macro, later kernels as an exported function; both reject pfns without
 * a memmap and sections that were offlined (and may be about to go).
 */
static inline struct page *compat_online_page(unsigned long pfn)
{
	if (!pfn_valid(pfn))
		return NULL;
	return pfn_to_online_page(pfn);
}

/*
 * Pages of confidential guests (TDX, SEV-SNP) that the firmware has not
 * accepted yet: touching one kills the guest, and the kernel offers
 * modules no way to test a single page.  The counter exists from 6.5 with
 * CONFIG_UNACCEPTED_MEMORY; it only ever falls, so zero stays zero.
 */
static inline unsigned long compat_unaccepted_pages(void)
{
#ifdef CONFIG_UNACCEPTED_MEMORY
	return global_zone_page_state(NR_UNACCEPTED);
#else
	return 0;
#endif
}

/*
 * Whether the direct-map address is mapped at all.  Secret memory
 * (memfd_secret), KFENCE guard pages and some poisoned pages are removed
 * from the direct map although their struct page looks ordinary.
 */
static inline bool compat_direct_map_present(const void *addr)
{
	unsigned int level;
	pte_t *pte = lookup_address((unsigned long)addr, &level);

	return pte && (pte_flags(*pte) & _PAGE_PRESENT);
}

#endif
