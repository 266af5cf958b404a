// SPDX-License-Identifier: GPL-2.0-only
#include "response/snapshots.h"
#include "base/jsonutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put_text(json_object *obj, const char *key, const struct awsxml_node *n,
		     const char *path)
{
	const char *v = awsxml_text(n, path);

	if (v)
		json_object_object_add(obj, key, json_object_new_string(v));
}

static void add_case_tags(struct awsapi_params *p, const char *case_id, const char *instance_id)
{
	awsapi_params_add(p, "TagSpecification.1.ResourceType", "snapshot");
	awsapi_params_add(p, "TagSpecification.1.Tag.1.Key", CASE_TAG_KEY);
	awsapi_params_add(p, "TagSpecification.1.Tag.1.Value", "%s", case_id);
	awsapi_params_add(p, "TagSpecification.1.Tag.2.Key", INSTANCE_TAG_KEY);
	awsapi_params_add(p, "TagSpecification.1.Tag.2.Value", "%s", instance_id);
}

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
	add_case_tags(&p, case_id, instance_id);
	ret = awsapi_query(ec2, "CreateSnapshots", &p, &root, err);
	awsapi_params_free(&p);
	if (ret)
		return ret;
	a = json_object_new_array();
	awsxml_for_each(s, awsxml_child(root, "snapshotSet"), "item") {
		json_object *o = json_object_new_object();

		put_text(o, "snapshot_id", s, "snapshotId");
		put_text(o, "volume_id", s, "volumeId");
		put_text(o, "state", s, "state");
		put_text(o, "start_time", s, "startTime");
		put_text(o, "volume_size", s, "volumeSize");
		json_object_array_add(a, o);
	}
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
		ret = awsapi_query(ec2, "DescribeSnapshots", &p, &root, err);
		awsapi_params_free(&p);
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
	add_case_tags(&p, case_id, instance_id);
	ret = awsapi_query(ec2, "CopySnapshot", &p, &root, err);
	awsapi_params_free(&p);
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
	struct awsxml_node *root = NULL;
	int ret;

	awsapi_params_add(&p, "SnapshotId", "%s", snapshot_id);
	awsapi_params_add(&p, "Attribute", "createVolumePermission");
	awsapi_params_add(&p, "OperationType", "add");
	awsapi_params_add(&p, "UserId.1", "%s", account);
	ret = awsapi_query(ec2, "ModifySnapshotAttribute", &p, &root, err);
	awsapi_params_free(&p);
	awsxml_free(root);
	return ret;
}
