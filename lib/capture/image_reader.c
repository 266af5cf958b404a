// SPDX-License-Identifier: GPL-2.0-only
#include "capture/image_reader.h"
#include "capture/lime.h"
#include "base/util.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

/* Large reads: the image is read once, sequentially, often from slow disks. */
#define IMAGE_READ_CHUNK (1u << 20)
/* Hash worker queues: enough to keep SHA-256 beside the decompressor. */
#define HASH_QUEUE_BUFFER (1u << 20)
#define HASH_QUEUE_DEPTH 4

static void set_error(struct image_reader *r, enum image_reader_failure failure,
		      const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_error(struct image_reader *r, enum image_reader_failure failure,
		      const char *fmt, ...)
{
	va_list ap;

	r->failure = failure;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
}

bool image_is_zstd(const unsigned char *buf, size_t len)
{
	uint32_t magic;

	if (len < IMAGE_ZSTD_MAGIC_SIZE)
		return false;
	memcpy(&magic, buf, sizeof(magic));
	magic = le32toh(magic);
	/* 28 B5 2F FD, or a skippable frame, which may lead a zstd stream. */
	return magic == ZSTD_MAGICNUMBER ||
	       (magic & ZSTD_MAGIC_SKIPPABLE_MASK) == ZSTD_MAGIC_SKIPPABLE_START;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

const char *image_other_compressor(const unsigned char *head, size_t len)
{
	static const struct {
		const char *name;
		const char *magic;
		size_t len;
	} known[] = {
		{ "gzip", "\x1f\x8b", 2 },
		{ "xz", "\xfd" "7zXZ\0", 6 },
		{ "bzip2", "BZh", 3 },
		{ "lz4", "\x04\x22\x4d\x18", 4 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (len >= known[i].len && !memcmp(head, known[i].magic, known[i].len))
			return known[i].name;
	return NULL;
}

const char *image_reader_hint(const struct image_reader *r, char *buf, size_t len)
{
	const char *other = image_other_compressor(r->head, r->head_len);
	bool named_zst = !r->is_stdin && (ends_with(r->path, ".zst") || ends_with(r->path, ".zstd"));
	uint32_t magic = 0;

	if (other) {
		snprintf(buf, len, "it is %s-compressed, and only zstd or uncompressed images are read: "
			 "decompress it (%s -dc), or recompress it with zstd and name it .lime.zst",
			 other, other);
		return buf;
	}
	if (r->is_stdin || !r->head_len)
		return NULL;
	if (r->compressed && !named_zst) {
		snprintf(buf, len, "it is zstd-compressed but named %s: rename it %s.zst", r->path,
			 r->path);
		return buf;
	}
	if (r->compressed || !named_zst)
		return NULL;
	if (r->head_len >= sizeof(magic))
		memcpy(&magic, r->head, sizeof(magic));
	if (le32toh(magic) == LIME_MAGIC) {
		snprintf(buf, len, "it is uncompressed LiME but named %s: rename it without .%s", r->path,
			 ends_with(r->path, ".zst") ? "zst" : "zstd");
		return buf;
	}
	snprintf(buf, len, "it is named %s but is not zstd-compressed (it starts with %02x %02x %02x "
		 "%02x, not 28 b5 2f fd)", r->path, r->head[0], r->head_len > 1 ? r->head[1] : 0,
		 r->head_len > 2 ? r->head[2] : 0, r->head_len > 3 ? r->head[3] : 0);
	return buf;
}

int image_reader_open(struct image_reader *r, const char *path)
{
	struct stat st;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->path = path;
	r->is_stdin = !strcmp(path, "-");
	if (r->is_stdin) {
		r->fd = STDIN_FILENO;
	} else {
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0) {
			int err = -errno;

			set_error(r, IMAGE_READER_INPUT, "cannot open: %s", strerror(-err));
			return err;
		}
	}
	if (fstat(r->fd, &st)) {
		int err = -errno;

		set_error(r, IMAGE_READER_INPUT, "cannot stat: %s", strerror(-err));
		return err;
	}
	if (S_ISDIR(st.st_mode)) {
		set_error(r, IMAGE_READER_INPUT, "is a directory");
		return -EISDIR;
	}
	if (S_ISREG(st.st_mode)) {
		r->size_known = true;
		r->file_size = (uint64_t)st.st_size;
	}
	r->in_size = IMAGE_READ_CHUNK;
	r->in = malloc(r->in_size);
	if (!r->in) {
		set_error(r, IMAGE_READER_INTERNAL, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

void image_reader_close(struct image_reader *r)
{
	sink_destroy(r->file_hash);
	sink_destroy(r->data_hash);
	r->file_hash = r->file_hash_inner = NULL;
	r->data_hash = r->data_hash_inner = NULL;
	ZSTD_freeDCtx(r->dctx);
	r->dctx = NULL;
	free(r->in);
	free(r->out);
	r->in = r->out = NULL;
	if (r->fd >= 0 && !r->is_stdin)
		close(r->fd);
	r->fd = -1;
}

/* A SHA-256 sink running in its own thread; *inner is where the digest is read. */
static struct sink *hash_new(struct sink **inner, int *err)
{
	struct sink *sha = sink_sha256_new();

	*inner = NULL;
	if (!sha) {
		*err = -ENOMEM;
		return NULL;
	}
	*inner = sha;
	return sink_async_new(sha, HASH_QUEUE_BUFFER, HASH_QUEUE_DEPTH, err);
}

static ssize_t read_some(struct image_reader *r, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = read(r->fd, buf, len);

		if (n >= 0)
			return n;
		if (errno != EINTR) {
			int err = -errno;

			set_error(r, IMAGE_READER_INPUT, "read failed after %" PRIu64 " bytes: %s",
				  r->file_bytes, strerror(-err));
			return err;
		}
	}
}

static int deliver(struct image_reader *r, image_reader_fn fn, void *ctx, const void *buf,
		   size_t len)
{
	int ret;

	if (r->data_hash) {
		ret = sink_write(r->data_hash, buf, len);
		if (ret) {
			set_error(r, IMAGE_READER_INTERNAL, "hashing failed: %s", strerror(-ret));
			return ret;
		}
	}
	r->data_bytes += len;
	ret = fn ? fn(ctx, buf, len) : 0;
	if (ret)
		r->failure = IMAGE_READER_CALLBACK;
	return ret;
}

static int decompress(struct image_reader *r, image_reader_fn fn, void *ctx, const void *buf,
		      size_t len)
{
	ZSTD_inBuffer in = { buf, len, 0 };

	/*
	 * zstd does not consume a frame's last byte before it has flushed all
	 * of that frame's output, so stopping when the input is used up loses
	 * nothing; a partly flushed frame leaves zstd_hint nonzero.
	 */
	while (in.pos < in.size) {
		ZSTD_outBuffer out = { r->out, r->out_size, 0 };
		size_t hint = ZSTD_decompressStream(r->dctx, &out, &in);
		int ret;

		if (ZSTD_isError(hint)) {
			set_error(r, IMAGE_READER_ZSTD,
				  "malformed zstd stream near compressed byte %" PRIu64 ": %s",
				  r->file_bytes - len + in.pos, ZSTD_getErrorName(hint));
			return -EBADMSG;
		}
		r->zstd_hint = hint;
		if (out.pos) {
			ret = deliver(r, fn, ctx, r->out, out.pos);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int consume(struct image_reader *r, image_reader_fn fn, void *ctx, const void *buf,
		   size_t len)
{
	int ret = sink_write(r->file_hash, buf, len);

	if (ret) {
		set_error(r, IMAGE_READER_INTERNAL, "hashing failed: %s", strerror(-ret));
		return ret;
	}
	r->file_bytes += len;
	if (r->progress)
		r->progress(r->progress_ctx, r->file_bytes, r->size_known ? r->file_size : 0);
	return r->compressed ? decompress(r, fn, ctx, buf, len) : deliver(r, fn, ctx, buf, len);
}

static int start(struct image_reader *r)
{
	int ret = 0;

	r->file_hash = hash_new(&r->file_hash_inner, &ret);
	if (!r->file_hash)
		goto fail;
	if (!r->compressed)
		return 0;
	/* Plain input: the stream is the file, one hash serves both. */
	r->data_hash = hash_new(&r->data_hash_inner, &ret);
	if (!r->data_hash)
		goto fail;
	r->dctx = ZSTD_createDCtx();
	r->out_size = ZSTD_DStreamOutSize();
	r->out = malloc(r->out_size);
	if (!r->dctx || !r->out) {
		ret = -ENOMEM;
		goto fail;
	}
	return 0;
fail:
	set_error(r, IMAGE_READER_INTERNAL, "cannot set up hashing or zstd: %s", strerror(-ret));
	return ret;
}

static int finish_hash(struct image_reader *r, struct sink *hash, struct sink *inner,
		       char out[SHA256_HEX_BYTES])
{
	int ret = sink_finish(hash);

	if (ret) {
		set_error(r, IMAGE_READER_INTERNAL, "hashing failed: %s", strerror(-ret));
		return ret;
	}
	memcpy(out, sink_sha256_hex(inner), SHA256_HEX_BYTES);
	return 0;
}

int image_reader_run(struct image_reader *r, image_reader_fn fn, void *ctx)
{
	size_t fill = 0;
	ssize_t n;
	int ret;

	if (r->file_hash) {
		set_error(r, IMAGE_READER_INTERNAL, "image reader run twice");
		return -EINVAL;
	}
	/* A pipe may deliver less than the magic in one read: gather it first. */
	while (fill < IMAGE_ZSTD_MAGIC_SIZE) {
		n = read_some(r, r->in + fill, r->in_size - fill);
		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		fill += (size_t)n;
	}
	r->head_len = fill < sizeof(r->head) ? fill : sizeof(r->head);
	memcpy(r->head, r->in, r->head_len);
	r->compressed = image_is_zstd(r->in, fill);
	ret = start(r);
	if (ret)
		return ret;
	while (fill) {
		ret = consume(r, fn, ctx, r->in, fill);
		if (ret)
			return ret;
		n = read_some(r, r->in, r->in_size);
		if (n < 0)
			return (int)n;
		fill = (size_t)n;
	}
	if (r->compressed && r->zstd_hint) {
		set_error(r, IMAGE_READER_ZSTD,
			  "truncated zstd stream: input ends inside a frame after %" PRIu64
			  " compressed bytes", r->file_bytes);
		return -EBADMSG;
	}
	ret = finish_hash(r, r->file_hash, r->file_hash_inner, r->file_sha256);
	if (ret)
		return ret;
	if (r->compressed)
		return finish_hash(r, r->data_hash, r->data_hash_inner, r->data_sha256);
	memcpy(r->data_sha256, r->file_sha256, sizeof(r->data_sha256));
	return 0;
}
