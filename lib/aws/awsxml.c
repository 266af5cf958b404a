// SPDX-License-Identifier: GPL-2.0-only
#include "aws/awsxml.h"

#include <errno.h>
#include <expat.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const struct awsxml_limits default_limits = {
	.body_max = AWSXML_BODY_MAX,
	.max_depth = AWSXML_MAX_DEPTH,
	.max_nodes = AWSXML_MAX_NODES,
	.text_max = AWSXML_TEXT_MAX,
};

struct parse_state {
	const struct awsxml_limits *limits;
	struct awsxml_node *root, *cur;
	unsigned int depth;
	size_t nodes;
	int error;
};

static void stop_parse(struct parse_state *st, int error, XML_Parser parser)
{
	if (!st->error)
		st->error = error;
	XML_StopParser(parser, XML_FALSE);
}

static const char *local_name(const XML_Char *name)
{
	const char *bar = strrchr(name, '|');

	return bar ? bar + 1 : name;
}

static void XMLCALL on_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
	XML_Parser parser = data;
	struct parse_state *st = XML_GetUserData(parser);
	struct awsxml_node *n;

	if (st->error)
		return;
	if (++st->depth > st->limits->max_depth || ++st->nodes > st->limits->max_nodes ||
	    (!st->cur && st->root)) {
		stop_parse(st, -EBADMSG, parser);
		return;
	}
	n = calloc(1, sizeof(*n));
	if (!n || !(n->name = strdup(local_name(name))) || !(n->text = calloc(1, 1))) {
		if (n)
			free(n->name);
		free(n);
		stop_parse(st, -ENOMEM, parser);
		return;
	}
	n->parent = st->cur;
	if (!st->cur) {
		st->root = n;
	} else {
		if (st->cur->last_child)
			st->cur->last_child->next = n;
		else
			st->cur->first_child = n;
		st->cur->last_child = n;
	}
	st->cur = n;
}

static void XMLCALL on_end(void *data, const XML_Char *name)
{
	XML_Parser parser = data;
	struct parse_state *st = XML_GetUserData(parser);

	if (st->error || !st->cur)
		return;
	st->cur = st->cur->parent;
	st->depth--;
}

static void XMLCALL on_text(void *data, const XML_Char *s, int len)
{
	XML_Parser parser = data;
	struct parse_state *st = XML_GetUserData(parser);
	struct awsxml_node *n = st->cur;
	char *grown;

	if (st->error || !n || len <= 0)
		return;
	if (n->text_len + (size_t)len > st->limits->text_max) {
		stop_parse(st, -EBADMSG, parser);
		return;
	}
	grown = realloc(n->text, n->text_len + (size_t)len + 1);
	if (!grown) {
		stop_parse(st, -ENOMEM, parser);
		return;
	}
	memcpy(grown + n->text_len, s, (size_t)len);
	n->text_len += (size_t)len;
	grown[n->text_len] = '\0';
	n->text = grown;
}

/* A document type (and so any entity) has no place in an AWS answer. */
static void XMLCALL on_doctype(void *data, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int has_internal_subset)
{
	XML_Parser parser = data;

	stop_parse(XML_GetUserData(parser), -EBADMSG, parser);
}

static void XMLCALL on_entity_decl(void *data, const XML_Char *entity_name,
				   int is_parameter_entity, const XML_Char *value, int value_length,
				   const XML_Char *base, const XML_Char *system_id,
				   const XML_Char *public_id, const XML_Char *notation_name)
{
	XML_Parser parser = data;

	stop_parse(XML_GetUserData(parser), -EBADMSG, parser);
}

int awsxml_parse(const char *body, size_t len, struct awsxml_node **root)
{
	return awsxml_parse_limited(body, len, &default_limits, root);
}

int awsxml_parse_limited(const char *body, size_t len, const struct awsxml_limits *limits,
			 struct awsxml_node **root)
{
	struct parse_state st = { .limits = limits };
	XML_Parser parser;
	int ret = 0;

	*root = NULL;
	if (len > limits->body_max || len > INT_MAX)
		return -EBADMSG;
	parser = XML_ParserCreateNS(NULL, '|');
	if (!parser)
		return -ENOMEM;
	XML_SetUserData(parser, &st);
	/* Handlers get the parser, to stop it. */
	XML_UseParserAsHandlerArg(parser);
	XML_SetElementHandler(parser, on_start, on_end);
	XML_SetCharacterDataHandler(parser, on_text);
	XML_SetStartDoctypeDeclHandler(parser, on_doctype);
	XML_SetEntityDeclHandler(parser, on_entity_decl);
	if (XML_Parse(parser, body, (int)len, XML_TRUE) != XML_STATUS_OK || st.error || !st.root)
		ret = st.error ? st.error : -EBADMSG;
	XML_ParserFree(parser);
	if (ret)
		awsxml_free(st.root);
	else
		*root = st.root;
	return ret;
}

void awsxml_free(struct awsxml_node *root)
{
	struct awsxml_node *n = root;

	/* Iterative, so a deep tree cannot exhaust the stack. */
	while (n) {
		struct awsxml_node *up;
		bool last;

		if (n->first_child) {
			n = n->first_child;
			continue;
		}
		up = n->parent;
		last = n == root;
		if (up)
			up->first_child = n->next;
		free(n->name);
		free(n->text);
		free(n);
		n = last ? NULL : up;
	}
}

const struct awsxml_node *awsxml_child(const struct awsxml_node *n, const char *name)
{
	for (const struct awsxml_node *c = n ? n->first_child : NULL; c; c = c->next)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

const struct awsxml_node *awsxml_next(const struct awsxml_node *n)
{
	for (const struct awsxml_node *s = n ? n->next : NULL; s; s = s->next)
		if (!strcmp(s->name, n->name))
			return s;
	return NULL;
}

const struct awsxml_node *awsxml_path(const struct awsxml_node *n, const char *path)
{
	char step[128];

	while (n && *path) {
		size_t len = strcspn(path, "/");

		if (len >= sizeof(step))
			return NULL;
		memcpy(step, path, len);
		step[len] = '\0';
		n = awsxml_child(n, step);
		path += len;
		if (*path == '/')
			path++;
	}
	return n;
}

const char *awsxml_text(const struct awsxml_node *n, const char *path)
{
	n = awsxml_path(n, path);
	return n ? n->text : NULL;
}

const struct awsxml_node *awsxml_find(const struct awsxml_node *n, const char *name)
{
	const struct awsxml_node *top = n;

	if (!n)
		return NULL;
	n = n->first_child;
	while (n) {
		if (!strcmp(n->name, name))
			return n;
		if (n->first_child) {
			n = n->first_child;
			continue;
		}
		while (n && !n->next) {
			n = n->parent;
			if (n == top)
				return NULL;
		}
		if (n)
			n = n->next;
	}
	return NULL;
}
