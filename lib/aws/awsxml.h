/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small XML tree for every AWS answer: the Query-protocol ones (EC2, STS,
 * IAM, SNS), whose values sit deep in nested "…Set/item" lists, and S3's
 * flat ones (s3xml.c reads them from it, with its own tighter bounds).
 * The library's one expat parser: bounded in size, depth, node count and
 * text, with no DTD or entities, since the body comes from the network.
 */
#ifndef FORENSICS_AWSXML_H
#define FORENSICS_AWSXML_H

#include <stddef.h>

#define AWSXML_BODY_MAX (16u << 20)
#define AWSXML_MAX_DEPTH 48
#define AWSXML_MAX_NODES 200000
#define AWSXML_TEXT_MAX (4u << 20)

struct awsxml_node {
	char *name;   /* local name, namespace stripped */
	char *text;   /* character data directly inside, never NULL */
	size_t text_len;
	struct awsxml_node *parent, *first_child, *last_child, *next;
};

/* What one document may make the parser hold. */
struct awsxml_limits {
	size_t body_max;
	unsigned int max_depth;
	size_t max_nodes;
	size_t text_max;        /* one element's text */
};

/* 0 with *root, or -EBADMSG (not XML, DTD, too deep/large), -ENOMEM. */
int awsxml_parse(const char *body, size_t len, struct awsxml_node **root);
/* The same within other bounds. */
int awsxml_parse_limited(const char *body, size_t len, const struct awsxml_limits *limits,
			 struct awsxml_node **root);
void awsxml_free(struct awsxml_node *root);

/* First direct child called name, or NULL (n may be NULL). */
const struct awsxml_node *awsxml_child(const struct awsxml_node *n, const char *name);
/* The next sibling with n's name: walks an "item" list. */
const struct awsxml_node *awsxml_next(const struct awsxml_node *n);
/* "a/b/c" below n, each step the first child of that name. */
const struct awsxml_node *awsxml_path(const struct awsxml_node *n, const char *path);
/* Text of awsxml_path(n, path), or NULL when there is no such element. */
const char *awsxml_text(const struct awsxml_node *n, const char *path);
/* The first element called name at any depth below n (depth first). */
const struct awsxml_node *awsxml_find(const struct awsxml_node *n, const char *name);

#define awsxml_for_each(item, list, name) \
	for (const struct awsxml_node *item = awsxml_child((list), (name)); item; \
	     item = awsxml_next(item))

#endif
