/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The roles a response assumes: the member account's response role, for
 * every call in that account, and the evidence writer role in the security
 * account, whose session (narrowed by a session policy to the case's
 * prefix) is all the agent gets to write with.
 */
#ifndef FORENSICS_ASSUME_H
#define FORENSICS_ASSUME_H

#include "aws/awsapi.h"
#include "response/record.h"
#include "response/respond.h"

/*
 * Member-account credentials into *cred: the chain, then o->role_arn when
 * given (its AssumeRole a step in rec). 0, or the exit code on failure.
 */
int assume_member_role(const struct respond_options *o, const char *region,
		       struct case_record *rec, struct aws_credentials_provider **cred);
/*
 * Temporary credentials of o->writer_role (through STS in home), narrowed to
 * s3://bucket/key*: the agent can put objects there and nothing else (and
 * read its modules, o->tool_uris), for an hour at most. 0 with *out, or the
 * error with err.
 */
int assume_writer_credentials(const struct respond_options *o, const char *home,
			      const char *bucket, const char *key, struct aws_credentials *out,
			      struct awsapi_error *err);

#endif
