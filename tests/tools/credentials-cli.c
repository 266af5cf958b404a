// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test driver for the credential chain (tests/integration/test_credentials.py):
 * builds one provider, then runs the operations given, each printing one
 * JSON line. Secrets are printed as SHA-256 digests only.
 *
 *   credentials-cli [--profile P] [--access-key-id K] [--secret-access-key S]
 *                   [--session-token T] OP...
 *   OP: get=NOW (UTC seconds) | invalidate | region[=OPTION]
 */
#include <errno.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/credentials.h"
#include "aws/reason.h"
#include "aws/region.h"

static json_object *digest(const char *s)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];

	if (!s)
		return NULL;
	EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return json_object_new_string(hex);
}

static void emit(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	fflush(stdout);
	json_object_put(o);
}

static json_object *result(const char *op, int ret, const char *why)
{
	json_object *o = json_object_new_object();
	const char *name = ret ? strerrorname_np(-ret) : "";

	json_object_object_add(o, "op", json_object_new_string(op));
	json_object_object_add(o, "ret", json_object_new_int(ret));
	json_object_object_add(o, "errno", json_object_new_string(name ? name : "?"));
	json_object_object_add(o, "why", json_object_new_string(why));
	return o;
}

static void add_credentials(json_object *o, const struct aws_credentials *c)
{
	json_object_object_add(o, "source", json_object_new_string(c->source));
	json_object_object_add(o, "access_key_id", json_object_new_string(c->access_key_id));
	json_object_object_add(o, "secret_sha256", digest(c->secret_access_key));
	json_object_object_add(o, "token_sha256", digest(c->session_token));
	json_object_object_add(o, "expiration", json_object_new_int64(c->expiration));
}

int main(int argc, char **argv)
{
	struct aws_credential_options options = { 0 };
	struct aws_credentials_provider *p = NULL;
	char why[AWS_REASON_MAX];
	int i, ret;

	for (i = 1; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
		if (!strcmp(argv[i], "--profile"))
			options.profile = argv[i + 1];
		else if (!strcmp(argv[i], "--access-key-id"))
			options.access_key_id = argv[i + 1];
		else if (!strcmp(argv[i], "--secret-access-key"))
			options.secret_access_key = argv[i + 1];
		else if (!strcmp(argv[i], "--session-token"))
			options.session_token = argv[i + 1];
		else
			break;
	}
	for (; i < argc; i++) {
		const char *op = argv[i];

		why[0] = '\0';
		if (!strncmp(op, "region", 6) && (op[6] == '=' || !op[6])) {
			char *region = NULL;
			json_object *o;

			ret = aws_region_resolve(op[6] ? op + 7 : NULL, options.profile, &region, why,
						 sizeof(why));
			o = result("region", ret, why);
			json_object_object_add(o, "region", region ? json_object_new_string(region) :
								     NULL);
			emit(o);
			free(region);
			continue;
		}
		if (!p) {
			ret = aws_credentials_provider_new(&options, &p, why, sizeof(why));
			emit(result("new", ret, why));
			if (ret)
				return 1;
			why[0] = '\0';
		}
		if (!strncmp(op, "get=", 4)) {
			const struct aws_credentials *c = NULL;
			json_object *o;

			ret = aws_credentials_get(p, (time_t)strtoll(op + 4, NULL, 10), &c, why,
						  sizeof(why));
			o = result("get", ret, why);
			if (c)
				add_credentials(o, c);
			emit(o);
		} else if (!strcmp(op, "invalidate")) {
			aws_credentials_invalidate(p);
			emit(result("invalidate", 0, ""));
		} else {
			fprintf(stderr, "credentials-cli: unknown operation '%s'\n", op);
			aws_credentials_provider_free(p);
			return 2;
		}
	}
	aws_credentials_provider_free(p);
	return 0;
}
