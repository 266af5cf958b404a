// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer: the Lambda Runtime API's next invocation as the controller
 * takes it in: the request id and deadline out of the headers, the event
 * body gathered in the pieces curl hands over (bounded), then parsed as the
 * event, as the lambda command does.
 * Input: one byte choosing the piece size and how often the body repeats,
 * the header lines, a blank line, the body.
 */
#include "aws/lambda_runtime.h"
#include "response/events.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lambda_invocation inv = { 0 };
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
		if (lambda_runtime_header(copy, 1, n, &inv) != n)
			abort();
		free(copy);
		line += n;
	}
	if (strnlen(inv.request_id, sizeof(inv.request_id)) == sizeof(inv.request_id) ||
	    strpbrk(inv.request_id, "\r\n") || inv.deadline_ms < 0)
		abort();
	body_len = (size_t)(end - body);
	for (size_t k = 0; k < repeats; k++)
		for (size_t off = 0; off < body_len; off += piece) {
			size_t n = body_len - off < piece ? body_len - off : piece;

			if (lambda_runtime_body((char *)body + off, 1, n, &inv) != n)
				goto out;
		}
	expected = body_len * repeats;
	if (inv.len > LAMBDA_EVENT_MAX ||
	    (!inv.overflow && (inv.len != expected || (inv.body && inv.body[inv.len]))) ||
	    (inv.overflow && expected <= LAMBDA_EVENT_MAX))
		abort();
	if (!inv.overflow) {
		struct event_request ev;
		char why[256];

		(void)event_parse(inv.body ? inv.body : "", inv.len, &ev, why, sizeof(why));
	}
out:
	lambda_invocation_free(&inv);
	return 0;
}
