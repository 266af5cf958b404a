/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef FORENSICS_UTIL_H
#define FORENSICS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Read a whole file, including /proc files whose size stat() reports as 0.
 * The result is NUL-terminated (not counted in *len). Fails with -EFBIG past
 * max bytes so a hostile or runaway file cannot exhaust memory.
 */
int read_whole_file(const char *path, size_t max, char **data, size_t *len);
/*
 * Set by the program's SIGINT/SIGTERM handler. Blocking writes interrupted
 * while it is set give up with -EINTR instead of retrying, so a stalled
 * reader cannot keep the agent from stopping.
 */
extern volatile sig_atomic_t stop_requested;

/*
 * Wait until fd is ready for events (POLLIN, POLLOUT); -EINTR once
 * stop_requested is set. A flag checked just before a blocking read or
 * write misses a signal that lands in between, and the call then blocks for
 * as long as the other end stays quiet: waiting here in short polls does not.
 */
int wait_ready(int fd, short events);
/* Full-length write/pread that retries on EINTR and short counts. */
int write_all(int fd, const void *buf, size_t len);
ssize_t pread_full(int fd, void *buf, size_t len, uint64_t offset);

#endif
