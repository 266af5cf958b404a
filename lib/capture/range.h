/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Physical address ranges. Ends are inclusive everywhere, as in /proc/iomem
 * and the LiME header, so a range that ends at the top of the address space
 * can be represented and no code has to remember to add or drop one byte.
 */
#ifndef FORENSICS_CAPTURE_RANGE_H
#define FORENSICS_CAPTURE_RANGE_H

#include <stddef.h>
#include <stdint.h>

struct mem_range {
	uint64_t start;
	uint64_t end; /* inclusive */
};

struct range_list {
	struct mem_range *items;
	size_t count;
	size_t capacity;
};

static inline uint64_t mem_range_size(const struct mem_range *r)
{
	return r->end - r->start + 1;
}

void range_list_init(struct range_list *list);
void range_list_free(struct range_list *list);
int range_list_add(struct range_list *list, uint64_t start, uint64_t end);
/* Sort by start and merge overlapping or touching ranges. */
void range_list_normalize(struct range_list *list);
uint64_t range_list_total(const struct range_list *list);
/*
 * out = a ∩ b, both normalized. out must be initialized and empty.
 */
int range_list_intersect(const struct range_list *a, const struct range_list *b,
			 struct range_list *out);

#endif
