// SPDX-License-Identifier: GPL-2.0-only
#include "response/events.h"
#include "base/timefmt.h"
#include "base/jsonutil.h"
#include "response/contain.h"
#include "response/ec2.h"
#include "response/record.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>


static bool all_of(const char *s, const char *set, size_t min, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	return n >= min && n <= max && strspn(s, set) == n;
}

#define LOWER_DIGITS "abcdefghijklmnopqrstuvwxyz0123456789"

/* "arn:aws:ec2:<region>:<account>:instance/i-…" → its parts. */
static bool instance_arn(const char *arn, struct event_request *out)
{
	char region[32], account[16], id[24];

	if (!arn || sscanf(arn, "arn:%*[a-z-]:ec2:%31[a-z0-9-]:%15[0-9]:instance/%23s", region,
			   account, id) != 3 || !ec2_instance_id_ok(id))
		return false;
	snprintf(out->region, sizeof(out->region), "%s", region);
	snprintf(out->account, sizeof(out->account), "%s", account);
	snprintf(out->instance_id, sizeof(out->instance_id), "%s", id);
	return true;
}

/* A case id from the event's own, or the instance and the event's day. */
static int set_case(struct event_request *out, const char *given, const char *event_time,
		    char *why, size_t whylen)
{
	char day[9] = "";
	struct tm tm = { 0 };

	if (given) {
		if (!case_record_id_ok(given)) {
			snprintf(why, whylen, "case id: 1-64 letters, digits, '.', '_', '-'");
			return -EINVAL;
		}
		snprintf(out->case_id, sizeof(out->case_id), "%s", given);
		return 0;
	}
	/* The day the event happened, so a retried delivery names the same case. */
	if (!event_time || !strptime(event_time, "%Y-%m-%dT%H:%M:%S", &tm) ||
	    timefmt_day(timegm(&tm), day, sizeof(day)))
		timefmt_day(time(NULL), day, sizeof(day));
	snprintf(out->case_id, sizeof(out->case_id), "%s-%s", out->instance_id, day);
	return 0;
}

/*
 * The case a tag change names, unless the controller's marker says that case
 * was released: then a new one, <instance>-<yyyymmddThhmmssZ> of the event's
 * time (a retried delivery names the same), so nothing of the released case
 * (its preservation, its snapshots) is taken as done.
 */
static int tag_case(json_object *ev, json_object *tags, struct event_request *out, char *why,
		    size_t whylen)
{
	const char *marker = json_path_string(tags, CONTAIN_MARKER_TAG);
	const char *event_time = json_path_string(ev, "time");
	char status[16], marked[65], stamp[TIMEFMT_BUF] = "";
	struct tm tm = { 0 };
	int ret;

	ret = set_case(out, json_path_string(tags, CASE_TAG_KEY), event_time, why, whylen);
	if (ret || !marker || sscanf(marker, "%15s %64s", status, marked) != 2 ||
	    strcmp(status, "Released") || strcmp(marked, out->case_id))
		return ret;
	if (!event_time || !strptime(event_time, "%Y-%m-%dT%H:%M:%S", &tm) ||
	    timefmt_compact(timegm(&tm), stamp, sizeof(stamp)))
		timefmt_compact(time(NULL), stamp, sizeof(stamp));
	snprintf(out->case_id, sizeof(out->case_id), "%s-%s", out->instance_id, stamp);
	out->after_release = true;
	return 0;
}

static int tag_change(json_object *ev, struct event_request *out, char *why, size_t whylen)
{
	json_object *detail, *tags = NULL, *resources, *keys = NULL;
	const char *status;
	bool changed = false, ours = false;

	snprintf(out->kind, sizeof(out->kind), "tag-change");
	if (!json_object_object_get_ex(ev, "detail", &detail) ||
	    !json_object_object_get_ex(detail, "tags", &tags) ||
	    !json_object_object_get_ex(ev, "resources", &resources) ||
	    !json_object_is_type(resources, json_type_array) ||
	    !instance_arn(json_object_get_string(json_object_array_get_idx(resources, 0)), out)) {
		snprintf(why, whylen, "tag change event without an EC2 instance and its tags");
		return -EINVAL;
	}
	/* Only a change of the status tag starts anything, not any tag change while it is set. */
	if (json_object_object_get_ex(detail, "changed-tag-keys", &keys) &&
	    json_object_is_type(keys, json_type_array))
		for (size_t i = 0; i < json_object_array_length(keys); i++) {
			const char *k = json_object_get_string(json_object_array_get_idx(keys, i));

			changed |= k && !strcmp(k, CONTAIN_STATUS_TAG);
			/* The controller writes its marker with every status it sets. */
			ours |= k && !strcmp(k, CONTAIN_MARKER_TAG);
		}
	status = json_path_string(tags, CONTAIN_STATUS_TAG);
	out->action = !changed || !status ? EVENT_IGNORE :
		      !strcmp(status, "Analyze") ? EVENT_ANALYZE :
		      !strcmp(status, "Contain") ? EVENT_CONTAIN : EVENT_IGNORE;
	out->self_made = changed && ours;
	if (out->self_made)
		out->action = EVENT_IGNORE;
	return tag_case(ev, tags, out, why, whylen);
}

/* The index-th distinct AwsEc2Instance among the findings' resources: 0, or -ENOENT. */
static int security_hub(json_object *ev, size_t index, struct event_request *out, char *why,
			size_t whylen)
{
	json_object *detail, *findings;
	const char *seen[EVENT_MAX_INSTANCES];
	size_t n = 0;

	snprintf(out->kind, sizeof(out->kind), "security-hub");
	if (json_object_object_get_ex(ev, "detail", &detail) &&
	    json_object_object_get_ex(detail, "findings", &findings) &&
	    json_object_is_type(findings, json_type_array)) {
		for (size_t f = 0; f < json_object_array_length(findings); f++) {
			json_object *res;

			if (!json_object_object_get_ex(json_object_array_get_idx(findings, f),
						       "Resources", &res) ||
			    !json_object_is_type(res, json_type_array))
				continue;
			for (size_t r = 0; r < json_object_array_length(res); r++) {
				json_object *x = json_object_array_get_idx(res, r);
				const char *type = json_path_string(x, "Type");
				const char *arn = json_path_string(x, "Id");
				bool again = false;

				if (!type || strcmp(type, "AwsEc2Instance") ||
				    !instance_arn(arn, out))
					continue;
				for (size_t k = 0; k < n; k++)
					again |= !strcmp(seen[k], arn);
				if (again)
					continue;
				if (n == index) {
					out->action = EVENT_ANALYZE;
					return set_case(out, NULL, json_path_string(ev, "time"),
							why, whylen);
				}
				if (n == EVENT_MAX_INSTANCES - 1) {
					snprintf(why, whylen, "more than %d instances in one event",
						 EVENT_MAX_INSTANCES);
					return -ENOENT;
				}
				seen[n++] = arn;
			}
		}
	}
	if (n) {
		snprintf(why, whylen, "no instance %zu: the event names %zu", index + 1, n);
		return -ENOENT;
	}
	snprintf(why, whylen, "Security Hub event without an AwsEc2Instance resource");
	return -EINVAL;
}

static int manual(json_object *ev, struct event_request *out, char *why, size_t whylen)
{
	const char *id = json_path_string(ev, "InstanceId"), *account = json_path_string(ev, "Account");
	const char *region = json_path_string(ev, "Region"), *action = json_path_string(ev, "Action");

	snprintf(out->kind, sizeof(out->kind), "manual");
	if (!ec2_instance_id_ok(id) || !all_of(account, "0123456789", 12, 12) ||
	    !all_of(region, LOWER_DIGITS "-", 6, 31) || !json_path_string(ev, "CaseId")) {
		snprintf(why, whylen, "manual event: CaseId, InstanceId, Account (12 digits) and "
			 "Region are required");
		return -EINVAL;
	}
	snprintf(out->instance_id, sizeof(out->instance_id), "%s", id);
	snprintf(out->account, sizeof(out->account), "%s", account);
	snprintf(out->region, sizeof(out->region), "%s", region);
	if (!action || !strcmp(action, "Analyze"))
		out->action = EVENT_ANALYZE;
	else if (!strcmp(action, "Contain"))
		out->action = EVENT_CONTAIN;
	else {
		snprintf(why, whylen, "manual event: Action is Analyze or Contain");
		return -EINVAL;
	}
	return set_case(out, json_path_string(ev, "CaseId"), NULL, why, whylen);
}

int event_parse(const char *json, size_t len, struct event_request *out, char *why,
		size_t whylen)
{
	return event_parse_nth(json, len, 0, out, why, whylen);
}

int event_parse_nth(const char *json, size_t len, size_t index, struct event_request *out,
		    char *why, size_t whylen)
{
	struct json_tokener *tok;
	json_object *ev = NULL;
	const char *source;
	int ret;

	memset(out, 0, sizeof(*out));
	if (len > EVENT_MAX) {
		snprintf(why, whylen, "event larger than %u bytes", EVENT_MAX);
		return -EINVAL;
	}
	tok = json_tokener_new_ex(32);
	if (!tok)
		return -ENOMEM;
	ev = json_tokener_parse_ex(tok, json, (int)len);
	if (!ev || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(ev, json_type_object)) {
		snprintf(why, whylen, "the event is not a JSON object");
		ret = -EINVAL;
		goto out;
	}
	source = json_path_string(ev, "source");
	if (source && !strcmp(source, "aws.securityhub")) {
		ret = security_hub(ev, index, out, why, whylen);
	} else if (index) {
		snprintf(why, whylen, "the event names one instance");
		ret = -ENOENT;
	} else if (source && !strcmp(source, "aws.tag")) {
		ret = tag_change(ev, out, why, whylen);
	} else if (json_path_string(ev, "InstanceId")) {
		ret = manual(ev, out, why, whylen);
	} else {
		snprintf(why, whylen, "not a tag change, Security Hub or manual event");
		ret = -EINVAL;
	}
out:
	json_object_put(ev);
	json_tokener_free(tok);
	return ret;
}
