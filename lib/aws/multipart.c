// SPDX-License-Identifier: GPL-2.0-only
#include "aws/multipart.h"
#include "aws/download.h"
#include "aws/upload_parts.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int object_request(struct s3_upload_sink *u, struct aws_http_request *r, const char *method)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->path = u->key;
	return s3_request_add_object_headers(r, &u->options.object, u->meta_storage,
					     sizeof(u->meta_storage));
}

int s3_multipart_create(struct s3_client *c, const char *key,
			const struct s3_object_options *object, bool sha256_parts, char **upload_id,
			bool *resent, char *why, size_t whylen)
{
	char meta_storage[1024];
	struct aws_http_request r = { .method = "POST", .path = key };
	struct aws_http_response resp = { 0 };
	struct s3xml x = { 0 };
	int ret;

	*upload_id = NULL;
	ret = s3_request_add_object_headers(&r, object, meta_storage, sizeof(meta_storage));
	r.query[r.query_count++] = (struct sigv4_pair){ "uploads", "" };
	if (!ret && sha256_parts)
		ret = aws_http_request_add_header(&r, "x-amz-checksum-algorithm", "SHA256");
	if (ret) {
		snprintf(why, whylen, "too many headers");
		return ret;
	}
	aws_http_request_set_body(&r, NULL, 0);
	ret = s3_perform(c, &r, &resp, why, whylen);
	if (resent)
		*resent = resp.attempts > 1;
	if (!ret && (s3_response_xml(&resp, &x) || !x.upload_id)) {
		snprintf(why, whylen, "answer without an UploadId");
		ret = -EPROTO;
	}
	if (!ret) {
		*upload_id = strdup(x.upload_id);
		if (!*upload_id)
			ret = -ENOMEM;
	}
	s3xml_free(&x);
	aws_http_response_reset(&resp);
	return ret;
}

int s3_multipart_sweep(struct s3_client *c, const char *key, const char *keep_upload_id,
		       char *why, size_t whylen)
{
	struct aws_http_response resp = { 0 };
	struct aws_http_request r = { .method = "GET" };
	struct s3xml_list uploads;
	int ret, aborted = 0;

	r.query[r.query_count++] = (struct sigv4_pair){ "uploads", "" };
	r.query[r.query_count++] = (struct sigv4_pair){ "prefix", key };
	aws_http_request_set_body(&r, NULL, 0);
	ret = s3_perform_list(c, &r, "ListMultipartUploads", "ListMultipartUploadsResult",
			      &uploads, why, whylen);
	if (ret)
		return ret;
	for (size_t i = 0; i < uploads.count; i++) {
		const struct s3xml_object *o = &uploads.objects[i];
		struct aws_http_request abort_req = { .method = "DELETE", .path = key };

		/* The prefix also matches longer keys: only this object's uploads. */
		if (strcmp(o->key, key) || (keep_upload_id && !strcmp(o->upload_id, keep_upload_id)))
			continue;
		abort_req.query[abort_req.query_count++] =
			(struct sigv4_pair){ "uploadId", o->upload_id };
		aws_http_request_set_body(&abort_req, NULL, 0);
		if (!s3_perform(c, &abort_req, &resp, why, whylen))
			aborted++;
		aws_http_response_reset(&resp);
	}
	s3xml_list_free(&uploads);
	return aborted;
}

static int create_upload(struct s3_upload_sink *u)
{
	char why[S3_REASON_MAX];
	int ret = s3_multipart_create(u->client, u->key, &u->options.object, true,
				      &u->result.upload_id, &u->create_resent, why, sizeof(why));

	if (ret)
		s3_upload_fail(u, ret, "create multipart upload", why);
	return ret;
}

static int submit_filling(struct s3_upload_sink *u)
{
	struct s3_part *p = u->filling;
	int ret;

	if (!u->result.upload_id) {
		ret = create_upload(u);
		if (ret)
			return ret;
	}
	if (u->next_number > S3_MAX_PARTS) {
		s3_upload_fail(u, -EFBIG, "upload", "object needs more than 10000 parts");
		return -EFBIG;
	}
	p->number = u->next_number++;
	ret = s3_parts_prepare(u, p);
	if (ret)
		return ret;
	pthread_mutex_lock(&u->lock);
	p->state = S3_PART_QUEUED;
	u->result.parts++;
	ret = u->error;
	pthread_mutex_unlock(&u->lock);
	curl_multi_wakeup(u->multi);
	u->filling = NULL;
	return ret;
}

static int upload_write(struct sink *s, const void *buf, size_t len)
{
	struct s3_upload_sink *u = (struct s3_upload_sink *)s;
	const unsigned char *in = buf;

	while (len) {
		uint64_t want;
		size_t take;
		int ret = s3_parts_fill_next(u);

		if (ret)
			return ret;
		want = s3_part_size(u->options.part_size, u->options.expected_size, u->next_number);
		take = want - u->filling->len < len ? (size_t)(want - u->filling->len) : len;
		memcpy(u->filling->data + u->filling->len, in, take);
		u->filling->len += take;
		in += take;
		len -= take;
		if (u->filling->len == want) {
			ret = submit_filling(u);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int put_single(struct s3_upload_sink *u, const struct s3_part *p)
{
	char checksum[S3_SHA256_B64], hex[SIGV4_HEX_SHA256_LEN + 1], why[S3_REASON_MAX];
	struct aws_http_response resp = { 0 };
	struct aws_http_request r;
	int ret;

	s3_parts_sha256(p ? p->data : NULL, p ? p->len : 0, checksum, hex);
	ret = object_request(u, &r, "PUT");
	if (!ret)
		ret = aws_http_request_add_header(&r, "x-amz-checksum-sha256", checksum);
	/*
	 * As the SDKs do: names the checksum's algorithm, which is what S3
	 * looks for on objects under an Object Lock retention.
	 */
	if (!ret)
		ret = aws_http_request_add_header(&r, "x-amz-sdk-checksum-algorithm", "SHA256");
	if (ret) {
		s3_upload_fail(u, ret, "put object", "too many headers");
		return ret;
	}
	r.body = p ? p->data : NULL;
	r.body_len = p ? p->len : 0;
	memcpy(r.payload_hash, hex, sizeof(hex));
	ret = s3_perform(u->client, &r, &resp, why, sizeof(why));
	if (ret) {
		s3_upload_fail(u, ret, "put object", why);
	} else {
		u->result.etag = resp.etag ? strdup(resp.etag) : NULL;
		u->result.version_id = resp.version_id ? strdup(resp.version_id) : NULL;
		u->result.checksum_sha256 = strdup(resp.checksum_sha256 ? resp.checksum_sha256 :
						   checksum);
		u->result.parts = 1;
	}
	aws_http_response_reset(&resp);
	return ret;
}

static int compare_done(const void *a, const void *b)
{
	const struct s3_done_part *x = a, *y = b;

	return x->number < y->number ? -1 : x->number > y->number;
}

/* Hex MD5 of the parts' binary MD5s and "-N": S3's ETag for our multipart object. */
static bool expected_etag(const struct s3_upload_sink *u, char *out, size_t outlen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md5[16], digest[16];
	unsigned int n = 0;
	bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_md5(), NULL);

	for (size_t i = 0; ok && i < u->done_count; i++) {
		const char *e = u->done[i].etag;
		size_t len = strlen(e);

		if (len == 34 && e[0] == '"' && e[33] == '"') {
			e++;
			len -= 2;
		}
		/* Not an MD5 (SSE-KMS, SSE-C): the object's ETag cannot be predicted. */
		ok = len == 32 && strspn(e, "0123456789abcdefABCDEF") == 32;
		for (size_t j = 0; ok && j < 16; j++)
			ok = sscanf(e + 2 * j, "%2hhx", &md5[j]) == 1;
		ok = ok && EVP_DigestUpdate(ctx, md5, sizeof(md5));
	}
	ok = ok && EVP_DigestFinal_ex(ctx, digest, &n) && n == sizeof(digest);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return false;
	for (unsigned int i = 0; i < n; i++)
		snprintf(out + 2 * i, outlen - 2 * i, "%02x", digest[i]);
	snprintf(out + 2 * n, outlen - 2 * n, "-%zu", u->done_count);
	return true;
}

/*
 * Complete's answer can be lost after S3 acted on it (a reset, a front end's
 * 500): then every retry fails although the object exists, and reporting a
 * failure would leave a finished object behind with no manifest. The key did
 * not exist before (writers check), so an object there now whose ETag is the
 * one our parts make is ours, complete.
 */
static bool completed_anyway(struct s3_upload_sink *u)
{
	char want[2 * 16 + 16], why[S3_REASON_MAX];
	struct s3_head head;
	bool ours = false;

	if (u->options.ticket || !expected_etag(u, want, sizeof(want)))
		return false;
	if (s3_head(u->client, u->key, &head, why, sizeof(why)))
		return false;
	if (head.etag && head.size == (long long)u->base.bytes) {
		const char *e = head.etag + (head.etag[0] == '"');
		size_t len = strlen(e) - (head.etag[0] == '"');

		ours = len == strlen(want) && !strncmp(e, want, len);
	}
	if (ours) {
		u->result.etag = head.etag;
		u->result.version_id = head.version_id;
		head.etag = head.version_id = NULL;
	}
	s3_head_free(&head);
	return ours;
}

static int complete_upload(struct s3_upload_sink *u)
{
	struct aws_http_response resp = { 0 };
	char why[S3_REASON_MAX];
	struct aws_http_request r;
	struct s3xml x = { 0 };
	char *body = NULL;
	size_t body_len = 0;
	FILE *f;
	int ret;

	qsort(u->done, u->done_count, sizeof(*u->done), compare_done);
	if (u->done_count != u->result.parts) {
		s3_upload_fail(u, -EIO, "complete", "a part is missing");
		return -EIO;
	}
	f = open_memstream(&body, &body_len);
	if (!f)
		return -ENOMEM;
	fputs("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">", f);
	for (size_t i = 0; i < u->done_count; i++) {
		fprintf(f, "<Part><PartNumber>%u</PartNumber><ETag>%s</ETag>", u->done[i].number,
			u->done[i].etag);
		/* Presigned parts carried Content-MD5, not a checksum S3 could list. */
		if (!u->options.ticket)
			fprintf(f, "<ChecksumSHA256>%s</ChecksumSHA256>", u->done[i].checksum);
		fputs("</Part>", f);
	}
	fputs("</CompleteMultipartUpload>", f);
	if (fclose(f))
		return -ENOMEM;
	memset(&r, 0, sizeof(r));
	r.method = "POST";
	r.path = u->key;
	r.query[r.query_count++] = (struct sigv4_pair){ "uploadId", u->result.upload_id };
	if (u->options.ticket)
		r.url = u->options.ticket->complete;
	aws_http_request_add_header(&r, "content-type", "application/xml");
	aws_http_request_set_body(&r, body, body_len);
	ret = s3_perform(u->client, &r, &resp, why, sizeof(why));
	if (!ret && (s3_response_xml(&resp, &x) || !x.etag)) {
		snprintf(why, sizeof(why), "answer without an ETag");
		ret = -EPROTO;
	}
	if (ret && ret != -EACCES && completed_anyway(u)) {
		ret = 0;
	} else if (ret) {
		s3_upload_fail(u, ret, "complete multipart upload", why);
	} else {
		u->result.etag = strdup(x.etag);
		u->result.version_id = resp.version_id ? strdup(resp.version_id) : NULL;
		u->result.checksum_sha256 = x.checksum_sha256 ? strdup(x.checksum_sha256) : NULL;
	}
	s3xml_free(&x);
	aws_http_response_reset(&resp);
	free(body);
	return ret;
}

static void abort_upload(struct s3_upload_sink *u)
{
	struct aws_http_response resp = { 0 };
	char why[S3_REASON_MAX];
	struct aws_http_request r;

	if (!u->result.upload_id)
		return;
	memset(&r, 0, sizeof(r));
	r.method = "DELETE";
	r.path = u->key;
	r.best_effort_credentials = true;
	if (u->options.ticket)
		r.url = u->options.ticket->abort;
	r.query[r.query_count++] = (struct sigv4_pair){ "uploadId", u->result.upload_id };
	aws_http_request_set_body(&r, NULL, 0);
	s3_perform(u->client, &r, &resp, why, sizeof(why));
	aws_http_response_reset(&resp);
}

/*
 * A CreateMultipartUpload sent twice may have made an upload whose answer
 * never arrived: abort any of this key but the one that became the object
 * (or all, when none did). Once, best effort: without
 * s3:ListBucketMultipartUploads it is left to the bucket's
 * AbortIncompleteMultipartUpload lifecycle rule.
 */
static void sweep_strays(struct s3_upload_sink *u)
{
	char why[S3_REASON_MAX];

	if (!u->create_resent || u->options.ticket)
		return;
	u->create_resent = false;
	s3_multipart_sweep(u->client, u->key, u->completed ? u->result.upload_id : NULL,
			   why, sizeof(why));
}

static int upload_finish(struct sink *s)
{
	struct s3_upload_sink *u = (struct s3_upload_sink *)s;
	int ret;

	/* The whole object fits in one part: a single PutObject. */
	if (!u->result.upload_id && !u->error) {
		s3_parts_stop(u);
		ret = put_single(u, u->filling);
		goto out;
	}
	if (u->filling && u->filling->len && !u->error)
		submit_filling(u);
	/*
	 * Nothing written through a ticket (whose upload already exists):
	 * Complete needs a part, and a last part may be empty.
	 */
	if (u->next_number == 1 && !u->error && !s3_parts_fill_next(u))
		submit_filling(u);
	s3_parts_stop(u);
	if (u->error) {
		ret = u->error;
		goto out;
	}
	ret = complete_upload(u);
out:
	if (!ret) {
		u->completed = true;
		u->result.bytes = s->bytes;
		u->result.key = strdup(u->key);
		sweep_strays(u);
	}
	return ret ? ret : 0;
}

static void upload_destroy(struct sink *s)
{
	struct s3_upload_sink *u = (struct s3_upload_sink *)s;

	s3_parts_stop(u);
	if (!u->completed)
		abort_upload(u);
	sweep_strays(u);
	s3_parts_free(u);
	for (size_t i = 0; i < u->done_count; i++)
		free(u->done[i].etag);
	free(u->done);
	if (u->multi)
		curl_multi_cleanup(u->multi);
	pthread_mutex_destroy(&u->lock);
	pthread_cond_destroy(&u->changed);
	free(u->result.key);
	free(u->result.upload_id);
	free(u->result.etag);
	free(u->result.version_id);
	free(u->result.checksum_sha256);
	free(u->key);
	free(u);
}

struct sink *s3_upload_sink_new(struct s3_client *c, const char *key,
				const struct s3_upload_options *options, int *err)
{
	struct s3_upload_sink *u = calloc(1, sizeof(*u));

	if (!u) {
		*err = -ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->changed, NULL);
	u->base.write = upload_write;
	u->base.finish = upload_finish;
	u->base.destroy = upload_destroy;
	u->base.name = "s3";
	u->client = c;
	u->options = *options;
	if (!u->options.parts_in_flight)
		u->options.parts_in_flight = S3_DEFAULT_PARTS_IN_FLIGHT;
	u->next_number = 1;
	if (u->options.ticket) {
		const struct s3_ticket *t = u->options.ticket;

		/* One part size throughout: the URLs were signed for these parts. */
		u->options.part_size = (size_t)t->part_size;
		u->options.expected_size = t->part_size * t->part_count;
		u->result.upload_id = strdup(t->upload_id);
		if (!u->result.upload_id) {
			*err = -ENOMEM;
			goto fail;
		}
	}
	u->key = strdup(key);
	u->pool_size = u->options.parts_in_flight + 1;
	u->pool = calloc(u->pool_size, sizeof(*u->pool));
	u->multi = curl_multi_init();
	if (!u->key || !u->pool || !u->multi) {
		*err = -ENOMEM;
		goto fail;
	}
	*err = -pthread_create(&u->thread, NULL, s3_parts_thread, u);
	if (*err)
		goto fail;
	u->thread_started = true;
	return &u->base;
fail:
	upload_destroy(&u->base);
	return NULL;
}

const struct s3_upload_result *s3_upload_sink_result(const struct sink *s)
{
	return &((const struct s3_upload_sink *)s)->result;
}

const char *s3_upload_sink_error(const struct sink *s)
{
	return ((const struct s3_upload_sink *)s)->why;
}