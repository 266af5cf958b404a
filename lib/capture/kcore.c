// SPDX-License-Identifier: GPL-2.0-only
#include "capture/kcore.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The kernel's direct map lives in the upper half; user addresses never do. */
#define KERNEL_HALF_START 0xffff800000000000ull

bool kcore_paddr_valid(uint64_t paddr)
{
	return paddr != 0 && paddr != UINT64_MAX;
}

int kcore_parse_segments(const void *buf, size_t len, struct kcore_segment **segments,
			 size_t *count)
{
	const unsigned char *p = buf;
	Elf64_Ehdr eh;
	struct kcore_segment *segs;
	size_t n = 0;

	*segments = NULL;
	*count = 0;
	if (len < sizeof(eh))
		return -EBADMSG;
	memcpy(&eh, p, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_type != ET_CORE ||
	    eh.e_machine != EM_X86_64 || eh.e_phentsize != sizeof(Elf64_Phdr))
		return -EBADMSG;
	if (eh.e_phnum == 0 || eh.e_phnum == PN_XNUM)
		return -EBADMSG;
	if (eh.e_phoff > len || (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff)
		return -E2BIG;
	segs = calloc(eh.e_phnum, sizeof(*segs));
	if (!segs)
		return -ENOMEM;
	for (size_t i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, p + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_offset + ph.p_memsz < ph.p_offset || ph.p_vaddr + ph.p_memsz < ph.p_vaddr)
			continue;  /* would wrap: not a real mapping */
		segs[n].vaddr = ph.p_vaddr;
		segs[n].paddr = ph.p_paddr;
		segs[n].offset = ph.p_offset;
		segs[n].size = ph.p_memsz;
		n++;
	}
	*segments = segs;
	*count = n;
	return 0;
}

static int compare_phys(const void *a, const void *b)
{
	const struct kcore_map_entry *ea = a, *eb = b;

	if (ea->phys_start != eb->phys_start)
		return ea->phys_start < eb->phys_start ? -1 : 1;
	return 0;
}

static bool overlaps_ram(const struct range_list *ram, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < ram->count; i++)
		if (ram->items[i].start <= end && start <= ram->items[i].end)
			return true;
	return false;
}

int kcore_build_map(const struct kcore_segment *segments, size_t count,
		    uint64_t direct_map_base, const struct range_list *ram,
		    struct kcore_map *map)
{
	size_t n = 0;

	map->entries = calloc(count ? count : 1, sizeof(*map->entries));
	map->count = 0;
	if (!map->entries)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		const struct kcore_segment *s = &segments[i];
		uint64_t phys;

		if (kcore_paddr_valid(s->paddr))
			phys = s->paddr;
		else if (direct_map_base && s->vaddr >= direct_map_base &&
			 s->vaddr >= KERNEL_HALF_START)
			phys = s->vaddr - direct_map_base;
		else
			continue;
		if (phys + s->size - 1 < phys)
			continue;
		if (!overlaps_ram(ram, phys, phys + s->size - 1))
			continue;
		map->entries[n].phys_start = phys;
		map->entries[n].phys_end = phys + s->size - 1;
		map->entries[n].file_offset = s->offset;
		n++;
	}
	qsort(map->entries, n, sizeof(*map->entries), compare_phys);
	map->count = n ? 1 : 0;
	/*
	 * The kernel-text segment maps physical pages that a RAM segment maps
	 * too. Trim overlaps so every physical byte has exactly one entry and
	 * lookups can binary-search.
	 */
	for (size_t i = 1; i < n; i++) {
		struct kcore_map_entry *last = &map->entries[map->count - 1];
		struct kcore_map_entry cur = map->entries[i];

		if (cur.phys_end <= last->phys_end)
			continue;
		if (cur.phys_start <= last->phys_end) {
			cur.file_offset += last->phys_end + 1 - cur.phys_start;
			cur.phys_start = last->phys_end + 1;
		}
		map->entries[map->count++] = cur;
	}
	return 0;
}

void kcore_map_free(struct kcore_map *map)
{
	free(map->entries);
	map->entries = NULL;
	map->count = 0;
}

const struct kcore_map_entry *kcore_map_find(const struct kcore_map *map, uint64_t phys)
{
	size_t lo = 0, hi = map->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (map->entries[mid].phys_start <= phys)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* lo is now one past the last entry starting at or below phys. */
	if (lo && map->entries[lo - 1].phys_end >= phys)
		return &map->entries[lo - 1];
	return NULL;
}
