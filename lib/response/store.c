// SPDX-License-Identifier: GPL-2.0-only
#include "response/store.h"
#include "aws/endpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_LEAF "record.json"

int record_store_open(struct record_store *st, const char *uri, const char *region,
		      const char *case_id, const char *instance_id, char *why, size_t whylen)
{
	struct aws_credentials_provider *cred = NULL;
	char *bucket = NULL, *prefix = NULL;
	size_t n;
	int ret;

	memset(st, 0, sizeof(*st));
	ret = s3_uri_parse(uri, &bucket, &prefix, why, whylen);
	if (ret)
		return ret;
	n = strlen(prefix);
	if (asprintf(&st->key, "%s%s%s/%s/" RECORD_LEAF, prefix,
		     n && prefix[n - 1] != '/' ? "/" : "", case_id, instance_id) < 0) {
		st->key = NULL;
		ret = -ENOMEM;
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	ret = aws_credentials_provider_new(NULL, &cred, why, whylen);
	if (ret)
		goto out;
	/* Takes cred, also on failure. */
	ret = s3_client_init(&st->s3, region, bucket, false, cred, why, whylen);
	if (!ret)
		st->ready = true;
out:
	free(bucket);
	free(prefix);
	if (ret) {
		free(st->key);
		st->key = NULL;
	}
	return ret;
}

int record_store_parse(const char *body, json_object **record)
{
	*record = body ? json_tokener_parse(body) : NULL;
	if (!*record || !json_object_is_type(*record, json_type_object)) {
		json_object_put(*record);
		*record = NULL;
		return -EBADMSG;
	}
	return 0;
}

int record_store_load(struct record_store *st, json_object **record, char *why, size_t whylen)
{
	struct aws_http_request r = { .method = "GET", .path = st->key };
	struct aws_http_response resp = { .content_length = -1, .body_max = STORE_RECORD_MAX };
	int ret;

	*record = NULL;
	ret = s3_perform(&st->s3, &r, &resp, why, whylen);
	if (ret && resp.status == 404 && resp.error.code &&
	    !strcmp(resp.error.code, "NoSuchKey")) {
		ret = 0;  /* a first run */
	} else if (!ret) {
		ret = resp.body_overflow ? -EBADMSG : record_store_parse(resp.body, record);
		if (ret)
			snprintf(why, whylen, "s3://%s/%s is not a case record", st->s3.bucket,
				 st->key);
	}
	if (!ret && *record) {
		free(st->etag);
		st->etag = resp.etag ? strdup(resp.etag) : NULL;
		if (!st->etag) {
			snprintf(why, whylen, "s3://%s/%s: no ETag in the answer", st->s3.bucket,
				 st->key);
			json_object_put(*record);
			*record = NULL;
			ret = -EBADMSG;
		}
	}
	aws_http_response_reset(&resp);
	return ret;
}

/*
 * A 412 may answer our own write whose first answer was lost and which the
 * retry then found changed: the record is ours when it holds what we sent.
 */
static bool stored_is(struct record_store *st, json_object *record)
{
	char *old = st->etag, why[256];
	json_object *stored = NULL;
	bool same;

	st->etag = NULL;
	same = !record_store_load(st, &stored, why, sizeof(why)) && stored &&
	       json_object_equal(stored, record);
	json_object_put(stored);
	if (!same) {
		free(st->etag);
		st->etag = old;
	} else {
		free(old);
	}
	return same;
}

int record_store_save(struct record_store *st, json_object *record, char *why, size_t whylen)
{
	struct aws_http_request r = { .method = "PUT", .path = st->key };
	struct aws_http_response resp = { .content_length = -1 };
	const char *body = json_object_to_json_string_ext(record, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
	int ret;

	if (st->lost) {
		snprintf(why, whylen, "another run holds the case");
		return -EBUSY;
	}
	aws_http_request_add_header(&r, "content-type", "application/json");
	aws_http_request_add_header(&r, "x-amz-acl", "bucket-owner-full-control");
	if (st->etag)
		aws_http_request_add_header(&r, "if-match", st->etag);
	else
		aws_http_request_add_header(&r, "if-none-match", "*");
	aws_http_request_set_body(&r, body, strlen(body));
	ret = s3_perform(&st->s3, &r, &resp, why, whylen);
	if (!ret && resp.etag) {
		free(st->etag);
		st->etag = strdup(resp.etag);
		if (!st->etag)
			ret = -ENOMEM;
	} else if (!ret) {
		snprintf(why, whylen, "no ETag in the answer");
		ret = -EBADMSG;
	} else if (resp.status == 412 && !stored_is(st, record)) {
		snprintf(why, whylen, "another run holds the case: the record changed since this "
			 "run %s it", st->etag ? "read or wrote" : "found none");
		st->lost = true;
		ret = -EBUSY;
	} else if (resp.status == 412) {
		ret = 0;
	}
	aws_http_response_reset(&resp);
	return ret;
}

void record_store_close(struct record_store *st)
{
	if (st->ready)
		s3_client_free(&st->s3);
	free(st->key);
	free(st->etag);
	memset(st, 0, sizeof(*st));
}
