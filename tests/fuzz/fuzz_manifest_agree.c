// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer: the controller's two views of one acquisition: the manifest the
 * agent logged (a JSON line in SSM's output, which the instance writes) and
 * the manifest object in the bucket, parsed and held against each other.
 * The input is the output text, a NUL, then the object's body; without a
 * NUL both are the whole input.
 */
#include "response/collect.h"
#include "base/jsonutil.h"

#include <errno.h>
#include <string.h>
#include <stdint.h>

#define BUCKET "evidence"
#define PREFIX "case-1/i-0123456789abcdef0/"
#define KEY PREFIX "i-0123456789abcdef0.lime.zst" MANIFEST_SUFFIX

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t output_len = nul ? (size_t)(nul - data) : size;
	char *output = strndup((const char *)data, output_len);
	char *body = nul ? strndup((const char *)nul + 1, size - output_len - 1) :
		     strndup((const char *)data, size);
	json_object *logged, *stored = NULL, *summary = NULL;
	char why[512];

	if (!output || !body)
		goto out;
	logged = manifest_from_output(output);
	if (logged) {
		json_object *s = manifest_summary(logged, NULL);

		/* A summary agrees with itself. */
		if (manifest_compare(s, s, why, sizeof(why)))
			abort();
		json_object_put(s);
	}
	if (!manifest_parse(body, &stored)) {
		int ret = manifest_agree(stored, KEY, logged, BUCKET, PREFIX, 1, &summary, why,
					 sizeof(why));
		const char *etag = json_path_string(summary, "image/etag");

		if (!summary)
			abort();
		if (!ret && (strcmp(json_path_string(summary, "image/bucket"), BUCKET) ||
			     strncmp(json_path_string(summary, "image/key"), PREFIX, strlen(PREFIX))))
			abort();
		if (etag && !manifest_etag_equal(etag, etag))
			abort();
		(void)json_object_to_json_string(summary);
		json_object_put(summary);
		json_object_put(stored);
	}
	json_object_put(logged);
out:
	free(output);
	free(body);
	return 0;
}
