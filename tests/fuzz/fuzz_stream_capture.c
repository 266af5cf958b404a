// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer: the check the agent applies to a stream a module produces
 * (the project's or upstream LiME) before any byte of it reaches the image:
 * well-formed LiME, every range inside System RAM. Input: a byte choosing
 * the read size, a byte giving 0-3 RAM ranges of 16 bytes each (start,
 * end, little-endian), then the stream.
 */
#include "capture/stream_capture.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream_capture_options opts = { .stall_ms = 1000 };
	struct stream_capture_result result;
	struct range_list ram;
	struct sink *out = NULL;
	size_t ranges, stream_len;
	uint64_t data_bytes = 0;
	int fd = -1, ret;

	if (size < 2)
		return 0;
	opts.block_size = 1 + (size_t)data[0] * 61;
	ranges = data[1] % 4;
	if (size < 2 + 16 * ranges)
		return 0;
	range_list_init(&ram);
	for (size_t i = 0; i < ranges; i++) {
		uint64_t start = le64(data + 2 + 16 * i), end = le64(data + 10 + 16 * i);

		if (end >= start && range_list_add(&ram, start, end))
			goto out;
	}
	data += 2 + 16 * ranges;
	stream_len = size - 2 - 16 * ranges;
	fd = memfd_create("stream", MFD_CLOEXEC);
	out = sink_sha256_new();
	if (fd < 0 || !out || (stream_len && write(fd, data, stream_len) != (ssize_t)stream_len) ||
	    lseek(fd, 0, SEEK_SET))
		goto out;
	ret = stream_capture_run(fd, &ram, out, &opts, &result);
	for (size_t i = 0; i < result.ranges.count; i++) {
		const struct mem_range *r = &result.ranges.items[i];
		bool inside = false;

		for (size_t j = 0; j < ram.count; j++)
			inside |= r->start >= ram.items[j].start && r->end <= ram.items[j].end;
		if (!inside)
			abort();
		data_bytes += mem_range_size(r);
	}
	if (!ret && (result.stream_bytes != stream_len || result.ram_bytes != data_bytes))
		abort();
	if ((ret == -EBADMSG || ret == -ERANGE) && !result.error[0])
		abort();
	stream_capture_result_free(&result);
out:
	if (out)
		sink_destroy(out);
	if (fd >= 0)
		close(fd);
	range_list_free(&ram);
	return 0;
}
