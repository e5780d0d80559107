// SPDX-License-Identifier: BSD-2-Clause
/*
 * tests/integration/check_metrics.c - /metrics and /readyz from the segment
 *
 * Exact counts: after a known set of requests and a quiet moment, the
 * counters summed over every worker equal what the client sent, per route
 * and status class (the harness's own /healthz polls are counted apart,
 * under their own name).  The text passes promtool.  /readyz turns 503 for
 * the whole shutdown grace while everything else is served.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <check.h>

#include "tests/integration/harness.h"
#include "tests/integration/suites.h"

static struct h_server srv;

static const char conf[] =
	"databases = ( { name = \"main\"; path = \"m.db\"; schema = \"schema.sql\"; } );\n"
	"routes = (\n"
	"{ method = \"GET\"; path = \"/items/{id}\"; db = \"main\";\n"
	"  sql = \"SELECT id FROM items WHERE id = :id\"; result = \"one\";\n"
	"  types = { id = \"int\"; }; },\n"
	"{ method = \"POST\"; path = \"/items\"; db = \"main\";\n"
	"  sql = \"INSERT INTO items(id) VALUES (:id) RETURNING id\"; result = \"one\"; }\n"
	");\n";

static void teardown(void)
{
	h_cleanup(&srv);
}

static void boot(unsigned int workers, const char *more)
{
	char extra[4096], path[160];

	snprintf(extra, sizeof(extra), "%s%s", conf, more);
	h_setup(&srv, workers, extra);
	snprintf(path, sizeof(path), "%s/schema.sql", srv.dir);
	h_write_file(
		path,
		"CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY);\n"
		"INSERT OR IGNORE INTO items(id) VALUES (1), (2), (3);\n");
	h_start(&srv);
}

/* the value of one sample line "name{labels} value" in the text */
static long long sample(const char *text, const char *series)
{
	char want[512];
	const char *p;

	snprintf(want, sizeof(want), "\n%s ", series);
	p = strstr(text, want);
	return p ? atoll(p + strlen(want)) : -1;
}

START_TEST(test_metrics_exact_counts)
{
	char path[64], tmp[160], cmd[256];
	struct h_resp r;
	int i, fd;
	long long healthz;

	boot(2, "");
	for (i = 0; i < 30; i++) { /* 2xx */
		snprintf(path, sizeof(path), "/items/%d", i % 3 + 1);
		ck_assert_int_eq(h_get(srv.port, path, &r), 200);
	}
	for (i = 0; i < 7; i++) /* 4xx: no such row */
		ck_assert_int_eq(h_get(srv.port, "/items/99", &r), 404);
	for (i = 0; i < 5; i++) /* 4xx: no such route */
		ck_assert_int_eq(h_get(srv.port, "/nope", &r), 404);
	ck_assert_int_eq(h_req(srv.port,
			       "POST /items HTTP/1.1\r\nHost: x\r\n"
			       "Content-Type: application/json\r\n"
			       "Content-Length: 8\r\n\r\n{\"id\":1}",
			       &r),
			 409);
	usleep(300000); /* quiet */
	ck_assert_int_eq(h_get(srv.port, "/metrics", &r), 200);
	ck_assert_int_eq(
		sample(r.body,
		       "poold_requests_total{route=\"GET /items/{id}\",class=\"2xx\"}"),
		30);
	ck_assert_int_eq(
		sample(r.body,
		       "poold_requests_total{route=\"GET /items/{id}\",class=\"4xx\"}"),
		7);
	ck_assert_int_eq(
		sample(r.body,
		       "poold_requests_total{route=\"other\",class=\"4xx\"}"),
		5);
	ck_assert_int_eq(
		sample(r.body,
		       "poold_requests_total{route=\"POST /items\",class=\"4xx\"}"),
		1);
	healthz = sample(
		r.body,
		"poold_requests_total{route=\"GET /healthz\",class=\"2xx\"}");
	ck_assert_int_ge(healthz, 1); /* the harness's start-up polls */
	ck_assert_int_eq(
		sample(r.body, "poold_pool_acquires_total{db=\"main\"}"), 38);
	ck_assert_int_eq(sample(r.body, "poold_workers"), 2);
	/* promtool accepts it */
	snprintf(tmp, sizeof(tmp), "%s/metrics.txt", srv.dir);
	fd = creat(tmp, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, r.body, r.body_len), (ssize_t)r.body_len);
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", tmp);
	ck_assert_int_eq(h_run(cmd, NULL, 0), 0);
	/* the /metrics request itself is counted under its own name */
	ck_assert_int_eq(h_get(srv.port, "/metrics", &r), 200);
	ck_assert_int_eq(
		sample(r.body,
		       "poold_requests_total{route=\"GET /metrics\",class=\"2xx\"}"),
		1);
	h_stop(&srv);
}
END_TEST

/* shutdown.grace_ms: /readyz says 503 while everything else goes on */
START_TEST(test_metrics_readyz_grace)
{
	struct h_resp r;
	int st;

	boot(1, "shutdown = { grace_ms = 1500; };");
	ck_assert_int_eq(h_get(srv.port, "/readyz", &r), 200);
	kill(srv.pid, SIGTERM);
	usleep(300000);
	ck_assert_int_eq(h_get(srv.port, "/readyz", &r), 503);
	ck_assert_ptr_nonnull(strstr(r.body, "stopping"));
	ck_assert_int_eq(h_get(srv.port, "/items/1", &r), 200);
	ck_assert_int_eq(h_get(srv.port, "/healthz", &r), 200);
	st = h_signal_wait(&srv, 0, 10000);
	ck_assert_int_eq(st, 0);
}
END_TEST

Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_metrics_exact_counts);
	tcase_add_test(tc, test_metrics_readyz_grace);
	suite_add_tcase(s, tc);
	return s;
}
