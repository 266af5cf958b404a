// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer: S3 XML answers (what a server or a middlebox sends back), ListObjectsV2's too. */
#include "aws/s3xml.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct s3xml_list l;
	struct s3xml x;

	if (!s3xml_parse((const char *)data, size, &x))
		s3xml_free(&x);
	if (!s3xml_parse_list((const char *)data, size, &l))
		s3xml_list_free(&l);
	return 0;
}
