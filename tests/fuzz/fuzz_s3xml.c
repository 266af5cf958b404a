// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer: S3 XML answers (what a server or a middlebox sends back). */
#include "s3xml.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct s3xml x;

	if (!s3xml_parse((const char *)data, size, &x))
		s3xml_free(&x);
	return 0;
}
