/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tests/integration/harness.h - boot the real poold and talk HTTP to it
 *
 * Each test gets a temporary directory with its own configuration,
 * pidfile and log, an ephemeral loopback port, and the real binary from
 * $POOLD_BIN (so the same tests run against the asan and tsan builds).
 * The HTTP client here is deliberately small and strict: it reads exactly
 * one response per call (status line, headers, Content-Length body).
 */
#ifndef TESTS_INTEGRATION_HARNESS_H
#define TESTS_INTEGRATION_HARNESS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <check.h>

#define H_BODY_MAX 65536

struct h_server {
	char dir[64];  /* temporary directory, removed at stop */
	char conf[96]; /* its poold.conf */
	char pidfile[96];
	char log[96];
	int port;     /* the main listener (127.0.0.1) */
	char shm[48]; /* its segment, unique per test */
	pid_t pid;    /* the master, while running */
};

struct h_resp {
	int status;
	char head[8192]; /* status line and header fields, NUL-ended */
	char body[H_BODY_MAX + 1];
	size_t body_len;
	bool keep_alive; /* Connection: keep-alive */
};

/* the poold binary to test ($POOLD_BIN, else ./server/poold) */
const char *h_bin(void);

/* a free TCP port on 127.0.0.1 */
int h_free_port(void);

/*
 * h_setup - make a temp dir and write a configuration: listen on a free
 * port, pidfile/log in the dir, @workers workers, then @extra (more
 * libconfig text, may be "").
 */
void h_setup(struct h_server *s, unsigned int workers, const char *extra);

/* run "poold -f -c conf" and wait until /healthz answers (ck_abort if not) */
void h_start(struct h_server *s);

/* h_setup + h_start */
void h_boot(struct h_server *s, unsigned int workers, const char *extra);

/* send @sig to the master and wait for it to exit; its exit status, or
 * -1 if it did not exit within @timeout_ms */
int h_signal_wait(struct h_server *s, int sig, int timeout_ms);

/* stop (SIGTERM, wait), check exit 0, remove the temp dir */
void h_stop(struct h_server *s);

/* remove the temp dir (the server must be stopped) */
void h_cleanup(struct h_server *s);

/* connect to 127.0.0.1:port, with 10 s send/receive timeouts */
int h_connect(int port);

/* write all of @data */
void h_send(int fd, const char *data, size_t len);
void h_sends(int fd, const char *s);

/* read one response from @fd: 0, or -1 on EOF/timeout before a whole one */
int h_read_resp(int fd, struct h_resp *r);

/* the same, for the response to a HEAD request (no body follows) */
int h_read_resp_ex(int fd, struct h_resp *r, bool head_request);

/* one request on a fresh connection: GET @path; returns the status */
int h_get(int port, const char *path, struct h_resp *r);

/* true if the peer closed @fd (EOF within @timeout_ms) */
bool h_wait_eof(int fd, int timeout_ms);

/* the pids of the master's children; returns how many */
int h_workers(pid_t master, pid_t *pids, int max);

/* wait until the master has @n children; false on timeout */
bool h_wait_workers(pid_t master, int n, int timeout_ms);

/* true if the log contains @text */
bool h_log_has(const struct h_server *s, const char *text);

/* run a command line (sh -c), capture stdout+stderr; returns exit status */
int h_run(const char *cmd, char *out, size_t outsz);

/* the value of header @name in @r (case-insensitive), or NULL */
const char *h_header(const struct h_resp *r, const char *name, char *buf,
		     size_t size);

/* one response of a burst */
struct h_burst_res {
	int status;	  /* -1: no complete response */
	long long ms;	  /* from the burst's start to the response */
	bool retry_after; /* a Retry-After header came with it */
	char body[512];	  /* its start */
};

/*
 * h_burst - open @n connections, send @req on each, and collect one
 * response from each (in whatever order they come); returns how many
 * complete responses arrived within @timeout_ms
 */
int h_burst(int port, const char *req, int n, struct h_burst_res *out,
	    int timeout_ms);

/* one request (full text) on a fresh connection; the status */
int h_req(int port, const char *req, struct h_resp *r);

/* run @sql on @db with the sqlite3 command and return the first number it
 * prints (-1 if none) */
long long h_sql(const char *db, const char *sql);

struct shm_exec;
struct shm_db;

/*
 * h_exec_totals - the sums over every executor sub-slot of every slot of
 * the segment (retired included), read the way poolmon reads: attach
 * read-only, copy each block under its seqcount.  0, or -1 if the segment
 * cannot be read.
 */
int h_exec_totals(const char *shm, struct shm_exec *sum);

/* a copy of database entry @i of the segment; 0 or -1 */
int h_shm_db(const char *shm, unsigned int i, struct shm_db *out);

/* the poolmon binary to test ($POOLMON_BIN, else ./tools/poolmon) */
const char *h_poolmon_bin(void);

/*
 * h_poolmon_json - run `poolmon -n @shm --once --json -i @interval_ms` and
 * parse its one line (a json_t *, the caller decrefs); ck_abort if it
 * fails or prints something else
 */
struct json_t *h_poolmon_json(const char *shm, int interval_ms);

/* milliseconds on CLOCK_MONOTONIC */
long long h_now_ms(void);

/* write @text to @path */
void h_write_file(const char *path, const char *text);

#endif /* TESTS_INTEGRATION_HARNESS_H */
