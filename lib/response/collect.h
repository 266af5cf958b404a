/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The agent's manifest after an acquisition through SSM: the
 * `*.manifest.json` object found under the case/instance prefix the agent
 * was told to write to (ListObjectsV2, a bounded GET), read with the
 * capture library's validating parser, cross-checked with the manifest the
 * agent logged last (its JSON log line with event "manifest", when SSM's
 * output holds it), and the image object itself (HEAD, same ETag). What the
 * record keeps: the manifest's key, the image's bucket/key/etag/version_id,
 * both digests, the RAM size, the source, and whether the image is there as
 * the manifest says.
 */
#ifndef FORENSICS_RESPONSE_COLLECT_H
#define FORENSICS_RESPONSE_COLLECT_H

#include "aws/s3.h"
#include "capture/manifest.h"

#include <json-c/json.h>
#include <stddef.h>

/* A manifest object is a few KiB; a bounded GET keeps a planted one from costing more. */
#define COLLECT_MANIFEST_MAX (1u << 20)
/* More objects than this under one case/instance prefix is not an agent's doing. */
#define COLLECT_LIST_MAX 10000

/*
 * The manifest of the last line of text that is a JSON object with event
 * "manifest" and a "manifest" object (the agent's --log-format json), or
 * NULL. A new reference.
 */
json_object *manifest_from_output(const char *text);
/*
 * What the record keeps of a manifest, as a new object: key (the
 * manifest's own), image {bucket, key, etag, version_id},
 * sha256_uncompressed, sha256_compressed, ram_bytes, source.
 */
json_object *manifest_summary(const struct image_manifest *m, const char *manifest_key);
/*
 * Two summaries (image, digests, RAM size) the same? 0, else -EBADMSG
 * with the first difference in why.
 */
int manifest_compare(json_object *a, json_object *b, char *why, size_t whylen);
/*
 * The summary of stored, the manifest object at key (one of found under
 * bucket/prefix), agreed with logged (may be NULL) and naming an image
 * under bucket/prefix: into *summary (a new object, also on a mismatch).
 * 0, or -EBADMSG with why.
 */
int manifest_agree(const struct image_manifest *stored, const char *key,
		   const struct image_manifest *logged, const char *bucket, const char *prefix,
		   size_t found, json_object **summary, char *why, size_t whylen);
/* ETags equal, quotes aside. */
int manifest_etag_equal(const char *a, const char *b);
/*
 * Collect the manifest under bucket/prefix with c: into *summary (a new
 * object, also on most failures, with what was found), cross-checked with
 * logged (may be NULL; manifest_from_output's). 0, -ENOENT (no manifest, no
 * image), -EBADMSG (either is not a valid manifest, a mismatch), or the S3
 * error, with why.
 */
int manifest_collect(struct s3_client *c, const char *bucket, const char *prefix,
		     json_object *logged, json_object **summary, char *why, size_t whylen);

#endif
