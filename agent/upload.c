// SPDX-License-Identifier: GPL-2.0-only
/*
 * upload: stream a file or stdin into one S3 object, optionally zstd
 * compressing on the way, hashing what was read and what was stored, e.g.
 *   dd if=/dev/nvme1n1 bs=4M | forensics-agent upload --zstd - s3://bucket/case/disk.raw.zst
 */
#include "base/exitcodes.h"
#include "base/log.h"
#include "aws/endpoint.h"
#include "s3opts.h"
#include "subcommands.h"
#include "base/sink.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK (1u << 20)

struct upload_options {
	const char *input;
	const char *uri;
	bool zstd;
	int level;
	int threads;
	const char *ticket_path;
	struct s3opts s3;
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
		"      --expected-size N   upper bound of the object's size, to size the parts\n"
		"      --ticket FILE       upload through the presigned URLs of a ticket from\n"
		"                          `" AGENT_NAME " presign` (no credentials; the URI\n"
		"                          argument is then the ticket's s3://bucket/key)\n"
		"      --log-format F      auto, text or json\n"
		"\n%s", s3opts_help);
}

static void on_signal(int sig)
{
	stop_requested = sig;
}

static int parse_args(int argc, char *argv[], struct upload_options *o)
{
	enum { OPT_ZSTD = 256, OPT_EXPECTED, OPT_TICKET };
	static const struct option own[] = {
		{ "zstd", no_argument, NULL, OPT_ZSTD },
		{ "level", required_argument, NULL, 'l' },
		{ "threads", required_argument, NULL, 't' },
		{ "expected-size", required_argument, NULL, OPT_EXPECTED },
		{ "log-format", required_argument, NULL, S3OPTS_LOG_FORMAT },
		{ "ticket", required_argument, NULL, OPT_TICKET },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct option longopts[S3OPTS_MERGED_MAX];
	char *end;
	int c;

	s3opts_merge_longopts(own, longopts);
	o->level = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":l:t:h", longopts, NULL)) != -1) {
		int ret;

		switch (c) {
		case OPT_ZSTD:
			o->zstd = true;
			break;
		case OPT_TICKET:
			o->ticket_path = optarg;
			break;
		case 'l':
			o->level = (int)strtol(optarg, &end, 10);
			if (*end || o->level < 1 || o->level > 19)
				goto bad_value;
			break;
		case 't':
			o->threads = (int)strtol(optarg, &end, 10);
			if (*end || o->threads < 0 || o->threads > 64)
				goto bad_value;
			break;
		case OPT_EXPECTED:
			o->s3.upload.expected_size = strtoull(optarg, &end, 0);
			if (*end || !o->s3.upload.expected_size)
				goto bad_value;
			break;
		default:
			ret = s3opts_handle_rest(&o->s3, "upload", c, argv, usage);
			if (ret)
				return ret;
		}
	}
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

/* The size of a regular file or a block device; -ENOTSUP for a pipe. */
static int input_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
		return 0;
	}
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, size) ? -errno : 0;
	return -ENOTSUP;
}

static void log_result(const struct s3_client *c, const char *uri, const char *bucket,
		       const char *key, const struct s3_upload_result *r, uint64_t bytes_read,
		       const char *sha_read, const char *sha_stored)
{
	json_object *f = s3opts_location(c, bucket, key, r);

	json_object_object_add(f, "bytes_read", json_object_new_int64((int64_t)bytes_read));
	json_object_object_add(f, "bytes_stored", json_object_new_int64((int64_t)r->bytes));
	json_object_object_add(f, "sha256_read", json_object_new_string(sha_read));
	json_object_object_add(f, "sha256_stored", json_object_new_string(sha_stored));
	log_event("info", "uploaded", f, "uploaded %s (%llu bytes in %u parts), sha256 %s", uri,
		  (unsigned long long)r->bytes, r->parts, sha_stored);
}

static int failure_code(int err, int read_errno)
{
	if (stop_requested)
		return EXIT_INTERRUPTED;
	if (read_errno)
		return EXIT_INPUT;
	if (err == -EEXIST)
		return EXIT_OUTPUT;
	return s3opts_exit_code(err);
}

/* One error line: why it stopped, then what the bucket holds (settled first). */
static void log_failure(const struct upload_options *o, struct sink *upload, int err,
			int read_errno, int code)
{
	const char *outcome = s3_upload_sink_outcome(upload), *detail;

	if (code == EXIT_INTERRUPTED) {
		log_error("interrupted", "upload: stopped by signal %d; %s", (int)stop_requested,
			  outcome);
	} else if (read_errno) {
		log_error("input", "upload: reading %s: %s; %s", o->input, strerror(read_errno),
			  outcome);
	} else {
		detail = s3_upload_sink_error(upload);
		log_error(code == EXIT_OUTPUT ? "output" : "upload", "upload: %s: %s; %s", o->uri,
			  detail[0] ? detail : strerror(-err), outcome);
	}
}

int upload_main(int argc, char *argv[])
{
	struct upload_options o = { 0 };
	struct s3_client client;
	bool client_ready = false;
	struct sink *upload = NULL, *chain = NULL, *read_hash = NULL, *stored_hash = NULL;
	/* Borrowed views into the chain, which owns them once built. */
	struct sink *upload_ref = NULL, *read_hash_ref = NULL, *stored_hash_ref = NULL;
	char *bucket = NULL, *key = NULL;
	char why[S3_REASON_MAX] = "";
	struct s3_ticket ticket = { 0 };
	bool have_ticket = false;
	unsigned char *buf = NULL;
	char size_text[24];
	uint64_t size;
	int fd = -1, ret = 0, read_errno = 0, code = EXIT_FAILURE_INTERNAL;

	s3opts_init(&o.s3);
	ret = parse_args(argc, argv, &o);
	if (ret) {
		s3opts_free(&o.s3);
		return ret > 0 ? EXIT_OK : EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	code = s3opts_parse_uri("upload", o.uri, &bucket, &key);
	if (code != EXIT_OK)
		goto out;
	code = EXIT_FAILURE_INTERNAL;
	if (o.ticket_path) {
		char *text = NULL;
		size_t len = 0;

		ret = read_whole_file(o.ticket_path, S3_TICKET_MAX_BYTES, &text, &len);
		if (ret) {
			log_error("input", "upload: ticket %s: %s", o.ticket_path, strerror(-ret));
			code = EXIT_INPUT;
			goto out;
		}
		ret = s3_ticket_parse(text, len, &ticket, why, sizeof(why));
		free(text);
		if (ret) {
			log_error("input", "upload: %s: %s", o.ticket_path, why);
			code = EXIT_MALFORMED;
			goto out;
		}
		have_ticket = true;
		if (strcmp(ticket.bucket, bucket) || strcmp(ticket.key, key)) {
			log_error("usage", "upload: the ticket is for s3://%s/%s, not %s", ticket.bucket,
				  ticket.key, o.uri);
			code = EXIT_USAGE;
			goto out;
		}
		o.s3.upload.ticket = &ticket;
		s3_client_init_presigned(&client);
		if (o.s3.max_attempts)
			client.http.max_attempts = o.s3.max_attempts;
		if (o.s3.stall_timeout)
			client.http.stall_timeout_s = o.s3.stall_timeout;
		/* The ticket's URLs name their host: the bundle is found at the first. */
		aws_http_ca_bundle_set(o.s3.ca_bundle);
	} else {
		code = s3opts_open_client(&o.s3, bucket, &client, "upload");
		if (code != EXIT_OK)
			goto out;
	}
	client_ready = true;
	/* Every request, cleanup's too, ends soon after SIGINT or SIGTERM. */
	client.http.stop = &stop_requested;
	code = EXIT_FAILURE_INTERNAL;
	fd = strcmp(o.input, "-") ? open(o.input, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	if (fd < 0) {
		log_error("input", "upload: cannot open %s: %s", o.input, strerror(errno));
		code = EXIT_INPUT;
		goto out;
	}
	/* A file or a disk says its size up front: the object carries it. */
	if (input_size(fd, &size) == 0) {
		snprintf(size_text, sizeof(size_text), "%llu", (unsigned long long)size);
		if (!have_ticket && s3opts_add_metadata(&o.s3, "uncompressed-size", size_text)) {
			log_error("usage", "upload: too many --metadata values");
			code = EXIT_USAGE;
			goto out;
		}
	}
	upload_ref = upload = s3_upload_sink_new(&client, key, &o.s3.upload, &ret);
	stored_hash_ref = stored_hash = sink_sha256_new();
	read_hash_ref = read_hash = sink_sha256_new();
	if (!upload || !stored_hash || !read_hash)
		goto out;
	{
		struct sink *outs[2] = { stored_hash, upload };
		struct sink *stored = sink_tee_new(outs, 2);

		if (!stored)
			goto out;
		stored_hash = upload = NULL;
		if (o.zstd) {
			stored = sink_zstd_new(stored, o.level, o.threads, &ret);
			if (!stored)
				goto out;
		}
		outs[0] = read_hash;
		outs[1] = stored;
		chain = sink_tee_new(outs, 2);
		if (!chain) {
			sink_destroy(stored);
			goto out;
		}
		read_hash = NULL;
	}
	buf = malloc(READ_CHUNK);
	if (!buf)
		goto out;
	for (;;) {
		/* Waits in short polls: a signal is seen even on a quiet pipe. */
		ssize_t n = wait_ready(fd, POLLIN) ? -1 : read(fd, buf, READ_CHUNK);

		if (stop_requested)
			goto failed;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			read_errno = errno;
			goto failed;
		}
		if (n == 0)
			break;
		ret = sink_write(chain, buf, (size_t)n);
		if (ret)
			break;
	}
	if (!ret)
		ret = sink_finish(chain);
	if (ret)
		goto failed;
	/* A ticket holder has no credentials to tag with; its creator can. */
	if (!have_ticket)
		s3opts_tag_digests(&client, bucket, s3_upload_sink_result(upload_ref),
				   sink_sha256_hex(read_hash_ref),
				   o.zstd ? sink_sha256_hex(stored_hash_ref) : NULL);
	log_result(&client, o.uri, bucket, key, s3_upload_sink_result(upload_ref), chain->bytes,
		   sink_sha256_hex(read_hash_ref), sink_sha256_hex(stored_hash_ref));
	if (s3_upload_sink_result(upload_ref)->stray_possible)
		log_warn("upload", "upload: %s", s3_upload_sink_outcome(upload_ref));
	code = EXIT_OK;
	goto out;
failed:
	code = failure_code(ret, read_errno);
	/* Stopped once the object was whole: what was stored is said, then why it stopped. */
	if (s3_upload_sink_settle(upload_ref) == S3_UPLOAD_COMPLETE && !read_errno)
		log_result(&client, o.uri, bucket, key, s3_upload_sink_result(upload_ref), chain->bytes,
			   sink_sha256_hex(read_hash_ref), sink_sha256_hex(stored_hash_ref));
	log_failure(&o, upload_ref, ret, read_errno, code);
out:
	if (fd > STDIN_FILENO)
		close(fd);
	free(buf);
	/* Destroying an unfinished upload sink aborts the multipart upload. */
	sink_destroy(chain);
	sink_destroy(upload);
	sink_destroy(stored_hash);
	sink_destroy(read_hash);
	if (client_ready)
		s3_client_free(&client);
	s3opts_free(&o.s3);
	if (have_ticket)
		s3_ticket_free(&ticket);
	free(bucket);
	free(key);
	return code;
}
