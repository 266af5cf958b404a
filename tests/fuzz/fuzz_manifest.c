// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer: the manifest as verify and convert read it (a file beside the
 * image, or an S3 object anyone with write access to the bucket could
 * replace), and what the parser promises about what it accepts.
 */
#include "capture/manifest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_sha256(const char *hex)
{
	if (strlen(hex) != (SHA256_HEX_BYTES - 1) || strspn(hex, "0123456789abcdef") != (SHA256_HEX_BYTES - 1))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_manifest m;
	char err[256];

	if (image_manifest_parse((const char *)data, size, &m, err, sizeof(err))) {
		if (!err[0] || m.image_path || m.ranges.count)
			abort();
		return 0;
	}
	for (size_t i = 0; i < m.ranges.count; i++) {
		if (m.ranges.items[i].end < m.ranges.items[i].start)
			abort();
		if (i && m.ranges.items[i].start <= m.ranges.items[i - 1].end)
			abort();
	}
	check_sha256(m.sha256_uncompressed);
	if (m.compressed != m.has_sha256_compressed || m.compressed != m.has_compressed_bytes)
		abort();
	if (m.compressed)
		check_sha256(m.sha256_compressed);
	image_manifest_free(&m);
	return 0;
}
