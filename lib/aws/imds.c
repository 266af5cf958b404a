// SPDX-License-Identifier: GPL-2.0-only
#include "aws/imds.h"
#include "base/jsonutil.h"

#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Off EC2 nothing answers: give up fast rather than delay the capture. */
#define IMDS_CONNECT_TIMEOUT_MS 1000L
#define IMDS_TOTAL_TIMEOUT_MS 3000L
#define CREDENTIALS_PATH "/latest/meta-data/iam/security-credentials/"

/*
 * An answer, grown without realloc: role credentials pass through here and
 * realloc could leave copies of them in freed memory. cap is what to wipe.
 */
struct body {
	char *data;
	size_t len, cap;
	bool overflow;
	bool nomem;
};

static void body_wipe(struct body *b)
{
	if (b->data) {
		explicit_bzero(b->data, b->cap);
		free(b->data);
	}
	memset(b, 0, sizeof(*b));
}

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct body *b = userdata;
	size_t n = size * nmemb;

	if (n > IMDS_BODY_MAX || b->len + n > IMDS_BODY_MAX) {
		b->overflow = true;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *bigger;

		while (cap < b->len + n + 1)
			cap *= 2;
		bigger = malloc(cap);
		if (!bigger) {
			b->nomem = true;
			return 0;
		}
		if (b->data) {
			memcpy(bigger, b->data, b->len);
			explicit_bzero(b->data, b->cap);
			free(b->data);
		}
		b->data = bigger;
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

static bool disabled(void)
{
	const char *d = getenv("AWS_EC2_METADATA_DISABLED");

	return d && !strcasecmp(d, "true");
}

static int make_url(const char *path, char *url, size_t urllen, char *why, size_t whylen)
{
	const char *e = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	size_t n;
	int len;

	if (!e || !*e)
		e = mode && !strcasecmp(mode, "IPv6") ? IMDS_DEFAULT_ENDPOINT_IPV6 :
							 IMDS_DEFAULT_ENDPOINT;
	/* A trailing slash in the endpoint would double up with the path. */
	n = strlen(e);
	while (n && e[n - 1] == '/')
		n--;
	len = snprintf(url, urllen, "%.*s%s", (int)(n > 400 ? 400 : n), e, path);
	if (n > 400 || len < 0 || (size_t)len >= urllen) {
		snprintf(why, whylen, "AWS_EC2_METADATA_SERVICE_ENDPOINT is too long");
		return -EINVAL;
	}
	return 0;
}

/* One request; 0 with *status for any HTTP answer, -EHOSTUNREACH for none. */
static int request(const char *method, const char *path, const char *header, struct body *out,
		   long *status, char *why, size_t whylen)
{
	struct curl_slist *headers = NULL;
	char url[512];
	CURLcode rc;
	CURL *curl;
	int ret;

	*status = 0;
	ret = make_url(path, url, sizeof(url), why, whylen);
	if (ret)
		return ret;
	curl = curl_easy_init();
	if (!curl)
		return -ENOMEM;
	headers = curl_slist_append(headers, header);
	if (!headers) {
		ret = -ENOMEM;
		goto out;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	/* The endpoint comes from the environment: never file:// or the like. */
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
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
	if (out->overflow) {
		snprintf(why, whylen, "IMDS %s %s: answer larger than %u bytes", method, path,
			 IMDS_BODY_MAX);
		ret = -EPROTO;
		goto out;
	}
	if (out->nomem) {
		ret = -ENOMEM;
		goto out;
	}
	if (rc != CURLE_OK) {
		snprintf(why, whylen, "IMDS %s %s: %s", method, path, curl_easy_strerror(rc));
		ret = -EHOSTUNREACH;
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return ret;
}

static int check_status(const char *method, const char *path, long status, char *why,
			size_t whylen)
{
	if (status == 200)
		return 0;
	snprintf(why, whylen, "IMDS %s %s: HTTP %ld", method, path, status);
	return status == 404 ? -ENOENT : -EPROTO;
}

static time_t monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

void imds_session_init(struct imds_session *s)
{
	memset(s, 0, sizeof(*s));
}

void imds_session_clear(struct imds_session *s)
{
	explicit_bzero(s, sizeof(*s));
}

static int fetch_token(struct imds_session *s, char *why, size_t whylen)
{
	static const char path[] = "/latest/api/token";
	struct body token = { 0 };
	char header[80];
	long status;
	int ret;

	imds_session_clear(s);
	snprintf(header, sizeof(header), "X-aws-ec2-metadata-token-ttl-seconds: %d",
		 IMDS_TOKEN_TTL_SECONDS);
	ret = request("PUT", path, header, &token, &status, why, whylen);
	if (ret)
		goto out;
	if (status != 200) {
		check_status("PUT", path, status, why, whylen);
		ret = -EPROTO;
		goto out;
	}
	/* It goes into a header: printable, no spaces, no line breaks. */
	if (!token.len || token.len > IMDS_TOKEN_MAX) {
		snprintf(why, whylen, "IMDS returned an unusable session token");
		ret = -EPROTO;
		goto out;
	}
	for (size_t i = 0; i < token.len; i++) {
		if (token.data[i] <= ' ' || token.data[i] > '~') {
			snprintf(why, whylen, "IMDS returned an unusable session token");
			ret = -EPROTO;
			goto out;
		}
	}
	memcpy(s->token, token.data, token.len + 1);
	s->renew_at = monotonic_seconds() + IMDS_TOKEN_TTL_SECONDS - IMDS_TOKEN_RENEW_MARGIN;
out:
	body_wipe(&token);
	return ret;
}

/* GET with the session's token; a token the service no longer takes is replaced once. */
static int session_get(struct imds_session *s, const char *path, struct body *out, char *why,
		       size_t whylen)
{
	char header[IMDS_TOKEN_MAX + 64];
	long status;
	int ret;

	memset(out, 0, sizeof(*out));
	if (disabled()) {
		snprintf(why, whylen, "IMDS disabled by AWS_EC2_METADATA_DISABLED");
		return -ENOTSUP;
	}
	for (int attempt = 0;; attempt++) {
		bool fresh = false;

		if (!s->token[0] || monotonic_seconds() >= s->renew_at) {
			ret = fetch_token(s, why, whylen);
			if (ret)
				return ret;
			fresh = true;
		}
		snprintf(header, sizeof(header), "X-aws-ec2-metadata-token: %s", s->token);
		ret = request("GET", path, header, out, &status, why, whylen);
		explicit_bzero(header, sizeof(header));
		if (!ret && status == 401 && !fresh && attempt == 0) {
			imds_session_clear(s);
			body_wipe(out);
			continue;
		}
		if (!ret)
			ret = check_status("GET", path, status, why, whylen);
		if (ret)
			body_wipe(out);
		return ret;
	}
}

int imds_session_get(struct imds_session *s, const char *path, char **body, char *why,
		     size_t whylen)
{
	struct body answer;
	int ret;

	*body = NULL;
	ret = session_get(s, path, &answer, why, whylen);
	if (ret)
		return ret;
	*body = answer.data ? answer.data : strdup("");
	if (!*body)
		return -ENOMEM;
	return 0;
}

int imds_get(const char *path, char **body, char *why, size_t whylen)
{
	struct imds_session s = { 0 };
	int ret;

	ret = imds_session_get(&s, path, body, why, whylen);
	imds_session_clear(&s);
	return ret;
}

int imds_instance_identity(char **document, char *why, size_t whylen)
{
	return imds_get("/latest/dynamic/instance-identity/document", document, why, whylen);
}

static char *trimmed_copy(const char *s, size_t n)
{
	char *d;

	while (n && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

int imds_region(struct imds_session *s, char **region, char *why, size_t whylen)
{
	static const char path[] = "/latest/meta-data/placement/region";
	struct imds_session local = { 0 };
	struct body answer;
	int ret;

	*region = NULL;
	ret = session_get(s ? s : &local, path, &answer, why, whylen);
	imds_session_clear(&local);
	if (ret)
		return ret;
	*region = trimmed_copy(answer.data ? answer.data : "", answer.len);
	body_wipe(&answer);
	if (!*region)
		return -ENOMEM;
	if (!**region || strlen(*region) > 63 || strchr(*region, '\n')) {
		snprintf(why, whylen, "IMDS GET %s: not a region name", path);
		free(*region);
		*region = NULL;
		return -EPROTO;
	}
	return 0;
}

/* IAM role names: [\w+=,.@-]{1,64}. Checked before the name goes into a path. */
static bool role_name_ok(const char *role)
{
	size_t n = strlen(role);

	if (!n || n > IMDS_ROLE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = role[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("_+=,.@-", c)))
			return false;
	}
	return true;
}

int imds_role_name(struct imds_session *s, char **role, char *why, size_t whylen)
{
	struct body answer;
	const char *nl;
	int ret;

	*role = NULL;
	ret = session_get(s, CREDENTIALS_PATH, &answer, why, whylen);
	if (ret == -ENOENT)
		snprintf(why, whylen, "no IAM role attached to this instance (IMDS GET %s: HTTP 404)",
			 CREDENTIALS_PATH);
	if (ret)
		return ret;
	/* One role per instance profile; the listing has it on the first line. */
	nl = answer.data ? memchr(answer.data, '\n', answer.len) : NULL;
	*role = trimmed_copy(answer.data ? answer.data : "",
			     nl ? (size_t)(nl - answer.data) : answer.len);
	body_wipe(&answer);
	if (!*role)
		return -ENOMEM;
	if (!**role) {
		snprintf(why, whylen, "no IAM role attached to this instance (IMDS lists none)");
		ret = -ENOENT;
	} else if (!role_name_ok(*role)) {
		snprintf(why, whylen, "IMDS GET %s: answer is not an IAM role name", CREDENTIALS_PATH);
		ret = -EPROTO;
	}
	if (ret) {
		free(*role);
		*role = NULL;
	}
	return ret;
}

void imds_role_credentials_free(struct imds_role_credentials *c)
{
	if (!c)
		return;
	if (c->access_key_id) {
		explicit_bzero(c->access_key_id, strlen(c->access_key_id));
		free(c->access_key_id);
	}
	if (c->secret_access_key) {
		explicit_bzero(c->secret_access_key, strlen(c->secret_access_key));
		free(c->secret_access_key);
	}
	if (c->token) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	memset(c, 0, sizeof(*c));
}

/* Text from the service, fit for a reason: printable ASCII, at most max chars. */
static void printable(char *dst, size_t dstlen, const char *src, size_t max)
{
	size_t i, n = 0;

	if (!dstlen)
		return;
	for (i = 0; src[i] && i < max && n + 1 < dstlen; i++)
		dst[n++] = (src[i] >= ' ' && src[i] <= '~') ? src[i] : '?';
	if (src[i] && n + 4 < dstlen) {
		memcpy(dst + n, "...", 3);
		n += 3;
	}
	dst[n] = '\0';
}

static bool leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool digits(const char *s, int n, int *value)
{
	*value = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*value = *value * 10 + (s[i] - '0');
	}
	return true;
}

int imds_parse_time(const char *text, time_t *out)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int year, mon, day, hour, min, sec, oh = 0, om = 0, sign = 0;
	const char *p = text;
	long long days;

	if (strnlen(text, 20) < 19 || !digits(p, 4, &year) || p[4] != '-' ||
	    !digits(p + 5, 2, &mon) || p[7] != '-' || !digits(p + 8, 2, &day) ||
	    (p[10] != 'T' && p[10] != 't') || !digits(p + 11, 2, &hour) || p[13] != ':' ||
	    !digits(p + 14, 2, &min) || p[16] != ':' || !digits(p + 17, 2, &sec))
		return -EINVAL;
	p += 19;
	if (*p == '.') {
		int n = 0;

		for (p++; *p >= '0' && *p <= '9' && n < 9; p++)
			n++;
		if (!n)
			return -EINVAL;
	}
	if ((*p == 'Z' || *p == 'z') && !p[1]) {
		/* UTC */
	} else if ((*p == '+' || *p == '-') && digits(p + 1, 2, &oh) && p[3] == ':' &&
		   digits(p + 4, 2, &om) && !p[6] && oh <= 23 && om <= 59) {
		sign = *p == '+' ? 1 : -1;
	} else {
		return -EINVAL;
	}
	if (year < 1970 || mon < 1 || mon > 12 || day < 1 ||
	    day > mdays[mon - 1] + (mon == 2 && leap(year)) || hour > 23 || min > 59 || sec > 60)
		return -EINVAL;
	if (sec == 60)
		sec = 59; /* a leap second: close enough for an expiry */
	/* Days since 1970-01-01 of a proleptic Gregorian date. */
	days = 0;
	for (int y = 1970; y < year; y++)
		days += leap(y) ? 366 : 365;
	for (int m = 1; m < mon; m++)
		days += mdays[m - 1] + (m == 2 && leap(year));
	days += day - 1;
	*out = (time_t)(days * 86400 + hour * 3600 + min * 60 + sec) -
	       sign * (time_t)(oh * 3600 + om * 60);
	return 0;
}


int imds_parse_role_credentials(const char *json, size_t len, const char *role,
				struct imds_role_credentials *out, char *why, size_t whylen)
{
	static const char *const fields[] = { "AccessKeyId", "SecretAccessKey", "Token",
					      "Expiration" };
	char *values[4] = { NULL }, code[48], message[96], shown[40];
	json_object *root = NULL, *v;
	enum json_tokener_error jerr;
	json_tokener *tok;
	size_t end;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!role)
		role = "?";
	if (len > IMDS_BODY_MAX) {
		snprintf(why, whylen, "IMDS credentials for role '%s': answer too large", role);
		return -EPROTO;
	}
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, json, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	while (root && end < len && json[end] && strchr(" \t\r\n", json[end]))
		end++;
	if (!root || jerr != json_tokener_success || end != len) {
		snprintf(why, whylen, "IMDS credentials for role '%s' are not JSON: %s", role,
			 !root && jerr == json_tokener_continue ? "unexpected end of text" :
			 !root || jerr != json_tokener_success ? json_tokener_error_desc(jerr) :
								  "text after the object");
		ret = -EPROTO;
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		snprintf(why, whylen, "IMDS credentials for role '%s' are not a JSON object", role);
		ret = -EPROTO;
		goto out;
	}
	/* A 200 can still carry an error, e.g. when EC2 may not assume the role. */
	if (json_object_object_get_ex(root, "Code", &v) &&
	    (!json_object_is_type(v, json_type_string) ||
	     strcmp(json_object_get_string(v), "Success"))) {
		json_object *m = NULL;

		/* "Code": null has no string: json-c gives NULL for it. */
		printable(code, sizeof(code), json_object_get_string(v) ?: "null", 40);
		message[0] = '\0';
		if (json_object_object_get_ex(root, "Message", &m) &&
		    json_object_is_type(m, json_type_string)) {
			char text[80];

			printable(text, sizeof(text), json_object_get_string(m), 72);
			snprintf(message, sizeof(message), ": %s", text);
		}
		snprintf(why, whylen, "IMDS credentials for role '%s': Code '%s'%s", role, code,
			 message);
		ret = -EPROTO;
		goto out;
	}
	for (size_t i = 0; i < 4; i++) {
		ret = json_dup_string(root, fields[i], true, &values[i]);
		if (ret == -ENOMEM) {
			snprintf(why, whylen, "out of memory");
			goto out;
		}
		if (ret) {
			snprintf(why, whylen,
				 "IMDS credentials for role '%s' lack %s (or it is not a string)",
				 role, fields[i]);
			ret = -EPROTO;
			goto out;
		}
	}
	if (imds_parse_time(values[3], &out->expiration)) {
		printable(shown, sizeof(shown), values[3], 32);
		snprintf(why, whylen,
			 "IMDS credentials for role '%s': Expiration '%s' is not an ISO 8601 time",
			 role, shown);
		ret = -EPROTO;
		goto out;
	}
	out->access_key_id = values[0];
	out->secret_access_key = values[1];
	out->token = values[2];
	values[0] = values[1] = values[2] = NULL;
out:
	for (size_t i = 0; i < 4; i++) {
		if (values[i]) {
			explicit_bzero(values[i], strlen(values[i]));
			free(values[i]);
		}
	}
	if (root)
		json_object_put(root);
	return ret;
}

int imds_role_credentials(struct imds_session *s, const char *role,
			  struct imds_role_credentials *out, char *why, size_t whylen)
{
	char path[sizeof(CREDENTIALS_PATH) + IMDS_ROLE_NAME_MAX];
	struct body answer;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!role_name_ok(role)) {
		snprintf(why, whylen, "'%.64s' is not an IAM role name", role);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s%s", CREDENTIALS_PATH, role);
	ret = session_get(s, path, &answer, why, whylen);
	if (ret == -ENOENT)
		snprintf(why, whylen, "IMDS has no credentials for role '%s' (HTTP 404)", role);
	if (ret)
		return ret;
	ret = imds_parse_role_credentials(answer.data ? answer.data : "", answer.len, role, out,
					  why, whylen);
	body_wipe(&answer);
	return ret;
}
