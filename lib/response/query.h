/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the response's Query calls (EC2, IAM) share: a call whose answer
 * only says whether it worked, and the answer's values copied into the case
 * record's JSON by table, so each step lists what it keeps instead of
 * copying it out value by value.
 */
#ifndef FORENSICS_QUERY_H
#define FORENSICS_QUERY_H

#include "aws/awsapi.h"
#include "response/record.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* One value of an answer the record keeps. */
struct query_field {
	const char *key;   /* the record's name for it */
	const char *path;  /* where the answer has it (awsxml_text) */
	bool boolean;      /* "true" or anything else, as a JSON boolean; else the text */
};

#define QUERY_TEXT(key, path) { (key), (path), false }
#define QUERY_BOOL(key, path) { (key), (path), true }

/* awsapi_query with p freed after (0 or its error); the answer, when root, into *root. */
int query_call(struct awsapi_client *c, const char *action, struct awsapi_params *p,
	       struct awsxml_node **root, struct awsapi_error *err);
/* The same with the answer dropped: for calls that only succeed or fail. */
int query_done(struct awsapi_client *c, const char *action, struct awsapi_params *p,
	       struct awsapi_error *err);
/*
 * query_done as one step of the case record, its API named "<service>
 * <action>" ("EC2 CreateTags"). 0 or the call's error.
 */
int query_step(struct awsapi_client *c, const char *action, struct awsapi_params *p,
	       struct case_record *rec, const char *step);
/* The same for EC2's describes of one instance's things (Filter instance-id). */
int query_by_instance(struct awsapi_client *ec2, const char *action, const char *instance_id,
		      struct awsxml_node **root, struct awsapi_error *err);
/* TagSpecification.1 of resource_type: the case, and the instance when not NULL. */
void query_case_tags(struct awsapi_params *p, const char *resource_type, const char *case_id,
		     const char *instance_id);
/* Each field node has into obj (those it lacks left out). */
void query_fields_put(json_object *obj, const struct awsxml_node *node,
		      const struct query_field *fields, size_t count);
/* A new array: for each <item> under set, an object of its fields. */
json_object *query_items(const struct awsxml_node *set, const struct query_field *fields,
			 size_t count);

#endif
