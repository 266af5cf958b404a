// SPDX-License-Identifier: GPL-2.0-only
#include "response/assume.h"
#include "aws/s3.h"
#include "aws/sts.h"
#include "base/exitcodes.h"
#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Whether AssumeRole's refusal (why: "STS AssumeRole: <code>: …") is of our
 * own credentials (exit 20, as for any other call) rather than of the role's
 * trust policy or external id (24).
 */
static bool own_credentials_refused(const char *why)
{
	static const char *const codes[] = {
		"SignatureDoesNotMatch", "InvalidClientTokenId", "IncompleteSignature",
		"MissingAuthenticationToken", "InvalidAccessKeyId", "ExpiredToken",
		"UnrecognizedClientException", "AuthFailure",
	};
	char code[64];

	if (sscanf(why, "STS AssumeRole: %63[A-Za-z]:", code) != 1)
		return false;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (!strcmp(code, codes[i]))
			return true;
	return false;
}

int assume_member_role(const struct respond_options *o, const char *region,
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
		return ret == -ENOMEM ? EXIT_FAILURE_INTERNAL :
		       ret == -EACCES && own_credentials_refused(why) ? EXIT_AWS_DENIED :
		       EXIT_ASSUME_ROLE;
	return 0;
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

int assume_writer_credentials(const struct respond_options *o, const char *home,
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
