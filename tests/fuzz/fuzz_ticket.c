// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer: upload tickets (JSON handed to the agent from outside). */
#include "aws/ticket.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct s3_ticket t;
	char why[256];

	if (!s3_ticket_parse((const char *)data, size, &t, why, sizeof(why)))
		s3_ticket_free(&t);
	return 0;
}
