/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The response to one suspect instance, its steps in order: the member
 * account's credentials (assume.h), who we are and the account check, the
 * instance as found, preservation (ec2.h), memory through SSM (memory.h),
 * disk snapshots (snapshots.h) and containment (contain.h); or, for
 * release, the restore (release.h). Every call goes into the case record,
 * which is saved (store.h) and announced (notify.h) at each milestone, and
 * a rerun of the case resumes from the saved one.
 */
#ifndef FORENSICS_RESPOND_H
#define FORENSICS_RESPOND_H

#include "response/ssmdoc.h"

#include <json-c/json.h>
#include <stdbool.h>

enum respond_mode {
	RESPOND_FULL,     /* preserve, memory, snapshots, contain */
	RESPOND_CONTAIN,  /* describe and isolate */
	RESPOND_RELEASE,  /* restore from the stored record */
};

struct respond_options {
	enum respond_mode mode;
	const char *command;         /* the command's name, in the record and messages */
	const char *instance_id;
	const char *region;
	const char *case_id;
	const char *account;
	const char *role_arn;
	const char *external_id;
	const char *session_name;
	const char *kms_key;
	const char *share_with;
	long snapshot_timeout_s;
	const char *deny_profile;    /* an instance profile's ARN or name */
	const char *topic_arn;
	const char *record_uri;
	const char *record_region;
	const char *evidence_uri;
	const char *writer_role;     /* none: the agent writes with the instance's profile */
	const char *document;
	const char *agent_url;
	const char *agent_sha256;
	const char *source;
	char extra_args[SSMDOC_EXTRA_MAX + 1];  /* the document's ExtraArgs */
	const char *tool_uris[2];    /* --module-store, --module-pins: the agent reads them */
	const char *ssm_profile;     /* an instance profile's ARN or name */
	long acquire_timeout_s;
	bool no_contain;
	bool reattach;               /* release: back into the Auto Scaling group and balancers */
};

/*
 * The response o asks for, in region (the instance's). Returns the exit
 * code; *record is the case record to show (a new reference), or NULL when
 * the response stopped before it had one (the log says why).
 */
int respond_run(const struct respond_options *o, const char *region, json_object **record);
/*
 * Where the security account's own resources live: --record-region, the
 * environment's region, else region. malloc'd; NULL without memory.
 */
char *respond_home_region(const struct respond_options *o, const char *region);

#endif
