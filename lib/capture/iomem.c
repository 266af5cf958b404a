// SPDX-License-Identifier: GPL-2.0-only
#include "capture/iomem.h"
#include "base/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SYSTEM_RAM "System RAM"

static int parse_hex(const char **pos, const char *end, uint64_t *value)
{
	const char *p = *pos;
	uint64_t v = 0;
	int digits = 0;

	while (p < end) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		if (digits == 16)
			return -EINVAL;
		v = (v << 4) | (uint64_t)d;
		digits++;
		p++;
	}
	if (!digits)
		return -EINVAL;
	*pos = p;
	*value = v;
	return 0;
}

static int parse_line(const char *p, const char *end, struct iomem_entry *e)
{
	unsigned int spaces = 0;
	size_t name_len;

	while (p < end && *p == ' ') {
		spaces++;
		p++;
	}
	if (parse_hex(&p, end, &e->start))
		return -EINVAL;
	if (p >= end || *p++ != '-')
		return -EINVAL;
	if (parse_hex(&p, end, &e->end))
		return -EINVAL;
	if (end - p < 3 || memcmp(p, " : ", 3))
		return -EINVAL;
	p += 3;
	if (e->end < e->start)
		return -EINVAL;
	name_len = (size_t)(end - p);
	if (name_len >= sizeof(e->name))
		name_len = sizeof(e->name) - 1;
	memcpy(e->name, p, name_len);
	e->name[name_len] = '\0';
	e->depth = spaces / 2;
	return 0;
}

int iomem_parse(const char *text, size_t len, struct iomem_table *table)
{
	const char *p = text, *end = text + len;
	size_t capacity = 0;
	bool any_nonzero = false;
	int ret;

	table->entries = NULL;
	table->count = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;
		struct iomem_entry entry;

		if (line_end == p) {
			p = line_end + 1;
			continue;
		}
		ret = parse_line(p, line_end, &entry);
		if (ret)
			goto fail;
		if (table->count == capacity) {
			size_t cap = capacity ? capacity * 2 : 64;
			struct iomem_entry *n = realloc(table->entries, cap * sizeof(*n));

			if (!n) {
				ret = -ENOMEM;
				goto fail;
			}
			table->entries = n;
			capacity = cap;
		}
		table->entries[table->count++] = entry;
		if (entry.start || entry.end)
			any_nonzero = true;
		p = line_end + 1;
	}
	if (table->count && !any_nonzero) {
		ret = -EPERM;
		goto fail;
	}
	return 0;
fail:
	iomem_table_free(table);
	return ret;
}

int iomem_read_file(const char *path, struct iomem_table *table)
{
	char *text;
	size_t len;
	int ret;

	ret = read_whole_file(path, IOMEM_FILE_MAX, &text, &len);
	if (ret)
		return ret;
	ret = iomem_parse(text, len, table);
	free(text);
	return ret;
}

void iomem_table_free(struct iomem_table *table)
{
	free(table->entries);
	table->entries = NULL;
	table->count = 0;
}

int iomem_system_ram(const struct iomem_table *table, struct range_list *ram)
{
	for (size_t i = 0; i < table->count; i++) {
		const struct iomem_entry *e = &table->entries[i];
		int ret;

		if (strncmp(e->name, SYSTEM_RAM, strlen(SYSTEM_RAM)))
			continue;
		ret = range_list_add(ram, e->start, e->end);
		if (ret)
			return ret;
	}
	range_list_normalize(ram);
	return 0;
}
