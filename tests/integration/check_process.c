// SPDX-License-Identifier: BSD-2-Clause
/*
 * tests/integration/check_process.c - the process model, end to end
 *
 * The real poold: keep-alive /healthz, JSON 404s, a graceful stop with a
 * request in flight, respawn after kill -9, -t, -s, the pidfile lock,
 * daemon mode, unix sockets, status_listen, SIGQUIT, SIGTTIN/SIGTTOU.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <check.h>

#include "tests/integration/harness.h"
#include "tests/integration/suites.h"

static struct h_server srv;

static void teardown(void)
{
	h_cleanup(&srv);
}

START_TEST(test_process_healthz_keepalive)
{
	struct h_resp r;
	char v[64];
	int fd, i;

	h_boot(&srv, 2, "");
	fd = h_connect(srv.port);
	ck_assert_int_ge(fd, 0);
	for (i = 0; i < 5; i++) {
		h_sends(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
		ck_assert_int_eq(h_read_resp(fd, &r), 0);
		ck_assert_int_eq(r.status, 200);
		ck_assert_str_eq(r.body, "{\"ok\":true}\n");
		ck_assert(r.keep_alive);
		ck_assert_str_eq(h_header(&r, "Content-Type", v, sizeof(v)),
				 "application/json");
		ck_assert_ptr_nonnull(h_header(&r, "Date", v, sizeof(v)));
	}
	/* HEAD: the same head, no body */
	h_sends(fd, "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_int_eq(h_read_resp_ex(fd, &r, true), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(h_header(&r, "Content-Length", v, sizeof(v)), "12");
	/* and nothing after the head: the next response follows at once */
	h_sends(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_int_eq(h_read_resp(fd, &r), 0);
	ck_assert_str_eq(r.body, "{\"ok\":true}\n");
	close(fd);
	h_stop(&srv);
}
END_TEST

START_TEST(test_process_not_found_json)
{
	struct h_resp r;
	char v[64];

	h_boot(&srv, 1, "");
	ck_assert_int_eq(h_get(srv.port, "/nope", &r), 404);
	ck_assert_str_eq(h_header(&r, "Content-Type", v, sizeof(v)),
			 "application/json");
	ck_assert_ptr_nonnull(
		strstr(r.body, "{\"error\":{\"code\":\"not_found\""));
	ck_assert_int_eq(h_get(srv.port, "/healthz/x", &r), 404);
	ck_assert_int_eq(h_get(srv.port, "/health%7A", &r), 200);
	ck_assert_int_eq(h_get(srv.port, "/healthz%00", &r), 400);
	h_stop(&srv);
}
END_TEST

START_TEST(test_process_method_not_allowed)
{
	struct h_resp r;
	char v[64];
	int fd;

	h_boot(&srv, 1, "");
	fd = h_connect(srv.port);
	h_sends(fd,
		"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
	ck_assert_int_eq(h_read_resp(fd, &r), 0);
	ck_assert_int_eq(r.status, 405);
	ck_assert_str_eq(h_header(&r, "Allow", v, sizeof(v)), "GET, HEAD");
	ck_assert_ptr_nonnull(strstr(r.body, "\"method_not_allowed\""));
	/* the body was consumed: the connection goes on */
	h_sends(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_int_eq(h_read_resp(fd, &r), 0);
	ck_assert_int_eq(r.status, 200);
	close(fd);
	h_stop(&srv);
}
END_TEST

/* a request whose first bytes were read when SIGTERM came is answered */
START_TEST(test_process_sigterm_inflight)
{
	struct h_resp r;
	struct stat st;
	int fd, status;

	h_boot(&srv, 2, "");
	fd = h_connect(srv.port);
	h_sends(fd, "GET /healthz HTTP/1.1\r\nHo");
	usleep(200000); /* the worker has read the first bytes */
	kill(srv.pid, SIGTERM);
	usleep(300000);
	h_sends(fd, "st: x\r\n\r\n");
	ck_assert_int_eq(h_read_resp(fd, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert(!r.keep_alive); /* Connection: close while draining */
	ck_assert(h_wait_eof(fd, 5000));
	close(fd);
	status = h_signal_wait(&srv, 0, 10000);
	ck_assert_int_eq(status, 0);
	ck_assert_int_eq(stat(srv.pidfile, &st), -1);
	ck_assert(h_log_has(&srv, "poold stopped"));
}
END_TEST

START_TEST(test_process_worker_respawn)
{
	pid_t before[8], after[8];
	struct h_resp r;
	int n, i;

	h_boot(&srv, 2, "");
	ck_assert(h_wait_workers(srv.pid, 2, 5000));
	n = h_workers(srv.pid, before, 8);
	ck_assert_int_eq(n, 2);
	kill(before[0], SIGKILL);
	for (i = 0; i < 100; i++) {
		n = h_workers(srv.pid, after, 8);
		if (n == 2 && after[0] != before[0] && after[1] != before[0])
			break;
		usleep(50000);
	}
	ck_assert_int_eq(n, 2);
	ck_assert(after[0] != before[0] && after[1] != before[0]);
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(h_get(srv.port, "/healthz", &r), 200);
	ck_assert(h_log_has(&srv, "was killed by signal 9"));
	h_stop(&srv);
}
END_TEST

START_TEST(test_process_config_test)
{
	char cmd[2048], out[4096], bad[96];

	h_setup(&srv, 1, "");
	snprintf(cmd, sizeof(cmd), "%s -t -c %s 2>&1", h_bin(), srv.conf);
	ck_assert_int_eq(h_run(cmd, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "test is successful"));

	snprintf(bad, sizeof(bad), "%s/bad.conf", srv.dir);
	h_write_file(
		bad,
		"workers = 2;\nbogus = 1;\nlimits = { max_connections = \"x\"; };\n");
	snprintf(cmd, sizeof(cmd), "%s -t -c %s 2>&1", h_bin(), bad);
	ck_assert_int_eq(h_run(cmd, out, sizeof(out)), 1);
	snprintf(cmd, sizeof(cmd), "%s:2: unknown key \"bogus\"", bad);
	ck_assert_msg(strstr(out, cmd), "got: %s", out);
	snprintf(cmd, sizeof(cmd), "%s:3:", bad);
	ck_assert_msg(strstr(out, cmd), "got: %s", out);

	h_write_file(bad, "workers = ;\n");
	snprintf(cmd, sizeof(cmd), "%s -t -c %s 2>&1", h_bin(), bad);
	ck_assert_int_eq(h_run(cmd, out, sizeof(out)), 1);
	snprintf(cmd, sizeof(cmd), "%s:1:", bad);
	ck_assert_msg(strstr(out, cmd), "got: %s", out);

	/* -t creates nothing */
	ck_assert_int_eq(access(srv.pidfile, F_OK), -1);
	snprintf(cmd, sizeof(cmd), "%s -t -c %s/missing.conf 2>&1", h_bin(),
		 srv.dir);
	ck_assert_int_eq(h_run(cmd, out, sizeof(out)), 1);
	ck_assert_msg(strstr(out, "No such file"), "got: %s", out);
}
END_TEST

START_TEST(test_process_signal_command)
{
	char cmd[2048], out[4096];
	int status;

	h_setup(&srv, 1, "");
	snprintf(cmd, sizeof(cmd), "%s -s stop -c %s 2>&1", h_bin(), srv.conf);
	ck_assert_int_eq(h_run(cmd, out, sizeof(out)), 1);
	ck_assert_msg(strstr(out, "no running master"), "got: %s", out);

	h_start(&srv);
	snprintf(cmd, sizeof(cmd), "%s -s bogus -c %s 2>&1", h_bin(), srv.conf);
	ck_assert_int_eq(h_run(cmd, out, sizeof(out)), 1);
	snprintf(cmd, sizeof(cmd), "%s -s reopen -c %s 2>&1", h_bin(),
		 srv.conf);
	ck_assert_int_eq(h_run(cmd, out, sizeof(out)), 0);
	snprintf(cmd, sizeof(cmd), "%s -s stop -c %s 2>&1", h_bin(), srv.conf);
	ck_assert_int_eq(h_run(cmd, out, sizeof(out)), 0);
	status = h_signal_wait(&srv, 0, 10000);
	ck_assert_int_eq(status, 0);
	ck_assert_int_eq(access(srv.pidfile, F_OK), -1);
	ck_assert(h_log_has(&srv, "log reopened"));
}
END_TEST

START_TEST(test_process_second_instance)
{
	char cmd[2048], out[4096];
	struct h_resp r;

	h_boot(&srv, 1, "");
	snprintf(cmd, sizeof(cmd), "%s -f -c %s 2>&1", h_bin(), srv.conf);
	ck_assert_int_eq(h_run(cmd, out, sizeof(out)), 2);
	ck_assert(h_log_has(&srv, "already running"));
	/* the first one is untouched */
	ck_assert_int_eq(h_get(srv.port, "/healthz", &r), 200);
	ck_assert_int_eq(access(srv.pidfile, F_OK), 0);
	h_stop(&srv);
}
END_TEST

START_TEST(test_process_daemon)
{
	char cmd[2048], out[4096];
	struct h_resp r;
	int i, ok = 0;

	h_setup(&srv, 1, "");
	snprintf(cmd, sizeof(cmd), "%s -c %s 2>&1", h_bin(), srv.conf);
	ck_assert_int_eq(h_run(cmd, out, sizeof(out)), 0);
	for (i = 0; i < 250 && !ok; i++) {
		ok = h_get(srv.port, "/healthz", &r) == 200;
		usleep(20000);
	}
	ck_assert(ok);
	ck_assert_int_eq(access(srv.pidfile, F_OK), 0);
	snprintf(cmd, sizeof(cmd), "%s -s stop -c %s 2>&1", h_bin(), srv.conf);
	ck_assert_int_eq(h_run(cmd, out, sizeof(out)), 0);
	for (i = 0; i < 500 && access(srv.pidfile, F_OK) == 0; i++)
		usleep(20000);
	ck_assert_int_eq(access(srv.pidfile, F_OK), -1);
	ck_assert(h_log_has(&srv, "poold stopped"));
}
END_TEST

START_TEST(test_process_unix_and_status_listen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char extra[512], sock[96];
	struct h_resp r;
	int fd, sport = h_free_port();

	h_setup(&srv, 1, "");
	snprintf(extra, sizeof(extra),
		 "listen = [ \"127.0.0.1:%d\", \"unix:api.sock\" ];\n"
		 "status_listen = \"127.0.0.1:%d\";\n"
		 "workers = 1;\npidfile = \"poold.pid\";\n"
		 "shm_name = \"/poold-test-status\";\n"
		 "log = { file = \"poold.log\"; };\n",
		 srv.port, sport);
	h_write_file(srv.conf, extra);
	/* h_start polls /healthz on the main port: start by hand */
	srv.port = sport;
	h_start(&srv);

	ck_assert_int_eq(h_get(sport, "/healthz", &r), 200);
	ck_assert_int_eq(h_get(sport, "/readyz", &r), 200);
	ck_assert_int_eq(h_get(sport, "/other", &r), 404);

	snprintf(sock, sizeof(sock), "%s/api.sock", srv.dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	/* built-ins are served only on status_listen */
	h_sends(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_int_eq(h_read_resp(fd, &r), 0);
	ck_assert_int_eq(r.status, 404);
	close(fd);
	h_stop(&srv);
	ck_assert_int_eq(access(sock, F_OK), -1);
}
END_TEST

START_TEST(test_process_sigquit_fast)
{
	long long t0;
	int fd, status;

	h_boot(&srv, 2, "shutdown = { drain_timeout_ms = 60000; };");
	fd = h_connect(srv.port);
	h_sends(fd, "GET /healthz HTTP/1.1\r\nHo"); /* held open */
	usleep(100000);
	t0 = h_now_ms();
	status = h_signal_wait(&srv, SIGQUIT, 10000);
	ck_assert_int_eq(status, 0);
	ck_assert_int_lt(h_now_ms() - t0, 5000);
	ck_assert(h_wait_eof(fd, 2000));
	close(fd);
	ck_assert_int_eq(access(srv.pidfile, F_OK), -1);
}
END_TEST

START_TEST(test_process_ttin_ttou)
{
	struct h_resp r;

	h_boot(&srv, 2, "max_workers = 3;");
	ck_assert(h_wait_workers(srv.pid, 2, 5000));
	kill(srv.pid, SIGTTIN);
	ck_assert(h_wait_workers(srv.pid, 3, 5000));
	kill(srv.pid, SIGTTIN); /* max_workers: stays at 3 */
	usleep(300000);
	ck_assert(h_wait_workers(srv.pid, 3, 1000));
	kill(srv.pid, SIGTTOU);
	ck_assert(h_wait_workers(srv.pid, 2, 5000));
	kill(srv.pid, SIGTTOU);
	ck_assert(h_wait_workers(srv.pid, 1, 5000));
	kill(srv.pid, SIGTTOU); /* never below 1 */
	usleep(300000);
	ck_assert(h_wait_workers(srv.pid, 1, 1000));
	ck_assert_int_eq(h_get(srv.port, "/healthz", &r), 200);
	h_stop(&srv);
}
END_TEST

START_TEST(test_process_bind_failure)
{
	char cmd[2048], out[4096];
	struct h_server other;

	h_boot(&srv, 1, "");
	/* another config on the same port, own pidfile: cannot bind */
	h_setup(&other, 1, "");
	snprintf(
		cmd, sizeof(cmd),
		"sed -i 's/127.0.0.1:[0-9]*/127.0.0.1:%d/' %s && %s -f -c %s 2>&1",
		srv.port, other.conf, h_bin(), other.conf);
	ck_assert_int_eq(h_run(cmd, out, sizeof(out)), 2);
	ck_assert(h_log_has(&other, "could not listen"));
	ck_assert_int_eq(access(other.pidfile, F_OK), -1);
	h_cleanup(&other);
	h_stop(&srv);
}
END_TEST

/* a second SIGTERM during a drain is a fast stop */
START_TEST(test_process_second_sigterm_fast)
{
	long long t0;
	int fd;

	h_boot(&srv, 1, "shutdown = { drain_timeout_ms = 60000; };");
	fd = h_connect(srv.port);
	h_sends(fd, "GET /healthz HTTP/1.1\r\nHo"); /* holds the drain */
	usleep(100000);
	kill(srv.pid, SIGTERM);
	usleep(300000);
	ck_assert_int_eq(kill(srv.pid, 0), 0); /* still draining */
	t0 = h_now_ms();
	ck_assert_int_eq(h_signal_wait(&srv, SIGTERM, 10000), 0);
	ck_assert_int_lt(h_now_ms() - t0, 5000);
	ck_assert(h_log_has(&srv, "fast stop"));
	close(fd);
}
END_TEST

/* kill -9 of the master: its workers die with it; a new one starts */
START_TEST(test_process_master_killed)
{
	pid_t pids[8];
	struct h_resp r;
	int n, i, alive = 1;

	h_boot(&srv, 2, "");
	ck_assert(h_wait_workers(srv.pid, 2, 5000));
	n = h_workers(srv.pid, pids, 8);
	ck_assert_int_eq(h_signal_wait(&srv, SIGKILL, 5000), 128 + SIGKILL);
	for (i = 0; i < 100 && alive; i++) {
		usleep(20000);
		alive = 0;
		for (int k = 0; k < n; k++)
			alive += kill(pids[k], 0) == 0;
	}
	ck_assert_int_eq(alive, 0); /* PR_SET_PDEATHSIG */
	h_start(&srv);		    /* same port, pidfile and segment name */
	ck_assert_int_eq(h_get(srv.port, "/healthz", &r), 200);
	h_stop(&srv);
}
END_TEST

Suite *process_suite(void)
{
	Suite *s = suite_create("process");
	TCase *tc = tcase_create("process");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_process_healthz_keepalive);
	tcase_add_test(tc, test_process_not_found_json);
	tcase_add_test(tc, test_process_method_not_allowed);
	tcase_add_test(tc, test_process_sigterm_inflight);
	tcase_add_test(tc, test_process_worker_respawn);
	tcase_add_test(tc, test_process_config_test);
	tcase_add_test(tc, test_process_signal_command);
	tcase_add_test(tc, test_process_second_instance);
	tcase_add_test(tc, test_process_daemon);
	tcase_add_test(tc, test_process_unix_and_status_listen);
	tcase_add_test(tc, test_process_sigquit_fast);
	tcase_add_test(tc, test_process_ttin_ttou);
	tcase_add_test(tc, test_process_bind_failure);
	tcase_add_test(tc, test_process_second_sigterm_fast);
	tcase_add_test(tc, test_process_master_killed);
	suite_add_tcase(s, tc);
	return s;
}
