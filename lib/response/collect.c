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

static json_object *string_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

json_object *manifest_summary(const struct image_manifest *m, const char *manifest_key)
{
	json_object *s = json_object_new_object(), *image = json_object_new_object();

	json_object_object_add(s, "key", string_or_null(manifest_key));
	json_object_object_add(image, "bucket", string_or_null(m->s3_bucket));
	json_object_object_add(image, "key", string_or_null(m->s3_key));
	json_object_object_add(image, "etag", string_or_null(m->s3_etag));
	json_object_object_add(image, "version_id", string_or_null(m->s3_version_id));
	json_object_object_add(s, "image", image);
	json_object_object_add(s, "sha256_uncompressed",
			       json_object_new_string(m->sha256_uncompressed));
	json_object_object_add(s, "sha256_compressed", m->has_sha256_compressed ?
			       json_object_new_string(m->sha256_compressed) : NULL);
	json_object_object_add(s, "ram_bytes", m->has_ram_bytes ?
			       json_object_new_uint64(m->ram_bytes) : NULL);
	json_object_object_add(s, "source", string_or_null(m->source_name));
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
static const char *pick(const struct s3xml_list *l, const char *image, size_t *found)
{
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

static int read_manifest(struct s3_client *c, const char *key, struct image_manifest *out,
			 char *why, size_t whylen)
{
	char *body = NULL, detail[256];
	size_t len = 0;
	int ret;

	ret = s3_get_small(c, key, COLLECT_MANIFEST_MAX, &body, &len, why, whylen);
	if (ret == -ENOENT)
		snprintf(why, whylen, "s3://%s/%s: gone after the listing", c->bucket, key);
	if (ret)
		return ret;
	ret = image_manifest_parse(body, len, out, detail, sizeof(detail));
	free(body);
	if (ret)
		snprintf(why, whylen, "s3://%s/%s is not an agent's manifest: %s", c->bucket, key,
			 detail);
	return ret;
}

int manifest_agree(const struct image_manifest *stored, const char *key,
		   const struct image_manifest *logged, const char *bucket, const char *prefix,
		   size_t found, json_object **summary, char *why, size_t whylen)
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
	image_bucket = stored->s3_bucket;
	image_key = stored->s3_key;
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
		     json_object *logged_json, json_object **summary, char *why, size_t whylen)
{
	struct image_manifest logged_manifest, stored_manifest = { 0 };
	const struct image_manifest *logged = NULL;
	struct s3xml_list list;
	struct s3_head head = { 0 };
	json_object *s;
	const char *key, *image_key, *etag;
	char detail[256];
	size_t found;
	int ret;

	*summary = NULL;
	if (logged_json) {
		if (image_manifest_from_json(logged_json, &logged_manifest, detail,
					     sizeof(detail))) {
			snprintf(why, whylen, "the manifest the agent logged is not an agent's "
				 "manifest: %s", detail);
			return -EBADMSG;
		}
		logged = &logged_manifest;
	}
	ret = s3_list(c, prefix, COLLECT_LIST_MAX, &list, why, whylen);
	if (ret)
		goto out_logged;
	key = pick(&list, logged ? logged->s3_key : NULL, &found);
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
	ret = read_manifest(c, key, &stored_manifest, why, whylen);
	if (ret)
		goto out;
	ret = manifest_agree(&stored_manifest, key, logged, bucket, prefix, found, summary, why,
			     whylen);
	if (ret)
		goto out;
	s = *summary;
	image_key = stored_manifest.s3_key;
	etag = stored_manifest.s3_etag;
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
	image_manifest_free(&stored_manifest);
	s3xml_list_free(&list);
out_logged:
	if (logged)
		image_manifest_free(&logged_manifest);
	return ret;
}
