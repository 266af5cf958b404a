// SPDX-License-Identifier: GPL-2.0-only
#include "aws/http.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

int aws_http_client_init(struct aws_http_client *c, const char *region, const char *service,
			 struct aws_credentials_provider *credentials)
{
	memset(c, 0, sizeof(*c));
	if (region) {
		c->region = strdup(region);
		if (!c->region)
			return -ENOMEM;
	}
	c->service = service;
	c->credentials = credentials;
	c->max_attempts = AWS_HTTP_DEFAULT_MAX_ATTEMPTS;
	c->stall_timeout_s = AWS_HTTP_LOW_SPEED_TIME_S;
	/* Clients made in the same second (one per service) jitter apart. */
	c->random_state = (unsigned int)time(NULL) ^ (unsigned int)getpid() ^
			  (unsigned int)(uintptr_t)c;
	return 0;
}

void aws_http_client_free(struct aws_http_client *c)
{
	free(c->region);
	s3_endpoint_free(&c->endpoint);
	memset(c, 0, sizeof(*c));
}

/* Copied: the Lambda handler parses each event's options from memory it frees. */
static char ca_bundle_option[PATH_MAX];

void aws_http_ca_bundle_set(const char *path)
{
	snprintf(ca_bundle_option, sizeof(ca_bundle_option), "%s", path ? path : "");
}

static int find_trust(struct aws_http_client *c, char *why, size_t whylen)
{
	char reason[AWS_HTTP_REASON_MAX] = "";

	if (c->trust)
		return 0;
	if (aws_trust_host(ca_bundle_option[0] ? ca_bundle_option : NULL, &c->trust, reason,
			   sizeof(reason))) {
		snprintf(why, whylen, "TLS: %s", reason);
		return -AWS_HTTP_ENOTRUST;
	}
	return 0;
}

static bool is_https(const char *url_or_scheme)
{
	return url_or_scheme && !strncasecmp(url_or_scheme, "https", 5) &&
	       (!url_or_scheme[5] || url_or_scheme[5] == ':');
}

int aws_http_client_trust(struct aws_http_client *c, const struct aws_trust **out, char *why,
			  size_t whylen)
{
	int ret = 0;

	*out = NULL;
	if (is_https(c->endpoint.scheme))
		ret = find_trust(c, why, whylen);
	if (!ret)
		*out = c->trust;
	return ret;
}

/* A presigned URL names its own scheme; any other request goes to the client's endpoint. */
static int request_trust(struct aws_http_client *c, const struct aws_http_request *r, bool *https,
			 char *why, size_t whylen)
{
	*https = is_https(r->url ? r->url : c->endpoint.scheme);
	return *https ? find_trust(c, why, whylen) : 0;
}

int aws_http_request_add_header(struct aws_http_request *r, const char *name, const char *value)
{
	if (r->header_count == AWS_HTTP_MAX_HEADERS)
		return -E2BIG;
	r->headers[r->header_count].name = name;
	r->headers[r->header_count].value = value;
	r->header_count++;
	return 0;
}

void aws_http_request_set_body(struct aws_http_request *r, const void *body, size_t len)
{
	unsigned char digest[32];
	unsigned int n = 0;

	r->body = body;
	r->body_len = len;
	EVP_Digest(body ? body : "", len, digest, &n, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < n; i++)
		snprintf(r->payload_hash + 2 * i, 3, "%02x", digest[i]);
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct aws_http_response *resp = userdata;
	size_t n = size * nmemb;
	char *grown;

	if (resp->body_len + n > (resp->body_max ? resp->body_max : AWS_HTTP_RESPONSE_MAX)) {
		resp->body_overflow = true;
		return n;  /* keep the connection; the answer is judged as too large */
	}
	grown = realloc(resp->body, resp->body_len + n + 1);
	if (!grown)
		return 0;
	memcpy(grown + resp->body_len, ptr, n);
	resp->body = grown;
	resp->body_len += n;
	resp->body[resp->body_len] = '\0';
	return n;
}

/* The value of the header line buf (n bytes) into *slot, if it is called name ("etag:"). */
static void keep_header(char **slot, const char *name, const char *buf, size_t n)
{
	size_t l = strlen(name);

	if (n <= l || strncasecmp(buf, name, l))
		return;
	buf += l;
	n -= l;
	while (n && (buf[n - 1] == '\r' || buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	while (n && *buf == ' ') {
		buf++;
		n--;
	}
	free(*slot);
	*slot = strndup(buf, n);
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct aws_http_response *resp = userdata;
	size_t n = size * nitems;

	if (n > 15 && !strncasecmp(buf, "content-length:", 15))
		resp->content_length = strtoll(buf + 15, NULL, 10);
	keep_header(&resp->etag, "etag:", buf, n);
	keep_header(&resp->version_id, "x-amz-version-id:", buf, n);
	keep_header(&resp->checksum_sha256, "x-amz-checksum-sha256:", buf, n);
	keep_header(&resp->date, "date:", buf, n);
	return n;
}

static void error_free(struct aws_http_error *e)
{
	free(e->code);
	free(e->message);
	free(e->request_id);
	free(e->server_time);
	memset(e, 0, sizeof(*e));
}

void aws_http_response_reset(struct aws_http_response *resp)
{
	size_t body_max = resp->body_max;

	free(resp->body);
	free(resp->etag);
	free(resp->version_id);
	free(resp->checksum_sha256);
	free(resp->date);
	error_free(&resp->error);
	memset(resp, 0, sizeof(*resp));
	resp->body_max = body_max;
	resp->content_length = -1;
}

int aws_http_error_set(struct aws_http_response *resp, const char *code, const char *message,
		       const char *request_id, const char *server_time)
{
	struct aws_http_error *e = &resp->error;

	error_free(e);
	if ((code && !(e->code = strdup(code))) || (message && !(e->message = strdup(message))) ||
	    (request_id && !(e->request_id = strdup(request_id))) ||
	    (server_time && !(e->server_time = strdup(server_time)))) {
		error_free(e);
		return -ENOMEM;
	}
	return 0;
}

/* "/prefix/path" and the same encoded as the request line carries it (slashes kept). */
static int build_path(const struct aws_http_client *c, const char *path, char **full,
		      char **encoded)
{
	int ret;

	if (asprintf(full, "%s/%s", c->endpoint.path_prefix, path ? path : "") < 0)
		return -ENOMEM;
	ret = sigv4_uri_encode(*full, false, encoded);
	if (ret) {
		free(*full);
		*full = NULL;
	}
	return ret;
}

/*
 * RFC 3986 escapes; for a form, a space as '+' as botocore writes
 * application/x-www-form-urlencoded. AWS hashes the body as sent, whichever
 * it is; moto hashes its own re-encoding of the form, so anything else
 * fails there.
 */
static int encode(const char *in, bool form, char **out)
{
	int ret = sigv4_uri_encode(in, true, out);
	char *r, *w;

	if (ret || !form)
		return ret;
	for (r = w = *out; *r; r++, w++) {
		if (r[0] == '%' && r[1] == '2' && r[2] == '0') {
			*w = '+';
			r += 2;
		} else {
			*w = *r;
		}
	}
	*w = '\0';
	return 0;
}

int aws_http_pair_append(char **s, char sep, const char *name, const char *value, bool form)
{
	char *n = NULL, *v = NULL, *grown = NULL, before[2] = { *s ? sep : '\0', '\0' };
	int ret = encode(name, form, &n);

	if (!ret)
		ret = encode(value ? value : "", form, &v);
	if (!ret && asprintf(&grown, "%s%s%s=%s", *s ? *s : "", before, n, v) < 0)
		ret = -ENOMEM;
	free(n);
	free(v);
	if (ret)
		return ret;
	free(*s);
	*s = grown;
	return 0;
}

static int append_query(char **url, const struct aws_http_request *r)
{
	int ret = 0;

	for (size_t i = 0; i < r->query_count && !ret; i++)
		ret = aws_http_pair_append(url, i ? '&' : '?', r->query[i].name, r->query[i].value,
					   false);
	return ret;
}

static bool has_header(const struct aws_http_request *r, const char *name)
{
	for (size_t i = 0; i < r->header_count; i++)
		if (!strcasecmp(r->headers[i].name, name))
			return true;
	return false;
}

static int add_curl_header(struct curl_slist **list, const char *name, const char *value)
{
	char *line;
	struct curl_slist *grown;

	if (asprintf(&line, "%s: %s", name, value) < 0)
		return -ENOMEM;
	grown = curl_slist_append(*list, line);
	free(line);
	if (!grown)
		return -ENOMEM;
	*list = grown;
	return 0;
}

static bool sends_body(const struct aws_http_request *r)
{
	return r->body || !strcmp(r->method, "PUT") || !strcmp(r->method, "POST");
}

/*
 * The request's own headers, and what every request carries: no
 * Expect/100-continue round trip per part, and a content type for a body
 * (libcurl would label it form data; and some servers stall on a body
 * without any type). Unsigned, so they cannot break the signature.
 */
static int add_request_headers(const struct aws_http_request *r, struct curl_slist **headers)
{
	int ret = 0;

	for (size_t i = 0; i < r->header_count && !ret; i++)
		ret = add_curl_header(headers, r->headers[i].name, r->headers[i].value);
	if (!ret)
		ret = add_curl_header(headers, "Expect", "");
	if (!ret && sends_body(r) && !has_header(r, "content-type"))
		ret = add_curl_header(headers, "Content-Type", "application/octet-stream");
	return ret;
}

/* The request's URL, and the signature's headers added to headers. */
static int sign(struct aws_http_client *c, const struct aws_http_request *r, time_t now,
		char **url, struct curl_slist **headers, char *why, size_t whylen)
{
	const struct aws_credentials *cred;
	struct sigv4_signed_headers signed_headers = { 0 };
	char *path = NULL, *encoded_path = NULL;
	int ret;

	ret = aws_credentials_get(c->credentials, now, &cred, why, whylen);
	if (ret && r->best_effort_credentials && (cred = aws_credentials_last(c->credentials)))
		ret = 0;
	if (ret)
		return ret;
	ret = build_path(c, r->path, &path, &encoded_path);
	if (ret || asprintf(url, "%s://%s%s", c->endpoint.scheme, c->endpoint.host,
			    encoded_path) < 0 || append_query(url, r)) {
		snprintf(why, whylen, "cannot build the request URL");
		ret = -EINVAL;
		goto out;
	}
	struct sigv4_request sreq = {
		.method = r->method, .host = c->endpoint.host, .path = path,
		.query = r->query, .query_count = r->query_count,
		.headers = r->headers, .header_count = r->header_count,
		.payload_hash = r->payload_hash[0] ? r->payload_hash : SIGV4_UNSIGNED_PAYLOAD,
	};
	struct sigv4_credentials scred = {
		.access_key_id = cred->access_key_id, .secret_access_key = cred->secret_access_key,
		.session_token = cred->session_token,
	};
	struct sigv4_scope scope = { .region = c->region, .service = c->service, .now = now,
				     .s3 = c->s3_rules };

	ret = sigv4_sign_headers(&sreq, &scred, &scope, &signed_headers);
	if (ret) {
		snprintf(why, whylen, "cannot sign the request: %s", strerror(-ret));
		goto out;
	}
	ret = add_curl_header(headers, "x-amz-date", signed_headers.amz_date);
	if (!ret && scope.s3)
		ret = add_curl_header(headers, "x-amz-content-sha256",
				      signed_headers.content_sha256);
	if (!ret)
		ret = add_curl_header(headers, "Authorization", signed_headers.authorization);
	if (!ret && signed_headers.security_token)
		ret = add_curl_header(headers, "x-amz-security-token",
				      signed_headers.security_token);
out:
	sigv4_signed_headers_free(&signed_headers);
	free(path);
	free(encoded_path);
	return ret;
}

/* Non-zero ends the transfer (CURLE_ABORTED_BY_CALLBACK): a stop or the deadline. */
static int on_progress(void *client, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return aws_http_interrupted(client) ? 1 : 0;
}

CURL *aws_http_easy_new(struct aws_http_client *c, const struct aws_http_request *r,
			struct aws_http_response *resp, struct curl_slist **headers_out, char *why,
			size_t whylen)
{
	struct curl_slist *headers = NULL;
	char *url = NULL;
	CURL *easy = NULL;
	bool https;
	int ret;

	*headers_out = NULL;
	ret = request_trust(c, r, &https, why, whylen);
	if (!ret)
		ret = add_request_headers(r, &headers);
	if (!ret && r->url)
		url = strdup(r->url);
	else if (!ret)
		ret = sign(c, r, time(NULL) + c->clock_offset, &url, &headers, why, whylen);
	if (ret || !url)
		goto fail;
	easy = curl_easy_init();
	if (!easy)
		goto fail;
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, r->method);
	if (!strcmp(r->method, "HEAD"))
		curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
	if (sends_body(r)) {
		curl_easy_setopt(easy, CURLOPT_POST, 1L);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, r->body ? (const char *)r->body : "");
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
		curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, r->method);
	}
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, resp->curl_error);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, AWS_HTTP_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, c->stall_timeout_s);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	/* Called about once a second even when nothing moves: a stop is seen. */
	curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(easy, CURLOPT_XFERINFODATA, c);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	if (https) {
		/* Only the bundle found, never libcurl's built-in (the build host's) paths too. */
		curl_easy_setopt(easy, CURLOPT_CAINFO, c->trust->is_dir ? NULL : c->trust->path);
		curl_easy_setopt(easy, CURLOPT_CAPATH, c->trust->is_dir ? c->trust->path : NULL);
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
	}
	*headers_out = headers;
	headers = NULL;
fail:
	if (!easy && !why[0])
		snprintf(why, whylen, "out of memory building the request");
	curl_slist_free_all(headers);
	free(url);
	return easy;
}

void aws_http_easy_free(CURL *easy, struct curl_slist *headers)
{
	curl_easy_cleanup(easy);
	curl_slist_free_all(headers);
}

int aws_http_transfer_start(struct aws_http_client *c, CURLM *multi, struct aws_http_transfer *t,
			    void *private, char *why, size_t whylen)
{
	bool https;
	int ret;

	aws_http_response_reset(&t->resp);
	ret = request_trust(c, &t->req, &https, why, whylen);
	if (ret)
		return ret;
	t->easy = aws_http_easy_new(c, &t->req, &t->resp, &t->headers, why, whylen);
	if (!t->easy)
		return -EIO;
	curl_easy_setopt(t->easy, CURLOPT_PRIVATE, private);
	if (curl_multi_add_handle(multi, t->easy) != CURLM_OK) {
		aws_http_easy_free(t->easy, t->headers);
		t->easy = NULL;
		t->headers = NULL;
		snprintf(why, whylen, "cannot add a transfer");
		return -EIO;
	}
	return 0;
}

void aws_http_transfer_stop(CURLM *multi, struct aws_http_transfer *t)
{
	if (!t->easy)
		return;
	curl_multi_remove_handle(multi, t->easy);
	aws_http_easy_free(t->easy, t->headers);
	t->easy = NULL;
	t->headers = NULL;
}

void aws_http_transfer_done(CURLM *multi, struct aws_http_transfer *t, CURLcode code)
{
	t->resp.curl_code = code;
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->resp.status);
	aws_http_transfer_stop(multi, t);
}

long long aws_http_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int aws_http_interrupted(struct aws_http_client *c)
{
	bool stopped = c->stop && *c->stop;
	long long now;

	if (stopped && !c->stop_grace_ms)
		return -EINTR;
	if (!c->deadline_ms && !stopped)
		return 0;
	now = aws_http_now_ms();
	if (stopped && (!c->deadline_ms || c->deadline_ms > now + c->stop_grace_ms))
		c->deadline_ms = now + c->stop_grace_ms;
	return now >= c->deadline_ms ? -ETIMEDOUT : 0;
}

/* The backoff, cut short by aws_http_interrupted(). */
static int backoff(struct aws_http_client *c, long ms)
{
	long long until = aws_http_now_ms() + ms;
	int ret;

	while (!(ret = aws_http_interrupted(c)) && aws_http_now_ms() < until)
		usleep(50 * 1000);
	return ret;
}

/* why says the request was cut short, and what its last attempt had found. */
static int interrupted(int err, char *why, size_t whylen)
{
	char last[AWS_HTTP_REASON_MAX];

	snprintf(last, sizeof(last), "%s", why);
	snprintf(why, whylen, "%s%s%s%s", err == -EINTR ? "stopped by a signal" :
		 "out of time", last[0] ? " (last attempt: " : "", last, last[0] ? ")" : "");
	return err;
}

long aws_http_backoff_ms(struct aws_http_client *c, unsigned int attempt)
{
	long cap = AWS_HTTP_BACKOFF_BASE_MS;

	for (unsigned int i = 1; i < attempt && cap < AWS_HTTP_BACKOFF_CAP_MS; i++)
		cap *= 2;
	if (cap > AWS_HTTP_BACKOFF_CAP_MS)
		cap = AWS_HTTP_BACKOFF_CAP_MS;
	/* Full jitter: many agents retrying at once do not stampede together. */
	return (long)(rand_r(&c->random_state) % (unsigned long)(cap + 1));
}

static bool tls_refused(CURLcode code)
{
	return code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE ||
	       code == CURLE_SSL_ISSUER_ERROR;
}

bool aws_http_transport_failed(const struct aws_http_client *c,
			       const struct aws_http_response *resp, bool *fatal, char *why,
			       size_t whylen)
{
	const char *detail = resp->curl_error[0] ? resp->curl_error :
			     curl_easy_strerror(resp->curl_code);

	*fatal = false;
	if (resp->curl_code == CURLE_OK)
		return false;
	if (tls_refused(resp->curl_code) && c->trust) {
		/* Not retried: the same bundle refuses the same certificate again. */
		*fatal = true;
		snprintf(why, whylen, "TLS: %s (CA bundle %s from %s)", detail, c->trust->path,
			 c->trust->source);
		return true;
	}
	snprintf(why, whylen, "transport: %s", detail);
	return true;
}

int aws_http_fatal_error(const struct aws_http_response *resp)
{
	if (tls_refused(resp->curl_code))
		return -AWS_HTTP_ENOTRUST;
	return resp->status == 403 ? -EACCES : -EIO;
}

enum aws_http_verdict aws_http_status_verdict(long status)
{
	switch (status) {
	case 500:
	case 502:
	case 503:
	case 504:
		return AWS_HTTP_RETRY;
	default:
		return AWS_HTTP_FATAL;
	}
}

/* ServerTime "2026-11-28T17:20:00Z" (or .000Z), else Date "Sat, 28 Nov 2026 17:20:00 GMT". */
bool aws_http_clock_correct(struct aws_http_client *c, const struct aws_http_response *resp)
{
	struct tm tm = { 0 };
	const char *t = resp->error.server_time;

	if (!t || !strptime(t, "%Y-%m-%dT%H:%M:%S", &tm)) {
		memset(&tm, 0, sizeof(tm));
		if (!resp->date || !strptime(resp->date, "%a, %d %b %Y %H:%M:%S", &tm))
			return false;
	}
	c->clock_offset = (long)(timegm(&tm) - time(NULL));
	return true;
}

int aws_http_perform(struct aws_http_client *c, const struct aws_http_request *r,
		     struct aws_http_response *resp, char *why, size_t whylen)
{
	unsigned int retries_now = 0, unanswered = 0;
	char answer[AWS_HTTP_REASON_MAX] = "";
	int ret;

	for (unsigned int attempt = 1;; attempt++) {
		struct curl_slist *headers;
		enum aws_http_verdict verdict;
		CURL *easy;
		bool https;

		aws_http_response_reset(resp);
		resp->attempts = attempt;
		resp->unanswered = unanswered;
		why[0] = '\0';
		if (attempt == 1 && (ret = aws_http_interrupted(c)))
			return interrupted(ret, why, whylen);
		ret = request_trust(c, r, &https, why, whylen);
		if (ret)
			return ret;
		easy = aws_http_easy_new(c, r, resp, &headers, why, whylen);
		if (!easy) {
			/* Say what the service answered that led here: ExpiredToken, ... */
			if (answer[0])
				snprintf(why + strlen(why), whylen - strlen(why),
					 "; the last answer was %s", answer);
			return -EINVAL;
		}
		resp->curl_code = curl_easy_perform(easy);
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &resp->status);
		aws_http_easy_free(easy, headers);
		if (resp->curl_code != CURLE_OK)
			resp->unanswered = ++unanswered;
		verdict = c->classify(c, resp, why, whylen);
		if (verdict == AWS_HTTP_OK)
			return 0;
		ret = aws_http_interrupted(c);
		if (ret)
			return interrupted(ret, why, whylen);
		if (verdict == AWS_HTTP_FATAL)
			return aws_http_fatal_error(resp);
		snprintf(answer, sizeof(answer), "%s", why);
		/* A clock or token fix that does not help must not loop. */
		if (verdict == AWS_HTTP_RETRY_NOW && ++retries_now <= 2)
			continue;
		if (attempt >= c->max_attempts)
			return -EIO;
		ret = backoff(c, aws_http_backoff_ms(c, attempt));
		if (ret)
			return interrupted(ret, why, whylen);
	}
}
