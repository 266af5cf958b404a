// SPDX-License-Identifier: GPL-2.0-only
#include "response/contain.h"
#include "base/timefmt.h"
#include "base/jsonutil.h"
#include "base/log.h"
#include "response/query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The named group of this VPC, created when missing: *id malloc'd, *created said. */
static int find_group(struct awsapi_client *ec2, const char *vpc, const char *name,
		      const char *description, const char *case_id, char **id, bool *created,
		      struct awsapi_error *err)
{
	struct awsapi_params p = { 0 };
	struct awsxml_node *root = NULL;
	const char *found;
	int ret;

	*id = NULL;
	*created = false;
	awsapi_params_add(&p, "Filter.1.Name", "vpc-id");
	awsapi_params_add(&p, "Filter.1.Value.1", "%s", vpc);
	awsapi_params_add(&p, "Filter.2.Name", "group-name");
	awsapi_params_add(&p, "Filter.2.Value.1", "%s", name);
	ret = query_call(ec2, "DescribeSecurityGroups", &p, &root, err);
	if (ret)
		return ret;
	found = awsxml_text(root, "securityGroupInfo/item/groupId");
	if (found) {
		*id = strdup(found);
		awsxml_free(root);
		return *id ? 0 : -ENOMEM;
	}
	awsxml_free(root);
	root = NULL;
	awsapi_params_add(&p, "GroupName", "%s", name);
	awsapi_params_add(&p, "GroupDescription", "%s", description);
	awsapi_params_add(&p, "VpcId", "%s", vpc);
	query_case_tags(&p, "security-group", case_id, NULL);
	ret = query_call(ec2, "CreateSecurityGroup", &p, &root, err);
	if (ret)
		return ret;
	found = awsxml_text(root, "groupId");
	*id = found ? strdup(found) : NULL;
	awsxml_free(root);
	if (!*id) {
		snprintf(err->text, sizeof(err->text), "EC2 CreateSecurityGroup: no groupId");
		return -EIO;
	}
	*created = true;
	return 0;
}

/* One of the groups containment moves ENIs through, and the record's names for it. */
struct group {
	const char *name, *description;
	const char *step;       /* finding or creating it */
	const char *rule_step;  /* its one rule, set when it is created */
};

static const struct group allow_all = {
	CONTAIN_ALLOW_ALL_GROUP, "forensics: all traffic, so tracked connections become untracked",
	"allow-all-group", "allow-all-ingress",
};

/*
 * The allow-all group of this VPC, created when missing with its one rule
 * (all protocols in from any IPv4 address): *id malloc'd.
 */
static int allow_all_ready(struct awsapi_client *ec2, const char *vpc, const char *case_id,
			   char **id, struct case_record *rec)
{
	const struct group *g = &allow_all;
	struct awsapi_params p = { 0 };
	struct awsapi_error err;
	bool created;
	int ret;

	ret = find_group(ec2, vpc, g->name, g->description, case_id, id, &created, &err);
	if (case_record_step(rec, g->step, "EC2 CreateSecurityGroup", ret, &err) || !created)
		return ret;
	awsapi_params_add(&p, "GroupId", "%s", *id);
	awsapi_params_add(&p, "IpPermissions.1.IpProtocol", "-1");
	awsapi_params_add(&p, "IpPermissions.1.IpRanges.1.CidrIp", "0.0.0.0/0");
	return query_step(ec2, "AuthorizeSecurityGroupIngress", &p, rec, g->rule_step);
}

/* The group's rules by id: egress ones into out, ingress ones into in; the count. */
static int group_rules(struct awsapi_client *ec2, const char *id, struct awsapi_params *out,
		       struct awsapi_params *in, size_t *count, struct awsapi_error *err)
{
	struct awsapi_params p = { 0 };
	struct awsxml_node *root = NULL;
	size_t n_out = 0, n_in = 0;
	int ret;

	awsapi_params_add(&p, "Filter.1.Name", "group-id");
	awsapi_params_add(&p, "Filter.1.Value.1", "%s", id);
	ret = query_call(ec2, "DescribeSecurityGroupRules", &p, &root, err);
	if (ret)
		return ret;
	awsapi_params_add(out, "GroupId", "%s", id);
	awsapi_params_add(in, "GroupId", "%s", id);
	awsxml_for_each(r, awsxml_child(root, "securityGroupRuleSet"), "item") {
		const char *rule = awsxml_text(r, "securityGroupRuleId");
		const char *egress = awsxml_text(r, "isEgress");
		bool is_out = egress && !strcmp(egress, "true");
		char name[48];

		if (!rule)
			continue;
		snprintf(name, sizeof(name), "SecurityGroupRuleId.%zu", is_out ? ++n_out : ++n_in);
		awsapi_params_add(is_out ? out : in, name, "%s", rule);
	}
	awsxml_free(root);
	*count = n_out + n_in;
	return 0;
}

/*
 * The case's isolation group of this VPC (its own, never one trusted by
 * name), created when missing, then every rule it has revoked by rule id
 * (the default IPv4 and, in a dual-stack VPC, IPv6 egress; anything someone
 * added to a group of that name) and checked to have none left: *id
 * malloc'd, or an error when it is not empty (nothing is moved into it).
 */
static int isolation_ready(struct awsapi_client *ec2, const char *vpc, const char *case_id,
			   char **id, struct case_record *rec, json_object *out)
{
	struct awsapi_params egress = { 0 }, ingress = { 0 };
	struct awsapi_error err = { 0 };
	char name[128];
	bool created;
	size_t count = 0;
	int ret;

	snprintf(name, sizeof(name), "%s-%s", CONTAIN_ISOLATION_GROUP, case_id);
	ret = find_group(ec2, vpc, name, "forensics: isolation of one case, no rules", case_id, id,
			 &created, &err);
	if (case_record_step(rec, "isolation-group", "EC2 CreateSecurityGroup", ret, &err))
		return ret;
	ret = group_rules(ec2, *id, &egress, &ingress, &count, &err);
	if (case_record_step(rec, "isolation-rules", "EC2 DescribeSecurityGroupRules", ret, &err))
		goto out;
	json_object_object_add(out, "isolation_rules_found", json_object_new_int((int)count));
	if (egress.count > 1)
		query_step(ec2, "RevokeSecurityGroupEgress", &egress, rec, "isolation-no-egress");
	if (ingress.count > 1)
		query_step(ec2, "RevokeSecurityGroupIngress", &ingress, rec,
			   "isolation-no-ingress");
	awsapi_params_free(&egress);
	awsapi_params_free(&ingress);
	ret = group_rules(ec2, *id, &egress, &ingress, &count, &err);
	if (!ret && count) {
		snprintf(err.text, sizeof(err.text), "the isolation group %s of %s still has %zu "
			 "rule(s): no ENI is moved into it", *id, vpc, count);
		err.code[0] = '\0';
		ret = -EPERM;
	}
	case_record_step(rec, "isolation-empty", "EC2 DescribeSecurityGroupRules", ret, &err);
out:
	awsapi_params_free(&egress);
	awsapi_params_free(&ingress);
	return ret;
}

static int groups_ready(struct awsapi_client *ec2, const char *vpc, const char *case_id,
			char **allow, char **isolate, json_object *out, struct case_record *rec)
{
	int ret;

	ret = allow_all_ready(ec2, vpc, case_id, allow, rec);
	if (!ret)
		ret = isolation_ready(ec2, vpc, case_id, isolate, rec, out);
	if (ret)
		return ret;
	json_object_object_add(out, "allow_all_group", json_object_new_string(*allow));
	json_object_object_add(out, "isolation_group", json_object_new_string(*isolate));
	return 0;
}

static int move_enis(struct awsapi_client *ec2, json_object *enis, const char *group,
		     const char *name, struct case_record *rec)
{
	int failed = 0;

	for (size_t i = 0; i < json_object_array_length(enis); i++) {
		const char *eni = json_member_text(json_object_array_get_idx(enis, i), "id");
		struct awsapi_params p = { 0 };
		int ret;

		if (!eni)
			continue;
		awsapi_params_add(&p, "NetworkInterfaceId", "%s", eni);
		awsapi_params_add(&p, "SecurityGroupId.1", "%s", group);
		ret = query_step(ec2, "ModifyNetworkInterfaceAttribute", &p, rec, name);
		if (ret)
			failed = ret;
	}
	return failed;
}

/* {"Statement": deny everything to sessions issued before now}. */
static char *revoke_policy(void)
{
	char when[32], *doc = NULL;
	time_t now = time(NULL);

	timefmt_iso8601(now, when, sizeof(when));
	if (asprintf(&doc, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\","
		     "\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{\"DateLessThan\":"
		     "{\"aws:TokenIssueTime\":\"%s\"}}}]}", when) < 0)
		return NULL;
	return doc;
}

/* The role behind the profile ARN (…:instance-profile/[path/]name): *role malloc'd. */
static int profile_role(struct awsapi_client *iam, const char *profile_arn, char **role,
			struct awsapi_error *err)
{
	struct awsapi_params p = { 0 };
	struct awsxml_node *root = NULL;
	const char *name = strrchr(profile_arn, '/'), *r;
	int ret;

	*role = NULL;
	if (!name || !name[1]) {
		snprintf(err->text, sizeof(err->text), "not an instance profile ARN: %.200s",
			 profile_arn);
		return -EINVAL;
	}
	awsapi_params_add(&p, "InstanceProfileName", "%s", name + 1);
	ret = query_call(iam, "GetInstanceProfile", &p, &root, err);
	if (ret)
		return ret;
	r = awsxml_text(root, "GetInstanceProfileResult/InstanceProfile/Roles/member/RoleName");
	*role = r ? strdup(r) : NULL;
	awsxml_free(root);
	return 0;  /* a profile without a role: nothing to revoke */
}

/*
 * The profile associations now (memory acquisition may have attached one since
 * the instance was described), as the record's instance lists them; the
 * description's when they cannot be read. Owned by out's caller via rec.
 */
static json_object *current_associations(struct awsapi_client *ec2, const char *instance_id,
					 json_object *instance, struct case_record *rec)
{
	struct awsxml_node *root = NULL;
	struct awsapi_error err;
	json_object *a, *v;
	int ret;

	ret = query_by_instance(ec2, "DescribeIamInstanceProfileAssociations", instance_id, &root,
				&err);
	if (case_record_step(rec, "profile-associations",
			     "EC2 DescribeIamInstanceProfileAssociations", ret, &err))
		return json_object_object_get_ex(instance, "profile_associations", &v) ? v : NULL;
	a = json_object_new_array();
	awsxml_for_each(x, awsxml_child(root, "iamInstanceProfileAssociationSet"), "item") {
		const char *state = awsxml_text(x, "state");
		json_object *e;

		if (state && strcmp(state, "associated") && strcmp(state, "associating"))
			continue;
		e = json_object_new_object();
		if (awsxml_text(x, "associationId"))
			json_object_object_add(e, "association_id", json_object_new_string(
						       awsxml_text(x, "associationId")));
		if (awsxml_text(x, "iamInstanceProfile/arn"))
			json_object_object_add(e, "profile_arn", json_object_new_string(
						       awsxml_text(x, "iamInstanceProfile/arn")));
		json_object_array_add(a, e);
	}
	awsxml_free(root);
	/* Kept in the record: what containment acted on. */
	json_object_object_add(json_object_object_get(rec->root, "containment"),
			       "profile_associations_found", a);
	return a;
}

/* Deny everything to the sessions of the profile's role issued before now. */
static void revoke_sessions(struct awsapi_client *iam, const char *profile_arn,
			   struct case_record *rec, json_object *out)
{
	struct awsapi_params p = { 0 };
	struct awsapi_error err;
	char *role = NULL, *policy = NULL;
	int ret;

	ret = profile_role(iam, profile_arn, &role, &err);
	if (case_record_step(rec, "instance-role", "IAM GetInstanceProfile", ret, &err) || !role)
		return;
	policy = revoke_policy();
	awsapi_params_add(&p, "RoleName", "%s", role);
	awsapi_params_add(&p, "PolicyName", CONTAIN_REVOKE_POLICY);
	awsapi_params_add(&p, "PolicyDocument", "%s", policy ? policy : "");
	if (!query_step(iam, "PutRolePolicy", &p, rec, "revoke-sessions"))
		json_object_object_add(out, "sessions_revoked_on", json_object_new_string(role));
	free(policy);
	free(role);
}

/* The deny-all profile in place of the association, or associated when there was none. */
static void deny_profile(struct awsapi_client *ec2, const struct contain_options *o,
			 const char *association, struct case_record *rec, json_object *out)
{
	const char *api = association ? "ReplaceIamInstanceProfileAssociation" :
					"AssociateIamInstanceProfile";
	struct awsapi_params p = { 0 };

	if (association)
		awsapi_params_add(&p, "AssociationId", "%s", association);
	else
		awsapi_params_add(&p, "InstanceId", "%s", o->instance_id);
	awsapi_params_add(&p, "IamInstanceProfile.Arn", "%s", o->deny_profile_arn);
	if (!query_step(ec2, api, &p, rec, "deny-profile"))
		json_object_object_add(out, "profile_replaced_by",
				       json_object_new_string(o->deny_profile_arn));
}

void contain_status_tags(struct awsapi_params *p, int first, const char *status,
			 const char *case_id)
{
	char when[32] = "", key[32];

	timefmt_iso8601(time(NULL), when, sizeof(when));
	snprintf(key, sizeof(key), "Tag.%d.Key", first);
	awsapi_params_add(p, key, CONTAIN_STATUS_TAG);
	snprintf(key, sizeof(key), "Tag.%d.Value", first);
	awsapi_params_add(p, key, "%s", status);
	/* A new value each time: its key is among the event's changed keys. */
	snprintf(key, sizeof(key), "Tag.%d.Key", first + 1);
	awsapi_params_add(p, key, CONTAIN_MARKER_TAG);
	snprintf(key, sizeof(key), "Tag.%d.Value", first + 1);
	awsapi_params_add(p, key, "%s %s %s", status, case_id, when);
}

void contain_instance(struct awsapi_client *ec2, struct awsapi_client *iam,
		      const struct contain_options *o, json_object *instance,
		      struct case_record *rec)
{
	json_object *out = json_object_new_object(), *enis = NULL, *list, *a;
	char *allow = NULL, *isolate = NULL;
	const char *vpc = json_member_text(instance, "vpc_id");
	struct awsapi_params p = { 0 };

	case_record_set(rec, "containment", out);
	json_object_object_get_ex(instance, "network_interfaces", &enis);
	/*
	 * Network first: it is what stops an intruder now. A failed move to the
	 * allow-all group leaves tracked connections alive, but isolation still
	 * stops every new one: go on.
	 */
	if (vpc && enis && !groups_ready(ec2, vpc, o->case_id, &allow, &isolate, out, rec)) {
		move_enis(ec2, enis, allow, "eni-allow-all", rec);
		if (!move_enis(ec2, enis, isolate, "eni-isolation", rec))
			json_object_object_add(out, "enis_isolated", json_object_new_boolean(1));
	}
	if (json_object_object_get_ex(instance, "elastic_ips", &list)) {
		a = json_object_new_array();
		json_object_object_add(out, "elastic_ips_disassociated", a);
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			json_object *x = json_object_array_get_idx(list, i);
			const char *assoc = json_member_text(x, "association_id");

			if (!assoc)
				continue;
			awsapi_params_add(&p, "AssociationId", "%s", assoc);
			if (!query_step(ec2, "DisassociateAddress", &p, rec, "elastic-ip"))
				json_object_array_add(a, json_object_new_string(assoc));
		}
	}
	list = current_associations(ec2, o->instance_id, instance, rec);
	if (list) {
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			json_object *x = json_object_array_get_idx(list, i);
			const char *assoc = json_member_text(x, "association_id");
			const char *arn = json_member_text(x, "profile_arn");

			/* Revoke first: the role must not keep its live sessions either way. */
			/* Our own SSM profile's role serves other instances too. */
			if (arn && !(o->own_profile_arn && !strcmp(arn, o->own_profile_arn)))
				revoke_sessions(iam, arn, rec, out);
			if (o->deny_profile_arn && assoc)
				deny_profile(ec2, o, assoc, rec, out);
		}
		if (!json_object_array_length(list) && o->deny_profile_arn)
			deny_profile(ec2, o, NULL, rec, out);
	}
	awsapi_params_add(&p, "ResourceId.1", "%s", o->instance_id);
	contain_status_tags(&p, 1, "Contain", o->case_id);
	awsapi_params_add(&p, "Tag.3.Key", CASE_TAG_KEY);
	awsapi_params_add(&p, "Tag.3.Value", "%s", o->case_id);
	if (!query_step(ec2, "CreateTags", &p, rec, "tag-contain"))
		json_object_object_add(out, "tagged", json_object_new_boolean(1));
	free(allow);
	free(isolate);
}
