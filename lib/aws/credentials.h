/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * AWS credentials, resolved in the order the AWS SDKs use, so the agent
 * behaves like the aws CLI on the same host:
 *
 *   1. explicit options (--access-key-id/--secret-access-key/--session-token)
 *   2. AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN
 *   3. shared files: AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials) and
 *      AWS_CONFIG_FILE (~/.aws/config), profile AWS_PROFILE or "default"
 *   4. the instance role through IMDSv2, refreshed before its Expiration
 *
 * Library code: no printing; errors come back as negative errno and a
 * one-line reason.
 */
#ifndef FORENSICS_CREDENTIALS_H
#define FORENSICS_CREDENTIALS_H

#include <stddef.h>
#include <time.h>

/* Refresh temporary credentials this long before they expire. */
#define AWS_CREDENTIALS_REFRESH_MARGIN 300

struct aws_credentials {
	char *access_key_id;
	char *secret_access_key;
	char *session_token;     /* NULL for long-term keys */
	time_t expiration;       /* 0: does not expire */
	char source[64];         /* "options", "environment", "profile default", "imds role X" */
};

struct aws_credential_options {
	const char *access_key_id;    /* all three NULL unless given on the command line */
	const char *secret_access_key;
	const char *session_token;
	const char *profile;          /* overrides AWS_PROFILE */
};

struct aws_credentials_provider;

/*
 * A source the library does not know (an STS AssumeRole, for the
 * controller): fetch() fills *out with aws_credentials_set(), and is asked
 * again when the credentials near their expiration or were refused.
 */
struct aws_credentials_source {
	int (*fetch)(void *ctx, struct aws_credentials *out, char *why, size_t whylen);
	void (*free)(void *ctx);   /* called once with ctx when the provider goes */
	void *ctx;
};

/* Checked copies of the values into *out; origin names the source. */
int aws_credentials_set(struct aws_credentials *out, const char *access_key_id,
			const char *secret_access_key, const char *session_token,
			time_t expiration, const char *origin, char *why, size_t whylen);
/* A provider over source (owned from here, also on failure), fetched once now. */
int aws_credentials_provider_new_source(const struct aws_credentials_source *source,
					struct aws_credentials_provider **out, char *why,
					size_t whylen);

/* Resolve the first source that has credentials; 0 or -ENOKEY with why. */
int aws_credentials_provider_new(const struct aws_credential_options *options,
				 struct aws_credentials_provider **out, char *why, size_t whylen);
/*
 * Current credentials, refreshed from their source when within
 * AWS_CREDENTIALS_REFRESH_MARGIN of expiring (or after invalidate()).
 * The pointer stays valid until the next get() or free().
 */
int aws_credentials_get(struct aws_credentials_provider *p, time_t now,
			const struct aws_credentials **out, char *why, size_t whylen);
/*
 * The last credentials resolved, even if refused or expired: only for
 * best-effort cleanup (aborting an upload) after get() has failed.
 */
const struct aws_credentials *aws_credentials_last(const struct aws_credentials_provider *p);
/* The service said ExpiredToken: the next get() refreshes. */
void aws_credentials_invalidate(struct aws_credentials_provider *p);
void aws_credentials_provider_free(struct aws_credentials_provider *p);

#endif
