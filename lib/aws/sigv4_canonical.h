/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The canonical request's parts and the checks on the signer's inputs,
 * which the signing steps (sigv4.c) reuse: a presigned URL carries the
 * canonical path and query as they were signed. Internal to lib/aws; the
 * public steps are in sigv4.h.
 */
#ifndef FORENSICS_SIGV4_CANONICAL_H
#define FORENSICS_SIGV4_CANONICAL_H

#include "aws/sigv4.h"
#include "aws/sigv4_buf.h"

/*
 * Limits. S3 keys are at most 1024 bytes and session tokens a few KiB; the
 * limits leave room for that and cap the worst case (every byte of a path
 * encoded twice is 5 bytes) at a few hundred KiB of output.
 */
#define SIGV4_MAX_PAIRS 64          /* query parameters, and headers, each */
#define SIGV4_MAX_FIELD 16384       /* one name, value or path */
#define SIGV4_MAX_INPUT 65536       /* all of them together */
#define SIGV4_MAX_SHORT 128         /* method, region, service, key id */
#define SIGV4_MAX_HOST 270          /* 255-byte name, brackets, ":port" */
#define SIGV4_MAX_SECRET 256

/* Each 0, or -EINVAL (malformed) / -E2BIG (beyond the limits). */
int sigv4_check_scope(const struct sigv4_scope *scope);
int sigv4_check_request(const struct sigv4_request *req, const struct sigv4_pair *extra,
			size_t nextra);
int sigv4_check_credentials(const struct sigv4_credentials *cred);
/* amz_date must be scope->now formatted: the scope's date and X-Amz-Date cannot differ. */
int sigv4_check_amz_date(const struct sigv4_scope *scope, const char *amz_date);
/* "20150830T123600Z" for now. */
int sigv4_format_amz_date(time_t now, char out[17]);

/* The parts, appended to out (the request already checked). */
int sigv4_canonical_uri(const char *path, bool once, struct sigv4_buf *out);
int sigv4_canonical_query(const struct sigv4_pair *q, size_t nq, const struct sigv4_pair *extra,
			  size_t nextra, struct sigv4_buf *out);
int sigv4_canonical_headers(const struct sigv4_request *req, const struct sigv4_scope *scope,
			    const char *amz_date, bool query_auth, struct sigv4_buf *canon,
			    struct sigv4_buf *signed_list);

#endif
