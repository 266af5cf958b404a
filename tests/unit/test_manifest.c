// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent's manifest as the controller reads it: out of SSM's output,
 * summarised, compared (the parser itself: test_image_reader.c).
 */
#include <string.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "response/collect.h"
#include "base/jsonutil.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SHA_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

/* A v1 manifest with the fields the controller keeps; %s is sha256_compressed. */
#define MANIFEST_WITH(sha_compressed) \
	"{\"schema\":\"forensics-agent/manifest/v1\",\"source\":{\"name\":\"lime\",\"path\":\"/dev/x\"}," \
	"\"image\":{\"format\":\"lime\",\"compression\":\"zstd\",\"ranges\":[{\"start\":\"0x0\"," \
	"\"end\":\"0xfffff\",\"bytes\":1048576}],\"ram_bytes\":1048576," \
	"\"uncompressed_bytes\":1048608,\"compressed_bytes\":4096," \
	"\"sha256_uncompressed\":\"" SHA_A "\",\"sha256_compressed\":\"" sha_compressed "\"," \
	"\"s3\":{\"bucket\":\"ev\",\"key\":\"c/i/h.lime.zst\",\"etag\":\"\\\"e-2\\\"\"," \
	"\"version_id\":null}}}"

static const char manifest[] = MANIFEST_WITH(SHA_B);
static const char other_compressed[] = MANIFEST_WITH(SHA_C);

static void load(const char *text, struct image_manifest *m)
{
	char err[256];

	if (image_manifest_parse(text, strlen(text), m, err, sizeof(err)))
		fail_msg("test manifest refused: %s", err);
}

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
	assert_string_equal(json_path_string(m, "image/sha256_uncompressed"), SHA_A);
	json_object_put(m);
	free(text);
}

static void test_summary_and_compare(void **state)
{
	struct image_manifest m, n;
	json_object *a, *b, *c;
	char why[512] = "";

	load(manifest, &m);
	load(other_compressed, &n);
	a = manifest_summary(&m, "c/i/h.lime.zst.manifest.json");
	assert_string_equal(json_path_string(a, "key"), "c/i/h.lime.zst.manifest.json");
	assert_string_equal(json_path_string(a, "image/bucket"), "ev");
	assert_string_equal(json_path_string(a, "image/key"), "c/i/h.lime.zst");
	assert_string_equal(json_path_string(a, "image/etag"), "\"e-2\"");
	assert_null(json_path(a, "image/version_id"));
	assert_string_equal(json_path_string(a, "sha256_uncompressed"), SHA_A);
	assert_string_equal(json_path_string(a, "sha256_compressed"), SHA_B);
	assert_int_equal(json_object_get_int64(json_path(a, "ram_bytes")), 1048576);
	assert_string_equal(json_path_string(a, "source"), "lime");
	b = manifest_summary(&m, "other key");
	assert_int_equal(manifest_compare(a, b, why, sizeof(why)), 0);

	c = manifest_summary(&n, NULL);
	assert_int_equal(manifest_compare(a, c, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "sha256_compressed: \"" SHA_B "\" in one, \"" SHA_C
			       "\" in the other"));
	json_object_put(a);
	json_object_put(b);
	json_object_put(c);
	image_manifest_free(&m);
	image_manifest_free(&n);
}

static void test_agree(void **state)
{
	struct image_manifest stored, logged, other;
	json_object *s = NULL;
	char why[512] = "";

	load(manifest, &stored);
	load(manifest, &logged);
	load(other_compressed, &other);

	/* Agreeing, inside the prefix: the logged one, checked against the object. */
	assert_int_equal(manifest_agree(&stored, "c/i/h.lime.zst.manifest.json", &logged, "ev",
					"c/i/", 2, &s, why, sizeof(why)), 0);
	assert_string_equal(json_path_string(s, "from"), "output");
	assert_true(json_object_get_boolean(json_path(s, "checked_against_object")));
	assert_int_equal(json_object_get_int64(json_path(s, "manifests_found")), 2);
	json_object_put(s);

	/* Another bucket, or a key outside the case's prefix. */
	assert_int_equal(manifest_agree(&stored, "k", NULL, "other", "c/i/", 1, &s, why,
					sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "names an image outside"));
	assert_string_equal(json_path_string(s, "from"), "object");
	json_object_put(s);
	assert_int_equal(manifest_agree(&stored, "k", NULL, "ev", "c/j/", 1, &s, why, sizeof(why)),
			 -EBADMSG);
	json_object_put(s);

	/* Logged and stored differ: the logged summary, the object's beside it. */
	assert_int_equal(manifest_agree(&stored, "k", &other, "ev", "c/i/", 1, &s, why,
					sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "sha256_compressed"));
	assert_string_equal(json_path_string(s, "object/sha256_compressed"), SHA_B);
	assert_string_equal(json_path_string(s, "sha256_compressed"), SHA_C);
	json_object_put(s);
	image_manifest_free(&stored);
	image_manifest_free(&logged);
	image_manifest_free(&other);
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
		cmocka_unit_test(test_agree),
		cmocka_unit_test(test_etag),
	};

	return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}
