/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * convert's state, shared by convert.c (options, set-up, the run) and
 * convert_stream.c (input bytes to (range, bytes) to output bytes).
 */
#ifndef FORENSICS_AGENT_CONVERT_H
#define FORENSICS_AGENT_CONVERT_H

#include "capture/image_reader.h"
#include "capture/lime.h"
#include "capture/manifest.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * x86-64 physical addresses are at most 52 bits wide. A padded image must
 * write every byte below its last address, so a range above that is a
 * corrupt or hostile input, not something to fill a disk for.
 */
#define PADDED_MAX_ADDRESS ((1ull << 52) - 1)
#define CONVERT_MESSAGE_MAX 768

enum image_format {
	FORMAT_AUTO,
	FORMAT_LIME,
	FORMAT_RAW,
	FORMAT_PADDED,
};

extern const char *const convert_format_names[];

/* How the input bytes become ranges. */
enum input_mode {
	MODE_UNDECIDED,
	MODE_LIME,          /* the LiME reader finds the ranges */
	MODE_SEGMENTS,      /* ranges from a list, cut from raw or padded bytes */
	MODE_PASSTHROUGH,   /* layout unchanged: only (de)compression */
};

struct convert {
	/* Options. */
	const char *input_path;
	const char *output_path;
	const char *input_name;     /* for messages: "stdin" for "-" */
	const char *output_name;    /* "stdout" for "-" */
	const char *manifest_path;
	enum image_format from, to;
	enum image_format from_given;   /* --from as given (from is auto's outcome) */
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
	char hint[IMAGE_HINT_MAX + 2];  /* convert_input_hint's */
};

/*
 * Records why the run stops (the first reason wins) and returns the value
 * callbacks hand back up through the readers.
 */
int convert_stop(struct convert *c, int exit_code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * The combinations that cannot work, checked before any output when the
 * formats are given and again once auto-detection has looked at the input.
 */
int convert_check_formats(struct convert *c, enum image_format from);
/*
 * "; what was found and what to do" when the input's name, or --from lime,
 * says otherwise than its bytes (image_reader_hint); "" when they agree.
 */
const char *convert_input_hint(struct convert *c);
/* image_reader's callback: holds back the first bytes until the LiME magic can be looked for. */
int convert_feed(void *ctx, const void *buf, size_t len);
/* After the last byte: what the input left unfinished, as a stop. */
int convert_finish_input(struct convert *c);

#endif
