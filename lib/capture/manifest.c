// SPDX-License-Identifier: GPL-2.0-only
#include "capture/manifest.h"
#include "base/jsonutil.h"
#include "base/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHA256_HEX_DIGITS (SHA256_HEX_BYTES - 1)

/* ---- writing ---- */

json_object *manifest_address(uint64_t address)
{
	char text[24];

	snprintf(text, sizeof(text), "0x%" PRIx64, address);
	return json_object_new_string(text);
}

/* A new object with a span's inclusive bounds, as ranges and iomem entries hold them. */
static json_object *span_object(uint64_t start, uint64_t end)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "start", manifest_address(start));
	json_object_object_add(o, "end", manifest_address(end));
	return o;
}

static json_object *range_object(uint64_t start, uint64_t end)
{
	json_object *o = span_object(start, end);

	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)(end - start + 1)));
	return o;
}

json_object *manifest_ranges(const struct range_list *ranges)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < ranges->count; i++)
		json_object_array_add(a, range_object(ranges->items[i].start, ranges->items[i].end));
	return a;
}

json_object *manifest_iomem(const struct iomem_table *table)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < table->count; i++) {
		const struct iomem_entry *e = &table->entries[i];
		json_object *o = span_object(e->start, e->end);

		json_object_object_add(o, "depth", json_object_new_int((int)e->depth));
		json_object_object_add(o, "name", json_object_new_string(e->name));
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *transport_object(const struct source_transport *t)
{
	json_object *o = json_object_new_object();
	char mode[8];

	json_object_object_add(o, "kind", json_object_new_string(t->kind));
	json_object_object_add(o, "path", json_object_new_string(t->path));
	snprintf(mode, sizeof(mode), "%04o", t->dir_mode & 07777);
	json_object_object_add(o, "directory_mode", json_object_new_string(mode));
	snprintf(mode, sizeof(mode), "%04o", t->mode & 07777);
	json_object_object_add(o, "mode", json_object_new_string(mode));
	json_object_object_add(o, "owner_uid", json_object_new_int64(t->uid));
	json_object_object_add(o, "filesystem", json_object_new_string(t->filesystem));
	return o;
}

json_object *manifest_source(const struct mem_source *src, const struct source_selection *sel)
{
	json_object *o = json_object_new_object();
	json_object *attempts = json_object_new_array();

	for (size_t i = 0; i < sel->count; i++) {
		const struct source_attempt *a = &sel->attempts[i];
		json_object *e = json_object_new_object();

		json_object_object_add(e, "name", json_object_new_string(a->name));
		json_object_object_add(e, "path", json_object_new_string(a->path));
		json_object_object_add(e, "status",
				       json_object_new_string(source_attempt_status_name(a->status)));
		json_object_object_add(e, "reason", json_object_new_string(a->reason));
		json_object_array_add(attempts, e);
		if (a->status == SOURCE_USED) {
			json_object_object_add(o, "name", json_object_new_string(a->name));
			json_object_object_add(o, "path", json_object_new_string(a->path));
		}
	}
	json_object_object_add(o, "detail", json_object_new_string(src->detail));
	if (src->transport.kind)
		json_object_object_add(o, "transport", transport_object(&src->transport));
	json_object_object_add(o, "attempts", attempts);
	return o;
}

json_object *manifest_unreadable(const struct capture_result *result)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < result->unreadable_count; i++) {
		const struct unreadable_range *u = &result->unreadable[i];
		json_object *o = range_object(u->start, u->end);

		json_object_object_add(o, "reason",
				       json_object_new_string(u->error == -ENXIO ?
							      "not mapped by the source" :
							      strerror(-u->error)));
		json_object_array_add(a, o);
	}
	return a;
}

json_object *manifest_kptr_restrict(const struct kptr_restrict_step *step)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "found", step->found < 0 ? NULL : json_object_new_int(step->found));
	if (step->lower_error) {
		json_object_object_add(o, "lower_failed",
				       json_object_new_string(strerror(-step->lower_error)));
	} else if (step->lowered_to >= 0) {
		json_object_object_add(o, "lowered_to", json_object_new_int(step->lowered_to));
		json_object_object_add(o, "restored", json_object_new_boolean(step->restored));
	}
	return o;
}

int manifest_write(json_object *manifest, struct sink *out)
{
	const char *text = json_object_to_json_string_ext(manifest, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
	int ret = sink_write(out, text, strlen(text));

	if (!ret)
		ret = sink_write(out, "\n", 1);
	if (!ret)
		ret = sink_finish(out);
	return ret;
}

/* ---- reading ---- */

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

/* A copy of a string member into *out; null or absent leaves NULL unless required. */
static int get_string(struct manifest_parse *p, json_object *obj, const char *where,
		      const char *key, bool required, char **out)
{
	json_object *value = json_path(obj, key);

	if (is_null(value) && !required)
		return 0;
	if (!value || !json_object_is_type(value, json_type_string))
		return bad(p, "%s.%s is not a string", where, key);
	*out = strdup(json_object_get_string(value));
	return *out ? 0 : bad(p, "out of memory");
}

/* Optional: the CA bundle (or directory) S3 was verified with, and who named it. */
static int check_tls(struct manifest_parse *p, json_object *tls)
{
	static const char *const keys[] = { "ca_bundle", "ca_path", "source" };
	json_object *value;

	if (is_null(tls))
		return 0;
	if (!json_object_is_type(tls, json_type_object))
		return bad(p, "image.s3.tls is not an object");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		value = json_path(tls, keys[i]);
		if (!is_null(value) && !json_object_is_type(value, json_type_string))
			return bad(p, "image.s3.tls.%s is not a string", keys[i]);
	}
	return 0;
}

/* Where an S3 capture landed: absent for a local one. */
static int parse_s3(struct manifest_parse *p, json_object *s3, struct image_manifest *m)
{
	int ret;

	if (is_null(s3))
		return 0;
	if (!json_object_is_type(s3, json_type_object))
		return bad(p, "image.s3 is not an object");
	ret = get_string(p, s3, "image.s3", "bucket", true, &m->s3_bucket);
	if (!ret)
		ret = get_string(p, s3, "image.s3", "key", true, &m->s3_key);
	if (!ret)
		ret = get_string(p, s3, "image.s3", "etag", false, &m->s3_etag);
	if (!ret)
		ret = get_string(p, s3, "image.s3", "version_id", false, &m->s3_version_id);
	if (!ret)
		ret = check_tls(p, json_path(s3, "tls"));
	return ret;
}

/*
 * Its name is read (what the controller's record says was used); the
 * optional transport is only checked for shape.
 */
static int parse_source(struct manifest_parse *p, json_object *source, struct image_manifest *m)
{
	json_object *transport;

	if (is_null(source))
		return 0;
	if (!json_object_is_type(source, json_type_object))
		return bad(p, "source is not an object");
	transport = json_path(source, "transport");
	if (!is_null(transport) && (!json_object_is_type(transport, json_type_object) ||
				    !json_object_is_type(json_path(transport, "kind"),
							 json_type_string)))
		return bad(p, "source.transport is not an object with a kind");
	return get_string(p, source, "source", "name", false, &m->source_name);
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
	if (!is_null(json_path(image, "ram_bytes"))) {
		ret = get_u64(p, image, "image", "ram_bytes", &m->ram_bytes);
		if (ret)
			return ret;
		m->has_ram_bytes = true;
	}
	return parse_s3(p, json_path(image, "s3"), m);
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

static void manifest_init(struct image_manifest *m, char *err)
{
	memset(m, 0, sizeof(*m));
	range_list_init(&m->ranges);
	err[0] = '\0';
}

static int parse_root(struct manifest_parse *p, json_object *root, struct image_manifest *m)
{
	json_object *schema;
	int ret;

	if (!json_object_is_type(root, json_type_object))
		return bad(p, "not a JSON object");
	schema = json_path(root, "schema");
	if (!schema || !json_object_is_type(schema, json_type_string) ||
	    strcmp(json_object_get_string(schema), MANIFEST_SCHEMA))
		return bad(p, "schema is not \"%s\"", MANIFEST_SCHEMA);
	ret = parse_image(p, json_path(root, "image"), m);
	if (!ret)
		ret = parse_unreadable(p, root, m);
	if (!ret)
		ret = parse_source(p, json_path(root, "source"), m);
	return ret;
}

int image_manifest_from_json(json_object *root, struct image_manifest *m, char *err,
			     size_t errlen)
{
	struct manifest_parse p = { err, errlen };
	int ret;

	manifest_init(m, err);
	ret = root ? parse_root(&p, root, m) : bad(&p, "not a JSON object");
	if (ret)
		image_manifest_free(m);
	return ret;
}

int image_manifest_parse(const char *text, size_t len, struct image_manifest *m, char *err,
			 size_t errlen)
{
	struct manifest_parse p = { err, errlen };
	json_object *root;
	int ret;

	manifest_init(m, err);
	if (len > MANIFEST_MAX_BYTES)
		return bad(&p, "over %u MiB, too big to be a manifest", MANIFEST_MAX_BYTES >> 20);
	if (strnlen(text, len) != len)
		return bad(&p, "not JSON: contains a NUL byte");
	root = parse_json(&p, text, len);
	if (!root)
		return -EBADMSG;
	ret = image_manifest_from_json(root, m, err, errlen);
	json_object_put(root);
	return ret;
}

int image_manifest_load(const char *path, struct image_manifest *m, char *err, size_t errlen)
{
	struct manifest_parse p = { err, errlen };
	char *text = NULL;
	size_t len;
	int ret;

	manifest_init(m, err);
	ret = read_whole_file(path, MANIFEST_MAX_BYTES, &text, &len);
	/* Too big to be a manifest is a malformed manifest, not an I/O error. */
	if (ret == -EFBIG)
		return bad(&p, "over %u MiB, too big to be a manifest", MANIFEST_MAX_BYTES >> 20);
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
	free(m->source_name);
	free(m->s3_bucket);
	free(m->s3_key);
	free(m->s3_etag);
	free(m->s3_version_id);
	m->image_path = m->source_name = NULL;
	m->s3_bucket = m->s3_key = m->s3_etag = m->s3_version_id = NULL;
	range_list_free(&m->ranges);
}
