/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Sinks: everything the capture produces flows through write callbacks, so
 * hashing, compression, files, pipes and (later) S3 uploads chain without
 * knowing each other:
 *
 *   capture -> tee -+-> async -> sha256 (raw)
 *                   +-> zstd -> tee -+-> sha256 (compressed)
 *                                    +-> file | stdout | s3
 *
 * Every call returns 0 or a negative errno. finish() flushes and makes the
 * output complete (a file sink renames its ".partial" into place only
 * then); destroy() releases resources and, if finish() did not succeed,
 * leaves nothing that looks complete.
 */
#ifndef FORENSICS_SINK_H
#define FORENSICS_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_BYTES 32
#define SHA256_HEX_BYTES (2 * SHA256_DIGEST_BYTES + 1)

struct sink {
	int (*write)(struct sink *s, const void *buf, size_t len);
	/*
	 * Optional: space inside the sink where the caller may produce its next
	 * bytes and then write() them from, sparing a copy. NULL if none.
	 */
	void *(*borrow)(struct sink *s, size_t *len);
	int (*finish)(struct sink *s);
	void (*destroy)(struct sink *s);
	const char *name;      /* for messages: "output", "zstd", ... */
	uint64_t bytes;        /* bytes accepted by write() so far */
};

int sink_write(struct sink *s, const void *buf, size_t len);
/*
 * Up to *len bytes of the sink's own memory to fill and then pass to
 * sink_write() (from its start), or NULL: the caller uses its own buffer.
 */
void *sink_borrow(struct sink *s, size_t *len);
int sink_finish(struct sink *s);
void sink_destroy(struct sink *s);

/* Writes to an fd it does not own (stdout). */
struct sink *sink_fd_new(int fd, const char *name);
/*
 * Writes "<path>.partial" and renames it to path on finish. O_EXCL: an
 * existing file of either name is never overwritten (evidence is not
 * clobbered by a second run).
 */
struct sink *sink_file_new(const char *path, int *err);
/* Forwards to each downstream sink in order; owns them. */
struct sink *sink_tee_new(struct sink **outs, size_t count);
/* Hashes what passes; no downstream. */
struct sink *sink_sha256_new(void);
/* Valid after finish(): lowercase hex digest. */
const char *sink_sha256_hex(const struct sink *s);
/*
 * zstd streaming compression into downstream (owned). threads = 0 compresses
 * in the caller's thread; otherwise zstd's own worker threads.
 */
struct sink *sink_zstd_new(struct sink *downstream, int level, int threads, int *err);
/*
 * With worker threads, zstd's default job is 4 windows (8 MiB at level 3)
 * and it keeps several per worker; smaller jobs keep the footprint small at
 * no measurable cost in ratio.
 */
#define SINK_ZSTD_JOB_SIZE (2u << 20)
/*
 * Runs downstream (owned) in a worker thread fed through a bounded queue of
 * depth buffers of buffer_size bytes, so slow consumers such as hashing run
 * beside the caller instead of in series with it.
 */
struct sink *sink_async_new(struct sink *downstream, size_t buffer_size, unsigned int depth,
			    int *err);

#endif
