// SPDX-License-Identifier: GPL-2.0-only
/*
 * forensics-agent: capture a Linux host's physical memory as evidence, and
 * check or convert what was captured. One static binary, so it runs on
 * whatever the responder finds.
 */
#include "base/command.h"
#include "subcommands.h"

static const struct command commands[] = {
	{ "acquire", acquire_main, "capture physical memory as a LiME image (zstd, SHA-256)" },
	{ "verify", verify_main, "check an image's structure and hashes against its manifest" },
	{ "convert", convert_main, "convert between LiME, raw and padded; zstd and plain" },
	{ "upload", upload_main, "stream a file or stdin into S3 (multipart, SHA-256 per part)" },
	{ "presign", presign_main, "create an upload and a ticket of presigned URLs for it" },
};

static const struct program agent = {
	.name = AGENT_NAME,
	.commands = commands,
	.count = sizeof(commands) / sizeof(commands[0]),
	.exit_codes = "Exit codes: 0 ok, 1 internal, 2 usage, 3 no source, 4 output, 5 interrupted,\n"
		      "6 verify mismatch, 7 malformed input, 8 input unreadable, 9 system info,\n"
		      "10 no credentials, 11 upload failed, 12 upload denied.\n",
};

int main(int argc, char *argv[])
{
	return command_dispatch(&agent, argc, argv);
}
