// SPDX-License-Identifier: GPL-2.0-only
#include "response/query.h"

#include <stdio.h>
#include <string.h>

int query_call(struct awsapi_client *c, const char *action, struct awsapi_params *p,
	       struct awsxml_node **root, struct awsapi_error *err)
{
	int ret = awsapi_query(c, action, p, root, err);

	awsapi_params_free(p);
	return ret;
}

int query_done(struct awsapi_client *c, const char *action, struct awsapi_params *p,
	       struct awsapi_error *err)
{
	struct awsxml_node *root = NULL;
	int ret = query_call(c, action, p, &root, err);

	awsxml_free(root);
	return ret;
}

int query_step(struct awsapi_client *c, const char *action, struct awsapi_params *p,
	       struct case_record *rec, const char *step)
{
	struct awsapi_error err;
	char api[128];
	int ret = query_done(c, action, p, &err);

	snprintf(api, sizeof(api), "%s %s", c->service->id, action);
	return case_record_step(rec, step, api, ret, &err);
}

int query_by_instance(struct awsapi_client *ec2, const char *action, const char *instance_id,
		      struct awsxml_node **root, struct awsapi_error *err)
{
	struct awsapi_params p = { 0 };

	awsapi_params_add(&p, "Filter.1.Name", "instance-id");
	awsapi_params_add(&p, "Filter.1.Value.1", "%s", instance_id);
	return query_call(ec2, action, &p, root, err);
}

void query_case_tags(struct awsapi_params *p, const char *resource_type, const char *case_id,
		     const char *instance_id)
{
	awsapi_params_add(p, "TagSpecification.1.ResourceType", "%s", resource_type);
	awsapi_params_add(p, "TagSpecification.1.Tag.1.Key", CASE_TAG_KEY);
	awsapi_params_add(p, "TagSpecification.1.Tag.1.Value", "%s", case_id);
	if (!instance_id)
		return;
	awsapi_params_add(p, "TagSpecification.1.Tag.2.Key", INSTANCE_TAG_KEY);
	awsapi_params_add(p, "TagSpecification.1.Tag.2.Value", "%s", instance_id);
}

void query_fields_put(json_object *obj, const struct awsxml_node *node,
		      const struct query_field *fields, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const char *v = awsxml_text(node, fields[i].path);

		if (!v)
			continue;
		json_object_object_add(obj, fields[i].key, fields[i].boolean ?
				       json_object_new_boolean(!strcmp(v, "true")) :
				       json_object_new_string(v));
	}
}

json_object *query_items(const struct awsxml_node *set, const struct query_field *fields,
			 size_t count)
{
	json_object *a = json_object_new_array();

	awsxml_for_each(item, set, "item") {
		json_object *o = json_object_new_object();

		query_fields_put(o, item, fields, count);
		json_object_array_add(a, o);
	}
	return a;
}
