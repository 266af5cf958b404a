// SPDX-License-Identifier: GPL-2.0-only
/*
 * lambda: the controller as a Lambda custom runtime (a `bootstrap` that
 * execs `forensics-controller lambda`). Events come from the Runtime API
 * (AWS_LAMBDA_RUNTIME_API): next invocation, then its response or error.
 * Configuration comes from the function's environment:
 *
 *   FORENSICS_ROLE_NAME     member accounts' response role (event --role-name)
 *   FORENSICS_OPTIONS       more respond options, split at spaces
 *                           ("--record s3://… --kms-key … --share-with …")
 *
 * The case record goes to the log (stdout) and, with --record, to S3; the
 * invocation answers {"exit_code": N} or an error naming the exit code, so
 * EventBridge's retries rerun the case, which resumes.
 */
#include "base/exitcodes.h"
#include "base/log.h"
#include "subcommands.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RUNTIME_VERSION "2018-06-01"
#define LAMBDA_MAX_OPTIONS 48
#define REQUEST_ID_MAX 128

struct reply {
	char *body;
	size_t len;
	char request_id[REQUEST_ID_MAX];
	bool overflow;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *data)
{
	struct reply *r = data;
	size_t n = size * nmemb;
	char *grown;

	if (r->len + n > (256u << 10)) {
		r->overflow = true;
		return n;
	}
	grown = realloc(r->body, r->len + n + 1);
	if (!grown)
		return 0;
	memcpy(grown + r->len, ptr, n);
	r->body = grown;
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *data)
{
	static const char name[] = "lambda-runtime-aws-request-id:";
	struct reply *r = data;
	size_t n = size * nitems, l = sizeof(name) - 1, v;

	if (n > l && !strncasecmp(buf, name, l)) {
		buf += l;
		n -= l;
		while (n && *buf == ' ') {
			buf++;
			n--;
		}
		for (v = 0; v < n && v + 1 < sizeof(r->request_id) && buf[v] != '\r' &&
			    buf[v] != '\n'; v++)
			r->request_id[v] = buf[v];
		r->request_id[v] = '\0';
	}
	return size * nitems;
}

/* GET (body NULL) or POST to the Runtime API; 0 for a 2xx answer. */
static int call(const char *url, const char *body, struct reply *r)
{
	CURL *easy = curl_easy_init();
	struct curl_slist *headers = NULL;
	long status = 0;
	CURLcode rc;

	if (!easy)
		return -1;
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http");
	if (body) {
		headers = curl_slist_append(headers, "Content-Type: application/json");
		curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
	}
	if (r) {
		curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(easy, CURLOPT_WRITEDATA, r);
		curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(easy, CURLOPT_HEADERDATA, r);
	}
	/* The next invocation may be long in coming: no timeout on it. */
	rc = curl_easy_perform(easy);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(easy);
	curl_slist_free_all(headers);
	return rc == CURLE_OK && status >= 200 && status < 300 ? 0 : -1;
}

static int split_options(char *options, char **args, int n, int max)
{
	for (char *tok = strtok(options, " \t\n"); tok; tok = strtok(NULL, " \t\n")) {
		if (n >= max)
			return -1;
		args[n++] = tok;
	}
	return n;
}

int lambda_main(int argc, char *argv[])
{
	const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
	const char *role_name = getenv("FORENSICS_ROLE_NAME");
	char *options = getenv("FORENSICS_OPTIONS") ? strdup(getenv("FORENSICS_OPTIONS")) : NULL;
	bool once = argc > 1 && !strcmp(argv[1], "--once");  /* tests: one invocation */
	char *args[LAMBDA_MAX_OPTIONS], url[512];
	int n = 0;

	if (!api || !*api || strlen(api) > 200) {
		log_error("usage", "lambda: AWS_LAMBDA_RUNTIME_API is not set: not in Lambda");
		free(options);
		return EXIT_USAGE;
	}
	args[n++] = "event";
	args[n++] = NULL;
	if (options && (n = split_options(options, args, n, LAMBDA_MAX_OPTIONS - 12)) < 0) {
		log_error("usage", "lambda: FORENSICS_OPTIONS holds too many options");
		free(options);
		return EXIT_USAGE;
	}
	do {
		struct reply next = { 0 };
		char *answer = NULL;
		int code;

		snprintf(url, sizeof(url), "http://%s/" RUNTIME_VERSION "/runtime/invocation/next",
			 api);
		if (call(url, NULL, &next) || !next.request_id[0]) {
			log_error("lambda", "the Runtime API gave no invocation");
			free(next.body);
			free(options);
			return EXIT_AWS;
		}
		code = next.overflow ? EXIT_EVENT :
		       event_run(next.body ? next.body : "", next.len, role_name, n, args);
		if (code == EXIT_OK) {
			snprintf(url, sizeof(url), "http://%s/" RUNTIME_VERSION
				 "/runtime/invocation/%s/response", api, next.request_id);
			if (asprintf(&answer, "{\"exit_code\":0}") < 0)
				answer = NULL;
		} else {
			snprintf(url, sizeof(url), "http://%s/" RUNTIME_VERSION
				 "/runtime/invocation/%s/error", api, next.request_id);
			if (asprintf(&answer, "{\"errorType\":\"ExitCode%d\",\"errorMessage\":"
				     "\"forensics-controller exit code %d (docs/exit-codes.md); "
				     "the case record says which step\"}", code, code) < 0)
				answer = NULL;
		}
		if (!answer || call(url, answer, NULL))
			log_error("lambda", "could not report invocation %s", next.request_id);
		free(answer);
		free(next.body);
	} while (!once);
	free(options);
	return EXIT_OK;
}
