// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loader of physread.bpf.c: the skeleton embedded in the agent, one
 * BPF_PROG_TEST_RUN per read (a raw_tracepoint program runs there without
 * being attached anywhere, since 5.10), results read through mmap'ed maps.
 * The only file of the agent that uses libbpf.
 */
#include "physread.h"
#include "physread.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>

#ifndef ENOTSUPP
#define ENOTSUPP 524  /* the kernel's, leaks out of bpf() */
#endif

struct physread {
	struct physread_bpf *skel;
	int prog_fd;
	unsigned int max_pages;
	unsigned char *pages;  /* the pages map, mmap'ed */
	size_t pages_len;
};

/*
 * libbpf's last warning, for the reason line, and whether the verifier
 * named a helper it does not offer; libbpf never prints itself.
 */
static char libbpf_last[256];
static bool helper_missing;

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* Big enough for the verifier log of a program this small. */
	static char text[8192];
	size_t n;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(text, sizeof(text), fmt, ap);
	if (strstr(text, "unknown func"))
		helper_missing = true;
	n = strcspn(text, "\n");
	text[n] = '\0';
	while (n && text[n - 1] == ' ')
		text[--n] = '\0';
	if (n)
		snprintf(libbpf_last, sizeof(libbpf_last), "%.*s", (int)sizeof(libbpf_last) - 1, text);
	return 0;
}

static void kernel_release(char *out, size_t len)
{
	struct utsname u;

	snprintf(out, len, "%s", uname(&u) ? "unknown" : u.release);
}

static int run(struct physread *pr, __u64 op, __u64 addr, __u64 pages, int *retval)
{
	__u64 args[PHYSREAD_ARG_COUNT] = { op, addr, pages };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args));
	int ret;

	ret = bpf_prog_test_run_opts(pr->prog_fd, &opts);
	if (ret < 0)
		return -errno;
	*retval = (int)opts.retval;
	return 0;
}

int physread_open(unsigned int max_pages, struct physread **out, char *why, size_t whylen)
{
	struct physread *pr = calloc(1, sizeof(*pr));
	char release[65];
	int ret, retval;

	*out = NULL;
	if (!pr)
		return -ENOMEM;
	if (!max_pages || max_pages > PHYSREAD_MAX_PAGES)
		max_pages = PHYSREAD_MAX_PAGES;
	pr->max_pages = max_pages;
	kernel_release(release, sizeof(release));
	libbpf_set_print(libbpf_log);
	libbpf_last[0] = '\0';
	helper_missing = false;
	pr->skel = physread_bpf__open();
	if (!pr->skel) {
		ret = errno ? -errno : -ENOMEM;
		snprintf(why, whylen, "cannot open the embedded BPF object: %s", strerror(-ret));
		goto fail;
	}
	ret = bpf_map__set_max_entries(pr->skel->maps.pages, max_pages);
	if (!ret)
		ret = physread_bpf__load(pr->skel);
	if (ret) {
		ret = ret < 0 ? ret : -EINVAL;
		if (ret == -EPERM || ret == -EACCES)
			snprintf(why, whylen, "loading a BPF program was refused (%s): needs CAP_BPF "
				 "and CAP_PERFMON, or CAP_SYS_ADMIN; lockdown may forbid it",
				 strerror(-ret));
		else if (ret == -ENOSYS)
			snprintf(why, whylen, "kernel %s has no bpf() system call (CONFIG_BPF_SYSCALL)",
				 release);
		else if (helper_missing)
			snprintf(why, whylen, "kernel %s does not let the BPF reader call "
				 "bpf_probe_read_kernel: older than 5.5, or lockdown in confidentiality "
				 "mode", release);
		else
			snprintf(why, whylen, "kernel %s refused the BPF reader (%s)%s%s: it needs 5.10 "
				 "or later (bpf_probe_read_kernel, mmapable arrays, bounded loops)",
				 release, strerror(-ret), libbpf_last[0] ? ": " : "", libbpf_last);
		goto fail;
	}
	pr->prog_fd = bpf_program__fd(pr->skel->progs.physread);
	if (!pr->skel->bss) {
		ret = -ENOTSUP;
		snprintf(why, whylen, "kernel %s cannot mmap BPF global data (needs 5.5 or later)",
			 release);
		goto fail;
	}
	pr->pages_len = (size_t)max_pages * PHYSREAD_PAGE_SIZE;
	pr->pages = mmap(NULL, pr->pages_len, PROT_READ, MAP_SHARED,
			 bpf_map__fd(pr->skel->maps.pages), 0);
	if (pr->pages == MAP_FAILED) {
		pr->pages = NULL;
		ret = -errno;
		snprintf(why, whylen, "cannot mmap the BPF page buffer: %s", strerror(-ret));
		goto fail;
	}
	/* The trigger itself: test runs of raw_tracepoint programs came in 5.10. */
	ret = run(pr, PHYSREAD_OP_TASK, 0, 0, &retval);
	if (ret) {
		if (ret == -ENOTSUPP || ret == -EINVAL || ret == -EOPNOTSUPP)
			snprintf(why, whylen, "kernel %s cannot test-run raw_tracepoint BPF programs "
				 "(needs 5.10 or later with CONFIG_NET)", release);
		else
			snprintf(why, whylen, "BPF_PROG_TEST_RUN failed: %s", strerror(-ret));
		goto fail;
	}
	*out = pr;
	return 0;
fail:
	physread_close(pr);
	return ret;
}

unsigned int physread_max_pages(const struct physread *pr)
{
	return pr->max_pages;
}

int physread_pages(struct physread *pr, uint64_t addr, unsigned int pages)
{
	int ret, retval;

	if (!pages || pages > pr->max_pages || addr % PHYSREAD_PAGE_SIZE)
		return -EINVAL;
	ret = run(pr, PHYSREAD_OP_PAGES, addr, pages, &retval);
	return ret ? ret : retval;
}

int physread_page_err(const struct physread *pr, unsigned int i)
{
	return i < pr->max_pages ? pr->skel->bss->page_err[i] : -EINVAL;
}

const void *physread_page(const struct physread *pr, unsigned int i)
{
	return pr->pages + (size_t)i * PHYSREAD_PAGE_SIZE;
}

int physread_kallsyms_base(struct physread *pr, uint64_t *base)
{
	int ret, retval;

	ret = run(pr, PHYSREAD_OP_BASE, 0, 0, &retval);
	if (ret)
		return ret;
	if (retval)
		return retval;
	*base = pr->skel->bss->value;
	return 0;
}

int physread_task_pointer(struct physread *pr, uint64_t *ptr)
{
	int ret, retval;

	ret = run(pr, PHYSREAD_OP_TASK, 0, 0, &retval);
	if (ret)
		return ret;
	*ptr = pr->skel->bss->value;
	return retval;
}

void physread_close(struct physread *pr)
{
	if (!pr)
		return;
	if (pr->pages)
		munmap(pr->pages, pr->pages_len);
	physread_bpf__destroy(pr->skel);
	free(pr);
}
