/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where acquire's image, manifest and bundle go: local files (or stdout),
 * or keys in one S3 bucket, uploaded as they are produced.
 */
#ifndef FORENSICS_AGENT_DESTINATION_H
#define FORENSICS_AGENT_DESTINATION_H

#include "s3opts.h"
#include "base/sink.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

struct destination {
	bool s3;
	char *bucket;
	struct s3_client client;
	bool client_ready;
	struct s3opts *options;
	/* The image's metadata: the common pairs and its size (outlives the sink). */
	struct sigv4_pair image_metadata[S3OPTS_MAX_METADATA + 1];
};

/* The key within the destination bucket for "s3://bucket/key". */
const char *destination_key(const struct destination *d, const char *uri);
/* 1 if the object exists, 0 if not, negative if S3 could not say (why says). */
int destination_object_exists(struct destination *d, const char *key, char *why, size_t whylen);
/*
 * A sink for name: stdout ("-"), a file, or an object in the destination
 * bucket. The image object also gets the metadata pair extra (copied into
 * d, so one object at a time may have one).
 */
int destination_open(struct destination *d, const char *name, uint64_t expected_size,
		     const struct sigv4_pair *extra, struct sink **out);
/* Where an object landed: bucket, key, ETag, version, S3's checksum. */
json_object *destination_location(const struct destination *d, const struct sink *upload);
/* The exit code for a failed write. */
int destination_exit_code(const struct destination *d, int err);
/* The reason a write failed: the uploader's own words when it was S3. */
const char *destination_error(const struct destination *d, const struct sink *out, int err);
/*
 * An upload that failed, ended (aborted within its cleanup time) and looked
 * at: what it left. S3_UPLOAD_UNSETTLED for a file.
 */
enum s3_upload_state destination_settle(const struct destination *d, struct sink *out);
/* What the bucket holds for out once settled, one sentence; "" for a file. */
const char *destination_outcome(const struct destination *d, struct sink *out);

#endif
