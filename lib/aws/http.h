/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One request loop for every AWS service: build a request, sign it (SigV4),
 * send it with libcurl, and let the service's classify callback read the
 * answer (S3: s3_classify; EC2, STS, SSM, ...: awsapi_classify). The retry
 * policy lives here so every caller gets the same one: exponential backoff
 * with full jitter on what classify calls transient, an immediate resend
 * (at most twice) once classify corrected the clock or dropped expired
 * credentials, and a bounded number of attempts, so never a retry storm.
 */
#ifndef FORENSICS_AWS_HTTP_H
#define FORENSICS_AWS_HTTP_H

#include "aws/credentials.h"
#include "aws/endpoint.h"
#include "aws/sigv4.h"
#include "aws/trust.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#define AWS_HTTP_MAX_HEADERS 32
#define AWS_HTTP_MAX_QUERY 4
#define AWS_HTTP_RESPONSE_MAX (1u << 20)
#define AWS_HTTP_DEFAULT_MAX_ATTEMPTS 8
#define AWS_HTTP_BACKOFF_BASE_MS 200
#define AWS_HTTP_BACKOFF_CAP_MS 20000
#define AWS_HTTP_CONNECT_TIMEOUT_MS 10000L
/* A transfer slower than 1 KiB/s for this long is stalled: retry it. */
#define AWS_HTTP_LOW_SPEED_TIME_S 30L
#define AWS_HTTP_REASON_MAX 512
/*
 * -AWS_HTTP_ENOTRUST: no CA bundle for an https request, or the server's
 * certificate does not verify with it. Its own errno so the programs can
 * give it its own exit code (EKEYREJECTED is refused credentials).
 */
#define AWS_HTTP_ENOTRUST EBADE

struct aws_http_response;

enum aws_http_verdict {
	AWS_HTTP_OK,
	AWS_HTTP_RETRY,             /* transient: back off and resend */
	AWS_HTTP_RETRY_NOW,         /* clock or credentials fixed: resend at once */
	AWS_HTTP_FATAL,
};

struct aws_http_client {
	struct s3_endpoint endpoint;    /* owned */
	char *region;                   /* the signing region */
	const char *service;            /* the signing name: "s3", "ec2", ... */
	bool s3_rules;                  /* S3's signing: path encoded once, x-amz-content-sha256 */
	struct aws_credentials_provider *credentials;  /* borrowed; NULL: presigned URLs only */
	/* Reads a finished answer into resp->error and says what to do; fills why unless OK. */
	enum aws_http_verdict (*classify)(struct aws_http_client *c, struct aws_http_response *resp,
					  char *why, size_t whylen);
	long clock_offset;              /* server time minus ours, seconds */
	unsigned int max_attempts;
	long stall_timeout_s;           /* a transfer below 1 KiB/s this long is retried */
	unsigned int random_state;
	/* The host's CA bundle, found at the first https request; NULL before. */
	const struct aws_trust *trust;
	/*
	 * When to give up whatever is in flight or waiting for a retry: once
	 * *stop is non-zero (-EINTR; NULL: never), or past deadline_ms
	 * (CLOCK_MONOTONIC milliseconds, 0: none; -ETIMEDOUT). With stop_grace_ms
	 * set (cleanup), a stop only brings the deadline to that long after it
	 * was seen: cleanup gets a moment, never more.
	 */
	const volatile sig_atomic_t *stop;
	long long deadline_ms;
	long stop_grace_ms;
};

struct aws_http_request {
	const char *method;
	const char *path;           /* below the endpoint's prefix, not encoded (S3: the key) */
	struct sigv4_pair query[AWS_HTTP_MAX_QUERY];
	size_t query_count;
	struct sigv4_pair headers[AWS_HTTP_MAX_HEADERS];
	size_t header_count;
	const unsigned char *body;
	size_t body_len;
	char payload_hash[SIGV4_HEX_SHA256_LEN + 1];  /* empty: UNSIGNED-PAYLOAD */
	/* Cleanup (abort) still tries with credentials that were refused. */
	bool best_effort_credentials;
	/* A presigned URL: sent as is, no credentials, no signing. */
	const char *url;
};

/* What an error answer said, as the client's classify read it; NULL where it said nothing. */
struct aws_http_error {
	char *code;
	char *message;
	char *request_id;
	char *server_time;          /* S3's RequestTimeTooSkewed carries it */
};

struct aws_http_response {
	long status;
	CURLcode curl_code;
	char curl_error[CURL_ERROR_SIZE];
	char *body;                 /* NUL-terminated */
	size_t body_len;
	size_t body_max;            /* 0: AWS_HTTP_RESPONSE_MAX */
	bool body_overflow;
	long long content_length;   /* -1 unless the answer said */
	char *etag;
	char *version_id;
	char *checksum_sha256;
	char *date;
	struct aws_http_error error;
	unsigned int attempts;      /* aws_http_perform: times the request was sent */
	/* aws_http_perform: attempts with no answer, which may still reach the server */
	unsigned int unanswered;
};

/*
 * Defaults (attempts, stall timeout, a random seed), region copied (may be
 * NULL: a client for presigned URLs). The caller resolves c->endpoint and
 * sets classify. -ENOMEM.
 */
int aws_http_client_init(struct aws_http_client *c, const char *region, const char *service,
			 struct aws_credentials_provider *credentials);
/* Frees what the client owns: not the credentials provider. */
void aws_http_client_free(struct aws_http_client *c);

/*
 * The program's --ca-bundle (copied; NULL: none) for every client
 * of the process: aws_trust_host() looks there first, then at AWS_CA_BUNDLE,
 * SSL_CERT_FILE, SSL_CERT_DIR and the distributions' bundles.
 */
void aws_http_ca_bundle_set(const char *path);
/*
 * The bundle c's https endpoint is verified with: 0 with *out (NULL for a
 * plain http endpoint, which needs none), or -AWS_HTTP_ENOTRUST with why when
 * there is none. Requests ask the same on their own; a program asks first to
 * fail before it starts, and to say which bundle it uses.
 */
int aws_http_client_trust(struct aws_http_client *c, const struct aws_trust **out, char *why,
			  size_t whylen);

int aws_http_request_add_header(struct aws_http_request *r, const char *name, const char *value);
/*
 * name=value appended to *s (sep before it unless *s is NULL), both
 * encoded for a query, or (form) for an x-www-form-urlencoded body.
 */
int aws_http_pair_append(char **s, char sep, const char *name, const char *value, bool form);
/* Hash the body (or mark the payload unsigned) for signing. */
void aws_http_request_set_body(struct aws_http_request *r, const void *body, size_t len);

/*
 * An easy handle for the request, signed now with the current credentials,
 * writing the answer into resp. Freed with aws_http_easy_free(). For the
 * multi interface: add it, and call the client's classify when it is done.
 */
CURL *aws_http_easy_new(struct aws_http_client *c, const struct aws_http_request *r,
			struct aws_http_response *resp, struct curl_slist **headers_out, char *why,
			size_t whylen);
void aws_http_easy_free(CURL *easy, struct curl_slist *headers);
/*
 * One request on libcurl's multi interface: started with
 * aws_http_transfer_start(), its end passed to aws_http_transfer_done(),
 * then the client's classify.
 */
struct aws_http_transfer {
	struct aws_http_request req;
	struct aws_http_response resp;  /* its body_max is kept across starts */
	CURL *easy;                     /* NULL when not running */
	struct curl_slist *headers;
};

/* Added to multi, CURLINFO_PRIVATE set to private: 0, or -EIO with why. */
int aws_http_transfer_start(struct aws_http_client *c, CURLM *multi, struct aws_http_transfer *t,
			    void *private, char *why, size_t whylen);
/* The transfer ended with code: its status kept in t->resp, the handle gone. */
void aws_http_transfer_done(CURLM *multi, struct aws_http_transfer *t, CURLcode code);
/* Stops it if it runs (the answer stays in t->resp). */
void aws_http_transfer_stop(CURLM *multi, struct aws_http_transfer *t);

/* Frees what the answer holds; keeps body_max. */
void aws_http_response_reset(struct aws_http_response *resp);

/* CLOCK_MONOTONIC in milliseconds, the clock of deadline_ms. */
long long aws_http_now_ms(void);
/* 0, or why the client's requests must end now: -EINTR (stop), -ETIMEDOUT (deadline). */
int aws_http_interrupted(struct aws_http_client *c);

/* Full-jitter backoff for attempt n (1-based), in milliseconds. */
long aws_http_backoff_ms(struct aws_http_client *c, unsigned int attempt);

/*
 * Send with retries, blocking. 0, or with why: -EACCES (refused),
 * -AWS_HTTP_ENOTRUST (no CA bundle, or the server's certificate is not trusted by
 * it: never retried), -EIO, ...; -EINTR or -ETIMEDOUT when
 * aws_http_interrupted() ended it.
 */
int aws_http_perform(struct aws_http_client *c, const struct aws_http_request *r,
		     struct aws_http_response *resp, char *why, size_t whylen);

/* ---- for classify callbacks ---- */

/* By the status alone: a 500, 502, 503 or 504 is retried, anything else is fatal. */
enum aws_http_verdict aws_http_status_verdict(long status);
/*
 * True, with why, when the request got no answer at all: worth a retry, but
 * for a certificate that does not verify (*fatal set: a retry cannot help).
 */
bool aws_http_transport_failed(const struct aws_http_client *c,
			       const struct aws_http_response *resp, bool *fatal, char *why,
			       size_t whylen);
/* The error a FATAL verdict stands for: -EACCES (HTTP 403), -AWS_HTTP_ENOTRUST (TLS), else -EIO. */
int aws_http_fatal_error(const struct aws_http_response *resp);
/*
 * The answer's time (the error's ServerTime, else the Date header) sets the
 * client's clock offset. False when the answer gave no time.
 */
bool aws_http_clock_correct(struct aws_http_client *c, const struct aws_http_response *resp);
/* Keeps what an error answer said (each may be NULL) in resp->error, copied. -ENOMEM. */
int aws_http_error_set(struct aws_http_response *resp, const char *code, const char *message,
		       const char *request_id, const char *server_time);

#endif
