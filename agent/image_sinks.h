/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The sinks an image passes through on its way out: the digest of the LiME
 * stream, zstd, the digest of the stored bytes, the output.
 */
#ifndef FORENSICS_AGENT_IMAGE_SINKS_H
#define FORENSICS_AGENT_IMAGE_SINKS_H

#include "base/sink.h"

#include <stdbool.h>

/*
 * Every page the agent touches is a page of the host's free memory
 * overwritten while it is being captured: keep the working set small.
 * Two queues of 256 KiB buffers, one before the digest of the LiME stream
 * and one after zstd (the digest of the stored bytes and the output), let
 * both digests run beside compression without stalling the thread that
 * feeds it. The first is deeper: its digest reads every byte of RAM, and
 * when it falls behind the reader stops and zstd's workers run dry (two
 * CPUs, three workers, level 1: with 8 buffers the CPUs stood idle 13% of
 * the time, with 16 buffers 9-11% over repeated runs).
 */
#define IMAGE_SINKS_BUFFER (256u << 10)
#define IMAGE_SINKS_HASH_DEPTH 16
#define IMAGE_SINKS_OUTPUT_DEPTH 8

struct image_sinks {
	struct sink *top;          /* what capture writes into */
	struct sink *raw_hash;
	struct sink *compressed_hash;
	struct sink *output;
};

/*
 * capture -> tee(async(sha256), [zstd -> async(] tee(sha256, output)[)]).
 * The thread that reads memory also feeds zstd, which writes its output
 * in order from that same thread: hashing and writing the stored bytes
 * there would leave zstd's workers without input while they run, so they
 * get a thread of their own. With no worker threads (one CPU) both digests
 * run inline: a thread would buy no parallelism and its queue would only
 * overwrite more of the host's memory. *
 * Takes output, also on failure. 0, or a negative errno.
 */
int image_sinks_build(struct sink *output, bool compress, int level, int threads,
		      struct image_sinks *s);

#endif
