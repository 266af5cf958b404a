// SPDX-License-Identifier: GPL-2.0-only
#include "response/snapshots.h"
#include "base/jsonutil.h"
#include "base/util.h"
#include "response/query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct query_field snapshot_fields[] = {
	QUERY_TEXT("snapshot_id", "snapshotId"),
	QUERY_TEXT("volume_id", "volumeId"),
	QUERY_TEXT("state", "state"),
	QUERY_TEXT("start_time", "startTime"),
	QUERY_TEXT("volume_size", "volumeSize"),
};

int snapshots_create(struct awsapi_client *ec2, const char *instance_id, const char *case_id,
		     json_object **out, struct awsapi_error *err)
{
	struct awsapi_params p = { 0 };
	struct awsxml_node *root = NULL;
	json_object *a;
	int ret;

	*out = NULL;
	awsapi_params_add(&p, "InstanceSpecification.InstanceId", "%s", instance_id);
	awsapi_params_add(&p, "InstanceSpecification.ExcludeBootVolume", "false");
	awsapi_params_add(&p, "Description", "forensics case %s: %s", case_id, instance_id);
	awsapi_params_add(&p, "CopyTagsFromSource", "volume");
	query_case_tags(&p, "snapshot", case_id, instance_id);
	ret = query_call(ec2, "CreateSnapshots", &p, &root, err);
	if (ret)
		return ret;
	a = query_items(awsxml_child(root, "snapshotSet"), snapshot_fields,
			ARRAY_SIZE(snapshot_fields));
	awsxml_free(root);
	if (!json_object_array_length(a)) {
		json_object_put(a);
		snprintf(err->text, sizeof(err->text),
			 "EC2 CreateSnapshots: no snapshot in the answer");
		return -EIO;
	}
	*out = a;
	return 0;
}

static const char *tag_value(const struct awsxml_node *item, const char *key)
{
	awsxml_for_each(t, awsxml_child(item, "tagSet"), "item")
		if (awsxml_text(t, "key") && !strcmp(awsxml_text(t, "key"), key))
			return awsxml_text(t, "value");
	return NULL;
}

int snapshots_find(struct awsapi_client *ec2, const char *instance_id, const char *case_id,
		   json_object **originals, json_object **copies, struct awsapi_error *err)
{
	struct awsapi_params p = { 0 };
	struct awsxml_node *root = NULL;
	json_object *seen;
	int ret;

	*originals = *copies = NULL;
	awsapi_params_add(&p, "Filter.1.Name", "tag:" CASE_TAG_KEY);
	awsapi_params_add(&p, "Filter.1.Value.1", "%s", case_id);
	awsapi_params_add(&p, "Filter.2.Name", "tag:" INSTANCE_TAG_KEY);
	awsapi_params_add(&p, "Filter.2.Value.1", "%s", instance_id);
	ret = query_call(ec2, "DescribeSnapshots", &p, &root, err);
	if (ret)
		return ret;
	*originals = json_object_new_array();
	*copies = json_object_new_object();
	seen = json_object_new_object();  /* volumes with an original already */
	awsxml_for_each(s, awsxml_child(root, "snapshotSet"), "item") {
		const char *id = awsxml_text(s, "snapshotId"), *vol = awsxml_text(s, "volumeId");
		const char *source = tag_value(s, SOURCE_SNAPSHOT_TAG_KEY);
		json_object *o;

		if (!id)
			continue;
		if (source) {
			json_object_object_add(*copies, source, json_object_new_string(id));
			continue;
		}
		if (!vol || json_object_object_get_ex(seen, vol, NULL))
			continue;
		json_object_object_add(seen, vol, NULL);
		o = json_object_new_object();
		query_fields_put(o, s, snapshot_fields, ARRAY_SIZE(snapshot_fields));
		/* DescribeSnapshots says "status" where CreateSnapshots says "state". */
		if (awsxml_text(s, "status"))
			json_object_object_add(o, "state",
					       json_object_new_string(awsxml_text(s, "status")));
		json_object_array_add(*originals, o);
	}
	json_object_put(seen);
	awsxml_free(root);
	return 0;
}

int snapshots_wait(struct awsapi_client *ec2, json_object *list, const char *id_key,
		   const char *state_key, time_t deadline, struct awsapi_error *err)
{
	long pause_ms = SNAPSHOT_POLL_FIRST_MS;
	unsigned int seed = (unsigned int)time(NULL) ^ (unsigned int)getpid();
	size_t n = json_object_array_length(list);

	for (;;) {
		struct awsapi_params p = { 0 };
		struct awsxml_node *root = NULL;
		size_t pending = 0;
		int ret;

		for (size_t i = 0, k = 0; i < n; i++) {
			const char *id = json_member_text(json_object_array_get_idx(list, i), id_key);
			char name[32];

			if (!id)
				continue;
			snprintf(name, sizeof(name), "SnapshotId.%zu", ++k);
			awsapi_params_add(&p, name, "%s", id);
		}
		ret = query_call(ec2, "DescribeSnapshots", &p, &root, err);
		if (ret)
			return ret;
		for (size_t i = 0; i < n; i++) {
			json_object *o = json_object_array_get_idx(list, i);
			const char *id = json_member_text(o, id_key), *state = NULL;

			awsxml_for_each(s, awsxml_child(root, "snapshotSet"), "item")
				if (id && awsxml_text(s, "snapshotId") &&
				    !strcmp(awsxml_text(s, "snapshotId"), id))
					state = awsxml_text(s, "status");
			if (!id)
				continue;
			if (state)
				json_object_object_add(o, state_key, json_object_new_string(state));
			if (state && !strcmp(state, "error")) {
				snprintf(err->text, sizeof(err->text),
					 "EC2 DescribeSnapshots: snapshot %s failed (state error)",
					 id);
				awsxml_free(root);
				return -EIO;
			}
			if (!state || strcmp(state, "completed"))
				pending++;
		}
		awsxml_free(root);
		if (!pending)
			return 0;
		if (time(NULL) + pause_ms / 1000 > deadline) {
			snprintf(err->text, sizeof(err->text),
				 "EC2 DescribeSnapshots: %zu of %zu snapshots not completed by the "
				 "deadline", pending, n);
			return -ETIMEDOUT;
		}
		/* Half fixed, half jitter: responses in parallel do not poll in step. */
		usleep((useconds_t)(pause_ms / 2 + rand_r(&seed) % (pause_ms / 2 + 1)) * 1000);
		pause_ms *= 2;
		if (pause_ms > SNAPSHOT_POLL_CAP_MS)
			pause_ms = SNAPSHOT_POLL_CAP_MS;
	}
}

int snapshots_copy(struct awsapi_client *ec2, const char *snapshot_id, const char *region,
		   const char *kms_key, const char *case_id, const char *instance_id,
		   char **copy_id, struct awsapi_error *err)
{
	struct awsapi_params p = { 0 };
	struct awsxml_node *root = NULL;
	const char *id;
	int ret;

	*copy_id = NULL;
	awsapi_params_add(&p, "SourceSnapshotId", "%s", snapshot_id);
	awsapi_params_add(&p, "SourceRegion", "%s", region);
	awsapi_params_add(&p, "Encrypted", "true");
	awsapi_params_add(&p, "KmsKeyId", "%s", kms_key);
	awsapi_params_add(&p, "Description", "forensics case %s: copy of %s", case_id, snapshot_id);
	query_case_tags(&p, "snapshot", case_id, instance_id);
	awsapi_params_add(&p, "TagSpecification.1.Tag.3.Key", SOURCE_SNAPSHOT_TAG_KEY);
	awsapi_params_add(&p, "TagSpecification.1.Tag.3.Value", "%s", snapshot_id);
	ret = query_call(ec2, "CopySnapshot", &p, &root, err);
	if (ret)
		return ret;
	id = awsxml_text(root, "snapshotId");
	if (!id || !(*copy_id = strdup(id))) {
		snprintf(err->text, sizeof(err->text),
			 "EC2 CopySnapshot: no snapshotId in the answer");
		ret = -EIO;
	}
	awsxml_free(root);
	return ret;
}

int snapshots_share(struct awsapi_client *ec2, const char *snapshot_id, const char *account,
		    struct awsapi_error *err)
{
	struct awsapi_params p = { 0 };

	awsapi_params_add(&p, "SnapshotId", "%s", snapshot_id);
	awsapi_params_add(&p, "Attribute", "createVolumePermission");
	awsapi_params_add(&p, "OperationType", "add");
	awsapi_params_add(&p, "UserId.1", "%s", account);
	return query_done(ec2, "ModifySnapshotAttribute", &p, err);
}

/*
 * What an interrupted earlier run made and did not record, looked up once by
 * a rerun: 0 (*found may stay NULL on a first run), or the failed lookup's
 * error, which must stop a second set being made.
 */
static int found_before(struct awsapi_client *ec2, const struct respond_options *o,
			struct case_record *rec, json_object **originals, json_object **copies)
{
	struct awsapi_error err;
	int ret;

	if (rec->run < 2 || *copies)
		return 0;
	ret = snapshots_find(ec2, o->instance_id, o->case_id, originals, copies, &err);
	return case_record_step(rec, "snapshots-find", "EC2 DescribeSnapshots", ret, &err);
}

void snapshots_take(struct awsapi_client *ec2, const struct respond_options *o,
		    const char *region, struct case_record *rec)
{
	time_t deadline = time(NULL) + o->snapshot_timeout_s;
	struct awsapi_error err;
	json_object *snaps = NULL, *originals = NULL, *copies = NULL;
	int ret;

	snaps = json_object_object_get(rec->root, "snapshots");
	if (snaps && json_object_array_length(snaps)) {
		/* Never a second set: the rerun waits for, copies and shares the first. */
		case_record_skip(rec, "snapshots", "taken by an earlier run of this case");
	} else if (found_before(ec2, o, rec, &originals, &copies)) {
		goto out;
	} else if (originals && json_object_array_length(originals)) {
		case_record_skip(rec, "snapshots", "taken by an interrupted earlier run: found by "
				 "their tags");
		snaps = json_object_get(originals);
		case_record_set(rec, "snapshots", snaps);
	} else {
		if (case_record_intent(rec, "snapshots", "EC2 CreateSnapshots"))
			goto out;
		ret = snapshots_create(ec2, o->instance_id, o->case_id, &snaps, &err);
		if (!ret)  /* in the record before the step that saves it */
			case_record_set(rec, "snapshots", snaps);
		if (case_record_step(rec, "snapshots", "EC2 CreateSnapshots", ret, &err))
			goto out;
	}
	ret = snapshots_wait(ec2, snaps, "snapshot_id", "state", deadline, &err);
	if (case_record_step(rec, "snapshots-completed", "EC2 DescribeSnapshots", ret, &err))
		goto out;
	if (o->kms_key) {
		size_t copies_made = 0;

		for (size_t i = 0; i < json_object_array_length(snaps); i++) {
			json_object *s = json_object_array_get_idx(snaps, i), *v, *found = NULL;
			char *copy = NULL;

			if (!json_object_object_get_ex(s, "snapshot_id", &v))
				continue;
			if (json_object_object_get_ex(s, "copy_id", NULL)) {
				copies_made++;
				continue;
			}
			if (found_before(ec2, o, rec, &originals, &copies))
				goto out;
			if (json_object_object_get_ex(copies, json_object_get_string(v), &found)) {
				case_record_skip(rec, "copy", "made by an interrupted earlier run: "
						 "found by its tags");
				copy = strdup(json_object_get_string(found));
				ret = copy ? 0 : -ENOMEM;
			} else {
				if (case_record_intent(rec, "copy", "EC2 CopySnapshot"))
					goto out;
				ret = snapshots_copy(ec2, json_object_get_string(v), region,
						     o->kms_key, o->case_id, o->instance_id, &copy,
						     &err);
			}
			/* In the record before the step that saves it. */
			if (!ret) {
				json_object_object_add(s, "copy_id", json_object_new_string(copy));
				json_object_object_add(s, "copy_kms_key",
						       json_object_new_string(o->kms_key));
				copies_made++;
			}
			free(copy);
			if (!found)
				case_record_step(rec, "copy", "EC2 CopySnapshot", ret, &err);
		}
		if (!copies_made)
			goto out;
		ret = snapshots_wait(ec2, snaps, "copy_id", "copy_state", deadline, &err);
		if (case_record_step(rec, "copies-completed", "EC2 DescribeSnapshots", ret, &err))
			goto out;
	}
	if (!o->share_with)
		goto out;
	for (size_t i = 0; i < json_object_array_length(snaps); i++) {
		json_object *s = json_object_array_get_idx(snaps, i), *v;
		const char *key = o->kms_key ? "copy_id" : "snapshot_id";

		/* Only what was copied is shared when copies were asked for. */
		if (!json_object_object_get_ex(s, key, &v) ||
		    json_object_object_get_ex(s, "shared_with", NULL))
			continue;
		/* Adding the same permission again is harmless: no lookup on a rerun. */
		if (case_record_intent(rec, "share", "EC2 ModifySnapshotAttribute"))
			goto out;
		ret = snapshots_share(ec2, json_object_get_string(v), o->share_with, &err);
		if (!case_record_step(rec, "share", "EC2 ModifySnapshotAttribute", ret, &err))
			json_object_object_add(s, "shared_with",
					       json_object_new_string(o->share_with));
	}
out:
	json_object_put(originals);
	json_object_put(copies);
}
