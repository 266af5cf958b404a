// SPDX-License-Identifier: GPL-2.0-only
#include "image_sinks.h"

#include <errno.h>

int image_sinks_build(struct sink *output, bool compress, int level, int threads,
		      struct image_sinks *s)
{
	struct sink *outs[2];
	struct sink *raw_async;
	int ret = 0;

	s->output = output;
	s->raw_hash = sink_sha256_new();
	if (!s->raw_hash)
		goto nomem;
	if (threads > 0) {
		raw_async = sink_async_new(s->raw_hash, IMAGE_SINKS_BUFFER, IMAGE_SINKS_HASH_DEPTH,
					   &ret);
		if (!raw_async) {
			sink_destroy(output);
			return ret;
		}
	} else {
		raw_async = s->raw_hash;
	}
	if (compress) {
		struct sink *compressed_tee, *zstd;

		s->compressed_hash = sink_sha256_new();
		if (!s->compressed_hash) {
			sink_destroy(raw_async);
			goto nomem;
		}
		outs[0] = s->compressed_hash;
		outs[1] = output;
		compressed_tee = sink_tee_new(outs, 2);
		if (!compressed_tee) {
			sink_destroy(s->compressed_hash);
			sink_destroy(raw_async);
			goto nomem;
		}
		if (threads > 0) {
			compressed_tee = sink_async_new(compressed_tee, IMAGE_SINKS_BUFFER,
							IMAGE_SINKS_OUTPUT_DEPTH, &ret);
			if (!compressed_tee) {
				sink_destroy(raw_async);
				return ret;
			}
		}
		zstd = sink_zstd_new(compressed_tee, level, threads, &ret);
		if (!zstd) {
			sink_destroy(raw_async);
			return ret;
		}
		outs[1] = zstd;
	} else {
		outs[1] = output;
	}
	outs[0] = raw_async;
	s->top = sink_tee_new(outs, 2);
	if (!s->top) {
		sink_destroy(outs[0]);
		sink_destroy(outs[1]);
		return -ENOMEM;
	}
	return 0;
nomem:
	sink_destroy(output);
	return -ENOMEM;
}

