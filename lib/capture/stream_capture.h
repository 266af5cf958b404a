/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Capture from a source that produces the LiME stream itself (the project's
 * module, upstream LiME): the stream is checked as it passes, before any of
 * it reaches the sinks, so a stream that is not well-formed LiME, or that
 * claims memory outside System RAM, is never trusted as an image.
 */
#ifndef FORENSICS_CAPTURE_STREAM_CAPTURE_H
#define FORENSICS_CAPTURE_STREAM_CAPTURE_H

#include "capture/capture.h"
#include "capture/lime.h"
#include "capture/range.h"
#include "base/sink.h"

#define STREAM_CAPTURE_BLOCK (1u << 20)
#define STREAM_CAPTURE_STALL_MS 60000

struct stream_capture_result {
	struct range_list ranges;  /* as the stream declared them */
	uint64_t stream_bytes;     /* headers included */
	uint64_t ram_bytes;        /* data bytes */
	char error[200];           /* why the stream was refused */
};

struct stream_capture_options {
	size_t block_size;         /* 0: STREAM_CAPTURE_BLOCK */
	int stall_ms;              /* no byte for this long: -ETIMEDOUT; 0: default */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
	const volatile sig_atomic_t *stop;
};

/*
 * Read fd to its end into out. ram is the RAM map every range must lie in.
 * 0; -EBADMSG (malformed, truncated) or -ERANGE (outside RAM) with
 * result->error; -ETIMEDOUT; -EINTR when stopped; or the sink's error.
 */
int stream_capture_run(int fd, const struct range_list *ram, struct sink *out,
		       const struct stream_capture_options *options,
		       struct stream_capture_result *result);
void stream_capture_result_free(struct stream_capture_result *result);

#endif
