// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer: the Lambda Runtime API's next invocation as the controller
 * takes it in: the request id out of the headers, the event body gathered
 * in the pieces curl hands over (bounded), then parsed as the event.
 * Input: one byte choosing the piece size and how often the body repeats,
 * the header lines, a blank line, the body.
 */
#include "base/log.h"
#include "response/events.h"
#include "../../controller/lambda.c"

#include <errno.h>
#include <string.h>
#include <stdint.h>

/* lambda_main()'s only way out to the response; the event is what we parse. */
int event_run(const char *body, size_t len, const char *role_name, int argc, char *argv[])
{
	struct event_request ev;
	char why[256];

	return event_parse(body, len, &ev, why, sizeof(why)) ? EXIT_EVENT : EXIT_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reply r = { 0 };
	const char *text, *end, *line, *body;
	size_t piece, repeats, body_len, expected;

	if (!size)
		return 0;
	piece = 1 + (data[0] & 0x1f) * 97;
	repeats = 1 + (data[0] >> 5);
	text = (const char *)data + 1;
	end = text + size - 1;
	body = memmem(text, (size_t)(end - text), "\r\n\r\n", 4);
	body = body ? body + 4 : end;
	/* curl: one call per header line, its CRLF included, not NUL-terminated. */
	for (line = text; line < body;) {
		const char *nl = memchr(line, '\n', (size_t)(body - line));
		size_t n = nl ? (size_t)(nl - line) + 1 : (size_t)(body - line);
		char *copy = malloc(n);

		if (!copy)
			goto out;
		memcpy(copy, line, n);
		if (on_header(copy, 1, n, &r) != n)
			abort();
		free(copy);
		line += n;
	}
	if (strnlen(r.request_id, sizeof(r.request_id)) == sizeof(r.request_id) ||
	    strpbrk(r.request_id, "\r\n"))
		abort();
	body_len = (size_t)(end - body);
	for (size_t k = 0; k < repeats; k++)
		for (size_t off = 0; off < body_len; off += piece) {
			size_t n = body_len - off < piece ? body_len - off : piece;

			if (on_body((char *)body + off, 1, n, &r) != n)
				goto out;
		}
	expected = body_len * repeats;
	if (!r.overflow && (r.len != expected || (r.body && r.body[r.len])))
		abort();
	if (!r.overflow)
		(void)event_run(r.body ? r.body : "", r.len, "forensics-response", 0, NULL);
out:
	free(r.body);
	return 0;
}
