// SPDX-License-Identifier: GPL-2.0-only
/* S3 XML answers: the fields the uploader acts on, and hostile bodies. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aws/s3xml.h"

struct xml_case {
	const char *name;
	const char *body;
	int ret;
	const char *root;
	const char *upload_id;
	const char *etag;
	const char *code;
	const char *server_time;
};

static const struct xml_case cases[] = {
	{ "initiate",
	  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	  "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	  "<Bucket>b</Bucket><Key>k</Key><UploadId>VXBsb2FkIElE</UploadId>"
	  "</InitiateMultipartUploadResult>",
	  0, "InitiateMultipartUploadResult", "VXBsb2FkIElE", NULL, NULL, NULL },
	{ "complete",
	  "<CompleteMultipartUploadResult><Location>http://x/b/k</Location><Bucket>b</Bucket>"
	  "<Key>k</Key><ETag>&quot;3858f62230ac3c915f300c664312c11f-9&quot;</ETag>"
	  "</CompleteMultipartUploadResult>",
	  0, "CompleteMultipartUploadResult", NULL, "\"3858f62230ac3c915f300c664312c11f-9\"", NULL,
	  NULL },
	/* CompleteMultipartUpload can answer 200 and still fail: the body says so. */
	{ "error in a 200",
	  "<?xml version=\"1.0\"?>\n<Error><Code>InternalError</Code>"
	  "<Message>We encountered an internal error. Please try again.</Message>"
	  "<RequestId>656c76696e6727732072657175657374</RequestId></Error>",
	  0, "Error", NULL, NULL, "InternalError", NULL },
	{ "clock skew",
	  "<Error><Code>RequestTimeTooSkewed</Code><Message>m</Message>"
	  "<RequestTime>20261128T170000Z</RequestTime>"
	  "<ServerTime>2026-11-28T17:20:00Z</ServerTime></Error>",
	  0, "Error", NULL, NULL, "RequestTimeTooSkewed", "2026-11-28T17:20:00Z" },
	{ "text split by entities and CDATA",
	  "<Error><Code>Slow<![CDATA[Do]]>w&#110;</Code></Error>", 0, "Error", NULL, NULL,
	  "SlowDown", NULL },
	{ "nested values are not top-level fields",
	  "<ListPartsResult><Part><ETag>\"x\"</ETag></Part></ListPartsResult>", 0,
	  "ListPartsResult", NULL, NULL, NULL, NULL },
	{ "empty body", "", -EBADMSG, NULL, NULL, NULL, NULL, NULL },
	{ "html from a proxy", "<html><body>502 Bad Gateway</body>", -EBADMSG, NULL, NULL, NULL,
	  NULL, NULL },
	{ "truncated", "<Error><Code>SlowDown</Code>", -EBADMSG, NULL, NULL, NULL, NULL, NULL },
	{ "entity expansion refused",
	  "<!DOCTYPE e [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;\">]>"
	  "<Error><Code>&b;</Code></Error>", -EBADMSG, NULL, NULL, NULL, NULL, NULL },
	{ "too deep",
	  "<a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a></a></a></a></a></a></a></a></a>"
	  "</a></a></a></a></a></a></a></a></a></a>", -EBADMSG, NULL, NULL, NULL, NULL, NULL },
};

static void assert_field(const char *got, const char *want)
{
	if (!want)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

static void test_cases(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct xml_case *c = &cases[i];
		struct s3xml x;

		print_message("case: %s\n", c->name);
		assert_int_equal(s3xml_parse(c->body, strlen(c->body), &x), c->ret);
		if (c->ret)
			continue;
		assert_string_equal(x.root, c->root);
		assert_field(x.upload_id, c->upload_id);
		assert_field(x.etag, c->etag);
		assert_field(x.code, c->code);
		assert_field(x.server_time, c->server_time);
		assert_int_equal(s3xml_is_error(&x), !strcmp(c->root, "Error"));
		s3xml_free(&x);
	}
}

static void test_value_bound(void **state)
{
	size_t n = S3XML_VALUE_MAX + 100;
	char *body = malloc(n + 64);
	struct s3xml x;

	strcpy(body, "<Error><Message>");
	memset(body + strlen(body), 'm', n);
	strcpy(body + 16 + n, "</Message></Error>");
	assert_int_equal(s3xml_parse(body, strlen(body), &x), -EBADMSG);
	free(body);
}

/* ListObjectsV2: the objects, the continuation, and what is refused. */
static void test_list(void **state)
{
	static const char page[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		"<Name>b</Name><Prefix>cases/IR-7/i-1/</Prefix><KeyCount>2</KeyCount>"
		"<IsTruncated>true</IsTruncated><NextContinuationToken>t&amp;1</NextContinuationToken>"
		"<Contents><Key>cases/IR-7/i-1/h-1.lime.zst</Key>"
		"<ETag>&quot;abc-3&quot;</ETag><Size>17</Size><StorageClass>STANDARD</StorageClass>"
		"</Contents><Contents><Key>cases/IR-7/i-1/h-1.lime.zst.manifest.json</Key>"
		"<ETag>&quot;def&quot;</ETag><Size>0</Size></Contents></ListBucketResult>";
	static const char *const refused[] = {
		"<Error><Code>NoSuchBucket</Code></Error>",
		"<ListBucketResult><Contents><ETag>x</ETag></Contents></ListBucketResult>",
		"<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>",
		"<!DOCTYPE l [<!ENTITY e \"x\">]><ListBucketResult><Contents><Key>&e;</Key>"
		"</Contents></ListBucketResult>",
		"<ListBucketResult><Contents>",
	};
	struct s3xml_list l;

	assert_int_equal(s3xml_parse_list(page, strlen(page), &l), 0);
	assert_int_equal(l.count, 2);
	assert_true(l.truncated);
	assert_string_equal(l.next_token, "t&1");
	assert_string_equal(l.objects[0].key, "cases/IR-7/i-1/h-1.lime.zst");
	assert_string_equal(l.objects[0].etag, "\"abc-3\"");
	assert_int_equal(l.objects[0].size, 17);
	assert_string_equal(l.objects[1].key, "cases/IR-7/i-1/h-1.lime.zst.manifest.json");
	assert_int_equal(l.objects[1].size, 0);
	s3xml_list_free(&l);

	assert_int_equal(s3xml_parse_list("<ListBucketResult><IsTruncated>false</IsTruncated>"
					  "</ListBucketResult>", 69, &l), 0);
	assert_int_equal(l.count, 0);
	assert_false(l.truncated);
	assert_null(l.next_token);
	s3xml_list_free(&l);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(s3xml_parse_list(refused[i], strlen(refused[i]), &l), -EBADMSG);
		assert_null(l.objects);
	}
}

/* ListMultipartUploads: each Upload's key and id; an Upload without either refused. */
static void test_list_uploads(void **state)
{
	static const char page[] =
		"<ListMultipartUploadsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		"<Bucket>b</Bucket><Prefix>k</Prefix><IsTruncated>false</IsTruncated>"
		"<Upload><Key>k</Key><UploadId>u-1</UploadId><Initiated>2026-11-28T00:00:00Z"
		"</Initiated></Upload><Upload><Key>k2</Key><UploadId>u-2</UploadId></Upload>"
		"</ListMultipartUploadsResult>";
	static const char *const refused[] = {
		"<ListMultipartUploadsResult><Upload><Key>k</Key></Upload>"
		"</ListMultipartUploadsResult>",
		"<ListMultipartUploadsResult><Upload><UploadId>u</UploadId></Upload>"
		"</ListMultipartUploadsResult>",
	};
	struct s3xml_list l;

	(void)state;
	assert_int_equal(s3xml_parse_list(page, strlen(page), &l), 0);
	assert_string_equal(l.root, "ListMultipartUploadsResult");
	assert_int_equal(l.count, 2);
	assert_string_equal(l.objects[0].key, "k");
	assert_string_equal(l.objects[0].upload_id, "u-1");
	assert_string_equal(l.objects[1].key, "k2");
	assert_string_equal(l.objects[1].upload_id, "u-2");
	s3xml_list_free(&l);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		assert_int_equal(s3xml_parse_list(refused[i], strlen(refused[i]), &l), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_value_bound),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_list_uploads),
	};

	return cmocka_run_group_tests_name("s3xml", tests, NULL, NULL);
}
