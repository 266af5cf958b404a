/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The AWS shared files, ~/.aws/credentials and ~/.aws/config, read the way
 * the aws CLI (botocore, on Python's configparser) reads them:
 *
 *   - "[name]" starts a section; the name is everything up to the last ']'
 *     (not trimmed: "[ default ]" is not the default profile, as in the CLI)
 *   - "key = value" or "key: value"; whitespace around both is dropped; keys
 *     are case-insensitive (stored lower-case), values are kept as written
 *   - lines whose first non-blank is '#' or ';' are comments; there are no
 *     inline comments ("key = a # b" has the value "a # b")
 *   - a line indented deeper than its key continues that key's value, joined
 *     with '\n': this is how nested settings ("s3 =\n  addressing_style = path")
 *     are written; they are kept as one opaque value and never looked into
 *   - a duplicate section, a duplicate key in a section, a key outside any
 *     section or a line that is none of the above is an error, as in the CLI
 *
 * The files hold secrets: every buffer is wiped before it is freed.
 * Input is untrusted (it is fuzzed): any bytes, at most AWSCONFIG_FILE_MAX.
 *
 * Also where the files are found, and the environment variables that come
 * before them, as the credential chain and region resolution read both.
 */
#ifndef FORENSICS_AWSCONFIG_H
#define FORENSICS_AWSCONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#define AWSCONFIG_FILE_MAX (1u << 20)

struct awsconfig;
struct awsconfig_section;

/* Which file a profile is looked up in: the sections are named differently. */
enum awsconfig_kind {
	AWSCONFIG_CREDENTIALS, /* [name] */
	AWSCONFIG_CONFIG,      /* [profile name], and [default] for "default" */
};

/* 0, -EINVAL for malformed text (why says which line), -EFBIG, -ENOMEM. */
int awsconfig_parse(const char *text, size_t len, struct awsconfig **out);
int awsconfig_parse_why(const char *text, size_t len, struct awsconfig **out, char *why,
			size_t whylen);
/*
 * Read and parse a file. -ENOENT when it does not exist (why is set anyway);
 * other errors name the file.
 */
int awsconfig_load(const char *path, struct awsconfig **out, char *why, size_t whylen);
void awsconfig_free(struct awsconfig *c);

size_t awsconfig_section_count(const struct awsconfig *c);
const struct awsconfig_section *awsconfig_section_at(const struct awsconfig *c, size_t i);
const char *awsconfig_section_name(const struct awsconfig_section *s);
/* The section named exactly name, or NULL. */
const struct awsconfig_section *awsconfig_find_section(const struct awsconfig *c,
							const char *name);
/*
 * The section holding profile in a file of the given kind, or NULL. In the
 * config file "[profile NAME]" (NAME may be double-quoted) and, for
 * "default", "[default]"; when several sections name the same profile the
 * last one wins, as in the CLI.
 */
const struct awsconfig_section *awsconfig_find_profile(const struct awsconfig *c,
							const char *profile,
							enum awsconfig_kind kind);
/* Value of key (matched case-insensitively) or NULL; c or s may be NULL. */
const char *awsconfig_get(const struct awsconfig_section *s, const char *key);

/* An environment variable as the SDKs read it: NULL when unset or empty. */
const char *awsconfig_env(const char *name);

/*
 * Both shared files of the process: AWS_SHARED_CREDENTIALS_FILE (else
 * ~/.aws/credentials) and AWS_CONFIG_FILE (else ~/.aws/config), "~/"
 * expanded as the CLI does. A file that does not exist, or any file with
 * HOME unset, is left NULL: that is no error. The paths are kept to name
 * in reasons.
 */
struct awsconfig_files {
	char credentials_path[PATH_MAX], config_path[PATH_MAX];
	struct awsconfig *credentials, *config;
};

int awsconfig_files_load(struct awsconfig_files *f, char *why, size_t whylen);
void awsconfig_files_free(struct awsconfig_files *f);

#endif
