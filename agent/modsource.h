/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel-module sources: the project's forensics_mem module and upstream
 * LiME. Each is found (a local directory, where DKMS installs, or a store in
 * S3 keyed by kernel release), checked (vermagic against the running kernel,
 * SHA-256 against a pinned list, the kernel's signing policy) before the
 * kernel sees it, loaded with finit_module(), read as a LiME stream, and
 * unloaded after the capture.
 */
#ifndef FORENSICS_AGENT_MODSOURCE_H
#define FORENSICS_AGENT_MODSOURCE_H

#include "s3opts.h"
#include "capture/capture.h"
#include "capture/kmodule.h"
#include "capture/source.h"

#include <pthread.h>
#include <stdbool.h>

#define MODSOURCE_MAX_PINS 16
#define MODSOURCE_OWN_NAME "forensics_mem"
#define MODSOURCE_OWN_FILE "forensics_mem.ko"
/* Where `dkms install` and the module factory's pin list put their hashes. */
#define MODSOURCE_DEFAULT_PINS "/var/lib/forensics-mem/SHA256SUMS"

struct modsource_options {
	const char *module_path;    /* --module FILE|s3://… */
	const char *module_store;   /* --module-store DIR|s3://bucket/prefix/ */
	const char *lime_path;      /* --lime-module FILE|s3://… */
	const char *lime_store;     /* --lime-store DIR|s3://… (<os>/<release>/lime-<release>.ko) */
	const char *lime_params;    /* extra LiME parameters, e.g. "timeout=0" */
	const char *pins_path;      /* --module-pins FILE|s3://… (sha256sum format) */
	const char *pins[MODSOURCE_MAX_PINS];  /* --module-sha256 */
	size_t pin_count;
	struct s3opts *s3;          /* for s3:// locations */
};

struct modsource {
	const char *kind;           /* "module" or "lime" */
	int fd;                     /* the LiME stream: device or FIFO */
	char origin[1024];          /* the file or s3:// URI loaded */
	char sha256[65];
	struct kmodule_info info;
	char detail[256];           /* for the manifest's source.detail */
	bool loaded;                /* we loaded it: unload after */
	/* Upstream LiME: finit_module() blocks until the dump is sent. */
	pthread_t loader;
	bool loader_started;
	char fifo_dir[96];          /* LiME's path=: a FIFO in a directory only we enter */
	char fifo_path[128];
	struct source_transport transport;
	int module_fd;
	char params[256];
	int load_error;
	char load_why[256];
};

/*
 * --lime-params: 0, or -EINVAL with why when it names a parameter the agent
 * sets itself or one that would change the stream (path, format,
 * localhostonly, dio, digest, compress).
 */
int modsource_lime_params_check(const char *params, char *why, size_t whylen);
/*
 * Find, check, load and open kind ("module" or "lime") for ram. 0 with ms
 * open, or a negative errno with the reason the source was skipped in why.
 */
int modsource_open(const char *kind, const struct modsource_options *o, struct modsource *ms,
		   char *why, size_t whylen);
/*
 * After the stream's end: the module's zero-filled pages into result (own
 * module only; LiME does not report them). 0 or a negative errno.
 */
int modsource_unreadable(struct modsource *ms, struct capture_result *result);
/* Close the stream, wait for the loader, unload what we loaded. */
void modsource_close(struct modsource *ms);
/*
 * Try the kernel-module sources in order (own module, then upstream LiME; only
 * forced when not NULL),
 * recording each attempt. 0 with ms open, or -ENOENT when none could be used.
 */
int modsource_select(const char *forced, const struct modsource_options *o, struct modsource *ms,
		     struct source_selection *sel);
/*
 * Capture from a module's LiME stream; the module is unloaded as soon as
 * the stream ends. The image's ranges are the stream's; RAM it left out is
 * reported, never silently missing.
 */
int modsource_capture(struct modsource *ms, const struct range_list *ram, struct sink *out,
		      const struct capture_options *copt, struct capture_result *result,
		      struct range_list *image_ranges);

#endif
