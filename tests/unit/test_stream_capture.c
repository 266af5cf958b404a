// SPDX-License-Identifier: GPL-2.0-only
/*
 * stream_capture_run() over a pipe: LiME streams written by a thread (the
 * reader polls, so it must see a real fd) into a sink that keeps what it is
 * given. Well-formed streams pass through byte for byte; malformed ones are
 * refused before the block that shows it reaches the sink.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "capture/stream_capture.h"
#include "base/util.h"

#define MAX_TESTS 128

static struct CMUnitTest tests[MAX_TESTS];
static size_t test_count;

static void add_test(const char *name, CMUnitTestFunction fn, const void *state)
{
	if (test_count == MAX_TESTS) {
		fprintf(stderr, "MAX_TESTS too small\n");
		exit(1);
	}
	tests[test_count++] = (struct CMUnitTest){ name, fn, NULL, NULL, (void *)state };
}

/* System RAM for every case: 32 KiB low, 128 KiB above 4 GiB. */
static const struct mem_range ram_ranges[] = {
	{ 0x1000, 0x8fff },
	{ 0x100000000ull, 0x10001ffffull },
};

static void ram_init(struct range_list *ram)
{
	range_list_init(ram);
	for (size_t i = 0; i < ARRAY_SIZE(ram_ranges); i++)
		assert_int_equal(range_list_add(ram, ram_ranges[i].start, ram_ranges[i].end), 0);
}

/* ---- a LiME stream builder ---- */

struct stream {
	unsigned char *bytes;
	size_t len;
};

static void stream_add_range(struct stream *s, uint64_t start, uint64_t end)
{
	struct mem_range range = { start, end };
	size_t size = (size_t)(end - start + 1);

	s->bytes = realloc(s->bytes, s->len + LIME_HEADER_SIZE + size);
	assert_non_null(s->bytes);
	lime_header_encode(&range, s->bytes + s->len);
	s->len += LIME_HEADER_SIZE;
	for (size_t i = 0; i < size; i++)
		s->bytes[s->len++] = (unsigned char)((start + i) * 131 + (start + i) / 251);
}

/* ---- a sink that keeps everything ---- */

struct memory_sink {
	struct sink base;
	unsigned char *data;
	size_t len;
	int fail_with;   /* returned by every write, if set */
};

static int memory_write(struct sink *s, const void *buf, size_t len)
{
	struct memory_sink *m = (struct memory_sink *)s;

	if (m->fail_with)
		return m->fail_with;
	m->data = realloc(m->data, m->len + len);
	assert_non_null(m->data);
	memcpy(m->data + m->len, buf, len);
	m->len += len;
	return 0;
}

static void memory_sink_init(struct memory_sink *m)
{
	memset(m, 0, sizeof(*m));
	m->base.write = memory_write;
	m->base.name = "memory";
}

/* ---- a writer thread on the other end of the pipe ---- */

struct writer {
	pthread_t thread;
	int fd;
	const unsigned char *bytes;
	size_t len;
	size_t chunk;        /* bytes per write(); 0: all at once */
	bool keep_open;      /* write everything, then wait for writer_stop() */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;

	for (size_t done = 0; done < w->len;) {
		size_t take = w->chunk && w->chunk < w->len - done ? w->chunk : w->len - done;
		ssize_t n = write(w->fd, w->bytes + done, take);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;    /* EPIPE: the reader gave up, as it may */
		done += (size_t)n;
	}
	pthread_mutex_lock(&w->lock);
	while (w->keep_open && !w->stopping)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
	close(w->fd);
	return NULL;
}

/* Returns the read end. */
static int writer_start(struct writer *w, const unsigned char *bytes, size_t len, size_t chunk,
			bool keep_open)
{
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	memset(w, 0, sizeof(*w));
	w->fd = fds[1];
	w->bytes = bytes;
	w->len = len;
	w->chunk = chunk;
	w->keep_open = keep_open;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	assert_int_equal(pthread_create(&w->thread, NULL, writer_main, w), 0);
	return fds[0];
}

/* Closes the read end first, so a writer blocked on a full pipe gets EPIPE. */
static void writer_stop(struct writer *w, int read_fd)
{
	close(read_fd);
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
}

/*
 * A pipe already holding all of bytes (at most a pipe buffer) with its write
 * end closed: every read() returns min(block, what is left), so where the
 * blocks fall is known.
 */
static int preloaded_pipe(const unsigned char *bytes, size_t len)
{
	int fds[2];

	assert_true(len <= 65536);
	assert_int_equal(pipe(fds), 0);
	if (len)
		assert_int_equal(write_all(fds[1], bytes, len), 0);
	close(fds[1]);
	return fds[0];
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- well-formed streams pass through whole ---- */

/* 32 KiB low and 96 KiB high: more than a pipe holds, so the writer must block. */
static struct stream two_ranges;

struct pass_case {
	const char *name;
	size_t block_size;     /* 0: the default */
	size_t write_chunk;    /* 0: one write() */
};

static const struct pass_case pass_cases[] = {
	{ "pass/default block, one write", 0, 0 },
	{ "pass/default block, 4099-byte writes", 0, 4099 },
	{ "pass/7-byte blocks (smaller than a header)", 7, 0 },
	{ "pass/7-byte blocks, 5-byte writes", 7, 5 },
	{ "pass/31-byte blocks", 31, 1000 },
	{ "pass/32-byte blocks", 32, 0 },
	{ "pass/33-byte blocks, 32-byte writes", 33, 32 },
	{ "pass/4096-byte blocks, 1-byte writes", 4096, 1 },
	{ "pass/block of the whole stream", 32 + 0x8000 + 32 + 0x18000, 0 },
};

struct progress {
	unsigned int calls;
	uint64_t last_done, last_total;
	bool descending;
};

static void record_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct progress *p = ctx;

	if (done < p->last_done)
		p->descending = true;
	p->calls++;
	p->last_done = done;
	p->last_total = total;
}

static void test_pass(void **state)
{
	const struct pass_case *c = *state;
	struct stream_capture_options options = { .block_size = c->block_size };
	struct stream_capture_result result;
	struct progress progress = { 0 };
	struct memory_sink sink;
	struct range_list ram;
	struct writer w;
	int fd, ret;

	ram_init(&ram);
	memory_sink_init(&sink);
	options.progress = record_progress;
	options.progress_ctx = &progress;
	fd = writer_start(&w, two_ranges.bytes, two_ranges.len, c->write_chunk, false);
	ret = stream_capture_run(fd, &ram, &sink.base, &options, &result);
	writer_stop(&w, fd);
	if (ret)
		fail_msg("stream_capture_run: %d (%s)", ret, result.error);

	assert_int_equal(sink.len, two_ranges.len);
	assert_memory_equal(sink.data, two_ranges.bytes, two_ranges.len);
	assert_int_equal(sink.base.bytes, two_ranges.len);
	assert_int_equal(result.stream_bytes, two_ranges.len);
	assert_int_equal(result.ram_bytes, 0x8000 + 0x18000);
	assert_int_equal(result.ranges.count, 2);
	assert_true(result.ranges.items[0].start == 0x1000);
	assert_true(result.ranges.items[0].end == 0x8fff);
	assert_true(result.ranges.items[1].start == 0x100000000ull);
	assert_true(result.ranges.items[1].end == 0x100017fffull);
	assert_string_equal(result.error, "");

	assert_true(progress.calls >= 1);
	assert_false(progress.descending);
	assert_int_equal(progress.last_done, 0x8000 + 0x18000);
	assert_int_equal(progress.last_total, range_list_total(&ram));

	stream_capture_result_free(&result);
	range_list_free(&ram);
	free(sink.data);
}

/* A socketpair works as well as a pipe. */
static void test_pass_socketpair(void **state)
{
	struct stream_capture_options options = { .block_size = 1000 };
	struct stream_capture_result result;
	struct memory_sink sink;
	struct range_list ram;
	struct writer w;
	int sv[2], ret;

	ram_init(&ram);
	memory_sink_init(&sink);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	memset(&w, 0, sizeof(w));
	w.fd = sv[1];
	w.bytes = two_ranges.bytes;
	w.len = two_ranges.len;
	w.chunk = 777;
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	assert_int_equal(pthread_create(&w.thread, NULL, writer_main, &w), 0);
	ret = stream_capture_run(sv[0], &ram, &sink.base, &options, &result);
	writer_stop(&w, sv[0]);
	assert_int_equal(ret, 0);
	assert_int_equal(sink.len, two_ranges.len);
	assert_memory_equal(sink.data, two_ranges.bytes, two_ranges.len);
	assert_int_equal(result.ranges.count, 2);
	stream_capture_result_free(&result);
	range_list_free(&ram);
	free(sink.data);
}

/* ---- refused streams ---- */

enum refusal {
	R_BAD_MAGIC_FIRST,     /* one range, magic of its header changed */
	R_BAD_MAGIC_SECOND,    /* 0x1000-0x101f, then a bad header at byte 64 */
	R_OUTSIDE_RAM,         /* 0x9000-0x903f: in the gap between RAM ranges */
	R_STRADDLES_RAM,       /* 0x8fc0-0x903f: runs off the end of low RAM */
	R_SECOND_OUTSIDE_RAM,  /* 0x1000-0x101f, then 0x200000000-0x20000003f */
	R_TRUNCATED_IN_RANGE,  /* 0x1000-0x10ff cut 100 bytes into its data */
	R_TRUNCATED_IN_HEADER, /* 20 bytes of a header */
	R_TRAILING_BYTES,      /* a valid range and 10 stray bytes */
	R_EMPTY,
	R_OVERLAP,             /* 0x1000-0x10ff, then 0x1080-0x117f */
	R_DESCENDING,          /* 0x2000-0x20ff, then 0x1000-0x10ff */
};

struct refusal_case {
	const char *name;
	enum refusal stream;
	size_t block_size;
	int ret;
	const char *error;         /* substring of result.error */
	size_t sink_len;           /* stream bytes that reached the sink (a prefix) */
	size_t ranges;             /* ranges accepted before the refusal */
};

static const struct refusal_case refusal_cases[] = {
	{ "refuse/bad magic", R_BAD_MAGIC_FIRST, 0, -EBADMSG, "at byte 0: bad magic", 0, 0 },
	{ "refuse/bad magic, 7-byte blocks", R_BAD_MAGIC_FIRST, 7, -EBADMSG, "bad magic", 28, 0 },
	{ "refuse/bad magic in the second header", R_BAD_MAGIC_SECOND, 0, -EBADMSG,
	  "at byte 64: bad magic", 0, 1 },
	/* The second header is bytes 64-95: the block holding byte 95 is held back. */
	{ "refuse/bad magic in the second header, 64-byte blocks", R_BAD_MAGIC_SECOND, 64,
	  -EBADMSG, "at byte 64: bad magic", 64, 1 },
	{ "refuse/bad magic in the second header, 7-byte blocks", R_BAD_MAGIC_SECOND, 7,
	  -EBADMSG, "at byte 64: bad magic", 91, 1 },
	{ "refuse/range outside RAM", R_OUTSIDE_RAM, 0, -ERANGE,
	  "range 0x9000-0x903f at stream offset 0 is not System RAM", 0, 0 },
	{ "refuse/range running off the end of RAM", R_STRADDLES_RAM, 0, -ERANGE,
	  "not System RAM", 0, 0 },
	{ "refuse/second range outside RAM, 64-byte blocks", R_SECOND_OUTSIDE_RAM, 64, -ERANGE,
	  "at stream offset 64 is not System RAM", 64, 1 },
	/* Only the end shows a truncation: what came before has passed. */
	{ "refuse/truncated inside a range", R_TRUNCATED_IN_RANGE, 0, -EBADMSG,
	  "truncated inside a range", 132, 1 },
	{ "refuse/truncated inside a header", R_TRUNCATED_IN_HEADER, 0, -EBADMSG,
	  "truncated inside a range header", 20, 0 },
	{ "refuse/trailing bytes", R_TRAILING_BYTES, 0, -EBADMSG,
	  "truncated inside a range header", 32 + 0x40 + 10, 1 },
	{ "refuse/empty stream", R_EMPTY, 0, -EBADMSG, "no ranges", 0, 0 },
	{ "refuse/overlapping ranges", R_OVERLAP, 0, -EBADMSG, "ranges overlap or descend", 0, 1 },
	{ "refuse/descending ranges", R_DESCENDING, 0, -EBADMSG, "ranges overlap or descend", 0,
	  1 },
	{ "refuse/descending ranges, 33-byte blocks", R_DESCENDING, 33, -EBADMSG,
	  "ranges overlap or descend", 297, 1 },
};

static void build_refusal(enum refusal kind, struct stream *s)
{
	switch (kind) {
	case R_BAD_MAGIC_FIRST:
		stream_add_range(s, 0x1000, 0x103f);
		s->bytes[0] ^= 0xff;
		break;
	case R_BAD_MAGIC_SECOND:
		stream_add_range(s, 0x1000, 0x101f);
		stream_add_range(s, 0x2000, 0x203f);
		s->bytes[64] = 'X';
		break;
	case R_OUTSIDE_RAM:
		stream_add_range(s, 0x9000, 0x903f);
		break;
	case R_STRADDLES_RAM:
		stream_add_range(s, 0x8fc0, 0x903f);
		break;
	case R_SECOND_OUTSIDE_RAM:
		stream_add_range(s, 0x1000, 0x101f);
		stream_add_range(s, 0x200000000ull, 0x20000003full);
		break;
	case R_TRUNCATED_IN_RANGE:
		stream_add_range(s, 0x1000, 0x10ff);
		s->len = 32 + 100;
		break;
	case R_TRUNCATED_IN_HEADER:
		stream_add_range(s, 0x1000, 0x10ff);
		s->len = 20;
		break;
	case R_TRAILING_BYTES:
		stream_add_range(s, 0x1000, 0x103f);
		s->bytes = realloc(s->bytes, s->len + 10);
		assert_non_null(s->bytes);
		memset(s->bytes + s->len, 0, 10);
		s->len += 10;
		break;
	case R_EMPTY:
		break;
	case R_OVERLAP:
		stream_add_range(s, 0x1000, 0x10ff);
		stream_add_range(s, 0x1080, 0x117f);
		break;
	case R_DESCENDING:
		/* second header at 288-319: 33-byte blocks pass 9 * 33 = 297 bytes */
		stream_add_range(s, 0x2000, 0x20ff);
		stream_add_range(s, 0x1000, 0x10ff);
		break;
	}
}

static void test_refusal(void **state)
{
	const struct refusal_case *c = *state;
	struct stream_capture_options options = { .block_size = c->block_size };
	struct stream_capture_result result;
	struct stream s = { 0 };
	struct memory_sink sink;
	struct range_list ram;
	int fd, ret;

	ram_init(&ram);
	memory_sink_init(&sink);
	build_refusal(c->stream, &s);
	fd = preloaded_pipe(s.bytes, s.len);
	ret = stream_capture_run(fd, &ram, &sink.base, &options, &result);
	close(fd);

	assert_int_equal(ret, c->ret);
	if (!strstr(result.error, c->error))
		fail_msg("error \"%s\" does not say \"%s\"", result.error, c->error);
	assert_int_equal(sink.len, c->sink_len);
	if (sink.len)
		assert_memory_equal(sink.data, s.bytes, sink.len);
	assert_int_equal(result.stream_bytes, c->sink_len);
	assert_int_equal(result.ranges.count, c->ranges);

	stream_capture_result_free(&result);
	range_list_free(&ram);
	free(sink.data);
	free(s.bytes);
}

/* ---- the sink's own failure ---- */

static void test_sink_error(void **state)
{
	struct stream_capture_result result;
	struct memory_sink sink;
	struct range_list ram;
	struct stream s = { 0 };
	int fd, ret;

	ram_init(&ram);
	memory_sink_init(&sink);
	sink.fail_with = -ENOSPC;
	stream_add_range(&s, 0x1000, 0x1fff);
	fd = preloaded_pipe(s.bytes, s.len);
	ret = stream_capture_run(fd, &ram, &sink.base, NULL, &result);
	close(fd);
	assert_int_equal(ret, -ENOSPC);
	assert_int_equal(result.stream_bytes, 0);
	stream_capture_result_free(&result);
	range_list_free(&ram);
	free(s.bytes);
}

/* ---- stopping and stalling ---- */

struct stopper {
	volatile sig_atomic_t *stop;
	unsigned int after_calls;   /* set *stop on this progress call */
	unsigned int calls;
};

static void stop_on_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct stopper *st = ctx;

	if (++st->calls == st->after_calls)
		*st->stop = 1;
}

static void *stop_later(void *arg)
{
	struct timespec delay = { 0, 200 * 1000 * 1000 };

	nanosleep(&delay, NULL);
	*(volatile sig_atomic_t *)arg = 1;
	return NULL;
}

enum stop_mode {
	STOP_BEFORE,         /* the flag is already set */
	STOP_AFTER_BLOCK,    /* set by the progress callback after the first block */
	STOP_WHILE_SILENT,   /* set by another thread while the writer says nothing */
};

struct stop_case {
	const char *name;
	enum stop_mode mode;
	size_t sink_len;
};

static const struct stop_case stop_cases[] = {
	{ "stop/flag already set", STOP_BEFORE, 0 },
	{ "stop/set after the first block", STOP_AFTER_BLOCK, 64 },
	{ "stop/set while the writer is silent", STOP_WHILE_SILENT, 64 },
};

static void test_stop(void **state)
{
	const struct stop_case *c = *state;
	static volatile sig_atomic_t stop;
	struct stopper stopper = { .stop = &stop, .after_calls = 1 };
	struct stream_capture_options options = { .block_size = 64, .stop = &stop };
	struct stream_capture_result result;
	struct memory_sink sink;
	struct range_list ram;
	struct stream s = { 0 };
	struct writer w;
	pthread_t stopper_thread;
	uint64_t start;
	int fd, ret;

	ram_init(&ram);
	memory_sink_init(&sink);
	stream_add_range(&s, 0x1000, 0x1fff);
	stop = c->mode == STOP_BEFORE;
	if (c->mode == STOP_AFTER_BLOCK) {
		options.progress = stop_on_progress;
		options.progress_ctx = &stopper;
	}
	if (c->mode == STOP_WHILE_SILENT) {
		/* 64 bytes, then nothing, with the pipe left open. */
		fd = writer_start(&w, s.bytes, 64, 0, true);
		assert_int_equal(pthread_create(&stopper_thread, NULL, stop_later,
						(void *)&stop), 0);
	} else {
		fd = preloaded_pipe(s.bytes, s.len);
	}
	start = now_ms();
	ret = stream_capture_run(fd, &ram, &sink.base, &options, &result);
	if (c->mode == STOP_WHILE_SILENT) {
		writer_stop(&w, fd);
		pthread_join(stopper_thread, NULL);
	} else {
		close(fd);
	}

	assert_int_equal(ret, -EINTR);
	/* Noticed within the reader's one-second poll, well before any stall limit. */
	assert_true(now_ms() - start < 3000);
	assert_int_equal(sink.len, c->sink_len);
	if (sink.len)
		assert_memory_equal(sink.data, s.bytes, sink.len);
	stream_capture_result_free(&result);
	range_list_free(&ram);
	free(sink.data);
	free(s.bytes);
}

/* A writer that goes silent with the pipe open: -ETIMEDOUT, not a hang. */
static void test_stall(void **state)
{
	struct stream_capture_options options = { .stall_ms = 1500 };
	struct stream_capture_result result;
	struct memory_sink sink;
	struct range_list ram;
	struct stream s = { 0 };
	struct writer w;
	uint64_t start, elapsed;
	int fd, ret;

	ram_init(&ram);
	memory_sink_init(&sink);
	stream_add_range(&s, 0x1000, 0x1fff);
	fd = writer_start(&w, s.bytes, 100, 0, true);
	start = now_ms();
	ret = stream_capture_run(fd, &ram, &sink.base, &options, &result);
	elapsed = now_ms() - start;
	writer_stop(&w, fd);

	assert_int_equal(ret, -ETIMEDOUT);
	assert_true(elapsed >= 1400);
	assert_true(elapsed < 5000);
	assert_int_equal(sink.len, 100);
	assert_memory_equal(sink.data, s.bytes, 100);
	stream_capture_result_free(&result);
	range_list_free(&ram);
	free(sink.data);
	free(s.bytes);
}

int main(void)
{
	/* The reader closes its end early in some cases; the writer sees EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	stream_add_range(&two_ranges, 0x1000, 0x8fff);
	stream_add_range(&two_ranges, 0x100000000ull, 0x100017fffull);

	for (size_t i = 0; i < ARRAY_SIZE(pass_cases); i++)
		add_test(pass_cases[i].name, test_pass, &pass_cases[i]);
	add_test("pass/socketpair", test_pass_socketpair, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(refusal_cases); i++)
		add_test(refusal_cases[i].name, test_refusal, &refusal_cases[i]);
	add_test("sink/write error", test_sink_error, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(stop_cases); i++)
		add_test(stop_cases[i].name, test_stop, &stop_cases[i]);
	add_test("stall/silent writer, stall_ms 1500", test_stall, NULL);
	return _cmocka_run_group_tests("stream_capture", tests, test_count, NULL, NULL);
}
