// SPDX-License-Identifier: GPL-2.0-only
#include "aws/s3xml.h"
#include "aws/awsxml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S3XML_MAX_DEPTH 16

/* S3's answers are small and flat: a megabyte, 16 levels (values are checked one by one). */
static const struct awsxml_limits s3_limits = {
	.body_max = S3XML_BODY_MAX,
	.max_depth = S3XML_MAX_DEPTH,
	.max_nodes = AWSXML_MAX_NODES,
	.text_max = AWSXML_TEXT_MAX,
};

static const struct {
	const char *name;
	size_t offset;
} fields[] = {
	{ "UploadId", offsetof(struct s3xml, upload_id) },
	{ "ETag", offsetof(struct s3xml, etag) },
	{ "Code", offsetof(struct s3xml, code) },
	{ "Message", offsetof(struct s3xml, message) },
	{ "RequestId", offsetof(struct s3xml, request_id) },
	{ "ServerTime", offsetof(struct s3xml, server_time) },
	{ "ChecksumSHA256", offsetof(struct s3xml, checksum_sha256) },
	{ "VersionId", offsetof(struct s3xml, version_id) },
	{ "Location", offsetof(struct s3xml, location) },
	{ "Bucket", offsetof(struct s3xml, bucket) },
	{ "Key", offsetof(struct s3xml, key) },
};

#define FIELD(x, i) ((char **)((char *)(x) + fields[i].offset))

/* The tree within S3's bounds, and its root's local name cut to fit root[64]. */
static int parse_root(const char *body, size_t len, struct awsxml_node **root, char *name,
		      size_t name_len)
{
	int ret = awsxml_parse_limited(body, len, &s3_limits, root);

	if (ret)
		return ret;
	snprintf(name, name_len, "%s", (*root)->name);
	if (!name[0]) {
		awsxml_free(*root);
		*root = NULL;
		return -EBADMSG;
	}
	return 0;
}

/* A value into *slot, bounded; a repeated element keeps its first value. */
static int take_text(char **slot, const struct awsxml_node *n)
{
	if (n->text_len > S3XML_VALUE_MAX)
		return -EBADMSG;
	if (*slot)
		return 0;
	*slot = strdup(n->text);
	return *slot ? 0 : -ENOMEM;
}

int s3xml_parse(const char *body, size_t len, struct s3xml *out)
{
	struct awsxml_node *root;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = parse_root(body, len, &root, out->root, sizeof(out->root));
	if (ret)
		return ret;
	for (const struct awsxml_node *n = root->first_child; n && !ret; n = n->next)
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]) && !ret; i++)
			if (!strcmp(n->name, fields[i].name) && !*FIELD(out, i))
				ret = take_text(FIELD(out, i), n);
	awsxml_free(root);
	if (ret)
		s3xml_free(out);
	return ret;
}

void s3xml_free(struct s3xml *x)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		free(*FIELD(x, i));
	memset(x, 0, sizeof(*x));
}

/* One Contents (ListObjectsV2) or Upload (ListMultipartUploads) entry. */
static int list_object(struct s3xml_list *out, const struct awsxml_node *entry)
{
	struct s3xml_object *grown, *o;
	int ret = 0;

	if (out->count >= S3XML_LIST_MAX)
		return -EBADMSG;
	grown = realloc(out->objects, (out->count + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	out->objects = grown;
	o = &grown[out->count++];
	memset(o, 0, sizeof(*o));
	o->size = -1;
	for (const struct awsxml_node *n = entry->first_child; n && !ret; n = n->next) {
		if (n->first_child) {
			continue;  /* not a value */
		} else if (n->text_len > S3XML_VALUE_MAX) {
			ret = -EBADMSG;
		} else if (!strcmp(n->name, "Key")) {
			ret = take_text(&o->key, n);
		} else if (!strcmp(n->name, "ETag")) {
			ret = take_text(&o->etag, n);
		} else if (!strcmp(n->name, "UploadId")) {
			ret = take_text(&o->upload_id, n);
		} else if (!strcmp(n->name, "Size")) {
			char *end;

			o->size = strtoll(n->text, &end, 10);
			if (end == n->text || *end || o->size < 0)
				ret = -EBADMSG;
		}
	}
	return ret;
}

/*
 * ListObjectsV2: ListBucketResult/Contents/{Key,ETag,Size}, IsTruncated and
 * NextContinuationToken; ListMultipartUploadsResult/Upload/{Key,UploadId}.
 * Same bounds as above.
 */
int s3xml_parse_list(const char *body, size_t len, struct s3xml_list *out)
{
	struct awsxml_node *root;
	bool uploads;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = parse_root(body, len, &root, out->root, sizeof(out->root));
	if (ret)
		return ret;
	uploads = !strcmp(out->root, "ListMultipartUploadsResult");
	if (strcmp(out->root, "ListBucketResult") && !uploads)
		ret = -EBADMSG;
	for (const struct awsxml_node *n = root->first_child; n && !ret; n = n->next) {
		if (!strcmp(n->name, "Contents") || !strcmp(n->name, "Upload"))
			ret = list_object(out, n);
		else if (n->first_child)
			continue;  /* not a value */
		else if (n->text_len > S3XML_VALUE_MAX)
			ret = -EBADMSG;
		else if (!strcmp(n->name, "IsTruncated"))
			out->truncated = !strcmp(n->text, "true");
		else if (!strcmp(n->name, "NextContinuationToken"))
			ret = take_text(&out->next_token, n);
	}
	for (size_t i = 0; !ret && i < out->count; i++)
		if (!out->objects[i].key || (uploads && !out->objects[i].upload_id))
			ret = -EBADMSG;
	awsxml_free(root);
	if (ret)
		s3xml_list_free(out);
	return ret;
}

void s3xml_list_free(struct s3xml_list *l)
{
	for (size_t i = 0; i < l->count; i++) {
		free(l->objects[i].key);
		free(l->objects[i].etag);
		free(l->objects[i].upload_id);
	}
	free(l->objects);
	free(l->next_token);
	memset(l, 0, sizeof(*l));
}
