// SPDX-License-Identifier: GPL-2.0-only
/*
 * convert: rewrite an image between the layouts analysis tools want.
 *
 *   lime    ranges, each behind a 32-byte header (what acquire writes)
 *   raw     the ranges' bytes concatenated, no addresses
 *   padded  file offset == physical address, gaps zero-filled
 *
 * Every input is turned into a sequence of (range, bytes) and every output
 * is written from that sequence, so each pair of formats is the same code.
 * Input and output are streams (zstd or plain, files or pipes): memory stays
 * bounded whatever the image size.
 */
#include "base/exitcodes.h"
#include "base/log.h"
#include "cliopts.h"
#include "convert.h"
#include "subcommands.h"
#include "capture/image_reader.h"
#include "capture/manifest.h"
#include "capture/lime.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#define ZSTD_SUFFIX ".zst"
#define PARTIAL_SUFFIX ".partial"
#define HASH_QUEUE_BUFFER (1u << 20)
#define HASH_QUEUE_DEPTH 4
#define CONVERT_PROGRESS_MIN_BYTES (256ull << 20)
#define MAX_THREADS 256
#define usage_error(...) cliopts_usage_error("convert", __VA_ARGS__)

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: %s convert --to lime|raw|padded [options] INPUT OUTPUT\n"
		"\n"
		"Convert a memory image between LiME, raw (ranges concatenated) and padded\n"
		"(file offset == physical address, gaps zero-filled). INPUT and OUTPUT may be\n"
		"- for stdin/stdout; INPUT may be zstd-compressed. OUTPUT is never overwritten.\n"
		"\n"
		"  --to FORMAT           lime, raw or padded (required)\n"
		"  --from FORMAT         auto (default: LiME if it starts with the LiME magic,\n"
		"                        else raw), lime, raw or padded\n"
		"  --ranges-from FILE    take the ranges of raw or padded input from a manifest;\n"
		"                        padded input is cut to them, raw input is split by them\n"
		"  --compress zstd|none  compress OUTPUT (default: zstd if it ends in " ZSTD_SUFFIX ")\n"
		"  --level N             zstd level (default %d)\n"
		"  --threads N           zstd worker threads (default 0: the calling thread)\n"
		"  --log-format FMT      stderr messages: auto (default), text or json\n"
		"  -h, --help            show this help\n"
		"\n"
		"Padded input without --ranges-from becomes one range from address 0.\n"
		"Raw input has no addresses: it needs --ranges-from to become LiME or padded.\n"
		"\n"
		"Exit codes: 0 ok, 2 usage, 4 output, 6 input differs from the manifest's\n"
		"ranges, 7 malformed input or manifest, 8 input unreadable.\n",
		AGENT_NAME, ZSTD_CLEVEL_DEFAULT);
}

int convert_stop(struct convert *c, int exit_code, const char *fmt, ...)
{
	va_list ap;

	if (c->exit_code)
		return -ECANCELED;
	c->exit_code = exit_code;
	va_start(ap, fmt);
	vsnprintf(c->message, sizeof(c->message), fmt, ap);
	va_end(ap);
	return -ECANCELED;
}

/* ---- setup ---- */

const char *convert_input_hint(struct convert *c)
{
	uint32_t magic = 0;
	const char *hint = image_reader_hint(&c->reader, c->hint + 2, sizeof(c->hint) - 2);

	if (c->prefix_fill == sizeof(magic))
		memcpy(&magic, c->prefix, sizeof(magic));
	if (!hint && c->from_given == FORMAT_LIME && c->prefix_fill == sizeof(magic) &&
	    le32toh(magic) != LIME_MAGIC)
		hint = "--from lime was given but it does not start with the LiME magic: for a raw or "
		       "padded image pass --from raw or --from padded";
	if (!hint)
		return "";
	if (hint != c->hint + 2)
		snprintf(c->hint + 2, sizeof(c->hint) - 2, "%s", hint);
	memcpy(c->hint, "; ", 2);
	return c->hint;
}

int convert_check_formats(struct convert *c, enum image_format from)
{
	if (from == FORMAT_LIME && c->manifest_path)
		return convert_stop(c, EXIT_USAGE, "%s is LiME, which carries its own ranges: "
			    "--ranges-from is for raw or padded input", c->input_name);
	if (from == FORMAT_RAW && !c->manifest_path && c->to != FORMAT_RAW)
		return convert_stop(c, EXIT_USAGE, "%s is raw (no LiME header), which has no addresses: "
			    "--to %s needs --ranges-from MANIFEST, or --from padded if file "
			    "offsets are physical addresses%s", c->input_name,
			    convert_format_names[c->to], c->reader.head_len ? convert_input_hint(c) : "");
	if (from == FORMAT_PADDED && !c->manifest_path && c->to == FORMAT_LIME &&
	    !c->reader.size_known)
		return convert_stop(c, EXIT_USAGE, "padded input from stdin or a pipe has no size to put in "
			    "the LiME header: give a regular file or --ranges-from MANIFEST");
	return 0;
}


static bool regular_file_starts_with_zstd(const char *path)
{
	unsigned char magic[IMAGE_ZSTD_MAGIC_SIZE];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = pread(fd, magic, sizeof(magic), 0);
	close(fd);
	return n == (ssize_t)sizeof(magic) && image_is_zstd(magic, sizeof(magic));
}

/*
 * Padded -> LiME without a manifest: the one header needs the size before
 * the data. A plain file has it; a compressed one is decompressed once to
 * count (cheaper than holding any of it).
 */
static int measure_padded(struct convert *c)
{
	struct image_reader counter;
	uint64_t size;
	int ret;

	if (regular_file_starts_with_zstd(c->input_path)) {
		ret = image_reader_open(&counter, c->input_path);
		if (!ret)
			ret = image_reader_run(&counter, NULL, NULL);
		size = counter.data_bytes;
		if (ret)
			convert_stop(c, counter.failure == IMAGE_READER_ZSTD ? EXIT_MALFORMED :
			     counter.failure == IMAGE_READER_INPUT ? EXIT_INPUT : EXIT_FAILURE_INTERNAL,
			     "%s: %s", c->input_name, counter.error);
		image_reader_close(&counter);
		if (ret)
			return -ECANCELED;
	} else {
		size = c->reader.file_size;
	}
	if (!size)
		return convert_stop(c, EXIT_MALFORMED, "%s: input is empty", c->input_name);
	if (range_list_add(&c->whole, 0, size - 1))
		return convert_stop(c, EXIT_FAILURE_INTERNAL, "out of memory");
	return 0;
}

static int open_output(struct convert *c)
{
	struct sink *dest, *hash, *outs[2];
	int err = 0;

	if (!strcmp(c->output_path, "-")) {
		dest = sink_fd_new(STDOUT_FILENO, "stdout");
		if (!dest)
			return convert_stop(c, EXIT_FAILURE_INTERNAL, "out of memory");
	} else {
		dest = sink_file_new(c->output_path, &err);
		if (!dest) {
			if (err == -EEXIST)
				return convert_stop(c, EXIT_OUTPUT, "%s: %s exists, refusing to overwrite it",
					    c->output_name, access(c->output_path, F_OK) ?
					    "a " PARTIAL_SUFFIX " file of it" : "it");
			return convert_stop(c, EXIT_OUTPUT, "%s: cannot create: %s", c->output_name,
				    strerror(-err));
		}
		c->created_partial = true;
	}
	c->out_file = dest;
	if (c->compress) {
		dest = sink_zstd_new(dest, c->level, c->threads, &err);
		if (!dest)
			return convert_stop(c, err == -ENOTSUP ? EXIT_USAGE : EXIT_FAILURE_INTERNAL,
				    "cannot set up zstd (level %d, %d threads): %s", c->level,
				    c->threads, err == -ENOTSUP ? "this libzstd has no threads" :
				    strerror(-err));
	}
	c->out_hash_inner = sink_sha256_new();
	hash = c->out_hash_inner ?
	       sink_async_new(c->out_hash_inner, HASH_QUEUE_BUFFER, HASH_QUEUE_DEPTH, &err) : NULL;
	outs[0] = hash;
	outs[1] = dest;
	c->top = hash ? sink_tee_new(outs, 2) : NULL;
	if (!c->top) {
		sink_destroy(hash);
		sink_destroy(dest);
		return convert_stop(c, EXIT_FAILURE_INTERNAL, "out of memory");
	}
	return 0;
}

static void show_progress(void *ctx, uint64_t done, uint64_t total)
{
	log_progress("convert", done, total);
}

static void log_summary(struct convert *c)
{
	const char *out_sha = sink_sha256_hex(c->out_hash_inner);
	json_object *f = json_object_new_object();
	bool compare = c->to == FORMAT_LIME && c->have_manifest;
	bool matches = compare && !strcmp(out_sha, c->manifest.sha256_uncompressed);

	json_object_object_add(f, "input", json_object_new_string(c->input_path));
	json_object_object_add(f, "output", json_object_new_string(c->output_path));
	json_object_object_add(f, "from", json_object_new_string(convert_format_names[c->from]));
	json_object_object_add(f, "to", json_object_new_string(convert_format_names[c->to]));
	json_object_object_add(f, "input_compression",
			       json_object_new_string(c->reader.compressed ? "zstd" : "none"));
	json_object_object_add(f, "output_compression",
			       json_object_new_string(c->compress ? "zstd" : "none"));
	json_object_object_add(f, "ranges", json_object_new_uint64(c->ranges_written));
	json_object_object_add(f, "input_bytes", json_object_new_uint64(c->reader.file_bytes));
	json_object_object_add(f, "sha256_input", json_object_new_string(c->reader.file_sha256));
	json_object_object_add(f, "output_uncompressed_bytes", json_object_new_uint64(c->top->bytes));
	json_object_object_add(f, "output_bytes", json_object_new_uint64(c->out_file->bytes));
	json_object_object_add(f, "sha256_output_uncompressed", json_object_new_string(out_sha));
	json_object_object_add(f, "zero_filled_bytes", json_object_new_uint64(c->zero_filled));
	json_object_object_add(f, "skipped_bytes", json_object_new_uint64(c->skipped));
	if (compare)
		json_object_object_add(f, "matches_manifest_sha256", json_object_new_boolean(matches));
	log_event("info", "converted", f,
		  "convert: %s (%s%s) -> %s (%s%s): %" PRIu64 " ranges, %" PRIu64
		  " bytes, sha256 %s%s",
		  c->input_name, convert_format_names[c->from], c->reader.compressed ? ", zstd" : "",
		  c->output_name, convert_format_names[c->to], c->compress ? ", zstd" : "",
		  c->ranges_written, c->top->bytes, out_sha,
		  !compare ? "" : matches ? " (matches the manifest's sha256_uncompressed)" :
		  " (differs from the manifest's sha256_uncompressed)");
}

static int run(struct convert *c)
{
	char err[IMAGE_ERROR_MAX];
	int ret;

	if (c->manifest_path) {
		ret = image_manifest_load(c->manifest_path, &c->manifest, err, sizeof(err));
		if (ret)
			return convert_stop(c, ret == -EBADMSG ? EXIT_MALFORMED : EXIT_INPUT,
				    "%s: %s%s", c->manifest_path,
				    ret == -EBADMSG ? "malformed manifest: " : "", err);
		c->have_manifest = true;
	}
	ret = image_reader_open(&c->reader, c->input_path);
	if (ret)
		return convert_stop(c, ret == -ENOMEM ? EXIT_FAILURE_INTERNAL : EXIT_INPUT, "%s: %s",
			    c->input_name, c->reader.error);
	if (c->from != FORMAT_AUTO && convert_check_formats(c, c->from))
		return -ECANCELED;
	if (c->from == FORMAT_PADDED && c->to == FORMAT_LIME && !c->have_manifest &&
	    measure_padded(c))
		return -ECANCELED;
	ret = open_output(c);
	if (ret)
		return ret;
	if (c->reader.size_known && c->reader.file_size >= CONVERT_PROGRESS_MIN_BYTES) {
		c->reader.progress = show_progress;
	}
	ret = image_reader_run(&c->reader, convert_feed, c);
	if (c->reader.progress)
		log_progress_done();
	if (ret) {
		switch (c->reader.failure) {
		case IMAGE_READER_INPUT:
			return convert_stop(c, EXIT_INPUT, "%s: %s", c->input_name, c->reader.error);
		case IMAGE_READER_ZSTD:
			return convert_stop(c, EXIT_MALFORMED, "%s: %s%s", c->input_name,
				    c->reader.error, convert_input_hint(c));
		case IMAGE_READER_CALLBACK:
			/* Our callbacks said why already; -EBADMSG is the LiME reader's own. */
			if (ret == -EBADMSG)
				return convert_stop(c, EXIT_MALFORMED, "%s: %s%s", c->input_name,
					    c->lime.error, convert_input_hint(c));
			return convert_stop(c, EXIT_FAILURE_INTERNAL, "%s: %s", c->input_name,
				    strerror(-ret));
		default:
			return convert_stop(c, EXIT_FAILURE_INTERNAL, "%s: %s", c->input_name,
				    c->reader.error);
		}
	}
	ret = convert_finish_input(c);
	if (ret)
		return ret;
	if (convert_input_hint(c)[0])
		log_warn("name", "convert: %s: %s", c->input_name, convert_input_hint(c) + 2);
	ret = sink_finish(c->top);
	if (ret)
		return convert_stop(c, EXIT_OUTPUT, "%s: cannot finish: %s", c->output_name,
			    ret == -EEXIST ? "it appeared while converting; left as " PARTIAL_SUFFIX :
			    strerror(-ret));
	c->created_partial = false;
	log_summary(c);
	return 0;
}

/* ---- options ---- */

const char *const convert_format_names[] = {
	[FORMAT_AUTO] = "auto",
	[FORMAT_LIME] = "lime",
	[FORMAT_RAW] = "raw",
	[FORMAT_PADDED] = "padded",
};

static int parse_format(const char *name, bool allow_auto, enum image_format *out)
{
	for (size_t i = allow_auto ? 0 : 1; i <= FORMAT_PADDED; i++) {
		if (!strcmp(name, convert_format_names[i])) {
			*out = (enum image_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

enum {
	OPT_TO = 0x100,
	OPT_FROM,
	OPT_COMPRESS,
	OPT_LEVEL,
	OPT_THREADS,
	OPT_RANGES_FROM,
};

static const struct option convert_options[] = {
	{ "to", required_argument, NULL, OPT_TO },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "compress", required_argument, NULL, OPT_COMPRESS },
	{ "level", required_argument, NULL, OPT_LEVEL },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "ranges-from", required_argument, NULL, OPT_RANGES_FROM },
	{ "log-format", required_argument, NULL, CLIOPTS_LOG_FORMAT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void cleanup(struct convert *c)
{
	char *partial = NULL;

	sink_destroy(c->top);
	c->top = NULL;
	/*
	 * Unlike a capture, a failed conversion can be rerun from its input: its
	 * ".partial" is worth nothing and would block the rerun (O_EXCL).
	 */
	if (c->created_partial && asprintf(&partial, "%s%s", c->output_path, PARTIAL_SUFFIX) >= 0)
		unlink(partial);
	free(partial);
	image_reader_close(&c->reader);
	image_manifest_free(&c->manifest);
	range_list_free(&c->whole);
}

int convert_main(int argc, char *argv[])
{
	struct convert c = { .level = ZSTD_CLEVEL_DEFAULT };
	const char *compress = NULL;
	bool level_given = false, threads_given = false;
	long long v;
	int opt, code;

	range_list_init(&c.whole);
	c.reader.fd = -1;
	c.to = FORMAT_AUTO;
	optind = 1;
	opterr = 0;   /* our own one-line messages, in the log format */
	while ((opt = getopt_long(argc, argv, ":h", convert_options, NULL)) != -1) {
		switch (opt) {
		case OPT_TO:
			if (parse_format(optarg, false, &c.to))
				return usage_error("--to must be lime, raw or padded, not '%s'", optarg);
			break;
		case OPT_FROM:
			if (parse_format(optarg, true, &c.from))
				return usage_error("--from must be auto, lime, raw or padded, not '%s'",
						   optarg);
			break;
		case OPT_COMPRESS:
			if (strcmp(optarg, "zstd") && strcmp(optarg, "none"))
				return usage_error("--compress must be zstd or none, not '%s'", optarg);
			compress = optarg;
			break;
		case OPT_LEVEL:
			if (cliopts_number(optarg, 10, ZSTD_minCLevel(), ZSTD_maxCLevel(), &v))
				return usage_error("--level must be an integer from %d to %d, not '%s'",
						   ZSTD_minCLevel(), ZSTD_maxCLevel(), optarg);
			c.level = (int)v;
			level_given = true;
			break;
		case OPT_THREADS:
			if (cliopts_number(optarg, 10, 0, MAX_THREADS, &v))
				return usage_error("--threads must be an integer from 0 to %d, not '%s'",
						   MAX_THREADS, optarg);
			c.threads = (int)v;
			threads_given = true;
			break;
		case OPT_RANGES_FROM:
			c.manifest_path = optarg;
			break;
		default:
			code = cliopts_image_common("convert", opt, argv, usage);
			if (code != CLIOPTS_CONTINUE)
				return code;
		}
	}
	if (c.to == FORMAT_AUTO)
		return usage_error("--to lime|raw|padded is required");
	if (argc - optind != 2)
		return usage_error("needs INPUT and OUTPUT, got %d argument%s", argc - optind,
				   argc - optind == 1 ? "" : "s");
	c.input_path = argv[optind];
	c.output_path = argv[optind + 1];
	c.input_name = strcmp(c.input_path, "-") ? c.input_path : "stdin";
	c.output_name = strcmp(c.output_path, "-") ? c.output_path : "stdout";
	c.from_given = c.from;
	c.compress = compress ? !strcmp(compress, "zstd") : ends_with(c.output_path, ZSTD_SUFFIX);
	if (compress && c.compress != ends_with(c.output_path, ZSTD_SUFFIX) &&
	    strcmp(c.output_path, "-"))
		log_warn("name", "convert: %s: --compress %s contradicts the name: rename it %s%s "
			 "when it is written", c.output_path, compress,
			 c.compress ? c.output_path : "without ", ZSTD_SUFFIX);
	if (!c.compress && (level_given || threads_given))
		return usage_error("--level and --threads need zstd output (--compress zstd)");
	if (!strcmp(c.output_path, "-") && isatty(STDOUT_FILENO))
		return usage_error("refusing to write an image to a terminal; redirect stdout");
	/* Checked now so a rerun fails before reading anything; the file sink checks again. */
	if (strcmp(c.output_path, "-") && access(c.output_path, F_OK) == 0) {
		log_error("output", "convert: %s: exists, refusing to overwrite it", c.output_path);
		return EXIT_OUTPUT;
	}
	/* A closed pipe on stdout is an output error to report, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	if (run(&c) && !c.exit_code)
		convert_stop(&c, EXIT_FAILURE_INTERNAL, "failed without a reason (bug)");
	cleanup(&c);
	if (c.exit_code) {
		json_object *f = json_object_new_object();

		json_object_object_add(f, "input", json_object_new_string(c.input_path));
		json_object_object_add(f, "output", json_object_new_string(c.output_path));
		json_object_object_add(f, "exit_code", json_object_new_int(c.exit_code));
		log_event("error", c.exit_code == EXIT_USAGE ? "usage" :
				   c.exit_code == EXIT_OUTPUT ? "output" :
				   c.exit_code == EXIT_INPUT ? "input" :
				   c.exit_code == EXIT_MISMATCH ? "mismatch" :
				   c.exit_code == EXIT_MALFORMED ? "malformed" : "internal",
			  f, "convert: %s", c.message);
	}
	return c.exit_code;
}
