// SPDX-License-Identifier: GPL-2.0-only
#include "aws/download.h"
#include "base/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 200

struct range_slot {
	bool busy;
	bool done;
	uint64_t start;
	uint64_t end;
	unsigned int attempts;
	long long not_before_ms;
	char range_header[64];
	struct aws_http_transfer xfer;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fail(struct s3_download *d, int err, const char *what, const char *detail)
{
	if (d->error)
		return;
	d->error = err;
	s3_reason_set(d->why, sizeof(d->why), what, detail);
}

static int start_range(struct s3_download *d, CURLM *multi, struct range_slot *s)
{
	char why[S3_REASON_MAX] = "";
	int ret;

	memset(&s->xfer.req, 0, sizeof(s->xfer.req));
	s->xfer.req.method = "GET";
	s->xfer.req.path = d->key;
	snprintf(s->range_header, sizeof(s->range_header), "bytes=%" PRIu64 "-%" PRIu64,
		 s->start, s->end);
	aws_http_request_add_header(&s->xfer.req, "range", s->range_header);
	aws_http_request_set_body(&s->xfer.req, NULL, 0);
	s->xfer.resp.body_max = (size_t)(s->end - s->start + 1);
	ret = aws_http_transfer_start(&d->client->http, multi, &s->xfer, s, why, sizeof(why));
	if (ret) {
		fail(d, ret, "ranged GET", why);
		return ret;
	}
	s->attempts++;
	s->busy = true;
	return 0;
}

static void range_done(struct s3_download *d, CURLM *multi, struct range_slot *s, CURLcode code)
{
	char why[S3_REASON_MAX] = "";
	enum aws_http_verdict verdict;

	aws_http_transfer_done(multi, &s->xfer, code);
	s->busy = false;
	verdict = s3_classify(&d->client->http, &s->xfer.resp, why, sizeof(why));
	if (verdict == AWS_HTTP_OK && s->xfer.resp.body_len != s->end - s->start + 1) {
		snprintf(why, sizeof(why), "range %" PRIu64 "-%" PRIu64 " answered %zu bytes",
			 s->start, s->end, s->xfer.resp.body_len);
		verdict = AWS_HTTP_RETRY;
	}
	if (verdict == AWS_HTTP_OK) {
		s->done = true;
		return;
	}
	if (verdict == AWS_HTTP_FATAL || s->attempts >= d->client->http.max_attempts) {
		fail(d, verdict == AWS_HTTP_FATAL ? aws_http_fatal_error(&s->xfer.resp) : -EIO,
		     "ranged GET", why);
		return;
	}
	s->not_before_ms = verdict == AWS_HTTP_RETRY_NOW ? 0 :
		now_ms() + aws_http_backoff_ms(&d->client->http, s->attempts);
}

static void *download_thread(void *arg)
{
	struct s3_download *d = arg;
	struct range_slot slots[S3_DOWNLOAD_PARALLEL] = { 0 };
	uint64_t next_start = 0;
	unsigned int head = 0;   /* slot holding the next range to write */
	CURLM *multi = curl_multi_init();

	if (!multi) {
		fail(d, -ENOMEM, "download", "out of memory");
		goto out;
	}
	/* Ranges go round the slots in order, so slot head always writes next. */
	for (unsigned int i = 0; i < S3_DOWNLOAD_PARALLEL && next_start < d->size; i++) {
		slots[i].start = next_start;
		slots[i].end = next_start + S3_DOWNLOAD_RANGE - 1 < d->size - 1 ?
			next_start + S3_DOWNLOAD_RANGE - 1 : d->size - 1;
		next_start = slots[i].end + 1;
		slots[i].busy = false;
		slots[i].done = false;
		slots[i].attempts = 0;
		if (start_range(d, multi, &slots[i]))
			goto out;
	}
	while (!d->error && d->written < d->size) {
		struct range_slot *h = &slots[head];
		CURLMsg *msg;
		int running, left;

		if (h->done) {
			int ret = write_all(d->fd, h->xfer.resp.body, h->xfer.resp.body_len);

			if (ret) {
				fail(d, ret, "download", "the reader went away");
				break;
			}
			d->written += h->xfer.resp.body_len;
			h->done = false;
			if (next_start < d->size) {
				h->start = next_start;
				h->end = next_start + S3_DOWNLOAD_RANGE - 1 < d->size - 1 ?
					next_start + S3_DOWNLOAD_RANGE - 1 : d->size - 1;
				next_start = h->end + 1;
				h->attempts = 0;
				h->not_before_ms = 0;
				if (start_range(d, multi, h))
					break;
			} else {
				/* Nothing left to fetch: this slot retires. */
				h->attempts = 0;
				aws_http_response_reset(&h->xfer.resp);
			}
			head = (head + 1) % S3_DOWNLOAD_PARALLEL;
			continue;
		}
		for (unsigned int i = 0; i < S3_DOWNLOAD_PARALLEL; i++) {
			struct range_slot *s = &slots[i];

			if (!s->busy && !s->done && s->attempts && s->start < next_start &&
			    s->not_before_ms <= now_ms() && s->end >= s->start)
				start_range(d, multi, s);
		}
		curl_multi_poll(multi, NULL, 0, POLL_MS, NULL);
		curl_multi_perform(multi, &running);
		while ((msg = curl_multi_info_read(multi, &left))) {
			struct range_slot *s = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			range_done(d, multi, s, msg->data.result);
		}
	}
out:
	for (unsigned int i = 0; i < S3_DOWNLOAD_PARALLEL; i++) {
		aws_http_transfer_stop(multi, &slots[i].xfer);
		aws_http_response_reset(&slots[i].xfer.resp);
	}
	if (multi)
		curl_multi_cleanup(multi);
	/* EOF tells the reader the stream ended; d->error says whether it was whole. */
	close(d->fd);
	d->fd = -1;
	return NULL;
}

int s3_download_start(struct s3_download *d, struct s3_client *c, const char *key, int fd)
{
	struct aws_http_response resp = { 0 };
	struct aws_http_request r = { 0 };
	int ret;

	memset(d, 0, sizeof(*d));
	d->client = c;
	d->fd = fd;
	d->key = strdup(key);
	if (!d->key)
		return -ENOMEM;
	r.method = "HEAD";
	r.path = key;
	aws_http_request_set_body(&r, NULL, 0);
	ret = s3_perform(c, &r, &resp, d->why, sizeof(d->why));
	if (!ret && resp.content_length < 0) {
		snprintf(d->why, sizeof(d->why), "HEAD answered without a Content-Length");
		ret = -EPROTO;
	}
	if (ret) {
		if (resp.status == 404)
			snprintf(d->why, sizeof(d->why), "no such object");
		aws_http_response_reset(&resp);
		goto fail;
	}
	d->size = (uint64_t)resp.content_length;
	aws_http_response_reset(&resp);
	ret = -pthread_create(&d->thread, NULL, download_thread, d);
	if (ret)
		goto fail;
	d->started = true;
	return 0;
fail:
	/* A download that never started needs no s3_download_finish(). */
	free(d->key);
	d->key = NULL;
	d->error = ret;
	return ret;
}

int s3_download_finish(struct s3_download *d)
{
	if (d->started)
		pthread_join(d->thread, NULL);
	d->started = false;
	free(d->key);
	d->key = NULL;
	if (!d->error && d->written != d->size) {
		d->error = -EIO;
		snprintf(d->why, sizeof(d->why), "stream ended after %" PRIu64 " of %" PRIu64 " bytes",
			 d->written, d->size);
	}
	return d->error;
}

int s3_get_small(struct s3_client *c, const char *key, size_t max, char **body, size_t *len,
		 char *why, size_t whylen)
{
	struct aws_http_response resp = { .body_max = max };
	struct aws_http_request r = { 0 };
	int ret;

	r.method = "GET";
	r.path = key;
	aws_http_request_set_body(&r, NULL, 0);
	ret = s3_perform(c, &r, &resp, why, whylen);
	if (ret && resp.status == 404)
		ret = -ENOENT;
	if (!ret && resp.body_overflow) {
		snprintf(why, whylen, "larger than %zu bytes", max);
		ret = -EFBIG;
	}
	if (!ret) {
		*body = resp.body ? resp.body : strdup("");
		*len = resp.body_len;
		resp.body = NULL;
	}
	aws_http_response_reset(&resp);
	return ret;
}

int s3_head(struct s3_client *c, const char *key, struct s3_head *out, char *why,
	    size_t whylen)
{
	struct aws_http_response resp = { 0 };
	struct aws_http_request r = { 0 };
	int ret;

	memset(out, 0, sizeof(*out));
	out->size = -1;
	r.method = "HEAD";
	r.path = key;
	aws_http_request_set_body(&r, NULL, 0);
	ret = s3_perform(c, &r, &resp, why, whylen);
	if (ret && resp.status == 404) {
		snprintf(why, whylen, "no such object");
		ret = -ENOENT;
	}
	if (!ret) {
		out->size = resp.content_length;
		out->etag = resp.etag;
		out->version_id = resp.version_id;
		resp.etag = NULL;
		resp.version_id = NULL;
	}
	aws_http_response_reset(&resp);
	return ret;
}

void s3_head_free(struct s3_head *h)
{
	free(h->etag);
	free(h->version_id);
	memset(h, 0, sizeof(*h));
}

/* One more page's objects appended to all (taken from page). */
static int list_append(struct s3xml_list *all, struct s3xml_list *page)
{
	struct s3xml_object *grown;

	if (!page->count)
		return 0;
	grown = realloc(all->objects, (all->count + page->count) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	memcpy(grown + all->count, page->objects, page->count * sizeof(*grown));
	all->objects = grown;
	all->count += page->count;
	free(page->objects);
	page->objects = NULL;
	page->count = 0;
	return 0;
}

int s3_list(struct s3_client *c, const char *prefix, size_t max, struct s3xml_list *out,
	    char *why, size_t whylen)
{
	char *token = NULL;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	snprintf(out->root, sizeof(out->root), "ListBucketResult");
	do {
		struct aws_http_request r = { .method = "GET" };
		struct s3xml_list page;

		r.query[r.query_count++] = (struct sigv4_pair){ "list-type", "2" };
		r.query[r.query_count++] = (struct sigv4_pair){ "prefix", prefix };
		if (token)
			r.query[r.query_count++] = (struct sigv4_pair){ "continuation-token", token };
		aws_http_request_set_body(&r, NULL, 0);
		ret = s3_perform_list(c, &r, "ListObjectsV2", "ListBucketResult", &page, why,
				      whylen);
		free(token);
		token = NULL;
		if (ret)
			break;
		ret = list_append(out, &page);
		if (!ret && page.truncated && page.next_token) {
			token = page.next_token;
			page.next_token = NULL;
		}
		s3xml_list_free(&page);
		if (!ret && token && out->count >= max) {
			snprintf(why, whylen, "more than %zu objects under %s", max, prefix);
			ret = -EFBIG;
		}
	} while (!ret && token);
	free(token);
	if (ret)
		s3xml_list_free(out);
	return ret;
}
