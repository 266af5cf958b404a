// SPDX-License-Identifier: GPL-2.0-only
#include "aws/trust.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *const aws_trust_known_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt",                 /* Debian, Ubuntu */
	"/etc/pki/tls/certs/ca-bundle.crt",                   /* Amazon Linux, RHEL, Fedora */
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  /* the same, extracted */
	"/etc/ssl/ca-bundle.pem",                             /* SUSE */
	"/etc/ssl/cert.pem",                                  /* Alpine */
	NULL,
};

static int kind_at(const struct aws_trust_probe *p, const char *path, bool *is_dir)
{
	char full[PATH_MAX];
	struct stat st;
	int n = snprintf(full, sizeof(full), "%s%s", p->root ? p->root : "", path);

	if (n < 0 || (size_t)n >= sizeof(full) || stat(full, &st))
		return -ENOENT;
	*is_dir = S_ISDIR(st.st_mode);
	return S_ISDIR(st.st_mode) || S_ISREG(st.st_mode) ? 0 : -ENOENT;
}

static int take(struct aws_trust *out, const char *path, bool is_dir, const char *source)
{
	int n = snprintf(out->path, sizeof(out->path), "%s", path);

	out->is_dir = is_dir;
	out->source = source;
	return n < 0 || (size_t)n >= sizeof(out->path) ? -ENAMETOOLONG : 0;
}

int aws_trust_find(const struct aws_trust_probe *p, struct aws_trust *out, char *why,
		   size_t whylen)
{
	static const struct {
		const char *name;
		bool want_dir;
	} named[] = {
		{ "AWS_CA_BUNDLE", false },
		{ "SSL_CERT_FILE", false },
		{ "SSL_CERT_DIR", true },
	};
	bool is_dir;

	memset(out, 0, sizeof(*out));
	if (p->option && *p->option) {
		if (kind_at(p, p->option, &is_dir) || is_dir) {
			snprintf(why, whylen, "--ca-bundle %s: no such file", p->option);
			return -ENOENT;
		}
		return take(out, p->option, false, "--ca-bundle");
	}
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		const char *v = p->env ? p->env(named[i].name) : NULL;

		if (!v || !*v)
			continue;
		/* Named but missing fails: falling back would trust what was not chosen. */
		if (kind_at(p, v, &is_dir) || is_dir != named[i].want_dir) {
			snprintf(why, whylen, "%s=%s: no such %s", named[i].name, v,
				 named[i].want_dir ? "directory" : "file");
			return -ENOENT;
		}
		return take(out, v, is_dir, named[i].name);
	}
	for (size_t i = 0; aws_trust_known_bundles[i]; i++)
		if (!kind_at(p, aws_trust_known_bundles[i], &is_dir) && !is_dir)
			return take(out, aws_trust_known_bundles[i], false, "system");
	snprintf(why, whylen, "no CA bundle on this host (looked for the Debian, Amazon Linux/RHEL, "
		 "SUSE and Alpine bundles): name one with --ca-bundle or AWS_CA_BUNDLE");
	return -ENOENT;
}

static pthread_mutex_t host_lock = PTHREAD_MUTEX_INITIALIZER;
static struct aws_trust host_trust;
static char host_option[PATH_MAX];
static bool host_found;

static const char *host_env(const char *name)
{
	return getenv(name);
}

int aws_trust_host(const char *option, const struct aws_trust **out, char *why, size_t whylen)
{
	struct aws_trust_probe probe = { .root = "", .option = option, .env = host_env };
	int ret = 0;

	pthread_mutex_lock(&host_lock);
	/* Every client of the process asks; the answer only changes with the option. */
	if (!host_found || strcmp(host_option, option ? option : "")) {
		ret = aws_trust_find(&probe, &host_trust, why, whylen);
		host_found = !ret;
		snprintf(host_option, sizeof(host_option), "%s", option ? option : "");
	}
	*out = ret ? NULL : &host_trust;
	pthread_mutex_unlock(&host_lock);
	return ret;
}

json_object *aws_trust_json(const struct aws_trust *t)
{
	json_object *o = json_object_new_object();

	if (o) {
		json_object_object_add(o, t->is_dir ? "ca_path" : "ca_bundle",
				       json_object_new_string(t->path));
		json_object_object_add(o, "source", json_object_new_string(t->source));
	}
	return o;
}
