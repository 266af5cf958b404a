// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer: what the eBPF source reads from the kernel before it trusts an
 * address: /sys/kernel/security/lockdown, /proc/meminfo, pagemap and
 * kpageflags words, and the candidate bases derived from a kernel pointer.
 */
#include "capture/directmap.h"

#include <stdlib.h>
#include <string.h>

#define MAX_OUT 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t kb, pfn, words[3] = { 0 }, out[MAX_OUT];
	size_t n;

	(void)directmap_lockdown_parse((const char *)data, size);
	if (!directmap_meminfo_kb((const char *)data, size, "Unaccepted", &kb))
		(void)kb;
	memcpy(words, data, size < sizeof(words) ? size : sizeof(words));
	if (!directmap_pagemap_pfn(words[0], &pfn) && (pfn == 0 || pfn >> 55))
		abort();
	(void)directmap_page_unsafe(words[0]);
	n = directmap_candidates(words[1], words[2], out, MAX_OUT);
	for (size_t i = 0; i < n && i < MAX_OUT; i++) {
		/* Aligned, ascending, never above the pointer nor below the region. */
		if (out[i] % DIRECTMAP_ALIGN || out[i] > words[1] ||
		    out[i] < directmap_region_start(words[1]) || (i && out[i] <= out[i - 1]))
			abort();
		/* The pointer's physical address is below phys_end. */
		if (words[2] && words[1] - out[i] > words[2])
			abort();
	}
	return 0;
}
