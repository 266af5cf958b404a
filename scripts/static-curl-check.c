// SPDX-License-Identifier: GPL-2.0-only
/*
 * static-curl-check: self-test for the static libcurl that
 * scripts/build-curl.sh builds.
 *
 * Linked fully static (gcc -static ... libcurl.a -lcares -lssl -lcrypto),
 * it proves that:
 *   - libcurl initialises and reports an OpenSSL TLS backend;
 *   - name resolution goes through c-ares (AsynchDNS, ares version set), so
 *     a static binary never needs glibc's NSS plugins (libnss_*.so) for DNS.
 *     A host name is really resolved by c-ares: libcurl is pointed with
 *     CURLOPT_DNS_SERVERS (c-ares only) at a tiny DNS server that this
 *     program runs on 127.0.0.1, and that server must have been asked;
 *   - CURLOPT_AWS_SIGV4 is accepted and really signs a request: a GET is
 *     sent to a tiny HTTP server on 127.0.0.1 run by this program, and the
 *     request it receives must carry "Authorization: AWS4-HMAC-SHA256";
 *   - https:// goes through OpenSSL: the same server must receive a TLS
 *     ClientHello carrying the host name (SNI); the handshake then fails,
 *     as the server speaks plain HTTP.
 * Nothing leaves the machine: both servers listen on 127.0.0.1 only, serve
 * one run and stop after 10 s at the latest.
 *
 * Exit status 0 when every check passes, 1 otherwise.
 * Set STATIC_CURL_CHECK_VERBOSE=1 for libcurl's verbose trace on stderr.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <curl/curl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SELFTEST_HOST "forensics-selftest.test"

static int failures;

static void check(int ok, const char *what)
{
	printf("%-44s %s\n", what, ok ? "ok" : "FAILED");
	if (!ok)
		failures++;
}

struct request {
	char buf[8192];
	size_t len;
};

struct servers {
	int dns;                /* UDP socket, 127.0.0.1 */
	int http;               /* listening TCP socket, 127.0.0.1 */
	int dns_answered;       /* A queries answered */
	struct request req[2];  /* what the first two TCP connections sent */
	int conns;
};

/*
 * Answer one DNS query: A queries for any name get 127.0.0.1, other types
 * an empty NOERROR answer. Returns 0 to go on, -1 on a stop datagram.
 */
static int dns_answer(struct servers *s)
{
	unsigned char q[512], a[600];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(s->dns, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);

	if (n < 12)
		return -1; /* stop request (or garbage) */
	size_t off = 12;
	while (off < (size_t)n && q[off] != 0)
		off += (size_t)q[off] + 1;
	off += 1 + 4; /* root label, QTYPE, QCLASS */
	if (off > (size_t)n)
		return 0;
	int is_a = q[off - 4] == 0 && q[off - 3] == 1;
	memcpy(a, q, off);
	a[2] = 0x84 | (q[2] & 0x01); /* QR, AA, copy RD */
	a[3] = 0x80;                 /* RA, NOERROR */
	a[4] = 0, a[5] = 1;          /* QDCOUNT 1 */
	a[6] = 0, a[7] = (unsigned char)is_a; /* ANCOUNT */
	memset(a + 8, 0, 4);         /* NSCOUNT, ARCOUNT */
	size_t len = off;
	if (is_a) {
		static const unsigned char rr[] = {
			0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1
		};
		memcpy(a + len, rr, sizeof(rr));
		len += sizeof(rr);
		s->dns_answered++;
	}
	sendto(s->dns, a, len, 0, (struct sockaddr *)&from, fl);
	return 0;
}

/*
 * Take one TCP connection: read an HTTP request head (or the first bytes of
 * a TLS ClientHello), answer "200 OK" in plain HTTP, close.
 */
static void http_answer(struct servers *s)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
				   "Connection: close\r\n\r\nok";
	static struct request spare;
	int c = accept(s->http, NULL, NULL);

	if (c < 0)
		return;
	struct request *q = s->conns < 2 ? &s->req[s->conns] : &spare;
	s->conns++;
	q->len = 0;
	while (q->len < sizeof(q->buf) - 1) {
		struct pollfd p = { .fd = c, .events = POLLIN };
		if (poll(&p, 1, 5000) <= 0)
			break;
		ssize_t r = read(c, q->buf + q->len, sizeof(q->buf) - 1 - q->len);
		if (r <= 0)
			break;
		q->len += (size_t)r;
		q->buf[q->len] = '\0';
		if (q->buf[0] == 0x16 || strstr(q->buf, "\r\n\r\n"))
			break; /* TLS handshake record, or a full HTTP head */
	}
	if (write(c, resp, sizeof(resp) - 1) < 0)
		perror("static-curl-check: write");
	close(c);
}

static void *server_thread(void *arg)
{
	struct servers *s = arg;

	for (int rounds = 0; rounds < 64; rounds++) {
		struct pollfd p[2] = {
			{ .fd = s->dns, .events = POLLIN },
			{ .fd = s->http, .events = POLLIN },
		};
		if (poll(p, 2, 10000) <= 0)
			break;
		if ((p[0].revents & POLLIN) && dns_answer(s) < 0)
			break;
		if (p[1].revents & POLLIN)
			http_answer(s);
	}
	return NULL;
}

static int loopback_socket(int type, struct sockaddr_in *sa)
{
	socklen_t sl = sizeof(*sa);
	int fd = socket(AF_INET, type, 0);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)sa, sizeof(*sa)) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 4) != 0) ||
	    getsockname(fd, (struct sockaddr *)sa, &sl) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static size_t discard_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	(void)ptr;
	(void)userdata;
	return size * nmemb;
}

/*
 * A SigV4-signed GET of http://SELFTEST_HOST:<port>/bucket/key, then an
 * https:// GET of the same plain-HTTP server: libcurl must send a TLS
 * ClientHello with the server name (SNI) and fail the handshake.
 */
static void sigv4_request_check(void)
{
	static struct servers s = { .dns = -1, .http = -1 };
	struct sockaddr_in dns_sa, http_sa;
	pthread_t tid;
	char servers[64], url[128];
	CURLcode rc;

	s.dns = loopback_socket(SOCK_DGRAM, &dns_sa);
	s.http = loopback_socket(SOCK_STREAM, &http_sa);
	if (s.dns < 0 || s.http < 0 || pthread_create(&tid, NULL, server_thread, &s) != 0) {
		check(0, "local DNS/HTTP test servers");
		goto close;
	}
	snprintf(servers, sizeof(servers), "127.0.0.1:%u", ntohs(dns_sa.sin_port));
	snprintf(url, sizeof(url), "http://%s:%u/bucket/key", SELFTEST_HOST,
		 ntohs(http_sa.sin_port));

	CURL *h = curl_easy_init();
	if (!h) {
		check(0, "curl_easy_init");
		goto stop;
	}
	rc = curl_easy_setopt(h, CURLOPT_DNS_SERVERS, servers);
	check(rc == CURLE_OK, "setopt CURLOPT_DNS_SERVERS (c-ares only)");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_IPRESOLVE, (long)CURL_IPRESOLVE_V4);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_cb);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	if (getenv("STATIC_CURL_CHECK_VERBOSE"))
		curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(h, CURLOPT_USERPWD, "AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG");
	rc = curl_easy_setopt(h, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:s3");
	check(rc == CURLE_OK, "setopt CURLOPT_AWS_SIGV4 == CURLE_OK");

	rc = curl_easy_perform(h);
	if (rc != CURLE_OK)
		printf("  curl_easy_perform: %s\n", curl_easy_strerror(rc));
	long code = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	check(rc == CURLE_OK && code == 200, "GET to local HTTP server, 200");

	snprintf(url, sizeof(url), "https://%s:%u/", SELFTEST_HOST,
		 ntohs(http_sa.sin_port));
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, NULL);
	curl_easy_setopt(h, CURLOPT_USERPWD, NULL);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L); /* no CA file needed */
	rc = curl_easy_perform(h);
	printf("  https to a plain HTTP server: %s\n", curl_easy_strerror(rc));
	check(rc == CURLE_SSL_CONNECT_ERROR, "TLS handshake attempted (OpenSSL)");
	curl_easy_cleanup(h);

stop:
	{
		/* a datagram shorter than a DNS header stops the server thread */
		int fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd >= 0) {
			sendto(fd, "x", 1, 0, (struct sockaddr *)&dns_sa, sizeof(dns_sa));
			close(fd);
		}
		pthread_join(tid, NULL);
	}
	printf("  DNS A queries answered: %d\n", s.dns_answered);
	check(s.dns_answered > 0, SELFTEST_HOST " resolved by c-ares (DNS)");
	check(strstr(s.req[0].buf, "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") != NULL,
	      "request signed with AWS4-HMAC-SHA256");
	check(strcasestr(s.req[0].buf, "x-amz-date:") != NULL, "request has X-Amz-Date");
	check(s.req[1].len > 5 && s.req[1].buf[0] == 0x16 && s.req[1].buf[5] == 0x01 &&
	      memmem(s.req[1].buf, s.req[1].len, SELFTEST_HOST, strlen(SELFTEST_HOST)) != NULL,
	      "TLS ClientHello with SNI sent");
close:
	if (s.dns >= 0)
		close(s.dns);
	if (s.http >= 0)
		close(s.http);
}

int main(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "curl_global_init failed\n");
		return 1;
	}
	curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);

	printf("libcurl version: %s\n", vi->version);
	printf("ssl_version:     %s\n", vi->ssl_version ? vi->ssl_version : "(none)");
	printf("ares:            %s\n", vi->ares ? vi->ares : "(none)");
	printf("cainfo:          %s\n", vi->cainfo ? vi->cainfo : "(none)");
	printf("capath:          %s\n", vi->capath ? vi->capath : "(none)");
	printf("protocols:      ");
	for (const char *const *p = vi->protocols; p && *p; p++)
		printf(" %s", *p);
	printf("\n");

	check(vi->ssl_version && strncmp(vi->ssl_version, "OpenSSL/", 8) == 0,
	      "TLS backend is OpenSSL");
	check((vi->features & CURL_VERSION_SSL) != 0, "feature SSL");
	check((vi->features & CURL_VERSION_ASYNCHDNS) != 0, "feature AsynchDNS");
	check(vi->ares != NULL, "resolver is c-ares (ares version set)");

	sigv4_request_check();

	curl_global_cleanup();
	if (failures) {
		printf("static-curl-check: %d check(s) FAILED\n", failures);
		return 1;
	}
	printf("static-curl-check: all checks passed\n");
	return 0;
}
