// SPDX-License-Identifier: GPL-2.0-only
#include "capture/stream_capture.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct checker {
	const struct range_list *ram;
	struct stream_capture_result *result;
};

static bool inside_ram(const struct range_list *ram, const struct mem_range *r)
{
	for (size_t i = 0; i < ram->count; i++)
		if (r->start >= ram->items[i].start && r->end <= ram->items[i].end)
			return true;
	return false;
}

static int on_range_begin(void *ctx, const struct mem_range *range, uint64_t header_offset)
{
	struct checker *c = ctx;

	if (!inside_ram(c->ram, range)) {
		snprintf(c->result->error, sizeof(c->result->error),
			 "range %#llx-%#llx at stream offset %llu is not System RAM",
			 (unsigned long long)range->start, (unsigned long long)range->end,
			 (unsigned long long)header_offset);
		return -ERANGE;
	}
	return range_list_add(&c->result->ranges, range->start, range->end);
}

static int on_range_data(void *ctx, const void *buf, size_t len)
{
	struct checker *c = ctx;

	c->result->ram_bytes += len;
	return 0;
}

static int on_range_end(void *ctx, const struct mem_range *range)
{
	return 0;
}

static const struct lime_reader_ops checker_ops = {
	.range_begin = on_range_begin,
	.range_data = on_range_data,
	.range_end = on_range_end,
};

/* Wait until fd has bytes; -ETIMEDOUT after stall_ms of silence. */
static int wait_readable(int fd, int stall_ms, const volatile sig_atomic_t *stop)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int waited = 0;

	while (waited < stall_ms) {
		int n = poll(&p, 1, 1000);

		if (stop && *stop)
			return -EINTR;
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
		waited += 1000;
	}
	return -ETIMEDOUT;
}

int stream_capture_run(int fd, const struct range_list *ram, struct sink *out,
		       const struct stream_capture_options *options,
		       struct stream_capture_result *result)
{
	size_t block = options && options->block_size ? options->block_size : STREAM_CAPTURE_BLOCK;
	int stall_ms = options && options->stall_ms ? options->stall_ms : STREAM_CAPTURE_STALL_MS;
	const volatile sig_atomic_t *stop = options ? options->stop : NULL;
	struct checker checker = { .ram = ram, .result = result };
	uint64_t total = range_list_total(ram);
	struct lime_reader reader;
	unsigned char *buf;
	int ret = 0;

	memset(result, 0, sizeof(*result));
	range_list_init(&result->ranges);
	buf = malloc(block);
	if (!buf)
		return -ENOMEM;
	lime_reader_init(&reader, &checker_ops, &checker);
	for (;;) {
		ssize_t n;

		ret = wait_readable(fd, stall_ms, stop);
		if (ret)
			break;
		n = read(fd, buf, block);
		if (n < 0 && errno == EINTR) {
			if (stop && *stop) {
				ret = -EINTR;
				break;
			}
			continue;
		}
		if (n < 0) {
			ret = -errno;
			snprintf(result->error, sizeof(result->error), "reading the stream: %s",
				 strerror(errno));
			break;
		}
		if (n == 0) {
			ret = lime_reader_finish(&reader);
			if (ret == -EBADMSG)
				snprintf(result->error, sizeof(result->error), "%s", reader.error);
			break;
		}
		/* Checked first: nothing unchecked reaches the image. */
		ret = lime_reader_feed(&reader, buf, (size_t)n);
		if (ret == -EBADMSG)
			snprintf(result->error, sizeof(result->error), "%s", reader.error);
		if (ret)
			break;
		ret = sink_write(out, buf, (size_t)n);
		if (ret)
			break;
		result->stream_bytes += (uint64_t)n;
		if (options && options->progress)
			options->progress(options->progress_ctx, result->ram_bytes, total);
		if (stop && *stop) {
			ret = -EINTR;
			break;
		}
	}
	free(buf);
	return ret;
}

void stream_capture_result_free(struct stream_capture_result *result)
{
	range_list_free(&result->ranges);
}
