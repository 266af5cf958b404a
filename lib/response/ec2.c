// SPDX-License-Identifier: GPL-2.0-only
#include "response/ec2.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Copy the text at path (if present) into obj[key]. */
static void put_text(json_object *obj, const char *key, const struct awsxml_node *n,
		     const char *path)
{
	const char *v = awsxml_text(n, path);

	if (v)
		json_object_object_add(obj, key, json_object_new_string(v));
}

static void put_bool(json_object *obj, const char *key, const struct awsxml_node *n,
		     const char *path)
{
	const char *v = awsxml_text(n, path);

	if (v)
		json_object_object_add(obj, key, json_object_new_boolean(!strcmp(v, "true")));
}

static json_object *groups(const struct awsxml_node *set)
{
	json_object *a = json_object_new_array();

	awsxml_for_each(g, set, "item") {
		json_object *o = json_object_new_object();

		put_text(o, "id", g, "groupId");
		put_text(o, "name", g, "groupName");
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *instance_json(const struct awsxml_node *i)
{
	json_object *o = json_object_new_object(), *a, *tags;

	put_text(o, "instance_id", i, "instanceId");
	put_text(o, "state", i, "instanceState/name");
	put_text(o, "instance_type", i, "instanceType");
	put_text(o, "image_id", i, "imageId");
	put_text(o, "launch_time", i, "launchTime");
	put_text(o, "availability_zone", i, "placement/availabilityZone");
	put_text(o, "vpc_id", i, "vpcId");
	put_text(o, "subnet_id", i, "subnetId");
	put_text(o, "private_ip", i, "privateIpAddress");
	put_text(o, "public_ip", i, "ipAddress");
	put_text(o, "key_name", i, "keyName");
	put_text(o, "root_device_name", i, "rootDeviceName");
	if (awsxml_child(i, "iamInstanceProfile")) {
		json_object *p = json_object_new_object();

		put_text(p, "arn", i, "iamInstanceProfile/arn");
		put_text(p, "id", i, "iamInstanceProfile/id");
		json_object_object_add(o, "iam_instance_profile", p);
	}
	json_object_object_add(o, "security_groups", groups(awsxml_child(i, "groupSet")));
	a = json_object_new_array();
	awsxml_for_each(b, awsxml_child(i, "blockDeviceMapping"), "item") {
		json_object *v = json_object_new_object();

		put_text(v, "device_name", b, "deviceName");
		put_text(v, "volume_id", b, "ebs/volumeId");
		put_text(v, "status", b, "ebs/status");
		put_text(v, "attach_time", b, "ebs/attachTime");
		put_bool(v, "delete_on_termination", b, "ebs/deleteOnTermination");
		json_object_array_add(a, v);
	}
	json_object_object_add(o, "block_devices", a);
	a = json_object_new_array();
	awsxml_for_each(n, awsxml_child(i, "networkInterfaceSet"), "item") {
		json_object *e = json_object_new_object();

		put_text(e, "id", n, "networkInterfaceId");
		put_text(e, "subnet_id", n, "subnetId");
		put_text(e, "vpc_id", n, "vpcId");
		put_text(e, "mac_address", n, "macAddress");
		put_text(e, "private_ip", n, "privateIpAddress");
		put_text(e, "attachment_id", n, "attachment/attachmentId");
		put_text(e, "device_index", n, "attachment/deviceIndex");
		put_text(e, "public_ip", n, "association/publicIp");
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
	struct awsapi_params p = { 0 };
	struct awsxml_node *root;
	int ret;

	awsapi_params_add(&p, "InstanceId", "%s", instance_id);
	awsapi_params_add(&p, "Attribute", "%s", name);
	ret = awsapi_query(ec2, "DescribeInstanceAttribute", &p, &root, err);
	awsapi_params_free(&p);
	if (ret)
		return ret;
	if (!strcmp(name, "disableApiTermination"))
		put_bool(o, key, root, path);
	else
		put_text(o, key, root, path);
	awsxml_free(root);
	return 0;
}

static int by_instance(struct awsapi_client *ec2, const char *action, const char *instance_id,
		       struct awsxml_node **root, struct awsapi_error *err)
{
	struct awsapi_params p = { 0 };
	int ret;

	awsapi_params_add(&p, "Filter.1.Name", "instance-id");
	awsapi_params_add(&p, "Filter.1.Value.1", "%s", instance_id);
	ret = awsapi_query(ec2, action, &p, root, err);
	awsapi_params_free(&p);
	return ret;
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
	ret = awsapi_query(ec2, "DescribeInstances", &p, &root, err);
	awsapi_params_free(&p);
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
		ret = by_instance(ec2, "DescribeIamInstanceProfileAssociations", instance_id, &root,
				  err);
	if (ret)
		goto out;
	a = json_object_new_array();
	awsxml_for_each(x, awsxml_child(root, "iamInstanceProfileAssociationSet"), "item") {
		json_object *e = json_object_new_object();

		put_text(e, "association_id", x, "associationId");
		put_text(e, "profile_arn", x, "iamInstanceProfile/arn");
		put_text(e, "state", x, "state");
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "profile_associations", a);
	awsxml_free(root);
	root = NULL;
	ret = by_instance(ec2, "DescribeAddresses", instance_id, &root, err);
	if (ret)
		goto out;
	a = json_object_new_array();
	awsxml_for_each(x, awsxml_child(root, "addressesSet"), "item") {
		json_object *e = json_object_new_object();

		put_text(e, "public_ip", x, "publicIp");
		put_text(e, "allocation_id", x, "allocationId");
		put_text(e, "association_id", x, "associationId");
		put_text(e, "network_interface_id", x, "networkInterfaceId");
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "elastic_ips", a);
	*out = o;
	o = NULL;
out:
	json_object_put(o);
	awsxml_free(root);
	return ret;
}

static int modify(struct awsapi_client *ec2, struct awsapi_params *p, struct awsapi_error *err)
{
	struct awsxml_node *root = NULL;
	int ret = awsapi_query(ec2, "ModifyInstanceAttribute", p, &root, err);

	awsxml_free(root);
	awsapi_params_free(p);
	return ret;
}

int ec2_protect_termination(struct awsapi_client *ec2, const char *instance_id,
			    struct awsapi_error *err)
{
	struct awsapi_params p = { 0 };

	awsapi_params_add(&p, "InstanceId", "%s", instance_id);
	awsapi_params_add(&p, "DisableApiTermination.Value", "true");
	return modify(ec2, &p, err);
}

int ec2_shutdown_stop(struct awsapi_client *ec2, const char *instance_id,
		      struct awsapi_error *err)
{
	struct awsapi_params p = { 0 };

	awsapi_params_add(&p, "InstanceId", "%s", instance_id);
	awsapi_params_add(&p, "Attribute", "instanceInitiatedShutdownBehavior");
	awsapi_params_add(&p, "Value", "stop");
	return modify(ec2, &p, err);
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
	return modify(ec2, &p, err);
}

int ec2_console_output(struct awsapi_client *ec2, const char *instance_id, json_object **out,
		       struct awsapi_error *err)
{
	struct awsapi_params p = { 0 };
	struct awsxml_node *root = NULL;
	int ret;

	*out = NULL;
	awsapi_params_add(&p, "InstanceId", "%s", instance_id);
	ret = awsapi_query(ec2, "GetConsoleOutput", &p, &root, err);
	awsapi_params_free(&p);
	if (ret)
		return ret;
	*out = json_object_new_object();
	put_text(*out, "timestamp", root, "timestamp");
	put_text(*out, "output_base64", root, "output");
	awsxml_free(root);
	return 0;
}
