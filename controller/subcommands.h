/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef FORENSICS_CONTROLLER_SUBCOMMANDS_H
#define FORENSICS_CONTROLLER_SUBCOMMANDS_H

#define CONTROLLER_NAME "forensics-controller"
#define CONTROLLER_VERSION "0.1.0"

int respond_main(int argc, char *argv[]);
int contain_main(int argc, char *argv[]);
int release_main(int argc, char *argv[]);
int event_main(int argc, char *argv[]);

#endif
