/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The analysis bundle: what Volatility 3 needs to make sense of the image
 * (symbols, BTF, module list, kernel config), taken from the same boot.
 */
#ifndef FORENSICS_AGENT_BUNDLE_H
#define FORENSICS_AGENT_BUNDLE_H

#include "destination.h"
#include "base/sink.h"

#include <json-c/json.h>

/*
 * Write the bundle as a tar archive into out (not finished here). Returns 0
 * and a JSON array describing each file (size, SHA-256, or why it is
 * missing) in *files, or the sink's error.
 */
int bundle_write(struct sink *out, json_object **files);
/*
 * The bundle as acquire stores it: tar -> zstd -> tee(sha256, path at d),
 * recorded in manifest's "bundle" (or its file list dropped on failure).
 */
int bundle_store(struct destination *d, const char *path, json_object *manifest);

#endif
