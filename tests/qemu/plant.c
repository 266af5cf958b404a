// SPDX-License-Identifier: GPL-2.0-only
/*
 * plant - put known bytes at known physical addresses of a test guest.
 *
 * Usage: plant [-s SEED] [-r READY_FILE] [PAGES]
 *
 * Allocates PAGES (default 2048, i.e. 8 MiB) anonymous pages, fills each
 * with a pattern that the host can regenerate from (SEED, index) alone, pins
 * them and prints where they live:
 *
 *   PLANT-CONFIG seed=0x<seed> pages=<n> page_size=4096
 *   PLANT <index> <pfn-hex>          one line per page
 *   PLANT-READY <n>
 *
 * then creates READY_FILE (so a guest script can wait for it) and sleeps
 * until killed, keeping the pages resident for the memory capture.  The
 * host's oracle (groundtruth.py) must find every page at exactly
 * pfn * 4096 in the captured image, which proves that the capture puts bytes
 * at the right physical address and not merely somewhere.
 *
 * Page layout (all integers little-endian):
 *   bytes  0..7    "PLANTPAT"
 *   bytes  8..15   u64 page index
 *   bytes 16..4095 510 u64 words of xorshift64 (13, 7, 17), state seeded
 *                  with seed ^ (index * 0x9e3779b97f4a7c15), or that
 *                  constant if the product leaves zero; each word is the
 *                  state after one step.
 *
 * Must run as root: /proc/self/pagemap only reports PFNs to CAP_SYS_ADMIN.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PLANT_PAGE_SIZE		4096UL
#define PLANT_GOLDEN		UINT64_C(0x9e3779b97f4a7c15)
#define PAGEMAP_PRESENT		(UINT64_C(1) << 63)
#define PAGEMAP_PFN_MASK	((UINT64_C(1) << 55) - 1)
#define RECHECK_SECONDS		1

static void fill_page(uint8_t *page, uint64_t seed, uint64_t index)
{
	uint64_t state = seed ^ (index * PLANT_GOLDEN);
	uint64_t *words = (uint64_t *)page;
	size_t i;

	/* xorshift64 never leaves the all-zero state. */
	if (!state)
		state = PLANT_GOLDEN;
	memcpy(page, "PLANTPAT", 8);
	/* x86-64 is little-endian, which is what the layout promises. */
	words[1] = index;
	for (i = 2; i < PLANT_PAGE_SIZE / 8; i++) {
		state ^= state << 13;
		state ^= state >> 7;
		state ^= state << 17;
		words[i] = state;
	}
}

static int read_pfns(int pagemap, const uint8_t *base, size_t pages,
		     uint64_t *entries)
{
	off_t off = (off_t)((uintptr_t)base / PLANT_PAGE_SIZE) * 8;
	size_t want = pages * 8, got = 0;

	while (got < want) {
		ssize_t n = pread(pagemap, (char *)entries + got, want - got,
				  off + (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/*
 * Compaction may move even mlocked pages unless told otherwise, and that
 * would silently invalidate the PFNs we print.  Best effort: an older
 * kernel without the knob simply has nothing to switch off.
 */
static void forbid_unevictable_compaction(void)
{
	int fd = open("/proc/sys/vm/compact_unevictable_allowed", O_WRONLY);

	if (fd < 0)
		return;
	if (write(fd, "0\n", 2) != 2)
		perror("plant: compact_unevictable_allowed");
	close(fd);
}

/* The host watches the console for this prefix to stop waiting early. */
static int fail(const char *what)
{
	fprintf(stderr, "PLANT-FAIL %s: %s\n", what, strerror(errno));
	return 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: plant [-s SEED] [-r READY_FILE] [PAGES]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t seed = UINT64_C(0x5eed5eed5eed5eed);
	const char *ready_file = NULL;
	size_t pages = 2048, i;
	uint64_t *entries, *recheck;
	uint8_t *base;
	int pagemap, opt;

	while ((opt = getopt(argc, argv, "s:r:")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			ready_file = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind < argc)
		pages = strtoul(argv[optind], NULL, 0);
	if (!pages)
		usage();

	forbid_unevictable_compaction();

	base = mmap(NULL, pages * PLANT_PAGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return fail("mmap");
	/*
	 * khugepaged collapses small pages into a huge page by copying them,
	 * which changes every PFN; keep this range out of its reach.
	 */
	if (madvise(base, pages * PLANT_PAGE_SIZE, MADV_NOHUGEPAGE))
		perror("plant: madvise(MADV_NOHUGEPAGE)");
	if (mlock(base, pages * PLANT_PAGE_SIZE))
		return fail("mlock");
	/* Writing every page gives each its own frame (no shared zero page). */
	for (i = 0; i < pages; i++)
		fill_page(base + i * PLANT_PAGE_SIZE, seed, i);

	pagemap = open("/proc/self/pagemap", O_RDONLY);
	entries = calloc(pages, sizeof(*entries));
	recheck = calloc(pages, sizeof(*recheck));
	if (pagemap < 0 || !entries || !recheck)
		return fail("/proc/self/pagemap");
	if (read_pfns(pagemap, base, pages, entries))
		return fail("reading /proc/self/pagemap");

	printf("PLANT-CONFIG seed=0x%016" PRIx64 " pages=%zu page_size=%lu\n",
	       seed, pages, PLANT_PAGE_SIZE);
	for (i = 0; i < pages; i++) {
		uint64_t pfn = entries[i] & PAGEMAP_PFN_MASK;

		/* A zero PFN means we lack CAP_SYS_ADMIN: the list is useless. */
		if (!(entries[i] & PAGEMAP_PRESENT) || !pfn) {
			fprintf(stderr,
				"PLANT-FAIL page %zu not present or PFN hidden (entry %#" PRIx64 ")\n",
				i, entries[i]);
			return 1;
		}
		printf("PLANT %zu %" PRIx64 "\n", i, pfn);
	}
	printf("PLANT-READY %zu\n", pages);
	fflush(stdout);

	if (ready_file) {
		int fd = open(ready_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0)
			perror("plant: ready file");
		else
			close(fd);
	}

	/*
	 * Stay alive so the pages stay ours; meanwhile watch for migration,
	 * which would make the printed PFNs (and so the test) wrong, and say
	 * so loudly rather than let it look like a capture bug.
	 */
	for (;;) {
		sleep(RECHECK_SECONDS);
		if (read_pfns(pagemap, base, pages, recheck))
			continue;
		for (i = 0; i < pages; i++) {
			if ((recheck[i] & PAGEMAP_PFN_MASK) ==
			    (entries[i] & PAGEMAP_PFN_MASK))
				continue;
			printf("PLANT-MOVED %zu %" PRIx64 " %" PRIx64 "\n", i,
			       entries[i] & PAGEMAP_PFN_MASK,
			       recheck[i] & PAGEMAP_PFN_MASK);
			entries[i] = recheck[i];
		}
		fflush(stdout);
	}
}
