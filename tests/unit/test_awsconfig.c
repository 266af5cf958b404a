// SPDX-License-Identifier: GPL-2.0-only
/* The ~/.aws/credentials and ~/.aws/config parser: botocore's reading of them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aws/awsconfig.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct lookup {
	const char *section; /* exact section name */
	const char *key;
	const char *value;   /* NULL: the key is absent */
};

struct parse_case {
	const char *name;
	const char *text;
	size_t len;          /* 0: strlen(text) */
	int expect_ret;
	const char *why;     /* substring of the reason on error */
	size_t sections;
	struct lookup lookups[6];
};

static const struct parse_case cases[] = {
	{ .name = "credentials file",
	  .text = "[default]\n"
		  "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
		  "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
		  "\n"
		  "[prod]\n"
		  "aws_access_key_id\t=\tAKIAPROD\n",
	  .sections = 2,
	  .lookups = { { "default", "aws_access_key_id", "AKIAIOSFODNN7EXAMPLE" },
		       { "default", "aws_secret_access_key",
			 "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
		       { "prod", "aws_access_key_id", "AKIAPROD" },
		       { "prod", "aws_secret_access_key", NULL } } },
	{ .name = "comments, indented comments, no inline comments",
	  .text = "# top\n"
		  "; also\n"
		  "[default]\n"
		  "   # indented comment\n"
		  "region = us-east-1 # not a comment\n"
		  "output = json ; nor this\n",
	  .sections = 1,
	  .lookups = { { "default", "region", "us-east-1 # not a comment" },
		       { "default", "output", "json ; nor this" } } },
	{ .name = "keys are case-insensitive, values are not",
	  .text = "[default]\nAWS_Access_Key_ID = AbC\n",
	  .sections = 1,
	  .lookups = { { "default", "aws_access_key_id", "AbC" },
		       { "default", "AWS_ACCESS_KEY_ID", "AbC" } } },
	{ .name = "colon delimiter, first delimiter wins",
	  .text = "[default]\nregion: eu-west-1\nurl = http://x:9000\nk:a=b\n",
	  .sections = 1,
	  .lookups = { { "default", "region", "eu-west-1" },
		       { "default", "url", "http://x:9000" },
		       { "default", "k", "a=b" } } },
	{ .name = "empty value",
	  .text = "[default]\nregion =\n",
	  .sections = 1,
	  .lookups = { { "default", "region", "" } } },
	{ .name = "nested s3 settings kept as one value",
	  .text = "[profile dev]\n"
		  "s3 =\n"
		  "  max_concurrent_requests = 20\n"
		  "  addressing_style = path\n"
		  "region = us-west-2\n",
	  .sections = 1,
	  .lookups = { { "profile dev", "s3",
			 "\nmax_concurrent_requests = 20\naddressing_style = path" },
		       { "profile dev", "region", "us-west-2" },
		       { "profile dev", "addressing_style", NULL } } },
	{ .name = "continuation keeps inner blank lines, drops trailing ones",
	  .text = "[a]\nk = one\n\n   two\n\n\nnext = x\n",
	  .sections = 1,
	  .lookups = { { "a", "k", "one\n\ntwo" }, { "a", "next", "x" } } },
	{ .name = "equally indented keys are keys, not continuations",
	  .text = "[a]\n  k1 = v1\n  k2 = v2\n",
	  .sections = 1,
	  .lookups = { { "a", "k1", "v1" }, { "a", "k2", "v2" } } },
	{ .name = "CRLF and lone CR line ends",
	  .text = "[default]\r\nregion = us-east-2\r\n[x]\routput = text\r",
	  .sections = 2,
	  .lookups = { { "default", "region", "us-east-2" }, { "x", "output", "text" } } },
	{ .name = "UTF-8 byte order mark",
	  .text = "\xef\xbb\xbf[default]\nregion = ap-south-1\n",
	  .sections = 1,
	  .lookups = { { "default", "region", "ap-south-1" } } },
	{ .name = "section name is not trimmed; text after the last ] is dropped",
	  .text = "[ default ]\nk = 1\n[b] ; comment\nk = 2\n[c]d]\nk = 3\n",
	  .sections = 3,
	  .lookups = { { " default ", "k", "1" }, { "default", "k", NULL },
		       { "b", "k", "2" }, { "c]d", "k", "3" } } },
	{ .name = "empty input", .text = "", .lookups = { { "default", "k", NULL } } },
	{ .name = "only comments and blanks", .text = "\n\n# x\n   \n;y" },
	{ .name = "no trailing newline",
	  .text = "[a]\nk = v",
	  .sections = 1,
	  .lookups = { { "a", "k", "v" } } },
	{ .name = "setting before any section",
	  .text = "k = v\n[a]\n", .expect_ret = -EINVAL, .why = "line 1" },
	{ .name = "line without a delimiter",
	  .text = "[a]\nk = v\njunk\n", .expect_ret = -EINVAL, .why = "line 3" },
	{ .name = "unclosed section header",
	  .text = "[a\n", .expect_ret = -EINVAL, .why = "line 1" },
	{ .name = "empty section name",
	  .text = "[]\n", .expect_ret = -EINVAL, .why = "line 1" },
	{ .name = "empty key",
	  .text = "[a]\n = v\n", .expect_ret = -EINVAL, .why = "line 2: no key" },
	{ .name = "duplicate section",
	  .text = "[default]\nk = 1\n[other]\n[default]\n",
	  .expect_ret = -EINVAL, .why = "line 4: section [default] repeated" },
	{ .name = "duplicate key, differing in case",
	  .text = "[a]\nRegion = x\nregion = y\n",
	  .expect_ret = -EINVAL, .why = "line 3: key 'region' repeated in section [a]" },
	{ .name = "earliest duplicate reported",
	  .text = "[b]\nk=1\n[a]\nz=1\nz=2\n[b]\n", .expect_ret = -EINVAL, .why = "line 5" },
	{ .name = "NUL byte",
	  .text = "[a]\nk = v\0w\n", .len = 11, .expect_ret = -EINVAL, .why = "line 2: NUL" },
	{ .name = "reason never echoes a secret-looking line",
	  .text = "[default]\nwJalrXUtnFEMI/K7MDENG\n", .expect_ret = -EINVAL, .why = "line 2" },
};

static void test_parse_cases(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct parse_case *c = &cases[i];
		size_t len = c->len ? c->len : strlen(c->text);
		struct awsconfig *cfg = (struct awsconfig *)1;
		char why[256] = "";
		int ret;

		print_message("case: %s\n", c->name);
		ret = awsconfig_parse_why(c->text, len, &cfg, why, sizeof(why));
		assert_int_equal(ret, c->expect_ret);
		if (ret) {
			assert_null(cfg);
			assert_non_null(strstr(why, c->why));
			assert_null(strstr(why, "wJalr"));
			/* The fuzzing entry point agrees. */
			assert_int_equal(awsconfig_parse(c->text, len, &cfg), ret);
			continue;
		}
		assert_int_equal(awsconfig_section_count(cfg), c->sections);
		for (size_t j = 0; j < ARRAY_SIZE(c->lookups) && c->lookups[j].section; j++) {
			const struct lookup *l = &c->lookups[j];
			const struct awsconfig_section *s = awsconfig_find_section(cfg, l->section);
			const char *v = awsconfig_get(s, l->key);

			if (!l->value) {
				assert_null(v);
				continue;
			}
			assert_non_null(s);
			assert_non_null(v);
			assert_string_equal(v, l->value);
		}
		awsconfig_free(cfg);
	}
}

struct profile_case {
	const char *text;
	enum awsconfig_kind kind;
	const char *profile;
	const char *expect_region; /* NULL: no such profile */
};

static const struct profile_case profile_cases[] = {
	{ "[default]\nregion = r1\n", AWSCONFIG_CONFIG, "default", "r1" },
	{ "[profile default]\nregion = r1\n", AWSCONFIG_CONFIG, "default", "r1" },
	/* Both name the default profile: the later section wins, as in botocore. */
	{ "[default]\nregion = r1\n[profile default]\nregion = r2\n", AWSCONFIG_CONFIG, "default",
	  "r2" },
	{ "[profile default]\nregion = r2\n[default]\nregion = r1\n", AWSCONFIG_CONFIG, "default",
	  "r1" },
	{ "[profile prod]\nregion = r3\n", AWSCONFIG_CONFIG, "prod", "r3" },
	{ "[profile   prod  ]\nregion = r3\n", AWSCONFIG_CONFIG, "prod", "r3" },
	{ "[profile\tprod]\nregion = r3\n", AWSCONFIG_CONFIG, "prod", "r3" },
	{ "[profile \"my prod\"]\nregion = r4\n", AWSCONFIG_CONFIG, "my prod", "r4" },
	{ "[profile my prod]\nregion = r4\n", AWSCONFIG_CONFIG, "my prod", NULL },
	{ "[profileprod]\nregion = r3\n", AWSCONFIG_CONFIG, "prod", NULL },
	{ "[profile]\nregion = r3\n", AWSCONFIG_CONFIG, "", NULL },
	/* The config file needs the "profile " prefix for anything but default. */
	{ "[prod]\nregion = r3\n", AWSCONFIG_CONFIG, "prod", NULL },
	{ "[sso-session prod]\nregion = r3\n", AWSCONFIG_CONFIG, "prod", NULL },
	/* The credentials file has none. */
	{ "[prod]\nregion = r5\n", AWSCONFIG_CREDENTIALS, "prod", "r5" },
	{ "[profile prod]\nregion = r5\n", AWSCONFIG_CREDENTIALS, "prod", NULL },
	{ "[profile prod]\nregion = r5\n", AWSCONFIG_CREDENTIALS, "profile prod", "r5" },
	{ "[Prod]\nregion = r5\n", AWSCONFIG_CREDENTIALS, "prod", NULL },
};

static void test_find_profile(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(profile_cases); i++) {
		const struct profile_case *c = &profile_cases[i];
		const struct awsconfig_section *s;
		struct awsconfig *cfg;

		print_message("profile case %zu: %s\n", i, c->profile);
		assert_int_equal(awsconfig_parse(c->text, strlen(c->text), &cfg), 0);
		s = awsconfig_find_profile(cfg, c->profile, c->kind);
		if (!c->expect_region) {
			assert_null(s);
		} else {
			assert_non_null(s);
			assert_string_equal(awsconfig_get(s, "region"), c->expect_region);
		}
		awsconfig_free(cfg);
	}
	/* NULL-safe lookups. */
	assert_null(awsconfig_find_profile(NULL, "default", AWSCONFIG_CONFIG));
	assert_null(awsconfig_get(NULL, "region"));
	assert_int_equal(awsconfig_section_count(NULL), 0);
}

static void test_limits(void **state)
{
	size_t big = AWSCONFIG_FILE_MAX;
	struct awsconfig *cfg;
	char *text = malloc(big + 1);
	clock_t start;
	size_t n;

	assert_non_null(text);
	memset(text, '\n', big + 1);
	assert_int_equal(awsconfig_parse(text, big + 1, &cfg), -EFBIG);
	assert_int_equal(awsconfig_parse(text, big, &cfg), 0);
	awsconfig_free(cfg);

	/* Many distinct sections, then a duplicate at the end: found, quickly. */
	start = clock();
	n = 0;
	for (unsigned i = 0; n + 16 < big; i++)
		n += (size_t)sprintf(text + n, "[s%x]\n", i);
	n += (size_t)sprintf(text + n, "[s0]\n");
	assert_int_equal(awsconfig_parse(text, n, &cfg), -EINVAL);
	/* Many keys in one section, all distinct. */
	n = (size_t)sprintf(text, "[a]\n");
	for (unsigned i = 0; n + 16 < big; i++)
		n += (size_t)sprintf(text + n, "k%x=v\n", i);
	assert_int_equal(awsconfig_parse(text, n, &cfg), 0);
	assert_string_equal(awsconfig_get(awsconfig_find_section(cfg, "a"), "k0"), "v");
	awsconfig_free(cfg);
	/* One value continued over the whole buffer. */
	n = (size_t)sprintf(text, "[a]\nk = v\n");
	while (n + 4 < big)
		n += (size_t)sprintf(text + n, " x\n");
	assert_int_equal(awsconfig_parse(text, n, &cfg), 0);
	awsconfig_free(cfg);
	assert_true((double)(clock() - start) / CLOCKS_PER_SEC < 10.0);
	free(text);
}

/* Garbage must never crash (the fuzz harness goes further under ASan). */
static void test_garbage(void **state)
{
	static const char alphabet[] = "[]=:#; \t\r\n\"ab\0\xff";
	char buf[256];
	unsigned seed = 12345;

	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(rand_r(&seed) % sizeof(buf));
		struct awsconfig *cfg = NULL;

		for (size_t i = 0; i < len; i++)
			buf[i] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
		if (!awsconfig_parse(buf, len, &cfg)) {
			for (size_t i = 0; i < awsconfig_section_count(cfg); i++) {
				const struct awsconfig_section *s = awsconfig_section_at(cfg, i);

				assert_non_null(awsconfig_section_name(s));
				awsconfig_get(s, "a");
			}
			awsconfig_find_profile(cfg, "a", AWSCONFIG_CONFIG);
			awsconfig_free(cfg);
		}
	}
}

static void test_load(void **state)
{
	char dir[] = "/tmp/awsconfig-test.XXXXXX", path[128], why[256];
	struct awsconfig *cfg;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/credentials", dir);
	assert_int_equal(awsconfig_load(path, &cfg, why, sizeof(why)), -ENOENT);
	assert_null(cfg);

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "[default]\nregion = us-east-1\n", 29), 29);
	close(fd);
	assert_int_equal(awsconfig_load(path, &cfg, why, sizeof(why)), 0);
	assert_string_equal(awsconfig_get(awsconfig_find_section(cfg, "default"), "region"),
			    "us-east-1");
	awsconfig_free(cfg);

	fd = open(path, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, "oops\n", 5), 5);
	close(fd);
	assert_int_equal(awsconfig_load(path, &cfg, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, path));
	assert_non_null(strstr(why, "line 3"));

	assert_int_equal(truncate(path, AWSCONFIG_FILE_MAX + 1), 0);
	assert_int_equal(awsconfig_load(path, &cfg, why, sizeof(why)), -EFBIG);
	unlink(path);

	/* A directory is not a file (nor is a FIFO, which would block). */
	assert_int_equal(awsconfig_load(dir, &cfg, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "not a regular file"));
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(awsconfig_load(path, &cfg, why, sizeof(why)), -EINVAL);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_cases),
		cmocka_unit_test(test_find_profile),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
