// SPDX-License-Identifier: GPL-2.0-only
#include "aws/sts.h"
#include "aws/reason.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

time_t sts_parse_time(const char *iso)
{
	struct tm tm = { 0 };
	const char *rest;

	if (!iso || !(rest = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm)))
		return 0;
	if (*rest == '.')
		for (rest++; *rest >= '0' && *rest <= '9'; rest++)
			;
	if (strcmp(rest, "Z") && strcmp(rest, "+00:00") && *rest)
		return 0;
	return timegm(&tm);
}

int sts_identity_read(const struct awsxml_node *root, struct sts_identity *out, char *why,
		      size_t whylen)
{
	const struct awsxml_node *r = awsxml_child(root, "GetCallerIdentityResult");

	memset(out, 0, sizeof(*out));
	if (!awsxml_text(r, "Account")) {
		snprintf(why, whylen, "STS GetCallerIdentity: no Account in the answer");
		return -EIO;
	}
	snprintf(out->account, sizeof(out->account), "%s", awsxml_text(r, "Account"));
	snprintf(out->arn, sizeof(out->arn), "%s", awsxml_text(r, "Arn") ?: "");
	snprintf(out->user_id, sizeof(out->user_id), "%s", awsxml_text(r, "UserId") ?: "");
	return 0;
}

int sts_get_caller_identity(struct awsapi_client *sts, struct sts_identity *out,
			    struct awsapi_error *err)
{
	struct awsxml_node *root;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = awsapi_query(sts, "GetCallerIdentity", NULL, &root, err);
	if (ret)
		return ret;
	ret = sts_identity_read(root, out, err->text, sizeof(err->text));
	awsxml_free(root);
	return ret;
}

int sts_credentials_read(const struct awsxml_node *root, const char *role_arn,
			 struct aws_credentials *out, char *assumed_arn, size_t arn_len,
			 char *why, size_t whylen)
{
	const struct awsxml_node *r = awsxml_child(root, "AssumeRoleResult");
	const struct awsxml_node *cred = awsxml_child(r, "Credentials");
	time_t expiration = sts_parse_time(awsxml_text(cred, "Expiration"));
	char origin[96], reason[AWS_REASON_MAX];
	int ret;

	snprintf(origin, sizeof(origin), "assumed role %.80s", role_arn);
	if (!awsxml_text(cred, "AccessKeyId") || !awsxml_text(cred, "SecretAccessKey") ||
	    !awsxml_text(cred, "SessionToken") || !expiration) {
		snprintf(why, whylen,
			 "STS AssumeRole: the answer lacks credentials or their expiration");
		return -EIO;
	}
	ret = aws_credentials_set(out, awsxml_text(cred, "AccessKeyId"),
				  awsxml_text(cred, "SecretAccessKey"),
				  awsxml_text(cred, "SessionToken"), expiration, origin, reason,
				  sizeof(reason));
	if (ret) {
		snprintf(why, whylen, "STS AssumeRole: %s", reason);
		return ret;
	}
	if (assumed_arn)
		snprintf(assumed_arn, arn_len, "%s",
			 awsxml_text(r, "AssumedRoleUser/Arn") ?: role_arn);
	return 0;
}

int sts_assume_role(struct awsapi_client *sts, const struct sts_role *role,
		    struct aws_credentials *out, char *assumed_arn, size_t arn_len,
		    struct awsapi_error *err)
{
	struct awsapi_params p = { 0 };
	struct awsxml_node *root = NULL;
	int ret;

	awsapi_params_add(&p, "RoleArn", "%s", role->role_arn);
	awsapi_params_add(&p, "RoleSessionName", "%s", role->session_name);
	awsapi_params_add(&p, "DurationSeconds", "%d",
			  role->duration_s ? role->duration_s : STS_DEFAULT_DURATION_S);
	if (role->external_id)
		awsapi_params_add(&p, "ExternalId", "%s", role->external_id);
	if (role->policy)
		awsapi_params_add(&p, "Policy", "%s", role->policy);
	ret = awsapi_query(sts, "AssumeRole", &p, &root, err);
	awsapi_params_free(&p);
	if (ret)
		return ret;
	ret = sts_credentials_read(root, role->role_arn, out, assumed_arn, arn_len, err->text,
				   sizeof(err->text));
	awsxml_free(root);
	return ret;
}

/* The provider's state: the STS client over the base credentials, and the request. */
struct role_ctx {
	struct aws_credentials_provider *base;
	struct awsapi_client sts;
	bool sts_ready;
	char *role_arn, *external_id, *session_name, *policy;
	int duration_s;
};

static void role_ctx_free(void *data)
{
	struct role_ctx *x = data;

	if (!x)
		return;
	if (x->sts_ready)
		awsapi_client_free(&x->sts);
	aws_credentials_provider_free(x->base);
	free(x->role_arn);
	free(x->external_id);
	free(x->session_name);
	free(x->policy);
	free(x);
}

static int role_fetch(void *data, struct aws_credentials *out, char *why, size_t whylen)
{
	struct role_ctx *x = data;
	struct sts_role role = {
		.role_arn = x->role_arn, .external_id = x->external_id,
		.session_name = x->session_name, .policy = x->policy, .duration_s = x->duration_s,
	};
	struct awsapi_error err;
	int ret = sts_assume_role(&x->sts, &role, out, NULL, 0, &err);

	if (ret)
		snprintf(why, whylen, "%s", err.text);
	return ret;
}

static char *dup_or_null(const char *s, bool *failed)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*failed = true;
	return d;
}

int sts_role_provider_new(struct aws_credentials_provider *base, const char *region,
			  const struct sts_role *role, struct aws_credentials_provider **out,
			  char *why, size_t whylen)
{
	struct aws_credentials_source source = { .fetch = role_fetch, .free = role_ctx_free };
	struct role_ctx *x;
	bool failed = false;
	int ret;

	*out = NULL;
	x = calloc(1, sizeof(*x));
	if (!x) {
		aws_credentials_provider_free(base);
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	x->base = base;
	x->role_arn = dup_or_null(role->role_arn, &failed);
	x->external_id = dup_or_null(role->external_id, &failed);
	x->session_name = dup_or_null(role->session_name, &failed);
	x->policy = dup_or_null(role->policy, &failed);
	x->duration_s = role->duration_s;
	if (failed) {
		role_ctx_free(x);
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	ret = awsapi_client_init(&x->sts, &awsapi_sts, region, base, why, whylen);
	if (ret) {
		role_ctx_free(x);
		return ret;
	}
	x->sts_ready = true;
	source.ctx = x;
	return aws_credentials_provider_new_source(&source, out, why, whylen);
}
