// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer: ~/.aws/credentials and ~/.aws/config text. */
#include "aws/awsconfig.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct awsconfig *c = NULL;

	if (!awsconfig_parse((const char *)data, size, &c))
		awsconfig_free(c);
	return 0;
}
