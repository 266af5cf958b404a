/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A minimal ustar writer onto a sink, for the analysis bundle: a handful of
 * regular files read whole from /proc, /sys and /boot. Written here rather
 * than linking libarchive, whose static build pulls in a dozen codecs and
 * libxml2 into a binary that must stay small and self-contained.
 */
#ifndef FORENSICS_TAR_H
#define FORENSICS_TAR_H

#include "base/sink.h"

#include <stddef.h>
#include <time.h>

#define TAR_BLOCK 512u
#define TAR_NAME_MAX 99u

/* -ENAMETOOLONG for names over TAR_NAME_MAX bytes. */
int tar_add_file(struct sink *out, const char *name, const void *data, size_t len,
		 time_t mtime);
/* The two zero blocks that end an archive. */
int tar_finish(struct sink *out);

#endif
