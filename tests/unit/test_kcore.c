// SPDX-License-Identifier: GPL-2.0-only
/* /proc/kcore program headers to physical mappings, on synthetic ELF cores. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "capture/kcore.h"

#define DIRECT_MAP 0xffff888000000000ull
#define TEXT_VADDR 0xffffffff81000000ull

struct seg {
	uint32_t type;
	uint64_t vaddr, paddr, offset, size;
};

static size_t build_core(unsigned char *buf, const struct seg *segs, size_t n)
{
	Elf64_Ehdr eh = { 0 };

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_phoff = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (uint16_t)n;
	memcpy(buf, &eh, sizeof(eh));
	for (size_t i = 0; i < n; i++) {
		Elf64_Phdr ph = { .p_type = segs[i].type, .p_vaddr = segs[i].vaddr,
				  .p_paddr = segs[i].paddr, .p_offset = segs[i].offset,
				  .p_filesz = segs[i].size, .p_memsz = segs[i].size };

		memcpy(buf + sizeof(eh) + i * sizeof(ph), &ph, sizeof(ph));
	}
	return sizeof(eh) + n * sizeof(Elf64_Phdr);
}

static void ram_init(struct range_list *ram)
{
	range_list_init(ram);
	range_list_add(ram, 0x1000, 0x9efff);
	range_list_add(ram, 0x100000, 0xfffffff);
}

static void test_paddr(void **state)
{
	const struct seg segs[] = {
		{ PT_NOTE, 0, 0, 0x1000, 0x100 },
		{ PT_LOAD, TEXT_VADDR, 0x1000000, 0x10000, 0x2000000 },  /* kernel text */
		{ PT_LOAD, 0xffffc90000000000ull, UINT64_MAX, 0x20000, 0x1000 },  /* vmalloc */
		{ PT_LOAD, DIRECT_MAP + 0x1000, 0x1000, 0x40000, 0x9e000 },
		{ PT_LOAD, DIRECT_MAP + 0x100000, 0x100000, 0x200000, 0xff00000 },
	};
	unsigned char buf[4096];
	size_t len = build_core(buf, segs, 5), count;
	struct kcore_segment *parsed;
	struct kcore_map map;
	struct range_list ram;
	const struct kcore_map_entry *e;

	ram_init(&ram);
	assert_int_equal(kcore_parse_segments(buf, len, &parsed, &count), 0);
	assert_int_equal(count, 4);
	assert_int_equal(kcore_build_map(parsed, count, 0, &ram, &map), 0);
	/* Text overlaps RAM and is trimmed; vmalloc has no physical address. */
	assert_int_equal(map.count, 2);
	e = kcore_map_find(&map, 0x1500000);
	assert_non_null(e);
	assert_int_equal(e->file_offset + (0x1500000 - e->phys_start), 0x200000 + 0x1400000);
	assert_null(kcore_map_find(&map, 0xa0000));
	assert_non_null(kcore_map_find(&map, 0x9efff));
	assert_null(kcore_map_find(&map, 0x10000000));
	kcore_map_free(&map);
	free(parsed);
	range_list_free(&ram);
}

static void test_direct_map_fallback(void **state)
{
	/* Old kernels: p_paddr zero everywhere; KASLR moved the direct map. */
	const uint64_t base = 0xffff9a0000000000ull;
	const struct seg segs[] = {
		{ PT_LOAD, base + 0x100000, 0, 0x200000, 0xff00000 },
		{ PT_LOAD, 0xffffc90000000000ull, 0, 0x20000, 0x1000 },
	};
	unsigned char buf[4096];
	size_t len = build_core(buf, segs, 2), count;
	struct kcore_segment *parsed;
	struct kcore_map map;
	struct range_list ram;

	ram_init(&ram);
	assert_int_equal(kcore_parse_segments(buf, len, &parsed, &count), 0);
	assert_int_equal(kcore_build_map(parsed, count, base, &ram, &map), 0);
	assert_int_equal(map.count, 1);
	assert_int_equal(map.entries[0].phys_start, 0x100000);
	kcore_map_free(&map);
	/* Without a base nothing can be mapped. */
	assert_int_equal(kcore_build_map(parsed, count, 0, &ram, &map), 0);
	assert_int_equal(map.count, 0);
	kcore_map_free(&map);
	free(parsed);
	range_list_free(&ram);
}

static void test_malformed(void **state)
{
	const struct seg segs[] = { { PT_LOAD, DIRECT_MAP, 0x1000, 0x1000, 0x1000 } };
	unsigned char buf[4096];
	size_t len = build_core(buf, segs, 1), count;
	struct kcore_segment *parsed;
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;

	assert_int_equal(kcore_parse_segments(buf, 10, &parsed, &count), -EBADMSG);
	assert_int_equal(kcore_parse_segments(buf, len - 1, &parsed, &count), -E2BIG);
	eh->e_machine = EM_AARCH64;
	assert_int_equal(kcore_parse_segments(buf, len, &parsed, &count), -EBADMSG);
	eh->e_machine = EM_X86_64;
	eh->e_phoff = UINT64_MAX - 8;
	assert_int_equal(kcore_parse_segments(buf, len, &parsed, &count), -E2BIG);
	eh->e_phoff = sizeof(*eh);
	buf[EI_CLASS] = ELFCLASS32;
	assert_int_equal(kcore_parse_segments(buf, len, &parsed, &count), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paddr),
		cmocka_unit_test(test_direct_map_fallback),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests_name("kcore", tests, NULL, NULL);
}
