/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Disk evidence: one crash-consistent set of snapshots of every volume of
 * the instance (CreateSnapshots), tagged with the case; copies re-encrypted
 * with the forensics KMS key; the copies shared with the forensics account.
 * Waits poll DescribeSnapshots with growing, jittered intervals, never a
 * fixed sleep, up to a deadline.
 */
#ifndef FORENSICS_SNAPSHOTS_H
#define FORENSICS_SNAPSHOTS_H

#include "aws/awsapi.h"
#include "response/record.h"
#include "response/respond.h"

#include <json-c/json.h>
#include <time.h>

#define SNAPSHOT_POLL_FIRST_MS 1000
#define SNAPSHOT_POLL_CAP_MS 60000
#define SNAPSHOT_DEFAULT_TIMEOUT_S (6 * 3600)
/* On a copy: the snapshot it copies, so a rerun finds a copy its record missed. */
#define SOURCE_SNAPSHOT_TAG_KEY "ForensicsSourceSnapshot"

/*
 * CreateSnapshots of all the instance's volumes, tagged with the case. *out:
 * [{"snapshot_id", "volume_id", "state", "start_time", "volume_size"}].
 */
int snapshots_create(struct awsapi_client *ec2, const char *instance_id, const char *case_id,
		     json_object **out, struct awsapi_error *err);
/*
 * Until every snapshot named by id_key in list is "completed" (its "state"
 * updated in place, under state_key), one is "error" (-EIO), or the deadline
 * passes (-ETIMEDOUT).
 */
int snapshots_wait(struct awsapi_client *ec2, json_object *list, const char *id_key,
		   const char *state_key, time_t deadline, struct awsapi_error *err);
/*
 * What earlier runs of the case made, found by the tags they carry (a run
 * killed after the call and before recording it): *originals as
 * snapshots_create gives them, one per volume; *copies {source id: copy id}.
 */
int snapshots_find(struct awsapi_client *ec2, const char *instance_id, const char *case_id,
		   json_object **originals, json_object **copies, struct awsapi_error *err);
/*
 * CopySnapshot, encrypted with kms_key, tagged with the case and its source:
 * *copy_id malloc'd.
 */
int snapshots_copy(struct awsapi_client *ec2, const char *snapshot_id, const char *region,
		   const char *kms_key, const char *case_id, const char *instance_id,
		   char **copy_id, struct awsapi_error *err);
/* ModifySnapshotAttribute createVolumePermission add account. */
int snapshots_share(struct awsapi_client *ec2, const char *snapshot_id, const char *account,
		    struct awsapi_error *err);
/*
 * The response's disk evidence, each call a step in rec: one crash-consistent
 * set (never a second one on a rerun: a rerun adopts what an interrupted run
 * made, found by its tags), then with o->kms_key encrypted copies,
 * then with o->share_with the share, all by o->snapshot_timeout_s. A failed
 * copy or share leaves the others going.
 */
void snapshots_take(struct awsapi_client *ec2, const struct respond_options *o,
		    const char *region, struct case_record *rec);

#endif
