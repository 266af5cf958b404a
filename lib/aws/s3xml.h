/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * S3's XML answers are flat: a root element whose direct children carry the
 * values we need (UploadId, ETag, Code, Message, ...). This reads any of
 * them into one struct, from the library's XML tree (awsxml.h) parsed
 * within S3's tighter bounds: the body comes from the network (or from
 * whatever sits in between).
 */
#ifndef FORENSICS_S3XML_H
#define FORENSICS_S3XML_H

#include <stdbool.h>
#include <stddef.h>

#define S3XML_BODY_MAX (1u << 20)
#define S3XML_VALUE_MAX 4096

struct s3xml {
	char root[64];          /* "InitiateMultipartUploadResult", "Error", ... */
	char *upload_id;
	char *etag;
	char *code;             /* <Error><Code> */
	char *message;
	char *request_id;
	char *server_time;      /* RequestTimeTooSkewed */
	char *checksum_sha256;
	char *version_id;
	char *location;
	char *bucket;
	char *key;
};

/* One ListObjectsV2 answer (ListBucketResult), bounded to S3XML_LIST_MAX objects. */
#define S3XML_LIST_MAX 1000

struct s3xml_object {
	char *key;
	char *etag;             /* as S3 gives it, quotes included */
	long long size;         /* -1 when absent */
	char *upload_id;        /* ListMultipartUploadsResult's Upload entries */
};

struct s3xml_list {
	char root[64];
	struct s3xml_object *objects;
	size_t count;
	bool truncated;
	char *next_token;       /* NextContinuationToken */
};

/* 0, or -EBADMSG (not XML, too deep, too large), -ENOMEM. */
int s3xml_parse(const char *body, size_t len, struct s3xml *out);
void s3xml_free(struct s3xml *x);
/*
 * 0, or -EBADMSG (not a ListBucketResult, a Contents without Key, bounds), -ENOMEM.
 * A ListMultipartUploadsResult is read the same way: its Upload entries become
 * objects with key and upload_id (both required).
 */
int s3xml_parse_list(const char *body, size_t len, struct s3xml_list *out);
void s3xml_list_free(struct s3xml_list *l);
static inline bool s3xml_is_error(const struct s3xml *x)
{
	return x->root[0] == 'E' && x->root[1] == 'r' && x->root[2] == 'r' && x->root[3] == 'o' &&
	       x->root[4] == 'r' && x->root[5] == '\0';
}

#endif
