/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef FORENSICS_AGENT_SUBCOMMANDS_H
#define FORENSICS_AGENT_SUBCOMMANDS_H

#include "base/command.h"

#define AGENT_NAME "forensics-agent"

COMMAND_MAIN(acquire);
COMMAND_MAIN(verify);
COMMAND_MAIN(convert);
COMMAND_MAIN(upload);
COMMAND_MAIN(presign);

#endif
