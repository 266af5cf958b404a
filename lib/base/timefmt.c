// SPDX-License-Identifier: GPL-2.0-only
#include "base/timefmt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* 9999-12-31T23:59:59Z: a four-digit year is what every format here has room for. */
#define TIMEFMT_LAST (253402300799LL)

/* A time every format here can hold, broken down; -EINVAL otherwise. */
static int broken_down(time_t t, struct tm *tm, char *out, size_t outlen)
{
	if (outlen)
		out[0] = '\0';
	if (t < 0 || (long long)t > TIMEFMT_LAST || !gmtime_r(&t, tm))
		return -EINVAL;
	return 0;
}

/* Literal formats only, so the compiler checks each. */
#define FORMAT(t, fmt, out, outlen) ({ \
	struct tm tm_; \
	int r_ = broken_down((t), &tm_, (out), (outlen)); \
	r_ ? r_ : strftime((out), (outlen), fmt, &tm_) ? 0 : -EINVAL; })

void timefmt_now_ms(char *out, size_t outlen)
{
	struct timespec ts;
	char base[TIMEFMT_BUF];

	clock_gettime(CLOCK_REALTIME, &ts);
	if (FORMAT(ts.tv_sec, "%Y-%m-%dT%H:%M:%S", base, sizeof(base)))
		snprintf(base, sizeof(base), "%lld", (long long)ts.tv_sec);
	snprintf(out, outlen, "%s.%03ldZ", base, ts.tv_nsec / 1000000);
}

int timefmt_iso8601(time_t t, char *out, size_t outlen)
{
	return FORMAT(t, "%Y-%m-%dT%H:%M:%SZ", out, outlen);
}

int timefmt_compact(time_t t, char *out, size_t outlen)
{
	return FORMAT(t, "%Y%m%dT%H%M%SZ", out, outlen);
}

int timefmt_day(time_t t, char *out, size_t outlen)
{
	return FORMAT(t, "%Y%m%d", out, outlen);
}
