// SPDX-License-Identifier: GPL-2.0-only
/*
 * Physical memory through the kernel's direct map, read by a BPF program
 * (ebpf/physread.bpf.c) with bpf_probe_read_kernel: for hosts where no
 * module loads and /proc/kcore is absent, as long as BPF is allowed.
 *
 * The direct map's base (page_offset_base) is randomized by KASLR. It comes
 * from kallsyms when the kernel lists it there; otherwise it is found by
 * planting two pages of random bytes, learning their physical addresses
 * from /proc/self/pagemap, and trying the PUD-aligned bases KASLR allows
 * until both pages read back (directmap.c).
 */
#include "capture/directmap.h"
#include "capture/iomem.h"
#include "physread.h"
#include "capture/source.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#define LOCKDOWN_PATH "/sys/kernel/security/lockdown"
#define MEMINFO_PATH "/proc/meminfo"
#define PAGEMAP_PATH "/proc/self/pagemap"
#define KPAGEFLAGS_PATH "/proc/kpageflags"
#define SMALL_FILE_MAX (1u << 20)
/* 1 MiB per BPF run: beyond it throughput no longer grows (docs/PERFORMANCE.md). */
#define EBPF_RUN_PAGES 256u
#define MAX_CANDIDATES (1u << 16)

unsigned int source_ebpf_run_pages = EBPF_RUN_PAGES;

struct ebpf_source {
	struct physread *pr;
	uint64_t base;
	int kpageflags_fd;
	uint64_t *flags;
};

/* Two pages of random bytes, locked in RAM, and where they are. */
struct pattern_pages {
	unsigned char *mem;
	uint64_t phys[2];
};

static int read_small(const char *path, char **text, size_t *len)
{
	return read_whole_file(path, SMALL_FILE_MAX, text, len);
}

static void free_patterns(struct pattern_pages *pp)
{
	if (pp->mem)
		munmap(pp->mem, 2 * DIRECTMAP_PAGE_SIZE);
	pp->mem = NULL;
}

static int plant_patterns(struct pattern_pages *pp)
{
	uint64_t entries[2];
	int fd, ret = 0;

	pp->mem = mmap(NULL, 2 * DIRECTMAP_PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pp->mem == MAP_FAILED) {
		pp->mem = NULL;
		return -errno;
	}
	madvise(pp->mem, 2 * DIRECTMAP_PAGE_SIZE, MADV_NOHUGEPAGE);
	for (size_t got = 0; got < 2 * DIRECTMAP_PAGE_SIZE;) {
		ssize_t n = getrandom(pp->mem + got, 2 * DIRECTMAP_PAGE_SIZE - got, 0);

		if (n < 0 && errno != EINTR)
			return -errno;
		got += n > 0 ? (size_t)n : 0;
	}
	if (mlock(pp->mem, 2 * DIRECTMAP_PAGE_SIZE))
		return -errno;
	fd = open(PAGEMAP_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pread_full(fd, entries, sizeof(entries),
		       (uintptr_t)pp->mem / DIRECTMAP_PAGE_SIZE * sizeof(entries[0])) !=
	    (ssize_t)sizeof(entries))
		ret = -EIO;
	close(fd);
	for (int i = 0; i < 2 && !ret; i++) {
		uint64_t pfn;

		ret = directmap_pagemap_pfn(entries[i], &pfn);
		pp->phys[i] = pfn * DIRECTMAP_PAGE_SIZE;
	}
	return ret;
}

static int read_page(void *ctx, uint64_t vaddr, void *buf)
{
	struct physread *pr = ctx;
	int ret = physread_pages(pr, vaddr, 1);

	if (ret)
		return ret;
	ret = physread_page_err(pr, 0);
	if (!ret)
		memcpy(buf, physread_page(pr, 0), DIRECTMAP_PAGE_SIZE);
	return ret;
}

/* The end of System RAM on this machine, from the kernel's own map (0: unknown). */
static uint64_t ram_end(void)
{
	struct iomem_table table = { 0 };
	struct range_list ram;
	uint64_t end = 0;

	range_list_init(&ram);
	if (!iomem_read_file("/proc/iomem", &table) && !iomem_system_ram(&table, &ram) &&
	    ram.count)
		end = ram.items[ram.count - 1].end + 1;
	range_list_free(&ram);
	iomem_table_free(&table);
	return end;
}

static bool kaslr_disabled(void)
{
	char *text;
	size_t len;
	bool off = false;

	if (read_small("/proc/cmdline", &text, &len))
		return false;
	for (char *p = strstr(text, "nokaslr"); p; p = strstr(p + 1, "nokaslr"))
		if ((p == text || p[-1] == ' ') && (p[7] == ' ' || p[7] == '\n' || !p[7]))
			off = true;
	free(text);
	return off;
}

static int find_base(struct ebpf_source *e, char *detail, size_t dlen, char *why, size_t whylen)
{
	struct pattern_pages pp = { 0 };
	struct directmap_probe probe = { .read_page = read_page, .ctx = e->pr };
	uint64_t *candidates = NULL, base, ptr;
	size_t n;
	int plant_err, ret;

	plant_err = plant_patterns(&pp);
	if (!plant_err) {
		probe.pattern[0] = pp.mem;
		probe.pattern[1] = pp.mem + DIRECTMAP_PAGE_SIZE;
		probe.phys[0] = pp.phys[0];
		probe.phys[1] = pp.phys[1];
	}
	ret = physread_kallsyms_base(e->pr, &base);
	if (!ret && plant_err) {
		snprintf(detail, dlen, "kallsyms page_offset_base 0x%" PRIx64
			 " (unverified: no PFNs in pagemap)", base);
		goto found;
	}
	if (!ret && !directmap_verify_base(&probe, base)) {
		snprintf(detail, dlen, "kallsyms page_offset_base 0x%" PRIx64
			 ", verified at phys 0x%" PRIx64 " and 0x%" PRIx64, base, pp.phys[0],
			 pp.phys[1]);
		goto found;
	}
	ret = physread_task_pointer(e->pr, &ptr);
	if (ret) {
		snprintf(why, whylen, "cannot read a kernel pointer through BPF: %s", strerror(-ret));
		goto out;
	}
	if (plant_err) {
		if (kaslr_disabled()) {
			base = directmap_region_start(ptr);
			snprintf(detail, dlen, "default base 0x%" PRIx64 " (nokaslr; no PFNs in pagemap)",
				 base);
			goto found;
		}
		ret = -ENODATA;
		snprintf(why, whylen, "cannot locate the direct map under KASLR: page_offset_base "
			 "is not in kallsyms and %s gives no PFNs (%s)", PAGEMAP_PATH,
			 strerror(-plant_err));
		goto out;
	}
	candidates = calloc(MAX_CANDIDATES, sizeof(*candidates));
	if (!candidates) {
		ret = -ENOMEM;
		goto out;
	}
	n = directmap_candidates(ptr, ram_end(), candidates, MAX_CANDIDATES);
	ret = directmap_probe_base(&probe, candidates, n < MAX_CANDIDATES ? n : MAX_CANDIDATES,
				   &base);
	/* Compaction may have moved a planted page since pagemap named it: once more. */
	if (ret == -ENOENT) {
		free_patterns(&pp);
		ret = plant_patterns(&pp);
		if (!ret) {
			probe.pattern[0] = pp.mem;
			probe.pattern[1] = pp.mem + DIRECTMAP_PAGE_SIZE;
			probe.phys[0] = pp.phys[0];
			probe.phys[1] = pp.phys[1];
			ret = directmap_probe_base(&probe, candidates,
						   n < MAX_CANDIDATES ? n : MAX_CANDIDATES, &base);
		}
	}
	if (ret) {
		snprintf(why, whylen, "direct map base not found: pattern page at phys 0x%" PRIx64
			 " matched none of %zu candidate bases below 0x%" PRIx64 " (%s)",
			 pp.phys[0], n, ptr, strerror(-ret));
		goto out;
	}
	snprintf(detail, dlen, "probed: pattern page at phys 0x%" PRIx64 " matched at base 0x%"
		 PRIx64 ", verified at phys 0x%" PRIx64 " (%u pages read)", pp.phys[0], base,
		 pp.phys[1], probe.reads);
found:
	e->base = base;
	ret = 0;
out:
	free(candidates);
	free_patterns(&pp);
	return ret;
}

static void ebpf_close(struct mem_source *src)
{
	struct ebpf_source *e = src->priv;

	if (!e)
		return;
	physread_close(e->pr);
	if (e->kpageflags_fd >= 0)
		close(e->kpageflags_fd);
	free(e->flags);
	free(e);
	src->priv = NULL;
}

/* Conditions under which reading the direct map is refused or unsafe. */
static int check_kernel(char *why, size_t whylen)
{
	uint64_t kb;
	char *text;
	size_t len;
	int ret = 0;

	if (!read_small(LOCKDOWN_PATH, &text, &len)) {
		if (directmap_lockdown_parse(text, len) == DIRECTMAP_LOCKDOWN_CONFIDENTIALITY) {
			snprintf(why, whylen, "kernel lockdown is in confidentiality mode, which "
				 "refuses bpf_probe_read_kernel");
			ret = -EPERM;
		}
		free(text);
		if (ret)
			return ret;
	}
	if (!read_small(MEMINFO_PATH, &text, &len)) {
		if (!directmap_meminfo_kb(text, len, "Unaccepted", &kb) && kb) {
			snprintf(why, whylen, "%" PRIu64 " kB of RAM not yet accepted (confidential "
				 "VM): touching it through the direct map would be fatal", kb);
			ret = -EOPNOTSUPP;
		}
		free(text);
	}
	return ret;
}

static int ebpf_open(struct mem_source *src, const struct range_list *ram, char *why,
		     size_t whylen)
{
	struct ebpf_source *e = calloc(1, sizeof(*e));
	/* Room for the suffix below. */
	char how[SOURCE_DETAIL_MAX - 48];
	int ret;

	if (!e)
		return -ENOMEM;
	e->kpageflags_fd = -1;
	src->priv = e;
	ret = check_kernel(why, whylen);
	if (ret)
		goto fail;
	ret = physread_open(source_ebpf_run_pages, &e->pr, why, whylen);
	if (ret)
		goto fail;
	ret = find_base(e, how, sizeof(how), why, whylen);
	if (ret)
		goto fail;
	/* Without kpageflags every page is read; with it, poisoned and offline ones are not. */
	e->kpageflags_fd = open(KPAGEFLAGS_PATH, O_RDONLY | O_CLOEXEC);
	e->flags = calloc(physread_max_pages(e->pr), sizeof(*e->flags));
	if (!e->flags) {
		ret = -ENOMEM;
		goto fail;
	}
	snprintf(src->detail, sizeof(src->detail), "%.*s; %u KiB per BPF run%s",
		 (int)sizeof(how) - 1, how, physread_max_pages(e->pr) * 4,
		 e->kpageflags_fd < 0 ? ", no kpageflags" : "");
	return 0;
fail:
	ebpf_close(src);
	return ret;
}

/*
 * How many of the n pages from pfn on may be read (kpageflags); *err says
 * why the next one may not.
 */
static unsigned int safe_pages(struct ebpf_source *e, uint64_t pfn, unsigned int n, int *err)
{
	ssize_t got;
	unsigned int i;

	if (e->kpageflags_fd < 0)
		return n;
	got = pread_full(e->kpageflags_fd, e->flags, n * sizeof(*e->flags),
			 pfn * sizeof(*e->flags));
	if (got < 0)
		return n;  /* flags unreadable: no worse than a source without them */
	for (i = 0; i < n; i++) {
		/* kpageflags ends at the kernel's last PFN: no page past it. */
		if ((size_t)got < (i + 1) * sizeof(*e->flags)) {
			*err = -ENXIO;
			break;
		}
		if (directmap_page_unsafe(e->flags[i])) {
			*err = directmap_page_poisoned(e->flags[i]) ? -EHWPOISON : -ENXIO;
			break;
		}
	}
	return i;
}

static ssize_t ebpf_read(struct mem_source *src, uint64_t phys, void *buf, size_t len)
{
	struct ebpf_source *e = src->priv;
	uint64_t first = phys & ~(uint64_t)(DIRECTMAP_PAGE_SIZE - 1);
	size_t offset = (size_t)(phys - first), done = 0;
	uint64_t span = offset + (uint64_t)len;
	unsigned int pages, max = physread_max_pages(e->pr);
	int ret = -EIO;

	if (!len)
		return 0;
	pages = span / DIRECTMAP_PAGE_SIZE + (span % DIRECTMAP_PAGE_SIZE != 0);
	if (pages > max)
		pages = max;
	pages = safe_pages(e, first / DIRECTMAP_PAGE_SIZE, pages, &ret);
	if (!pages)
		return ret;  /* not touched */
	ret = physread_pages(e->pr, e->base + first, pages);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < pages && done < len; i++) {
		size_t n = DIRECTMAP_PAGE_SIZE - offset;

		ret = physread_page_err(e->pr, i);
		if (ret)
			return done ? (ssize_t)done : ret;
		if (n > len - done)
			n = len - done;
		memcpy((unsigned char *)buf + done, (const unsigned char *)physread_page(e->pr, i) +
		       offset, n);
		done += n;
		offset = 0;
	}
	return (ssize_t)done;
}

const struct mem_source_ops source_ebpf_ops = {
	.name = "ebpf",
	.path = "bpf(2)",
	.open = ebpf_open,
	.read = ebpf_read,
	.close = ebpf_close,
};
