/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * The interface between the forensics_mem capture module and the agent.
 *
 * The module registers a misc character device, /dev/forensics_mem (mode
 * 0400).  It may be opened exactly once, and only by the process (thread
 * group) that loaded the module: the agent calls finit_module() itself, so
 * the loader's tgid is known at module_init.  After that single open is
 * closed the device refuses every further open until the module is
 * reloaded.  There is no network port.
 *
 * read() returns one LiME stream (format version 1, see docs/lime-format.md):
 * for each "System RAM" range of the resource tree, a 32-byte header
 * followed by the range's bytes, in ascending physical order.  Reads may be
 * of any size; large reads (1 MiB and up) are the fast path.  read()
 * returns 0 at the end of the stream.  Pages the module cannot read are
 * zero-filled in the stream and listed by FORENSICS_MEM_IOC_UNREADABLE.
 */
#ifndef FORENSICS_MEM_UAPI_H
#define FORENSICS_MEM_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define FORENSICS_MEM_DEVICE "forensics_mem"
#define FORENSICS_MEM_ABI_VERSION 1

struct forensics_mem_info {
	__u32 abi_version;	/* FORENSICS_MEM_ABI_VERSION */
	__u32 range_count;	/* System RAM ranges in the stream */
	__u64 stream_size;	/* bytes read() returns in total, headers included */
	__u64 ram_bytes;	/* bytes of RAM in the stream, headers excluded */
	__u64 stream_offset;	/* bytes returned so far */
	__u64 unreadable_pages;	/* zero-filled so far */
	__u64 slow_pages;	/* pages whose copy exceeded page_timeout_ms */
};

/* One range of unreadable (zero-filled) physical memory, end exclusive. */
struct forensics_mem_range {
	__u64 start;
	__u64 end;
};

/*
 * FORENSICS_MEM_IOC_UNREADABLE: the caller sets capacity and points ranges
 * at an array of that many entries; the module fills up to capacity, sets
 * count to the number filled and total to the number it holds (merged,
 * ascending).  total > count means the caller's array was too small.
 */
struct forensics_mem_unreadable {
	__u64 ranges;		/* user pointer to struct forensics_mem_range[] */
	__u32 capacity;
	__u32 count;
	__u32 total;
	__u32 truncated;	/* the module's own list overflowed */
};

#define FORENSICS_MEM_IOC_MAGIC 'F'
#define FORENSICS_MEM_IOC_INFO _IOR(FORENSICS_MEM_IOC_MAGIC, 1, struct forensics_mem_info)
#define FORENSICS_MEM_IOC_UNREADABLE _IOWR(FORENSICS_MEM_IOC_MAGIC, 2, struct forensics_mem_unreadable)

#endif
