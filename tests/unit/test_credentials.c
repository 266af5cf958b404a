// SPDX-License-Identifier: GPL-2.0-only
/*
 * Credential chain, region, S3 endpoint and URI: order, validation and the
 * reasons given. The instance metadata service is disabled throughout (its
 * paths run in tests/integration/test_credentials.py against a local fake);
 * only its JSON and time parsing are tested here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aws/credentials.h"
#include "aws/endpoint.h"
#include "aws/imds.h"
#include "aws/reason.h"
#include "aws/region.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static char home[64];

static const char *const aws_vars[] = {
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
	"AWS_CREDENTIAL_EXPIRATION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
	"AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_REGION", "AWS_DEFAULT_REGION",
	"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
	"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
};

static void write_file(const char *rel, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", home, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void remove_file(const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", home, rel);
	unlink(path);
}

/* A clean slate: no AWS variables, an empty ~/.aws, IMDS off. */
static int reset(void **state)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(aws_vars); i++)
		unsetenv(aws_vars[i]);
	setenv("HOME", home, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	remove_file(".aws/credentials");
	remove_file(".aws/config");
	remove_file("other-credentials");
	remove_file("other-config");
	snprintf(path, sizeof(path), "%s/.aws", home);
	mkdir(path, 0700);
	return 0;
}

static int group_setup(void **state)
{
	snprintf(home, sizeof(home), "/tmp/credentials-test.XXXXXX");
	if (!mkdtemp(home))
		return -1;
	return reset(state);
}

static int group_teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
	return system(cmd);
}

/* ---- S3 URIs and bucket names ---- */

struct uri_case {
	const char *uri;
	int ret;
	const char *bucket, *key; /* on success */
	const char *why;          /* on failure, a substring */
};

#define SIXTY "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"

static const struct uri_case uri_cases[] = {
	{ "s3://bucket", 0, "bucket", "", NULL },
	{ "s3://bucket/", 0, "bucket", "", NULL },
	{ "s3://bucket/a/b", 0, "bucket", "a/b", NULL },
	{ "s3://bucket/a/b/", 0, "bucket", "a/b/", NULL },
	{ "s3://bucket//double", 0, "bucket", "/double", NULL },
	{ "s3://my.dotted.bucket/case 1/img", 0, "my.dotted.bucket", "case 1/img", NULL },
	{ "s3://123", 0, "123", "", NULL },
	{ "s3://192.168.5", 0, "192.168.5", "", NULL },
	{ "s3://a-b.c-d", 0, "a-b.c-d", "", NULL },
	{ "s3://ap-hrzrlukc5m36ft7okagglf3gmwluquse1b-s3alias/k", 0,
	  "ap-hrzrlukc5m36ft7okagglf3gmwluquse1b-s3alias", "k", NULL },
	{ "s3://" SIXTY "abc", 0, SIXTY "abc", "", NULL },
	{ "bucket/key", -EINVAL, NULL, NULL, "not an s3://" },
	{ "", -EINVAL, NULL, NULL, "not an s3://" },
	{ "S3://bucket", -EINVAL, NULL, NULL, "not an s3://" },
	{ "s3:/bucket", -EINVAL, NULL, NULL, "not an s3://" },
	{ "https://bucket.s3.amazonaws.com/k", -EINVAL, NULL, NULL, "not an s3://" },
	{ "s3://", -EINVAL, NULL, NULL, "names no bucket" },
	{ "s3:///key", -EINVAL, NULL, NULL, "names no bucket" },
	{ "s3://ab", -EINVAL, NULL, NULL, "3 to 63" },
	{ "s3://" SIXTY "abcd", -EINVAL, NULL, NULL, "3 to 63" },
	{ "s3://Bucket", -EINVAL, NULL, NULL, "lowercase" },
	{ "s3://bucket_name", -EINVAL, NULL, NULL, "lowercase" },
	{ "s3://bucket name", -EINVAL, NULL, NULL, "lowercase" },
	{ "s3://-bucket", -EINVAL, NULL, NULL, "begin and end" },
	{ "s3://bucket-/k", -EINVAL, NULL, NULL, "begin and end" },
	{ "s3://.bucket", -EINVAL, NULL, NULL, "begin and end" },
	{ "s3://my..bucket", -EINVAL, NULL, NULL, "adjacent periods" },
	{ "s3://192.168.5.4", -EINVAL, NULL, NULL, "IP address" },
	{ "s3://xn--bucket", -EINVAL, NULL, NULL, "reserved prefix 'xn--'" },
	{ "s3://sthree-bucket", -EINVAL, NULL, NULL, "reserved prefix" },
	{ "s3://amzn-s3-demo-bucket", -EINVAL, NULL, NULL, "reserved prefix" },
	{ "s3://bucket--ol-s3", -EINVAL, NULL, NULL, "Object Lambda" },
	{ "s3://bucket.mrap", -EINVAL, NULL, NULL, "Multi-Region" },
	{ "s3://bucket--usw2-az1--x-s3", -EINVAL, NULL, NULL, "directory buckets" },
	{ "s3://bucket--table-s3", -EINVAL, NULL, NULL, "table buckets" },
	{ "s3://arn:aws:s3:us-east-1:111122223333:accesspoint/ap/k", -EINVAL, NULL, NULL,
	  "ARNs" },
	{ "s3://bucket/a\tb", -EINVAL, NULL, NULL, "control characters" },
	{ "s3://bucket/a\nb", -EINVAL, NULL, NULL, "control characters" },
};

static void test_uri_parse(void **state)
{
	char *bucket, *key, why[AWS_REASON_MAX], longer[1100];

	for (size_t i = 0; i < ARRAY_SIZE(uri_cases); i++) {
		const struct uri_case *c = &uri_cases[i];
		int ret;

		print_message("uri: %s\n", c->uri);
		why[0] = '\0';
		ret = s3_uri_parse(c->uri, &bucket, &key, why, sizeof(why));
		assert_int_equal(ret, c->ret);
		if (ret) {
			assert_null(bucket);
			assert_null(key);
			assert_non_null(strstr(why, c->why));
			continue;
		}
		assert_string_equal(bucket, c->bucket);
		assert_string_equal(key, c->key);
		free(bucket);
		free(key);
	}
	/* Keys are at most 1024 bytes. */
	snprintf(longer, sizeof(longer), "s3://bucket/%01024d", 0);
	assert_int_equal(s3_uri_parse(longer, &bucket, &key, why, sizeof(why)), 0);
	free(bucket);
	free(key);
	snprintf(longer, sizeof(longer), "s3://bucket/%01025d", 0);
	assert_int_equal(s3_uri_parse(longer, &bucket, &key, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "longer than 1024"));
	assert_int_equal(s3_uri_parse(NULL, &bucket, &key, why, sizeof(why)), -EINVAL);
}

/* ---- regions ---- */

static const char *const good_regions[] = {
	"us-east-1",      "eu-central-2",   "ap-southeast-4", "us-gov-west-1", "cn-northwest-1",
	"us-iso-east-1",  "us-isob-east-1", "eu-isoe-west-1", "us-isof-south-1", "il-central-1",
	"eusc-de-east-1", "mx-central-1",   "ca-west-1",
};

static const char *const bad_regions[] = {
	"xyz",          "us-east",       "US-EAST-1",       "us_east_1",      "us-east-1a",
	"us-east-1 ",   " us-east-1",    "aws-global",      "us--east-1",     "-us-east-1",
	"us-east-1-",   "u-east-1",      "useast-east-1",   "us-east-1234",   "us-east-1/../x",
	"ap-southeast-1\n", "us-east-1.amazonaws.com", "a-very-very-long-fake-region-name-1",
	"us-a-b-c-d-1", "1-east-1",
};

static void test_region_shape(void **state)
{
	char why[AWS_REASON_MAX], *region;

	for (size_t i = 0; i < ARRAY_SIZE(good_regions); i++) {
		print_message("good region %s\n", good_regions[i]);
		assert_int_equal(aws_region_resolve(good_regions[i], NULL, &region, why,
						    sizeof(why)), 0);
		assert_string_equal(region, good_regions[i]);
		free(region);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad_regions); i++) {
		print_message("bad region %s\n", bad_regions[i]);
		why[0] = '\0';
		assert_int_equal(aws_region_resolve(bad_regions[i], NULL, &region, why,
						    sizeof(why)), -EINVAL);
		assert_null(region);
		assert_non_null(strstr(why, "unknown region '"));
		assert_non_null(strstr(why, "the command line"));
	}
	assert_int_equal(aws_region_resolve("xyz", NULL, &region, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "unknown region 'xyz' (from the command line)");
}

static void expect_region(const char *option, const char *profile, int ret, const char *value,
			  const char *why_has)
{
	char why[AWS_REASON_MAX] = "", *region = NULL;

	assert_int_equal(aws_region_resolve(option, profile, &region, why, sizeof(why)), ret);
	if (ret) {
		assert_null(region);
		assert_non_null(strstr(why, why_has));
	} else {
		assert_string_equal(region, value);
		assert_string_equal(why, "");
		free(region);
	}
}

static void test_region_order(void **state)
{
	reset(state);
	/* Nothing anywhere, IMDS off. */
	expect_region(NULL, NULL, -ENOENT, NULL, "no region");
	expect_region(NULL, NULL, -ENOENT, NULL, "IMDS disabled");

	write_file(".aws/config", "[default]\nregion = eu-west-1\n"
				  "[profile prod]\nregion = ap-northeast-1\n"
				  "[profile broken]\nregion = mars-1\n"
				  "[profile keys-only]\noutput = json\n");
	expect_region(NULL, NULL, 0, "eu-west-1", NULL);
	expect_region(NULL, "prod", 0, "ap-northeast-1", NULL);
	setenv("AWS_PROFILE", "prod", 1);
	expect_region(NULL, NULL, 0, "ap-northeast-1", NULL);
	expect_region(NULL, "default", 0, "eu-west-1", NULL); /* the argument beats AWS_PROFILE */
	expect_region(NULL, "broken", -EINVAL, NULL, "unknown region 'mars-1' (from profile "
						     "'broken' in ");
	expect_region(NULL, "nope", -ENOENT, NULL, "profile 'nope' not found");
	/* A profile without a region goes on to IMDS, here disabled. */
	expect_region(NULL, "keys-only", -ENOENT, NULL, "IMDS disabled");

	setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
	expect_region(NULL, NULL, 0, "us-west-1", NULL);
	setenv("AWS_REGION", "us-west-2", 1);
	expect_region(NULL, NULL, 0, "us-west-2", NULL);
	expect_region("ca-central-1", NULL, 0, "ca-central-1", NULL);
	setenv("AWS_REGION", "nowhere", 1);
	expect_region(NULL, NULL, -EINVAL, NULL, "unknown region 'nowhere' (from AWS_REGION)");
	setenv("AWS_REGION", "", 1); /* empty is unset */
	expect_region(NULL, NULL, 0, "us-west-1", NULL);

	/* The CLI lays the credentials file's profile over the config file's. */
	reset(state);
	write_file(".aws/config", "[default]\nregion = eu-west-1\n");
	write_file(".aws/credentials", "[default]\nregion = eu-west-3\n");
	expect_region(NULL, NULL, 0, "eu-west-3", NULL);
	/* Elsewhere, by variable, "~/" expanded. */
	setenv("AWS_CONFIG_FILE", "~/other-config", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "~/other-credentials", 1);
	write_file("other-config", "[profile x]\nregion = sa-east-1\n");
	expect_region(NULL, "x", 0, "sa-east-1", NULL);
	expect_region(NULL, NULL, -ENOENT, NULL, "no region");
	/* A broken config file is an error, not an absent one. */
	write_file("other-config", "[profile x]\nregion sa-east-1\n");
	expect_region(NULL, "x", -EINVAL, NULL, "line 2");
	reset(state);
}

/* ---- S3 endpoints ---- */

struct endpoint_case {
	const char *endpoint_s3, *endpoint, *ignore;
	const char *region, *bucket;
	bool path_style;
	int ret;
	const char *scheme, *host, *prefix; /* on success */
	bool path_style_out;
	const char *why;                    /* on failure */
};

static const struct endpoint_case endpoint_cases[] = {
	{ NULL, NULL, NULL, "us-east-1", "my-bucket", false, 0, "https",
	  "my-bucket.s3.us-east-1.amazonaws.com", "", false, NULL },
	{ NULL, NULL, NULL, "us-east-1", "my-bucket", true, 0, "https", "s3.us-east-1.amazonaws.com",
	  "/my-bucket", true, NULL },
	/* Dots: the *.s3 certificate would not match, path style. */
	{ NULL, NULL, NULL, "eu-west-1", "my.bucket", false, 0, "https",
	  "s3.eu-west-1.amazonaws.com", "/my.bucket", true, NULL },
	{ NULL, NULL, NULL, "cn-north-1", "b01", false, 0, "https",
	  "b01.s3.cn-north-1.amazonaws.com.cn", "", false, NULL },
	{ NULL, NULL, NULL, "us-gov-west-1", "b01", false, 0, "https",
	  "b01.s3.us-gov-west-1.amazonaws.com", "", false, NULL },
	{ NULL, NULL, NULL, "us-iso-east-1", "b01", false, 0, "https",
	  "b01.s3.us-iso-east-1.c2s.ic.gov", "", false, NULL },
	{ NULL, NULL, NULL, "us-isob-east-1", "b01", false, 0, "https",
	  "b01.s3.us-isob-east-1.sc2s.sgov.gov", "", false, NULL },
	{ NULL, NULL, NULL, "us-isof-south-1", "b01", false, 0, "https",
	  "b01.s3.us-isof-south-1.csp.hci.ic.gov", "", false, NULL },
	{ NULL, NULL, NULL, "eu-isoe-west-1", "b01", false, 0, "https",
	  "b01.s3.eu-isoe-west-1.cloud.adc-e.uk", "", false, NULL },
	{ NULL, NULL, NULL, "eusc-de-east-1", "b01", false, 0, "https",
	  "b01.s3.eusc-de-east-1.amazonaws.eu", "", false, NULL },
	/* Overrides: path style, as MinIO and moto need. */
	{ "http://127.0.0.1:9000", NULL, NULL, "us-east-1", "evidence", false, 0, "http",
	  "127.0.0.1:9000", "/evidence", true, NULL },
	{ NULL, "http://localhost:5000/", NULL, "us-east-1", "evidence", false, 0, "http",
	  "localhost:5000", "/evidence", true, NULL },
	{ "https://s3-override.example", "http://global.example", NULL, "us-east-1", "evidence",
	  false, 0, "https", "s3-override.example", "/evidence", true, NULL },
	{ "", "http://global.example", NULL, "us-east-1", "evidence", false, 0, "http",
	  "global.example", "/evidence", true, NULL },
	{ "HTTPS://MinIO.Example.COM:443", NULL, NULL, "us-east-1", "evidence", false, 0, "https",
	  "minio.example.com", "/evidence", true, NULL },
	{ "http://minio:80", NULL, NULL, "us-east-1", "evidence", false, 0, "http", "minio",
	  "/evidence", true, NULL },
	{ "http://minio:443", NULL, NULL, "us-east-1", "evidence", false, 0, "http", "minio:443",
	  "/evidence", true, NULL },
	{ "https://[::1]:9000", NULL, NULL, "us-east-1", "evidence", false, 0, "https",
	  "[::1]:9000", "/evidence", true, NULL },
	{ "http://minio_1:9000", NULL, NULL, NULL, "evidence", false, 0, "http", "minio_1:9000",
	  "/evidence", true, NULL },
	/* Any region goes with an override (it only signs). */
	{ "http://minio:9000", NULL, NULL, "garage", "evidence", false, 0, "http", "minio:9000",
	  "/evidence", true, NULL },
	{ "http://127.0.0.1:9000", NULL, "true", "us-east-2", "evidence", false, 0, "https",
	  "evidence.s3.us-east-2.amazonaws.com", "", false, NULL },
	{ NULL, "http://127.0.0.1:9000", "TRUE", "us-east-2", "evidence", false, 0, "https",
	  "evidence.s3.us-east-2.amazonaws.com", "", false, NULL },
	{ "http://127.0.0.1:9000", NULL, "false", "us-east-2", "evidence", false, 0, "http",
	  "127.0.0.1:9000", "/evidence", true, NULL },
	/* Errors. */
	{ NULL, NULL, NULL, "mars-1", "evidence", false, -EINVAL, .why = "unknown region 'mars-1'" },
	{ NULL, NULL, NULL, NULL, "evidence", false, -EINVAL, .why = "unknown region" },
	{ NULL, NULL, NULL, "us-east-1", "Evidence", false, -EINVAL, .why = "lowercase" },
	{ "http://minio:9000", NULL, NULL, "us-east-1", "ev", false, -EINVAL, .why = "3 to 63" },
	{ "ftp://minio", NULL, NULL, "us-east-1", "evidence", false, -EINVAL,
	  .why = "AWS_ENDPOINT_URL_S3 is not an http:// or https:// URL" },
	{ "minio:9000", NULL, NULL, "us-east-1", "evidence", false, -EINVAL,
	  .why = "not an http:// or https://" },
	{ NULL, "http://minio:9000/prefix", NULL, "us-east-1", "evidence", false, -EINVAL,
	  .why = "AWS_ENDPOINT_URL: only http(s)://host[:port]" },
	{ "http://minio:9000?x=1", NULL, NULL, "us-east-1", "evidence", false, -EINVAL,
	  .why = "not a path, query" },
	{ "http://minio#f", NULL, NULL, "us-east-1", "evidence", false, -EINVAL,
	  .why = "not a path, query" },
	{ "http://user:hunter2@minio:9000", NULL, NULL, "us-east-1", "evidence", false, -EINVAL,
	  .why = "passwords" },
	{ "http://minio:0", NULL, NULL, "us-east-1", "evidence", false, -EINVAL, .why = "port" },
	{ "http://minio:65536", NULL, NULL, "us-east-1", "evidence", false, -EINVAL,
	  .why = "port" },
	{ "http://minio:9x", NULL, NULL, "us-east-1", "evidence", false, -EINVAL, .why = "port" },
	{ "http://minio:", NULL, NULL, "us-east-1", "evidence", false, -EINVAL, .why = "port" },
	{ "http://minio:-1", NULL, NULL, "us-east-1", "evidence", false, -EINVAL, .why = "port" },
	{ "http://", NULL, NULL, "us-east-1", "evidence", false, -EINVAL, .why = "no host" },
	{ "http://:9000", NULL, NULL, "us-east-1", "evidence", false, -EINVAL, .why = "no host" },
	{ "http://[::1", NULL, NULL, "us-east-1", "evidence", false, -EINVAL, .why = "IPv6" },
	{ "http://[]:80", NULL, NULL, "us-east-1", "evidence", false, -EINVAL, .why = "IPv6" },
	{ "http://mi nio", NULL, NULL, "us-east-1", "evidence", false, -EINVAL,
	  .why = "characters" },
};

static void set_or_unset(const char *name, const char *value)
{
	if (value)
		setenv(name, value, 1);
	else
		unsetenv(name);
}

static void test_endpoint(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(endpoint_cases); i++) {
		const struct endpoint_case *c = &endpoint_cases[i];
		struct s3_endpoint e;
		char why[AWS_REASON_MAX] = "";
		int ret;

		print_message("endpoint case %zu: %s %s %s %s\n", i,
			      c->endpoint_s3 ? c->endpoint_s3 : "-", c->endpoint ? c->endpoint : "-",
			      c->region ? c->region : "-", c->bucket);
		set_or_unset("AWS_ENDPOINT_URL_S3", c->endpoint_s3);
		set_or_unset("AWS_ENDPOINT_URL", c->endpoint);
		set_or_unset("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", c->ignore);
		ret = s3_endpoint_resolve(c->region, c->bucket, c->path_style, &e, why, sizeof(why));
		assert_int_equal(ret, c->ret);
		if (ret) {
			assert_non_null(strstr(why, c->why));
			assert_null(strstr(why, "hunter2"));
			assert_null(e.host);
			continue;
		}
		assert_string_equal(e.scheme, c->scheme);
		assert_string_equal(e.host, c->host);
		assert_string_equal(e.path_prefix, c->prefix);
		assert_int_equal(e.path_style, c->path_style_out);
		s3_endpoint_free(&e);
		assert_null(e.host);
	}
	reset(state);
}

/* ---- credentials ---- */

static const char *const secrets[] = { "SECRETenv", "SECRETopt", "SECRETcred", "SECRETconf",
				       "TOKENenv", "TOKENcred", "SECRETprod" };

static void assert_no_secret(const char *why)
{
	for (size_t i = 0; i < ARRAY_SIZE(secrets); i++)
		assert_null(strstr(why, secrets[i]));
}

/* new() then get(now): the credentials, or NULL with *ret and why. */
static struct aws_credentials_provider *provider(const struct aws_credential_options *o,
						 int expect_ret, const char *why_has)
{
	struct aws_credentials_provider *p = (void *)1;
	char why[AWS_REASON_MAX] = "";
	int ret;

	ret = aws_credentials_provider_new(o, &p, why, sizeof(why));
	if (ret != expect_ret)
		print_message("unexpected: %d %s\n", ret, why);
	assert_int_equal(ret, expect_ret);
	assert_no_secret(why);
	if (ret) {
		assert_null(p);
		if (!strstr(why, why_has))
			print_message("reason: %s\n", why);
		assert_non_null(strstr(why, why_has));
		return NULL;
	}
	assert_string_equal(why, "");
	return p;
}

static void expect_credentials(const struct aws_credential_options *o, const char *source,
			       const char *key, const char *secret, const char *token)
{
	struct aws_credentials_provider *p = provider(o, 0, NULL);
	const struct aws_credentials *c;
	char why[AWS_REASON_MAX] = "";

	assert_int_equal(aws_credentials_get(p, time(NULL), &c, why, sizeof(why)), 0);
	assert_string_equal(c->source, source);
	assert_string_equal(c->access_key_id, key);
	assert_string_equal(c->secret_access_key, secret);
	if (token)
		assert_string_equal(c->session_token, token);
	else
		assert_null(c->session_token);
	aws_credentials_provider_free(p);
}

#define CRED_FILE                                                                                 \
	"[default]\naws_access_key_id = AKIACRED\naws_secret_access_key = SECRETcred\n"          \
	"aws_session_token = TOKENcred\n"                                                        \
	"[prod]\naws_access_key_id = AKIAPROD\naws_secret_access_key = SECRETprod\n"
#define CONFIG_FILE                                                                               \
	"[default]\naws_access_key_id = AKIACONF\naws_secret_access_key = SECRETconf\n"          \
	"region = us-east-1\n"                                                                   \
	"[profile conf-only]\naws_access_key_id = AKIACONFONLY\n"                                \
	"aws_secret_access_key = SECRETconf\n"                                                   \
	"[profile region-only]\nregion = eu-west-1\n"

static void set_env_keys(void)
{
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SECRETenv", 1);
	setenv("AWS_SESSION_TOKEN", "TOKENenv", 1);
}

static void test_chain_order(void **state)
{
	struct aws_credential_options opts = { .access_key_id = "AKIAOPT",
					       .secret_access_key = "SECRETopt" };
	struct aws_credential_options by_profile = { .profile = "prod" };

	reset(state);
	write_file(".aws/credentials", CRED_FILE);
	write_file(".aws/config", CONFIG_FILE);
	set_env_keys();
	/* 1. options */
	expect_credentials(&opts, "options", "AKIAOPT", "SECRETopt", NULL);
	opts.session_token = "TOKENopt";
	expect_credentials(&opts, "options", "AKIAOPT", "SECRETopt", "TOKENopt");
	/* 2. environment, over the files */
	expect_credentials(NULL, "environment", "AKIAENV", "SECRETenv", "TOKENenv");
	/* AWS_PROFILE keeps the environment first; --profile skips it, as in the CLI. */
	setenv("AWS_PROFILE", "prod", 1);
	expect_credentials(NULL, "environment", "AKIAENV", "SECRETenv", "TOKENenv");
	expect_credentials(&by_profile, "profile prod", "AKIAPROD", "SECRETprod", NULL);
	unsetenv("AWS_PROFILE");
	/* AWS_SECURITY_TOKEN is the older name of the session token. */
	unsetenv("AWS_SESSION_TOKEN");
	setenv("AWS_SECURITY_TOKEN", "TOKENenv", 1);
	expect_credentials(NULL, "environment", "AKIAENV", "SECRETenv", "TOKENenv");
	/* 3. the credentials file, over the config file */
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SECURITY_TOKEN");
	setenv("AWS_SESSION_TOKEN", "", 1);
	expect_credentials(NULL, "profile default", "AKIACRED", "SECRETcred", "TOKENcred");
	setenv("AWS_PROFILE", "prod", 1);
	expect_credentials(NULL, "profile prod", "AKIAPROD", "SECRETprod", NULL);
	/* 4. the config file */
	setenv("AWS_PROFILE", "conf-only", 1);
	expect_credentials(NULL, "config profile conf-only", "AKIACONFONLY", "SECRETconf", NULL);
	unsetenv("AWS_PROFILE");
	remove_file(".aws/credentials");
	expect_credentials(NULL, "config profile default", "AKIACONF", "SECRETconf", NULL);
	/* 5. the instance role: disabled here */
	remove_file(".aws/config");
	provider(NULL, -ENOKEY, "IMDS disabled by AWS_EC2_METADATA_DISABLED");
	/* Files named by variable, "~/" expanded; the defaults are then ignored. */
	write_file(".aws/credentials", CRED_FILE);
	write_file("other-credentials", "[default]\naws_access_key_id = AKIAOTHER\n"
					"aws_secret_access_key = SECRETcred\n");
	setenv("AWS_SHARED_CREDENTIALS_FILE", "~/other-credentials", 1);
	expect_credentials(NULL, "profile default", "AKIAOTHER", "SECRETcred", NULL);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
	provider(NULL, -ENOKEY, "instance role");
	/* No HOME: no shared files, not an error. */
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	unsetenv("HOME");
	provider(NULL, -ENOKEY, "IMDS disabled");
	reset(state);
}

static void test_chain_errors(void **state)
{
	struct aws_credential_options half = { .access_key_id = "AKIAOPT" };
	struct aws_credential_options token_only = { .session_token = "TOKENopt" };
	struct aws_credential_options nope = { .profile = "nope" };

	reset(state);
	write_file(".aws/credentials", CRED_FILE);
	/* Half a pair is an error, never a fall-through to the next source. */
	provider(&half, -ENOKEY, "--access-key-id and --secret-access-key go together");
	provider(&token_only, -ENOKEY, "go together");
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	provider(NULL, -ENOKEY, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
	unsetenv("AWS_ACCESS_KEY_ID");
	setenv("AWS_SECRET_ACCESS_KEY", "SECRETenv", 1);
	provider(NULL, -ENOKEY, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
	setenv("AWS_ACCESS_KEY_ID", "AKIA ENV", 1);
	provider(NULL, -ENOKEY, "access key id from the environment holds spaces");
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SECRETenv\n", 1);
	provider(NULL, -ENOKEY, "secret access key from the environment holds spaces");
	setenv("AWS_SECRET_ACCESS_KEY", "SECRETenv", 1);
	setenv("AWS_CREDENTIAL_EXPIRATION", "tomorrow", 1);
	provider(NULL, -ENOKEY, "AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time");
	unsetenv("AWS_CREDENTIAL_EXPIRATION");
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");

	/* A named profile must exist; an absent default just moves on. */
	provider(&nope, -ENOKEY, "profile 'nope' not found in ");
	setenv("AWS_PROFILE", "nope", 1);
	provider(NULL, -ENOKEY, "profile 'nope' not found");
	setenv("AWS_PROFILE", "default", 1);
	remove_file(".aws/credentials");
	provider(NULL, -ENOKEY, "profile 'default' not found");
	unsetenv("AWS_PROFILE");
	provider(NULL, -ENOKEY, "no credentials in the environment or profile 'default'");
	/* A profile with settings but no keys goes on to the instance role. */
	write_file(".aws/config", CONFIG_FILE);
	setenv("AWS_PROFILE", "region-only", 1);
	provider(NULL, -ENOKEY, "instance role: IMDS disabled");
	unsetenv("AWS_PROFILE");

	/* Half a pair in a file. */
	write_file(".aws/credentials", "[default]\naws_access_key_id = AKIACRED\n");
	provider(NULL, -ENOKEY, "has aws_access_key_id but no aws_secret_access_key");
	write_file(".aws/credentials", "[default]\naws_secret_access_key = SECRETcred\n");
	provider(NULL, -ENOKEY, "has aws_secret_access_key but no aws_access_key_id");
	write_file(".aws/credentials", "[default]\naws_access_key_id = AKIACRED\n"
				       "aws_secret_access_key =\n");
	provider(NULL, -ENOKEY, "secret access key from profile 'default' in ");
	/* A broken file stops the chain and says where. */
	write_file(".aws/credentials", "[default]\naws_access_key_id = AKIACRED\nSECRETcred\n");
	provider(NULL, -ENOKEY, "credentials: line 3: not a [section]");
	write_file(".aws/credentials", "[default]\n[default]\n");
	provider(NULL, -ENOKEY, "section [default] repeated");
	remove_file(".aws/credentials");
	reset(state);
}

static void test_chain_unsupported(void **state)
{
	reset(state);
	write_file(".aws/config", "[profile role]\nrole_arn = arn:aws:iam::1:role/r\n"
				  "source_profile = default\n"
				  "[profile sso]\nsso_session = corp\nsso_account_id = 1\n"
				  "[profile proc]\ncredential_process = /bin/creds\n"
				  "[profile web]\nweb_identity_token_file = /t\nrole_arn = x\n");
	setenv("AWS_PROFILE", "role", 1);
	provider(NULL, -ENOKEY, "profile 'role' uses role_arn, which this agent does not support");
	setenv("AWS_PROFILE", "sso", 1);
	provider(NULL, -ENOKEY, "uses sso_session");
	setenv("AWS_PROFILE", "proc", 1);
	provider(NULL, -ENOKEY, "uses credential_process");
	setenv("AWS_PROFILE", "web", 1);
	provider(NULL, -ENOKEY, "uses role_arn");
	/* The CLI assumes the role even with keys in the credentials file ... */
	write_file(".aws/credentials", "[role]\naws_access_key_id = AKIACRED\n"
				       "aws_secret_access_key = SECRETcred\n"
				       "[proc]\naws_access_key_id = AKIAPROC\n"
				       "aws_secret_access_key = SECRETcred\n");
	setenv("AWS_PROFILE", "role", 1);
	provider(NULL, -ENOKEY, "uses role_arn");
	/* ... but takes those keys before running a credential_process. */
	setenv("AWS_PROFILE", "proc", 1);
	expect_credentials(NULL, "profile proc", "AKIAPROC", "SECRETcred", NULL);
	unsetenv("AWS_PROFILE");
	/* Web identity and container credentials by environment. */
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token", 1);
	setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/r", 1);
	provider(NULL, -ENOKEY, "web identity");
	unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
	setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x", 1);
	provider(NULL, -ENOKEY, "container credentials");
	reset(state);
}

static char *iso(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static void test_refresh(void **state)
{
	time_t t0 = 1800000000, expiry = t0 + 3600;
	struct aws_credentials_provider *p;
	const struct aws_credentials *c;
	char why[AWS_REASON_MAX], when[32];

	reset(state);
	/* Long-term keys from a file: read once, again only after invalidate(). */
	write_file(".aws/credentials", "[default]\naws_access_key_id = AKIAONE\n"
				       "aws_secret_access_key = SECRETcred\n");
	p = provider(NULL, 0, NULL);
	write_file(".aws/credentials", "[default]\naws_access_key_id = AKIATWO\n"
				       "aws_secret_access_key = SECRETcred\n");
	assert_int_equal(aws_credentials_get(p, t0, &c, why, sizeof(why)), 0);
	assert_string_equal(c->access_key_id, "AKIAONE");
	assert_int_equal(c->expiration, 0);
	aws_credentials_invalidate(p);
	assert_int_equal(aws_credentials_get(p, t0, &c, why, sizeof(why)), 0);
	assert_string_equal(c->access_key_id, "AKIATWO");
	/* Refused, and the source answers the same keys again: an error, not a loop. */
	aws_credentials_invalidate(p);
	assert_int_equal(aws_credentials_get(p, t0, &c, why, sizeof(why)), -EKEYREJECTED);
	assert_non_null(strstr(why, "profile default has no other credentials"));
	/* Refused, and the source has nothing at all. */
	write_file(".aws/credentials", "[default]\nregion = us-east-1\n");
	aws_credentials_invalidate(p);
	assert_int_equal(aws_credentials_get(p, t0, &c, why, sizeof(why)), -EKEYREJECTED);
	assert_null(c);
	assert_non_null(strstr(why, "were refused and a refresh failed"));
	/* Still refused until a refresh succeeds. */
	assert_int_equal(aws_credentials_get(p, t0, &c, why, sizeof(why)), -EKEYREJECTED);
	write_file(".aws/credentials", "[default]\naws_access_key_id = AKIATHREE\n"
				       "aws_secret_access_key = SECRETcred\n");
	assert_int_equal(aws_credentials_get(p, t0, &c, why, sizeof(why)), 0);
	assert_string_equal(c->access_key_id, "AKIATHREE");
	aws_credentials_provider_free(p);
	remove_file(".aws/credentials");

	/* Temporary keys (AWS_CREDENTIAL_EXPIRATION): refreshed inside the margin. */
	set_env_keys();
	setenv("AWS_CREDENTIAL_EXPIRATION", iso(expiry, when, sizeof(when)), 1);
	p = provider(NULL, 0, NULL);
	assert_int_equal(aws_credentials_get(p, t0, &c, why, sizeof(why)), 0);
	assert_int_equal(c->expiration, expiry);
	/* Inside the margin: the environment is read again, and now has newer keys. */
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV2", 1);
	setenv("AWS_CREDENTIAL_EXPIRATION", iso(expiry + 3600, when, sizeof(when)), 1);
	assert_int_equal(aws_credentials_get(p, expiry - AWS_CREDENTIALS_REFRESH_MARGIN - 1, &c,
					     why, sizeof(why)), 0);
	assert_string_equal(c->access_key_id, "AKIAENV");
	assert_int_equal(aws_credentials_get(p, expiry - AWS_CREDENTIALS_REFRESH_MARGIN, &c, why,
					     sizeof(why)), 0);
	assert_string_equal(c->access_key_id, "AKIAENV2");
	assert_int_equal(c->expiration, expiry + 3600);
	expiry += 3600;
	/* A failed refresh while still valid keeps the keys, and says so. */
	unsetenv("AWS_ACCESS_KEY_ID");
	why[0] = '\0';
	assert_int_equal(aws_credentials_get(p, expiry - 10, &c, why, sizeof(why)), 0);
	assert_string_equal(c->access_key_id, "AKIAENV2");
	assert_non_null(strstr(why, "refresh failed"));
	assert_non_null(strstr(why, "valid 10s more"));
	assert_no_secret(why);
	/* Expired and the refresh fails: an error naming both. */
	assert_int_equal(aws_credentials_get(p, expiry, &c, why, sizeof(why)), -EKEYEXPIRED);
	assert_null(c);
	assert_non_null(strstr(why, "credentials from environment expired at "));
	assert_non_null(strstr(why, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"));
	/* A refresh that answers already-expired keys is a failure too. */
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV3", 1);
	assert_int_equal(aws_credentials_get(p, expiry + 1, &c, why, sizeof(why)), -EKEYEXPIRED);
	assert_non_null(strstr(why, "answered credentials that expired at"));
	setenv("AWS_CREDENTIAL_EXPIRATION", iso(expiry + 7200, when, sizeof(when)), 1);
	assert_int_equal(aws_credentials_get(p, expiry + 1, &c, why, sizeof(why)), 0);
	assert_string_equal(c->access_key_id, "AKIAENV3");
	aws_credentials_provider_free(p);
	reset(state);
}

/* ---- the metadata service's answers ---- */

struct time_case {
	const char *text;
	int ret;
	time_t value;
};

static const struct time_case time_cases[] = {
	{ "1970-01-01T00:00:00Z", 0, 0 },
	{ "2026-11-28T23:00:00Z", 0, 1795906800 },
	{ "2026-11-28T23:00:00.123Z", 0, 1795906800 },
	{ "2026-11-28T23:00:00.123456789Z", 0, 1795906800 },
	{ "2026-11-28T23:00:00+01:00", 0, 1795906800 - 3600 },
	{ "2026-11-28T23:00:00-00:30", 0, 1795906800 + 1800 },
	{ "2024-02-29T12:00:00Z", 0, 1709208000 },
	{ "2000-03-01T00:00:00Z", 0, 951868800 },
	{ "2016-12-31T23:59:60Z", 0, 1483228799 },
	{ "2023-02-29T00:00:00Z", -EINVAL, 0 },
	{ "2026-13-01T00:00:00Z", -EINVAL, 0 },
	{ "2026-11-31T00:00:00Z", -EINVAL, 0 },
	{ "2026-11-28T24:00:00Z", -EINVAL, 0 },
	{ "2026-11-28T23:00:00", -EINVAL, 0 },
	{ "2026-11-28 23:00:00Z", -EINVAL, 0 },
	{ "2026-11-28T23:00:00.Z", -EINVAL, 0 },
	{ "2026-11-28T23:00:00ZZ", -EINVAL, 0 },
	{ "2026-11-28T23:00:00+0100", -EINVAL, 0 },
	{ "1969-12-31T23:59:59Z", -EINVAL, 0 },
	{ "26-11-28T23:00:00Z", -EINVAL, 0 },
	{ "", -EINVAL, 0 },
	{ "garbage", -EINVAL, 0 },
};

static void test_parse_time(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(time_cases); i++) {
		time_t t = -1;

		print_message("time: %s\n", time_cases[i].text);
		assert_int_equal(imds_parse_time(time_cases[i].text, &t), time_cases[i].ret);
		if (!time_cases[i].ret)
			assert_int_equal(t, time_cases[i].value);
	}
}

struct role_case {
	const char *json;
	int ret;
	const char *why;
};

#define ROLE_OK                                                                                   \
	"{\"Code\":\"Success\",\"LastUpdated\":\"2026-11-28T17:00:00Z\",\"Type\":\"AWS-HMAC\","     \
	"\"AccessKeyId\":\"ASIAROLE\",\"SecretAccessKey\":\"SECRETrole\",\"Token\":\"TOKENrole\","  \
	"\"Expiration\":\"2026-11-28T23:00:00Z\"}"

static const struct role_case role_cases[] = {
	{ ROLE_OK, 0, NULL },
	{ ROLE_OK "\n", 0, NULL },
	{ "{\"AccessKeyId\":\"ASIAROLE\",\"SecretAccessKey\":\"SECRETrole\",\"Token\":\"TOKENrole\","
	  "\"Expiration\":\"2026-11-28T23:00:00Z\"}", 0, NULL },
	{ "", -EPROTO, "are not JSON: unexpected end of text" },
	{ "{\"AccessKeyId\":\"ASIAROLE\",", -EPROTO, "are not JSON" },
	{ "<html>404</html>", -EPROTO, "are not JSON" },
	{ ROLE_OK "x", -EPROTO, "text after the object" },
	{ "[]", -EPROTO, "not a JSON object" },
	{ "{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"Message\":\"EC2 cannot assume the role\"}",
	  -EPROTO, "Code 'AssumeRoleUnauthorizedAccess': EC2 cannot assume the role" },
	{ "{\"Code\":7}", -EPROTO, "Code '7'" },
	/* Found by fuzzing: a null Code reached the message as a NULL string. */
	{ "{\"Code\":null}", -EPROTO, "Code 'null'" },
	{ "{\"Code\":\"Success\",\"AccessKeyId\":\"ASIAROLE\",\"SecretAccessKey\":\"SECRETrole\","
	  "\"Expiration\":\"2026-11-28T23:00:00Z\"}", -EPROTO, "lack Token" },
	{ "{\"Code\":\"Success\",\"AccessKeyId\":\"ASIAROLE\",\"SecretAccessKey\":42,"
	  "\"Token\":\"TOKENrole\",\"Expiration\":\"2026-11-28T23:00:00Z\"}", -EPROTO,
	  "lack SecretAccessKey" },
	{ "{\"Code\":\"Success\",\"AccessKeyId\":\"\",\"SecretAccessKey\":\"SECRETrole\","
	  "\"Token\":\"TOKENrole\",\"Expiration\":\"2026-11-28T23:00:00Z\"}", -EPROTO,
	  "lack AccessKeyId" },
	{ "{\"Code\":\"Success\",\"AccessKeyId\":\"ASIAROLE\",\"SecretAccessKey\":\"SECRETrole\","
	  "\"Token\":\"TOKENrole\",\"Expiration\":\"soon\"}", -EPROTO,
	  "Expiration 'soon' is not an ISO 8601 time" },
};

static void test_parse_role_credentials(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(role_cases); i++) {
		const struct role_case *c = &role_cases[i];
		struct imds_role_credentials rc;
		char why[AWS_REASON_MAX] = "";
		int ret;

		print_message("role json %zu\n", i);
		ret = imds_parse_role_credentials(c->json, strlen(c->json), "r1", &rc, why,
						  sizeof(why));
		assert_int_equal(ret, c->ret);
		if (ret) {
			assert_non_null(strstr(why, c->why));
			assert_non_null(strstr(why, "role 'r1'"));
			assert_null(strstr(why, "SECRETrole"));
			assert_null(strstr(why, "TOKENrole"));
			assert_null(rc.access_key_id);
			continue;
		}
		assert_string_equal(rc.access_key_id, "ASIAROLE");
		assert_string_equal(rc.secret_access_key, "SECRETrole");
		assert_string_equal(rc.token, "TOKENrole");
		assert_int_equal(rc.expiration, 1795906800);
		imds_role_credentials_free(&rc);
		assert_null(rc.token);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uri_parse),
		cmocka_unit_test(test_region_shape),
		cmocka_unit_test(test_region_order),
		cmocka_unit_test(test_endpoint),
		cmocka_unit_test(test_chain_order),
		cmocka_unit_test(test_chain_errors),
		cmocka_unit_test(test_chain_unsupported),
		cmocka_unit_test(test_refresh),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_parse_role_credentials),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
