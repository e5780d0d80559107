/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server/http_parse.h - the HTTP/1.1 request parser (RFC 9112)
 *
 * Zero-copy and allocation-free: every string in a parsed request points
 * into the caller's buffer, which must stay unchanged while they are used.
 * Incremental: the caller appends bytes as they arrive and calls again; the
 * parser remembers how far it has searched for the end of the head, so a
 * request that arrives one byte at a time costs O(n) in total.
 *
 * The parser faces the network: it never reads outside [buf, buf + len),
 * never allocates, never asserts on input, and rejects anything ambiguous
 * (request smuggling vectors) rather than guessing.
 *
 * Pure functions over caller-owned state; safe in any thread.
 */
#ifndef SERVER_HTTP_PARSE_H
#define SERVER_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SRV_HTTP_MAX_HEADERS 64 /* more header fields -> 431 */
#define SRV_HTTP_MAX_METHOD \
	32 /* a longer method token -> 400 (501 is not ours to say) */

enum srv_http_method {
	SRV_HTTP_OTHER =
		0, /* any other valid token, kept in method/method_len */
	SRV_HTTP_GET,
	SRV_HTTP_HEAD,
	SRV_HTTP_POST,
	SRV_HTTP_PUT,
	SRV_HTTP_DELETE,
	SRV_HTTP_PATCH,
	SRV_HTTP_OPTIONS,
};

struct srv_http_header {
	const char *name; /* borrowed; as received, compare case-insensitively */
	size_t name_len;
	const char *value; /* borrowed; leading and trailing OWS removed */
	size_t value_len;
};

struct srv_http_request {
	enum srv_http_method method;
	const char *method_str; /* borrowed */
	size_t method_len;
	const char *target; /* borrowed: the request-target as received */
	size_t target_len;
	const char *path; /* borrowed: raw (not decoded) path, starts with '/';
				 * for absolute-form, the path part of the URI;
				 * for asterisk-form (OPTIONS *), "*" */
	size_t path_len;
	const char *query; /* borrowed: raw query after '?', NULL if no '?' */
	size_t query_len;
	int minor_version; /* 0 = HTTP/1.0, 1 = HTTP/1.1 */

	struct srv_http_header headers[SRV_HTTP_MAX_HEADERS];
	unsigned int nheaders;

	/* derived from the header fields */
	bool keep_alive;      /* 1.1 unless "Connection: close"; 1.0 only with
				 * "Connection: keep-alive" */
	bool chunked;	      /* Transfer-Encoding: chunked */
	bool expect_continue; /* Expect: 100-continue */
	bool has_content_length;
	uint64_t content_length;  /* when has_content_length */
	const char *content_type; /* borrowed: value of Content-Type, or NULL */
	size_t content_type_len;
	const char *host; /* borrowed: value of Host, or NULL (1.0 only) */
	size_t host_len;

	size_t head_len; /* bytes of request line + fields + empty line */
};

/* incremental state for one request head */
struct srv_http_parser {
	size_t scanned; /* bytes already searched for the end of the head */
};

void srv_http_parser_init(struct srv_http_parser *p);

/**
 * srv_http_parse_head - parse a request head at the start of a buffer
 * @p:        state kept between calls for the same request (init first)
 * @buf:      the bytes received so far for this request
 * @len:      their number; it only grows between calls for one request
 * @max_head: max_header_bytes: a head longer than this -> 431
 * @req:      filled when the head is complete
 * @status:   set to the HTTP status on -EBADMSG (400, 417, 431, 501, 505)
 *
 * Returns the length of the head (> 0), -EAGAIN when the head is not
 * complete yet, or -EBADMSG when the request must be rejected (the
 * connection is then closed after the error response).
 */
ssize_t srv_http_parse_head(struct srv_http_parser *p, const char *buf,
			    size_t len, size_t max_head,
			    struct srv_http_request *req, int *status);

/*
 * srv_http_header_find - the value of the first header field named @name
 * (case-insensitive), or NULL; its length in *@len.
 */
const char *srv_http_header_find(const struct srv_http_request *req,
				 const char *name, size_t *len);

/* incremental state for a chunked request body */
struct srv_http_chunked {
	int state;	     /* private */
	uint64_t chunk_left; /* private: bytes left in the current chunk */
	uint64_t total;	     /* decoded body bytes so far */
	uint64_t max_body;   /* a body longer than this -> -EMSGSIZE */
	unsigned int digits; /* private */
	size_t line_len; /* private: bytes of the current size/trailer line */
};

void srv_http_chunked_init(struct srv_http_chunked *d, uint64_t max_body);

/**
 * srv_http_chunked_decode - decode a chunked body in place
 * @d:   state kept between calls for one body
 * @buf: bytes received and not yet decoded
 * @len: in: their number; out: the number of decoded body bytes now at
 *       the start of @buf (they are appended to what earlier calls gave)
 *
 * Returns -EAGAIN when the body is not complete yet (call again with more
 * bytes placed right after the decoded ones), the number of bytes after
 * the end of the body that were not consumed (>= 0: the start of a
 * pipelined request, found at @buf + original len - return value),
 * -EBADMSG on a malformed body (400), or -EMSGSIZE when the decoded body
 * exceeds max_body (413).  Chunk extensions and trailer fields are
 * checked for syntax and discarded.
 */
ssize_t srv_http_chunked_decode(struct srv_http_chunked *d, char *buf,
				size_t *len);

/* a decoded string, pointing into the caller's output buffer */
struct srv_http_str {
	const char *p; /* borrowed */
	size_t len;
};

/**
 * srv_http_path_split - split a raw path on '/' and percent-decode each segment
 * @path, @len: the raw path, starting with '/'
 * @out:        receives the decoded segments back to back (@len bytes are
 *              always enough)
 * @segs:       one entry per segment, pointing into @out
 * @max_segs:   capacity of @segs
 * @nsegs:      number of segments: "/" has 0, "/a" has 1, "/a/" has 2
 *              ("a" and ""), "/a//b" has 3
 *
 * "%2F" inside a segment is part of the value.  Returns 0, -EBADMSG on a
 * bad escape or "%00" (400), or -E2BIG when there are more than
 * @max_segs segments.
 */
int srv_http_path_split(const char *path, size_t len, char *out,
			struct srv_http_str *segs, unsigned int max_segs,
			unsigned int *nsegs);

struct srv_http_kv {
	struct srv_http_str key;
	struct srv_http_str val;
};

/**
 * srv_http_form_decode - decode application/x-www-form-urlencoded text
 * @s, @len: a query string or a form body
 * @out:     receives decoded keys and values back to back (@len bytes are
 *           always enough)
 * @kv:      one entry per pair, pointing into @out
 * @max_kv:  capacity of @kv
 * @nkv:     number of pairs
 *
 * Pairs are separated by '&'; '+' decodes to a space; a pair without '='
 * has an empty value; empty pairs are skipped.  Returns 0, -EBADMSG on a
 * bad escape or "%00", or -E2BIG when there are more than @max_kv pairs.
 */
int srv_http_form_decode(const char *s, size_t len, char *out,
			 struct srv_http_kv *kv, unsigned int max_kv,
			 unsigned int *nkv);

#endif /* SERVER_HTTP_PARSE_H */
