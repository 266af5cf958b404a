/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading a captured image back, for verify and convert.
 *
 * image_reader streams a file (or stdin, "-") once: it detects zstd by the
 * frame magic, decompresses in a loop and hands the decompressed bytes to a
 * callback, so an image of any size is checked or converted in bounded
 * memory. On the way it hashes the file bytes as read (the compressed hash
 * of a .zst) and the decompressed stream (the LiME hash), each in a worker
 * thread beside the decompressor.
 *
 * The manifest that describes an image is read with capture/manifest.h.
 */
#ifndef FORENSICS_CAPTURE_IMAGE_READER_H
#define FORENSICS_CAPTURE_IMAGE_READER_H

#include "base/sink.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMAGE_ZSTD_MAGIC_SIZE 4
#define IMAGE_ERROR_MAX 256
#define IMAGE_HEAD_SIZE 8
#define IMAGE_HINT_MAX 320

/* Receives decompressed bytes; any nonzero return stops the run and is returned. */
typedef int (*image_reader_fn)(void *ctx, const void *buf, size_t len);

enum image_reader_failure {
	IMAGE_READER_OK,
	IMAGE_READER_INPUT,     /* cannot open or read the input */
	IMAGE_READER_ZSTD,      /* corrupt or truncated zstd stream */
	IMAGE_READER_CALLBACK,  /* the callback returned an error (its own message) */
	IMAGE_READER_INTERNAL,  /* out of memory, hashing failed */
};

struct image_reader {
	/* Public, valid after image_reader_run() unless noted. */
	const char *path;         /* as given; "-" is stdin */
	bool is_stdin;
	bool size_known;          /* valid after open: a regular file */
	uint64_t file_size;       /* valid after open when size_known */
	bool compressed;          /* the input starts with a zstd frame */
	uint64_t file_bytes;      /* bytes read from the input */
	uint64_t data_bytes;      /* bytes handed to the callback */
	char file_sha256[SHA256_HEX_BYTES];  /* of the bytes as read */
	char data_sha256[SHA256_HEX_BYTES];  /* of the decompressed stream */
	enum image_reader_failure failure;
	char error[IMAGE_ERROR_MAX];  /* why, for failures other than CALLBACK */
	unsigned char head[IMAGE_HEAD_SIZE];  /* the input's first bytes, as read */
	size_t head_len;

	/* Optional, set before run: called after every read. total 0 = unknown. */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;

	/* Private. */
	int fd;
	unsigned char *in;
	size_t in_size;
	unsigned char *out;
	size_t out_size;
	void *dctx;               /* ZSTD_DCtx */
	size_t zstd_hint;         /* last ZSTD_decompressStream() result; 0 = frame complete */
	struct sink *file_hash, *file_hash_inner;
	struct sink *data_hash, *data_hash_inner;
};

/* 0 or negative errno (r->error says why). Call image_reader_close() either way. */
int image_reader_open(struct image_reader *r, const char *path);
/*
 * Reads the input to its end. 0, or a negative errno with r->failure saying
 * whose error it is: -EBADMSG for zstd, the callback's own value for
 * IMAGE_READER_CALLBACK. Runs once per open.
 */
int image_reader_run(struct image_reader *r, image_reader_fn fn, void *ctx);
void image_reader_close(struct image_reader *r);

/* True if buf (at least IMAGE_ZSTD_MAGIC_SIZE bytes) starts a zstd frame. */
bool image_is_zstd(const unsigned char *buf, size_t len);
/* "gzip", "xz", "bzip2" or "lz4" if buf starts with that compressor's magic, else NULL. */
const char *image_other_compressor(const unsigned char *buf, size_t len);
/*
 * After a run (or a failed one): when the input's name and first bytes
 * disagree about compression, or the bytes are another compressor's, what
 * was found and what to do ("it is zstd-compressed but named x.lime: rename
 * it x.lime.zst"), in buf; NULL when they agree. stdin has no name to check.
 */
const char *image_reader_hint(const struct image_reader *r, char *buf, size_t len);

#endif
