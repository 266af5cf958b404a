/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Option handling the subcommands share: numbers in a range, and what the
 * image-reading commands (verify, convert) answer to the options they have
 * in common and to getopt's complaints.
 */
#ifndef FORENSICS_AGENT_CLIOPTS_H
#define FORENSICS_AGENT_CLIOPTS_H

#include <stdio.h>

/* The getopt code of --log-format in verify's and convert's tables. */
#define CLIOPTS_LOG_FORMAT 0x1ff
/* cliopts_image_common: the option was handled, go on. */
#define CLIOPTS_CONTINUE (-1)

/* text as an integer in [min, max], in base as strtoll reads it: 0, or -EINVAL. */
int cliopts_number(const char *text, int base, long long min, long long max, long long *value);
/* Logs "command: message (try --help)" as a usage error; returns EXIT_USAGE. */
int cliopts_usage_error(const char *command, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * verify's and convert's answer to opt (from getopt_long, with opterr 0 and
 * ':' leading the short options) when it is none of their own: --log-format,
 * --help (usage on stdout) and getopt's complaints. CLIOPTS_CONTINUE, or the
 * exit code to return.
 */
int cliopts_image_common(const char *command, int opt, char *const argv[],
			 void (*usage)(FILE *out));

#endif
