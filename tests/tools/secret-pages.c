// SPDX-License-Identifier: GPL-2.0-only
/*
 * secret-pages N: N pages of memfd_secret(2) memory, which the kernel takes
 * out of its direct map, so a direct-map reader must fail on exactly these
 * pages of RAM. Prints "SECRET <pfn-hex>" per page, then "SECRET-READY",
 * and keeps them until killed. Where the kernel has no secretmem (before
 * 5.14, or disabled) it prints "SECRET-UNAVAILABLE <reason>" and exits 3.
 * Must run as root to see PFNs.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_memfd_secret
#define __NR_memfd_secret 447
#endif
#define PAGE 4096u

static int unavailable(const char *what)
{
	printf("SECRET-UNAVAILABLE %s: %s\n", what, strerror(errno));
	return 3;
}

int main(int argc, char **argv)
{
	size_t pages = argc > 1 ? strtoul(argv[1], NULL, 0) : 1;
	uint64_t *entries;
	unsigned char *mem;
	int fd, pagemap;

	if (!pages)
		return 2;
	fd = (int)syscall(__NR_memfd_secret, 0);
	if (fd < 0)
		return unavailable("memfd_secret");
	if (ftruncate(fd, (off_t)(pages * PAGE)))
		return unavailable("ftruncate");
	mem = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		return unavailable("mmap");
	memset(mem, 0xa5, pages * PAGE);  /* fault every page in */
	entries = calloc(pages, sizeof(*entries));
	pagemap = open("/proc/self/pagemap", O_RDONLY);
	if (!entries || pagemap < 0 ||
	    pread(pagemap, entries, pages * sizeof(*entries),
		  (off_t)((uintptr_t)mem / PAGE * sizeof(*entries))) !=
		    (ssize_t)(pages * sizeof(*entries)))
		return unavailable("pagemap");
	for (size_t i = 0; i < pages; i++) {
		uint64_t pfn = entries[i] & ((1ull << 55) - 1);

		if (!(entries[i] >> 63) || !pfn) {
			errno = EPERM;
			return unavailable("pagemap PFN");
		}
		printf("SECRET %" PRIx64 "\n", pfn);
	}
	printf("SECRET-READY\n");
	fflush(stdout);
	for (;;)
		pause();
}
