// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer: kernel module images (fetched from a store before insmod). */
#include "capture/kmodule.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmodule_info info;
	char why[256];
	void *plain = NULL;
	size_t plain_len = 0;

	/* As the agent does: a compressed module is parsed once unpacked. */
	if (!kmodule_decompress(data, size, &plain, &plain_len, why, sizeof(why)) && plain) {
		kmodule_parse(plain, plain_len, &info, why, sizeof(why));
		free(plain);
	} else {
		kmodule_parse(data, size, &info, why, sizeof(why));
	}
	return 0;
}
