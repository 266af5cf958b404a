// SPDX-License-Identifier: GPL-2.0-only
/*
 * respond <instance-id>: the response to one suspect instance. For now the
 * preservation steps (describe, termination protection, shutdown behaviour
 * stop, volumes kept on termination, console output) and disk evidence
 * (snapshots, encrypted copies, shared); the case record is printed on
 * stdout (also when a step failed, saying which).
 */
#include "response/contain.h"
#include "response/ec2.h"
#include "response/events.h"
#include "base/exitcodes.h"
#include "base/log.h"
#include "response/collect.h"
#include "response/notify.h"
#include "response/record.h"
#include "response/release.h"
#include "response/snapshots.h"
#include "response/ssm.h"
#include "response/ssmdoc.h"
#include "response/store.h"
#include "aws/sts.h"
#include "aws/endpoint.h"
#include "aws/reason.h"
#include "aws/region.h"
#include "subcommands.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct respond_options {
	const char *instance_id;
	const char *region;
	const char *case_id;
	const char *account;
	const char *role_arn;
	const char *external_id;
	const char *session_name;
	const char *kms_key;
	const char *share_with;
	long snapshot_timeout_s;
	const char *deny_profile;
	const char *topic_arn;
	const char *record_uri;
	const char *record_region;
	const char *evidence_uri;
	const char *writer_role;     /* none: the agent writes with the instance's profile */
	const char *document;
	const char *agent_url;
	const char *agent_sha256;
	const char *source;
	char extra_args[SSMDOC_EXTRA_MAX + 1];  /* the document's ExtraArgs */
	const char *tool_uris[2];    /* --module-store, --module-pins: the agent reads them */
	const char *ssm_profile;
	long acquire_timeout_s;
	bool no_contain;
	bool contain_only;   /* the `contain` command: describe and isolate */
	bool release;        /* the `release` command: restore from the stored record */
	const char *command;
};

static void usage(FILE *out, const struct respond_options *o)
{
	if (o->release)
		fprintf(out,
			"Usage: %s release <instance-id> --case ID --record S3URI [options]\n\n"
			"Put back what the response changed (groups, Elastic IPs, instance\n"
			"profile, termination protection, shutdown behaviour,\n"
			"DeleteOnTermination), from the case record's instance as first found;\n"
			"tag it Released. Snapshots and the policy revoking older role sessions\n"
			"stay. Options as for respond.\n\n", CONTROLLER_NAME);
	if (o->contain_only)
		fprintf(out, "Usage: %s contain <instance-id> --case ID [options]\n\n"
			"Isolate the instance (network, Elastic IPs, instance profile, role\n"
			"sessions, tag) and print the case record (JSON). Options as for respond;\n"
			"the snapshot options are ignored.\n\n", CONTROLLER_NAME);
	fprintf(out,
		"Usage: %s respond <instance-id> --case ID [options]\n\n"
		"Preserve a suspect instance's evidence, snapshot its disks, contain it and\n"
		"print the case record (JSON).\n\n"
		"  --case ID             case identifier (letters, digits, . _ -)\n"
		"  --region R            the instance's region (else AWS_REGION, the profile,\n"
		"                        IMDS)\n"
		"  --account N           fail unless the credentials are for account N\n"
		"  --role-arn ARN        assume this role in the member account first\n"
		"  --external-id X       external id the role's trust policy requires\n"
		"  --session-name S      role session name (default forensics-<case>)\n"
		"  --kms-key KEY         copy the snapshots encrypted with this KMS key\n"
		"  --share-with N        share the snapshots (the copies, with --kms-key) with\n"
		"                        account N (createVolumePermission)\n"
		"  --snapshot-timeout S  give up waiting for snapshots after S seconds (6 h)\n"
		"  --deny-profile P      instance profile (deny-all) to put in place of the\n"
		"                        instance's own: an ARN, or a name in the account\n"
		"  --no-contain          preserve and snapshot only (respond)\n"
		"  --topic-arn ARN       SNS topic (security account) for milestone messages\n"
		"  --record S3URI        keep the case record under s3://bucket/prefix/ (written\n"
		"                        at each milestone; a rerun resumes from it)\n"
		"  --record-region R     the buckets' region (default: the environment's)\n"
		"  --evidence S3URI      acquire memory with the agent through SSM into\n"
		"                        <S3URI><case>/<instance>/ (needs --agent-url and\n"
		"                        --agent-sha256)\n"
		"  --document NAME       the SSM Command document to send (forensics-acquire)\n"
		"  --agent-url URL       where the instance fetches the agent: s3://… or https://\n"
		"  --agent-sha256 HEX    the agent's SHA-256; on a mismatch nothing runs\n"
		"  --writer-role-arn ARN role the agent writes with, narrowed by a session\n"
		"                        policy to that prefix (else the instance's profile)\n"
		"  --source NAME         memory source to force (auto: the agent's order)\n"
		"  --module-store S3URI  the agent's --module-store (modules per kernel)\n"
		"  --module-pins S3URI   the agent's --module-pins (their SHA-256 list)\n"
		"  --agent-args ARGS     more acquire options, split at spaces (repeatable)\n"
		"  --ssm-profile P       instance profile to attach for SSM when the instance\n"
		"                        has none: an ARN, or a name in the account\n"
		"  --acquire-timeout S   give up on the agent after S seconds (4 h)\n"
		"  --log-format F        auto, text or json\n"
		"  -h, --help            this text\n", CONTROLLER_NAME);
}

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
	default:
		return EXIT_AWS;
	}
}

static bool case_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

static bool instance_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (strncmp(s, "i-", 2) || (n != 10 && n != 19))
		return false;
	for (s += 2; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* An instance profile's name (IAM: 1-128 of letters, digits and +=,.@_-). */
static bool profile_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 128 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+=,.@_-") == n;
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

static bool account_ok(const char *s)
{
	size_t n = strlen(s);

	return n == 12 && strspn(s, "0123456789") == n;
}

/* Appends "[option ]words" to the document's ExtraArgs; -1 when it would not fit. */
static int add_agent_args(struct respond_options *o, const char *option, const char *words)
{
	size_t n = strlen(o->extra_args);
	int w;

	w = snprintf(o->extra_args + n, sizeof(o->extra_args) - n, "%s%s%s%s", n ? " " : "",
		     option ? option : "", option ? " " : "", words);
	if (w < 0 || (size_t)w >= sizeof(o->extra_args) - n) {
		o->extra_args[n] = '\0';
		return -1;
	}
	return 0;
}

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
static int check_document_options(const struct respond_options *o)
{
	char why[AWSAPI_ERROR_MAX] = "", *bucket = NULL, *key = NULL;
	json_object *params = NULL;
	int ret;

	if (!o->agent_url || !o->agent_sha256) {
		log_error("usage", "%s: --evidence needs --agent-url and --agent-sha256 (the "
			  "document fetches the agent and checks it)", o->command);
		return -1;
	}
	if (!ssmdoc_name_ok(o->document)) {
		log_error("usage", "%s: --document: '%.140s' is not an SSM document name",
			  o->command, o->document);
		return -1;
	}
	ret = evidence_location(o, &bucket, &key, why, sizeof(why));
	if (ret) {
		log_error("usage", "%s: %s", o->command, why[0] ? why : strerror(-ret));
		return -1;
	}
	params = document_params(o, bucket, key, NULL, NULL);
	ret = ssmdoc_params_check(params, why, sizeof(why));
	if (ret)
		log_error("usage", "%s: document %s: %s", o->command, o->document, why);
	json_object_put(params);
	free(bucket);
	free(key);
	return ret;
}

static int parse(int argc, char *argv[], struct respond_options *o)
{
	static const struct option longs[] = {
		{ "case", required_argument, NULL, 'c' },
		{ "region", required_argument, NULL, 'r' },
		{ "account", required_argument, NULL, 'a' },
		{ "role-arn", required_argument, NULL, 'R' },
		{ "external-id", required_argument, NULL, 'x' },
		{ "session-name", required_argument, NULL, 's' },
		{ "kms-key", required_argument, NULL, 'k' },
		{ "share-with", required_argument, NULL, 'S' },
		{ "snapshot-timeout", required_argument, NULL, 't' },
		{ "deny-profile", required_argument, NULL, 'D' },
		{ "no-contain", no_argument, NULL, 'N' },
		{ "topic-arn", required_argument, NULL, 'T' },
		{ "record", required_argument, NULL, 'o' },
		{ "record-region", required_argument, NULL, 'G' },
		{ "evidence", required_argument, NULL, 'e' },
		{ "writer-role-arn", required_argument, NULL, 'W' },
		{ "document", required_argument, NULL, 'd' },
		{ "agent-url", required_argument, NULL, 'U' },
		{ "agent-sha256", required_argument, NULL, 'H' },
		{ "source", required_argument, NULL, 'y' },
		{ "module-store", required_argument, NULL, 'M' },
		{ "module-pins", required_argument, NULL, 'p' },
		{ "agent-args", required_argument, NULL, 'X' },
		{ "ssm-profile", required_argument, NULL, 'P' },
		{ "acquire-timeout", required_argument, NULL, 'Q' },
		{ "log-format", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	opterr = 0;
	optind = 0;  /* a fresh scan: the Lambda runtime runs many events in one process */
	while ((c = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
		switch (c) {
		case 'c': o->case_id = optarg; break;
		case 'r': o->region = optarg; break;
		case 'a': o->account = optarg; break;
		case 'R': o->role_arn = optarg; break;
		case 'x': o->external_id = optarg; break;
		case 's': o->session_name = optarg; break;
		case 'k': o->kms_key = optarg; break;
		case 'D': o->deny_profile = optarg; break;
		case 'N': o->no_contain = true; break;
		case 'T': o->topic_arn = optarg; break;
		case 'o': o->record_uri = optarg; break;
		case 'G': o->record_region = optarg; break;
		case 'e': o->evidence_uri = optarg; break;
		case 'W': o->writer_role = optarg; break;
		case 'd': o->document = optarg; break;
		case 'U': o->agent_url = optarg; break;
		case 'H': o->agent_sha256 = optarg; break;
		case 'y': o->source = optarg; break;
		case 'M':
		case 'p':
			if (strncmp(optarg, "s3://", 5)) {
				log_error("usage", "%s: --%s %s: not an s3:// URI", o->command,
					  c == 'M' ? "module-store" : "module-pins", optarg);
				return EXIT_USAGE;
			}
			o->tool_uris[c == 'M' ? 0 : 1] = optarg;
			/* fall through */
		case 'X':
			if (add_agent_args(o, c == 'M' ? "--module-store" :
					   c == 'p' ? "--module-pins" : NULL, optarg)) {
				log_error("usage", "%s: the agent's options exceed the document's "
					  "%d characters of ExtraArgs", o->command, SSMDOC_EXTRA_MAX);
				return EXIT_USAGE;
			}
			break;
		case 'P': o->ssm_profile = optarg; break;
		case 'Q': {
			char *end;

			o->acquire_timeout_s = strtol(optarg, &end, 10);
			if (*end || end == optarg || o->acquire_timeout_s <= 0) {
				log_error("usage", "%s: --acquire-timeout wants seconds > 0",
					  o->command);
				return EXIT_USAGE;
			}
			break;
		}
		case 'S': o->share_with = optarg; break;
		case 't': {
			char *end;

			o->snapshot_timeout_s = strtol(optarg, &end, 10);
			if (*end || end == optarg || o->snapshot_timeout_s <= 0) {
				log_error("usage", "%s: --snapshot-timeout wants seconds > 0",
					  o->command);
				return EXIT_USAGE;
			}
			break;
		}
		case 'L':
			if (log_set_format(optarg)) {
				log_error("usage", "%s: unknown log format '%s'", o->command,
					  optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout, o);
			return -1;
		default:
			log_option_error(o->command, c, argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		log_error("usage", "%s: give exactly one instance id (try --help)", o->command);
		return EXIT_USAGE;
	}
	o->instance_id = argv[optind];
	if (!instance_id_ok(o->instance_id)) {
		log_error("usage", "%s: '%.40s' is not an instance id (i- and 8 or 17 hex digits)",
			  o->command,
			  o->instance_id);
		return EXIT_USAGE;
	}
	if (!o->case_id || !case_id_ok(o->case_id)) {
		log_error("usage", "%s: --case is required: 1-64 letters, digits, '.', '_', '-'",
			  o->command);
		return EXIT_USAGE;
	}
	if (o->share_with && !account_ok(o->share_with)) {
		log_error("usage", "%s: --share-with wants a 12-digit account id", o->command);
		return EXIT_USAGE;
	}
	for (int i = 0; i < 2; i++) {
		const char *v = i ? o->ssm_profile : o->deny_profile;

		if (v && strncmp(v, "arn:", 4) && !profile_name_ok(v)) {
			log_error("usage", "%s: --%s wants an instance profile's ARN or name, not "
				  "'%.40s'", o->command, i ? "ssm-profile" : "deny-profile", v);
			return EXIT_USAGE;
		}
	}
	if (!o->snapshot_timeout_s)
		o->snapshot_timeout_s = SNAPSHOT_DEFAULT_TIMEOUT_S;
	if (!o->acquire_timeout_s)
		o->acquire_timeout_s = SSM_DEFAULT_TIMEOUT_S;
	if (!o->document)
		o->document = SSMDOC_DEFAULT_NAME;
	if (o->evidence_uri && check_document_options(o))
		return EXIT_USAGE;
	if (o->release && !o->record_uri) {
		log_error("usage", "%s: --record is required: the case record says what to restore",
			  o->command);
		return EXIT_USAGE;
	}
	if (o->external_id && !o->role_arn) {
		log_error("usage", "%s: --external-id needs --role-arn", o->command);
		return EXIT_USAGE;
	}
	return 0;
}

/*
 * Disk evidence: one crash-consistent set, then (with a key) encrypted
 * copies, then the share. A failed copy or share leaves the others going.
 */
static void snapshot(struct awsapi_client *ec2, const struct respond_options *o,
		     const char *region, struct case_record *rec)
{
	time_t deadline = time(NULL) + o->snapshot_timeout_s;
	struct awsapi_error err;
	json_object *snaps = NULL;
	int ret;

	snaps = json_object_object_get(rec->root, "snapshots");
	if (snaps && json_object_array_length(snaps)) {
		/* Never a second set: the rerun waits for, copies and shares the first. */
		case_record_skip(rec, "snapshots", "taken by an earlier run of this case");
	} else {
		ret = snapshots_create(ec2, o->instance_id, o->case_id, &snaps, &err);
		if (case_record_step(rec, "snapshots", "EC2 CreateSnapshots", ret, &err))
			return;
		case_record_set(rec, "snapshots", snaps);
	}
	ret = snapshots_wait(ec2, snaps, "snapshot_id", "state", deadline, &err);
	if (case_record_step(rec, "snapshots-completed", "EC2 DescribeSnapshots", ret, &err))
		return;
	if (o->kms_key) {
		size_t copies = 0;

		for (size_t i = 0; i < json_object_array_length(snaps); i++) {
			json_object *s = json_object_array_get_idx(snaps, i), *v;
			char *copy = NULL;

			if (!json_object_object_get_ex(s, "snapshot_id", &v))
				continue;
			if (json_object_object_get_ex(s, "copy_id", NULL)) {
				copies++;
				continue;
			}
			ret = snapshots_copy(ec2, json_object_get_string(v), region, o->kms_key,
					     o->case_id, o->instance_id, &copy, &err);
			if (case_record_step(rec, "copy", "EC2 CopySnapshot", ret, &err))
				continue;
			json_object_object_add(s, "copy_id", json_object_new_string(copy));
			json_object_object_add(s, "copy_kms_key",
					       json_object_new_string(o->kms_key));
			free(copy);
			copies++;
		}
		if (!copies)
			return;
		ret = snapshots_wait(ec2, snaps, "copy_id", "copy_state", deadline, &err);
		if (case_record_step(rec, "copies-completed", "EC2 DescribeSnapshots", ret, &err))
			return;
	}
	if (!o->share_with)
		return;
	for (size_t i = 0; i < json_object_array_length(snaps); i++) {
		json_object *s = json_object_array_get_idx(snaps, i), *v;
		const char *key = o->kms_key ? "copy_id" : "snapshot_id";

		/* Only what was copied is shared when copies were asked for. */
		if (!json_object_object_get_ex(s, key, &v) ||
		    json_object_object_get_ex(s, "shared_with", NULL))
			continue;
		ret = snapshots_share(ec2, json_object_get_string(v), o->share_with, &err);
		if (!case_record_step(rec, "share", "EC2 ModifySnapshotAttribute", ret, &err))
			json_object_object_add(s, "shared_with",
					       json_object_new_string(o->share_with));
	}
}

/* Milestone messages, published with the security account's own credentials. */
/* Written at each milestone; a failed write is a failed step, never a stop. */
static void record_save(struct record_store *st, struct case_record *rec)
{
	char why[AWSAPI_ERROR_MAX] = "";
	struct awsapi_error err = { 0 };
	int ret = record_store_save(st, rec->root, why, sizeof(why));

	if (ret) {
		snprintf(err.text, sizeof(err.text), "S3 PutObject %s: %s", st->key, why);
		case_record_step(rec, "save-record", "S3 PutObject", ret, &err);
	}
}

/* Open the store and resume from what it holds; an exit code when it cannot be used. */
static int record_open(struct record_store *st, const struct respond_options *o,
		       const char *region, struct case_record *rec)
{
	char why[AWSAPI_ERROR_MAX] = "", *bucket_region = NULL;
	json_object *stored = NULL;
	int ret;

	if (o->record_region)
		bucket_region = strdup(o->record_region);
	else if (aws_region_resolve(NULL, NULL, &bucket_region, why, sizeof(why)))
		bucket_region = strdup(region);
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
		return EXIT_RECORD;
	}
	if (stored && case_record_resume(rec, stored)) {
		log_error("record", "s3://%s/%s belongs to another case or instance",
			  st->s3.bucket, st->key);
		return EXIT_RECORD;
	}
	if (!stored && o->release) {
		log_error("record", "no case record at s3://%s/%s to release from", st->s3.bucket,
			  st->key);
		return EXIT_RECORD;
	}
	if (stored)
		log_info("record", "resuming case %s, run %d", o->case_id, rec->run);
	return 0;
}

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
		record_save(n->store, rec);
	if (!n->ready) {
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
	ret = ec2_protect_termination(ec2, id, &err);
	if (!case_record_step(rec, "termination-protection", "EC2 ModifyInstanceAttribute", ret,
			      &err))
		json_object_object_add(done, "termination_protection", json_object_new_boolean(1));
	ret = ec2_shutdown_stop(ec2, id, &err);
	if (!case_record_step(rec, "shutdown-behavior", "EC2 ModifyInstanceAttribute", ret, &err))
		json_object_object_add(done, "shutdown_behavior", json_object_new_string("stop"));
	ret = ec2_keep_volumes(ec2, id, instance, &err);
	if (!case_record_step(rec, "keep-volumes", "EC2 ModifyInstanceAttribute", ret, &err))
		json_object_object_add(done, "delete_on_termination", json_object_new_boolean(0));
	ret = ec2_console_output(ec2, id, &console, &err);
	if (!case_record_step(rec, "console-output", "EC2 GetConsoleOutput", ret, &err))
		case_record_set(rec, "console_output", console);
}

/* Member-account credentials: the chain, then the role when asked; the exit code on failure. */
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

static int credentials(const struct respond_options *o, const char *region,
		       struct case_record *rec, struct aws_credentials_provider **cred)
{
	struct aws_credentials_provider *base = NULL;
	char why[AWSAPI_ERROR_MAX] = "", session[STS_SESSION_NAME_MAX + 1];
	struct awsapi_error err = { 0 };
	int ret;

	*cred = NULL;
	if (aws_credentials_provider_new(NULL, &base, why, sizeof(why))) {
		log_error("credentials", "%s", why);
		return EXIT_CREDENTIALS;
	}
	if (!o->role_arn) {
		*cred = base;
		return 0;
	}
	struct sts_role role = {
		.role_arn = o->role_arn, .external_id = o->external_id,
		.session_name = o->session_name,
	};

	if (!role.session_name) {
		snprintf(session, sizeof(session), "forensics-%s", o->case_id);
		role.session_name = session;
	}
	json_object_object_add(rec->root, "role_arn", json_object_new_string(o->role_arn));
	ret = sts_role_provider_new(base, region, &role, cred, why, sizeof(why));
	snprintf(err.text, sizeof(err.text), "%s", why);
	if (case_record_step(rec, "assume-role", "STS AssumeRole", ret, &err))
		return ret == -ENOMEM ? EXIT_FAILURE_INTERNAL : EXIT_ASSUME_ROLE;
	return 0;
}

/* Where the security account's own resources live: the option, the environment, else region. */
static char *home_region(const struct respond_options *o, const char *region)
{
	char why[AWS_REASON_MAX], *r = NULL;

	if (o->record_region)
		return strdup(o->record_region);
	if (aws_region_resolve(NULL, NULL, &r, why, sizeof(why)))
		return strdup(region);
	return r;
}

/*
 * The session's credentials are all the agent has: when it is to fetch
 * modules or their pins from S3, reading them (GetObject only, under the
 * given prefix or key) joins the session policy, as ",{statement}" text.
 */
static int tool_reads(const struct respond_options *o, char **out, char *why, size_t whylen)
{
	char *text = strdup(""), *bucket = NULL, *key = NULL, *more;
	int ret = 0;

	for (size_t i = 0; text && i < sizeof(o->tool_uris) / sizeof(o->tool_uris[0]); i++) {
		if (!o->tool_uris[i])
			continue;
		ret = s3_uri_parse(o->tool_uris[i], &bucket, &key, why, whylen);
		if (ret)
			break;
		if (asprintf(&more, "%s,{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\","
			     "\"Resource\":\"arn:aws:s3:::%s/%s*\"}", text, bucket, key) < 0)
			more = NULL;
		free(text);
		free(bucket);
		free(key);
		bucket = key = NULL;
		text = more;
	}
	if (!ret && !text)
		ret = -ENOMEM;
	if (ret) {
		free(text);
		text = NULL;
	}
	*out = text;
	return ret;
}

/*
 * Temporary credentials of the writer role, narrowed to the case's prefix: the
 * agent can put objects there and nothing else, for an hour at most.
 */
static int writer_credentials(const struct respond_options *o, const char *home,
			      const char *bucket, const char *key, struct aws_credentials *out,
			      struct awsapi_error *err)
{
	struct aws_credentials_provider *base = NULL;
	struct awsapi_client sts;
	char *policy = NULL, *reads = NULL, session[STS_SESSION_NAME_MAX + 1];
	int ret;

	memset(err, 0, sizeof(*err));
	ret = aws_credentials_provider_new(NULL, &base, err->text, sizeof(err->text));
	if (ret)
		return ret;
	ret = awsapi_client_init(&sts, &awsapi_sts, home, base, err->text, sizeof(err->text));
	if (ret) {
		aws_credentials_provider_free(base);
		return ret;
	}
	/*
	 * The agent also HEADs its image key before writing (evidence is never
	 * overwritten; HEAD needs s3:GetObject) and tags the finished objects
	 * with their digests: both only under this case's instance prefix.
	 * An evidence bucket encrypted with a customer key has S3 ask KMS for
	 * data keys as the caller, so the session keeps GenerateDataKey and
	 * Decrypt (multipart completion) through S3 in the bucket's region; the
	 * role's own policy names the key.
	 */
	ret = tool_reads(o, &reads, err->text, sizeof(err->text));
	if (ret) {
		awsapi_client_free(&sts);
		aws_credentials_provider_free(base);
		return ret;
	}
	if (asprintf(&policy, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
		     "\"Action\":[\"s3:PutObject\",\"s3:AbortMultipartUpload\","
		     "\"s3:ListMultipartUploadParts\",\"s3:GetObject\",\"s3:PutObjectTagging\"],"
		     "\"Resource\":\"arn:aws:s3:::%s/%s*\"},{\"Effect\":\"Allow\","
		     "\"Action\":[\"kms:GenerateDataKey\",\"kms:Decrypt\"],\"Resource\":\"*\","
		     "\"Condition\":{\"StringEquals\":{\"kms:ViaService\":\"s3.%s.amazonaws.com\"}}}%s]}",
		     bucket, key, home, reads) < 0)
		policy = NULL;
	free(reads);
	snprintf(session, sizeof(session), "forensics-writer-%s", o->case_id);
	struct sts_role role = {
		.role_arn = o->writer_role, .session_name = session, .policy = policy,
		.duration_s = STS_DEFAULT_DURATION_S,
	};

	ret = policy ? sts_assume_role(&sts, &role, out, NULL, 0, err) : -ENOMEM;
	free(policy);
	awsapi_client_free(&sts);
	aws_credentials_provider_free(base);
	return ret;
}

/* The agent through SSM, writing into <evidence><case>/<instance>/. */
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
	ret = awsapi_query(ec2, "AssociateIamInstanceProfile", &p, &root, &err);
	awsapi_params_free(&p);
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

static void acquire_memory(struct awsapi_client *ssm, struct awsapi_client *ec2,
			   const struct respond_options *o, const char *region,
			   json_object *instance, struct case_record *rec)
{
	struct aws_credentials cred = { 0 };
	json_object *mem = json_object_new_object(), *inv = NULL, *params = NULL;
	char *bucket = NULL, *key = NULL, *output = NULL, *home;
	char *command_id = NULL, comment[100], why[AWSAPI_ERROR_MAX / 2] = "";
	struct awsapi_error err = { 0 };
	time_t now = time(NULL);
	int ret;

	case_record_set(rec, "memory", mem);
	ssm_profile(ec2, o, instance, rec, mem);
	home = home_region(o, region);
	ret = home ? evidence_location(o, &bucket, &key, err.text, sizeof(err.text)) : -ENOMEM;
	if (ret) {
		case_record_step(rec, "memory", "S3 URI", ret, &err);
		goto out;
	}
	if (asprintf(&output, "s3://%s/%s", bucket, key) >= 0)
		json_object_object_add(mem, "output", json_object_new_string(output));
	json_object_object_add(mem, "document", json_object_new_string(o->document));
	if (o->writer_role) {
		json_object_object_add(mem, "writer_role",
				       json_object_new_string(o->writer_role));
		ret = writer_credentials(o, home, bucket, key, &cred, &err);
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
		snprintf(comment, sizeof(comment), "forensics case %s: memory", o->case_id);
		ret = ssm_send(ssm, o->instance_id, o->document, params, comment,
			       now + SSM_REGISTER_TIMEOUT_S, &command_id, &err);
	}
	if (case_record_step(rec, "memory-command", "SSM SendCommand", ret, &err))
		goto out;
	json_object_object_add(mem, "command_id", json_object_new_string(command_id));
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

enum run_mode { RUN_RESPOND, RUN_CONTAIN, RUN_RELEASE };

static int run(int argc, char *argv[], const char *command, enum run_mode mode)
{
	struct respond_options o = { .command = command, .contain_only = mode == RUN_CONTAIN,
				     .release = mode == RUN_RELEASE };
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
	char *region = NULL;
	int ret, code = EXIT_OK;

	ret = parse(argc, argv, &o);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (aws_region_resolve(o.region, NULL, &region, why, sizeof(why))) {
		log_error("usage", "%s: region: %s", command, why);
		return EXIT_USAGE;
	}
	if (case_record_init(&rec, o.case_id, o.instance_id, region)) {
		code = EXIT_FAILURE_INTERNAL;
		goto out;
	}
	code = notifier_init(&note, &o);
	if (!code && o.record_uri) {
		code = record_open(&store, &o, region, &rec);
		note.store = store.ready ? &store : NULL;
	}
	if (code)
		goto out;
	/* After a resume: the stored record is the one that goes on. */
	json_object_object_add(rec.root, "command", json_object_new_string(command));
	code = credentials(&o, region, &rec, &cred);
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
	milestone(&note, &rec, "started", NULL, "%s of %s (%s) in %s", command, o.instance_id,
		  json_object_get_string(json_object_object_get(instance, "state")), region);
	if (mode == RUN_RELEASE) {
		json_object *found = json_object_object_get(rec.root, "instance");

		if (!found) {
			snprintf(err.text, sizeof(err.text),
				 "the case record holds no instance as found: nothing to restore");
			err.code[0] = '\0';
			case_record_step(&rec, "release", "case record", -ENOENT, &err);
		} else {
			release_instance(&ec2, o.instance_id, found, instance, &rec);
			milestone(&note, &rec, "released", NULL, "%s", rec.failures ?
				  "release incomplete: see the case record" :
				  "groups, addresses, profile and attributes restored");
		}
		goto done;
	}
	if (mode == RUN_RESPOND) {
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
			milestone(&note, &rec, "preserved", NULL, "%s", rec.failures == failures ?
				  "termination protection on, shutdown stop, volumes kept, console saved" :
				  "preservation incomplete: see the case record");
		}
		if (o.evidence_uri && case_record_done(&rec, "memory-manifest")) {
			case_record_skip(&rec, "memory", "acquired by an earlier run of this case");
		} else if (o.evidence_uri) {
			failures = rec.failures;
			acquire_memory(&ssm, &ec2, &o, region, instance, &rec);
			milestone(&note, &rec, "memory", NULL, "%s", rec.failures == failures ?
				  "memory acquired by the agent" : "memory acquisition failed");
		}
		snapshot(&ec2, &o, region, &rec);
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
		contain_instance(&ec2, &iam, &co, instance, &rec);
		milestone(&note, &rec, "contained", NULL, "%s", rec.failures == failures ?
			  "network isolated, Elastic IPs off, role sessions revoked, tagged" :
			  "containment incomplete: see the case record");
	}
done:
	if (rec.failures)
		code = EXIT_STEP_FAILED;
print:
	if (code != EXIT_OK || rec.failures)
		milestone(&note, &rec, "failed", NULL,
			  "%u step(s) failed, exit %d: see the case record", rec.failures, code);
	else
		milestone(&note, &rec, "finished", NULL, "%s done", command);
	if (code == EXIT_OK && rec.failures)
		code = EXIT_STEP_FAILED;  /* the last notification failed */
	json_object_object_add(rec.root, "finished", json_object_new_boolean(code == EXIT_OK));
	if (note.store)
		record_save(note.store, &rec);
	printf("%s\n", json_object_to_json_string_ext(rec.root, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
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
	free(region);
	return code;
}

int respond_main(int argc, char *argv[])
{
	return run(argc, argv, "respond", RUN_RESPOND);
}

int contain_main(int argc, char *argv[])
{
	return run(argc, argv, "contain", RUN_CONTAIN);
}

int release_main(int argc, char *argv[])
{
	return run(argc, argv, "release", RUN_RELEASE);
}

#define EVENT_MAX_ARGS 64

/*
 * event [--role-name NAME] [--event FILE] [respond options]: the event (stdin
 * by default) says which instance, account, region and case, and whether to
 * respond or only contain; the member role is arn:aws:iam::<account>:role/NAME.
 */
int event_main(int argc, char *argv[])
{
	const char *role_name = NULL, *file = NULL;
	char *args[EVENT_MAX_ARGS], *buf = NULL;
	size_t len = 0, n = 0;
	FILE *in = stdin;
	int i;

	args[n++] = argv[0];
	args[n++] = NULL;  /* the instance, once known */
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("Usage: %s event [--role-name NAME] [--event FILE] [options]\n\n"
			       "Respond to (or only contain, for SecurityIncidentStatus=Contain)\n"
			       "the instance an EventBridge tag change, Security Hub custom\n"
			       "action or manual event names; read from FILE or stdin. Other\n"
			       "options as for respond.\n", CONTROLLER_NAME);
			return EXIT_OK;
		}
		if ((!strcmp(argv[i], "--role-name") || !strcmp(argv[i], "--event")) &&
		    i + 1 < argc) {
			*(argv[i][2] == 'r' ? &role_name : &file) = argv[i + 1];
			i++;
		} else if (n + 10 < EVENT_MAX_ARGS) {
			args[n++] = argv[i];
		} else {
			log_error("usage", "event: too many options");
			return EXIT_USAGE;
		}
	}
	if (file && !(in = fopen(file, "r"))) {
		log_error("usage", "event: cannot open %s: %m", file);
		return EXIT_USAGE;
	}
	buf = malloc(EVENT_MAX + 1);
	if (buf)
		len = fread(buf, 1, EVENT_MAX + 1, in);
	if (in != stdin)
		fclose(in);
	if (!buf)
		return EXIT_FAILURE_INTERNAL;
	i = event_run(buf, len, role_name, (int)n, args);
	free(buf);
	return i;
}

int event_run(const char *body, size_t len, const char *role_name, int argc, char *argv[])
{
	struct event_request ev;
	char *args[EVENT_MAX_ARGS], why[256] = "", role_arn[160];
	size_t n = 0;

	if (argc + 10 > EVENT_MAX_ARGS) {
		log_error("usage", "event: too many options");
		return EXIT_USAGE;
	}
	for (int i = 0; i < argc; i++)
		args[n++] = argv[i];
	if (event_parse(body, len, &ev, why, sizeof(why))) {
		log_error("event", "%s", why);
		return EXIT_EVENT;
	}
	if (ev.action == EVENT_IGNORE) {
		log_info("event", "%s event for %s: not Analyze or Contain, nothing to do", ev.kind,
			 ev.instance_id);
		return EXIT_OK;
	}
	log_info("event", "%s event: %s %s in %s/%s, case %s", ev.kind,
		 ev.action == EVENT_CONTAIN ? "contain" : "respond to", ev.instance_id, ev.account,
		 ev.region, ev.case_id);
	args[1] = ev.instance_id;
	args[n++] = "--case";
	args[n++] = ev.case_id;
	args[n++] = "--region";
	args[n++] = ev.region;
	args[n++] = "--account";
	args[n++] = ev.account;
	if (role_name) {
		snprintf(role_arn, sizeof(role_arn), "arn:aws:iam::%s:role/%s", ev.account,
			 role_name);
		args[n++] = "--role-arn";
		args[n++] = role_arn;
	}
	args[n] = NULL;
	return ev.action == EVENT_CONTAIN ? run((int)n, args, "contain", RUN_CONTAIN) :
					    run((int)n, args, "respond", RUN_RESPOND);
}
