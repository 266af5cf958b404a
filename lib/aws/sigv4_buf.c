// SPDX-License-Identifier: GPL-2.0-only
#include "aws/sigv4_buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void sigv4_buf_addn(struct sigv4_buf *b, const char *s, size_t n)
{
	size_t want;
	char *grown;

	if (b->err)
		return;
	if (n > SIGV4_MAX_OUTPUT - b->len) {
		b->err = -E2BIG;
		return;
	}
	want = b->len + n + 1;
	if (want > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < want)
			cap *= 2;
		grown = realloc(b->p, cap);
		if (!grown) {
			b->err = -ENOMEM;
			return;
		}
		b->p = grown;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void sigv4_buf_adds(struct sigv4_buf *b, const char *s)
{
	sigv4_buf_addn(b, s, strlen(s));
}

void sigv4_buf_addc(struct sigv4_buf *b, char c)
{
	sigv4_buf_addn(b, &c, 1);
}

int sigv4_buf_take(struct sigv4_buf *b, char **out)
{
	int ret = b->err;

	if (!ret && !b->p) {
		sigv4_buf_addn(b, "", 0);
		ret = b->err;
	}
	if (ret) {
		free(b->p);
		*out = NULL;
	} else {
		*out = b->p;
	}
	b->p = NULL;
	b->len = b->cap = 0;
	return ret;
}

void sigv4_buf_free(struct sigv4_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

size_t sigv4_bounded_len(const char *s, size_t max)
{
	size_t n;

	if (!s)
		return 0;
	n = strnlen(s, max + 1);
	return n > max ? 0 : n;
}
