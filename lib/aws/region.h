/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The region requests go to, resolved in the order the AWS SDKs use.
 *
 * Library code: no printing; errors come back as negative errno and a
 * one-line reason.
 */
#ifndef FORENSICS_REGION_H
#define FORENSICS_REGION_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Region: option, AWS_REGION, AWS_DEFAULT_REGION, the profile's "region" in
 * the config file, then IMDS (placement/region). *region is malloc'd.
 * -EINVAL for a name that is not a region's shape.
 */
int aws_region_resolve(const char *option, const char *profile, char **region, char *why,
		       size_t whylen);
/*
 * Whether region has the shape of a region's name in any partition: it
 * goes into host names, so nothing else may pass.
 */
bool aws_region_valid(const char *region);

#endif
