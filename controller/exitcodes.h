/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Exit codes of forensics-controller, one per cause (docs/exit-codes.md,
 * controller section). 0-2 and 10 mean what they mean for the agent; the
 * controller's own start at 20. Never renumber, only append.
 */
#ifndef FORENSICS_CONTROLLER_EXITCODES_H
#define FORENSICS_CONTROLLER_EXITCODES_H

enum controller_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_INTERNAL = 1,     /* a bug or out of memory */
	CTL_EXIT_USAGE = 2,        /* unknown flag, bad value, missing argument */
	CTL_EXIT_CREDENTIALS = 10, /* no AWS credentials could be found */
	CTL_EXIT_DENIED = 20,      /* AWS refused our identity or permissions */
	CTL_EXIT_NO_INSTANCE = 21, /* no such instance in that account and region */
	CTL_EXIT_THROTTLED = 22,   /* still throttled after the bounded retries */
	CTL_EXIT_AWS = 23,         /* another AWS error, or AWS unreachable */
	CTL_EXIT_ASSUME_ROLE = 24, /* the member account's role could not be assumed */
	CTL_EXIT_WRONG_ACCOUNT = 25, /* the credentials are for another account than --account */
	CTL_EXIT_STEP_FAILED = 26, /* a step failed, the rest still ran; the record says which */
	CTL_EXIT_RECORD = 27,      /* the stored case record cannot be read or is another's */
	CTL_EXIT_EVENT = 28,       /* the event is not one we know, or lacks what we need */
};

#endif
