// SPDX-License-Identifier: GPL-2.0-only
#include "destination.h"
#include "acquire.h"
#include "base/exitcodes.h"
#include "base/util.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

const char *destination_key(const struct destination *d, const char *uri)
{
	return uri + 5 + strlen(d->bucket) + 1;
}

int destination_object_exists(struct destination *d, const char *key, char *why, size_t whylen)
{
	struct aws_http_request r = { .method = "HEAD", .path = key };
	struct aws_http_response resp = { 0 };
	int ret;

	aws_http_request_set_body(&r, NULL, 0);
	ret = s3_perform(&d->client, &r, &resp, why, whylen);
	if (!ret)
		ret = 1;
	else if (resp.status == 404)
		ret = 0;
	aws_http_response_reset(&resp);
	return ret;
}

int destination_open(struct destination *d, const char *name, uint64_t expected_size,
		     const struct sigv4_pair *extra, struct sink **out)
{
	int ret = 0;

	if (d->s3) {
		struct s3_upload_options options = d->options->upload;

		if (extra) {
			size_t n = options.object.metadata_count;

			memcpy(d->image_metadata, options.object.metadata, n * sizeof(*extra));
			d->image_metadata[n++] = *extra;
			options.object.metadata = d->image_metadata;
			options.object.metadata_count = n;
		}
		options.expected_size = expected_size;
		/*
		 * Part buffers are host memory rewritten with compressed (so
		 * incompressible) data all through the capture: the default 8 MiB
		 * x (4 + 1) is 8% of a 512 MiB host. Below ACQUIRE_SMALL_RAM, unless told
		 * otherwise, the smallest S3 allows, one in flight: 10 MiB.
		 */
		if (expected_size && expected_size < ACQUIRE_SMALL_RAM) {
			if (!options.part_size)
				options.part_size = S3_MIN_PART_SIZE;
			if (!options.parts_in_flight)
				options.parts_in_flight = 1;
		}
		*out = s3_upload_sink_new(&d->client, destination_key(d, name), &options, &ret);
		return ret;
	}
	if (!strcmp(name, "-")) {
		*out = sink_fd_new(STDOUT_FILENO, "stdout");
		return *out ? 0 : -ENOMEM;
	}
	*out = sink_file_new(name, &ret);
	return ret;
}

json_object *destination_location(const struct destination *d, const struct sink *upload)
{
	const struct s3_upload_result *r = s3_upload_sink_result(upload);

	return s3opts_location(&d->client, d->bucket, r->key ? r->key : "", r);
}

int destination_exit_code(const struct destination *d, int err)
{
	if (err == -EINTR || stop_requested)
		return EXIT_INTERRUPTED;
	if (err == -ENOMEM)
		return EXIT_FAILURE_INTERNAL;
	if (err == -EEXIST)
		return EXIT_OUTPUT;
	if (d->s3)
		return s3opts_exit_code(err);
	return EXIT_OUTPUT;
}

const char *destination_error(const struct destination *d, const struct sink *out, int err)
{
	if (d->s3 && out && s3_upload_sink_error(out)[0])
		return s3_upload_sink_error(out);
	return strerror(-err);
}


enum s3_upload_state destination_settle(const struct destination *d, struct sink *out)
{
	return d->s3 && out ? s3_upload_sink_settle(out) : S3_UPLOAD_UNSETTLED;
}

const char *destination_outcome(const struct destination *d, struct sink *out)
{
	if (!d->s3 || !out)
		return "";
	s3_upload_sink_settle(out);
	return s3_upload_sink_outcome(out);
}
