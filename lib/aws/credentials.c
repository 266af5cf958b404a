// SPDX-License-Identifier: GPL-2.0-only
/*
 * The credential chain, region and S3 endpoint, as the aws CLI (botocore)
 * resolves them. Where the CLI would use a source this agent cannot
 * (assume role, SSO, web identity, credential_process, container
 * credentials) resolution stops with a reason naming it rather than
 * quietly falling through to a different identity.
 */
#include "aws/credentials.h"
#include "base/timefmt.h"

#include "aws/awsconfig.h"
#include "aws/imds.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ACCESS_KEY_ID_MAX 128
#define SECRET_ACCESS_KEY_MAX 256
#define SESSION_TOKEN_MAX 16384
#define S3_KEY_MAX 1024

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

__attribute__((format(printf, 3, 4)))
static void say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (!why || !whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* Set and not empty, as the SDKs read them. */
static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static bool env_true(const char *name)
{
	const char *v = getenv(name);

	return v && !strcasecmp(v, "true");
}

static void wipe_str(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* A name from outside, fit to quote in a reason. */
static const char *shown(char *buf, size_t buflen, const char *s, size_t max)
{
	size_t i, n = 0;

	for (i = 0; s[i] && i < max && n + 1 < buflen; i++)
		buf[n++] = (s[i] >= ' ' && s[i] <= '~' && s[i] != '\'') ? s[i] : '?';
	if (s[i] && n + 4 < buflen) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
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
		say(why, whylen, "%s from %s is empty", name, origin);
		return -EINVAL;
	}
	if (n > max) {
		say(why, whylen, "%s from %s is longer than %zu characters", name, origin, max);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i] <= ' ' || v[i] > '~') {
			say(why, whylen, "%s from %s holds spaces or non-ASCII characters", name,
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
		say(why, whylen, "--access-key-id and --secret-access-key go together%s",
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
	const char *key = env("AWS_ACCESS_KEY_ID"), *secret = env("AWS_SECRET_ACCESS_KEY");
	const char *token = env("AWS_SESSION_TOKEN"), *expiry = env("AWS_CREDENTIAL_EXPIRATION");
	time_t expiration = 0;
	int ret;

	if (!token)
		token = env("AWS_SECURITY_TOKEN");
	if (!key && !secret)
		return 1;
	if (!key || !secret) {
		say(why, whylen, "%s is set but %s is not", key ? "AWS_ACCESS_KEY_ID" :
			"AWS_SECRET_ACCESS_KEY", key ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
		return -EINVAL;
	}
	if (expiry && imds_parse_time(expiry, &expiration)) {
		say(why, whylen, "AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time");
		return -EINVAL;
	}
	ret = creds_fill(out, key, secret, token, expiration, "the environment", why, whylen);
	if (!ret)
		snprintf(out->source, sizeof(out->source), "environment");
	return ret;
}

/* ~/.aws/<leaf>, or the variable's path ("~/" expanded as the CLI does). */
static int shared_path(const char *var, const char *leaf, char *path, size_t pathlen)
{
	const char *v = env(var), *home = env("HOME");
	int n;

	if (v && !(v[0] == '~' && (v[1] == '/' || !v[1])))
		n = snprintf(path, pathlen, "%s", v);
	else if (!home)
		return -ENOENT; /* no HOME: no shared files, as when they are absent */
	else if (v)
		n = snprintf(path, pathlen, "%s%s", home, v + 1);
	else
		n = snprintf(path, pathlen, "%s/.aws/%s", home, leaf);
	return n < 0 || (size_t)n >= pathlen ? -ENAMETOOLONG : 0;
}

struct shared_files {
	char credentials_path[PATH_MAX], config_path[PATH_MAX];
	struct awsconfig *credentials, *config;
};

static void shared_files_free(struct shared_files *f)
{
	awsconfig_free(f->credentials);
	awsconfig_free(f->config);
	f->credentials = f->config = NULL;
}

static int load_one(const char *var, const char *leaf, char *path, size_t pathlen,
		    struct awsconfig **cfg, char *why, size_t whylen)
{
	char reason[AWS_REASON_MAX];
	int ret;

	*cfg = NULL;
	ret = shared_path(var, leaf, path, pathlen);
	if (ret == -ENOENT) {
		snprintf(path, pathlen, "~/.aws/%s (HOME unset)", leaf);
		return 0;
	}
	if (ret) {
		say(why, whylen, "%s: path too long", var);
		return ret;
	}
	ret = awsconfig_load(path, cfg, reason, sizeof(reason));
	/* Absent files are normal; anything else would change whose keys we use. */
	if (ret == -ENOENT || ret == -ENOTDIR)
		return 0;
	if (ret)
		say(why, whylen, "%s", reason);
	return ret;
}

static int shared_files_load(struct shared_files *f, char *why, size_t whylen)
{
	int ret;

	memset(f, 0, sizeof(*f));
	ret = load_one("AWS_SHARED_CREDENTIALS_FILE", "credentials", f->credentials_path,
		       sizeof(f->credentials_path), &f->credentials, why, whylen);
	if (!ret)
		ret = load_one("AWS_CONFIG_FILE", "config", f->config_path, sizeof(f->config_path),
			       &f->config, why, whylen);
	if (ret)
		shared_files_free(f);
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
	snprintf(origin, sizeof(origin), "profile '%s' in %s", shown(name, sizeof(name), profile, 40),
		 path);
	if (!key || !secret) {
		say(why, whylen, "%s has %s but no %s", origin,
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
	struct shared_files f;
	const char *setting;
	char name[48];
	int ret;

	ret = shared_files_load(&f, why, whylen);
	if (ret)
		return ret;
	shown(name, sizeof(name), p->profile, 40);
	cs = awsconfig_find_profile(f.credentials, p->profile, AWSCONFIG_CREDENTIALS);
	fs = awsconfig_find_profile(f.config, p->profile, AWSCONFIG_CONFIG);
	if (!cs && !fs) {
		if (p->profile_explicit) {
			say(why, whylen, "profile '%s' not found in %s or %s", name,
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
		say(why, whylen, "profile '%s' uses %s, which this agent does not support; "
			"give keys in the environment or use the instance role", name, setting);
		ret = -ENOTSUP;
		goto out;
	}
	ret = static_keys(fs, p->profile, f.config_path, "config profile", out, why, whylen);
out:
	shared_files_free(&f);
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
			say(why, whylen, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are gone");
			return -ENOKEY;
		}
	}
	if (only == SRC_CHAIN && !p->skip_env && env("AWS_WEB_IDENTITY_TOKEN_FILE") &&
	    env("AWS_ROLE_ARN")) {
		say(why, whylen, "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN ask for web identity "
			"credentials, which this agent does not support");
		return -ENOTSUP;
	}
	if (only == SRC_CHAIN || only == SRC_FILES) {
		ret = from_files(p, out, why, whylen);
		if (ret <= 0) {
			*found = SRC_FILES;
			return ret;
		}
		if (only == SRC_FILES) {
			say(why, whylen, "profile '%s' no longer holds keys",
			    shown(name, sizeof(name), p->profile, 40));
			return -ENOKEY;
		}
	}
	if (only == SRC_CHAIN && (env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") ||
				  env("AWS_CONTAINER_CREDENTIALS_FULL_URI"))) {
		say(why, whylen, "AWS_CONTAINER_CREDENTIALS_* ask for container credentials, "
			"which this agent does not support");
		return -ENOTSUP;
	}
	*found = SRC_IMDS;
	ret = from_imds(p, out, inner, sizeof(inner));
	if (ret && only == SRC_CHAIN)
		say(why, whylen, "no credentials in %sprofile '%s'; instance role: %s",
		    p->skip_env ? "" : "the environment or ", shown(name, sizeof(name), p->profile, 40),
		    inner);
	else if (ret)
		say(why, whylen, "%s", inner);
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
	} else if (env("AWS_PROFILE")) {
		profile = env("AWS_PROFILE");
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
		say(why, whylen, "out of memory");
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
		say(inner, sizeof(inner), "%s answered credentials that expired at %s", fresh.source,
		    when);
		creds_clear(&fresh);
		ret = -EKEYEXPIRED;
	}
	/* Retrying with the very keys the service refused would only loop. */
	if (!ret && p->invalidated && same_credentials(&fresh, &p->cur)) {
		say(inner, sizeof(inner), "%s has no other credentials", fresh.source);
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
		say(why, whylen, "out of memory");
		return ret;
	}
	/* Still good by the clock and not refused by the service: keep them. */
	if (!p->invalidated && (!p->cur.expiration || p->cur.expiration > now)) {
		say(why, whylen, "refresh failed, credentials from %s kept (valid %llds more): %s",
		    p->cur.source, (long long)(p->cur.expiration - now), inner);
		*out = &p->cur;
		return 0;
	}
	if (p->invalidated) {
		say(why, whylen, "credentials from %s were refused and a refresh failed: %s",
		    p->cur.source, inner);
		return -EKEYREJECTED;
	}
	utc_text(p->cur.expiration, when, sizeof(when));
	say(why, whylen, "credentials from %s expired at %s and a refresh failed: %s",
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

/* ---- region ---- */

/*
 * The shape every partition's regions share (us-east-1, us-gov-west-1,
 * us-isob-east-1, eu-isoe-west-1, cn-north-1, eusc-de-east-1): 2-4
 * letters, one or more letter groups, then a number.
 */
static bool region_shape_ok(const char *r)
{
	size_t n = strlen(r), parts = 0;
	const char *p = r;

	if (n < 4 || n > 32)
		return false;
	for (;;) {
		const char *dash = strchr(p, '-');
		size_t len = dash ? (size_t)(dash - p) : strlen(p);

		if (!len)
			return false;
		parts++;
		for (size_t i = 0; i < len; i++) {
			bool want_digit = !dash;

			if (want_digit ? (p[i] < '0' || p[i] > '9') : (p[i] < 'a' || p[i] > 'z'))
				return false;
		}
		if (!dash)
			return len <= 3 && parts >= 3 && parts <= 5;
		if (parts == 1 && (len < 2 || len > 4))
			return false;
		p = dash + 1;
	}
}

static int region_take(const char *value, const char *origin, char **region, char *why,
		       size_t whylen)
{
	char buf[48];

	if (!region_shape_ok(value)) {
		say(why, whylen, "unknown region '%s' (from %s)", shown(buf, sizeof(buf), value, 32),
		    origin);
		return -EINVAL;
	}
	*region = strdup(value);
	return *region ? 0 : -ENOMEM;
}

int aws_region_resolve(const char *option, const char *profile, char **region, char *why,
		       size_t whylen)
{
	const struct awsconfig_section *cs, *fs;
	char inner[AWS_REASON_MAX] = "", origin[AWS_REASON_MAX / 2], name[48];
	struct shared_files f;
	const char *value, *path;
	bool explicit = true;
	char *answer = NULL;
	int ret;

	*region = NULL;
	if (option && *option)
		return region_take(option, "the command line", region, why, whylen);
	if (env("AWS_REGION"))
		return region_take(env("AWS_REGION"), "AWS_REGION", region, why, whylen);
	if (env("AWS_DEFAULT_REGION"))
		return region_take(env("AWS_DEFAULT_REGION"), "AWS_DEFAULT_REGION", region, why,
				   whylen);
	if (!profile || !*profile)
		profile = env("AWS_PROFILE");
	if (!profile) {
		profile = "default";
		explicit = false;
	}
	shown(name, sizeof(name), profile, 40);
	ret = shared_files_load(&f, why, whylen);
	if (ret)
		return ret == -ENOMEM ? ret : -EINVAL;
	/* The CLI merges the credentials file over the config file's profile. */
	cs = awsconfig_find_profile(f.credentials, profile, AWSCONFIG_CREDENTIALS);
	fs = awsconfig_find_profile(f.config, profile, AWSCONFIG_CONFIG);
	value = awsconfig_get(cs, "region");
	path = f.credentials_path;
	if (!value) {
		value = awsconfig_get(fs, "region");
		path = f.config_path;
	}
	if (!cs && !fs && explicit) {
		say(why, whylen, "profile '%s' not found in %s or %s", name, f.credentials_path,
		    f.config_path);
		ret = -ENOENT;
	} else if (value) {
		say(origin, sizeof(origin), "profile '%s' in %s", name, path);
		ret = region_take(value, origin, region, why, whylen);
	} else {
		ret = 1;
	}
	shared_files_free(&f);
	if (ret <= 0)
		return ret;
	ret = imds_region(NULL, &answer, inner, sizeof(inner));
	if (!ret) {
		ret = region_take(answer, "IMDS placement/region", region, why, whylen);
		free(answer);
		return ret;
	}
	if (ret == -ENOMEM)
		return ret;
	say(why, whylen, "no region: none given, in AWS_REGION or in profile '%s'; %s", name,
	    inner);
	return -ENOENT;
}

/* ---- S3 ---- */

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* General purpose bucket naming rules (S3 User Guide). */
static int bucket_check(const char *b, char *why, size_t whylen)
{
	static const char *const prefixes[] = { "xn--", "sthree-", "amzn-s3-demo-" };
	static const char *const suffixes[] = { "--ol-s3", ".mrap", "--x-s3", "--table-s3" };
	size_t n = strlen(b), dots = 0;
	bool all_digits_and_dots = true;
	char buf[80];

	shown(buf, sizeof(buf), b, 66);
	if (!strncmp(b, "arn:", 4)) {
		say(why, whylen, "bucket '%s': ARNs (access points) are not supported", buf);
		return -EINVAL;
	}
	if (n < 3 || n > 63) {
		say(why, whylen, "bucket name '%s' must be 3 to 63 characters", buf);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!is_lower_alnum(b[i]) && b[i] != '.' && b[i] != '-') {
			say(why, whylen, "bucket name '%s' may hold only lowercase letters, digits, "
				"'.' and '-'", buf);
			return -EINVAL;
		}
		if (b[i] == '.')
			dots++;
		else if (b[i] < '0' || b[i] > '9')
			all_digits_and_dots = false;
	}
	if (!is_lower_alnum(b[0]) || !is_lower_alnum(b[n - 1])) {
		say(why, whylen, "bucket name '%s' must begin and end with a letter or digit", buf);
		return -EINVAL;
	}
	if (strstr(b, "..")) {
		say(why, whylen, "bucket name '%s' has two adjacent periods", buf);
		return -EINVAL;
	}
	if (all_digits_and_dots && dots == 3) {
		say(why, whylen, "bucket name '%s' is formatted as an IP address", buf);
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		if (!strncmp(b, prefixes[i], strlen(prefixes[i]))) {
			say(why, whylen, "bucket name '%s' starts with the reserved prefix '%s'", buf,
			    prefixes[i]);
			return -EINVAL;
		}
	}
	/* "-s3alias" (an access point alias) is accepted: it works as a bucket name. */
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		if (ends_with(b, suffixes[i])) {
			say(why, whylen, "bucket name '%s' ends with '%s', reserved for %s", buf,
			    suffixes[i],
			    i == 0 ? "Object Lambda access points" :
			    i == 1 ? "Multi-Region Access Points" :
			    i == 2 ? "directory buckets (S3 Express, not supported)" : "table buckets");
			return -EINVAL;
		}
	}
	return 0;
}

int s3_uri_parse(const char *uri, char **bucket, char **key, char *why, size_t whylen)
{
	const char *b, *slash;
	char buf[80];
	int ret;

	*bucket = *key = NULL;
	if (!uri || strncmp(uri, "s3://", 5)) {
		say(why, whylen, "'%s' is not an s3://bucket/prefix URI",
		    uri ? shown(buf, sizeof(buf), uri, 64) : "");
		return -EINVAL;
	}
	b = uri + 5;
	slash = strchr(b, '/');
	if (slash == b || !*b) {
		say(why, whylen, "'%s' names no bucket", shown(buf, sizeof(buf), uri, 64));
		return -EINVAL;
	}
	*bucket = slash ? strndup(b, slash - b) : strdup(b);
	if (!*bucket)
		return -ENOMEM;
	ret = bucket_check(*bucket, why, whylen);
	if (ret)
		goto fail;
	b = slash ? slash + 1 : "";
	if (strlen(b) > S3_KEY_MAX) {
		say(why, whylen, "key prefix longer than %d bytes", S3_KEY_MAX);
		ret = -EINVAL;
		goto fail;
	}
	for (const char *c = b; *c; c++) {
		if ((unsigned char)*c < ' ' || *c == 0x7f) {
			say(why, whylen, "key prefix holds control characters");
			ret = -EINVAL;
			goto fail;
		}
	}
	*key = strdup(b);
	if (!*key) {
		ret = -ENOMEM;
		goto fail;
	}
	return 0;
fail:
	free(*bucket);
	*bucket = NULL;
	return ret;
}

void s3_endpoint_free(struct s3_endpoint *e)
{
	if (!e)
		return;
	free(e->scheme);
	free(e->host);
	free(e->path_prefix);
	memset(e, 0, sizeof(*e));
}

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_';
}

/*
 * http(s)://host[:port][/] → scheme and the Host header value (lower case,
 * the scheme's default port left out, as curl sends it). The URL itself is
 * never echoed: it could carry user:password@.
 */
static int endpoint_parse(const char *url, const char *var, struct s3_endpoint *e, char *why,
			  size_t whylen)
{
	const char *rest, *end, *host, *host_end, *port = NULL;
	unsigned long port_value = 0;
	bool https;
	size_t n;
	char *h;

	if (!strncasecmp(url, "https://", 8)) {
		https = true;
		rest = url + 8;
	} else if (!strncasecmp(url, "http://", 7)) {
		https = false;
		rest = url + 7;
	} else {
		say(why, whylen, "%s is not an http:// or https:// URL", var);
		return -EINVAL;
	}
	end = rest + strcspn(rest, "/?#");
	if (*end && strcmp(end, "/")) {
		say(why, whylen, "%s: only http(s)://host[:port] is supported, not a path, query "
			"or fragment", var);
		return -EINVAL;
	}
	if (memchr(rest, '@', end - rest)) {
		say(why, whylen, "%s: user names or passwords in the URL are not supported", var);
		return -EINVAL;
	}
	host = rest;
	if (*host == '[') {
		host_end = memchr(host, ']', end - host);
		if (!host_end || host_end == host + 1) {
			say(why, whylen, "%s: malformed IPv6 address", var);
			return -EINVAL;
		}
		for (const char *c = host + 1; c < host_end; c++) {
			if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f') ||
			      (*c >= 'A' && *c <= 'F') || *c == ':' || *c == '.')) {
				say(why, whylen, "%s: malformed IPv6 address", var);
				return -EINVAL;
			}
		}
		host_end++;
	} else {
		host_end = host;
		while (host_end < end && *host_end != ':') {
			if (!host_char(*host_end)) {
				say(why, whylen, "%s: host name holds characters a host cannot", var);
				return -EINVAL;
			}
			host_end++;
		}
		if (host_end == host || *host == '.' || *host == '-') {
			say(why, whylen, "%s: no host name", var);
			return -EINVAL;
		}
	}
	if (host_end < end) {
		char *stop;

		if (*host_end != ':' || host_end + 1 == end || end - host_end > 6 ||
		    host_end[1] < '0' || host_end[1] > '9') {
			say(why, whylen, "%s: malformed port", var);
			return -EINVAL;
		}
		port = host_end + 1;
		port_value = strtoul(port, &stop, 10);
		if (stop != end || port_value == 0 || port_value > 65535) {
			say(why, whylen, "%s: malformed port", var);
			return -EINVAL;
		}
	}
	if (port_value == (https ? 443u : 80u))
		port = NULL;
	n = (size_t)(host_end - host);
	h = malloc(n + 8);
	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		h[i] = (host[i] >= 'A' && host[i] <= 'Z') ? host[i] + ('a' - 'A') : host[i];
	if (port)
		snprintf(h + n, 8, ":%lu", port_value);
	else
		h[n] = '\0';
	e->host = h;
	e->scheme = strdup(https ? "https" : "http");
	return e->scheme ? 0 : -ENOMEM;
}

static const char *dns_suffix(const char *region)
{
	static const struct {
		const char *prefix, *suffix;
	} partitions[] = {
		{ "cn-", "amazonaws.com.cn" },     { "us-isob-", "sc2s.sgov.gov" },
		{ "us-isof-", "csp.hci.ic.gov" },  { "us-iso-", "c2s.ic.gov" },
		{ "eu-isoe-", "cloud.adc-e.uk" },  { "eusc-", "amazonaws.eu" },
	};

	for (size_t i = 0; i < sizeof(partitions) / sizeof(partitions[0]); i++)
		if (!strncmp(region, partitions[i].prefix, strlen(partitions[i].prefix)))
			return partitions[i].suffix;
	return "amazonaws.com";
}

int s3_endpoint_resolve(const char *region, const char *bucket, bool path_style,
			struct s3_endpoint *out, char *why, size_t whylen)
{
	const char *url = NULL, *var = NULL;
	char buf[48];
	int ret, n;

	memset(out, 0, sizeof(*out));
	if (!bucket) {
		say(why, whylen, "no bucket");
		return -EINVAL;
	}
	ret = bucket_check(bucket, why, whylen);
	if (ret)
		return ret;
	if (!env_true("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) {
		var = "AWS_ENDPOINT_URL_S3";
		url = env(var);
		if (!url) {
			var = "AWS_ENDPOINT_URL";
			url = env(var);
		}
	}
	if (url) {
		/* MinIO, moto and the like: path style, the bucket need not resolve. */
		ret = endpoint_parse(url, var, out, why, whylen);
		out->path_style = true;
	} else if (!region || !region_shape_ok(region)) {
		say(why, whylen, "unknown region '%s'",
		    region ? shown(buf, sizeof(buf), region, 32) : "");
		return -EINVAL;
	} else {
		/*
		 * Virtual-hosted unless asked otherwise or the name has dots: the
		 * wildcard certificate covers one label only.
		 */
		out->path_style = path_style || strchr(bucket, '.');
		out->scheme = strdup("https");
		n = asprintf(&out->host, "%s%ss3.%s.%s", out->path_style ? "" : bucket,
			     out->path_style ? "" : ".", region, dns_suffix(region));
		if (n < 0)
			out->host = NULL;
		ret = out->scheme && out->host ? 0 : -ENOMEM;
	}
	if (!ret) {
		if (out->path_style)
			n = asprintf(&out->path_prefix, "/%s", bucket);
		else
			n = (out->path_prefix = strdup("")) ? 0 : -1;
		if (n < 0) {
			out->path_prefix = NULL;
			ret = -ENOMEM;
		}
	}
	if (ret) {
		if (ret == -ENOMEM)
			say(why, whylen, "out of memory");
		s3_endpoint_free(out);
	}
	return ret;
}

int aws_endpoint_resolve(const char *service_id, const char *host_prefix, const char *region,
			 struct s3_endpoint *out, char *why, size_t whylen)
{
	const char *url = NULL, *var = NULL;
	char name[64], buf[48];
	int ret, n;

	memset(out, 0, sizeof(*out));
	n = snprintf(name, sizeof(name), "AWS_ENDPOINT_URL_%s", service_id);
	if (n < 0 || (size_t)n >= sizeof(name))
		return -EINVAL;
	for (char *c = name; *c; c++)
		*c = *c == ' ' || *c == '-' ? '_' : (*c >= 'a' && *c <= 'z') ? *c - 32 : *c;
	if (!env_true("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) {
		var = name;
		url = env(var);
		if (!url) {
			var = "AWS_ENDPOINT_URL";
			url = env(var);
		}
	}
	if (url) {
		ret = endpoint_parse(url, var, out, why, whylen);
	} else if (region && !region_shape_ok(region)) {
		say(why, whylen, "unknown region '%s'", shown(buf, sizeof(buf), region, 32));
		return -EINVAL;
	} else {
		/* No region: a global service (IAM) in the commercial partition. */
		out->scheme = strdup("https");
		if (region)
			n = asprintf(&out->host, "%s.%s.%s", host_prefix, region, dns_suffix(region));
		else
			n = asprintf(&out->host, "%s.amazonaws.com", host_prefix);
		if (n < 0)
			out->host = NULL;
		ret = out->scheme && out->host ? 0 : -ENOMEM;
	}
	if (!ret)
		ret = (out->path_prefix = strdup("")) ? 0 : -ENOMEM;
	if (ret) {
		if (ret == -ENOMEM)
			say(why, whylen, "out of memory");
		s3_endpoint_free(out);
	}
	return ret;
}
