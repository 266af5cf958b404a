// SPDX-License-Identifier: GPL-2.0-only
/* Physical memory through /proc/kcore's PT_LOAD segments. */
#include "capture/kcore.h"
#include "capture/source.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KCORE_PATH "/proc/kcore"
#define KALLSYMS_PATH "/proc/kallsyms"
#define KALLSYMS_MAX (64u << 20)
/* x86-64 PAGE_OFFSET with 4-level paging and no KASLR. */
#define DEFAULT_DIRECT_MAP_BASE 0xffff888000000000ull
/* The kernel image and modules live at or above this (__START_KERNEL_map). */
#define KERNEL_TEXT_START 0xffffffff80000000ull

struct kcore_source {
	int fd;
	struct kcore_segment *segments;
	size_t segment_count;
	struct kcore_map map;
};

/* The address of a data symbol, if kallsyms shows it (KALLSYMS_ALL, kptr_restrict). */
static int kallsyms_lookup(const char *symbol, uint64_t *address)
{
	size_t len, symlen = strlen(symbol);
	char *text, *line;
	int ret = -ENOENT;

	if (read_whole_file(KALLSYMS_PATH, KALLSYMS_MAX, &text, &len))
		return -ENOENT;
	for (line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		char *end = strchr(line, '\n');
		size_t linelen = end ? (size_t)(end - line) : strlen(line);

		/* "ffffffff82a1b2c8 D page_offset_base" */
		if (linelen > symlen + 19 && !memcmp(line + linelen - symlen, symbol, symlen) &&
		    line[linelen - symlen - 1] == ' ') {
			*address = strtoull(line, NULL, 16);
			ret = *address ? 0 : -EPERM;
			break;
		}
	}
	free(text);
	return ret;
}

static int read_kernel_vaddr(struct kcore_source *k, uint64_t vaddr, void *buf, size_t len)
{
	for (size_t i = 0; i < k->segment_count; i++) {
		const struct kcore_segment *s = &k->segments[i];

		if (vaddr >= s->vaddr && vaddr + len <= s->vaddr + s->size) {
			ssize_t n = pread_full(k->fd, buf, len, s->offset + (vaddr - s->vaddr));

			return n == (ssize_t)len ? 0 : -EIO;
		}
	}
	return -ENOENT;
}

/*
 * Only needed when p_paddr is unset: find PAGE_OFFSET from the variable
 * page_offset_base, read through kcore itself, else assume the non-KASLR base.
 */
static uint64_t find_direct_map_base(struct kcore_source *k, char *detail, size_t detail_len)
{
	uint64_t symbol, base;

	if (!kallsyms_lookup("page_offset_base", &symbol) &&
	    !read_kernel_vaddr(k, symbol, &base, sizeof(base)) && base >= 0xffff800000000000ull) {
		snprintf(detail, detail_len,
			 "p_paddr unset; direct map base 0x%" PRIx64
			 " read from page_offset_base (kallsyms)", base);
		return base;
	}
	snprintf(detail, detail_len,
		 "p_paddr unset and page_offset_base not in kallsyms; assumed direct map base 0x%llx",
		 DEFAULT_DIRECT_MAP_BASE);
	return DEFAULT_DIRECT_MAP_BASE;
}

static void kcore_close(struct mem_source *src)
{
	struct kcore_source *k = src->priv;

	if (!k)
		return;
	if (k->fd >= 0)
		close(k->fd);
	free(k->segments);
	kcore_map_free(&k->map);
	free(k);
	src->priv = NULL;
}

static int kcore_open(struct mem_source *src, const struct range_list *ram, char *why,
		      size_t whylen)
{
	struct kcore_source *k = calloc(1, sizeof(*k));
	size_t header_len = KCORE_HEADER_READ;
	unsigned char *header = NULL;
	bool ram_paddr_set = false;
	uint64_t base = 0;
	ssize_t n;
	int ret;

	if (!k)
		return -ENOMEM;
	src->priv = k;
	k->fd = open(KCORE_PATH, O_RDONLY | O_CLOEXEC);
	if (k->fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			snprintf(why, whylen, KCORE_PATH " absent (kernel without CONFIG_PROC_KCORE)");
		else if (ret == -EPERM || ret == -EACCES)
			snprintf(why, whylen, KCORE_PATH
				 " not permitted (needs CAP_SYS_RAWIO; lockdown forbids it)");
		goto fail;
	}
	header = malloc(header_len);
	if (!header) {
		ret = -ENOMEM;
		goto fail;
	}
	n = pread_full(k->fd, header, header_len, 0);
	if (n < 0) {
		ret = (int)n;
		snprintf(why, whylen, KCORE_PATH " header unreadable: %s", strerror(-ret));
		goto fail;
	}
	ret = kcore_parse_segments(header, (size_t)n, &k->segments, &k->segment_count);
	if (ret) {
		snprintf(why, whylen, KCORE_PATH " is not an x86-64 ELF core with a readable program header table");
		goto fail;
	}
	for (size_t i = 0; i < k->segment_count; i++) {
		const struct kcore_segment *s = &k->segments[i];

		/* Kernels that set p_paddr set it on every RAM segment; text does not count. */
		if (s->vaddr < KERNEL_TEXT_START && kcore_paddr_valid(s->paddr))
			ram_paddr_set = true;
	}
	if (ram_paddr_set)
		snprintf(src->detail, sizeof(src->detail),
			 "physical addresses from p_paddr of %zu PT_LOAD segments", k->segment_count);
	else
		base = find_direct_map_base(k, src->detail, sizeof(src->detail));
	ret = kcore_build_map(k->segments, k->segment_count, base, ram, &k->map);
	if (ret)
		goto fail;
	if (!k->map.count) {
		snprintf(why, whylen, KCORE_PATH " has no segment covering System RAM");
		ret = -ENODATA;
		goto fail;
	}
	free(header);
	return 0;
fail:
	free(header);
	kcore_close(src);
	return ret;
}

static ssize_t kcore_read(struct mem_source *src, uint64_t phys, void *buf, size_t len)
{
	struct kcore_source *k = src->priv;
	const struct kcore_map_entry *e = kcore_map_find(&k->map, phys);
	uint64_t avail;

	if (!e)
		return -ENXIO;
	avail = e->phys_end - phys + 1;
	if (len > avail)
		len = (size_t)avail;
	return pread_full(k->fd, buf, len, e->file_offset + (phys - e->phys_start));
}

static int kcore_coverage(struct mem_source *src, const struct range_list *ram,
			  struct range_list *reachable)
{
	struct kcore_source *k = src->priv;
	struct range_list mapped;
	int ret = 0;

	range_list_init(&mapped);
	for (size_t i = 0; i < k->map.count && !ret; i++)
		ret = range_list_add(&mapped, k->map.entries[i].phys_start,
				     k->map.entries[i].phys_end);
	if (!ret) {
		range_list_normalize(&mapped);
		ret = range_list_intersect(ram, &mapped, reachable);
	}
	range_list_free(&mapped);
	return ret;
}

const struct mem_source_ops source_kcore_ops = {
	.name = "kcore",
	.path = KCORE_PATH,
	.open = kcore_open,
	.read = kcore_read,
	.coverage = kcore_coverage,
	.close = kcore_close,
};
