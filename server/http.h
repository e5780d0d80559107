/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server/http.h - HTTP responses: status lines, the Date cache, JSON errors
 *
 * A response is a head built here into the connection's head buffer and
 * a body the handler rendered; the connection sends both with one writev.
 * The Date value is formatted at most once a second per process.
 *
 * Loop thread only (the Date cache is per process, unlocked).
 */
#ifndef SERVER_HTTP_H
#define SERVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SRV_HTTP_HEAD_MAX 1024 /* room for a response head */

/* the reason phrase of @status ("Not Found"), "Unknown" if none */
const char *srv_http_reason(int status);

/* "Tue, 24 Nov 2026 03:56:24 GMT" for now, refreshed once a second */
const char *srv_http_date(void);

/*
 * srv_http_error_code - the JSON "code" DESIGN.md gives an HTTP-level
 * error status (400 -> "bad_request", 404 -> "not_found", ...)
 */
const char *srv_http_error_code(int status);

struct srv_http_resp {
	int status;
	const char *content_type; /* borrowed; NULL = no body type */
	uint64_t content_length;
	bool keep_alive;
	bool head_only;	   /* HEAD: send headers, no body */
	const char *extra; /* borrowed: more header lines, each ending
				 * "\r\n" (Allow, Retry-After, Link), or NULL */
};

/**
 * srv_http_head - build a response head
 * @r:    what to say
 * @buf:  SRV_HTTP_HEAD_MAX bytes
 *
 * Returns the length of the head.  The head always carries Date,
 * Content-Length and Connection (keep-alive or close).
 */
size_t srv_http_head(const struct srv_http_resp *r, char *buf);

/**
 * srv_http_error_body - the JSON error body of DESIGN.md
 * @buf, @size: output ({"error":{"code":"...","message":"..."}})
 * @code:       machine-readable code, e.g. "not_found"
 * @message:    a sentence for people; JSON-escaped here
 *
 * Returns the body's length (truncated to @size - 1, never a broken
 * string: the message is shortened first).
 */
size_t srv_http_error_body(char *buf, size_t size, const char *code,
			   const char *message);

#endif /* SERVER_HTTP_H */
