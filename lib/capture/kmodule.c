// SPDX-License-Identifier: GPL-2.0-only
/*
 * A .ko comes from a local directory or a bucket and is checked before the
 * kernel sees it, so its ELF is parsed defensively: every offset and size is
 * bounds-checked against the image, strings must end inside their section.
 */
#include "capture/kmodule.h"
#include "base/util.h"

#include <elf.h>
#include <errno.h>
#include <lzma.h>
#include <zstd.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MODULE_SIG_TRAILER "~Module signature appended~\n"

static bool span_ok(size_t len, uint64_t offset, uint64_t size)
{
	return offset <= len && size <= len - offset;
}

/* Copy value for "key=value" found in the NUL-separated modinfo strings. */
static bool modinfo_get(const char *info, size_t len, const char *key, char *out, size_t outlen)
{
	size_t keylen = strlen(key);
	size_t i = 0;

	while (i < len) {
		const char *s = info + i;
		const char *nul = memchr(s, '\0', len - i);
		size_t slen = nul ? (size_t)(nul - s) : len - i;

		if (slen > keylen && !memcmp(s, key, keylen) && s[keylen] == '=') {
			size_t vlen = slen - keylen - 1;

			if (!nul || vlen >= outlen)
				return false;
			memcpy(out, s + keylen + 1, vlen);
			out[vlen] = '\0';
			return true;
		}
		i += slen + 1;
	}
	return false;
}

int kmodule_parse(const void *image, size_t len, struct kmodule_info *info, char *why,
		  size_t whylen)
{
	const unsigned char *p = image;
	/* Copies, not casts: e_shoff comes from the file and need not be aligned. */
	Elf64_Ehdr eh;
	Elf64_Shdr sh, names;
	size_t trailer = sizeof(MODULE_SIG_TRAILER) - 1;

	memset(info, 0, sizeof(*info));
	if (len < sizeof(eh) || memcmp(p, ELFMAG, SELFMAG)) {
		snprintf(why, whylen, "not an ELF file");
		return -ENOEXEC;
	}
	memcpy(&eh, p, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_X86_64 || eh.e_type != ET_REL) {
		snprintf(why, whylen, "not an x86-64 kernel module (ELF class, machine or type)");
		return -ENOEXEC;
	}
	if (eh.e_shentsize != sizeof(Elf64_Shdr) || !eh.e_shnum ||
	    eh.e_shstrndx >= eh.e_shnum ||
	    !span_ok(len, eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr))) {
		snprintf(why, whylen, "section table out of bounds");
		return -ENOEXEC;
	}
	memcpy(&names, p + eh.e_shoff + (size_t)eh.e_shstrndx * sizeof(sh), sizeof(names));
	if (!span_ok(len, names.sh_offset, names.sh_size) || !names.sh_size) {
		snprintf(why, whylen, "section names out of bounds");
		return -ENOEXEC;
	}
	for (unsigned int i = 0; i < eh.e_shnum; i++) {
		const char *secname, *modinfo;

		memcpy(&sh, p + eh.e_shoff + (size_t)i * sizeof(sh), sizeof(sh));
		if (sh.sh_name >= names.sh_size)
			continue;
		secname = (const char *)p + names.sh_offset + sh.sh_name;
		if (!memchr(secname, '\0', names.sh_size - sh.sh_name) ||
		    strcmp(secname, ".modinfo"))
			continue;
		if (sh.sh_type == SHT_NOBITS || !span_ok(len, sh.sh_offset, sh.sh_size)) {
			snprintf(why, whylen, ".modinfo out of bounds");
			return -ENOEXEC;
		}
		modinfo = (const char *)p + sh.sh_offset;
		if (!modinfo_get(modinfo, sh.sh_size, "vermagic", info->vermagic,
				 sizeof(info->vermagic))) {
			snprintf(why, whylen, "no vermagic in .modinfo");
			return -ENOEXEC;
		}
		if (!modinfo_get(modinfo, sh.sh_size, "name", info->name, sizeof(info->name)) ||
		    !info->name[0]) {
			snprintf(why, whylen, "no module name in .modinfo");
			return -ENOEXEC;
		}
		sscanf(info->vermagic, "%255s", info->release);
		info->signed_module = len > trailer &&
			!memcmp(p + len - trailer, MODULE_SIG_TRAILER, trailer);
		return 0;
	}
	snprintf(why, whylen, "no .modinfo section");
	return -ENOEXEC;
}

/* The bracketed word of a sysfs choice file ("none [integrity] ..."). */
static void selected_word(const char *text, char *out, size_t outlen)
{
	const char *open = strchr(text, '['), *close = open ? strchr(open, ']') : NULL;

	out[0] = '\0';
	if (open && close && (size_t)(close - open - 1) < outlen) {
		memcpy(out, open + 1, (size_t)(close - open - 1));
		out[close - open - 1] = '\0';
	}
}

int kmodule_kernel_accepts(const struct kmodule_info *info, const char *proc_root,
			   const char *sys_root, char *why, size_t whylen)
{
	char path[512], lockdown[32] = "";
	char *text = NULL;
	size_t len;
	bool enforce = false;

	snprintf(path, sizeof(path), "%s/modules", proc_root);
	if (access(path, F_OK)) {
		snprintf(why, whylen, "the kernel has no module support (no %s)", path);
		return -ENOSYS;
	}
	snprintf(path, sizeof(path), "%s/sys/kernel/modules_disabled", proc_root);
	if (!read_whole_file(path, 64, &text, &len)) {
		bool disabled = text[0] == '1';

		free(text);
		text = NULL;
		if (disabled) {
			snprintf(why, whylen, "module loading is disabled (kernel.modules_disabled=1)");
			return -EPERM;
		}
	}
	snprintf(path, sizeof(path), "%s/kernel/security/lockdown", sys_root);
	if (!read_whole_file(path, 256, &text, &len)) {
		selected_word(text, lockdown, sizeof(lockdown));
		free(text);
		text = NULL;
	}
	snprintf(path, sizeof(path), "%s/module/module/parameters/sig_enforce", sys_root);
	if (!read_whole_file(path, 64, &text, &len)) {
		enforce = text[0] == 'Y' || text[0] == '1';
		free(text);
	}
	if (!info->signed_module && (enforce || (lockdown[0] && strcmp(lockdown, "none")))) {
		snprintf(why, whylen, "the module is unsigned and the kernel requires signed modules (%s)",
			 enforce ? "module.sig_enforce" : lockdown);
		return -EKEYREJECTED;
	}
	return 0;
}

int kmodule_load(int fd, const char *params, char *why, size_t whylen)
{
	if (!syscall(SYS_finit_module, fd, params ? params : "", 0))
		return 0;
	switch (errno) {
	case EKEYREJECTED:
	case EBADMSG:
		snprintf(why, whylen, "the kernel rejected the module's signature");
		break;
	case EPERM:
		snprintf(why, whylen, "not permitted (needs CAP_SYS_MODULE; lockdown or signature "
			 "enforcement refuse unsigned modules)");
		break;
	case ENOEXEC:
		snprintf(why, whylen, "the kernel cannot use this module (wrong format or kernel)");
		break;
	case EEXIST:
		snprintf(why, whylen, "a module of that name is already loaded");
		break;
	case ENOSYS:
		snprintf(why, whylen, "the kernel has no module support");
		break;
	default:
		snprintf(why, whylen, "finit_module: %s", strerror(errno));
	}
	return -errno;
}

int kmodule_unload(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

int kmodule_is_loaded(const char *proc_root, const char *name)
{
	char path[512], line[512];
	size_t n = strlen(name);
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/modules", proc_root);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, name, n) && line[n] == ' ';
	fclose(f);
	return found;
}

static const unsigned char xz_magic[] = { 0xfd, '7', 'z', 'X', 'Z', 0x00 };
static const unsigned char zstd_magic[] = { 0x28, 0xb5, 0x2f, 0xfd };

static int unxz(const void *image, size_t len, unsigned char *out, size_t *outlen, char *why,
		size_t whylen)
{
	lzma_stream xz = LZMA_STREAM_INIT;
	lzma_ret r = lzma_stream_decoder(&xz, 256u << 20, 0);

	if (r != LZMA_OK) {
		snprintf(why, whylen, "xz decoder: error %d", (int)r);
		return -ENOMEM;
	}
	xz.next_in = image;
	xz.avail_in = len;
	xz.next_out = out;
	xz.avail_out = KMODULE_MAX_BYTES;
	r = lzma_code(&xz, LZMA_FINISH);
	*outlen = KMODULE_MAX_BYTES - xz.avail_out;
	lzma_end(&xz);
	if (r == LZMA_STREAM_END)
		return 0;
	if (r == LZMA_OK || r == LZMA_BUF_ERROR) {
		snprintf(why, whylen, xz.avail_out ? "xz data truncated" :
			 "larger than %u MiB uncompressed", KMODULE_MAX_BYTES >> 20);
		return xz.avail_out ? -EBADMSG : -EFBIG;
	}
	snprintf(why, whylen, "corrupt xz data (error %d)", (int)r);
	return -EBADMSG;
}

static int unzstd(const void *image, size_t len, unsigned char *out, size_t *outlen, char *why,
		  size_t whylen)
{
	ZSTD_DStream *z = ZSTD_createDStream();
	ZSTD_inBuffer in = { image, len, 0 };
	ZSTD_outBuffer o = { out, KMODULE_MAX_BYTES, 0 };
	size_t r = 1;

	if (!z) {
		snprintf(why, whylen, "zstd decoder: out of memory");
		return -ENOMEM;
	}
	while (in.pos < in.size && o.pos < o.size) {
		r = ZSTD_decompressStream(z, &o, &in);
		if (ZSTD_isError(r))
			break;
	}
	ZSTD_freeDStream(z);
	*outlen = o.pos;
	if (ZSTD_isError(r)) {
		snprintf(why, whylen, "corrupt zstd data: %s", ZSTD_getErrorName(r));
		return -EBADMSG;
	}
	if (r) {
		snprintf(why, whylen, o.pos == o.size ? "larger than %u MiB uncompressed" :
			 "zstd data truncated", KMODULE_MAX_BYTES >> 20);
		return o.pos == o.size ? -EFBIG : -EBADMSG;
	}
	return 0;
}

int kmodule_decompress(const void *image, size_t len, void **out, size_t *outlen, char *why,
		       size_t whylen)
{
	bool xz = len >= sizeof(xz_magic) && !memcmp(image, xz_magic, sizeof(xz_magic));
	bool zst = len >= sizeof(zstd_magic) && !memcmp(image, zstd_magic, sizeof(zstd_magic));
	unsigned char *buf;
	int ret;

	*out = NULL;
	*outlen = 0;
	if (!xz && !zst)
		return 0;
	buf = malloc(KMODULE_MAX_BYTES);
	if (!buf) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	ret = xz ? unxz(image, len, buf, outlen, why, whylen) :
		   unzstd(image, len, buf, outlen, why, whylen);
	if (ret) {
		free(buf);
		return ret;
	}
	*out = realloc(buf, *outlen ? *outlen : 1);
	if (!*out)
		*out = buf;
	return 0;
}
