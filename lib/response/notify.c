// SPDX-License-Identifier: GPL-2.0-only
#include "response/notify.h"
#include "base/jsonutil.h"
#include "base/timefmt.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int notify_topic_region(const char *topic_arn, char **region)
{
	const char *p = topic_arn, *end;

	*region = NULL;
	/* arn : partition : sns : region : account : name */
	if (strncmp(p, "arn:", 4))
		return -EINVAL;
	p = strchr(p + 4, ':');
	if (!p || strncmp(p, ":sns:", 5))
		return -EINVAL;
	p += 5;
	end = strchr(p, ':');
	if (!end || end == p || !strchr(end + 1, ':'))
		return -EINVAL;
	*region = strndup(p, (size_t)(end - p));
	return *region ? 0 : -ENOMEM;
}

json_object *notify_failures(json_object *timeline, int run, char *names, size_t nameslen)
{
	json_object *out = json_object_new_object(), *steps = json_object_new_array();
	json_object *errors = json_object_new_array();
	size_t used = 0;

	names[0] = '\0';
	json_object_object_add(out, "failed_steps", steps);
	json_object_object_add(out, "errors", errors);
	for (size_t i = 0; i < json_object_array_length(timeline); i++) {
		json_object *e = json_object_array_get_idx(timeline, i), *x;
		const char *step = json_member_text(e, "step"), *result = json_member_text(e, "result");
		bool seen = false;

		if (!step || !result || strcmp(result, "failed") ||
		    !json_object_object_get_ex(e, "run", &x) || json_object_get_int(x) != run)
			continue;
		if (json_object_array_length(errors) < NOTIFY_ERRORS_MAX) {
			json_object *err = json_object_new_object();

			json_object_object_add(err, "step", json_object_new_string(step));
			for (const char *const *k = (const char *const[]){ "api", "code", "error", NULL };
			     *k; k++)
				if (json_member_text(e, *k))
					json_object_object_add(err, *k, json_object_new_string(
							       json_member_text(e, *k)));
			json_object_array_add(errors, err);
		}
		for (size_t k = 0; k < json_object_array_length(steps); k++)
			seen |= !strcmp(json_object_get_string(json_object_array_get_idx(steps, k)),
					step);
		if (seen)
			continue;
		json_object_array_add(steps, json_object_new_string(step));
		if (used < nameslen) {
			int w = snprintf(names + used, nameslen - used, "%s%s", used ? ", " : "",
					 step);

			used = w < 0 ? nameslen : used + (size_t)w;
		}
	}
	return out;
}

int notify_publish(struct awsapi_client *sns, const char *topic_arn, const char *case_id,
		   const char *instance_id, const char *milestone, const char *summary,
		   json_object *fields, struct awsapi_error *err)
{
	json_object *msg = fields ? fields : json_object_new_object();
	struct awsapi_params p = { 0 };
	struct awsxml_node *root = NULL;
	char subject[NOTIFY_SUBJECT_MAX + 1], at[32];
	time_t now = time(NULL);
	int ret;

	timefmt_iso8601(now, at, sizeof(at));
	json_object_object_add(msg, "case_id", json_object_new_string(case_id));
	json_object_object_add(msg, "instance_id", json_object_new_string(instance_id));
	json_object_object_add(msg, "milestone", json_object_new_string(milestone));
	json_object_object_add(msg, "at", json_object_new_string(at));
	json_object_object_add(msg, "summary", json_object_new_string(summary));
	/* Subjects: ASCII, no line breaks, at most 100 characters. */
	snprintf(subject, sizeof(subject), "forensics %s %s: %s", case_id, instance_id, milestone);
	for (char *c = subject; *c; c++)
		if ((unsigned char)*c < ' ' || (unsigned char)*c > '~')
			*c = '?';
	awsapi_params_add(&p, "TopicArn", "%s", topic_arn);
	awsapi_params_add(&p, "Subject", "%s", subject);
	awsapi_params_add(&p, "Message", "%s",
			  json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN));
	ret = awsapi_query(sns, "Publish", &p, &root, err);
	awsapi_params_free(&p);
	awsxml_free(root);
	json_object_put(msg);
	return ret;
}
