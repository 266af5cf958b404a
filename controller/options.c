// SPDX-License-Identifier: GPL-2.0-only
/*
 * The options respond, contain and release share (and event and lambda pass
 * on): parsed and checked before anything is touched, so a mistake is a
 * usage error (exit 2) and not a half-done response.
 */
#include "options.h"
#include "base/exitcodes.h"
#include "base/log.h"
#include "aws/http.h"
#include "response/ec2.h"
#include "response/memory.h"
#include "response/record.h"
#include "response/snapshots.h"
#include "response/ssm.h"
#include "subcommands.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* What every response command takes: who, where, and where the record and messages go. */
static const char common_options[] =
	"  --case ID             case identifier (letters, digits, . _ -)\n"
	"  --region R            the instance's region (else AWS_REGION, the profile,\n"
	"                        IMDS)\n"
	"  --account N           fail unless the credentials are for account N\n"
	"  --role-arn ARN        assume this role in the member account first\n"
	"  --external-id X       external id the role's trust policy requires\n"
	"  --session-name S      role session name (default forensics-<case>)\n"
	"  --topic-arn ARN       SNS topic (security account) for milestone messages\n"
	"  --record S3URI        keep the case record under s3://bucket/prefix/ (written\n"
	"                        at each milestone; a rerun resumes from it)\n"
	"  --record-region R     the buckets' region (default: the environment's)\n";

static const char contain_options[] =
	"  --deny-profile P      instance profile (deny-all) to put in place of the\n"
	"                        instance's own: an ARN, or a name in the account\n"
	"  --ssm-profile P       instance profile to attach for SSM when the instance\n"
	"                        has none: an ARN, or a name in the account (its role's\n"
	"                        sessions are not revoked)\n";

static const char respond_options[] =
	"  --kms-key KEY         copy the snapshots encrypted with this KMS key\n"
	"  --share-with N        share the snapshots (the copies, with --kms-key) with\n"
	"                        account N (createVolumePermission)\n"
	"  --snapshot-timeout S  give up waiting for snapshots after S seconds (6 h)\n"
	"  --no-contain          preserve and snapshot only\n"
	"  --evidence S3URI      acquire memory with the agent through SSM into\n"
	"                        <S3URI><case>/<instance>/ (needs --agent-url and\n"
	"                        --agent-sha256)\n"
	"  --document NAME       the SSM Command document to send (forensics-acquire)\n"
	"  --agent-url URL       where the instance fetches the agent: s3://… or https://\n"
	"  --agent-sha256 HEX    the agent's SHA-256; on a mismatch nothing runs\n"
	"  --writer-role-arn ARN role the agent writes with, narrowed by a session\n"
	"                        policy to that prefix (else the instance's profile)\n"
	"  --source NAME         memory source to force (auto: the agent's order)\n"
	"  --module-store S3URI  the agent's --module-store (modules per kernel)\n"
	"  --module-pins S3URI   the agent's --module-pins (their SHA-256 list)\n"
	"  --agent-args ARGS     more acquire options, split at spaces (repeatable)\n"
	"  --acquire-timeout S   give up on the agent after S seconds (4 h)\n";

static const char release_options[] =
	"  --reattach            put the instance back into the Auto Scaling group and\n"
	"                        load balancers it was taken out of (default: leave it\n"
	"                        out, and say so in the record)\n";

static const char tail_options[] =
	"  --ca-bundle FILE      CA certificates to verify AWS with (default:\n"
	"                        AWS_CA_BUNDLE, SSL_CERT_FILE, SSL_CERT_DIR, else the\n"
	"                        distribution's bundle)\n"
	"  --log-format F        auto, text or json\n"
	"  -h, --help            this text\n";

/* The command's own lines, then only the options it acts on. */
static void usage(FILE *out, const struct subcommand *sc)
{
	sc->usage(out);
	fputs(common_options, out);
	if (sc->mode != RESPOND_RELEASE)
		fputs(contain_options, out);
	if (sc->mode == RESPOND_FULL)
		fputs(respond_options, out);
	if (sc->mode == RESPOND_RELEASE)
		fputs(release_options, out);
	fputs(tail_options, out);
}

/* An instance profile's name (IAM: 1-128 of letters, digits and +=,.@_-). */
static bool profile_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 128 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+=,.@_-") == n;
}

static bool account_ok(const char *s)
{
	size_t n = strlen(s);

	return n == 12 && strspn(s, "0123456789") == n;
}

/* Appends "[option ]words" to the document's ExtraArgs; -1 when it would not fit. */
static int add_agent_args(struct respond_options *o, const char *option, const char *words)
{
	size_t n = strlen(o->extra_args);
	int w;

	w = snprintf(o->extra_args + n, sizeof(o->extra_args) - n, "%s%s%s%s", n ? " " : "",
		     option ? option : "", option ? " " : "", words);
	if (w < 0 || (size_t)w >= sizeof(o->extra_args) - n) {
		o->extra_args[n] = '\0';
		return -1;
	}
	return 0;
}

/* --NAME's seconds, > 0, into *out; -1 (logged) otherwise. */
static int seconds(const struct respond_options *o, const char *name, long *out)
{
	char *end;

	*out = strtol(optarg, &end, 10);
	if (*end || end == optarg || *out <= 0) {
		log_error("usage", "%s: --%s wants seconds > 0", o->command, name);
		return -1;
	}
	return 0;
}

int options_parse(int argc, char *argv[], const struct subcommand *sc, struct respond_options *o)
{
	static const struct option longs[] = {
		{ "case", required_argument, NULL, 'c' },
		{ "region", required_argument, NULL, 'r' },
		{ "account", required_argument, NULL, 'a' },
		{ "role-arn", required_argument, NULL, 'R' },
		{ "external-id", required_argument, NULL, 'x' },
		{ "session-name", required_argument, NULL, 's' },
		{ "kms-key", required_argument, NULL, 'k' },
		{ "share-with", required_argument, NULL, 'S' },
		{ "snapshot-timeout", required_argument, NULL, 't' },
		{ "deny-profile", required_argument, NULL, 'D' },
		{ "no-contain", no_argument, NULL, 'N' },
		{ "reattach", no_argument, NULL, 'A' },
		{ "topic-arn", required_argument, NULL, 'T' },
		{ "record", required_argument, NULL, 'o' },
		{ "record-region", required_argument, NULL, 'G' },
		{ "evidence", required_argument, NULL, 'e' },
		{ "writer-role-arn", required_argument, NULL, 'W' },
		{ "document", required_argument, NULL, 'd' },
		{ "agent-url", required_argument, NULL, 'U' },
		{ "agent-sha256", required_argument, NULL, 'H' },
		{ "source", required_argument, NULL, 'y' },
		{ "module-store", required_argument, NULL, 'M' },
		{ "module-pins", required_argument, NULL, 'p' },
		{ "agent-args", required_argument, NULL, 'X' },
		{ "ssm-profile", required_argument, NULL, 'P' },
		{ "acquire-timeout", required_argument, NULL, 'Q' },
		{ "log-format", required_argument, NULL, 'L' },
		{ "ca-bundle", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char why[AWSAPI_ERROR_MAX + 256];
	const char *ca_bundle = NULL;
	int c;

	memset(o, 0, sizeof(*o));
	o->command = sc->name;
	o->mode = sc->mode;
	opterr = 0;
	optind = 0;  /* a fresh scan: the Lambda runtime runs many events in one process */
	while ((c = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
		switch (c) {
		case 'c': o->case_id = optarg; break;
		case 'r': o->region = optarg; break;
		case 'a': o->account = optarg; break;
		case 'R': o->role_arn = optarg; break;
		case 'x': o->external_id = optarg; break;
		case 's': o->session_name = optarg; break;
		case 'k': o->kms_key = optarg; break;
		case 'D': o->deny_profile = optarg; break;
		case 'N': o->no_contain = true; break;
		case 'A': o->reattach = true; break;
		case 'T': o->topic_arn = optarg; break;
		case 'o': o->record_uri = optarg; break;
		case 'G': o->record_region = optarg; break;
		case 'e': o->evidence_uri = optarg; break;
		case 'W': o->writer_role = optarg; break;
		case 'd': o->document = optarg; break;
		case 'U': o->agent_url = optarg; break;
		case 'H': o->agent_sha256 = optarg; break;
		case 'y': o->source = optarg; break;
		case 'M':
		case 'p':
			if (strncmp(optarg, "s3://", 5)) {
				log_error("usage", "%s: --%s %s: not an s3:// URI", o->command,
					  c == 'M' ? "module-store" : "module-pins", optarg);
				return EXIT_USAGE;
			}
			o->tool_uris[c == 'M' ? 0 : 1] = optarg;
			/* fall through */
		case 'X':
			if (add_agent_args(o, c == 'M' ? "--module-store" :
					   c == 'p' ? "--module-pins" : NULL, optarg)) {
				log_error("usage", "%s: the agent's options exceed the document's "
					  "%d characters of ExtraArgs", o->command, SSMDOC_EXTRA_MAX);
				return EXIT_USAGE;
			}
			break;
		case 'P': o->ssm_profile = optarg; break;
		case 'C':
			if (!*optarg) {
				log_error("usage", "%s: --ca-bundle wants a file", o->command);
				return EXIT_USAGE;
			}
			ca_bundle = optarg;
			break;
		case 'Q':
			if (seconds(o, "acquire-timeout", &o->acquire_timeout_s))
				return EXIT_USAGE;
			break;
		case 'S': o->share_with = optarg; break;
		case 't':
			if (seconds(o, "snapshot-timeout", &o->snapshot_timeout_s))
				return EXIT_USAGE;
			break;
		case 'L':
			if (log_set_format(optarg)) {
				log_error("usage", "%s: unknown log format '%s'", o->command,
					  optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout, sc);
			return -1;
		default:
			log_option_error(o->command, c, argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		log_error("usage", "%s: give exactly one instance id (try --help)", o->command);
		return EXIT_USAGE;
	}
	/* Every event sets it: the Lambda runtime runs many in one process. */
	aws_http_ca_bundle_set(ca_bundle);
	o->instance_id = argv[optind];
	if (!ec2_instance_id_ok(o->instance_id)) {
		log_error("usage", "%s: '%.40s' is not an instance id (i- and 8 or 17 hex digits)",
			  o->command, o->instance_id);
		return EXIT_USAGE;
	}
	if (!case_record_id_ok(o->case_id)) {
		log_error("usage", "%s: --case is required: 1-64 letters, digits, '.', '_', '-'",
			  o->command);
		return EXIT_USAGE;
	}
	if (o->share_with && !account_ok(o->share_with)) {
		log_error("usage", "%s: --share-with wants a 12-digit account id", o->command);
		return EXIT_USAGE;
	}
	for (int i = 0; i < 2; i++) {
		const char *v = i ? o->ssm_profile : o->deny_profile;

		if (v && strncmp(v, "arn:", 4) && !profile_name_ok(v)) {
			log_error("usage", "%s: --%s wants an instance profile's ARN or name, not "
				  "'%.40s'", o->command, i ? "ssm-profile" : "deny-profile", v);
			return EXIT_USAGE;
		}
	}
	if (!o->snapshot_timeout_s)
		o->snapshot_timeout_s = SNAPSHOT_DEFAULT_TIMEOUT_S;
	if (!o->acquire_timeout_s)
		o->acquire_timeout_s = SSM_DEFAULT_TIMEOUT_S;
	if (!o->document)
		o->document = SSMDOC_DEFAULT_NAME;
	if (o->evidence_uri && memory_options_check(o, why, sizeof(why))) {
		log_error("usage", "%s: %s", o->command, why);
		return EXIT_USAGE;
	}
	if (o->mode == RESPOND_RELEASE && !o->record_uri) {
		log_error("usage", "%s: --record is required: the case record says what to restore",
			  o->command);
		return EXIT_USAGE;
	}
	if (o->reattach && o->mode != RESPOND_RELEASE) {
		log_error("usage", "%s: --reattach is release's", o->command);
		return EXIT_USAGE;
	}
	if (o->external_id && !o->role_arn) {
		log_error("usage", "%s: --external-id needs --role-arn", o->command);
		return EXIT_USAGE;
	}
	return 0;
}
