/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * physread: read kernel memory (the direct map of physical RAM) from a BPF
 * program triggered with BPF_PROG_TEST_RUN. Shared by the kernel side
 * (physread.bpf.c) and its loader (physread.c); the loader's API is below
 * the constants, hidden from the BPF compiler.
 */
#ifndef FORENSICS_PHYSREAD_H
#define FORENSICS_PHYSREAD_H

#define PHYSREAD_PAGE_SIZE 4096
/* Pages one run can read: the size of the buffer map (4 MiB) and the loop bound. */
#define PHYSREAD_MAX_PAGES 1024

/* The raw_tracepoint arguments of one run (ctx->args[]). */
enum physread_arg {
	PHYSREAD_ARG_OP,
	PHYSREAD_ARG_ADDR,   /* kernel virtual address (PAGES) */
	PHYSREAD_ARG_PAGES,  /* page count (PAGES) */
	PHYSREAD_ARG_COUNT,
};

enum physread_op {
	/* Copy ARG_PAGES pages from ARG_ADDR into the pages map; page_err[i] per page. */
	PHYSREAD_OP_PAGES = 1,
	/* value = page_offset_base, if the kernel's kallsyms named it (weak __ksym). */
	PHYSREAD_OP_BASE = 2,
	/* value = the current task_struct pointer: a slab object, so in the direct map. */
	PHYSREAD_OP_TASK = 3,
};

#ifndef __bpf__
#include <stddef.h>
#include <stdint.h>

struct physread;

/*
 * Load the embedded program (max_pages: the buffer size, 1..PHYSREAD_MAX_PAGES).
 * 0 or negative errno with a one-line reason.
 */
int physread_open(unsigned int max_pages, struct physread **out, char *why, size_t whylen);
unsigned int physread_max_pages(const struct physread *pr);
/*
 * Read pages at kernel address addr (page aligned). 0 when the program ran:
 * page_err(i) then says which pages were read. Negative errno otherwise.
 */
int physread_pages(struct physread *pr, uint64_t addr, unsigned int pages);
/* After physread_pages: 0, or the negative errno of page i (its bytes are zero). */
int physread_page_err(const struct physread *pr, unsigned int i);
/* After physread_pages: page i's bytes, valid until the next run. */
const void *physread_page(const struct physread *pr, unsigned int i);
/* page_offset_base read in the kernel; -ENOENT when kallsyms does not name it. */
int physread_kallsyms_base(struct physread *pr, uint64_t *base);
/* A kernel pointer known to lie in the direct map (the current task_struct). */
int physread_task_pointer(struct physread *pr, uint64_t *ptr);
void physread_close(struct physread *pr);
#endif

#endif
