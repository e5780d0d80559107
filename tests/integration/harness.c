// SPDX-License-Identifier: BSD-2-Clause
/*
 * tests/integration/harness.c - real poold processes over real sockets
 *
 * The client reads a response head one byte at a time, so it never
 * consumes bytes of the next pipelined response, then exactly
 * Content-Length body bytes.  Slow, simple and exact: what a test needs.
 */
#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "shm/shm.h"

long long h_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *h_bin(void)
{
	const char *b = getenv("POOLD_BIN");

	return b && *b ? b : "./server/poold";
}

int h_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd, port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

void h_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "cannot write %s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

void h_setup(struct h_server *s, unsigned int workers, const char *extra)
{
	char text[16384];

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/poold-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(s->dir));
	snprintf(s->conf, sizeof(s->conf), "%s/poold.conf", s->dir);
	snprintf(s->pidfile, sizeof(s->pidfile), "%s/poold.pid", s->dir);
	snprintf(s->log, sizeof(s->log), "%s/poold.log", s->dir);
	s->port = h_free_port();
	snprintf(s->shm, sizeof(s->shm), "/poold-test-%d", s->port);
	snprintf(text, sizeof(text),
		 "listen = [ \"127.0.0.1:%d\" ];\n"
		 "workers = %u;\n"
		 "pidfile = \"poold.pid\";\n"
		 "shm_name = \"%s\";\n"
		 "log = { level = \"%s\"; file = \"poold.log\"; };\n"
		 "%s\n",
		 s->port, workers, s->shm,
		 getenv("H_LOG_LEVEL") ? getenv("H_LOG_LEVEL") : "info", extra);
	h_write_file(s->conf, text);
}

static bool h_healthy(int port)
{
	struct h_resp r;

	return h_get(port, "/healthz", &r) == 200;
}

void h_start(struct h_server *s)
{
	long long end = h_now_ms() + 15000;
	pid_t pid;
	int st;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* a failing test must not leave servers behind */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl(h_bin(), "poold", "-f", "-c", s->conf, (char *)NULL);
		_exit(127);
	}
	s->pid = pid;
	while (h_now_ms() < end) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			s->pid = 0;
			ck_abort_msg(
				"poold exited at start (status %d); see %s",
				WIFEXITED(st) ? WEXITSTATUS(st) : -1, s->log);
		}
		if (h_healthy(s->port))
			return;
		usleep(20000);
	}
	ck_abort_msg("poold did not answer /healthz within 15 s");
}

void h_boot(struct h_server *s, unsigned int workers, const char *extra)
{
	h_setup(s, workers, extra);
	h_start(s);
}

int h_signal_wait(struct h_server *s, int sig, int timeout_ms)
{
	long long end = h_now_ms() + timeout_ms;
	int st;

	if (!s->pid)
		return -1;
	if (sig)
		kill(s->pid, sig);
	while (h_now_ms() < end) {
		if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
			s->pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) :
					       128 + WTERMSIG(st);
		}
		usleep(10000);
	}
	return -1;
}

void h_cleanup(struct h_server *s)
{
	char cmd[128];

	if (s->pid) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	if (s->shm[0]) /* left by a failed test's server: never by a clean stop */
		shm_unlink(s->shm);
	if (s->dir[0] && !getenv("H_KEEP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", s->dir);
	}
	s->dir[0] = '\0';
}

void h_stop(struct h_server *s)
{
	int st = h_signal_wait(s, SIGTERM, 30000);

	ck_assert_msg(st == 0, "poold exit status %d after SIGTERM", st);
	/* a worker that failed (a sanitizer report exits non-zero) */
	ck_assert_msg(!h_log_has(s, "exited with status"),
		      "a worker exited with an error; see %s", s->log);
	h_cleanup(s);
}

int h_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 10 };
	int fd;

	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

void h_send(int fd, const char *data, size_t len)
{
	ssize_t n;

	while (len) {
		n = send(fd, data, len, MSG_NOSIGNAL);
		ck_assert_msg(n > 0, "send failed: %s", strerror(errno));
		data += n;
		len -= (size_t)n;
	}
}

void h_sends(int fd, const char *s)
{
	h_send(fd, s, strlen(s));
}

const char *h_header(const struct h_resp *r, const char *name, char *buf,
		     size_t size)
{
	size_t nl = strlen(name);
	const char *p = strstr(r->head, "\r\n");
	const char *e;

	while (p && p[2]) {
		p += 2;
		e = strstr(p, "\r\n");
		if (!e)
			break;
		if ((size_t)(e - p) > nl && p[nl] == ':' &&
		    !strncasecmp(p, name, nl)) {
			p += nl + 1;
			while (*p == ' ')
				p++;
			snprintf(buf, size, "%.*s", (int)(e - p), p);
			return buf;
		}
		p = e;
	}
	return NULL;
}

static int h_read_head(int fd, struct h_resp *r)
{
	size_t n = 0;
	ssize_t k;

	while (n < sizeof(r->head) - 1) {
		k = recv(fd, r->head + n, 1, 0);
		if (k <= 0)
			return -1;
		n++;
		if (n >= 4 && !memcmp(r->head + n - 4, "\r\n\r\n", 4)) {
			r->head[n] = '\0';
			return 0;
		}
	}
	return -1;
}

int h_read_resp(int fd, struct h_resp *r)
{
	return h_read_resp_ex(fd, r, false);
}

int h_read_resp_ex(int fd, struct h_resp *r, bool head_request)
{
	char v[64];
	size_t want;
	ssize_t k;

	memset(r, 0, sizeof(*r));
	if (h_read_head(fd, r) < 0)
		return -1;
	if (sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1)
		return -1;
	r->keep_alive = h_header(r, "Connection", v, sizeof(v)) &&
			!strcasecmp(v, "keep-alive");
	want = h_header(r, "Content-Length", v, sizeof(v)) ?
		       (size_t)strtoul(v, NULL, 10) :
		       0;
	if (want > H_BODY_MAX)
		return -1;
	if (head_request || r->status == 100 || r->status == 204)
		want = 0;
	while (r->body_len < want) {
		k = recv(fd, r->body + r->body_len, want - r->body_len, 0);
		if (k <= 0)
			return -1;
		r->body_len += (size_t)k;
	}
	r->body[r->body_len] = '\0';
	return 0;
}

int h_get(int port, const char *path, struct h_resp *r)
{
	char req[1024];
	int fd, st = -1;

	fd = h_connect(port);
	if (fd < 0)
		return -1;
	snprintf(
		req, sizeof(req),
		"GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		path);
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) == (ssize_t)strlen(req) &&
	    h_read_resp(fd, r) == 0)
		st = r->status;
	close(fd);
	return st;
}

bool h_wait_eof(int fd, int timeout_ms)
{
	long long end = h_now_ms() + timeout_ms;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[4096];
	ssize_t n;
	int left;

	while ((left = (int)(end - h_now_ms())) > 0) {
		if (poll(&p, 1, left) <= 0)
			return false;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
		if (n < 0 && errno != EAGAIN)
			return true;
	}
	return false;
}

int h_workers(pid_t master, pid_t *pids, int max)
{
	char path[64], buf[4096];
	int n = 0, fd;
	ssize_t len;
	char *p, *e;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)master,
		 (int)master);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	for (p = buf; n < max; p = e) {
		long v = strtol(p, &e, 10);

		if (e == p)
			break;
		pids[n++] = (pid_t)v;
	}
	return n;
}

bool h_wait_workers(pid_t master, int n, int timeout_ms)
{
	long long end = h_now_ms() + timeout_ms;
	pid_t pids[256];

	while (h_now_ms() < end) {
		if (h_workers(master, pids, 256) == n)
			return true;
		usleep(20000);
	}
	return false;
}

bool h_log_has(const struct h_server *s, const char *text)
{
	static char buf[1 << 20];
	FILE *f = fopen(s->log, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

int h_run(const char *cmd, char *out, size_t outsz)
{
	FILE *p;
	size_t n = 0;
	int st;

	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	if (out && outsz) {
		n = fread(out, 1, outsz - 1, p);
		out[n] = '\0';
	} else {
		while (fgetc(p) != EOF)
			;
	}
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int h_req(int port, const char *req, struct h_resp *r)
{
	int fd, st = -1;

	fd = h_connect(port);
	if (fd < 0)
		return -1;
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) == (ssize_t)strlen(req) &&
	    h_read_resp(fd, r) == 0)
		st = r->status;
	close(fd);
	return st;
}

long long h_sql(const char *db, const char *sql)
{
	char cmd[4096], out[256];

	snprintf(cmd, sizeof(cmd), "sqlite3 '%s' \"%s\" 2>&1", db, sql);
	if (h_run(cmd, out, sizeof(out)) != 0)
		return -1;
	return out[0] >= '0' && out[0] <= '9' ? atoll(out) : -1;
}

/* parse what @buf holds as one response: true once complete */
static bool h_burst_parse(const char *buf, size_t len, struct h_burst_res *r)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	const char *cl;
	size_t head, want;

	if (!end)
		return false;
	head = (size_t)(end - buf) + 4;
	cl = memmem(buf, head, "Content-Length: ", 16);
	want = cl ? strtoul(cl + 16, NULL, 10) : 0;
	if (len < head + want)
		return false;
	sscanf(buf, "HTTP/1.%*d %d", &r->status);
	r->retry_after = memmem(buf, head, "Retry-After:", 12) != NULL;
	snprintf(r->body, sizeof(r->body), "%.*s", (int)want, buf + head);
	return true;
}

int h_burst(int port, const char *req, int n, struct h_burst_res *out,
	    int timeout_ms)
{
	struct pollfd *p = calloc((size_t)n, sizeof(*p));
	char(*buf)[2048] = calloc((size_t)n, sizeof(*buf));
	size_t *len = calloc((size_t)n, sizeof(*len));
	long long t0 = h_now_ms(), end = t0 + timeout_ms;
	int i, done = 0, left;
	ssize_t k;

	ck_assert(p && buf && len);
	for (i = 0; i < n; i++) {
		out[i] = (struct h_burst_res){ .status = -1 };
		p[i].fd = h_connect(port);
		p[i].events = POLLIN;
		if (p[i].fd >= 0)
			send(p[i].fd, req, strlen(req), MSG_NOSIGNAL);
	}
	while (done < n && (left = (int)(end - h_now_ms())) > 0) {
		if (poll(p, (nfds_t)n, left) <= 0)
			break;
		for (i = 0; i < n; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			k = recv(p[i].fd, buf[i] + len[i],
				 sizeof(buf[i]) - 1 - len[i], 0);
			if (k > 0)
				len[i] += (size_t)k;
			if (k > 0 && !h_burst_parse(buf[i], len[i], &out[i]))
				continue;
			if (k > 0) {
				out[i].ms = h_now_ms() - t0;
				done++;
			}
			close(p[i].fd);
			p[i].fd = -1; /* poll ignores negative descriptors */
		}
	}
	for (i = 0; i < n; i++) {
		if (p[i].fd >= 0)
			close(p[i].fd);
	}
	free(p);
	free(buf);
	free(len);
	return done;
}

static void h_exec_add(struct shm_exec *sum, const struct shm_exec *e)
{
#define H_ADD(f) \
	atomic_store(&sum->f, atomic_load(&sum->f) + atomic_load(&e->f))
	H_ADD(jobs);
	H_ADD(gate_waits);
	H_ADD(gate_wait_ns_sum);
	H_ADD(gate_hold_ns_sum);
	H_ADD(lock_timeouts);
	H_ADD(busy_handler_calls);
	H_ADD(busy_immediate);
	H_ADD(busy_snapshot);
	H_ADD(statement_timeouts);
	H_ADD(errors);
	H_ADD(conns_opened);
	H_ADD(gate_recoveries);
#undef H_ADD
}

int h_exec_totals(const char *shm, struct shm_exec *sum)
{
	struct shm_exec copy, *e;
	struct shm_seg seg;
	char why[256];
	uint32_t slot, i;

	memset(sum, 0, sizeof(*sum));
	if (shm_attach(&seg, shm, why, sizeof(why)) < 0) {
		fprintf(stderr, "%s\n", why);
		return -1;
	}
	for (slot = 0; slot <= seg.hdr->nslots; slot++) {
		for (i = 0; i < SHM_MAX_EXECS; i++) {
			e = shm_exec(seg.hdr, slot, i);
			if (e && !shm_read_block(&e->seq, e, sizeof(*e), &copy))
				h_exec_add(sum, &copy);
		}
	}
	shm_detach(&seg, false);
	return 0;
}

int h_shm_db(const char *shm, unsigned int i, struct shm_db *out)
{
	struct shm_seg seg;
	struct shm_db *d;
	char why[256];
	int err = -1;

	if (shm_attach(&seg, shm, why, sizeof(why)) < 0)
		return -1;
	d = shm_db(seg.hdr, i);
	if (d && !shm_read_block(&d->seq, d, sizeof(*d), out))
		err = 0;
	shm_detach(&seg, false);
	return err;
}

const char *h_poolmon_bin(void)
{
	const char *b = getenv("POOLMON_BIN");

	return b && *b ? b : "./tools/poolmon";
}

json_t *h_poolmon_json(const char *shm, int interval_ms)
{
	static char out[1 << 17];
	char cmd[256];
	json_error_t e;
	json_t *j;

	snprintf(cmd, sizeof(cmd), "%s -n %s --once --json -i %d 2>&1",
		 h_poolmon_bin(), shm, interval_ms);
	ck_assert_int_eq(h_run(cmd, out, sizeof(out)), 0);
	j = json_loads(out, 0, &e);
	ck_assert_msg(j != NULL, "poolmon printed: %s", out);
	return j;
}
