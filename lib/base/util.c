// SPDX-License-Identifier: GPL-2.0-only
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int read_whole_file(const char *path, size_t max, char **data, size_t *len)
{
	size_t cap = 4096, used = 0;
	char *buf = NULL;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (used == cap) {
			char *bigger;

			if (cap >= max) {
				ret = -EFBIG;
				goto out;
			}
			cap = cap * 2 > max ? max : cap * 2;
			bigger = realloc(buf, cap + 1);
			if (!bigger) {
				ret = -ENOMEM;
				goto out;
			}
			buf = bigger;
		}
		n = read(fd, buf + used, cap - used);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	buf[used] = '\0';
	*data = buf;
	*len = used;
	buf = NULL;
	ret = 0;
out:
	free(buf);
	close(fd);
	return ret;
}

volatile sig_atomic_t stop_requested;

#define READY_POLL_MS 200

int wait_ready(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		int n;

		if (stop_requested)
			return -EINTR;
		n = poll(&p, 1, READY_POLL_MS);
		if (n > 0)
			return 0;  /* ready, or an error or hang-up the next call reports */
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n;
		int ret = wait_ready(fd, POLLOUT);

		/* A signal that cut a write short is seen there, before blocking again. */
		if (ret)
			return ret;
		n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR && !stop_requested)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t pread_full(int fd, void *buf, size_t len, uint64_t offset)
{
	char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, p + done, len - done, (off_t)(offset + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (done)
				break;
			return -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}
