// SPDX-License-Identifier: GPL-2.0-only
#include "aws/multipart.h"
#include "aws/download.h"
#include "aws/upload_parts.h"
#include "base/encode.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
			bool *resent, bool *lost, char *why, size_t whylen)
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
	if (lost)
		*lost = resp.unanswered > 0;
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
				      &u->result.upload_id, &u->create_resent, &u->create_lost, why,
				      sizeof(why));

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

/* The object's SHA-256 as S3 gives it: "B64" or, composite, "B64-N"; want is our "B64". */
static bool checksum_is(const char *got, const char *want)
{
	size_t n = strlen(want);

	return n && got && !strncmp(got, want, n) && (!got[n] || got[n] == '-');
}

static bool etag_is(const char *got, const char *want)
{
	size_t n;

	if (!got || !want[0])
		return false;
	got += got[0] == '"';
	n = strlen(got) - (got[0] && got[strlen(got) - 1] == '"');
	return n == strlen(want) && !strncasecmp(got, want, n);
}

/*
 * Whether the object at the key is ours (our size, and S3's SHA-256 of it
 * ours, or without one its ETag ours): 1, with the result filled from it; 0
 * when there is none; -EEXIST when it is another's; another negative errno
 * when S3 could not say (why). For a reply that was lost: look before
 * telling anyone anything.
 */
static int look(struct s3_upload_sink *u, const char *want_etag, char *why, size_t whylen)
{
	struct aws_http_request r = { .method = "HEAD" };
	struct aws_http_response resp = { 0 };
	bool ours;
	int ret;

	if (u->options.ticket) {
		snprintf(why, whylen, "a ticket's URLs cannot look at the object");
		return -ENOTSUP;
	}
	r.path = u->key;
	aws_http_request_add_header(&r, "x-amz-checksum-mode", "ENABLED");
	aws_http_request_set_body(&r, NULL, 0);
	ret = s3_perform(u->client, &r, &resp, why, whylen);
	if (ret) {
		if (resp.status == 404)
			ret = 0;
		goto out;
	}
	ours = resp.content_length == (long long)u->base.bytes &&
	       (resp.checksum_sha256 ? checksum_is(resp.checksum_sha256, u->expect_checksum) :
		etag_is(resp.etag, want_etag));
	if (!ours) {
		ret = -EEXIST;
		goto out;
	}
	free(u->result.etag);
	free(u->result.version_id);
	free(u->result.checksum_sha256);
	u->result.etag = resp.etag;
	u->result.version_id = resp.version_id;
	u->result.checksum_sha256 = resp.checksum_sha256;
	resp.etag = resp.version_id = resp.checksum_sha256 = NULL;
	ret = 1;
out:
	aws_http_response_reset(&resp);
	return ret;
}

/* An answer that is not a refusal, or one that came after a resend, may hide our object. */
static bool may_exist(const struct aws_http_response *resp, int ret)
{
	return ret != -EACCES || resp->attempts > 1 || resp->unanswered;
}

/* "object exists" when the key holds another's object: what write-once protects. */
static int exists_error(struct s3_upload_sink *u, const char *what)
{
	s3_upload_fail(u, -EEXIST, what, "an object already exists at the key (evidence is "
		       "never overwritten; --overwrite replaces it)");
	return -EEXIST;
}

static void md5_hex(const unsigned char *data, size_t len, char *out)
{
	unsigned char md5[16];
	unsigned int n = 0;

	EVP_Digest(data ? (const void *)data : "", len, md5, &n, EVP_md5(), NULL);
	for (unsigned int i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md5[i]);
}

static int put_single(struct s3_upload_sink *u, const struct s3_part *p)
{
	char hex[SIGV4_HEX_SHA256_LEN + 1], why[S3_REASON_MAX], seen[S3_REASON_MAX];
	struct aws_http_response resp = { 0 };
	struct aws_http_request r;
	int ret;

	s3_parts_sha256(p ? p->data : NULL, p ? p->len : 0, u->expect_checksum, hex);
	md5_hex(p ? p->data : NULL, p ? p->len : 0, u->expect_etag);
	ret = object_request(u, &r, "PUT");
	if (!ret)
		ret = aws_http_request_add_header(&r, "x-amz-checksum-sha256", u->expect_checksum);
	/*
	 * As the SDKs do: names the checksum's algorithm, which is what S3
	 * looks for on objects under an Object Lock retention.
	 */
	if (!ret)
		ret = aws_http_request_add_header(&r, "x-amz-sdk-checksum-algorithm", "SHA256");
	if (!ret && !u->options.overwrite)
		ret = aws_http_request_add_header(&r, "if-none-match", "*");
	if (ret) {
		s3_upload_fail(u, ret, "put object", "too many headers");
		return ret;
	}
	r.body = p ? p->data : NULL;
	r.body_len = p ? p->len : 0;
	memcpy(r.payload_hash, hex, sizeof(hex));
	u->put_sent = true;
	ret = s3_perform(u->client, &r, &resp, why, sizeof(why));
	u->put_lost = resp.unanswered > 0;
	u->put_uncertain = may_exist(&resp, ret);
	/*
	 * 412: an object is there. Ours when an earlier attempt was applied and
	 * its reply lost; else another's, which write-once keeps.
	 */
	if (ret && ret != -EINTR && ret != -ETIMEDOUT && u->put_uncertain) {
		int found = look(u, u->expect_etag, seen, sizeof(seen));

		if (found == 1) {
			ret = 0;
			goto out;
		}
		if (found == -EEXIST) {
			ret = exists_error(u, "put object");
			goto out;
		}
	}
	if (ret) {
		s3_upload_fail(u, ret, "put object", why);
	} else {
		u->result.etag = resp.etag ? strdup(resp.etag) : NULL;
		u->result.version_id = resp.version_id ? strdup(resp.version_id) : NULL;
		u->result.checksum_sha256 = strdup(resp.checksum_sha256 ? resp.checksum_sha256 :
						   u->expect_checksum);
	}
out:
	if (!ret)
		u->result.parts = 1;
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

/* S3's composite SHA-256 of our parts: of their binary digests, base64. */
static void composite_checksum(const struct s3_upload_sink *u, char *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char raw[48], digest[32];
	unsigned int n = 0;
	bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);

	for (size_t i = 0; ok && i < u->done_count; i++)
		ok = EVP_DecodeBlock(raw, (const unsigned char *)u->done[i].checksum, 44) == 33 &&
		     EVP_DigestUpdate(ctx, raw, 32);
	ok = ok && EVP_DigestFinal_ex(ctx, digest, &n) && n == sizeof(digest);
	EVP_MD_CTX_free(ctx);
	out[0] = '\0';
	if (ok)
		(void)base64_encode(digest, sizeof(digest), out, S3_SHA256_B64);
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
	if (!u->options.overwrite)
		aws_http_request_add_header(&r, "if-none-match", "*");
	if (!u->options.ticket)
		composite_checksum(u, u->expect_checksum);
	aws_http_request_set_body(&r, body, body_len);
	ret = s3_perform(u->client, &r, &resp, why, sizeof(why));
	if (!ret && (s3_response_xml(&resp, &x) || !x.etag)) {
		snprintf(why, sizeof(why), "answer without an ETag");
		ret = -EPROTO;
	}
	/*
	 * Complete's answer can be lost after S3 acted on it (a reset, a front
	 * end's 500, or a 412 to the resend because our object is there now):
	 * every retry then fails although the object exists. Look first.
	 */
	if (ret && ret != -EINTR && ret != -ETIMEDOUT && may_exist(&resp, ret)) {
		char etag[2 * 16 + 16] = "", seen[S3_REASON_MAX];
		int found;

		if (!expected_etag(u, etag, sizeof(etag)))
			etag[0] = '\0';
		found = look(u, etag, seen, sizeof(seen));
		if (found == 1) {
			ret = 0;
			goto out;
		}
		if (found == -EEXIST) {
			ret = exists_error(u, "complete multipart upload");
			goto out;
		}
	}
	if (ret) {
		s3_upload_fail(u, ret, "complete multipart upload", why);
	} else {
		u->result.etag = strdup(x.etag);
		u->result.version_id = resp.version_id ? strdup(resp.version_id) : NULL;
		u->result.checksum_sha256 = x.checksum_sha256 ? strdup(x.checksum_sha256) : NULL;
	}
out:
	s3xml_free(&x);
	aws_http_response_reset(&resp);
	free(body);
	return ret;
}

/*
 * AbortMultipartUpload, and what it leaves: nothing of ours; or, when the
 * upload is gone already (a Complete that landed after all, or an earlier
 * abort), whatever the key holds; or the upload, still in progress.
 */
static enum s3_upload_state abort_upload(struct s3_upload_sink *u, char *why, size_t whylen)
{
	struct aws_http_response resp = { 0 };
	struct aws_http_request r;
	char etag[2 * 16 + 16] = "";
	int ret;

	memset(&r, 0, sizeof(r));
	r.method = "DELETE";
	r.path = u->key;
	r.best_effort_credentials = true;
	if (u->options.ticket)
		r.url = u->options.ticket->abort;
	r.query[r.query_count++] = (struct sigv4_pair){ "uploadId", u->result.upload_id };
	aws_http_request_set_body(&r, NULL, 0);
	ret = s3_perform(u->client, &r, &resp, why, whylen);
	if (ret && resp.status == 404) {
		if (u->done_count && !expected_etag(u, etag, sizeof(etag)))
			etag[0] = '\0';
		if (u->done_count && !u->options.ticket)
			composite_checksum(u, u->expect_checksum);
		ret = u->done_count == u->result.parts && u->done_count ?
		      look(u, etag, why, whylen) : 0;
		aws_http_response_reset(&resp);
		if (ret == 1) {
			u->completed = true;
			return S3_UPLOAD_COMPLETE;
		}
		return !ret ? S3_UPLOAD_ABSENT : ret == -EEXIST ? S3_UPLOAD_EXISTS :
		       S3_UPLOAD_UNKNOWN;
	}
	aws_http_response_reset(&resp);
	if (ret)
		return S3_UPLOAD_IN_PROGRESS;
	return u->error == -EEXIST ? S3_UPLOAD_EXISTS : S3_UPLOAD_ABSENT;
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

#define LIFECYCLE "the bucket's AbortIncompleteMultipartUpload lifecycle rule removes it " \
		  "a day after it began"

/* The outcome's sentence: what is at the key now, and what may still arrive. */
static void describe(struct s3_upload_sink *u, const char *why)
{
	const char *bucket = u->client->bucket ? u->client->bucket :
			     u->options.ticket ? u->options.ticket->bucket : "";
	char *o = u->outcome;
	size_t len = sizeof(u->outcome);
	int n = 0;

	switch (u->state) {
	case S3_UPLOAD_COMPLETE:
		n = snprintf(o, len, "s3://%s/%s is complete and correct (ETag %s)", bucket, u->key,
			     u->result.etag ? u->result.etag : "unknown");
		break;
	case S3_UPLOAD_ABSENT:
		n = snprintf(o, len, "nothing is stored at s3://%s/%s%s", bucket, u->key,
			     u->result.upload_id ? " (its multipart upload was aborted)" : "");
		break;
	case S3_UPLOAD_EXISTS:
		n = snprintf(o, len, "s3://%s/%s holds an object that is not this upload's, left "
			     "as it was%s", bucket, u->key, u->result.upload_id ?
			     " (this upload was aborted)" : "");
		break;
	case S3_UPLOAD_IN_PROGRESS:
		n = snprintf(o, len, "multipart upload %s of s3://%s/%s is left in progress (its "
			     "abort failed: %s); %s", u->result.upload_id, bucket, u->key, why,
			     LIFECYCLE);
		break;
	case S3_UPLOAD_UNKNOWN:
	case S3_UPLOAD_UNSETTLED:
		n = snprintf(o, len, "whether s3://%s/%s holds this upload is unknown (%s)", bucket,
			     u->key, why);
		break;
	}
	if (n < 0 || (size_t)n >= len)
		return;
	if (u->put_lost && u->state != S3_UPLOAD_COMPLETE)
		n += snprintf(o + n, len - (size_t)n, "; a PutObject whose answer was lost may "
			      "still store it");
	if (n >= 0 && (size_t)n < len && u->create_lost)
		snprintf(o + n, len - (size_t)n, "; a CreateMultipartUpload whose answer was lost "
			 "may still start an empty upload of the key, and %s", LIFECYCLE);
}

enum s3_upload_state s3_upload_sink_settle(struct sink *s)
{
	struct s3_upload_sink *u = (struct s3_upload_sink *)s;
	struct aws_http_client *h = &u->client->http;
	long long deadline = h->deadline_ms, budget = aws_http_now_ms() + S3_CLEANUP_BUDGET_MS;
	long grace = h->stop_grace_ms;
	char why[S3_REASON_MAX] = "";

	if (u->state)
		return u->state;
	/* Cleanup's own time: a stop ends it soon, a dead endpoint within the budget. */
	if (!deadline || deadline > budget)
		h->deadline_ms = budget;
	h->stop_grace_ms = S3_CLEANUP_AFTER_STOP_MS;
	s3_parts_stop(u);
	if (u->completed) {
		u->state = S3_UPLOAD_COMPLETE;
	} else if (u->result.upload_id) {
		u->state = abort_upload(u, why, sizeof(why));
	} else if (u->error == -EEXIST) {
		u->state = S3_UPLOAD_EXISTS;
	} else if (u->put_sent && u->put_uncertain) {
		int found = look(u, u->expect_etag, why, sizeof(why));

		u->state = found == 1 ? S3_UPLOAD_COMPLETE : !found ? S3_UPLOAD_ABSENT :
			   found == -EEXIST ? S3_UPLOAD_EXISTS : S3_UPLOAD_UNKNOWN;
		u->completed = found == 1;
	} else {
		u->state = S3_UPLOAD_ABSENT;
	}
	if (u->state == S3_UPLOAD_COMPLETE && !u->result.key) {
		u->result.bytes = s->bytes;
		u->result.key = strdup(u->key);
	}
	sweep_strays(u);
	u->result.stray_possible = u->create_lost;
	h->deadline_ms = deadline;
	h->stop_grace_ms = grace;
	describe(u, why);
	return u->state;
}

const char *s3_upload_sink_outcome(const struct sink *s)
{
	return ((const struct s3_upload_sink *)s)->outcome;
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
		u->result.stray_possible = u->create_lost;
		u->state = S3_UPLOAD_COMPLETE;
		describe(u, "");
	}
	return ret ? ret : 0;
}

static void upload_destroy(struct sink *s)
{
	struct s3_upload_sink *u = (struct s3_upload_sink *)s;

	if (u->multi && u->key)
		s3_upload_sink_settle(s);
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