/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The signer's strings (sigv4.c, sigv4_canonical.c): grown as needed up to
 * a bound, with a sticky error, so a chain of appends is checked once.
 * Internal to lib/aws.
 */
#ifndef FORENSICS_SIGV4_BUF_H
#define FORENSICS_SIGV4_BUF_H

#include <stddef.h>

#define SIGV4_MAX_OUTPUT (1u << 20) /* any string we build */

struct sigv4_buf {
	char *p;
	size_t len;
	size_t cap;
	int err;    /* -E2BIG or -ENOMEM once an append failed; appends then do nothing */
};

void sigv4_buf_addn(struct sigv4_buf *b, const char *s, size_t n);
void sigv4_buf_adds(struct sigv4_buf *b, const char *s);
void sigv4_buf_addc(struct sigv4_buf *b, char c);
/* Hands the string over (an empty one is still allocated) or reports the error. */
int sigv4_buf_take(struct sigv4_buf *b, char **out);
void sigv4_buf_free(struct sigv4_buf *b);

/* Length of s if it is non-empty and at most max bytes, else 0. */
size_t sigv4_bounded_len(const char *s, size_t max);

#endif
