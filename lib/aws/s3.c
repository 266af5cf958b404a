// SPDX-License-Identifier: GPL-2.0-only
#include "aws/s3.h"
#include "aws/endpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S3_SERVICE "s3"

static int client_init(struct s3_client *c, const char *region,
		       struct aws_credentials_provider *credentials)
{
	int ret;

	memset(c, 0, sizeof(*c));
	ret = aws_http_client_init(&c->http, region, S3_SERVICE, credentials);
	c->http.s3_rules = true;
	c->http.classify = s3_classify;
	return ret;
}

int s3_client_init(struct s3_client *c, const char *region, const char *bucket, bool path_style,
		   struct aws_credentials_provider *credentials, char *why, size_t whylen)
{
	/* Owned from here, also on failure. */
	int ret = client_init(c, region, credentials);

	c->http.credentials = credentials;
	c->bucket = strdup(bucket);
	if (ret || !c->bucket) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = s3_endpoint_resolve(region, bucket, path_style, &c->http.endpoint, why, whylen);
	if (ret)
		goto fail;
	return 0;
fail:
	s3_client_free(c);
	return ret;
}

void s3_client_init_presigned(struct s3_client *c)
{
	client_init(c, NULL, NULL);
}

void s3_client_free(struct s3_client *c)
{
	aws_credentials_provider_free(c->http.credentials);
	aws_http_client_free(&c->http);
	free(c->bucket);
	memset(c, 0, sizeof(*c));
}

void s3_reason_set(char *why, size_t whylen, const char *what, const char *detail)
{
	why[0] = '\0';
	strncat(why, what, whylen - 1);
	strncat(why, ": ", whylen - 1 - strlen(why));
	strncat(why, detail, whylen - 1 - strlen(why));
}

int s3_request_add_object_headers(struct aws_http_request *r, const struct s3_object_options *o,
				  char *storage, size_t storage_len)
{
	int ret = 0;

	if (o->acl)
		ret = aws_http_request_add_header(r, "x-amz-acl", o->acl);
	if (!ret && o->sse)
		ret = aws_http_request_add_header(r, "x-amz-server-side-encryption", o->sse);
	if (!ret && o->sse_kms_key_id)
		ret = aws_http_request_add_header(r, "x-amz-server-side-encryption-aws-kms-key-id",
						  o->sse_kms_key_id);
	if (!ret && o->lock_mode)
		ret = aws_http_request_add_header(r, "x-amz-object-lock-mode", o->lock_mode);
	if (!ret && o->lock_retain_until)
		ret = aws_http_request_add_header(r, "x-amz-object-lock-retain-until-date",
						  o->lock_retain_until);
	if (!ret && o->content_type)
		ret = aws_http_request_add_header(r, "content-type", o->content_type);
	/* Metadata names become "x-amz-meta-<name>", laid out in storage. */
	for (size_t i = 0; !ret && i < o->metadata_count; i++) {
		int n = snprintf(storage, storage_len, "x-amz-meta-%s", o->metadata[i].name);

		if (n < 0 || (size_t)n >= storage_len)
			return -E2BIG;
		ret = aws_http_request_add_header(r, storage, o->metadata[i].value);
		storage += n + 1;
		storage_len -= (size_t)n + 1;
	}
	return ret;
}

int s3_response_xml(const struct aws_http_response *resp, struct s3xml *out)
{
	if (!resp->body_len || resp->body_overflow) {
		memset(out, 0, sizeof(*out));
		return -EBADMSG;
	}
	return s3xml_parse(resp->body, resp->body_len, out);
}

int s3_perform_list(struct s3_client *c, const struct aws_http_request *r, const char *api,
		    const char *root, struct s3xml_list *out, char *why, size_t whylen)
{
	struct aws_http_response resp = { 0 };
	int ret = s3_perform(c, r, &resp, why, whylen);

	if (!ret) {
		ret = resp.body && !resp.body_overflow ?
		      s3xml_parse_list(resp.body, resp.body_len, out) : -EBADMSG;
		if (!ret && strcmp(out->root, root)) {
			s3xml_list_free(out);
			ret = -EBADMSG;
		}
		if (ret)
			snprintf(why, whylen, "%s: not a %s", api, root);
	}
	aws_http_response_reset(&resp);
	return ret;
}

/*
 * An error answer's fields into resp->error. An <Error> body counts even
 * with a 2xx status: CompleteMultipartUpload may answer 200 and fail.
 * True when the answer is an error.
 */
static bool read_error(struct aws_http_response *resp)
{
	bool failed = resp->status < 200 || resp->status >= 300;
	struct s3xml x;

	if (s3_response_xml(resp, &x))
		return failed;
	failed |= s3xml_is_error(&x);
	if (failed)
		aws_http_error_set(resp, x.code, x.message, x.request_id, x.server_time);
	s3xml_free(&x);
	return failed;
}

static bool code_is(const char *code, const char *want)
{
	return !strcmp(code, want);
}

enum aws_http_verdict s3_classify(struct aws_http_client *c, struct aws_http_response *resp,
				  char *why, size_t whylen)
{
	const char *code, *message;
	bool fatal;

	if (aws_http_transport_failed(c, resp, &fatal, why, whylen))
		return fatal ? AWS_HTTP_FATAL : AWS_HTTP_RETRY;
	if (!read_error(resp))
		return AWS_HTTP_OK;
	code = resp->error.code ? resp->error.code : "";
	message = resp->error.message;
	snprintf(why, whylen, "HTTP %ld%s%s%s%s", resp->status, code[0] ? " " : "", code,
		 message ? ": " : "", message ? message : "");
	if (code_is(code, "RequestTimeTooSkewed") && aws_http_clock_correct(c, resp))
		return AWS_HTTP_RETRY_NOW;
	if (code_is(code, "ExpiredToken") || code_is(code, "TokenRefreshRequired")) {
		aws_credentials_invalidate(c->credentials);
		return AWS_HTTP_RETRY_NOW;
	}
	if (code_is(code, "SlowDown") || code_is(code, "RequestTimeout") ||
	    code_is(code, "InternalError") || code_is(code, "ServiceUnavailable"))
		return AWS_HTTP_RETRY;
	/*
	 * The bytes S3 got are not the ones we hashed: corrupted on the way, so
	 * sending them again from our buffer can succeed.
	 */
	if (code_is(code, "BadDigest") || code_is(code, "InvalidDigest") ||
	    code_is(code, "XAmzContentSHA256Mismatch"))
		return AWS_HTTP_RETRY;
	/* A conditional write raced another request on the key: S3 asks for a retry. */
	if (code_is(code, "ConditionalRequestConflict"))
		return AWS_HTTP_RETRY;
	return aws_http_status_verdict(resp->status);
}
