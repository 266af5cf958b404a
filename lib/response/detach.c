// SPDX-License-Identifier: GPL-2.0-only
#include "response/detach.h"
#include "aws/awsapi.h"
#include "base/jsonutil.h"
#include "base/log.h"
#include "response/query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Pages of a describe at most: a bound, not a limit anyone should reach. */
#define MAX_PAGES 100

struct clients {
	struct awsapi_client asg, elb, elbv2;
	bool ready;
};

static int clients_init(struct clients *c, struct aws_credentials_provider *cred,
			const char *region, struct case_record *rec)
{
	struct awsapi_error err = { 0 };
	int ret;

	memset(c, 0, sizeof(*c));
	ret = awsapi_client_init(&c->asg, &awsapi_autoscaling, region, cred, err.text,
				 sizeof(err.text));
	if (ret)
		goto fail;
	ret = awsapi_client_init(&c->elb, &awsapi_elb, region, cred, err.text, sizeof(err.text));
	if (ret) {
		awsapi_client_free(&c->asg);
		goto fail;
	}
	ret = awsapi_client_init(&c->elbv2, &awsapi_elbv2, region, cred, err.text,
				 sizeof(err.text));
	if (ret) {
		awsapi_client_free(&c->elb);
		awsapi_client_free(&c->asg);
		goto fail;
	}
	c->ready = true;
	return 0;
fail:
	return case_record_step(rec, "detach", "Auto Scaling and ELB endpoints", ret, &err);
}

static void clients_free(struct clients *c)
{
	if (!c->ready)
		return;
	awsapi_client_free(&c->elbv2);
	awsapi_client_free(&c->elb);
	awsapi_client_free(&c->asg);
	c->ready = false;
}

/* rec's "detachment", made when missing: a rerun adds to what an earlier run did. */
static json_object *detachment(struct case_record *rec)
{
	json_object *d = json_object_object_get(rec->root, "detachment");

	if (!d || !json_object_is_type(d, json_type_object)) {
		d = json_object_new_object();
		case_record_set(rec, "detachment", d);
	}
	return d;
}

static json_object *array_in(json_object *o, const char *key)
{
	json_object *a = json_object_object_get(o, key);

	if (!a || !json_object_is_type(a, json_type_array)) {
		a = json_object_new_array();
		json_object_object_add(o, key, a);
	}
	return a;
}

static void instance_param(struct awsapi_params *p, const char *group, const char *instance_id)
{
	awsapi_params_add(p, "AutoScalingGroupName", "%s", group);
	awsapi_params_add(p, "InstanceIds.member.1", "%s", instance_id);
}

/*
 * Out of its Auto Scaling group: detached, else in Standby, else protected
 * from scale-in (each of which stops the group replacing it by terminating
 * it). Only the outcome is a step: a refused detach that ends in Standby is
 * said in the record, not counted as a failure.
 */
static void leave_group(struct awsapi_client *asg, const char *instance_id,
			struct case_record *rec, json_object *d)
{
	static const char *const actions[] = { "DetachInstances", "EnterStandby",
					       "SetInstanceProtection" };
	static const char *const done[] = { "detached", "standby", "protected-from-scale-in" };
	struct awsapi_params p = { 0 };
	struct awsxml_node *root = NULL;
	struct awsapi_error err;
	const char *group, *state, *prot;
	json_object *g, *refused;
	int ret;

	awsapi_params_add(&p, "InstanceIds.member.1", "%s", instance_id);
	ret = query_call(asg, "DescribeAutoScalingInstances", &p, &root, &err);
	if (case_record_step(rec, "auto-scaling-group", "AutoScaling DescribeAutoScalingInstances",
			     ret, &err))
		return;
	group = awsxml_text(root, "DescribeAutoScalingInstancesResult/AutoScalingInstances/member/"
			    "AutoScalingGroupName");
	if (!group) {
		awsxml_free(root);
		return;
	}
	state = awsxml_text(root, "DescribeAutoScalingInstancesResult/AutoScalingInstances/member/"
			    "LifecycleState");
	prot = awsxml_text(root, "DescribeAutoScalingInstancesResult/AutoScalingInstances/member/"
			   "ProtectedFromScaleIn");
	g = json_object_new_object();
	json_object_object_add(g, "name", json_object_new_string(group));
	if (state)
		json_object_object_add(g, "lifecycle_state", json_object_new_string(state));
	json_object_object_add(g, "protected_from_scale_in",
			       json_object_new_boolean(prot && !strcmp(prot, "true")));
	refused = json_object_new_array();
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		char api[64];

		instance_param(&p, group, instance_id);
		if (i == 2)
			awsapi_params_add(&p, "ProtectedFromScaleIn", "true");
		else
			/* A replacement is welcome: the service goes on without this one. */
			awsapi_params_add(&p, "ShouldDecrementDesiredCapacity", "false");
		ret = query_done(asg, actions[i], &p, &err);
		snprintf(api, sizeof(api), "AutoScaling %s", actions[i]);
		if (!ret) {
			json_object_object_add(g, "action", json_object_new_string(done[i]));
			case_record_step(rec, "auto-scaling-group", api, 0, &err);
			break;
		}
		log_warn("detach", "%s", err.text);
		json_object_array_add(refused, json_object_new_string(err.text));
		if (i == 2)
			case_record_step(rec, "auto-scaling-group", api, ret, &err);
	}
	json_object_object_add(g, "refused", refused);
	json_object_object_add(d, "auto_scaling_group", g);
	awsxml_free(root);
}

/* Every page of a describe: fn called on each answer; 0 or the first error (recorded). */
static int pages(struct awsapi_client *c, const char *action, const char *step,
		 const char *result, struct case_record *rec,
		 void (*fn)(const struct awsxml_node *r, void *arg), void *arg)
{
	char marker[1024] = "", api[64];
	struct awsapi_error err;
	int ret = 0;

	snprintf(api, sizeof(api), "%s %s", c->service->id, action);
	for (int page = 0; page < MAX_PAGES; page++) {
		struct awsapi_params p = { 0 };
		struct awsxml_node *root = NULL;
		const char *next;

		if (*marker)
			awsapi_params_add(&p, "Marker", "%s", marker);
		ret = query_call(c, action, &p, &root, &err);
		if (ret)
			break;
		fn(awsxml_child(root, result), arg);
		next = awsxml_text(awsxml_child(root, result), "NextMarker");
		snprintf(marker, sizeof(marker), "%s", next && *next ? next : "");
		awsxml_free(root);
		if (!*marker)
			break;
	}
	if (ret)
		case_record_step(rec, step, api, ret, &err);
	return ret;
}

struct found {
	const char *instance_id;
	json_object *names;  /* classic: load balancer names; v2: target group ARNs */
};

static void classic_page(const struct awsxml_node *r, void *arg)
{
	struct found *f = arg;

	awsxml_for_each(lb, awsxml_child(r, "LoadBalancerDescriptions"), "member") {
		const char *name = awsxml_text(lb, "LoadBalancerName");

		awsxml_for_each(i, awsxml_child(lb, "Instances"), "member") {
			const char *id = awsxml_text(i, "InstanceId");

			if (name && id && !strcmp(id, f->instance_id))
				json_object_array_add(f->names, json_object_new_string(name));
		}
	}
}

static void target_group_page(const struct awsxml_node *r, void *arg)
{
	struct found *f = arg;

	awsxml_for_each(tg, awsxml_child(r, "TargetGroups"), "member") {
		const char *arn = awsxml_text(tg, "TargetGroupArn");
		const char *type = awsxml_text(tg, "TargetType");

		/* ip and lambda targets are not instance ids; alb targets are balancers. */
		if (arn && (!type || !strcmp(type, "instance")))
			json_object_array_add(f->names, json_object_new_string(arn));
	}
}

static void deregister_classic(struct awsapi_client *elb, const char *instance_id,
			       struct case_record *rec, json_object *d)
{
	struct found f = { instance_id, json_object_new_array() };
	json_object *done = array_in(d, "classic_load_balancers");

	if (!pages(elb, "DescribeLoadBalancers", "classic-load-balancers",
		   "DescribeLoadBalancersResult", rec, classic_page, &f))
		for (size_t i = 0; i < json_object_array_length(f.names); i++) {
			const char *name = json_object_get_string(json_object_array_get_idx(f.names,
											    i));
			struct awsapi_params p = { 0 };

			awsapi_params_add(&p, "LoadBalancerName", "%s", name);
			awsapi_params_add(&p, "Instances.member.1.InstanceId", "%s", instance_id);
			if (!query_step(elb, "DeregisterInstancesFromLoadBalancer", &p, rec,
					"classic-load-balancer"))
				json_object_array_add(done, json_object_new_string(name));
		}
	json_object_put(f.names);
}

/* The instance's registrations in one target group: its ports, into ports. */
static int target_ports(struct awsapi_client *elbv2, const char *arn, const char *instance_id,
			json_object *ports, struct case_record *rec)
{
	struct awsapi_params p = { 0 };
	struct awsxml_node *root = NULL;
	struct awsapi_error err;
	int ret;

	awsapi_params_add(&p, "TargetGroupArn", "%s", arn);
	ret = query_call(elbv2, "DescribeTargetHealth", &p, &root, &err);
	if (case_record_step(rec, "target-health", "ELBv2 DescribeTargetHealth", ret, &err))
		return ret;
	awsxml_for_each(t, awsxml_path(root, "DescribeTargetHealthResult/TargetHealthDescriptions"),
			"member") {
		const char *id = awsxml_text(t, "Target/Id"), *port = awsxml_text(t, "Target/Port");

		if (id && !strcmp(id, instance_id))
			json_object_array_add(ports, json_object_new_string(port ? port : ""));
	}
	awsxml_free(root);
	return 0;
}

static void deregister_targets(struct awsapi_client *elbv2, const char *instance_id,
			       struct case_record *rec, json_object *d)
{
	struct found f = { instance_id, json_object_new_array() };
	json_object *done = array_in(d, "target_groups");

	if (pages(elbv2, "DescribeTargetGroups", "target-groups", "DescribeTargetGroupsResult",
		  rec, target_group_page, &f))
		goto out;
	for (size_t i = 0; i < json_object_array_length(f.names); i++) {
		const char *arn = json_object_get_string(json_object_array_get_idx(f.names, i));
		json_object *ports = json_object_new_array();

		if (!target_ports(elbv2, arn, instance_id, ports, rec))
			for (size_t k = 0; k < json_object_array_length(ports); k++) {
				const char *port = json_object_get_string(
					json_object_array_get_idx(ports, k));
				struct awsapi_params p = { 0 };
				json_object *t;

				awsapi_params_add(&p, "TargetGroupArn", "%s", arn);
				awsapi_params_add(&p, "Targets.member.1.Id", "%s", instance_id);
				if (*port)
					awsapi_params_add(&p, "Targets.member.1.Port", "%s", port);
				if (query_step(elbv2, "DeregisterTargets", &p, rec, "target-group"))
					continue;
				t = json_object_new_object();
				json_object_object_add(t, "arn", json_object_new_string(arn));
				if (*port)
					json_object_object_add(t, "port", json_object_new_int(
								       atoi(port)));
				json_object_array_add(done, t);
			}
		json_object_put(ports);
	}
out:
	json_object_put(f.names);
}

void detach_instance(struct aws_credentials_provider *cred, const char *region,
		     const char *instance_id, struct case_record *rec)
{
	struct clients c;
	json_object *d;

	if (clients_init(&c, cred, region, rec))
		return;
	d = detachment(rec);
	/*
	 * Load balancers first: detaching from the group also takes the
	 * instance out of the group's own balancers, and the record must
	 * name every one of them for a reattach.
	 */
	deregister_classic(&c.elb, instance_id, rec, d);
	deregister_targets(&c.elbv2, instance_id, rec, d);
	leave_group(&c.asg, instance_id, rec, d);
	clients_free(&c);
}

static void rejoin_group(struct awsapi_client *asg, const char *instance_id, json_object *g,
			 struct case_record *rec, json_object *out)
{
	const char *name = json_member_text(g, "name"), *action = json_member_text(g, "action");
	struct awsapi_params p = { 0 };
	const char *api;

	if (!name || !action)
		return;
	instance_param(&p, name, instance_id);
	if (!strcmp(action, "detached")) {
		api = "AttachInstances";
	} else if (!strcmp(action, "standby")) {
		api = "ExitStandby";
	} else {
		api = "SetInstanceProtection";
		awsapi_params_add(&p, "ProtectedFromScaleIn", "%s",
				  json_object_get_boolean(json_object_object_get(
					g, "protected_from_scale_in")) ? "true" : "false");
	}
	if (!query_step(asg, api, &p, rec, "reattach-auto-scaling-group"))
		json_object_object_add(out, "auto_scaling_group", json_object_new_string(name));
}

void detach_restore(struct aws_credentials_provider *cred, const char *region,
		    const char *instance_id, bool reattach, struct case_record *rec,
		    json_object *done)
{
	json_object *d = json_object_object_get(rec->root, "detachment"), *list, *out;
	struct clients c;

	if (!d || !json_object_is_type(d, json_type_object) || !json_object_object_length(d))
		return;
	if (!reattach) {
		log_info("release", "%s stays out of its Auto Scaling group and load balancers "
			 "(release --reattach puts it back)", instance_id);
		json_object_object_add(done, "left_detached", json_object_get(d));
		return;
	}
	if (clients_init(&c, cred, region, rec))
		return;
	out = json_object_new_object();
	json_object_object_add(done, "reattached", out);
	if (json_object_object_get(d, "auto_scaling_group"))
		rejoin_group(&c.asg, instance_id, json_object_object_get(d, "auto_scaling_group"),
			     rec, out);
	list = json_object_object_get(d, "classic_load_balancers");
	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(list, i));
		struct awsapi_params p = { 0 };

		awsapi_params_add(&p, "LoadBalancerName", "%s", name);
		awsapi_params_add(&p, "Instances.member.1.InstanceId", "%s", instance_id);
		if (!query_step(&c.elb, "RegisterInstancesWithLoadBalancer", &p, rec,
				"reattach-classic-load-balancer"))
			json_object_array_add(array_in(out, "classic_load_balancers"),
					      json_object_new_string(name));
	}
	list = json_object_object_get(d, "target_groups");
	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		json_object *t = json_object_array_get_idx(list, i), *port;
		const char *arn = json_member_text(t, "arn");
		struct awsapi_params p = { 0 };

		if (!arn)
			continue;
		awsapi_params_add(&p, "TargetGroupArn", "%s", arn);
		awsapi_params_add(&p, "Targets.member.1.Id", "%s", instance_id);
		if (json_object_object_get_ex(t, "port", &port))
			awsapi_params_add(&p, "Targets.member.1.Port", "%d",
					  json_object_get_int(port));
		if (!query_step(&c.elbv2, "RegisterTargets", &p, rec, "reattach-target-group"))
			json_object_array_add(array_in(out, "target_groups"), json_object_get(t));
	}
	clients_free(&c);
}
