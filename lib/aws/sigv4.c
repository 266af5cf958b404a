// SPDX-License-Identifier: GPL-2.0-only
/*
 * AWS Signature Version 4, following the published rules and botocore
 * (botocore/auth.py, SigV4Auth and its S3 and query subclasses), which the
 * integration test uses as the oracle:
 *
 *   CanonicalRequest = Method \n CanonicalURI \n CanonicalQuery \n
 *                      CanonicalHeaders \n SignedHeaders \n PayloadHash
 *   StringToSign     = "AWS4-HMAC-SHA256" \n AmzDate \n Scope \n hex(SHA256(CR))
 *   SigningKey       = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date), region),
 *                           service), "aws4_request")
 *
 * Every input is checked and bounded before any work, so a hostile object
 * key or header cannot make the signer allocate without limit.
 */
#include "aws/sigv4.h"
#include "base/encode.h"
#include "base/timefmt.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR "aws4_request"

/*
 * Limits. S3 keys are at most 1024 bytes and session tokens a few KiB; the
 * limits leave room for that and cap the worst case (every byte of a path
 * encoded twice is 5 bytes) at a few hundred KiB of output.
 */
#define SIGV4_MAX_PAIRS 64          /* query parameters, and headers, each */
#define SIGV4_MAX_FIELD 16384       /* one name, value or path */
#define SIGV4_MAX_INPUT 65536       /* all of them together */
#define SIGV4_MAX_OUTPUT (1u << 20) /* any string we build */
#define SIGV4_MAX_SHORT 128         /* method, region, service, key id */
#define SIGV4_MAX_HOST 270          /* 255-byte name, brackets, ":port" */
#define SIGV4_MAX_SECRET 256

/* ---- growable string with a sticky error ---- */

struct sbuf {
	char *p;
	size_t len;
	size_t cap;
	int err;
};

static void sb_addn(struct sbuf *b, const char *s, size_t n)
{
	size_t want;
	char *grown;

	if (b->err)
		return;
	if (n > SIGV4_MAX_OUTPUT - b->len) {
		b->err = -E2BIG;
		return;
	}
	want = b->len + n + 1;
	if (want > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < want)
			cap *= 2;
		grown = realloc(b->p, cap);
		if (!grown) {
			b->err = -ENOMEM;
			return;
		}
		b->p = grown;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_adds(struct sbuf *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}

static void sb_addc(struct sbuf *b, char c)
{
	sb_addn(b, &c, 1);
}

/* Hands the string over (an empty one is still allocated) or reports the error. */
static int sb_take(struct sbuf *b, char **out)
{
	int ret = b->err;

	if (!ret && !b->p) {
		sb_addn(b, "", 0);
		ret = b->err;
	}
	if (ret) {
		free(b->p);
		*out = NULL;
	} else {
		*out = b->p;
	}
	b->p = NULL;
	b->len = b->cap = 0;
	return ret;
}

static void sb_free(struct sbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* ---- character classes ---- */

static bool is_alnum(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* RFC 3986 unreserved: the only bytes SigV4 leaves unencoded. */
static bool is_unreserved(unsigned char c)
{
	return is_alnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

/* RFC 9110 tchar: what a method or a header name may be made of. */
static bool is_tchar(unsigned char c)
{
	return is_alnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool all_tchar(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!is_tchar((unsigned char)*s))
			return false;
	return true;
}

/* Length of s if it is non-empty and at most max bytes, else 0. */
static size_t bounded_len(const char *s, size_t max)
{
	size_t n;

	if (!s)
		return 0;
	n = strnlen(s, max + 1);
	return n > max ? 0 : n;
}

/* Region and service go into the scope between '/': keep them plain. */
static bool valid_scope_part(const char *s)
{
	if (!bounded_len(s, SIGV4_MAX_SHORT))
		return false;
	for (; *s; s++)
		if (!is_alnum((unsigned char)*s) && !strchr("-_.", *s))
			return false;
	return true;
}

/* The key id sits in "Credential=AKID/date/...," so '/' ',' and spaces are out. */
static bool valid_key_id(const char *s)
{
	if (!bounded_len(s, SIGV4_MAX_SHORT))
		return false;
	for (; *s; s++) {
		unsigned char c = *s;

		if (c <= ' ' || c >= 0x7f || c == '/' || c == ',')
			return false;
	}
	return true;
}

/* Visible ASCII only: the token is sent verbatim in a header or the query. */
static bool valid_token(const char *s)
{
	if (!bounded_len(s, SIGV4_MAX_FIELD))
		return false;
	for (; *s; s++) {
		unsigned char c = *s;

		if (c <= ' ' || c >= 0x7f)
			return false;
	}
	return true;
}

/* Host as it appears in Host: name, IPv4, [IPv6], optional :port. */
static bool valid_host(const char *s)
{
	if (!bounded_len(s, SIGV4_MAX_HOST))
		return false;
	for (; *s; s++)
		if (!is_alnum((unsigned char)*s) && !strchr("-._:[]", *s))
			return false;
	return true;
}

/*
 * Lowercase hex SHA-256, or a literal such as UNSIGNED-PAYLOAD or the
 * STREAMING-* values (upper case, with a '-', so an upper-case hex digest
 * is refused rather than signed wrong): it ends the canonical request and
 * may be sent as x-amz-content-sha256, so nothing else is let through.
 */
static bool valid_payload_hash(const char *s)
{
	size_t n = bounded_len(s, SIGV4_HEX_SHA256_LEN);
	bool hex = n == SIGV4_HEX_SHA256_LEN, literal = n && strchr(s, '-');

	if (!n)
		return false;
	for (; *s; s++) {
		unsigned char c = *s;

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			hex = false;
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
			literal = false;
	}
	return hex || literal;
}

/* ---- encoding ---- */

static void encode_into(struct sbuf *b, const char *in, size_t n, bool slash_too)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n && !b->err; i++) {
		unsigned char c = in[i];

		if (is_unreserved(c) || (c == '/' && !slash_too)) {
			sb_addc(b, c);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			sb_addn(b, e, 3);
		}
	}
}

int sigv4_uri_encode(const char *in, bool slash_too, char **out)
{
	struct sbuf b = { 0 };
	size_t n;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!in)
		return -EINVAL;
	n = strnlen(in, SIGV4_MAX_FIELD + 1);
	if (n > SIGV4_MAX_FIELD)
		return -E2BIG;
	encode_into(&b, in, n, slash_too);
	return sb_take(&b, out);
}

/* ---- canonical URI ---- */

/*
 * Path not yet encoded. once: S3, and the path as sent on the wire: each
 * segment encoded once, nothing removed, so "a//b/./c" keeps its object
 * key. Otherwise (every other service): dot segments and empty segments
 * removed as botocore's remove_dot_segments does (a trailing "/" is kept
 * only if something is left), then encoded twice, because those services
 * encode the already-encoded path they received.
 */
static int canonical_uri(const char *path, bool once, struct sbuf *out)
{
	struct seg {
		const char *s;
		size_t n;
	} *segs = NULL;
	size_t n, count = 0, max_segs;
	const char *p, *end;

	if (!path || !*path) {
		sb_addc(out, '/');
		return out->err;
	}
	if (path[0] != '/')
		return -EINVAL;
	n = strlen(path);
	if (once) {
		encode_into(out, path, n, false);
		return out->err;
	}

	/* A path of n bytes has at most n segments after the leading '/'. */
	max_segs = n;
	segs = calloc(max_segs, sizeof(*segs));
	if (!segs)
		return -ENOMEM;
	end = path + n;
	for (p = path + 1; p <= end;) {
		const char *slash = memchr(p, '/', end - p);
		size_t len = (slash ? slash : end) - p;

		if (len == 0 || (len == 1 && p[0] == '.')) {
			/* dropped */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (count)
				count--;
		} else if (count < max_segs) {
			segs[count].s = p;
			segs[count].n = len;
			count++;
		}
		if (!slash)
			break;
		p = slash + 1;
	}

	sb_addc(out, '/');
	for (size_t i = 0; i < count && !out->err; i++) {
		struct sbuf once_enc = { 0 };

		if (i)
			sb_addc(out, '/');
		encode_into(&once_enc, segs[i].s, segs[i].n, true);
		if (once_enc.err) {
			out->err = once_enc.err;
		} else if (once_enc.len) {
			encode_into(out, once_enc.p, once_enc.len, true);
		}
		sb_free(&once_enc);
	}
	if (count && path[n - 1] == '/')
		sb_addc(out, '/');
	free(segs);
	return out->err;
}

/* ---- canonical query ---- */

struct qparam {
	char *name;  /* encoded */
	char *value; /* encoded */
};

static int cmp_qparam(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

static int check_pairs(const struct sigv4_pair *pairs, size_t count, size_t *budget)
{
	if (count && !pairs)
		return -EINVAL;
	if (count > SIGV4_MAX_PAIRS)
		return -E2BIG;
	for (size_t i = 0; i < count; i++) {
		size_t n, v;

		if (!pairs[i].name)
			return -EINVAL;
		n = strnlen(pairs[i].name, SIGV4_MAX_FIELD + 1);
		v = pairs[i].value ? strnlen(pairs[i].value, SIGV4_MAX_FIELD + 1) : 0;
		if (n > SIGV4_MAX_FIELD || v > SIGV4_MAX_FIELD || n + v > *budget)
			return -E2BIG;
		*budget -= n + v;
	}
	return 0;
}

/*
 * Every name and value encoded ('/' too), sorted by encoded name and then
 * encoded value (repeated names are kept), joined as n=v&n=v; a missing
 * value signs as "n=".
 */
static int canonical_query(const struct sigv4_pair *q, size_t nq, const struct sigv4_pair *extra,
			   size_t nextra, struct sbuf *out)
{
	size_t total = nq + nextra;
	struct qparam *qp;
	int ret = 0;

	if (!total)
		return 0;
	qp = calloc(total, sizeof(*qp));
	if (!qp)
		return -ENOMEM;
	for (size_t i = 0; i < total; i++) {
		const struct sigv4_pair *pair = i < nq ? &q[i] : &extra[i - nq];

		ret = sigv4_uri_encode(pair->name, true, &qp[i].name);
		if (!ret)
			ret = sigv4_uri_encode(pair->value ? pair->value : "", true, &qp[i].value);
		if (ret)
			goto out;
	}
	qsort(qp, total, sizeof(*qp), cmp_qparam);
	for (size_t i = 0; i < total; i++) {
		if (i)
			sb_addc(out, '&');
		sb_adds(out, qp[i].name);
		sb_addc(out, '=');
		sb_adds(out, qp[i].value);
	}
	ret = out->err;
out:
	for (size_t i = 0; i < total; i++) {
		free(qp[i].name);
		free(qp[i].value);
	}
	free(qp);
	return ret;
}

/* ---- canonical headers ---- */

struct hdr {
	char *name;  /* lowercased */
	char *value; /* trimmed, runs of blanks made one space */
	size_t order;
};

static int cmp_hdr(const void *a, const void *b)
{
	const struct hdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	/* Same name: keep the caller's order, the values are joined in it. */
	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int lower_dup(const char *in, char **out)
{
	size_t n = strlen(in);
	char *s = malloc(n + 1);

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i <= n; i++)
		s[i] = (in[i] >= 'A' && in[i] <= 'Z') ? in[i] - 'A' + 'a' : in[i];
	*out = s;
	return 0;
}

/*
 * Trimall: blanks (SP, HTAB) dropped at both ends and each inner run made
 * one space. Other control bytes (CR, LF, ...) would let a value smuggle in
 * another header, so they are refused. Bytes >= 0x80 pass untouched.
 */
static int trim_dup(const char *in, char **out)
{
	size_t n = strlen(in), j = 0;
	bool pending = false;
	char *s = malloc(n + 1);

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = in[i];

		if (c == ' ' || c == '\t') {
			pending = j > 0;
			continue;
		}
		if (c < ' ' || c == 0x7f) {
			free(s);
			return -EINVAL;
		}
		if (pending)
			s[j++] = ' ';
		pending = false;
		s[j++] = c;
	}
	s[j] = '\0';
	*out = s;
	return 0;
}

static bool name_is(const char *lowered, const char *const *names)
{
	for (; *names; names++)
		if (!strcmp(lowered, *names))
			return true;
	return false;
}

/*
 * The signed headers: the caller's, host, and for header auth x-amz-date
 * and (S3) x-amz-content-sha256. A caller header with one of the names we
 * add, or Authorization, is refused: the request would carry it twice.
 */
static int canonical_headers(const struct sigv4_request *req, const struct sigv4_scope *scope,
			     const char *amz_date, bool query_auth, struct sbuf *canon,
			     struct sbuf *signed_list)
{
	static const char *const header_auth_added[] = { "host", "authorization", "x-amz-date",
							 NULL };
	static const char *const s3_header_auth_added[] = { "host", "authorization", "x-amz-date",
							    "x-amz-content-sha256", NULL };
	static const char *const query_auth_added[] = { "host", "authorization", NULL };
	const char *const *added = query_auth ? query_auth_added :
				   scope->s3  ? s3_header_auth_added :
						header_auth_added;
	/* Values already checked or formatted by the callers. */
	const char *mine[][2] = {
		{ "host", req->host },
		{ "x-amz-date", amz_date },
		{ "x-amz-content-sha256", req->payload_hash },
	};
	size_t n_mine = query_auth ? 1 : scope->s3 ? 3 : 2;
	size_t total = req->header_count + n_mine, count = 0;
	struct hdr *h;
	int ret = 0;

	h = calloc(total, sizeof(*h));
	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < req->header_count; i++) {
		const struct sigv4_pair *pair = &req->headers[i];
		struct hdr *e = &h[count];

		e->order = count++;
		if (!all_tchar(pair->name)) {
			ret = -EINVAL;
			goto out;
		}
		ret = lower_dup(pair->name, &e->name);
		if (!ret && name_is(e->name, added))
			ret = -EINVAL;
		if (!ret)
			ret = trim_dup(pair->value ? pair->value : "", &e->value);
		if (ret)
			goto out;
	}
	for (size_t i = 0; i < n_mine; i++) {
		struct hdr *e = &h[count];

		e->order = count++;
		e->name = strdup(mine[i][0]);
		e->value = strdup(mine[i][1]);
		if (!e->name || !e->value) {
			ret = -ENOMEM;
			goto out;
		}
	}

	qsort(h, count, sizeof(*h), cmp_hdr);
	for (size_t i = 0; i < count; i++) {
		bool first = i == 0 || strcmp(h[i].name, h[i - 1].name);
		bool last = i + 1 == count || strcmp(h[i].name, h[i + 1].name);

		if (first) {
			if (i)
				sb_addc(signed_list, ';');
			sb_adds(signed_list, h[i].name);
			sb_adds(canon, h[i].name);
			sb_addc(canon, ':');
		} else {
			/* Repeated header: values joined with ',' in the order given. */
			sb_addc(canon, ',');
		}
		sb_adds(canon, h[i].value);
		if (last)
			sb_addc(canon, '\n');
	}
	ret = canon->err ? canon->err : signed_list->err;
out:
	for (size_t i = 0; i < total; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
	return ret;
}

/* ---- checks shared by the entry points ---- */

static int check_scope(const struct sigv4_scope *scope)
{
	if (!scope || !valid_scope_part(scope->region) || !valid_scope_part(scope->service))
		return -EINVAL;
	return 0;
}

static int check_request(const struct sigv4_request *req, const struct sigv4_pair *extra,
			 size_t nextra)
{
	size_t budget = SIGV4_MAX_INPUT, path_len = 0;
	int ret;

	if (!req || !bounded_len(req->method, SIGV4_MAX_SHORT) || !all_tchar(req->method) ||
	    !valid_host(req->host) || !valid_payload_hash(req->payload_hash))
		return -EINVAL;
	if (req->path) {
		path_len = strnlen(req->path, SIGV4_MAX_FIELD + 1);
		if (path_len > SIGV4_MAX_FIELD)
			return -E2BIG;
		if (path_len && req->path[0] != '/')
			return -EINVAL;
	}
	budget -= path_len;
	ret = check_pairs(req->query, req->query_count, &budget);
	if (!ret)
		ret = check_pairs(extra, nextra, &budget);
	if (!ret)
		ret = check_pairs(req->headers, req->header_count, &budget);
	return ret;
}

/* "20150830T123600Z" for now; years past 9999 would not fit the format. */
static int format_amz_date(time_t now, char out[17])
{
	return timefmt_compact(now, out, 17);
}

/* amz_date must be scope->now: the scope's date and X-Amz-Date cannot differ. */
static int check_amz_date(const struct sigv4_scope *scope, const char *amz_date)
{
	char want[17];
	int ret = format_amz_date(scope->now, want);

	if (ret)
		return ret;
	if (!amz_date || strcmp(amz_date, want))
		return -EINVAL;
	return 0;
}

/* ---- the steps ---- */

/*
 * Query (presigned) auth when extra_query is given: X-Amz-Date is then a
 * query parameter, so neither x-amz-date nor x-amz-content-sha256 becomes
 * a header. Header auth otherwise.
 */
int sigv4_canonical_request(const struct sigv4_request *req, const struct sigv4_scope *scope,
			    const char *amz_date, const struct sigv4_pair *extra_query,
			    size_t extra_query_count, char **out, char **signed_headers)
{
	struct sbuf cr = { 0 }, hdrs = { 0 }, list = { 0 };
	bool query_auth = extra_query_count > 0;
	int ret;

	if (!out || !signed_headers)
		return -EINVAL;
	*out = *signed_headers = NULL;
	ret = check_scope(scope);
	if (!ret)
		ret = check_amz_date(scope, amz_date);
	if (!ret)
		ret = check_request(req, extra_query, extra_query_count);
	if (ret)
		return ret;

	sb_adds(&cr, req->method);
	sb_addc(&cr, '\n');
	ret = canonical_uri(req->path, scope->s3, &cr);
	if (ret)
		goto out;
	sb_addc(&cr, '\n');
	ret = canonical_query(req->query, req->query_count, extra_query, extra_query_count, &cr);
	if (ret)
		goto out;
	sb_addc(&cr, '\n');
	ret = canonical_headers(req, scope, amz_date, query_auth, &hdrs, &list);
	if (ret)
		goto out;
	sb_addn(&cr, hdrs.p, hdrs.len);
	sb_addc(&cr, '\n');
	sb_addn(&cr, list.p, list.len);
	sb_addc(&cr, '\n');
	sb_adds(&cr, req->payload_hash);
	ret = sb_take(&cr, out);
	if (!ret) {
		ret = sb_take(&list, signed_headers);
		if (ret) {
			free(*out);
			*out = NULL;
		}
	}
out:
	sb_free(&cr);
	sb_free(&hdrs);
	sb_free(&list);
	return ret;
}

int sigv4_string_to_sign(const char *canonical_request, const struct sigv4_scope *scope,
			 const char *amz_date, char **out)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	char hex[SIGV4_HEX_SHA256_LEN + 1];
	unsigned int dlen = 0;
	struct sbuf b = { 0 };
	size_t n;
	int ret;

	if (!out)
		return -EINVAL;
	*out = NULL;
	ret = check_scope(scope);
	if (!ret)
		ret = check_amz_date(scope, amz_date);
	if (ret)
		return ret;
	if (!canonical_request)
		return -EINVAL;
	n = strnlen(canonical_request, SIGV4_MAX_OUTPUT + 1);
	if (n > SIGV4_MAX_OUTPUT)
		return -E2BIG;
	if (!EVP_Digest(canonical_request, n, digest, &dlen, EVP_sha256(), NULL) || dlen != 32)
		return -EIO;
	hex_encode(digest, dlen, hex);

	sb_adds(&b, SIGV4_ALGORITHM "\n");
	sb_adds(&b, amz_date);
	sb_addc(&b, '\n');
	sb_addn(&b, amz_date, 8);
	sb_addc(&b, '/');
	sb_adds(&b, scope->region);
	sb_addc(&b, '/');
	sb_adds(&b, scope->service);
	sb_adds(&b, "/" SIGV4_TERMINATOR "\n");
	sb_adds(&b, hex);
	return sb_take(&b, out);
}

static bool hmac(const void *key, size_t key_len, const void *msg, size_t msg_len,
		 unsigned char out[32])
{
	unsigned int n = 0;

	return HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, out, &n) && n == 32;
}

int sigv4_signature(const char *secret_access_key, const struct sigv4_scope *scope,
		    const char *string_to_sign, char hex[SIGV4_HEX_SHA256_LEN + 1])
{
	/* "AWS4" + secret, then the chain; wiped after, like the secret itself. */
	unsigned char key[4 + SIGV4_MAX_SECRET], k1[32], k2[32];
	size_t secret_len, sts_len;
	char amz_date[17];
	int ret;

	if (!hex)
		return -EINVAL;
	hex[0] = '\0';
	ret = check_scope(scope);
	if (!ret)
		ret = format_amz_date(scope->now, amz_date);
	if (ret)
		return ret;
	secret_len = bounded_len(secret_access_key, SIGV4_MAX_SECRET);
	if (!secret_len || !string_to_sign)
		return -EINVAL;
	sts_len = strnlen(string_to_sign, SIGV4_MAX_OUTPUT + 1);
	if (sts_len > SIGV4_MAX_OUTPUT)
		return -E2BIG;

	memcpy(key, "AWS4", 4);
	memcpy(key + 4, secret_access_key, secret_len);
	ret = -EIO;
	if (!hmac(key, 4 + secret_len, amz_date, 8, k1) ||
	    !hmac(k1, 32, scope->region, strlen(scope->region), k2) ||
	    !hmac(k2, 32, scope->service, strlen(scope->service), k1) ||
	    !hmac(k1, 32, SIGV4_TERMINATOR, strlen(SIGV4_TERMINATOR), k2) ||
	    !hmac(k2, 32, string_to_sign, sts_len, k1))
		goto out;
	hex_encode(k1, 32, hex);
	ret = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(k1, sizeof(k1));
	OPENSSL_cleanse(k2, sizeof(k2));
	return ret;
}

/* ---- header auth ---- */

static int check_credentials(const struct sigv4_credentials *cred)
{
	if (!cred || !valid_key_id(cred->access_key_id) ||
	    !bounded_len(cred->secret_access_key, SIGV4_MAX_SECRET))
		return -EINVAL;
	if (cred->session_token && !valid_token(cred->session_token))
		return -EINVAL;
	return 0;
}

void sigv4_signed_headers_free(struct sigv4_signed_headers *h)
{
	if (!h)
		return;
	free(h->authorization);
	free(h->security_token);
	memset(h, 0, sizeof(*h));
}

int sigv4_sign_headers(const struct sigv4_request *req, const struct sigv4_credentials *cred,
		       const struct sigv4_scope *scope, struct sigv4_signed_headers *out)
{
	struct sigv4_pair *with_token = NULL;
	struct sigv4_request r;
	char *creq = NULL, *sts = NULL, *signed_list = NULL;
	char sig[SIGV4_HEX_SHA256_LEN + 1];
	struct sbuf auth = { 0 };
	int ret;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	ret = check_credentials(cred);
	if (!ret)
		ret = check_scope(scope);
	if (!ret)
		ret = format_amz_date(scope->now, out->amz_date);
	if (!ret && !req)
		ret = -EINVAL;
	if (ret)
		goto fail;

	r = *req;
	if (cred->session_token) {
		/* The token is signed as a header; one given by the caller would be a second. */
		if (r.header_count && !r.headers) {
			ret = -EINVAL;
			goto fail;
		}
		if (r.header_count >= SIGV4_MAX_PAIRS) {
			ret = -E2BIG;
			goto fail;
		}
		for (size_t i = 0; i < r.header_count; i++) {
			if (r.headers[i].name && !strcasecmp(r.headers[i].name, "x-amz-security-token")) {
				ret = -EINVAL;
				goto fail;
			}
		}
		with_token = calloc(r.header_count + 1, sizeof(*with_token));
		if (!with_token) {
			ret = -ENOMEM;
			goto fail;
		}
		if (r.header_count)
			memcpy(with_token, r.headers, r.header_count * sizeof(*with_token));
		with_token[r.header_count].name = "x-amz-security-token";
		with_token[r.header_count].value = cred->session_token;
		r.headers = with_token;
		r.header_count++;
	}

	ret = sigv4_canonical_request(&r, scope, out->amz_date, NULL, 0, &creq, &signed_list);
	if (!ret)
		ret = sigv4_string_to_sign(creq, scope, out->amz_date, &sts);
	if (!ret)
		ret = sigv4_signature(cred->secret_access_key, scope, sts, sig);
	if (ret)
		goto fail;

	sb_adds(&auth, SIGV4_ALGORITHM " Credential=");
	sb_adds(&auth, cred->access_key_id);
	sb_addc(&auth, '/');
	sb_addn(&auth, out->amz_date, 8);
	sb_addc(&auth, '/');
	sb_adds(&auth, scope->region);
	sb_addc(&auth, '/');
	sb_adds(&auth, scope->service);
	sb_adds(&auth, "/" SIGV4_TERMINATOR ", SignedHeaders=");
	sb_adds(&auth, signed_list);
	sb_adds(&auth, ", Signature=");
	sb_adds(&auth, sig);
	ret = sb_take(&auth, &out->authorization);
	if (ret)
		goto fail;
	if (cred->session_token) {
		out->security_token = strdup(cred->session_token);
		if (!out->security_token) {
			ret = -ENOMEM;
			goto fail;
		}
	}
	/* Only S3 signs (and so needs) x-amz-content-sha256; empty otherwise. */
	if (scope->s3)
		snprintf(out->content_sha256, sizeof(out->content_sha256), "%s", req->payload_hash);
	goto done;

fail:
	sigv4_signed_headers_free(out);
done:
	free(with_token);
	free(creq);
	free(sts);
	free(signed_list);
	return ret;
}

/* ---- query auth (presigned URL) ---- */

static const char *const presign_params[] = {
	"X-Amz-Algorithm",	 "X-Amz-Credential",     "X-Amz-Date", "X-Amz-Expires",
	"X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature", NULL,
};

/*
 * For S3 the payload is UNSIGNED-PAYLOAD, as S3 documents for presigned
 * URLs. Other services (STS, RDS tokens, ...) check the body hash like
 * botocore signs it: the request's payload_hash, normally the empty body's.
 */
int sigv4_presign_url(const char *scheme, const struct sigv4_request *req,
		      const struct sigv4_credentials *cred, const struct sigv4_scope *scope,
		      unsigned int expires, char **url)
{
	char amz_date[17], expires_str[16], sig[SIGV4_HEX_SHA256_LEN + 1];
	char *credential = NULL, *list = NULL, *list2 = NULL, *creq = NULL, *sts = NULL;
	struct sbuf hdrs = { 0 }, lst = { 0 }, cred_b = { 0 }, u = { 0 };
	struct sigv4_pair extra[6];
	struct sigv4_request r;
	size_t nextra = 0;
	int ret;

	if (!url)
		return -EINVAL;
	*url = NULL;
	if (!scheme || (strcmp(scheme, "https") && strcmp(scheme, "http")))
		return -EINVAL;
	if (expires < 1 || expires > SIGV4_MAX_PRESIGN_EXPIRES)
		return -EINVAL;
	if (!req)
		return -EINVAL;
	ret = check_credentials(cred);
	if (!ret)
		ret = check_scope(scope);
	if (!ret)
		ret = format_amz_date(scope->now, amz_date);
	if (ret)
		return ret;

	r = *req;
	if (scope->s3 || !r.payload_hash)
		r.payload_hash = SIGV4_UNSIGNED_PAYLOAD;
	ret = check_request(&r, NULL, 0);
	if (ret)
		return ret;
	/* Our parameters must be the only ones of their name. */
	for (size_t i = 0; i < r.query_count; i++)
		for (size_t j = 0; presign_params[j]; j++)
			if (!strcasecmp(r.query[i].name, presign_params[j]))
				return -EINVAL;

	/* X-Amz-SignedHeaders is itself signed: the list is needed first. */
	ret = canonical_headers(&r, scope, amz_date, true, &hdrs, &lst);
	if (!ret)
		ret = sb_take(&lst, &list);
	if (ret)
		goto out;

	sb_adds(&cred_b, cred->access_key_id);
	sb_addc(&cred_b, '/');
	sb_addn(&cred_b, amz_date, 8);
	sb_addc(&cred_b, '/');
	sb_adds(&cred_b, scope->region);
	sb_addc(&cred_b, '/');
	sb_adds(&cred_b, scope->service);
	sb_adds(&cred_b, "/" SIGV4_TERMINATOR);
	ret = sb_take(&cred_b, &credential);
	if (ret)
		goto out;
	snprintf(expires_str, sizeof(expires_str), "%u", expires);

	extra[nextra++] = (struct sigv4_pair){ "X-Amz-Algorithm", SIGV4_ALGORITHM };
	extra[nextra++] = (struct sigv4_pair){ "X-Amz-Credential", credential };
	extra[nextra++] = (struct sigv4_pair){ "X-Amz-Date", amz_date };
	extra[nextra++] = (struct sigv4_pair){ "X-Amz-Expires", expires_str };
	extra[nextra++] = (struct sigv4_pair){ "X-Amz-SignedHeaders", list };
	/* Signed in the query for every service, as botocore and S3 do. */
	if (cred->session_token)
		extra[nextra++] = (struct sigv4_pair){ "X-Amz-Security-Token", cred->session_token };

	ret = sigv4_canonical_request(&r, scope, amz_date, extra, nextra, &creq, &list2);
	if (!ret && strcmp(list, list2))
		ret = -EIO; /* cannot happen: same headers, same rules */
	if (!ret)
		ret = sigv4_string_to_sign(creq, scope, amz_date, &sts);
	if (!ret)
		ret = sigv4_signature(cred->secret_access_key, scope, sts, sig);
	if (ret)
		goto out;

	/*
	 * The URL carries the path as sent (encoded once, not normalized) and
	 * the canonical query, which is a valid query string in its own right.
	 */
	sb_adds(&u, scheme);
	sb_adds(&u, "://");
	sb_adds(&u, r.host);
	ret = canonical_uri(r.path, true, &u);
	if (ret)
		goto out;
	sb_addc(&u, '?');
	ret = canonical_query(r.query, r.query_count, extra, nextra, &u);
	if (ret)
		goto out;
	sb_adds(&u, "&X-Amz-Signature=");
	sb_adds(&u, sig);
	ret = sb_take(&u, url);
out:
	sb_free(&hdrs);
	sb_free(&lst);
	sb_free(&cred_b);
	sb_free(&u);
	free(credential);
	free(list);
	free(list2);
	free(creq);
	free(sts);
	return ret;
}
