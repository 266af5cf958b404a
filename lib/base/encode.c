// SPDX-License-Identifier: GPL-2.0-only
#include "base/encode.h"

#include <limits.h>
#include <openssl/evp.h>

void hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

int base64_encode(const unsigned char *in, size_t len, char *out, size_t outlen)
{
	if (len > INT_MAX / 2 || outlen < BASE64_LEN(len) + 1) {
		if (outlen)
			out[0] = '\0';
		return -1;
	}
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return 0;
}
