/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Exit codes of both programs, one per cause, so automation (SSM, the
 * controller, a responder's script) can act without parsing messages.
 * 0-19 are the agent's, 20 and up the controller's; 0-2, 10 and 13 mean the
 * same to both. Documented in docs/exit-codes.md; never renumber, only append.
 */
#ifndef FORENSICS_EXITCODES_H
#define FORENSICS_EXITCODES_H

enum exit_code {
	EXIT_OK = 0,
	EXIT_FAILURE_INTERNAL = 1,  /* a bug or out of memory */
	EXIT_USAGE = 2,             /* unknown flag, bad value, missing argument */
	EXIT_NO_SOURCE = 3,         /* no memory source could be opened */
	EXIT_OUTPUT = 4,            /* cannot write the output: disk full, closed pipe, exists
				     * (a file, or an object at the S3 key) */
	EXIT_INTERRUPTED = 5,       /* SIGINT or SIGTERM */
	EXIT_MISMATCH = 6,          /* verify: hashes, sizes or ranges differ from the manifest */
	EXIT_MALFORMED = 7,         /* input is not a well-formed image, zstd stream or manifest */
	EXIT_INPUT = 8,             /* input cannot be opened or read */
	EXIT_SYSTEM_INFO = 9,       /* /proc/iomem unreadable or hides addresses */
	EXIT_CREDENTIALS = 10,      /* no AWS credentials could be found */
	EXIT_UPLOAD = 11,           /* S3 upload failed (after retries); the message says what
				     * the bucket holds */
	EXIT_UPLOAD_DENIED = 12,    /* S3 refused: AccessDenied, SignatureDoesNotMatch */
	EXIT_TLS = 13,              /* no CA bundle for https, or AWS's certificate not trusted */

	/* The controller's. */
	EXIT_AWS_DENIED = 20,       /* AWS refused our identity or permissions */
	EXIT_NO_INSTANCE = 21,      /* no such instance in that account and region */
	EXIT_THROTTLED = 22,        /* still throttled after the bounded retries */
	EXIT_AWS = 23,              /* another AWS error, or AWS unreachable */
	EXIT_ASSUME_ROLE = 24,      /* the member account's role could not be assumed */
	EXIT_WRONG_ACCOUNT = 25,    /* the credentials are for another account than --account */
	EXIT_STEP_FAILED = 26,      /* a step failed, the rest still ran; the record says which */
	EXIT_RECORD = 27,           /* the stored case record cannot be read, is another's, or another run holds it */
	EXIT_EVENT = 28,            /* the event is not one we know, or lacks what we need */
};

#endif
