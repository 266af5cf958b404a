// SPDX-License-Identifier: GPL-2.0-only
#include "base/log.h"
#include "base/util.h"
#include "base/timefmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROGRESS_JSON_STEP_PERCENT 10
#define PROGRESS_TTY_INTERVAL_NS 200000000ll

static bool json_mode;
static bool progress_line_open;
static int last_json_percent = -1;
static struct timespec progress_started, progress_last;

void log_init(enum log_format format)
{
	if (format == LOG_FORMAT_AUTO)
		json_mode = !isatty(STDERR_FILENO);
	else
		json_mode = format == LOG_FORMAT_JSON;
}

int log_format_parse(const char *name, enum log_format *format)
{
	if (!strcmp(name, "json"))
		*format = LOG_FORMAT_JSON;
	else if (!strcmp(name, "text"))
		*format = LOG_FORMAT_TEXT;
	else if (!strcmp(name, "auto"))
		*format = LOG_FORMAT_AUTO;
	else
		return -1;
	return 0;
}

int log_set_format(const char *name)
{
	enum log_format format;

	if (log_format_parse(name, &format))
		return -1;
	log_init(format);
	return 0;
}

void log_option_error(const char *command, int getopt_code, const char *option)
{
	if (getopt_code == ':')
		log_error("usage", "%s: option '%s' needs a value", command, option);
	else
		log_error("usage", "%s: unknown option '%s' (try --help)", command, option);
}

bool log_is_json(void)
{
	return json_mode;
}

static void end_progress_line(void)
{
	if (progress_line_open) {
		fputc('\n', stderr);
		progress_line_open = false;
	}
}

void log_event(const char *level, const char *event, json_object *fields, const char *fmt, ...)
{
	char message[1024], ts[40];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (json_mode) {
		json_object *line = json_object_new_object();

		timefmt_now_ms(ts, sizeof(ts));
		json_object_object_add(line, "ts", json_object_new_string(ts));
		json_object_object_add(line, "level", json_object_new_string(level));
		json_object_object_add(line, "event", json_object_new_string(event));
		json_object_object_add(line, "msg", json_object_new_string(message));
		if (fields) {
			json_object_object_foreach(fields, key, value)
				json_object_object_add(line, key, json_object_get(value));
		}
		fprintf(stderr, "%s\n",
			json_object_to_json_string_ext(line, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(line);
	} else {
		end_progress_line();
		if (!strcmp(level, "info"))
			fprintf(stderr, "%s\n", message);
		else
			fprintf(stderr, "%s: %s\n", level, message);
	}
	json_object_put(fields);
	fflush(stderr);
}

static long long elapsed_ns(const struct timespec *from, const struct timespec *to)
{
	return (long long)(to->tv_sec - from->tv_sec) * 1000000000ll + (to->tv_nsec - from->tv_nsec);
}

void log_progress(const char *what, uint64_t done, uint64_t total)
{
	struct timespec now;
	int percent = total ? (int)(done * 100 / total) : 100;
	double seconds, rate;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (done == 0 || (!progress_started.tv_sec && !progress_started.tv_nsec)) {
		progress_started = now;
		progress_last = (struct timespec){ 0, 0 };
		last_json_percent = -1;
	}
	seconds = (double)elapsed_ns(&progress_started, &now) / 1e9;
	rate = seconds > 0 ? (double)done / seconds / (1 << 20) : 0;
	if (json_mode) {
		if (percent / PROGRESS_JSON_STEP_PERCENT == last_json_percent / PROGRESS_JSON_STEP_PERCENT &&
		    done != total)
			return;
		last_json_percent = percent;
		json_object *f = json_object_new_object();

		json_object_object_add(f, "done_bytes", json_object_new_int64((int64_t)done));
		json_object_object_add(f, "total_bytes", json_object_new_int64((int64_t)total));
		json_object_object_add(f, "mib_per_s", json_object_new_double(rate));
		log_event("info", "progress", f, "%s %d%%", what, percent);
		return;
	}
	if (done != total && elapsed_ns(&progress_last, &now) < PROGRESS_TTY_INTERVAL_NS)
		return;
	progress_last = now;
	fprintf(stderr, "\r%s %3d%%  %.1f / %.1f MiB  %.0f MiB/s ", what, percent,
		(double)done / (1 << 20), (double)total / (1 << 20), rate);
	progress_line_open = true;
	fflush(stderr);
}

void log_progress_done(void)
{
	end_progress_line();
	progress_started = (struct timespec){ 0, 0 };
}
