/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The case record: what was found, what was done, and a timeline of every
 * AWS call with its result, as one JSON document (json-c). Later it is
 * written to the forensics bucket as the response goes, and a rerun resumes
 * from it.
 */
#ifndef FORENSICS_RECORD_H
#define FORENSICS_RECORD_H

#include "aws/awsapi.h"

#include <json-c/json.h>
#include <stdbool.h>

/* The tags of what a response makes (security groups, snapshots) and of the instance. */
#define CASE_TAG_KEY "ForensicsCaseId"
#define INSTANCE_TAG_KEY "ForensicsSourceInstance"

struct case_record {
	json_object *root;
	json_object *timeline;  /* borrowed from root */
	unsigned int failures;
	int run;                /* 1, or the number of this rerun of the case */
	/*
	 * Called after each step and each intent, when set (the record store's
	 * write): 0, or -EBUSY when another run holds the case, which stops the
	 * intent's call. Never called from within itself.
	 */
	int (*save)(struct case_record *r, void *ctx);
	void *save_ctx;
	bool saving;
};

/* A case id: 1-64 letters, digits, '.', '_', '-' (it names S3 keys and tags). */
bool case_record_id_ok(const char *case_id);
int case_record_init(struct case_record *r, const char *case_id, const char *instance_id,
		     const char *region);
/*
 * A timeline entry for one call, logged too (an error line names the API and
 * AWS's answer); ret 0 means it succeeded. Returns ret.
 */
int case_record_step(struct case_record *r, const char *step, const char *api, int ret,
		     const struct awsapi_error *err);
/*
 * Before a call that changes something: root "pending" says which call was
 * about to be made, and the record is saved, so a run killed before the
 * answer is recorded leaves word of it. The step of that name clears it.
 * 0, or the save's -EBUSY: another run holds the case, do not make the call.
 */
int case_record_intent(struct case_record *r, const char *step, const char *api);
/* The pending intent dropped (a phase intent whose steps have other names). */
void case_record_intent_clear(struct case_record *r);
/*
 * Continue a stored record (consumed, also on failure) of the same case and
 * instance: its timeline goes on, "runs" counts this run; a call left
 * pending becomes an "interrupted" entry of the run that made it. -EINVAL
 * when it is another case's.
 */
int case_record_resume(struct case_record *r, json_object *stored);
/* Whether an earlier run of this case recorded step as done ("ok" last). */
bool case_record_done(const struct case_record *r, const char *step);
/*
 * The latest outcome of step in the record, any run: "ok", "failed" or
 * "interrupted" (made, its answer never recorded); NULL when none.
 */
const char *case_record_last(const struct case_record *r, const char *step);
/* A step not taken, and why (e.g. done by an earlier run). */
void case_record_skip(struct case_record *r, const char *step, const char *why);
/* root[key] = value (consumed). */
void case_record_set(struct case_record *r, const char *key, json_object *value);
void case_record_free(struct case_record *r);

#endif
