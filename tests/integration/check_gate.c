// SPDX-License-Identifier: BSD-2-Clause
/*
 * tests/integration/check_gate.c - the cross-process write gate
 *
 * Many keep-alive writers across two workers: every write acknowledged is
 * in the file and none met SQLITE_BUSY, because poold's writers queue on
 * the gate.  A lock held outside poold (the sqlite3 command) is waited for
 * in the busy handler and counted.  A worker killed while it holds the
 * gate does not wedge the others: the robust mutex is recovered.  WAL
 * upkeep keeps the WAL near wal_limit_mb.  Counters are read from the
 * real segment, as poolmon reads them.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "shm/shm.h"
#include "tests/integration/harness.h"
#include "tests/integration/suites.h"

static struct h_server srv;
static char db[160];

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS w (id INTEGER PRIMARY KEY, conn INTEGER,"
	" seq INTEGER, pad TEXT, UNIQUE (conn, seq));\n";

static const char routes[] =
	"routes = (\n"
	"{ method = \"POST\"; path = \"/w\"; db = \"main\";\n"
	"  sql = \"INSERT INTO w(conn, seq, pad) VALUES (:c, :s, :pad) RETURNING id\";\n"
	"  result = \"one\"; status = 201; optional = [ \"pad\" ]; },\n"
	"{ method = \"POST\"; path = \"/hold\"; db = \"main\";\n"
	"  sql = \"INSERT INTO w(conn, seq) VALUES (-1, sleep_ms(:ms)) RETURNING id\";\n"
	"  result = \"one\"; },\n"
	"{ method = \"GET\"; path = \"/n\"; db = \"main\";\n"
	"  sql = \"SELECT count(*) AS n FROM w\"; result = \"one\"; }\n"
	");\n";

static void teardown(void)
{
	h_cleanup(&srv);
}

static void boot(unsigned int workers, const char *dbkeys)
{
	char extra[8192], path[160];

	snprintf(extra, sizeof(extra),
		 "debug_functions = true;\n"
		 "databases = ( { name = \"main\"; path = \"gate.db\";"
		 " schema = \"schema.sql\"; %s } );\n%s",
		 dbkeys, routes);
	h_setup(&srv, workers, extra);
	snprintf(path, sizeof(path), "%s/schema.sql", srv.dir);
	h_write_file(path, schema);
	snprintf(db, sizeof(db), "%s/gate.db", srv.dir);
	h_start(&srv);
}

/* one keep-alive writer: its socket, what it has read, what it sent */
struct writer {
	int fd;
	char buf[1024];
	size_t len;
	int seq; /* of the request in flight, -1 = none */
	long long acked;
	long long failed;
};

static void writer_send(struct writer *w, int i, int seq, const char *pad)
{
	char body[2048], req[2400];
	int n;

	n = snprintf(body, sizeof(body), "{\"c\":%d,\"s\":%d,\"pad\":\"%s\"}",
		     i, seq, pad);
	snprintf(
		req, sizeof(req),
		"POST /w HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
		"Content-Length: %d\r\n\r\n%s",
		n, body);
	h_sends(w->fd, req);
	w->seq = seq;
}

/* a whole response in the buffer: its status, and it is consumed */
static int writer_take(struct writer *w)
{
	char *end = memmem(w->buf, w->len, "\r\n\r\n", 4), *cl;
	size_t head, want, used;
	int status = 0;

	if (!end)
		return 0;
	head = (size_t)(end - w->buf) + 4;
	cl = memmem(w->buf, head, "Content-Length: ", 16);
	want = cl ? strtoul(cl + 16, NULL, 10) : 0;
	if (w->len < head + want)
		return 0;
	sscanf(w->buf, "HTTP/1.1 %d", &status);
	used = head + want;
	memmove(w->buf, w->buf + used, w->len - used);
	w->len -= used;
	return status;
}

/*
 * @n writers, each with one request in flight, for @ms milliseconds;
 * then every request in flight is answered before returning
 */
static void write_load(struct writer *ws, int n, int ms, const char *pad)
{
	struct pollfd *p = calloc((size_t)n, sizeof(*p));
	long long end = h_now_ms() + ms, drain = end + 30000;
	int i, status, busy = n;
	ssize_t k;

	ck_assert_ptr_nonnull(p);
	for (i = 0; i < n; i++) {
		ws[i].fd = h_connect(srv.port);
		ck_assert_int_ge(ws[i].fd, 0);
		p[i] = (struct pollfd){ .fd = ws[i].fd, .events = POLLIN };
		writer_send(&ws[i], i, 0, pad);
	}
	while (busy && h_now_ms() < drain) {
		ck_assert_int_ge(poll(p, (nfds_t)n, 1000), 0);
		for (i = 0; i < n; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			k = recv(ws[i].fd, ws[i].buf + ws[i].len,
				 sizeof(ws[i].buf) - ws[i].len, 0);
			ck_assert_msg(k > 0, "writer %d: connection lost", i);
			ws[i].len += (size_t)k;
			status = writer_take(&ws[i]);
			if (!status)
				continue;
			if (status == 201)
				ws[i].acked++;
			else
				ws[i].failed++;
			if (h_now_ms() < end) {
				writer_send(&ws[i], i, ws[i].seq + 1, pad);
			} else {
				ws[i].seq = -1;
				p[i].fd = -1;
				busy--;
			}
		}
	}
	ck_assert_int_eq(busy, 0);
	for (i = 0; i < n; i++)
		close(ws[i].fd);
	free(p);
}

/* 256 keep-alive writers for 10 s over 2 workers: every write lands */
START_TEST(test_gate_many_writers)
{
	enum { N = 256 };
	static struct writer ws[N];
	struct shm_exec t;
	long long acked = 0, failed = 0;
	int i;

	boot(2, "pool = { size = 4; acquire_timeout_ms = 10000; };");
	write_load(ws, N, 10000, "");
	for (i = 0; i < N; i++) {
		acked += ws[i].acked;
		failed += ws[i].failed;
	}
	ck_assert_int_eq(failed, 0);
	ck_assert_int_gt(acked, N);
	/* every acknowledged row is in the file, and nothing else */
	ck_assert_int_eq(h_sql(db, "SELECT count(*) FROM w"), acked);
	ck_assert_int_eq(h_exec_totals(srv.shm, &t), 0);
	fprintf(stderr,
		"gate: %lld writes in 10 s, %llu gate waits, %llu busy-handler calls\n",
		acked, (unsigned long long)t.gate_waits,
		(unsigned long long)t.busy_handler_calls);
	ck_assert_uint_gt(t.gate_waits, 0);
	ck_assert_uint_eq(t.busy_handler_calls, 0);
	ck_assert_uint_eq(t.busy_immediate, 0);
	ck_assert_uint_eq(t.busy_snapshot, 0);
	ck_assert_uint_eq(t.lock_timeouts, 0);
	ck_assert_uint_ge(t.jobs, (uint64_t)acked);
	h_stop(&srv);
}
END_TEST

/* a write lock held outside poold: writes wait in the busy handler */
START_TEST(test_gate_outside_lock_waits)
{
	struct shm_exec t;
	struct h_resp r;
	long long t0;
	char cmd[512];

	boot(1, "busy_timeout_ms = 5000; pool = { size = 2; };");
	snprintf(
		cmd, sizeof(cmd),
		"(echo 'BEGIN IMMEDIATE; INSERT INTO w(conn, seq) VALUES (-2, 0);'; sleep 2; echo 'COMMIT;') | sqlite3 '%s' &",
		db);
	ck_assert_int_eq(system(cmd), 0);
	usleep(300000);
	t0 = h_now_ms();
	ck_assert_int_eq(
		h_req(srv.port,
		      "POST /w HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
		      "Content-Length: 15\r\n\r\n{\"c\":1,\"s\":1}  ",
		      &r),
		201);
	ck_assert_int_ge(h_now_ms() - t0, 1000); /* it waited for the lock */
	ck_assert_int_eq(h_exec_totals(srv.shm, &t), 0);
	ck_assert_uint_gt(t.busy_handler_calls, 0);
	ck_assert_uint_eq(t.lock_timeouts, 0);
	ck_assert_int_eq(h_sql(db, "SELECT count(*) FROM w"), 2);
	h_stop(&srv);
}
END_TEST

/* kill -9 of the worker holding the gate: the next writer recovers it */
START_TEST(test_gate_owner_killed)
{
	struct shm_db d;
	struct shm_exec t;
	struct h_resp r;
	int fd, i;
	pid_t owner = 0;
	char out[256];

	boot(2, "statement_timeout_ms = 0; busy_timeout_ms = 5000;");
	fd = h_connect(srv.port);
	h_sends(fd,
		"POST /hold HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
		"Content-Length: 12\r\n\r\n{\"ms\":20000}");
	for (i = 0; i < 200 && owner <= 0; i++) {
		usleep(20000);
		if (!h_shm_db(srv.shm, 0, &d))
			owner = atomic_load(&d.gate_owner_pid);
	}
	ck_assert_int_gt(owner, 0);
	ck_assert_int_eq(kill(owner, SIGKILL), 0);
	close(fd);
	/* writes go on: the robust gate is made consistent again */
	for (i = 0; i < 20; i++) {
		char req[256], body[64];

		snprintf(body, sizeof(body), "{\"c\":9,\"s\":%d}", i);
		snprintf(
			req, sizeof(req),
			"POST /w HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
			"Content-Length: %zu\r\n\r\n%s",
			strlen(body), body);
		ck_assert_int_eq(h_req(srv.port, req, &r), 201);
	}
	ck_assert_int_eq(h_exec_totals(srv.shm, &t), 0);
	ck_assert_uint_ge(t.gate_recoveries, 1);
	ck_assert(h_log_has(&srv, "recovered"));
	snprintf(out, sizeof(out), "sqlite3 '%s' 'PRAGMA integrity_check'", db);
	ck_assert_int_eq(h_run(out, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "ok\n");
	ck_assert_int_eq(h_sql(db, "SELECT count(*) FROM w WHERE conn = -1"),
			 0);
	h_stop(&srv);
}
END_TEST

/*
 * poold -t against the running server's files takes their write gates
 * around its transaction, so the server's writers wait on the gate
 * instead of meeting SQLITE_BUSY (as a reload's validation will)
 */
START_TEST(test_gate_config_test_under_load)
{
	enum { N = 16 };
	static struct writer ws[N];
	struct shm_exec t;
	char cmd[512], out[1024];
	int i, st;
	pid_t pid;

	boot(2, "");
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		write_load(ws, N, 3000, "");
		_exit(0);
	}
	snprintf(cmd, sizeof(cmd), "%s -t -c %s 2>&1", h_bin(), srv.conf);
	for (i = 0; i < 10; i++) {
		usleep(200000);
		ck_assert_msg(h_run(cmd, out, sizeof(out)) == 0, "%s", out);
	}
	waitpid(pid, &st, 0);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(h_exec_totals(srv.shm, &t), 0);
	ck_assert_uint_gt(t.jobs, 0);
	ck_assert_uint_eq(t.busy_handler_calls, 0);
	ck_assert_uint_eq(t.lock_timeouts, 0);
	h_stop(&srv);
}
END_TEST

/* a segment left by a killed master is replaced; a live one is not */
START_TEST(test_gate_segment_stale_and_owned)
{
	char cmd[1024], out[4096];
	struct h_server other;
	struct h_resp r;
	int i;

	boot(1, "");
	/* another poold (own port and pidfile) on the same shm_name: exit 2 */
	h_setup(&other, 1, "");
	snprintf(
		cmd, sizeof(cmd),
		"sed -i 's|^shm_name = .*|shm_name = \"%s\";|' %s && %s -f -c %s 2>&1",
		srv.shm, other.conf, h_bin(), other.conf);
	ck_assert_int_eq(h_run(cmd, out, sizeof(out)), 2);
	ck_assert(h_log_has(&other, "belongs to a running poold"));
	h_cleanup(&other);
	ck_assert_int_eq(h_get(srv.port, "/healthz", &r), 200);
	/* kill -9 the master: its workers follow, the segment stays */
	ck_assert_int_eq(h_signal_wait(&srv, SIGKILL, 5000), 128 + SIGKILL);
	for (i = 0; i < 100 && h_get(srv.port, "/healthz", &r) == 200; i++)
		usleep(20000);
	snprintf(cmd, sizeof(cmd), "test -e /dev/shm%s", srv.shm);
	ck_assert_int_eq(h_run(cmd, NULL, 0), 0);
	/* a new master on the same name replaces the stale segment */
	h_start(&srv);
	ck_assert(h_log_has(&srv, "replacing the stale segment"));
	ck_assert_int_eq(h_get(srv.port, "/healthz", &r), 200);
	h_stop(&srv);
	snprintf(cmd, sizeof(cmd), "test -e /dev/shm%s", srv.shm);
	ck_assert_int_ne(h_run(cmd, NULL, 0), 0); /* unlinked at exit */
}
END_TEST

static long long wal_size(void)
{
	char path[200];
	struct stat st;

	snprintf(path, sizeof(path), "%s-wal", db);
	return stat(path, &st) < 0 ? 0 : (long long)st.st_size;
}

/* reads and writes at once: WAL upkeep keeps the WAL near its limit */
START_TEST(test_gate_wal_bounded)
{
	enum { N = 8, R = 16 };
	static struct writer ws[N];
	static char pad[1001];
	struct h_burst_res res[R];
	long long max = 0, w, end;
	struct shm_db d;
	pid_t pid;

	memset(pad, 'p', sizeof(pad) - 1);
	boot(2, "wal_limit_mb = 4; checkpoint_interval_ms = 50;");
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) { /* a constant read load beside the writers */
		end = h_now_ms() + 4000;
		while (h_now_ms() < end)
			h_burst(srv.port, "GET /n HTTP/1.1\r\nHost: x\r\n\r\n",
				R, res, 5000);
		_exit(0);
	}
	{
		pid_t sampler = fork();

		ck_assert_int_ge(sampler, 0);
		if (sampler == 0) {
			end = h_now_ms() + 4500;
			while (h_now_ms() < end) {
				w = wal_size();
				if (w > max)
					max = w;
				usleep(10000);
			}
			/* the exit status carries the peak, in 256 KiB units */
			_exit((int)(max >> 18) > 255 ? 255 : (int)(max >> 18));
		}
		write_load(ws, N, 4000, pad);
		{
			int st;

			waitpid(pid, &st, 0);
			waitpid(sampler, &st, 0);
			max = (long long)WEXITSTATUS(st) << 18;
		}
	}
	ck_assert_int_eq(h_shm_db(srv.shm, 0, &d), 0);
	fprintf(stderr,
		"wal: peak %lld KiB, %llu checkpoints, %llu truncating\n",
		max >> 10, (unsigned long long)atomic_load(&d.checkpoints),
		(unsigned long long)atomic_load(&d.checkpoints_truncate));
	ck_assert_uint_gt(atomic_load(&d.checkpoints) +
				  atomic_load(&d.checkpoints_truncate),
			  0);
	/* SQLite's automatic checkpoint is off: without poold's upkeep this
	 * load grows the WAL by tens of MiB a second.  With it, the WAL is
	 * truncated whenever it passes wal_limit_mb (4 MiB); between two
	 * checkpoints it can overshoot by what the writers add meanwhile (a few
	 * MiB here, where the file would reach 100 MiB without upkeep) */
	ck_assert_int_lt(max, 16 << 20);
	usleep(500000);
	ck_assert_int_le(wal_size(), 4 << 20);
	h_stop(&srv);
}
END_TEST

Suite *gate_suite(void)
{
	Suite *s = suite_create("gate");
	TCase *tc = tcase_create("gate");

	tcase_set_timeout(tc, 90);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_gate_many_writers);
	tcase_add_test(tc, test_gate_outside_lock_waits);
	tcase_add_test(tc, test_gate_owner_killed);
	tcase_add_test(tc, test_gate_wal_bounded);
	tcase_add_test(tc, test_gate_config_test_under_load);
	tcase_add_test(tc, test_gate_segment_stale_and_owned);
	suite_add_tcase(s, tc);
	return s;
}
