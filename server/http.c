// SPDX-License-Identifier: BSD-2-Clause
/*
 * server/http.c - response heads, reason phrases, Date, JSON error bodies
 *
 * Response heads are small and fixed in shape, so they are formatted with
 * one snprintf into the connection's head buffer; the Date value comes
 * from a per-process cache refreshed when the second changes (nginx's
 * cached time), so the hot path formats no time.
 */
#include "server/http.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"

static const struct {
	int status;
	const char *reason;
	const char *code;
} srv_http_statuses[] = {
	{ 100, "Continue", NULL },
	{ 200, "OK", NULL },
	{ 201, "Created", NULL },
	{ 204, "No Content", NULL },
	{ 400, "Bad Request", "bad_request" },
	{ 401, "Unauthorized", "unauthorized" },
	{ 403, "Forbidden", "forbidden" },
	{ 404, "Not Found", "not_found" },
	{ 405, "Method Not Allowed", "method_not_allowed" },
	{ 408, "Request Timeout", "timeout" },
	{ 409, "Conflict", "conflict" },
	{ 413, "Content Too Large", "too_large" },
	{ 415, "Unsupported Media Type", "unsupported_media_type" },
	{ 417, "Expectation Failed", "expectation_failed" },
	{ 422, "Unprocessable Content", "unprocessable" },
	{ 431, "Request Header Fields Too Large", "headers_too_large" },
	{ 500, "Internal Server Error", "internal" },
	{ 501, "Not Implemented", "not_implemented" },
	{ 503, "Service Unavailable", "unavailable" },
	{ 505, "HTTP Version Not Supported", "version_not_supported" },
};

static int srv_http_find(int status)
{
	unsigned int i;

	for (i = 0;
	     i < sizeof(srv_http_statuses) / sizeof(srv_http_statuses[0]);
	     i++) {
		if (srv_http_statuses[i].status == status)
			return (int)i;
	}
	return -1;
}

const char *srv_http_reason(int status)
{
	int i = srv_http_find(status);

	return i < 0 ? "Unknown" : srv_http_statuses[i].reason;
}

const char *srv_http_error_code(int status)
{
	int i = srv_http_find(status);

	if (i < 0 || !srv_http_statuses[i].code)
		return status >= 500 ? "internal" : "bad_request";
	return srv_http_statuses[i].code;
}

const char *srv_http_date(void)
{
	static char date[40];
	static time_t cached = -1;
	time_t now = (time_t)(clock_real_ns() / CLOCK_NS_PER_S);
	struct tm tm;

	if (now != cached) {
		gmtime_r(&now, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		cached = now;
	}
	return date;
}

size_t srv_http_head(const struct srv_http_resp *r, char *buf)
{
	int n;

	n = snprintf(buf, SRV_HTTP_HEAD_MAX,
		     "HTTP/1.1 %d %s\r\n"
		     "Server: poold\r\n"
		     "Date: %s\r\n"
		     "%s%s%s"
		     "Content-Length: %" PRIu64 "\r\n"
		     "Connection: %s\r\n"
		     "%s"
		     "\r\n",
		     r->status, srv_http_reason(r->status), srv_http_date(),
		     r->content_type ? "Content-Type: " : "",
		     r->content_type ? r->content_type : "",
		     r->content_type ? "\r\n" : "", r->content_length,
		     r->keep_alive ? "keep-alive" : "close",
		     r->extra ? r->extra : "");
	if (n < 0)
		return 0;
	return (size_t)n < SRV_HTTP_HEAD_MAX ? (size_t)n :
					       SRV_HTTP_HEAD_MAX - 1;
}

/* append @s JSON-escaped; stop (whole escapes only) before @end */
static char *srv_http_json_str(char *p, char *end, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c;

	for (; *s; s++) {
		c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			if (end - p < 2)
				break;
			*p++ = '\\';
			*p++ = (char)c;
		} else if (c < 0x20) {
			if (end - p < 6)
				break;
			memcpy(p, "\\u00", 4);
			p[4] = hex[c >> 4];
			p[5] = hex[c & 15];
			p += 6;
		} else {
			if (end - p < 1)
				break;
			*p++ = (char)c;
		}
	}
	return p;
}

size_t srv_http_error_body(char *buf, size_t size, const char *code,
			   const char *message)
{
	static const char tail[] = "\"}}\n";
	char *p = buf, *end;
	int n;

	n = snprintf(buf, size, "{\"error\":{\"code\":\"%s\",\"message\":\"",
		     code);
	if (n < 0 || (size_t)n + sizeof(tail) > size)
		return 0;
	p += n;
	end = buf + size - sizeof(tail);
	p = srv_http_json_str(p, end, message);
	memcpy(p, tail, sizeof(tail));
	return (size_t)(p - buf) + sizeof(tail) - 1;
}
