// SPDX-License-Identifier: GPL-2.0-only
/*
 * The module is read into memory once, and the bytes that were hashed and
 * parsed are the bytes handed to the kernel (through a memfd), so nothing
 * can swap the file between the check and the load. Nothing is written to
 * the instance's disks.
 */
#include "modsource.h"
#include "base/exitcodes.h"
#include "base/log.h"
#include "aws/download.h"
#include "aws/endpoint.h"
#include "../kmod/uapi/forensics_mem.h"
#include "base/util.h"
#include "capture/stream_capture.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define DEVICE_PATH "/dev/" FORENSICS_MEM_DEVICE
#define DEVICE_WAIT_MS 3000
#define LIME_OPEN_WAIT_MS 30000
#define LIME_EXIT_WAIT_S 30
#define UNREADABLE_BATCH 4096
#define MAX_CANDIDATES 8

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A local file or an s3:// object into memory. -ENOENT when it is not there. */
static int fetch(const struct modsource_options *o, const char *where, size_t max, char **data,
		 size_t *len, char *why, size_t whylen)
{
	char *bucket = NULL, *key = NULL;
	struct s3_client client;
	int ret;

	*data = NULL;
	if (strncmp(where, "s3://", 5)) {
		ret = read_whole_file(where, max, data, len);
		if (ret && ret != -ENOENT)
			snprintf(why, whylen, "%s: %s", where, ret == -EFBIG ? "too large" :
				 strerror(-ret));
		return ret;
	}
	if (s3_uri_parse(where, &bucket, &key, why, whylen))
		return -EINVAL;
	if (!o->s3 || s3opts_open_client(o->s3, bucket, &client, "module store") != EXIT_OK) {
		snprintf(why, whylen, "%s: no S3 client (see the error above)", where);
		ret = -EACCES;
		goto out;
	}
	ret = s3_get_small(&client, key, max, data, len, why, whylen);
	s3_client_free(&client);
out:
	free(bucket);
	free(key);
	return ret;
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char digest[32];
	unsigned int n = 0;

	EVP_Digest(data, len, digest, &n, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

static bool is_sha256_hex(const char *s, size_t len)
{
	if (len != 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* Whether a sha256sum-format list holds hex (first word of any line). */
static bool list_pins(const char *text, size_t len, const char *hex, size_t *entries)
{
	const char *p = text, *end = text + len;
	bool found = false;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;
		size_t word = 0;

		while (p + word < stop && !isspace((unsigned char)p[word]))
			word++;
		if (is_sha256_hex(p, word)) {
			(*entries)++;
			if (!strncasecmp(p, hex, 64))
				found = true;
		}
		p = stop + 1;
	}
	return found;
}

/*
 * 0 if hex is pinned; -EPERM with why if there are pins and it is not
 * among them, or there are none at all.
 */
static int check_pinned(const struct modsource_options *o, const char *hex, char *why,
			size_t whylen)
{
	const char *lists[2] = { o->pins_path, NULL };
	size_t entries = 0;

	for (size_t i = 0; i < o->pin_count; i++) {
		entries++;
		if (!strcasecmp(o->pins[i], hex))
			return 0;
	}
	if (!o->pins_path && !access(MODSOURCE_DEFAULT_PINS, F_OK))
		lists[0] = MODSOURCE_DEFAULT_PINS;
	for (size_t i = 0; lists[i]; i++) {
		char *text = NULL, lwhy[256] = "";
		size_t len = 0;
		int ret = fetch(o, lists[i], 1u << 20, &text, &len, lwhy, sizeof(lwhy));
		bool found;

		if (ret) {
			snprintf(why, whylen, "cannot read the pinned hashes %s: %s", lists[i],
				 lwhy[0] ? lwhy : strerror(-ret));
			return -EPERM;
		}
		found = list_pins(text, len, hex, &entries);
		free(text);
		if (found)
			return 0;
	}
	if (!entries)
		snprintf(why, whylen, "no pinned SHA-256 to check it against (give --module-pins or "
			 "--module-sha256)");
	else
		snprintf(why, whylen, "its SHA-256 %s is not pinned", hex);
	return -EPERM;
}

static void os_id(char *out, size_t outlen)
{
	char *text = NULL;
	size_t len = 0;

	snprintf(out, outlen, "linux");
	if (read_whole_file("/etc/os-release", 1 << 16, &text, &len))
		return;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "ID=", 3))
			continue;
		line += 3 + strspn(line + 3, "\"'");
		line[strcspn(line, "\"'")] = '\0';
		if (line[0])
			snprintf(out, outlen, "%s", line);
		break;
	}
	free(text);
}

/* The places a module may be, best first, for this kernel release. */
static size_t candidates(const char *kind, const struct modsource_options *o, const char *release,
			 char list[][1024], size_t max)
{
	static const char *const dkms_dirs[] = { "updates/dkms", "extra" };
	static const char *const compressed[] = { "", ".xz", ".zst" };
	size_t n = 0;

	if (!strcmp(kind, "module")) {
		if (o->module_path) {
			snprintf(list[n++], 1024, "%s", o->module_path);
			return n;
		}
		if (o->module_store)
			snprintf(list[n++], 1024, "%s%s%s/" MODSOURCE_OWN_FILE, o->module_store,
				 o->module_store[strlen(o->module_store) - 1] == '/' ? "" : "/",
				 release);
		/*
		 * Where dkms install puts it (updates/dkms on Debian and Ubuntu,
		 * extra elsewhere), compressed like the kernel's own modules.
		 */
		for (size_t d = 0; d < ARRAY_SIZE(dkms_dirs); d++)
			for (size_t c = 0; c < ARRAY_SIZE(compressed); c++)
				snprintf(list[n++], 1024, "/lib/modules/%s/%s/" MODSOURCE_OWN_FILE "%s",
					 release, dkms_dirs[d], compressed[c]);
	} else {
		char os[64];

		if (o->lime_path) {
			snprintf(list[n++], 1024, "%s", o->lime_path);
			return n;
		}
		if (!o->lime_store)
			return 0;
		os_id(os, sizeof(os));
		snprintf(list[n++], 1024, "%s%s%s/%s/lime-%s.ko", o->lime_store,
			 o->lime_store[strlen(o->lime_store) - 1] == '/' ? "" : "/", os, release,
			 release);
	}
	(void)max;
	return n;
}

/* /dev/forensics_mem, waiting for devtmpfs, or made from sysfs if absent. */
static int open_device(char *why, size_t whylen)
{
	unsigned int major_no, minor_no;
	char *text = NULL;
	size_t len;
	int fd;

	for (int waited = 0; waited < DEVICE_WAIT_MS; waited += 50) {
		fd = open(DEVICE_PATH, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT)
			break;
		sleep_ms(50);
	}
	if (fd < 0 && errno == ENOENT &&
	    !read_whole_file("/sys/class/misc/" FORENSICS_MEM_DEVICE "/dev", 64, &text, &len) &&
	    sscanf(text, "%u:%u", &major_no, &minor_no) == 2 &&
	    !mknod(DEVICE_PATH, S_IFCHR | 0400, makedev(major_no, minor_no)))
		fd = open(DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	free(text);
	if (fd < 0)
		snprintf(why, whylen, "loaded, but %s cannot be opened: %s", DEVICE_PATH,
			 strerror(errno));
	return fd < 0 ? -errno : fd;
}

static void *lime_loader(void *arg)
{
	struct modsource *ms = arg;

	ms->load_error = kmodule_load(ms->module_fd, ms->params, ms->load_why,
				      sizeof(ms->load_why));
	return NULL;
}

/*
 * LiME's parameters the agent sets, and those that would change the stream
 * it checks: dio writes a test pattern into path first, digest writes a
 * second file beside it, compress deflates the stream.
 */
static const char *const lime_reserved[] = {
	"path", "format", "localhostonly", "dio", "digest", "compress",
};

/* What the kernel's parameter parser splits on (isspace). */
#define LIME_PARAM_SPACE " \t\n\v\f\r"

int modsource_lime_params_check(const char *params, char *why, size_t whylen)
{
	const char *p = params;

	while (p && *p) {
		size_t word, name;

		p += strspn(p, LIME_PARAM_SPACE);
		word = strcspn(p, LIME_PARAM_SPACE);
		if (!word)
			break;
		/* The kernel's parser takes "name=value" quoted whole, too. */
		name = strcspn(p + (*p == '"'), "=\"" LIME_PARAM_SPACE);
		for (size_t i = 0; i < ARRAY_SIZE(lime_reserved); i++) {
			if (strlen(lime_reserved[i]) == name &&
			    !strncmp(p + (*p == '"'), lime_reserved[i], name)) {
				snprintf(why, whylen, "--lime-params may not set %s (the agent sets "
					 "path, format and localhostonly itself; dio, digest and "
					 "compress would change the stream)", lime_reserved[i]);
				return -EINVAL;
			}
		}
		p += word;
	}
	return 0;
}

/*
 * LiME writes its dump to path= with filp_open(O_WRONLY | O_CREAT | O_TRUNC)
 * and kernel_write(): given a FIFO, that is a pipe only this process reads.
 * The directory is made 0700 by mkdtemp() on a memory filesystem, so no
 * other user can open the FIFO to read the dump or to feed a fake one, and
 * nothing of it touches a disk.
 */
static int make_fifo(struct modsource *ms, char *why, size_t whylen)
{
	static const char *const bases[] = { "/run", "/dev/shm" };
	int ret = -ENOENT;

	snprintf(why, whylen, "no memory filesystem (tmpfs at /run or /dev/shm) for LiME's FIFO");
	for (size_t i = 0; i < ARRAY_SIZE(bases); i++) {
		struct stat dir, fifo;
		struct statfs fs;
		int fd;

		if (statfs(bases[i], &fs) ||
		    (fs.f_type != TMPFS_MAGIC && fs.f_type != RAMFS_MAGIC))
			continue;
		snprintf(ms->fifo_dir, sizeof(ms->fifo_dir), "%s/forensics-lime.XXXXXX", bases[i]);
		if (!mkdtemp(ms->fifo_dir)) {
			ret = -errno;
			snprintf(why, whylen, "mkdtemp in %s: %s", bases[i], strerror(errno));
			ms->fifo_dir[0] = '\0';
			continue;
		}
		snprintf(ms->fifo_path, sizeof(ms->fifo_path), "%s/stream", ms->fifo_dir);
		if (mkfifo(ms->fifo_path, 0600)) {
			ret = -errno;
			snprintf(why, whylen, "mkfifo %s: %s", ms->fifo_path, strerror(errno));
			return ret;
		}
		/* Non-blocking: there is no writer until LiME's init runs. */
		fd = open(ms->fifo_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &fifo) || lstat(ms->fifo_dir, &dir)) {
			ret = -errno;
			snprintf(why, whylen, "%s: %s", ms->fifo_path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return ret;
		}
		if (!S_ISFIFO(fifo.st_mode) || (fifo.st_mode & 077) || (dir.st_mode & 077) ||
		    fifo.st_uid != geteuid() || dir.st_uid != geteuid()) {
			snprintf(why, whylen, "%s is not a private FIFO (mode %04o in a %04o directory)",
				 ms->fifo_path, fifo.st_mode & 07777, dir.st_mode & 07777);
			close(fd);
			return -EPERM;
		}
		ms->transport = (struct source_transport){
			.kind = "fifo", .dir_mode = dir.st_mode & 07777, .mode = fifo.st_mode & 07777,
			.uid = fifo.st_uid, .filesystem = fs.f_type == TMPFS_MAGIC ? "tmpfs" : "ramfs",
		};
		snprintf(ms->transport.path, sizeof(ms->transport.path), "%s", ms->fifo_path);
		return fd;
	}
	return ret;
}

/* Once LiME holds the FIFO open, or when giving up, nobody else may find it. */
static void remove_fifo(struct modsource *ms)
{
	if (ms->fifo_path[0] && unlink(ms->fifo_path) && errno != ENOENT)
		log_warn("module", "cannot remove %s: %s", ms->fifo_path, strerror(errno));
	ms->fifo_path[0] = '\0';
	if (ms->fifo_dir[0] && rmdir(ms->fifo_dir) && errno != ENOENT)
		log_warn("module", "cannot remove %s: %s", ms->fifo_dir, strerror(errno));
	ms->fifo_dir[0] = '\0';
}

/*
 * LiME's init opens the FIFO, writes the whole dump and returns: load it
 * from a thread and wait for its first bytes.
 */
static int start_lime(struct modsource *ms, const struct modsource_options *o, char *why,
		      size_t whylen)
{
	struct pollfd p = { .events = POLLIN };
	int fd, ret;

	ret = o->lime_params ? modsource_lime_params_check(o->lime_params, why, whylen) : 0;
	if (ret)
		return ret;
	fd = make_fifo(ms, why, whylen);
	if (fd < 0)
		return fd;
	ms->fd = p.fd = fd;
	/* Ours last: the kernel keeps the last value of a repeated parameter. */
	if ((size_t)snprintf(ms->params, sizeof(ms->params), "%s%spath=%s format=lime",
			     o->lime_params ? o->lime_params : "", o->lime_params ? " " : "",
			     ms->fifo_path) >= sizeof(ms->params)) {
		snprintf(why, whylen, "--lime-params is too long (%zu bytes)",
			 strlen(o->lime_params));
		return -E2BIG;
	}
	if (pthread_create(&ms->loader, NULL, lime_loader, ms)) {
		snprintf(why, whylen, "cannot start the loader thread");
		return -EAGAIN;
	}
	ms->loader_started = true;
	for (int waited = 0; waited < LIME_OPEN_WAIT_MS; waited += 20) {
		if (poll(&p, 1, 20) > 0 && (p.revents & POLLIN))
			break;
		p.revents = 0;
		/* The loader returned: LiME refused to load, or wrote nothing. */
		if (pthread_tryjoin_np(ms->loader, NULL) == 0) {
			ms->loader_started = false;
			snprintf(why, whylen, "%s", ms->load_error ? ms->load_why :
				 "LiME loaded but wrote nothing to its FIFO");
			return ms->load_error ? ms->load_error : -EPIPE;
		}
	}
	if (!(p.revents & POLLIN)) {
		snprintf(why, whylen, "LiME wrote nothing to %s within %d s", ms->fifo_path,
			 LIME_OPEN_WAIT_MS / 1000);
		return -ETIMEDOUT;
	}
	ms->loaded = true;
	remove_fifo(ms);
	/* A writer is there: from now on read() blocks, and 0 is LiME's end. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	snprintf(ms->detail, sizeof(ms->detail), "upstream LiME %.120s through a private FIFO, "
		 "sha256 %s", ms->info.vermagic, ms->sha256);
	return 0;
}

int modsource_open(const char *kind, const struct modsource_options *o, struct modsource *ms,
		   char *why, size_t whylen)
{
	char list[MAX_CANDIDATES][1024], *image = NULL, parse_why[128];
	void *plain = NULL;
	size_t plain_len = 0;
	struct utsname uts;
	size_t n, len = 0;
	int ret = -ENOENT, memfd = -1;

	memset(ms, 0, sizeof(*ms));
	ms->kind = kind;
	ms->fd = ms->module_fd = -1;
	uname(&uts);
	n = candidates(kind, o, uts.release, list, MAX_CANDIDATES);
	if (!n) {
		snprintf(why, whylen, "no LiME store given (--lime-store or --lime-module)");
		return -ENOENT;
	}
	for (size_t i = 0; i < n; i++) {
		ret = fetch(o, list[i], KMODULE_MAX_BYTES, &image, &len, why, whylen);
		if (ret != -ENOENT) {
			snprintf(ms->origin, sizeof(ms->origin), "%.1023s", list[i]);
			break;
		}
	}
	if (ret == -ENOENT) {
		int used = snprintf(why, whylen, "no module for kernel %s (looked for %s", uts.release,
				    list[0]);

		for (size_t i = 1; i < n && used > 0 && (size_t)used < whylen; i++)
			used += snprintf(why + used, whylen - (size_t)used, ", %s", list[i]);
		if (used > 0 && (size_t)used < whylen)
			snprintf(why + used, whylen - (size_t)used, ")");
		return ret;
	}
	if (ret)
		return ret;
	/* An unpinned file is not even parsed: it may be a tampered store. */
	sha256_hex(image, len, ms->sha256);
	ret = check_pinned(o, ms->sha256, why, whylen);
	if (ret)
		goto out;
	/* Pinned as stored; parsed and loaded as the kernel would see it. */
	ret = kmodule_decompress(image, len, &plain, &plain_len, parse_why, sizeof(parse_why));
	if (!ret && plain) {
		free(image);
		image = plain;
		len = plain_len;
	}
	if (!ret)
		ret = kmodule_parse(image, len, &ms->info, parse_why, sizeof(parse_why));
	if (ret) {
		snprintf(why, whylen, "%s: %s", ms->origin, parse_why);
		goto out;
	}
	if (strcmp(ms->info.release, uts.release)) {
		snprintf(why, whylen, "%s is built for kernel %s, this is %s", ms->origin,
			 ms->info.release, uts.release);
		ret = -ENOEXEC;
		goto out;
	}
	ret = kmodule_kernel_accepts(&ms->info, "/proc", "/sys", why, whylen);
	if (ret)
		goto out;
	if (kmodule_is_loaded("/proc", ms->info.name)) {
		snprintf(why, whylen, "a module named %s is already loaded, not by this agent: "
			 "neither used nor unloaded", ms->info.name);
		ret = -EEXIST;
		goto out;
	}
	memfd = memfd_create(ms->info.name, MFD_CLOEXEC);
	if (memfd < 0 || write_all(memfd, image, len)) {
		ret = -errno;
		snprintf(why, whylen, "memfd: %s", strerror(errno));
		goto out;
	}
	if (!strcmp(kind, "lime")) {
		ms->module_fd = memfd;
		memfd = -1;
		ret = start_lime(ms, o, why, whylen);
		goto out;
	}
	ret = kmodule_load(memfd, "", why, whylen);
	if (ret)
		goto out;
	ms->loaded = true;
	ret = open_device(why, whylen);
	if (ret < 0)
		goto out;
	ms->fd = ret;
	ret = 0;
	snprintf(ms->detail, sizeof(ms->detail), "forensics_mem %.120s, sha256 %s", ms->info.vermagic,
		 ms->sha256);
out:
	if (memfd >= 0)
		close(memfd);
	free(image);
	if (ret)
		modsource_close(ms);
	return ret;
}

int modsource_unreadable(struct modsource *ms, struct capture_result *result)
{
	struct forensics_mem_range *ranges;
	struct forensics_mem_unreadable q = { .capacity = UNREADABLE_BATCH };
	struct forensics_mem_info info = { 0 };
	int ret = 0;

	if (strcmp(ms->kind, "module") || ms->fd < 0)
		return 0;
	if (ioctl(ms->fd, FORENSICS_MEM_IOC_INFO, &info))
		return -errno;
	ranges = calloc(UNREADABLE_BATCH, sizeof(*ranges));
	if (!ranges)
		return -ENOMEM;
	q.ranges = (uintptr_t)ranges;
	if (ioctl(ms->fd, FORENSICS_MEM_IOC_UNREADABLE, &q)) {
		ret = -errno;
		goto out;
	}
	for (uint32_t i = 0; i < q.count; i++) {
		struct unreadable_range *u;

		if (ranges[i].end <= ranges[i].start)
			continue;
		if (result->unreadable_count == result->unreadable_capacity) {
			size_t cap = result->unreadable_capacity ? 2 * result->unreadable_capacity : 16;
			struct unreadable_range *grown = realloc(result->unreadable,
								 cap * sizeof(*grown));

			if (!grown) {
				ret = -ENOMEM;
				goto out;
			}
			result->unreadable = grown;
			result->unreadable_capacity = cap;
		}
		u = &result->unreadable[result->unreadable_count++];
		u->start = ranges[i].start;
		u->end = ranges[i].end - 1;
		u->error = -EIO;
		result->bytes_zeroed += ranges[i].end - ranges[i].start;
	}
	if (q.total > q.count || q.truncated)
		log_warn("unreadable", "the module lists more unreadable spans than reported (%u of %u%s)",
			 q.count, q.total, q.truncated ? ", its own list overflowed" : "");
	snprintf(ms->detail + strlen(ms->detail), sizeof(ms->detail) - strlen(ms->detail),
		 "; %llu unreadable and %llu slow pages", (unsigned long long)info.unreadable_pages,
		 (unsigned long long)info.slow_pages);
out:
	free(ranges);
	return ret;
}

void modsource_close(struct modsource *ms)
{
	/*
	 * Giving up before LiME wrote: gone from the directory, a later open
	 * fails; and with the read end closed, its writes fail (EPIPE) and its
	 * init returns.
	 */
	remove_fifo(ms);
	if (ms->fd >= 0)
		close(ms->fd);
	ms->fd = -1;
	if (ms->loader_started) {
		struct timespec deadline;

		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += LIME_EXIT_WAIT_S;
		if (pthread_timedjoin_np(ms->loader, NULL, &deadline)) {
			log_warn("module", "LiME's init did not return within %d s; left running",
				 LIME_EXIT_WAIT_S);
			pthread_detach(ms->loader);
		}
		ms->loader_started = false;
	}
	if (ms->module_fd >= 0)
		close(ms->module_fd);
	ms->module_fd = -1;
	if (ms->loaded) {
		int ret = kmodule_unload(ms->info.name);

		for (int tries = 0; ret == -EAGAIN && tries < 50; tries++) {
			sleep_ms(100);
			ret = kmodule_unload(ms->info.name);
		}
		if (ret)
			log_warn("module", "could not unload %s: %s", ms->info.name, strerror(-ret));
		ms->loaded = false;
	}
}

int modsource_select(const char *forced, const struct modsource_options *o, struct modsource *ms,
		     struct source_selection *sel)
{
	static const struct {
		const char *kind;
		const char *path;
	} kinds[] = {
		{ "module", "/dev/forensics_mem" },
		{ "lime", "LiME path= FIFO" },
	};
	bool used = false;

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		struct source_attempt *a;
		int ret;

		if (forced && strcmp(forced, kinds[i].kind))
			continue;
		a = &sel->attempts[sel->count++];
		a->name = kinds[i].kind;
		a->path = kinds[i].path;
		if (used) {
			a->status = SOURCE_SKIPPED;
			snprintf(a->reason, sizeof(a->reason), "not needed: an earlier source was used");
			continue;
		}
		ret = modsource_open(kinds[i].kind, o, ms, a->reason, sizeof(a->reason));
		if (ret) {
			a->status = SOURCE_FAILED;
			a->error = ret;
			continue;
		}
		a->status = SOURCE_USED;
		snprintf(a->reason, sizeof(a->reason), "loaded %.200s", ms->origin);
		used = true;
	}
	return used ? 0 : -ENOENT;
}

int modsource_capture(struct modsource *ms, const struct range_list *ram, struct sink *out,
		      const struct capture_options *copt, struct capture_result *result,
		      struct range_list *image_ranges)
{
	struct stream_capture_options sopt = {
		.progress = copt->progress, .stop = copt->stop,
	};
	struct stream_capture_result sres;
	int ret;

	memset(result, 0, sizeof(*result));
	ret = stream_capture_run(ms->fd, ram, out, &sopt, &sres);
	if (ret == -EBADMSG || ret == -ERANGE)
		log_error("source", "acquire: the %s stream is not trusted: %s", ms->kind, sres.error);
	else if (ret == -ETIMEDOUT)
		log_error("source", "acquire: the %s stream stalled for %d s", ms->kind,
			  STREAM_CAPTURE_STALL_MS / 1000);
	if (!ret)
		ret = modsource_unreadable(ms, result);
	modsource_close(ms);
	result->bytes_total = sres.ram_bytes;
	result->bytes_read = sres.ram_bytes - result->bytes_zeroed;
	*image_ranges = sres.ranges;
	if (!ret && range_list_total(&sres.ranges) < range_list_total(ram))
		log_warn("coverage", "the %s stream covers %.1f of %.1f MiB of System RAM (see the "
			 "manifest's ranges)", ms->kind,
			 (double)range_list_total(&sres.ranges) / (1 << 20),
			 (double)range_list_total(ram) / (1 << 20));
	return ret;
}
