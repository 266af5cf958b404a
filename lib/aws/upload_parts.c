// SPDX-License-Identifier: GPL-2.0-only
#include "aws/upload_parts.h"
#include "base/encode.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHA256_BYTES 32
#define POLL_MS 200

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

void s3_upload_fail(struct s3_upload_sink *u, int err, const char *what, const char *detail)
{
	if (u->error)
		return;
	u->error = err;
	s3_reason_set(u->why, sizeof(u->why), what, detail);
}

void s3_parts_sha256(const unsigned char *data, size_t len, char *out,
			  char hex[SIGV4_HEX_SHA256_LEN + 1])
{
	unsigned char digest[SHA256_BYTES];
	unsigned int n = 0;

	EVP_Digest(data ? (const void *)data : "", len, digest, &n, EVP_sha256(), NULL);
	(void)base64_encode(digest, sizeof(digest), out, S3_SHA256_B64);
	for (unsigned int i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

static int start_part(struct s3_upload_sink *u, struct s3_part *p)
{
	char why[S3_REASON_MAX] = "", detail[2 * S3_REASON_MAX + 32];
	int ret = aws_http_transfer_start(&u->client->http, u->multi, &p->xfer, p, why,
					  sizeof(why));

	if (ret) {
		/* Say what S3 answered that led here: ExpiredToken, ... */
		snprintf(detail, sizeof(detail), "%s%s%s", why,
			 p->last_answer[0] ? "; the last answer was " : "", p->last_answer);
		s3_upload_fail(u, ret, "part upload", detail);
		return ret;
	}
	p->state = S3_PART_ACTIVE;
	p->attempts++;
	u->active++;
	return 0;
}

static int record_done(struct s3_upload_sink *u, struct s3_part *p)
{
	if (!p->xfer.resp.etag) {
		s3_upload_fail(u, -EPROTO, "part upload", "answer without an ETag");
		return -EPROTO;
	}
	if (u->done_count == u->done_capacity) {
		size_t cap = u->done_capacity ? u->done_capacity * 2 : 64;
		struct s3_done_part *n = realloc(u->done, cap * sizeof(*n));

		if (!n) {
			s3_upload_fail(u, -ENOMEM, "part upload", "out of memory");
			return -ENOMEM;
		}
		u->done = n;
		u->done_capacity = cap;
	}
	u->done[u->done_count].number = p->number;
	u->done[u->done_count].etag = p->xfer.resp.etag;
	memcpy(u->done[u->done_count].checksum, p->checksum, S3_SHA256_B64);
	p->xfer.resp.etag = NULL;
	u->done_count++;
	return 0;
}

/* A transfer ended: keep the part, schedule a retry, or fail the upload. */
static void finish_transfer(struct s3_upload_sink *u, struct s3_part *p, CURLcode code)
{
	char why[S3_REASON_MAX] = "";
	enum aws_http_verdict verdict;

	aws_http_transfer_done(u->multi, &p->xfer, code);
	u->active--;
	verdict = s3_classify(&u->client->http, &p->xfer.resp, why, sizeof(why));
	snprintf(p->last_answer, sizeof(p->last_answer), "%s", why);
	switch (verdict) {
	case AWS_HTTP_OK:
		if (!record_done(u, p)) {
			p->state = S3_PART_FREE;
			p->len = 0;
		}
		break;
	case AWS_HTTP_RETRY_NOW:
		if (++p->quick_retries <= 2) {
			p->state = S3_PART_QUEUED;
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
			s3_upload_fail(u, -EIO, "upload", detail);
			break;
		}
		p->state = S3_PART_QUEUED;
		p->not_before_ms = aws_http_now_ms() +
				   aws_http_backoff_ms(&u->client->http, p->attempts);
		break;
	case AWS_HTTP_FATAL: {
		char detail[S3_REASON_MAX + 32];

		snprintf(detail, sizeof(detail), "part %u: %s", p->number, why);
		s3_upload_fail(u, aws_http_fatal_error(&p->xfer.resp), "upload", detail);
		break;
	}
	}
	aws_http_response_reset(&p->xfer.resp);
}

void *s3_parts_thread(void *arg)
{
	struct s3_upload_sink *u = arg;

	pthread_mutex_lock(&u->lock);
	for (;;) {
		long long now = aws_http_now_ms(), wait = POLL_MS;
		CURLMsg *msg;
		int running, left, stop = aws_http_interrupted(&u->client->http);

		if (stop)
			s3_upload_fail(u, stop, "upload", stop == -EINTR ? "stopped by a signal" :
				       "out of time");
		if (!u->error) {
			for (unsigned int i = 0; i < u->pool_size; i++) {
				struct s3_part *p = &u->pool[i];

				if (p->state != S3_PART_QUEUED ||
				    u->active >= u->options.parts_in_flight)
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
				queued |= u->pool[i].state == S3_PART_QUEUED;
			if (!queued || u->error)
				break;
		}
		pthread_mutex_unlock(&u->lock);
		curl_multi_poll(u->multi, NULL, 0, (int)wait, NULL);
		curl_multi_perform(u->multi, &running);
		pthread_mutex_lock(&u->lock);
		while ((msg = curl_multi_info_read(u->multi, &left))) {
			struct s3_part *p = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&p);
			finish_transfer(u, p, msg->data.result);
		}
		if (u->error) {
			/* Stop what is still in flight: the upload is going to be aborted. */
			for (unsigned int i = 0; i < u->pool_size; i++) {
				struct s3_part *p = &u->pool[i];

				if (p->state == S3_PART_ACTIVE && p->xfer.easy) {
					aws_http_transfer_stop(u->multi, &p->xfer);
					u->active--;
				}
				if (p->state == S3_PART_ACTIVE || p->state == S3_PART_QUEUED)
					p->state = S3_PART_FREE;
			}
		}
		pthread_cond_broadcast(&u->changed);
	}
	pthread_cond_broadcast(&u->changed);
	pthread_mutex_unlock(&u->lock);
	return NULL;
}

static struct s3_part *wait_free_part(struct s3_upload_sink *u)
{
	struct s3_part *found = NULL;

	pthread_mutex_lock(&u->lock);
	while (!u->error) {
		for (unsigned int i = 0; i < u->pool_size && !found; i++)
			if (u->pool[i].state == S3_PART_FREE)
				found = &u->pool[i];
		if (found)
			break;
		pthread_cond_wait(&u->changed, &u->lock);
	}
	if (found)
		found->state = S3_PART_FILLING;
	pthread_mutex_unlock(&u->lock);
	return found;
}

int s3_parts_prepare(struct s3_upload_sink *u, struct s3_part *p)
{
	const struct s3_ticket *t = u->options.ticket;
	struct aws_http_request *r = &p->xfer.req;
	char hex[SIGV4_HEX_SHA256_LEN + 1];

	s3_parts_sha256(p->data, p->len, p->checksum, hex);
	memset(r, 0, sizeof(*r));
	r->method = "PUT";
	r->body = p->data;
	r->body_len = p->len;
	p->attempts = 0;
	p->quick_retries = 0;
	p->last_answer[0] = '\0';
	p->not_before_ms = 0;
	if (t) {
		unsigned char md5[16];
		unsigned int n = 0;

		if (p->number > t->part_count) {
			s3_upload_fail(u, -E2BIG, "upload",
				       "the ticket has no URL for this many parts");
			return -E2BIG;
		}
		EVP_Digest(p->data ? (const void *)p->data : "", p->len, md5, &n, EVP_md5(), NULL);
		(void)base64_encode(md5, sizeof(md5), p->md5, sizeof(p->md5));
		r->url = t->parts[p->number - 1];
		aws_http_request_add_header(r, "content-md5", p->md5);
		return 0;
	}
	r->path = u->key;
	snprintf(p->number_text, sizeof(p->number_text), "%u", p->number);
	r->query[r->query_count++] = (struct sigv4_pair){ "partNumber", p->number_text };
	r->query[r->query_count++] = (struct sigv4_pair){ "uploadId", u->result.upload_id };
	aws_http_request_add_header(r, "x-amz-checksum-sha256", p->checksum);
	aws_http_request_add_header(r, "x-amz-sdk-checksum-algorithm", "SHA256");
	/* The signed payload hash is the part's own: S3 refuses bytes that differ. */
	memcpy(r->payload_hash, hex, sizeof(hex));
	return 0;
}

int s3_parts_fill_next(struct s3_upload_sink *u)
{
	struct s3_part *p;
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
			s3_upload_fail(u, -ENOMEM, "upload", "out of memory for a part buffer");
			return -ENOMEM;
		}
		p->data = grown;
		p->capacity = want;
	}
	p->len = 0;
	u->filling = p;
	return 0;
}

void s3_parts_stop(struct s3_upload_sink *u)
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

void s3_parts_free(struct s3_upload_sink *u)
{
	for (unsigned int i = 0; i < u->pool_size; i++) {
		aws_http_transfer_stop(u->multi, &u->pool[i].xfer);
		aws_http_response_reset(&u->pool[i].xfer.resp);
		free(u->pool[i].data);
	}
	free(u->pool);
}
