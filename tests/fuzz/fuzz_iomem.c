// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer: /proc/iomem text, and the RAM ranges derived from it. */
#include "capture/iomem.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iomem_table table;
	struct range_list ram;

	if (iomem_parse((const char *)data, size, &table))
		return 0;
	range_list_init(&ram);
	if (!iomem_system_ram(&table, &ram)) {
		/* Normalized output ascends without overlap or wrap. */
		for (size_t i = 0; i < ram.count; i++) {
			if (ram.items[i].end < ram.items[i].start)
				abort();
			if (i && ram.items[i].start <= ram.items[i - 1].end)
				abort();
		}
	}
	range_list_free(&ram);
	iomem_table_free(&table);
	return 0;
}
