/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * verify's state, shared by verify.c (options, the run, the comparison)
 * and verify_report.c (what is printed and logged).
 */
#ifndef FORENSICS_AGENT_VERIFY_H
#define FORENSICS_AGENT_VERIFY_H

#include "capture/image_reader.h"
#include "capture/lime.h"
#include "capture/manifest.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#define VERIFY_MESSAGE_MAX 768

enum range_status {
	RANGE_NOT_COMPARED,     /* no manifest */
	RANGE_MATCH,
	RANGE_DIFFERS,          /* same start, different end */
	RANGE_NOT_IN_MANIFEST,
	RANGE_MISSING,          /* in the manifest, not in the image */
};

struct range_entry {
	struct mem_range range;
	uint64_t manifest_end;  /* RANGE_DIFFERS */
	enum range_status status;
};

enum check_state {
	CHECK_NOT_COMPARED,
	CHECK_MATCH,
	CHECK_MISMATCH,
};

struct verify {
	const char *image_path;
	const char *image_name;         /* for messages: "stdin" for "-" */
	const char *manifest_path;      /* NULL: structure check only */
	bool json;
	struct image_manifest manifest;
	bool have_manifest;
	struct image_reader reader;
	struct lime_reader lime;
	bool progress;

	size_t next_manifest;           /* merge cursor into manifest.ranges */
	struct range_entry *entries;
	size_t entry_count;
	size_t entry_capacity;
	uint64_t entries_dropped;
	uint64_t image_ranges;
	uint64_t matched, differing, not_in_manifest, missing;

	enum check_state ranges, lime_bytes, lime_sha, file_bytes, file_sha;
	char mismatch[VERIFY_MESSAGE_MAX];
	json_object *mismatch_names;
};

/* The one error line of a failed run. */
void verify_log_failure(struct verify *v, int exit_code, const char *event, const char *message);
/*
 * For failures before there is a report: logs, and with --json prints a stub
 * report. Returns exit_code.
 */
int verify_fail(struct verify *v, int exit_code, const char *event, const char *result,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The report on stdout, for people or (--json) as one object; ok: no mismatch. */
void verify_print_human(struct verify *v, bool ok);
void verify_print_json(struct verify *v, bool ok, int exit_code);

#endif
