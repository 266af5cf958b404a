/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The EC2 instance metadata service, IMDSv2 only (a session token first):
 * IMDSv1 is disabled on hardened instances and invites SSRF.
 * AWS_EC2_METADATA_SERVICE_ENDPOINT overrides the address,
 * AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6 picks the IPv6 address and
 * AWS_EC2_METADATA_DISABLED=true turns it off, as in the AWS SDKs.
 *
 * Errors: -ENOTSUP disabled, -EHOSTUNREACH no answer, -ENOENT HTTP 404,
 * -EPROTO any other refusal or an unusable answer, with a one-line reason.
 */
#ifndef FORENSICS_IMDS_H
#define FORENSICS_IMDS_H

#include <stddef.h>
#include <time.h>

#define IMDS_DEFAULT_ENDPOINT "http://169.254.169.254"
#define IMDS_DEFAULT_ENDPOINT_IPV6 "http://[fd00:ec2::254]"
#define IMDS_TOKEN_TTL_SECONDS 21600
/* A token is fetched anew this long before the service would expire it. */
#define IMDS_TOKEN_RENEW_MARGIN 60
#define IMDS_TOKEN_MAX 1024
#define IMDS_BODY_MAX (64u << 10)
#define IMDS_ROLE_NAME_MAX 64

/*
 * A session token reused across requests (one PUT, then GETs) until shortly
 * before its TTL ends, or until the service refuses it (401: one new token,
 * one retry). Zero-initialise or imds_session_init(); imds_session_clear()
 * wipes the token.
 */
struct imds_session {
	char token[IMDS_TOKEN_MAX + 1]; /* "" until fetched */
	time_t renew_at;                /* CLOCK_MONOTONIC seconds */
};

void imds_session_init(struct imds_session *s);
void imds_session_clear(struct imds_session *s);
/* GET path ("/latest/..."); *body is malloc'd and NUL-terminated. */
int imds_session_get(struct imds_session *s, const char *path, char **body, char *why,
		     size_t whylen);

/* One-shot: a new token, then GET path. */
int imds_get(const char *path, char **body, char *why, size_t whylen);
int imds_instance_identity(char **document, char *why, size_t whylen);

/* placement/region as the service answers it (not validated); malloc'd. */
int imds_region(struct imds_session *s, char **region, char *why, size_t whylen);
/* The instance profile's role name; -ENOENT when the instance has none. */
int imds_role_name(struct imds_session *s, char **role, char *why, size_t whylen);

struct imds_role_credentials {
	char *access_key_id;
	char *secret_access_key;
	char *token;
	time_t expiration;
};

/* The role's temporary credentials (free with imds_role_credentials_free). */
int imds_role_credentials(struct imds_session *s, const char *role,
			  struct imds_role_credentials *out, char *why, size_t whylen);
/*
 * The JSON the service answers for a role: Code "Success", AccessKeyId,
 * SecretAccessKey, Token, Expiration. -EPROTO with why (never a secret)
 * for anything else. Exposed for tests and fuzzing.
 */
int imds_parse_role_credentials(const char *json, size_t len, const char *role,
				struct imds_role_credentials *out, char *why, size_t whylen);
void imds_role_credentials_free(struct imds_role_credentials *c);

/* "2026-11-28T23:00:00Z" (fraction and "+00:00" allowed) → UTC seconds; 0 or -EINVAL. */
int imds_parse_time(const char *text, time_t *out);

#endif
