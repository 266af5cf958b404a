/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * STS for the controller: who we are (GetCallerIdentity) and the member
 * account's response role (AssumeRole), as a credentials provider that
 * assumes the role again before the session expires, so long responses
 * (snapshots of large volumes) keep working.
 */
#ifndef FORENSICS_STS_H
#define FORENSICS_STS_H

#include "aws/awsapi.h"

#define STS_SESSION_NAME_MAX 64
#define STS_DEFAULT_DURATION_S 3600

struct sts_role {
	const char *role_arn;
	const char *external_id;   /* NULL: none */
	const char *session_name;  /* 2-64 of [A-Za-z0-9+=,.@-] */
	const char *policy;        /* session policy JSON narrowing the role, or NULL */
	int duration_s;            /* 0: STS_DEFAULT_DURATION_S */
};

struct sts_identity {
	char account[16];
	char arn[512];
	char user_id[256];
};

int sts_get_caller_identity(struct awsapi_client *sts, struct sts_identity *out,
			    struct awsapi_error *err);
/* One AssumeRole: credentials into *out (aws_credentials_set), the assumed role's ARN. */
int sts_assume_role(struct awsapi_client *sts, const struct sts_role *role,
		    struct aws_credentials *out, char *assumed_arn, size_t arn_len,
		    struct awsapi_error *err);
/*
 * The answers as trees (awsapi_query's): GetCallerIdentity's into *out, and
 * AssumeRole's credentials into *out with the assumed role's ARN (role_arn
 * when the answer names none). 0, or -EIO (or aws_credentials_set's error)
 * with why.
 */
int sts_identity_read(const struct awsxml_node *root, struct sts_identity *out, char *why,
		      size_t whylen);
int sts_credentials_read(const struct awsxml_node *root, const char *role_arn,
			 struct aws_credentials *out, char *assumed_arn, size_t arn_len,
			 char *why, size_t whylen);
/*
 * A provider of the role's credentials, calling AssumeRole with base's
 * credentials (base is owned from here, also on failure). The first
 * AssumeRole happens now: -EACCES/-ENOENT/... with why when it fails.
 */
int sts_role_provider_new(struct aws_credentials_provider *base, const char *region,
			  const struct sts_role *role, struct aws_credentials_provider **out,
			  char *why, size_t whylen);
/* "2026-11-28T17:00:00Z" or with fractions: seconds since the epoch; 0 if malformed. */
time_t sts_parse_time(const char *iso);

#endif
