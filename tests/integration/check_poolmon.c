// SPDX-License-Identifier: BSD-2-Clause
/*
 * tests/integration/check_poolmon.c - poolmon against the real server
 *
 * The binary comes from $POOLMON_BIN (else ./tools/poolmon), so the same
 * tests run against the sanitizer builds.  Without a server poolmon exits
 * 1 with one line; with one, --once --json prints exactly one document
 * that describes it, --prometheus passes promtool, the curses view draws
 * in a private tmux server and answers its keys, and --json follows the
 * server across a restart on the same segment name.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "lib/version.h"
#include "tests/integration/harness.h"
#include "tests/integration/suites.h"

static struct h_server srv;
static char tmux_sock[64]; /* a private tmux server, "" when none */
static pid_t mon_pid;	   /* a poolmon running in the background */
static char mon_out[64];   /* its output file */
static char out[1 << 16];

static const char dbconf[] =
	"databases = ( { name = \"main\"; path = \"mon.db\";"
	" schema = \"schema.sql\"; } );\n"
	"routes = (\n"
	"{ method = \"GET\"; path = \"/n\"; db = \"main\";\n"
	"  sql = \"SELECT count(*) AS n FROM t\"; result = \"one\"; }\n"
	");\n";

static void teardown(void)
{
	char cmd[160];

	if (mon_pid > 0) {
		kill(mon_pid, SIGKILL);
		waitpid(mon_pid, NULL, 0);
		mon_pid = 0;
	}
	if (tmux_sock[0]) {
		snprintf(cmd, sizeof(cmd),
			 "tmux -L %s kill-server >/dev/null 2>&1", tmux_sock);
		h_run(cmd, NULL, 0);
		/* the server leaves its socket behind */
		snprintf(cmd, sizeof(cmd), "%s/tmux-%u/%s",
			 getenv("TMUX_TMPDIR") ? getenv("TMUX_TMPDIR") : "/tmp",
			 (unsigned int)getuid(), tmux_sock);
		unlink(cmd);
		tmux_sock[0] = '\0';
	}
	if (mon_out[0]) {
		unlink(mon_out);
		mon_out[0] = '\0';
	}
	h_cleanup(&srv);
}

/* a server with @workers workers and one database, and a few requests */
static void boot(unsigned int workers)
{
	static const char *const paths[] = {
		"/healthz", "/n", "/healthz", "/n", "/missing", "/readyz"
	};
	char path[160];
	struct h_resp r;
	unsigned int i;

	h_setup(&srv, workers, dbconf);
	snprintf(path, sizeof(path), "%s/schema.sql", srv.dir);
	h_write_file(
		path,
		"CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY);\n");
	h_start(&srv);
	ck_assert(h_wait_workers(srv.pid, (int)workers, 10000));
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		ck_assert_int_gt(h_get(srv.port, paths[i], &r), 0);
}

/* the number of lines in @s */
static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

START_TEST(test_poolmon_no_server_one_line)
{
	char cmd[512];
	int st;

	/* stderr only: stdout goes away */
	snprintf(cmd, sizeof(cmd),
		 "'%s' -n /nonexistent-poolmon-%d --once 2>&1 >/dev/null",
		 h_poolmon_bin(), (int)getpid());
	st = h_run(cmd, out, sizeof(out));
	ck_assert_int_eq(st, 1);
	ck_assert_int_eq(lines(out), 1);
	ck_assert_msg(strstr(out, "/nonexistent-poolmon-") != NULL,
		      "the message names no segment: %s", out);

	/* the same from --json --once and --prometheus; nothing on stdout */
	snprintf(cmd, sizeof(cmd),
		 "'%s' -n /nonexistent --json --once 2>/dev/null",
		 h_poolmon_bin());
	ck_assert_int_eq(h_run(cmd, out, sizeof(out)), 1);
	ck_assert_str_eq(out, "");
	snprintf(cmd, sizeof(cmd), "'%s' -n /nonexistent --prometheus 2>&1",
		 h_poolmon_bin());
	ck_assert_int_eq(h_run(cmd, out, sizeof(out)), 1);
	ck_assert_int_eq(lines(out), 1);
}
END_TEST

START_TEST(test_poolmon_version_help_usage)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "'%s' -v 2>&1", h_poolmon_bin());
	ck_assert_int_eq(h_run(cmd, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "poolmon " POOLD_VERSION "\n");

	snprintf(cmd, sizeof(cmd), "'%s' -h 2>&1", h_poolmon_bin());
	ck_assert_int_eq(h_run(cmd, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "usage: poolmon"));

	/* usage errors: exit 1 */
	snprintf(cmd, sizeof(cmd), "'%s' -i 10 --once 2>/dev/null",
		 h_poolmon_bin());
	ck_assert_int_eq(h_run(cmd, NULL, 0), 1);
	snprintf(cmd, sizeof(cmd), "'%s' --json --prometheus 2>/dev/null",
		 h_poolmon_bin());
	ck_assert_int_eq(h_run(cmd, NULL, 0), 1);
	snprintf(cmd, sizeof(cmd),
		 "'%s' -c /nonexistent/poold.conf 2>/dev/null",
		 h_poolmon_bin());
	ck_assert_int_eq(h_run(cmd, NULL, 0), 1);
}
END_TEST

/* the object of array @a whose @key is the string @val, or NULL */
static json_t *find_by(json_t *a, const char *key, const char *val)
{
	json_t *o;
	size_t i;

	json_array_foreach(a, i, o)
	{
		const char *s = json_string_value(json_object_get(o, key));

		if (s && !strcmp(s, val))
			return o;
	}
	return NULL;
}

START_TEST(test_poolmon_json_once)
{
	json_t *doc, *db, *l;
	json_error_t err;
	char cmd[512];

	boot(2);
	snprintf(cmd, sizeof(cmd), "'%s' -n %s --once --json -i 200",
		 h_poolmon_bin(), srv.shm);
	ck_assert_int_eq(h_run(cmd, out, sizeof(out)), 0);
	ck_assert_int_eq(lines(out), 1);
	ck_assert_int_eq(out[strlen(out) - 1], '\n');

	doc = json_loads(out, 0, &err);
	ck_assert_msg(doc != NULL, "not JSON: %s: %s", err.text, out);
	ck_assert(json_is_object(doc));
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "schema")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "master_pid")),
			 srv.pid);
	ck_assert_int_eq(
		json_integer_value(json_object_get(doc, "workers_alive")), 2);
	ck_assert_int_eq(
		json_integer_value(json_object_get(doc, "workers_expected")),
		2);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "state")),
			 "running");
	ck_assert(json_is_number(json_object_get(doc, "time")));
	ck_assert(json_is_object(json_object_get(doc, "last_reload")));
	ck_assert(json_is_object(json_object_get(doc, "totals")));
	ck_assert_int_eq(json_array_size(json_object_get(doc, "workers")), 2);
	ck_assert(json_is_array(json_object_get(doc, "routes")));

	db = find_by(json_object_get(doc, "dbs"), "name", "main");
	ck_assert_msg(db != NULL, "no database \"main\": %s", out);
	ck_assert_ptr_nonnull(strstr(
		json_string_value(json_object_get(db, "path")), "mon.db"));
	ck_assert(json_is_integer(json_object_get(db, "pool_size")));
	ck_assert(json_is_object(json_object_get(db, "busy")));

	l = json_array_get(json_object_get(doc, "listeners"), 0);
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(json_integer_value(json_object_get(l, "port")),
			 srv.port);
	json_decref(doc);
	h_stop(&srv);
}
END_TEST

START_TEST(test_poolmon_once_text)
{
	char cmd[512];

	boot(1);
	snprintf(cmd, sizeof(cmd), "'%s' -n %s --once -i 100", h_poolmon_bin(),
		 srv.shm);
	ck_assert_int_eq(h_run(cmd, out, sizeof(out)), 0);
	ck_assert_msg(!strncmp(out, "pool ", 5), "no summary line: %s", out);
	ck_assert_ptr_nonnull(strstr(out, " | lock waits "));
	ck_assert_ptr_nonnull(strstr(out, "\ndatabases\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nworkers\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nroutes\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nmain "));
	h_stop(&srv);
}
END_TEST

START_TEST(test_poolmon_prometheus_promtool)
{
	char cmd[512], file[64] = "/tmp/poolmon-prom-XXXXXX";
	int fd;

	boot(2);
	fd = mkstemp(file);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "'%s' -n %s --prometheus > %s",
		 h_poolmon_bin(), srv.shm, file);
	ck_assert_int_eq(h_run(cmd, NULL, 0), 0);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", file);
	fd = h_run(cmd, out, sizeof(out));
	unlink(file);
	ck_assert_msg(fd == 0, "promtool check metrics: %d: %s", fd, out);
	h_stop(&srv);
}
END_TEST

/* the visible text of the tmux pane */
static void tmux_capture(void)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "tmux -L %s capture-pane -p 2>&1",
		 tmux_sock);
	h_run(cmd, out, sizeof(out));
}

/* wait up to @ms for the pane to show @text (at a line start if @bol) */
static bool tmux_wait_for(const char *text, bool bol, int ms)
{
	long long end = h_now_ms() + ms;
	char needle[64];

	snprintf(needle, sizeof(needle), "\n%s", text);
	while (h_now_ms() < end) {
		tmux_capture();
		if (bol ? !strncmp(out, text, strlen(text)) ||
				    strstr(out, needle) :
			  strstr(out, text) != NULL)
			return true;
		usleep(100000);
	}
	return false;
}

static void tmux_keys(const char *keys)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "tmux -L %s send-keys %s", tmux_sock, keys);
	ck_assert_int_eq(h_run(cmd, NULL, 0), 0);
}

START_TEST(test_poolmon_live_view_tmux)
{
	char cmd[1024];
	long long end;
	bool gone = false;

	boot(2);
	snprintf(tmux_sock, sizeof(tmux_sock), "poolmon-test-%d",
		 (int)getpid());
	snprintf(
		cmd, sizeof(cmd),
		"tmux -L %s -f /dev/null new-session -d -x 200 -y 50 '%s -n %s -i 200'",
		tmux_sock, h_poolmon_bin(), srv.shm);
	ck_assert_int_eq(h_run(cmd, NULL, 0), 0);
	ck_assert_msg(tmux_wait_for("pool ", true, 10000),
		      "no summary line in the pane:\n%s", out);
	ck_assert_ptr_nonnull(strstr(out, "maxwait"));
	ck_assert_ptr_nonnull(strstr(out, "INUSE")); /* the database view */

	tmux_keys("d");
	tmux_keys("w");
	ck_assert_msg(tmux_wait_for("SLOT", true, 5000),
		      "no worker table after w:\n%s", out);
	ck_assert_ptr_nonnull(strstr(out, "EXECUTORS"));
	tmux_keys("s");
	tmux_keys("r");
	ck_assert_msg(tmux_wait_for("ROUTE", true, 5000),
		      "no route table after r:\n%s", out);
	ck_assert_ptr_nonnull(strstr(out, "GET /n"));

	tmux_keys("q");
	end = h_now_ms() + 5000;
	snprintf(cmd, sizeof(cmd), "tmux -L %s has-session 2>/dev/null",
		 tmux_sock);
	while (!gone && h_now_ms() < end) {
		gone = h_run(cmd, NULL, 0) != 0;
		if (!gone)
			usleep(100000);
	}
	ck_assert_msg(gone, "poolmon did not exit on q");
	h_stop(&srv);
}
END_TEST

/* start "poolmon ARGS > mon_out" in the background */
static void poolmon_spawn(const char *shm, const char *interval)
{
	int fd;

	snprintf(mon_out, sizeof(mon_out), "/tmp/poolmon-out-XXXXXX");
	fd = mkstemp(mon_out);
	ck_assert_int_ge(fd, 0);
	mon_pid = fork();
	ck_assert_int_ge(mon_pid, 0);
	if (mon_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, STDOUT_FILENO);
		execl(h_poolmon_bin(), "poolmon", "-n", shm, "--json", "-i",
		      interval, (char *)NULL);
		_exit(127);
	}
	close(fd);
}

/* wait up to @ms for a document of master @pid in mon_out */
static bool poolmon_saw_master(pid_t pid, int ms)
{
	long long end = h_now_ms() + ms;
	char *line, *nl;
	bool seen = false;
	json_t *doc;
	FILE *f;
	size_t n;

	while (h_now_ms() < end) {
		f = fopen(mon_out, "r");
		ck_assert_ptr_nonnull(f);
		n = fread(out, 1, sizeof(out) - 1, f);
		fclose(f);
		out[n] = '\0';
		for (line = out; !seen && (nl = strchr(line, '\n'));
		     line = nl + 1) {
			*nl = '\0';
			doc = json_loads(line, 0, NULL);
			ck_assert_msg(doc != NULL, "not JSON: %s", line);
			seen = json_integer_value(json_object_get(
				       doc, "master_pid")) == pid;
			json_decref(doc);
		}
		if (seen)
			return true;
		usleep(100000);
	}
	return false;
}

/* point @s's configuration at segment @shm */
static void use_segment(struct h_server *s, const char *shm)
{
	char text[16384], *p, *conf;
	size_t n, len;
	FILE *f;

	f = fopen(s->conf, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	p = strstr(text, s->shm);
	ck_assert_ptr_nonnull(p);
	len = n + strlen(shm) + 1;
	conf = malloc(len);
	ck_assert_ptr_nonnull(conf);
	snprintf(conf, len, "%.*s%s%s", (int)(p - text), text, shm,
		 p + strlen(s->shm));
	h_write_file(s->conf, conf);
	free(conf);
	snprintf(s->shm, sizeof(s->shm), "%s", shm);
}

START_TEST(test_poolmon_json_follows_restart)
{
	char shm[sizeof(srv.shm)], path[160];
	pid_t first;
	int st;

	boot(1);
	first = srv.pid;
	snprintf(shm, sizeof(shm), "%s", srv.shm);
	poolmon_spawn(shm, "100");
	ck_assert_msg(poolmon_saw_master(first, 10000),
		      "no document of the first server");

	h_stop(&srv);
	usleep(300000); /* a few intervals without a segment */

	/* a new server on the same segment name */
	h_setup(&srv, 1, dbconf);
	use_segment(&srv, shm);
	snprintf(path, sizeof(path), "%s/schema.sql", srv.dir);
	h_write_file(
		path,
		"CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY);\n");
	h_start(&srv);
	ck_assert_int_ne(srv.pid, first);
	ck_assert_msg(poolmon_saw_master(srv.pid, 10000),
		      "poolmon did not follow the new server (pid %d)",
		      (int)srv.pid);

	/* SIGTERM: a clean exit */
	kill(mon_pid, SIGTERM);
	ck_assert_int_eq(waitpid(mon_pid, &st, 0), mon_pid);
	mon_pid = 0;
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	h_stop(&srv);
}
END_TEST

Suite *poolmon_suite(void)
{
	Suite *s = suite_create("poolmon");
	TCase *tc = tcase_create("poolmon");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_poolmon_no_server_one_line);
	tcase_add_test(tc, test_poolmon_version_help_usage);
	tcase_add_test(tc, test_poolmon_json_once);
	tcase_add_test(tc, test_poolmon_once_text);
	tcase_add_test(tc, test_poolmon_prometheus_promtool);
	tcase_add_test(tc, test_poolmon_live_view_tmux);
	tcase_add_test(tc, test_poolmon_json_follows_restart);
	suite_add_tcase(s, tc);
	return s;
}
