// SPDX-License-Identifier: GPL-2.0-only
#include "aws/ticket.h"
#include "base/jsonutil.h"
#include "aws/multipart.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int take_string(json_object *root, const char *name, char **out, char *why,
		       size_t whylen)
{
	int ret = json_dup_string(root, name, false, out);

	if (ret == -ENOENT) {
		snprintf(why, whylen, "upload ticket: \"%s\" missing or not a string", name);
		return -EBADMSG;
	}
	return ret;
}

static bool looks_like_url(const char *s)
{
	return !strncmp(s, "https://", 8) || !strncmp(s, "http://", 7);
}

int s3_ticket_parse(const char *json, size_t len, struct s3_ticket *t, char *why, size_t whylen)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *root = NULL, *parts, *size;
	int ret = -EBADMSG;

	memset(t, 0, sizeof(*t));
	if (!tok)
		return -ENOMEM;
	if (len > S3_TICKET_MAX_BYTES || len > INT32_MAX) {
		snprintf(why, whylen, "upload ticket: larger than %u bytes", S3_TICKET_MAX_BYTES);
		goto out;
	}
	root = json_tokener_parse_ex(tok, json, (int)len);
	if (!root || !json_object_is_type(root, json_type_object)) {
		snprintf(why, whylen, "upload ticket: not a JSON object");
		goto out;
	}
	if ((ret = take_string(root, "bucket", &t->bucket, why, whylen)) ||
	    (ret = take_string(root, "key", &t->key, why, whylen)) ||
	    (ret = take_string(root, "upload_id", &t->upload_id, why, whylen)) ||
	    (ret = take_string(root, "complete", &t->complete, why, whylen)) ||
	    (ret = take_string(root, "abort", &t->abort, why, whylen)))
		goto out;
	ret = -EBADMSG;
	if (!looks_like_url(t->complete) || !looks_like_url(t->abort)) {
		snprintf(why, whylen, "upload ticket: complete/abort are not http(s) URLs");
		goto out;
	}
	if (!json_object_object_get_ex(root, "part_size", &size) ||
	    !json_object_is_type(size, json_type_int) ||
	    json_object_get_int64(size) < (int64_t)S3_MIN_PART_SIZE ||
	    json_object_get_int64(size) > (int64_t)S3_MAX_PART_SIZE) {
		snprintf(why, whylen, "upload ticket: part_size missing or outside 5 MiB..5 GiB");
		goto out;
	}
	t->part_size = (uint64_t)json_object_get_int64(size);
	if (!json_object_object_get_ex(root, "parts", &parts) ||
	    !json_object_is_type(parts, json_type_array) || !json_object_array_length(parts) ||
	    json_object_array_length(parts) > S3_MAX_PARTS) {
		snprintf(why, whylen, "upload ticket: parts must list 1..10000 URLs");
		goto out;
	}
	t->part_count = (unsigned int)json_object_array_length(parts);
	t->parts = calloc(t->part_count, sizeof(*t->parts));
	if (!t->parts) {
		ret = -ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; i < t->part_count; i++) {
		json_object *u = json_object_array_get_idx(parts, i);

		if (!json_object_is_type(u, json_type_string) ||
		    !looks_like_url(json_object_get_string(u))) {
			snprintf(why, whylen, "upload ticket: part %u is not an http(s) URL", i + 1);
			goto out;
		}
		t->parts[i] = strdup(json_object_get_string(u));
		if (!t->parts[i]) {
			ret = -ENOMEM;
			goto out;
		}
	}
	ret = 0;
out:
	json_object_put(root);
	json_tokener_free(tok);
	if (ret)
		s3_ticket_free(t);
	return ret;
}

void s3_ticket_free(struct s3_ticket *t)
{
	for (unsigned int i = 0; t->parts && i < t->part_count; i++)
		free(t->parts[i]);
	free(t->parts);
	free(t->bucket);
	free(t->key);
	free(t->upload_id);
	free(t->complete);
	free(t->abort);
	memset(t, 0, sizeof(*t));
}
