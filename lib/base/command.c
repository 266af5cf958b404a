// SPDX-License-Identifier: GPL-2.0-only
#include "base/command.h"
#include "base/exitcodes.h"
#include "base/log.h"

#include <stdio.h>
#include <string.h>

static void usage(const struct program *p, FILE *out)
{
	fprintf(out, "Usage: %s <command> [options]\n\nCommands:\n", p->name);
	for (size_t i = 0; i < p->count; i++)
		fprintf(out, "  %-9s %s\n", p->commands[i].name, p->commands[i].description);
	fprintf(out, "\n'%s <command> --help' describes a command's options.\n%s", p->name,
		p->exit_codes);
}

int command_dispatch(const struct program *p, int argc, char *argv[])
{
	int ret;

	log_init(LOG_FORMAT_AUTO);
	if (argc < 2) {
		usage(p, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(p, stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("%s %s\n", p->name, FORENSICS_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < p->count; i++) {
		if (strcmp(argv[1], p->commands[i].name))
			continue;
		if (p->before)
			p->before();
		ret = p->commands[i].main(argc - 1, argv + 1);
		if (p->after)
			p->after();
		return ret;
	}
	log_error("usage", "unknown command '%s' (try --help)", argv[1]);
	return EXIT_USAGE;
}
