// SPDX-License-Identifier: GPL-2.0-only
/*
 * Driver of the eBPF memory source for tests and benchmarks.
 *
 *   ebpf-read bench PHYS LEN KIB...
 *       For each KIB: open the ebpf source reading KIB per BPF run, read
 *       [PHYS, PHYS+LEN) in KIB-sized reads, print one line
 *       "chunk_kib=K bytes=N seconds=S gib_per_s=G zero_pages=Z".
 *   ebpf-read raw BASE PHYS PAGES
 *       One BPF run over PAGES pages at kernel address BASE+PHYS, bypassing
 *       the source's kpageflags guard: prints "page I err E" per page, to show
 *       that faulting addresses come back as errors.
 *
 * Opening the source prints "detail ..." (how the direct map was found).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "physread.h"
#include "range.h"
#include "source.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int open_source(uint64_t phys, uint64_t len, struct mem_source *src)
{
	struct source_selection sel = { 0 };
	struct range_list ram;
	int ret;

	range_list_init(&ram);
	ret = range_list_add(&ram, phys, phys + len - 1);
	if (!ret)
		ret = source_select("ebpf", NULL, &ram, src, &sel);
	range_list_free(&ram);
	if (ret) {
		fprintf(stderr, "ebpf-read: %s\n", sel.attempts[0].reason);
		return ret;
	}
	printf("detail %s\n", src->detail);
	return 0;
}

static int bench(uint64_t phys, uint64_t len, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		size_t chunk = (size_t)strtoul(argv[i], NULL, 0) << 10;
		struct mem_source src;
		unsigned char *buf = malloc(chunk);
		uint64_t pos = phys, zero_pages = 0;
		double t;
		int ret;

		if (!buf || !chunk || chunk % 4096)
			return 2;
		source_ebpf_run_pages = (unsigned int)(chunk / 4096);
		ret = open_source(phys, len, &src);
		if (ret) {
			free(buf);
			return 1;
		}
		t = now();
		while (pos < phys + len) {
			size_t want = phys + len - pos < chunk ? (size_t)(phys + len - pos) : chunk;
			ssize_t n = src.ops->read(&src, pos, buf, want);

			if (n <= 0) {
				n = 4096;  /* as the capture would: zero-fill a page and go on */
				zero_pages++;
			}
			pos += (uint64_t)n;
		}
		t = now() - t;
		printf("chunk_kib=%zu bytes=%" PRIu64 " seconds=%.3f gib_per_s=%.2f zero_pages=%" PRIu64
		       "\n", chunk >> 10, len, t, (double)len / t / (1 << 30), zero_pages);
		fflush(stdout);
		source_close(&src);
		free(buf);
	}
	return 0;
}

static int raw(uint64_t base, uint64_t phys, unsigned int pages)
{
	struct physread *pr;
	char why[512] = "";
	int ret = physread_open(pages, &pr, why, sizeof(why));

	if (ret) {
		fprintf(stderr, "ebpf-read: %s\n", why);
		return 1;
	}
	ret = physread_pages(pr, base + phys, pages);
	if (ret) {
		fprintf(stderr, "ebpf-read: BPF run failed: %s\n", strerror(-ret));
		physread_close(pr);
		return 1;
	}
	for (unsigned int i = 0; i < pages; i++)
		printf("page %u err %d\n", i, physread_page_err(pr, i));
	physread_close(pr);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "bench"))
		return bench(strtoull(argv[2], NULL, 0), strtoull(argv[3], NULL, 0), argc - 4,
			     argv + 4);
	if (argc == 5 && !strcmp(argv[1], "raw"))
		return raw(strtoull(argv[2], NULL, 0), strtoull(argv[3], NULL, 0),
			   (unsigned int)strtoul(argv[4], NULL, 0));
	fprintf(stderr, "usage: ebpf-read bench PHYS LEN KIB... | raw BASE PHYS PAGES\n");
	return 2;
}
