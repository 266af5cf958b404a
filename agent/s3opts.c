// SPDX-License-Identifier: GPL-2.0-only
#include "s3opts.h"
#include "cliopts.h"
#include "base/exitcodes.h"
#include "base/log.h"
#include "aws/tagging.h"
#include "aws/region.h"
#include "base/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_REGION = S3OPTS_FIRST, OPT_PROFILE, OPT_PATH_STYLE, OPT_PART_SIZE, OPT_IN_FLIGHT,
	OPT_ACL, OPT_SSE, OPT_KMS, OPT_LOCK_MODE, OPT_LOCK_UNTIL, OPT_METADATA,
	OPT_MAX_ATTEMPTS, OPT_STALL, OPT_CA_BUNDLE, OPT_OVERWRITE,
};

const struct option s3opts_longopts[] = {
	{ "region", required_argument, NULL, OPT_REGION },
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "path-style", no_argument, NULL, OPT_PATH_STYLE },
	{ "part-size", required_argument, NULL, OPT_PART_SIZE },
	{ "parts-in-flight", required_argument, NULL, OPT_IN_FLIGHT },
	{ "acl", required_argument, NULL, OPT_ACL },
	{ "sse", required_argument, NULL, OPT_SSE },
	{ "sse-kms-key-id", required_argument, NULL, OPT_KMS },
	{ "object-lock-mode", required_argument, NULL, OPT_LOCK_MODE },
	{ "object-lock-retain-until", required_argument, NULL, OPT_LOCK_UNTIL },
	{ "metadata", required_argument, NULL, OPT_METADATA },
	{ "max-attempts", required_argument, NULL, OPT_MAX_ATTEMPTS },
	{ "stall-timeout", required_argument, NULL, OPT_STALL },
	{ "ca-bundle", required_argument, NULL, OPT_CA_BUNDLE },
	{ "overwrite", no_argument, NULL, OPT_OVERWRITE },
	{ 0 }
};

const char s3opts_help[] =
	"S3 (for s3://BUCKET/KEY destinations):\n"
	"      --region R          AWS region (default: AWS_REGION, config, IMDS)\n"
	"      --profile P         shared-config profile (default: AWS_PROFILE or default)\n"
	"      --path-style        path-style addressing (default: virtual-hosted on AWS)\n"
	"      --part-size N       first part size in bytes (default 8 MiB, at least 5 MiB)\n"
	"      --parts-in-flight N parallel part uploads (default 4)\n"
	"      --acl ACL           canned ACL (default bucket-owner-full-control)\n"
	"      --sse ALG           server-side encryption: aws:kms or AES256\n"
	"      --sse-kms-key-id K  KMS key for aws:kms\n"
	"      --object-lock-mode M            GOVERNANCE or COMPLIANCE\n"
	"      --object-lock-retain-until T    ISO 8601 date\n"
	"      --metadata NAME=VALUE           user metadata (x-amz-meta-NAME), repeatable\n"
	"      --max-attempts N    tries per request before giving up (default 8)\n"
	"      --stall-timeout S   retry a transfer stuck below 1 KiB/s for S seconds (default 30)\n"
	"      --ca-bundle FILE    CA certificates to verify S3 with (default: AWS_CA_BUNDLE,\n"
	"                          SSL_CERT_FILE, SSL_CERT_DIR, else the distribution's bundle)\n"
	"      --overwrite         replace evidence already at the key (default: never; an\n"
	"                          existing object is an error, exit 4)\n"
	"  Memory: part size x (parts in flight + 1), 40 MiB with the defaults. With no\n"
	"  size known, parts double every 1000 parts, so S3's 5 TiB limit fits in 10000.\n";

void s3opts_merge_longopts(const struct option *own, struct option *all)
{
	size_t n = 0;

	for (size_t i = 0; own[i].name && n < S3OPTS_MERGED_MAX - 1; i++)
		all[n++] = own[i];
	for (size_t i = 0; s3opts_longopts[i].name && n < S3OPTS_MERGED_MAX - 1; i++)
		all[n++] = s3opts_longopts[i];
	memset(&all[n], 0, sizeof(all[n]));
}

void s3opts_init(struct s3opts *o)
{
	memset(o, 0, sizeof(*o));
	o->upload.object.acl = "bucket-owner-full-control";
	o->upload.object.metadata = o->metadata;
}

int s3opts_add_metadata(struct s3opts *o, const char *name, const char *value)
{
	size_t n = o->upload.object.metadata_count;

	if (n == S3OPTS_MAX_METADATA)
		return -E2BIG;
	o->metadata_names[n] = strdup(name);
	if (!o->metadata_names[n])
		return -ENOMEM;
	o->metadata[n] = (struct sigv4_pair){ o->metadata_names[n], value };
	o->upload.object.metadata_count++;
	return 0;
}

/* The numeric options' bounds: checked before any is stored. */
static const struct {
	int code;
	long long min, max;
} number_bounds[] = {
	{ OPT_PART_SIZE, S3_MIN_PART_SIZE, S3_MAX_PART_SIZE },
	{ OPT_IN_FLIGHT, 1, 64 },
	{ OPT_MAX_ATTEMPTS, 1, 20 },
	{ OPT_STALL, 1, 3600 },
};

/* The options that take one of two words. */
static const struct {
	int code;
	const char *words[2];
} word_choices[] = {
	{ OPT_SSE, { "aws:kms", "AES256" } },
	{ OPT_LOCK_MODE, { "GOVERNANCE", "COMPLIANCE" } },
};

int s3opts_handle(struct s3opts *o, int code, const char *arg)
{
	long long v = 0;

	for (size_t i = 0; i < ARRAY_SIZE(number_bounds); i++)
		if (code == number_bounds[i].code &&
		    cliopts_number(arg, 0, number_bounds[i].min, number_bounds[i].max, &v))
			return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(word_choices); i++)
		if (code == word_choices[i].code && strcmp(arg, word_choices[i].words[0]) &&
		    strcmp(arg, word_choices[i].words[1]))
			return -EINVAL;
	switch (code) {
	case OPT_REGION:
		o->region = arg;
		return 1;
	case OPT_PROFILE:
		o->profile = arg;
		return 1;
	case OPT_PATH_STYLE:
		o->path_style = true;
		return 1;
	case OPT_PART_SIZE:
		o->upload.part_size = (size_t)v;
		return 1;
	case OPT_IN_FLIGHT:
		o->upload.parts_in_flight = (unsigned int)v;
		return 1;
	case OPT_ACL:
		o->upload.object.acl = arg;
		return 1;
	case OPT_SSE:
		o->upload.object.sse = arg;
		return 1;
	case OPT_KMS:
		o->upload.object.sse_kms_key_id = arg;
		return 1;
	case OPT_LOCK_MODE:
		o->upload.object.lock_mode = arg;
		return 1;
	case OPT_LOCK_UNTIL:
		o->upload.object.lock_retain_until = arg;
		return 1;
	case OPT_METADATA: {
		const char *eq = strchr(arg, '=');
		char *name;
		int ret;

		if (!eq || eq == arg)
			return -EINVAL;
		name = strndup(arg, (size_t)(eq - arg));
		if (!name)
			return -ENOMEM;
		ret = s3opts_add_metadata(o, name, eq + 1);
		free(name);
		return ret ? -EINVAL : 1;
	}
	case OPT_MAX_ATTEMPTS:
		o->max_attempts = (unsigned int)v;
		return 1;
	case OPT_STALL:
		o->stall_timeout = (long)v;
		return 1;
	case OPT_CA_BUNDLE:
		if (!*arg)
			return -EINVAL;
		o->ca_bundle = arg;
		return 1;
	case OPT_OVERWRITE:
		o->upload.overwrite = true;
		return 1;
	}
	return 0;
}

int s3opts_handle_rest(struct s3opts *o, const char *who, int code, char *const argv[],
		       void (*usage)(FILE *out))
{
	int handled = s3opts_handle(o, code, optarg);

	if (handled > 0)
		return 0;
	if (!handled && code == S3OPTS_LOG_FORMAT)
		handled = log_set_format(optarg) ? -EINVAL : 0;
	if (handled < 0) {
		log_error("usage", "%s: bad value '%s' for %s", who, optarg, argv[optind - 1]);
		return -EINVAL;
	}
	if (code == S3OPTS_LOG_FORMAT)
		return 0;
	if (code == 'h') {
		usage(stdout);
		return 1;
	}
	log_option_error(who, code, argv[optind - 1]);
	return -EINVAL;
}

int s3opts_parse_uri(const char *who, const char *uri, char **bucket, char **key)
{
	char why[S3_REASON_MAX] = "";

	if (s3_uri_parse(uri, bucket, key, why, sizeof(why)) || !(*key)[0]) {
		log_error("usage", "%s: %s", who, why[0] ? why : "the S3 URI needs a key");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

void s3opts_free(struct s3opts *o)
{
	for (size_t i = 0; i < S3OPTS_MAX_METADATA; i++)
		free(o->metadata_names[i]);
	memset(o->metadata_names, 0, sizeof(o->metadata_names));
}

int s3opts_exit_code(int err)
{
	if (err == -AWS_HTTP_ENOTRUST)
		return EXIT_TLS;
	return err == -EACCES ? EXIT_UPLOAD_DENIED : EXIT_UPLOAD;
}

int s3opts_trust(struct s3opts *o, struct s3_client *client, const char *who)
{
	static const struct aws_trust *said;
	const struct aws_trust *trust;
	char why[S3_REASON_MAX] = "";

	aws_http_ca_bundle_set(o->ca_bundle);
	if (aws_http_client_trust(&client->http, &trust, why, sizeof(why))) {
		log_error("tls", "%s: %s", who, why);
		return EXIT_TLS;
	}
	/* One line per process: the bundle is the same for every client (module store, output). */
	if (trust && trust != said) {
		log_info("tls", "%s: verifying %s with the CA %s %s (from %s)", who,
			 client->http.endpoint.host, trust->is_dir ? "directory" : "bundle",
			 trust->path, trust->source);
		said = trust;
	}
	return EXIT_OK;
}

int s3opts_open_client(struct s3opts *o, const char *bucket, struct s3_client *client,
		       const char *who)
{
	struct aws_credential_options copt = { .profile = o->profile };
	struct aws_credentials_provider *creds = NULL;
	char why[S3_REASON_MAX] = "", *region = NULL;
	int code;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (aws_region_resolve(o->region, o->profile, &region, why, sizeof(why))) {
		log_error("region", "%s: %s", who, why);
		return EXIT_USAGE;
	}
	if (aws_credentials_provider_new(&copt, &creds, why, sizeof(why))) {
		log_error("credentials", "%s: %s", who, why);
		free(region);
		return EXIT_CREDENTIALS;
	}
	/* The client owns the credentials from here, even when it fails. */
	if (s3_client_init(client, region, bucket, o->path_style, creds, why, sizeof(why))) {
		log_error("usage", "%s: %s", who, why);
		free(region);
		return EXIT_USAGE;
	}
	free(region);
	if (o->max_attempts)
		client->http.max_attempts = o->max_attempts;
	if (o->stall_timeout)
		client->http.stall_timeout_s = o->stall_timeout;
	/* Before anything is read or captured: a host without a bundle fails at once. */
	code = s3opts_trust(o, client, who);
	if (code != EXIT_OK)
		s3_client_free(client);
	return code;
}

json_object *s3opts_location(const struct s3_client *c, const char *bucket, const char *key,
			     const struct s3_upload_result *r)
{
	json_object *o = json_object_new_object();
	const struct aws_trust *trust = c->http.trust;

	json_object_object_add(o, "bucket", json_object_new_string(bucket));
	json_object_object_add(o, "key", json_object_new_string(key));
	json_object_object_add(o, "etag", r->etag ? json_object_new_string(r->etag) : NULL);
	json_object_object_add(o, "version_id",
			       r->version_id ? json_object_new_string(r->version_id) : NULL);
	json_object_object_add(o, "checksum_sha256", r->checksum_sha256 ?
			       json_object_new_string(r->checksum_sha256) : NULL);
	json_object_object_add(o, "parts", json_object_new_int((int)r->parts));
	if (trust)
		json_object_object_add(o, "tls", aws_trust_json(trust));
	return o;
}

bool s3opts_tag_digests(struct s3_client *c, const char *bucket, const struct s3_upload_result *r,
			const char *sha256, const char *object_sha256)
{
	struct sigv4_pair tags[2];
	char why[S3_REASON_MAX] = "";
	size_t n = 0;

	if (sha256)
		tags[n++] = (struct sigv4_pair){ "sha256", sha256 };
	if (object_sha256)
		tags[n++] = (struct sigv4_pair){ "object-sha256", object_sha256 };
	if (s3_object_tag(c, r->key, r->version_id, tags, n, why, sizeof(why))) {
		log_warn("tagging", "cannot tag s3://%s/%s with its SHA-256 (%s); it is kept elsewhere",
			 bucket, r->key, why);
		return false;
	}
	return true;
}
