// SPDX-License-Identifier: GPL-2.0-only
#include "response/ssmdoc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool lower_or_digit(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool alnum(int c)
{
	return lower_or_digit(c) || (c >= 'A' && c <= 'Z');
}

static bool digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool bucket_char(int c)
{
	return lower_or_digit(c) || c == '.' || c == '-';
}

static bool prefix_char(int c)
{
	return alnum(c) || (c && strchr("!_.*()/=+-", c));
}

static bool case_char(int c)
{
	return alnum(c) || c == '.' || c == '_' || c == '-';
}

static bool key_id_char(int c)
{
	return (c >= 'A' && c <= 'Z') || digit(c);
}

static bool base64_char(int c)
{
	return alnum(c) || c == '/' || c == '+' || c == '=';
}

static bool extra_char(int c)
{
	return alnum(c) || (c && strchr(" ._/:=,@+-", c));
}

/* [^'\s] narrowed to printable ASCII: no quote, no space, no control, no UTF-8. */
static bool url_char(int c)
{
	return c > ' ' && c < 0x7f && c != '\'';
}

/* Every character of s in the class, and min <= length <= max. */
static bool span(const char *s, bool (*in)(int), size_t min, size_t max)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (n >= max || !in((unsigned char)s[n]))
			return false;
	return n >= min;
}

static bool bucket_ok(const char *s)   /* ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ */
{
	size_t n = strlen(s);

	return n >= 3 && n <= 63 && lower_or_digit((unsigned char)s[0]) &&
	       lower_or_digit((unsigned char)s[n - 1]) && span(s, bucket_char, n, n);
}

static bool prefix_ok(const char *s)   /* ^[A-Za-z0-9!_.*()/=+-]{0,512}$ */
{
	return span(s, prefix_char, 0, 512);
}

static bool case_ok(const char *s)     /* ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ */
{
	return alnum((unsigned char)s[0]) && span(s, case_char, 1, 64);
}

static bool region_ok(const char *s)   /* ^([a-z]{2}(-[a-z]+)+-[0-9]+)?$ */
{
	size_t words = 0, n;

	if (!*s)
		return true;
	if (!(s[0] >= 'a' && s[0] <= 'z') || !(s[1] >= 'a' && s[1] <= 'z'))
		return false;
	for (s += 2; *s == '-'; s += n) {
		s++;
		for (n = 0; s[n] >= 'a' && s[n] <= 'z'; n++)
			;
		if (n) {
			words++;
			continue;
		}
		for (; digit((unsigned char)s[n]); n++)
			;
		return words && n && !s[n];
	}
	return false;
}

static bool url_ok(const char *s)      /* ^(s3|https?)://[^'\s]{1,4000}$ */
{
	static const char *const schemes[] = { "s3://", "https://", "http://" };

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (!strncmp(s, schemes[i], strlen(schemes[i])))
			return span(s + strlen(schemes[i]), url_char, 1, 4000);
	return false;
}

static bool sha256_ok(const char *s)   /* ^[0-9a-fA-F]{64}$ */
{
	size_t n = strspn(s, "0123456789abcdefABCDEF");

	return n == 64 && !s[n];
}

static bool key_id_ok(const char *s)   /* ^[A-Z0-9]{0,128}$ */
{
	return span(s, key_id_char, 0, 128);
}

static bool secret_ok(const char *s)   /* ^[A-Za-z0-9/+=]{0,256}$ */
{
	return span(s, base64_char, 0, 256);
}

static bool token_ok(const char *s)    /* ^[A-Za-z0-9/+=]{0,4096}$ */
{
	return span(s, base64_char, 0, 4096);
}

static bool extra_ok(const char *s)    /* ^[A-Za-z0-9 ._/:=,@+-]{0,1024}$ */
{
	return span(s, extra_char, 0, SSMDOC_EXTRA_MAX);
}

static bool timeout_ok(const char *s)  /* ^[0-9]{1,6}$ */
{
	return span(s, digit, 1, 6);
}

static const char *const credentials_modes[] = { "instance-profile", "session", NULL };
static const char *const sources[] = {
	"auto", "module", "lime", "ebpf", "kcore", "crash", "devmem", NULL
};

/* The document's parameters, in its order. */
static const struct ssmdoc_param params[] = {
	{ "EvidenceBucket", bucket_ok, NULL, true, false },
	{ "EvidencePrefix", prefix_ok, NULL, false, false },
	{ "CaseId", case_ok, NULL, true, false },
	{ "Region", region_ok, NULL, false, false },
	{ "AgentUrl", url_ok, NULL, true, false },
	{ "AgentSha256", sha256_ok, NULL, true, false },
	{ "CredentialsMode", NULL, credentials_modes, false, false },
	{ "SessionAccessKeyId", key_id_ok, NULL, false, true },
	{ "SessionSecretAccessKey", secret_ok, NULL, false, true },
	{ "SessionToken", token_ok, NULL, false, true },
	{ "Source", NULL, sources, false, false },
	{ "ExtraArgs", extra_ok, NULL, false, false },
	{ "ExecutionTimeout", timeout_ok, NULL, false, false },
};

const struct ssmdoc_param *ssmdoc_param_find(const char *name)
{
	for (size_t i = 0; i < ssmdoc_param_count(); i++)
		if (!strcmp(params[i].name, name))
			return &params[i];
	return NULL;
}

size_t ssmdoc_param_count(void)
{
	return sizeof(params) / sizeof(params[0]);
}

static bool allowed(const struct ssmdoc_param *p, const char *value)
{
	if (p->ok)
		return p->ok(value);
	for (const char *const *v = p->values; *v; v++)
		if (!strcmp(*v, value))
			return true;
	return false;
}

bool ssmdoc_value_ok(const char *param, const char *value)
{
	const struct ssmdoc_param *p = ssmdoc_param_find(param);

	return p && value && allowed(p, value);
}

static bool name_char(int c)
{
	return alnum(c) || (c && strchr("_-.:/", c));
}

bool ssmdoc_name_ok(const char *name)
{
	return span(name, name_char, 3, 128);
}

int ssmdoc_params_check(json_object *obj, char *why, size_t whylen)
{
	if (!json_object_is_type(obj, json_type_object)) {
		snprintf(why, whylen, "the document's parameters are not an object");
		return -EINVAL;
	}
	json_object_object_foreach(obj, name, value) {
		const struct ssmdoc_param *p = ssmdoc_param_find(name);
		const char *s = json_object_get_string(value);

		if (!p) {
			snprintf(why, whylen, "the document has no parameter %s", name);
			return -EINVAL;
		}
		if (!json_object_is_type(value, json_type_string) || !allowed(p, s)) {
			if (p->secret)
				snprintf(why, whylen, "%s: the value does not match the document's "
					 "allowedPattern", name);
			else
				snprintf(why, whylen, "%s: '%.80s' is not allowed by the document "
					 "(%s)", name, s ? s : "", p->ok ? "allowedPattern" :
					 "allowedValues");
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++)
		if (params[i].required && !json_object_object_get(obj, params[i].name)) {
			snprintf(why, whylen, "%s is required by the document", params[i].name);
			return -EINVAL;
		}
	return 0;
}
