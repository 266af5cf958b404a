// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer: the controller's two views of one acquisition: the manifest the
 * agent logged (a JSON line in SSM's output, which the instance writes) and
 * the manifest object in the bucket. Both go through the one validating
 * parser, the object's as text and the logged one as a JSON tree; checked:
 * the two ways in accept the same manifests and read them alike, the
 * summary the controller records says what the parser read, and an agreed
 * summary names an image inside the case's prefix.
 * The input is the output text, a NUL, then the object's body; without a
 * NUL both are the whole input.
 */
#include "response/collect.h"
#include "base/jsonutil.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BUCKET "evidence"
#define PREFIX "case-1/i-0123456789abcdef0/"
#define KEY PREFIX "i-0123456789abcdef0.lime.zst" MANIFEST_SUFFIX

static bool same_string(const char *summary_value, const char *read)
{
	if (!summary_value || !read)
		return !summary_value && !read;
	return !strcmp(summary_value, read);
}

/* The record's summary holds exactly what the parser read. */
static void check_summary(json_object *s, const struct image_manifest *m)
{
	json_object *ram = json_path(s, "ram_bytes");

	if (!same_string(json_path_string(s, "image/bucket"), m->s3_bucket) ||
	    !same_string(json_path_string(s, "image/key"), m->s3_key) ||
	    !same_string(json_path_string(s, "image/etag"), m->s3_etag) ||
	    !same_string(json_path_string(s, "image/version_id"), m->s3_version_id) ||
	    !same_string(json_path_string(s, "source"), m->source_name) ||
	    !same_string(json_path_string(s, "sha256_uncompressed"), m->sha256_uncompressed) ||
	    !same_string(json_path_string(s, "sha256_compressed"),
			 m->has_sha256_compressed ? m->sha256_compressed : NULL))
		abort();
	if (m->has_ram_bytes ? !ram || json_object_get_uint64(ram) != m->ram_bytes : !!ram)
		abort();
}

/* Text and tree: a manifest the text parser accepts reads the same as its JSON tree. */
static void check_tree_agrees(const char *body, const struct image_manifest *m)
{
	json_object *root = json_tokener_parse(body), *a, *b;
	struct image_manifest t;
	char err[256], why[512];

	if (image_manifest_from_json(root, &t, err, sizeof(err)))
		abort();
	a = manifest_summary(m, KEY);
	b = manifest_summary(&t, KEY);
	if (manifest_compare(a, b, why, sizeof(why)) || t.ranges.count != m->ranges.count ||
	    t.uncompressed_bytes != m->uncompressed_bytes || t.compressed != m->compressed)
		abort();
	json_object_put(a);
	json_object_put(b);
	image_manifest_free(&t);
	json_object_put(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t output_len = nul ? (size_t)(nul - data) : size;
	size_t body_len = nul ? size - output_len - 1 : size;
	char *output = strndup((const char *)data, output_len);
	char *body = strndup(nul ? (const char *)nul + 1 : (const char *)data, body_len);
	struct image_manifest logged, stored;
	bool have_logged = false;
	json_object *logged_json = NULL, *summary = NULL;
	char err[256], why[512];

	if (!output || !body)
		goto out;
	logged_json = manifest_from_output(output);
	if (logged_json && !image_manifest_from_json(logged_json, &logged, err, sizeof(err))) {
		json_object *s = manifest_summary(&logged, NULL);

		have_logged = true;
		check_summary(s, &logged);
		/* A summary agrees with itself. */
		if (manifest_compare(s, s, why, sizeof(why)))
			abort();
		json_object_put(s);
	}
	/* strndup stops at a NUL: only a body without one is the whole object. */
	if (strlen(body) == body_len &&
	    !image_manifest_parse(body, body_len, &stored, err, sizeof(err))) {
		int ret;
		const char *etag;

		check_tree_agrees(body, &stored);
		ret = manifest_agree(&stored, KEY, have_logged ? &logged : NULL, BUCKET, PREFIX, 1,
				     &summary, why, sizeof(why));
		if (!summary)
			abort();
		if (!ret && (!stored.s3_bucket || strcmp(stored.s3_bucket, BUCKET) ||
			     strncmp(stored.s3_key, PREFIX, strlen(PREFIX))))
			abort();
		/* Agreed: what is recorded is what was read (the logged one preferred). */
		if (!ret)
			check_summary(summary, have_logged ? &logged : &stored);
		etag = json_path_string(summary, "image/etag");
		if (etag && !manifest_etag_equal(etag, etag))
			abort();
		(void)json_object_to_json_string(summary);
		json_object_put(summary);
		image_manifest_free(&stored);
	}
	if (have_logged)
		image_manifest_free(&logged);
	json_object_put(logged_json);
out:
	free(output);
	free(body);
	return 0;
}
