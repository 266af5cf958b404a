// SPDX-License-Identifier: GPL-2.0-only
#include "capture/kptr_restrict.h"

int kptr_restrict_lower_to(int found, bool cap_syslog)
{
	switch (found) {
	case 2:
		return cap_syslog ? 1 : 0;
	case 1:
		/* 0 helps without CAP_SYSLOG only where perf_event_paranoid <= 1. */
		return cap_syslog ? -1 : 0;
	default:
		return -1;
	}
}
