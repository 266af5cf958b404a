// SPDX-License-Identifier: GPL-2.0-only
/*
 * System RAM as the kernel's resource tree knows it, i.e. what /proc/iomem
 * names "System RAM": every resource flagged IORESOURCE_SYSTEM_RAM and
 * IORESOURCE_BUSY, nested ones included ("System RAM (virtio_mem)",
 * "System RAM (kmem)", RAM below a "Reserved" parent), with touching spans
 * merged.  Device memory, ROM and reserved ranges never carry the flag.
 *
 * BUSY is what tells RAM from a driver's container for RAM it may add
 * later: virtio-mem claims its whole device region as System RAM ("virtio0"
 * in /proc/iomem; later kernels also flag it exclusive) and dax/kmem claims
 * its range ("dax0.0") the same way, but both clear BUSY so that memory can
 * be added below them, and only that memory is backed.  Reading the rest of
 * a virtio-mem region would touch unplugged memory.  The same two flags are
 * the kernel's own definition (walk_system_ram_res(), kexec).
 *
 * resource_lock is private to kernel/resource.c, so the tree is read
 * through walk_iomem_res_desc(), the one walker exported (GPL) by every
 * kernel we support that also descends into children.
 * walk_system_ram_res() is not exported and stays at the first level.
 */
#include <linux/ioport.h>
#include <linux/slab.h>

#include "ranges.h"

/* A generous bound on distinct RAM spans; a real map has tens. */
#define FMEM_RANGES_MAX 65536

static int append_span(struct fmem_ranges *ranges, u64 start, u64 end)
{
	struct fmem_range *last = ranges->count ? &ranges->v[ranges->count - 1] : NULL;
	struct fmem_range *grown;
	u32 capacity;

	/*
	 * The walker reports in ascending order and resumes after the end of
	 * what it reported, so only the last span can touch the new one; the
	 * overlap test is belt and braces.
	 */
	if (last && start <= last->end + 1) {
		if (end > last->end)
			last->end = end;
		return 0;
	}
	if (ranges->count == ranges->capacity) {
		if (ranges->capacity >= FMEM_RANGES_MAX)
			return -E2BIG;
		capacity = ranges->capacity ? ranges->capacity * 2 : 16;
		grown = krealloc(ranges->v, capacity * sizeof(*grown), GFP_KERNEL);
		if (!grown)
			return -ENOMEM;
		ranges->v = grown;
		ranges->capacity = capacity;
	}
	ranges->v[ranges->count].start = start;
	ranges->v[ranges->count].end = end;
	ranges->count++;
	return 0;
}

/* Called by walk_iomem_res_desc() with resource_lock already dropped. */
static int collect_one(struct resource *res, void *arg)
{
	if (res->end < res->start)
		return 0;
	return append_span(arg, res->start, res->end);
}

int fmem_ranges_collect(struct fmem_ranges *ranges)
{
	u64 off = 0;
	u32 i;
	int ret;

	memset(ranges, 0, sizeof(*ranges));
	ret = walk_iomem_res_desc(IORES_DESC_NONE,
				  IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY,
				  0, U64_MAX, ranges, collect_one);
	/* The walker answers -EINVAL when nothing matched at all. */
	if (ret && ret != -EINVAL)
		goto err_free;
	if (!ranges->count) {
		ret = -ENODEV;
		goto err_free;
	}

	for (i = 0; i < ranges->count; i++) {
		struct fmem_range *r = &ranges->v[i];

		r->stream_off = off;
		off += fmem_range_stream_len(r);
		ranges->ram_bytes += r->end - r->start + 1;
	}
	ranges->stream_size = off;
	return 0;

err_free:
	fmem_ranges_free(ranges);
	return ret;
}

void fmem_ranges_free(struct fmem_ranges *ranges)
{
	kfree(ranges->v);
	memset(ranges, 0, sizeof(*ranges));
}
