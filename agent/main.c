// SPDX-License-Identifier: GPL-2.0-only
/*
 * forensics-agent: capture a Linux host's physical memory as evidence, and
 * check or convert what was captured. One static binary, so it runs on
 * whatever the responder finds.
 */
#include "base/exitcodes.h"
#include "base/log.h"
#include "subcommands.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int (*main)(int argc, char *argv[]);
	const char *description;
} subcommands[] = {
	{ "acquire", acquire_main, "capture physical memory as a LiME image (zstd, SHA-256)" },
	{ "verify", verify_main, "check an image's structure and hashes against its manifest" },
	{ "convert", convert_main, "convert between LiME, raw and padded; zstd and plain" },
	{ "upload", upload_main, "stream a file or stdin into S3 (multipart, SHA-256 per part)" },
	{ "presign", presign_main, "create an upload and a ticket of presigned URLs for it" },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: %s <command> [options]\n\nCommands:\n", AGENT_NAME);
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(out, "  %-9s %s\n", subcommands[i].name, subcommands[i].description);
	fprintf(out, "\n'%s <command> --help' describes a command's options.\n"
		     "Exit codes: 0 ok, 1 internal, 2 usage, 3 no source, 4 output, 5 interrupted,\n"
		     "6 verify mismatch, 7 malformed input, 8 input unreadable, 9 system info,\n"
		     "10 no credentials, 11 upload failed, 12 upload denied.\n",
		AGENT_NAME);
}

int main(int argc, char *argv[])
{
	log_init(LOG_FORMAT_AUTO);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("%s %s\n", AGENT_NAME, AGENT_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].main(argc - 1, argv + 1);
	log_error("usage", "unknown command '%s' (try --help)", argv[1]);
	return EXIT_USAGE;
}
