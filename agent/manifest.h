/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The manifest: a JSON record written beside every image that says what was
 * captured, from which machine and boot, how, and with which hashes.
 * Schema: docs/manifest.md. Addresses are "0x..." strings (JSON numbers lose
 * precision past 2^53); byte counts are integers.
 */
#ifndef FORENSICS_MANIFEST_H
#define FORENSICS_MANIFEST_H

#include "capture/capture.h"
#include "capture/iomem.h"
#include "capture/source.h"

#include <json-c/json.h>

#define MANIFEST_SCHEMA "forensics-agent/manifest/v1"
#define MANIFEST_SUFFIX ".manifest.json"

json_object *manifest_address(uint64_t address);
json_object *manifest_ranges(const struct range_list *ranges);
json_object *manifest_iomem(const struct iomem_table *table);
json_object *manifest_source(const struct mem_source *src, const struct source_selection *sel);
json_object *manifest_unreadable(const struct capture_result *result);
/* Pretty JSON into out, then finish it (a file sink renames its ".partial"). */
int manifest_write(json_object *manifest, struct sink *out);

#endif
