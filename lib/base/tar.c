// SPDX-License-Identifier: GPL-2.0-only
#include "base/tar.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct ustar_header {
	char name[100];
	char mode[8];
	char uid[8];
	char gid[8];
	char size[12];
	char mtime[12];
	char checksum[8];
	char typeflag;
	char linkname[100];
	char magic[6];
	char version[2];
	char uname[32];
	char gname[32];
	char devmajor[8];
	char devminor[8];
	char prefix[155];
	char pad[12];
};

_Static_assert(sizeof(struct ustar_header) == TAR_BLOCK, "ustar header is one block");

static void octal(char *field, size_t width, unsigned long long value)
{
	/* width-1 digits, zero-padded, NUL-terminated, as POSIX asks. */
	field[width - 1] = '\0';
	for (size_t i = width - 1; i-- > 0; value >>= 3)
		field[i] = (char)('0' + (value & 7));
}

int tar_add_file(struct sink *out, const char *name, const void *data, size_t len,
		 time_t mtime)
{
	static const unsigned char zeros[TAR_BLOCK];
	struct ustar_header h;
	unsigned int sum = 0;
	size_t pad;
	int ret;

	if (strlen(name) > TAR_NAME_MAX)
		return -ENAMETOOLONG;
	/* ustar's 11 octal digits hold sizes below 8 GiB; bundle files are far smaller. */
	if ((unsigned long long)len >= 1ull << 33)
		return -EFBIG;
	memset(&h, 0, sizeof(h));
	memcpy(h.name, name, strlen(name));
	octal(h.mode, sizeof(h.mode), 0444);
	octal(h.uid, sizeof(h.uid), 0);
	octal(h.gid, sizeof(h.gid), 0);
	octal(h.size, sizeof(h.size), len);
	octal(h.mtime, sizeof(h.mtime), mtime > 0 ? (unsigned long long)mtime : 0);
	h.typeflag = '0';
	memcpy(h.magic, "ustar", 6);
	memcpy(h.version, "00", 2);
	memcpy(h.uname, "root", 4);
	memcpy(h.gname, "root", 4);
	/* The checksum is computed with its own field read as spaces. */
	memset(h.checksum, ' ', sizeof(h.checksum));
	for (size_t i = 0; i < sizeof(h); i++)
		sum += ((unsigned char *)&h)[i];
	snprintf(h.checksum, sizeof(h.checksum), "%06o", sum);
	h.checksum[7] = ' ';
	ret = sink_write(out, &h, sizeof(h));
	if (!ret)
		ret = sink_write(out, data, len);
	pad = (TAR_BLOCK - len % TAR_BLOCK) % TAR_BLOCK;
	if (!ret)
		ret = sink_write(out, zeros, pad);
	return ret;
}

int tar_finish(struct sink *out)
{
	static const unsigned char zeros[2 * TAR_BLOCK];

	return sink_write(out, zeros, sizeof(zeros));
}
