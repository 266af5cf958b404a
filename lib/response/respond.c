// SPDX-License-Identifier: GPL-2.0-only
#include "response/respond.h"
#include "aws/credentials.h"
#include "aws/reason.h"
#include "aws/region.h"
#include "aws/sts.h"
#include "base/exitcodes.h"
#include "base/log.h"
#include "response/assume.h"
#include "response/contain.h"
#include "response/detach.h"
#include "response/ec2.h"
#include "response/memory.h"
#include "response/notify.h"
#include "response/record.h"
#include "response/release.h"
#include "response/snapshots.h"
#include "response/store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int exit_for(int ret)
{
	switch (ret) {
	case 0:
		return EXIT_OK;
	case -ENOMEM:
		return EXIT_FAILURE_INTERNAL;
	case -EACCES:
		return EXIT_AWS_DENIED;
	case -ENOENT:
		return EXIT_NO_INSTANCE;
	case -EAGAIN:
		return EXIT_THROTTLED;
	case -AWS_HTTP_ENOTRUST:
		return EXIT_TLS;
	default:
		return EXIT_AWS;
	}
}

/*
 * A profile given by name is the one of that name in the account acted in,
 * so one option serves every member account (the Lambda's case).
 */
static void profile_arn(char *out, size_t outlen, const char *option, const char *account,
			const char *region)
{
	const char *partition = !strncmp(region, "cn-", 3) ? "aws-cn" :
				!strncmp(region, "us-gov-", 7) ? "aws-us-gov" : "aws";

	if (!strncmp(option, "arn:", 4))
		snprintf(out, outlen, "%s", option);
	else
		snprintf(out, outlen, "arn:%s:iam::%s:instance-profile/%s", partition, account,
			 option);
}

char *respond_home_region(const struct respond_options *o, const char *region)
{
	char why[AWS_REASON_MAX], *r = NULL;

	if (o->record_region)
		return strdup(o->record_region);
	if (aws_region_resolve(NULL, NULL, &r, why, sizeof(why)))
		return strdup(region);
	return r;
}

/*
 * Written after every step and before every call that changes something; a
 * failed write is a failed step, never a stop, but a record another run
 * wrote since is: that run holds the case (-EBUSY, said once).
 */
static int record_save(struct case_record *rec, void *ctx)
{
	struct record_store *st = ctx;
	char why[AWSAPI_ERROR_MAX] = "";
	struct awsapi_error err = { 0 };
	int ret = record_store_save(st, rec->root, why, sizeof(why));

	if (ret == -EBUSY)
		return ret;  /* said once, where the run stops */
	if (ret) {
		snprintf(err.text, sizeof(err.text), "S3 PutObject %s: %s", st->key, why);
		case_record_step(rec, "save-record", "S3 PutObject", ret, &err);
	}
	return 0;
}

/* Open the store and resume from what it holds; an exit code when it cannot be used. */
static int record_open(struct record_store *st, const struct respond_options *o,
		       const char *region, struct case_record *rec)
{
	char why[AWSAPI_ERROR_MAX] = "", *bucket_region = respond_home_region(o, region);
	json_object *stored = NULL;
	int ret;

	if (!bucket_region)
		return EXIT_FAILURE_INTERNAL;
	ret = record_store_open(st, o->record_uri, bucket_region, o->case_id, o->instance_id, why,
				sizeof(why));
	free(bucket_region);
	if (ret) {
		log_error("record", "%s: --record: %s", o->command, why);
		return ret == -ENOKEY ? EXIT_CREDENTIALS : EXIT_USAGE;
	}
	/* A record that cannot be read could hide snapshots already taken: stop. */
	ret = record_store_load(st, &stored, why, sizeof(why));
	if (ret) {
		log_error("record", "cannot read the case record s3://%s/%s: %s", st->s3.bucket,
			  st->key, why);
		/* Refused credentials are refused credentials, whichever call meets them first. */
		return ret == -EACCES ? EXIT_AWS_DENIED : EXIT_RECORD;
	}
	if (stored && case_record_resume(rec, stored)) {
		log_error("record", "s3://%s/%s belongs to another case or instance",
			  st->s3.bucket, st->key);
		return EXIT_RECORD;
	}
	if (!stored && o->mode == RESPOND_RELEASE) {
		log_error("record", "no case record at s3://%s/%s to release from", st->s3.bucket,
			  st->key);
		return EXIT_RECORD;
	}
	if (stored)
		log_info("record", "resuming case %s, run %d", o->case_id, rec->run);
	return 0;
}

/* Milestone messages, published with the security account's own credentials. */
struct notifier {
	struct aws_credentials_provider *cred;
	struct awsapi_client sns;
	bool ready;
	const char *topic, *case_id, *instance_id;
	struct record_store *store;  /* saved at each milestone, when there is one */
};

static int notifier_init(struct notifier *n, const struct respond_options *o)
{
	char why[AWSAPI_ERROR_MAX] = "", *region = NULL;
	int ret;

	memset(n, 0, sizeof(*n));
	n->topic = o->topic_arn;
	n->case_id = o->case_id;
	n->instance_id = o->instance_id;
	if (!n->topic)
		return 0;
	if (notify_topic_region(n->topic, &region)) {
		log_error("usage", "%s: --topic-arn: not an SNS topic ARN", o->command);
		return EXIT_USAGE;
	}
	ret = aws_credentials_provider_new(NULL, &n->cred, why, sizeof(why));
	if (!ret)
		ret = awsapi_client_init(&n->sns, &awsapi_sns, region, n->cred, why, sizeof(why));
	free(region);
	if (ret) {
		log_error("notify", "%s", why);
		aws_credentials_provider_free(n->cred);
		n->cred = NULL;
		return ret == -ENOKEY ? EXIT_CREDENTIALS : EXIT_USAGE;
	}
	n->ready = true;
	return 0;
}

static void notifier_free(struct notifier *n)
{
	if (n->ready)
		awsapi_client_free(&n->sns);
	aws_credentials_provider_free(n->cred);
	memset(n, 0, sizeof(*n));
}

/* fields consumed. A failed notification is a failed step, never a stop. */
static void milestone(struct notifier *n, struct case_record *rec, const char *name,
		      json_object *fields, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void milestone(struct notifier *n, struct case_record *rec, const char *name,
		      json_object *fields, const char *fmt, ...)
{
	struct awsapi_error err;
	char summary[256];
	va_list ap;
	int ret;

	if (n->store)
		record_save(rec, n->store);
	if (!n->ready || (n->store && n->store->lost)) {
		json_object_put(fields);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(summary, sizeof(summary), fmt, ap);
	va_end(ap);
	ret = notify_publish(&n->sns, n->topic, n->case_id, n->instance_id, name, summary, fields,
			     &err);
	case_record_step(rec, "notify", "SNS Publish", ret, &err);
}

static size_t count_with(json_object *list, const char *key)
{
	size_t n = 0;
	json_object *v;

	for (size_t i = 0; list && i < json_object_array_length(list); i++)
		n += json_object_object_get_ex(json_object_array_get_idx(list, i), key, &v);
	return n;
}

/* Each step independent of the others: one refused does not stop the rest. */
static void preserve(struct awsapi_client *ec2, const char *id, json_object *instance,
		     struct case_record *rec)
{
	json_object *console = NULL, *done = json_object_new_object();
	struct awsapi_error err;
	int ret;

	case_record_set(rec, "preservation", done);
	if (case_record_intent(rec, "termination-protection", "EC2 ModifyInstanceAttribute"))
		return;
	/* Each result in the record before the step that saves it. */
	ret = ec2_protect_termination(ec2, id, &err);
	if (!ret)
		json_object_object_add(done, "termination_protection", json_object_new_boolean(1));
	case_record_step(rec, "termination-protection", "EC2 ModifyInstanceAttribute", ret, &err);
	if (case_record_intent(rec, "shutdown-behavior", "EC2 ModifyInstanceAttribute"))
		return;
	ret = ec2_shutdown_stop(ec2, id, &err);
	if (!ret)
		json_object_object_add(done, "shutdown_behavior", json_object_new_string("stop"));
	case_record_step(rec, "shutdown-behavior", "EC2 ModifyInstanceAttribute", ret, &err);
	if (case_record_intent(rec, "keep-volumes", "EC2 ModifyInstanceAttribute"))
		return;
	ret = ec2_keep_volumes(ec2, id, instance, &err);
	if (!ret)
		json_object_object_add(done, "delete_on_termination", json_object_new_boolean(0));
	case_record_step(rec, "keep-volumes", "EC2 ModifyInstanceAttribute", ret, &err);
	ret = ec2_console_output(ec2, id, &console, &err);
	if (!ret)
		case_record_set(rec, "console_output", console);
	case_record_step(rec, "console-output", "EC2 GetConsoleOutput", ret, &err);
}

static bool preserved_before(const struct case_record *rec)
{
	static const char *const steps[] = {
		"termination-protection", "shutdown-behavior", "keep-volumes", "console-output",
	};

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (!case_record_done(rec, steps[i]))
			return false;
	return true;
}

/*
 * The CA bundle AWS is verified with, in the record as "tls" (nothing for
 * plain http endpoints): EXIT_OK, or EXIT_TLS after logging that there is none.
 */
static int record_trust(struct case_record *rec, struct awsapi_client *c)
{
	const struct aws_trust *trust;
	char why[AWSAPI_ERROR_MAX] = "";

	if (aws_http_client_trust(&c->http, &trust, why, sizeof(why))) {
		log_error("tls", "%s", why);
		return EXIT_TLS;
	}
	if (!trust)
		return EXIT_OK;
	case_record_set(rec, "tls", aws_trust_json(trust));
	log_info("tls", "verifying AWS with the CA %s %s (from %s)",
		 trust->is_dir ? "directory" : "bundle", trust->path, trust->source);
	return EXIT_OK;
}

int respond_run(const struct respond_options *given, const char *region, json_object **record)
{
	struct respond_options o = *given;  /* with the profiles' names made ARNs */
	struct aws_credentials_provider *cred = NULL;
	struct awsapi_client sts = { 0 }, ec2 = { 0 }, iam = { 0 }, ssm = { 0 };
	bool sts_ready = false, ec2_ready = false, iam_ready = false, ssm_ready = false;
	struct case_record rec = { 0 };
	struct notifier note = { 0 };
	struct record_store store = { 0 };
	json_object *instance = NULL, *identity, *snaps;
	unsigned int failures;
	struct sts_identity me;
	struct awsapi_error err;
	char why[AWSAPI_ERROR_MAX] = "";
	char deny_arn[256], ssm_arn[256];
	int ret, code = EXIT_OK;

	*record = NULL;
	if (case_record_init(&rec, o.case_id, o.instance_id, region)) {
		code = EXIT_FAILURE_INTERNAL;
		goto out;
	}
	code = notifier_init(&note, &o);
	if (!code && o.record_uri) {
		code = record_open(&store, &o, region, &rec);
		note.store = store.ready ? &store : NULL;
		if (note.store) {
			rec.save = record_save;
			rec.save_ctx = &store;
		}
	}
	if (code)
		goto out;
	/* After a resume: the stored record is the one that goes on. */
	json_object_object_add(rec.root, "command", json_object_new_string(o.command));
	code = assume_member_role(&o, region, &rec, &cred);
	if (code == EXIT_CREDENTIALS)
		goto out;
	if (code)
		goto print;
	ret = awsapi_client_init(&sts, &awsapi_sts, region, cred, why, sizeof(why));
	sts_ready = !ret;
	if (!ret) {
		ret = awsapi_client_init(&ec2, &awsapi_ec2, region, cred, why, sizeof(why));
		ec2_ready = !ret;
	}
	if (!ret) {
		ret = awsapi_client_init(&iam, &awsapi_iam, region, cred, why, sizeof(why));
		iam_ready = !ret;
	}
	if (!ret) {
		ret = awsapi_client_init(&ssm, &awsapi_ssm, region, cred, why, sizeof(why));
		ssm_ready = !ret;
	}
	if (ret) {
		log_error("endpoint", "%s", why);
		code = ret == -ENOMEM ? EXIT_FAILURE_INTERNAL : EXIT_USAGE;
		goto out;
	}
	code = record_trust(&rec, &sts);
	if (code)
		goto print;
	ret = sts_get_caller_identity(&sts, &me, &err);
	if (case_record_step(&rec, "identity", "STS GetCallerIdentity", ret, &err)) {
		code = exit_for(ret);
		goto print;
	}
	identity = json_object_new_object();
	json_object_object_add(identity, "account", json_object_new_string(me.account));
	json_object_object_add(identity, "arn", json_object_new_string(me.arn));
	case_record_set(&rec, "identity", identity);
	if (o.account && strcmp(o.account, me.account)) {
		snprintf(err.text, sizeof(err.text),
			 "the credentials are for account %s, not %s", me.account, o.account);
		err.code[0] = '\0';
		case_record_step(&rec, "account", "STS GetCallerIdentity", -EPERM, &err);
		code = EXIT_WRONG_ACCOUNT;
		goto print;
	}
	if (o.deny_profile) {
		profile_arn(deny_arn, sizeof(deny_arn), o.deny_profile, me.account, region);
		o.deny_profile = deny_arn;
	}
	if (o.ssm_profile) {
		profile_arn(ssm_arn, sizeof(ssm_arn), o.ssm_profile, me.account, region);
		o.ssm_profile = ssm_arn;
	}
	ret = ec2_describe_instance(&ec2, o.instance_id, &instance, &err);
	if (case_record_step(&rec, "describe", "EC2 DescribeInstances", ret, &err)) {
		code = exit_for(ret);
		goto print;
	}
	/* The instance as first found stays: release restores that, not a contained one. */
	case_record_set(&rec, json_object_object_get(rec.root, "instance") ? "instance_now" :
			"instance", instance);
	milestone(&note, &rec, "started", NULL, "%s of %s (%s) in %s", o.command, o.instance_id,
		  json_object_get_string(json_object_object_get(instance, "state")), region);
	if (store.lost)
		goto lost;
	if (o.mode == RESPOND_RELEASE) {
		json_object *found = json_object_object_get(rec.root, "instance");

		if (!found) {
			snprintf(err.text, sizeof(err.text),
				 "the case record holds no instance as found: nothing to restore");
			err.code[0] = '\0';
			case_record_step(&rec, "release", "case record", -ENOENT, &err);
		} else {
			release_instance(&ec2, o.instance_id, found, instance, &rec);
			detach_restore(cred, region, o.instance_id, o.reattach, &rec,
				       json_object_object_get(rec.root, "release"));
			milestone(&note, &rec, "released", NULL, "%s", rec.failures ?
				  "release incomplete: see the case record" :
				  "groups, addresses, profile and attributes restored");
		}
		goto done;
	}
	/* contain alone must also keep the instance from being terminated. */
	if (o.mode == RESPOND_CONTAIN)
		preserve(&ec2, o.instance_id, instance, &rec);
	if (o.mode == RESPOND_FULL) {
		failures = rec.failures;
		/*
		 * A rerun goes on from the record: finished steps are not
		 * repeated. Containment is the exception: it is idempotent, and
		 * a rerun is often wanted because someone loosened it.
		 */
		if (preserved_before(&rec)) {
			case_record_skip(&rec, "preserve", "done by an earlier run of this case");
		} else {
			preserve(&ec2, o.instance_id, instance, &rec);
			if (store.lost)
				goto lost;
			milestone(&note, &rec, "preserved", NULL, "%s", rec.failures == failures ?
				  "termination protection on, shutdown stop, volumes kept, console saved" :
				  "preservation incomplete: see the case record");
		}
		if (o.evidence_uri && case_record_done(&rec, "memory-manifest")) {
			case_record_skip(&rec, "memory", "acquired by an earlier run of this case");
		} else if (o.evidence_uri) {
			failures = rec.failures;
			memory_acquire(&ssm, &ec2, &o, region, instance, &rec);
			if (store.lost)
				goto lost;
			milestone(&note, &rec, "memory", NULL, "%s", rec.failures == failures ?
				  "memory acquired by the agent" : "memory acquisition failed");
		}
		snapshots_take(&ec2, &o, region, &rec);
		if (store.lost)
			goto lost;
		snaps = json_object_object_get(rec.root, "snapshots");
		if (snaps)
			milestone(&note, &rec, "snapshots", NULL,
				  "%zu snapshots completed, %zu copies, %zu shared",
				  count_with(snaps, "state"), count_with(snaps, "copy_id"),
				  count_with(snaps, "shared_with"));
	}
	/* Also when preservation or snapshots failed, as the reference does. */
	if (!o.no_contain) {
		struct contain_options co = {
			.instance_id = o.instance_id, .case_id = o.case_id,
			.deny_profile_arn = o.deny_profile, .own_profile_arn = o.ssm_profile,
		};

		failures = rec.failures;
		/*
		 * Before isolation fails its health checks: the group would replace it.
		 * Neither phase announces its calls one by one: a rerun reads the
		 * instance's groups and balancers and redoes what is left.
		 */
		if (case_record_intent(&rec, "detach", "AutoScaling DetachInstances"))
			goto lost;
		detach_instance(cred, region, o.instance_id, &rec);
		case_record_intent_clear(&rec);
		if (store.lost)
			goto lost;
		if (case_record_intent(&rec, "contain", "EC2 ModifyNetworkInterfaceAttribute"))
			goto lost;
		contain_instance(&ec2, &iam, &co, instance, &rec);
		case_record_intent_clear(&rec);
		if (store.lost)
			goto lost;
		milestone(&note, &rec, "contained", NULL, "%s", rec.failures == failures ?
			  "network isolated, Elastic IPs off, role sessions revoked, tagged" :
			  "containment incomplete: see the case record");
	}
done:
	if (rec.failures)
		code = EXIT_STEP_FAILED;
print:
	if (code != EXIT_OK || rec.failures) {
		char names[160];
		json_object *f = notify_failures(rec.timeline, rec.run, names, sizeof(names));

		milestone(&note, &rec, "failed", f, "%s: %u step(s) failed (%s), exit %d",
			  o.command, rec.failures, *names ? names : "none recorded", code);
	}
	else
		milestone(&note, &rec, "finished", NULL, "%s done", o.command);
	if (code == EXIT_OK && rec.failures)
		code = EXIT_STEP_FAILED;  /* the last notification failed */
	json_object_object_add(rec.root, "finished", json_object_new_boolean(code == EXIT_OK));
	if (note.store)
		record_save(&rec, note.store);
	if (store.lost)
		goto lost;
	*record = json_object_get(rec.root);
	goto out;
lost:
	log_error("record", "another run holds case %s: s3://%s/%s changed since this run read "
		  "it; this run stopped", o.case_id, store.s3.bucket, store.key);
	code = EXIT_RECORD;
out:
	if (ssm_ready)
		awsapi_client_free(&ssm);
	if (iam_ready)
		awsapi_client_free(&iam);
	if (ec2_ready)
		awsapi_client_free(&ec2);
	if (sts_ready)
		awsapi_client_free(&sts);
	aws_credentials_provider_free(cred);
	notifier_free(&note);
	record_store_close(&store);
	case_record_free(&rec);
	return code;
}
