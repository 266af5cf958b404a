// SPDX-License-Identifier: GPL-2.0-only
#include "bundle.h"
#include "acquire.h"
#include "s3opts.h"
#include "base/log.h"
#include "base/tar.h"
#include "base/util.h"
#include "base/encode.h"
#include "capture/manifest.h"

#include <errno.h>
#include <linux/capability.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#define BUNDLE_FILE_MAX (128u << 20)

struct bundle_item {
	const char *path;        /* absolute; the archive name drops the '/' */
	bool per_release;        /* path is a prefix completed by `uname -r` */
};

static const struct bundle_item items[] = {
	{ "/proc/kallsyms", false },
	{ "/sys/kernel/btf/vmlinux", false },
	{ "/proc/modules", false },
	{ "/proc/version", false },
	{ "/proc/cmdline", false },
	{ "/etc/os-release", false },
	{ "/boot/System.map-", true },
	{ "/boot/config-", true },
};

static int read_int(const char *path, int *value)
{
	char *text, *end;
	size_t n;
	long v;
	int ret = read_whole_file(path, 64, &text, &n);

	if (ret)
		return ret;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || v < 0 || v > 1000)
		ret = -EINVAL;
	free(text);
	if (!ret)
		*value = (int)v;
	return ret;
}

static int write_int(const char *path, int value)
{
	FILE *f = fopen(path, "we");
	int ret = 0;

	if (!f)
		return -errno;
	if (fprintf(f, "%d\n", value) < 0)
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

/* CAP_SYSLOG in the effective set, from /proc/self/status (no libcap). */
static bool has_cap_syslog(void)
{
	unsigned long long caps = 0;
	char *text, *line;
	size_t n;

	if (read_whole_file("/proc/self/status", 1u << 16, &text, &n))
		return false;
	line = strstr(text, "\nCapEff:");
	if (line)
		caps = strtoull(line + strlen("\nCapEff:"), NULL, 16);
	free(text);
	return caps & (1ull << CAP_SYSLOG);
}

/*
 * kallsyms hides its addresses from root only at kptr_restrict 2: lower it
 * for the one read (to the least that shows them) and put back what was
 * there, so the host's hardening is left as found. *step says what was done.
 */
static int read_kallsyms(const char *path, char **data, size_t *len,
			 struct kptr_restrict_step *step)
{
	int ret;

	*step = (struct kptr_restrict_step){ .found = -1, .lowered_to = -1 };
	if (read_int(KPTR_RESTRICT_PATH, &step->found))
		step->found = -1;
	step->lowered_to = kptr_restrict_lower_to(step->found, has_cap_syslog());
	if (step->lowered_to >= 0) {
		step->lower_error = write_int(KPTR_RESTRICT_PATH, step->lowered_to);
		if (step->lower_error) {
			log_warn("bundle", "kptr_restrict=%d could not be lowered (%s): kallsyms addresses may be zero",
				 step->found, strerror(-step->lower_error));
			step->lowered_to = -1;
		}
	}
	ret = read_whole_file(path, BUNDLE_FILE_MAX, data, len);
	if (step->lowered_to >= 0) {
		step->restored = !write_int(KPTR_RESTRICT_PATH, step->found);
		if (!step->restored)
			log_warn("bundle", "kptr_restrict lowered from %d to %d and NOT restored",
				 step->found, step->lowered_to);
	}
	return ret;
}

int bundle_write(struct sink *out, json_object **files)
{
	json_object *list = json_object_new_array();
	struct utsname u;
	int ret = 0;

	if (uname(&u))
		u.release[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(items) && !ret; i++) {
		json_object *entry = json_object_new_object();
		unsigned char digest[SHA256_DIGEST_LENGTH];
		char hex[SHA256_HEX_BYTES], path[256];
		struct kptr_restrict_step kptr;
		bool kallsyms = !strcmp(items[i].path, "/proc/kallsyms");
		char *data = NULL;
		size_t len = 0;
		int err;

		snprintf(path, sizeof(path), "%s%s", items[i].path,
			 items[i].per_release ? u.release : "");
		json_object_object_add(entry, "name", json_object_new_string(path + 1));
		if (kallsyms) {
			err = read_kallsyms(path, &data, &len, &kptr);
			json_object_object_add(entry, "kptr_restrict", manifest_kptr_restrict(&kptr));
		} else {
			err = read_whole_file(path, BUNDLE_FILE_MAX, &data, &len);
		}
		if (err) {
			json_object_object_add(entry, "missing", json_object_new_string(strerror(-err)));
			json_object_array_add(list, entry);
			continue;
		}
		SHA256((const unsigned char *)data, len, digest);
		hex_encode(digest, sizeof(digest), hex);
		ret = tar_add_file(out, path + 1, data, len, time(NULL));
		free(data);
		json_object_object_add(entry, "bytes", json_object_new_int64((int64_t)len));
		json_object_object_add(entry, "sha256", json_object_new_string(hex));
		json_object_array_add(list, entry);
	}
	if (!ret)
		ret = tar_finish(out);
	if (ret) {
		json_object_put(list);
		return ret;
	}
	*files = list;
	return 0;
}

/* Bundle: tar -> zstd -> tee(sha256, file). Records itself in the manifest. */
int bundle_store(struct destination *d, const char *path, json_object *manifest)
{
	struct sink *file, *hash, *tee, *zstd, *outs[2];
	json_object *files = NULL, *bundle;
	int ret = 0;

	ret = destination_open(d, path, 0, NULL, &file);
	if (ret)
		return ret;
	hash = sink_sha256_new();
	if (!hash) {
		sink_destroy(file);
		return -ENOMEM;
	}
	outs[0] = hash;
	outs[1] = file;
	tee = sink_tee_new(outs, 2);
	if (!tee) {
		sink_destroy(hash);
		sink_destroy(file);
		return -ENOMEM;
	}
	zstd = sink_zstd_new(tee, ACQUIRE_DEFAULT_LEVEL, 0, &ret);
	if (!zstd)
		return ret;
	ret = bundle_write(zstd, &files);
	if (!ret)
		ret = sink_finish(zstd);
	/* Its last request landed although the answer said otherwise: it is whole. */
	if (ret && destination_settle(d, file) == S3_UPLOAD_COMPLETE)
		ret = 0;
	if (!ret) {
		bundle = json_object_new_object();
		json_object_object_add(bundle, "path", json_object_new_string(path));
		json_object_object_add(bundle, "format", json_object_new_string("tar+zstd"));
		json_object_object_add(bundle, "bytes", json_object_new_int64((int64_t)file->bytes));
		json_object_object_add(bundle, "sha256", json_object_new_string(sink_sha256_hex(hash)));
		json_object_object_add(bundle, "files", files);
		if (d->s3) {
			json_object *where = destination_location(d, file);
			bool tagged = s3opts_tag_digests(&d->client, d->bucket, s3_upload_sink_result(file),
							  sink_sha256_hex(hash), NULL);

			json_object_object_add(where, "tagged", json_object_new_boolean(tagged));
			json_object_object_add(bundle, "s3", where);
		}
		json_object_object_add(manifest, "bundle", bundle);
	} else {
		/* Its file list went nowhere: the manifest says bundle null. */
		json_object_put(files);
		if (d->s3)
			log_warn("bundle", "bundle upload: %s; %s", destination_error(d, file, ret),
				 destination_outcome(d, file));
	}
	sink_destroy(zstd);
	return ret;
}
