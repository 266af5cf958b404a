/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Finding and guarding the kernel's direct map of physical RAM on x86-64
 * (PAGE_OFFSET + phys), for sources that read RAM through kernel virtual
 * addresses. Pure steps, so they can be tested and fuzzed without a kernel:
 * the texts and words the kernel exports (lockdown, meminfo, pagemap,
 * kpageflags), the candidate bases KASLR allows, and a search over them with
 * an injected page reader.
 */
#ifndef FORENSICS_CAPTURE_DIRECTMAP_H
#define FORENSICS_CAPTURE_DIRECTMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIRECTMAP_PAGE_SIZE 4096u
/* KASLR (arch/x86/mm/kaslr.c) moves page_offset_base in PUD_SIZE steps. */
#define DIRECTMAP_ALIGN (1ull << 30)
/* __PAGE_OFFSET_BASE_L4 / _L5: the base without KASLR and the lowest with it. */
#define DIRECTMAP_BASE_L4 0xffff888000000000ull
#define DIRECTMAP_BASE_L5 0xff11000000000000ull
/* Kernel addresses of 4-level paging start here; lower ones mean 5-level. */
#define DIRECTMAP_L4_KERNEL_START 0xffff800000000000ull

enum directmap_lockdown {
	DIRECTMAP_LOCKDOWN_UNKNOWN = -1,
	DIRECTMAP_LOCKDOWN_NONE,
	DIRECTMAP_LOCKDOWN_INTEGRITY,
	DIRECTMAP_LOCKDOWN_CONFIDENTIALITY,
};

/* /sys/kernel/security/lockdown, "none [integrity] confidentiality": the bracketed mode. */
enum directmap_lockdown directmap_lockdown_parse(const char *text, size_t len);

/* A /proc/meminfo field in kB ("Unaccepted"): 0, or -ENOENT when absent or malformed. */
int directmap_meminfo_kb(const char *text, size_t len, const char *field, uint64_t *kb);

/*
 * A /proc/PID/pagemap entry: 0 with the page frame number, -ENOENT when the
 * page is not present (or swapped), -EPERM when the kernel hides PFNs (the
 * reader lacks CAP_SYS_ADMIN).
 */
int directmap_pagemap_pfn(uint64_t entry, uint64_t *pfn);

/*
 * A /proc/kpageflags word of a page that must not be read: hardware-poisoned
 * (a load raises a machine check), offline (ballooned or unplugged), or no
 * struct page at all.
 */
bool directmap_page_unsafe(uint64_t flags);
bool directmap_page_poisoned(uint64_t flags);

/* The lowest base the kernel can choose, given a pointer into the direct map. */
uint64_t directmap_region_start(uint64_t direct_ptr);

/*
 * Candidate bases for a kernel whose direct map holds direct_ptr and whose
 * RAM ends below phys_end (0: unknown): PUD-aligned, no higher than
 * direct_ptr, no lower than direct_ptr - phys_end nor than the region start.
 * Written ascending, at most max; returns how many there are in all.
 */
size_t directmap_candidates(uint64_t direct_ptr, uint64_t phys_end, uint64_t *out,
			    size_t max);

/* Pages of known content at known physical addresses, and a way to read the kernel. */
struct directmap_probe {
	/* Read the page at kernel address vaddr into buf: 0 or negative errno. */
	int (*read_page)(void *ctx, uint64_t vaddr, void *buf);
	void *ctx;
	const void *pattern[2];  /* DIRECTMAP_PAGE_SIZE bytes each */
	uint64_t phys[2];
	unsigned int reads;      /* pages read so far, for the record */
};

/* 0 when both known pages read back at base + phys, -ENOENT when not, or the reader's error. */
int directmap_verify_base(struct directmap_probe *probe, uint64_t base);

/*
 * Try candidates in order (ascending: every read then lands below the true
 * base + phys[0], in unmapped space or in RAM, never past the direct map)
 * until the first known page matches and the second confirms it. 0 with
 * *base, or -ENOENT.
 */
int directmap_probe_base(struct directmap_probe *probe, const uint64_t *candidates, size_t n,
			 uint64_t *base);

#endif
