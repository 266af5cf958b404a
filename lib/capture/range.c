// SPDX-License-Identifier: GPL-2.0-only
#include "capture/range.h"

#include <errno.h>
#include <stdlib.h>

void range_list_init(struct range_list *list)
{
	list->items = NULL;
	list->count = 0;
	list->capacity = 0;
}

void range_list_free(struct range_list *list)
{
	free(list->items);
	range_list_init(list);
}

int range_list_add(struct range_list *list, uint64_t start, uint64_t end)
{
	if (end < start)
		return -EINVAL;
	if (list->count == list->capacity) {
		size_t cap = list->capacity ? list->capacity * 2 : 16;
		struct mem_range *items = realloc(list->items, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		list->items = items;
		list->capacity = cap;
	}
	list->items[list->count].start = start;
	list->items[list->count].end = end;
	list->count++;
	return 0;
}

static int compare_start(const void *a, const void *b)
{
	const struct mem_range *ra = a, *rb = b;

	if (ra->start != rb->start)
		return ra->start < rb->start ? -1 : 1;
	if (ra->end != rb->end)
		return ra->end < rb->end ? -1 : 1;
	return 0;
}

void range_list_normalize(struct range_list *list)
{
	size_t out = 0;

	if (list->count == 0)
		return;
	qsort(list->items, list->count, sizeof(*list->items), compare_start);
	for (size_t i = 1; i < list->count; i++) {
		struct mem_range *last = &list->items[out];
		const struct mem_range *cur = &list->items[i];

		/* Touching ranges merge too; guard the +1 against wrap at 2^64-1. */
		if (last->end == UINT64_MAX || cur->start <= last->end + 1) {
			if (cur->end > last->end)
				last->end = cur->end;
			continue;
		}
		list->items[++out] = *cur;
	}
	list->count = out + 1;
}

uint64_t range_list_total(const struct range_list *list)
{
	uint64_t total = 0;

	for (size_t i = 0; i < list->count; i++)
		total += mem_range_size(&list->items[i]);
	return total;
}

int range_list_intersect(const struct range_list *a, const struct range_list *b,
			 struct range_list *out)
{
	size_t i = 0, j = 0;

	while (i < a->count && j < b->count) {
		const struct mem_range *ra = &a->items[i], *rb = &b->items[j];
		uint64_t lo = ra->start > rb->start ? ra->start : rb->start;
		uint64_t hi = ra->end < rb->end ? ra->end : rb->end;

		if (lo <= hi) {
			int ret = range_list_add(out, lo, hi);

			if (ret)
				return ret;
		}
		if (ra->end < rb->end)
			i++;
		else
			j++;
	}
	return 0;
}
