// SPDX-License-Identifier: GPL-2.0-only
/*
 * kmod-read - load forensics_mem.ko, check its access rules, read its LiME
 * stream, unload it.  A smoke test for the module (test_kmod_guest.py), not
 * the agent: it only does what the agent will do, plus the checks.
 *
 * Usage: kmod-read [-o OUT] [-p PARAMS] [-w SECONDS] MODULE.ko
 *
 * The stream goes to OUT (default stdout).  A block device is written with
 * O_DIRECT, so the capture does not fill the page cache with itself, and
 * the tail is padded to a whole block: the stream size is on the KMOD-INFO
 * line.  With -w, KMOD-READ-END is printed the moment the last byte has
 * been read and the program then sleeps SECONDS before anything else
 * (ioctls, close, unload), so that a host can freeze the guest and dump its
 * memory as it was when the capture ended.  Everything else goes to stderr,
 * one marker per line:
 *
 *   KMOD-CHECK <name> ok | KMOD-CHECK <name> FAIL <detail>
 *   KMOD-INFO abi=.. ranges=.. stream_size=.. ram_bytes=.. stream_offset=..
 *             unreadable_pages=.. slow_pages=..
 *   KMOD-UNREADABLE total=.. count=.. truncated=..
 *   KMOD-UNREADABLE-RANGE <start>-<end>      (hex, end exclusive)
 *   KMOD-READ bytes=.. ms=..
 *   KMOD-BUFFER <pfn>+<pages>                 (hex pfn) where the read buffer
 *                                             lives, so the host can tell
 *                                             its churn from the module's
 *   KMOD-DONE failed=<number of failed checks>
 *
 * Exit status: 0 when every check passed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "forensics_mem.h"

#define BLOCK (1 << 20)
#define DIRECT_ALIGN 4096
#define DEVICE_PATH "/dev/" FORENSICS_MEM_DEVICE

static int failed;

static void check(const char *name, int ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void pass(const char *name)
{
	fprintf(stderr, "KMOD-CHECK %s ok\n", name);
}

static void check(const char *name, int ok, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		pass(name);
		return;
	}
	failed++;
	fprintf(stderr, "KMOD-CHECK %s FAIL ", name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

/*
 * The read buffer is rewritten all through the capture, so the capture can
 * never agree with a later dump about it: say where it is.
 */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void report_buffer(const char *buf)
{
	uint64_t pfns[BLOCK / 4096], entry, start = 0, pages = 0;
	int pagemap = open("/proc/self/pagemap", O_RDONLY);
	size_t i, n = 0;

	for (i = 0; pagemap >= 0 && i < BLOCK / 4096; i++) {
		off_t at = ((uintptr_t)buf / 4096 + i) * sizeof(entry);

		if (pread(pagemap, &entry, sizeof(entry), at) == sizeof(entry) &&
		    (entry >> 63) && (entry & ((UINT64_C(1) << 55) - 1)))
			pfns[n++] = entry & ((UINT64_C(1) << 55) - 1);
	}
	if (pagemap >= 0)
		close(pagemap);
	qsort(pfns, n, sizeof(pfns[0]), cmp_u64);
	for (i = 0; i <= n; i++) {
		if (i < n && pages && pfns[i] == start + pages) {
			pages++;
			continue;
		}
		if (pages)
			fprintf(stderr, "KMOD-BUFFER %" PRIx64 "+%" PRIu64 "\n",
				start, pages);
		if (i < n) {
			start = pfns[i];
			pages = 1;
		}
	}
}

/* A process other than the loader must be refused, whatever its rights. */
static void check_other_process(void)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(DEVICE_PATH, O_RDONLY);

		_exit(fd < 0 ? (errno == EPERM ? 0 : 2) : 1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		check("other-process-refused", 0, "fork: %s", strerror(errno));
		return;
	}
	check("other-process-refused", WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "child exit %d (1: open succeeded, 2: wrong errno)",
	      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static void report_unreadable(int fd)
{
	struct forensics_mem_unreadable u;
	struct forensics_mem_range *ranges;
	uint32_t i;

	memset(&u, 0, sizeof(u));
	if (ioctl(fd, FORENSICS_MEM_IOC_UNREADABLE, &u) < 0) {
		check("ioctl-unreadable", 0, "%s", strerror(errno));
		return;
	}
	ranges = calloc(u.total ? u.total : 1, sizeof(*ranges));
	if (!ranges) {
		check("ioctl-unreadable", 0, "out of memory");
		return;
	}
	u.ranges = (uintptr_t)ranges;
	u.capacity = u.total;
	if (ioctl(fd, FORENSICS_MEM_IOC_UNREADABLE, &u) < 0) {
		check("ioctl-unreadable", 0, "%s", strerror(errno));
		free(ranges);
		return;
	}
	check("ioctl-unreadable", u.count == u.total, "count %u total %u",
	      u.count, u.total);
	fprintf(stderr, "KMOD-UNREADABLE total=%u count=%u truncated=%u\n",
		u.total, u.count, u.truncated);
	for (i = 0; i < u.count; i++)
		fprintf(stderr, "KMOD-UNREADABLE-RANGE %" PRIx64 "-%" PRIx64 "\n",
			(uint64_t)ranges[i].start, (uint64_t)ranges[i].end);
	free(ranges);
}

int main(int argc, char **argv)
{
	const char *out_path = NULL, *params = "";
	unsigned int wait_s = 0;
	struct forensics_mem_info info;
	int opt, ko, fd, fd2, out = STDOUT_FILENO, direct = 0;
	static const size_t odd[] = { 7, 25, 68, 4000, 4096 * 3 + 5 };
	uint64_t total = 0;
	size_t fill = 0, step;
	struct stat st;
	char *buf;
	double t0, elapsed;

	while ((opt = getopt(argc, argv, "o:p:w:")) != -1) {
		switch (opt) {
		case 'o': out_path = optarg; break;
		case 'p': params = optarg; break;
		case 'w': wait_s = strtoul(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	if (optind + 1 != argc)
		goto usage;

	if (out_path) {
		out = open(out_path, O_WRONLY | O_DIRECT);
		direct = out >= 0;
		if (out < 0)
			out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (out < 0) {
			fprintf(stderr, "kmod-read: %s: %s\n", out_path, strerror(errno));
			return 2;
		}
	}
	if (posix_memalign((void **)&buf, DIRECT_ALIGN, BLOCK)) {
		fprintf(stderr, "kmod-read: out of memory\n");
		return 2;
	}

	ko = open(argv[optind], O_RDONLY | O_CLOEXEC);
	if (ko < 0 || syscall(SYS_finit_module, ko, params, 0) < 0) {
		check("load", 0, "%s: %s", argv[optind], strerror(errno));
		goto done;
	}
	close(ko);
	pass("load");

	check("device-node", stat(DEVICE_PATH, &st) == 0 && S_ISCHR(st.st_mode) &&
	      (st.st_mode & 07777) == 0400 && st.st_uid == 0,
	      "stat: %s, mode %o", strerror(errno), (unsigned int)st.st_mode);
	check_other_process();

	fd = open(DEVICE_PATH, O_RDONLY);
	if (fd < 0) {
		check("open", 0, "%s", strerror(errno));
		goto unload;
	}
	pass("open");
	fd2 = open(DEVICE_PATH, O_RDONLY);
	check("second-open-refused", fd2 < 0 && errno == EBUSY,
	      "fd %d, %s", fd2, fd2 < 0 ? strerror(errno) : "opened");
	if (fd2 >= 0)
		close(fd2);
	check("lseek-refused", lseek(fd, 0, SEEK_SET) < 0 && errno == ESPIPE,
	      "%s", strerror(errno));
	check("pread-refused", pread(fd, buf, 16, 0) < 0 && errno == ESPIPE,
	      "%s", strerror(errno));
	check("ioctl-bad-cmd", ioctl(fd, _IO('F', 99)) < 0 && errno == ENOTTY,
	      "%s", strerror(errno));
	if (ioctl(fd, FORENSICS_MEM_IOC_INFO, &info) < 0)
		check("ioctl-info", 0, "%s", strerror(errno));
	else
		check("ioctl-info", info.abi_version == FORENSICS_MEM_ABI_VERSION &&
		      info.stream_offset == 0 && info.range_count > 0 &&
		      info.stream_size == info.ram_bytes + 32ULL * info.range_count,
		      "abi %u offset %llu ranges %u size %llu ram %llu",
		      info.abi_version, (unsigned long long)info.stream_offset,
		      info.range_count, (unsigned long long)info.stream_size,
		      (unsigned long long)info.ram_bytes);

	/*
	 * Odd sizes first, across the first header into the data, then
	 * whole blocks: the stream must not depend on how it is read.
	 */
	t0 = now_ms();
	for (step = 0;; step++) {
		size_t want = BLOCK - fill;
		ssize_t n;

		if (step < sizeof(odd) / sizeof(odd[0]) && odd[step] < want)
			want = odd[step];
		n = read(fd, buf + fill, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			check("read", 0, "at %llu: %s", (unsigned long long)total,
			      strerror(errno));
			break;
		}
		fill += n;
		total += n;
		if (fill == BLOCK || (n == 0 && fill)) {
			size_t len = fill;

			/* O_DIRECT wants whole blocks; the host cuts the tail. */
			if (direct && len % DIRECT_ALIGN) {
				memset(buf + len, 0, DIRECT_ALIGN - len % DIRECT_ALIGN);
				len += DIRECT_ALIGN - len % DIRECT_ALIGN;
			}
			if (write_all(out, buf, len)) {
				check("write", 0, "%s", strerror(errno));
				break;
			}
			fill = 0;
		}
		if (n == 0)
			break;
	}
	elapsed = now_ms() - t0;
	if (wait_s) {
		fputs("KMOD-READ-END\n", stderr);
		sleep(wait_s);
	}
	fprintf(stderr, "KMOD-READ bytes=%llu ms=%.0f\n", (unsigned long long)total,
		elapsed);
	check("read-again-eof", read(fd, buf, 16) == 0, "%s", strerror(errno));
	report_buffer(buf);

	if (ioctl(fd, FORENSICS_MEM_IOC_INFO, &info) < 0) {
		check("ioctl-info-end", 0, "%s", strerror(errno));
	} else {
		fprintf(stderr, "KMOD-INFO abi=%u ranges=%u stream_size=%llu "
			"ram_bytes=%llu stream_offset=%llu unreadable_pages=%llu "
			"slow_pages=%llu\n", info.abi_version, info.range_count,
			(unsigned long long)info.stream_size,
			(unsigned long long)info.ram_bytes,
			(unsigned long long)info.stream_offset,
			(unsigned long long)info.unreadable_pages,
			(unsigned long long)info.slow_pages);
		check("stream-complete", info.stream_offset == info.stream_size &&
		      total == info.stream_size, "read %llu, offset %llu, size %llu",
		      (unsigned long long)total,
		      (unsigned long long)info.stream_offset,
		      (unsigned long long)info.stream_size);
	}
	report_unreadable(fd);
	close(fd);

	fd = open(DEVICE_PATH, O_RDONLY);
	check("reopen-refused", fd < 0 && (errno == EBUSY || errno == EPERM),
	      "fd %d, %s", fd, fd < 0 ? strerror(errno) : "opened");
	if (fd >= 0)
		close(fd);

unload:
	check("unload", syscall(SYS_delete_module, "forensics_mem", O_NONBLOCK) == 0,
	      "%s", strerror(errno));
	check("device-gone", access("/sys/module/forensics_mem", F_OK) < 0,
	      "module still in /sys/module");
done:
	if (out != STDOUT_FILENO && (fsync(out) || close(out)))
		check("close-output", 0, "%s", strerror(errno));
	fprintf(stderr, "KMOD-DONE failed=%d\n", failed);
	free(buf);
	return failed ? 1 : 0;

usage:
	fprintf(stderr, "usage: %s [-o OUT] [-p PARAMS] [-w SECONDS] MODULE.ko\n", argv[0]);
	return 2;
}
