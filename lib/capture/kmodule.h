/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel modules as the agent handles them: read what a .ko says about
 * itself (.modinfo: name, vermagic) without trusting it, ask the running
 * kernel whether it will take a module at all, and load and unload one with
 * finit_module()/delete_module() directly (a static agent on a bare host
 * has no insmod to lean on).
 */
#ifndef FORENSICS_CAPTURE_KMODULE_H
#define FORENSICS_CAPTURE_KMODULE_H

#include <stdbool.h>
#include <stddef.h>

#define KMODULE_MAX_BYTES (64u << 20)
#define KMODULE_FIELD_MAX 256

struct kmodule_info {
	char name[KMODULE_FIELD_MAX];
	char vermagic[KMODULE_FIELD_MAX];
	/* The release vermagic names (its first word). */
	char release[KMODULE_FIELD_MAX];
	bool signed_module;   /* ends with the "~Module signature appended~" trailer */
};

/*
 * Parse an ELF64 module image. 0, or -ENOEXEC with a reason in why for
 * anything that is not a well-formed x86-64 relocatable with a .modinfo
 * section naming the module and its vermagic.
 */
int kmodule_parse(const void *image, size_t len, struct kmodule_info *info, char *why,
		  size_t whylen);

/*
 * Modules installed compressed (.ko.xz on Debian's 6.12, .ko.zst on newer
 * Ubuntu): the plain image into *out (malloc'd, at most KMODULE_MAX_BYTES).
 * 0 with *out NULL when image is not compressed; -EBADMSG/-EFBIG with why.
 */
int kmodule_decompress(const void *image, size_t len, void **out, size_t *outlen, char *why,
		       size_t whylen);

/*
 * Whether the running kernel can take an out-of-tree module: 0, or a
 * negative errno with the reason (no module support, loading disabled by
 * modules_disabled, lockdown or enforced signatures and the module unsigned).
 * proc_root and sys_root are "/proc" and "/sys" except in tests.
 */
int kmodule_kernel_accepts(const struct kmodule_info *info, const char *proc_root,
			   const char *sys_root, char *why, size_t whylen);

/*
 * finit_module(fd, params). 0, or a negative errno with the kernel's
 * refusal explained (signature, lockdown, wrong kernel, already loaded).
 */
int kmodule_load(int fd, const char *params, char *why, size_t whylen);
/* delete_module(name), without waiting; 0 or a negative errno. */
int kmodule_unload(const char *name);
/* 1 if a module of that name is loaded (/proc/modules), 0 if not. */
int kmodule_is_loaded(const char *proc_root, const char *name);

#endif
