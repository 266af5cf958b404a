// SPDX-License-Identifier: GPL-2.0-only
#include "imds.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Off EC2 nothing answers: give up fast rather than delay the capture. */
#define IMDS_CONNECT_TIMEOUT_MS 1000L
#define IMDS_TOTAL_TIMEOUT_MS 3000L

struct body {
	char *data;
	size_t len;
	bool overflow;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct body *b = userdata;
	size_t n = size * nmemb;
	char *grown;

	if (b->len + n > IMDS_BODY_MAX) {
		b->overflow = true;
		return 0;
	}
	grown = realloc(b->data, b->len + n + 1);
	if (!grown)
		return 0;
	memcpy(grown + b->len, ptr, n);
	b->data = grown;
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

static const char *endpoint(void)
{
	const char *e = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");

	return e && *e ? e : IMDS_DEFAULT_ENDPOINT;
}

static int request(const char *method, const char *path, const char *header, struct body *out,
		   char *why, size_t whylen)
{
	struct curl_slist *headers = NULL;
	char url[512];
	long status = 0;
	CURLcode rc;
	CURL *curl;
	int ret = 0;

	snprintf(url, sizeof(url), "%s%s", endpoint(), path);
	/* Trailing slash in the endpoint would double up with the path. */
	curl = curl_easy_init();
	if (!curl)
		return -ENOMEM;
	headers = curl_slist_append(headers, header);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (!strcmp(method, "PUT")) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
	}
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, IMDS_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, IMDS_TOTAL_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	/* IMDS is never behind a proxy; an inherited http_proxy must not capture it. */
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK) {
		snprintf(why, whylen, "IMDS %s %s: %s", method, path, curl_easy_strerror(rc));
		ret = -EHOSTUNREACH;
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200 || out->overflow) {
		snprintf(why, whylen, "IMDS %s %s: HTTP %ld%s", method, path, status,
			 out->overflow ? " (answer too large)" : "");
		ret = -EPROTO;
	}
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return ret;
}

int imds_get(const char *path, char **body, char *why, size_t whylen)
{
	struct body token = { 0 }, answer = { 0 };
	const char *disabled = getenv("AWS_EC2_METADATA_DISABLED");
	char header[256];
	int ret;

	*body = NULL;
	if (disabled && !strcasecmp(disabled, "true")) {
		snprintf(why, whylen, "IMDS disabled by AWS_EC2_METADATA_DISABLED");
		return -ENOTSUP;
	}
	snprintf(header, sizeof(header), "X-aws-ec2-metadata-token-ttl-seconds: %d",
		 IMDS_TOKEN_TTL_SECONDS);
	ret = request("PUT", "/latest/api/token", header, &token, why, whylen);
	if (ret)
		goto out;
	if (!token.data || !*token.data || strpbrk(token.data, "\r\n")) {
		snprintf(why, whylen, "IMDS returned an unusable session token");
		ret = -EPROTO;
		goto out;
	}
	snprintf(header, sizeof(header), "X-aws-ec2-metadata-token: %s", token.data);
	ret = request("GET", path, header, &answer, why, whylen);
	if (ret)
		goto out;
	*body = answer.data ? answer.data : strdup("");
	answer.data = NULL;
	if (!*body)
		ret = -ENOMEM;
out:
	free(token.data);
	free(answer.data);
	return ret;
}

int imds_instance_identity(char **document, char *why, size_t whylen)
{
	return imds_get("/latest/dynamic/instance-identity/document", document, why, whylen);
}
