// SPDX-License-Identifier: GPL-2.0-only
/* The agent's manifest as the controller reads it: out of SSM's output, summarised, compared. */
#include <string.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "response/collect.h"
#include "base/jsonutil.h"

static const char manifest[] =
	"{\"schema\":\"m\",\"source\":{\"name\":\"lime\",\"path\":\"/dev/x\"},"
	"\"image\":{\"ram_bytes\":1048576,\"sha256_uncompressed\":\"aa\","
	"\"sha256_compressed\":\"bb\",\"s3\":{\"bucket\":\"ev\",\"key\":\"c/i/h.lime.zst\","
	"\"etag\":\"\\\"e-2\\\"\",\"version_id\":null}}}";

static void test_from_output(void **state)
{
	char *text = NULL;
	json_object *m;

	assert_null(manifest_from_output(""));
	assert_null(manifest_from_output("capture complete\n{\"event\":\"image\"}\n{not json}\n"));
	/* The last manifest line wins; other lines, broken ones and CRs are passed over. */
	assert_true(asprintf(&text, "{\"event\":\"start\"}\n{\"event\":\"manifest\",\"manifest\":"
			     "{\"image\":{\"sha256_uncompressed\":\"old\"}}}\n"
			     "{\"event\":\"manifest\",\"manifest\":%s}\r\n"
			     "{\"event\":\"manifest\",\"manifest\":{\"image\":{}\n"
			     "{\"event\":\"manifest\",\"manifest\":\"not an object\"}", manifest) > 0);
	m = manifest_from_output(text);
	assert_non_null(m);
	assert_string_equal(json_path_string(m, "image/sha256_uncompressed"), "aa");
	json_object_put(m);
	free(text);
}

static void test_summary_and_compare(void **state)
{
	json_object *m = json_tokener_parse(manifest), *a, *b, *c;
	char why[256] = "";

	assert_non_null(m);
	a = manifest_summary(m, "c/i/h.lime.zst.manifest.json");
	assert_string_equal(json_path_string(a, "key"), "c/i/h.lime.zst.manifest.json");
	assert_string_equal(json_path_string(a, "image/bucket"), "ev");
	assert_string_equal(json_path_string(a, "image/key"), "c/i/h.lime.zst");
	assert_string_equal(json_path_string(a, "image/etag"), "\"e-2\"");
	assert_null(json_path(a, "image/version_id"));
	assert_string_equal(json_path_string(a, "sha256_uncompressed"), "aa");
	assert_string_equal(json_path_string(a, "sha256_compressed"), "bb");
	assert_int_equal(json_object_get_int64(json_path(a, "ram_bytes")), 1048576);
	assert_string_equal(json_path_string(a, "source"), "lime");
	b = manifest_summary(m, "other key");
	assert_int_equal(manifest_compare(a, b, why, sizeof(why)), 0);

	json_object_object_add(json_object_object_get(m, "image"), "sha256_compressed",
			       json_object_new_string("cc"));
	c = manifest_summary(m, NULL);
	assert_int_equal(manifest_compare(a, c, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "sha256_compressed: \"bb\" in one, \"cc\" in the other"));
	json_object_put(a);
	json_object_put(b);
	json_object_put(c);

	/* Not a manifest at all: a summary of nothing, unequal to a real one. */
	c = json_object_new_string("x");
	a = manifest_summary(c, NULL);
	json_object_put(c);
	assert_null(json_path(a, "sha256_uncompressed"));
	b = manifest_summary(m, NULL);
	assert_int_equal(manifest_compare(a, b, why, sizeof(why)), -EBADMSG);
	json_object_put(a);
	json_object_put(b);
	json_object_put(m);
}

static void test_parse_and_agree(void **state)
{
	json_object *stored, *logged, *s = NULL;
	char why[512] = "";

	assert_int_equal(manifest_parse("[]", &stored), -EBADMSG);
	assert_null(stored);
	assert_int_equal(manifest_parse("{\"image\":\"x\"}", &stored), -EBADMSG);
	assert_int_equal(manifest_parse(manifest, &stored), 0);
	logged = json_tokener_parse(manifest);

	/* Agreeing, inside the prefix: the logged one, checked against the object. */
	assert_int_equal(manifest_agree(stored, "c/i/h.lime.zst.manifest.json", logged, "ev", "c/i/",
					2, &s, why, sizeof(why)), 0);
	assert_string_equal(json_path_string(s, "from"), "output");
	assert_true(json_object_get_boolean(json_path(s, "checked_against_object")));
	assert_int_equal(json_object_get_int64(json_path(s, "manifests_found")), 2);
	json_object_put(s);

	/* Another bucket, or a key outside the case's prefix. */
	assert_int_equal(manifest_agree(stored, "k", NULL, "other", "c/i/", 1, &s, why, sizeof(why)),
			 -EBADMSG);
	assert_non_null(strstr(why, "names an image outside"));
	assert_string_equal(json_path_string(s, "from"), "object");
	json_object_put(s);
	assert_int_equal(manifest_agree(stored, "k", NULL, "ev", "c/j/", 1, &s, why, sizeof(why)),
			 -EBADMSG);
	json_object_put(s);

	/* Logged and stored differ: the logged summary, the object's beside it. */
	json_object_object_add(json_object_object_get(logged, "image"), "sha256_uncompressed",
			       json_object_new_string("ff"));
	assert_int_equal(manifest_agree(stored, "k", logged, "ev", "c/i/", 1, &s, why, sizeof(why)),
			 -EBADMSG);
	assert_non_null(strstr(why, "sha256_uncompressed"));
	assert_string_equal(json_path_string(s, "object/sha256_uncompressed"), "aa");
	json_object_put(s);
	json_object_put(logged);
	json_object_put(stored);
}

static void test_etag(void **state)
{
	assert_true(manifest_etag_equal("\"abc-2\"", "abc-2"));
	assert_true(manifest_etag_equal("\"abc\"", "\"abc\""));
	assert_false(manifest_etag_equal("\"abc\"", "\"abd\""));
	assert_false(manifest_etag_equal("abc", NULL));
	assert_false(manifest_etag_equal("\"abc\"", "\"abc-1\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_output),
		cmocka_unit_test(test_summary_and_compare),
		cmocka_unit_test(test_parse_and_agree),
		cmocka_unit_test(test_etag),
	};

	return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}
