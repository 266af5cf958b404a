/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The S3 options shared by every subcommand that writes to S3 (acquire,
 * upload): one table, one parser, one help text, one way to open a client.
 */
#ifndef FORENSICS_AGENT_S3OPTS_H
#define FORENSICS_AGENT_S3OPTS_H

#include "aws/multipart.h"
#include "aws/s3.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>

#define S3OPTS_MAX_METADATA 8
#define S3OPTS_FIRST 1000  /* getopt codes of these options start here */
/* The getopt code upload and presign give --log-format. */
#define S3OPTS_LOG_FORMAT (S3OPTS_FIRST - 1)

struct s3opts {
	const char *region;
	const char *profile;
	bool path_style;
	unsigned int max_attempts;
	long stall_timeout;
	const char *ca_bundle;          /* --ca-bundle, or NULL */
	struct s3_upload_options upload;
	struct sigv4_pair metadata[S3OPTS_MAX_METADATA];
	char *metadata_names[S3OPTS_MAX_METADATA];
};

#define S3OPTS_MERGED_MAX 48

extern const struct option s3opts_longopts[];
/*
 * A subcommand's own options (terminated by a zero entry) followed by the S3
 * ones, into all[S3OPTS_MERGED_MAX], terminated: one table for getopt_long.
 */
void s3opts_merge_longopts(const struct option *own, struct option *all);
extern const char s3opts_help[];

void s3opts_init(struct s3opts *o);
/* Handles a getopt code from s3opts_longopts: 1 handled, 0 not ours, -EINVAL bad value. */
int s3opts_handle(struct s3opts *o, int code, const char *arg);
/*
 * What upload and presign do with a getopt code that is not their own: an
 * S3 option, --log-format (S3OPTS_LOG_FORMAT), --help (usage on stdout) or
 * getopt's complaint. 0 to go on, 1 after --help, -EINVAL after logging a
 * bad value or option.
 */
int s3opts_handle_rest(struct s3opts *o, const char *who, int code, char *const argv[],
		       void (*usage)(FILE *out));
/*
 * An s3://BUCKET/KEY argument (a key required) into *bucket and *key (the
 * caller frees them, also on failure). EXIT_OK, or EXIT_USAGE after logging.
 */
int s3opts_parse_uri(const char *who, const char *uri, char **bucket, char **key);
/* Adds a metadata pair the program computes (case id, instance id...). */
int s3opts_add_metadata(struct s3opts *o, const char *name, const char *value);
void s3opts_free(struct s3opts *o);

/*
 * Tag a finished object with the digests only known at its end ("sha256" of
 * what was read, "object-sha256" of the stored bytes when they differ):
 * user metadata is fixed at creation. A failure costs nothing the manifest
 * or the log does not hold, so it is logged as a warning and returns false.
 */
bool s3opts_tag_digests(struct s3_client *c, const char *bucket, const struct s3_upload_result *r,
			const char *sha256, const char *object_sha256);

/*
 * Where an upload landed, as the manifest and the log say it: a new object
 * with bucket, key, etag, version_id, checksum_sha256 (S3's own) and parts;
 * over https also tls: the CA bundle (or ca_path, a directory) c verified S3
 * with and where it was named.
 */
json_object *s3opts_location(const struct s3_client *c, const char *bucket, const char *key,
			     const struct s3_upload_result *r);

/*
 * --ca-bundle for every client of the process, and the bundle client's
 * endpoint is verified with, said in one log line: EXIT_OK, or EXIT_TLS after
 * logging why there is none. A plain http endpoint needs none.
 */
int s3opts_trust(struct s3opts *o, struct s3_client *client, const char *who);
/* An S3 write's failure (-EACCES, -AWS_HTTP_ENOTRUST, ...) as an exit code. */
int s3opts_exit_code(int err);

/*
 * Resolve region, credentials and (for https) the CA bundle, and open a
 * client for bucket. Returns an exit code (EXIT_OK on success, the client
 * then to be freed) after logging one line on failure.
 */
int s3opts_open_client(struct s3opts *o, const char *bucket, struct s3_client *client,
		       const char *who);

#endif
