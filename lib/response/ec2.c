// SPDX-License-Identifier: GPL-2.0-only
#include "response/ec2.h"
#include "base/util.h"
#include "response/query.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

bool ec2_instance_id_ok(const char *s)
{
	if (!s || strncmp(s, "i-", 2) || (strlen(s) != 10 && strlen(s) != 19))
		return false;
	for (s += 2; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static const struct query_field instance_fields[] = {
	QUERY_TEXT("instance_id", "instanceId"), QUERY_TEXT("state", "instanceState/name"),
	QUERY_TEXT("instance_type", "instanceType"), QUERY_TEXT("image_id", "imageId"),
	QUERY_TEXT("launch_time", "launchTime"),
	QUERY_TEXT("availability_zone", "placement/availabilityZone"),
	QUERY_TEXT("vpc_id", "vpcId"), QUERY_TEXT("subnet_id", "subnetId"),
	QUERY_TEXT("private_ip", "privateIpAddress"), QUERY_TEXT("public_ip", "ipAddress"),
	QUERY_TEXT("key_name", "keyName"), QUERY_TEXT("root_device_name", "rootDeviceName"),
};

static const struct query_field volume_fields[] = {
	QUERY_TEXT("device_name", "deviceName"), QUERY_TEXT("volume_id", "ebs/volumeId"),
	QUERY_TEXT("status", "ebs/status"), QUERY_TEXT("attach_time", "ebs/attachTime"),
	QUERY_BOOL("delete_on_termination", "ebs/deleteOnTermination"),
};

static const struct query_field eni_fields[] = {
	QUERY_TEXT("id", "networkInterfaceId"), QUERY_TEXT("subnet_id", "subnetId"),
	QUERY_TEXT("vpc_id", "vpcId"), QUERY_TEXT("mac_address", "macAddress"),
	QUERY_TEXT("private_ip", "privateIpAddress"),
	QUERY_TEXT("attachment_id", "attachment/attachmentId"),
	QUERY_TEXT("device_index", "attachment/deviceIndex"),
	QUERY_TEXT("public_ip", "association/publicIp"),
};

static const struct query_field association_fields[] = {
	QUERY_TEXT("association_id", "associationId"),
	QUERY_TEXT("profile_arn", "iamInstanceProfile/arn"), QUERY_TEXT("state", "state"),
};

static const struct query_field address_fields[] = {
	QUERY_TEXT("public_ip", "publicIp"), QUERY_TEXT("allocation_id", "allocationId"),
	QUERY_TEXT("association_id", "associationId"),
	QUERY_TEXT("network_interface_id", "networkInterfaceId"),
};

static json_object *groups(const struct awsxml_node *set)
{
	static const struct query_field fields[] = {
		QUERY_TEXT("id", "groupId"), QUERY_TEXT("name", "groupName"),
	};

	return query_items(set, fields, ARRAY_SIZE(fields));
}

static json_object *instance_json(const struct awsxml_node *i)
{
	json_object *o = json_object_new_object(), *a, *tags;

	query_fields_put(o, i, instance_fields, ARRAY_SIZE(instance_fields));
	if (awsxml_child(i, "iamInstanceProfile")) {
		static const struct query_field profile[] = {
			QUERY_TEXT("arn", "iamInstanceProfile/arn"),
			QUERY_TEXT("id", "iamInstanceProfile/id"),
		};
		json_object *p = json_object_new_object();

		query_fields_put(p, i, profile, ARRAY_SIZE(profile));
		json_object_object_add(o, "iam_instance_profile", p);
	}
	json_object_object_add(o, "security_groups", groups(awsxml_child(i, "groupSet")));
	json_object_object_add(o, "block_devices", query_items(awsxml_child(i, "blockDeviceMapping"),
							       volume_fields,
							       ARRAY_SIZE(volume_fields)));
	a = json_object_new_array();
	awsxml_for_each(n, awsxml_child(i, "networkInterfaceSet"), "item") {
		json_object *e = json_object_new_object();

		query_fields_put(e, n, eni_fields, ARRAY_SIZE(eni_fields));
		json_object_object_add(e, "groups", groups(awsxml_child(n, "groupSet")));
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "network_interfaces", a);
	tags = json_object_new_object();
	awsxml_for_each(t, awsxml_child(i, "tagSet"), "item") {
		const char *k = awsxml_text(t, "key"), *v = awsxml_text(t, "value");

		if (k)
			json_object_object_add(tags, k, json_object_new_string(v ? v : ""));
	}
	json_object_object_add(o, "tags", tags);
	return o;
}

static int attribute(struct awsapi_client *ec2, const char *instance_id, const char *name,
		     const char *path, const char *key, json_object *o, struct awsapi_error *err)
{
	const struct query_field field = {
		key, path, !strcmp(name, "disableApiTermination"),
	};
	struct awsapi_params p = { 0 };
	struct awsxml_node *root;
	int ret;

	awsapi_params_add(&p, "InstanceId", "%s", instance_id);
	awsapi_params_add(&p, "Attribute", "%s", name);
	ret = query_call(ec2, "DescribeInstanceAttribute", &p, &root, err);
	if (ret)
		return ret;
	query_fields_put(o, root, &field, 1);
	awsxml_free(root);
	return 0;
}

int ec2_describe_instance(struct awsapi_client *ec2, const char *instance_id,
			  json_object **out, struct awsapi_error *err)
{
	struct awsapi_params p = { 0 };
	struct awsxml_node *root = NULL;
	const struct awsxml_node *inst;
	json_object *o = NULL, *a;
	int ret;

	*out = NULL;
	awsapi_params_add(&p, "InstanceId.1", "%s", instance_id);
	ret = query_call(ec2, "DescribeInstances", &p, &root, err);
	if (ret)
		return ret;
	inst = awsxml_path(root, "reservationSet/item/instancesSet/item");
	if (!inst) {
		/* Terminated long ago, or filtered out: EC2 answers an empty set. */
		snprintf(err->text, sizeof(err->text), "EC2 DescribeInstances: no instance %s",
			 instance_id);
		snprintf(err->code, sizeof(err->code), "InvalidInstanceID.NotFound");
		ret = -ENOENT;
		goto out;
	}
	o = instance_json(inst);
	awsxml_free(root);
	root = NULL;
	/* What preservation changes, as it was: release restores it. */
	ret = attribute(ec2, instance_id, "disableApiTermination", "disableApiTermination/value",
			"disable_api_termination", o, err);
	if (!ret)
		ret = attribute(ec2, instance_id, "instanceInitiatedShutdownBehavior",
				"instanceInitiatedShutdownBehavior/value",
				"shutdown_behavior", o, err);
	if (!ret)
		ret = query_by_instance(ec2, "DescribeIamInstanceProfileAssociations", instance_id, &root,
				  err);
	if (ret)
		goto out;
	a = query_items(awsxml_child(root, "iamInstanceProfileAssociationSet"), association_fields,
			ARRAY_SIZE(association_fields));
	json_object_object_add(o, "profile_associations", a);
	awsxml_free(root);
	root = NULL;
	ret = query_by_instance(ec2, "DescribeAddresses", instance_id, &root, err);
	if (ret)
		goto out;
	a = query_items(awsxml_child(root, "addressesSet"), address_fields,
			ARRAY_SIZE(address_fields));
	json_object_object_add(o, "elastic_ips", a);
	*out = o;
	o = NULL;
out:
	json_object_put(o);
	awsxml_free(root);
	return ret;
}

int ec2_protect_termination(struct awsapi_client *ec2, const char *instance_id,
			    struct awsapi_error *err)
{
	struct awsapi_params p = { 0 };

	awsapi_params_add(&p, "InstanceId", "%s", instance_id);
	awsapi_params_add(&p, "DisableApiTermination.Value", "true");
	return query_done(ec2, "ModifyInstanceAttribute", &p, err);
}

int ec2_shutdown_stop(struct awsapi_client *ec2, const char *instance_id,
		      struct awsapi_error *err)
{
	struct awsapi_params p = { 0 };

	awsapi_params_add(&p, "InstanceId", "%s", instance_id);
	awsapi_params_add(&p, "Attribute", "instanceInitiatedShutdownBehavior");
	awsapi_params_add(&p, "Value", "stop");
	return query_done(ec2, "ModifyInstanceAttribute", &p, err);
}

int ec2_keep_volumes(struct awsapi_client *ec2, const char *instance_id,
		     json_object *instance, struct awsapi_error *err)
{
	struct awsapi_params p = { 0 };
	json_object *devices, *name;
	char key[64];
	size_t n = 0;

	memset(err, 0, sizeof(*err));
	awsapi_params_add(&p, "InstanceId", "%s", instance_id);
	if (json_object_object_get_ex(instance, "block_devices", &devices)) {
		for (size_t i = 0; i < json_object_array_length(devices); i++) {
			json_object *d = json_object_array_get_idx(devices, i);

			if (!json_object_object_get_ex(d, "device_name", &name))
				continue;
			n++;
			snprintf(key, sizeof(key), "BlockDeviceMapping.%zu.DeviceName", n);
			awsapi_params_add(&p, key, "%s", json_object_get_string(name));
			snprintf(key, sizeof(key), "BlockDeviceMapping.%zu.Ebs.DeleteOnTermination",
				 n);
			awsapi_params_add(&p, key, "false");
		}
	}
	if (!n) {
		awsapi_params_free(&p);
		return 0;  /* instance-store only: nothing would survive anyway */
	}
	return query_done(ec2, "ModifyInstanceAttribute", &p, err);
}

static const struct query_field console_fields[] = {
	QUERY_TEXT("timestamp", "timestamp"), QUERY_TEXT("output_base64", "output"),
};

int ec2_console_output(struct awsapi_client *ec2, const char *instance_id, json_object **out,
		       struct awsapi_error *err)
{
	struct awsapi_params p = { 0 };
	struct awsxml_node *root = NULL;
	int ret;

	*out = NULL;
	awsapi_params_add(&p, "InstanceId", "%s", instance_id);
	ret = query_call(ec2, "GetConsoleOutput", &p, &root, err);
	if (ret)
		return ret;
	*out = json_object_new_object();
	query_fields_put(*out, root, console_fields, ARRAY_SIZE(console_fields));
	awsxml_free(root);
	return 0;
}
