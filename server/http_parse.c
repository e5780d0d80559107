// SPDX-License-Identifier: BSD-2-Clause
/*
 * server/http_parse.c - the HTTP/1.1 request parser (RFC 9112)
 *
 * The head is handled in two phases.  First the end of the head (an empty
 * line) is searched for incrementally: p->scanned remembers how far the
 * search got, so each byte is looked at once however the request is split
 * into reads (picohttpparser rescans; nginx keeps a state machine; we keep
 * just an offset because nothing is interpreted until the head is whole).
 * The search also rejects a bare CR as soon as the byte after it arrives,
 * and stops with 431 once max_head bytes hold no end of head.  Second, the
 * complete head is parsed once, line by line, into the request.
 *
 * Every event the search can report (end of head, bare CR, 431) depends
 * only on the bytes before it, so the result is the same whether the
 * request arrives whole or one byte at a time.  The tests and the fuzz
 * target check exactly that.
 *
 * Anything ambiguous is rejected rather than guessed (RFC 9112 §6.3 and
 * §11.2, request smuggling): obs-fold, whitespace before the colon,
 * Content-Length with Transfer-Encoding, conflicting Content-Length, a
 * Transfer-Encoding other than "chunked", Transfer-Encoding on HTTP/1.0.
 * Internal helpers return 0 or the HTTP status to answer; only the public
 * functions speak bytes / -EAGAIN / -EBADMSG.
 *
 * The chunked decoder is a byte-wise state machine (after picohttpparser's
 * phr_decode_chunked) that moves the chunk data down over the framing, in
 * place; its state survives between calls, so it never needs to see a
 * size line or a CRLF whole.
 *
 * Character classes come from one 256-entry table.  Nothing here reads
 * outside [buf, buf + len), allocates, or asserts on input.
 */
#include "server/http_parse.h"

#include <errno.h>
#include <string.h>

#include "lib/util.h"

#define SRV_HTTP_MAX_EMPTY_LINES 4   /* empty lines allowed before a request */
#define SRV_HTTP_CHUNK_LINE_MAX 4096 /* bytes in a chunk-size/trailer line */

/* character classes */
#define SRV_HTTP_C_TCHAR 0x01 /* token character, RFC 9110 §5.6.2 */
#define SRV_HTTP_C_VCHAR 0x02 /* visible ASCII: allowed in a target */
#define SRV_HTTP_C_FIELD 0x04 /* allowed in a field value */
#define SRV_HTTP_C_HEX 0x08   /* hexadecimal digit */
#define SRV_HTTP_C_AUTH 0x10  /* allowed in the authority of a URI */

#define SRV_HTTP_VF (SRV_HTTP_C_VCHAR | SRV_HTTP_C_FIELD)
#define SRV_HTTP_VT (SRV_HTTP_VF | SRV_HTTP_C_TCHAR)
#define SRV_HTTP_VA (SRV_HTTP_VF | SRV_HTTP_C_AUTH)
#define SRV_HTTP_VTA (SRV_HTTP_VT | SRV_HTTP_C_AUTH)
#define SRV_HTTP_VTAH (SRV_HTTP_VTA | SRV_HTTP_C_HEX)

static const unsigned char srv_http_class[256] = {
	['\t'] = SRV_HTTP_C_FIELD,    [' '] = SRV_HTTP_C_FIELD,
	['!'] = SRV_HTTP_VTA,	      ['"'] = SRV_HTTP_VF,
	['#'] = SRV_HTTP_VT,	      ['$'] = SRV_HTTP_VTA,
	['%'] = SRV_HTTP_VTA,	      ['&'] = SRV_HTTP_VTA,
	['\''] = SRV_HTTP_VTA,	      ['('] = SRV_HTTP_VA,
	[')'] = SRV_HTTP_VA,	      ['*'] = SRV_HTTP_VTA,
	['+'] = SRV_HTTP_VTA,	      [','] = SRV_HTTP_VA,
	['-'] = SRV_HTTP_VTA,	      ['.'] = SRV_HTTP_VTA,
	['/'] = SRV_HTTP_VF,	      ['0' ... '9'] = SRV_HTTP_VTAH,
	[':'] = SRV_HTTP_VA,	      [';'] = SRV_HTTP_VA,
	['<'] = SRV_HTTP_VF,	      ['='] = SRV_HTTP_VA,
	['>'] = SRV_HTTP_VF,	      ['?'] = SRV_HTTP_VF,
	['@'] = SRV_HTTP_VF,	      ['A' ... 'F'] = SRV_HTTP_VTAH,
	['G' ... 'Z'] = SRV_HTTP_VTA, ['['] = SRV_HTTP_VA,
	['\\'] = SRV_HTTP_VF,	      [']'] = SRV_HTTP_VA,
	['^'] = SRV_HTTP_VT,	      ['_'] = SRV_HTTP_VTA,
	['`'] = SRV_HTTP_VT,	      ['a' ... 'f'] = SRV_HTTP_VTAH,
	['g' ... 'z'] = SRV_HTTP_VTA, ['{'] = SRV_HTTP_VF,
	['|'] = SRV_HTTP_VT,	      ['}'] = SRV_HTTP_VF,
	['~'] = SRV_HTTP_VTA,	      [0x80 ... 0xff] = SRV_HTTP_C_FIELD,
};

static const struct {
	const char *name;
	size_t len;
	enum srv_http_method method;
} srv_http_methods[] = {
	{ "GET", 3, SRV_HTTP_GET },	    { "HEAD", 4, SRV_HTTP_HEAD },
	{ "POST", 4, SRV_HTTP_POST },	    { "PUT", 3, SRV_HTTP_PUT },
	{ "DELETE", 6, SRV_HTTP_DELETE },   { "PATCH", 5, SRV_HTTP_PATCH },
	{ "OPTIONS", 7, SRV_HTTP_OPTIONS },
};

/* the path of an absolute-form target without one; static, never freed */
static const char srv_http_root[] = "/";

/* what the header fields said, gathered before the final checks */
struct srv_http_fstate {
	struct srv_http_request *req; /* borrowed: being filled */
	unsigned int nhost;
	unsigned int nte; /* Transfer-Encoding fields */
	bool te_chunked;  /* the last one was exactly "chunked" */
	bool te_empty;	  /* one of them was empty */
	bool conn_close;
	bool conn_keep_alive;
	bool expect_100;
	bool expect_other;
};

typedef int srv_http_field_fn(struct srv_http_fstate *fs,
			      const struct srv_http_header *h);

static bool srv_http_is(char c, unsigned char cls)
{
	return srv_http_class[(unsigned char)c] & cls;
}

static bool srv_http_is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static char srv_http_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static unsigned int srv_http_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned int)(c - '0');
	return (unsigned int)(srv_http_lower(c) - 'a' + 10);
}

/* @s[0..@n) equals the lower-case literal @lit, ignoring ASCII case */
static bool srv_http_eq_ci(const char *s, size_t n, const char *lit)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!lit[i] || srv_http_lower(s[i]) != lit[i])
			return false;
	}
	return !lit[n];
}

/* @a[0..@n) equals @b[0..@n), ignoring ASCII case */
static bool srv_http_same_ci(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (srv_http_lower(a[i]) != srv_http_lower(b[i]))
			return false;
	}
	return true;
}

static bool srv_http_is_token(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!srv_http_is(s[i], SRV_HTTP_C_TCHAR))
			return false;
	}
	return n > 0;
}

/* 1*DIGIT into @v; false on anything else or on overflow */
static bool srv_http_parse_u64(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	unsigned int d;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		d = (unsigned int)(s[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*v = x;
	return n > 0;
}

void srv_http_parser_init(struct srv_http_parser *p)
{
	p->scanned = 0;
}

/*
 * Skip the empty lines a client may send before a request (RFC 9112
 * §2.2).  Returns the offset of the request line, -EAGAIN, or -EBADMSG.
 */
static ssize_t srv_http_skip_empty_lines(const char *buf, size_t len)
{
	unsigned int n = 0;
	size_t i = 0;

	while (i < len && (buf[i] == '\r' || buf[i] == '\n')) {
		if (buf[i] == '\r') {
			if (i + 1 == len)
				return -EAGAIN;
			if (buf[i + 1] != '\n')
				return -EBADMSG;
			i++;
		}
		i++;
		if (++n > SRV_HTTP_MAX_EMPTY_LINES)
			return -EBADMSG;
	}
	return (ssize_t)i;
}

/* the LF at @i ends an empty line that follows the request line */
static bool srv_http_ends_head(const char *buf, size_t start, size_t i)
{
	if (i <= start)
		return false;
	if (buf[i - 1] == '\n')
		return true;
	return buf[i - 1] == '\r' && i - 1 > start && buf[i - 2] == '\n';
}

/*
 * Continue the search for the end of the head where the last call left
 * it.  Returns the head length, -EAGAIN, or -EBADMSG with *@status set.
 */
static ssize_t srv_http_find_head_end(struct srv_http_parser *p,
				      const char *buf, size_t len, size_t start,
				      size_t max_head, int *status)
{
	size_t lim = MIN(len, max_head);
	size_t i = MAX(p->scanned, start);

	for (; i < lim; i++) {
		if (i > start && buf[i - 1] == '\r' && buf[i] != '\n') {
			*status = 400; /* bare CR */
			return -EBADMSG;
		}
		if (buf[i] == '\n' && srv_http_ends_head(buf, start, i))
			return (ssize_t)(i + 1);
	}
	p->scanned = i;
	if (len > max_head) {
		*status = 431;
		return -EBADMSG;
	}
	return -EAGAIN;
}

static void srv_http_set_method(struct srv_http_request *req, const char *s,
				size_t n)
{
	size_t i;

	req->method = SRV_HTTP_OTHER;
	req->method_str = s;
	req->method_len = n;
	for (i = 0; i < ARRAY_SIZE(srv_http_methods); i++) {
		if (n == srv_http_methods[i].len &&
		    !memcmp(s, srv_http_methods[i].name, n)) {
			req->method = srv_http_methods[i].method;
			return;
		}
	}
}

static int srv_http_parse_version(struct srv_http_request *req, const char *v,
				  size_t n)
{
	if (n != 8 || memcmp(v, "HTTP/", 5) || v[5] < '0' || v[5] > '9' ||
	    v[6] != '.' || v[7] < '0' || v[7] > '9')
		return 400;
	if (v[5] != '1' || v[7] > '1')
		return 505;
	req->minor_version = v[7] - '0';
	return 0;
}

/* path and query of an origin-form target, or of the rest of a URI */
static void srv_http_split_query(struct srv_http_request *req, const char *s,
				 size_t n)
{
	const char *q = memchr(s, '?', n);

	req->path = s;
	req->path_len = q ? (size_t)(q - s) : n;
	if (q) {
		req->query = q + 1;
		req->query_len = n - req->path_len - 1;
	}
}

/*
 * host [ ":" port ], checked only as far as its characters go; userinfo
 * ('@') and an empty host before a port are refused.
 */
static bool srv_http_is_authority(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!srv_http_is(s[i], SRV_HTTP_C_AUTH))
			return false;
	}
	return !n || s[0] != ':';
}

/* absolute-form: "http://" authority [ path ] [ "?" query ] */
static int srv_http_parse_absolute(struct srv_http_request *req, const char *t,
				   size_t n)
{
	size_t a, i;

	if (n >= 7 && srv_http_eq_ci(t, 7, "http://"))
		a = 7;
	else if (n >= 8 && srv_http_eq_ci(t, 8, "https://"))
		a = 8;
	else
		return 400;
	for (i = a; i < n && t[i] != '/' && t[i] != '?'; i++)
		;
	if (i == a || !srv_http_is_authority(t + a, i - a))
		return 400;
	if (i < n && t[i] == '/') {
		srv_http_split_query(req, t + i, n - i);
		return 0;
	}
	req->path = srv_http_root;
	req->path_len = 1;
	if (i < n) {
		req->query = t + i + 1;
		req->query_len = n - i - 1;
	}
	return 0;
}

static int srv_http_parse_target(struct srv_http_request *req)
{
	const char *t = req->target;
	size_t n = req->target_len;

	if (memchr(t, '#', n))
		return 400;
	if (t[0] == '/') {
		srv_http_split_query(req, t, n);
		return 0;
	}
	if (n == 1 && t[0] == '*') {
		if (req->method != SRV_HTTP_OPTIONS)
			return 400;
		req->path = t;
		req->path_len = 1;
		return 0;
	}
	return srv_http_parse_absolute(req, t, n);
}

/* method SP request-target SP HTTP-version, exactly one SP each */
static int srv_http_parse_request_line(struct srv_http_request *req,
				       const char *s, size_t n)
{
	size_t i = 0, t;
	int st;

	while (i < n && srv_http_is(s[i], SRV_HTTP_C_TCHAR))
		i++;
	if (!i || i > SRV_HTTP_MAX_METHOD || i == n || s[i] != ' ')
		return 400;
	srv_http_set_method(req, s, i);
	t = ++i;
	while (i < n && srv_http_is(s[i], SRV_HTTP_C_VCHAR))
		i++;
	if (i == t || i == n || s[i] != ' ')
		return 400;
	req->target = s + t;
	req->target_len = i - t;
	st = srv_http_parse_version(req, s + i + 1, n - i - 1);
	if (st)
		return st;
	return srv_http_parse_target(req);
}

static int srv_http_on_host(struct srv_http_fstate *fs,
			    const struct srv_http_header *h)
{
	struct srv_http_request *req = fs->req;

	/* RFC 9112 §3.2: repeated or invalid -> 400; empty is allowed */
	if (fs->nhost++ || !srv_http_is_authority(h->value, h->value_len))
		return 400;
	req->host = h->value;
	req->host_len = h->value_len;
	return 0;
}

static int srv_http_on_content_length(struct srv_http_fstate *fs,
				      const struct srv_http_header *h)
{
	struct srv_http_request *req = fs->req;
	uint64_t v;

	if (!srv_http_parse_u64(h->value, h->value_len, &v))
		return 400;
	if (req->has_content_length && req->content_length != v)
		return 400;
	req->has_content_length = true;
	req->content_length = v;
	return 0;
}

static int srv_http_on_transfer_encoding(struct srv_http_fstate *fs,
					 const struct srv_http_header *h)
{
	fs->nte++;
	fs->te_chunked = srv_http_eq_ci(h->value, h->value_len, "chunked");
	if (!h->value_len)
		fs->te_empty = true;
	return 0;
}

/* a comma list of tokens; empty elements are allowed (RFC 9110 §5.6.1) */
static int srv_http_on_connection(struct srv_http_fstate *fs,
				  const struct srv_http_header *h)
{
	const char *s = h->value;
	size_t i = 0, a, b;

	while (i < h->value_len) {
		while (i < h->value_len && srv_http_is_ows(s[i]))
			i++;
		for (a = i; i < h->value_len && s[i] != ','; i++)
			;
		for (b = i; b > a && srv_http_is_ows(s[b - 1]); b--)
			;
		i++; /* past the comma */
		if (b == a)
			continue;
		if (!srv_http_is_token(s + a, b - a))
			return 400;
		if (srv_http_eq_ci(s + a, b - a, "close"))
			fs->conn_close = true;
		else if (srv_http_eq_ci(s + a, b - a, "keep-alive"))
			fs->conn_keep_alive = true;
	}
	return 0;
}

static int srv_http_on_expect(struct srv_http_fstate *fs,
			      const struct srv_http_header *h)
{
	if (srv_http_eq_ci(h->value, h->value_len, "100-continue"))
		fs->expect_100 = true;
	else
		fs->expect_other = true;
	return 0;
}

static int srv_http_on_content_type(struct srv_http_fstate *fs,
				    const struct srv_http_header *h)
{
	struct srv_http_request *req = fs->req;

	if (!req->content_type) {
		req->content_type = h->value;
		req->content_type_len = h->value_len;
	}
	return 0;
}

static const struct {
	const char *name; /* lower case */
	srv_http_field_fn *fn;
} srv_http_fields[] = {
	{ "host", srv_http_on_host },
	{ "content-length", srv_http_on_content_length },
	{ "transfer-encoding", srv_http_on_transfer_encoding },
	{ "connection", srv_http_on_connection },
	{ "expect", srv_http_on_expect },
	{ "content-type", srv_http_on_content_type },
};

/* name ":" OWS value OWS, stored and interpreted */
static int srv_http_parse_field(struct srv_http_request *req, const char *s,
				size_t n, struct srv_http_fstate *fs)
{
	struct srv_http_header *h;
	size_t i, colon = 0, a, b;

	if (req->nheaders == SRV_HTTP_MAX_HEADERS)
		return 431;
	while (colon < n && srv_http_is(s[colon], SRV_HTTP_C_TCHAR))
		colon++;
	/* obs-fold, empty name, no colon, whitespace before the colon */
	if (!colon || colon == n || s[colon] != ':')
		return 400;
	for (a = colon + 1; a < n && srv_http_is_ows(s[a]); a++)
		;
	for (b = n; b > a && srv_http_is_ows(s[b - 1]); b--)
		;
	for (i = a; i < b; i++) {
		if (!srv_http_is(s[i], SRV_HTTP_C_FIELD))
			return 400; /* NUL, CR, other CTL, DEL */
	}
	h = &req->headers[req->nheaders++];
	h->name = s;
	h->name_len = colon;
	h->value = s + a;
	h->value_len = b - a;
	for (i = 0; i < ARRAY_SIZE(srv_http_fields); i++) {
		if (srv_http_eq_ci(h->name, h->name_len,
				   srv_http_fields[i].name))
			return srv_http_fields[i].fn(fs, h);
	}
	return 0;
}

/* the checks that need every field: Host, framing, Expect, Connection */
static int srv_http_finish(struct srv_http_request *req,
			   const struct srv_http_fstate *fs)
{
	bool v11 = req->minor_version == 1;

	if (v11 && !fs->nhost)
		return 400;
	if (fs->nte) {
		if (!v11 || req->has_content_length || fs->te_empty)
			return 400;
		if (fs->nte > 1 || !fs->te_chunked)
			return 501;
		req->chunked = true;
	}
	if (fs->expect_other)
		return 417;
	req->expect_continue = v11 && fs->expect_100;
	if (fs->conn_close)
		req->keep_alive = false;
	else
		req->keep_alive = v11 || fs->conn_keep_alive;
	return 0;
}

/* the length of the line that starts at @s and ends with the LF at @nl */
static size_t srv_http_line_len(const char *s, const char *nl)
{
	size_t n = (size_t)(nl - s);

	return n && s[n - 1] == '\r' ? n - 1 : n;
}

/* the whole head is in buf[start, end) and ends with an empty line */
static int srv_http_parse_lines(struct srv_http_request *req, const char *buf,
				size_t start, size_t end)
{
	struct srv_http_fstate fs = { .req = req };
	const char *nl;
	size_t pos, n;
	int st;

	memset(req, 0, sizeof(*req));
	nl = memchr(buf + start, '\n', end - start);
	if (!nl)
		return 400; /* cannot happen: the search found the end */
	st = srv_http_parse_request_line(req, buf + start,
					 srv_http_line_len(buf + start, nl));
	if (st)
		return st;
	for (pos = (size_t)(nl - buf) + 1; pos < end;
	     pos = (size_t)(nl - buf) + 1) {
		nl = memchr(buf + pos, '\n', end - pos);
		if (!nl)
			return 400;
		n = srv_http_line_len(buf + pos, nl);
		if (!n)
			break; /* the empty line */
		st = srv_http_parse_field(req, buf + pos, n, &fs);
		if (st)
			return st;
	}
	return srv_http_finish(req, &fs);
}

/**
 * srv_http_parse_head - parse a request head at the start of a buffer
 * @p:        state kept between calls for the same request (init first)
 * @buf:      the bytes received so far for this request
 * @len:      their number; it only grows between calls for one request
 * @max_head: max_header_bytes: a head longer than this -> 431
 * @req:      filled when the head is complete
 * @status:   set to the HTTP status on -EBADMSG (400, 417, 431, 501, 505)
 *
 * Only offsets are kept in @p, so @buf may move between calls.  The head
 * length includes any empty lines skipped before the request line.
 *
 * Returns the length of the head (> 0), -EAGAIN when the head is not
 * complete yet, or -EBADMSG when the request must be rejected.
 */
ssize_t srv_http_parse_head(struct srv_http_parser *p, const char *buf,
			    size_t len, size_t max_head,
			    struct srv_http_request *req, int *status)
{
	ssize_t start, end;
	int st;

	start = srv_http_skip_empty_lines(buf, len);
	if (start == -EBADMSG)
		*status = 400;
	if (start < 0)
		return start;
	end = srv_http_find_head_end(p, buf, len, (size_t)start, max_head,
				     status);
	if (end < 0)
		return end;
	st = srv_http_parse_lines(req, buf, (size_t)start, (size_t)end);
	if (st) {
		*status = st;
		return -EBADMSG;
	}
	req->head_len = (size_t)end;
	return end;
}

/**
 * srv_http_header_find - look up a header field by name
 * @req:  a parsed request
 * @name: the field name, compared case-insensitively
 * @len:  receives the value's length (0 when absent); may be NULL
 *
 * Returns the value of the first field named @name, or NULL.
 */
const char *srv_http_header_find(const struct srv_http_request *req,
				 const char *name, size_t *len)
{
	const struct srv_http_header *h;
	size_t n = strlen(name);
	unsigned int i;

	for (i = 0; i < req->nheaders; i++) {
		h = &req->headers[i];
		if (h->name_len != n || !srv_http_same_ci(h->name, name, n))
			continue;
		if (len)
			*len = h->value_len;
		return h->value;
	}
	if (len)
		*len = 0;
	return NULL;
}

/* chunked body: where the decoder is (struct srv_http_chunked.state) */
enum srv_http_chunk_state {
	SRV_HTTP_CH_SIZE = 0, /* chunk-size hex digits */
	SRV_HTTP_CH_SIZE_WS,  /* BWS after the size: only ';' may follow */
	SRV_HTTP_CH_EXT,      /* chunk extensions, up to the end of the line */
	SRV_HTTP_CH_SIZE_LF,  /* CR seen at the end of the size line */
	SRV_HTTP_CH_DATA,     /* chunk_left bytes of data */
	SRV_HTTP_CH_DATA_CR,  /* the CRLF after the data */
	SRV_HTTP_CH_DATA_LF,
	SRV_HTTP_CH_TRAILER, /* start of a trailer line or the final CRLF */
	SRV_HTTP_CH_TR_NAME,
	SRV_HTTP_CH_TR_VALUE,
	SRV_HTTP_CH_TR_LF,    /* CR seen at the end of a trailer line */
	SRV_HTTP_CH_FINAL_LF, /* CR seen on the final empty line */
	SRV_HTTP_CH_DONE,
	SRV_HTTP_CH_ERROR, /* sticky: a rejected body stays rejected */
};

void srv_http_chunked_init(struct srv_http_chunked *d, uint64_t max_body)
{
	*d = (struct srv_http_chunked){ .state = SRV_HTTP_CH_SIZE,
					.max_body = max_body };
}

/* the size line is over: start the data, or the trailer after "0" */
static int srv_http_chunked_size_done(struct srv_http_chunked *d)
{
	d->line_len = 0;
	if (!d->chunk_left) {
		d->state = SRV_HTTP_CH_TRAILER;
		d->digits = 0; /* from now on: trailer fields seen */
		return 0;
	}
	if (d->chunk_left > d->max_body - d->total)
		return -EMSGSIZE;
	d->state = SRV_HTTP_CH_DATA;
	return 0;
}

/* one byte of a chunk-size line: size [ BWS ";" ext ] CRLF */
static int srv_http_chunked_size_byte(struct srv_http_chunked *d, char c)
{
	if (d->state == SRV_HTTP_CH_SIZE && srv_http_is(c, SRV_HTTP_C_HEX)) {
		if (++d->digits > 16)
			return -EBADMSG; /* would overflow 64 bits */
		d->chunk_left = d->chunk_left << 4 | srv_http_hex_value(c);
		return 0;
	}
	if (d->state == SRV_HTTP_CH_SIZE_LF)
		return c == '\n' ? srv_http_chunked_size_done(d) : -EBADMSG;
	if (!d->digits)
		return -EBADMSG; /* empty or non-hex size */
	if (c == '\r' || c == '\n') {
		if (d->state == SRV_HTTP_CH_SIZE_WS)
			return -EBADMSG; /* BWS without an extension */
		d->state = SRV_HTTP_CH_SIZE_LF;
		return c == '\n' ? srv_http_chunked_size_done(d) : 0;
	}
	if (d->state == SRV_HTTP_CH_EXT)
		return srv_http_is(c, SRV_HTTP_C_FIELD) ? 0 : -EBADMSG;
	if (c == ';')
		d->state = SRV_HTTP_CH_EXT;
	else if (srv_http_is_ows(c))
		d->state = SRV_HTTP_CH_SIZE_WS;
	else
		return -EBADMSG;
	return 0;
}

/* one byte of the trailer section: *( field-line CRLF ) CRLF */
static int srv_http_chunked_trailer_byte(struct srv_http_chunked *d, char c)
{
	bool lf = c == '\n';

	switch (d->state) {
	case SRV_HTTP_CH_TRAILER:
		if (c == '\r' || lf) {
			d->state = lf ? SRV_HTTP_CH_DONE : SRV_HTTP_CH_FINAL_LF;
			return 0;
		}
		if (++d->digits > SRV_HTTP_MAX_HEADERS ||
		    !srv_http_is(c, SRV_HTTP_C_TCHAR))
			return -EBADMSG; /* too many, obs-fold, bad name */
		d->state = SRV_HTTP_CH_TR_NAME;
		return 0;
	case SRV_HTTP_CH_TR_NAME:
		if (c == ':')
			d->state = SRV_HTTP_CH_TR_VALUE;
		else if (!srv_http_is(c, SRV_HTTP_C_TCHAR))
			return -EBADMSG; /* no colon, space before it */
		return 0;
	case SRV_HTTP_CH_TR_VALUE:
		if (c == '\r')
			d->state = SRV_HTTP_CH_TR_LF;
		else if (!lf && !srv_http_is(c, SRV_HTTP_C_FIELD))
			return -EBADMSG;
		break;
	case SRV_HTTP_CH_TR_LF:
		if (!lf)
			return -EBADMSG; /* bare CR */
		break;
	case SRV_HTTP_CH_FINAL_LF:
		if (!lf)
			return -EBADMSG;
		d->state = SRV_HTTP_CH_DONE;
		return 0;
	default:
		return -EBADMSG;
	}
	if (lf) {
		d->state = SRV_HTTP_CH_TRAILER; /* the next line starts */
		d->line_len = 0;
	}
	return 0;
}

/* one framing byte (anything but chunk data) */
static int srv_http_chunked_byte(struct srv_http_chunked *d, char c)
{
	if (++d->line_len > SRV_HTTP_CHUNK_LINE_MAX)
		return -EBADMSG;
	switch (d->state) {
	case SRV_HTTP_CH_SIZE:
	case SRV_HTTP_CH_SIZE_WS:
	case SRV_HTTP_CH_EXT:
	case SRV_HTTP_CH_SIZE_LF:
		return srv_http_chunked_size_byte(d, c);
	case SRV_HTTP_CH_DATA_CR:
		if (c != '\r' && c != '\n')
			return -EBADMSG;
		d->state = c == '\n' ? SRV_HTTP_CH_SIZE : SRV_HTTP_CH_DATA_LF;
		break;
	case SRV_HTTP_CH_DATA_LF:
		if (c != '\n')
			return -EBADMSG;
		d->state = SRV_HTTP_CH_SIZE;
		break;
	default:
		return srv_http_chunked_trailer_byte(d, c);
	}
	/* a new size line starts */
	d->line_len = 0;
	d->digits = 0;
	d->chunk_left = 0;
	return 0;
}

/**
 * srv_http_chunked_decode - decode a chunked body in place
 * @d:   state kept between calls for one body
 * @buf: bytes received and not yet decoded
 * @len: in: their number; out: the number of decoded body bytes now at
 *       the start of @buf (they are appended to what earlier calls gave)
 *
 * Every byte is consumed until the body ends, so on -EAGAIN the caller
 * places the next bytes right after the decoded ones.  After an error,
 * later calls fail the same way.
 *
 * Returns -EAGAIN, the number of bytes after the end of the body that
 * were not consumed (>= 0), -EBADMSG on a malformed body, or -EMSGSIZE
 * when the decoded body exceeds max_body.
 */
ssize_t srv_http_chunked_decode(struct srv_http_chunked *d, char *buf,
				size_t *len)
{
	size_t n = *len, src = 0, dst = 0, k;
	int err;

	*len = 0;
	if (d->state == SRV_HTTP_CH_DONE)
		return (ssize_t)n;
	if (d->state == SRV_HTTP_CH_ERROR)
		return -EBADMSG;
	while (src < n) {
		if (d->state == SRV_HTTP_CH_DATA) {
			k = (size_t)MIN(d->chunk_left, (uint64_t)(n - src));
			memmove(buf + dst, buf + src, k);
			dst += k;
			src += k;
			d->total += k;
			d->chunk_left -= k;
			if (!d->chunk_left)
				d->state = SRV_HTTP_CH_DATA_CR;
			continue;
		}
		err = srv_http_chunked_byte(d, buf[src++]);
		if (err) {
			d->state = SRV_HTTP_CH_ERROR;
			*len = dst;
			return err;
		}
		if (d->state == SRV_HTTP_CH_DONE)
			break;
	}
	*len = dst;
	return d->state == SRV_HTTP_CH_DONE ? (ssize_t)(n - src) : -EAGAIN;
}

/*
 * Percent-decode @s[0..@n) into @out (at most @n bytes); with @plus, '+'
 * is a space.  A '%' needs two hex digits and may not encode NUL.
 */
static int srv_http_pct_decode(const char *s, size_t n, char *out, bool plus,
			       size_t *outlen)
{
	size_t i, o = 0;
	char c;

	for (i = 0; i < n; i++) {
		c = s[i];
		if (c == '+' && plus) {
			c = ' ';
		} else if (c == '%') {
			if (n - i < 3 ||
			    !srv_http_is(s[i + 1], SRV_HTTP_C_HEX) ||
			    !srv_http_is(s[i + 2], SRV_HTTP_C_HEX))
				return -EBADMSG;
			c = (char)(srv_http_hex_value(s[i + 1]) << 4 |
				   srv_http_hex_value(s[i + 2]));
			if (!c)
				return -EBADMSG;
			i += 2;
		}
		out[o++] = c;
	}
	*outlen = o;
	return 0;
}

/**
 * srv_http_path_split - split a raw path on '/' and percent-decode each segment
 * @path, @len: the raw path, starting with '/'
 * @out:        receives the decoded segments back to back (@len bytes are
 *              always enough)
 * @segs:       one entry per segment, pointing into @out
 * @max_segs:   capacity of @segs
 * @nsegs:      number of segments: "/" has 0, "/a" has 1, "/a/" has 2
 *
 * A path that does not start with '/' (the "*" of OPTIONS) is -EBADMSG.
 *
 * Returns 0, -EBADMSG on a bad escape or "%00", or -E2BIG when there are
 * more than @max_segs segments.
 */
int srv_http_path_split(const char *path, size_t len, char *out,
			struct srv_http_str *segs, unsigned int max_segs,
			unsigned int *nsegs)
{
	size_t i = 1, j, o = 0, n;
	unsigned int k = 0;
	int err;

	*nsegs = 0;
	if (!len || path[0] != '/')
		return -EBADMSG;
	while (len > 1) {
		for (j = i; j < len && path[j] != '/'; j++)
			;
		if (k == max_segs)
			return -E2BIG;
		err = srv_http_pct_decode(path + i, j - i, out + o, false, &n);
		if (err)
			return err;
		segs[k].p = out + o;
		segs[k].len = n;
		*nsegs = ++k;
		o += n;
		if (j == len)
			break;
		i = j + 1;
	}
	return 0;
}

/* one "key[=value]" pair of a form into @kv, decoded at @out */
static int srv_http_form_pair(const char *s, size_t n, char *out,
			      struct srv_http_kv *kv, size_t *used)
{
	const char *eq = memchr(s, '=', n);
	size_t klen = eq ? (size_t)(eq - s) : n;
	size_t kn, vn = 0;
	int err;

	err = srv_http_pct_decode(s, klen, out, true, &kn);
	if (err)
		return err;
	if (eq) {
		err = srv_http_pct_decode(eq + 1, n - klen - 1, out + kn, true,
					  &vn);
		if (err)
			return err;
	}
	kv->key = (struct srv_http_str){ .p = out, .len = kn };
	kv->val = (struct srv_http_str){ .p = out + kn, .len = vn };
	*used = kn + vn;
	return 0;
}

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
 * has an empty value; empty pairs are skipped.
 *
 * Returns 0, -EBADMSG on a bad escape or "%00", or -E2BIG when there are
 * more than @max_kv pairs.
 */
int srv_http_form_decode(const char *s, size_t len, char *out,
			 struct srv_http_kv *kv, unsigned int max_kv,
			 unsigned int *nkv)
{
	size_t i = 0, j, o = 0, used;
	int err;

	*nkv = 0;
	while (i < len) {
		for (j = i; j < len && s[j] != '&'; j++)
			;
		if (j > i) {
			if (*nkv == max_kv)
				return -E2BIG;
			err = srv_http_form_pair(s + i, j - i, out + o,
						 &kv[*nkv], &used);
			if (err)
				return err;
			(*nkv)++;
			o += used;
		}
		i = j + 1;
	}
	return 0;
}
