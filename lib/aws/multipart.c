// SPDX-License-Identifier: GPL-2.0-only
#include "aws/multipart.h"
#include "base/encode.h"
#include "aws/download.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SHA256_BYTES 32
#define SHA256_B64 45
#define POLL_MS 200

enum part_state {
	PART_FREE,
	PART_FILLING,
	PART_QUEUED,
	PART_ACTIVE,
};

struct part {
	enum part_state state;
	unsigned int number;
	unsigned char *data;
	size_t len;
	size_t capacity;
	char checksum[SHA256_B64];
	char md5[SHA256_B64];
	unsigned int attempts;
	unsigned int quick_retries;
	long long not_before_ms;
	char number_text[12];
	struct aws_http_request req;
	struct aws_http_response resp;
	CURL *easy;
	struct curl_slist *headers;
};

struct done_part {
	unsigned int number;
	char *etag;
	char checksum[SHA256_B64];
};

struct upload_sink {
	struct sink base;
	struct s3_client *client;
	struct s3_upload_options options;
	char *key;
	char meta_storage[1024];

	struct part *pool;
	unsigned int pool_size;
	struct part *filling;
	unsigned int next_number;

	struct done_part *done;
	size_t done_count;
	size_t done_capacity;

	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	CURLM *multi;
	unsigned int active;
	bool closing;
	int error;
	char why[S3_REASON_MAX];

	struct s3_upload_result result;
	bool completed;
	bool create_resent;          /* CreateMultipartUpload went out more than once */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t s3_part_size(uint64_t first, uint64_t expected_size, unsigned int part_number)
{
	uint64_t size = first ? first : S3_DEFAULT_PART_SIZE;

	if (size < S3_MIN_PART_SIZE)
		size = S3_MIN_PART_SIZE;
	if (expected_size) {
		/* Leave a tenth of the parts spare in case the hint was low. */
		uint64_t need = (expected_size + S3_MAX_PARTS * 9 / 10 - 1) / (S3_MAX_PARTS * 9 / 10);

		need = (need + (1u << 20) - 1) & ~((uint64_t)(1u << 20) - 1);
		if (need > size)
			size = need;
	} else {
		for (unsigned int step = (part_number - 1) / S3_PARTS_PER_STEP; step; step--)
			if (size < S3_MAX_PART_SIZE)
				size *= 2;
	}
	return size > S3_MAX_PART_SIZE ? S3_MAX_PART_SIZE : size;
}

uint64_t s3_schedule_capacity(uint64_t first, uint64_t expected_size)
{
	uint64_t total = 0;

	for (unsigned int n = 1; n <= S3_MAX_PARTS; n++)
		total += s3_part_size(first, expected_size, n);
	return total;
}

/* The first failure wins: later ones are usually its consequences. */
static void set_error(struct upload_sink *u, int err, const char *what, const char *detail)
{
	if (u->error)
		return;
	u->error = err;
	s3_reason_set(u->why, sizeof(u->why), what, detail);
}

static void sha256_base64(const unsigned char *data, size_t len, char *out,
			  char hex[SIGV4_HEX_SHA256_LEN + 1])
{
	unsigned char digest[SHA256_BYTES];
	unsigned int n = 0;

	EVP_Digest(data ? (const void *)data : "", len, digest, &n, EVP_sha256(), NULL);
	(void)base64_encode(digest, sizeof(digest), out, SHA256_B64);
	for (unsigned int i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

/* ---- the uploader thread ---- */

static int start_part(struct upload_sink *u, struct part *p)
{
	char why[S3_REASON_MAX] = "";

	aws_http_response_reset(&p->resp);
	p->easy = aws_http_easy_new(&u->client->http, &p->req, &p->resp, &p->headers, why, sizeof(why));
	if (!p->easy) {
		set_error(u, -EIO, "part upload", why);
		return -EIO;
	}
	curl_easy_setopt(p->easy, CURLOPT_PRIVATE, p);
	if (curl_multi_add_handle(u->multi, p->easy) != CURLM_OK) {
		aws_http_easy_free(p->easy, p->headers);
		p->easy = NULL;
		set_error(u, -EIO, "part upload", "cannot add a transfer");
		return -EIO;
	}
	p->state = PART_ACTIVE;
	p->attempts++;
	u->active++;
	return 0;
}

static int record_done(struct upload_sink *u, struct part *p)
{
	if (!p->resp.etag) {
		set_error(u, -EPROTO, "part upload", "answer without an ETag");
		return -EPROTO;
	}
	if (u->done_count == u->done_capacity) {
		size_t cap = u->done_capacity ? u->done_capacity * 2 : 64;
		struct done_part *n = realloc(u->done, cap * sizeof(*n));

		if (!n) {
			set_error(u, -ENOMEM, "part upload", "out of memory");
			return -ENOMEM;
		}
		u->done = n;
		u->done_capacity = cap;
	}
	u->done[u->done_count].number = p->number;
	u->done[u->done_count].etag = p->resp.etag;
	memcpy(u->done[u->done_count].checksum, p->checksum, SHA256_B64);
	p->resp.etag = NULL;
	u->done_count++;
	return 0;
}

/* A transfer ended: keep the part, schedule a retry, or fail the upload. */
static void finish_transfer(struct upload_sink *u, struct part *p, CURLcode code)
{
	char why[S3_REASON_MAX] = "";
	enum aws_http_verdict verdict;

	p->resp.curl_code = code;
	curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &p->resp.status);
	curl_multi_remove_handle(u->multi, p->easy);
	aws_http_easy_free(p->easy, p->headers);
	p->easy = NULL;
	p->headers = NULL;
	u->active--;
	verdict = s3_classify(&u->client->http, &p->resp, why, sizeof(why));
	switch (verdict) {
	case AWS_HTTP_OK:
		if (!record_done(u, p)) {
			p->state = PART_FREE;
			p->len = 0;
		}
		break;
	case AWS_HTTP_RETRY_NOW:
		if (++p->quick_retries <= 2) {
			p->state = PART_QUEUED;
			p->not_before_ms = 0;
			break;
		}
		/* The fix did not help: back off like any failure. */
		__attribute__((fallthrough));
	case AWS_HTTP_RETRY:
		if (p->attempts >= u->client->http.max_attempts) {
			char detail[S3_REASON_MAX + 64];

			snprintf(detail, sizeof(detail), "part %u failed %u times, last: %s",
				 p->number, p->attempts, why);
			set_error(u, -EIO, "upload", detail);
			break;
		}
		p->state = PART_QUEUED;
		p->not_before_ms = now_ms() + aws_http_backoff_ms(&u->client->http, p->attempts);
		break;
	case AWS_HTTP_FATAL: {
		char detail[S3_REASON_MAX + 32];

		snprintf(detail, sizeof(detail), "part %u: %s", p->number, why);
		set_error(u, p->resp.status == 403 ? -EACCES : -EIO, "upload", detail);
		break;
	}
	}
	aws_http_response_reset(&p->resp);
}

static void *uploader_thread(void *arg)
{
	struct upload_sink *u = arg;

	pthread_mutex_lock(&u->lock);
	for (;;) {
		long long now = now_ms(), wait = POLL_MS;
		CURLMsg *msg;
		int running, left;

		if (!u->error) {
			for (unsigned int i = 0; i < u->pool_size; i++) {
				struct part *p = &u->pool[i];

				if (p->state != PART_QUEUED || u->active >= u->options.parts_in_flight)
					continue;
				if (p->not_before_ms > now) {
					if (p->not_before_ms - now < wait)
						wait = p->not_before_ms - now;
					continue;
				}
				start_part(u, p);
			}
		}
		if (u->error && u->active == 0)
			break;
		if (u->closing && u->active == 0) {
			bool queued = false;

			for (unsigned int i = 0; i < u->pool_size; i++)
				queued |= u->pool[i].state == PART_QUEUED;
			if (!queued || u->error)
				break;
		}
		pthread_mutex_unlock(&u->lock);
		curl_multi_poll(u->multi, NULL, 0, (int)wait, NULL);
		curl_multi_perform(u->multi, &running);
		pthread_mutex_lock(&u->lock);
		while ((msg = curl_multi_info_read(u->multi, &left))) {
			struct part *p = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&p);
			finish_transfer(u, p, msg->data.result);
		}
		if (u->error) {
			/* Stop what is still in flight: the upload is going to be aborted. */
			for (unsigned int i = 0; i < u->pool_size; i++) {
				struct part *p = &u->pool[i];

				if (p->state == PART_ACTIVE && p->easy) {
					curl_multi_remove_handle(u->multi, p->easy);
					aws_http_easy_free(p->easy, p->headers);
					p->easy = NULL;
					p->headers = NULL;
					u->active--;
				}
				if (p->state == PART_ACTIVE || p->state == PART_QUEUED)
					p->state = PART_FREE;
			}
		}
		pthread_cond_broadcast(&u->changed);
	}
	pthread_cond_broadcast(&u->changed);
	pthread_mutex_unlock(&u->lock);
	return NULL;
}

/* ---- the producer side ---- */

static int object_request(struct upload_sink *u, struct aws_http_request *r, const char *method)
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

static int create_upload(struct upload_sink *u)
{
	char why[S3_REASON_MAX];
	int ret = s3_multipart_create(u->client, u->key, &u->options.object, true,
				      &u->result.upload_id, &u->create_resent, why, sizeof(why));

	if (ret)
		set_error(u, ret, "create multipart upload", why);
	return ret;
}

static struct part *wait_free_part(struct upload_sink *u)
{
	struct part *found = NULL;

	pthread_mutex_lock(&u->lock);
	while (!u->error) {
		for (unsigned int i = 0; i < u->pool_size && !found; i++)
			if (u->pool[i].state == PART_FREE)
				found = &u->pool[i];
		if (found)
			break;
		pthread_cond_wait(&u->changed, &u->lock);
	}
	if (found)
		found->state = PART_FILLING;
	pthread_mutex_unlock(&u->lock);
	return found;
}

static int prepare_part(struct upload_sink *u, struct part *p)
{
	const struct s3_ticket *t = u->options.ticket;
	char hex[SIGV4_HEX_SHA256_LEN + 1];

	sha256_base64(p->data, p->len, p->checksum, hex);
	memset(&p->req, 0, sizeof(p->req));
	if (t) {
		unsigned char md5[16];
		unsigned int n = 0;

		if (p->number > t->part_count) {
			set_error(u, -E2BIG, "upload", "the ticket has no URL for this many parts");
			return -E2BIG;
		}
		EVP_Digest(p->data ? (const void *)p->data : "", p->len, md5, &n, EVP_md5(), NULL);
		(void)base64_encode(md5, sizeof(md5), p->md5, sizeof(p->md5));
		p->req.method = "PUT";
		p->req.url = t->parts[p->number - 1];
		aws_http_request_add_header(&p->req, "content-md5", p->md5);
		p->req.body = p->data;
		p->req.body_len = p->len;
		p->attempts = 0;
		p->quick_retries = 0;
		p->not_before_ms = 0;
		return 0;
	}
	p->req.method = "PUT";
	p->req.path = u->key;
	snprintf(p->number_text, sizeof(p->number_text), "%u", p->number);
	p->req.query[p->req.query_count++] = (struct sigv4_pair){ "partNumber", p->number_text };
	p->req.query[p->req.query_count++] =
		(struct sigv4_pair){ "uploadId", u->result.upload_id };
	aws_http_request_add_header(&p->req, "x-amz-checksum-sha256", p->checksum);
	aws_http_request_add_header(&p->req, "x-amz-sdk-checksum-algorithm", "SHA256");
	p->req.body = p->data;
	p->req.body_len = p->len;
	/* The signed payload hash is the part's own: S3 refuses bytes that differ. */
	memcpy(p->req.payload_hash, hex, sizeof(hex));
	p->attempts = 0;
	p->quick_retries = 0;
	p->not_before_ms = 0;
	return 0;
}

static int submit_filling(struct upload_sink *u)
{
	struct part *p = u->filling;
	int ret;

	if (!u->result.upload_id) {
		ret = create_upload(u);
		if (ret)
			return ret;
	}
	if (u->next_number > S3_MAX_PARTS) {
		set_error(u, -EFBIG, "upload", "object needs more than 10000 parts");
		return -EFBIG;
	}
	p->number = u->next_number++;
	ret = prepare_part(u, p);
	if (ret)
		return ret;
	pthread_mutex_lock(&u->lock);
	p->state = PART_QUEUED;
	u->result.parts++;
	ret = u->error;
	pthread_mutex_unlock(&u->lock);
	curl_multi_wakeup(u->multi);
	u->filling = NULL;
	return ret;
}

static int ensure_filling(struct upload_sink *u)
{
	struct part *p;
	uint64_t want;

	if (u->filling)
		return 0;
	p = wait_free_part(u);
	if (!p)
		return u->error;
	want = s3_part_size(u->options.part_size, u->options.expected_size, u->next_number);
	if (p->capacity < want) {
		unsigned char *grown = realloc(p->data, want);

		if (!grown) {
			set_error(u, -ENOMEM, "upload", "out of memory for a part buffer");
			return -ENOMEM;
		}
		p->data = grown;
		p->capacity = want;
	}
	p->len = 0;
	u->filling = p;
	return 0;
}

static int upload_write(struct sink *s, const void *buf, size_t len)
{
	struct upload_sink *u = (struct upload_sink *)s;
	const unsigned char *in = buf;

	while (len) {
		uint64_t want;
		size_t take;
		int ret = ensure_filling(u);

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

static int put_single(struct upload_sink *u, const struct part *p)
{
	char checksum[SHA256_B64], hex[SIGV4_HEX_SHA256_LEN + 1], why[S3_REASON_MAX];
	struct aws_http_response resp = { 0 };
	struct aws_http_request r;
	int ret;

	sha256_base64(p ? p->data : NULL, p ? p->len : 0, checksum, hex);
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
		set_error(u, ret, "put object", "too many headers");
		return ret;
	}
	r.body = p ? p->data : NULL;
	r.body_len = p ? p->len : 0;
	memcpy(r.payload_hash, hex, sizeof(hex));
	ret = s3_perform(u->client, &r, &resp, why, sizeof(why));
	if (ret) {
		set_error(u, ret, "put object", why);
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
	const struct done_part *x = a, *y = b;

	return x->number < y->number ? -1 : x->number > y->number;
}

/* Hex MD5 of the parts' binary MD5s and "-N": S3's ETag for our multipart object. */
static bool expected_etag(const struct upload_sink *u, char *out, size_t outlen)
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
static bool completed_anyway(struct upload_sink *u)
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

static int complete_upload(struct upload_sink *u)
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
		set_error(u, -EIO, "complete", "a part is missing");
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
		set_error(u, ret, "complete multipart upload", why);
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

static void abort_upload(struct upload_sink *u)
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

static void stop_thread(struct upload_sink *u)
{
	if (!u->thread_started)
		return;
	pthread_mutex_lock(&u->lock);
	u->closing = true;
	pthread_mutex_unlock(&u->lock);
	curl_multi_wakeup(u->multi);
	pthread_join(u->thread, NULL);
	u->thread_started = false;
}

/*
 * A CreateMultipartUpload sent twice may have made an upload whose answer
 * never arrived: abort any of this key but the one that became the object
 * (or all, when none did). Once, best effort: without
 * s3:ListBucketMultipartUploads it is left to the bucket's
 * AbortIncompleteMultipartUpload lifecycle rule.
 */
static void sweep_strays(struct upload_sink *u)
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
	struct upload_sink *u = (struct upload_sink *)s;
	int ret;

	/* The whole object fits in one part: a single PutObject. */
	if (!u->result.upload_id && !u->error) {
		stop_thread(u);
		ret = put_single(u, u->filling);
		goto out;
	}
	if (u->filling && u->filling->len && !u->error)
		submit_filling(u);
	/*
	 * Nothing written through a ticket (whose upload already exists):
	 * Complete needs a part, and a last part may be empty.
	 */
	if (u->next_number == 1 && !u->error && !ensure_filling(u))
		submit_filling(u);
	stop_thread(u);
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
	struct upload_sink *u = (struct upload_sink *)s;

	stop_thread(u);
	if (!u->completed)
		abort_upload(u);
	sweep_strays(u);
	for (unsigned int i = 0; i < u->pool_size; i++) {
		if (u->pool[i].easy)
			aws_http_easy_free(u->pool[i].easy, u->pool[i].headers);
		aws_http_response_reset(&u->pool[i].resp);
		free(u->pool[i].data);
	}
	free(u->pool);
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
	struct upload_sink *u = calloc(1, sizeof(*u));

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
	*err = -pthread_create(&u->thread, NULL, uploader_thread, u);
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
	return &((const struct upload_sink *)s)->result;
}

const char *s3_upload_sink_error(const struct sink *s)
{
	return ((const struct upload_sink *)s)->why;
}
