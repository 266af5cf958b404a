// SPDX-License-Identifier: GPL-2.0-only
/*
 * The trust store as each distribution lays it out: a table of hosts (the
 * files that exist), what the responder named, and the bundle that must be
 * chosen, or the error.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "aws/trust.h"

#define DEBIAN "/etc/ssl/certs/ca-certificates.crt"
#define AL2023 "/etc/pki/tls/certs/ca-bundle.crt"
#define RHEL_EXTRACTED "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"
#define SUSE "/etc/ssl/ca-bundle.pem"
#define ALPINE "/etc/ssl/cert.pem"

struct env_pair {
	const char *name, *value;
};

static const struct env_pair *current_env;

static const char *table_env(const char *name)
{
	for (const struct env_pair *e = current_env; e && e->name; e++)
		if (!strcmp(e->name, name))
			return e->value;
	return NULL;
}

static const struct {
	const char *what;
	const char *files[6];     /* regular files on the host; a trailing '/' makes a directory */
	const char *option;
	struct env_pair env[4];
	const char *path;         /* NULL: an error */
	const char *source;
	bool is_dir;
	const char *error;        /* a word of the error */
} cases[] = {
	{ "Debian", { DEBIAN }, NULL, { { 0 } }, DEBIAN, "system", false, NULL },
	{ "Amazon Linux 2023: no /etc/ssl/certs bundle", { AL2023, RHEL_EXTRACTED }, NULL,
	  { { 0 } }, AL2023, "system", false, NULL },
	{ "RHEL with only the extracted bundle", { RHEL_EXTRACTED }, NULL, { { 0 } },
	  RHEL_EXTRACTED, "system", false, NULL },
	{ "SUSE", { SUSE }, NULL, { { 0 } }, SUSE, "system", false, NULL },
	{ "Alpine", { ALPINE }, NULL, { { 0 } }, ALPINE, "system", false, NULL },
	{ "a directory where a bundle should be is skipped", { DEBIAN "/", AL2023 }, NULL,
	  { { 0 } }, AL2023, "system", false, NULL },
	{ "no bundle anywhere", { "/etc/hostname" }, NULL, { { 0 } }, NULL, NULL, false,
	  "--ca-bundle" },
	{ "--ca-bundle first", { DEBIAN, "/opt/ca.pem" }, "/opt/ca.pem",
	  { { "AWS_CA_BUNDLE", DEBIAN } }, "/opt/ca.pem", "--ca-bundle", false, NULL },
	{ "--ca-bundle missing is an error, not a fallback", { DEBIAN }, "/opt/ca.pem",
	  { { 0 } }, NULL, NULL, false, "/opt/ca.pem" },
	{ "AWS_CA_BUNDLE", { DEBIAN, "/corp/ca.pem" }, NULL,
	  { { "AWS_CA_BUNDLE", "/corp/ca.pem" }, { "SSL_CERT_FILE", DEBIAN } }, "/corp/ca.pem",
	  "AWS_CA_BUNDLE", false, NULL },
	{ "AWS_CA_BUNDLE missing", { DEBIAN }, NULL, { { "AWS_CA_BUNDLE", "/corp/ca.pem" } },
	  NULL, NULL, false, "AWS_CA_BUNDLE" },
	{ "AWS_CA_BUNDLE empty is unset", { SUSE }, NULL, { { "AWS_CA_BUNDLE", "" } }, SUSE,
	  "system", false, NULL },
	{ "SSL_CERT_FILE", { DEBIAN, "/x/ca.pem" }, NULL, { { "SSL_CERT_FILE", "/x/ca.pem" } },
	  "/x/ca.pem", "SSL_CERT_FILE", false, NULL },
	{ "SSL_CERT_DIR", { DEBIAN, "/x/certs/" }, NULL, { { "SSL_CERT_DIR", "/x/certs" } },
	  "/x/certs", "SSL_CERT_DIR", true, NULL },
	{ "SSL_CERT_DIR naming a file", { DEBIAN, "/x/certs" }, NULL,
	  { { "SSL_CERT_DIR", "/x/certs" } }, NULL, NULL, false, "directory" },
};

static void make_host(const char *root, const char *const *files)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < 6 && files[i]; i++) {
		size_t n = strlen(files[i]);
		bool dir = files[i][n - 1] == '/';
		char *p;

		snprintf(path, sizeof(path), "%s%s", root, files[i]);
		for (p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
		if (dir) {
			mkdir(path, 0755);
		} else {
			FILE *f = fopen(path, "w");

			assert_non_null(f);
			fputs("-----BEGIN CERTIFICATE-----\n", f);
			fclose(f);
		}
	}
}

static void test_hosts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char root[] = "/tmp/test_trust.XXXXXX", cmd[64], why[512] = "";
		struct aws_trust t;
		int ret;

		assert_non_null(mkdtemp(root));
		make_host(root, cases[i].files);
		current_env = cases[i].env;
		struct aws_trust_probe probe = { .root = root, .option = cases[i].option,
						 .env = table_env };

		ret = aws_trust_find(&probe, &t, why, sizeof(why));
		if (cases[i].path) {
			if (ret)
				fail_msg("%s: %s", cases[i].what, why);
			assert_string_equal(t.path, cases[i].path);
			assert_string_equal(t.source, cases[i].source);
			assert_int_equal(t.is_dir, cases[i].is_dir);
		} else {
			if (ret != -ENOENT)
				fail_msg("%s: chose %s", cases[i].what, t.path);
			if (!strstr(why, cases[i].error))
				fail_msg("%s: '%s' lacks '%s'", cases[i].what, why, cases[i].error);
		}
		snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
		assert_int_equal(system(cmd), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hosts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
