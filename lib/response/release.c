// SPDX-License-Identifier: GPL-2.0-only
#include "response/release.h"
#include "base/jsonutil.h"
#include "response/contain.h"
#include "response/query.h"

#include <stdio.h>
#include <string.h>

static json_object *list(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_array) ?
	       v : NULL;
}

static void restore_groups(struct awsapi_client *ec2, json_object *found,
			   struct case_record *rec, json_object *done)
{
	json_object *enis = list(found, "network_interfaces"), *a = json_object_new_array();

	json_object_object_add(done, "groups_restored", a);
	for (size_t i = 0; enis && i < json_object_array_length(enis); i++) {
		json_object *e = json_object_array_get_idx(enis, i), *groups = list(e, "groups");
		struct awsapi_params p = { 0 };
		const char *id = json_member_text(e, "id");
		size_t n = 0;

		if (!id || !groups)
			continue;
		awsapi_params_add(&p, "NetworkInterfaceId", "%s", id);
		for (size_t g = 0; g < json_object_array_length(groups); g++) {
			const char *gid = json_member_text(json_object_array_get_idx(groups, g), "id");
			char name[40];

			if (!gid)
				continue;
			snprintf(name, sizeof(name), "SecurityGroupId.%zu", ++n);
			awsapi_params_add(&p, name, "%s", gid);
		}
		if (!n) {
			awsapi_params_free(&p);
			continue;
		}
		if (!query_step(ec2, "ModifyNetworkInterfaceAttribute", &p, rec, "restore-groups"))
			json_object_array_add(a, json_object_new_string(id));
	}
}

static void restore_addresses(struct awsapi_client *ec2, const char *instance_id,
			      json_object *found, struct case_record *rec, json_object *done)
{
	json_object *eips = list(found, "elastic_ips"), *a = json_object_new_array();

	json_object_object_add(done, "elastic_ips_associated", a);
	for (size_t i = 0; eips && i < json_object_array_length(eips); i++) {
		json_object *e = json_object_array_get_idx(eips, i);
		const char *alloc = json_member_text(e, "allocation_id");
		const char *eni = json_member_text(e, "network_interface_id");
		struct awsapi_params p = { 0 };

		if (!alloc || !json_member_text(e, "association_id"))
			continue;
		awsapi_params_add(&p, "AllocationId", "%s", alloc);
		if (eni && *eni)
			awsapi_params_add(&p, "NetworkInterfaceId", "%s", eni);
		else
			awsapi_params_add(&p, "InstanceId", "%s", instance_id);
		/* Taken by something else since: leave it there, say so. */
		awsapi_params_add(&p, "AllowReassociation", "false");
		if (!query_step(ec2, "AssociateAddress", &p, rec, "restore-elastic-ip"))
			json_object_array_add(a, json_object_new_string(alloc));
	}
}

static void restore_profile(struct awsapi_client *ec2, const char *instance_id,
			    json_object *found, json_object *now, struct case_record *rec,
			    json_object *done)
{
	json_object *was = list(found, "profile_associations");
	json_object *is = list(now, "profile_associations");
	const char *arn = was && json_object_array_length(was) ?
			  json_member_text(json_object_array_get_idx(was, 0), "profile_arn") : NULL;
	const char *cur = is && json_object_array_length(is) ?
			  json_member_text(json_object_array_get_idx(is, 0), "association_id") : NULL;
	const char *cur_arn = is && json_object_array_length(is) ?
			      json_member_text(json_object_array_get_idx(is, 0), "profile_arn") : NULL;
	struct awsapi_params p = { 0 };
	const char *api;

	if (arn && cur_arn && !strcmp(arn, cur_arn))
		return;  /* never replaced, or already back */
	if (arn && cur) {
		api = "ReplaceIamInstanceProfileAssociation";
		awsapi_params_add(&p, "AssociationId", "%s", cur);
		awsapi_params_add(&p, "IamInstanceProfile.Arn", "%s", arn);
	} else if (arn) {
		api = "AssociateIamInstanceProfile";
		awsapi_params_add(&p, "InstanceId", "%s", instance_id);
		awsapi_params_add(&p, "IamInstanceProfile.Arn", "%s", arn);
	} else if (cur) {
		api = "DisassociateIamInstanceProfile";  /* it had none: the deny-all goes */
		awsapi_params_add(&p, "AssociationId", "%s", cur);
	} else {
		return;
	}
	if (!query_step(ec2, api, &p, rec, "restore-profile"))
		json_object_object_add(done, "profile_restored",
				       json_object_new_string(arn ? arn : "none"));
}

static void restore_attributes(struct awsapi_client *ec2, const char *instance_id,
			       json_object *found, struct case_record *rec, json_object *done)
{
	json_object *v, *devices = list(found, "block_devices");
	struct awsapi_params p = { 0 };
	size_t n = 0;

	if (json_object_object_get_ex(found, "disable_api_termination", &v)) {
		awsapi_params_add(&p, "InstanceId", "%s", instance_id);
		awsapi_params_add(&p, "DisableApiTermination.Value", "%s",
				  json_object_get_boolean(v) ? "true" : "false");
		if (!query_step(ec2, "ModifyInstanceAttribute", &p, rec,
				"restore-termination-protection"))
			json_object_object_add(done, "termination_protection",
					       json_object_new_boolean(json_object_get_boolean(v)));
	}
	if (json_member_text(found, "shutdown_behavior")) {
		awsapi_params_add(&p, "InstanceId", "%s", instance_id);
		awsapi_params_add(&p, "Attribute", "instanceInitiatedShutdownBehavior");
		awsapi_params_add(&p, "Value", "%s", json_member_text(found, "shutdown_behavior"));
		if (!query_step(ec2, "ModifyInstanceAttribute", &p, rec,
				"restore-shutdown-behavior"))
			json_object_object_add(done, "shutdown_behavior", json_object_new_string(
					       json_member_text(found, "shutdown_behavior")));
	}
	awsapi_params_add(&p, "InstanceId", "%s", instance_id);
	for (size_t i = 0; devices && i < json_object_array_length(devices); i++) {
		json_object *d = json_object_array_get_idx(devices, i);
		char name[64];

		if (!json_member_text(d, "device_name") ||
		    !json_object_object_get_ex(d, "delete_on_termination", &v))
			continue;
		n++;
		snprintf(name, sizeof(name), "BlockDeviceMapping.%zu.DeviceName", n);
		awsapi_params_add(&p, name, "%s", json_member_text(d, "device_name"));
		snprintf(name, sizeof(name), "BlockDeviceMapping.%zu.Ebs.DeleteOnTermination", n);
		awsapi_params_add(&p, name, "%s", json_object_get_boolean(v) ? "true" : "false");
	}
	if (!n) {
		awsapi_params_free(&p);
		return;
	}
	if (!query_step(ec2, "ModifyInstanceAttribute", &p, rec, "restore-delete-on-termination"))
		json_object_object_add(done, "delete_on_termination", json_object_new_boolean(1));
}

void release_instance(struct awsapi_client *ec2, const char *instance_id, json_object *found,
		      json_object *now, struct case_record *rec)
{
	json_object *done = json_object_new_object();
	struct awsapi_params p = { 0 };

	case_record_set(rec, "release", done);
	restore_groups(ec2, found, rec, done);
	restore_addresses(ec2, instance_id, found, rec, done);
	restore_profile(ec2, instance_id, found, now, rec, done);
	restore_attributes(ec2, instance_id, found, rec, done);
	awsapi_params_add(&p, "ResourceId.1", "%s", instance_id);
	contain_status_tags(&p, 1, "Released", json_member_text(rec->root, "case_id"));
	if (!query_step(ec2, "CreateTags", &p, rec, "tag-released"))
		json_object_object_add(done, "tagged", json_object_new_boolean(1));
}
