// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer: STS answers (GetCallerIdentity, AssumeRole) as the controller
 * takes the account, and the role's credentials with their expiration, out
 * of them.
 */
#include "aws/awsxml.h"
#include "aws/awsapi.h"
#include "aws/sts.h"

#include <errno.h>
#include <string.h>
#include <stdint.h>

#define ROLE_ARN "arn:aws:iam::111122223333:role/forensics-response"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aws_credentials cred = { 0 };
	struct sts_identity id;
	struct awsxml_node *root;
	char why[AWSAPI_ERROR_MAX], arn[512];

	if (awsxml_parse((const char *)data, size, &root))
		return 0;
	if (!sts_identity_read(root, &id, why, sizeof(why)) && !memchr(id.account, '\0',
								     sizeof(id.account)))
		abort();
	if (!sts_credentials_read(root, ROLE_ARN, &cred, arn, sizeof(arn), why, sizeof(why))) {
		if (!cred.access_key_id || !cred.secret_access_key || !cred.session_token ||
		    cred.expiration == 0 || !arn[0])
			abort();
	}
	free(cred.access_key_id);
	free(cred.secret_access_key);
	free(cred.session_token);
	awsxml_free(root);
	return 0;
}
