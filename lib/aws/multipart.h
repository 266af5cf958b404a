/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A sink that streams into one S3 object: multipart upload, parts sent in
 * parallel over libcurl's multi interface from an uploader thread, each with
 * its SHA-256 (x-amz-checksum-sha256, and as the signed payload hash, so S3
 * itself rejects a corrupted part). Objects smaller than one part go up in a
 * single PutObject. Anything that stops the upload before finish() aborts
 * it, so no half object and no orphaned parts remain.
 *
 * Memory: part_size x (parts_in_flight + 1), whatever the object's size.
 */
#ifndef FORENSICS_MULTIPART_H
#define FORENSICS_MULTIPART_H

#include "base/sink.h"
#include "aws/s3.h"
#include "aws/ticket.h"

#define S3_MIN_PART_SIZE (5ull << 20)
#define S3_MAX_PART_SIZE (5ull << 30)
#define S3_MAX_PARTS 10000u
#define S3_DEFAULT_PART_SIZE (8ull << 20)
#define S3_DEFAULT_PARTS_IN_FLIGHT 4u
/* Parts per step of the growing schedule (unknown size): 10 steps fit. */
#define S3_PARTS_PER_STEP 1000u

struct s3_upload_options {
	size_t part_size;              /* first part size; 0: S3_DEFAULT_PART_SIZE */
	unsigned int parts_in_flight;  /* 0: S3_DEFAULT_PARTS_IN_FLIGHT */
	uint64_t expected_size;        /* upper bound if known (sizes the parts); 0: unknown */
	struct s3_object_options object;
	/*
	 * Presigned mode: the upload exists and its URLs are given. Parts then
	 * carry Content-MD5 (S3 checks it; a checksum header would have had to
	 * be signed in advance), and object headers were set by the creator.
	 */
	const struct s3_ticket *ticket;
};

struct s3_upload_result {
	char *key;
	char *upload_id;         /* NULL for a single PutObject */
	char *etag;
	char *version_id;
	char *checksum_sha256;   /* S3's, base64 (composite "-N" for multipart) */
	unsigned int parts;
	uint64_t bytes;
};

/*
 * Size of part n (1-based). With a known size, one size that keeps the
 * object within S3_MAX_PARTS; unknown, it doubles every S3_PARTS_PER_STEP
 * parts from the first, up to 5 GiB.
 */
uint64_t s3_part_size(uint64_t first, uint64_t expected_size, unsigned int part_number);
/* The largest object the schedule can hold. */
uint64_t s3_schedule_capacity(uint64_t first, uint64_t expected_size);

/*
 * CreateMultipartUpload with the object's headers; *upload_id malloc'd.
 * *resent (may be NULL) tells whether the request went out more than once:
 * an attempt whose answer was lost may have created an upload of its own.
 */
int s3_multipart_create(struct s3_client *c, const char *key,
			const struct s3_object_options *object, bool sha256_parts, char **upload_id,
			bool *resent, char *why, size_t whylen);
/*
 * Abort every multipart upload of exactly this key but keep_upload_id (may
 * be NULL): ListMultipartUploads (s3:ListBucketMultipartUploads) then
 * AbortMultipartUpload. The number aborted, or a negative errno (-EACCES
 * when listing is not allowed).
 */
int s3_multipart_sweep(struct s3_client *c, const char *key, const char *keep_upload_id,
		       char *why, size_t whylen);

/* c is borrowed and must outlive the sink. */
struct sink *s3_upload_sink_new(struct s3_client *c, const char *key,
				const struct s3_upload_options *options, int *err);
/* After a successful finish(). */
const struct s3_upload_result *s3_upload_sink_result(const struct sink *s);
/* Why the upload failed (empty if it did not). */
const char *s3_upload_sink_error(const struct sink *s);

#endif
