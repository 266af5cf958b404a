/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which certificates to trust for HTTPS to AWS. The static libcurl carries
 * the build machine's (Debian's) bundle path, which does not exist on Amazon
 * Linux, RHEL, SUSE or Alpine, so the path is found on the host it runs on:
 * what the responder named (--ca-bundle, AWS_CA_BUNDLE as the aws CLI and
 * SDKs read it, SSL_CERT_FILE, SSL_CERT_DIR), else the first known bundle of
 * the distributions EC2 runs. Verification itself is never turned off here.
 */
#ifndef FORENSICS_AWS_TRUST_H
#define FORENSICS_AWS_TRUST_H

#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

struct aws_trust_probe {
	const char *root;                       /* prefix of every path: "" on a host */
	const char *option;                     /* --ca-bundle, or NULL */
	const char *(*env)(const char *name);   /* getenv, or a test's */
};

struct aws_trust {
	char path[PATH_MAX];   /* as given or found, without the probe's root */
	bool is_dir;           /* SSL_CERT_DIR: a hashed directory (CURLOPT_CAPATH) */
	const char *source;    /* "--ca-bundle", "AWS_CA_BUNDLE", ..., or "system" */
};

/* The distributions' bundle paths, in the order they are tried; NULL-terminated. */
extern const char *const aws_trust_known_bundles[];

/*
 * 0 with *out, or -ENOENT with why: a named file that is not there (never
 * silently replaced by another), or no known bundle on this host.
 */
int aws_trust_find(const struct aws_trust_probe *probe, struct aws_trust *out, char *why,
		   size_t whylen);
/* aws_trust_find() on this host with getenv; the result is kept for the process. */
int aws_trust_host(const char *option, const struct aws_trust **out, char *why, size_t whylen);
/*
 * As the manifest and the case record say it: {"ca_bundle": PATH, "source": S},
 * "ca_path" for a directory. NULL when out of memory.
 */
json_object *aws_trust_json(const struct aws_trust *t);

#endif
