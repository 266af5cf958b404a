/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The agent's one logging family. On a terminal: short human lines and a
 * progress bar. Otherwise (SSM Run Command, pipes): one JSON object per line
 * on stderr, so the controller can parse what happened.
 */
#ifndef FORENSICS_LOG_H
#define FORENSICS_LOG_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

enum log_format {
	LOG_FORMAT_AUTO,
	LOG_FORMAT_TEXT,
	LOG_FORMAT_JSON,
};

void log_init(enum log_format format);
int log_format_parse(const char *name, enum log_format *format);
/* --log-format NAME, as every subcommand takes it: parse and apply; -1 if unknown. */
int log_set_format(const char *name);
/* One usage line for getopt's ':' (value missing) or anything else (unknown option). */
void log_option_error(const char *command, int getopt_code, const char *option);
bool log_is_json(void);

/* fields (may be NULL) is consumed. */
void log_event(const char *level, const char *event, json_object *fields, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#define log_info(event, ...) log_event("info", event, NULL, __VA_ARGS__)
#define log_warn(event, ...) log_event("warning", event, NULL, __VA_ARGS__)
#define log_error(event, ...) log_event("error", event, NULL, __VA_ARGS__)

/* Progress of a long copy; rate-limited here, callers may call per chunk. */
void log_progress(const char *what, uint64_t done, uint64_t total);
void log_progress_done(void);

#endif
