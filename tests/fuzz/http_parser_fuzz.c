// SPDX-License-Identifier: BSD-2-Clause
/*
 * tests/fuzz/http_parser_fuzz.c - libFuzzer target for server/http_parse.c
 *
 * The input is a request as it would arrive on a connection.  The head is
 * parsed whole and again one byte at a time, and the two answers must be
 * identical (abort() otherwise).  In the byte-at-a-time run, the bytes not
 * given yet are poisoned for AddressSanitizer, so reading past len is
 * caught even though the memory exists.  After a head parses, its path is
 * split, its query decoded, and the body after it is decoded as a chunked
 * body (whole and byte by byte, which must agree) or, with a
 * Content-Length, as a form.  Every buffer is an exact-size heap copy.
 *
 * Built by clang with -fsanitize=fuzzer; tests/fuzz/replay.c runs it over
 * the corpus with gcc for `make check`.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/http_parse.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_HTTP_FUZZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(TEST_HTTP_FUZZ_ASAN)
#define TEST_HTTP_FUZZ_ASAN 1
#endif

#ifdef TEST_HTTP_FUZZ_ASAN
#include <sanitizer/asan_interface.h>
#define TEST_HTTP_POISON(p, n) __asan_poison_memory_region((p), (n))
#define TEST_HTTP_UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
#else
#define TEST_HTTP_POISON(p, n) ((void)(p), (void)(n))
#define TEST_HTTP_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define TEST_HTTP_FUZZ_MAX_HEAD 2048 /* below -max_len, so 431 is reached */
#define TEST_HTTP_FUZZ_MAX_BODY 1024
#define TEST_HTTP_FUZZ_MAX_SEGS 16
#define TEST_HTTP_FUZZ_MAX_KV 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* malloc() of exactly @n bytes (1 for 0) that never returns NULL */
static char *test_http_fuzz_alloc(size_t n)
{
	char *p = malloc(n ? n : 1);

	if (!p)
		abort();
	return p;
}

static char *test_http_fuzz_dup(const void *s, size_t n)
{
	char *p = test_http_fuzz_alloc(n);

	if (n)
		memcpy(p, s, n);
	return p;
}

static bool test_http_fuzz_same_str(const char *a, size_t alen, const char *b,
				    size_t blen)
{
	if (!a || !b)
		return a == b && alen == blen;
	return alen == blen && !memcmp(a, b, alen);
}

/* the fields that must not depend on how the bytes arrived */
static void test_http_fuzz_same_req(const struct srv_http_request *a,
				    const struct srv_http_request *b)
{
	unsigned int i;

	if (a->method != b->method || a->minor_version != b->minor_version ||
	    a->nheaders != b->nheaders || a->keep_alive != b->keep_alive ||
	    a->chunked != b->chunked ||
	    a->expect_continue != b->expect_continue ||
	    a->has_content_length != b->has_content_length ||
	    a->content_length != b->content_length ||
	    a->head_len != b->head_len)
		abort();
	if (!test_http_fuzz_same_str(a->path, a->path_len, b->path,
				     b->path_len) ||
	    !test_http_fuzz_same_str(a->query, a->query_len, b->query,
				     b->query_len) ||
	    !test_http_fuzz_same_str(a->host, a->host_len, b->host,
				     b->host_len))
		abort();
	for (i = 0; i < a->nheaders; i++) {
		if (!test_http_fuzz_same_str(
			    a->headers[i].value, a->headers[i].value_len,
			    b->headers[i].value, b->headers[i].value_len))
			abort();
	}
}

/* what every accepted head must satisfy */
static void test_http_fuzz_check_req(const struct srv_http_request *req,
				     ssize_t ret, size_t size)
{
	size_t n;

	if ((size_t)ret > size || (size_t)ret > TEST_HTTP_FUZZ_MAX_HEAD ||
	    req->head_len != (size_t)ret)
		abort();
	if (!req->path_len || (req->path[0] != '/' && req->path[0] != '*'))
		abort();
	if (req->nheaders > SRV_HTTP_MAX_HEADERS ||
	    req->method_len > SRV_HTTP_MAX_METHOD)
		abort();
	if (req->chunked && (req->has_content_length || !req->minor_version))
		abort();
	if (req->minor_version == 1 && !req->host)
		abort();
	if (req->host && srv_http_header_find(req, "HOST", &n) != req->host)
		abort();
}

/*
 * The head in @buf given 1, 2, 3, ... bytes; the bytes not given yet are
 * poisoned.  @buf must stay allocated while @req is used.
 */
static ssize_t test_http_fuzz_bytewise(char *buf, size_t size,
				       struct srv_http_request *req,
				       int *status)
{
	struct srv_http_parser p;
	ssize_t ret = -EAGAIN;
	size_t k;

	srv_http_parser_init(&p);
	TEST_HTTP_POISON(buf, size);
	for (k = 1; k <= size && ret == -EAGAIN; k++) {
		TEST_HTTP_UNPOISON(buf + k - 1, 1);
		ret = srv_http_parse_head(&p, buf, k, TEST_HTTP_FUZZ_MAX_HEAD,
					  req, status);
	}
	TEST_HTTP_UNPOISON(buf, size);
	return ret;
}

/* decode a whole chunked body in place; result, decoded length in *@m */
static ssize_t test_http_fuzz_chunked_whole(const char *in, size_t n,
					    char *body, size_t *m)
{
	char *buf = test_http_fuzz_dup(in, n);
	struct srv_http_chunked d;
	ssize_t r;

	srv_http_chunked_init(&d, TEST_HTTP_FUZZ_MAX_BODY);
	*m = n;
	r = srv_http_chunked_decode(&d, buf, m);
	if (*m > n || (r >= 0 && (size_t)r > n - *m) || d.total != *m ||
	    d.total > TEST_HTTP_FUZZ_MAX_BODY)
		abort();
	memcpy(body, buf, *m);
	free(buf);
	return r;
}

/* the same body one byte at a time, appended after the decoded bytes */
static ssize_t test_http_fuzz_chunked_bytewise(const char *in, size_t n,
					       char *body, size_t *m)
{
	struct srv_http_chunked d;
	ssize_t r = -EAGAIN;
	size_t i, one;

	srv_http_chunked_init(&d, TEST_HTTP_FUZZ_MAX_BODY);
	*m = 0;
	for (i = 0; i < n && r == -EAGAIN; i++) {
		body[*m] = in[i];
		one = 1;
		r = srv_http_chunked_decode(&d, body + *m, &one);
		*m += one;
	}
	if (r >= 0)
		r += (ssize_t)(n - i); /* never given to the decoder */
	return r;
}

static void test_http_fuzz_chunked(const char *in, size_t n)
{
	char *b1 = test_http_fuzz_dup(in, n), *b2 = test_http_fuzz_dup(in, n);
	size_t m1, m2;
	ssize_t r1, r2;

	r1 = test_http_fuzz_chunked_whole(in, n, b1, &m1);
	r2 = test_http_fuzz_chunked_bytewise(in, n, b2, &m2);
	if (r1 != r2)
		abort();
	if (r1 >= 0 && (m1 != m2 || memcmp(b1, b2, m1)))
		abort();
	free(b2);
	free(b1);
}

static void test_http_fuzz_path(const char *path, size_t len)
{
	struct srv_http_str *segs;
	unsigned int i, n;
	size_t total = 0;
	char *in, *out;

	in = test_http_fuzz_dup(path, len);
	out = test_http_fuzz_alloc(len);
	segs = calloc(TEST_HTTP_FUZZ_MAX_SEGS, sizeof(*segs));
	if (!segs)
		abort();
	if (!srv_http_path_split(in, len, out, segs, TEST_HTTP_FUZZ_MAX_SEGS,
				 &n)) {
		for (i = 0; i < n; i++)
			total += segs[i].len;
		if (n > TEST_HTTP_FUZZ_MAX_SEGS || total > len)
			abort();
	}
	free(segs);
	free(out);
	free(in);
}

static void test_http_fuzz_form(const char *s, size_t len)
{
	struct srv_http_kv *kv;
	unsigned int i, n;
	size_t total = 0;
	char *in, *out;

	in = test_http_fuzz_dup(s, len);
	out = test_http_fuzz_alloc(len);
	kv = calloc(TEST_HTTP_FUZZ_MAX_KV, sizeof(*kv));
	if (!kv)
		abort();
	if (!srv_http_form_decode(in, len, out, kv, TEST_HTTP_FUZZ_MAX_KV,
				  &n)) {
		for (i = 0; i < n; i++)
			total += kv[i].key.len + kv[i].val.len;
		if (n > TEST_HTTP_FUZZ_MAX_KV || total > len)
			abort();
	}
	free(kv);
	free(out);
	free(in);
}

/* the head whole and byte by byte: both answers must be the same */
static ssize_t test_http_fuzz_head(const char *in, size_t size,
				   struct srv_http_request *req)
{
	static struct srv_http_request req2;
	int status = 0, status2 = 0;
	struct srv_http_parser p;
	ssize_t ret, ret2;
	char *copy;

	srv_http_parser_init(&p);
	ret = srv_http_parse_head(&p, in, size, TEST_HTTP_FUZZ_MAX_HEAD, req,
				  &status);
	copy = test_http_fuzz_dup(in, size);
	ret2 = test_http_fuzz_bytewise(copy, size, &req2, &status2);
	if (ret != ret2 || (ret == -EBADMSG && status != status2))
		abort();
	if (ret == -EBADMSG && status != 400 && status != 417 &&
	    status != 431 && status != 501 && status != 505)
		abort();
	if (ret > 0) {
		test_http_fuzz_same_req(req, &req2);
		test_http_fuzz_check_req(req, ret, size);
	}
	free(copy);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct srv_http_request req;
	const char *in = (const char *)data;
	ssize_t ret;
	size_t rest;

	ret = test_http_fuzz_head(in, size, &req);
	if (ret <= 0)
		return 0;
	test_http_fuzz_path(req.path, req.path_len);
	if (req.query)
		test_http_fuzz_form(req.query, req.query_len);
	rest = size - (size_t)ret;
	if (req.chunked)
		test_http_fuzz_chunked(in + ret, rest);
	else if (req.has_content_length)
		test_http_fuzz_form(in + ret, req.content_length < rest ?
						      req.content_length :
						      rest);
	return 0;
}
