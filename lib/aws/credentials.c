// SPDX-License-Identifier: GPL-2.0-only
/*
 * The credential chain, as the aws CLI (botocore) resolves it. Where the
 * CLI would use a source this agent cannot (assume role, SSO, web identity,
 * credential_process, container credentials) resolution stops with a
 * reason naming it rather than quietly falling through to a different
 * identity.
 */
#include "aws/credentials.h"
#include "base/timefmt.h"

#include "aws/awsconfig.h"
#include "aws/imds.h"
#include "aws/reason.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACCESS_KEY_ID_MAX 128
#define SECRET_ACCESS_KEY_MAX 256
#define SESSION_TOKEN_MAX 16384

enum cred_source { SRC_CHAIN, SRC_OPTIONS, SRC_ENV, SRC_FILES, SRC_IMDS, SRC_CALLER };

struct aws_credentials_provider {
	enum cred_source source; /* where cur came from: refreshes ask it again */
	char *profile;
	bool profile_explicit;   /* named by options or AWS_PROFILE: it must exist */
	bool skip_env;           /* --profile given: the CLI ignores environment keys */
	char *opt_access_key_id, *opt_secret_access_key, *opt_session_token;
	struct aws_credentials cur;
	bool invalidated;
	struct imds_session imds;
	struct aws_credentials_source caller; /* SRC_CALLER: e.g. an assumed role */
};

static void wipe_str(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void creds_clear(struct aws_credentials *c)
{
	wipe_str(c->access_key_id);
	wipe_str(c->secret_access_key);
	wipe_str(c->session_token);
	memset(c, 0, sizeof(*c));
}

/* Printable, no spaces, bounded: they go into headers. Never echoes the value. */
static int check_value(const char *name, const char *origin, const char *v, size_t max,
		       char *why, size_t whylen)
{
	size_t n = strlen(v);

	if (!n) {
		aws_reason_set(why, whylen, "%s from %s is empty", name, origin);
		return -EINVAL;
	}
	if (n > max) {
		aws_reason_set(why, whylen, "%s from %s is longer than %zu characters", name,
			       origin, max);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i] <= ' ' || v[i] > '~') {
			aws_reason_set(why, whylen,
				       "%s from %s holds spaces or non-ASCII characters", name,
				       origin);
			return -EINVAL;
		}
	}
	return 0;
}

static int creds_fill(struct aws_credentials *out, const char *key, const char *secret,
		      const char *token, time_t expiration, const char *origin, char *why,
		      size_t whylen)
{
	int ret;

	ret = check_value("access key id", origin, key, ACCESS_KEY_ID_MAX, why, whylen);
	if (!ret)
		ret = check_value("secret access key", origin, secret, SECRET_ACCESS_KEY_MAX, why,
				  whylen);
	if (!ret && token)
		ret = check_value("session token", origin, token, SESSION_TOKEN_MAX, why, whylen);
	if (ret)
		return ret;
	memset(out, 0, sizeof(*out));
	out->access_key_id = strdup(key);
	out->secret_access_key = strdup(secret);
	out->session_token = token ? strdup(token) : NULL;
	out->expiration = expiration;
	if (!out->access_key_id || !out->secret_access_key || (token && !out->session_token)) {
		creds_clear(out);
		return -ENOMEM;
	}
	return 0;
}

/* Each source: 0 with credentials, 1 when it has none, or -errno with why. */
static int from_options(struct aws_credentials_provider *p, struct aws_credentials *out,
			char *why, size_t whylen)
{
	int ret;

	if (!p->opt_access_key_id || !p->opt_secret_access_key) {
		aws_reason_set(why, whylen, "--access-key-id and --secret-access-key go together%s",
			       p->opt_session_token ? " (a session token needs both)" : "");
		return -EINVAL;
	}
	ret = creds_fill(out, p->opt_access_key_id, p->opt_secret_access_key,
			 p->opt_session_token, 0, "the command line", why, whylen);
	if (!ret)
		snprintf(out->source, sizeof(out->source), "options");
	return ret;
}

static int from_env(struct aws_credentials *out, char *why, size_t whylen)
{
	const char *key = awsconfig_env("AWS_ACCESS_KEY_ID");
	const char *secret = awsconfig_env("AWS_SECRET_ACCESS_KEY");
	const char *token = awsconfig_env("AWS_SESSION_TOKEN");
	const char *expiry = awsconfig_env("AWS_CREDENTIAL_EXPIRATION");
	time_t expiration = 0;
	int ret;

	if (!token)
		token = awsconfig_env("AWS_SECURITY_TOKEN");
	if (!key && !secret)
		return 1;
	if (!key || !secret) {
		aws_reason_set(why, whylen, "%s is set but %s is not",
			       key ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
			       key ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
		return -EINVAL;
	}
	if (expiry && imds_parse_time(expiry, &expiration)) {
		aws_reason_set(why, whylen, "AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time");
		return -EINVAL;
	}
	ret = creds_fill(out, key, secret, token, expiration, "the environment", why, whylen);
	if (!ret)
		snprintf(out->source, sizeof(out->source), "environment");
	return ret;
}


static int static_keys(const struct awsconfig_section *s, const char *profile, const char *path,
		       const char *label, struct aws_credentials *out, char *why, size_t whylen)
{
	const char *key = awsconfig_get(s, "aws_access_key_id");
	const char *secret = awsconfig_get(s, "aws_secret_access_key");
	const char *token = awsconfig_get(s, "aws_session_token");
	char origin[AWS_REASON_MAX / 2], name[48];
	int ret;

	if (!token)
		token = awsconfig_get(s, "aws_security_token");
	if (!key && !secret)
		return 1;
	snprintf(origin, sizeof(origin), "profile '%s' in %s",
		 aws_reason_quote(name, sizeof(name), profile, 40), path);
	if (!key || !secret) {
		aws_reason_set(why, whylen, "%s has %s but no %s", origin,
			       key ? "aws_access_key_id" : "aws_secret_access_key",
			       key ? "aws_secret_access_key" : "aws_access_key_id");
		return -EINVAL;
	}
	ret = creds_fill(out, key, secret, token && *token ? token : NULL, 0, origin, why, whylen);
	if (!ret)
		snprintf(out->source, sizeof(out->source), "%s %.40s", label, profile);
	return ret;
}

static const char *unsupported_setting(const struct awsconfig_section *cs,
				       const struct awsconfig_section *fs, const char *const *keys,
				       size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (awsconfig_get(cs, keys[i]) || awsconfig_get(fs, keys[i]))
			return keys[i];
	return NULL;
}

static int from_files(struct aws_credentials_provider *p, struct aws_credentials *out,
		      char *why, size_t whylen)
{
	/* What the CLI tries before the static keys in the credentials file. */
	static const char *const before[] = { "role_arn", "web_identity_token_file", "sso_session",
					      "sso_start_url" };
	static const char *const process[] = { "credential_process" };
	const struct awsconfig_section *cs, *fs;
	struct awsconfig_files f;
	const char *setting;
	char name[48];
	int ret;

	ret = awsconfig_files_load(&f, why, whylen);
	if (ret)
		return ret;
	aws_reason_quote(name, sizeof(name), p->profile, 40);
	cs = awsconfig_find_profile(f.credentials, p->profile, AWSCONFIG_CREDENTIALS);
	fs = awsconfig_find_profile(f.config, p->profile, AWSCONFIG_CONFIG);
	if (!cs && !fs) {
		if (p->profile_explicit) {
			aws_reason_set(why, whylen, "profile '%s' not found in %s or %s", name,
				       f.credentials_path, f.config_path);
			ret = -ENOENT;
		} else {
			ret = 1;
		}
		goto out;
	}
	setting = unsupported_setting(cs, fs, before, sizeof(before) / sizeof(before[0]));
	if (!setting) {
		ret = static_keys(cs, p->profile, f.credentials_path, "profile", out, why, whylen);
		if (ret <= 0)
			goto out;
		setting = unsupported_setting(cs, fs, process, 1);
	}
	if (setting) {
		aws_reason_set(why, whylen, "profile '%s' uses %s, which this agent does not "
			       "support; give keys in the environment or use the instance role",
			       name, setting);
		ret = -ENOTSUP;
		goto out;
	}
	ret = static_keys(fs, p->profile, f.config_path, "config profile", out, why, whylen);
out:
	awsconfig_files_free(&f);
	return ret;
}

static int from_imds(struct aws_credentials_provider *p, struct aws_credentials *out,
		     char *why, size_t whylen)
{
	struct imds_role_credentials rc = { 0 };
	char *role = NULL, origin[96];
	int ret;

	ret = imds_role_name(&p->imds, &role, why, whylen);
	if (ret)
		return ret;
	ret = imds_role_credentials(&p->imds, role, &rc, why, whylen);
	if (ret)
		goto out;
	snprintf(origin, sizeof(origin), "IMDS role '%s'", role);
	ret = creds_fill(out, rc.access_key_id, rc.secret_access_key, rc.token, rc.expiration,
			 origin, why, whylen);
	if (!ret)
		snprintf(out->source, sizeof(out->source), "imds role %s", role);
out:
	imds_role_credentials_free(&rc);
	free(role);
	return ret;
}

/*
 * The chain (SRC_CHAIN) or one source again for a refresh. 0 with *out and
 * *found, or -errno with why.
 */
static int resolve(struct aws_credentials_provider *p, enum cred_source only,
		   struct aws_credentials *out, enum cred_source *found, char *why, size_t whylen)
{
	char inner[AWS_REASON_MAX] = "", name[48];
	int ret;

	memset(out, 0, sizeof(*out));
	if (only == SRC_CALLER) {
		*found = SRC_CALLER;
		return p->caller.fetch(p->caller.ctx, out, why, whylen);
	}
	if (only == SRC_OPTIONS) {
		*found = SRC_OPTIONS;
		return from_options(p, out, why, whylen);
	}
	if ((only == SRC_CHAIN && !p->skip_env) || only == SRC_ENV) {
		ret = from_env(out, why, whylen);
		if (ret <= 0) {
			*found = SRC_ENV;
			return ret;
		}
		if (only == SRC_ENV) {
			aws_reason_set(why, whylen,
				       "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are gone");
			return -ENOKEY;
		}
	}
	if (only == SRC_CHAIN && !p->skip_env && awsconfig_env("AWS_WEB_IDENTITY_TOKEN_FILE") &&
	    awsconfig_env("AWS_ROLE_ARN")) {
		aws_reason_set(why, whylen, "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN ask for "
			       "web identity credentials, which this agent does not support");
		return -ENOTSUP;
	}
	if (only == SRC_CHAIN || only == SRC_FILES) {
		ret = from_files(p, out, why, whylen);
		if (ret <= 0) {
			*found = SRC_FILES;
			return ret;
		}
		if (only == SRC_FILES) {
			aws_reason_set(why, whylen, "profile '%s' no longer holds keys",
				       aws_reason_quote(name, sizeof(name), p->profile, 40));
			return -ENOKEY;
		}
	}
	if (only == SRC_CHAIN && (awsconfig_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") ||
				  awsconfig_env("AWS_CONTAINER_CREDENTIALS_FULL_URI"))) {
		aws_reason_set(why, whylen, "AWS_CONTAINER_CREDENTIALS_* ask for container "
			       "credentials, which this agent does not support");
		return -ENOTSUP;
	}
	*found = SRC_IMDS;
	ret = from_imds(p, out, inner, sizeof(inner));
	if (ret && only == SRC_CHAIN)
		aws_reason_set(why, whylen, "no credentials in %sprofile '%s'; instance role: %s",
			       p->skip_env ? "" : "the environment or ",
			       aws_reason_quote(name, sizeof(name), p->profile, 40), inner);
	else if (ret)
		aws_reason_set(why, whylen, "%s", inner);
	return ret;
}

void aws_credentials_provider_free(struct aws_credentials_provider *p)
{
	if (!p)
		return;
	creds_clear(&p->cur);
	wipe_str(p->opt_access_key_id);
	wipe_str(p->opt_secret_access_key);
	wipe_str(p->opt_session_token);
	free(p->profile);
	imds_session_clear(&p->imds);
	if (p->caller.free)
		p->caller.free(p->caller.ctx);
	free(p);
}

int aws_credentials_set(struct aws_credentials *out, const char *access_key_id,
			const char *secret_access_key, const char *session_token,
			time_t expiration, const char *origin, char *why, size_t whylen)
{
	int ret = creds_fill(out, access_key_id, secret_access_key, session_token, expiration,
			     origin, why, whylen);

	if (!ret)
		snprintf(out->source, sizeof(out->source), "%s", origin);
	return ret;
}

int aws_credentials_provider_new_source(const struct aws_credentials_source *source,
					struct aws_credentials_provider **out, char *why,
					size_t whylen)
{
	struct aws_credentials_provider *p;
	int ret;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p) {
		if (source->free)
			source->free(source->ctx);
		return -ENOMEM;
	}
	imds_session_init(&p->imds);
	p->caller = *source;
	p->source = SRC_CALLER;
	ret = resolve(p, SRC_CALLER, &p->cur, &p->source, why, whylen);
	if (ret) {
		aws_credentials_provider_free(p);
		return ret;
	}
	*out = p;
	return 0;
}

static int dup_option(const char *v, char **out)
{
	*out = NULL;
	if (!v)
		return 0;
	*out = strdup(v);
	return *out ? 0 : -ENOMEM;
}

int aws_credentials_provider_new(const struct aws_credential_options *options,
				 struct aws_credentials_provider **out, char *why, size_t whylen)
{
	static const struct aws_credential_options none = { 0 };
	struct aws_credentials_provider *p;
	const char *profile;
	int ret;

	*out = NULL;
	if (!options)
		options = &none;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	imds_session_init(&p->imds);
	if (options->profile && *options->profile) {
		profile = options->profile;
		p->profile_explicit = true;
		p->skip_env = true;
	} else if (awsconfig_env("AWS_PROFILE")) {
		profile = awsconfig_env("AWS_PROFILE");
		p->profile_explicit = true;
	} else {
		profile = "default";
	}
	p->profile = strdup(profile);
	ret = p->profile ? 0 : -ENOMEM;
	if (!ret)
		ret = dup_option(options->access_key_id, &p->opt_access_key_id);
	if (!ret)
		ret = dup_option(options->secret_access_key, &p->opt_secret_access_key);
	if (!ret)
		ret = dup_option(options->session_token, &p->opt_session_token);
	if (ret)
		goto fail;
	if (p->opt_access_key_id || p->opt_secret_access_key || p->opt_session_token)
		ret = resolve(p, SRC_OPTIONS, &p->cur, &p->source, why, whylen);
	else
		ret = resolve(p, SRC_CHAIN, &p->cur, &p->source, why, whylen);
	if (ret)
		goto fail;
	*out = p;
	return 0;
fail:
	if (ret == -ENOMEM)
		aws_reason_set(why, whylen, "out of memory");
	aws_credentials_provider_free(p);
	return ret == -ENOMEM ? -ENOMEM : -ENOKEY;
}

static bool same_string(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool same_credentials(const struct aws_credentials *a, const struct aws_credentials *b)
{
	return same_string(a->access_key_id, b->access_key_id) &&
	       same_string(a->secret_access_key, b->secret_access_key) &&
	       same_string(a->session_token, b->session_token);
}

static void utc_text(time_t t, char *buf, size_t len)
{
	if (timefmt_iso8601(t, buf, len))
		snprintf(buf, len, "%lld", (long long)t);
}

int aws_credentials_get(struct aws_credentials_provider *p, time_t now,
			const struct aws_credentials **out, char *why, size_t whylen)
{
	struct aws_credentials fresh;
	enum cred_source found;
	char inner[AWS_REASON_MAX] = "", when[32];
	int ret;

	*out = NULL;
	if (!p->invalidated &&
	    (!p->cur.expiration || p->cur.expiration - now > AWS_CREDENTIALS_REFRESH_MARGIN)) {
		*out = &p->cur;
		return 0;
	}
	ret = resolve(p, p->source, &fresh, &found, inner, sizeof(inner));
	if (!ret && fresh.expiration && fresh.expiration <= now) {
		utc_text(fresh.expiration, when, sizeof(when));
		aws_reason_set(inner, sizeof(inner), "%s answered credentials that expired at %s",
			       fresh.source, when);
		creds_clear(&fresh);
		ret = -EKEYEXPIRED;
	}
	/* Retrying with the very keys the service refused would only loop. */
	if (!ret && p->invalidated && same_credentials(&fresh, &p->cur)) {
		aws_reason_set(inner, sizeof(inner), "%s has no other credentials", fresh.source);
		creds_clear(&fresh);
		ret = -EKEYREJECTED;
	}
	if (!ret) {
		creds_clear(&p->cur);
		p->cur = fresh;
		p->invalidated = false;
		*out = &p->cur;
		return 0;
	}
	if (ret == -ENOMEM) {
		aws_reason_set(why, whylen, "out of memory");
		return ret;
	}
	/* Still good by the clock and not refused by the service: keep them. */
	if (!p->invalidated && (!p->cur.expiration || p->cur.expiration > now)) {
		aws_reason_set(why, whylen,
			       "refresh failed, credentials from %s kept (valid %llds more): %s",
			       p->cur.source, (long long)(p->cur.expiration - now), inner);
		*out = &p->cur;
		return 0;
	}
	if (p->invalidated) {
		aws_reason_set(why, whylen,
			       "credentials from %s were refused and a refresh failed: %s",
			       p->cur.source, inner);
		return -EKEYREJECTED;
	}
	utc_text(p->cur.expiration, when, sizeof(when));
	aws_reason_set(why, whylen, "credentials from %s expired at %s and a refresh failed: %s",
		       p->cur.source, when, inner);
	return -EKEYEXPIRED;
}

const struct aws_credentials *aws_credentials_last(const struct aws_credentials_provider *p)
{
	return p && p->cur.access_key_id ? &p->cur : NULL;
}

void aws_credentials_invalidate(struct aws_credentials_provider *p)
{
	if (p)
		p->invalidated = true;
}
