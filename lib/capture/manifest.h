/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The manifest: a JSON record written beside every image that says what was
 * captured, from which machine and boot, how, and with which hashes.
 * Schema: docs/manifest.md. Addresses are "0x..." strings (JSON numbers lose
 * precision past 2^53); byte counts are integers.
 *
 * Both halves of the schema live here: the pieces acquire writes, and the
 * one validating parser every reader uses (verify, convert, and the
 * controller's check of the manifest an agent left in the bucket).
 */
#ifndef FORENSICS_CAPTURE_MANIFEST_H
#define FORENSICS_CAPTURE_MANIFEST_H

#include "capture/capture.h"
#include "capture/iomem.h"
#include "capture/kptr_restrict.h"
#include "capture/range.h"
#include "capture/source.h"
#include "base/sink.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MANIFEST_SCHEMA "forensics-agent/manifest/v1"
#define MANIFEST_SUFFIX ".manifest.json"
/* Manifests hold a few thousand ranges at most; refuse absurd files outright. */
#define MANIFEST_MAX_BYTES (64u << 20)

/* ---- writing ---- */

json_object *manifest_address(uint64_t address);
json_object *manifest_ranges(const struct range_list *ranges);
json_object *manifest_iomem(const struct iomem_table *table);
json_object *manifest_source(const struct mem_source *src, const struct source_selection *sel);
json_object *manifest_unreadable(const struct capture_result *result);
/*
 * {"found": 2, "lowered_to": 1, "restored": true}: what was done to
 * kptr_restrict for the read of kallsyms ("found" null if unreadable;
 * "lower_failed" with the error instead of "lowered_to" if it could not be
 * lowered; neither when it was left as found).
 */
json_object *manifest_kptr_restrict(const struct kptr_restrict_step *step);
/* Pretty JSON into out, then finish it (a file sink renames its ".partial"). */
int manifest_write(json_object *manifest, struct sink *out);

/* ---- reading ---- */

struct image_manifest {
	char *image_path;                /* image.path, NULL if absent */
	bool compressed;                 /* image.compression == "zstd" */
	struct range_list ranges;        /* image.ranges, ascending, disjoint */
	uint64_t uncompressed_bytes;
	bool has_compressed_bytes;
	uint64_t compressed_bytes;
	char sha256_uncompressed[SHA256_HEX_BYTES];   /* lowercase */
	bool has_sha256_compressed;
	char sha256_compressed[SHA256_HEX_BYTES];     /* lowercase */
	bool has_ram_bytes;
	uint64_t ram_bytes;              /* image.ram_bytes */
	size_t unreadable_count;
	uint64_t unreadable_bytes;
	char *source_name;               /* source.name, NULL if absent */
	/* image.s3, where an S3 capture landed: bucket and key both set, or both NULL. */
	char *s3_bucket;
	char *s3_key;
	char *s3_etag;                   /* NULL if null */
	char *s3_version_id;             /* NULL if null (an unversioned bucket) */
};

/*
 * 0; a negative errno if the file cannot be read ("cannot read manifest:
 * ..." in err); -EBADMSG if it is not a well-formed v1 manifest (err says
 * what is wrong, for the caller to prefix).
 */
int image_manifest_load(const char *path, struct image_manifest *m, char *err, size_t errlen);
/* The same checks on len bytes already in memory (no NUL needed after them): 0 or -EBADMSG. */
int image_manifest_parse(const char *text, size_t len, struct image_manifest *m, char *err,
			 size_t errlen);
/*
 * The same checks on a manifest already parsed as JSON (one embedded in a
 * log line): 0 or -EBADMSG. root stays the caller's.
 */
int image_manifest_from_json(json_object *root, struct image_manifest *m, char *err,
			     size_t errlen);
void image_manifest_free(struct image_manifest *m);

#endif
