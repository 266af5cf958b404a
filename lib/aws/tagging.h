/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Object tags written after an upload completes. User metadata can only be
 * set when an object is created, but an image's SHA-256 is known only once
 * its last byte has gone up; rewriting the object to add it would double
 * its storage (and, under Object Lock, keep both copies). Tags can be set
 * on the finished version in place, so the digests go there.
 */
#ifndef FORENSICS_TAGGING_H
#define FORENSICS_TAGGING_H

#include "aws/s3.h"

#define S3_MAX_TAGS 10
#define S3_TAG_KEY_MAX 128
#define S3_TAG_VALUE_MAX 256

/*
 * The PutObjectTagging body for tags[0..count) into *body (malloc'd).
 * -EINVAL for more than S3_MAX_TAGS tags or a key or value too long.
 */
int s3_tagging_body(const struct sigv4_pair *tags, size_t count, char **body, size_t *len);

/*
 * Replace the tag set of key (of version_id when not NULL). 0, or a negative
 * errno with why.
 */
int s3_object_tag(struct s3_client *c, const char *key, const char *version_id,
		  const struct sigv4_pair *tags, size_t count, char *why, size_t whylen);

#endif
