// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer: kernel module images (fetched from a store before insmod). */
#include "kmodule.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmodule_info info;
	char why[256];

	kmodule_parse(data, size, &info, why, sizeof(why));
	return 0;
}
