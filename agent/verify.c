// SPDX-License-Identifier: GPL-2.0-only
/*
 * verify: check that an image is a well-formed LiME stream (zstd or plain)
 * and that it is the image its manifest describes: same ranges, sizes and
 * SHA-256 hashes. The image is read once, as a stream, so a 1 TiB capture
 * is verified in the same few MiB of memory as a small one, and from a pipe.
 */
#include "base/exitcodes.h"
#include "base/log.h"
#include "cliopts.h"
#include "subcommands.h"
#include "verify.h"
#include "aws/download.h"
#include "aws/endpoint.h"
#include "s3opts.h"
#include "capture/image_reader.h"
#include "capture/manifest.h"
#include "capture/lime.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/mman.h>
#include <limits.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Ranges itemized in the report. Real captures have hundreds; a hostile
 * stream of 33-byte ranges must not turn into gigabytes of bookkeeping, so
 * past this only the counts stay exact.
 */
#define VERIFY_REPORT_MAX_RANGES 65536
/* Smaller images verify in moments; a progress bar would only be noise. */
#define VERIFY_PROGRESS_MIN_BYTES (256ull << 20)
#define usage_error(...) cliopts_usage_error("verify", __VA_ARGS__)

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: %s verify [--manifest FILE] [--json] IMAGE\n"
		"\n"
		"Check that IMAGE (a path, or - for stdin; zstd or plain) is a well-formed\n"
		"LiME stream and matches its manifest: ranges, sizes and SHA-256 hashes.\n"
		"The manifest defaults to IMAGE" MANIFEST_SUFFIX " when that exists; without\n"
		"one only the structure is checked and the computed hashes are printed.\n"
		"\n"
		"  --manifest FILE     compare against FILE\n"
		"  --json              print the report as one JSON object\n"
		"  --log-format FMT    stderr messages: auto (default), text or json\n"
		"  --ca-bundle FILE    for an s3:// IMAGE: CA certificates to verify S3 with\n"
		"                      (default: AWS_CA_BUNDLE, SSL_CERT_FILE, SSL_CERT_DIR,\n"
		"                      else the distribution's bundle)\n"
		"  -h, --help          show this help\n"
		"\n"
		"Exit codes: 0 ok, 2 usage, 6 differs from the manifest, 7 malformed image,\n"
		"zstd stream or manifest, 8 image or manifest unreadable, 13 TLS (no CA\n"
		"bundle, or S3's certificate not trusted).\n",
		AGENT_NAME);
}

static int add_entry(struct verify *v, const struct mem_range *range, enum range_status status,
		     uint64_t manifest_end)
{
	if (v->entry_count == VERIFY_REPORT_MAX_RANGES) {
		v->entries_dropped++;
		return 0;
	}
	if (v->entry_count == v->entry_capacity) {
		size_t cap = v->entry_capacity ? v->entry_capacity * 2 : 64;
		struct range_entry *items = realloc(v->entries, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		v->entries = items;
		v->entry_capacity = cap;
	}
	v->entries[v->entry_count++] = (struct range_entry){ *range, manifest_end, status };
	return 0;
}

/* Manifest ranges below start that no image range claimed. */
static int flush_missing(struct verify *v, uint64_t below, bool all)
{
	const struct range_list *list = &v->manifest.ranges;

	while (v->next_manifest < list->count &&
	       (all || list->items[v->next_manifest].start < below)) {
		int ret = add_entry(v, &list->items[v->next_manifest++], RANGE_MISSING, 0);

		if (ret)
			return ret;
		v->missing++;
	}
	return 0;
}

/*
 * Both lists ascend (the LiME reader and the manifest parser enforce it), so
 * they are compared as a merge while the image streams past.
 */
static int on_range_begin(void *ctx, const struct mem_range *range, uint64_t header_offset)
{
	struct verify *v = ctx;
	const struct range_list *list = &v->manifest.ranges;
	const struct mem_range *theirs;
	int ret;

	v->image_ranges++;
	if (!v->have_manifest)
		return add_entry(v, range, RANGE_NOT_COMPARED, 0);
	ret = flush_missing(v, range->start, false);
	if (ret)
		return ret;
	if (v->next_manifest == list->count || list->items[v->next_manifest].start != range->start) {
		v->not_in_manifest++;
		return add_entry(v, range, RANGE_NOT_IN_MANIFEST, 0);
	}
	theirs = &list->items[v->next_manifest++];
	if (theirs->end == range->end) {
		v->matched++;
		return add_entry(v, range, RANGE_MATCH, 0);
	}
	v->differing++;
	return add_entry(v, range, RANGE_DIFFERS, theirs->end);
}

static const struct lime_reader_ops verify_lime_ops = {
	.range_begin = on_range_begin,
};

static int feed_lime(void *ctx, const void *buf, size_t len)
{
	struct verify *v = ctx;

	return lime_reader_feed(&v->lime, buf, len);
}

static void show_progress(void *ctx, uint64_t done, uint64_t total)
{
	log_progress("verify", done, total);
}

static void note_mismatch(struct verify *v, enum check_state *check, const char *name,
			  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void note_mismatch(struct verify *v, enum check_state *check, const char *name,
			  const char *fmt, ...)
{
	size_t used = strlen(v->mismatch);
	va_list ap;

	*check = CHECK_MISMATCH;
	json_object_array_add(v->mismatch_names, json_object_new_string(name));
	if (used && used < sizeof(v->mismatch) - 2) {
		strcpy(v->mismatch + used, "; ");
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(v->mismatch + used, sizeof(v->mismatch) - used, fmt, ap);
	va_end(ap);
}

/* One stream's size and digest against the manifest's <kind>_bytes and sha256_<kind>. */
static void compare_stream(struct verify *v, enum check_state *bytes_check,
			   enum check_state *sha_check, const char *kind, const char *what,
			   uint64_t bytes, uint64_t want_bytes, const char *sha,
			   const char *want_sha)
{
	char name[32];

	*bytes_check = CHECK_MATCH;
	snprintf(name, sizeof(name), "%s_bytes", kind);
	if (bytes != want_bytes)
		note_mismatch(v, bytes_check, name,
			      "%s is %" PRIu64 " bytes, the manifest says %" PRIu64, what, bytes,
			      want_bytes);
	*sha_check = CHECK_MATCH;
	snprintf(name, sizeof(name), "sha256_%s", kind);
	if (strcmp(sha, want_sha))
		note_mismatch(v, sha_check, name, "sha256 of the %s is %s, the manifest says %s",
			      what, sha, want_sha);
}

static void compare(struct verify *v)
{
	const struct image_manifest *m = &v->manifest;
	const struct image_reader *r = &v->reader;

	if (!v->have_manifest)
		return;
	v->ranges = CHECK_MATCH;
	if (v->differing || v->not_in_manifest || v->missing)
		note_mismatch(v, &v->ranges, "ranges",
			      "range list differs from the manifest (%" PRIu64 " of %" PRIu64
			      " image ranges match; %" PRIu64 " end elsewhere, %" PRIu64
			      " not in the manifest, %" PRIu64 " missing from the image)",
			      v->matched, v->image_ranges, v->differing, v->not_in_manifest,
			      v->missing);
	compare_stream(v, &v->lime_bytes, &v->lime_sha, "uncompressed", "LiME stream", r->data_bytes,
		       m->uncompressed_bytes, r->data_sha256, m->sha256_uncompressed);
	/*
	 * A decompressed copy checked against the original's manifest (or the
	 * reverse) is still verified by the LiME hash; the file hash describes
	 * another file and is not compared.
	 */
	if (!r->compressed || !m->compressed)
		return;
	compare_stream(v, &v->file_bytes, &v->file_sha, "compressed", "compressed file",
		       r->file_bytes, m->compressed_bytes, r->file_sha256, m->sha256_compressed);
}

static int run(struct verify *v)
{
	char err[IMAGE_ERROR_MAX], hintbuf[IMAGE_HINT_MAX];
	const char *hint;
	bool ok;
	int ret;

	ret = image_reader_open(&v->reader, v->image_path);
	if (ret)
		return verify_fail(v, ret == -ENOMEM ? EXIT_FAILURE_INTERNAL : EXIT_INPUT, "input",
			    "input_error", "%s: %s", v->image_name, v->reader.error);
	if (v->manifest_path) {
		ret = image_manifest_load(v->manifest_path, &v->manifest, err, sizeof(err));
		if (ret == -EBADMSG)
			return verify_fail(v, EXIT_MALFORMED, "malformed", "malformed",
				    "%s: malformed manifest: %s", v->manifest_path, err);
		if (ret)
			return verify_fail(v, EXIT_INPUT, "input", "input_error", "%s: %s",
				    v->manifest_path, err);
		v->have_manifest = true;
	}
	if (v->reader.size_known && v->reader.file_size >= VERIFY_PROGRESS_MIN_BYTES) {
		v->reader.progress = show_progress;
		v->progress = true;
	}
	lime_reader_init(&v->lime, &verify_lime_ops, v);
	ret = image_reader_run(&v->reader, feed_lime, v);
	if (v->progress)
		log_progress_done();
	/* A name that says otherwise than the bytes: said beside a failure, warned about if not. */
	hint = image_reader_hint(&v->reader, hintbuf, sizeof(hintbuf));
	if (ret) {
		switch (v->reader.failure) {
		case IMAGE_READER_INPUT:
			return verify_fail(v, EXIT_INPUT, "input", "input_error", "%s: %s", v->image_name,
				    v->reader.error);
		case IMAGE_READER_ZSTD:
			return verify_fail(v, EXIT_MALFORMED, "malformed", "malformed", "%s: %s%s%s",
				    v->image_name, v->reader.error, hint ? "; " : "", hint ?: "");
		case IMAGE_READER_CALLBACK:
			if (ret == -EBADMSG)
				return verify_fail(v, EXIT_MALFORMED, "malformed", "malformed",
					    "%s: %s%s%s", v->image_name, v->lime.error,
					    hint ? "; " : "", hint ?: "");
			return verify_fail(v, EXIT_FAILURE_INTERNAL, "internal", "internal_error",
				    "%s: %s", v->image_name, strerror(-ret));
		default:
			return verify_fail(v, EXIT_FAILURE_INTERNAL, "internal", "internal_error",
				    "%s: %s", v->image_name, v->reader.error);
		}
	}
	ret = lime_reader_finish(&v->lime);
	if (ret)
		return verify_fail(v, EXIT_MALFORMED, "malformed", "malformed", "%s: %s%s%s",
			    v->image_name, v->lime.error, hint ? "; " : "", hint ?: "");
	if (hint)
		log_warn("name", "verify: %s: %s", v->image_name, hint);
	if (v->have_manifest && flush_missing(v, 0, true))
		return verify_fail(v, EXIT_FAILURE_INTERNAL, "internal", "internal_error",
			    "out of memory");
	compare(v);
	ok = !v->mismatch[0];
	if (v->json)
		verify_print_json(v, ok, ok ? EXIT_OK : EXIT_MISMATCH);
	else
		verify_print_human(v, ok);
	if (!ok) {
		char message[VERIFY_MESSAGE_MAX + PATH_MAX];

		fflush(stdout);
		snprintf(message, sizeof(message), "%s: does not match manifest %s: %s",
			 v->image_name, v->manifest_path, v->mismatch);
		verify_log_failure(v, EXIT_MISMATCH, "mismatch", message);
		return EXIT_MISMATCH;
	}
	if (fflush(stdout) || ferror(stdout)) {
		verify_log_failure(v, EXIT_OUTPUT, "output", "cannot write the report to stdout");
		return EXIT_OUTPUT;
	}
	return EXIT_OK;
}

enum {
	OPT_MANIFEST = 0x100,
	OPT_JSON,
};

static const struct option verify_options[] = {
	{ "manifest", required_argument, NULL, OPT_MANIFEST },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "log-format", required_argument, NULL, CLIOPTS_LOG_FORMAT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

#define VERIFY_MANIFEST_MAX (16u << 20)

/* An S3 object's bytes as a path the manifest loader can open: a memfd, never disk. */
static int fetch_manifest(struct s3_client *c, const char *key, int *memfd, char *path,
			  size_t pathlen, char *why, size_t whylen)
{
	char *body = NULL;
	size_t len = 0;
	int ret = s3_get_small(c, key, VERIFY_MANIFEST_MAX, &body, &len, why, whylen);

	if (ret)
		return ret;
	*memfd = memfd_create("manifest", MFD_CLOEXEC);
	if (*memfd < 0 || write_all(*memfd, body, len)) {
		free(body);
		return -EIO;
	}
	free(body);
	snprintf(path, pathlen, "/proc/self/fd/%d", *memfd);
	return 0;
}

/*
 * verify s3://bucket/key: the object streams through a pipe from parallel
 * ranged GETs; its manifest (key.manifest.json unless --manifest) comes
 * into memory.
 */
static int verify_s3(struct verify *v, struct s3opts *s3, const char *uri)
{
	char why[S3_REASON_MAX] = "", image_fd_path[64], manifest_fd_path[64];
	char *bucket = NULL, *key = NULL, *manifest_key = NULL;
	struct s3_download download = { 0 };
	struct s3_client client;
	int pipefd[2] = { -1, -1 }, memfd = -1, code, ret;

	if (s3_uri_parse(uri, &bucket, &key, why, sizeof(why)) || !key[0]) {
		code = usage_error("%s", why[0] ? why : "the S3 URI needs a key");
		goto out_free;
	}
	code = s3opts_open_client(s3, bucket, &client, "verify");
	if (code != EXIT_OK)
		goto out_free;
	if (!v->manifest_path || !strncmp(v->manifest_path, "s3://", 5)) {
		const char *mkey;

		if (v->manifest_path) {
			free(bucket);
			bucket = NULL;
			if (s3_uri_parse(v->manifest_path, &bucket, &manifest_key, why, sizeof(why))) {
				code = usage_error("--manifest: %s", why);
				goto out;
			}
			mkey = manifest_key;
		} else if (asprintf(&manifest_key, "%s%s", key, MANIFEST_SUFFIX) < 0) {
			code = EXIT_FAILURE_INTERNAL;
			goto out;
		} else {
			mkey = manifest_key;
		}
		ret = fetch_manifest(&client, mkey, &memfd, manifest_fd_path,
				     sizeof(manifest_fd_path), why, sizeof(why));
		if (!ret) {
			v->manifest_path = manifest_fd_path;
		} else if (v->manifest_path) {
			log_error("input", "verify: manifest %s: %s", v->manifest_path, why);
			code = EXIT_INPUT;
			goto out;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (pipe2(pipefd, O_CLOEXEC)) {
		code = EXIT_FAILURE_INTERNAL;
		goto out;
	}
	if (s3_download_start(&download, &client, key, pipefd[1])) {
		log_error("input", "verify: %s: %s", uri, download.why);
		close(pipefd[1]);
		code = download.error == -EACCES ? EXIT_UPLOAD_DENIED :
		       download.error == -AWS_HTTP_ENOTRUST ? EXIT_TLS : EXIT_INPUT;
		goto out;
	}
	snprintf(image_fd_path, sizeof(image_fd_path), "/proc/self/fd/%d", pipefd[0]);
	v->image_path = image_fd_path;
	v->image_name = uri;
	code = run(v);
	/* A reader that stopped early must not leave the downloader blocked on the pipe. */
	image_reader_close(&v->reader);
	close(pipefd[0]);
	pipefd[0] = -1;
	if (s3_download_finish(&download) && code == EXIT_OK) {
		log_error("input", "verify: %s: %s", uri, download.why);
		code = EXIT_INPUT;
	}
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (memfd >= 0)
		close(memfd);
	s3_client_free(&client);
out_free:
	free(bucket);
	free(key);
	free(manifest_key);
	return code;
}

int verify_main(int argc, char *argv[])
{
	struct verify v = { 0 };
	char *default_manifest = NULL;
	struct s3opts s3;
	struct option all[S3OPTS_MERGED_MAX];
	int opt, code;

	s3opts_merge_longopts(verify_options, all);
	s3opts_init(&s3);
	optind = 1;
	opterr = 0;   /* our own one-line messages, in the log format */
	while ((opt = getopt_long(argc, argv, ":h", all, NULL)) != -1) {
		int handled = s3opts_handle(&s3, opt, optarg);

		if (handled < 0)
			return usage_error("bad value '%s' for %s", optarg, argv[optind - 1]);
		if (handled)
			continue;
		switch (opt) {
		case OPT_MANIFEST:
			v.manifest_path = optarg;
			break;
		case OPT_JSON:
			v.json = true;
			break;
		default:
			code = cliopts_image_common("verify", opt, argv, usage);
			if (code != CLIOPTS_CONTINUE)
				return code;
		}
	}
	if (optind == argc)
		return usage_error("missing IMAGE");
	if (argc - optind > 1)
		return usage_error("one IMAGE at a time, got '%s' and '%s'", argv[optind],
				   argv[optind + 1]);
	v.image_path = argv[optind];
	v.image_name = strcmp(v.image_path, "-") ? v.image_path : "stdin";
	if (!strncmp(v.image_path, "s3://", 5)) {
		v.mismatch_names = json_object_new_array();
		curl_global_init(CURL_GLOBAL_DEFAULT);
		code = verify_s3(&v, &s3, argv[optind]);
		goto done;
	}
	if (!v.manifest_path && strcmp(v.image_path, "-")) {
		if (asprintf(&default_manifest, "%s%s", v.image_path, MANIFEST_SUFFIX) < 0) {
			log_error("internal", "verify: out of memory");
			return EXIT_FAILURE_INTERNAL;
		}
		/* No manifest beside it is a supported case (structure only), reported as such. */
		if (access(default_manifest, F_OK) == 0)
			v.manifest_path = default_manifest;
	}
	v.mismatch_names = json_object_new_array();
	code = run(&v);
done:
	s3opts_free(&s3);
	image_reader_close(&v.reader);
	image_manifest_free(&v.manifest);
	json_object_put(v.mismatch_names);
	free(v.entries);
	free(default_manifest);
	return code;
}
