// SPDX-License-Identifier: GPL-2.0-only
/*
 * upload: stream a file or stdin into one S3 object, optionally zstd
 * compressing on the way, hashing what was read and what was stored, e.g.
 *   dd if=/dev/nvme1n1 bs=4M | forensics-agent upload --zstd - s3://bucket/case/disk.raw.zst
 */
#include "exitcodes.h"
#include "log.h"
#include "subcommands.h"
#include "lib/sink.h"
#include "lib/util.h"
#include "credentials.h"
#include "multipart.h"
#include "s3.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK (1u << 20)
#define MAX_METADATA 8

struct upload_options {
	const char *input;
	const char *uri;
	const char *region;
	const char *profile;
	bool path_style;
	bool zstd;
	int level;
	int threads;
	unsigned int max_attempts;
	long stall_timeout;
	struct s3_upload_options s3;
	struct sigv4_pair metadata[MAX_METADATA];
	char *metadata_text[MAX_METADATA];
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: " AGENT_NAME " upload [options] INPUT|- s3://BUCKET/KEY\n"
		"\n"
		"Stream INPUT (or stdin) into one S3 object with a multipart upload, each part\n"
		"carrying its SHA-256. Nothing is staged on disk.\n"
		"\n"
		"      --zstd              compress with zstd on the way\n"
		"  -l, --level N           zstd level (default 1)\n"
		"  -t, --threads N         zstd worker threads (default 0)\n"
		"      --region R          AWS region (default: AWS_REGION, config, IMDS)\n"
		"      --profile P         shared-config profile (default: AWS_PROFILE or default)\n"
		"      --path-style        path-style addressing (default: virtual-hosted on AWS)\n"
		"      --part-size N       first part size in bytes (default 8 MiB, at least 5 MiB)\n"
		"      --parts-in-flight N parallel part uploads (default %u)\n"
		"      --expected-size N   upper bound of the object's size, to size the parts\n"
		"      --acl ACL           canned ACL (default bucket-owner-full-control)\n"
		"      --sse ALG           server-side encryption: aws:kms or AES256\n"
		"      --sse-kms-key-id K  KMS key for aws:kms\n"
		"      --object-lock-mode M            GOVERNANCE or COMPLIANCE\n"
		"      --object-lock-retain-until T    ISO 8601 date\n"
		"      --metadata NAME=VALUE           user metadata (x-amz-meta-NAME), repeatable\n"
		"      --max-attempts N    tries per request before giving up (default %u)\n"
		"      --stall-timeout S   retry a transfer stuck below 1 KiB/s for S seconds (default %ld)\n"
		"\n"
		"Memory: part size x (parts in flight + 1): 40 MiB with the defaults. Parts\n"
		"double every 1000 parts when the size is unknown, so an object of up to\n"
		"S3's 5 TiB limit fits in 10000 parts.\n",
		S3_DEFAULT_PARTS_IN_FLIGHT, S3_DEFAULT_MAX_ATTEMPTS, S3_LOW_SPEED_TIME_S);
}

static void on_signal(int sig)
{
	stop_requested = sig;
}

static int parse_size(const char *text, unsigned long long min, unsigned long long max,
		      unsigned long long *value)
{
	char *end;

	errno = 0;
	*value = strtoull(text, &end, 0);
	return errno || end == text || *end || *value < min || *value > max ? -EINVAL : 0;
}

static int parse_args(int argc, char *argv[], struct upload_options *o)
{
	enum { OPT_ZSTD = 256, OPT_REGION, OPT_PROFILE, OPT_PATH_STYLE, OPT_PART_SIZE,
	       OPT_IN_FLIGHT, OPT_EXPECTED, OPT_ACL, OPT_SSE, OPT_KMS, OPT_LOCK_MODE,
	       OPT_LOCK_UNTIL, OPT_METADATA, OPT_LOG_FORMAT, OPT_MAX_ATTEMPTS, OPT_STALL };
	static const struct option longopts[] = {
		{ "zstd", no_argument, NULL, OPT_ZSTD },
		{ "level", required_argument, NULL, 'l' },
		{ "threads", required_argument, NULL, 't' },
		{ "region", required_argument, NULL, OPT_REGION },
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "path-style", no_argument, NULL, OPT_PATH_STYLE },
		{ "part-size", required_argument, NULL, OPT_PART_SIZE },
		{ "parts-in-flight", required_argument, NULL, OPT_IN_FLIGHT },
		{ "expected-size", required_argument, NULL, OPT_EXPECTED },
		{ "acl", required_argument, NULL, OPT_ACL },
		{ "sse", required_argument, NULL, OPT_SSE },
		{ "sse-kms-key-id", required_argument, NULL, OPT_KMS },
		{ "object-lock-mode", required_argument, NULL, OPT_LOCK_MODE },
		{ "object-lock-retain-until", required_argument, NULL, OPT_LOCK_UNTIL },
		{ "metadata", required_argument, NULL, OPT_METADATA },
		{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
		{ "max-attempts", required_argument, NULL, OPT_MAX_ATTEMPTS },
		{ "stall-timeout", required_argument, NULL, OPT_STALL },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	unsigned long long v;
	size_t nmeta = 0;
	int c;

	memset(o, 0, sizeof(*o));
	o->level = 1;
	o->s3.object.acl = "bucket-owner-full-control";
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":l:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_ZSTD:
			o->zstd = true;
			break;
		case 'l':
			if (parse_size(optarg, 1, 19, &v))
				goto bad_value;
			o->level = (int)v;
			break;
		case 't':
			if (parse_size(optarg, 0, 64, &v))
				goto bad_value;
			o->threads = (int)v;
			break;
		case OPT_MAX_ATTEMPTS:
			if (parse_size(optarg, 1, 20, &v))
				goto bad_value;
			o->max_attempts = (unsigned int)v;
			break;
		case OPT_STALL:
			if (parse_size(optarg, 1, 3600, &v))
				goto bad_value;
			o->stall_timeout = (long)v;
			break;
		case OPT_REGION:
			o->region = optarg;
			break;
		case OPT_PROFILE:
			o->profile = optarg;
			break;
		case OPT_PATH_STYLE:
			o->path_style = true;
			break;
		case OPT_PART_SIZE:
			if (parse_size(optarg, S3_MIN_PART_SIZE, S3_MAX_PART_SIZE, &v))
				goto bad_value;
			o->s3.part_size = (size_t)v;
			break;
		case OPT_IN_FLIGHT:
			if (parse_size(optarg, 1, 64, &v))
				goto bad_value;
			o->s3.parts_in_flight = (unsigned int)v;
			break;
		case OPT_EXPECTED:
			if (parse_size(optarg, 1, 5ull << 40, &v))
				goto bad_value;
			o->s3.expected_size = v;
			break;
		case OPT_ACL:
			o->s3.object.acl = optarg;
			break;
		case OPT_SSE:
			if (strcmp(optarg, "aws:kms") && strcmp(optarg, "AES256"))
				goto bad_value;
			o->s3.object.sse = optarg;
			break;
		case OPT_KMS:
			o->s3.object.sse_kms_key_id = optarg;
			break;
		case OPT_LOCK_MODE:
			if (strcmp(optarg, "GOVERNANCE") && strcmp(optarg, "COMPLIANCE"))
				goto bad_value;
			o->s3.object.lock_mode = optarg;
			break;
		case OPT_LOCK_UNTIL:
			o->s3.object.lock_retain_until = optarg;
			break;
		case OPT_METADATA: {
			char *eq = strchr(optarg, '=');

			if (!eq || eq == optarg || nmeta == MAX_METADATA)
				goto bad_value;
			o->metadata_text[nmeta] = strndup(optarg, (size_t)(eq - optarg));
			o->metadata[nmeta] = (struct sigv4_pair){ o->metadata_text[nmeta], eq + 1 };
			nmeta++;
			break;
		}
		case OPT_LOG_FORMAT: {
			enum log_format f;

			if (log_format_parse(optarg, &f))
				goto bad_value;
			log_init(f);
			break;
		}
		case 'h':
			usage(stdout);
			return 1;
		case ':':
			log_error("usage", "upload: option '%s' needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			log_error("usage", "upload: unknown option '%s' (try --help)", argv[optind - 1]);
			return -EINVAL;
		}
	}
	o->s3.object.metadata = o->metadata;
	o->s3.object.metadata_count = nmeta;
	if (argc - optind != 2) {
		log_error("usage", "upload: need INPUT and s3://BUCKET/KEY (try --help)");
		return -EINVAL;
	}
	o->input = argv[optind];
	o->uri = argv[optind + 1];
	return 0;
bad_value:
	log_error("usage", "upload: bad value '%s' for %s", optarg, argv[optind - 1]);
	return -EINVAL;
}

int upload_main(int argc, char *argv[])
{
	struct upload_options o;
	struct aws_credential_options copt = { 0 };
	struct aws_credentials_provider *creds = NULL;
	struct s3_client client;
	bool client_ready = false;
	struct sink *upload = NULL, *chain = NULL, *read_hash = NULL, *stored_hash = NULL;
	/* Borrowed views into the chain, which owns them once built. */
	struct sink *upload_ref, *read_hash_ref, *stored_hash_ref;
	char *bucket = NULL, *key = NULL, *region = NULL;
	char why[S3_REASON_MAX] = "";
	unsigned char *buf = NULL;
	int fd = -1, ret, code = EXIT_FAILURE_INTERNAL;

	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret > 0 ? EXIT_OK : EXIT_USAGE;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (s3_uri_parse(o.uri, &bucket, &key, why, sizeof(why)) || !key[0]) {
		log_error("usage", "upload: %s", why[0] ? why : "the S3 URI needs a key");
		code = EXIT_USAGE;
		goto out;
	}
	if (aws_region_resolve(o.region, o.profile, &region, why, sizeof(why))) {
		log_error("region", "upload: %s", why);
		code = EXIT_USAGE;
		goto out;
	}
	copt.profile = o.profile;
	if (aws_credentials_provider_new(&copt, &creds, why, sizeof(why))) {
		log_error("credentials", "upload: %s", why);
		code = EXIT_CREDENTIALS;
		goto out;
	}
	if (s3_client_init(&client, region, bucket, o.path_style, creds, why, sizeof(why))) {
		log_error("usage", "upload: %s", why);
		creds = NULL;
		code = EXIT_USAGE;
		goto out;
	}
	creds = NULL;
	client_ready = true;
	if (o.max_attempts)
		client.max_attempts = o.max_attempts;
	if (o.stall_timeout)
		client.stall_timeout_s = o.stall_timeout;
	fd = strcmp(o.input, "-") ? open(o.input, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	if (fd < 0) {
		log_error("input", "upload: cannot open %s: %s", o.input, strerror(errno));
		code = EXIT_INPUT;
		goto out;
	}
	upload = s3_upload_sink_new(&client, key, &o.s3, &ret);
	stored_hash = sink_sha256_new();
	read_hash = sink_sha256_new();
	if (!upload || !stored_hash || !read_hash)
		goto out;
	upload_ref = upload;
	read_hash_ref = read_hash;
	stored_hash_ref = stored_hash;
	{
		struct sink *outs[2] = { stored_hash, upload };
		struct sink *stored = sink_tee_new(outs, 2);

		stored_hash = upload = NULL;
		if (!stored)
			goto out;
		if (o.zstd) {
			stored = sink_zstd_new(stored, o.level, o.threads, &ret);
			if (!stored)
				goto out;
		}
		outs[0] = read_hash;
		outs[1] = stored;
		chain = sink_tee_new(outs, 2);
		read_hash = NULL;
		if (!chain)
			goto out;
	}
	buf = malloc(READ_CHUNK);
	if (!buf)
		goto out;
	for (;;) {
		ssize_t n = read(fd, buf, READ_CHUNK);

		if (stop_requested) {
			log_error("interrupted", "upload: stopped by signal %d; upload aborted",
				  (int)stop_requested);
			code = EXIT_INTERRUPTED;
			goto out;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_error("input", "upload: reading %s: %s", o.input, strerror(errno));
			code = EXIT_INPUT;
			goto out;
		}
		if (n == 0)
			break;
		ret = sink_write(chain, buf, (size_t)n);
		if (ret)
			break;
	}
	if (!ret)
		ret = sink_finish(chain);
	if (ret) {
		const char *detail = s3_upload_sink_error(upload_ref);

		log_error("upload", "upload: %s: %s; upload aborted", o.uri,
			  detail[0] ? detail : strerror(-ret));
		code = ret == -EACCES ? EXIT_UPLOAD_DENIED : EXIT_UPLOAD;
		goto out;
	}
	{
		const struct s3_upload_result *r = s3_upload_sink_result(upload_ref);
		json_object *f = json_object_new_object();

		json_object_object_add(f, "bucket", json_object_new_string(bucket));
		json_object_object_add(f, "key", json_object_new_string(key));
		json_object_object_add(f, "etag", r->etag ? json_object_new_string(r->etag) : NULL);
		json_object_object_add(f, "version_id",
				       r->version_id ? json_object_new_string(r->version_id) : NULL);
		json_object_object_add(f, "checksum_sha256", r->checksum_sha256 ?
				       json_object_new_string(r->checksum_sha256) : NULL);
		json_object_object_add(f, "parts", json_object_new_int((int)r->parts));
		json_object_object_add(f, "bytes_read", json_object_new_int64((int64_t)chain->bytes));
		json_object_object_add(f, "bytes_stored", json_object_new_int64((int64_t)r->bytes));
		json_object_object_add(f, "sha256_read",
				       json_object_new_string(sink_sha256_hex(read_hash_ref)));
		json_object_object_add(f, "sha256_stored",
				       json_object_new_string(sink_sha256_hex(stored_hash_ref)));
		log_event("info", "uploaded", f, "uploaded %s (%llu bytes in %u parts), sha256 %s",
			  o.uri, (unsigned long long)r->bytes, r->parts,
			  sink_sha256_hex(stored_hash_ref));
	}
	code = EXIT_OK;
out:
	if (fd > STDIN_FILENO)
		close(fd);
	free(buf);
	sink_destroy(chain);
	sink_destroy(upload);
	sink_destroy(stored_hash);
	sink_destroy(read_hash);
	if (client_ready)
		s3_client_free(&client);
	aws_credentials_provider_free(creds);
	for (size_t i = 0; i < MAX_METADATA; i++)
		free(o.metadata_text[i]);
	free(bucket);
	free(key);
	free(region);
	return code;
}
