// SPDX-License-Identifier: BSD-2-Clause
/*
 * tests/unit/check_http_parse.c - the request parser, case by case
 *
 * The request tests are tables run with tcase_add_loop_test().  Every case
 * is parsed three ways and must give the same answer each time: whole, fed
 * one byte at a time (len = 1, 2, 3, ... on one parser state, -EAGAIN until
 * the answer), and whole again with the input copied so that it ends
 * exactly at a PROT_NONE guard page, so that any read past the end crashes
 * (the picohttpparser trick).  The byte-at-a-time run also puts each prefix
 * against the guard page, since the parser keeps only offsets between
 * calls.  The chunked decoder, path splitter and form decoder get the same
 * treatment, with their output buffers against a guard page too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <check.h>

#include "lib/util.h"
#include "server/http_parse.h"
#include "tests/unit/suites.h"

#define TEST_HTTP_MAX_HEAD 8192
#define TEST_HTTP_BUILD_CAP 16384

/* fills @buf (of @cap bytes) with a generated input; returns its length */
typedef size_t test_http_build_fn(char *buf, size_t cap);

/* ---- guard page ---------------------------------------------------------- */

struct test_http_guard {
	char *map; /* owned */
	size_t maplen;
	char *end; /* first byte of the PROT_NONE page */
};

static void test_http_guard_init(struct test_http_guard *g, size_t cap)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t data = (cap + pg - 1) / pg * pg;

	if (!data)
		data = pg;
	g->maplen = data + pg;
	g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(g->map, MAP_FAILED);
	ck_assert_int_eq(mprotect(g->map + data, pg, PROT_NONE), 0);
	g->end = g->map + data;
}

/* copy @n bytes of @s so that they end right before the guard page */
static char *test_http_guard_put(struct test_http_guard *g, const void *s,
				 size_t n)
{
	char *p = g->end - n;

	if (n)
		memcpy(p, s, n);
	return p;
}

static void test_http_guard_destroy(struct test_http_guard *g)
{
	munmap(g->map, g->maplen);
	g->map = NULL;
}

/* compare a (pointer, length) string with an expected C string or NULL */
static void test_http_ck_str(const char *what, const char *p, size_t n,
			     const char *want)
{
	if (!want) {
		ck_assert_msg(!p, "%s: expected none, got \"%.*s\"", what,
			      (int)n, p);
		return;
	}
	ck_assert_msg(p, "%s: expected \"%s\", got none", what, want);
	ck_assert_msg(n == strlen(want) && !memcmp(p, want, n),
		      "%s: expected \"%s\", got \"%.*s\"", what, want, (int)n,
		      p);
}

/* ---- request heads: the three ways ------------------------------------- */

struct test_http_result {
	ssize_t ret;
	int status; /* when ret == -EBADMSG */
	size_t at;  /* bytes given when the answer came */
};

static struct test_http_result test_http_whole(const char *in, size_t n,
					       size_t max_head,
					       struct srv_http_request *req)
{
	struct test_http_result r = { .status = -1, .at = n };
	struct srv_http_parser p;

	srv_http_parser_init(&p);
	r.ret = srv_http_parse_head(&p, in, n, max_head, req, &r.status);
	return r;
}

static struct test_http_result test_http_bytewise(const char *in, size_t n,
						  size_t max_head)
{
	struct test_http_result r = { .ret = -EAGAIN, .status = -1 };
	struct srv_http_request req;
	struct test_http_guard g;
	struct srv_http_parser p;
	const char *buf;

	test_http_guard_init(&g, n);
	srv_http_parser_init(&p);
	for (r.at = 1; r.at <= n; r.at++) {
		buf = test_http_guard_put(&g, in, r.at);
		r.ret = srv_http_parse_head(&p, buf, r.at, max_head, &req,
					    &r.status);
		if (r.ret != -EAGAIN)
			break;
		ck_assert_uint_le(p.scanned, r.at);
	}
	test_http_guard_destroy(&g);
	return r;
}

/*
 * Parse @in all three ways, check they agree, and leave the guard-page
 * parse in @req (its strings point into @g, which the caller destroys).
 */
static struct test_http_result
test_http_three_ways(const char *in, size_t n, size_t max_head,
		     struct srv_http_request *req, struct test_http_guard *g)
{
	struct test_http_result whole, bytes, guarded;
	static struct srv_http_request tmp;
	const char *buf;

	whole = test_http_whole(in, n, max_head, &tmp);
	bytes = test_http_bytewise(in, n, max_head);
	test_http_guard_init(g, n);
	buf = test_http_guard_put(g, in, n);
	guarded = test_http_whole(buf, n, max_head, req);

	ck_assert_int_eq(bytes.ret, whole.ret);
	ck_assert_int_eq(guarded.ret, whole.ret);
	if (whole.ret == -EBADMSG) {
		ck_assert_int_eq(bytes.status, whole.status);
		ck_assert_int_eq(guarded.status, whole.status);
	}
	if (whole.ret > 0)
		ck_assert_uint_eq(bytes.at, (size_t)whole.ret);
	return whole;
}

/* ---- generated inputs -------------------------------------------------- */

static size_t test_http_build_fields(char *buf, size_t cap, unsigned int n)
{
	size_t len;
	unsigned int i;

	len = (size_t)snprintf(buf, cap, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 1; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len, "X-H%u: v\r\n",
					i);
	len += (size_t)snprintf(buf + len, cap - len, "\r\n");
	return len;
}

static size_t test_http_build_64_fields(char *buf, size_t cap)
{
	return test_http_build_fields(buf, cap, SRV_HTTP_MAX_HEADERS);
}

static size_t test_http_build_65_fields(char *buf, size_t cap)
{
	return test_http_build_fields(buf, cap, SRV_HTTP_MAX_HEADERS + 1);
}

static size_t test_http_build_long_head(char *buf, size_t cap)
{
	size_t len;

	len = (size_t)snprintf(buf, cap, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	memset(buf + len, 'a', TEST_HTTP_MAX_HEAD);
	len += TEST_HTTP_MAX_HEAD;
	memcpy(buf + len, "\r\n\r\n", 4);
	return len + 4;
}

static const char *test_http_input(const char *in, size_t len,
				   test_http_build_fn *build, size_t *n)
{
	static char buf[TEST_HTTP_BUILD_CAP];

	if (!build) {
		*n = len;
		return in;
	}
	*n = build(buf, sizeof(buf));
	ck_assert_uint_lt(*n, sizeof(buf));
	return buf;
}

/* ---- valid requests ---------------------------------------------------- */

#define TEST_HTTP_IN(s) .in = s, .len = sizeof(s) - 1

struct test_http_valid {
	const char *in;
	size_t len;
	test_http_build_fn *build; /* instead of in/len */
	size_t max_head;	   /* 0: TEST_HTTP_MAX_HEAD */
	size_t head_len;	   /* 0: all of the input */
	enum srv_http_method method;
	const char *method_str;
	const char *path;
	const char *query; /* NULL: no '?' */
	int minor;
	bool keep_alive;
	bool chunked;
	bool expect;
	long long cl; /* -1: no Content-Length */
	unsigned int nheaders;
	const char *host;  /* NULL: no Host */
	const char *ctype; /* NULL: no Content-Type */
	const char *hname; /* a field to look up (any case), or NULL */
	const char *hval;
};

static const struct test_http_valid test_http_valid_cases[] = {
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
	  .method = SRV_HTTP_GET, .method_str = "GET", .path = "/", .minor = 1,
	  .keep_alive = true, .cl = -1, .nheaders = 1, .host = "a" },
	{ TEST_HTTP_IN("GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: example.com\r\n"
		       "\r\n"),
	  .method = SRV_HTTP_GET, .method_str = "GET", .path = "/a/b",
	  .query = "x=1&y=2", .minor = 1, .keep_alive = true, .cl = -1,
	  .nheaders = 1, .host = "example.com" },
	{ TEST_HTTP_IN("GET /p? HTTP/1.1\r\nHost: a\r\n\r\n"),
	  .method = SRV_HTTP_GET, .method_str = "GET", .path = "/p",
	  .query = "", .minor = 1, .keep_alive = true, .cl = -1, .nheaders = 1,
	  .host = "a" },
	{ TEST_HTTP_IN("GET /q?a?b=/c HTTP/1.1\r\nHost: a\r\n\r\n"),
	  .method = SRV_HTTP_GET, .method_str = "GET", .path = "/q",
	  .query = "a?b=/c", .minor = 1, .keep_alive = true, .cl = -1,
	  .nheaders = 1, .host = "a" },
	{ TEST_HTTP_IN("GET / HTTP/1.0\r\n\r\n"), .method = SRV_HTTP_GET,
	  .method_str = "GET", .path = "/", .minor = 0, .cl = -1 },
	{ TEST_HTTP_IN("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"),
	  .method = SRV_HTTP_GET, .method_str = "GET", .path = "/", .minor = 0,
	  .keep_alive = true, .cl = -1, .nheaders = 1, .hname = "CONNECTION",
	  .hval = "Keep-Alive" },
	{ TEST_HTTP_IN(
		  "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"),
	  .method = SRV_HTTP_GET, .method_str = "GET", .path = "/", .minor = 0,
	  .cl = -1, .nheaders = 1 },
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
		       "\r\n"),
	  .method = SRV_HTTP_GET, .method_str = "GET", .path = "/", .minor = 1,
	  .cl = -1, .nheaders = 2, .host = "a" },
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost: a\r\n"
		       "Connection: ,foo ,\t CLOSE ,\r\n"
		       "\r\n"),
	  .method = SRV_HTTP_GET, .method_str = "GET", .path = "/", .minor = 1,
	  .cl = -1, .nheaders = 2, .host = "a" },
	{ TEST_HTTP_IN("POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
		       "Content-Type: application/json\r\n\r\nhello"),
	  .head_len = 80, .method = SRV_HTTP_POST, .method_str = "POST",
	  .path = "/f", .minor = 1, .keep_alive = true, .cl = 5, .nheaders = 3,
	  .host = "a", .ctype = "application/json" },
	{ TEST_HTTP_IN("POST /u HTTP/1.1\r\nHost: a\r\n"
		       "Transfer-Encoding: chunked\r\n"
		       "\r\n5\r\nhello\r\n0\r\n\r\n"),
	  .head_len = 57, .method = SRV_HTTP_POST, .method_str = "POST",
	  .path = "/u", .minor = 1, .keep_alive = true, .chunked = true,
	  .cl = -1, .nheaders = 2, .host = "a" },
	{ TEST_HTTP_IN("PUT /u HTTP/1.1\r\nTransfer-Encoding: \t CHUNKED \t\r\n"
		       "Host: a\r\n\r\n"),
	  .method = SRV_HTTP_PUT, .method_str = "PUT", .path = "/u", .minor = 1,
	  .keep_alive = true, .chunked = true, .cl = -1, .nheaders = 2,
	  .host = "a", .hname = "transfer-encoding", .hval = "CHUNKED" },
	{ TEST_HTTP_IN("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
		       "content-length: 3\r\n\r\n"),
	  .method = SRV_HTTP_POST, .method_str = "POST", .path = "/",
	  .minor = 1, .keep_alive = true, .cl = 3, .nheaders = 3, .host = "a" },
	{ TEST_HTTP_IN(
		  "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n\r\n"),
	  .method = SRV_HTTP_POST, .method_str = "POST", .path = "/",
	  .minor = 1, .keep_alive = true, .cl = 7, .nheaders = 2, .host = "a" },
	{ TEST_HTTP_IN("POST / HTTP/1.0\r\nContent-Length: 0\r\n\r\n"),
	  .method = SRV_HTTP_POST, .method_str = "POST", .path = "/",
	  .minor = 0, .cl = 0, .nheaders = 1 },
	{ TEST_HTTP_IN("GET / HTTP/1.1\nHost: a\n\n"), .method = SRV_HTTP_GET,
	  .method_str = "GET", .path = "/", .minor = 1, .keep_alive = true,
	  .cl = -1, .nheaders = 1, .host = "a" },
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost: a\n\r\n"),
	  .method = SRV_HTTP_GET, .method_str = "GET", .path = "/", .minor = 1,
	  .keep_alive = true, .cl = -1, .nheaders = 1, .host = "a" },
	{ TEST_HTTP_IN("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
	  .method = SRV_HTTP_GET, .method_str = "GET", .path = "/", .minor = 1,
	  .keep_alive = true, .cl = -1, .nheaders = 1, .host = "a" },
	{ TEST_HTTP_IN("\n\r\n\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
	  .method = SRV_HTTP_GET, .method_str = "GET", .path = "/", .minor = 1,
	  .keep_alive = true, .cl = -1, .nheaders = 1, .host = "a" },
	{ TEST_HTTP_IN("HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n"),
	  .method = SRV_HTTP_HEAD, .method_str = "HEAD", .path = "/x",
	  .minor = 1, .keep_alive = true, .cl = -1, .nheaders = 1,
	  .host = "a" },
	{ TEST_HTTP_IN("DELETE /x/1 HTTP/1.1\r\nHost: a\r\n\r\n"),
	  .method = SRV_HTTP_DELETE, .method_str = "DELETE", .path = "/x/1",
	  .minor = 1, .keep_alive = true, .cl = -1, .nheaders = 1,
	  .host = "a" },
	{ TEST_HTTP_IN(
		  "PATCH /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n"
		  "{}"),
	  .head_len = 49, .method = SRV_HTTP_PATCH, .method_str = "PATCH",
	  .path = "/x", .minor = 1, .keep_alive = true, .cl = 2, .nheaders = 2,
	  .host = "a" },
	{ TEST_HTTP_IN("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"),
	  .method = SRV_HTTP_OPTIONS, .method_str = "OPTIONS", .path = "*",
	  .minor = 1, .keep_alive = true, .cl = -1, .nheaders = 1,
	  .host = "a" },
	{ TEST_HTTP_IN("BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n"),
	  .method = SRV_HTTP_OTHER, .method_str = "BREW", .path = "/pot",
	  .minor = 1, .keep_alive = true, .cl = -1, .nheaders = 1,
	  .host = "a" },
	{ TEST_HTTP_IN("get / HTTP/1.1\r\nHost: a\r\n\r\n"),
	  .method = SRV_HTTP_OTHER, .method_str = "get", .path = "/",
	  .minor = 1, .keep_alive = true, .cl = -1, .nheaders = 1,
	  .host = "a" },
	{ TEST_HTTP_IN(
		  "ABCDEFGHIJKLMNOPQRSTUVWXYZ-12345 / HTTP/1.1\r\nHost: a\r\n"
		  "\r\n"),
	  .method = SRV_HTTP_OTHER,
	  .method_str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ-12345", .path = "/",
	  .minor = 1, .keep_alive = true, .cl = -1, .nheaders = 1,
	  .host = "a" },
	{ TEST_HTTP_IN(
		  "GET http://example.com:8080/p/q?z=1 HTTP/1.1\r\nHost: x\r\n"
		  "\r\n"),
	  .method = SRV_HTTP_GET, .method_str = "GET", .path = "/p/q",
	  .query = "z=1", .minor = 1, .keep_alive = true, .cl = -1,
	  .nheaders = 1, .host = "x" },
	{ TEST_HTTP_IN(
		  "GET http://example.com HTTP/1.1\r\nHost: example.com\r\n"
		  "\r\n"),
	  .method = SRV_HTTP_GET, .method_str = "GET", .path = "/", .minor = 1,
	  .keep_alive = true, .cl = -1, .nheaders = 1, .host = "example.com" },
	{ TEST_HTTP_IN("GET HTTPS://[::1]:443?x HTTP/1.0\r\n\r\n"),
	  .method = SRV_HTTP_GET, .method_str = "GET", .path = "/",
	  .query = "x", .minor = 0, .cl = -1 },
	{ TEST_HTTP_IN("PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n"
		       "Content-Length: 10\r\n\r\n"),
	  .method = SRV_HTTP_PUT, .method_str = "PUT", .path = "/f", .minor = 1,
	  .keep_alive = true, .expect = true, .cl = 10, .nheaders = 3,
	  .host = "a" },
	{ TEST_HTTP_IN("PUT /f HTTP/1.0\r\nExpect: 100-continue\r\n"
		       "Content-Length: 10\r\n\r\n"),
	  .method = SRV_HTTP_PUT, .method_str = "PUT", .path = "/f", .minor = 0,
	  .cl = 10, .nheaders = 2 },
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost: a\r\nX-A: \t v a l \t\r\n\r\n"),
	  .method = SRV_HTTP_GET, .method_str = "GET", .path = "/", .minor = 1,
	  .keep_alive = true, .cl = -1, .nheaders = 2, .host = "a",
	  .hname = "x-a", .hval = "v a l" },
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n"),
	  .method = SRV_HTTP_GET, .method_str = "GET", .path = "/", .minor = 1,
	  .keep_alive = true, .cl = -1, .nheaders = 2, .host = "a",
	  .hname = "X-EMPTY", .hval = "" },
	{ TEST_HTTP_IN(
		  "GET / HTTP/1.1\r\nhOsT: a\r\nX-U: caf\xc3\xa9 \x80\xff\r\n"
		  "\r\n"),
	  .method = SRV_HTTP_GET, .method_str = "GET", .path = "/", .minor = 1,
	  .keep_alive = true, .cl = -1, .nheaders = 2, .host = "a",
	  .hname = "x-u", .hval = "caf\xc3\xa9 \x80\xff" },
	{ TEST_HTTP_IN(
		  "POST / HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\n"
		  "Content-Type: image/png\r\nContent-Length: 0\r\n\r\n"),
	  .method = SRV_HTTP_POST, .method_str = "POST", .path = "/",
	  .minor = 1, .keep_alive = true, .cl = 0, .nheaders = 4, .host = "a",
	  .ctype = "text/plain" },
	{ TEST_HTTP_IN(
		  "GET /!$&'()*+,;=:@-._~%20/%2F HTTP/1.1\r\nHost: a\r\n\r\n"),
	  .method = SRV_HTTP_GET, .method_str = "GET",
	  .path = "/!$&'()*+,;=:@-._~%20/%2F", .minor = 1, .keep_alive = true,
	  .cl = -1, .nheaders = 1, .host = "a" },
	{ TEST_HTTP_IN("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\n"),
	  .head_len = 28, .method = SRV_HTTP_GET, .method_str = "GET",
	  .path = "/1", .minor = 1, .keep_alive = true, .cl = -1, .nheaders = 1,
	  .host = "a" },
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"),
	  .method = SRV_HTTP_GET, .method_str = "GET", .path = "/", .minor = 1,
	  .keep_alive = true, .cl = -1, .nheaders = 1, .host = "[::1]:8080" },
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost:\r\n\r\n"),
	  .method = SRV_HTTP_GET, .method_str = "GET", .path = "/", .minor = 1,
	  .keep_alive = true, .cl = -1, .nheaders = 1, .host = "" },
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), .max_head = 27,
	  .method = SRV_HTTP_GET, .method_str = "GET", .path = "/", .minor = 1,
	  .keep_alive = true, .cl = -1, .nheaders = 1, .host = "a" },
	{ .build = test_http_build_64_fields,
	  .method = SRV_HTTP_GET,
	  .method_str = "GET",
	  .path = "/",
	  .minor = 1,
	  .keep_alive = true,
	  .cl = -1,
	  .nheaders = SRV_HTTP_MAX_HEADERS,
	  .host = "a",
	  .hname = "x-h63",
	  .hval = "v" },
};

static void test_http_ck_valid(const struct test_http_valid *c,
			       const struct srv_http_request *req)
{
	const char *v;
	size_t n;

	ck_assert_int_eq(req->method, c->method);
	test_http_ck_str("method", req->method_str, req->method_len,
			 c->method_str);
	test_http_ck_str("path", req->path, req->path_len, c->path);
	test_http_ck_str("query", req->query, req->query_len, c->query);
	ck_assert_int_eq(req->minor_version, c->minor);
	ck_assert_int_eq(req->keep_alive, c->keep_alive);
	ck_assert_int_eq(req->chunked, c->chunked);
	ck_assert_int_eq(req->expect_continue, c->expect);
	ck_assert_int_eq(req->has_content_length, c->cl >= 0);
	if (c->cl >= 0)
		ck_assert_uint_eq(req->content_length, (uint64_t)c->cl);
	ck_assert_uint_eq(req->nheaders, c->nheaders);
	test_http_ck_str("host", req->host, req->host_len, c->host);
	test_http_ck_str("content-type", req->content_type,
			 req->content_type_len, c->ctype);
	if (c->hname) {
		v = srv_http_header_find(req, c->hname, &n);
		test_http_ck_str(c->hname, v, n, c->hval);
	}
}

START_TEST(test_http_parses_valid_requests)
{
	const struct test_http_valid *c = &test_http_valid_cases[_i];
	struct srv_http_request req;
	struct test_http_result r;
	struct test_http_guard g;
	const char *in;
	size_t n, head_len;

	in = test_http_input(c->in, c->len, c->build, &n);
	head_len = c->head_len ? c->head_len : n;
	r = test_http_three_ways(in, n, c->max_head ?: TEST_HTTP_MAX_HEAD, &req,
				 &g);
	ck_assert_msg(r.ret == (ssize_t)head_len,
		      "case %d: got %zd (status %d), expected %zu", _i, r.ret,
		      r.status, head_len);
	ck_assert_uint_eq(req.head_len, head_len);
	test_http_ck_valid(c, &req);
	test_http_guard_destroy(&g);
}
END_TEST

/* ---- invalid requests -------------------------------------------------- */

struct test_http_invalid {
	const char *in;
	size_t len;
	test_http_build_fn *build; /* instead of in/len */
	size_t max_head;	   /* 0: TEST_HTTP_MAX_HEAD */
	int status;
};

static const struct test_http_invalid test_http_invalid_cases[] = {
	/* framing: request smuggling shapes */
	{ TEST_HTTP_IN("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
		       "Transfer-Encoding: chunked\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN(
		  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		  "Content-Length: 5\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
		       "Content-Length: 6\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN(
		  "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN(
		  "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN(
		  "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN(
		  "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN(
		  "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN("POST / HTTP/1.1\r\nHost: a\r\n"
		       "Content-Length: 18446744073709551616\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN(
		  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN(
		  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n"
		  "\r\n"),
	  .status = 501 },
	{ TEST_HTTP_IN("POST / HTTP/1.1\r\nHost: a\r\n"
		       "Transfer-Encoding: gzip, chunked\r\n\r\n"),
	  .status = 501 },
	{ TEST_HTTP_IN(
		  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n"),
	  .status = 501 },
	/* field syntax */
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\n\tHost: a\r\n\r\n"), .status = 400 },
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), .status = 400 },
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"), .status = 400 },
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost: a\r\nX(Y): b\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost: a\r\nX: \x7f\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN("GET / HTTP/1.1\rHost: a\r\n\r\n"), .status = 400 },
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n"), .status = 400 },
	{ TEST_HTTP_IN("\rGET / HTTP/1.1\r\nHost: a\r\n\r\n"), .status = 400 },
	{ TEST_HTTP_IN("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN(
		  "GET / HTTP/1.1\r\nHost: a\r\nConnection: close;\r\n\r\n"),
	  .status = 400 },
	/* Host */
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\n\r\n"), .status = 400 },
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), .status = 400 },
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost: u@h\r\n\r\n"), .status = 400 },
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost: :80\r\n\r\n"), .status = 400 },
	/* request line */
	{ TEST_HTTP_IN("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), .status = 505 },
	{ TEST_HTTP_IN("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), .status = 505 },
	{ TEST_HTTP_IN("GET / HTTP/0.9\r\n\r\n"), .status = 505 },
	{ TEST_HTTP_IN("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), .status = 400 },
	{ TEST_HTTP_IN("GET / HTTP/11\r\nHost: a\r\n\r\n"), .status = 400 },
	{ TEST_HTTP_IN("GET / http/1.1\r\nHost: a\r\n\r\n"), .status = 400 },
	{ TEST_HTTP_IN("GET / HTTP/1.x\r\nHost: a\r\n\r\n"), .status = 400 },
	{ TEST_HTTP_IN("GET /\r\n\r\n"), .status = 400 },
	{ TEST_HTTP_IN("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), .status = 400 },
	{ TEST_HTTP_IN("GET /  HTTP/1.1\r\nHost: a\r\n\r\n"), .status = 400 },
	{ TEST_HTTP_IN("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"), .status = 400 },
	{ TEST_HTTP_IN(" GET / HTTP/1.1\r\nHost: a\r\n\r\n"), .status = 400 },
	{ TEST_HTTP_IN("GE(T / HTTP/1.1\r\nHost: a\r\n\r\n"), .status = 400 },
	{ TEST_HTTP_IN(
		  "ABCDEFGHIJKLMNOPQRSTUVWXYZ-123456 / HTTP/1.1\r\nHost: a\r\n"
		  "\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN("GET foo HTTP/1.1\r\nHost: a\r\n\r\n"), .status = 400 },
	{ TEST_HTTP_IN("GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n"), .status = 400 },
	{ TEST_HTTP_IN("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), .status = 400 },
	{ TEST_HTTP_IN("OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN("GET /\x80 HTTP/1.1\r\nHost: a\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN("GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN("GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN("GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN("GET http://:80/x HTTP/1.1\r\nHost: h\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN("GET ftp://h/x HTTP/1.1\r\nHost: h\r\n\r\n"),
	  .status = 400 },
	{ TEST_HTTP_IN("CONNECT h:443 HTTP/1.1\r\nHost: h\r\n\r\n"),
	  .status = 400 },
	/* Expect */
	{ TEST_HTTP_IN("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n"),
	  .status = 417 },
	{ TEST_HTTP_IN(
		  "PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, x\r\n"
		  "\r\n"),
	  .status = 417 },
	/* sizes */
	{ .build = test_http_build_65_fields, .status = 431 },
	{ .build = test_http_build_long_head, .status = 431 },
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), .max_head = 26,
	  .status = 431 },
	{ TEST_HTTP_IN("GET / HTTP/1.1\r\nHost: a\r\nX: 0123456789\r\n"),
	  .max_head = 32, .status = 431 },
};

START_TEST(test_http_rejects_invalid_requests)
{
	const struct test_http_invalid *c = &test_http_invalid_cases[_i];
	struct srv_http_request req;
	struct test_http_result r;
	struct test_http_guard g;
	const char *in;
	size_t n;

	in = test_http_input(c->in, c->len, c->build, &n);
	r = test_http_three_ways(in, n, c->max_head ?: TEST_HTTP_MAX_HEAD, &req,
				 &g);
	ck_assert_msg(r.ret == -EBADMSG && r.status == c->status,
		      "case %d: got %zd (status %d), expected status %d", _i,
		      r.ret, r.status, c->status);
	test_http_guard_destroy(&g);
}
END_TEST

/* ---- incremental behaviour, pipelining, lookups ------------------------ */

START_TEST(test_http_needs_more_input)
{
	static const char in[] = "GET / HTTP/1.1\r\nHost: a\r\n\r";
	struct srv_http_request req;
	struct srv_http_parser p;
	int status = 0;

	srv_http_parser_init(&p);
	ck_assert_int_eq(srv_http_parse_head(&p, in, 0, 100, &req, &status),
			 -EAGAIN);
	ck_assert_int_eq(srv_http_parse_head(&p, in, sizeof(in) - 1, 100, &req,
					     &status),
			 -EAGAIN);
	/* the search resumes where it stopped instead of rescanning */
	ck_assert_uint_eq(p.scanned, sizeof(in) - 1);
	ck_assert_int_eq(status, 0);
	srv_http_parser_init(&p);
	ck_assert_int_eq(srv_http_parse_head(&p, "\r\n\r", 3, 100, &req,
					     &status),
			 -EAGAIN);
}
END_TEST

START_TEST(test_http_parses_pipelined_requests)
{
	static const char in[] = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
				 "POST /2 HTTP/1.1\r\nHost: b\r\n"
				 "Content-Length: 3\r\n\r\nabc"
				 "GET /3?x HTTP/1.0\r\n\r\n";
	struct srv_http_request req;
	struct test_http_guard g;
	struct srv_http_parser p;
	size_t off = 0, n = sizeof(in) - 1;
	const char *buf;
	ssize_t r;
	int status;

	test_http_guard_init(&g, n);
	buf = test_http_guard_put(&g, in, n);
	srv_http_parser_init(&p);
	r = srv_http_parse_head(&p, buf, n, 1024, &req, &status);
	ck_assert_int_eq(r, 28);
	test_http_ck_str("path", req.path, req.path_len, "/1");
	off += (size_t)r;

	srv_http_parser_init(&p);
	r = srv_http_parse_head(&p, buf + off, n - off, 1024, &req, &status);
	ck_assert_int_gt(r, 0);
	ck_assert_int_eq(req.method, SRV_HTTP_POST);
	test_http_ck_str("host", req.host, req.host_len, "b");
	ck_assert_uint_eq(req.content_length, 3);
	ck_assert_mem_eq(buf + off + r, "abc", 3);
	off += (size_t)r + req.content_length;

	srv_http_parser_init(&p);
	r = srv_http_parse_head(&p, buf + off, n - off, 1024, &req, &status);
	ck_assert_int_eq(r, (ssize_t)(n - off));
	test_http_ck_str("path", req.path, req.path_len, "/3");
	test_http_ck_str("query", req.query, req.query_len, "x");
	ck_assert(!req.keep_alive);
	test_http_guard_destroy(&g);
}
END_TEST

START_TEST(test_http_finds_headers_case_insensitively)
{
	static const char in[] = "GET / HTTP/1.1\r\nHost: h\r\nX-Twice: 1\r\n"
				 "x-twice: 2\r\nAccept:  */*  \r\n\r\n";
	struct srv_http_request req;
	struct srv_http_parser p;
	const char *v;
	size_t n = 99;
	int status;

	srv_http_parser_init(&p);
	ck_assert_int_eq(srv_http_parse_head(&p, in, sizeof(in) - 1, 1024, &req,
					     &status),
			 (ssize_t)sizeof(in) - 1);
	v = srv_http_header_find(&req, "X-TWICE", &n);
	test_http_ck_str("x-twice", v, n, "1");
	v = srv_http_header_find(&req, "accept", &n);
	test_http_ck_str("accept", v, n, "*/*");
	v = srv_http_header_find(&req, "HOST", NULL);
	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_null(srv_http_header_find(&req, "X-Twic", &n));
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(srv_http_header_find(&req, "Cookie", &n));
}
END_TEST

/* ---- chunked bodies ---------------------------------------------------- */

struct test_http_chunk_case {
	const char *in;
	size_t len;
	test_http_build_fn *build; /* instead of in/len */
	uint64_t max_body;	   /* 0: 1 MiB */
	ssize_t err;		   /* 0: valid, else the error expected */
	const char *body;	   /* when valid */
	const char *rest; /* when valid: the pipelined bytes after it */
};

static size_t test_http_build_long_ext(char *buf, size_t cap)
{
	memcpy(buf, "5;", 2);
	memset(buf + 2, 'e', 5000);
	memcpy(buf + 5002, "\r\nhello\r\n0\r\n\r\n", 14);
	return 5016;
}

static size_t test_http_build_long_trailer(char *buf, size_t cap)
{
	memcpy(buf, "0\r\nX: ", 6);
	memset(buf + 6, 'v', 5000);
	memcpy(buf + 5006, "\r\n\r\n", 4);
	return 5010;
}

static size_t test_http_build_many_trailers(char *buf, size_t cap)
{
	size_t len = 3;
	unsigned int i;

	memcpy(buf, "0\r\n", 3);
	for (i = 0; i <= SRV_HTTP_MAX_HEADERS; i++)
		len += (size_t)snprintf(buf + len, cap - len, "T%u: v\r\n", i);
	memcpy(buf + len, "\r\n", 2);
	return len + 2;
}

static const struct test_http_chunk_case test_http_chunk_cases[] = {
	{ TEST_HTTP_IN("5\r\nhello\r\n0\r\n\r\n"), .body = "hello",
	  .rest = "" },
	{ TEST_HTTP_IN("0\r\n\r\n"), .body = "", .rest = "" },
	{ TEST_HTTP_IN("3\r\nabc\r\n4\r\ndefg\r\n1\r\nh\r\n0\r\n\r\n"),
	  .body = "abcdefgh", .rest = "" },
	{ TEST_HTTP_IN("a\r\n0123456789\r\nA\r\nABCDEFGHIJ\r\n0\r\n\r\n"),
	  .body = "0123456789ABCDEFGHIJ", .rest = "" },
	{ TEST_HTTP_IN("0005\r\nhello\r\n000\r\n\r\n"), .body = "hello",
	  .rest = "" },
	{ TEST_HTTP_IN("0000000000000005\r\nhello\r\n0\r\n\r\n"),
	  .body = "hello", .rest = "" },
	{ TEST_HTTP_IN("5;name=val\r\nhello\r\n0;last\r\n\r\n"),
	  .body = "hello", .rest = "" },
	{ TEST_HTTP_IN("5 \t; a=\"b c\" ;d\r\nhello\r\n0\r\n\r\n"),
	  .body = "hello", .rest = "" },
	{ TEST_HTTP_IN("5\r\nhello\r\n0\r\nX-T: 1\r\nChecksum:\tab \r\n\r\n"),
	  .body = "hello", .rest = "" },
	{ TEST_HTTP_IN("5\nhello\n0\nX: y\n\n"), .body = "hello", .rest = "" },
	{ TEST_HTTP_IN("4\r\n\r\n\r\n\r\n0\r\n\r\n"), .body = "\r\n\r\n",
	  .rest = "" },
	{ TEST_HTTP_IN("5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n"),
	  .body = "hello", .rest = "GET / HTTP/1.1\r\n" },
	{ TEST_HTTP_IN("2\r\nab\r\n0\r\nT: 1\r\n\r\n\r\n"), .body = "ab",
	  .rest = "\r\n" },
	{ TEST_HTTP_IN("5\r\nhello\r\n0\r\n\r\n"), .max_body = 5,
	  .body = "hello", .rest = "" },
	/* malformed */
	{ TEST_HTTP_IN("\r\n"), .err = -EBADMSG },
	{ TEST_HTTP_IN("x\r\n"), .err = -EBADMSG },
	{ TEST_HTTP_IN("5x\r\nhello\r\n"), .err = -EBADMSG },
	{ TEST_HTTP_IN("-5\r\n"), .err = -EBADMSG },
	{ TEST_HTTP_IN(";a\r\n"), .err = -EBADMSG },
	{ TEST_HTTP_IN("00000000000000005\r\nhello\r\n0\r\n\r\n"),
	  .err = -EBADMSG },
	{ TEST_HTTP_IN("5 \r\nhello\r\n0\r\n\r\n"), .err = -EBADMSG },
	{ TEST_HTTP_IN("5\rX"), .err = -EBADMSG },
	{ TEST_HTTP_IN("5;a\x01\r\nhello\r\n0\r\n\r\n"), .err = -EBADMSG },
	{ TEST_HTTP_IN("5\r\nhelloXX0\r\n\r\n"), .err = -EBADMSG },
	{ TEST_HTTP_IN("5\r\nhello\rX0\r\n\r\n"), .err = -EBADMSG },
	{ TEST_HTTP_IN("5\r\nhello0\r\n\r\n"), .err = -EBADMSG },
	{ TEST_HTTP_IN("5\r\nhello\r\n0\r\n\rX"), .err = -EBADMSG },
	{ TEST_HTTP_IN("0\r\n X: a\r\n\r\n"), .err = -EBADMSG },
	{ TEST_HTTP_IN("0\r\nNoColon\r\n\r\n"), .err = -EBADMSG },
	{ TEST_HTTP_IN("0\r\nX : a\r\n\r\n"), .err = -EBADMSG },
	{ TEST_HTTP_IN("0\r\nX: a\0b\r\n\r\n"), .err = -EBADMSG },
	{ TEST_HTTP_IN("0\r\nX: a\rb\r\n\r\n"), .err = -EBADMSG },
	{ .build = test_http_build_long_ext, .err = -EBADMSG },
	{ .build = test_http_build_long_trailer, .err = -EBADMSG },
	{ .build = test_http_build_many_trailers, .err = -EBADMSG },
	/* too large */
	{ TEST_HTTP_IN("6\r\nhello!\r\n0\r\n\r\n"), .max_body = 5,
	  .err = -EMSGSIZE },
	{ TEST_HTTP_IN("3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n"), .max_body = 5,
	  .err = -EMSGSIZE },
	{ TEST_HTTP_IN("FFFFFFFFFFFFFFFF\r\n"), .err = -EMSGSIZE },
};

/* the whole input at once, ending at a guard page, decoded in place */
static void test_http_chunk_whole(const struct test_http_chunk_case *c,
				  const char *in, size_t n, uint64_t max)
{
	struct srv_http_chunked d;
	struct test_http_guard g;
	size_t m = n;
	char *buf;
	ssize_t r;

	test_http_guard_init(&g, n);
	buf = test_http_guard_put(&g, in, n);
	srv_http_chunked_init(&d, max);
	r = srv_http_chunked_decode(&d, buf, &m);
	if (c->err) {
		ck_assert_int_eq(r, c->err);
		/* a rejected body stays rejected */
		m = n;
		ck_assert_int_lt(srv_http_chunked_decode(&d, buf, &m), 0);
	} else {
		ck_assert_int_eq(r, (ssize_t)strlen(c->rest));
		ck_assert_uint_eq(m, strlen(c->body));
		ck_assert_uint_eq(d.total, m);
		ck_assert_mem_eq(buf, c->body, m);
		ck_assert_mem_eq(buf + n - r, c->rest, (size_t)r);
	}
	test_http_guard_destroy(&g);
}

/*
 * @step bytes at a time, each batch appended right after the bytes
 * decoded so far, as a connection's body buffer does.
 */
static void test_http_chunk_steps(const struct test_http_chunk_case *c,
				  const char *in, size_t n, uint64_t max,
				  size_t step)
{
	struct srv_http_chunked d;
	size_t i, k = 0, m, dec = 0;
	ssize_t r = -EAGAIN;
	char *buf = malloc(n + 1);

	ck_assert_ptr_nonnull(buf);
	srv_http_chunked_init(&d, max);
	for (i = 0; i < n && r == -EAGAIN; i += k) {
		k = MIN(step, n - i);
		memcpy(buf + dec, in + i, k);
		m = k;
		r = srv_http_chunked_decode(&d, buf + dec, &m);
		dec += m;
	}
	if (c->err) {
		ck_assert_int_eq(r, c->err);
	} else {
		/* unconsumed: the tail of the last batch, then the rest */
		ck_assert_int_ge(r, 0);
		ck_assert_uint_eq((size_t)r + (n - i), strlen(c->rest));
		ck_assert_mem_eq(in + i - r, c->rest, strlen(c->rest));
		ck_assert_uint_eq(dec, strlen(c->body));
		ck_assert_mem_eq(buf, c->body, dec);
	}
	free(buf);
}

START_TEST(test_http_decodes_chunked_bodies)
{
	static const size_t steps[] = { 1, 2, 3, 7, 64 };
	const struct test_http_chunk_case *c = &test_http_chunk_cases[_i];
	uint64_t max = c->max_body ?: 1 << 20;
	const char *in;
	size_t n, i;

	in = test_http_input(c->in, c->len, c->build, &n);
	test_http_chunk_whole(c, in, n, max);
	for (i = 0; i < ARRAY_SIZE(steps); i++)
		test_http_chunk_steps(c, in, n, max, steps[i]);
}
END_TEST

START_TEST(test_http_chunked_after_done)
{
	char buf[] = "1\r\na\r\n0\r\n\r\nXY";
	struct srv_http_chunked d;
	size_t m = sizeof(buf) - 1;

	srv_http_chunked_init(&d, 100);
	ck_assert_int_eq(srv_http_chunked_decode(&d, buf, &m), 2);
	ck_assert_uint_eq(m, 1);
	m = 2;
	ck_assert_int_eq(srv_http_chunked_decode(&d, buf + 12, &m), 2);
	ck_assert_uint_eq(m, 0);
}
END_TEST

/* ---- path segments ----------------------------------------------------- */

struct test_http_path_case {
	const char *in;
	unsigned int max;
	int ret;
	unsigned int n;
	const char *seg[6];
};

static const struct test_http_path_case test_http_path_cases[] = {
	{ "/", 4, 0, 0, { NULL } },
	{ "/", 0, 0, 0, { NULL } },
	{ "/a", 4, 0, 1, { "a" } },
	{ "/a/", 4, 0, 2, { "a", "" } },
	{ "/a//b", 4, 0, 3, { "a", "", "b" } },
	{ "//", 4, 0, 2, { "", "" } },
	{ "/users/42/posts", 4, 0, 3, { "users", "42", "posts" } },
	{ "/a%2Fb/c", 4, 0, 2, { "a/b", "c" } },
	{ "/a%2fb%2F", 4, 0, 1, { "a/b/" } },
	{ "/%41%62%4a%4A", 4, 0, 1, { "AbJJ" } },
	{ "/a+b", 4, 0, 1, { "a+b" } },
	{ "/%20x/%2B", 4, 0, 2, { " x", "+" } },
	{ "/caf%C3%A9", 4, 0, 1, { "caf\xc3\xa9" } },
	{ "/a/b/c/d", 4, 0, 4, { "a", "b", "c", "d" } },
	{ "/a/b/c/d/e", 4, .ret = -E2BIG },
	{ "/a", 0, .ret = -E2BIG },
	{ "/a/", 1, .ret = -E2BIG },
	{ "/%00", 4, .ret = -EBADMSG },
	{ "/a%00b", 4, .ret = -EBADMSG },
	{ "/%", 4, .ret = -EBADMSG },
	{ "/%2", 4, .ret = -EBADMSG },
	{ "/%2/x", 4, .ret = -EBADMSG },
	{ "/%zz", 4, .ret = -EBADMSG },
	{ "/%g0", 4, .ret = -EBADMSG },
	{ "/a%", 4, .ret = -EBADMSG },
	{ "", 4, .ret = -EBADMSG },
	{ "*", 4, .ret = -EBADMSG },
	{ "a/b", 4, .ret = -EBADMSG },
};

START_TEST(test_http_splits_paths)
{
	const struct test_http_path_case *c = &test_http_path_cases[_i];
	struct test_http_guard gin, gout;
	struct srv_http_str segs[6];
	size_t n = strlen(c->in);
	unsigned int i, nsegs = 99;
	const char *in;
	char *out;
	int ret;

	/* input and output both end at a guard page */
	test_http_guard_init(&gin, n);
	test_http_guard_init(&gout, n);
	in = test_http_guard_put(&gin, c->in, n);
	out = gout.end - n;
	ret = srv_http_path_split(in, n, out, segs, c->max, &nsegs);
	ck_assert_msg(ret == c->ret, "\"%s\": got %d, expected %d", c->in, ret,
		      c->ret);
	if (!ret) {
		ck_assert_uint_eq(nsegs, c->n);
		for (i = 0; i < nsegs; i++)
			test_http_ck_str("segment", segs[i].p, segs[i].len,
					 c->seg[i]);
	}
	test_http_guard_destroy(&gout);
	test_http_guard_destroy(&gin);
}
END_TEST

/* ---- form decoding ----------------------------------------------------- */

struct test_http_form_case {
	const char *in;
	unsigned int max;
	int ret;
	unsigned int n;
	const char *kv[5][2];
};

static const struct test_http_form_case test_http_form_cases[] = {
	{ "", 4, 0, 0, { { NULL } } },
	{ "&&&", 4, 0, 0, { { NULL } } },
	{ "&&&", 0, 0, 0, { { NULL } } },
	{ "a=1", 4, 0, 1, { { "a", "1" } } },
	{ "a=1&b=2", 4, 0, 2, { { "a", "1" }, { "b", "2" } } },
	{ "&a=1&&b=2&", 4, 0, 2, { { "a", "1" }, { "b", "2" } } },
	{ "key", 4, 0, 1, { { "key", "" } } },
	{ "key=", 4, 0, 1, { { "key", "" } } },
	{ "=v", 4, 0, 1, { { "", "v" } } },
	{ "=", 4, 0, 1, { { "", "" } } },
	{ "a=b=c", 4, 0, 1, { { "a", "b=c" } } },
	{ "q=hello+world%21", 4, 0, 1, { { "q", "hello world!" } } },
	{ "a+b=c+d", 4, 0, 1, { { "a b", "c d" } } },
	{ "x=%2B&y=%2b%2F", 4, 0, 2, { { "x", "+" }, { "y", "+/" } } },
	{ "%6B%65%79=v", 4, 0, 1, { { "key", "v" } } },
	{ "n=%e2%82%AC", 4, 0, 1, { { "n", "\xe2\x82\xac" } } },
	{ "a=1&a=2", 4, 0, 2, { { "a", "1" }, { "a", "2" } } },
	{ "a=%26&b=%3D", 4, 0, 2, { { "a", "&" }, { "b", "=" } } },
	{ "a&b&c", 3, 0, 3, { { "a", "" }, { "b", "" }, { "c", "" } } },
	{ "a&b&c", 2, .ret = -E2BIG },
	{ "a", 0, .ret = -E2BIG },
	{ "a=%00", 4, .ret = -EBADMSG },
	{ "%00=a", 4, .ret = -EBADMSG },
	{ "a=%", 4, .ret = -EBADMSG },
	{ "a=%4", 4, .ret = -EBADMSG },
	{ "a=%4&b=1", 4, .ret = -EBADMSG },
	{ "a=%G1", 4, .ret = -EBADMSG },
	{ "%zz=1", 4, .ret = -EBADMSG },
};

START_TEST(test_http_decodes_forms)
{
	const struct test_http_form_case *c = &test_http_form_cases[_i];
	struct test_http_guard gin, gout;
	struct srv_http_kv kv[5];
	size_t n = strlen(c->in);
	unsigned int i, nkv = 99;
	const char *in;
	char *out;
	int ret;

	test_http_guard_init(&gin, n);
	test_http_guard_init(&gout, n);
	in = test_http_guard_put(&gin, c->in, n);
	out = gout.end - n;
	ret = srv_http_form_decode(in, n, out, kv, c->max, &nkv);
	ck_assert_msg(ret == c->ret, "\"%s\": got %d, expected %d", c->in, ret,
		      c->ret);
	if (!ret) {
		ck_assert_uint_eq(nkv, c->n);
		for (i = 0; i < nkv; i++) {
			test_http_ck_str("key", kv[i].key.p, kv[i].key.len,
					 c->kv[i][0]);
			test_http_ck_str("value", kv[i].val.p, kv[i].val.len,
					 c->kv[i][1]);
		}
	}
	test_http_guard_destroy(&gout);
	test_http_guard_destroy(&gin);
}
END_TEST

Suite *http_parse_suite(void)
{
	Suite *s = suite_create("http_parse");
	TCase *tc;

	tc = tcase_create("head");
	tcase_add_loop_test(tc, test_http_parses_valid_requests, 0,
			    ARRAY_SIZE(test_http_valid_cases));
	tcase_add_loop_test(tc, test_http_rejects_invalid_requests, 0,
			    ARRAY_SIZE(test_http_invalid_cases));
	tcase_add_test(tc, test_http_needs_more_input);
	tcase_add_test(tc, test_http_parses_pipelined_requests);
	tcase_add_test(tc, test_http_finds_headers_case_insensitively);
	suite_add_tcase(s, tc);

	tc = tcase_create("chunked");
	tcase_add_loop_test(tc, test_http_decodes_chunked_bodies, 0,
			    ARRAY_SIZE(test_http_chunk_cases));
	tcase_add_test(tc, test_http_chunked_after_done);
	suite_add_tcase(s, tc);

	tc = tcase_create("params");
	tcase_add_loop_test(tc, test_http_splits_paths, 0,
			    ARRAY_SIZE(test_http_path_cases));
	tcase_add_loop_test(tc, test_http_decodes_forms, 0,
			    ARRAY_SIZE(test_http_form_cases));
	suite_add_tcase(s, tc);
	return s;
}
