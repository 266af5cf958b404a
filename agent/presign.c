// SPDX-License-Identifier: GPL-2.0-only
/*
 * presign: the security account's half of credential-free uploads. Creates
 * the multipart upload with the evidence headers, presigns a URL per part
 * plus Complete and Abort, and prints the ticket (JSON) that
 * `upload --ticket` consumes on the compromised host, which then holds no
 * AWS credential at all.
 */
#include "base/exitcodes.h"
#include "base/log.h"
#include "aws/endpoint.h"
#include "s3opts.h"
#include "subcommands.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_EXPIRES 21600

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: " AGENT_NAME " presign --parts N [options] s3://BUCKET/KEY > ticket.json\n"
		"\n"
		"Create a multipart upload and print a ticket of presigned URLs (N parts,\n"
		"Complete, Abort) for `" AGENT_NAME " upload --ticket`. The URLs are\n"
		"credentials: hand them over as such.\n"
		"\n"
		"      --parts N           part URLs to sign, 1-10000 (object <= N x part size)\n"
		"      --expires S         URL lifetime in seconds (default %d, at most 604800)\n"
		"      --log-format F      auto, text or json\n"
		"\n%s", DEFAULT_EXPIRES, s3opts_help);
}

static int sign(struct s3_client *c, const struct aws_credentials *cred, const char *method,
		const char *path, const struct sigv4_pair *query, size_t nquery, unsigned int expires,
		char **url)
{
	struct sigv4_request req = { .method = method, .host = c->http.endpoint.host, .path = path,
				     .query = query, .query_count = nquery,
				     .payload_hash = SIGV4_UNSIGNED_PAYLOAD };
	struct sigv4_credentials scred = { cred->access_key_id, cred->secret_access_key,
					   cred->session_token };
	struct sigv4_scope scope = { .region = c->http.region, .service = "s3",
				     .now = time(NULL) + c->http.clock_offset, .s3 = true };

	return sigv4_presign_url(c->http.endpoint.scheme, &req, &scred, &scope, expires, url);
}

int presign_main(int argc, char *argv[])
{
	enum { OPT_PARTS = 256, OPT_EXPIRES };
	static const struct option own[] = {
		{ "parts", required_argument, NULL, OPT_PARTS },
		{ "expires", required_argument, NULL, OPT_EXPIRES },
		{ "log-format", required_argument, NULL, S3OPTS_LOG_FORMAT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct option all[S3OPTS_MERGED_MAX];
	const struct aws_credentials *cred;
	struct s3opts o;
	struct s3_client client;
	bool client_ready = false;
	char why[S3_REASON_MAX] = "", *bucket = NULL, *key = NULL, *upload_id = NULL;
	char *path = NULL, number[12];
	unsigned long parts = 0, expires = DEFAULT_EXPIRES;
	json_object *ticket = NULL, *urls;
	int c, ret, code = EXIT_FAILURE_INTERNAL;

	s3opts_merge_longopts(own, all);
	s3opts_init(&o);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", all, NULL)) != -1) {
		char *end;

		switch (c) {
		case OPT_PARTS:
			parts = strtoul(optarg, &end, 10);
			if (*end || parts < 1 || parts > S3_MAX_PARTS)
				goto bad_value;
			break;
		case OPT_EXPIRES:
			expires = strtoul(optarg, &end, 10);
			if (*end || expires < 1 || expires > SIGV4_MAX_PRESIGN_EXPIRES)
				goto bad_value;
			break;
		default:
			ret = s3opts_handle_rest(&o, "presign", c, argv, usage);
			if (ret) {
				code = ret > 0 ? EXIT_OK : EXIT_USAGE;
				goto out;
			}
		}
	}
	if (argc - optind != 1 || !parts) {
		log_error("usage", "presign: need --parts N and s3://BUCKET/KEY (try --help)");
		code = EXIT_USAGE;
		goto out;
	}
	code = s3opts_parse_uri("presign", argv[optind], &bucket, &key);
	if (code == EXIT_OK)
		code = s3opts_open_client(&o, bucket, &client, "presign");
	if (code != EXIT_OK)
		goto out;
	client_ready = true;
	code = EXIT_FAILURE_INTERNAL;
	ret = s3_multipart_create(&client, key, &o.upload.object, false, &upload_id, NULL, NULL,
				  why, sizeof(why));
	if (ret) {
		log_error("upload", "presign: create multipart upload: %s", why);
		code = s3opts_exit_code(ret);
		goto out;
	}
	if (aws_credentials_get(client.http.credentials, time(NULL), &cred, why, sizeof(why)) ||
	    asprintf(&path, "%s/%s", client.http.endpoint.path_prefix, key) < 0) {
		log_error("credentials", "presign: %s", why);
		code = EXIT_CREDENTIALS;
		goto out;
	}
	ticket = json_object_new_object();
	urls = json_object_new_array();
	json_object_object_add(ticket, "bucket", json_object_new_string(bucket));
	json_object_object_add(ticket, "key", json_object_new_string(key));
	json_object_object_add(ticket, "upload_id", json_object_new_string(upload_id));
	json_object_object_add(ticket, "part_size", json_object_new_int64(
		(int64_t)(o.upload.part_size ? o.upload.part_size : S3_DEFAULT_PART_SIZE)));
	json_object_object_add(ticket, "parts", urls);
	for (unsigned long i = 1; i <= parts; i++) {
		struct sigv4_pair q[2] = { { "partNumber", number }, { "uploadId", upload_id } };
		char *url = NULL;

		snprintf(number, sizeof(number), "%lu", i);
		if (sign(&client, cred, "PUT", path, q, 2, (unsigned int)expires, &url))
			goto out;
		json_object_array_add(urls, json_object_new_string(url));
		free(url);
	}
	for (int i = 0; i < 2; i++) {
		struct sigv4_pair q[1] = { { "uploadId", upload_id } };
		char *url = NULL;

		if (sign(&client, cred, i ? "DELETE" : "POST", path, q, 1, (unsigned int)expires,
			 &url))
			goto out;
		json_object_object_add(ticket, i ? "abort" : "complete", json_object_new_string(url));
		free(url);
	}
	printf("%s\n", json_object_to_json_string_ext(ticket, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	code = fflush(stdout) ? EXIT_OUTPUT : EXIT_OK;
	goto out;
bad_value:
	log_error("usage", "presign: bad value '%s' for %s", optarg, argv[optind - 1]);
	code = EXIT_USAGE;
out:
	json_object_put(ticket);
	if (client_ready)
		s3_client_free(&client);
	s3opts_free(&o);
	free(bucket);
	free(key);
	free(upload_id);
	free(path);
	return code;
}
