// SPDX-License-Identifier: GPL-2.0-only
#include "aws/s3.h"
#include "aws/endpoint.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define S3_SERVICE "s3"

int s3_client_init(struct s3_client *c, const char *region, const char *bucket, bool path_style,
		   struct aws_credentials_provider *credentials, char *why, size_t whylen)
{
	int ret;

	memset(c, 0, sizeof(*c));
	/* Owned from here, also on failure. */
	c->credentials = credentials;
	c->region = strdup(region);
	c->bucket = strdup(bucket);
	if (!c->region || !c->bucket) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = s3_endpoint_resolve(region, bucket, path_style, &c->endpoint, why, whylen);
	if (ret)
		goto fail;
	c->max_attempts = S3_DEFAULT_MAX_ATTEMPTS;
	c->stall_timeout_s = S3_LOW_SPEED_TIME_S;
	c->random_state = (unsigned int)time(NULL) ^ (unsigned int)getpid();
	return 0;
fail:
	s3_client_free(c);
	return ret;
}

void s3_client_init_presigned(struct s3_client *c)
{
	memset(c, 0, sizeof(*c));
	c->max_attempts = S3_DEFAULT_MAX_ATTEMPTS;
	c->stall_timeout_s = S3_LOW_SPEED_TIME_S;
	c->random_state = (unsigned int)time(NULL) ^ (unsigned int)getpid();
}

void s3_client_free(struct s3_client *c)
{
	free(c->region);
	free(c->bucket);
	s3_endpoint_free(&c->endpoint);
	aws_credentials_provider_free(c->credentials);
	free(c->ca_file);
	memset(c, 0, sizeof(*c));
}

int s3_request_add_header(struct s3_request *r, const char *name, const char *value)
{
	if (r->header_count == S3_MAX_HEADERS)
		return -E2BIG;
	r->headers[r->header_count].name = name;
	r->headers[r->header_count].value = value;
	r->header_count++;
	return 0;
}

void s3_request_set_body(struct s3_request *r, const void *body, size_t len)
{
	unsigned char digest[32];
	unsigned int n = 0;

	r->body = body;
	r->body_len = len;
	EVP_Digest(body ? body : "", len, digest, &n, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < n; i++)
		snprintf(r->payload_hash + 2 * i, 3, "%02x", digest[i]);
}

int s3_request_add_object_headers(struct s3_request *r, const struct s3_object_options *o,
				  char *storage, size_t storage_len)
{
	int ret = 0;

	if (o->acl)
		ret = s3_request_add_header(r, "x-amz-acl", o->acl);
	if (!ret && o->sse)
		ret = s3_request_add_header(r, "x-amz-server-side-encryption", o->sse);
	if (!ret && o->sse_kms_key_id)
		ret = s3_request_add_header(r, "x-amz-server-side-encryption-aws-kms-key-id",
					    o->sse_kms_key_id);
	if (!ret && o->lock_mode)
		ret = s3_request_add_header(r, "x-amz-object-lock-mode", o->lock_mode);
	if (!ret && o->lock_retain_until)
		ret = s3_request_add_header(r, "x-amz-object-lock-retain-until-date",
					    o->lock_retain_until);
	if (!ret && o->content_type)
		ret = s3_request_add_header(r, "content-type", o->content_type);
	/* Metadata names become "x-amz-meta-<name>", laid out in storage. */
	for (size_t i = 0; !ret && i < o->metadata_count; i++) {
		int n = snprintf(storage, storage_len, "x-amz-meta-%s", o->metadata[i].name);

		if (n < 0 || (size_t)n >= storage_len)
			return -E2BIG;
		ret = s3_request_add_header(r, storage, o->metadata[i].value);
		storage += n + 1;
		storage_len -= (size_t)n + 1;
	}
	return ret;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct s3_response *resp = userdata;
	size_t n = size * nmemb;
	char *grown;

	if (resp->body_len + n > (resp->body_max ? resp->body_max : S3_RESPONSE_MAX)) {
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

static void keep_header(char **slot, const char *value, size_t len)
{
	while (len && (value[len - 1] == '\r' || value[len - 1] == '\n' || value[len - 1] == ' '))
		len--;
	while (len && *value == ' ') {
		value++;
		len--;
	}
	free(*slot);
	*slot = strndup(value, len);
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct s3_response *resp = userdata;
	size_t n = size * nitems;
	static const struct {
		const char *name;
		size_t offset;
	} wanted[] = {
		{ "etag:", offsetof(struct s3_response, etag) },
		{ "x-amz-version-id:", offsetof(struct s3_response, version_id) },
		{ "x-amz-checksum-sha256:", offsetof(struct s3_response, checksum_sha256) },
		{ "date:", offsetof(struct s3_response, date) },
	};

	if (n > 15 && !strncasecmp(buf, "content-length:", 15))
		resp->content_length = strtoll(buf + 15, NULL, 10);
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
		size_t l = strlen(wanted[i].name);

		if (n > l && !strncasecmp(buf, wanted[i].name, l))
			keep_header((char **)((char *)resp + wanted[i].offset), buf + l, n - l);
	}
	return n;
}

void s3_response_reset(struct s3_response *resp)
{
	size_t body_max = resp->body_max;

	free(resp->body);
	free(resp->etag);
	free(resp->version_id);
	free(resp->checksum_sha256);
	free(resp->date);
	if (resp->xml_parsed)
		s3xml_free(&resp->xml);
	memset(resp, 0, sizeof(*resp));
	resp->body_max = body_max;
	resp->content_length = -1;
}

/* "/prefix/key" with the key encoded as S3 signs it (slashes kept). */
static int build_path(const struct s3_client *c, const char *key, char **path, char **encoded)
{
	char *enc_prefix = NULL;
	int ret;

	if (asprintf(path, "%s/%s", c->endpoint.path_prefix, key ? key : "") < 0)
		return -ENOMEM;
	ret = sigv4_uri_encode(*path, false, encoded);
	free(enc_prefix);
	if (ret) {
		free(*path);
		*path = NULL;
	}
	return ret;
}

static int append_query(char **url, const struct s3_request *r)
{
	for (size_t i = 0; i < r->query_count; i++) {
		char *name = NULL, *value = NULL, *next = NULL;
		int ret = sigv4_uri_encode(r->query[i].name, true, &name);

		if (!ret)
			ret = sigv4_uri_encode(r->query[i].value ? r->query[i].value : "", true, &value);
		if (!ret && asprintf(&next, "%s%c%s=%s", *url, i ? '&' : '?', name, value) < 0)
			ret = -ENOMEM;
		free(name);
		free(value);
		if (ret)
			return ret;
		free(*url);
		*url = next;
	}
	return 0;
}

static bool has_header(const struct s3_request *r, const char *name)
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

CURL *s3_easy_new(struct s3_client *c, const struct s3_request *r, struct s3_response *resp,
		  struct curl_slist **headers_out, char *why, size_t whylen)
{
	const struct aws_credentials *cred;
	struct sigv4_signed_headers signed_headers = { 0 };
	struct curl_slist *headers = NULL;
	char *path = NULL, *encoded_path = NULL, *url = NULL;
	CURL *easy = NULL;
	time_t now = time(NULL) + c->clock_offset;
	int ret = 0;

	*headers_out = NULL;
	if (r->url) {
		for (size_t i = 0; i < r->header_count && !ret; i++)
			ret = add_curl_header(&headers, r->headers[i].name, r->headers[i].value);
		if (!ret)
			ret = add_curl_header(&headers, "Expect", "");
		if (!ret && (r->body || !strcmp(r->method, "PUT") || !strcmp(r->method, "POST")) &&
		    !has_header(r, "content-type"))
			ret = add_curl_header(&headers, "Content-Type", "application/octet-stream");
		url = ret ? NULL : strdup(r->url);
		if (!url)
			goto fail;
		goto send;
	}
	ret = aws_credentials_get(c->credentials, now, &cred, why, whylen);
	if (ret && r->best_effort_credentials && (cred = aws_credentials_last(c->credentials)))
		ret = 0;
	if (ret)
		return NULL;
	ret = build_path(c, r->key, &path, &encoded_path);
	if (ret || asprintf(&url, "%s://%s%s", c->endpoint.scheme, c->endpoint.host,
			    encoded_path) < 0 || append_query(&url, r)) {
		snprintf(why, whylen, "cannot build the request URL");
		goto fail;
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
	struct sigv4_scope scope = { .region = c->region,
				     .service = c->service ? c->service : S3_SERVICE, .now = now,
				     .s3 = !c->service };

	ret = sigv4_sign_headers(&sreq, &scred, &scope, &signed_headers);
	if (ret) {
		snprintf(why, whylen, "cannot sign the request: %s", strerror(-ret));
		goto fail;
	}
	for (size_t i = 0; i < r->header_count && !ret; i++)
		ret = add_curl_header(&headers, r->headers[i].name, r->headers[i].value);
	if (!ret)
		ret = add_curl_header(&headers, "x-amz-date", signed_headers.amz_date);
	if (!ret && scope.s3)
		ret = add_curl_header(&headers, "x-amz-content-sha256", signed_headers.content_sha256);
	if (!ret)
		ret = add_curl_header(&headers, "Authorization", signed_headers.authorization);
	if (!ret && signed_headers.security_token)
		ret = add_curl_header(&headers, "x-amz-security-token", signed_headers.security_token);
	/* No Expect/100-continue round trip per part. */
	if (!ret)
		ret = add_curl_header(&headers, "Expect", "");
	/*
	 * libcurl would label a body form data; and some servers stall on a body
	 * without any type. Unsigned, so it cannot break the signature.
	 */
	if (!ret && (r->body || !strcmp(r->method, "PUT") || !strcmp(r->method, "POST")) &&
	    !has_header(r, "content-type"))
		ret = add_curl_header(&headers, "Content-Type", "application/octet-stream");
	if (ret)
		goto fail;
send:
	easy = curl_easy_init();
	if (!easy)
		goto fail;
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, r->method);
	if (!strcmp(r->method, "HEAD"))
		curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
	if (r->body || !strcmp(r->method, "PUT") || !strcmp(r->method, "POST")) {
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
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, S3_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, c->stall_timeout_s);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->ca_file)
		curl_easy_setopt(easy, CURLOPT_CAINFO, c->ca_file);
	*headers_out = headers;
	headers = NULL;
fail:
	if (!easy && !why[0])
		snprintf(why, whylen, "out of memory building the request");
	sigv4_signed_headers_free(&signed_headers);
	curl_slist_free_all(headers);
	free(path);
	free(encoded_path);
	free(url);
	return easy;
}

void s3_easy_free(CURL *easy, struct curl_slist *headers)
{
	curl_easy_cleanup(easy);
	curl_slist_free_all(headers);
}

long s3_backoff_ms(struct s3_client *c, unsigned int attempt)
{
	long cap = S3_BACKOFF_BASE_MS;

	for (unsigned int i = 1; i < attempt && cap < S3_BACKOFF_CAP_MS; i++)
		cap *= 2;
	if (cap > S3_BACKOFF_CAP_MS)
		cap = S3_BACKOFF_CAP_MS;
	/* Full jitter: many agents retrying at once do not stampede together. */
	return (long)(rand_r(&c->random_state) % (unsigned long)(cap + 1));
}

/* ServerTime "2026-11-28T17:20:00Z" (or .000Z) to the offset from our clock. */
static bool correct_clock(struct s3_client *c, const struct s3_response *resp)
{
	struct tm tm = { 0 };
	const char *t = resp->xml.server_time;

	if (!t || !strptime(t, "%Y-%m-%dT%H:%M:%S", &tm)) {
		/* Fall back on the Date header: "Sat, 28 Nov 2026 17:20:00 GMT". */
		memset(&tm, 0, sizeof(tm));
		if (!resp->date || !strptime(resp->date, "%a, %d %b %Y %H:%M:%S", &tm))
			return false;
	}
	c->clock_offset = (long)(timegm(&tm) - time(NULL));
	return true;
}

static bool code_is(const struct s3_response *resp, const char *code)
{
	return resp->xml_parsed && resp->xml.code && !strcmp(resp->xml.code, code);
}

enum s3_verdict s3_classify(struct s3_client *c, struct s3_response *resp, char *why,
			    size_t whylen)
{
	const char *code;

	if (resp->curl_code != CURLE_OK) {
		snprintf(why, whylen, "transport: %s", resp->curl_error[0] ? resp->curl_error :
			 curl_easy_strerror(resp->curl_code));
		return S3_RETRY;
	}
	if (resp->body_len && !resp->body_overflow && !resp->xml_parsed &&
	    !s3xml_parse(resp->body, resp->body_len, &resp->xml))
		resp->xml_parsed = true;
	code = resp->xml_parsed && resp->xml.code ? resp->xml.code : "";
	/* CompleteMultipartUpload may answer 200 with an error in the body. */
	if (resp->status >= 200 && resp->status < 300 &&
	    !(resp->xml_parsed && s3xml_is_error(&resp->xml)))
		return S3_OK;
	snprintf(why, whylen, "HTTP %ld%s%s%s%s", resp->status, code[0] ? " " : "", code,
		 resp->xml_parsed && resp->xml.message ? ": " : "",
		 resp->xml_parsed && resp->xml.message ? resp->xml.message : "");
	if (code_is(resp, "RequestTimeTooSkewed") && correct_clock(c, resp))
		return S3_RETRY_NOW;
	if (code_is(resp, "ExpiredToken") || code_is(resp, "TokenRefreshRequired")) {
		aws_credentials_invalidate(c->credentials);
		return S3_RETRY_NOW;
	}
	if (code_is(resp, "SlowDown") || code_is(resp, "RequestTimeout") ||
	    code_is(resp, "InternalError") || code_is(resp, "ServiceUnavailable"))
		return S3_RETRY;
	switch (resp->status) {
	case 500:
	case 502:
	case 503:
	case 504:
		return S3_RETRY;
	default:
		return S3_FATAL;
	}
}

int s3_perform(struct s3_client *c, const struct s3_request *r, struct s3_response *resp,
	       char *why, size_t whylen)
{
	unsigned int retries_now = 0;

	for (unsigned int attempt = 1;; attempt++) {
		struct curl_slist *headers;
		enum s3_verdict verdict;
		CURL *easy;

		s3_response_reset(resp);
		resp->attempts = attempt;
		why[0] = '\0';
		easy = s3_easy_new(c, r, resp, &headers, why, whylen);
		if (!easy)
			return -EINVAL;
		resp->curl_code = curl_easy_perform(easy);
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &resp->status);
		s3_easy_free(easy, headers);
		verdict = (c->classify ? c->classify : s3_classify)(c, resp, why, whylen);
		if (verdict == S3_OK)
			return 0;
		if (verdict == S3_FATAL)
			return resp->status == 403 ? -EACCES : -EIO;
		/* A clock or token fix that does not help must not loop. */
		if (verdict == S3_RETRY_NOW && ++retries_now <= 2)
			continue;
		if (attempt >= c->max_attempts)
			return -EIO;
		usleep((useconds_t)s3_backoff_ms(c, attempt) * 1000);
	}
}
