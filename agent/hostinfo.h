/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Who and what was captured: enough to tie an image to one boot of one
 * machine (boot id), and to pick the right symbols (exact kernel banner).
 */
#ifndef FORENSICS_AGENT_HOSTINFO_H
#define FORENSICS_AGENT_HOSTINFO_H

#include <json-c/json.h>

/* A JSON object for the manifest's "host" member; never NULL on success. */
json_object *hostinfo_collect(void);

#endif
