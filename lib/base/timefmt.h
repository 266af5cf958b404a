/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every UTC time the project writes, in one place: records, manifests, logs
 * and AWS all want ISO 8601 or its compact form, and a hand-rolled strftime
 * in each caller drifted (milliseconds here, none there).
 */
#ifndef FORENSICS_TIMEFMT_H
#define FORENSICS_TIMEFMT_H

#include <stddef.h>
#include <time.h>

#define TIMEFMT_ISO8601_LEN 24  /* "2026-11-28T17:00:00.123Z" and its NUL fits 25 */
#define TIMEFMT_BUF 32

/* Now, ISO 8601 with milliseconds: 2026-11-28T17:00:00.123Z. */
void timefmt_now_ms(char *out, size_t outlen);
/* t as 2026-11-28T17:00:00Z; 0, or -EINVAL (out of range, or outlen too small). */
int timefmt_iso8601(time_t t, char *out, size_t outlen);
/* t as 20261128T170000Z, SigV4's X-Amz-Date and file names; 0 or -EINVAL. */
int timefmt_compact(time_t t, char *out, size_t outlen);
/* t as 20261128, a day; 0 or -EINVAL. */
int timefmt_day(time_t t, char *out, size_t outlen);

#endif
