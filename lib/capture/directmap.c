// SPDX-License-Identifier: GPL-2.0-only
#include "capture/directmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PAGEMAP_PRESENT (1ull << 63)
#define PAGEMAP_SWAPPED (1ull << 62)
#define PAGEMAP_PFN_MASK ((1ull << 55) - 1)
/* include/uapi/linux/kernel-page-flags.h */
#define KPF_HWPOISON 19
#define KPF_NOPAGE 20
#define KPF_OFFLINE 23

enum directmap_lockdown directmap_lockdown_parse(const char *text, size_t len)
{
	static const struct {
		const char *name;
		enum directmap_lockdown mode;
	} modes[] = {
		{ "none", DIRECTMAP_LOCKDOWN_NONE },
		{ "integrity", DIRECTMAP_LOCKDOWN_INTEGRITY },
		{ "confidentiality", DIRECTMAP_LOCKDOWN_CONFIDENTIALITY },
	};
	const char *open = memchr(text, '[', len), *close;
	size_t n;

	if (!open)
		return DIRECTMAP_LOCKDOWN_UNKNOWN;
	open++;
	close = memchr(open, ']', len - (size_t)(open - text));
	if (!close)
		return DIRECTMAP_LOCKDOWN_UNKNOWN;
	n = (size_t)(close - open);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strlen(modes[i].name) == n && !memcmp(open, modes[i].name, n))
			return modes[i].mode;
	return DIRECTMAP_LOCKDOWN_UNKNOWN;
}

int directmap_meminfo_kb(const char *text, size_t len, const char *field, uint64_t *kb)
{
	size_t flen = strlen(field);
	const char *line = text, *end = text + len;

	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *stop = nl ? nl : end;

		/* "Unaccepted:        1234 kB" */
		if ((size_t)(stop - line) > flen && !memcmp(line, field, flen) && line[flen] == ':') {
			const char *p = line + flen + 1;
			uint64_t v = 0;
			bool digits = false;

			while (p < stop && *p == ' ')
				p++;
			for (; p < stop && *p >= '0' && *p <= '9'; p++) {
				if (v > (UINT64_MAX - 9) / 10)
					return -ENOENT;
				v = v * 10 + (uint64_t)(*p - '0');
				digits = true;
			}
			if (!digits)
				return -ENOENT;
			*kb = v;
			return 0;
		}
		line = stop + 1;
	}
	return -ENOENT;
}

int directmap_pagemap_pfn(uint64_t entry, uint64_t *pfn)
{
	if (!(entry & PAGEMAP_PRESENT) || (entry & PAGEMAP_SWAPPED))
		return -ENOENT;
	if (!(entry & PAGEMAP_PFN_MASK))
		return -EPERM;
	*pfn = entry & PAGEMAP_PFN_MASK;
	return 0;
}

bool directmap_page_unsafe(uint64_t flags)
{
	return flags & ((1ull << KPF_HWPOISON) | (1ull << KPF_NOPAGE) | (1ull << KPF_OFFLINE));
}

bool directmap_page_poisoned(uint64_t flags)
{
	return flags & (1ull << KPF_HWPOISON);
}

uint64_t directmap_region_start(uint64_t direct_ptr)
{
	return direct_ptr >= DIRECTMAP_L4_KERNEL_START ? DIRECTMAP_BASE_L4 : DIRECTMAP_BASE_L5;
}

size_t directmap_candidates(uint64_t direct_ptr, uint64_t phys_end, uint64_t *out, size_t max)
{
	uint64_t top = direct_ptr & ~(DIRECTMAP_ALIGN - 1);
	uint64_t low = directmap_region_start(direct_ptr);
	size_t count;

	if (top < low)
		return 0;
	/* The pointer's own physical address is below phys_end: base > ptr - phys_end. */
	if (phys_end && direct_ptr - low > phys_end) {
		uint64_t bound = direct_ptr - phys_end;

		/* Round up to the alignment; top is aligned, so no overflow past it. */
		if (bound > top)
			return 0;
		low = bound & ~(DIRECTMAP_ALIGN - 1);
		if (low < bound)
			low += DIRECTMAP_ALIGN;
	}
	count = (size_t)((top - low) / DIRECTMAP_ALIGN) + 1;
	for (size_t i = 0; i < count && i < max; i++)
		out[i] = low + i * DIRECTMAP_ALIGN;
	return count;
}

static int page_matches(struct directmap_probe *probe, uint64_t vaddr, const void *pattern,
			unsigned char *buf)
{
	int ret;

	probe->reads++;
	ret = probe->read_page(probe->ctx, vaddr, buf);
	if (ret == -EFAULT || ret == -ERANGE)
		return -ENOENT;  /* nothing mapped there: not the base */
	if (ret)
		return ret;
	return memcmp(buf, pattern, DIRECTMAP_PAGE_SIZE) ? -ENOENT : 0;
}

int directmap_verify_base(struct directmap_probe *probe, uint64_t base)
{
	unsigned char *buf = malloc(DIRECTMAP_PAGE_SIZE);
	int ret;

	if (!buf)
		return -ENOMEM;
	if (base % DIRECTMAP_ALIGN)
		ret = -ENOENT;
	else
		ret = page_matches(probe, base + probe->phys[0], probe->pattern[0], buf);
	if (!ret)
		ret = page_matches(probe, base + probe->phys[1], probe->pattern[1], buf);
	free(buf);
	return ret;
}

int directmap_probe_base(struct directmap_probe *probe, const uint64_t *candidates, size_t n,
			 uint64_t *base)
{
	unsigned char *buf = malloc(DIRECTMAP_PAGE_SIZE);
	int ret = -ENOENT;

	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		ret = page_matches(probe, candidates[i] + probe->phys[0], probe->pattern[0], buf);
		if (ret == -ENOENT)
			continue;
		if (!ret)
			ret = page_matches(probe, candidates[i] + probe->phys[1], probe->pattern[1],
					   buf);
		if (!ret) {
			*base = candidates[i];
			break;
		}
		if (ret != -ENOENT)
			break;
	}
	free(buf);
	return ret;
}
