// SPDX-License-Identifier: GPL-2.0-only
/*
 * Character devices whose file offset is the physical address: /dev/crash
 * (Red Hat's driver for the crash utility) and /dev/mem. Both are usually
 * closed on hardened kernels, so opening them probes one page of RAM above
 * the first megabyte to tell STRICT_DEVMEM from a working device.
 */
#include "capture/source.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROBE_ABOVE (1ull << 20)
#define PROBE_BYTES 4096

struct devmem_source {
	int fd;
};

static void devmem_close(struct mem_source *src)
{
	struct devmem_source *d = src->priv;

	if (!d)
		return;
	if (d->fd >= 0)
		close(d->fd);
	free(d);
	src->priv = NULL;
}

static uint64_t probe_address(const struct range_list *ram)
{
	for (size_t i = 0; i < ram->count; i++) {
		const struct mem_range *r = &ram->items[i];

		if (r->end >= PROBE_ABOVE + PROBE_BYTES - 1 && mem_range_size(r) >= PROBE_BYTES)
			return r->start > PROBE_ABOVE ? r->start : PROBE_ABOVE;
	}
	return ram->count ? ram->items[0].start : 0;
}

static int devmem_open(struct mem_source *src, const struct range_list *ram, char *why,
		       size_t whylen)
{
	const char *path = src->path;
	struct devmem_source *d = calloc(1, sizeof(*d));
	unsigned char probe[PROBE_BYTES];
	uint64_t at;
	ssize_t n;
	int ret;

	if (!d)
		return -ENOMEM;
	src->priv = d;
	d->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (d->fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			snprintf(why, whylen, "%s absent (no such driver in this kernel)", path);
		else if (ret == -EPERM || ret == -EACCES)
			snprintf(why, whylen, "%s not permitted (needs CAP_SYS_RAWIO; lockdown forbids it)",
				 path);
		goto fail;
	}
	if (src->ops == &source_file_ops)
		goto opened;  /* a plain file has no STRICT_DEVMEM to detect */
	at = probe_address(ram);
	n = pread_full(d->fd, probe, sizeof(probe), at);
	if (n != (ssize_t)sizeof(probe)) {
		ret = n < 0 ? (int)n : -EIO;
		snprintf(why, whylen, "%s refuses to read RAM at 0x%" PRIx64 ": %s%s", path, at,
			 strerror(-ret),
			 ret == -EPERM ? " (CONFIG_STRICT_DEVMEM limits it to the first MiB)" : "");
		goto fail;
	}
opened:
	snprintf(src->detail, sizeof(src->detail), "file offset is the physical address (%s)",
		 path);
	return 0;
fail:
	devmem_close(src);
	return ret;
}

static ssize_t devmem_read(struct mem_source *src, uint64_t phys, void *buf, size_t len)
{
	struct devmem_source *d = src->priv;

	return pread_full(d->fd, buf, len, phys);
}

const struct mem_source_ops source_crash_ops = {
	.name = "crash",
	.path = "/dev/crash",
	.open = devmem_open,
	.read = devmem_read,
	.close = devmem_close,
};

const struct mem_source_ops source_devmem_ops = {
	.name = "devmem",
	.path = "/dev/mem",
	.open = devmem_open,
	.read = devmem_read,
	.close = devmem_close,
};

const struct mem_source_ops source_file_ops = {
	.name = "file",
	.path = "memory.raw",
	.open = devmem_open,
	.read = devmem_read,
	.close = devmem_close,
};
