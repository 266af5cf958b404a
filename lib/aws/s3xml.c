// SPDX-License-Identifier: GPL-2.0-only
#include "aws/s3xml.h"

#include <errno.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S3XML_MAX_DEPTH 16

/* What each parse's state begins with, so the shared handler can fail it. */
struct xml_status {
	bool failed;
	int error;
};

/* Internal DTD subsets and entity declarations have no place in an S3 answer. */
static void XMLCALL refuse_entity_decl(void *data, const XML_Char *entity_name,
				       int is_parameter_entity, const XML_Char *value,
				       int value_length, const XML_Char *base,
				       const XML_Char *system_id, const XML_Char *public_id,
				       const XML_Char *notation_name)
{
	struct xml_status *status = data;

	status->failed = true;
	if (!status->error)
		status->error = -EBADMSG;
}

/*
 * One hardened expat run over body: bounded size, namespaces split at '|',
 * entity declarations refused. state begins with its struct xml_status.
 * 0, or the handlers' error (-EBADMSG when the XML itself is bad).
 */
static int xml_run(const char *body, size_t len, struct xml_status *state,
		   XML_StartElementHandler start, XML_EndElementHandler end,
		   XML_CharacterDataHandler text)
{
	XML_Parser parser;
	int ret = 0;

	if (len > S3XML_BODY_MAX)
		return -EBADMSG;
	parser = XML_ParserCreateNS(NULL, '|');
	if (!parser)
		return -ENOMEM;
	XML_SetUserData(parser, state);
	XML_SetElementHandler(parser, start, end);
	XML_SetCharacterDataHandler(parser, text);
	XML_SetEntityDeclHandler(parser, refuse_entity_decl);
	if (XML_Parse(parser, body, (int)len, XML_TRUE) != XML_STATUS_OK || state->failed)
		ret = state->error ? state->error : -EBADMSG;
	XML_ParserFree(parser);
	return ret;
}

struct parse_state {
	struct xml_status status;  /* first: see xml_run() */
	struct s3xml *out;
	unsigned int depth;
	char **target;          /* field the current depth-1 element fills */
	size_t target_len;
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
		st->status.failed = true;
		st->status.error = -EBADMSG;
		return;
	}
	if (st->depth == 1) {
		/* The root element's local name, cut to fit. */
		snprintf(st->out->root, sizeof(st->out->root), "%s", local);
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
				st->status.failed = true;
				st->status.error = -ENOMEM;
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
		st->status.failed = true;
		st->status.error = -EBADMSG;
		return;
	}
	grown = realloc(*st->target, st->target_len + (size_t)len + 1);
	if (!grown) {
		st->status.failed = true;
		st->status.error = -ENOMEM;
		return;
	}
	memcpy(grown + st->target_len, s, (size_t)len);
	st->target_len += (size_t)len;
	grown[st->target_len] = '\0';
	*st->target = grown;
}

int s3xml_parse(const char *body, size_t len, struct s3xml *out)
{
	struct parse_state st = { .out = out };
	int ret;

	memset(out, 0, sizeof(*out));
	ret = xml_run(body, len, &st.status, on_start, on_end, on_text);
	if (!ret && !out->root[0])
		ret = -EBADMSG;
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

/*
 * ListObjectsV2: ListBucketResult/Contents/{Key,ETag,Size}, IsTruncated and
 * NextContinuationToken. Same bounds and refusals as above.
 */
struct list_state {
	struct xml_status status;  /* first: see xml_run() */
	struct s3xml_list *out;
	unsigned int depth;
	char *text;             /* the current depth-2 or depth-3 element's text */
	size_t text_len;
	bool collecting;
	bool in_contents;
};

static void list_fail(struct list_state *st, int error)
{
	st->status.failed = true;
	if (!st->status.error)
		st->status.error = error;
}

static void XMLCALL list_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
	struct list_state *st = data;
	const char *local = local_name(name);

	if (++st->depth > S3XML_MAX_DEPTH) {
		list_fail(st, -EBADMSG);
		return;
	}
	if (st->depth == 1) {
		/* The root element's local name, cut to fit. */
		snprintf(st->out->root, sizeof(st->out->root), "%s", local);
		return;
	}
	if (st->depth == 2 && (!strcmp(local, "Contents") || !strcmp(local, "Upload"))) {
		struct s3xml_object *grown;

		if (st->out->count >= S3XML_LIST_MAX) {
			list_fail(st, -EBADMSG);
			return;
		}
		grown = realloc(st->out->objects, (st->out->count + 1) * sizeof(*grown));
		if (!grown) {
			list_fail(st, -ENOMEM);
			return;
		}
		st->out->objects = grown;
		memset(&grown[st->out->count++], 0, sizeof(*grown));
		grown[st->out->count - 1].size = -1;
		st->in_contents = true;
		return;
	}
	free(st->text);
	st->text = NULL;
	st->text_len = 0;
	st->collecting = st->depth == 2 || (st->depth == 3 && st->in_contents);
}

static char *take_text(struct list_state *st)
{
	char *t = st->text ? st->text : strdup("");

	st->text = NULL;
	st->text_len = 0;
	if (!t)
		list_fail(st, -ENOMEM);
	return t;
}

static void XMLCALL list_end(void *data, const XML_Char *name)
{
	struct list_state *st = data;
	const char *local = local_name(name);

	if (st->status.failed)
		goto out;
	if (st->depth == 2 && st->in_contents &&
	    (!strcmp(local, "Contents") || !strcmp(local, "Upload"))) {
		st->in_contents = false;
	} else if (st->depth == 2 && st->collecting) {
		char *t = take_text(st);

		if (t && !strcmp(local, "IsTruncated"))
			st->out->truncated = !strcmp(t, "true");
		if (t && !strcmp(local, "NextContinuationToken") && !st->out->next_token) {
			st->out->next_token = t;
			t = NULL;
		}
		free(t);
	} else if (st->depth == 3 && st->in_contents && st->collecting) {
		struct s3xml_object *o = &st->out->objects[st->out->count - 1];
		char *t = take_text(st);

		if (t && !strcmp(local, "Key") && !o->key) {
			o->key = t;
			t = NULL;
		} else if (t && !strcmp(local, "ETag") && !o->etag) {
			o->etag = t;
			t = NULL;
		} else if (t && !strcmp(local, "UploadId") && !o->upload_id) {
			o->upload_id = t;
			t = NULL;
		} else if (t && !strcmp(local, "Size")) {
			char *end;
			long long v = strtoll(t, &end, 10);

			if (end == t || *end || v < 0)
				list_fail(st, -EBADMSG);
			o->size = v;
		}
		free(t);
	}
out:
	st->collecting = false;
	st->depth--;
}

static void XMLCALL list_text(void *data, const XML_Char *s, int len)
{
	struct list_state *st = data;
	char *grown;

	if (!st->collecting || len <= 0 || st->status.failed)
		return;
	if (st->text_len + (size_t)len > S3XML_VALUE_MAX) {
		list_fail(st, -EBADMSG);
		return;
	}
	grown = realloc(st->text, st->text_len + (size_t)len + 1);
	if (!grown) {
		list_fail(st, -ENOMEM);
		return;
	}
	memcpy(grown + st->text_len, s, (size_t)len);
	st->text_len += (size_t)len;
	grown[st->text_len] = '\0';
	st->text = grown;
}

int s3xml_parse_list(const char *body, size_t len, struct s3xml_list *out)
{
	struct list_state st = { .out = out };
	bool uploads;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = xml_run(body, len, &st.status, list_start, list_end, list_text);
	uploads = !strcmp(out->root, "ListMultipartUploadsResult");
	if (!ret && strcmp(out->root, "ListBucketResult") && !uploads)
		ret = -EBADMSG;
	for (size_t i = 0; !ret && i < out->count; i++)
		if (!out->objects[i].key || (uploads && !out->objects[i].upload_id))
			ret = -EBADMSG;
	free(st.text);
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
