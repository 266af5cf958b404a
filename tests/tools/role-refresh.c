// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test driver for the controller's assumed-role provider
 * (tests/integration/test_controller.py): assumes the role with the
 * environment's credentials, then asks for credentials at the times given
 * (seconds after the first expiration's, negative before it), printing one
 * JSON line each: the key id's digest, the expiration and the source.
 *
 *   role-refresh REGION ROLE_ARN [EXTERNAL_ID] -- OFFSET...
 */
#include "aws/awsxml.h"
#include "aws/awsapi.h"
#include "aws/reason.h"
#include "aws/sts.h"

#include <string.h>
#include <openssl/evp.h>

static void print(const struct aws_credentials *c, long offset, int ret, const char *why)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1] = "";
	json_object *o = json_object_new_object();

	if (c) {
		EVP_Digest(c->access_key_id, strlen(c->access_key_id), md, &n, EVP_sha256(), NULL);
		for (unsigned int i = 0; i < n; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		json_object_object_add(o, "key_sha256", json_object_new_string(hex));
		json_object_object_add(o, "expiration", json_object_new_int64(c->expiration));
		json_object_object_add(o, "source", json_object_new_string(c->source));
	}
	json_object_object_add(o, "offset", json_object_new_int64(offset));
	json_object_object_add(o, "ret", json_object_new_int(ret));
	if (ret)
		json_object_object_add(o, "why", json_object_new_string(why));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

int main(int argc, char *argv[])
{
	struct aws_credentials_provider *base = NULL, *role = NULL;
	const struct aws_credentials *c;
	char why[AWS_REASON_MAX] = "";
	struct sts_role r = { .session_name = "refresh-test" };
	time_t first;
	int i = 3, ret;

	if (argc < 4)
		return 2;
	r.role_arn = argv[2];
	if (strcmp(argv[3], "--")) {
		r.external_id = argv[3];
		i = 4;
	}
	i++;  /* "--" */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (aws_credentials_provider_new(NULL, &base, why, sizeof(why)) ||
	    sts_role_provider_new(base, argv[1], &r, &role, why, sizeof(why))) {
		print(NULL, 0, -1, why);
		return 1;
	}
	ret = aws_credentials_get(role, time(NULL), &c, why, sizeof(why));
	first = ret ? 0 : c->expiration;
	print(ret ? NULL : c, 0, ret, why);
	for (; i < argc; i++) {
		long offset = strtol(argv[i], NULL, 10);

		why[0] = '\0';
		ret = aws_credentials_get(role, first + offset, &c, why, sizeof(why));
		print(ret ? NULL : c, offset, ret, why);
	}
	aws_credentials_provider_free(role);
	curl_global_cleanup();
	return 0;
}
