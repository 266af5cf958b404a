/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Small readers over json-c objects that every layer uses on outside JSON
 * (manifests, events, AWS answers, tickets): a member by path, a string
 * member or NULL, a string copied out (and wiped where it was a secret).
 */
#ifndef FORENSICS_JSONUTIL_H
#define FORENSICS_JSONUTIL_H

#include <json-c/json.h>
#include <stdbool.h>

/* The member at "a/b/c" (each step an object's member), or NULL. */
json_object *json_path(json_object *o, const char *path);
/* The string at path, or NULL when absent or not a string. */
const char *json_path_string(json_object *o, const char *path);
/* The member key in any type as json-c prints it ("true", "3"), or NULL when absent. */
const char *json_member_text(json_object *o, const char *key);
/*
 * A copy of the non-empty string member key in *out: 0, -ENOENT (absent,
 * not a string, empty, or holding a NUL), -ENOMEM. With wipe, json-c's copy
 * is zeroed once copied, for secrets (json-c frees without wiping).
 */
int json_dup_string(json_object *o, const char *key, bool wipe, char **out);

#endif
