// SPDX-License-Identifier: GPL-2.0-only
#include "capture/source.h"
#include "base/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const struct mem_source_ops *const sources[] = {
	&source_ebpf_ops,
	&source_kcore_ops,
	&source_crash_ops,
	&source_devmem_ops,
};

size_t source_table(const struct mem_source_ops *const **table)
{
	*table = sources;
	return ARRAY_SIZE(sources);
}

const struct mem_source_ops *source_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(sources); i++)
		if (!strcmp(sources[i]->name, name))
			return sources[i];
	if (!strcmp(name, source_file_ops.name))
		return &source_file_ops;
	return NULL;
}

const char *source_attempt_status_name(enum source_attempt_status status)
{
	switch (status) {
	case SOURCE_USED:
		return "used";
	case SOURCE_FAILED:
		return "failed";
	case SOURCE_SKIPPED:
		return "skipped";
	}
	return "unknown";
}

static int try_open(const struct mem_source_ops *ops, const char *path,
		    const struct range_list *ram, struct mem_source *src,
		    struct source_attempt *attempt)
{
	int ret;

	memset(src, 0, sizeof(*src));
	src->ops = ops;
	src->path = path ? path : ops->path;
	attempt->name = ops->name;
	attempt->path = src->path;
	attempt->reason[0] = '\0';
	ret = ops->open(src, ram, attempt->reason, sizeof(attempt->reason));
	if (ret) {
		attempt->status = SOURCE_FAILED;
		attempt->error = ret;
		if (!attempt->reason[0])
			snprintf(attempt->reason, sizeof(attempt->reason), "%s: %s", src->path,
				 strerror(-ret));
		src->ops = NULL;
		return ret;
	}
	attempt->status = SOURCE_USED;
	attempt->error = 0;
	snprintf(attempt->reason, sizeof(attempt->reason), "%s", src->detail);
	return 0;
}

int source_select(const char *name, const char *path, const struct range_list *ram,
		  struct mem_source *src, struct source_selection *selection)
{
	int ret = -ENOENT;
	bool used = false;

	/* Attempts are appended: stream sources (kernel modules) come first. */
	for (size_t i = 0; i < selection->count; i++)
		used |= selection->attempts[i].status == SOURCE_USED;
	if (used)
		ret = 0;
	if (name) {
		const struct mem_source_ops *ops = source_find(name);

		if (!ops)
			return -EINVAL;
		ret = try_open(ops, path, ram, src, &selection->attempts[selection->count++]);
		return ret;
	}
	for (size_t i = 0; i < ARRAY_SIZE(sources) && selection->count < SOURCE_MAX; i++) {
		struct source_attempt *attempt = &selection->attempts[selection->count++];

		if (used) {
			attempt->name = sources[i]->name;
			attempt->path = sources[i]->path;
			attempt->status = SOURCE_SKIPPED;
			snprintf(attempt->reason, sizeof(attempt->reason),
				 "not needed: an earlier source was used");
			continue;
		}
		ret = try_open(sources[i], NULL, ram, src, attempt);
		if (!ret)
			used = true;
	}
	return used ? 0 : ret;
}

void source_close(struct mem_source *src)
{
	if (src->ops && src->ops->close)
		src->ops->close(src);
	src->ops = NULL;
}
