// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test driver for lib/aws/sigv4.c, used by tests/integration/
 * test_sigv4_oracle.py: one JSON request per input line, one JSON answer
 * per output line.
 *
 * In:  {"method", "host", "path", "query": [[name, value|null], ...],
 *       "headers": [[name, value], ...], "payload_hash", "region",
 *       "service", "now", "s3", "access_key_id", "secret_access_key",
 *       "session_token" (or null), "scheme", "expires" (0: no presign)}
 * Out: {"canonical_request", "signed_headers", "string_to_sign",
 *       "signature", "amz_date", "authorization", "security_token",
 *       "content_sha256", "presigned_url", "error", "presign_error"}
 *
 * The steps see the request as sigv4_sign_headers does: with the session
 * token as an x-amz-security-token header.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sigv4.h"

#define MAX_PAIRS 256

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return json_object_get_string(v);
}

static long long get_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

/* [[name, value], ...] into pairs; value null stays NULL. */
static int get_pairs(struct json_object *o, const char *key, struct sigv4_pair *pairs,
		     size_t max, size_t *count)
{
	struct json_object *arr;
	size_t n;

	*count = 0;
	if (!json_object_object_get_ex(o, key, &arr) || json_object_is_type(arr, json_type_null))
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return -EINVAL;
	n = json_object_array_length(arr);
	if (n > max)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		struct json_object *pair = json_object_array_get_idx(arr, i);
		struct json_object *name, *value;

		if (!json_object_is_type(pair, json_type_array) || json_object_array_length(pair) != 2)
			return -EINVAL;
		name = json_object_array_get_idx(pair, 0);
		value = json_object_array_get_idx(pair, 1);
		pairs[i].name = json_object_get_string(name);
		pairs[i].value = json_object_is_type(value, json_type_null) ?
					 NULL :
					 json_object_get_string(value);
	}
	*count = n;
	return 0;
}

static void put_str(struct json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, s ? json_object_new_string(s) : NULL);
}

static struct json_object *run(struct json_object *in)
{
	static struct sigv4_pair query[MAX_PAIRS], headers[MAX_PAIRS + 1];
	struct json_object *out = json_object_new_object(), *v;
	struct sigv4_request req = { 0 };
	struct sigv4_credentials cred = { 0 };
	struct sigv4_scope scope = { 0 };
	struct sigv4_signed_headers sh;
	char *creq = NULL, *list = NULL, *sts = NULL, *url = NULL;
	char sig[SIGV4_HEX_SHA256_LEN + 1], amz_date[32];
	long long expires;
	int ret;

	req.method = get_str(in, "method");
	req.host = get_str(in, "host");
	req.path = get_str(in, "path");
	req.payload_hash = get_str(in, "payload_hash");
	scope.region = get_str(in, "region");
	scope.service = get_str(in, "service");
	scope.now = (time_t)get_int(in, "now");
	scope.s3 = json_object_object_get_ex(in, "s3", &v) && json_object_get_boolean(v);
	cred.access_key_id = get_str(in, "access_key_id");
	cred.secret_access_key = get_str(in, "secret_access_key");
	cred.session_token = get_str(in, "session_token");
	expires = get_int(in, "expires");

	ret = get_pairs(in, "query", query, MAX_PAIRS, &req.query_count);
	if (!ret)
		ret = get_pairs(in, "headers", headers, MAX_PAIRS, &req.header_count);
	if (ret) {
		json_object_object_add(out, "error", json_object_new_int(ret));
		return out;
	}
	req.query = query;
	req.headers = headers;

	/* Header auth, step by step and in one go. */
	ret = sigv4_sign_headers(&req, &cred, &scope, &sh);
	if (!ret) {
		struct sigv4_request steps = req;

		put_str(out, "authorization", sh.authorization);
		put_str(out, "amz_date", sh.amz_date);
		put_str(out, "security_token", sh.security_token);
		put_str(out, "content_sha256", sh.content_sha256);
		snprintf(amz_date, sizeof(amz_date), "%s", sh.amz_date);
		sigv4_signed_headers_free(&sh);

		if (cred.session_token) {
			headers[steps.header_count].name = "x-amz-security-token";
			headers[steps.header_count].value = cred.session_token;
			steps.header_count++;
		}
		ret = sigv4_canonical_request(&steps, &scope, amz_date, NULL, 0, &creq, &list);
		if (!ret)
			ret = sigv4_string_to_sign(creq, &scope, amz_date, &sts);
		if (!ret)
			ret = sigv4_signature(cred.secret_access_key, &scope, sts, sig);
		if (!ret) {
			put_str(out, "canonical_request", creq);
			put_str(out, "signed_headers", list);
			put_str(out, "string_to_sign", sts);
			put_str(out, "signature", sig);
		}
	}
	if (ret)
		json_object_object_add(out, "error", json_object_new_int(ret));

	if (expires) {
		const char *scheme = get_str(in, "scheme");

		ret = sigv4_presign_url(scheme ? scheme : "https", &req, &cred, &scope,
					expires < 0 || expires > 0xffffffffLL ? 0 : (unsigned int)expires,
					&url);
		if (ret)
			json_object_object_add(out, "presign_error", json_object_new_int(ret));
		else
			put_str(out, "presigned_url", url);
	}
	free(creq);
	free(list);
	free(sts);
	free(url);
	return out;
}

int main(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int ret = 0;

	while ((n = getline(&line, &cap, stdin)) > 0) {
		struct json_object *in, *out;

		if (n == 1 && line[0] == '\n')
			continue;
		in = json_tokener_parse(line);
		if (!in || !json_object_is_type(in, json_type_object)) {
			fprintf(stderr, "sigv4-cli: not a JSON object: %s", line);
			json_object_put(in);
			ret = 1;
			break;
		}
		out = run(in);
		puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN |
							    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(out);
		json_object_put(in);
	}
	free(line);
	return ret || fflush(stdout) ? 1 : 0;
}
