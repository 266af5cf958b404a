/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where requests go: s3:// URIs, bucket names, and the endpoint of S3 or
 * any other service, found in the order the AWS SDKs use.
 *
 * Library code: no printing; errors come back as negative errno and a
 * one-line reason.
 */
#ifndef FORENSICS_ENDPOINT_H
#define FORENSICS_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * S3 endpoint for a bucket: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, else
 * https://s3.<region>.amazonaws.com. Virtual-hosted addressing
 * (bucket.host) unless path_style, the endpoint is an override, or the
 * bucket name is not DNS-compatible (dots under TLS). Results malloc'd:
 * *base "https://host[:port]", *host "host[:port]" as sent in Host,
 * *path_prefix "" or "/bucket".
 */
struct s3_endpoint {
	char *scheme;       /* "https" or "http" */
	char *host;         /* Host header value */
	char *path_prefix;  /* "" (virtual-hosted) or "/bucket" (path style) */
	bool path_style;
};

int s3_endpoint_resolve(const char *region, const char *bucket, bool path_style,
			struct s3_endpoint *out, char *why, size_t whylen);
void s3_endpoint_free(struct s3_endpoint *e);

/*
 * Any other service's endpoint, as the SDKs find it: AWS_ENDPOINT_URL_<ID>
 * (service_id upper-cased, spaces and dashes as '_': "EC2", "STS"), then
 * AWS_ENDPOINT_URL, else https://<host_prefix>.<region>.<partition suffix>
 * (region NULL: https://<host_prefix>.amazonaws.com, a global service).
 * path_prefix is "".
 */
int aws_endpoint_resolve(const char *service_id, const char *host_prefix, const char *region,
			 struct s3_endpoint *out, char *why, size_t whylen);

/* "s3://bucket/key/prefix" → bucket, key ("" allowed); -EINVAL with why otherwise. */
int s3_uri_parse(const char *uri, char **bucket, char **key, char *why, size_t whylen);

#endif
