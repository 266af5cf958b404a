/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What acquire's pieces (acquire.c, destination.c, bundle.c) share: the
 * compression defaults and the size below which a host counts as small.
 */
#ifndef FORENSICS_AGENT_ACQUIRE_H
#define FORENSICS_AGENT_ACQUIRE_H

/*
 * The compressor's state is host memory the capture itself overwrites: on a
 * 512 MiB QEMU guest, level 1's 1.3 MiB against level 3's 3.5 MiB was 99.3%
 * against 98.9% identical pages. Level 2 adds about 1 MiB to level 1, costs
 * no speed on memory-like data (docs/PERFORMANCE.md) and is 4% smaller, no
 * larger than gzip -6: that is the default from ACQUIRE_SMALL_RAM up, where that
 * MiB is under 0.05% of what is captured, and level 1 below.
 */
#define ACQUIRE_DEFAULT_LEVEL 2
#define ACQUIRE_SMALL_RAM_LEVEL 1
#define ACQUIRE_SMALL_RAM (2ULL << 30)

#endif
