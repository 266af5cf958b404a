// SPDX-License-Identifier: GPL-2.0-only
#include "base/jsonutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PATH_STEP_MAX 64

json_object *json_path(json_object *o, const char *path)
{
	char name[PATH_STEP_MAX];

	while (o && *path) {
		const char *slash = strchr(path, '/');
		size_t n = slash ? (size_t)(slash - path) : strlen(path);

		if (n >= sizeof(name) || !json_object_is_type(o, json_type_object))
			return NULL;
		memcpy(name, path, n);
		name[n] = '\0';
		if (!json_object_object_get_ex(o, name, &o))
			return NULL;
		path += n + (slash ? 1 : 0);
	}
	return o;
}

const char *json_path_string(json_object *o, const char *path)
{
	json_object *v = json_path(o, path);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

const char *json_member_text(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

int json_dup_string(json_object *o, const char *key, bool wipe, char **out)
{
	json_object *v;
	char *s;
	int n;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return -ENOENT;
	s = (char *)json_object_get_string(v);
	n = json_object_get_string_len(v);
	if (n <= 0 || memchr(s, '\0', (size_t)n))
		return -ENOENT;
	*out = strdup(s);
	if (wipe)
		explicit_bzero(s, (size_t)n);
	return *out ? 0 : -ENOMEM;
}
