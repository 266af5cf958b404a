// SPDX-License-Identifier: GPL-2.0-only
/*
 * PutObjectTagging: an XML tag set, Content-MD5 (which S3 requires for this
 * call), sent through s3_perform's retries.
 */
#include "aws/tagging.h"
#include "base/encode.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default: fputc(*s, f);
		}
	}
}

int s3_tagging_body(const struct sigv4_pair *tags, size_t count, char **body, size_t *len)
{
	FILE *f;

	*body = NULL;
	if (count > S3_MAX_TAGS)
		return -EINVAL;
	for (size_t i = 0; i < count; i++)
		if (!tags[i].name[0] || strlen(tags[i].name) > S3_TAG_KEY_MAX ||
		    strlen(tags[i].value) > S3_TAG_VALUE_MAX)
			return -EINVAL;
	f = open_memstream(body, len);
	if (!f)
		return -ENOMEM;
	fputs("<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>", f);
	for (size_t i = 0; i < count; i++) {
		fputs("<Tag><Key>", f);
		put_escaped(f, tags[i].name);
		fputs("</Key><Value>", f);
		put_escaped(f, tags[i].value);
		fputs("</Value></Tag>", f);
	}
	fputs("</TagSet></Tagging>", f);
	if (fclose(f)) {
		free(*body);
		*body = NULL;
		return -ENOMEM;
	}
	return 0;
}

int s3_object_tag(struct s3_client *c, const char *key, const char *version_id,
		  const struct sigv4_pair *tags, size_t count, char *why, size_t whylen)
{
	struct aws_http_response resp = { 0 };
	unsigned char md5[EVP_MAX_MD_SIZE];
	char md5_b64[32];
	unsigned int md5_len = 0;
	struct aws_http_request r;
	size_t body_len = 0;
	char *body = NULL;
	int ret;

	ret = s3_tagging_body(tags, count, &body, &body_len);
	if (ret) {
		snprintf(why, whylen, "%s", ret == -EINVAL ? "more than 10 tags or a tag too long" :
			 "out of memory");
		return ret;
	}
	EVP_Digest(body, body_len, md5, &md5_len, EVP_md5(), NULL);
	(void)base64_encode(md5, md5_len, md5_b64, sizeof(md5_b64));

	memset(&r, 0, sizeof(r));
	r.method = "PUT";
	r.path = key;
	r.query[r.query_count++] = (struct sigv4_pair){ "tagging", "" };
	if (version_id)
		r.query[r.query_count++] = (struct sigv4_pair){ "versionId", version_id };
	aws_http_request_add_header(&r, "content-type", "application/xml");
	aws_http_request_add_header(&r, "content-md5", md5_b64);
	aws_http_request_set_body(&r, body, body_len);
	ret = s3_perform(c, &r, &resp, why, whylen);
	aws_http_response_reset(&resp);
	free(body);
	return ret;
}
