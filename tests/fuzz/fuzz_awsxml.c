// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer: the controller's XML tree (EC2/STS/IAM/SNS answers, or what a
 * middlebox sends instead), walked the way the controller walks it, and
 * the error reader that picks a code out of XML or JSON bodies.
 */
#include "aws/awsxml.h"
#include "aws/awsapi.h"

#include <errno.h>
#include <string.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aws_http_response resp = { .content_length = -1 };
	struct awsxml_node *root;
	char *body;

	if (!awsxml_parse((const char *)data, size, &root)) {
		const struct awsxml_node *i = awsxml_path(root, "reservationSet/item/instancesSet/item");

		awsxml_for_each(b, awsxml_child(i, "blockDeviceMapping"), "item")
			(void)awsxml_text(b, "ebs/volumeId");
		(void)awsxml_find(root, "Code");
		awsxml_free(root);
	}
	/* awsapi_read_error() expects a NUL-terminated body, as http.c's on_body() keeps it. */
	body = malloc(size + 1);
	if (!body)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0';
	resp.body = body;
	resp.body_len = size;
	awsapi_read_error(&resp);
	aws_http_response_reset(&resp);
	return 0;
}
