// SPDX-License-Identifier: GPL-2.0-only
#include "response/collect.h"
#include "base/jsonutil.h"
#include "aws/download.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_object *manifest_from_output(const char *text)
{
	json_object *found = NULL;
	const char *line = text;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);

		while (n && (line[n - 1] == '\r' || line[n - 1] == ' '))
			n--;
		if (n > 1 && line[0] == '{' && line[n - 1] == '}') {
			struct json_tokener *tok = json_tokener_new();
			json_object *o = tok ? json_tokener_parse_ex(tok, line, (int)n) : NULL;
			json_object *event, *m;

			if (o && json_tokener_get_error(tok) == json_tokener_success &&
			    json_object_object_get_ex(o, "event", &event) &&
			    json_object_is_type(event, json_type_string) &&
			    !strcmp(json_object_get_string(event), "manifest") &&
			    json_object_object_get_ex(o, "manifest", &m) &&
			    json_object_is_type(m, json_type_object)) {
				json_object_put(found);
				found = json_object_get(m);
			}
			json_object_put(o);
			if (tok)
				json_tokener_free(tok);
		}
		line = end ? end + 1 : NULL;
	}
	return found;
}

static void copy_string(json_object *to, const char *key, json_object *from, const char *path)
{
	const char *v = json_path_string(from, path);

	json_object_object_add(to, key, v ? json_object_new_string(v) : NULL);
}

json_object *manifest_summary(json_object *manifest, const char *manifest_key)
{
	json_object *s = json_object_new_object(), *image = json_object_new_object();
	json_object *ram = json_path(manifest, "image/ram_bytes");

	json_object_object_add(s, "key", manifest_key ? json_object_new_string(manifest_key) : NULL);
	copy_string(image, "bucket", manifest, "image/s3/bucket");
	copy_string(image, "key", manifest, "image/s3/key");
	copy_string(image, "etag", manifest, "image/s3/etag");
	copy_string(image, "version_id", manifest, "image/s3/version_id");
	json_object_object_add(s, "image", image);
	copy_string(s, "sha256_uncompressed", manifest, "image/sha256_uncompressed");
	copy_string(s, "sha256_compressed", manifest, "image/sha256_compressed");
	json_object_object_add(s, "ram_bytes", ram && json_object_is_type(ram, json_type_int) ?
			       json_object_new_int64(json_object_get_int64(ram)) : NULL);
	copy_string(s, "source", manifest, "source/name");
	return s;
}

int manifest_etag_equal(const char *a, const char *b)
{
	size_t na, nb;

	if (!a || !b)
		return 0;
	if (*a == '"')
		a++;
	if (*b == '"')
		b++;
	na = strlen(a);
	nb = strlen(b);
	if (na && a[na - 1] == '"')
		na--;
	if (nb && b[nb - 1] == '"')
		nb--;
	return na == nb && !strncmp(a, b, na);
}

int manifest_compare(json_object *a, json_object *b, char *why, size_t whylen)
{
	static const char *const fields[] = {
		"image/bucket", "image/key", "image/etag", "image/version_id",
		"sha256_uncompressed", "sha256_compressed", "ram_bytes",
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		json_object *x = json_path(a, fields[i]), *y = json_path(b, fields[i]);

		if (!json_object_equal(x, y)) {
			snprintf(why, whylen, "%s: %s in one, %s in the other", fields[i],
				 x ? json_object_to_json_string(x) : "nothing",
				 y ? json_object_to_json_string(y) : "nothing");
			return -EBADMSG;
		}
	}
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && !strcmp(s + n - m, suffix);
}

/* The manifest to read: the logged one's when listed, else the last by name. */
static const char *pick(const struct s3xml_list *l, json_object *logged, size_t *found)
{
	const char *image = logged ? json_path_string(logged, "image/s3/key") : NULL;
	const char *best = NULL;

	*found = 0;
	for (size_t i = 0; i < l->count; i++) {
		const char *k = l->objects[i].key;

		if (!ends_with(k, MANIFEST_SUFFIX))
			continue;
		(*found)++;
		if (image && !strncmp(k, image, strlen(image)) &&
		    !strcmp(k + strlen(image), MANIFEST_SUFFIX))
			return k;
		if (!best || strcmp(k, best) > 0)
			best = k;
	}
	return best;
}

int manifest_parse(const char *body, json_object **out)
{
	json_object *image;

	*out = json_tokener_parse(body);
	if (!*out || !json_object_is_type(*out, json_type_object) ||
	    !json_object_object_get_ex(*out, "image", &image) ||
	    !json_object_is_type(image, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		return -EBADMSG;
	}
	return 0;
}

static int read_manifest(struct s3_client *c, const char *key, json_object **out, char *why,
			 size_t whylen)
{
	char *body = NULL;
	size_t len = 0;
	int ret;

	*out = NULL;
	ret = s3_get_small(c, key, MANIFEST_MAX, &body, &len, why, whylen);
	if (ret == -ENOENT)
		snprintf(why, whylen, "s3://%s/%s: gone after the listing", c->bucket, key);
	if (ret)
		return ret;
	ret = manifest_parse(body, out);
	free(body);
	if (ret)
		snprintf(why, whylen, "s3://%s/%s is not an agent's manifest", c->bucket, key);
	return ret;
}

int manifest_agree(json_object *stored, const char *key, json_object *logged, const char *bucket,
		   const char *prefix, size_t found, json_object **summary, char *why,
		   size_t whylen)
{
	json_object *s = manifest_summary(stored, key);
	const char *image_bucket, *image_key;
	char detail[256];

	*summary = NULL;
	if (logged) {
		json_object *l = manifest_summary(logged, key);

		if (manifest_compare(l, s, detail, sizeof(detail))) {
			snprintf(why, whylen, "the manifest the agent logged and s3://%s/%s differ: %s",
				 bucket, key, detail);
			json_object_object_add(l, "from", json_object_new_string("output"));
			json_object_object_add(l, "object", s);
			*summary = l;
			return -EBADMSG;
		}
		/* The logged one preferred; the object said the same. */
		json_object_put(s);
		s = l;
		json_object_object_add(s, "from", json_object_new_string("output"));
		json_object_object_add(s, "checked_against_object", json_object_new_boolean(1));
	} else {
		json_object_object_add(s, "from", json_object_new_string("object"));
	}
	json_object_object_add(s, "manifests_found", json_object_new_int64((int64_t)found));
	*summary = s;
	image_bucket = json_path_string(s, "image/bucket");
	image_key = json_path_string(s, "image/key");
	if (!image_bucket || strcmp(image_bucket, bucket) || !image_key ||
	    strncmp(image_key, prefix, strlen(prefix))) {
		snprintf(why, whylen, "s3://%s/%s names an image outside s3://%s/%s: s3://%s/%s",
			 bucket, key, bucket, prefix, image_bucket ? image_bucket : "?",
			 image_key ? image_key : "?");
		return -EBADMSG;
	}
	return 0;
}

int manifest_collect(struct s3_client *c, const char *bucket, const char *prefix,
		     json_object *logged, json_object **summary, char *why, size_t whylen)
{
	struct s3xml_list list;
	struct s3_head head = { 0 };
	json_object *stored = NULL, *s;
	const char *key, *image_key, *etag;
	size_t found;
	int ret;

	*summary = NULL;
	ret = s3_list(c, prefix, MANIFEST_LIST_MAX, &list, why, whylen);
	if (ret)
		return ret;
	key = pick(&list, logged, &found);
	if (!key) {
		if (logged) {
			*summary = manifest_summary(logged, NULL);
			json_object_object_add(*summary, "from", json_object_new_string("output"));
		}
		snprintf(why, whylen, "no *" MANIFEST_SUFFIX " under s3://%s/%s (%zu objects there)%s",
			 bucket, prefix, list.count,
			 logged ? "; the agent logged one that is not in the bucket" : "");
		ret = -ENOENT;
		goto out;
	}
	ret = read_manifest(c, key, &stored, why, whylen);
	if (ret)
		goto out;
	ret = manifest_agree(stored, key, logged, bucket, prefix, found, summary, why, whylen);
	if (ret)
		goto out;
	s = *summary;
	image_key = json_path_string(s, "image/key");
	etag = json_path_string(s, "image/etag");
	ret = s3_head(c, image_key, &head, why, whylen);
	json_object_object_add(s, "image_exists", json_object_new_boolean(!ret));
	if (ret == -ENOENT) {
		snprintf(why, whylen, "the image s3://%s/%s named by s3://%s/%s is not there",
			 bucket, image_key, bucket, key);
		goto out;
	}
	if (ret)
		goto out;
	json_object_object_add(s, "image_etag", head.etag ? json_object_new_string(head.etag) :
			       NULL);
	json_object_object_add(s, "image_size", head.size >= 0 ?
			       json_object_new_int64(head.size) : NULL);
	json_object_object_add(s, "image_etag_matches",
			       json_object_new_boolean(manifest_etag_equal(etag, head.etag)));
	if (!manifest_etag_equal(etag, head.etag)) {
		snprintf(why, whylen, "s3://%s/%s has ETag %s, its manifest says %s", bucket,
			 image_key, head.etag ? head.etag : "none", etag ? etag : "none");
		ret = -EBADMSG;
	}
out:
	s3_head_free(&head);
	json_object_put(stored);
	s3xml_list_free(&list);
	return ret;
}
