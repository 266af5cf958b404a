/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The parts of an S3 upload sink (multipart.c): the buffers the producer
 * fills, their sizes, and the uploader thread that sends them in parallel
 * over libcurl's multi interface, each retried on its own. Internal to
 * lib/aws.
 */
#ifndef FORENSICS_UPLOAD_PARTS_H
#define FORENSICS_UPLOAD_PARTS_H

#include "aws/multipart.h"

#include <pthread.h>

#define S3_SHA256_B64 45

enum s3_part_state {
	S3_PART_FREE,
	S3_PART_FILLING,
	S3_PART_QUEUED,
	S3_PART_ACTIVE,
};

struct s3_part {
	enum s3_part_state state;
	unsigned int number;
	unsigned char *data;
	size_t len;
	size_t capacity;
	char checksum[S3_SHA256_B64];
	char md5[S3_SHA256_B64];
	unsigned int attempts;
	unsigned int quick_retries;
	long long not_before_ms;
	char number_text[12];
	char last_answer[S3_REASON_MAX];  /* why its last attempt failed */
	struct aws_http_transfer xfer;
};

struct s3_done_part {
	unsigned int number;
	char *etag;
	char checksum[S3_SHA256_B64];
};

struct s3_upload_sink {
	struct sink base;
	struct s3_client *client;
	struct s3_upload_options options;
	char *key;
	char meta_storage[1024];

	struct s3_part *pool;
	unsigned int pool_size;
	struct s3_part *filling;
	unsigned int next_number;

	struct s3_done_part *done;
	size_t done_count;
	size_t done_capacity;

	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	CURLM *multi;
	unsigned int active;
	bool closing;
	int error;
	char why[S3_REASON_MAX];

	struct s3_upload_result result;
	bool completed;
	bool create_resent;          /* CreateMultipartUpload went out more than once */
	bool create_lost;            /* ... and an attempt got no answer: it may arrive later */
	bool put_sent;
	bool put_lost;               /* a PutObject got no answer: it may arrive later */
	bool put_uncertain;          /* ... or may have been applied: look before saying */
	char expect_etag[48];        /* a single PutObject's (MD5) */
	char expect_checksum[S3_SHA256_B64];  /* our object's SHA-256 as S3 gives it */
	enum s3_upload_state state;
	char outcome[2 * S3_REASON_MAX];
};

/* The first failure wins: later ones are usually its consequences. */
void s3_upload_fail(struct s3_upload_sink *u, int err, const char *what, const char *detail);
/* SHA-256 of data, base64 (x-amz-checksum-sha256) and hex (the signed payload hash). */
void s3_parts_sha256(const unsigned char *data, size_t len, char *out,
		     char hex[SIGV4_HEX_SHA256_LEN + 1]);
/* The uploader thread (arg: the sink): until closing with nothing queued, or an error. */
void *s3_parts_thread(void *arg);
/* Tells the thread to close and waits for it. */
void s3_parts_stop(struct s3_upload_sink *u);
/* A free part, sized for the next part number, becomes u->filling; 0 or the upload's error. */
int s3_parts_fill_next(struct s3_upload_sink *u);
/* p's request (numbered and checksummed, or its ticket's URL), its retries reset. */
int s3_parts_prepare(struct s3_upload_sink *u, struct s3_part *p);
/* The pool's transfers and buffers. */
void s3_parts_free(struct s3_upload_sink *u);

#endif
