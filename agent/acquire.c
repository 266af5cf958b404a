// SPDX-License-Identifier: GPL-2.0-only
/*
 * acquire: capture physical memory into a LiME image, hashing and
 * compressing on the fly, with a manifest and an analysis bundle beside it.
 */
#include "acquire.h"
#include "bundle.h"
#include "cliopts.h"
#include "destination.h"
#include "image_sinks.h"
#include "base/exitcodes.h"
#include "hostinfo.h"
#include "base/log.h"
#include "capture/manifest.h"
#include "modsource.h"
#include "s3opts.h"
#include "subcommands.h"
#include "capture/capture.h"
#include "capture/iomem.h"
#include "capture/lime.h"
#include "base/sink.h"
#include "capture/source.h"
#include "base/util.h"
#include "base/timefmt.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define DEFAULT_CHUNK (256u << 10)
#define BUNDLE_SUFFIX ".bundle.tar.zst"

struct acquire_options {
	const char *output;        /* path, directory ending in '/', or "-" */
	const char *source;        /* NULL: automatic */
	const char *source_path;   /* overrides the source's device or file */
	const char *manifest_path; /* default: beside a file output */
	const char *bundle_path;   /* default: beside a file output */
	const char *iomem_path;
	const char *case_id;
	bool compress;
	bool bundle;
	int level;
	int threads;
	size_t chunk_size;
	struct s3opts s3;
	struct modsource_options modules;
	bool no_modules;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: " AGENT_NAME " acquire --output PATH|DIR/|- [options]\n"
		"\n"
		"Capture all physical RAM as a LiME image, zstd-compressed and SHA-256 hashed\n"
		"as it streams. Nothing is written to local disks unless PATH names a file.\n"
		"\n"
		"  -o, --output PATH     image file; DIR/ picks <hostname>-<UTC time>.lime.zst;\n"
		"                        - writes to stdout (the default when stdout is not a TTY)\n"
		"  -s, --source NAME     force a source: module, lime, ebpf, kcore, crash, devmem (default:\n"
		"                        the first that works, in that order), or file (a padded image,\n"
		"                        for tests and benchmarks)\n"
		"      --source-path P   read the source from P instead of its usual device\n"
		"  -l, --level N         zstd level 1-19 (default %d; %d below %llu GiB of RAM)\n"
		"  -t, --threads N       zstd worker threads (default: half the CPUs, at most 4)\n"
		"      --no-compress     write plain LiME\n"
		"      --chunk-size N    bytes per read, multiple of 4096 (default 256 KiB)\n"
		"      --case ID         case id recorded in the manifest\n"
		"      --manifest PATH   write the manifest here (default: beside a file image;\n"
		"                        with stdout it goes to the log as the final JSON line)\n"
		"      --bundle PATH     write the analysis bundle here (default: beside a file image)\n"
		"      --no-bundle       skip the analysis bundle\n"
		"      --iomem PATH      read the RAM map from PATH instead of /proc/iomem\n"
		"      --log-format F    auto, text or json (default auto: json unless stderr is a TTY)\n"
		"\n"
		"Kernel modules (tried first; each is checked against the running kernel's\n"
		"release and a pinned SHA-256, loaded for the capture and unloaded after):\n"
		"      --module F        the forensics_mem module: a file or s3://… (default: found\n"
		"                        in --module-store, then where DKMS installs it)\n"
		"      --module-store S  DIR or s3://BUCKET/PREFIX/ holding <release>/forensics_mem.ko\n"
		"      --lime-module F   an upstream LiME module: a file or s3://…\n"
		"      --lime-store S    DIR or s3://… holding <os>/<release>/lime-<release>.ko\n"
		"      --lime-params P   more LiME parameters (e.g. \"timeout=0\"; not path, format,\n"
		"                        localhostonly, dio, digest or compress)\n"
		"      --module-pins L   sha256sum-format list of allowed modules: a file or s3://…\n"
		"                        (default " MODSOURCE_DEFAULT_PINS " if present)\n"
		"      --module-sha256 H an allowed module's SHA-256 (repeatable)\n"
		"      --no-modules      never load a kernel module\n"
		"\n"
		"With --output s3://BUCKET/PREFIX/ the image, manifest and bundle stream\n"
		"straight into the bucket (PREFIX/<hostname>-<UTC time>.lime.zst ...).\n"
		"\n"
		"Memory use is bounded whatever the size of RAM: one read chunk, a %u KiB\n"
		"queue before the digest and a %u KiB one after zstd, and zstd's window and\n"
		"%u MiB jobs per worker thread. Below %llu GiB of RAM an S3 image defaults to\n"
		"5 MiB parts, one in flight (10 MiB of buffers).\n\n%s",
		ACQUIRE_DEFAULT_LEVEL, ACQUIRE_SMALL_RAM_LEVEL, ACQUIRE_SMALL_RAM >> 30,
		IMAGE_SINKS_HASH_DEPTH * IMAGE_SINKS_BUFFER >> 10,
		IMAGE_SINKS_OUTPUT_DEPTH * IMAGE_SINKS_BUFFER >> 10,
		SINK_ZSTD_JOB_SIZE >> 20, ACQUIRE_SMALL_RAM >> 30, s3opts_help);
}

static int default_threads(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int half = (int)(cpus / 2);

	/*
	 * A host under investigation is often still serving: leave it half its
	 * CPUs. On one CPU, worker threads only add buffers (0: compress inline).
	 */
	if (half < 1)
		return 0;
	return half > 4 ? 4 : half;
}

static pthread_t main_thread;

static void on_signal(int sig)
{
	stop_requested = sig;
	/*
	 * The kernel may deliver the signal to a hashing or zstd thread; pass it
	 * on so the main thread's blocking write returns EINTR and sees the flag.
	 */
	if (!pthread_equal(pthread_self(), main_thread))
		pthread_kill(main_thread, sig);
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	main_thread = pthread_self();
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked write returns EINTR and sees the flag. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static bool is_module_source(const char *name)
{
	return !strcmp(name, "module") || !strcmp(name, "lime");
}

enum {
	OPT_NO_COMPRESS = 256, OPT_CHUNK, OPT_CASE, OPT_MANIFEST, OPT_BUNDLE, OPT_NO_BUNDLE,
	OPT_IOMEM, OPT_LOG_FORMAT, OPT_SOURCE_PATH, OPT_MODULE, OPT_MODULE_STORE, OPT_LIME_MODULE,
	OPT_LIME_STORE, OPT_LIME_PARAMS, OPT_PINS, OPT_PIN, OPT_NO_MODULES
};

/* Where an option that only keeps its argument keeps it, or NULL for the others. */
static const char **kept_argument(struct acquire_options *o, int code)
{
	static const struct {
		int code;
		size_t offset;
	} kept[] = {
		{ 'o', offsetof(struct acquire_options, output) },
		{ OPT_SOURCE_PATH, offsetof(struct acquire_options, source_path) },
		{ OPT_CASE, offsetof(struct acquire_options, case_id) },
		{ OPT_MANIFEST, offsetof(struct acquire_options, manifest_path) },
		{ OPT_BUNDLE, offsetof(struct acquire_options, bundle_path) },
		{ OPT_IOMEM, offsetof(struct acquire_options, iomem_path) },
		{ OPT_MODULE, offsetof(struct acquire_options, modules.module_path) },
		{ OPT_MODULE_STORE, offsetof(struct acquire_options, modules.module_store) },
		{ OPT_LIME_MODULE, offsetof(struct acquire_options, modules.lime_path) },
		{ OPT_LIME_STORE, offsetof(struct acquire_options, modules.lime_store) },
		{ OPT_LIME_PARAMS, offsetof(struct acquire_options, modules.lime_params) },
		{ OPT_PINS, offsetof(struct acquire_options, modules.pins_path) },
	};

	for (size_t i = 0; i < ARRAY_SIZE(kept); i++)
		if (kept[i].code == code)
			return (const char **)((char *)o + kept[i].offset);
	return NULL;
}

/* optarg as --name's integer in [min, max] into *out, or a usage error. */
static int int_option(const char *name, int min, int max, int *out)
{
	long long v;

	if (cliopts_number(optarg, 0, min, max, &v)) {
		log_error("usage", "acquire: --%s must be %d-%d, not '%s'", name, min, max, optarg);
		return -EINVAL;
	}
	*out = (int)v;
	return 0;
}

static int parse_args(int argc, char *argv[], struct acquire_options *o)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "source", required_argument, NULL, 's' },
		{ "source-path", required_argument, NULL, OPT_SOURCE_PATH },
		{ "level", required_argument, NULL, 'l' },
		{ "threads", required_argument, NULL, 't' },
		{ "no-compress", no_argument, NULL, OPT_NO_COMPRESS },
		{ "chunk-size", required_argument, NULL, OPT_CHUNK },
		{ "case", required_argument, NULL, OPT_CASE },
		{ "manifest", required_argument, NULL, OPT_MANIFEST },
		{ "bundle", required_argument, NULL, OPT_BUNDLE },
		{ "no-bundle", no_argument, NULL, OPT_NO_BUNDLE },
		{ "iomem", required_argument, NULL, OPT_IOMEM },
		{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
		{ "module", required_argument, NULL, OPT_MODULE },
		{ "module-store", required_argument, NULL, OPT_MODULE_STORE },
		{ "lime-module", required_argument, NULL, OPT_LIME_MODULE },
		{ "lime-store", required_argument, NULL, OPT_LIME_STORE },
		{ "lime-params", required_argument, NULL, OPT_LIME_PARAMS },
		{ "module-pins", required_argument, NULL, OPT_PINS },
		{ "module-sha256", required_argument, NULL, OPT_PIN },
		{ "no-modules", no_argument, NULL, OPT_NO_MODULES },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct option all[S3OPTS_MERGED_MAX];
	const char **kept;
	char reason[256];
	long long v;
	int c;

	s3opts_merge_longopts(longopts, all);
	*o = (struct acquire_options){
		.compress = true, .bundle = true, .level = 0,  /* by RAM size, once known */
		.threads = default_threads(), .chunk_size = DEFAULT_CHUNK,
		.iomem_path = "/proc/iomem",
	};
	s3opts_init(&o->s3);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:s:l:t:h", all, NULL)) != -1) {
		int handled = s3opts_handle(&o->s3, c, optarg);

		if (handled < 0) {
			log_error("usage", "acquire: bad value '%s' for %s", optarg, argv[optind - 1]);
			return -EINVAL;
		}
		if (handled)
			continue;
		kept = kept_argument(o, c);
		if (kept) {
			*kept = optarg;
			continue;
		}
		switch (c) {
		case 's':
			if (!source_find(optarg) && !is_module_source(optarg)) {
				log_error("usage", "acquire: unknown source '%s' (module, lime, ebpf, kcore, "
					  "crash, devmem, file)", optarg);
				return -EINVAL;
			}
			o->source = optarg;
			break;
		case 'l':
			if (int_option("level", 1, 19, &o->level))
				return -EINVAL;
			break;
		case 't':
			if (int_option("threads", 0, MAX_THREADS, &o->threads))
				return -EINVAL;
			break;
		case OPT_NO_COMPRESS:
			o->compress = false;
			break;
		case OPT_CHUNK:
			if (cliopts_number(optarg, 0, CAPTURE_PAGE_SIZE, 256ll << 20, &v) ||
			    v % CAPTURE_PAGE_SIZE) {
				log_error("usage",
					  "acquire: --chunk-size must be a multiple of 4096 up to 256 MiB, not '%s'",
					  optarg);
				return -EINVAL;
			}
			o->chunk_size = (size_t)v;
			break;
		case OPT_NO_BUNDLE:
			o->bundle = false;
			break;
		case OPT_PIN:
			if (strlen(optarg) != 64 || strspn(optarg, "0123456789abcdefABCDEF") != 64 ||
			    o->modules.pin_count == MODSOURCE_MAX_PINS) {
				log_error("usage", "acquire: --module-sha256 takes a 64-digit hex SHA-256 "
					  "(at most %d), not '%s'", MODSOURCE_MAX_PINS, optarg);
				return -EINVAL;
			}
			o->modules.pins[o->modules.pin_count++] = optarg;
			break;
		case OPT_NO_MODULES:
			o->no_modules = true;
			break;
		case OPT_LOG_FORMAT:
			if (log_set_format(optarg)) {
				log_error("usage", "acquire: --log-format must be auto, text or json");
				return -EINVAL;
			}
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			log_option_error("acquire", c, argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		log_error("usage", "acquire: unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (o->source_path && (!o->source || is_module_source(o->source))) {
		log_error("usage", "acquire: --source-path needs --source kcore, crash, devmem or file");
		return -EINVAL;
	}
	if (o->modules.lime_params &&
	    modsource_lime_params_check(o->modules.lime_params, reason, sizeof(reason))) {
		log_error("usage", "acquire: %s", reason);
		return -EINVAL;
	}
	if (o->no_modules && o->source && is_module_source(o->source)) {
		log_error("usage", "acquire: --no-modules contradicts --source %s", o->source);
		return -EINVAL;
	}
	if (!o->output) {
		if (isatty(STDOUT_FILENO)) {
			log_error("usage", "acquire: --output is required when stdout is a terminal");
			return -EINVAL;
		}
		o->output = "-";
	}
	return 0;
}

/* DIR/ or an existing directory: name the image after the host and the time. */
static char *resolve_output(const char *output, bool compress)
{
	size_t len = strlen(output);
	struct stat st;
	char host[256] = "host", stamp[32], *path;
	time_t now = time(NULL);

	if (!strcmp(output, "-"))
		return strdup(output);
	if (!strncmp(output, "s3://", 5)) {
		/* s3://bucket and s3://bucket/prefix/ name the object like a directory would. */
		if (len > 5 && output[len - 1] != '/' && strchr(output + 5, '/'))
			return strdup(output);
	} else if (!(len && output[len - 1] == '/') &&
		   !(stat(output, &st) == 0 && S_ISDIR(st.st_mode))) {
		return strdup(output);
	}
	gethostname(host, sizeof(host) - 1);
	timefmt_compact(now, stamp, sizeof(stamp));
	if (asprintf(&path, "%s%s%s-%s.lime%s", output, output[len - 1] == '/' ? "" : "/", host,
		     stamp, compress ? ".zst" : "") < 0)
		return NULL;
	return path;
}

static char *with_suffix(const char *path, const char *suffix)
{
	char *out;

	return asprintf(&out, "%s%s", path, suffix) < 0 ? NULL : out;
}

static void progress(void *ctx, uint64_t done, uint64_t total)
{
	log_progress("capture", done, total);
}

int acquire_main(int argc, char *argv[])
{
	struct acquire_options o;
	struct iomem_table iomem = { 0 };
	struct range_list ram;
	struct mem_source src = { 0 };
	struct source_selection selection;
	struct modsource modules = { .fd = -1, .module_fd = -1 };
	struct range_list image_ranges = { 0 };
	bool use_stream = false;
	struct image_sinks sinks = { 0 };
	struct capture_result result = { 0 };
	struct capture_options copt = { 0 };
	struct sink *output = NULL;
	struct destination dest = { 0 };
	json_object *manifest = NULL, *image, *host = NULL;
	char *image_path = NULL, *manifest_path = NULL, *bundle_path = NULL;
	char started[40], finished[40], instance_id[64];
	bool to_stdout, image_tagged = false;
	uint64_t lime_size;
	char lime_size_text[24];
	int ret, code = EXIT_FAILURE_INTERNAL;

	range_list_init(&ram);
	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret > 0 ? EXIT_OK : EXIT_USAGE;
	install_signals();
	timefmt_now_ms(started, sizeof(started));

	image_path = resolve_output(o.output, o.compress);
	if (!image_path)
		goto out;
	dest.options = &o.s3;
	if (!strncmp(image_path, "s3://", 5)) {
		char why[S3_REASON_MAX] = "", *key = NULL;

		dest.s3 = true;
		if (s3_uri_parse(image_path, &dest.bucket, &key, why, sizeof(why))) {
			log_error("usage", "acquire: %s", why);
			code = EXIT_USAGE;
			goto out;
		}
		free(key);
		if (o.case_id && s3opts_add_metadata(&o.s3, "case-id", o.case_id)) {
			log_error("usage", "acquire: too many --metadata values");
			code = EXIT_USAGE;
			goto out;
		}
		code = s3opts_open_client(&o.s3, dest.bucket, &dest.client, "acquire");
		if (code != EXIT_OK)
			goto out;
		dest.client_ready = true;
		/* Every request, cleanup's too, ends soon after SIGINT or SIGTERM. */
		dest.client.http.stop = &stop_requested;
		code = EXIT_FAILURE_INTERNAL;
	}
	to_stdout = !strcmp(image_path, "-");
	manifest_path = o.manifest_path ? strdup(o.manifest_path) :
		to_stdout ? NULL : with_suffix(image_path, MANIFEST_SUFFIX);
	if (o.bundle)
		bundle_path = o.bundle_path ? strdup(o.bundle_path) :
			to_stdout ? NULL : with_suffix(image_path, BUNDLE_SUFFIX);

	/*
	 * Identify the host before the capture: IMDS, TLS and resolver set-up
	 * allocate memory, and afterwards that would only change pages already
	 * captured.
	 */
	host = hostinfo_collect();
	if (dest.s3) {
		json_object *ec2, *id;

		/* Every object of the capture says which instance it came from. */
		if (json_object_object_get_ex(host, "ec2", &ec2) && ec2 &&
		    json_object_object_get_ex(ec2, "instanceId", &id) &&
		    json_object_is_type(id, json_type_string)) {
			snprintf(instance_id, sizeof(instance_id), "%s", json_object_get_string(id));
			s3opts_add_metadata(&o.s3, "instance-id", instance_id);
		}
	}
	ret = iomem_read_file(o.iomem_path, &iomem);
	if (!ret)
		ret = iomem_system_ram(&iomem, &ram);
	if (ret || !ram.count) {
		log_error("iomem", "acquire: cannot read the RAM map from %s: %s", o.iomem_path,
			  ret == -EPERM ? "addresses hidden (run as root)" :
			  ret == -EINVAL ? "malformed" :
			  ret ? strerror(-ret) : "no System RAM entries");
		code = EXIT_SYSTEM_INFO;
		goto out;
	}

	memset(&selection, 0, sizeof(selection));
	o.modules.s3 = &o.s3;
	if (!o.no_modules && (!o.source || is_module_source(o.source)))
		use_stream = !modsource_select(o.source, &o.modules, &modules, &selection);
	if (use_stream) {
		snprintf(src.detail, sizeof(src.detail), "%s", modules.detail);
		src.transport = modules.transport;
		ret = o.source ? 0 : source_select(NULL, NULL, &ram, &src, &selection);
	} else if (o.source && is_module_source(o.source)) {
		ret = -ENOENT;
	} else {
		ret = source_select(o.source, o.source_path, &ram, &src, &selection);
	}
	for (size_t i = 0; i < selection.count; i++) {
		const struct source_attempt *a = &selection.attempts[i];

		if (a->status == SOURCE_FAILED)
			log_warn("source", "source %s unavailable: %s", a->name, a->reason);
		else if (a->status == SOURCE_USED)
			log_info("source", "source %s: %s", a->name, a->reason);
	}
	if (ret) {
		log_error("source", "acquire: no memory source could be opened%s",
			  o.source ? " (the one forced with --source failed)" : "");
		code = EXIT_NO_SOURCE;
		goto out;
	}

	/*
	 * As with files, evidence already in the bucket is never replaced: the
	 * uploads are write-once too, this says so before the capture.
	 */
	if (dest.s3 && !o.s3.upload.overwrite) {
		char why[S3_REASON_MAX] = "";

		ret = destination_object_exists(&dest, destination_key(&dest, image_path), why,
						sizeof(why));
		if (ret > 0) {
			log_error("output", "acquire: %s: object exists (evidence is never overwritten)",
				  image_path);
			code = EXIT_OUTPUT;
			goto out;
		}
		/* Not knowing whether it exists is an S3 failure, not an existing object. */
		if (ret < 0) {
			log_error("output", "acquire: %s: cannot check that the object does not exist "
				  "(evidence is never overwritten): %s", image_path, why);
			code = destination_exit_code(&dest, ret);
			goto out;
		}
	}
	/* The LiME stream's exact size sizes the upload's parts and is known now. */
	lime_size = range_list_total(&ram) + (uint64_t)ram.count * LIME_HEADER_SIZE;
	snprintf(lime_size_text, sizeof(lime_size_text), "%llu", (unsigned long long)lime_size);
	ret = destination_open(&dest, image_path, lime_size,
			       &(struct sigv4_pair){ "uncompressed-size", lime_size_text }, &output);
	if (ret) {
		log_error("output", "acquire: cannot create %s: %s", image_path,
			  ret == -EEXIST ? "file exists (evidence is never overwritten)" : strerror(-ret));
		code = dest.s3 ? destination_exit_code(&dest, ret) : EXIT_OUTPUT;
		goto out;
	}
	if (!o.level)
		o.level = range_list_total(&ram) < ACQUIRE_SMALL_RAM ? ACQUIRE_SMALL_RAM_LEVEL :
			  ACQUIRE_DEFAULT_LEVEL;
	ret = image_sinks_build(output, o.compress, o.level, o.threads, &sinks);
	if (ret) {
		log_error("zstd", "acquire: cannot set up compression: %s",
			  ret == -ENOTSUP ? "this zstd has no worker threads (use --threads 0)" :
			  strerror(-ret));
		code = ret == -ENOMEM ? EXIT_FAILURE_INTERNAL : EXIT_USAGE;
		goto out;
	}

	log_info("capture", "capturing %.1f MiB of RAM in %zu ranges to %s",
		 (double)range_list_total(&ram) / (1 << 20), ram.count,
		 to_stdout ? "stdout" : image_path);
	copt.chunk_size = o.chunk_size;
	copt.progress = progress;
	copt.stop = &stop_requested;
	if (use_stream)
		ret = modsource_capture(&modules, &ram, sinks.top, &copt, &result, &image_ranges);
	else
		ret = capture_run(&src, &ram, sinks.top, &copt, &result);
	if (!ret && stop_requested)
		ret = -EINTR;
	if (!ret)
		ret = sink_finish(sinks.top);
	log_progress_done();
	/* Stopped while the image's last request landed: it is whole, and described. */
	if (ret && dest.s3 && destination_settle(&dest, sinks.output) == S3_UPLOAD_COMPLETE)
		ret = 0;
	if (ret) {
		const char *where = to_stdout ? "stdout" : image_path;

		code = destination_exit_code(&dest, ret);
		if (code == EXIT_INTERRUPTED && dest.s3)
			log_error("interrupted", "acquire: stopped by signal %d; %s",
				  (int)stop_requested, destination_outcome(&dest, sinks.output));
		else if (code == EXIT_INTERRUPTED)
			log_error("interrupted", "acquire: stopped by signal %d; %s is incomplete",
				  (int)stop_requested, where);
		else
			log_error("output", "acquire: writing %s failed: %s%s%s", where,
				  destination_error(&dest, sinks.output, ret), dest.s3 ? "; " : "",
				  destination_outcome(&dest, sinks.output));
		goto out;
	}
	timefmt_now_ms(finished, sizeof(finished));
	/* The evidence is safe from here on, whatever happens to the rest. */
	log_info("image", "image complete: %s, %llu bytes of LiME, sha256 %s",
		 to_stdout ? "stdout" : image_path, (unsigned long long)sinks.top->bytes,
		 sink_sha256_hex(sinks.raw_hash));
	if (dest.s3 && s3_upload_sink_result(sinks.output)->stray_possible)
		log_warn("upload", "acquire: %s", destination_outcome(&dest, sinks.output));
	if (dest.s3)
		image_tagged = s3opts_tag_digests(&dest.client, dest.bucket,
						  s3_upload_sink_result(sinks.output),
						  sink_sha256_hex(sinks.raw_hash), o.compress ?
						  sink_sha256_hex(sinks.compressed_hash) : NULL);

	manifest = json_object_new_object();
	json_object_object_add(manifest, "schema", json_object_new_string(MANIFEST_SCHEMA));
	json_object *tool = json_object_new_object();

	json_object_object_add(tool, "name", json_object_new_string(AGENT_NAME));
	json_object_object_add(tool, "version", json_object_new_string(FORENSICS_VERSION));
	json_object_object_add(manifest, "tool", tool);
	json_object_object_add(manifest, "case_id", o.case_id ? json_object_new_string(o.case_id) : NULL);
	json_object_object_add(manifest, "started_at", json_object_new_string(started));
	json_object_object_add(manifest, "finished_at", json_object_new_string(finished));
	json_object_object_add(manifest, "host", host);
	host = NULL;
	json_object_object_add(manifest, "iomem", manifest_iomem(&iomem));
	json_object_object_add(manifest, "source", manifest_source(&src, &selection));

	image = json_object_new_object();
	json_object_object_add(image, "path", json_object_new_string(to_stdout ? "-" : image_path));
	json_object_object_add(image, "format", json_object_new_string("lime"));
	json_object_object_add(image, "compression", json_object_new_string(o.compress ? "zstd" : "none"));
	if (o.compress) {
		json_object_object_add(image, "zstd_level", json_object_new_int(o.level));
		json_object_object_add(image, "zstd_threads", json_object_new_int(o.threads));
	}
	json_object_object_add(image, "ranges", manifest_ranges(use_stream ? &image_ranges : &ram));
	json_object_object_add(image, "ram_bytes", json_object_new_int64((int64_t)result.bytes_total));
	json_object_object_add(image, "bytes_read", json_object_new_int64((int64_t)result.bytes_read));
	json_object_object_add(image, "bytes_zero_filled",
			       json_object_new_int64((int64_t)result.bytes_zeroed));
	json_object_object_add(image, "uncompressed_bytes",
			       json_object_new_int64((int64_t)sinks.top->bytes));
	json_object_object_add(image, "compressed_bytes", o.compress ?
			       json_object_new_int64((int64_t)sinks.output->bytes) : NULL);
	json_object_object_add(image, "sha256_uncompressed",
			       json_object_new_string(sink_sha256_hex(sinks.raw_hash)));
	json_object_object_add(image, "sha256_compressed", o.compress ?
			       json_object_new_string(sink_sha256_hex(sinks.compressed_hash)) : NULL);
	if (dest.s3) {
		json_object *where = destination_location(&dest, sinks.output);

		json_object_object_add(where, "tagged", json_object_new_boolean(image_tagged));
		json_object_object_add(image, "s3", where);
	}
	json_object_object_add(manifest, "image", image);
	json_object_object_add(manifest, "unreadable", manifest_unreadable(&result));
	if (result.unreadable_count)
		log_warn("unreadable", "%zu spans (%.1f MiB) could not be read and were zero-filled; see the manifest",
			 result.unreadable_count, (double)result.bytes_zeroed / (1 << 20));

	if (bundle_path) {
		ret = bundle_store(&dest, bundle_path, manifest);
		if (ret)
			log_warn("bundle", "analysis bundle %s not written: %s", bundle_path,
				 strerror(-ret));
	} else {
		json_object_object_add(manifest, "bundle", NULL);
	}

	code = EXIT_OK;
	char manifest_why[S3_REASON_MAX + 64] = "";

	if (manifest_path) {
		struct sink *out = NULL;

		ret = destination_open(&dest, manifest_path, 0, NULL, &out);
		if (!ret)
			ret = manifest_write(manifest, out);
		if (ret) {
			snprintf(manifest_why, sizeof(manifest_why), "%s%s%s",
				 destination_error(&dest, out, ret), dest.s3 && out ? "; " : "",
				 out ? destination_outcome(&dest, out) : "");
			code = destination_exit_code(&dest, ret);
		}
		sink_destroy(out);
	}
	json_object *fields = json_object_new_object();

	/*
	 * The manifest is logged even when it could not be stored: the image is
	 * complete and the log is then its only record. A failure's cause stays
	 * the last line.
	 */
	json_object_object_add(fields, "manifest", json_object_get(manifest));
	log_event("info", "manifest", fields, "capture complete: %s, sha256 %s",
		  to_stdout ? "stdout" : image_path, sink_sha256_hex(sinks.raw_hash));
	if (code != EXIT_OK)
		log_error("manifest", "acquire: cannot write manifest %s: %s", manifest_path,
			  manifest_why);
out:
	json_object_put(host);
	/* Image sinks first: an unfinished upload aborts through the client. */
	sink_destroy(sinks.top);
	sinks.top = NULL;
	if (dest.client_ready)
		s3_client_free(&dest.client);
	free(dest.bucket);
	s3opts_free(&o.s3);
	json_object_put(manifest);
	sink_destroy(sinks.top);
	capture_result_free(&result);
	source_close(&src);
	modsource_close(&modules);
	range_list_free(&image_ranges);
	range_list_free(&ram);
	iomem_table_free(&iomem);
	free(image_path);
	free(manifest_path);
	free(bundle_path);
	return code;
}
