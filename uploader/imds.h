/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The EC2 instance metadata service, IMDSv2 only (a session token first):
 * IMDSv1 is disabled on hardened instances and invites SSRF.
 * AWS_EC2_METADATA_SERVICE_ENDPOINT overrides the address and
 * AWS_EC2_METADATA_DISABLED=true turns it off, as in the AWS SDKs.
 */
#ifndef FORENSICS_IMDS_H
#define FORENSICS_IMDS_H

#include <stddef.h>

#define IMDS_DEFAULT_ENDPOINT "http://169.254.169.254"
#define IMDS_TOKEN_TTL_SECONDS 21600
#define IMDS_BODY_MAX (64u << 10)

/* GET path ("/latest/..."); *body is malloc'd and NUL-terminated. */
int imds_get(const char *path, char **body, char *why, size_t whylen);
int imds_instance_identity(char **document, char *why, size_t whylen);

#endif
