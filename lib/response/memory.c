// SPDX-License-Identifier: GPL-2.0-only
#include "response/memory.h"
#include "aws/awsxml.h"
#include "aws/s3.h"
#include "base/jsonutil.h"
#include "response/assume.h"
#include "response/collect.h"
#include "response/query.h"
#include "response/ssm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* s3://bucket/<evidence prefix><case>/<instance>/: *bucket and *key malloc'd. */
static int evidence_location(const struct respond_options *o, char **bucket, char **key,
			     char *why, size_t whylen)
{
	char *prefix = NULL;
	int ret;

	*key = NULL;
	ret = s3_uri_parse(o->evidence_uri, bucket, &prefix, why, whylen);
	if (ret) {
		char reason[AWSAPI_ERROR_MAX];

		snprintf(reason, sizeof(reason), "--evidence: %s", why);
		snprintf(why, whylen, "%s", reason);
		return ret;
	}
	if (asprintf(key, "%s%s%s/%s/", prefix, *prefix && prefix[strlen(prefix) - 1] != '/' ?
		     "/" : "", o->case_id, o->instance_id) < 0) {
		*key = NULL;
		free(*bucket);
		*bucket = NULL;
		ret = -ENOMEM;
	}
	free(prefix);
	return ret;
}

/*
 * The document's parameters: region and cred may be NULL (not known yet);
 * with cred the agent writes with those session credentials, else with the
 * instance's profile.
 */
static json_object *document_params(const struct respond_options *o, const char *bucket,
				    const char *key, const char *region,
				    const struct aws_credentials *cred)
{
	json_object *p = json_object_new_object();
	char timeout[24];

	snprintf(timeout, sizeof(timeout), "%ld", o->acquire_timeout_s);
	json_object_object_add(p, "EvidenceBucket", json_object_new_string(bucket));
	json_object_object_add(p, "EvidencePrefix", json_object_new_string(key));
	json_object_object_add(p, "CaseId", json_object_new_string(o->case_id));
	if (region)
		json_object_object_add(p, "Region", json_object_new_string(region));
	json_object_object_add(p, "AgentUrl", json_object_new_string(o->agent_url));
	json_object_object_add(p, "AgentSha256", json_object_new_string(o->agent_sha256));
	json_object_object_add(p, "CredentialsMode", json_object_new_string(
		o->writer_role ? "session" : "instance-profile"));
	if (cred) {
		json_object_object_add(p, "SessionAccessKeyId",
				       json_object_new_string(cred->access_key_id));
		json_object_object_add(p, "SessionSecretAccessKey",
				       json_object_new_string(cred->secret_access_key));
		json_object_object_add(p, "SessionToken", json_object_new_string(
			cred->session_token ? cred->session_token : ""));
	}
	json_object_object_add(p, "Source", json_object_new_string(o->source ? o->source :
								   "auto"));
	json_object_object_add(p, "ExtraArgs", json_object_new_string(o->extra_args));
	json_object_object_add(p, "ExecutionTimeout", json_object_new_string(timeout));
	return p;
}

/*
 * Everything the document will be sent that the options decide, checked
 * against its patterns now: a value SSM would refuse is a usage error, before
 * anything is touched. (Region and the session credentials are checked again
 * with the rest when they are known.)
 */
int memory_options_check(const struct respond_options *o, char *why, size_t whylen)
{
	char reason[AWSAPI_ERROR_MAX] = "", *bucket = NULL, *key = NULL;
	json_object *params = NULL;
	int ret;

	if (!o->agent_url || !o->agent_sha256) {
		snprintf(why, whylen, "--evidence needs --agent-url and --agent-sha256 (the "
			 "document fetches the agent and checks it)");
		return -EINVAL;
	}
	if (!ssmdoc_name_ok(o->document)) {
		snprintf(why, whylen, "--document: '%.140s' is not an SSM document name",
			 o->document);
		return -EINVAL;
	}
	ret = evidence_location(o, &bucket, &key, reason, sizeof(reason));
	if (ret) {
		snprintf(why, whylen, "%s", reason[0] ? reason : strerror(-ret));
		return ret;
	}
	params = document_params(o, bucket, key, NULL, NULL);
	ret = ssmdoc_params_check(params, reason, sizeof(reason));
	if (ret)
		snprintf(why, whylen, "document %s: %s", o->document, reason);
	json_object_put(params);
	free(bucket);
	free(key);
	return ret;
}

/*
 * SSM needs an instance profile with its permissions: attach ours when the
 * instance has none (one with its own profile is taken as SSM-capable; the
 * registration wait in ssm_send() tells otherwise).
 */
static void ssm_profile(struct awsapi_client *ec2, const struct respond_options *o,
			json_object *instance, struct case_record *rec, json_object *mem)
{
	json_object *assoc = json_object_object_get(instance, "profile_associations");
	struct awsapi_params p = { 0 };
	struct awsxml_node *root = NULL;
	struct awsapi_error err;
	int ret;

	if (!o->ssm_profile || (assoc && json_object_array_length(assoc)))
		return;
	awsapi_params_add(&p, "InstanceId", "%s", o->instance_id);
	awsapi_params_add(&p, "IamInstanceProfile.Arn", "%s", o->ssm_profile);
	ret = query_call(ec2, "AssociateIamInstanceProfile", &p, &root, &err);
	if (!ret) {
		const char *id = awsxml_text(root, "iamInstanceProfileAssociation/associationId");

		/* The instance as found stays as found; containment reads the live state. */
		json_object_object_add(mem, "ssm_profile_attached",
				       json_object_new_string(o->ssm_profile));
		if (id)
			json_object_object_add(mem, "ssm_profile_association",
					       json_object_new_string(id));
	}
	awsxml_free(root);
	case_record_step(rec, "ssm-profile", "EC2 AssociateIamInstanceProfile", ret, &err);
}

/*
 * The agent's manifest out of the evidence bucket (the security account's own
 * credentials, in its home region), checked against what the agent logged
 * last and against the image object; a missing manifest or a mismatch is a
 * failed memory step.
 */
static void collect_manifest(const char *home, const char *bucket, const char *prefix,
			     json_object *inv, struct case_record *rec, json_object *mem)
{
	static const char *const outputs[] = { "stdout_tail", "stderr_tail" };
	struct aws_credentials_provider *cred = NULL;
	json_object *logged = NULL, *summary = NULL, *text;
	struct awsapi_error err = { 0 };
	struct s3_client s3;
	int ret;

	for (size_t i = 0; !logged && i < sizeof(outputs) / sizeof(outputs[0]); i++)
		if (json_object_object_get_ex(inv, outputs[i], &text) &&
		    json_object_is_type(text, json_type_string))
			logged = manifest_from_output(json_object_get_string(text));
	ret = aws_credentials_provider_new(NULL, &cred, err.text, sizeof(err.text));
	/* Takes cred, also on failure. */
	if (!ret)
		ret = s3_client_init(&s3, home, bucket, false, cred, err.text, sizeof(err.text));
	if (!ret) {
		char why[AWSAPI_ERROR_MAX] = "";

		ret = manifest_collect(&s3, bucket, prefix, logged, &summary, why, sizeof(why));
		if (ret)
			snprintf(err.text, sizeof(err.text), "memory manifest: %s", why);
		s3_client_free(&s3);
	}
	if (summary)
		json_object_object_add(mem, "manifest", summary);
	json_object_put(logged);
	case_record_step(rec, "memory-manifest", "S3 ListObjectsV2", ret, &err);
}

static const char *const session_params[] = {
	"SessionAccessKeyId", "SessionSecretAccessKey", "SessionToken",
};

/* The parameters as the record keeps them: everything but the session credentials. */
static json_object *params_for_record(json_object *params)
{
	json_object *kept = json_object_new_object();

	json_object_object_foreach(params, name, value) {
		bool secret = false;

		for (size_t i = 0; i < sizeof(session_params) / sizeof(session_params[0]); i++)
			secret |= !strcmp(name, session_params[i]);
		if (!secret)
			json_object_object_add(kept, name, json_object_get(value));
	}
	return kept;
}

/*
 * The command an earlier run of the case sent and did not see fail: its id
 * from the record, or when the run was killed before recording it, found
 * in SSM by its comment. 0 with *command_id (NULL: send one), or the
 * lookup's error, which must stop a second command being sent.
 */
static int sent_before(struct awsapi_client *ssm, const struct respond_options *o,
		       struct case_record *rec, json_object *prev, const char *comment,
		       char **command_id)
{
	const char *id = json_member_text(prev, "command_id");
	const char *sent = case_record_last(rec, "memory-command");
	const char *ended = case_record_last(rec, "memory-acquired");
	struct awsapi_error err = { 0 };
	int ret;

	*command_id = NULL;
	if (rec->run < 2)
		return 0;
	if (id && !(ended && !strcmp(ended, "failed"))) {
		case_record_skip(rec, "memory-command", "sent by an earlier run of this case: "
				 "waiting for it");
		*command_id = strdup(id);
		return *command_id ? 0 : -ENOMEM;
	}
	/* Recorded as failed, or never sent: only an unrecorded send is looked for. */
	if (id || (sent && strcmp(sent, "interrupted")))
		return 0;
	ret = ssm_find_command(ssm, o->instance_id, o->document, comment, command_id, &err);
	if (case_record_step(rec, "memory-command-find", "SSM ListCommands", ret, &err))
		return ret;
	if (*command_id)
		case_record_skip(rec, "memory-command", "sent by an interrupted earlier run: found "
				 "by its comment");
	return 0;
}

void memory_acquire(struct awsapi_client *ssm, struct awsapi_client *ec2,
		    const struct respond_options *o, const char *region, json_object *instance,
		    struct case_record *rec)
{
	struct aws_credentials cred = { 0 };
	json_object *mem = json_object_new_object(), *inv = NULL, *params = NULL;
	char *bucket = NULL, *key = NULL, *output = NULL, *home;
	char *command_id = NULL, comment[100], why[AWSAPI_ERROR_MAX / 2] = "";
	struct awsapi_error err = { 0 };
	const char *earlier;
	time_t now = time(NULL);
	int ret;

	snprintf(comment, sizeof(comment), "forensics case %s: memory", o->case_id);
	ret = sent_before(ssm, o, rec, json_object_object_get(rec->root, "memory"), comment,
			  &command_id);
	if (ret) {
		json_object_put(mem);
		return;
	}
	earlier = json_member_text(json_object_object_get(rec->root, "memory"), "command_id");
	if (command_id && earlier) {
		json_object_put(mem);  /* the earlier run's, which goes on */
		mem = json_object_get(json_object_object_get(rec->root, "memory"));
	} else if (earlier) {
		/* A command that failed stays listed: the record names all that were sent. */
		json_object *list = json_object_object_get(json_object_object_get(rec->root,
								"memory"), "earlier_command_ids");

		list = list ? json_object_get(list) : json_object_new_array();
		json_object_array_add(list, json_object_new_string(earlier));
		json_object_object_add(mem, "earlier_command_ids", list);
	}
	case_record_set(rec, "memory", mem);
	if (!command_id)
		ssm_profile(ec2, o, instance, rec, mem);
	home = respond_home_region(o, region);
	ret = home ? evidence_location(o, &bucket, &key, err.text, sizeof(err.text)) : -ENOMEM;
	if (ret) {
		case_record_step(rec, "memory", "S3 URI", ret, &err);
		goto out;
	}
	if (asprintf(&output, "s3://%s/%s", bucket, key) >= 0)
		json_object_object_add(mem, "output", json_object_new_string(output));
	json_object_object_add(mem, "document", json_object_new_string(o->document));
	if (command_id) {
		json_object_object_add(mem, "command_id", json_object_new_string(command_id));
		goto wait;
	}
	if (o->writer_role) {
		json_object_object_add(mem, "writer_role",
				       json_object_new_string(o->writer_role));
		ret = assume_writer_credentials(o, home, bucket, key, &cred, &err);
		if (case_record_step(rec, "writer-credentials", "STS AssumeRole", ret, &err))
			goto out;
	}
	/* The secrets go to the instance only, never into the record or the log. */
	params = document_params(o, bucket, key, home, o->writer_role ? &cred : NULL);
	ret = ssmdoc_params_check(params, why, sizeof(why));
	if (ret)
		snprintf(err.text, sizeof(err.text), "SSM SendCommand: document %.128s: %.500s",
			 o->document, why);
	json_object_object_add(mem, "parameters", params_for_record(params));
	if (!ret) {
		if (case_record_intent(rec, "memory-command", "SSM SendCommand"))
			goto out;
		ret = ssm_send(ssm, o->instance_id, o->document, params, comment,
			       now + SSM_REGISTER_TIMEOUT_S, &command_id, &err);
	}
	if (!ret)  /* in the record before the step that saves it */
		json_object_object_add(mem, "command_id", json_object_new_string(command_id));
	if (case_record_step(rec, "memory-command", "SSM SendCommand", ret, &err))
		goto out;
wait:
	ret = ssm_wait(ssm, command_id, o->instance_id, now + o->acquire_timeout_s, &inv, &err);
	if (inv)
		json_object_object_add(mem, "invocation", inv);
	if (case_record_step(rec, "memory-acquired", "SSM GetCommandInvocation", ret, &err))
		goto out;
	collect_manifest(home, bucket, key, inv, rec, mem);
out:
	for (size_t i = 0; params && i < sizeof(session_params) / sizeof(session_params[0]); i++) {
		json_object *v = json_object_object_get(params, session_params[i]);

		if (v && json_object_get_string_len(v))
			memset((char *)json_object_get_string(v), 0, json_object_get_string_len(v));
	}
	json_object_put(params);
	free(output);
	free(command_id);
	free(bucket);
	free(key);
	free(home);
	free(cred.access_key_id);
	if (cred.secret_access_key)
		memset(cred.secret_access_key, 0, strlen(cred.secret_access_key));
	free(cred.secret_access_key);
	free(cred.session_token);
}
