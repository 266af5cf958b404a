// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer: /proc/kcore ELF headers to physical mappings. */
#include "capture/kcore.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kcore_segment *segments;
	struct kcore_map map;
	struct range_list ram;
	size_t count;

	if (kcore_parse_segments(data, size, &segments, &count))
		return 0;
	range_list_init(&ram);
	range_list_add(&ram, 0x1000, 0x9efff);
	range_list_add(&ram, 0x100000, 0xffffffffull);
	if (!kcore_build_map(segments, count, 0xffff888000000000ull, &ram, &map)) {
		for (size_t i = 0; i < map.count; i++) {
			const struct kcore_map_entry *e = &map.entries[i];

			if (e->phys_end < e->phys_start || kcore_map_find(&map, e->phys_start) != e)
				abort();
			if (i && e->phys_start <= map.entries[i - 1].phys_end)
				abort();
		}
		kcore_map_free(&map);
	}
	range_list_free(&ram);
	free(segments);
	return 0;
}
