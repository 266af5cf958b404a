// SPDX-License-Identifier: GPL-2.0-only
/*
 * The document's parameter checks against known answers, and against the
 * document itself (delivery/ssm/forensics-acquire.json, read from the
 * repository root, where tests/run.sh runs): the same parameters, every
 * default and allowed value accepted.
 */
#include <string.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "response/ssmdoc.h"

#define DOCUMENT "delivery/ssm/forensics-acquire.json"

static const struct {
	const char *param, *value;
	bool ok;
} answers[] = {
	{ "EvidenceBucket", "forensics-evidence", true },
	{ "EvidenceBucket", "a.b", true },
	{ "EvidenceBucket", "ab", false },
	{ "EvidenceBucket", "-ab", false },
	{ "EvidenceBucket", "ab-", false },
	{ "EvidenceBucket", "Forensics", false },
	{ "EvidenceBucket", "a_b", false },
	{ "EvidenceBucket", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true },
	{ "EvidenceBucket", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false },
	{ "EvidencePrefix", "", true },
	{ "EvidencePrefix", "cases/IR-42/i-0123/", true },
	{ "EvidencePrefix", "a!_.*()/=+-Z9", true },
	{ "EvidencePrefix", "a b", false },
	{ "EvidencePrefix", "a'b", false },
	{ "EvidencePrefix", "a$b", false },
	{ "CaseId", "IR-42", true },
	{ "CaseId", "7.b_c-d", true },
	{ "CaseId", "", false },
	{ "CaseId", "-IR", false },
	{ "CaseId", "_IR", false },
	{ "CaseId", "IR 42", false },
	{ "CaseId", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true },
	{ "CaseId", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false },
	{ "Region", "", true },
	{ "Region", "eu-west-1", true },
	{ "Region", "us-gov-west-1", true },
	{ "Region", "cn-north-1", true },
	{ "Region", "eu-west", false },
	{ "Region", "eu-1", false },
	{ "Region", "eu-west-1a", false },
	{ "Region", "EU-west-1", false },
	{ "Region", "e-west-1", false },
	{ "Region", "eu--west-1", false },
	{ "Region", "eu-west-", false },
	{ "AgentUrl", "s3://forensics-tools/agent/forensics-agent", true },
	{ "AgentUrl", "https://h.example/a?X-Amz-Signature=ab&x=%2F", true },
	{ "AgentUrl", "http://10.0.2.2:9000/a", true },
	{ "AgentUrl", "s3://", false },
	{ "AgentUrl", "ftp://h/a", false },
	{ "AgentUrl", "s3://t/a'b", false },
	{ "AgentUrl", "s3://t/a b", false },
	{ "AgentUrl", "s3://t/a\tb", false },
	{ "AgentUrl", "/opt/forensics-agent", false },
	{ "AgentSha256", "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef", true },
	{ "AgentSha256", "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcde", false },
	{ "AgentSha256", "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdeg", false },
	{ "CredentialsMode", "session", true },
	{ "CredentialsMode", "instance-profile", true },
	{ "CredentialsMode", "Session", false },
	{ "CredentialsMode", "", false },
	{ "SessionAccessKeyId", "", true },
	{ "SessionAccessKeyId", "ASIAEXAMPLE0123", true },
	{ "SessionAccessKeyId", "asia", false },
	{ "SessionSecretAccessKey", "wJalr/XUtnF+EMI=", true },
	{ "SessionSecretAccessKey", "a-b", false },
	{ "SessionToken", "IQoJb3JpZ2luX2Vj//+=", true },
	{ "SessionToken", "a b", false },
	{ "Source", "auto", true },
	{ "Source", "devmem", true },
	{ "Source", "file", false },
	{ "ExtraArgs", "", true },
	{ "ExtraArgs", "--module-store s3://t/m/ --lime-params timeout=0,x@y+z", true },
	{ "ExtraArgs", "--x;rm", false },
	{ "ExtraArgs", "--x $(id)", false },
	{ "ExtraArgs", "a'b", false },
	{ "ExecutionTimeout", "7200", true },
	{ "ExecutionTimeout", "999999", true },
	{ "ExecutionTimeout", "1000000", false },
	{ "ExecutionTimeout", "", false },
	{ "ExecutionTimeout", "-1", false },
	{ "NoSuchParameter", "x", false },
};

static void test_known_answers(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		if (ssmdoc_value_ok(answers[i].param, answers[i].value) != answers[i].ok)
			fail_msg("%s = '%s': want %s", answers[i].param, answers[i].value,
				 answers[i].ok ? "accepted" : "refused");
	}
}

static void test_lengths(void **state)
{
	char s[4200];

	(void)state;
	memset(s, 'A', sizeof(s));
	s[128] = '\0';
	assert_true(ssmdoc_value_ok("SessionAccessKeyId", s));
	s[128] = 'A';
	s[129] = '\0';
	assert_false(ssmdoc_value_ok("SessionAccessKeyId", s));
	s[129] = 'A';
	s[4096] = '\0';
	assert_true(ssmdoc_value_ok("SessionToken", s));
	s[4096] = 'A';
	s[4097] = '\0';
	assert_false(ssmdoc_value_ok("SessionToken", s));
	s[4097] = 'A';
	memcpy(s, "s3://", 5);
	s[4005] = '\0';
	assert_true(ssmdoc_value_ok("AgentUrl", s));
	s[4005] = 'A';
	s[4006] = '\0';
	assert_false(ssmdoc_value_ok("AgentUrl", s));
}

static void test_names(void **state)
{
	(void)state;
	assert_true(ssmdoc_name_ok("forensics-acquire"));
	assert_true(ssmdoc_name_ok("arn:aws:ssm:eu-west-1:111122223333:document/forensics-acquire"));
	assert_false(ssmdoc_name_ok("ab"));
	assert_false(ssmdoc_name_ok("a b c"));
	assert_false(ssmdoc_name_ok("a'bc"));
}

static void test_params_check(void **state)
{
	json_object *p = json_object_new_object();
	char why[200];

	(void)state;
	json_object_object_add(p, "EvidenceBucket", json_object_new_string("forensics-evidence"));
	json_object_object_add(p, "CaseId", json_object_new_string("IR-42"));
	json_object_object_add(p, "AgentUrl", json_object_new_string("s3://t/a"));
	assert_int_equal(ssmdoc_params_check(p, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "AgentSha256 is required"));
	json_object_object_add(p, "AgentSha256", json_object_new_string(
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
	assert_int_equal(ssmdoc_params_check(p, why, sizeof(why)), 0);
	/* A secret that fails is named, never echoed. */
	json_object_object_add(p, "SessionSecretAccessKey", json_object_new_string("top secret"));
	assert_int_equal(ssmdoc_params_check(p, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "SessionSecretAccessKey"));
	assert_null(strstr(why, "top secret"));
	json_object_object_del(p, "SessionSecretAccessKey");
	json_object_object_add(p, "Source", json_object_new_int(1));
	assert_int_equal(ssmdoc_params_check(p, why, sizeof(why)), -EINVAL);
	json_object_object_del(p, "Source");
	json_object_object_add(p, "commands", json_object_new_string("id"));
	assert_int_equal(ssmdoc_params_check(p, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "no parameter commands"));
	json_object_put(p);
}

/* The table matches the document: same names, defaults and allowedValues accepted. */
static void test_against_document(void **state)
{
	json_object *doc = json_object_from_file(DOCUMENT), *declared;
	size_t seen = 0;

	(void)state;
	if (!doc)
		fail_msg("cannot read %s (run from the repository root)", DOCUMENT);
	assert_true(json_object_object_get_ex(doc, "parameters", &declared));
	json_object_object_foreach(declared, name, spec) {
		json_object *def, *values;
		const struct ssmdoc_param *p = ssmdoc_param_find(name);

		if (!p)
			fail_msg("the document's parameter %s is not known here", name);
		seen++;
		assert_int_equal(p->required, !json_object_object_get_ex(spec, "default", &def));
		if (!p->required && !ssmdoc_value_ok(name, json_object_get_string(def)))
			fail_msg("%s: the default '%s' is refused", name, json_object_get_string(def));
		assert_int_equal(p->values != NULL,
				 json_object_object_get_ex(spec, "allowedValues", &values));
		for (size_t i = 0; p->values && i < json_object_array_length(values); i++) {
			const char *v = json_object_get_string(json_object_array_get_idx(values, i));

			if (!ssmdoc_value_ok(name, v))
				fail_msg("%s: the allowed value '%s' is refused", name, v);
		}
		if (!p->values && !json_object_object_get_ex(spec, "allowedPattern", &values))
			fail_msg("%s: no allowedPattern in the document", name);
	}
	assert_int_equal(seen, ssmdoc_param_count());
	json_object_put(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_params_check),
		cmocka_unit_test(test_against_document),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
