/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The analysis bundle: what Volatility 3 needs to make sense of the image
 * (symbols, BTF, module list, kernel config), taken from the same boot.
 */
#ifndef FORENSICS_BUNDLE_H
#define FORENSICS_BUNDLE_H

#include "base/sink.h"

#include <json-c/json.h>

/*
 * Write the bundle as a tar archive into out (not finished here). Returns 0
 * and a JSON array describing each file (size, SHA-256, or why it is
 * missing) in *files, or the sink's error.
 */
int bundle_write(struct sink *out, json_object **files);

#endif
