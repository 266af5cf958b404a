// SPDX-License-Identifier: GPL-2.0-only
/*
 * AWS Signature Version 4 signing, on the canonical request
 * (sigv4_canonical.c):
 *
 *   StringToSign     = "AWS4-HMAC-SHA256" \n AmzDate \n Scope \n hex(SHA256(CR))
 *   SigningKey       = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date), region),
 *                           service), "aws4_request")
 *
 * as an Authorization header or as a presigned URL's query.
 */
#include "aws/sigv4.h"
#include "aws/sigv4_canonical.h"
#include "base/encode.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR "aws4_request"

/* The credential scope, "20150830/us-east-1/iam/aws4_request". */
static void add_scope(struct sigv4_buf *b, const char *amz_date, const struct sigv4_scope *scope)
{
	sigv4_buf_addn(b, amz_date, 8);
	sigv4_buf_addc(b, '/');
	sigv4_buf_adds(b, scope->region);
	sigv4_buf_addc(b, '/');
	sigv4_buf_adds(b, scope->service);
	sigv4_buf_adds(b, "/" SIGV4_TERMINATOR);
}

int sigv4_string_to_sign(const char *canonical_request, const struct sigv4_scope *scope,
			 const char *amz_date, char **out)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	char hex[SIGV4_HEX_SHA256_LEN + 1];
	unsigned int dlen = 0;
	struct sigv4_buf b = { 0 };
	size_t n;
	int ret;

	if (!out)
		return -EINVAL;
	*out = NULL;
	ret = sigv4_check_scope(scope);
	if (!ret)
		ret = sigv4_check_amz_date(scope, amz_date);
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

	sigv4_buf_adds(&b, SIGV4_ALGORITHM "\n");
	sigv4_buf_adds(&b, amz_date);
	sigv4_buf_addc(&b, '\n');
	add_scope(&b, amz_date, scope);
	sigv4_buf_addc(&b, '\n');
	sigv4_buf_adds(&b, hex);
	return sigv4_buf_take(&b, out);
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
	ret = sigv4_check_scope(scope);
	if (!ret)
		ret = sigv4_format_amz_date(scope->now, amz_date);
	if (ret)
		return ret;
	secret_len = sigv4_bounded_len(secret_access_key, SIGV4_MAX_SECRET);
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
	struct sigv4_buf auth = { 0 };
	int ret;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	ret = sigv4_check_credentials(cred);
	if (!ret)
		ret = sigv4_check_scope(scope);
	if (!ret)
		ret = sigv4_format_amz_date(scope->now, out->amz_date);
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

	sigv4_buf_adds(&auth, SIGV4_ALGORITHM " Credential=");
	sigv4_buf_adds(&auth, cred->access_key_id);
	sigv4_buf_addc(&auth, '/');
	add_scope(&auth, out->amz_date, scope);
	sigv4_buf_adds(&auth, ", SignedHeaders=");
	sigv4_buf_adds(&auth, signed_list);
	sigv4_buf_adds(&auth, ", Signature=");
	sigv4_buf_adds(&auth, sig);
	ret = sigv4_buf_take(&auth, &out->authorization);
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
	struct sigv4_buf hdrs = { 0 }, lst = { 0 }, cred_b = { 0 }, u = { 0 };
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
	ret = sigv4_check_credentials(cred);
	if (!ret)
		ret = sigv4_check_scope(scope);
	if (!ret)
		ret = sigv4_format_amz_date(scope->now, amz_date);
	if (ret)
		return ret;

	r = *req;
	if (scope->s3 || !r.payload_hash)
		r.payload_hash = SIGV4_UNSIGNED_PAYLOAD;
	ret = sigv4_check_request(&r, NULL, 0);
	if (ret)
		return ret;
	/* Our parameters must be the only ones of their name. */
	for (size_t i = 0; i < r.query_count; i++)
		for (size_t j = 0; presign_params[j]; j++)
			if (!strcasecmp(r.query[i].name, presign_params[j]))
				return -EINVAL;

	/* X-Amz-SignedHeaders is itself signed: the list is needed first. */
	ret = sigv4_canonical_headers(&r, scope, amz_date, true, &hdrs, &lst);
	if (!ret)
		ret = sigv4_buf_take(&lst, &list);
	if (ret)
		goto out;

	sigv4_buf_adds(&cred_b, cred->access_key_id);
	sigv4_buf_addc(&cred_b, '/');
	add_scope(&cred_b, amz_date, scope);
	ret = sigv4_buf_take(&cred_b, &credential);
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
	sigv4_buf_adds(&u, scheme);
	sigv4_buf_adds(&u, "://");
	sigv4_buf_adds(&u, r.host);
	ret = sigv4_canonical_uri(r.path, true, &u);
	if (ret)
		goto out;
	sigv4_buf_addc(&u, '?');
	ret = sigv4_canonical_query(r.query, r.query_count, extra, nextra, &u);
	if (ret)
		goto out;
	sigv4_buf_adds(&u, "&X-Amz-Signature=");
	sigv4_buf_adds(&u, sig);
	ret = sigv4_buf_take(&u, url);
out:
	sigv4_buf_free(&hdrs);
	sigv4_buf_free(&lst);
	sigv4_buf_free(&cred_b);
	sigv4_buf_free(&u);
	free(credential);
	free(list);
	free(list2);
	free(creq);
	free(sts);
	return ret;
}
