// SPDX-License-Identifier: GPL-2.0-only
#include "s3xml.h"

#include <errno.h>
#include <expat.h>
#include <stdlib.h>
#include <string.h>

#define S3XML_MAX_DEPTH 16

struct parse_state {
	struct s3xml *out;
	unsigned int depth;
	char **target;          /* field the current depth-1 element fills */
	size_t target_len;
	bool failed;
	int error;
};

static char **field_for(struct s3xml *x, const char *name)
{
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

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!strcmp(name, fields[i].name))
			return (char **)((char *)x + fields[i].offset);
	return NULL;
}

/* Element names may come namespaced ("ns uri|Name") with a separator: strip it. */
static const char *local_name(const XML_Char *name)
{
	const char *bar = strrchr(name, '|');

	return bar ? bar + 1 : name;
}

static void XMLCALL on_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
	struct parse_state *st = data;
	const char *local = local_name(name);

	if (++st->depth > S3XML_MAX_DEPTH) {
		st->failed = true;
		st->error = -EBADMSG;
		return;
	}
	if (st->depth == 1) {
		size_t n = strlen(local);

		if (n >= sizeof(st->out->root))
			n = sizeof(st->out->root) - 1;
		memcpy(st->out->root, local, n);
		st->out->root[n] = '\0';
		return;
	}
	if (st->depth == 2) {
		st->target = field_for(st->out, local);
		/* A repeated element keeps its first value. */
		if (st->target && *st->target)
			st->target = NULL;
		if (st->target) {
			*st->target = calloc(1, 1);
			st->target_len = 0;
			if (!*st->target) {
				st->failed = true;
				st->error = -ENOMEM;
			}
		}
	}
}

static void XMLCALL on_end(void *data, const XML_Char *name)
{
	struct parse_state *st = data;

	if (st->depth == 2)
		st->target = NULL;
	st->depth--;
}

static void XMLCALL on_text(void *data, const XML_Char *s, int len)
{
	struct parse_state *st = data;
	char *grown;

	if (!st->target || st->depth != 2 || len <= 0)
		return;
	if (st->target_len + (size_t)len > S3XML_VALUE_MAX) {
		st->failed = true;
		st->error = -EBADMSG;
		return;
	}
	grown = realloc(*st->target, st->target_len + (size_t)len + 1);
	if (!grown) {
		st->failed = true;
		st->error = -ENOMEM;
		return;
	}
	memcpy(grown + st->target_len, s, (size_t)len);
	st->target_len += (size_t)len;
	grown[st->target_len] = '\0';
	*st->target = grown;
}

/* Internal DTD subsets and entity declarations have no place in an S3 answer. */
static void XMLCALL on_entity_decl(void *data, const XML_Char *entity_name,
				   int is_parameter_entity, const XML_Char *value, int value_length,
				   const XML_Char *base, const XML_Char *system_id,
				   const XML_Char *public_id, const XML_Char *notation_name)
{
	struct parse_state *st = data;

	st->failed = true;
	st->error = -EBADMSG;
}

int s3xml_parse(const char *body, size_t len, struct s3xml *out)
{
	struct parse_state st = { .out = out };
	XML_Parser parser;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (len > S3XML_BODY_MAX)
		return -EBADMSG;
	parser = XML_ParserCreateNS(NULL, '|');
	if (!parser)
		return -ENOMEM;
	XML_SetUserData(parser, &st);
	XML_SetElementHandler(parser, on_start, on_end);
	XML_SetCharacterDataHandler(parser, on_text);
	XML_SetEntityDeclHandler(parser, on_entity_decl);
	if (XML_Parse(parser, body, (int)len, XML_TRUE) != XML_STATUS_OK || st.failed ||
	    !out->root[0])
		ret = st.error ? st.error : -EBADMSG;
	XML_ParserFree(parser);
	if (ret)
		s3xml_free(out);
	return ret;
}

void s3xml_free(struct s3xml *x)
{
	free(x->upload_id);
	free(x->etag);
	free(x->code);
	free(x->message);
	free(x->request_id);
	free(x->server_time);
	free(x->checksum_sha256);
	free(x->version_id);
	free(x->location);
	free(x->bucket);
	free(x->key);
	memset(x, 0, sizeof(*x));
}
