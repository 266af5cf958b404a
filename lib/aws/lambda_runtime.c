// SPDX-License-Identifier: GPL-2.0-only
#include "aws/lambda_runtime.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

size_t lambda_runtime_body(char *ptr, size_t size, size_t nmemb, void *data)
{
	struct lambda_invocation *inv = data;
	size_t n = size * nmemb;
	char *grown;

	if (inv->len + n > LAMBDA_EVENT_MAX) {
		inv->overflow = true;
		return n;
	}
	grown = realloc(inv->body, inv->len + n + 1);
	if (!grown)
		return 0;
	memcpy(grown + inv->len, ptr, n);
	inv->body = grown;
	inv->len += n;
	inv->body[inv->len] = '\0';
	return n;
}

/* The value of header line buf (n bytes) when it is name's: leading spaces and CRLF off. */
static const char *header_value(const char *buf, size_t n, const char *name, size_t *len)
{
	size_t l = strlen(name), v;

	if (n <= l || strncasecmp(buf, name, l))
		return NULL;
	buf += l;
	n -= l;
	while (n && *buf == ' ') {
		buf++;
		n--;
	}
	for (v = 0; v < n && buf[v] != '\r' && buf[v] != '\n'; v++)
		;
	*len = v;
	return buf;
}

size_t lambda_runtime_header(char *buf, size_t size, size_t nitems, void *data)
{
	struct lambda_invocation *inv = data;
	size_t n = size * nitems, len, v;
	const char *value;

	value = header_value(buf, n, "lambda-runtime-aws-request-id:", &len);
	if (value) {
		for (v = 0; v < len && v + 1 < sizeof(inv->request_id); v++)
			inv->request_id[v] = value[v];
		inv->request_id[v] = '\0';
	}
	value = header_value(buf, n, "lambda-runtime-deadline-ms:", &len);
	if (value) {
		long long ms = 0;

		/* Up to 18 digits cannot overflow; anything else is no deadline. */
		for (v = 0; v < len && v < 18 && value[v] >= '0' && value[v] <= '9'; v++)
			ms = ms * 10 + (value[v] - '0');
		inv->deadline_ms = v && v == len ? ms : 0;
	}
	return n;
}

/* An answer we have no use for: not to stdout, where curl would put it. */
static size_t discard(char *ptr, size_t size, size_t nmemb, void *data)
{
	return size * nmemb;
}

/* GET (body NULL) or POST to the Runtime API; 0 for a 2xx answer. */
static int call(const char *url, const char *body, struct lambda_invocation *inv)
{
	CURL *easy = curl_easy_init();
	struct curl_slist *headers = NULL;
	long status = 0;
	CURLcode rc;

	if (!easy)
		return -ENOMEM;
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http");
	if (body) {
		headers = curl_slist_append(headers, "Content-Type: application/json");
		curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
	}
	if (inv) {
		curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, lambda_runtime_body);
		curl_easy_setopt(easy, CURLOPT_WRITEDATA, inv);
		curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, lambda_runtime_header);
		curl_easy_setopt(easy, CURLOPT_HEADERDATA, inv);
	} else {
		curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
	}
	/* The next invocation may be long in coming: no timeout on it. */
	rc = curl_easy_perform(easy);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(easy);
	curl_slist_free_all(headers);
	return rc == CURLE_OK && status >= 200 && status < 300 ? 0 : -EIO;
}

int lambda_runtime_next(const char *api, struct lambda_invocation *inv)
{
	char url[LAMBDA_RUNTIME_API_MAX + 64];

	memset(inv, 0, sizeof(*inv));
	if (strlen(api) > LAMBDA_RUNTIME_API_MAX)
		return -EINVAL;
	snprintf(url, sizeof(url), "http://%s/" LAMBDA_RUNTIME_VERSION "/runtime/invocation/next",
		 api);
	if (call(url, NULL, inv) || !inv->request_id[0])
		return -EIO;
	return 0;
}

int lambda_runtime_answer(const char *api, const char *request_id, bool failed,
			  const char *body)
{
	char url[LAMBDA_RUNTIME_API_MAX + LAMBDA_REQUEST_ID_MAX + 64];

	if (strlen(api) > LAMBDA_RUNTIME_API_MAX || strlen(request_id) >= LAMBDA_REQUEST_ID_MAX)
		return -EINVAL;
	snprintf(url, sizeof(url), "http://%s/" LAMBDA_RUNTIME_VERSION "/runtime/invocation/%s/%s",
		 api, request_id, failed ? "error" : "response");
	return call(url, body, NULL);
}

void lambda_invocation_free(struct lambda_invocation *inv)
{
	free(inv->body);
	memset(inv, 0, sizeof(*inv));
}
