// SPDX-License-Identifier: GPL-2.0-only
#include "capture/capture.h"
#include "capture/lime.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct capture_state {
	struct mem_source *src;
	struct sink *out;
	const struct capture_options *options;
	struct capture_result *result;
	const struct range_list *reachable;
	size_t reachable_cursor;
	unsigned char *buf;
	size_t chunk;
	uint64_t done;
	/* After a failed chunk, read page by page up to here. */
	uint64_t page_mode_until;
};

static int note_unreadable(struct capture_result *res, uint64_t start, uint64_t end, int error)
{
	struct unreadable_range *last = res->unreadable_count ?
		&res->unreadable[res->unreadable_count - 1] : NULL;

	if (last && last->error == error && last->end + 1 == start) {
		last->end = end;
		return 0;
	}
	if (res->unreadable_count == res->unreadable_capacity) {
		size_t cap = res->unreadable_capacity ? res->unreadable_capacity * 2 : 16;
		struct unreadable_range *n = realloc(res->unreadable, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		res->unreadable = n;
		res->unreadable_capacity = cap;
	}
	res->unreadable[res->unreadable_count++] =
		(struct unreadable_range){ .start = start, .end = end, .error = error };
	return 0;
}

static int emit_zeros(struct capture_state *st, uint64_t start, uint64_t len, int error)
{
	int ret = note_unreadable(st->result, start, start + len - 1, error);

	memset(st->buf, 0, st->chunk);
	while (!ret && len) {
		size_t n = len < st->chunk ? (size_t)len : st->chunk;

		ret = sink_write(st->out, st->buf, n);
		len -= n;
		st->result->bytes_zeroed += n;
		st->done += n;
	}
	return ret;
}

/*
 * How many bytes from pos are reachable (> 0), or unreachable (< 0, as a
 * negated count), capped at limit.
 */
static int64_t reachable_span(struct capture_state *st, uint64_t pos, uint64_t limit)
{
	const struct range_list *r = st->reachable;

	while (st->reachable_cursor < r->count && r->items[st->reachable_cursor].end < pos)
		st->reachable_cursor++;
	if (st->reachable_cursor == r->count)
		return -(int64_t)limit;
	const struct mem_range *next = &r->items[st->reachable_cursor];

	if (next->start > pos) {
		uint64_t gap = next->start - pos;

		return -(int64_t)(gap < limit ? gap : limit);
	}
	uint64_t span = next->end - pos + 1;

	return (int64_t)(span < limit ? span : limit);
}

static int capture_range(struct capture_state *st, const struct mem_range *range)
{
	unsigned char header[LIME_HEADER_SIZE];
	uint64_t pos = range->start;
	int ret;

	lime_header_encode(range, header);
	ret = sink_write(st->out, header, sizeof(header));
	if (ret)
		return ret;
	while (ret == 0) {
		uint64_t left = range->end - pos + 1;
		int64_t span;
		size_t want;
		ssize_t n;

		if (st->options->stop && *st->options->stop)
			return -EINTR;
		span = reachable_span(st, pos, left < st->chunk ? left : st->chunk);
		if (span < 0) {
			ret = emit_zeros(st, pos, (uint64_t)-span, -ENXIO);
			pos += (uint64_t)-span;
		} else {
			want = (size_t)span;
			if (pos < st->page_mode_until) {
				size_t to_page = CAPTURE_PAGE_SIZE - (size_t)(pos % CAPTURE_PAGE_SIZE);

				if (want > to_page)
					want = to_page;
			}
			/* Read straight into the sink's queue where it lends space. */
			size_t lent = 0;
			unsigned char *dst = sink_borrow(st->out, &lent);

			if (dst && lent >= CAPTURE_PAGE_SIZE) {
				if (want > lent)
					want = lent;
			} else {
				dst = st->buf;
			}
			n = st->src->ops->read(st->src, pos, dst, want);
			if (n > 0) {
				ret = sink_write(st->out, dst, (size_t)n);
				st->result->bytes_read += (uint64_t)n;
				st->done += (uint64_t)n;
				pos += (uint64_t)n;
			} else if (pos >= st->page_mode_until) {
				/* Retry this chunk page by page to save what can be read. */
				st->page_mode_until = pos + want;
				continue;
			} else {
				ret = emit_zeros(st, pos, want, n < 0 ? (int)n : -EIO);
				pos += want;
			}
		}
		if (st->options->progress)
			st->options->progress(st->options->progress_ctx, st->done,
					      st->result->bytes_total);
		if (pos == 0 || pos > range->end)
			break;
	}
	return ret;
}

int capture_run(struct mem_source *src, const struct range_list *ram, struct sink *out,
		const struct capture_options *options, struct capture_result *result)
{
	struct capture_state st = {
		.src = src,
		.out = out,
		.options = options,
		.result = result,
		.chunk = options->chunk_size ? options->chunk_size : CAPTURE_DEFAULT_CHUNK,
	};
	struct range_list reachable;
	int ret = 0;

	memset(result, 0, sizeof(*result));
	result->bytes_total = range_list_total(ram);
	range_list_init(&reachable);
	if (src->ops->coverage)
		ret = src->ops->coverage(src, ram, &reachable);
	else
		for (size_t i = 0; i < ram->count && !ret; i++)
			ret = range_list_add(&reachable, ram->items[i].start, ram->items[i].end);
	if (ret)
		goto out;
	st.reachable = &reachable;
	st.buf = malloc(st.chunk);
	if (!st.buf) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < ram->count && !ret; i++)
		ret = capture_range(&st, &ram->items[i]);
out:
	free(st.buf);
	range_list_free(&reachable);
	return ret;
}

void capture_result_free(struct capture_result *result)
{
	free(result->unreadable);
	result->unreadable = NULL;
	result->unreadable_count = 0;
	result->unreadable_capacity = 0;
}
