// SPDX-License-Identifier: GPL-2.0-only
#include "cliopts.h"
#include "base/exitcodes.h"
#include "base/log.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>

#define CLIOPTS_MESSAGE_MAX 768

int cliopts_number(const char *text, int base, long long min, long long max, long long *value)
{
	char *end;

	errno = 0;
	*value = strtoll(text, &end, base);
	if (errno || end == text || *end || *value < min || *value > max)
		return -EINVAL;
	return 0;
}

int cliopts_usage_error(const char *command, const char *fmt, ...)
{
	char message[CLIOPTS_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	log_error("usage", "%s: %s (try --help)", command, message);
	return EXIT_USAGE;
}

int cliopts_image_common(const char *command, int opt, char *const argv[],
			 void (*usage)(FILE *out))
{
	switch (opt) {
	case CLIOPTS_LOG_FORMAT:
		if (log_set_format(optarg))
			return cliopts_usage_error(command, "--log-format must be auto, text or json, "
						   "not '%s'", optarg);
		return CLIOPTS_CONTINUE;
	case 'h':
		usage(stdout);
		return EXIT_OK;
	case ':':
		return cliopts_usage_error(command, "option '%s' needs a value", argv[optind - 1]);
	default:
		if (optopt)
			return cliopts_usage_error(command, "unknown option '-%c'", optopt);
		return cliopts_usage_error(command, "unknown option '%s'", argv[optind - 1]);
	}
}
