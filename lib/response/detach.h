/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The instance out of what could replace or destroy it, before it is
 * isolated: its Auto Scaling group (which terminates an instance that
 * fails its health checks, termination protection or not) and the load
 * balancers that send it traffic (classic ELBs, ELBv2 target groups).
 * What was done goes into the record's "detachment", so that `release
 * --reattach` can undo it; by default release leaves it detached.
 */
#ifndef FORENSICS_DETACH_H
#define FORENSICS_DETACH_H

#include "aws/credentials.h"
#include "response/record.h"

#include <stdbool.h>

/*
 * Detaches instance_id from its Auto Scaling group (ShouldDecrementDesired
 * Capacity=false: the group may launch a replacement; when refused, Standby,
 * and when that is refused, protection from scale-in), deregisters it from
 * every classic ELB and ELBv2 target group that has it. Each call a step of
 * rec; a rerun adds to an earlier run's "detachment".
 */
void detach_instance(struct aws_credentials_provider *cred, const char *region,
		     const char *instance_id, struct case_record *rec);
/*
 * release: with reattach, puts back what the record's "detachment" says
 * was done (into the group, then the load balancers); without, records
 * under release's "left_detached" what stays as it is.
 */
void detach_restore(struct aws_credentials_provider *cred, const char *region,
		    const char *instance_id, bool reattach, struct case_record *rec,
		    json_object *done);

#endif
