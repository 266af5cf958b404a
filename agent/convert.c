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
/* Zeros for padded gaps; in .bss, so it costs nothing until the first gap. */
#define ZERO_CHUNK (256u << 10)
/*
 * x86-64 physical addresses are at most 52 bits wide. A padded image must
 * write every byte below its last address, so a range above that is a
 * corrupt or hostile input, not something to fill a disk for.
 */
#define PADDED_MAX_ADDRESS ((1ull << 52) - 1)
#define HASH_QUEUE_BUFFER (1u << 20)
#define HASH_QUEUE_DEPTH 4
#define CONVERT_PROGRESS_MIN_BYTES (256ull << 20)
#define CONVERT_MESSAGE_MAX 768
#define MAX_THREADS 256

enum image_format {
	FORMAT_AUTO,
	FORMAT_LIME,
	FORMAT_RAW,
	FORMAT_PADDED,
};

static const char *const format_names[] = {
	[FORMAT_AUTO] = "auto",
	[FORMAT_LIME] = "lime",
	[FORMAT_RAW] = "raw",
	[FORMAT_PADDED] = "padded",
};

/* How the input bytes become ranges. */
enum input_mode {
	MODE_UNDECIDED,
	MODE_LIME,          /* the LiME reader finds the ranges */
	MODE_SEGMENTS,      /* ranges from a list, cut from raw or padded bytes */
	MODE_PASSTHROUGH,   /* layout unchanged: only (de)compression */
};

static unsigned char zeros[ZERO_CHUNK];

struct convert {
	/* Options. */
	const char *input_path;
	const char *output_path;
	const char *input_name;     /* for messages: "stdin" for "-" */
	const char *output_name;    /* "stdout" for "-" */
	const char *manifest_path;
	enum image_format from, to;
	bool compress;
	int level;
	int threads;

	struct image_manifest manifest;
	bool have_manifest;
	struct image_reader reader;

	/* Output chain: top -> tee -> { sha256 of the stream, [zstd ->] file | stdout } */
	struct sink *top;
	struct sink *out_hash_inner;
	struct sink *out_file;
	bool created_partial;
	uint64_t out_position;   /* padded: address of the next byte written */
	uint64_t ranges_written;
	uint64_t zero_filled;

	/* Input. */
	enum input_mode mode;
	unsigned char prefix[sizeof(uint32_t)];
	size_t prefix_fill;
	struct lime_reader lime;
	struct range_list whole;        /* padded without a manifest: [0, size - 1] */
	const struct range_list *segments;
	size_t segment;                 /* current index into segments */
	uint64_t segment_offset;        /* input offset of its first byte */
	bool segment_open;
	uint64_t in_position;           /* decompressed input bytes consumed */
	uint64_t skipped;               /* padded input bytes outside every range */

	/* The one failure of this run, set where it is found. */
	int exit_code;
	char message[CONVERT_MESSAGE_MAX];
};

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

static int stop(struct convert *c, int exit_code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Records why the run stops (the first reason wins) and returns the value
 * callbacks hand back up through the readers.
 */
static int stop(struct convert *c, int exit_code, const char *fmt, ...)
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

/* ---- output ---- */

static int out_write(struct convert *c, const void *buf, size_t len)
{
	int ret = sink_write(c->top, buf, len);

	if (ret)
		return stop(c, EXIT_OUTPUT, "%s: cannot write: %s", c->output_name, strerror(-ret));
	return 0;
}

static int out_zero_fill(struct convert *c, uint64_t len)
{
	c->zero_filled += len;
	while (len) {
		size_t take = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		int ret = out_write(c, zeros, take);

		if (ret)
			return ret;
		len -= take;
	}
	return 0;
}

static int out_range_begin(struct convert *c, const struct mem_range *range)
{
	unsigned char header[LIME_HEADER_SIZE];
	int ret;

	c->ranges_written++;
	switch (c->to) {
	case FORMAT_LIME:
		lime_header_encode(range, header);
		return out_write(c, header, sizeof(header));
	case FORMAT_PADDED:
		if (range->end > PADDED_MAX_ADDRESS)
			return stop(c, EXIT_USAGE,
				    "range 0x%" PRIx64 "-0x%" PRIx64 " lies beyond the 52-bit physical "
				    "address space: a padded image cannot hold it, use --to lime or raw",
				    range->start, range->end);
		/* Ranges ascend (LiME reader, manifest parser), so this never goes back. */
		ret = out_zero_fill(c, range->start - c->out_position);
		c->out_position = range->start;
		return ret;
	default:
		return 0;
	}
}

static int out_range_data(struct convert *c, const void *buf, size_t len)
{
	c->out_position += len;
	return out_write(c, buf, len);
}

static int lime_begin(void *ctx, const struct mem_range *range, uint64_t header_offset)
{
	return out_range_begin(ctx, range);
}

static int lime_data(void *ctx, const void *buf, size_t len)
{
	return out_range_data(ctx, buf, len);
}

static const struct lime_reader_ops convert_lime_ops = {
	.range_begin = lime_begin,
	.range_data = lime_data,
};

/* ---- input ---- */

/* Input offset of segment i's first byte: its address if padded, else right after i - 1. */
static uint64_t segment_start_offset(const struct convert *c, size_t i, uint64_t previous_end)
{
	if (c->from == FORMAT_PADDED)
		return c->segments->items[i].start;
	return i ? previous_end + 1 : 0;
}

static int feed_segments(struct convert *c, const unsigned char *p, size_t len)
{
	while (len) {
		const struct mem_range *range;
		uint64_t last, room;
		size_t take;
		int ret;

		if (c->segment == c->segments->count) {
			/* Past the last range: padded memory nobody asked for, or excess raw data. */
			c->skipped += len;
			c->in_position += len;
			return 0;
		}
		range = &c->segments->items[c->segment];
		if (c->in_position < c->segment_offset) {
			uint64_t gap = c->segment_offset - c->in_position;

			take = len < gap ? len : (size_t)gap;
			c->skipped += take;
			c->in_position += take;
			p += take;
			len -= take;
			continue;
		}
		if (!c->segment_open) {
			ret = out_range_begin(c, range);
			if (ret)
				return ret;
			c->segment_open = true;
		}
		/* Inclusive arithmetic: a range may end at the top of the address space. */
		last = c->segment_offset + (range->end - range->start);
		room = last - c->in_position;   /* bytes left in the range, minus one */
		take = (uint64_t)len - 1 <= room ? len : (size_t)room + 1;
		ret = out_range_data(c, p, take);
		if (ret)
			return ret;
		c->in_position += take;
		p += take;
		len -= take;
		if (c->in_position - 1 == last) {
			c->segment_open = false;
			c->segment++;
			if (c->segment < c->segments->count)
				c->segment_offset = segment_start_offset(c, c->segment, last);
		}
	}
	return 0;
}

static int dispatch(struct convert *c, const void *buf, size_t len)
{
	switch (c->mode) {
	case MODE_LIME:
		return lime_reader_feed(&c->lime, buf, len);
	case MODE_SEGMENTS:
		return feed_segments(c, buf, len);
	case MODE_PASSTHROUGH:
		c->in_position += len;
		return out_range_data(c, buf, len);
	default:
		return stop(c, EXIT_FAILURE_INTERNAL, "input format undecided");
	}
}

/*
 * The combinations that cannot work, checked before any output when the
 * formats are given and again once auto-detection has looked at the input.
 */
static int check_formats(struct convert *c, enum image_format from)
{
	if (from == FORMAT_LIME && c->manifest_path)
		return stop(c, EXIT_USAGE, "%s is LiME, which carries its own ranges: "
			    "--ranges-from is for raw or padded input", c->input_name);
	if (from == FORMAT_RAW && !c->manifest_path && c->to != FORMAT_RAW)
		return stop(c, EXIT_USAGE, "%s is raw (no LiME header), which has no addresses: "
			    "--to %s needs --ranges-from MANIFEST, or --from padded if file "
			    "offsets are physical addresses", c->input_name, format_names[c->to]);
	if (from == FORMAT_PADDED && !c->manifest_path && c->to == FORMAT_LIME &&
	    !c->reader.size_known)
		return stop(c, EXIT_USAGE, "padded input from stdin or a pipe has no size to put in "
			    "the LiME header: give a regular file or --ranges-from MANIFEST");
	return 0;
}

static int decide(struct convert *c)
{
	uint32_t magic = 0;

	if (c->from == FORMAT_AUTO) {
		if (c->prefix_fill == sizeof(magic))
			memcpy(&magic, c->prefix, sizeof(magic));
		c->from = le32toh(magic) == LIME_MAGIC ? FORMAT_LIME : FORMAT_RAW;
		if (check_formats(c, c->from))
			return -ECANCELED;
	}
	if (c->from == FORMAT_LIME) {
		c->mode = MODE_LIME;
		lime_reader_init(&c->lime, &convert_lime_ops, c);
	} else if (c->have_manifest) {
		c->mode = MODE_SEGMENTS;
		c->segments = &c->manifest.ranges;
	} else if (c->from == FORMAT_PADDED && c->to == FORMAT_LIME) {
		c->mode = MODE_SEGMENTS;
		c->segments = &c->whole;
	} else {
		/* raw -> raw, padded -> padded or raw: the bytes stay as they are. */
		c->mode = MODE_PASSTHROUGH;
	}
	if (c->mode == MODE_SEGMENTS && c->segments->count)
		c->segment_offset = segment_start_offset(c, 0, 0);
	return dispatch(c, c->prefix, c->prefix_fill);
}

/* Holds back the first bytes until the LiME magic can be looked for. */
static int feed(void *ctx, const void *buf, size_t len)
{
	struct convert *c = ctx;
	const unsigned char *p = buf;
	int ret;

	if (c->mode == MODE_UNDECIDED) {
		size_t take = sizeof(c->prefix) - c->prefix_fill;

		take = len < take ? len : take;
		memcpy(c->prefix + c->prefix_fill, p, take);
		c->prefix_fill += take;
		p += take;
		len -= take;
		if (c->prefix_fill < sizeof(c->prefix))
			return 0;
		ret = decide(c);
		if (ret)
			return ret;
	}
	return dispatch(c, p, len);
}

static int finish_input(struct convert *c)
{
	const struct mem_range *range;
	int ret;

	if (c->mode == MODE_UNDECIDED) {
		if (!c->prefix_fill)
			return stop(c, EXIT_MALFORMED, "%s: input is empty", c->input_name);
		ret = decide(c);
		if (ret)
			return ret;
	}
	switch (c->mode) {
	case MODE_LIME:
		if (lime_reader_finish(&c->lime))
			return stop(c, EXIT_MALFORMED, "%s: %s", c->input_name, c->lime.error);
		return 0;
	case MODE_SEGMENTS:
		if (c->segment < c->segments->count) {
			range = &c->segments->items[c->segment];
			return stop(c, EXIT_MISMATCH,
				    "%s: input ends after %" PRIu64 " bytes, inside or before range "
				    "0x%" PRIx64 "-0x%" PRIx64 " of %s", c->input_name,
				    c->in_position, range->start, range->end,
				    c->have_manifest ? c->manifest_path : "the input");
		}
		if (c->from == FORMAT_RAW && c->skipped)
			return stop(c, EXIT_MISMATCH,
				    "%s: raw input has %" PRIu64 " bytes more than the ranges of %s",
				    c->input_name, c->skipped, c->manifest_path);
		return 0;
	default:
		return 0;
	}
}

/* ---- setup ---- */

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
			stop(c, counter.failure == IMAGE_READER_ZSTD ? EXIT_MALFORMED :
			     counter.failure == IMAGE_READER_INPUT ? EXIT_INPUT : EXIT_FAILURE_INTERNAL,
			     "%s: %s", c->input_name, counter.error);
		image_reader_close(&counter);
		if (ret)
			return -ECANCELED;
	} else {
		size = c->reader.file_size;
	}
	if (!size)
		return stop(c, EXIT_MALFORMED, "%s: input is empty", c->input_name);
	if (range_list_add(&c->whole, 0, size - 1))
		return stop(c, EXIT_FAILURE_INTERNAL, "out of memory");
	return 0;
}

static int open_output(struct convert *c)
{
	struct sink *dest, *hash, *outs[2];
	int err = 0;

	if (!strcmp(c->output_path, "-")) {
		dest = sink_fd_new(STDOUT_FILENO, "stdout");
		if (!dest)
			return stop(c, EXIT_FAILURE_INTERNAL, "out of memory");
	} else {
		dest = sink_file_new(c->output_path, &err);
		if (!dest) {
			if (err == -EEXIST)
				return stop(c, EXIT_OUTPUT, "%s: %s exists, refusing to overwrite it",
					    c->output_name, access(c->output_path, F_OK) ?
					    "a " PARTIAL_SUFFIX " file of it" : "it");
			return stop(c, EXIT_OUTPUT, "%s: cannot create: %s", c->output_name,
				    strerror(-err));
		}
		c->created_partial = true;
	}
	c->out_file = dest;
	if (c->compress) {
		dest = sink_zstd_new(dest, c->level, c->threads, &err);
		if (!dest)
			return stop(c, err == -ENOTSUP ? EXIT_USAGE : EXIT_FAILURE_INTERNAL,
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
		return stop(c, EXIT_FAILURE_INTERNAL, "out of memory");
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
	json_object_object_add(f, "from", json_object_new_string(format_names[c->from]));
	json_object_object_add(f, "to", json_object_new_string(format_names[c->to]));
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
		  c->input_name, format_names[c->from], c->reader.compressed ? ", zstd" : "",
		  c->output_name, format_names[c->to], c->compress ? ", zstd" : "",
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
			return stop(c, ret == -EBADMSG ? EXIT_MALFORMED : EXIT_INPUT,
				    "%s: %s%s", c->manifest_path,
				    ret == -EBADMSG ? "malformed manifest: " : "", err);
		c->have_manifest = true;
	}
	ret = image_reader_open(&c->reader, c->input_path);
	if (ret)
		return stop(c, ret == -ENOMEM ? EXIT_FAILURE_INTERNAL : EXIT_INPUT, "%s: %s",
			    c->input_name, c->reader.error);
	if (c->from != FORMAT_AUTO && check_formats(c, c->from))
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
	ret = image_reader_run(&c->reader, feed, c);
	if (c->reader.progress)
		log_progress_done();
	if (ret) {
		switch (c->reader.failure) {
		case IMAGE_READER_INPUT:
			return stop(c, EXIT_INPUT, "%s: %s", c->input_name, c->reader.error);
		case IMAGE_READER_ZSTD:
			return stop(c, EXIT_MALFORMED, "%s: %s", c->input_name, c->reader.error);
		case IMAGE_READER_CALLBACK:
			/* Our callbacks said why already; -EBADMSG is the LiME reader's own. */
			if (ret == -EBADMSG)
				return stop(c, EXIT_MALFORMED, "%s: %s", c->input_name,
					    c->lime.error);
			return stop(c, EXIT_FAILURE_INTERNAL, "%s: %s", c->input_name,
				    strerror(-ret));
		default:
			return stop(c, EXIT_FAILURE_INTERNAL, "%s: %s", c->input_name,
				    c->reader.error);
		}
	}
	ret = finish_input(c);
	if (ret)
		return ret;
	ret = sink_finish(c->top);
	if (ret)
		return stop(c, EXIT_OUTPUT, "%s: cannot finish: %s", c->output_name,
			    ret == -EEXIST ? "it appeared while converting; left as " PARTIAL_SUFFIX :
			    strerror(-ret));
	c->created_partial = false;
	log_summary(c);
	return 0;
}

/* ---- options ---- */

static int parse_format(const char *name, bool allow_auto, enum image_format *out)
{
	for (size_t i = allow_auto ? 0 : 1; i < sizeof(format_names) / sizeof(format_names[0]); i++) {
		if (!strcmp(name, format_names[i])) {
			*out = (enum image_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_int(const char *text, long min, long max, int *out)
{
	char *end;
	long value;

	errno = 0;
	value = strtol(text, &end, 10);
	if (errno || end == text || *end || value < min || value > max)
		return -EINVAL;
	*out = (int)value;
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	char message[CONVERT_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	log_error("usage", "convert: %s (try --help)", message);
	return EXIT_USAGE;
}

enum {
	OPT_TO = 0x100,
	OPT_FROM,
	OPT_COMPRESS,
	OPT_LEVEL,
	OPT_THREADS,
	OPT_RANGES_FROM,
	OPT_LOG_FORMAT,
};

static const struct option convert_options[] = {
	{ "to", required_argument, NULL, OPT_TO },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "compress", required_argument, NULL, OPT_COMPRESS },
	{ "level", required_argument, NULL, OPT_LEVEL },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "ranges-from", required_argument, NULL, OPT_RANGES_FROM },
	{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
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
	int opt;

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
			if (parse_int(optarg, ZSTD_minCLevel(), ZSTD_maxCLevel(), &c.level))
				return usage_error("--level must be an integer from %d to %d, not '%s'",
						   ZSTD_minCLevel(), ZSTD_maxCLevel(), optarg);
			level_given = true;
			break;
		case OPT_THREADS:
			if (parse_int(optarg, 0, MAX_THREADS, &c.threads))
				return usage_error("--threads must be an integer from 0 to %d, not '%s'",
						   MAX_THREADS, optarg);
			threads_given = true;
			break;
		case OPT_RANGES_FROM:
			c.manifest_path = optarg;
			break;
		case OPT_LOG_FORMAT:
			if (log_set_format(optarg))
				return usage_error("--log-format must be auto, text or json, not '%s'",
						   optarg);
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			if (optopt)
				return usage_error("unknown option '-%c'", optopt);
			return usage_error("unknown option '%s'", argv[optind - 1]);
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
	c.compress = compress ? !strcmp(compress, "zstd") : ends_with(c.output_path, ZSTD_SUFFIX);
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
		stop(&c, EXIT_FAILURE_INTERNAL, "failed without a reason (bug)");
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
