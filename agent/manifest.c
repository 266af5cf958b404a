// SPDX-License-Identifier: GPL-2.0-only
#include "manifest.h"
#include "base/sink.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

json_object *manifest_address(uint64_t address)
{
	char text[24];

	snprintf(text, sizeof(text), "0x%" PRIx64, address);
	return json_object_new_string(text);
}

static json_object *range_object(uint64_t start, uint64_t end)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "start", manifest_address(start));
	json_object_object_add(o, "end", manifest_address(end));
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)(end - start + 1)));
	return o;
}

json_object *manifest_ranges(const struct range_list *ranges)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < ranges->count; i++)
		json_object_array_add(a, range_object(ranges->items[i].start, ranges->items[i].end));
	return a;
}

json_object *manifest_iomem(const struct iomem_table *table)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < table->count; i++) {
		const struct iomem_entry *e = &table->entries[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "start", manifest_address(e->start));
		json_object_object_add(o, "end", manifest_address(e->end));
		json_object_object_add(o, "depth", json_object_new_int((int)e->depth));
		json_object_object_add(o, "name", json_object_new_string(e->name));
		json_object_array_add(a, o);
	}
	return a;
}

json_object *manifest_source(const struct mem_source *src, const struct source_selection *sel)
{
	json_object *o = json_object_new_object();
	json_object *attempts = json_object_new_array();

	for (size_t i = 0; i < sel->count; i++) {
		const struct source_attempt *a = &sel->attempts[i];
		json_object *e = json_object_new_object();

		json_object_object_add(e, "name", json_object_new_string(a->name));
		json_object_object_add(e, "path", json_object_new_string(a->path));
		json_object_object_add(e, "status",
				       json_object_new_string(source_attempt_status_name(a->status)));
		json_object_object_add(e, "reason", json_object_new_string(a->reason));
		json_object_array_add(attempts, e);
		if (a->status == SOURCE_USED) {
			json_object_object_add(o, "name", json_object_new_string(a->name));
			json_object_object_add(o, "path", json_object_new_string(a->path));
		}
	}
	json_object_object_add(o, "detail", json_object_new_string(src->detail));
	json_object_object_add(o, "attempts", attempts);
	return o;
}

json_object *manifest_unreadable(const struct capture_result *result)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < result->unreadable_count; i++) {
		const struct unreadable_range *u = &result->unreadable[i];
		json_object *o = range_object(u->start, u->end);

		json_object_object_add(o, "reason",
				       json_object_new_string(u->error == -ENXIO ?
							      "not mapped by the source" :
							      strerror(-u->error)));
		json_object_array_add(a, o);
	}
	return a;
}

int manifest_write(json_object *manifest, struct sink *out)
{
	const char *text = json_object_to_json_string_ext(manifest, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
	int ret = sink_write(out, text, strlen(text));

	if (!ret)
		ret = sink_write(out, "\n", 1);
	if (!ret)
		ret = sink_finish(out);
	return ret;
}
