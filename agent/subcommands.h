/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef FORENSICS_SUBCOMMANDS_H
#define FORENSICS_SUBCOMMANDS_H

#define AGENT_NAME "forensics-agent"
#define AGENT_VERSION "0.1.0"

int acquire_main(int argc, char *argv[]);
int verify_main(int argc, char *argv[]);
int convert_main(int argc, char *argv[]);
int upload_main(int argc, char *argv[]);
int presign_main(int argc, char *argv[]);

#endif
