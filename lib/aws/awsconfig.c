// SPDX-License-Identifier: GPL-2.0-only
#include "aws/awsconfig.h"
#include "aws/reason.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct awsconfig_entry {
	char *key;
	char *value;
	size_t value_len;
	size_t value_cap; /* bytes allocated, the NUL included */
	size_t line;
};

struct awsconfig_section {
	char *name;
	size_t line;
	struct awsconfig_entry *entries;
	size_t count, cap;
};

struct awsconfig {
	struct awsconfig_section *sections;
	size_t count, cap;
};

/* Python's str.strip() whitespace, less the line breaks that end a line. */
static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

static void wipe_free(void *p, size_t n)
{
	if (!p)
		return;
	explicit_bzero(p, n);
	free(p);
}

static void wipe_free_str(char *s)
{
	if (s)
		wipe_free(s, strlen(s));
}

static char *dup_range(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/*
 * A name from the file, fit to quote in a reason: only plain names are
 * echoed, so a mangled line holding a secret never reaches a log.
 */
static const char *quotable(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return "(unprintable)";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || c == ' '))
			return "(unprintable)";
	}
	return s;
}

void awsconfig_free(struct awsconfig *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->count; i++) {
		struct awsconfig_section *s = &c->sections[i];

		for (size_t j = 0; j < s->count; j++) {
			wipe_free_str(s->entries[j].key);
			wipe_free(s->entries[j].value, s->entries[j].value_cap);
		}
		free(s->entries);
		wipe_free_str(s->name);
	}
	free(c->sections);
	free(c);
}

/* The zeroed slot after count in a growing array; NULL when out of memory. */
static void *next_slot(void **items, size_t size, size_t count, size_t *cap)
{
	char *slot;

	if (count == *cap) {
		size_t bigger_cap = *cap ? *cap * 2 : 8;
		void *grown = realloc(*items, bigger_cap * size);

		if (!grown)
			return NULL;
		*items = grown;
		*cap = bigger_cap;
	}
	slot = (char *)*items + count * size;
	memset(slot, 0, size);
	return slot;
}

static int add_section(struct awsconfig *c, const char *name, size_t n, size_t line)
{
	struct awsconfig_section *s;

	s = next_slot((void **)&c->sections, sizeof(*s), c->count, &c->cap);
	if (!s)
		return -ENOMEM;
	s->name = dup_range(name, n);
	if (!s->name)
		return -ENOMEM;
	s->line = line;
	c->count++;
	return 0;
}

static int add_entry(struct awsconfig_section *s, const char *key, size_t klen, const char *value,
		     size_t vlen, size_t line)
{
	struct awsconfig_entry *e;

	e = next_slot((void **)&s->entries, sizeof(*e), s->count, &s->cap);
	if (!e)
		return -ENOMEM;
	e->key = dup_range(key, klen);
	e->value = dup_range(value, vlen);
	if (!e->key || !e->value) {
		wipe_free_str(e->key);
		wipe_free_str(e->value);
		return -ENOMEM;
	}
	for (size_t i = 0; i < klen; i++)
		if (e->key[i] >= 'A' && e->key[i] <= 'Z')
			e->key[i] += 'a' - 'A';
	e->value_len = vlen;
	e->value_cap = vlen + 1;
	e->line = line;
	s->count++;
	return 0;
}

/* Continuation line: newlines (one per line break, blank lines kept) and text. */
static int value_append(struct awsconfig_entry *e, size_t newlines, const char *text, size_t n)
{
	size_t need = e->value_len + newlines + n + 1;

	if (need > e->value_cap) {
		size_t cap = e->value_cap < 16 ? 16 : e->value_cap;
		char *bigger;

		while (cap < need)
			cap *= 2;
		/* Not realloc: it could leave a copy of the secret behind. */
		bigger = malloc(cap);
		if (!bigger)
			return -ENOMEM;
		memcpy(bigger, e->value, e->value_len + 1);
		wipe_free(e->value, e->value_cap);
		e->value = bigger;
		e->value_cap = cap;
	}
	memset(e->value + e->value_len, '\n', newlines);
	e->value_len += newlines;
	memcpy(e->value + e->value_len, text, n);
	e->value_len += n;
	e->value[e->value_len] = '\0';
	return 0;
}

struct name_line {
	const char *name;
	size_t line;
};

static int cmp_name_line(const void *a, const void *b)
{
	const struct name_line *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	if (r)
		return r;
	return x->line < y->line ? -1 : x->line > y->line;
}

/*
 * The first line (in file order) that repeats an earlier name, or 0.
 * Sorting keeps this O(n log n) on hostile input with many names.
 */
static int first_duplicate(struct name_line *v, size_t n, size_t *line, const char **name)
{
	*line = 0;
	if (n < 2)
		return 0;
	qsort(v, n, sizeof(*v), cmp_name_line);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(v[i - 1].name, v[i].name))
			continue;
		if (!*line || v[i].line < *line) {
			*line = v[i].line;
			*name = v[i].name;
		}
	}
	return *line != 0;
}

static int check_duplicates(const struct awsconfig *c, char *why, size_t whylen)
{
	struct name_line *v;
	size_t max = c->count, line, bad_line = 0;
	const char *name, *bad_name = NULL, *bad_section = NULL;
	int ret = 0;

	for (size_t i = 0; i < c->count; i++)
		if (c->sections[i].count > max)
			max = c->sections[i].count;
	if (!max)
		return 0;
	v = calloc(max, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < c->count; i++)
		v[i] = (struct name_line){ c->sections[i].name, c->sections[i].line };
	if (first_duplicate(v, c->count, &line, &name)) {
		bad_line = line;
		bad_name = name;
	}
	for (size_t i = 0; i < c->count; i++) {
		const struct awsconfig_section *s = &c->sections[i];

		for (size_t j = 0; j < s->count; j++)
			v[j] = (struct name_line){ s->entries[j].key, s->entries[j].line };
		if (first_duplicate(v, s->count, &line, &name) && (!bad_line || line < bad_line)) {
			bad_line = line;
			bad_name = name;
			bad_section = s->name;
		}
	}
	if (bad_line) {
		if (bad_section)
			aws_reason_set(why, whylen, "line %zu: key '%s' repeated in section [%s]",
				       bad_line, quotable(bad_name), quotable(bad_section));
		else
			aws_reason_set(why, whylen, "line %zu: section [%s] repeated", bad_line,
				       quotable(bad_name));
		ret = -EINVAL;
	}
	free(v);
	return ret;
}

int awsconfig_parse_why(const char *text, size_t len, struct awsconfig **out, char *why,
			size_t whylen)
{
	struct awsconfig_entry *entry = NULL; /* the key that an indented line continues */
	size_t entry_indent = 0, pending_newlines = 0, lineno = 0, pos = 0;
	struct awsconfig *c;
	int ret = 0;

	*out = NULL;
	if (len > AWSCONFIG_FILE_MAX) {
		aws_reason_set(why, whylen, "larger than %u bytes", AWSCONFIG_FILE_MAX);
		return -EFBIG;
	}
	if (!text && len)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	/* A UTF-8 byte order mark, as Windows editors write. */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		pos = 3;
	while (pos < len) {
		const char *line = text + pos;
		size_t n = 0, indent, start, end, d;
		struct awsconfig_section *s;

		/* Lines end at \n, \r\n or \r, as in Python's universal newlines. */
		while (pos + n < len && line[n] != '\n' && line[n] != '\r')
			n++;
		pos += n;
		if (pos < len)
			pos += (text[pos] == '\r' && pos + 1 < len && text[pos + 1] == '\n') ? 2 : 1;
		lineno++;
		if (memchr(line, '\0', n)) {
			aws_reason_set(why, whylen, "line %zu: NUL byte", lineno);
			ret = -EINVAL;
			goto out;
		}
		for (indent = 0; indent < n && is_blank(line[indent]); indent++)
			;
		start = indent;
		end = n;
		while (end > start && (is_blank(line[end - 1]) || line[end - 1] == '\r'))
			end--;
		if (start == end) {
			if (entry)
				pending_newlines++;
			continue;
		}
		if (line[start] == '#' || line[start] == ';')
			continue;
		if (entry && indent > entry_indent) {
			ret = value_append(entry, pending_newlines + 1, line + start, end - start);
			if (ret)
				goto out;
			pending_newlines = 0;
			continue;
		}
		entry = NULL;
		pending_newlines = 0;
		if (line[start] == '[') {
			const char *close = memrchr(line + start + 1, ']', end - start - 1);

			if (close && close > line + start + 1) {
				ret = add_section(c, line + start + 1, close - line - start - 1, lineno);
				if (ret)
					goto out;
				continue;
			}
		}
		if (!c->count) {
			aws_reason_set(why, whylen, "line %zu: setting before any [section]",
				       lineno);
			ret = -EINVAL;
			goto out;
		}
		for (d = start; d < end && line[d] != '=' && line[d] != ':'; d++)
			;
		if (d == end) {
			aws_reason_set(why, whylen,
				       "line %zu: not a [section], 'key = value' or comment", lineno);
			ret = -EINVAL;
			goto out;
		}
		{
			size_t kend = d, vstart = d + 1;

			while (kend > start && is_blank(line[kend - 1]))
				kend--;
			while (vstart < end && is_blank(line[vstart]))
				vstart++;
			if (kend == start) {
				aws_reason_set(why, whylen, "line %zu: no key before '%c'", lineno,
					       line[d]);
				ret = -EINVAL;
				goto out;
			}
			s = &c->sections[c->count - 1];
			ret = add_entry(s, line + start, kend - start, line + vstart, end - vstart,
					lineno);
			if (ret)
				goto out;
			entry = &s->entries[s->count - 1];
			entry_indent = indent;
		}
	}
	ret = check_duplicates(c, why, whylen);
out:
	if (ret == -ENOMEM)
		aws_reason_set(why, whylen, "out of memory");
	if (ret) {
		awsconfig_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

int awsconfig_parse(const char *text, size_t len, struct awsconfig **out)
{
	return awsconfig_parse_why(text, len, out, NULL, 0);
}

/*
 * Whole file into a buffer that never leaves copies behind (no realloc);
 * *cap is the allocation, for the caller to wipe.
 */
static int read_secret_file(int fd, size_t size_hint, char **data, size_t *len, size_t *capp)
{
	size_t cap = (size_hint < 4096 ? 4096 : size_hint) + 1, used = 0;
	char *buf;

	if (cap > AWSCONFIG_FILE_MAX + 2)
		cap = AWSCONFIG_FILE_MAX + 2;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (used == cap - 1) {
			size_t bigger_cap = cap * 2;
			char *bigger;

			if (used > AWSCONFIG_FILE_MAX) {
				wipe_free(buf, cap);
				return -EFBIG;
			}
			if (bigger_cap > AWSCONFIG_FILE_MAX + 2)
				bigger_cap = AWSCONFIG_FILE_MAX + 2;
			bigger = malloc(bigger_cap);
			if (!bigger) {
				wipe_free(buf, cap);
				return -ENOMEM;
			}
			memcpy(bigger, buf, used);
			wipe_free(buf, cap);
			buf = bigger;
			cap = bigger_cap;
		}
		n = read(fd, buf + used, cap - 1 - used);
		if (n < 0) {
			int err = errno;

			if (err == EINTR)
				continue;
			wipe_free(buf, cap);
			return -err;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (used > AWSCONFIG_FILE_MAX) {
		wipe_free(buf, cap);
		return -EFBIG;
	}
	buf[used] = '\0';
	*data = buf;
	*len = used;
	*capp = cap;
	return 0;
}

int awsconfig_load(const char *path, struct awsconfig **out, char *why, size_t whylen)
{
	char *data = NULL, reason[160] = "";
	size_t len = 0, cap = 0;
	struct stat st;
	int fd, ret;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		aws_reason_set(why, whylen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		aws_reason_set(why, whylen, "%s: %s", path, strerror(-ret));
		goto out;
	}
	/*
	 * A FIFO or a device would block or never end; /dev/null is the usual
	 * way to say "no such file" (AWS_CONFIG_FILE=/dev/null) and reads empty.
	 */
	if (S_ISCHR(st.st_mode) && !strcmp(path, "/dev/null")) {
		ret = awsconfig_parse("", 0, out);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		aws_reason_set(why, whylen, "%s: not a regular file", path);
		ret = -EINVAL;
		goto out;
	}
	if (st.st_size > (off_t)AWSCONFIG_FILE_MAX) {
		aws_reason_set(why, whylen, "%s: larger than %u bytes", path, AWSCONFIG_FILE_MAX);
		ret = -EFBIG;
		goto out;
	}
	ret = read_secret_file(fd, (size_t)st.st_size, &data, &len, &cap);
	if (ret) {
		if (ret == -EFBIG)
			aws_reason_set(why, whylen, "%s: larger than %u bytes", path,
				       AWSCONFIG_FILE_MAX);
		else
			aws_reason_set(why, whylen, "%s: %s", path, strerror(-ret));
		goto out;
	}
	ret = awsconfig_parse_why(data, len, out, reason, sizeof(reason));
	if (ret)
		aws_reason_set(why, whylen, "%s: %s", path, reason);
out:
	wipe_free(data, cap);
	close(fd);
	return ret;
}

size_t awsconfig_section_count(const struct awsconfig *c)
{
	return c ? c->count : 0;
}

const struct awsconfig_section *awsconfig_section_at(const struct awsconfig *c, size_t i)
{
	return c && i < c->count ? &c->sections[i] : NULL;
}

const char *awsconfig_section_name(const struct awsconfig_section *s)
{
	return s ? s->name : NULL;
}

const struct awsconfig_section *awsconfig_find_section(const struct awsconfig *c,
							const char *name)
{
	const struct awsconfig_section *found = NULL;

	for (size_t i = 0; c && i < c->count; i++)
		if (!strcmp(c->sections[i].name, name))
			found = &c->sections[i];
	return found;
}

/*
 * botocore: a config section whose name starts with "profile" and splits
 * (shell-like) into exactly two words names the profile in the second word.
 */
static bool config_section_names(const char *name, const char *profile)
{
	const char *p, *q;

	if (!strcmp(name, "default"))
		return !strcmp(profile, "default");
	if (strncmp(name, "profile", 7) || !is_blank(name[7]))
		return false;
	p = name + 7;
	while (is_blank(*p))
		p++;
	q = p + strlen(p);
	while (q > p && is_blank(q[-1]))
		q--;
	if (q - p >= 2 && *p == '"' && q[-1] == '"') {
		p++;
		q--;
		if (memchr(p, '"', q - p))
			return false;
	} else {
		for (const char *r = p; r < q; r++)
			if (is_blank(*r) || *r == '"' || *r == '\'')
				return false;
	}
	return (size_t)(q - p) == strlen(profile) && !memcmp(p, profile, q - p);
}

const struct awsconfig_section *awsconfig_find_profile(const struct awsconfig *c,
							const char *profile,
							enum awsconfig_kind kind)
{
	const struct awsconfig_section *found = NULL;

	if (!c || !profile)
		return NULL;
	for (size_t i = 0; i < c->count; i++) {
		const char *name = c->sections[i].name;
		bool match = kind == AWSCONFIG_CONFIG ? config_section_names(name, profile) :
							!strcmp(name, profile);

		if (match)
			found = &c->sections[i];
	}
	return found;
}

const char *awsconfig_get(const struct awsconfig_section *s, const char *key)
{
	for (size_t i = 0; s && i < s->count; i++)
		if (!strcasecmp(s->entries[i].key, key))
			return s->entries[i].value;
	return NULL;
}

const char *awsconfig_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* ~/.aws/<leaf>, or the variable's path ("~/" expanded as the CLI does). */
static int shared_path(const char *var, const char *leaf, char *path, size_t pathlen)
{
	const char *v = awsconfig_env(var), *home = awsconfig_env("HOME");
	int n;

	if (v && !(v[0] == '~' && (v[1] == '/' || !v[1])))
		n = snprintf(path, pathlen, "%s", v);
	else if (!home)
		return -ENOENT; /* no HOME: no shared files, as when they are absent */
	else if (v)
		n = snprintf(path, pathlen, "%s%s", home, v + 1);
	else
		n = snprintf(path, pathlen, "%s/.aws/%s", home, leaf);
	return n < 0 || (size_t)n >= pathlen ? -ENAMETOOLONG : 0;
}

void awsconfig_files_free(struct awsconfig_files *f)
{
	awsconfig_free(f->credentials);
	awsconfig_free(f->config);
	f->credentials = f->config = NULL;
}

static int load_one(const char *var, const char *leaf, char *path, size_t pathlen,
		    struct awsconfig **cfg, char *why, size_t whylen)
{
	char reason[AWS_REASON_MAX];
	int ret;

	*cfg = NULL;
	ret = shared_path(var, leaf, path, pathlen);
	if (ret == -ENOENT) {
		snprintf(path, pathlen, "~/.aws/%s (HOME unset)", leaf);
		return 0;
	}
	if (ret) {
		aws_reason_set(why, whylen, "%s: path too long", var);
		return ret;
	}
	ret = awsconfig_load(path, cfg, reason, sizeof(reason));
	/* Absent files are normal; anything else would change whose keys we use. */
	if (ret == -ENOENT || ret == -ENOTDIR)
		return 0;
	if (ret)
		aws_reason_set(why, whylen, "%s", reason);
	return ret;
}

int awsconfig_files_load(struct awsconfig_files *f, char *why, size_t whylen)
{
	int ret;

	memset(f, 0, sizeof(*f));
	ret = load_one("AWS_SHARED_CREDENTIALS_FILE", "credentials", f->credentials_path,
		       sizeof(f->credentials_path), &f->credentials, why, whylen);
	if (!ret)
		ret = load_one("AWS_CONFIG_FILE", "config", f->config_path, sizeof(f->config_path),
			       &f->config, why, whylen);
	if (ret)
		awsconfig_files_free(f);
	return ret;
}
