// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel module images and the kernel's willingness to take them: the ELF
 * parser against images built here (valid, signed, and broken one field at a
 * time), kmodule_kernel_accepts() and kmodule_is_loaded() against fake /proc
 * and /sys trees. KMODULE_SAMPLE=<path to a .ko> also parses a real module;
 * without it, $BUILD/modules/<release>/forensics_mem.ko from `make modules`
 * is used if present, else that one check is skipped.
 */
#include <elf.h>
#include <errno.h>
#include <ftw.h>
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <lzma.h>
#include <zstd.h>

#include "capture/kmodule.h"
#include "base/util.h"

#define MAX_TESTS 128
#define IMAGE_MAX 4096
#define SIG_TRAILER "~Module signature appended~\n"
#define VERMAGIC_61 "6.1.0-57-amd64 SMP preempt mod_unload modversions "

static struct CMUnitTest tests[MAX_TESTS];
static size_t test_count;

static void add_test(const char *name, CMUnitTestFunction fn, const void *state)
{
	if (test_count == MAX_TESTS) {
		fprintf(stderr, "MAX_TESTS too small\n");
		exit(1);
	}
	tests[test_count++] = (struct CMUnitTest){ name, fn, NULL, NULL, (void *)state };
}

/* ---- a minimal x86-64 ET_REL: null, .text, .modinfo, .shstrtab ---- */

enum { SEC_NULL, SEC_TEXT, SEC_MODINFO, SEC_SHSTRTAB, SEC_COUNT };

static const char shstrtab[] = "\0.text\0.modinfo\0.shstrtab";
#define NAME_TEXT 1
#define NAME_MODINFO 7
#define NAME_SHSTRTAB 16

struct image {
	unsigned char bytes[IMAGE_MAX];
	size_t len;
	size_t shstrtab_off;
};

static Elf64_Ehdr *ehdr(struct image *im)
{
	return (Elf64_Ehdr *)im->bytes;
}

static Elf64_Shdr *shdr(struct image *im, unsigned int i)
{
	return (Elf64_Shdr *)(im->bytes + ehdr(im)->e_shoff) + i;
}

static size_t put(struct image *im, const void *data, size_t len)
{
	size_t at = im->len;

	assert_true(im->len + len <= sizeof(im->bytes));
	memcpy(im->bytes + im->len, data, len);
	im->len += len;
	return at;
}

/*
 * The .modinfo section is the last thing before the (8-aligned, zero-padded)
 * section table, so a string that runs off the end of the section would find
 * a NUL just past it: the parser has to stop at sh_size.
 */
static void build_image(struct image *im, const char *modinfo, size_t modinfo_len,
			bool signed_module)
{
	static const unsigned char text[16] = { 0x90, 0x90, 0x90, 0xc3 };
	static const unsigned char zero[8];
	Elf64_Ehdr eh = { 0 };
	Elf64_Shdr sh[SEC_COUNT] = { { 0 } };
	size_t text_off, modinfo_off;

	memset(im, 0, sizeof(*im));
	im->len = sizeof(eh);
	text_off = put(im, text, sizeof(text));
	im->shstrtab_off = put(im, shstrtab, sizeof(shstrtab));
	modinfo_off = put(im, modinfo, modinfo_len);
	if (im->len % 8)
		put(im, zero, 8 - im->len % 8);

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_ident[EI_OSABI] = ELFOSABI_SYSV;
	eh.e_type = ET_REL;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_shoff = im->len;
	eh.e_ehsize = sizeof(eh);
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = SEC_COUNT;
	eh.e_shstrndx = SEC_SHSTRTAB;
	memcpy(im->bytes, &eh, sizeof(eh));

	sh[SEC_TEXT] = (Elf64_Shdr){ .sh_name = NAME_TEXT, .sh_type = SHT_PROGBITS,
				     .sh_flags = SHF_ALLOC | SHF_EXECINSTR,
				     .sh_offset = text_off, .sh_size = sizeof(text),
				     .sh_addralign = 16 };
	sh[SEC_MODINFO] = (Elf64_Shdr){ .sh_name = NAME_MODINFO, .sh_type = SHT_PROGBITS,
					.sh_flags = SHF_ALLOC, .sh_offset = modinfo_off,
					.sh_size = modinfo_len, .sh_addralign = 1 };
	sh[SEC_SHSTRTAB] = (Elf64_Shdr){ .sh_name = NAME_SHSTRTAB, .sh_type = SHT_STRTAB,
					 .sh_offset = im->shstrtab_off,
					 .sh_size = sizeof(shstrtab), .sh_addralign = 1 };
	put(im, sh, sizeof(sh));

	if (signed_module) {
		/* PKCS#7 blob, struct module_signature (12 bytes), then the marker. */
		unsigned char sig[64 + 12];

		memset(sig, 0x5a, 64);
		memset(sig + 64, 0, 12);
		put(im, sig, sizeof(sig));
		put(im, SIG_TRAILER, strlen(SIG_TRAILER));
	}
}

/* ---- kmodule_parse: a table of images ---- */

enum mutation {
	M_NONE,
	M_NOT_ELF,           /* magic byte changed */
	M_SHORT,             /* shorter than an ELF header */
	M_ELF32,
	M_BIG_ENDIAN,
	M_AARCH64,
	M_EXEC,
	M_SHOFF_BEYOND,      /* section table starts past the end */
	M_SHOFF_TAIL,        /* section table runs past the end */
	M_SHOFF_WRAP,        /* offset + size overflows */
	M_SHENTSIZE,
	M_SHNUM_ZERO,
	M_SHSTRNDX,          /* e_shstrndx == e_shnum */
	M_SHSTRTAB_OOB,
	M_MODINFO_OFFSET,    /* .modinfo starts past the end */
	M_MODINFO_SIZE,      /* .modinfo runs past the end */
	M_MODINFO_WRAP,
	M_MODINFO_NOBITS,
	M_NO_MODINFO,        /* the section is called something else */
	M_SH_NAME_OOB,       /* .modinfo's name index is past .shstrtab */
	M_MARKER_NOT_LAST,   /* signature marker followed by a byte */
	M_SHOFF_UNALIGNED,   /* section table moved to an odd offset: still valid */
};

struct parse_case {
	const char *name;
	const char *modinfo;     /* NULL: generated from gen_name_len/gen_vermagic_len */
	size_t modinfo_len;
	size_t gen_name_len, gen_vermagic_len;
	bool signed_module;
	enum mutation mutation;
	/* expected */
	int ret;
	const char *why;         /* substring of why on error */
	const char *mod_name;    /* NULL: name of gen_name_len 'a's */
	const char *release;
	bool is_signed;
};

#define MI(s) s, sizeof(s) - 1
#define VALID_MODINFO MI("license=GPL\0name=forensics_mem\0vermagic=" VERMAGIC_61 "\0")
/* A valid image broken by one mutation. */
#define BAD_IMAGE(n, m, w) { n, VALID_MODINFO, 0, 0, false, m, -ENOEXEC, w, NULL, NULL, false }
/* A well-formed image around a bad .modinfo, given or generated. */
#define BAD_MODINFO(n, literal, w) \
	{ n, MI(literal), 0, 0, false, M_NONE, -ENOEXEC, w, NULL, NULL, false }
#define BAD_GENERATED(n, gen_name, gen_vermagic, w) \
	{ n, NULL, 0, gen_name, gen_vermagic, false, M_NONE, -ENOEXEC, w, NULL, NULL, false }

static const struct parse_case parse_cases[] = {
	{ "parse/valid", VALID_MODINFO, 0, 0, false, M_NONE,
	  0, NULL, "forensics_mem", "6.1.0-57-amd64", false },
	{ "parse/signed", VALID_MODINFO, 0, 0, true, M_NONE,
	  0, NULL, "forensics_mem", "6.1.0-57-amd64", true },
	{ "parse/signature marker not at the very end", VALID_MODINFO, 0, 0, true,
	  M_MARKER_NOT_LAST, 0, NULL, "forensics_mem", "6.1.0-57-amd64", false },
	/* Keys match whole, at the start of a string: values and longer keys do not count. */
	{ "parse/decoy keys",
	  MI("alias=name=decoy\0description=vermagic=5.10.0-1-amd64 SMP\0namex=oops\0"
	     "vermagicx=4.19.0\0vermagic=" VERMAGIC_61 "\0depends=\0name=lime\0"),
	  0, 0, false, M_NONE, 0, NULL, "lime", "6.1.0-57-amd64", false },
	{ "parse/section table at an odd offset", VALID_MODINFO, 0, 0, true, M_SHOFF_UNALIGNED,
	  0, NULL, "forensics_mem", "6.1.0-57-amd64", true },
	{ "parse/name of 255 bytes fits", NULL, 0, 255, 0, false, M_NONE,
	  0, NULL, NULL, "6.1.0-57-amd64", false },
	{ "parse/vermagic of 255 bytes fits", NULL, 0, 0, 255, false, M_NONE,
	  0, NULL, "forensics_mem", "6.1.0-57-amd64", false },

	BAD_IMAGE("parse/not ELF", M_NOT_ELF, "not an ELF"),
	BAD_IMAGE("parse/shorter than an ELF header", M_SHORT, "not an ELF"),
	BAD_IMAGE("parse/ELF32", M_ELF32, "x86-64"),
	BAD_IMAGE("parse/big-endian", M_BIG_ENDIAN, "x86-64"),
	BAD_IMAGE("parse/EM_AARCH64", M_AARCH64, "x86-64"),
	BAD_IMAGE("parse/ET_EXEC", M_EXEC, "x86-64"),
	BAD_IMAGE("parse/section table beyond the end", M_SHOFF_BEYOND, "section table"),
	BAD_IMAGE("parse/section table runs past the end", M_SHOFF_TAIL, "section table"),
	BAD_IMAGE("parse/section table offset near 2^64", M_SHOFF_WRAP, "section table"),
	BAD_IMAGE("parse/wrong e_shentsize", M_SHENTSIZE, "section table"),
	BAD_IMAGE("parse/no sections", M_SHNUM_ZERO, "section table"),
	BAD_IMAGE("parse/shstrndx out of range", M_SHSTRNDX, "section table"),
	BAD_IMAGE("parse/.shstrtab out of bounds", M_SHSTRTAB_OOB, "section names"),
	BAD_IMAGE("parse/.modinfo offset out of bounds", M_MODINFO_OFFSET, ".modinfo out of bounds"),
	BAD_IMAGE("parse/.modinfo size out of bounds", M_MODINFO_SIZE, ".modinfo out of bounds"),
	BAD_IMAGE("parse/.modinfo offset near 2^64", M_MODINFO_WRAP, ".modinfo out of bounds"),
	BAD_IMAGE("parse/.modinfo NOBITS", M_MODINFO_NOBITS, ".modinfo out of bounds"),
	BAD_IMAGE("parse/no .modinfo", M_NO_MODINFO, "no .modinfo section"),
	BAD_IMAGE("parse/.modinfo name index past .shstrtab", M_SH_NAME_OOB, "no .modinfo section"),

	BAD_MODINFO("parse/empty .modinfo", "", "no vermagic"),
	BAD_MODINFO("parse/no vermagic", "license=GPL\0name=forensics_mem\0", "no vermagic"),
	BAD_MODINFO("parse/no name", "license=GPL\0vermagic=" VERMAGIC_61 "\0", "no module name"),
	BAD_MODINFO("parse/empty name", "name=\0vermagic=" VERMAGIC_61 "\0", "no module name"),
	BAD_MODINFO("parse/vermagic not NUL-terminated at the section end",
		    "name=forensics_mem\0vermagic=6.1.0-57-amd64 SMP preempt", "no vermagic"),
	BAD_MODINFO("parse/name not NUL-terminated at the section end",
		    "vermagic=" VERMAGIC_61 "\0name=forensics_mem", "no module name"),
	BAD_GENERATED("parse/name of 256 bytes", 256, 0, "no module name"),
	BAD_GENERATED("parse/name of 1000 bytes", 1000, 0, "no module name"),
	BAD_GENERATED("parse/vermagic of 256 bytes", 0, 256, "no vermagic"),
};

/* "name=<n 'a's or forensics_mem>\0vermagic=<VERMAGIC_61 padded with 'x' to n>\0" */
static size_t generate_modinfo(const struct parse_case *c, char *out, size_t outlen)
{
	size_t len = 0;

	assert_true(c->gen_name_len + c->gen_vermagic_len + 64 < outlen);
	len += (size_t)sprintf(out + len, "name=");
	if (c->gen_name_len) {
		memset(out + len, 'a', c->gen_name_len);
		len += c->gen_name_len;
	} else {
		len += (size_t)sprintf(out + len, "forensics_mem");
	}
	out[len++] = '\0';
	len += (size_t)sprintf(out + len, "vermagic=%s", VERMAGIC_61);
	if (c->gen_vermagic_len) {
		assert_true(c->gen_vermagic_len >= strlen(VERMAGIC_61));
		memset(out + len, 'x', c->gen_vermagic_len - strlen(VERMAGIC_61));
		len += c->gen_vermagic_len - strlen(VERMAGIC_61);
	}
	out[len++] = '\0';
	return len;
}

static void mutate(struct image *im, enum mutation m)
{
	Elf64_Ehdr *eh = ehdr(im);

	switch (m) {
	case M_NONE:
		break;
	case M_NOT_ELF:
		im->bytes[EI_MAG1] = 'X';
		break;
	case M_SHORT:
		im->len = sizeof(Elf64_Ehdr) - 1;
		break;
	case M_ELF32:
		eh->e_ident[EI_CLASS] = ELFCLASS32;
		break;
	case M_BIG_ENDIAN:
		eh->e_ident[EI_DATA] = ELFDATA2MSB;
		break;
	case M_AARCH64:
		eh->e_machine = EM_AARCH64;
		break;
	case M_EXEC:
		eh->e_type = ET_EXEC;
		break;
	case M_SHOFF_BEYOND:
		eh->e_shoff = im->len + 64;
		break;
	case M_SHOFF_TAIL:
		eh->e_shoff = im->len - sizeof(Elf64_Shdr);
		break;
	case M_SHOFF_WRAP:
		eh->e_shoff = UINT64_MAX - 8;
		break;
	case M_SHENTSIZE:
		eh->e_shentsize = sizeof(Elf32_Shdr);
		break;
	case M_SHNUM_ZERO:
		eh->e_shnum = 0;
		eh->e_shstrndx = 0;
		break;
	case M_SHSTRNDX:
		eh->e_shstrndx = eh->e_shnum;
		break;
	case M_SHSTRTAB_OOB:
		shdr(im, SEC_SHSTRTAB)->sh_offset = im->len;
		break;
	case M_MODINFO_OFFSET:
		shdr(im, SEC_MODINFO)->sh_offset = im->len + 1;
		break;
	case M_MODINFO_SIZE:
		shdr(im, SEC_MODINFO)->sh_size = im->len;
		break;
	case M_MODINFO_WRAP:
		shdr(im, SEC_MODINFO)->sh_offset = UINT64_MAX - 4;
		break;
	case M_MODINFO_NOBITS:
		shdr(im, SEC_MODINFO)->sh_type = SHT_NOBITS;
		break;
	case M_NO_MODINFO:
		im->bytes[im->shstrtab_off + NAME_MODINFO + 7] = 'X';   /* ".modinfX" */
		break;
	case M_SH_NAME_OOB:
		shdr(im, SEC_MODINFO)->sh_name = sizeof(shstrtab) + 100;
		break;
	case M_MARKER_NOT_LAST:
		im->bytes[im->len++] = '\n';
		break;
	case M_SHOFF_UNALIGNED: {
		size_t shoff = eh->e_shoff;

		assert_true(im->len + 1 <= sizeof(im->bytes));
		memmove(im->bytes + shoff + 1, im->bytes + shoff, im->len - shoff);
		im->bytes[shoff] = 0;
		eh->e_shoff = shoff + 1;
		im->len++;
		break;
	}
	}
}

static void test_parse(void **state)
{
	const struct parse_case *c = *state;
	struct image *im = calloc(1, sizeof(*im));
	char generated[2048];
	const char *modinfo = c->modinfo;
	size_t modinfo_len = c->modinfo_len;
	struct kmodule_info info;
	char why[128] = "";
	int ret;

	assert_non_null(im);
	if (!modinfo) {
		modinfo_len = generate_modinfo(c, generated, sizeof(generated));
		modinfo = generated;
	}
	build_image(im, modinfo, modinfo_len, c->signed_module);
	mutate(im, c->mutation);
	memset(&info, 0xa5, sizeof(info));
	ret = kmodule_parse(im->bytes, im->len, &info, why, sizeof(why));
	free(im);
	if (c->ret) {
		assert_int_equal(ret, c->ret);
		assert_true(why[0] != '\0');
		if (!strstr(why, c->why))
			fail_msg("why \"%s\" does not say \"%s\"", why, c->why);
		return;
	}
	if (ret)
		fail_msg("kmodule_parse: %d (%s)", ret, why);
	if (c->mod_name) {
		assert_string_equal(info.name, c->mod_name);
	} else {
		assert_int_equal(strlen(info.name), c->gen_name_len);
		assert_int_equal(strspn(info.name, "a"), c->gen_name_len);
	}
	assert_string_equal(info.release, c->release);
	/* vermagic is kept whole, trailing space included. */
	assert_int_equal(strncmp(info.vermagic, VERMAGIC_61, strlen(VERMAGIC_61)), 0);
	if (c->gen_vermagic_len)
		assert_int_equal(strlen(info.vermagic), c->gen_vermagic_len);
	else
		assert_string_equal(info.vermagic, VERMAGIC_61);
	assert_int_equal(info.signed_module, c->is_signed);
}

/* Every prefix of a valid signed image must fail cleanly, never read past len. */
static void test_parse_prefixes(void **state)
{
	struct image *im = calloc(1, sizeof(*im));
	struct kmodule_info info;
	char why[128];

	assert_non_null(im);
	build_image(im, VALID_MODINFO, true);
	assert_int_equal(kmodule_parse(im->bytes, im->len, &info, why, sizeof(why)), 0);
	for (size_t len = 0; len < im->len; len++) {
		/* A copy of exactly len bytes, so a sanitizer would see an overread. */
		unsigned char *copy = malloc(len ? len : 1);
		int ret;

		assert_non_null(copy);
		memcpy(copy, im->bytes, len);
		why[0] = '\0';
		ret = kmodule_parse(copy, len, &info, why, sizeof(why));
		free(copy);
		/* Cut inside the signature or its marker: a valid, unsigned module. */
		if (!ret) {
			assert_false(info.signed_module);
			continue;
		}
		assert_int_equal(ret, -ENOEXEC);
		assert_true(why[0] != '\0');
	}
	free(im);
}

/* A real .ko, when one is at hand. */
static void test_parse_sample(void **state)
{
	const char *env = getenv("KMODULE_SAMPLE");
	const char *build = getenv("BUILD");
	char pattern[512], path[1024] = "";
	struct kmodule_info info;
	char why[128] = "";
	char *data = NULL;
	size_t len;
	bool ours = false;
	int ret;

	if (env && *env) {
		snprintf(path, sizeof(path), "%s", env);
	} else {
		glob_t g;

		snprintf(pattern, sizeof(pattern), "%s/modules/*/forensics_mem.ko",
			 build && *build ? build : "build");
		if (!glob(pattern, 0, NULL, &g) && g.gl_pathc) {
			snprintf(path, sizeof(path), "%s", g.gl_pathv[0]);
			ours = true;
		}
		globfree(&g);
	}
	if (!path[0]) {
		print_message("skipped: set KMODULE_SAMPLE=<module.ko> or run `make modules`\n");
		skip();
	}
	ret = read_whole_file(path, KMODULE_MAX_BYTES, &data, &len);
	if (ret)
		fail_msg("%s: %s", path, strerror(-ret));
	ret = kmodule_parse(data, len, &info, why, sizeof(why));
	free(data);
	if (ret)
		fail_msg("%s: %s", path, why);
	print_message("%s: name=%s release=%s signed=%d\n", path, info.name, info.release,
		      info.signed_module);
	assert_true(info.name[0] != '\0');
	assert_true(info.release[0] != '\0');
	assert_non_null(strstr(info.vermagic, info.release));
	if (ours)
		assert_string_equal(info.name, "forensics_mem");
}

/* ---- fake /proc and /sys trees ---- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void remove_tree(const char *dir)
{
	assert_int_equal(nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* Creates dir/rel and its parents with text in it. */
static void put_file(const char *dir, const char *rel, const char *text)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	for (char *slash = strchr(path + strlen(dir) + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		*slash = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

struct fake_root {
	char dir[64], proc[96], sys[96];
};

static void fake_root_init(struct fake_root *r)
{
	snprintf(r->dir, sizeof(r->dir), "/tmp/test_kmodule.XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	snprintf(r->proc, sizeof(r->proc), "%s/proc", r->dir);
	snprintf(r->sys, sizeof(r->sys), "%s/sys", r->dir);
	assert_int_equal(mkdir(r->proc, 0755), 0);
	assert_int_equal(mkdir(r->sys, 0755), 0);
}

/* ---- kmodule_kernel_accepts ---- */

struct accepts_case {
	const char *name;
	bool has_modules;
	const char *modules_disabled;   /* NULL: no such file */
	const char *lockdown;
	const char *sig_enforce;
	bool signed_module;
	int ret;
	const char *why;
};

static const struct accepts_case accepts_cases[] = {
	{ "accepts/no /proc/modules", false, NULL, NULL, NULL, true, -ENOSYS, "no module support" },
	{ "accepts/modules_disabled", true, "1\n", NULL, NULL, true, -EPERM, "modules_disabled" },
	{ "accepts/modules_disabled wins over a signed module and no lockdown", true, "1\n",
	  "[none] integrity confidentiality\n", "N\n", true, -EPERM, "modules_disabled" },
	{ "accepts/modules_disabled 0", true, "0\n", NULL, NULL, false, 0, NULL },
	{ "accepts/nothing but /proc/modules", true, NULL, NULL, NULL, false, 0, NULL },
	{ "accepts/lockdown integrity, unsigned", true, "0\n",
	  "none [integrity] confidentiality\n", NULL, false, -EKEYREJECTED, "integrity" },
	{ "accepts/lockdown integrity, signed", true, "0\n",
	  "none [integrity] confidentiality\n", NULL, true, 0, NULL },
	{ "accepts/lockdown confidentiality, unsigned", true, NULL,
	  "none integrity [confidentiality]\n", NULL, false, -EKEYREJECTED, "confidentiality" },
	{ "accepts/lockdown none, unsigned", true, NULL,
	  "[none] integrity confidentiality\n", NULL, false, 0, NULL },
	{ "accepts/sig_enforce Y, unsigned", true, NULL, NULL, "Y\n", false, -EKEYREJECTED,
	  "sig_enforce" },
	{ "accepts/sig_enforce Y, lockdown none, unsigned", true, NULL,
	  "[none] integrity confidentiality\n", "Y\n", false, -EKEYREJECTED, "sig_enforce" },
	{ "accepts/sig_enforce 1, unsigned", true, NULL, NULL, "1\n", false, -EKEYREJECTED,
	  "sig_enforce" },
	{ "accepts/sig_enforce Y, signed", true, NULL, NULL, "Y\n", true, 0, NULL },
	{ "accepts/sig_enforce N, unsigned", true, NULL, NULL, "N\n", false, 0, NULL },
};

static void test_accepts(void **state)
{
	const struct accepts_case *c = *state;
	struct kmodule_info info = { .name = "forensics_mem", .release = "6.1.0-57-amd64",
				     .signed_module = c->signed_module };
	struct fake_root root;
	char why[200] = "";
	int ret;

	fake_root_init(&root);
	if (c->has_modules)
		put_file(root.dir, "proc/modules", "");
	if (c->modules_disabled)
		put_file(root.dir, "proc/sys/kernel/modules_disabled", c->modules_disabled);
	if (c->lockdown)
		put_file(root.dir, "sys/kernel/security/lockdown", c->lockdown);
	if (c->sig_enforce)
		put_file(root.dir, "sys/module/module/parameters/sig_enforce", c->sig_enforce);
	ret = kmodule_kernel_accepts(&info, root.proc, root.sys, why, sizeof(why));
	remove_tree(root.dir);
	assert_int_equal(ret, c->ret);
	if (!c->ret)
		return;
	assert_true(why[0] != '\0');
	if (!strstr(why, c->why))
		fail_msg("why \"%s\" does not say \"%s\"", why, c->why);
}

/* ---- kmodule_is_loaded ---- */

static const char proc_modules[] =
	"forensics_mem 16384 0 - Live 0x0000000000000000\n"
	"lime 20480 0 - Live 0x0\n";

struct loaded_case {
	const char *name;
	const char *module;
	int loaded;
};

static const struct loaded_case loaded_cases[] = {
	{ "loaded/first line", "forensics_mem", 1 },
	{ "loaded/last line", "lime", 1 },
	{ "loaded/a prefix of a loaded name", "forensics", 0 },
	{ "loaded/a prefix of the last name", "lim", 0 },
	{ "loaded/longer than a loaded name", "forensics_mem2", 0 },
	{ "loaded/not loaded", "virtio_net", 0 },
	{ "loaded/a size field is no name", "16384", 0 },
	{ "loaded/empty name", "", 0 },
};

static void test_loaded(void **state)
{
	const struct loaded_case *c = *state;
	struct fake_root root;
	int loaded;

	fake_root_init(&root);
	put_file(root.dir, "proc/modules", proc_modules);
	loaded = kmodule_is_loaded(root.proc, c->module);
	remove_tree(root.dir);
	assert_int_equal(loaded, c->loaded);
}

static void test_loaded_no_proc_modules(void **state)
{
	struct fake_root root;
	int loaded;

	fake_root_init(&root);
	loaded = kmodule_is_loaded(root.proc, "forensics_mem");
	remove_tree(root.dir);
	assert_int_equal(loaded, 0);
}

/* ---- compressed modules: xz and zstd round trips, damage refused ---- */

enum packing { PACK_XZ, PACK_ZSTD, PACK_XZ_TRUNCATED, PACK_ZSTD_TRUNCATED, PACK_XZ_CORRUPT };

struct decompress_case {
	const char *name;
	enum packing packing;
	int expect;
};

static const struct decompress_case decompress_cases[] = {
	{ "decompress/xz module parses", PACK_XZ, 0 },
	{ "decompress/zstd module parses", PACK_ZSTD, 0 },
	{ "decompress/xz cut short", PACK_XZ_TRUNCATED, -EBADMSG },
	{ "decompress/zstd cut short", PACK_ZSTD_TRUNCATED, -EBADMSG },
	{ "decompress/xz with a flipped byte", PACK_XZ_CORRUPT, -EBADMSG },
};

static size_t pack(enum packing how, const unsigned char *in, size_t len, unsigned char *out,
		   size_t cap)
{
	size_t n = 0;

	if (how == PACK_ZSTD || how == PACK_ZSTD_TRUNCATED) {
		n = ZSTD_compress(out, cap, in, len, 3);
		assert_false(ZSTD_isError(n));
	} else {
		assert_int_equal(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, in, len, out, &n,
							 cap), LZMA_OK);
	}
	if (how == PACK_XZ_TRUNCATED || how == PACK_ZSTD_TRUNCATED)
		n -= 9;
	if (how == PACK_XZ_CORRUPT)
		out[n / 2] ^= 0x40;
	return n;
}

static void test_decompress(void **state)
{
	const struct decompress_case *c = *state;
	struct image *im = calloc(1, sizeof(*im));
	unsigned char *packed = malloc(2 * IMAGE_MAX);
	struct kmodule_info info;
	void *plain = NULL;
	size_t plain_len = 0, n;
	char why[128] = "";
	int ret;

	assert_non_null(im);
	assert_non_null(packed);
	build_image(im, VALID_MODINFO, false);
	n = pack(c->packing, im->bytes, im->len, packed, 2 * IMAGE_MAX);
	ret = kmodule_decompress(packed, n, &plain, &plain_len, why, sizeof(why));
	assert_int_equal(ret, c->expect);
	if (!ret) {
		assert_non_null(plain);
		assert_int_equal(plain_len, im->len);
		assert_memory_equal(plain, im->bytes, im->len);
		assert_int_equal(kmodule_parse(plain, plain_len, &info, why, sizeof(why)), 0);
		assert_string_equal(info.name, "forensics_mem");
		free(plain);
		plain = NULL;
	} else {
		assert_null(plain);
		assert_true(why[0] != '\0');
	}
	/* A plain image is left alone. */
	assert_int_equal(kmodule_decompress(im->bytes, im->len, &plain, &plain_len, why,
					    sizeof(why)), 0);
	assert_null(plain);
	free(packed);
	free(im);
}

int main(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(parse_cases); i++)
		add_test(parse_cases[i].name, test_parse, &parse_cases[i]);
	add_test("parse/every prefix of a signed image", test_parse_prefixes, NULL);
	add_test("parse/a real module (KMODULE_SAMPLE)", test_parse_sample, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(accepts_cases); i++)
		add_test(accepts_cases[i].name, test_accepts, &accepts_cases[i]);
	for (size_t i = 0; i < ARRAY_SIZE(loaded_cases); i++)
		add_test(loaded_cases[i].name, test_loaded, &loaded_cases[i]);
	add_test("loaded/no /proc/modules", test_loaded_no_proc_modules, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(decompress_cases); i++)
		add_test(decompress_cases[i].name, test_decompress, &decompress_cases[i]);
	return _cmocka_run_group_tests("kmodule", tests, test_count, NULL, NULL);
}
