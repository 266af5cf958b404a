// SPDX-License-Identifier: GPL-2.0-only
/*
 * image_reader (zstd detection, streaming decompression, hashing, errors)
 * and image_manifest_load. Each table row is its own cmocka test.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <zstd.h>

#include "capture/image_reader.h"
#include "capture/manifest.h"
#include "base/util.h"
#include "base/encode.h"
#include "base/jsonutil.h"

#define MAX_TESTS 128

static struct CMUnitTest tests[MAX_TESTS];
static size_t test_count;
static char tmpdir[] = "/tmp/test_image_reader.XXXXXX";

static void add_test(const char *name, CMUnitTestFunction fn, const void *state)
{
	if (test_count == MAX_TESTS) {
		fprintf(stderr, "MAX_TESTS too small\n");
		exit(1);
	}
	tests[test_count++] = (struct CMUnitTest){ name, fn, NULL, NULL, (void *)state };
}

/* ---- helpers ---- */

struct buffer {
	unsigned char *data;
	size_t len;
};

static void buffer_append(struct buffer *b, const void *data, size_t len)
{
	b->data = realloc(b->data, b->len + len + 1);
	assert_non_null(b->data);
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

/* Half repetitive, half noise: compresses, but into several blocks. */
static struct buffer make_content(size_t size, uint32_t seed)
{
	struct buffer b = { malloc(size + 1), size };
	uint32_t x = seed | 1;

	assert_non_null(b.data);
	for (size_t i = 0; i < size; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b.data[i] = (i / 4096) % 2 ? (unsigned char)x : (unsigned char)(i % 251);
	}
	return b;
}

static void compress_frame(struct buffer *out, const struct buffer *in)
{
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	size_t cap = ZSTD_compressBound(in->len), n;
	unsigned char *dst = malloc(cap);

	assert_non_null(cctx);
	assert_non_null(dst);
	/* As the agent writes them: with a content checksum. */
	assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)));
	n = ZSTD_compress2(cctx, dst, cap, in->data, in->len);
	assert_false(ZSTD_isError(n));
	buffer_append(out, dst, n);
	free(dst);
	ZSTD_freeCCtx(cctx);
}

static void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_BYTES])
{
	unsigned char digest[32];
	unsigned int n = 0;

	assert_int_equal(EVP_Digest(data, len, digest, &n, EVP_sha256(), NULL), 1);
	hex_encode(digest, sizeof(digest), out);
}

static char *write_temp(const char *name, const void *data, size_t len)
{
	char *path;
	FILE *f;

	assert_true(asprintf(&path, "%s/%s", tmpdir, name) > 0);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

static int collect(void *ctx, const void *buf, size_t len)
{
	buffer_append(ctx, buf, len);
	return 0;
}

static int refuse(void *ctx, const void *buf, size_t len)
{
	return -ENOSPC;
}

/* ---- reading good input ---- */

enum layout {
	PLAIN,
	ZSTD,
	ZSTD_TWO_FRAMES,
	ZSTD_SKIPPABLE_FIRST,
};

struct read_case {
	const char *name;
	enum layout layout;
	size_t size;
};

static const struct read_case read_cases[] = {
	{ "read/plain, empty", PLAIN, 0 },
	{ "read/plain, 3 bytes (less than the magic)", PLAIN, 3 },
	{ "read/plain, 4 KiB", PLAIN, 4096 },
	{ "read/plain, 3 MiB + 1 (several reads)", PLAIN, (3u << 20) + 1 },
	{ "read/zstd, empty frame", ZSTD, 0 },
	{ "read/zstd, 1 byte", ZSTD, 1 },
	{ "read/zstd, 300 KiB", ZSTD, 300u << 10 },
	{ "read/zstd, 5 MiB (several reads and flushes)", ZSTD, 5u << 20 },
	{ "read/zstd, two frames", ZSTD_TWO_FRAMES, 200u << 10 },
	{ "read/zstd, skippable frame first", ZSTD_SKIPPABLE_FIRST, 100u << 10 },
};

/* The file bytes for a case; *content gets what decompression must give. */
static struct buffer build_file(const struct read_case *c, struct buffer *content)
{
	struct buffer file = { NULL, 0 };

	*content = make_content(c->size, (uint32_t)c->size + c->layout);
	switch (c->layout) {
	case PLAIN:
		buffer_append(&file, content->data, content->len);
		break;
	case ZSTD:
		compress_frame(&file, content);
		break;
	case ZSTD_TWO_FRAMES: {
		struct buffer half = { content->data, content->len / 2 };
		struct buffer rest = { content->data + half.len, content->len - half.len };

		compress_frame(&file, &half);
		compress_frame(&file, &rest);
		break;
	}
	case ZSTD_SKIPPABLE_FIRST: {
		/* Magic 0x184D2A50 and a 4-byte length, little-endian, then the payload. */
		static const unsigned char skippable[] = { 0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0,
							   'a', 'b', 'c' };

		buffer_append(&file, skippable, sizeof(skippable));
		compress_frame(&file, content);
		break;
	}
	}
	if (!file.data)
		buffer_append(&file, "", 0);
	return file;
}

static void test_read(void **state)
{
	const struct read_case *c = *state;
	struct buffer content, got = { NULL, 0 };
	struct buffer file = build_file(c, &content);
	char *path = write_temp("read", file.data, file.len);
	char expect_file[SHA256_HEX_BYTES], expect_data[SHA256_HEX_BYTES];
	struct image_reader r;

	sha256_hex(file.data, file.len, expect_file);
	sha256_hex(content.data, content.len, expect_data);
	assert_int_equal(image_reader_open(&r, path), 0);
	assert_true(r.size_known);
	assert_true(r.file_size == file.len);
	assert_int_equal(image_reader_run(&r, collect, &got), 0);
	assert_int_equal(r.failure, IMAGE_READER_OK);
	assert_int_equal(r.compressed, c->layout != PLAIN);
	assert_true(r.file_bytes == file.len);
	assert_true(r.data_bytes == content.len);
	assert_int_equal(got.len, content.len);
	if (content.len)
		assert_memory_equal(got.data, content.data, content.len);
	assert_string_equal(r.file_sha256, expect_file);
	assert_string_equal(r.data_sha256, expect_data);
	image_reader_close(&r);
	unlink(path);
	free(path);
	free(file.data);
	free(content.data);
	free(got.data);
}

/* ---- broken zstd ---- */

enum damage {
	TRUNCATE,
	FLIP,
	APPEND,
};

struct zstd_case {
	const char *name;
	enum damage damage;
	long where;            /* byte offset; negative counts from the end */
	const char *append;
	const char *why;
};

static const struct zstd_case zstd_cases[] = {
	{ "zstd/only the magic", TRUNCATE, 4, NULL, "truncated zstd stream" },
	{ "zstd/cut inside the frame header", TRUNCATE, 6, NULL, "truncated zstd stream" },
	{ "zstd/cut in the middle", TRUNCATE, -3000, NULL, "truncated zstd stream" },
	{ "zstd/checksum missing", TRUNCATE, -4, NULL, "truncated zstd stream" },
	{ "zstd/checksum cut short", TRUNCATE, -1, NULL, "truncated zstd stream" },
	{ "zstd/byte flipped in the data", FLIP, -3000, NULL, "malformed zstd stream" },
	{ "zstd/byte flipped in the checksum", FLIP, -1, NULL, "malformed zstd stream" },
	{ "zstd/garbage after the frame", APPEND, 0, "garbage!", "malformed zstd stream" },
	{ "zstd/a partial frame header after the frame", APPEND, 0, "\x28\xb5", "truncated zstd stream" },
};

static void test_zstd_damage(void **state)
{
	const struct zstd_case *c = *state;
	static const struct read_case base = { "base", ZSTD, 300u << 10 };
	struct buffer content, got = { NULL, 0 };
	struct buffer file = build_file(&base, &content);
	size_t at = c->where < 0 ? file.len + c->where : (size_t)c->where;
	struct image_reader r;
	char *path;
	int ret;

	switch (c->damage) {
	case TRUNCATE:
		file.len = at;
		break;
	case FLIP:
		file.data[at] ^= 0x01;
		break;
	case APPEND:
		buffer_append(&file, c->append, strlen(c->append));
		break;
	}
	path = write_temp("damaged.zst", file.data, file.len);
	assert_int_equal(image_reader_open(&r, path), 0);
	ret = image_reader_run(&r, collect, &got);
	assert_int_equal(ret, -EBADMSG);
	assert_int_equal(r.failure, IMAGE_READER_ZSTD);
	assert_true(r.compressed);
	assert_non_null(strstr(r.error, c->why));
	image_reader_close(&r);
	unlink(path);
	free(path);
	free(file.data);
	free(content.data);
	free(got.data);
}

/* ---- input errors and callbacks ---- */

static void test_missing_file(void **state)
{
	struct image_reader r;
	char *path;

	assert_true(asprintf(&path, "%s/does-not-exist", tmpdir) > 0);
	assert_int_equal(image_reader_open(&r, path), -ENOENT);
	assert_int_equal(r.failure, IMAGE_READER_INPUT);
	assert_non_null(strstr(r.error, "cannot open"));
	image_reader_close(&r);
	free(path);
}

static void test_directory(void **state)
{
	struct image_reader r;

	assert_int_equal(image_reader_open(&r, tmpdir), -EISDIR);
	assert_int_equal(r.failure, IMAGE_READER_INPUT);
	image_reader_close(&r);
}

static void test_read_error(void **state)
{
	struct image_reader r;
	int ret;

	/* Offset 0 of our own memory is unmapped: read() fails with EIO. */
	assert_int_equal(image_reader_open(&r, "/proc/self/mem"), 0);
	ret = image_reader_run(&r, collect, NULL);
	assert_int_equal(ret, -EIO);
	assert_int_equal(r.failure, IMAGE_READER_INPUT);
	assert_non_null(strstr(r.error, "read failed"));
	image_reader_close(&r);
}

static void test_callback_error(void **state)
{
	const struct read_case *c = *state;
	struct buffer content;
	struct buffer file = build_file(c, &content);
	char *path = write_temp("callback", file.data, file.len);
	struct image_reader r;

	assert_int_equal(image_reader_open(&r, path), 0);
	assert_int_equal(image_reader_run(&r, refuse, NULL), -ENOSPC);
	assert_int_equal(r.failure, IMAGE_READER_CALLBACK);
	image_reader_close(&r);
	unlink(path);
	free(path);
	free(file.data);
	free(content.data);
}

static void test_run_twice(void **state)
{
	char *path = write_temp("twice", "abcdef", 6);
	struct image_reader r;

	assert_int_equal(image_reader_open(&r, path), 0);
	assert_int_equal(image_reader_run(&r, NULL, NULL), 0);
	assert_int_equal(image_reader_run(&r, NULL, NULL), -EINVAL);
	image_reader_close(&r);
	unlink(path);
	free(path);
}

/* ---- stdin ("-"), from a file and from a pipe that splits the magic ---- */

struct slow_writer {
	int fd;
	struct buffer data;
};

static void *write_slowly(void *arg)
{
	struct slow_writer *w = arg;

	/* Two bytes, a pause, the rest: the reader's first read sees half the magic. */
	assert_int_equal(write_all(w->fd, w->data.data, 2), 0);
	usleep(50000);
	write_all(w->fd, w->data.data + 2, w->data.len - 2);
	close(w->fd);
	return NULL;
}

static void read_stdin(int fd, const struct buffer *content, bool pipe_input)
{
	struct buffer got = { NULL, 0 };
	struct image_reader r;
	int saved = dup(STDIN_FILENO);

	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	close(fd);
	assert_int_equal(image_reader_open(&r, "-"), 0);
	assert_true(r.is_stdin);
	assert_int_equal(r.size_known, !pipe_input);
	assert_int_equal(image_reader_run(&r, collect, &got), 0);
	assert_true(r.compressed);
	assert_int_equal(got.len, content->len);
	assert_memory_equal(got.data, content->data, content->len);
	image_reader_close(&r);
	/* close() must have left stdin alone: it is not the reader's. */
	assert_true(fcntl(STDIN_FILENO, F_GETFD) >= 0);
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
	free(got.data);
}

static void test_stdin_file(void **state)
{
	static const struct read_case base = { "base", ZSTD, 64u << 10 };
	struct buffer content;
	struct buffer file = build_file(&base, &content);
	char *path = write_temp("stdin.zst", file.data, file.len);
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	read_stdin(fd, &content, false);
	unlink(path);
	free(path);
	free(file.data);
	free(content.data);
}

static void test_stdin_pipe(void **state)
{
	static const struct read_case base = { "base", ZSTD, 64u << 10 };
	struct buffer content;
	struct slow_writer w;
	pthread_t thread;
	int fds[2];

	w.data = build_file(&base, &content);
	assert_int_equal(pipe(fds), 0);
	w.fd = fds[1];
	assert_int_equal(pthread_create(&thread, NULL, write_slowly, &w), 0);
	read_stdin(fds[0], &content, true);
	pthread_join(thread, NULL);
	free(w.data.data);
	free(content.data);
}

/* ---- manifests ---- */

#define SHA_A "abababababababababababababababababababababababababababababababab"
#define SHA_B "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
/* SHA_B less its first two digits */
#define SHA_B_TAIL "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"

static const char base_manifest[] =
	"{\"schema\":\"forensics-agent/manifest/v1\",\n"
	" \"image\":{\"path\":\"case.lime.zst\",\"format\":\"lime\",\"compression\":\"zstd\",\n"
	"  \"ranges\":[{\"start\":\"0x1000\",\"end\":\"0x9efff\",\"bytes\":647168},\n"
	"             {\"start\":\"0x100000\",\"end\":\"0x1fffff\",\"bytes\":1048576}],\n"
	"  \"uncompressed_bytes\":1695808,\"compressed_bytes\":1234,\n"
	"  \"sha256_uncompressed\":\"" SHA_A "\",\"sha256_compressed\":\"" SHA_B "\"},\n"
	" \"unreadable\":[{\"start\":\"0x2000\",\"end\":\"0x2fff\",\"bytes\":4096,\"reason\":\"EIO\"}]}\n";

#define MAX_EDITS 3

struct manifest_case {
	const char *name;
	/* Text edits to the base manifest; a NULL find replaces the whole text. */
	struct {
		const char *find, *replace;
	} edits[MAX_EDITS];
	const char *error;   /* NULL: loads */
};

static const struct manifest_case manifest_cases[] = {
	{ "manifest/valid, zstd", { { NULL } }, NULL },
	{ "manifest/valid, no compression", {
		{ "\"compression\":\"zstd\"", "\"compression\":\"none\"" },
		{ "\"compressed_bytes\":1234", "\"compressed_bytes\":null" },
		{ "\"sha256_compressed\":\"" SHA_B "\"", "\"sha256_compressed\":null" } }, NULL },
	{ "manifest/valid, no unreadable list", {
		{ ",\n \"unreadable\":[{\"start\":\"0x2000\",\"end\":\"0x2fff\",\"bytes\":4096,"
		  "\"reason\":\"EIO\"}]", "" } }, NULL },
	{ "manifest/valid, range at the top of the address space", {
		{ "{\"start\":\"0x100000\",\"end\":\"0x1fffff\",\"bytes\":1048576}",
		  "{\"start\":\"0xfffffffffffff000\",\"end\":\"0xFFFFFFFFFFFFFFFF\",\"bytes\":4096}" } },
	  NULL },
	{ "manifest/empty file", { { NULL, "" } }, "unexpected end" },
	{ "manifest/not JSON", { { NULL, "case.lime.zst: 1 GiB" } }, "not JSON" },
	{ "manifest/truncated JSON", { { "\"EIO\"}]}", "\"EIO\"}]" } }, "unexpected end" },
	{ "manifest/data after the object", { { "\"EIO\"}]}", "\"EIO\"}]} {}" } },
	  "unexpected data after byte" },
	{ "manifest/an array", { { NULL, "[]" } }, "not a JSON object" },
	{ "manifest/other schema", { { "manifest/v1", "manifest/v2" } }, "schema is not" },
	{ "manifest/no schema", { { "\"schema\":\"forensics-agent/manifest/v1\",", "" } },
	  "schema is not" },
	{ "manifest/image not an object", { { "\"image\":{", "\"image\":[],\"x\":{" } },
	  "image is missing or not an object" },
	{ "manifest/format raw", { { "\"format\":\"lime\"", "\"format\":\"raw\"" } },
	  "image.format" },
	{ "manifest/compression gzip", { { "\"compression\":\"zstd\"", "\"compression\":\"gzip\"" } },
	  "image.compression is not" },
	{ "manifest/ranges not an array", { { "\"ranges\":", "\"ranges\":7,\"x\":" } },
	  "image.ranges is not an array" },
	{ "manifest/address without 0x", { { "\"start\":\"0x1000\"", "\"start\":\"1000\"" } },
	  "image.ranges[0].start \"1000\" lacks the 0x prefix" },
	{ "manifest/address as a number", { { "\"start\":\"0x1000\"", "\"start\":4096" } },
	  "image.ranges[0].start is not a \"0x...\" string" },
	{ "manifest/address over 64 bits", { { "\"0x9efff\"", "\"0x10000000000000000\"" } },
	  "not a 64-bit hex address" },
	{ "manifest/address not hex", { { "\"0x9efff\"", "\"0x9efzz\"" } },
	  "not a 64-bit hex address" },
	{ "manifest/address with a sign", { { "\"0x9efff\"", "\"0x-9efff\"" } },
	  "not a 64-bit hex address" },
	{ "manifest/bytes do not fit the range", { { "647168", "647169" } },
	  "image.ranges[0].bytes is 647169 but the range holds 647168" },
	{ "manifest/bytes negative", { { "647168", "-647168" } }, "image.ranges[0].bytes is negative" },
	{ "manifest/bytes a string", { { "647168", "\"647168\"" } }, "is not an integer" },
	{ "manifest/end before start", { { "\"0x9efff\"", "\"0xfff\"" } },
	  "image.ranges[0] ends before it starts" },
	{ "manifest/overlapping ranges", {
		{ "{\"start\":\"0x100000\",\"end\":\"0x1fffff\",\"bytes\":1048576}",
		  "{\"start\":\"0x9e000\",\"end\":\"0x1fffff\",\"bytes\":1449984}" } },
	  "image.ranges[1] overlaps or precedes" },
	{ "manifest/ranges sharing one byte", {
		{ "{\"start\":\"0x100000\",\"end\":\"0x1fffff\",\"bytes\":1048576}",
		  "{\"start\":\"0x9efff\",\"end\":\"0x1fffff\",\"bytes\":1445889}" } },
	  "image.ranges[1] overlaps or precedes" },
	{ "manifest/ranges touching", {
		{ "{\"start\":\"0x100000\",\"end\":\"0x1fffff\",\"bytes\":1048576}",
		  "{\"start\":\"0x9f000\",\"end\":\"0x1fffff\",\"bytes\":1445888}" } }, NULL },
	{ "manifest/descending ranges", {
		{ "{\"start\":\"0x100000\",\"end\":\"0x1fffff\",\"bytes\":1048576}",
		  "{\"start\":\"0x0\",\"end\":\"0xfff\",\"bytes\":4096}" } },
	  "image.ranges[1] overlaps or precedes" },
	{ "manifest/no uncompressed_bytes", { { "\"uncompressed_bytes\":1695808,", "" } },
	  "image.uncompressed_bytes is not an integer" },
	{ "manifest/hash too short", { { SHA_A, "abc" } }, "image.sha256_uncompressed is not 64 hex" },
	{ "manifest/hash not hex", { { SHA_B, "zz" SHA_B_TAIL } },
	  "image.sha256_compressed is not 64 hex" },
	{ "manifest/zstd without a compressed hash", {
		{ "\"sha256_compressed\":\"" SHA_B "\"", "\"sha256_compressed\":null" } },
	  "compression is zstd but" },
	{ "manifest/none with a compressed hash", {
		{ "\"compression\":\"zstd\"", "\"compression\":\"none\"" } },
	  "compression is none but" },
	{ "manifest/unreadable not an array", { { "\"unreadable\":[", "\"unreadable\":3,\"x\":[" } },
	  "unreadable is not an array" },
	{ "manifest/unreadable entry malformed", { { "\"start\":\"0x2000\"", "\"start\":\"2000\"" } },
	  "unreadable[0].start" },
	{ "manifest/ram_bytes negative", { { "\"uncompressed_bytes\"", "\"ram_bytes\":-1,\"uncompressed_bytes\"" } },
	  "image.ram_bytes is negative" },
	{ "manifest/s3 not an object", { { "\"format\"", "\"s3\":3,\"format\"" } },
	  "image.s3 is not an object" },
	{ "manifest/s3 without a key", { { "\"format\"", "\"s3\":{\"bucket\":\"b\"},\"format\"" } },
	  "image.s3.key is not a string" },
	{ "manifest/s3 etag a number", {
		{ "\"format\"", "\"s3\":{\"bucket\":\"b\",\"key\":\"k\",\"etag\":7},\"format\"" } },
	  "image.s3.etag is not a string" },
	{ "manifest/s3 tls not an object", {
		{ "\"format\"",
		  "\"s3\":{\"bucket\":\"b\",\"key\":\"k\",\"tls\":\"x\"},\"format\"" } },
	  "image.s3.tls is not an object" },
	{ "manifest/s3 tls bundle a number", {
		{ "\"format\"", "\"s3\":{\"bucket\":\"b\",\"key\":\"k\",\"tls\":{\"ca_bundle\":1}},"
		  "\"format\"" } }, "image.s3.tls.ca_bundle is not a string" },
	{ "manifest/source not an object", { { " \"unreadable\"", " \"source\":[],\"unreadable\"" } },
	  "source is not an object" },
	{ "manifest/source name a number", { { " \"unreadable\"", " \"source\":{\"name\":1},\"unreadable\"" } },
	  "source.name is not a string" },
	{ "manifest/valid, source with a fifo transport", {
		{ " \"unreadable\"", " \"source\":{\"name\":\"lime\",\"transport\":{\"kind\":"
		  "\"fifo\",\"path\":\"/run/forensics-lime.aB3dE6/stream\",\"directory_mode\":"
		  "\"0700\",\"mode\":\"0600\",\"owner_uid\":0,\"filesystem\":\"tmpfs\"}},"
		  "\"unreadable\"" } }, NULL },
	{ "manifest/source transport a string", {
		{ " \"unreadable\"", " \"source\":{\"name\":\"lime\",\"transport\":\"fifo\"},"
		  "\"unreadable\"" } }, "source.transport is not an object with a kind" },
	{ "manifest/source transport without a kind", {
		{ " \"unreadable\"", " \"source\":{\"name\":\"lime\",\"transport\":{\"kind\":1}},"
		  "\"unreadable\"" } }, "source.transport is not an object with a kind" },
	{ "manifest/s3 (with its tls), source and ram_bytes", {
		{ "\"format\"", "\"s3\":{\"bucket\":\"b\",\"key\":\"k\",\"etag\":null,\"tls\":"
		  "{\"ca_bundle\":\"/etc/pki/tls/certs/ca-bundle.crt\",\"source\":\"system\"}},"
		  "\"format\"" },
		{ "\"uncompressed_bytes\"", "\"ram_bytes\":1695744,\"uncompressed_bytes\"" },
		{ " \"unreadable\"", " \"source\":{\"name\":\"kcore\"},\"unreadable\"" } }, NULL },
	{ "manifest/valid, bundle with kptr_restrict", {
		{ " \"unreadable\"", " \"bundle\":{\"files\":[{\"name\":\"proc/kallsyms\","
		  "\"kptr_restrict\":{\"found\":2,\"lowered_to\":1,\"restored\":true}}]},"
		  "\"unreadable\"" } }, NULL },
};

static char *apply_edits(const struct manifest_case *c)
{
	char *text = strdup(base_manifest);

	assert_non_null(text);
	for (size_t i = 0; i < MAX_EDITS; i++) {
		const char *find = c->edits[i].find, *replace = c->edits[i].replace;
		char *at, *edited;

		if (!find && !replace)
			break;
		if (!find) {
			free(text);
			text = strdup(replace);
			continue;
		}
		at = strstr(text, find);
		assert_non_null(at);   /* a typo in the table, not a parser bug */
		assert_true(asprintf(&edited, "%.*s%s%s", (int)(at - text), text, replace,
				     at + strlen(find)) > 0);
		free(text);
		text = edited;
	}
	return text;
}

static void test_manifest(void **state)
{
	const struct manifest_case *c = *state;
	char *text = apply_edits(c);
	char *path = write_temp("manifest.json", text, strlen(text));
	struct image_manifest m;
	char err[IMAGE_ERROR_MAX];
	int ret = image_manifest_load(path, &m, err, sizeof(err));

	if (c->error) {
		assert_int_equal(ret, -EBADMSG);
		if (!strstr(err, c->error))
			fail_msg("error \"%s\" lacks \"%s\"", err, c->error);
		assert_int_equal(m.ranges.count, 0);
	} else {
		assert_int_equal(ret, 0);
		assert_int_equal(m.ranges.count, 2);
		assert_true(m.ranges.items[0].start == 0x1000 && m.ranges.items[0].end == 0x9efff);
		assert_true(m.uncompressed_bytes == 1695808);
		assert_string_equal(m.sha256_uncompressed, SHA_A);
		assert_string_equal(m.image_path, "case.lime.zst");
		assert_int_equal(m.has_sha256_compressed, m.compressed);
		assert_int_equal(m.has_compressed_bytes, m.compressed);
		if (m.compressed) {
			assert_string_equal(m.sha256_compressed, SHA_B);
			assert_true(m.compressed_bytes == 1234);
		}
		/* Only the last valid case has them; the others leave them unset. */
		if (m.s3_bucket) {
			assert_string_equal(m.s3_bucket, "b");
			assert_string_equal(m.s3_key, "k");
			assert_null(m.s3_etag);
			assert_null(m.s3_version_id);
			assert_string_equal(m.source_name, "kcore");
			assert_true(m.has_ram_bytes && m.ram_bytes == 1695744);
		} else if (strstr(c->name, "transport")) {
			assert_string_equal(m.source_name, "lime");
		} else {
			assert_null(m.s3_key);
			assert_null(m.source_name);
			assert_false(m.has_ram_bytes);
		}
	}
	image_manifest_free(&m);
	unlink(path);
	free(path);
	free(text);
}

static void test_manifest_details(void **state)
{
	static const char text[] =
		"{\"schema\":\"forensics-agent/manifest/v1\",\"image\":{\"format\":\"lime\","
		"\"compression\":\"none\",\"ranges\":[{\"start\":\"0x0\",\"end\":\"0x0\",\"bytes\":1}],"
		"\"uncompressed_bytes\":33,\"compressed_bytes\":null,"
		"\"sha256_uncompressed\":\"" "ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB"
		"\",\"sha256_compressed\":null},\"unreadable\":["
		"{\"start\":\"0x1000\",\"end\":\"0x1fff\",\"bytes\":4096,\"reason\":\"EIO\"},"
		"{\"start\":\"0x5000\",\"end\":\"0x5001\",\"bytes\":2,\"reason\":\"unmapped\"}]}";
	char *path = write_temp("details.json", text, strlen(text));
	struct image_manifest m;
	char err[IMAGE_ERROR_MAX];

	assert_int_equal(image_manifest_load(path, &m, err, sizeof(err)), 0);
	/* Hashes compare as lowercase whatever case the file used. */
	assert_string_equal(m.sha256_uncompressed, SHA_A);
	assert_null(m.image_path);
	assert_false(m.compressed);
	assert_int_equal(m.unreadable_count, 2);
	assert_true(m.unreadable_bytes == 4098);
	image_manifest_free(&m);
	unlink(path);
	free(path);
}

/* From memory: only len bytes are read, so a buffer needs no NUL and may go on. */
static void test_manifest_in_memory(void **state)
{
	size_t len = strlen(base_manifest);
	char *text = malloc(len + 8);
	struct image_manifest m;
	char err[IMAGE_ERROR_MAX];

	assert_non_null(text);
	memcpy(text, base_manifest, len);
	memcpy(text + len, "garbage!", 8);
	assert_int_equal(image_manifest_parse(text, len, &m, err, sizeof(err)), 0);
	assert_int_equal(m.ranges.count, 2);
	image_manifest_free(&m);
	assert_int_equal(image_manifest_parse(text, len + 8, &m, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "unexpected data"));
	text[10] = '\0';
	assert_int_equal(image_manifest_parse(text, len, &m, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "NUL"));
	free(text);
}

/* A manifest already parsed as JSON (the one in the agent's log line) gets the same checks. */
static void test_manifest_from_json(void **state)
{
	json_object *root = json_tokener_parse(base_manifest), *array = json_object_new_array();
	struct image_manifest m;
	char err[IMAGE_ERROR_MAX];

	assert_int_equal(image_manifest_from_json(root, &m, err, sizeof(err)), 0);
	assert_int_equal(m.ranges.count, 2);
	assert_string_equal(m.sha256_compressed, SHA_B);
	image_manifest_free(&m);
	assert_int_equal(image_manifest_from_json(array, &m, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "not a JSON object"));
	assert_int_equal(image_manifest_from_json(NULL, &m, err, sizeof(err)), -EBADMSG);
	json_object_object_add(root, "schema", json_object_new_string("v2"));
	assert_int_equal(image_manifest_from_json(root, &m, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "schema is not"));
	json_object_put(array);
	json_object_put(root);
}

/* The writer's source object: the transport only when the source has one. */
static void test_manifest_source_transport(void **state)
{
	struct mem_source src = { .detail = "upstream LiME" };
	struct source_selection sel = { .count = 1 };
	json_object *o, *t;

	(void)state;
	sel.attempts[0] = (struct source_attempt){ .name = "lime", .path = "LiME path= FIFO",
						   .status = SOURCE_USED };
	o = manifest_source(&src, &sel);
	assert_false(json_object_object_get_ex(o, "transport", NULL));
	json_object_put(o);
	src.transport = (struct source_transport){ .kind = "fifo", .dir_mode = 040700,
						   .mode = 010600, .uid = 0,
						   .filesystem = "tmpfs" };
	snprintf(src.transport.path, sizeof(src.transport.path), "/run/forensics-lime.x/stream");
	o = manifest_source(&src, &sel);
	assert_true(json_object_object_get_ex(o, "transport", &t));
	assert_string_equal(json_path_string(t, "kind"), "fifo");
	assert_string_equal(json_path_string(t, "path"), "/run/forensics-lime.x/stream");
	assert_string_equal(json_path_string(t, "directory_mode"), "0700");
	assert_string_equal(json_path_string(t, "mode"), "0600");
	assert_string_equal(json_path_string(t, "filesystem"), "tmpfs");
	assert_int_equal(json_object_get_int(json_path(t, "owner_uid")), 0);
	assert_string_equal(json_path_string(o, "name"), "lime");
	json_object_put(o);
}

static void test_manifest_missing(void **state)
{
	struct image_manifest m;
	char err[IMAGE_ERROR_MAX];
	char *path;

	assert_true(asprintf(&path, "%s/none.json", tmpdir) > 0);
	assert_int_equal(image_manifest_load(path, &m, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot read manifest"));
	image_manifest_free(&m);
	free(path);
}

struct hint_case {
	const char *name;
	const char *path;
	const char *head;       /* first bytes; 4 of them unless a compressor's magic is longer */
	size_t head_len;
	const char *hint;       /* NULL: name and bytes agree */
};

static const struct hint_case hint_cases[] = {
	{ "hint/zstd named .zst", "a.lime.zst", "\x28\xb5\x2f\xfd", 4, NULL },
	{ "hint/LiME named .lime", "a.lime", "EMiL", 4, NULL },
	{ "hint/zstd named .lime", "a.lime", "\x28\xb5\x2f\xfd", 4,
	  "it is zstd-compressed but named a.lime: rename it a.lime.zst" },
	{ "hint/LiME named .zst", "a.lime.zst", "EMiL", 4,
	  "it is uncompressed LiME but named a.lime.zst: rename it without .zst" },
	{ "hint/LiME named .zstd", "a.zstd", "EMiL", 4,
	  "it is uncompressed LiME but named a.zstd: rename it without .zstd" },
	{ "hint/other bytes named .zst", "a.zst", "\x01\x02\x03\x04", 4,
	  "it is named a.zst but is not zstd-compressed (it starts with 01 02 03 04, not 28 b5 2f fd)" },
	{ "hint/gzip named .zst", "a.lime.zst", "\x1f\x8b\x08\x00", 4,
	  "it is gzip-compressed, and only zstd or uncompressed images are read: decompress it "
	  "(gzip -dc), or recompress it with zstd and name it .lime.zst" },
	{ "hint/xz on stdin", "-", "\xfd" "7zXZ\0", 6, "it is xz-compressed" },
	{ "hint/zstd on stdin", "-", "\x28\xb5\x2f\xfd", 4, NULL },
	{ "hint/raw named .raw", "a.raw", "\x00\x00\x00\x00", 4, NULL },
	{ "hint/empty file named .zst", "a.zst", "", 0, NULL },
};

static void test_hint(void **state)
{
	const struct hint_case *c = *state;
	struct image_reader r = { .path = c->path, .is_stdin = !strcmp(c->path, "-") };
	char buf[IMAGE_HINT_MAX];
	const char *hint;

	memcpy(r.head, c->head, c->head_len);
	r.head_len = c->head_len;
	r.compressed = image_is_zstd(r.head, r.head_len);
	hint = image_reader_hint(&r, buf, sizeof(buf));
	if (!c->hint) {
		if (hint)
			fail_msg("unexpected hint: %s", hint);
		return;
	}
	assert_non_null(hint);
	if (strncmp(hint, c->hint, strlen(c->hint)))
		fail_msg("hint %s, expected %s", hint, c->hint);
}

int main(void)
{
	static const struct read_case callback_cases[] = {
		{ "callback/error from plain input", PLAIN, 1000 },
		{ "callback/error from zstd input", ZSTD, 1000 },
	};
	int failed;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	for (size_t i = 0; i < sizeof(read_cases) / sizeof(read_cases[0]); i++)
		add_test(read_cases[i].name, test_read, &read_cases[i]);
	for (size_t i = 0; i < sizeof(zstd_cases) / sizeof(zstd_cases[0]); i++)
		add_test(zstd_cases[i].name, test_zstd_damage, &zstd_cases[i]);
	add_test("input/missing file", test_missing_file, NULL);
	add_test("input/a directory", test_directory, NULL);
	add_test("input/read error", test_read_error, NULL);
	for (size_t i = 0; i < sizeof(callback_cases) / sizeof(callback_cases[0]); i++)
		add_test(callback_cases[i].name, test_callback_error, &callback_cases[i]);
	add_test("run/twice", test_run_twice, NULL);
	add_test("stdin/a file", test_stdin_file, NULL);
	add_test("stdin/a pipe splitting the magic", test_stdin_pipe, NULL);
	for (size_t i = 0; i < sizeof(manifest_cases) / sizeof(manifest_cases[0]); i++)
		add_test(manifest_cases[i].name, test_manifest, &manifest_cases[i]);
	add_test("manifest/uppercase hash, unreadable totals", test_manifest_details, NULL);
	add_test("manifest/in memory, unterminated", test_manifest_in_memory, NULL);
	add_test("manifest/from a JSON tree", test_manifest_from_json, NULL);
	add_test("manifest/missing file", test_manifest_missing, NULL);
	add_test("manifest/writer: source.transport", test_manifest_source_transport, NULL);
	for (size_t i = 0; i < sizeof(hint_cases) / sizeof(hint_cases[0]); i++)
		add_test(hint_cases[i].name, test_hint, &hint_cases[i]);
	failed = _cmocka_run_group_tests("image_reader", tests, test_count, NULL, NULL);
	rmdir(tmpdir);
	return failed;
}
