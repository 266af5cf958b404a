// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer: IMDS role-credential JSON and its timestamps. */
#include "aws/imds.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imds_role_credentials c;
	char why[256], *text = malloc(size + 1);
	time_t t;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&c, 0, sizeof(c));
	if (!imds_parse_role_credentials(text, size, "role", &c, why, sizeof(why)))
		imds_role_credentials_free(&c);
	imds_parse_time(text, &t);
	free(text);
	return 0;
}
