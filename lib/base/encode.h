/* SPDX-License-Identifier: GPL-2.0-only */
/* Lower-case hex and standard base64, as digests and AWS headers want them. */
#ifndef FORENSICS_ENCODE_H
#define FORENSICS_ENCODE_H

#include <stddef.h>

/* out holds 2 * len + 1 bytes. */
void hex_encode(const unsigned char *in, size_t len, char *out);
/* The base64 of in; out holds BASE64_LEN(len) + 1 bytes, else out is "" and -1 returned. */
#define BASE64_LEN(n) (4 * (((n) + 2) / 3))
int base64_encode(const unsigned char *in, size_t len, char *out, size_t outlen);

#endif
