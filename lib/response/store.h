/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The case record in the forensics bucket: read back at the start, so a
 * rerun of the same case resumes from it, and written again after each
 * milestone, so a response that dies midway still says what it did. One
 * small object per case and instance, through aws/s3.c, with the
 * security account's own credentials.
 */
#ifndef FORENSICS_STORE_H
#define FORENSICS_STORE_H

#include "aws/s3.h"

#include <json-c/json.h>
#include <stdbool.h>

#define STORE_RECORD_MAX (8u << 20)

struct record_store {
	struct s3_client s3;
	char *key;          /* <prefix>/<case>/<instance>/record.json */
	char *etag;         /* of the record as this run last read or wrote it; NULL: none yet */
	bool ready;
	bool lost;          /* another run wrote the record: this one writes no more */
};

/* uri "s3://bucket/prefix/"; region is the bucket's. -EINVAL/-ENOKEY with why. */
int record_store_open(struct record_store *st, const char *uri, const char *region,
		      const char *case_id, const char *instance_id, char *why, size_t whylen);
/* 0 with *record (NULL when there is none yet), or -errno with why; keeps its ETag. */
int record_store_load(struct record_store *st, json_object **record, char *why,
		      size_t whylen);
/* A stored record's body (NUL-terminated): 0 with *record, a JSON object, or -EBADMSG. */
int record_store_parse(const char *body, json_object **record);
/*
 * Written only over the version this run last read or wrote (If-Match on its
 * ETag; If-None-Match: * when there was none), so two runs of one case cannot
 * both go on: -EBUSY with why when another run wrote the record since.
 */
int record_store_save(struct record_store *st, json_object *record, char *why, size_t whylen);
void record_store_close(struct record_store *st);

#endif
