// SPDX-License-Identifier: BSD-2-Clause
/*
 * tests/integration/check_http.c - HTTP/1.1 behaviour of the real server
 *
 * Keep-alive and HTTP/1.0, pipelining, every HTTP-level error status with
 * the connection closed after it, the four timeouts, max_connections,
 * 100-continue, chunked bodies, and slow-header clients that must not
 * delay anyone else.  Timing assertions are generous safety bounds only.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>

#include "tests/integration/harness.h"
#include "tests/integration/suites.h"

static struct h_server srv;

static void teardown(void)
{
	h_cleanup(&srv);
}

/* send @req on a new connection, expect @status and then EOF */
static void expect_close(const char *req, int status)
{
	struct h_resp r;
	int fd = h_connect(srv.port);

	ck_assert_int_ge(fd, 0);
	h_sends(fd, req);
	ck_assert_msg(h_read_resp(fd, &r) == 0, "no response to: %s", req);
	ck_assert_msg(r.status == status, "got %d, want %d for: %s", r.status,
		      status, req);
	ck_assert(!r.keep_alive);
	ck_assert_ptr_nonnull(strstr(r.body, "{\"error\":{\"code\":"));
	ck_assert(h_wait_eof(fd, 5000));
	close(fd);
}

START_TEST(test_http_pipelined)
{
	char req[8192] = "";
	struct h_resp r;
	int fd, i;

	h_boot(&srv, 2, "");
	for (i = 0; i < 20; i++)
		strcat(req, i % 2 ? "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n" :
				    "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
	fd = h_connect(srv.port);
	h_sends(fd, req); /* one write */
	for (i = 0; i < 20; i++) {
		ck_assert_int_eq(h_read_resp(fd, &r), 0);
		ck_assert_int_eq(r.status, i % 2 ? 404 : 200);
		ck_assert(r.keep_alive);
	}
	close(fd);
	h_stop(&srv);
}
END_TEST

START_TEST(test_http_10_keepalive)
{
	struct h_resp r;
	int fd;

	h_boot(&srv, 1, "");
	/* 1.0 without keep-alive: answered, then closed */
	fd = h_connect(srv.port);
	h_sends(fd, "GET /healthz HTTP/1.0\r\n\r\n");
	ck_assert_int_eq(h_read_resp(fd, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert(!r.keep_alive);
	ck_assert(h_wait_eof(fd, 5000));
	close(fd);
	/* 1.0 with keep-alive: kept */
	fd = h_connect(srv.port);
	h_sends(fd, "GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	ck_assert_int_eq(h_read_resp(fd, &r), 0);
	ck_assert(r.keep_alive);
	h_sends(fd, "GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	ck_assert_int_eq(h_read_resp(fd, &r), 0);
	ck_assert_int_eq(r.status, 200);
	close(fd);
	/* 1.1 with Connection: close */
	fd = h_connect(srv.port);
	h_sends(fd,
		"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	ck_assert_int_eq(h_read_resp(fd, &r), 0);
	ck_assert(!r.keep_alive);
	ck_assert(h_wait_eof(fd, 5000));
	close(fd);
	h_stop(&srv);
}
END_TEST

START_TEST(test_http_errors_close)
{
	char big[4096];

	h_boot(&srv, 1,
	       "limits = { max_header_bytes = 1024; max_body_bytes = 16; };");
	expect_close("GET /healthz HTTP/1.1\r\n\r\n", 400); /* no Host */
	expect_close("GET /healthz HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
		     400);
	expect_close("GET /healthz HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
		     400);
	expect_close("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
		     "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		     400);
	expect_close("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
		     "Content-Length: 4\r\n\r\nabcd",
		     400);
	expect_close(
		"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
		"\r\nzz\r\n",
		400);
	expect_close("GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n", 400);
	expect_close("GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505);
	expect_close(
		"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
		501);
	expect_close(
		"GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n",
		417);
	expect_close(
		"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n",
		413);
	expect_close(
		"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
		"\r\n20\r\n0123456789abcdef0123456789abcdef\r\n0\r\n\r\n",
		413);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ", 39);
	expect_close(big, 431);
	h_stop(&srv);
}
END_TEST

/* an error response is readable even when the client keeps sending */
START_TEST(test_http_no_rst_after_error)
{
	static char junk[256 * 1024];
	struct h_resp r;
	int fd;

	h_boot(&srv, 1, "");
	memset(junk, 'x', sizeof(junk));
	fd = h_connect(srv.port);
	h_sends(fd, "GET /healthz HTTP/1.1\r\n\r\n"); /* no Host: 400 */
	/* more data than the server will read before it answers */
	send(fd, junk, sizeof(junk), MSG_NOSIGNAL | MSG_DONTWAIT);
	ck_assert_int_eq(h_read_resp(fd, &r), 0);
	ck_assert_int_eq(r.status, 400);
	close(fd);
	h_stop(&srv);
}
END_TEST

START_TEST(test_http_header_timeout)
{
	struct h_resp r;
	long long t0;
	int fd;

	h_boot(&srv, 1, "limits = { header_timeout_ms = 300; };");
	fd = h_connect(srv.port);
	t0 = h_now_ms();
	h_sends(fd, "GET /healthz HTTP/1.1\r\nHo");
	ck_assert_int_eq(h_read_resp(fd, &r), 0);
	ck_assert_int_eq(r.status, 408);
	ck_assert_ptr_nonnull(strstr(r.body, "\"timeout\""));
	ck_assert_int_lt(h_now_ms() - t0, 5000);
	ck_assert(h_wait_eof(fd, 5000));
	close(fd);
	/* a connection that never sends a byte is closed silently */
	fd = h_connect(srv.port);
	ck_assert(h_wait_eof(fd, 5000));
	close(fd);
	h_stop(&srv);
}
END_TEST

START_TEST(test_http_body_timeout)
{
	struct h_resp r;
	int fd;

	h_boot(&srv, 1, "limits = { body_timeout_ms = 300; };");
	fd = h_connect(srv.port);
	h_sends(fd,
		"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
	ck_assert_int_eq(h_read_resp(fd, &r), 0);
	ck_assert_int_eq(r.status, 408);
	ck_assert(h_wait_eof(fd, 5000));
	close(fd);
	h_stop(&srv);
}
END_TEST

START_TEST(test_http_keepalive_timeout)
{
	struct h_resp r;
	long long t0;
	int fd;

	h_boot(&srv, 1, "limits = { keepalive_timeout_ms = 300; };");
	fd = h_connect(srv.port);
	h_sends(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_int_eq(h_read_resp(fd, &r), 0);
	ck_assert(r.keep_alive);
	t0 = h_now_ms();
	ck_assert(h_wait_eof(fd, 5000));
	ck_assert_int_ge(h_now_ms() - t0, 200);
	close(fd);
	h_stop(&srv);
}
END_TEST

START_TEST(test_http_slow_headers)
{
	enum { N = 200 };
	static int fds[N];
	struct h_resp r;
	long long t0;
	int i;

	h_boot(&srv, 2, "");
	for (i = 0; i < N; i++) {
		fds[i] = h_connect(srv.port);
		ck_assert_int_ge(fds[i], 0);
		h_sends(fds[i], "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ");
	}
	t0 = h_now_ms();
	ck_assert_int_eq(h_get(srv.port, "/healthz", &r), 200);
	ck_assert_int_lt(h_now_ms() - t0, 2000);
	for (i = 0; i < N; i++)
		close(fds[i]);
	h_stop(&srv);
}
END_TEST

START_TEST(test_http_max_connections)
{
	struct pollfd p;
	struct h_resp r;
	int a, b, c;

	h_boot(&srv, 1, "limits = { max_connections = 2; };");
	a = h_connect(srv.port);
	b = h_connect(srv.port);
	h_sends(a, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_int_eq(h_read_resp(a, &r), 0);
	h_sends(b, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_int_eq(h_read_resp(b, &r), 0);
	/* the third waits in the backlog, unanswered */
	c = h_connect(srv.port);
	ck_assert_int_ge(c, 0);
	h_sends(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
	p = (struct pollfd){ .fd = c, .events = POLLIN };
	ck_assert_int_eq(poll(&p, 1, 500), 0);
	close(a); /* a slot frees: the third is accepted and answered */
	ck_assert_int_eq(h_read_resp(c, &r), 0);
	ck_assert_int_eq(r.status, 200);
	close(b);
	close(c);
	h_stop(&srv);
}
END_TEST

START_TEST(test_http_expect_continue)
{
	struct h_resp r;
	int fd;

	h_boot(&srv, 1, "");
	fd = h_connect(srv.port);
	h_sends(fd, "POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
		    "Expect: 100-continue\r\n\r\n");
	ck_assert_int_eq(h_read_resp(fd, &r), 0);
	ck_assert_int_eq(r.status, 100);
	h_sends(fd, "hello");
	ck_assert_int_eq(h_read_resp(fd, &r), 0);
	ck_assert_int_eq(r.status, 404);
	ck_assert(r.keep_alive);
	close(fd);
	h_stop(&srv);
}
END_TEST

START_TEST(test_http_chunked_then_pipelined)
{
	struct h_resp r;
	int fd;

	h_boot(&srv, 1, "");
	fd = h_connect(srv.port);
	h_sends(fd,
		"POST /nope HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
		"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: v\r\n\r\n"
		"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_int_eq(h_read_resp(fd, &r), 0);
	ck_assert_int_eq(r.status, 404);
	ck_assert_int_eq(h_read_resp(fd, &r), 0);
	ck_assert_int_eq(r.status, 200);
	/* the same, one byte at a time */
	{
		const char *s =
			"POST /nope HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
			"3\r\nabc\r\n0\r\n\r\n";
		for (; *s; s++) {
			h_send(fd, s, 1);
			usleep(1000);
		}
	}
	ck_assert_int_eq(h_read_resp(fd, &r), 0);
	ck_assert_int_eq(r.status, 404);
	close(fd);
	h_stop(&srv);
}
END_TEST

/*
 * A client that pipelines requests and never reads its responses: the
 * server's socket buffers fill, its send stops making progress, and after
 * write_timeout_ms the connection is cut (the client sees a reset).
 */
START_TEST(test_http_write_timeout)
{
	static const char req[] = "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n";
	long long t0 = 0, end;
	int fd, cut = 0;
	ssize_t n;

	h_boot(&srv, 1, "limits = { write_timeout_ms = 500; };");
	fd = h_connect(srv.port);
	/* no tiny SO_RCVBUF here: on loopback it makes TCP drop segments
	 * and back off for seconds, which stalls the requests instead */
	end = h_now_ms() + 20000;
	while (h_now_ms() < end && !cut) {
		n = send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN) {
			if (!t0)
				t0 = h_now_ms(); /* both directions are full */
			usleep(10000);
		} else if (n < 0) {
			cut = errno == ECONNRESET || errno == EPIPE;
			break;
		}
	}
	ck_assert_msg(cut, "the connection was not cut");
	ck_assert_int_gt(t0, 0);
	close(fd);
	/* and the server goes on */
	{
		struct h_resp r;

		ck_assert_int_eq(h_get(srv.port, "/healthz", &r), 200);
	}
	h_stop(&srv);
}
END_TEST

Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("http");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_http_pipelined);
	tcase_add_test(tc, test_http_10_keepalive);
	tcase_add_test(tc, test_http_errors_close);
	tcase_add_test(tc, test_http_no_rst_after_error);
	tcase_add_test(tc, test_http_header_timeout);
	tcase_add_test(tc, test_http_body_timeout);
	tcase_add_test(tc, test_http_keepalive_timeout);
	tcase_add_test(tc, test_http_slow_headers);
	tcase_add_test(tc, test_http_max_connections);
	tcase_add_test(tc, test_http_expect_continue);
	tcase_add_test(tc, test_http_chunked_then_pipelined);
	tcase_add_test(tc, test_http_write_timeout);
	suite_add_tcase(s, tc);
	return s;
}
