// SPDX-License-Identifier: GPL-2.0-only
#include "capture/image_reader.h"
#include "base/jsonutil.h"
#include "base/util.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

/* Large reads: the image is read once, sequentially, often from slow disks. */
#define IMAGE_READ_CHUNK (1u << 20)
/* Hash worker queues: enough to keep SHA-256 beside the decompressor. */
#define HASH_QUEUE_BUFFER (1u << 20)
#define HASH_QUEUE_DEPTH 4
#define SHA256_HEX_DIGITS (SHA256_HEX_BYTES - 1)

static void set_error(struct image_reader *r, enum image_reader_failure failure,
		      const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_error(struct image_reader *r, enum image_reader_failure failure,
		      const char *fmt, ...)
{
	va_list ap;

	r->failure = failure;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
}

bool image_is_zstd(const unsigned char *buf, size_t len)
{
	uint32_t magic;

	if (len < IMAGE_ZSTD_MAGIC_SIZE)
		return false;
	memcpy(&magic, buf, sizeof(magic));
	magic = le32toh(magic);
	/* 28 B5 2F FD, or a skippable frame, which may lead a zstd stream. */
	return magic == ZSTD_MAGICNUMBER ||
	       (magic & ZSTD_MAGIC_SKIPPABLE_MASK) == ZSTD_MAGIC_SKIPPABLE_START;
}

int image_reader_open(struct image_reader *r, const char *path)
{
	struct stat st;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->path = path;
	r->is_stdin = !strcmp(path, "-");
	if (r->is_stdin) {
		r->fd = STDIN_FILENO;
	} else {
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0) {
			int err = -errno;

			set_error(r, IMAGE_READER_INPUT, "cannot open: %s", strerror(-err));
			return err;
		}
	}
	if (fstat(r->fd, &st)) {
		int err = -errno;

		set_error(r, IMAGE_READER_INPUT, "cannot stat: %s", strerror(-err));
		return err;
	}
	if (S_ISDIR(st.st_mode)) {
		set_error(r, IMAGE_READER_INPUT, "is a directory");
		return -EISDIR;
	}
	if (S_ISREG(st.st_mode)) {
		r->size_known = true;
		r->file_size = (uint64_t)st.st_size;
	}
	r->in_size = IMAGE_READ_CHUNK;
	r->in = malloc(r->in_size);
	if (!r->in) {
		set_error(r, IMAGE_READER_INTERNAL, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

void image_reader_close(struct image_reader *r)
{
	sink_destroy(r->file_hash);
	sink_destroy(r->data_hash);
	r->file_hash = r->file_hash_inner = NULL;
	r->data_hash = r->data_hash_inner = NULL;
	ZSTD_freeDCtx(r->dctx);
	r->dctx = NULL;
	free(r->in);
	free(r->out);
	r->in = r->out = NULL;
	if (r->fd >= 0 && !r->is_stdin)
		close(r->fd);
	r->fd = -1;
}

/* A SHA-256 sink running in its own thread; *inner is where the digest is read. */
static struct sink *hash_new(struct sink **inner, int *err)
{
	struct sink *sha = sink_sha256_new();

	*inner = NULL;
	if (!sha) {
		*err = -ENOMEM;
		return NULL;
	}
	*inner = sha;
	return sink_async_new(sha, HASH_QUEUE_BUFFER, HASH_QUEUE_DEPTH, err);
}

static ssize_t read_some(struct image_reader *r, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = read(r->fd, buf, len);

		if (n >= 0)
			return n;
		if (errno != EINTR) {
			int err = -errno;

			set_error(r, IMAGE_READER_INPUT, "read failed after %" PRIu64 " bytes: %s",
				  r->file_bytes, strerror(-err));
			return err;
		}
	}
}

static int deliver(struct image_reader *r, image_reader_fn fn, void *ctx, const void *buf,
		   size_t len)
{
	int ret;

	if (r->data_hash) {
		ret = sink_write(r->data_hash, buf, len);
		if (ret) {
			set_error(r, IMAGE_READER_INTERNAL, "hashing failed: %s", strerror(-ret));
			return ret;
		}
	}
	r->data_bytes += len;
	ret = fn ? fn(ctx, buf, len) : 0;
	if (ret)
		r->failure = IMAGE_READER_CALLBACK;
	return ret;
}

static int decompress(struct image_reader *r, image_reader_fn fn, void *ctx, const void *buf,
		      size_t len)
{
	ZSTD_inBuffer in = { buf, len, 0 };

	/*
	 * zstd does not consume a frame's last byte before it has flushed all
	 * of that frame's output, so stopping when the input is used up loses
	 * nothing; a partly flushed frame leaves zstd_hint nonzero.
	 */
	while (in.pos < in.size) {
		ZSTD_outBuffer out = { r->out, r->out_size, 0 };
		size_t hint = ZSTD_decompressStream(r->dctx, &out, &in);
		int ret;

		if (ZSTD_isError(hint)) {
			set_error(r, IMAGE_READER_ZSTD,
				  "malformed zstd stream near compressed byte %" PRIu64 ": %s",
				  r->file_bytes - len + in.pos, ZSTD_getErrorName(hint));
			return -EBADMSG;
		}
		r->zstd_hint = hint;
		if (out.pos) {
			ret = deliver(r, fn, ctx, r->out, out.pos);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int consume(struct image_reader *r, image_reader_fn fn, void *ctx, const void *buf,
		   size_t len)
{
	int ret = sink_write(r->file_hash, buf, len);

	if (ret) {
		set_error(r, IMAGE_READER_INTERNAL, "hashing failed: %s", strerror(-ret));
		return ret;
	}
	r->file_bytes += len;
	if (r->progress)
		r->progress(r->progress_ctx, r->file_bytes, r->size_known ? r->file_size : 0);
	return r->compressed ? decompress(r, fn, ctx, buf, len) : deliver(r, fn, ctx, buf, len);
}

static int start(struct image_reader *r)
{
	int ret = 0;

	r->file_hash = hash_new(&r->file_hash_inner, &ret);
	if (!r->file_hash)
		goto fail;
	if (!r->compressed)
		return 0;
	/* Plain input: the stream is the file, one hash serves both. */
	r->data_hash = hash_new(&r->data_hash_inner, &ret);
	if (!r->data_hash)
		goto fail;
	r->dctx = ZSTD_createDCtx();
	r->out_size = ZSTD_DStreamOutSize();
	r->out = malloc(r->out_size);
	if (!r->dctx || !r->out) {
		ret = -ENOMEM;
		goto fail;
	}
	return 0;
fail:
	set_error(r, IMAGE_READER_INTERNAL, "cannot set up hashing or zstd: %s", strerror(-ret));
	return ret;
}

static int finish_hash(struct image_reader *r, struct sink *hash, struct sink *inner,
		       char out[SHA256_HEX_BYTES])
{
	int ret = sink_finish(hash);

	if (ret) {
		set_error(r, IMAGE_READER_INTERNAL, "hashing failed: %s", strerror(-ret));
		return ret;
	}
	memcpy(out, sink_sha256_hex(inner), SHA256_HEX_BYTES);
	return 0;
}

int image_reader_run(struct image_reader *r, image_reader_fn fn, void *ctx)
{
	size_t fill = 0;
	ssize_t n;
	int ret;

	if (r->file_hash) {
		set_error(r, IMAGE_READER_INTERNAL, "image reader run twice");
		return -EINVAL;
	}
	/* A pipe may deliver less than the magic in one read: gather it first. */
	while (fill < IMAGE_ZSTD_MAGIC_SIZE) {
		n = read_some(r, r->in + fill, r->in_size - fill);
		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		fill += (size_t)n;
	}
	r->compressed = image_is_zstd(r->in, fill);
	ret = start(r);
	if (ret)
		return ret;
	while (fill) {
		ret = consume(r, fn, ctx, r->in, fill);
		if (ret)
			return ret;
		n = read_some(r, r->in, r->in_size);
		if (n < 0)
			return (int)n;
		fill = (size_t)n;
	}
	if (r->compressed && r->zstd_hint) {
		set_error(r, IMAGE_READER_ZSTD,
			  "truncated zstd stream: input ends inside a frame after %" PRIu64
			  " compressed bytes", r->file_bytes);
		return -EBADMSG;
	}
	ret = finish_hash(r, r->file_hash, r->file_hash_inner, r->file_sha256);
	if (ret)
		return ret;
	if (r->compressed)
		return finish_hash(r, r->data_hash, r->data_hash_inner, r->data_sha256);
	memcpy(r->data_sha256, r->file_sha256, sizeof(r->data_sha256));
	return 0;
}

/* ---- manifest ---- */

struct manifest_parse {
	char *err;
	size_t errlen;
};

static int bad(struct manifest_parse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int bad(struct manifest_parse *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

static bool is_null(json_object *value)
{
	return !value || json_object_is_type(value, json_type_null);
}

static int get_u64(struct manifest_parse *p, json_object *obj, const char *where,
		   const char *key, uint64_t *out)
{
	json_object *value = json_path(obj, key);

	if (!value || !json_object_is_type(value, json_type_int))
		return bad(p, "%s.%s is not an integer", where, key);
	/* json-c keeps integers above INT64_MAX unsigned; only negatives read < 0. */
	if (json_object_get_int64(value) < 0)
		return bad(p, "%s.%s is negative", where, key);
	*out = json_object_get_uint64(value);
	return 0;
}

/* Addresses are "0x..." strings: JSON numbers lose precision above 2^53. */
static int get_address(struct manifest_parse *p, json_object *obj, const char *where,
		       const char *key, uint64_t *out)
{
	json_object *value = json_path(obj, key);
	const char *s, *digits;
	char *end;

	if (!value || !json_object_is_type(value, json_type_string))
		return bad(p, "%s.%s is not a \"0x...\" string", where, key);
	s = json_object_get_string(value);
	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return bad(p, "%s.%s \"%s\" lacks the 0x prefix", where, key, s);
	digits = s + 2;
	/* strtoull would accept signs and spaces and wrap on overflow. */
	if (!*digits || strlen(digits) > 16 || strspn(digits, "0123456789abcdefABCDEF") !=
						  strlen(digits))
		return bad(p, "%s.%s \"%s\" is not a 64-bit hex address", where, key, s);
	*out = strtoull(digits, &end, 16);
	return 0;
}

static int get_sha256(struct manifest_parse *p, json_object *obj, const char *key,
		      char out[SHA256_HEX_BYTES])
{
	json_object *value = json_path(obj, key);
	const char *s;

	if (!value || !json_object_is_type(value, json_type_string))
		return bad(p, "image.%s is not a string", key);
	s = json_object_get_string(value);
	if (strlen(s) != SHA256_HEX_DIGITS ||
	    strspn(s, "0123456789abcdefABCDEF") != SHA256_HEX_DIGITS)
		return bad(p, "image.%s is not 64 hex digits", key);
	for (size_t i = 0; i <= SHA256_HEX_DIGITS; i++)
		out[i] = (char)((s[i] >= 'A' && s[i] <= 'F') ? s[i] - 'A' + 'a' : s[i]);
	return 0;
}

static int parse_range(struct manifest_parse *p, json_object *item, const char *where,
		       struct mem_range *range, uint64_t *bytes)
{
	int ret;

	if (!json_object_is_type(item, json_type_object))
		return bad(p, "%s is not an object", where);
	ret = get_address(p, item, where, "start", &range->start);
	if (!ret)
		ret = get_address(p, item, where, "end", &range->end);
	if (!ret)
		ret = get_u64(p, item, where, "bytes", bytes);
	if (ret)
		return ret;
	if (range->end < range->start)
		return bad(p, "%s ends before it starts", where);
	return 0;
}

static int parse_ranges(struct manifest_parse *p, json_object *image, struct image_manifest *m)
{
	json_object *list = json_path(image, "ranges");
	char where[48];
	size_t count;
	int ret;

	if (!list || !json_object_is_type(list, json_type_array))
		return bad(p, "image.ranges is not an array");
	count = json_object_array_length(list);
	for (size_t i = 0; i < count; i++) {
		struct mem_range range;
		uint64_t bytes;

		snprintf(where, sizeof(where), "image.ranges[%zu]", i);
		ret = parse_range(p, json_object_array_get_idx(list, i), where, &range, &bytes);
		if (ret)
			return ret;
		if (bytes != mem_range_size(&range))
			return bad(p, "%s.bytes is %" PRIu64 " but the range holds %" PRIu64,
				   where, bytes, mem_range_size(&range));
		if (i && range.start <= m->ranges.items[i - 1].end)
			return bad(p, "%s overlaps or precedes the range before it", where);
		ret = range_list_add(&m->ranges, range.start, range.end);
		if (ret)
			return bad(p, "out of memory");
	}
	return 0;
}

static int parse_unreadable(struct manifest_parse *p, json_object *root, struct image_manifest *m)
{
	json_object *list = json_path(root, "unreadable");
	char where[48];
	size_t count;

	/* Only reported, not checked against the image: absent means none. */
	if (is_null(list))
		return 0;
	if (!json_object_is_type(list, json_type_array))
		return bad(p, "unreadable is not an array");
	count = json_object_array_length(list);
	for (size_t i = 0; i < count; i++) {
		struct mem_range range;
		uint64_t bytes;
		int ret;

		snprintf(where, sizeof(where), "unreadable[%zu]", i);
		ret = parse_range(p, json_object_array_get_idx(list, i), where, &range, &bytes);
		if (ret)
			return ret;
		m->unreadable_bytes += bytes;
	}
	m->unreadable_count = count;
	return 0;
}

static int parse_image(struct manifest_parse *p, json_object *image, struct image_manifest *m)
{
	json_object *value;
	const char *s;
	int ret;

	if (!image || !json_object_is_type(image, json_type_object))
		return bad(p, "image is missing or not an object");
	value = json_path(image, "path");
	if (!is_null(value)) {
		if (!json_object_is_type(value, json_type_string))
			return bad(p, "image.path is not a string");
		m->image_path = strdup(json_object_get_string(value));
		if (!m->image_path)
			return bad(p, "out of memory");
	}
	value = json_path(image, "format");
	if (!value || !json_object_is_type(value, json_type_string) ||
	    strcmp(json_object_get_string(value), "lime"))
		return bad(p, "image.format is not \"lime\"");
	value = json_path(image, "compression");
	s = value && json_object_is_type(value, json_type_string) ? json_object_get_string(value) : "";
	if (!strcmp(s, "zstd"))
		m->compressed = true;
	else if (strcmp(s, "none"))
		return bad(p, "image.compression is not \"zstd\" or \"none\"");
	ret = parse_ranges(p, image, m);
	if (!ret)
		ret = get_u64(p, image, "image", "uncompressed_bytes", &m->uncompressed_bytes);
	if (!ret)
		ret = get_sha256(p, image, "sha256_uncompressed", m->sha256_uncompressed);
	if (ret)
		return ret;
	if (!is_null(json_path(image, "compressed_bytes"))) {
		ret = get_u64(p, image, "image", "compressed_bytes", &m->compressed_bytes);
		if (ret)
			return ret;
		m->has_compressed_bytes = true;
	}
	if (!is_null(json_path(image, "sha256_compressed"))) {
		ret = get_sha256(p, image, "sha256_compressed", m->sha256_compressed);
		if (ret)
			return ret;
		m->has_sha256_compressed = true;
	}
	/* A compressed image's manifest that cannot vouch for the file is not one acquire wrote. */
	if (m->compressed && (!m->has_compressed_bytes || !m->has_sha256_compressed))
		return bad(p, "image.compression is zstd but compressed_bytes or sha256_compressed is null");
	if (!m->compressed && (m->has_compressed_bytes || m->has_sha256_compressed))
		return bad(p, "image.compression is none but compressed_bytes or sha256_compressed is set");
	return 0;
}

/* Whole text must be one JSON value: json-c alone ignores what follows it. */
static json_object *parse_json(struct manifest_parse *p, const char *text, size_t len)
{
	json_tokener *tok = json_tokener_new();
	enum json_tokener_error jerr;
	json_object *root;
	size_t end, rest;

	if (!tok) {
		bad(p, "out of memory");
		return NULL;
	}
	root = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!root) {
		bad(p, "not JSON: %s", jerr == json_tokener_continue ? "unexpected end of text" :
			json_tokener_error_desc(jerr));
		return NULL;
	}
	rest = end;
	while (rest < len && (text[rest] == ' ' || text[rest] == '\t' || text[rest] == '\r' ||
			      text[rest] == '\n'))
		rest++;
	if (rest != len) {
		json_object_put(root);
		bad(p, "not JSON: unexpected data after byte %zu", end);
		return NULL;
	}
	return root;
}

int image_manifest_parse(const char *text, size_t len, struct image_manifest *m, char *err,
			 size_t errlen)
{
	struct manifest_parse p = { err, errlen };
	json_object *root = NULL, *schema;
	int ret;

	memset(m, 0, sizeof(*m));
	range_list_init(&m->ranges);
	err[0] = '\0';
	if (len > IMAGE_MANIFEST_MAX_BYTES)
		return bad(&p, "over %u MiB, too big to be a manifest", IMAGE_MANIFEST_MAX_BYTES >> 20);
	if (strnlen(text, len) != len)
		return bad(&p, "not JSON: contains a NUL byte");
	root = parse_json(&p, text, len);
	if (!root)
		return -EBADMSG;
	if (!json_object_is_type(root, json_type_object)) {
		ret = bad(&p, "not a JSON object");
		goto out;
	}
	schema = json_path(root, "schema");
	if (!schema || !json_object_is_type(schema, json_type_string) ||
	    strcmp(json_object_get_string(schema), IMAGE_MANIFEST_SCHEMA)) {
		ret = bad(&p, "schema is not \"%s\"", IMAGE_MANIFEST_SCHEMA);
		goto out;
	}
	ret = parse_image(&p, json_path(root, "image"), m);
	if (!ret)
		ret = parse_unreadable(&p, root, m);
out:
	json_object_put(root);
	if (ret)
		image_manifest_free(m);
	return ret;
}

int image_manifest_load(const char *path, struct image_manifest *m, char *err, size_t errlen)
{
	struct manifest_parse p = { err, errlen };
	char *text = NULL;
	size_t len;
	int ret;

	memset(m, 0, sizeof(*m));
	range_list_init(&m->ranges);
	err[0] = '\0';
	ret = read_whole_file(path, IMAGE_MANIFEST_MAX_BYTES, &text, &len);
	/* Too big to be a manifest is a malformed manifest, not an I/O error. */
	if (ret == -EFBIG)
		return bad(&p, "over %u MiB, too big to be a manifest", IMAGE_MANIFEST_MAX_BYTES >> 20);
	if (ret) {
		snprintf(err, errlen, "cannot read manifest: %s", strerror(-ret));
		return ret;
	}
	ret = image_manifest_parse(text, len, m, err, errlen);
	free(text);
	return ret;
}

void image_manifest_free(struct image_manifest *m)
{
	free(m->image_path);
	m->image_path = NULL;
	range_list_free(&m->ranges);
}
