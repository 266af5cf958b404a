/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * /proc/iomem: the kernel's resource tree as text. We keep every entry for the
 * manifest (an analyst wants to see what the firmware and drivers claimed) and
 * derive the RAM to capture from the "System RAM" entries at any depth, so
 * hot-plugged memory such as "System RAM (virtio_mem)" nested under its
 * device is captured as well.
 */
#ifndef FORENSICS_CAPTURE_IOMEM_H
#define FORENSICS_CAPTURE_IOMEM_H

#include "capture/range.h"

/* /proc/iomem is a few KiB; past this it is not one. */
#define IOMEM_FILE_MAX (4u << 20)

#define IOMEM_NAME_MAX 64

struct iomem_entry {
	uint64_t start;
	uint64_t end; /* inclusive */
	unsigned int depth;
	char name[IOMEM_NAME_MAX];
};

struct iomem_table {
	struct iomem_entry *entries;
	size_t count;
};

/*
 * Parse the text of /proc/iomem. Returns 0, -EINVAL on a malformed line,
 * -EPERM when every address reads as zero (the reader lacks CAP_SYS_ADMIN and
 * the kernel hid them), -ENOMEM.
 */
int iomem_parse(const char *text, size_t len, struct iomem_table *table);
int iomem_read_file(const char *path, struct iomem_table *table);
void iomem_table_free(struct iomem_table *table);
/* Sorted, merged "System RAM" ranges. */
int iomem_system_ram(const struct iomem_table *table, struct range_list *ram);

#endif
