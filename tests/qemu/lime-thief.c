// SPDX-License-Identifier: GPL-2.0-only
/*
 * lime-thief READY_FILE DONE_FILE
 *
 * An unprivileged user racing the agent for upstream LiME's dump (guest
 * test helper). Started as root, it leaves READY_FILE, drops to
 * nobody (65534), and until DONE_FILE appears:
 *   - watches /run and /dev/shm for directories made after its start and tries to list them,
 *     to open <dir>/stream for reading (steal the dump) and for writing
 *     (feed a fake LiME stream), and to create a file in them;
 *   - watches /proc/net/tcp for listening sockets and connects to each,
 *     reading whatever it sends (LiME's old tcp: path);
 *   - listens on a loopback port itself, serving a fake LiME header to
 *     whoever connects (an impostor that bound the port first).
 * Then prints one line:
 *   THIEF uid=U dirs=N attempts=N opened=N read=N written=N created=N listeners=N
 *         connected=N stolen=BYTES impostor_accepts=N first_errno=NAME
 * Every count but dirs, attempts and listeners must be 0 for the agent to be
 * safe.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_SEEN 64

static char seen[MAX_SEEN][300];
static unsigned int nseen, npre, ndirs, attempts;
static unsigned int opened, nread, written, created, listeners, connected, accepts;
static unsigned long long stolen;
static int first_errno;

static void note_errno(int e)
{
	if (!first_errno)
		first_errno = e;
}

static int was_seen(const char *path)
{
	for (unsigned int i = 0; i < nseen; i++)
		if (!strcmp(seen[i], path))
			return 1;
	if (nseen < MAX_SEEN)
		snprintf(seen[nseen++], sizeof(seen[0]), "%s", path);
	return 0;
}

/* The entries seen by the initial scan come first in seen[]. */
static int preexisting(const char *path)
{
	for (unsigned int i = 0; i < npre; i++)
		if (!strcmp(seen[i], path))
			return 1;
	return 0;
}

static void drain(int fd)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		stolen += (unsigned long long)n;
}

static void attack_dir(const char *dir)
{
	static const unsigned char fake[32] = { 0x45, 0x4d, 0x69, 0x4c, 1 };  /* LiME magic */
	char path[400];
	DIR *d = opendir(dir);
	int fd;

	attempts++;
	if (d) {
		opened++;
		closedir(d);
	} else {
		note_errno(errno);
	}
	snprintf(path, sizeof(path), "%s/stream", dir);
	fd = open(path, O_RDONLY | O_NONBLOCK);
	if (fd >= 0) {
		opened++;
		nread++;
		drain(fd);
		close(fd);
	} else {
		note_errno(errno);
	}
	fd = open(path, O_WRONLY | O_NONBLOCK);
	if (fd >= 0) {
		opened++;
		if (write(fd, fake, sizeof(fake)) > 0)
			written++;
		close(fd);
	} else {
		note_errno(errno);
	}
	snprintf(path, sizeof(path), "%s/stream.sha1", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0666);
	if (fd >= 0) {
		created++;
		close(fd);
	} else {
		note_errno(errno);
	}
}

static int scan_dirs(const char *base, int initial)
{
	struct dirent *e;
	int found = 0;
	DIR *d = opendir(base);

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[300];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", base, e->d_name);
		if (lstat(path, &st) || !S_ISDIR(st.st_mode))
			continue;
		/* Only what appears after the start is the agent's. */
		if (initial) {
			was_seen(path);
			continue;
		}
		if (preexisting(path))
			continue;
		/* Every round while it exists: the FIFO may come after the directory. */
		if (!was_seen(path)) {
			ndirs++;
			found = 1;
		}
		attack_dir(path);
	}
	closedir(d);
	return found;
}

static void scan_tcp(int own_port)
{
	char line[512];
	FILE *f = fopen("/proc/net/tcp", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned int addr, port, state;
		struct sockaddr_in a = { .sin_family = AF_INET };
		char key[32];
		int s;

		if (sscanf(line, " %*d: %x:%x %*x:%*x %x", &addr, &port, &state) != 3 ||
		    state != 0x0a || (int)port == own_port)
			continue;
		snprintf(key, sizeof(key), "tcp:%u", port);
		if (was_seen(key))
			continue;
		listeners++;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a.sin_port = htons((uint16_t)port);
		s = socket(AF_INET, SOCK_STREAM, 0);
		if (s >= 0 && !connect(s, (struct sockaddr *)&a, sizeof(a))) {
			struct timeval tv = { .tv_sec = 1 };

			connected++;
			setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			drain(s);
		} else {
			note_errno(errno);
		}
		if (s >= 0)
			close(s);
	}
	fclose(f);
}

/* A loopback port of our own, answering with a fake LiME header. */
static int impostor(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 4) ||
	    getsockname(s, (struct sockaddr *)&a, &alen))
		return -1;
	*port = ntohs(a.sin_port);
	return s;
}

int main(int argc, char **argv)
{
	struct timespec nap = { .tv_nsec = 1000000 };
	int fd, lsock, own_port = -1, quiet = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: lime-thief READY_FILE DONE_FILE\n");
		return 2;
	}
	if (setgroups(0, NULL) || setgid(65534) || setuid(65534) || !getuid()) {
		perror("lime-thief: dropping privileges");
		return 1;
	}
	lsock = impostor(&own_port);
	scan_dirs("/run", 1);
	scan_dirs("/dev/shm", 1);
	npre = nseen;
	/* Made after the drop: its owner proves the drop happened. */
	fd = open(argv[1], O_WRONLY | O_CREAT, 0644);
	if (fd < 0) {
		perror("lime-thief: ready file");
		return 1;
	}
	close(fd);
	while (access(argv[2], F_OK)) {
		int c;

		if (scan_dirs("/run", 0) | scan_dirs("/dev/shm", 0))
			quiet = 0;
		scan_tcp(own_port);
		if (lsock >= 0 && (c = accept(lsock, NULL, NULL)) >= 0) {
			static const unsigned char fake[32] = { 0x45, 0x4d, 0x69, 0x4c, 1 };

			accepts++;
			if (write(c, fake, sizeof(fake)) < 0)
				note_errno(errno);
			close(c);
		}
		/* Hard while nothing happened yet, gently once the race is over. */
		nap.tv_nsec = ++quiet > 2000 ? 50000000 : 1000000;
		nanosleep(&nap, NULL);
	}
	printf("THIEF uid=%u dirs=%u attempts=%u opened=%u read=%u written=%u created=%u listeners=%u "
	       "connected=%u stolen=%llu impostor_accepts=%u first_errno=%s\n", getuid(), ndirs, attempts,
	       opened, nread, written, created, listeners, connected, stolen, accepts,
	       first_errno ? strerrorname_np(first_errno) : "none");
	return 0;
}
