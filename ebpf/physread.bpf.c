// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel side of physread: copies kernel memory into a map user space has
 * mmap'ed. Only bpf_probe_read_kernel touches kernel memory, so an unmapped
 * or faulting page costs an error code, never an oops; the loop is bounded
 * by a constant, so a run always ends.
 *
 * No kernel structure is read, hence no vmlinux.h and no CO-RE relocation:
 * the object loads on any kernel with the helpers, BTF or not.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "physread.h"

#define ENOENT 2
#define EINVAL 22

char LICENSE[] SEC("license") = "GPL";

struct page_buf {
	__u8 bytes[PHYSREAD_PAGE_SIZE];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, PHYSREAD_MAX_PAGES);  /* the loader may shrink it */
	__type(key, __u32);
	__type(value, struct page_buf);
} pages SEC(".maps");

/* Results, in .bss which libbpf maps into the loader. */
__s32 page_err[PHYSREAD_MAX_PAGES];
__u64 value;

/* Resolved from /proc/kallsyms by libbpf when listed there, else 0. */
extern const void page_offset_base __ksym __weak;

SEC("raw_tp")
int physread(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 op = ctx->args[PHYSREAD_ARG_OP];
	__u64 addr = ctx->args[PHYSREAD_ARG_ADDR];
	__u64 count = ctx->args[PHYSREAD_ARG_PAGES];

	if (op == PHYSREAD_OP_TASK) {
		value = bpf_get_current_task();
		return 0;
	}
	if (op == PHYSREAD_OP_BASE) {
		if (!&page_offset_base)
			return -ENOENT;
		return bpf_probe_read_kernel(&value, sizeof(value), &page_offset_base);
	}
	if (op != PHYSREAD_OP_PAGES)
		return -EINVAL;
	for (__u32 i = 0; i < PHYSREAD_MAX_PAGES; i++) {
		__u32 key = i;
		struct page_buf *dst;

		if (i >= count)
			break;
		dst = bpf_map_lookup_elem(&pages, &key);
		if (!dst)
			break;
		/* On failure the helper zeroes dst. */
		page_err[i] = bpf_probe_read_kernel(dst, sizeof(*dst),
						    (const void *)(addr + (__u64)i * PHYSREAD_PAGE_SIZE));
	}
	return 0;
}
