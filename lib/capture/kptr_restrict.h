/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kernel.kptr_restrict decides whether /proc/kallsyms shows root the real
 * addresses the analysis bundle needs. The kernel's rule (kallsyms_show_value,
 * taken when the file is opened): 0 shows them to CAP_SYSLOG (and to anyone
 * when perf_event_paranoid <= 1), 1 to CAP_SYSLOG only, 2 to no one. Root has
 * CAP_SYSLOG, so only 2 hides them from the agent: that is the one value it
 * lowers, to the least that shows them, and puts back after the read.
 */
#ifndef FORENSICS_CAPTURE_KPTR_RESTRICT_H
#define FORENSICS_CAPTURE_KPTR_RESTRICT_H

#include <stdbool.h>

#define KPTR_RESTRICT_PATH "/proc/sys/kernel/kptr_restrict"

/* What was done around one read of /proc/kallsyms, for the manifest. */
struct kptr_restrict_step {
	int found;        /* the value before, -1 if it could not be read */
	int lowered_to;   /* the value written for the read, -1 if left alone */
	int lower_error;  /* negative errno if lowering was tried and failed */
	bool restored;    /* found written back after the read (when lowered) */
};

/*
 * The value to write before reading kallsyms, or -1 to leave found alone:
 * found 2 becomes 1 with CAP_SYSLOG, 0 without; found 1 becomes 0 without
 * CAP_SYSLOG; 0, unreadable (-1) or unknown values are left as they are.
 */
int kptr_restrict_lower_to(int found, bool cap_syslog);

#endif
