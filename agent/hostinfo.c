// SPDX-License-Identifier: GPL-2.0-only
#include "hostinfo.h"
#include "aws/imds.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#define SMALL_FILE_MAX (64u << 10)

/* The file's text without its trailing newline, or JSON null. */
static json_object *file_text(const char *path)
{
	json_object *value;
	char *text;
	size_t len;

	if (read_whole_file(path, SMALL_FILE_MAX, &text, &len))
		return NULL;
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	value = json_object_new_string_len(text, (int)len);
	free(text);
	return value;
}

json_object *hostinfo_collect(void)
{
	json_object *host = json_object_new_object();
	struct utsname u;
	char *identity = NULL;
	char why[256] = "";

	if (!uname(&u)) {
		char line[6 * sizeof(u.sysname) + 8];

		snprintf(line, sizeof(line), "%s %s %s %s %s", u.sysname, u.nodename, u.release,
			 u.version, u.machine);
		json_object_object_add(host, "hostname", json_object_new_string(u.nodename));
		json_object_object_add(host, "kernel_release", json_object_new_string(u.release));
		json_object_object_add(host, "uname", json_object_new_string(line));
	}
	json_object_object_add(host, "kernel_banner", file_text("/proc/version"));
	json_object_object_add(host, "boot_id", file_text("/proc/sys/kernel/random/boot_id"));
	json_object_object_add(host, "machine_id", file_text("/etc/machine-id"));
	if (!imds_instance_identity(&identity, why, sizeof(why))) {
		json_object *doc = json_tokener_parse(identity);

		json_object_object_add(host, "ec2", doc);
		if (!doc)
			json_object_object_add(host, "ec2_error",
					       json_object_new_string("IMDS identity document is not JSON"));
	} else {
		json_object_object_add(host, "ec2", NULL);
		json_object_object_add(host, "ec2_error", json_object_new_string(why));
	}
	free(identity);
	return host;
}
