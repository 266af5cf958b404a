// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where requests go: s3:// URIs and bucket names checked, and the endpoint
 * of S3 or any other service found as the aws CLI (botocore) finds it.
 */
#include "aws/endpoint.h"

#include "aws/awsconfig.h"
#include "aws/reason.h"
#include "aws/region.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S3_KEY_MAX 1024

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

	aws_reason_quote(buf, sizeof(buf), b, 66);
	if (!strncmp(b, "arn:", 4)) {
		aws_reason_set(why, whylen, "bucket '%s': ARNs (access points) are not supported",
			       buf);
		return -EINVAL;
	}
	if (n < 3 || n > 63) {
		aws_reason_set(why, whylen, "bucket name '%s' must be 3 to 63 characters", buf);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!is_lower_alnum(b[i]) && b[i] != '.' && b[i] != '-') {
			aws_reason_set(why, whylen, "bucket name '%s' may hold only lowercase "
				       "letters, digits, '.' and '-'", buf);
			return -EINVAL;
		}
		if (b[i] == '.')
			dots++;
		else if (b[i] < '0' || b[i] > '9')
			all_digits_and_dots = false;
	}
	if (!is_lower_alnum(b[0]) || !is_lower_alnum(b[n - 1])) {
		aws_reason_set(why, whylen,
			       "bucket name '%s' must begin and end with a letter or digit", buf);
		return -EINVAL;
	}
	if (strstr(b, "..")) {
		aws_reason_set(why, whylen, "bucket name '%s' has two adjacent periods", buf);
		return -EINVAL;
	}
	if (all_digits_and_dots && dots == 3) {
		aws_reason_set(why, whylen, "bucket name '%s' is formatted as an IP address", buf);
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		if (!strncmp(b, prefixes[i], strlen(prefixes[i]))) {
			aws_reason_set(why, whylen,
				       "bucket name '%s' starts with the reserved prefix '%s'", buf,
				       prefixes[i]);
			return -EINVAL;
		}
	}
	/* "-s3alias" (an access point alias) is accepted: it works as a bucket name. */
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		if (ends_with(b, suffixes[i])) {
			aws_reason_set(why, whylen,
				       "bucket name '%s' ends with '%s', reserved for %s", buf,
				       suffixes[i],
				       i == 0 ? "Object Lambda access points" :
				       i == 1 ? "Multi-Region Access Points" :
				       i == 2 ? "directory buckets (S3 Express, not supported)" :
						"table buckets");
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
		aws_reason_set(why, whylen, "'%s' is not an s3://bucket/prefix URI",
			       uri ? aws_reason_quote(buf, sizeof(buf), uri, 64) : "");
		return -EINVAL;
	}
	b = uri + 5;
	slash = strchr(b, '/');
	if (slash == b || !*b) {
		aws_reason_set(why, whylen, "'%s' names no bucket",
			       aws_reason_quote(buf, sizeof(buf), uri, 64));
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
		aws_reason_set(why, whylen, "key prefix longer than %d bytes", S3_KEY_MAX);
		ret = -EINVAL;
		goto fail;
	}
	for (const char *c = b; *c; c++) {
		if ((unsigned char)*c < ' ' || *c == 0x7f) {
			aws_reason_set(why, whylen, "key prefix holds control characters");
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
		aws_reason_set(why, whylen, "%s is not an http:// or https:// URL", var);
		return -EINVAL;
	}
	end = rest + strcspn(rest, "/?#");
	if (*end && strcmp(end, "/")) {
		aws_reason_set(why, whylen, "%s: only http(s)://host[:port] is supported, not a "
			       "path, query or fragment", var);
		return -EINVAL;
	}
	if (memchr(rest, '@', end - rest)) {
		aws_reason_set(why, whylen,
			       "%s: user names or passwords in the URL are not supported", var);
		return -EINVAL;
	}
	host = rest;
	if (*host == '[') {
		host_end = memchr(host, ']', end - host);
		if (!host_end || host_end == host + 1) {
			aws_reason_set(why, whylen, "%s: malformed IPv6 address", var);
			return -EINVAL;
		}
		for (const char *c = host + 1; c < host_end; c++) {
			if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f') ||
			      (*c >= 'A' && *c <= 'F') || *c == ':' || *c == '.')) {
				aws_reason_set(why, whylen, "%s: malformed IPv6 address", var);
				return -EINVAL;
			}
		}
		host_end++;
	} else {
		host_end = host;
		while (host_end < end && *host_end != ':') {
			if (!host_char(*host_end)) {
				aws_reason_set(why, whylen,
					       "%s: host name holds characters a host cannot", var);
				return -EINVAL;
			}
			host_end++;
		}
		if (host_end == host || *host == '.' || *host == '-') {
			aws_reason_set(why, whylen, "%s: no host name", var);
			return -EINVAL;
		}
	}
	if (host_end < end) {
		char *stop;

		if (*host_end != ':' || host_end + 1 == end || end - host_end > 6 ||
		    host_end[1] < '0' || host_end[1] > '9') {
			aws_reason_set(why, whylen, "%s: malformed port", var);
			return -EINVAL;
		}
		port = host_end + 1;
		port_value = strtoul(port, &stop, 10);
		if (stop != end || port_value == 0 || port_value > 65535) {
			aws_reason_set(why, whylen, "%s: malformed port", var);
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

/*
 * The URL the environment sets for a service: service_var
 * (AWS_ENDPOINT_URL_<ID>), else AWS_ENDPOINT_URL; *var names the one that
 * did. NULL when neither is set or AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is
 * "true".
 */
static const char *configured_url(const char *service_var, const char **var)
{
	const char *ignore = getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), *url;

	*var = NULL;
	if (ignore && !strcasecmp(ignore, "true"))
		return NULL;
	*var = service_var;
	url = awsconfig_env(*var);
	if (!url) {
		*var = "AWS_ENDPOINT_URL";
		url = awsconfig_env(*var);
	}
	return url;
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
	const char *url, *var;
	char buf[48];
	int ret, n;

	memset(out, 0, sizeof(*out));
	if (!bucket) {
		aws_reason_set(why, whylen, "no bucket");
		return -EINVAL;
	}
	ret = bucket_check(bucket, why, whylen);
	if (ret)
		return ret;
	url = configured_url("AWS_ENDPOINT_URL_S3", &var);
	if (url) {
		/* MinIO, moto and the like: path style, the bucket need not resolve. */
		ret = endpoint_parse(url, var, out, why, whylen);
		out->path_style = true;
	} else if (!region || !aws_region_valid(region)) {
		aws_reason_set(why, whylen, "unknown region '%s'",
			       region ? aws_reason_quote(buf, sizeof(buf), region, 32) : "");
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
			aws_reason_set(why, whylen, "out of memory");
		s3_endpoint_free(out);
	}
	return ret;
}

int aws_endpoint_resolve(const char *service_id, const char *host_prefix, const char *region,
			 struct s3_endpoint *out, char *why, size_t whylen)
{
	const char *url, *var;
	char name[64], buf[48];
	int ret, n;

	memset(out, 0, sizeof(*out));
	n = snprintf(name, sizeof(name), "AWS_ENDPOINT_URL_%s", service_id);
	if (n < 0 || (size_t)n >= sizeof(name))
		return -EINVAL;
	for (char *c = name; *c; c++)
		*c = *c == ' ' || *c == '-' ? '_' : (*c >= 'a' && *c <= 'z') ? *c - 32 : *c;
	url = configured_url(name, &var);
	if (url) {
		ret = endpoint_parse(url, var, out, why, whylen);
	} else if (region && !aws_region_valid(region)) {
		aws_reason_set(why, whylen, "unknown region '%s'",
			       aws_reason_quote(buf, sizeof(buf), region, 32));
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
			aws_reason_set(why, whylen, "out of memory");
		s3_endpoint_free(out);
	}
	return ret;
}
