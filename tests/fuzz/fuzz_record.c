// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer: the case record read back from the bucket when a case is run
 * again (anyone who can write under the record prefix writes this input):
 * parsed, resumed, and asked which steps an earlier run finished.
 */
#include "base/log.h"
#include "response/record.h"
#include "response/store.h"

#include <errno.h>
#include <string.h>
#include <stdint.h>
#include <stdlib.h>

static const char *const steps[] = {
	"termination-protection", "shutdown-behavior", "keep-volumes", "console-output",
	"memory-manifest", "snapshots",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct case_record rec;
	json_object *stored;
	char *body = strndup((const char *)data, size);

	if (!body)
		return 0;
	if (!record_store_parse(body, &stored)) {
		if (case_record_init(&rec, "case-1", "i-0123456789abcdef0", "eu-west-1")) {
			json_object_put(stored);
			goto out;
		}
		if (!case_record_resume(&rec, stored)) {
			if (rec.run < 2)
				abort();
			for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
				(void)case_record_done(&rec, steps[i]);
			(void)json_object_to_json_string(rec.root);
		}
		case_record_free(&rec);
	}
out:
	free(body);
	return 0;
}
