// SPDX-License-Identifier: BSD-2-Clause
/*
 * tests/integration/check_accounting.c - what poolmon reports is exact
 *
 * Counts per route and status class equal what the client sent; a pool of
 * one under parallel clients shows its waits, peak waiters and the age of
 * the oldest waiter; stopped workers leave connections in the listen queue
 * and the master's sampling shows exactly how many.  Everything is read
 * through `poolmon --once --json`, as an operator would.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "tests/integration/harness.h"
#include "tests/integration/suites.h"

static struct h_server srv;

static const char conf[] =
	"debug_functions = true;\n"
	"databases = ( { name = \"main\"; path = \"acc.db\"; schema = \"schema.sql\";"
	" pool = { size = 1; acquire_timeout_ms = 10000; }; } );\n"
	"routes = (\n"
	"{ method = \"GET\"; path = \"/items/{id}\"; db = \"main\";\n"
	"  sql = \"SELECT id FROM items WHERE id = :id\"; result = \"one\"; },\n"
	"{ method = \"GET\"; path = \"/slow/{ms}\"; db = \"main\";\n"
	"  sql = \"SELECT sleep_ms(:ms) AS s\"; result = \"one\"; }\n"
	");\n";

static void teardown(void)
{
	h_cleanup(&srv);
}

static void boot(unsigned int workers)
{
	char path[160];

	h_setup(&srv, workers, conf);
	snprintf(path, sizeof(path), "%s/schema.sql", srv.dir);
	h_write_file(
		path,
		"CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY);\n"
		"INSERT OR IGNORE INTO items(id) VALUES (1), (2);\n");
	h_start(&srv);
}

static json_t *find_by(json_t *arr, const char *key, const char *val)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
	{
		if (!strcmp(json_string_value(json_object_get(v, key)), val))
			return v;
	}
	ck_abort_msg("no %s = \"%s\" in poolmon's output", key, val);
	return NULL;
}

static long long route_count(json_t *j, const char *id, const char *class)
{
	json_t *r = find_by(json_object_get(j, "routes"), "id", id);

	return json_integer_value(
		json_object_get(json_object_get(r, "requests"), class));
}

START_TEST(test_accounting_exact_per_route)
{
	struct h_resp r;
	json_t *j;
	int i;

	boot(2);
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(h_get(srv.port, "/items/1", &r), 200);
	for (i = 0; i < 6; i++)
		ck_assert_int_eq(h_get(srv.port, "/items/9", &r), 404);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(h_get(srv.port, "/nope", &r), 404);
	ck_assert_int_eq(h_req(srv.port,
			       "BREW /items/1 HTTP/1.1\r\nHost: x\r\n\r\n", &r),
			 405);
	usleep(200000);
	j = h_poolmon_json(srv.shm, 100);
	ck_assert_int_eq(route_count(j, "GET /items/{id}", "2xx"), 20);
	ck_assert_int_eq(route_count(j, "GET /items/{id}", "4xx"), 6);
	ck_assert_int_eq(route_count(j, "GET /items/{id}", "5xx"), 0);
	ck_assert_int_eq(route_count(j, "other", "4xx"), 5);
	ck_assert_int_ge(route_count(j, "GET /healthz", "2xx"), 1); /* apart */
	ck_assert_int_eq(
		json_integer_value(json_object_get(
			find_by(json_object_get(j, "dbs"), "name", "main"),
			"acquires")),
		26);
	json_decref(j);
	h_stop(&srv);
}
END_TEST

/* a pool of 1 and six parallel 200 ms requests: waits are counted */
START_TEST(test_accounting_pool_waits)
{
	struct h_burst_res res[6];
	json_t *j, *d;
	pid_t pid;
	int st;

	boot(1);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(h_burst(srv.port,
			      "GET /slow/200 HTTP/1.1\r\nHost: x\r\n\r\n", 6,
			      res, 20000) == 6 ?
			      0 :
			      1);
	usleep(450000); /* one runs, the others wait */
	j = h_poolmon_json(srv.shm, 100);
	d = find_by(json_object_get(j, "dbs"), "name", "main");
	ck_assert_int_eq(json_integer_value(json_object_get(d, "pool_size")),
			 1);
	ck_assert_int_eq(json_integer_value(json_object_get(d, "in_use")), 1);
	ck_assert_int_ge(json_integer_value(json_object_get(d, "waiters")), 2);
	ck_assert(json_real_value(json_object_get(d, "maxwait_s")) > 0.2);
	json_decref(j);
	waitpid(pid, &st, 0);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	j = h_poolmon_json(srv.shm, 100);
	d = find_by(json_object_get(j, "dbs"), "name", "main");
	ck_assert_int_eq(json_integer_value(json_object_get(d, "acquires")), 6);
	ck_assert_int_ge(json_integer_value(json_object_get(d, "peak_waiters")),
			 4);
	ck_assert(json_real_value(json_object_get(d, "acquire_wait_max_s")) >
		  0.8);
	ck_assert_int_eq(json_integer_value(json_object_get(d, "waiters")), 0);
	json_decref(j);
	h_stop(&srv);
}
END_TEST

/* stopped workers: the kernel queues connections; the master counts them */
START_TEST(test_accounting_listen_queue)
{
	enum { K = 5 };
	pid_t pids[8];
	int fds[K], n, i;
	struct h_resp r;
	json_t *j, *l;

	boot(2);
	n = h_workers(srv.pid, pids, 8);
	ck_assert_int_eq(n, 2);
	for (i = 0; i < n; i++)
		kill(pids[i], SIGSTOP);
	for (i = 0; i < K; i++) {
		fds[i] = h_connect(srv.port);
		ck_assert_int_ge(fds[i], 0);
	}
	usleep(400000); /* the master samples every 100 ms */
	j = h_poolmon_json(srv.shm, 100);
	l = json_array_get(json_object_get(j, "listeners"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(l, "queue")), K);
	json_decref(j);
	for (i = 0; i < n; i++)
		kill(pids[i], SIGCONT);
	for (i = 0; i < K; i++) {
		h_sends(fds[i], "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
		ck_assert_int_eq(h_read_resp(fds[i], &r), 0);
		ck_assert_int_eq(r.status, 200);
		close(fds[i]);
	}
	usleep(400000);
	j = h_poolmon_json(srv.shm, 100);
	l = json_array_get(json_object_get(j, "listeners"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(l, "queue")), 0);
	json_decref(j);
	h_stop(&srv);
}
END_TEST

Suite *accounting_suite(void)
{
	Suite *s = suite_create("accounting");
	TCase *tc = tcase_create("accounting");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_accounting_exact_per_route);
	tcase_add_test(tc, test_accounting_pool_waits);
	tcase_add_test(tc, test_accounting_listen_queue);
	suite_add_tcase(s, tc);
	return s;
}
