/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * S3 requests: build, sign (SigV4), send with libcurl, classify the answer.
 * Retry policy lives here so every caller gets the same one: exponential
 * backoff with full jitter on 500/502/503/504, SlowDown, RequestTimeout and
 * transport errors; the clock corrected on RequestTimeTooSkewed; credentials
 * refreshed on ExpiredToken; 403 SignatureDoesNotMatch/AccessDenied fatal at
 * once. A bounded number of attempts, so never a retry storm.
 */
#ifndef FORENSICS_S3_H
#define FORENSICS_S3_H

#include "aws/credentials.h"
#include "aws/endpoint.h"
#include "aws/s3xml.h"
#include "aws/sigv4.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define S3_MAX_HEADERS 32
#define S3_MAX_QUERY 4
#define S3_RESPONSE_MAX (1u << 20)
#define S3_DEFAULT_MAX_ATTEMPTS 8
#define S3_BACKOFF_BASE_MS 200
#define S3_BACKOFF_CAP_MS 20000
#define S3_CONNECT_TIMEOUT_MS 10000L
/* A transfer slower than 1 KiB/s for this long is stalled: retry it. */
#define S3_LOW_SPEED_TIME_S 30L
#define S3_REASON_MAX 512

struct s3_response;

enum s3_verdict {
	S3_OK,
	S3_RETRY,                   /* transient: back off and resend */
	S3_RETRY_NOW,               /* clock or credentials fixed: resend at once */
	S3_FATAL,
};

struct s3_client {
	char *region;
	char *bucket;
	struct s3_endpoint endpoint;
	struct aws_credentials_provider *credentials;  /* owned */
	long clock_offset;          /* server time minus ours, seconds */
	unsigned int max_attempts;
	long stall_timeout_s;       /* a transfer below 1 KiB/s this long is retried */
	unsigned int random_state;
	char *ca_file;              /* NULL: libcurl's default bundle */
	/*
	 * Other AWS services reuse this client (controller/awsapi.c): their
	 * signing name (NULL: S3 and its signing rules) and their own reading
	 * of error answers (NULL: s3_classify).
	 */
	const char *service;
	enum s3_verdict (*classify)(struct s3_client *c, struct s3_response *resp, char *why,
				    size_t whylen);
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

struct s3_request {
	const char *method;
	const char *key;
	struct sigv4_pair query[S3_MAX_QUERY];
	size_t query_count;
	struct sigv4_pair headers[S3_MAX_HEADERS];
	size_t header_count;
	const unsigned char *body;
	size_t body_len;
	char payload_hash[SIGV4_HEX_SHA256_LEN + 1];
	/* Cleanup (abort) still tries with credentials that were refused. */
	bool best_effort_credentials;
	/* A presigned URL: sent as is, no credentials, no signing. */
	const char *url;
};

struct s3_response {
	long status;
	CURLcode curl_code;
	char curl_error[CURL_ERROR_SIZE];
	char *body;
	size_t body_len;
	size_t body_max;            /* 0: S3_RESPONSE_MAX (XML answers) */
	bool body_overflow;
	long long content_length;   /* -1 unless the answer said */
	char *etag;
	char *version_id;
	char *checksum_sha256;
	char *date;
	struct s3xml xml;           /* parsed when the body is XML */
	bool xml_parsed;
	unsigned int attempts;      /* s3_perform: times the request was sent */
};

/* Takes ownership of credentials, also when it fails. */
int s3_client_init(struct s3_client *c, const char *region, const char *bucket, bool path_style,
		   struct aws_credentials_provider *credentials, char *why, size_t whylen);
/* A client for presigned URLs only: retries and timeouts, no identity. */
void s3_client_init_presigned(struct s3_client *c);
void s3_client_free(struct s3_client *c);

int s3_request_add_header(struct s3_request *r, const char *name, const char *value);
/* Hash the body (or mark the payload unsigned) for signing. */
void s3_request_set_body(struct s3_request *r, const void *body, size_t len);
int s3_request_add_object_headers(struct s3_request *r, const struct s3_object_options *o,
				  char *storage, size_t storage_len);

/*
 * An easy handle for the request, signed now with the current credentials,
 * writing the answer into resp. Freed with s3_easy_free(). For the multi
 * interface: add it, and call s3_classify() when it is done.
 */
CURL *s3_easy_new(struct s3_client *c, const struct s3_request *r, struct s3_response *resp,
		  struct curl_slist **headers_out, char *why, size_t whylen);
void s3_easy_free(CURL *easy, struct curl_slist *headers);
void s3_response_reset(struct s3_response *resp);

/* What to do with a finished request; fills why for anything but S3_OK. */
enum s3_verdict s3_classify(struct s3_client *c, struct s3_response *resp, char *why,
			    size_t whylen);
/* Full-jitter backoff for attempt n (1-based), in milliseconds. */
long s3_backoff_ms(struct s3_client *c, unsigned int attempt);

/* Send with retries, blocking. 0, or -EIO/-EACCES/... with why. */
int s3_perform(struct s3_client *c, const struct s3_request *r, struct s3_response *resp,
	       char *why, size_t whylen);

#endif
