// SPDX-License-Identifier: BSD-2-Clause
/*
 * lib/db.c - open, configure and prepare on SQLite connections
 *
 * Busy handling: SQLite's default busy handler sleeps in steps that grow
 * to 100 ms, so a writer blocked behind another for 5 ms can sleep far
 * longer than needed.  poold's handler sleeps 1, 2, 4, then 8 ms at most
 * between retries and gives up once busy_timeout_ms have passed since the
 * first retry of this wait; each call is counted.  (poold's own writers
 * queue on the write gate and should never get here; this handler is for
 * locks held by processes outside poold.)
 *
 * WAL upkeep is poold's (one designated worker checkpoints on a timer,
 * server/exec.c), so SQLite's automatic checkpoint, which would run inside
 * whichever request commits past 1000 pages, is turned off.
 *
 * Statement timeouts: a progress handler runs every DB_PROGRESS_OPS
 * virtual-machine instructions and interrupts the statement once the
 * deadline set by db_arm_timeout() has passed; sleep_ms() checks the same
 * deadline, so a slow debug route times out like a slow query.
 */
#include "lib/db.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/conf.h"

#define DB_PROGRESS_OPS 1000
#define DB_BUSY_SLEEP_MAX_MS 8
#define DB_SLEEP_SLICE_MS 5

static void db_sleep_ms(uint64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000),
			       .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int db_busy_handler(void *arg, int count)
{
	struct db_conn *c = arg;
	uint64_t now = clock_mono_ns(), waited, limit, step;

	if (count == 0)
		c->busy_start = now;
	c->busy_calls++;
	waited = now - c->busy_start;
	limit = (uint64_t)c->cd->busy_timeout_ms * CLOCK_NS_PER_MS;
	if (waited >= limit) {
		c->busy_timeouts++;
		return 0; /* SQLITE_BUSY reaches the caller */
	}
	step = count < 3 ? 1ULL << count : DB_BUSY_SLEEP_MAX_MS;
	step *= CLOCK_NS_PER_MS;
	if (step > limit - waited)
		step = limit - waited;
	if (c->state)
		atomic_store_explicit(c->state, 'L', memory_order_relaxed);
	db_sleep_ms((step + CLOCK_NS_PER_MS - 1) / CLOCK_NS_PER_MS);
	if (c->state)
		atomic_store_explicit(c->state, 'Q', memory_order_relaxed);
	return 1;
}

static bool db_is_late(struct db_conn *c)
{
	if (!c->deadline || clock_mono_ns() < c->deadline)
		return false;
	c->timed_out = true;
	return true;
}

static int db_progress(void *arg)
{
	return db_is_late(arg) ? 1 : 0;
}

/* sleep_ms(n): sleep n ms (bounded by the statement deadline), return n */
static void db_fn_sleep_ms(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct db_conn *c = sqlite3_user_data(ctx);
	sqlite3_int64 n = sqlite3_value_int64(argv[0]);
	uint64_t end =
		clock_mono_ns() + (uint64_t)(n > 0 ? n : 0) * CLOCK_NS_PER_MS;

	while (clock_mono_ns() < end) {
		if (db_is_late(c)) {
			sqlite3_result_error_code(ctx, SQLITE_INTERRUPT);
			return;
		}
		db_sleep_ms(DB_SLEEP_SLICE_MS);
	}
	sqlite3_result_int64(ctx, n);
}

static int db_fail(sqlite3 *db, int rc, char *err, size_t errsz,
		   const char *what)
{
	snprintf(err, errsz, "%s: %s", what,
		 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	return rc;
}

static int db_pragmas(struct db_conn *c, char *err, size_t errsz)
{
	const struct conf_db *cd = c->cd;
	char sql[256];

	snprintf(
		sql, sizeof(sql),
		"PRAGMA journal_mode=%s; PRAGMA synchronous=%s;"
		" PRAGMA foreign_keys=%s; PRAGMA cache_size=-%u;"
		" PRAGMA journal_size_limit=%llu; PRAGMA wal_autocheckpoint=0;",
		cd->journal_mode, cd->synchronous,
		cd->foreign_keys ? "ON" : "OFF",
		(unsigned int)cd->cache_size_kb,
		(unsigned long long)cd->wal_limit_mb << 20);
	return db_exec(c, sql, err, errsz);
}

int db_open(struct db_conn *c, const struct conf_db *cd, const char *path,
	    bool debug, char *err, size_t errsz)
{
	int rc;

	*c = (struct db_conn){ .cd = cd };
	rc = sqlite3_open_v2(path, &c->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				     SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		db_fail(c->db, rc, err, errsz, "could not open the database");
		goto err_close;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_handler(c->db, db_busy_handler, c);
	rc = db_pragmas(c, err, errsz);
	if (rc)
		goto err_close;
	sqlite3_progress_handler(c->db, DB_PROGRESS_OPS, db_progress, c);
	if (debug) {
		rc = sqlite3_create_function(c->db, "sleep_ms", 1, SQLITE_UTF8,
					     c, db_fn_sleep_ms, NULL, NULL);
		if (rc) {
			db_fail(c->db, rc, err, errsz,
				"could not register sleep_ms");
			goto err_close;
		}
	}
	c->opened = clock_mono_ns();
	return 0;

err_close:
	sqlite3_close_v2(c->db);
	c->db = NULL;
	return rc;
}

void db_close(struct db_conn *c)
{
	if (c->db)
		sqlite3_close_v2(c->db);
	c->db = NULL;
}

/* route SQL and schemas: data and DDL, never connection or transaction state */
static int db_auth(void *arg, int action, const char *a, const char *b,
		   const char *dbname, const char *trigger)
{
	switch (action) {
	case SQLITE_ATTACH:
	case SQLITE_DETACH:
	case SQLITE_PRAGMA:
	case SQLITE_TRANSACTION:
	case SQLITE_SAVEPOINT:
		return SQLITE_DENY;
	default:
		return SQLITE_OK;
	}
}

/* skip whitespace and SQL comments; true if nothing else is left */
static bool db_only_blank(const char *p)
{
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
		       *p == '\f' || *p == ';')
			p++;
		if (p[0] == '-' && p[1] == '-') {
			p = strchr(p, '\n');
			if (!p)
				return true;
		} else if (p[0] == '/' && p[1] == '*') {
			p = strstr(p + 2, "*/");
			if (!p)
				return true;
			p += 2;
		} else {
			return *p == '\0';
		}
	}
}

int db_prepare(struct db_conn *c, const char *sql, sqlite3_stmt **out,
	       char *err, size_t errsz)
{
	const char *tail = NULL;
	int rc;

	*out = NULL;
	sqlite3_set_authorizer(c->db, db_auth, NULL);
	rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out,
				&tail);
	sqlite3_set_authorizer(c->db, NULL, NULL);
	if (rc == SQLITE_AUTH) {
		snprintf(
			err, errsz,
			"statement refused: ATTACH, DETACH, PRAGMA, transaction and savepoint statements are not allowed in routes");
		return rc;
	}
	if (rc)
		return db_fail(c->db, rc, err, errsz, "could not prepare");
	if (!*out) {
		snprintf(err, errsz, "empty statement");
		return SQLITE_ERROR;
	}
	if (tail && !db_only_blank(tail)) {
		sqlite3_finalize(*out);
		*out = NULL;
		snprintf(
			err, errsz,
			"one statement per entry: text after the first statement (\"%.40s\")",
			tail);
		return SQLITE_ERROR;
	}
	return 0;
}

int db_exec(struct db_conn *c, const char *sql, char *err, size_t errsz)
{
	char *msg = NULL;
	int rc;

	rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
	if (rc) {
		snprintf(err, errsz, "%s", msg ? msg : sqlite3_errstr(rc));
		rc = sqlite3_extended_errcode(c->db);
	}
	sqlite3_free(msg);
	return rc;
}

int db_exec_schema(struct db_conn *c, const char *sql, char *err, size_t errsz)
{
	int rc;

	sqlite3_set_authorizer(c->db, db_auth, NULL);
	rc = db_exec(c, sql, err, errsz);
	sqlite3_set_authorizer(c->db, NULL, NULL);
	if ((rc & 0xff) == SQLITE_AUTH)
		snprintf(
			err, errsz,
			"the schema may hold DDL and data only: PRAGMA, ATTACH, DETACH and transaction statements are not allowed");
	return rc;
}

void db_arm_timeout(struct db_conn *c)
{
	uint32_t ms = c->cd->statement_timeout_ms;

	c->timed_out = false;
	c->deadline = ms ? clock_mono_ns() + ms * CLOCK_NS_PER_MS : 0;
}

int db_errcode(const struct db_conn *c, int rc)
{
	if (c->timed_out)
		return SQLITE_INTERRUPT;
	return rc;
}
