/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stream an S3 object into a file descriptor (a pipe) with ranged GETs in
 * parallel over libcurl's multi interface, written strictly in order, so a
 * reader such as verify sees one sequential stream and nothing touches disk.
 */
#ifndef FORENSICS_DOWNLOAD_H
#define FORENSICS_DOWNLOAD_H

#include "aws/s3.h"

#include <pthread.h>
#include <stdint.h>

#define S3_DOWNLOAD_RANGE (8u << 20)
#define S3_DOWNLOAD_PARALLEL 4u

struct s3_download {
	struct s3_client *client;   /* borrowed */
	char *key;
	int fd;                     /* written to, closed when done */
	uint64_t size;              /* from HEAD */
	uint64_t written;
	pthread_t thread;
	bool started;
	int error;
	char why[S3_REASON_MAX];
};

/* HEAD the object, then start a thread writing it to fd (which it closes). */
int s3_download_start(struct s3_download *d, struct s3_client *c, const char *key, int fd);
/* Wait for the thread; 0 or its error (why in d->why). */
int s3_download_finish(struct s3_download *d);
/* A small object (a manifest) into memory, at most max bytes; -ENOENT if there is none. */
int s3_get_small(struct s3_client *c, const char *key, size_t max, char **body, size_t *len,
		 char *why, size_t whylen);

struct s3_head {
	char *etag;             /* as S3 gives it, quotes included */
	char *version_id;
	long long size;         /* -1 unless the answer said */
};

/* HEAD of one object; -ENOENT if there is none. */
int s3_head(struct s3_client *c, const char *key, struct s3_head *out, char *why,
	    size_t whylen);
void s3_head_free(struct s3_head *h);
/*
 * ListObjectsV2 of everything under prefix (continuation tokens followed),
 * at most about max objects (-EFBIG beyond); out freed with s3xml_list_free().
 */
int s3_list(struct s3_client *c, const char *prefix, size_t max, struct s3xml_list *out,
	    char *why, size_t whylen);

#endif
