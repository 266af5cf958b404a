// SPDX-License-Identifier: GPL-2.0-only
/*
 * fake-lime - the smallest honest /proc/kcore to LiME dumper.
 *
 * A stand-in for the agent that lets the QEMU harness test itself: if this
 * program's output passes the ground-truth comparison, the harness (plant,
 * transport, QMP pmemsave, oracle) is sound, and a failure with the real
 * agent is the agent's.  It accepts and ignores the agent's command line
 * ("acquire --source kcore --output -") so a test can swap it in unchanged.
 *
 * It writes a LiME stream to stdout: for every "System RAM" range of
 * /proc/iomem, clipped to the /proc/kcore PT_LOAD segments that carry a
 * physical address, a 32-byte header followed by the bytes.  The last
 * stderr line is a JSON manifest like the agent's, without hashes.
 *
 * Built with -DFAKE_LIME_ZSTD (and -lzstd) the stream is zstd-compressed
 * like the agent's.  That matters for the fidelity figure, not only for
 * realism: raw, the stream takes over a minute through slirp under TCG, and
 * the guest kernel's own churn during such a window costs about 1% of the
 * pages by itself.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef FAKE_LIME_ZSTD
#include <zstd.h>
#endif

#define LIME_MAGIC		0x4c694d45U
#define LIME_VERSION		1U
/* Small, so the buffer we rewrite ourselves is a small part of the image. */
#define CHUNK			(64UL << 10)
#define MAX_RANGES		256
/* Segments at or above this are the kernel text alias, not the direct map. */
#define KERNEL_TEXT_BASE	0xffffffff80000000ULL

struct phys_range {
	uint64_t start, end; /* end exclusive */
};

struct kcore_seg {
	uint64_t paddr, size, offset;
};

static struct phys_range ram[MAX_RANGES];
static struct kcore_seg segs[MAX_RANGES];
static size_t nr_ram, nr_segs;

static int read_iomem(void)
{
	FILE *f = fopen("/proc/iomem", "r");
	char line[256];

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		uint64_t s, e;

		/* Only top-level entries: nested ones are carve-outs inside. */
		if (line[0] == ' ' || !strstr(line, ": System RAM"))
			continue;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64, &s, &e) != 2)
			continue;
		/* Addresses read as zero when we are not root. */
		if (e <= s || nr_ram == MAX_RANGES)
			continue;
		ram[nr_ram].start = s;
		ram[nr_ram].end = e + 1;
		nr_ram++;
	}
	fclose(f);
	return nr_ram ? 0 : -1;
}

static int read_kcore_segments(int fd)
{
	Elf64_Ehdr eh;
	size_t i;

	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_phentsize != sizeof(Elf64_Phdr))
		return -1;
	for (i = 0; i < eh.e_phnum && nr_segs < MAX_RANGES; i++) {
		Elf64_Phdr ph;
		off_t off = (off_t)(eh.e_phoff + i * sizeof(ph));

		if (pread(fd, &ph, sizeof(ph), off) != sizeof(ph))
			return -1;
		/* kcore marks segments without a physical address with -1. */
		if (ph.p_type != PT_LOAD || ph.p_paddr == (Elf64_Addr)-1 ||
		    ph.p_vaddr >= KERNEL_TEXT_BASE)
			continue;
		segs[nr_segs].paddr = ph.p_paddr;
		segs[nr_segs].size = ph.p_memsz;
		segs[nr_segs].offset = ph.p_offset;
		nr_segs++;
	}
	return nr_segs ? 0 : -1;
}

static int write_raw(const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(STDOUT_FILENO, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

#ifdef FAKE_LIME_ZSTD
static ZSTD_CCtx *zctx;
static char zbuf[CHUNK];

static int zstd_push(const void *buf, size_t len, ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = { buf, len, 0 };
	size_t left;

	do {
		ZSTD_outBuffer out = { zbuf, sizeof(zbuf), 0 };

		left = ZSTD_compressStream2(zctx, &out, &in, mode);
		if (ZSTD_isError(left) || write_raw(zbuf, out.pos))
			return -1;
	} while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
	return 0;
}

static int write_all(const void *buf, size_t len)
{
	return zstd_push(buf, len, ZSTD_e_continue);
}

static int finish_output(void)
{
	return zstd_push(NULL, 0, ZSTD_e_end);
}
#else
static int write_all(const void *buf, size_t len)
{
	return write_raw(buf, len);
}

static int finish_output(void)
{
	return 0;
}
#endif

static int dump_range(int kcore, const struct kcore_seg *seg, uint64_t start,
		      uint64_t end, char *buf, uint64_t *unreadable)
{
	uint32_t hdr32[2] = { LIME_MAGIC, LIME_VERSION };
	uint64_t hdr64[3] = { start, end - 1, 0 };
	uint64_t pa;

	if (write_all(hdr32, sizeof(hdr32)) || write_all(hdr64, sizeof(hdr64)))
		return -1;
	for (pa = start; pa < end; pa += CHUNK) {
		size_t len = end - pa < CHUNK ? end - pa : CHUNK;
		off_t off = (off_t)(seg->offset + (pa - seg->paddr));
		ssize_t n = pread(kcore, buf, len, off);

		/* Keep addresses honest: a hole is written as zeros. */
		if (n != (ssize_t)len) {
			memset(buf, 0, len);
			*unreadable += len;
		}
		if (write_all(buf, len))
			return -1;
	}
	return 0;
}

int main(void)
{
	uint64_t total = 0, unreadable = 0;
	size_t r, s, ranges = 0;
	int kcore;
	char *buf;

	kcore = open("/proc/kcore", O_RDONLY);
	if (kcore < 0 || read_kcore_segments(kcore) || read_iomem()) {
		fprintf(stderr, "{\"event\":\"error\",\"msg\":\"kcore or iomem unreadable\"}\n");
		return 1;
	}
	buf = malloc(CHUNK);
	if (!buf)
		return 1;
#ifdef FAKE_LIME_ZSTD
	zctx = ZSTD_createCCtx();
	if (!zctx) {
		free(buf);
		return 1;
	}
	/*
	 * Level 1: under TCG the compressor's speed is the capture's speed.
	 * A 128 KiB window and small tables keep our own working memory,
	 * which the capture cannot help catching mid-change, to ~100 pages:
	 * this stand-in shows what a minimal-footprint capture scores.
	 */
	ZSTD_CCtx_setParameter(zctx, ZSTD_c_compressionLevel, 1);
	ZSTD_CCtx_setParameter(zctx, ZSTD_c_windowLog, 17);
	ZSTD_CCtx_setParameter(zctx, ZSTD_c_hashLog, 12);
#endif

	/* iomem is sorted, so the output ranges come out ascending. */
	for (r = 0; r < nr_ram; r++) {
		for (s = 0; s < nr_segs; s++) {
			uint64_t a = ram[r].start, b = ram[r].end;

			if (segs[s].paddr > a)
				a = segs[s].paddr;
			if (segs[s].paddr + segs[s].size < b)
				b = segs[s].paddr + segs[s].size;
			if (a >= b)
				continue;
			if (dump_range(kcore, &segs[s], a, b, buf, &unreadable)) {
				fprintf(stderr, "{\"event\":\"error\",\"msg\":\"write failed\"}\n");
				return 1;
			}
			fprintf(stderr,
				"{\"event\":\"range\",\"start\":%" PRIu64 ",\"end\":%" PRIu64 "}\n",
				a, b - 1);
			total += b - a;
			ranges++;
		}
	}
	if (finish_output()) {
		fprintf(stderr, "{\"event\":\"error\",\"msg\":\"write failed\"}\n");
		return 1;
	}
	fprintf(stderr,
		"{\"event\":\"manifest\",\"tool\":\"fake-lime\",\"ranges\":%zu,\"bytes\":%" PRIu64 ",\"unreadable_bytes\":%" PRIu64 "}\n",
		ranges, total, unreadable);
	return 0;
}
