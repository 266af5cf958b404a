/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one-line reasons this library's calls leave in the caller's why
 * buffer beside a negative errno.
 */
#ifndef FORENSICS_REASON_H
#define FORENSICS_REASON_H

#include <stddef.h>

/* Room for any reason the library gives. */
#define AWS_REASON_MAX 256

/* Format into why; a NULL or empty buffer is left alone. */
void aws_reason_set(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * A name from outside (profile, bucket, region), fit to quote in a reason:
 * at most max characters of it, anything unprintable and quotes as '?',
 * "..." when cut. Returns buf.
 */
const char *aws_reason_quote(char *buf, size_t buflen, const char *s, size_t max);

#endif
