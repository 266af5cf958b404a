/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * S3 on the AWS request loop (http.h): a bucket's endpoint, S3's signing
 * rules, the object headers the forensics bucket wants, and S3's reading
 * of its answers: 500/502/503/504, SlowDown, RequestTimeout, a body that
 * failed its checksum (BadDigest, InvalidDigest, XAmzContentSHA256Mismatch),
 * ConditionalRequestConflict and transport errors retried with backoff;
 * the clock corrected on RequestTimeTooSkewed; credentials refreshed on
 * ExpiredToken; 412 PreconditionFailed (an object where If-None-Match: *
 * wanted none) fatal; 403 SignatureDoesNotMatch or
 * AccessDenied fatal at once.
 */
#ifndef FORENSICS_S3_H
#define FORENSICS_S3_H

#include "aws/credentials.h"
#include "aws/endpoint.h"
#include "aws/http.h"
#include "aws/s3xml.h"
#include "aws/sigv4.h"

#include <stdbool.h>
#include <stddef.h>

#define S3_REASON_MAX AWS_HTTP_REASON_MAX

struct s3_client {
	struct aws_http_client http;    /* its credentials owned here */
	char *bucket;
};

/* Headers the forensics bucket needs on every object it receives. */
struct s3_object_options {
	const char *acl;                /* "bucket-owner-full-control" */
	const char *sse;                /* "aws:kms", "AES256" or NULL */
	const char *sse_kms_key_id;
	const char *lock_mode;          /* "GOVERNANCE"/"COMPLIANCE" or NULL */
	const char *lock_retain_until;  /* ISO 8601 */
	const struct sigv4_pair *metadata;  /* x-amz-meta-<name> */
	size_t metadata_count;
	const char *content_type;
};

/* Takes ownership of credentials, also when it fails. */
int s3_client_init(struct s3_client *c, const char *region, const char *bucket, bool path_style,
		   struct aws_credentials_provider *credentials, char *why, size_t whylen);
/* A client for presigned URLs only: retries and timeouts, no identity. */
void s3_client_init_presigned(struct s3_client *c);
void s3_client_free(struct s3_client *c);

/* "what: detail" into why, cut at its end: a long server message loses its tail. */
void s3_reason_set(char *why, size_t whylen, const char *what, const char *detail);

int s3_request_add_object_headers(struct aws_http_request *r, const struct s3_object_options *o,
				  char *storage, size_t storage_len);

/* S3's classify: what to do with a finished request; fills why for anything but OK. */
enum aws_http_verdict s3_classify(struct aws_http_client *c, struct aws_http_response *resp,
				  char *why, size_t whylen);
/* A successful answer's XML (UploadId, ETag, ...): 0, or -EBADMSG (none, too large, bad). */
int s3_response_xml(const struct aws_http_response *resp, struct s3xml *out);

/* Send with retries, blocking. 0, or -EIO/-EACCES/... with why. */
static inline int s3_perform(struct s3_client *c, const struct aws_http_request *r,
			     struct aws_http_response *resp, char *why, size_t whylen)
{
	return aws_http_perform(&c->http, r, resp, why, whylen);
}
/*
 * A listing request (api: "ListObjectsV2") whose answer must have this
 * root ("ListBucketResult"): 0 with *out, -EBADMSG when it is something
 * else, or s3_perform's error.
 */
int s3_perform_list(struct s3_client *c, const struct aws_http_request *r, const char *api,
		    const char *root, struct s3xml_list *out, char *why, size_t whylen);

#endif
