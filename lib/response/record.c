// SPDX-License-Identifier: GPL-2.0-only
#include "response/record.h"
#include "base/timefmt.h"
#include "base/log.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define RECORD_FORMAT_VERSION 1

static json_object *now_text(void)
{
	char buf[TIMEFMT_BUF];

	timefmt_now_ms(buf, sizeof(buf));
	return json_object_new_string(buf);
}

/*
 * Which run wrote the record: two runs resumed from one record at the same
 * millisecond would otherwise write the same bytes, and a run checking
 * whether a write it did not see answered was its own could take the
 * other's for it.
 */
static json_object *writer_text(void)
{
	unsigned char b[8] = { 0 };
	char buf[64];

	if (getrandom(b, sizeof(b), GRND_NONBLOCK) != (ssize_t)sizeof(b)) {
		long t = (long)time(NULL);

		memcpy(b, &t, sizeof(t) < sizeof(b) ? sizeof(t) : sizeof(b));
	}
	snprintf(buf, sizeof(buf), "%d-%02x%02x%02x%02x%02x%02x%02x%02x", (int)getpid(), b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7]);
	return json_object_new_string(buf);
}

bool case_record_id_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n <= 64 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

int case_record_init(struct case_record *r, const char *case_id, const char *instance_id,
		     const char *region)
{
	memset(r, 0, sizeof(*r));
	r->root = json_object_new_object();
	r->timeline = json_object_new_array();
	if (!r->root || !r->timeline) {
		json_object_put(r->root);
		json_object_put(r->timeline);
		return -ENOMEM;
	}
	json_object_object_add(r->root, "format", json_object_new_int(RECORD_FORMAT_VERSION));
	json_object_object_add(r->root, "case_id", json_object_new_string(case_id));
	json_object_object_add(r->root, "instance_id", json_object_new_string(instance_id));
	json_object_object_add(r->root, "region", json_object_new_string(region));
	json_object_object_add(r->root, "started", now_text());
	json_object_object_add(r->root, "timeline", r->timeline);
	json_object_object_add(r->root, "runs", json_object_new_int(1));
	json_object_object_add(r->root, "writer", writer_text());
	r->run = 1;
	return 0;
}

static bool same(json_object *o, const char *key, json_object *other)
{
	json_object *a, *b;

	return json_object_object_get_ex(o, key, &a) && json_object_object_get_ex(other, key, &b) &&
	       json_object_is_type(a, json_type_string) && json_object_equal(a, b);
}

static int save(struct case_record *r)
{
	int ret;

	if (!r->save || r->saving)
		return 0;
	r->saving = true;
	ret = r->save(r, r->save_ctx);
	r->saving = false;
	return ret;
}

/* A call a killed run had announced and never answered: in the timeline, as its run's. */
static void pending_interrupted(struct case_record *r)
{
	json_object *p, *e, *v;

	if (!json_object_object_get_ex(r->root, "pending", &p))
		return;
	if (json_object_is_type(p, json_type_object) &&
	    json_object_object_get_ex(p, "step", &v) && json_object_is_type(v, json_type_string)) {
		e = json_object_new_object();
		json_object_object_add(e, "at", now_text());
		json_object_object_foreach(p, key, value)
			if (strcmp(key, "at"))
				json_object_object_add(e, key, json_object_get(value));
		json_object_object_add(e, "result", json_object_new_string("interrupted"));
		json_object_object_add(e, "why", json_object_new_string(
			"the run stopped after announcing this call and before recording its answer"));
		json_object_array_add(r->timeline, e);
		log_info(json_object_get_string(v), "an earlier run was interrupted at this call");
	}
	json_object_object_del(r->root, "pending");
}

int case_record_intent(struct case_record *r, const char *step, const char *api)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "at", now_text());
	json_object_object_add(p, "run", json_object_new_int(r->run));
	json_object_object_add(p, "step", json_object_new_string(step));
	json_object_object_add(p, "api", json_object_new_string(api));
	json_object_object_add(r->root, "pending", p);
	return save(r);
}

void case_record_intent_clear(struct case_record *r)
{
	json_object_object_del(r->root, "pending");
}

int case_record_resume(struct case_record *r, json_object *stored)
{
	json_object *timeline, *runs;

	if (!same(stored, "case_id", r->root) || !same(stored, "instance_id", r->root) ||
	    !json_object_object_get_ex(stored, "timeline", &timeline) ||
	    !json_object_is_type(timeline, json_type_array)) {
		json_object_put(stored);
		return -EINVAL;
	}
	/* json-c clamps to INT32_MAX: a stored count that large must not overflow. */
	r->run = json_object_object_get_ex(stored, "runs", &runs) ? json_object_get_int(runs) : 1;
	if (r->run < INT_MAX)
		r->run++;
	if (r->run < 2)
		r->run = 2;
	json_object_put(r->root);
	r->root = stored;
	r->timeline = timeline;
	pending_interrupted(r);
	json_object_object_add(r->root, "runs", json_object_new_int(r->run));
	json_object_object_add(r->root, "resumed", now_text());
	json_object_object_add(r->root, "writer", writer_text());
	return 0;
}

bool case_record_done(const struct case_record *r, const char *step)
{
	bool done = false;
	size_t n = json_object_array_length(r->timeline);

	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(r->timeline, i), *v;
		const char *result;

		/* A stored record is outside input: a step or result may be null or a number. */
		if (!json_object_object_get_ex(e, "run", &v) || json_object_get_int(v) >= r->run ||
		    !json_object_object_get_ex(e, "step", &v) ||
		    !json_object_is_type(v, json_type_string) ||
		    strcmp(json_object_get_string(v), step) ||
		    !json_object_object_get_ex(e, "result", &v) ||
		    !json_object_is_type(v, json_type_string))
			continue;
		/* The latest outcome counts; a skip keeps what it skipped. */
		result = json_object_get_string(v);
		if (!strcmp(result, "ok"))
			done = true;
		else if (!strcmp(result, "failed"))
			done = false;
	}
	return done;
}

const char *case_record_last(const struct case_record *r, const char *step)
{
	static const char *const outcomes[] = { "ok", "failed", "interrupted" };
	const char *last = NULL;
	size_t n = json_object_array_length(r->timeline);

	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(r->timeline, i), *v;

		if (!json_object_object_get_ex(e, "step", &v) ||
		    !json_object_is_type(v, json_type_string) ||
		    strcmp(json_object_get_string(v), step) ||
		    !json_object_object_get_ex(e, "result", &v) ||
		    !json_object_is_type(v, json_type_string))
			continue;
		for (size_t k = 0; k < sizeof(outcomes) / sizeof(outcomes[0]); k++)
			if (!strcmp(json_object_get_string(v), outcomes[k]))
				last = outcomes[k];
	}
	return last;
}

void case_record_skip(struct case_record *r, const char *step, const char *why)
{
	json_object *e = json_object_new_object();

	json_object_object_add(e, "at", now_text());
	json_object_object_add(e, "run", json_object_new_int(r->run));
	json_object_object_add(e, "step", json_object_new_string(step));
	json_object_object_add(e, "result", json_object_new_string("skipped"));
	json_object_object_add(e, "why", json_object_new_string(why));
	json_object_array_add(r->timeline, e);
	log_info(step, "skipped: %s", why);
}

int case_record_step(struct case_record *r, const char *step, const char *api, int ret,
		     const struct awsapi_error *err)
{
	json_object *e = json_object_new_object(), *p, *v;

	json_object_object_add(e, "at", now_text());
	json_object_object_add(e, "run", json_object_new_int(r->run));
	json_object_object_add(e, "step", json_object_new_string(step));
	json_object_object_add(e, "api", json_object_new_string(api));
	json_object_object_add(e, "result", json_object_new_string(ret ? "failed" : "ok"));
	if (ret) {
		r->failures++;
		if (err && err->code[0])
			json_object_object_add(e, "code", json_object_new_string(err->code));
		json_object_object_add(e, "error", json_object_new_string(
			err && err->text[0] ? err->text : strerror(-ret)));
	}
	json_object_array_add(r->timeline, e);
	if (ret)
		log_error(step, "%s", err && err->text[0] ? err->text : strerror(-ret));
	else
		log_info(step, "%s done", api);
	if (json_object_object_get_ex(r->root, "pending", &p) &&
	    json_object_object_get_ex(p, "step", &v) && json_object_is_type(v, json_type_string) &&
	    !strcmp(json_object_get_string(v), step))
		json_object_object_del(r->root, "pending");
	save(r);
	return ret;
}

void case_record_set(struct case_record *r, const char *key, json_object *value)
{
	json_object_object_add(r->root, key, value);
}

void case_record_free(struct case_record *r)
{
	json_object_put(r->root);
	memset(r, 0, sizeof(*r));
}
