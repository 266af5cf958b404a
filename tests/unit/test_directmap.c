// SPDX-License-Identifier: GPL-2.0-only
/*
 * Finding the direct map: the kernel texts and words parsed, the candidate
 * bases KASLR allows, and the probe against a simulated kernel address
 * space (RAM mapped at a base, nothing around it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "capture/directmap.h"

#define GIB (1ull << 30)

static void test_lockdown(void **state)
{
	static const struct {
		const char *text;
		enum directmap_lockdown mode;
	} cases[] = {
		{ "[none] integrity confidentiality\n", DIRECTMAP_LOCKDOWN_NONE },
		{ "none [integrity] confidentiality\n", DIRECTMAP_LOCKDOWN_INTEGRITY },
		{ "none integrity [confidentiality]\n", DIRECTMAP_LOCKDOWN_CONFIDENTIALITY },
		{ "", DIRECTMAP_LOCKDOWN_UNKNOWN },
		{ "none integrity confidentiality\n", DIRECTMAP_LOCKDOWN_UNKNOWN },
		{ "none [integrity", DIRECTMAP_LOCKDOWN_UNKNOWN },
		{ "[confidential]", DIRECTMAP_LOCKDOWN_UNKNOWN },
		{ "[confidentialityX]", DIRECTMAP_LOCKDOWN_UNKNOWN },
		{ "[]", DIRECTMAP_LOCKDOWN_UNKNOWN },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("case: '%s'\n", cases[i].text);
		assert_int_equal(directmap_lockdown_parse(cases[i].text, strlen(cases[i].text)),
				 cases[i].mode);
	}
}

static void test_meminfo(void **state)
{
	const char *text = "MemTotal:       24684392 kB\n"
			   "UnacceptedX:        7 kB\n"
			   "Unaccepted:         1234 kB\n";
	const char *bad[] = {
		"Unaccepted: kB\n",
		"Unaccepted 5 kB\n",
		"Unaccepted:",
		"Unaccepted: 99999999999999999999999 kB\n",
		"MemTotal: 5 kB\n",
	};
	uint64_t kb = 0;

	assert_int_equal(directmap_meminfo_kb(text, strlen(text), "Unaccepted", &kb), 0);
	assert_int_equal(kb, 1234);
	assert_int_equal(directmap_meminfo_kb(text, strlen(text), "MemTotal", &kb), 0);
	assert_int_equal(kb, 24684392);
	/* A length that cuts the text short hides what follows. */
	assert_int_equal(directmap_meminfo_kb(text, 30, "Unaccepted", &kb), -ENOENT);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(directmap_meminfo_kb(bad[i], strlen(bad[i]), "Unaccepted", &kb),
				 -ENOENT);
}

static void test_pagemap(void **state)
{
	uint64_t pfn = 0;

	assert_int_equal(directmap_pagemap_pfn((1ull << 63) | 0x2ad117, &pfn), 0);
	assert_int_equal(pfn, 0x2ad117);
	/* Soft-dirty and exclusive bits are not part of the PFN. */
	assert_int_equal(directmap_pagemap_pfn((1ull << 63) | (1ull << 56) | (1ull << 55) | 7,
					       &pfn), 0);
	assert_int_equal(pfn, 7);
	assert_int_equal(directmap_pagemap_pfn(0x2ad117, &pfn), -ENOENT);
	assert_int_equal(directmap_pagemap_pfn((1ull << 63) | (1ull << 62) | 5, &pfn), -ENOENT);
	assert_int_equal(directmap_pagemap_pfn(1ull << 63, &pfn), -EPERM);
}

static void test_page_flags(void **state)
{
	assert_false(directmap_page_unsafe(0));
	assert_false(directmap_page_unsafe((1ull << 5) | (1ull << 10)));  /* LRU, buddy */
	assert_true(directmap_page_unsafe(1ull << 19));
	assert_true(directmap_page_poisoned(1ull << 19));
	assert_true(directmap_page_unsafe(1ull << 20));
	assert_false(directmap_page_poisoned(1ull << 20));
	assert_true(directmap_page_unsafe(1ull << 23));
}

static void test_candidates(void **state)
{
	uint64_t out[64];
	size_t n;

	/* This machine's case: a task_struct 7.8 GiB into a map at the lowest base. */
	n = directmap_candidates(0xffff8881f1a04440ull, 25 * GIB, out, 64);
	assert_int_equal(n, 8);
	assert_int_equal(out[0], DIRECTMAP_BASE_L4);
	assert_int_equal(out[7], 0xffff8881c0000000ull);
	/* Far up in the KASLR range, 2 GiB of RAM: only bases within 2 GiB below. */
	n = directmap_candidates(0xffff9a0080001000ull, 2 * GIB, out, 64);
	assert_int_equal(n, 2);
	assert_int_equal(out[0], 0xffff9a0040000000ull);
	assert_int_equal(out[1], 0xffff9a0080000000ull);
	for (size_t i = 1; i < n; i++)
		assert_true(out[i] > out[i - 1]);
	/* RAM size unknown: everything down to the region start, capped by max. */
	n = directmap_candidates(0xffff9a0080001000ull, 0, out, 64);
	assert_int_equal(n, (0xffff9a0080000000ull - DIRECTMAP_BASE_L4) / GIB + 1);
	assert_int_equal(out[0], DIRECTMAP_BASE_L4);
	assert_int_equal(out[63], DIRECTMAP_BASE_L4 + 63 * GIB);
	/* 5-level paging starts lower. */
	n = directmap_candidates(DIRECTMAP_BASE_L5 + 3 * GIB + 5, 0, out, 64);
	assert_int_equal(n, 4);
	assert_int_equal(out[0], DIRECTMAP_BASE_L5);
	/* Not a direct-map pointer at all. */
	assert_int_equal(directmap_candidates(0xffff800000001000ull, 0, out, 64), 0);
	assert_int_equal(directmap_candidates(0x1000, 0, out, 64), 0);
}

/*
 * A kernel address space: RAM of ram_bytes mapped at base; pattern pages at
 * phys[0], phys[1]; optionally a decoy copy of the first pattern elsewhere.
 */
struct fake_kernel {
	uint64_t base, ram_bytes;
	const unsigned char *pattern[2];
	uint64_t phys[2];
	uint64_t decoy;      /* a vaddr that also shows pattern[0] (0: none) */
	int fail_with;       /* error every read returns (0: none) */
	uint64_t highest;    /* highest address read */
};

static int fake_read(void *ctx, uint64_t vaddr, void *buf)
{
	struct fake_kernel *k = ctx;

	if (vaddr > k->highest)
		k->highest = vaddr;
	if (k->fail_with)
		return k->fail_with;
	if (k->decoy && vaddr == k->decoy) {
		memcpy(buf, k->pattern[0], DIRECTMAP_PAGE_SIZE);
		return 0;
	}
	if (vaddr < k->base || vaddr - k->base >= k->ram_bytes)
		return -EFAULT;
	memset(buf, 0x5a, DIRECTMAP_PAGE_SIZE);
	for (int i = 0; i < 2; i++)
		if (vaddr - k->base == k->phys[i])
			memcpy(buf, k->pattern[i], DIRECTMAP_PAGE_SIZE);
	return 0;
}

static unsigned char pattern_a[DIRECTMAP_PAGE_SIZE], pattern_b[DIRECTMAP_PAGE_SIZE];

static void setup_fake(struct fake_kernel *k, struct directmap_probe *p)
{
	for (size_t i = 0; i < DIRECTMAP_PAGE_SIZE; i++) {
		pattern_a[i] = (unsigned char)(i * 7 + 1);
		pattern_b[i] = (unsigned char)(i * 13 + 3);
	}
	*k = (struct fake_kernel){
		.base = 0xffff9f2c40000000ull,
		.ram_bytes = 8 * GIB,
		.pattern = { pattern_a, pattern_b },
		.phys = { 0x1f3d45000ull, 0x2000ull },
	};
	*p = (struct directmap_probe){
		.read_page = fake_read,
		.ctx = k,
		.pattern = { pattern_a, pattern_b },
		.phys = { k->phys[0], k->phys[1] },
	};
}

static void test_probe_finds_base(void **state)
{
	struct fake_kernel k;
	struct directmap_probe p;
	uint64_t out[64], base = 0;
	/* A slab object 6 GiB into RAM. */
	size_t n;

	setup_fake(&k, &p);
	n = directmap_candidates(k.base + 6 * GIB + 0x440, k.ram_bytes, out, 64);
	assert_int_equal(n, 8);
	assert_int_equal(directmap_probe_base(&p, out, n, &base), 0);
	assert_int_equal(base, k.base);
	/* Ascending order: nothing read past the true base + the pattern's address. */
	assert_true(k.highest <= k.base + k.phys[0]);
	assert_int_equal(directmap_verify_base(&p, k.base), 0);
	assert_int_equal(directmap_verify_base(&p, k.base + GIB), -ENOENT);
	assert_int_equal(directmap_verify_base(&p, k.base + 4096), -ENOENT);
}

static void test_probe_second_page_rejects_decoy(void **state)
{
	struct fake_kernel k;
	struct directmap_probe p;
	uint64_t out[64], base = 0;
	size_t n;

	setup_fake(&k, &p);
	/* The first pattern also shows one GiB lower (a stale copy of the page). */
	k.decoy = k.base - GIB + k.phys[0];
	n = directmap_candidates(k.base + 6 * GIB, k.ram_bytes, out, 64);
	assert_int_equal(directmap_probe_base(&p, out, n, &base), 0);
	assert_int_equal(base, k.base);
}

static void test_probe_not_found_and_errors(void **state)
{
	struct fake_kernel k;
	struct directmap_probe p;
	uint64_t out[64], base = 0;
	size_t n;

	setup_fake(&k, &p);
	/* Candidates that all lie below the real base. */
	n = directmap_candidates(k.base - GIB, k.ram_bytes, out, 64);
	assert_int_equal(directmap_probe_base(&p, out, n, &base), -ENOENT);
	assert_int_equal(directmap_probe_base(&p, out, 0, &base), -ENOENT);
	/* A reader that fails for another reason stops the search with that reason. */
	k.fail_with = -EPERM;
	n = directmap_candidates(k.base + GIB, k.ram_bytes, out, 64);
	assert_int_equal(directmap_probe_base(&p, out, n, &base), -EPERM);
	assert_int_equal(directmap_verify_base(&p, k.base), -EPERM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lockdown),
		cmocka_unit_test(test_meminfo),
		cmocka_unit_test(test_pagemap),
		cmocka_unit_test(test_page_flags),
		cmocka_unit_test(test_candidates),
		cmocka_unit_test(test_probe_finds_base),
		cmocka_unit_test(test_probe_second_page_rejects_decoy),
		cmocka_unit_test(test_probe_not_found_and_errors),
	};

	return cmocka_run_group_tests_name("directmap", tests, NULL, NULL);
}
