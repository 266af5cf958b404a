// SPDX-License-Identifier: GPL-2.0-only
#include "aws/reason.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void aws_reason_set(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (!why || !whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

const char *aws_reason_quote(char *buf, size_t buflen, const char *s, size_t max)
{
	size_t i, n = 0;

	for (i = 0; s[i] && i < max && n + 1 < buflen; i++)
		buf[n++] = (s[i] >= ' ' && s[i] <= '~' && s[i] != '\'') ? s[i] : '?';
	if (s[i] && n + 4 < buflen) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}
