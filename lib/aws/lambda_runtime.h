/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Lambda Runtime API, as a custom runtime uses it: the next invocation
 * (GET .../invocation/next, its body, request id and deadline from the
 * headers), then its response or error (POST). Plain HTTP to the address
 * Lambda gives in AWS_LAMBDA_RUNTIME_API: no signing, no credentials.
 */
#ifndef FORENSICS_LAMBDA_RUNTIME_H
#define FORENSICS_LAMBDA_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>

#define LAMBDA_RUNTIME_VERSION "2018-06-01"
/* Longer API addresses are refused: the URLs are built in fixed buffers. */
#define LAMBDA_RUNTIME_API_MAX 200
#define LAMBDA_REQUEST_ID_MAX 128
/* Lambda's limit for an asynchronous invocation's event (EventBridge's way in). */
#define LAMBDA_EVENT_MAX (256u << 10)

struct lambda_invocation {
	char *body;            /* NUL-terminated, NULL when empty */
	size_t len;
	bool overflow;         /* more than LAMBDA_EVENT_MAX: the body was dropped */
	char request_id[LAMBDA_REQUEST_ID_MAX];  /* "" until the header is seen */
	long long deadline_ms; /* Lambda-Runtime-Deadline-Ms, epoch ms; 0 when not given */
};

/*
 * The next invocation from api ("host:port"), waited for as long as it takes:
 * 0 with *inv, or -EIO when the API answered none (an error, or no request
 * id). *inv is the caller's to lambda_invocation_free either way.
 */
int lambda_runtime_next(const char *api, struct lambda_invocation *inv);
/* POST body (JSON) as the invocation's response, or with failed its error: 0, or -EIO. */
int lambda_runtime_answer(const char *api, const char *request_id, bool failed,
			  const char *body);
void lambda_invocation_free(struct lambda_invocation *inv);

/*
 * curl's header and write callbacks of lambda_runtime_next, with inv as
 * their data: each header line (not NUL-terminated) and each piece of the
 * body as curl hands them over. Public for the fuzzer.
 */
size_t lambda_runtime_header(char *buf, size_t size, size_t nitems, void *inv);
size_t lambda_runtime_body(char *ptr, size_t size, size_t nmemb, void *inv);

#endif
