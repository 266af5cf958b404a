/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * /proc/kcore is an ELF core file of the kernel's virtual address space.
 * Its PT_LOAD segments for RAM carry the physical address in p_paddr on
 * current kernels; older kernels leave p_paddr zero, and then the
 * direct-map offset (PAGE_OFFSET, randomised under KASLR) translates.
 */
#ifndef FORENSICS_CAPTURE_KCORE_H
#define FORENSICS_CAPTURE_KCORE_H

#include "capture/range.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kcore_segment {
	uint64_t vaddr;
	uint64_t paddr;
	uint64_t offset;
	uint64_t size;
};

struct kcore_map_entry {
	uint64_t phys_start;
	uint64_t phys_end;   /* inclusive */
	uint64_t file_offset;
};

struct kcore_map {
	struct kcore_map_entry *entries;  /* sorted by phys_start */
	size_t count;
};

/* Bytes of the file needed to parse the headers (ELF header first). */
#define KCORE_HEADER_READ (1u << 20)

/*
 * Parse the ELF header and PT_LOAD program headers from the first len bytes
 * of the file. *segments is malloc'd. -EBADMSG on anything malformed
 * (wrong class, machine, truncated table), -E2BIG if the table lies beyond
 * len.
 */
int kcore_parse_segments(const void *buf, size_t len, struct kcore_segment **segments,
			 size_t *count);

/* True if p_paddr looks set by the kernel (0 and ~0 mean "no physical address"). */
bool kcore_paddr_valid(uint64_t paddr);

/*
 * Translate segments to physical mappings, using p_paddr where valid and
 * vaddr - direct_map_base where not (direct_map_base 0: p_paddr only).
 * Only mappings that overlap ram are kept.
 */
int kcore_build_map(const struct kcore_segment *segments, size_t count,
		    uint64_t direct_map_base, const struct range_list *ram,
		    struct kcore_map *map);
void kcore_map_free(struct kcore_map *map);
/* The entry holding phys, or NULL. */
const struct kcore_map_entry *kcore_map_find(const struct kcore_map *map, uint64_t phys);

#endif
