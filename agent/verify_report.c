// SPDX-License-Identifier: GPL-2.0-only
#include "verify.h"
#include "base/exitcodes.h"
#include "base/log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const range_status_names[] = {
	[RANGE_NOT_COMPARED] = "not_compared",
	[RANGE_MATCH] = "match",
	[RANGE_DIFFERS] = "differs",
	[RANGE_NOT_IN_MANIFEST] = "not_in_manifest",
	[RANGE_MISSING] = "missing_from_image",
};

static const char *const check_names[] = {
	[CHECK_NOT_COMPARED] = "not_compared",
	[CHECK_MATCH] = "match",
	[CHECK_MISMATCH] = "mismatch",
};

static json_object *json_u64(uint64_t value)
{
	return json_object_new_uint64(value);
}

static json_object *json_string_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* stdout with --json: one object even when verification failed, so scripts always get one. */
static json_object *report_base(struct verify *v, const char *result, int exit_code)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "image", json_object_new_string(v->image_path));
	json_object_object_add(o, "manifest", json_string_or_null(v->manifest_path));
	json_object_object_add(o, "manifest_compared", json_object_new_boolean(v->have_manifest));
	json_object_object_add(o, "result", json_object_new_string(result));
	json_object_object_add(o, "exit_code", json_object_new_int(exit_code));
	return o;
}

static void print_json(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

void verify_log_failure(struct verify *v, int exit_code, const char *event, const char *message)
{
	json_object *fields = json_object_new_object();

	json_object_object_add(fields, "image", json_object_new_string(v->image_path));
	json_object_object_add(fields, "manifest", json_string_or_null(v->manifest_path));
	json_object_object_add(fields, "exit_code", json_object_new_int(exit_code));
	if (exit_code == EXIT_MISMATCH)
		json_object_object_add(fields, "mismatches", json_object_get(v->mismatch_names));
	log_event("error", event, fields, "verify: %s", message);
}

int verify_fail(struct verify *v, int exit_code, const char *event, const char *result,
		const char *fmt, ...)
{
	char message[VERIFY_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	verify_log_failure(v, exit_code, event, message);
	if (v->json) {
		json_object *o = report_base(v, result, exit_code);

		json_object_object_add(o, "error", json_object_new_string(message));
		print_json(o);
	}
	return exit_code;
}

static const char *compression_note(const struct verify *v)
{
	if (!v->have_manifest || v->reader.compressed == v->manifest.compressed)
		return NULL;
	return v->reader.compressed ?
		"the image is zstd but the manifest describes a plain image: only the LiME stream is compared" :
		"the image is not compressed but the manifest describes a zstd file: only the LiME stream is compared";
}

void verify_print_human(struct verify *v, bool ok)
{
	const struct image_reader *r = &v->reader;
	const char *note = compression_note(v);

	printf("Image:       %s (%s)\n", v->image_name, r->compressed ? "zstd" : "not compressed");
	if (v->have_manifest)
		printf("Manifest:    %s\n", v->manifest_path);
	else
		printf("Manifest:    none - NO MANIFEST COMPARED, structure checked only\n");
	printf("Ranges:      %" PRIu64 " in the image", v->image_ranges);
	if (v->have_manifest)
		printf(", %zu in the manifest", v->manifest.ranges.count);
	printf("\n  %-18s  %-18s  %14s  %s\n", "start", "end", "bytes", "manifest");
	for (size_t i = 0; i < v->entry_count; i++) {
		const struct range_entry *e = &v->entries[i];
		char status[64];

		switch (e->status) {
		case RANGE_NOT_COMPARED:
			strcpy(status, "-");
			break;
		case RANGE_MATCH:
			strcpy(status, "match");
			break;
		case RANGE_DIFFERS:
			snprintf(status, sizeof(status), "DIFFERS: manifest ends at 0x%" PRIx64,
				 e->manifest_end);
			break;
		case RANGE_NOT_IN_MANIFEST:
			strcpy(status, "NOT IN MANIFEST");
			break;
		case RANGE_MISSING:
			strcpy(status, "MISSING FROM IMAGE");
			break;
		}
		printf("  0x%016" PRIx64 "  0x%016" PRIx64 "  %14" PRIu64 "  %s\n", e->range.start,
		       e->range.end, mem_range_size(&e->range), status);
	}
	if (v->entries_dropped)
		printf("  ... %" PRIu64 " more not listed\n", v->entries_dropped);
	printf("LiME stream: %" PRIu64 " bytes, sha256 %s  %s\n", r->data_bytes, r->data_sha256,
	       v->have_manifest ? (v->lime_bytes == CHECK_MATCH && v->lime_sha == CHECK_MATCH ?
				   "match" : "MISMATCH") : "(computed, not compared)");
	if (r->compressed)
		printf("zstd file:   %" PRIu64 " bytes, sha256 %s  %s\n", r->file_bytes,
		       r->file_sha256,
		       v->file_sha == CHECK_NOT_COMPARED ? "(computed, not compared)" :
		       v->file_bytes == CHECK_MATCH && v->file_sha == CHECK_MATCH ? "match" :
		       "MISMATCH");
	if (note)
		printf("Note:        %s\n", note);
	if (v->have_manifest && v->manifest.unreadable_count)
		printf("Unreadable:  the manifest lists %zu span(s), %" PRIu64
		       " bytes, zero-filled in the image\n",
		       v->manifest.unreadable_count, v->manifest.unreadable_bytes);
	if (!ok)
		printf("Result:      MISMATCH: %s\n", v->mismatch);
	else if (v->have_manifest)
		printf("Result:      OK: well-formed LiME, matches the manifest\n");
	else
		printf("Result:      OK: well-formed LiME; no manifest was compared, so the hashes "
		       "above are computed, not verified\n");
}

void verify_print_json(struct verify *v, bool ok, int exit_code)
{
	const struct image_reader *r = &v->reader;
	json_object *o = report_base(v, ok ? "ok" : "mismatch", exit_code);
	json_object *ranges = json_object_new_array();
	json_object *checks = json_object_new_object();
	const char *note = compression_note(v);

	json_object_object_add(o, "compression",
			       json_object_new_string(r->compressed ? "zstd" : "none"));
	json_object_object_add(o, "uncompressed_bytes", json_u64(r->data_bytes));
	json_object_object_add(o, "sha256_uncompressed", json_object_new_string(r->data_sha256));
	json_object_object_add(o, "compressed_bytes", r->compressed ? json_u64(r->file_bytes) : NULL);
	json_object_object_add(o, "sha256_compressed",
			       json_string_or_null(r->compressed ? r->file_sha256 : NULL));
	json_object_object_add(o, "range_count", json_u64(v->image_ranges));
	for (size_t i = 0; i < v->entry_count; i++) {
		const struct range_entry *e = &v->entries[i];
		json_object *item = json_object_new_object();

		json_object_object_add(item, "start", manifest_address(e->range.start));
		json_object_object_add(item, "end", manifest_address(e->range.end));
		json_object_object_add(item, "bytes", json_u64(mem_range_size(&e->range)));
		json_object_object_add(item, "manifest",
				       json_object_new_string(range_status_names[e->status]));
		if (e->status == RANGE_DIFFERS)
			json_object_object_add(item, "manifest_end", manifest_address(e->manifest_end));
		json_object_array_add(ranges, item);
	}
	json_object_object_add(o, "ranges", ranges);
	if (v->entries_dropped)
		json_object_object_add(o, "ranges_not_listed", json_u64(v->entries_dropped));
	json_object_object_add(checks, "ranges", json_object_new_string(check_names[v->ranges]));
	json_object_object_add(checks, "uncompressed_bytes",
			       json_object_new_string(check_names[v->lime_bytes]));
	json_object_object_add(checks, "sha256_uncompressed",
			       json_object_new_string(check_names[v->lime_sha]));
	json_object_object_add(checks, "compressed_bytes",
			       json_object_new_string(check_names[v->file_bytes]));
	json_object_object_add(checks, "sha256_compressed",
			       json_object_new_string(check_names[v->file_sha]));
	json_object_object_add(o, "checks", checks);
	if (v->have_manifest) {
		json_object *unreadable = json_object_new_object();

		json_object_object_add(unreadable, "count", json_u64(v->manifest.unreadable_count));
		json_object_object_add(unreadable, "bytes", json_u64(v->manifest.unreadable_bytes));
		json_object_object_add(o, "manifest_unreadable", unreadable);
	}
	if (note)
		json_object_object_add(o, "note", json_object_new_string(note));
	if (!ok) {
		json_object_object_add(o, "error", json_object_new_string(v->mismatch));
		json_object_object_add(o, "mismatches", json_object_get(v->mismatch_names));
	}
	print_json(o);
}
