/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The project's SSM Command document (delivery/ssm/forensics-acquire.json)
 * as the controller sends it: its default name and, for each parameter, the
 * check its allowedPattern or allowedValues makes, so a value SSM would
 * refuse is refused here first, with the parameter named.
 */
#ifndef FORENSICS_SSMDOC_H
#define FORENSICS_SSMDOC_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define SSMDOC_DEFAULT_NAME "forensics-acquire"
#define SSMDOC_EXTRA_MAX 1024   /* ExtraArgs: {0,1024} */

/* One parameter of the document, as its JSON declares it. */
struct ssmdoc_param {
	const char *name;
	bool (*ok)(const char *value);
	const char *const *values;   /* allowedValues, when ok is NULL */
	bool required;               /* no default in the document */
	bool secret;
};

/* The parameter called name, or NULL; how many the document has. */
const struct ssmdoc_param *ssmdoc_param_find(const char *name);
size_t ssmdoc_param_count(void);

/*
 * value allowed for the document's parameter param (false for a parameter
 * the document does not have). Never looser than the document's pattern; for
 * AgentUrl stricter (printable ASCII only).
 */
bool ssmdoc_value_ok(const char *param, const char *value);
/* A document name or ARN SSM accepts (3-128 of A-Za-z0-9_-.:/). */
bool ssmdoc_name_ok(const char *name);
/*
 * params {"Name": "value", ...}: every name the document's, every value a
 * string it allows, the parameters without a default present. -EINVAL with
 * why naming the first one that is not (never echoing a Session* value).
 */
int ssmdoc_params_check(json_object *params, char *why, size_t whylen);

#endif
