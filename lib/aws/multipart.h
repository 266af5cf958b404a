/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A sink that streams into one S3 object: multipart upload, parts sent in
 * parallel over libcurl's multi interface from an uploader thread, each with
 * its SHA-256 (x-amz-checksum-sha256, and as the signed payload hash, so S3
 * itself rejects a corrupted part). Objects smaller than one part go up in a
 * single PutObject. Evidence is write-once: both carry If-None-Match: *
 * unless told to overwrite, so an object already at the key is never
 * replaced. Anything that stops the upload before finish() aborts it, and
 * s3_upload_sink_settle() says what that left in the bucket: a reply lost
 * on the way is settled by looking (HEAD with the checksum) before anything
 * is claimed.
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
/* Cleanup (abort, looking at the key) has its own time, and less after a signal. */
#define S3_CLEANUP_BUDGET_MS 60000L
#define S3_CLEANUP_AFTER_STOP_MS 5000L

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
	/* Replace an object already at the key; false: -EEXIST (write-once evidence). */
	bool overwrite;
};

/* What an upload left at its key, once settled. */
enum s3_upload_state {
	S3_UPLOAD_UNSETTLED,
	S3_UPLOAD_COMPLETE,      /* the object is there, ours: complete and correct */
	S3_UPLOAD_ABSENT,        /* nothing of ours: no object, the multipart upload aborted */
	S3_UPLOAD_IN_PROGRESS,   /* the multipart upload could not be aborted: it is left */
	S3_UPLOAD_EXISTS,        /* another object was at the key and is left as it was */
	S3_UPLOAD_UNKNOWN,       /* S3 could not be asked whether the object is there */
};

struct s3_upload_result {
	char *key;
	char *upload_id;         /* NULL for a single PutObject */
	char *etag;
	char *version_id;
	char *checksum_sha256;   /* S3's, base64 (composite "-N" for multipart) */
	unsigned int parts;
	uint64_t bytes;
	/* A CreateMultipartUpload got no answer: it may yet start an empty upload. */
	bool stray_possible;
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
 * *resent (may be NULL) tells whether the request went out more than once,
 * *lost (may be NULL) whether an attempt got no answer (it may arrive later):
 * an attempt whose answer was lost may have created an upload of its own.
 */
int s3_multipart_create(struct s3_client *c, const char *key,
			const struct s3_object_options *object, bool sha256_parts, char **upload_id,
			bool *resent, bool *lost, char *why, size_t whylen);
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
/* Why the upload failed (empty if it did not); -EEXIST: an object was at the key. */
const char *s3_upload_sink_error(const struct sink *s);
/*
 * Ends an upload that did not finish (its parts stopped, the multipart
 * upload aborted, the key looked at where a reply was lost) within
 * S3_CLEANUP_BUDGET_MS, S3_CLEANUP_AFTER_STOP_MS once the client's stop is
 * set, and says what is in the bucket. After a successful finish():
 * S3_UPLOAD_COMPLETE. Once; later calls (and destroy) return the same.
 */
enum s3_upload_state s3_upload_sink_settle(struct sink *s);
/* One sentence on what s3_upload_sink_settle() found, naming the key and any UploadId. */
const char *s3_upload_sink_outcome(const struct sink *s);

#endif
