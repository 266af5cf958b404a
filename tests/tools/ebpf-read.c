// SPDX-License-Identifier: GPL-2.0-only
/*
 * Driver of the eBPF memory source for tests and benchmarks.
 *
 *   ebpf-read bench PHYS LEN RUNS KIB...
 *       Read [PHYS, PHYS+LEN) once to warm up, then for each KIB open the
 *       ebpf source reading KIB per BPF run, read the range RUNS times in
 *       KIB-sized reads and print one line "chunk_kib=K bytes=N runs=R
 *       seconds=S gib_per_s=G min=.. max=.. zero_pages=Z" (the median run).
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
#include "capture/range.h"
#include "capture/source.h"

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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Seconds to read [phys, phys+len) in chunk-sized reads; zero_pages counts failures. */
static double read_range(struct mem_source *src, uint64_t phys, uint64_t len,
			 unsigned char *buf, size_t chunk, uint64_t *zero_pages)
{
	uint64_t pos = phys;
	double t = now();

	while (pos < phys + len) {
		size_t want = phys + len - pos < chunk ? (size_t)(phys + len - pos) : chunk;
		ssize_t n = src->ops->read(src, pos, buf, want);

		if (n <= 0) {
			n = 4096;  /* as the capture would: zero-fill a page and go on */
			(*zero_pages)++;
		}
		pos += (uint64_t)n;
	}
	return now() - t;
}

static int bench(uint64_t phys, uint64_t len, int runs, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		size_t chunk = (size_t)strtoul(argv[i], NULL, 0) << 10;
		struct mem_source src;
		unsigned char *buf = malloc(chunk);
		uint64_t zero_pages = 0;
		double secs[16];
		int ret;

		if (!buf || !chunk || chunk % 4096 || runs < 1 || runs > 16)
			return 2;
		source_ebpf_run_pages = (unsigned int)(chunk / 4096);
		ret = open_source(phys, len, &src);
		if (ret) {
			free(buf);
			return 1;
		}
		/* First touch of guest memory can cost the hypervisor a fault: warm up once. */
		if (i == 0)
			printf("warmup seconds=%.3f\n",
			       read_range(&src, phys, len, buf, chunk, &zero_pages));
		zero_pages = 0;
		for (int r = 0; r < runs; r++)
			secs[r] = read_range(&src, phys, len, buf, chunk, &zero_pages);
		qsort(secs, (size_t)runs, sizeof(secs[0]), cmp_double);
		printf("chunk_kib=%zu bytes=%" PRIu64 " runs=%d seconds=%.3f gib_per_s=%.2f "
		       "min=%.2f max=%.2f zero_pages=%" PRIu64 "\n", chunk >> 10, len, runs,
		       secs[runs / 2], (double)len / secs[runs / 2] / (1 << 30),
		       (double)len / secs[runs - 1] / (1 << 30), (double)len / secs[0] / (1 << 30),
		       zero_pages);
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
	if (argc >= 6 && !strcmp(argv[1], "bench"))
		return bench(strtoull(argv[2], NULL, 0), strtoull(argv[3], NULL, 0),
			     atoi(argv[4]), argc - 5, argv + 5);
	if (argc == 5 && !strcmp(argv[1], "raw"))
		return raw(strtoull(argv[2], NULL, 0), strtoull(argv[3], NULL, 0),
			   (unsigned int)strtoul(argv[4], NULL, 0));
	fprintf(stderr, "usage: ebpf-read bench PHYS LEN RUNS KIB... | raw BASE PHYS PAGES\n");
	return 2;
}
