// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer: the events that start a response (EventBridge, Security Hub, manual). */
#include "response/events.h"

#include <errno.h>
#include <string.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event_request ev;
	char why[256];

	event_parse((const char *)data, size, &ev, why, sizeof(why));
	/* Security Hub's later instances take another path through the findings. */
	event_parse_nth((const char *)data, size, 1, &ev, why, sizeof(why));
	return 0;
}
