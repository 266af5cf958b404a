/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Exit codes of forensics-agent, one per cause so automation (SSM, the
 * controller) can act without parsing messages. Documented in
 * docs/exit-codes.md; never renumber, only append.
 */
#ifndef FORENSICS_EXITCODES_H
#define FORENSICS_EXITCODES_H

enum exit_code {
	EXIT_OK = 0,
	EXIT_FAILURE_INTERNAL = 1,  /* a bug or out of memory */
	EXIT_USAGE = 2,             /* unknown flag, bad value, missing argument */
	EXIT_NO_SOURCE = 3,         /* no memory source could be opened */
	EXIT_OUTPUT = 4,            /* cannot write the output: disk full, closed pipe, exists */
	EXIT_INTERRUPTED = 5,       /* SIGINT or SIGTERM */
	EXIT_MISMATCH = 6,          /* verify: hashes, sizes or ranges differ from the manifest */
	EXIT_MALFORMED = 7,         /* input is not a well-formed image, zstd stream or manifest */
	EXIT_INPUT = 8,             /* input cannot be opened or read */
	EXIT_SYSTEM_INFO = 9,       /* /proc/iomem unreadable or hides addresses */
	EXIT_CREDENTIALS = 10,      /* no AWS credentials could be found */
	EXIT_UPLOAD = 11,           /* S3 upload failed (after retries); the upload was aborted */
	EXIT_UPLOAD_DENIED = 12,    /* S3 refused: AccessDenied, SignatureDoesNotMatch */
};

#endif
