// SPDX-License-Identifier: BSD-2-Clause
/*
 * tests/integration/check_reload.c - SIGHUP reloads, live
 *
 * A bad file, or a change of a restart-only key, changes nothing and says
 * why (in the segment: poolmon shows it); a good one brings a new
 * generation with the new schema, routes, SQL and worker count; a storm
 * of reloads under keep-alive load answers every request with a 2xx.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "tests/integration/harness.h"
#include "tests/integration/suites.h"

static struct h_server srv;
static char base[4096]; /* the configuration as first written */

static const char conf[] =
	"databases = ( { name = \"main\"; path = \"r.db\"; schema = \"schema.sql\"; } );\n"
	"routes = (\n"
	"{ method = \"GET\"; path = \"/items/{id}\"; db = \"main\";\n"
	"  sql = \"SELECT id, name FROM items WHERE id = :id\"; result = \"one\"; }\n"
	");\n";

static void teardown(void)
{
	h_cleanup(&srv);
}

static void boot(unsigned int workers)
{
	char path[160];
	FILE *f;
	size_t n;

	h_setup(&srv, workers, conf);
	snprintf(path, sizeof(path), "%s/schema.sql", srv.dir);
	h_write_file(
		path,
		"CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT);\n"
		"INSERT OR IGNORE INTO items VALUES (1, 'one'), (2, 'two');\n");
	f = fopen(srv.conf, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(base, 1, sizeof(base) - 1, f);
	base[n] = '\0';
	fclose(f);
	h_start(&srv);
}

/* replace the first @from in @text (of @size bytes) by @to */
static void subst(char *text, size_t size, const char *from, const char *to)
{
	char *p = strstr(text, from), rest[8192];

	ck_assert_ptr_nonnull(p);
	snprintf(rest, sizeof(rest), "%s", p + strlen(from));
	snprintf(p, size - (size_t)(p - text), "%s%s", to, rest);
}

/* SIGHUP, then wait until the segment records a reload after @before */
static json_t *reload(double before)
{
	json_t *j = NULL, *lr;
	int i;

	kill(srv.pid, SIGHUP);
	for (i = 0; i < 200; i++) {
		usleep(50000);
		json_decref(j);
		j = h_poolmon_json(srv.shm, 50);
		lr = json_object_get(j, "last_reload");
		if (json_real_value(json_object_get(lr, "time")) > before &&
		    json_integer_value(json_object_get(j, "generation")) > 0 &&
		    !strcmp(json_string_value(json_object_get(j, "state")),
			    "running"))
			return j;
	}
	ck_abort_msg("no reload recorded");
	return NULL;
}

static double last_reload_time(void)
{
	json_t *j = h_poolmon_json(srv.shm, 50);
	double t = json_real_value(
		json_object_get(json_object_get(j, "last_reload"), "time"));

	json_decref(j);
	return t;
}

START_TEST(test_reload_refused_changes_nothing)
{
	char text[8192];
	struct h_resp r;
	json_t *j, *lr;

	boot(2);
	/* a file that does not load: the old routes go on */
	snprintf(text, sizeof(text), "%sbogus = 1;\n", base);
	h_write_file(srv.conf, text);
	j = reload(last_reload_time());
	lr = json_object_get(j, "last_reload");
	ck_assert(json_is_false(json_object_get(lr, "ok")));
	snprintf(text, sizeof(text), "%s:", srv.conf);
	ck_assert_ptr_nonnull(strstr(
		json_string_value(json_object_get(lr, "message")), text));
	ck_assert_ptr_nonnull(
		strstr(json_string_value(json_object_get(lr, "message")),
		       "unknown key \"bogus\""));
	ck_assert_int_eq(json_integer_value(json_object_get(j, "generation")),
			 1);
	json_decref(j);
	ck_assert_int_eq(h_get(srv.port, "/items/1", &r), 200);
	/* a restart-only key: refused whole */
	snprintf(text, sizeof(text), "%s", base);
	subst(text, sizeof(text), "shm_name = \"/", "shm_name = \"/x");
	h_write_file(srv.conf, text);
	j = reload(last_reload_time());
	lr = json_object_get(j, "last_reload");
	ck_assert(json_is_false(json_object_get(lr, "ok")));
	ck_assert_ptr_nonnull(
		strstr(json_string_value(json_object_get(lr, "message")),
		       "restart required"));
	json_decref(j);
	ck_assert_int_eq(h_get(srv.port, "/items/2", &r), 200);
	ck_assert(h_log_has(&srv, "reload failed"));
	h_write_file(srv.conf, base);
	h_stop(&srv);
}
END_TEST

/* new schema and route; new worker count and SQL: all applied */
START_TEST(test_reload_applies_everything)
{
	char text[8192], path[160];
	struct h_resp r;
	json_t *j;

	boot(2);
	ck_assert_int_eq(h_get(srv.port, "/tags", &r), 404);
	snprintf(path, sizeof(path), "%s/schema.sql", srv.dir);
	h_write_file(
		path,
		"CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT);\n"
		"INSERT OR IGNORE INTO items VALUES (1, 'one'), (2, 'two');\n"
		"CREATE TABLE IF NOT EXISTS tags (t TEXT);\n"
		"INSERT INTO tags SELECT 'new' WHERE NOT EXISTS (SELECT 1 FROM tags);\n");
	snprintf(text, sizeof(text), "%s", base);
	/* 3 workers; the item route's SQL changes; a route on the new table */
	subst(text, sizeof(text), "workers = 2;", "workers = 3;");
	subst(text, sizeof(text), "SELECT id, name FROM",
	      "SELECT id, 7 AS x FROM");
	subst(text, sizeof(text), " }\n);",
	      " },\n{ method = \"GET\"; path = \"/tags\"; db = \"main\";\n"
	      "  sql = \"SELECT t FROM tags\"; result = \"many\"; }\n);");
	h_write_file(srv.conf, text);
	j = reload(last_reload_time());
	ck_assert(json_is_true(
		json_object_get(json_object_get(j, "last_reload"), "ok")));
	ck_assert_int_eq(json_integer_value(json_object_get(j, "generation")),
			 2);
	json_decref(j);
	ck_assert(h_wait_workers(srv.pid, 3, 10000));
	ck_assert_int_eq(h_get(srv.port, "/tags", &r), 200);
	ck_assert_str_eq(r.body, "[{\"t\":\"new\"}]\n");
	ck_assert_int_eq(h_get(srv.port, "/items/1", &r), 200);
	ck_assert_str_eq(r.body, "{\"id\":1,\"x\":7}\n");
	j = h_poolmon_json(srv.shm, 50);
	ck_assert_int_eq(
		json_integer_value(json_object_get(j, "workers_alive")), 3);
	json_decref(j);
	h_stop(&srv);
}
END_TEST

/* keep-alive clients: a response saying close means reconnect */
struct client {
	int fd;
	char buf[4096];
	size_t len;
	bool closing;
};

static int client_open(struct client *c)
{
	c->fd = h_connect(srv.port);
	c->len = 0;
	c->closing = false;
	if (c->fd < 0)
		return -1;
	h_sends(c->fd, "GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n");
	return 0;
}

/* a whole response: its status; *close when it said Connection: close */
static int client_take(struct client *c, bool *close)
{
	char *end = memmem(c->buf, c->len, "\r\n\r\n", 4), *cl;
	size_t head, want, used;
	int status = 0;

	if (!end)
		return 0;
	head = (size_t)(end - c->buf) + 4;
	cl = memmem(c->buf, head, "Content-Length: ", 16);
	want = cl ? strtoul(cl + 16, NULL, 10) : 0;
	if (c->len < head + want)
		return 0;
	sscanf(c->buf, "HTTP/1.1 %d", &status);
	*close = memmem(c->buf, head, "Connection: close", 17) != NULL;
	used = head + want;
	memmove(c->buf, c->buf + used, c->len - used);
	c->len -= used;
	return status;
}

START_TEST(test_reload_storm_drops_nothing)
{
	enum { N = 32 };
	static struct client cs[N];
	struct pollfd p[N];
	long long end, next_hup, ok = 0, bad = 0, cut = 0, reloads = 0;
	int i, status;
	bool closing;
	ssize_t k;
	json_t *j;

	boot(2);
	for (i = 0; i < N; i++)
		ck_assert_int_eq(client_open(&cs[i]), 0);
	end = h_now_ms() + 15000;
	next_hup = h_now_ms() + 250;
	while (h_now_ms() < end) {
		if (h_now_ms() >= next_hup) {
			kill(srv.pid, SIGHUP);
			reloads++;
			next_hup += 250;
		}
		for (i = 0; i < N; i++)
			p[i] = (struct pollfd){ .fd = cs[i].fd,
						.events = POLLIN };
		if (poll(p, N, 50) < 0)
			break;
		for (i = 0; i < N; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			k = recv(cs[i].fd, cs[i].buf + cs[i].len,
				 sizeof(cs[i].buf) - cs[i].len, 0);
			if (k <= 0) { /* closed with a request in flight */
				cut++;
close_and_reopen:
				close(cs[i].fd);
				ck_assert_int_eq(client_open(&cs[i]), 0);
				continue;
			}
			cs[i].len += (size_t)k;
			status = client_take(&cs[i], &closing);
			if (!status)
				continue;
			if (status == 200)
				ok++;
			else
				bad++;
			if (closing)
				goto close_and_reopen;
			h_sends(cs[i].fd,
				"GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n");
		}
	}
	for (i = 0; i < N; i++)
		close(cs[i].fd);
	fprintf(stderr,
		"reload storm: %lld requests answered 200 across %lld SIGHUPs, %lld non-2xx, %lld cut\n",
		ok, reloads, bad, cut);
	ck_assert_int_eq(bad, 0);
	ck_assert_int_eq(cut, 0);
	ck_assert_int_gt(ok, 1000);
	j = h_poolmon_json(srv.shm, 50);
	ck_assert_int_gt(json_integer_value(json_object_get(j, "generation")),
			 5);
	json_decref(j);
	h_stop(&srv);
}
END_TEST

/* a worker whose loop stalls is killed by the watchdog and replaced */
START_TEST(test_reload_watchdog_replaces_stalled)
{
	pid_t before[8], after[8];
	struct h_resp r;
	int n, i;

	h_setup(&srv, 2, "worker_timeout_s = 1;");
	h_start(&srv);
	ck_assert(h_wait_workers(srv.pid, 2, 5000));
	n = h_workers(srv.pid, before, 8);
	ck_assert_int_eq(n, 2);
	kill(before[0], SIGSTOP);
	for (i = 0; i < 100; i++) {
		usleep(100000);
		n = h_workers(srv.pid, after, 8);
		if (n == 2 && after[0] != before[0] && after[1] != before[0])
			break;
	}
	ck_assert(after[0] != before[0] && after[1] != before[0]);
	ck_assert(h_log_has(&srv, "has stalled"));
	ck_assert_int_eq(h_get(srv.port, "/healthz", &r), 200);
	h_stop(&srv);
}
END_TEST

/* 50 requests in flight on a 300 ms route, then SIGTERM: all answered */
START_TEST(test_reload_stop_answers_inflight)
{
	struct h_burst_res res[50];
	char path[160];
	pid_t pid;
	int i, n, st;

	h_setup(&srv, 2,
		"debug_functions = true;\n"
		"databases = ( { name = \"main\"; path = \"s.db\";"
		" pool = { size = 25; acquire_timeout_ms = 10000; }; } );\n"
		"routes = ( { method = \"GET\"; path = \"/slow\"; db = \"main\";"
		" sql = \"SELECT sleep_ms(300) AS s\"; result = \"one\"; } );\n");
	snprintf(path, sizeof(path), "%s/s.db", srv.dir);
	h_start(&srv);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		n = h_burst(srv.port, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n",
			    50, res, 20000);
		for (i = 0; i < 50; i++)
			if (res[i].status != 200)
				_exit(1);
		_exit(n == 50 ? 0 : 1);
	}
	usleep(150000); /* every request read, none answered yet */
	kill(srv.pid, SIGTERM);
	waitpid(pid, &st, 0);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(h_signal_wait(&srv, 0, 10000), 0);
	ck_assert_int_eq(access(srv.pidfile, F_OK), -1);
}
END_TEST

/* a listener the new configuration drops is closed once the old
 * generation is gone; the new one answers at once */
START_TEST(test_reload_moves_listener)
{
	char text[8192], from[64], to[64];
	struct h_resp r;
	int port2 = h_free_port(), i, fd = 0;
	json_t *j;

	boot(1);
	snprintf(text, sizeof(text), "%s", base);
	snprintf(from, sizeof(from), "127.0.0.1:%d", srv.port);
	snprintf(to, sizeof(to), "127.0.0.1:%d", port2);
	subst(text, sizeof(text), from, to);
	h_write_file(srv.conf, text);
	j = reload(last_reload_time());
	ck_assert(json_is_true(
		json_object_get(json_object_get(j, "last_reload"), "ok")));
	json_decref(j);
	ck_assert_int_eq(h_get(port2, "/items/1", &r), 200);
	for (i = 0; i < 100; i++) { /* the old one closes after the drain */
		fd = h_connect(srv.port);
		if (fd < 0)
			break;
		close(fd);
		usleep(50000);
	}
	ck_assert_int_lt(fd, 0);
	srv.port = port2; /* h_stop and friends use the new one */
	h_stop(&srv);
}
END_TEST

/* a new generation that cannot start (its port is taken): the old serves */
START_TEST(test_reload_new_generation_fails)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char text[8192], from[64], to[64];
	socklen_t len = sizeof(sa);
	struct h_resp r;
	int blocker;
	json_t *j, *lr;

	boot(1);
	/* a port someone else listens on */
	blocker = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(blocker, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(blocker, 1), 0);
	ck_assert_int_eq(getsockname(blocker, (struct sockaddr *)&sa, &len), 0);
	snprintf(text, sizeof(text), "%s", base);
	snprintf(from, sizeof(from), "127.0.0.1:%d", srv.port);
	snprintf(to, sizeof(to), "127.0.0.1:%d", ntohs(sa.sin_port));
	subst(text, sizeof(text), from, to);
	h_write_file(srv.conf, text);
	j = reload(last_reload_time());
	lr = json_object_get(j, "last_reload");
	ck_assert(json_is_false(json_object_get(lr, "ok")));
	ck_assert_ptr_nonnull(
		strstr(json_string_value(json_object_get(lr, "message")),
		       "could not start generation 2"));
	ck_assert_int_eq(json_integer_value(json_object_get(j, "generation")),
			 1);
	json_decref(j);
	ck_assert_int_eq(h_get(srv.port, "/items/1", &r), 200);
	close(blocker);
	h_write_file(srv.conf, base);
	h_stop(&srv);
}
END_TEST

/* SIGUSR1: master and workers reopen their log (after a rotation) */
START_TEST(test_reload_reopen_logs_everywhere)
{
	char rotated[160];
	struct h_resp r;
	FILE *f;
	char buf[8192];
	size_t n;

	boot(2);
	snprintf(rotated, sizeof(rotated), "%s.1", srv.log);
	ck_assert_int_eq(rename(srv.log, rotated), 0);
	kill(srv.pid, SIGUSR1);
	usleep(300000);
	ck_assert_int_eq(h_get(srv.port, "/items/1", &r), 200);
	ck_assert_int_eq(h_signal_wait(&srv, SIGTERM, 10000), 0);
	/* the workers' drain lines went to the new file */
	f = fopen(srv.log, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "worker 0: draining"));
	ck_assert_ptr_nonnull(strstr(buf, "worker 1: draining"));
	ck_assert_ptr_nonnull(strstr(buf, "master: poold stopped"));
}
END_TEST

/* send @sig, then wait until poolmon shows @n workers alive */
static void signal_until_alive(int sig, int n)
{
	int i, alive = -1;
	json_t *j;

	kill(srv.pid, sig);
	for (i = 0; i < 50 && alive != n; i++) {
		usleep(100000);
		j = h_poolmon_json(srv.shm, 50);
		alive = (int)json_integer_value(
			json_object_get(j, "workers_alive"));
		ck_assert_int_eq(json_integer_value(json_object_get(
					 j, "workers_expected")),
				 n);
		json_decref(j);
	}
	ck_assert_int_eq(alive, n);
}

/* SIGTTIN / SIGTTOU as poolmon sees them */
START_TEST(test_reload_ttin_ttou_in_poolmon)
{
	boot(2);
	signal_until_alive(SIGTTIN, 3);
	/* one at a time: standard signals sent together coalesce */
	signal_until_alive(SIGTTOU, 2);
	signal_until_alive(SIGTTOU, 1);
	h_stop(&srv);
}
END_TEST

Suite *reload_suite(void)
{
	Suite *s = suite_create("reload");
	TCase *tc = tcase_create("reload");

	tcase_set_timeout(tc, 90);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_reload_refused_changes_nothing);
	tcase_add_test(tc, test_reload_applies_everything);
	tcase_add_test(tc, test_reload_storm_drops_nothing);
	tcase_add_test(tc, test_reload_watchdog_replaces_stalled);
	tcase_add_test(tc, test_reload_stop_answers_inflight);
	tcase_add_test(tc, test_reload_moves_listener);
	tcase_add_test(tc, test_reload_new_generation_fails);
	tcase_add_test(tc, test_reload_reopen_logs_everywhere);
	tcase_add_test(tc, test_reload_ttin_ttou_in_poolmon);
	suite_add_tcase(s, tc);
	return s;
}
