/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The capture loop: every RAM range becomes one LiME range in the output
 * sink. Bytes the source cannot reach or read are zero-filled so the image
 * keeps its layout, and each such span is reported with its cause.
 */
#ifndef FORENSICS_CAPTURE_CAPTURE_H
#define FORENSICS_CAPTURE_CAPTURE_H

#include "capture/range.h"
#include "base/sink.h"
#include "capture/source.h"

#include <signal.h>

#define CAPTURE_PAGE_SIZE 4096u
#define CAPTURE_DEFAULT_CHUNK (4u << 20)

struct unreadable_range {
	uint64_t start;
	uint64_t end;   /* inclusive */
	int error;      /* negative errno; -ENXIO: the source does not map it */
};

struct capture_result {
	struct unreadable_range *unreadable;
	size_t unreadable_count;
	size_t unreadable_capacity;
	uint64_t bytes_total;    /* RAM bytes in the image */
	uint64_t bytes_read;
	uint64_t bytes_zeroed;
};

struct capture_options {
	size_t chunk_size;
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
	/* Set asynchronously (signal handler) to stop between chunks. */
	const volatile sig_atomic_t *stop;
};

/*
 * 0 on success (even with unreadable spans, which are in result),
 * -EINTR when stopped, or the sink's error.
 */
int capture_run(struct mem_source *src, const struct range_list *ram, struct sink *out,
		const struct capture_options *options, struct capture_result *result);
void capture_result_free(struct capture_result *result);

#endif
