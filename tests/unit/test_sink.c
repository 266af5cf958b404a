// SPDX-License-Identifier: GPL-2.0-only
/* Sinks: hashing through the async queue, zstd with workers, file finish. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "base/sink.h"
#include "base/util.h"
#include "base/encode.h"

#define DATA_SIZE (9u << 20)

static unsigned char *make_data(void)
{
	unsigned char *d = malloc(DATA_SIZE);
	uint64_t x = 88172645463325252ull;

	for (size_t i = 0; i < DATA_SIZE; i++) {
		/* Half compressible, half xorshift noise, so zstd has work of both kinds. */
		if ((i >> 16) & 1) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			d[i] = (unsigned char)x;
		} else {
			d[i] = (unsigned char)(i / 4096);
		}
	}
	return d;
}

static void expected_hex(const unsigned char *d, size_t len, char *hex)
{
	unsigned char digest[SHA256_DIGEST_LENGTH];

	SHA256(d, len, digest);
	hex_encode(digest, sizeof(digest), hex);
}

/* Odd write sizes straddle the async buffers' edges. */
static const size_t write_sizes[] = { 1, 4095, 4096, 65537, 1u << 20, (1u << 20) + 3 };

static void test_async_hash_matches(void **state)
{
	unsigned char *d = make_data();
	char want[SHA256_HEX_BYTES];

	expected_hex(d, DATA_SIZE, want);
	for (size_t w = 0; w < sizeof(write_sizes) / sizeof(write_sizes[0]); w++) {
		int err = 0;
		struct sink *hash = sink_sha256_new();
		struct sink *async = sink_async_new(hash, 256 * 1024, 3, &err);

		assert_non_null(async);
		for (size_t off = 0; off < DATA_SIZE; off += write_sizes[w]) {
			size_t n = DATA_SIZE - off < write_sizes[w] ? DATA_SIZE - off : write_sizes[w];

			assert_int_equal(sink_write(async, d + off, n), 0);
		}
		assert_int_equal(sink_finish(async), 0);
		assert_string_equal(sink_sha256_hex(hash), want);
		assert_int_equal(async->bytes, DATA_SIZE);
		sink_destroy(async);
	}
	free(d);
}

struct memory_sink {
	struct sink base;
	unsigned char *data;
	size_t len;
};

static int memory_write(struct sink *s, const void *buf, size_t len)
{
	struct memory_sink *m = (struct memory_sink *)s;

	m->data = realloc(m->data, m->len + len);
	memcpy(m->data + m->len, buf, len);
	m->len += len;
	return 0;
}

static void memory_destroy(struct sink *s)
{
	struct memory_sink *m = (struct memory_sink *)s;

	free(m->data);
	free(m);
}

/* Bytes a slow sink took before it was destroyed: it outlives the sink. */
static size_t slow_delivered;

static int slow_write(struct sink *s, const void *buf, size_t len)
{
	usleep(200 * 1000);
	slow_delivered += len;
	return 0;
}

static void slow_destroy(struct sink *s)
{
	free(s);
}

/*
 * An async sink destroyed unfinished (an error or a signal upstream) drops
 * what is queued: the abort behind it must not wait for an upload of bytes
 * nobody will keep. Finished, it delivers everything.
 */
static void test_async_destroy_drops_queue(void **state)
{
	static const struct { bool finish; size_t want_min, want_max; } cases[] = {
		{ false, 0, 4096 },
		{ true, 3 * 4096, 3 * 4096 },
	};
	static unsigned char block[4096];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sink *slow = calloc(1, sizeof(*slow));
		struct sink *async;
		int err = 0;

		slow->write = slow_write;
		slow->destroy = slow_destroy;
		slow_delivered = 0;
		async = sink_async_new(slow, sizeof(block), 4, &err);
		assert_non_null(async);
		for (int b = 0; b < 3; b++)
			assert_int_equal(sink_write(async, block, sizeof(block)), 0);
		if (cases[i].finish)
			assert_int_equal(sink_finish(async), 0);
		sink_destroy(async);
		assert_in_range(slow_delivered, cases[i].want_min, cases[i].want_max);
	}
}

static void test_zstd_round_trip(void **state)
{
	static const int threads[] = { 0, 1, 2 };
	unsigned char *d = make_data();

	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		struct memory_sink *m = calloc(1, sizeof(*m));
		struct sink *z;
		unsigned char *back = malloc(DATA_SIZE + 1);
		size_t got;
		int err = 0;

		m->base.write = memory_write;
		m->base.destroy = memory_destroy;
		z = sink_zstd_new(&m->base, 3, threads[t], &err);
		assert_non_null(z);
		for (size_t off = 0; off < DATA_SIZE; off += 100003)
			assert_int_equal(sink_write(z, d + off, DATA_SIZE - off < 100003 ?
						    DATA_SIZE - off : 100003), 0);
		assert_int_equal(sink_finish(z), 0);
		assert_true(m->len < DATA_SIZE);
		got = ZSTD_decompress(back, DATA_SIZE + 1, m->data, m->len);
		assert_false(ZSTD_isError(got));
		assert_int_equal(got, DATA_SIZE);
		assert_memory_equal(back, d, DATA_SIZE);
		free(back);
		sink_destroy(z);
	}
	free(d);
}

static void test_file_sink(void **state)
{
	char dir[] = "/tmp/sinktest.XXXXXX", path[256], partial[300];
	struct stat st;
	struct sink *f;
	int err = 0;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/image.lime", dir);
	snprintf(partial, sizeof(partial), "%s.partial", path);
	f = sink_file_new(path, &err);
	assert_non_null(f);
	assert_int_equal(sink_write(f, "abc", 3), 0);
	/* Until finish, only the .partial name exists. */
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(stat(partial, &st), 0);
	assert_int_equal(sink_finish(f), 0);
	sink_destroy(f);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 3);
	assert_int_equal(stat(partial, &st), -1);
	/* Evidence is never overwritten. */
	assert_null(sink_file_new(path, &err));
	assert_int_equal(err, -EEXIST);
	/* An abandoned sink keeps its .partial name, never the final one. */
	snprintf(path, sizeof(path), "%s/second.lime", dir);
	snprintf(partial, sizeof(partial), "%s.partial", path);
	f = sink_file_new(path, &err);
	assert_int_equal(sink_write(f, "x", 1), 0);
	sink_destroy(f);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(stat(partial, &st), 0);
	unlink(partial);
	snprintf(path, sizeof(path), "%s/image.lime", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_async_hash_matches),
		cmocka_unit_test(test_async_destroy_drops_queue),
		cmocka_unit_test(test_zstd_round_trip),
		cmocka_unit_test(test_file_sink),
	};

	return cmocka_run_group_tests_name("sink", tests, NULL, NULL);
}
