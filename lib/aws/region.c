// SPDX-License-Identifier: GPL-2.0-only
/*
 * The region, as the aws CLI (botocore) resolves it, and the shape a
 * region's name must have before it goes into a host name.
 */
#include "aws/region.h"

#include "aws/awsconfig.h"
#include "aws/imds.h"
#include "aws/reason.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * The shape every partition's regions share (us-east-1, us-gov-west-1,
 * us-isob-east-1, eu-isoe-west-1, cn-north-1, eusc-de-east-1): 2-4
 * letters, one or more letter groups, then a number.
 */
bool aws_region_valid(const char *r)
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

	if (!aws_region_valid(value)) {
		aws_reason_set(why, whylen, "unknown region '%s' (from %s)",
			       aws_reason_quote(buf, sizeof(buf), value, 32), origin);
		return -EINVAL;
	}
	*region = strdup(value);
	return *region ? 0 : -ENOMEM;
}

int aws_region_resolve(const char *option, const char *profile, char **region, char *why,
		       size_t whylen)
{
	static const char *const vars[] = { "AWS_REGION", "AWS_DEFAULT_REGION" };
	const struct awsconfig_section *cs, *fs;
	char inner[AWS_REASON_MAX] = "", origin[AWS_REASON_MAX / 2], name[48];
	struct awsconfig_files f;
	const char *value, *path;
	bool explicit = true;
	char *answer = NULL;
	int ret;

	*region = NULL;
	if (option && *option)
		return region_take(option, "the command line", region, why, whylen);
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (awsconfig_env(vars[i]))
			return region_take(awsconfig_env(vars[i]), vars[i], region, why, whylen);
	if (!profile || !*profile)
		profile = awsconfig_env("AWS_PROFILE");
	if (!profile) {
		profile = "default";
		explicit = false;
	}
	aws_reason_quote(name, sizeof(name), profile, 40);
	ret = awsconfig_files_load(&f, why, whylen);
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
		aws_reason_set(why, whylen, "profile '%s' not found in %s or %s", name,
			       f.credentials_path, f.config_path);
		ret = -ENOENT;
	} else if (value) {
		aws_reason_set(origin, sizeof(origin), "profile '%s' in %s", name, path);
		ret = region_take(value, origin, region, why, whylen);
	} else {
		ret = 1;
	}
	awsconfig_files_free(&f);
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
	aws_reason_set(why, whylen, "no region: none given, in AWS_REGION or in profile '%s'; %s",
		       name, inner);
	return -ENOENT;
}
