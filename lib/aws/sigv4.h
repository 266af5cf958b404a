/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * AWS Signature Version 4 as small pure steps: canonical request, string to
 * sign, signing key, signature, for header auth and presigned (query) auth.
 * The clock is a parameter, so every step is tested against known answers
 * (the AWS SigV4 test suite) and against botocore on random requests.
 *
 * One signer serves S3 (the uploader) and EC2/STS/SSM (the controller):
 * S3 encodes the path once and may sign UNSIGNED-PAYLOAD; other services
 * encode it twice and normalize it.
 */
#ifndef FORENSICS_SIGV4_H
#define FORENSICS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define SIGV4_HEX_SHA256_LEN 64
#define SIGV4_MAX_PRESIGN_EXPIRES 604800 /* 7 days, the service's limit */

struct sigv4_credentials {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token; /* NULL for long-term keys */
};

/* A header or query parameter, not encoded (the signer encodes). */
struct sigv4_pair {
	const char *name;
	const char *value;
};

struct sigv4_request {
	const char *method;             /* "PUT" */
	const char *host;               /* as sent in Host, with ":port" if not default */
	const char *path;               /* not encoded, e.g. "/bucket/case 1/image.lime" */
	const struct sigv4_pair *query; /* any order, repeats allowed */
	size_t query_count;
	const struct sigv4_pair *headers; /* any order/case; host and x-amz-date are added */
	size_t header_count;
	/* Lowercase hex SHA-256 of the body, or SIGV4_UNSIGNED_PAYLOAD. */
	const char *payload_hash;
};

struct sigv4_scope {
	const char *region;   /* "eu-west-1" */
	const char *service;  /* "s3", "sts", "ec2", ... */
	time_t now;           /* seconds since the epoch, UTC */
	bool s3;              /* S3 rules: path encoded once, not normalized */
};

/* Headers to add to the request for header auth; strings owned by the struct. */
struct sigv4_signed_headers {
	char amz_date[17];          /* x-amz-date: 20261128T170000Z */
	char *authorization;        /* Authorization: AWS4-HMAC-SHA256 Credential=... */
	char *security_token;       /* x-amz-security-token, or NULL */
	char content_sha256[SIGV4_HEX_SHA256_LEN + 1]; /* x-amz-content-sha256 (S3) */
};

/* The steps, exposed for tests. Results are malloc'd. */
int sigv4_canonical_request(const struct sigv4_request *req, const struct sigv4_scope *scope,
			    const char *amz_date, const struct sigv4_pair *extra_query,
			    size_t extra_query_count, char **out, char **signed_headers);
int sigv4_string_to_sign(const char *canonical_request, const struct sigv4_scope *scope,
			 const char *amz_date, char **out);
int sigv4_signature(const char *secret_access_key, const struct sigv4_scope *scope,
		    const char *string_to_sign, char hex[SIGV4_HEX_SHA256_LEN + 1]);
/* RFC 3986 unreserved set kept; everything else %XX (uppercase). slash_too: encode '/'. */
int sigv4_uri_encode(const char *in, bool slash_too, char **out);

/*
 * Header auth: what to add to the request. The request's own headers must
 * already include every header that will be sent and signed (e.g.
 * content-type, x-amz-checksum-sha256); x-amz-content-sha256 (S3),
 * x-amz-date and x-amz-security-token are signed and returned here.
 */
int sigv4_sign_headers(const struct sigv4_request *req, const struct sigv4_credentials *cred,
		       const struct sigv4_scope *scope, struct sigv4_signed_headers *out);
void sigv4_signed_headers_free(struct sigv4_signed_headers *h);

/*
 * Presigned URL ("https://host/path?...&X-Amz-Signature=..."), valid for
 * expires seconds (1..SIGV4_MAX_PRESIGN_EXPIRES). scheme is "https" or
 * "http". Body hash UNSIGNED-PAYLOAD as S3 expects.
 */
int sigv4_presign_url(const char *scheme, const struct sigv4_request *req,
		      const struct sigv4_credentials *cred, const struct sigv4_scope *scope,
		      unsigned int expires, char **url);

#endif
