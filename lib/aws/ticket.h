/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An upload ticket: a multipart upload the security account has already
 * created, with presigned URLs for its parts, Complete and Abort. The agent
 * on a compromised host then writes evidence without holding any AWS
 * credential. JSON:
 *   {"bucket": "...", "key": "...", "upload_id": "...", "part_size": 8388608,
 *    "parts": ["https://...partNumber=1...", ...],
 *    "complete": "https://...", "abort": "https://..."}
 */
#ifndef FORENSICS_TICKET_H
#define FORENSICS_TICKET_H

#include <stddef.h>
#include <stdint.h>

#define S3_TICKET_MAX_BYTES (64u << 20)

struct s3_ticket {
	char *bucket;
	char *key;
	char *upload_id;
	uint64_t part_size;
	char **parts;           /* parts[n - 1] is part n's URL */
	unsigned int part_count;
	char *complete;
	char *abort;
};

/* 0, or -EBADMSG with why (never echoing a URL: they are credentials). */
int s3_ticket_parse(const char *json, size_t len, struct s3_ticket *t, char *why, size_t whylen);
void s3_ticket_free(struct s3_ticket *t);

#endif
