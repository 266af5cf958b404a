// SPDX-License-Identifier: GPL-2.0-only
/*
 * The canonical request of AWS Signature Version 4, following the published
 * rules and botocore (botocore/auth.py, SigV4Auth and its S3 and query
 * subclasses), which the integration test uses as the oracle:
 *
 *   CanonicalRequest = Method \n CanonicalURI \n CanonicalQuery \n
 *                      CanonicalHeaders \n SignedHeaders \n PayloadHash
 *
 * Every input is checked and bounded before any work, so a hostile object
 * key or header cannot make the signer allocate without limit.
 */
#include "aws/sigv4_canonical.h"
#include "base/timefmt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

/* Non-empty, at most max bytes, each an ASCII letter, a digit or one of extra. */
static bool plain_chars(const char *s, size_t max, const char *extra)
{
	if (!sigv4_bounded_len(s, max))
		return false;
	for (; *s; s++)
		if (!is_alnum((unsigned char)*s) && !strchr(extra, *s))
			return false;
	return true;
}

/* Non-empty, at most max bytes of visible ASCII, none of them in refused. */
static bool visible_chars(const char *s, size_t max, const char *refused)
{
	if (!sigv4_bounded_len(s, max))
		return false;
	for (; *s; s++) {
		unsigned char c = *s;

		if (c <= ' ' || c >= 0x7f || strchr(refused, c))
			return false;
	}
	return true;
}

/* Region and service go into the scope between '/': keep them plain. */
static bool valid_scope_part(const char *s)
{
	return plain_chars(s, SIGV4_MAX_SHORT, "-_.");
}

/* The key id sits in "Credential=AKID/date/...," so '/' ',' and spaces are out. */
static bool valid_key_id(const char *s)
{
	return visible_chars(s, SIGV4_MAX_SHORT, "/,");
}

/* Visible ASCII only: the token is sent verbatim in a header or the query. */
static bool valid_token(const char *s)
{
	return visible_chars(s, SIGV4_MAX_FIELD, "");
}

/* Host as it appears in Host: name, IPv4, [IPv6], optional :port. */
static bool valid_host(const char *s)
{
	return plain_chars(s, SIGV4_MAX_HOST, "-._:[]");
}

/*
 * Lowercase hex SHA-256, or a literal such as UNSIGNED-PAYLOAD or the
 * STREAMING-* values (upper case, with a '-', so an upper-case hex digest
 * is refused rather than signed wrong): it ends the canonical request and
 * may be sent as x-amz-content-sha256, so nothing else is let through.
 */
static bool valid_payload_hash(const char *s)
{
	size_t n = sigv4_bounded_len(s, SIGV4_HEX_SHA256_LEN);
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

static void encode_into(struct sigv4_buf *b, const char *in, size_t n, bool slash_too)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n && !b->err; i++) {
		unsigned char c = in[i];

		if (is_unreserved(c) || (c == '/' && !slash_too)) {
			sigv4_buf_addc(b, c);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			sigv4_buf_addn(b, e, 3);
		}
	}
}

int sigv4_uri_encode(const char *in, bool slash_too, char **out)
{
	struct sigv4_buf b = { 0 };
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
	return sigv4_buf_take(&b, out);
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
int sigv4_canonical_uri(const char *path, bool once, struct sigv4_buf *out)
{
	struct seg {
		const char *s;
		size_t n;
	} *segs = NULL;
	size_t n, count = 0, max_segs;
	const char *p, *end;

	if (!path || !*path) {
		sigv4_buf_addc(out, '/');
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

	sigv4_buf_addc(out, '/');
	for (size_t i = 0; i < count && !out->err; i++) {
		struct sigv4_buf once_enc = { 0 };

		if (i)
			sigv4_buf_addc(out, '/');
		encode_into(&once_enc, segs[i].s, segs[i].n, true);
		if (once_enc.err) {
			out->err = once_enc.err;
		} else if (once_enc.len) {
			encode_into(out, once_enc.p, once_enc.len, true);
		}
		sigv4_buf_free(&once_enc);
	}
	if (count && path[n - 1] == '/')
		sigv4_buf_addc(out, '/');
	free(segs);
	return out->err;
}

/* ---- canonical query ---- */

/* A query parameter (encoded) or a header (name lowercased, value trimmed), owned. */
struct canon_pair {
	char *name;
	char *value;
	size_t order;   /* headers: the caller's order */
};

static void pairs_free(struct canon_pair *p, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(p[i].name);
		free(p[i].value);
	}
	free(p);
}

static int cmp_qparam(const void *a, const void *b)
{
	const struct canon_pair *x = a, *y = b;
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
int sigv4_canonical_query(const struct sigv4_pair *q, size_t nq, const struct sigv4_pair *extra,
			  size_t nextra, struct sigv4_buf *out)
{
	size_t total = nq + nextra;
	struct canon_pair *qp;
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
			sigv4_buf_addc(out, '&');
		sigv4_buf_adds(out, qp[i].name);
		sigv4_buf_addc(out, '=');
		sigv4_buf_adds(out, qp[i].value);
	}
	ret = out->err;
out:
	pairs_free(qp, total);
	return ret;
}

/* ---- canonical headers ---- */

static int cmp_hdr(const void *a, const void *b)
{
	const struct canon_pair *x = a, *y = b;
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
int sigv4_canonical_headers(const struct sigv4_request *req, const struct sigv4_scope *scope,
			    const char *amz_date, bool query_auth, struct sigv4_buf *canon,
			    struct sigv4_buf *signed_list)
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
	struct canon_pair *h;
	int ret = 0;

	h = calloc(total, sizeof(*h));
	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < req->header_count; i++) {
		const struct sigv4_pair *pair = &req->headers[i];
		struct canon_pair *e = &h[count];

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
		struct canon_pair *e = &h[count];

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
				sigv4_buf_addc(signed_list, ';');
			sigv4_buf_adds(signed_list, h[i].name);
			sigv4_buf_adds(canon, h[i].name);
			sigv4_buf_addc(canon, ':');
		} else {
			/* Repeated header: values joined with ',' in the order given. */
			sigv4_buf_addc(canon, ',');
		}
		sigv4_buf_adds(canon, h[i].value);
		if (last)
			sigv4_buf_addc(canon, '\n');
	}
	ret = canon->err ? canon->err : signed_list->err;
out:
	pairs_free(h, total);
	return ret;
}

/* ---- checks shared by the entry points ---- */

int sigv4_check_scope(const struct sigv4_scope *scope)
{
	if (!scope || !valid_scope_part(scope->region) || !valid_scope_part(scope->service))
		return -EINVAL;
	return 0;
}

int sigv4_check_request(const struct sigv4_request *req, const struct sigv4_pair *extra,
			size_t nextra)
{
	size_t budget = SIGV4_MAX_INPUT, path_len = 0;
	int ret;

	if (!req || !sigv4_bounded_len(req->method, SIGV4_MAX_SHORT) || !all_tchar(req->method) ||
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

/* Years past 9999 would not fit the format. */
int sigv4_format_amz_date(time_t now, char out[17])
{
	return timefmt_compact(now, out, 17);
}

int sigv4_check_amz_date(const struct sigv4_scope *scope, const char *amz_date)
{
	char want[17];
	int ret = sigv4_format_amz_date(scope->now, want);

	if (ret)
		return ret;
	if (!amz_date || strcmp(amz_date, want))
		return -EINVAL;
	return 0;
}

int sigv4_check_credentials(const struct sigv4_credentials *cred)
{
	if (!cred || !valid_key_id(cred->access_key_id) ||
	    !sigv4_bounded_len(cred->secret_access_key, SIGV4_MAX_SECRET))
		return -EINVAL;
	if (cred->session_token && !valid_token(cred->session_token))
		return -EINVAL;
	return 0;
}

/*
 * Query (presigned) auth when extra_query is given: X-Amz-Date is then a
 * query parameter, so neither x-amz-date nor x-amz-content-sha256 becomes
 * a header. Header auth otherwise.
 */
int sigv4_canonical_request(const struct sigv4_request *req, const struct sigv4_scope *scope,
			    const char *amz_date, const struct sigv4_pair *extra_query,
			    size_t extra_query_count, char **out, char **signed_headers)
{
	struct sigv4_buf cr = { 0 }, hdrs = { 0 }, list = { 0 };
	bool query_auth = extra_query_count > 0;
	int ret;

	if (!out || !signed_headers)
		return -EINVAL;
	*out = *signed_headers = NULL;
	ret = sigv4_check_scope(scope);
	if (!ret)
		ret = sigv4_check_amz_date(scope, amz_date);
	if (!ret)
		ret = sigv4_check_request(req, extra_query, extra_query_count);
	if (ret)
		return ret;

	sigv4_buf_adds(&cr, req->method);
	sigv4_buf_addc(&cr, '\n');
	ret = sigv4_canonical_uri(req->path, scope->s3, &cr);
	if (ret)
		goto out;
	sigv4_buf_addc(&cr, '\n');
	ret = sigv4_canonical_query(req->query, req->query_count, extra_query, extra_query_count,
				    &cr);
	if (ret)
		goto out;
	sigv4_buf_addc(&cr, '\n');
	ret = sigv4_canonical_headers(req, scope, amz_date, query_auth, &hdrs, &list);
	if (ret)
		goto out;
	sigv4_buf_addn(&cr, hdrs.p, hdrs.len);
	sigv4_buf_addc(&cr, '\n');
	sigv4_buf_addn(&cr, list.p, list.len);
	sigv4_buf_addc(&cr, '\n');
	sigv4_buf_adds(&cr, req->payload_hash);
	ret = sigv4_buf_take(&cr, out);
	if (!ret) {
		ret = sigv4_buf_take(&list, signed_headers);
		if (ret) {
			free(*out);
			*out = NULL;
		}
	}
out:
	sigv4_buf_free(&cr);
	sigv4_buf_free(&hdrs);
	sigv4_buf_free(&list);
	return ret;
}
