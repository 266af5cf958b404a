/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Memory sources: the ways into physical memory, tried in order until one
 * opens. Each reads bytes at a physical address; a source that reaches only
 * part of RAM says which part, so the rest is zero-filled and reported
 * rather than silently missing. Later sources (the project's module,
 * upstream LiME, eBPF) plug into the same table.
 */
#ifndef FORENSICS_CAPTURE_SOURCE_H
#define FORENSICS_CAPTURE_SOURCE_H

#include "capture/range.h"

#include <stddef.h>
#include <sys/types.h>

#define SOURCE_REASON_MAX 512
#define SOURCE_DETAIL_MAX 256

struct mem_source;

struct mem_source_ops {
	const char *name;        /* what --source takes */
	const char *path;        /* device or file it reads */
	/* 0, or negative errno with a one-line reason in why. */
	int (*open)(struct mem_source *src, const struct range_list *ram, char *why,
		    size_t whylen);
	/*
	 * Read up to len bytes at phys; may return fewer (e.g. at the end of a
	 * mapped segment). Negative errno when the bytes cannot be read.
	 */
	ssize_t (*read)(struct mem_source *src, uint64_t phys, void *buf, size_t len);
	/* Optional: the part of ram the source can reach (default: all). */
	int (*coverage)(struct mem_source *src, const struct range_list *ram,
			struct range_list *reachable);
	void (*close)(struct mem_source *src);
};

/*
 * How a module's stream reached the agent, for the manifest's
 * source.transport: who else could have read or written it.
 */
struct source_transport {
	const char *kind;          /* "fifo"; NULL: nothing to say (not a stream) */
	char path[128];            /* the FIFO, removed after the capture */
	unsigned int dir_mode;     /* its directory's permission bits */
	unsigned int mode;         /* the FIFO's */
	unsigned int uid;          /* owner of both */
	const char *filesystem;    /* "tmpfs" or "ramfs": never on a disk */
};

struct mem_source {
	const struct mem_source_ops *ops;
	/* The file it reads: ops->path unless overridden (tests, benchmarks). */
	const char *path;
	void *priv;
	/* How addresses were mapped, for the manifest ("p_paddr", ...). */
	char detail[SOURCE_DETAIL_MAX];
	struct source_transport transport;
};

enum source_attempt_status {
	SOURCE_USED,
	SOURCE_FAILED,   /* tried and could not open */
	SOURCE_SKIPPED,  /* not tried: an earlier source was used */
};

struct source_attempt {
	const char *name;
	const char *path;
	enum source_attempt_status status;
	int error;       /* negative errno for FAILED */
	char reason[SOURCE_REASON_MAX];
};

#define SOURCE_MAX 8

struct source_selection {
	struct source_attempt attempts[SOURCE_MAX];
	size_t count;
};

/* The direct map read by a BPF program (ebpf/): no module, no /proc/kcore needed. */
extern const struct mem_source_ops source_ebpf_ops;
/* Pages the ebpf source reads per BPF run; set before it opens (benchmarks). */
extern unsigned int source_ebpf_run_pages;
extern const struct mem_source_ops source_kcore_ops;
extern const struct mem_source_ops source_crash_ops;
extern const struct mem_source_ops source_devmem_ops;
/*
 * A file laid out like /dev/mem (offset = physical address), such as a
 * padded image. Never chosen automatically: for tests and benchmarks.
 */
extern const struct mem_source_ops source_file_ops;

/* The automatic order, best first. */
size_t source_table(const struct mem_source_ops *const **table);
const struct mem_source_ops *source_find(const char *name);
const char *source_attempt_status_name(enum source_attempt_status status);

/*
 * Open the named source, or (name NULL) the first that opens, appending
 * every attempt to selection (zero it first). If selection already holds a
 * used source (a kernel module's stream), the table is only recorded as
 * skipped. Returns 0 with src open, or the last error.
 */
int source_select(const char *name, const char *path, const struct range_list *ram,
		  struct mem_source *src, struct source_selection *selection);
void source_close(struct mem_source *src);

#endif
