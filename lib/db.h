/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lib/db.h - SQLite connections as poold opens them
 *
 * One struct db_conn per connection: the handle, its pragmas applied, poold's
 * own busy handler (short sleeps up to busy_timeout_ms, every call counted),
 * a progress handler that interrupts a statement past its deadline, and
 * the debug function sleep_ms(n) when asked.  Route SQL is prepared through
 * db_prepare(), under an authorizer that refuses ATTACH, DETACH, PRAGMA,
 * transaction and savepoint statements, and with trailing text refused.
 *
 * A connection is used by one thread at a time (SQLITE_OPEN_NOMUTEX).  It
 * is opened after fork() and never crosses one.
 */
#ifndef LIB_DB_H
#define LIB_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

#include <sqlite3.h>

struct conf_db;

struct db_conn {
	sqlite3 *db;		  /* owned */
	const struct conf_db *cd; /* borrowed */
	uint64_t opened;	  /* CLOCK_MONOTONIC ns */
	uint64_t deadline;	  /* statement deadline, 0 = none */
	bool timed_out;		  /* the progress handler interrupted */
	uint64_t busy_start;	  /* first busy-handler call of this wait */
	uint64_t busy_calls;	  /* counters, for the accounting */
	uint64_t busy_timeouts;
	_Atomic uint32_t *state; /* borrowed: a state letter to set to
					 * 'L' while the busy handler waits */
};

/**
 * db_open - open and configure a connection
 * @c:     filled on success; on failure c->db is NULL
 * @cd:    the database's configuration
 * @path:  the file to open (cd->path, or ":memory:" for poold -t on a
 *         missing file)
 * @debug: register sleep_ms(n)
 * @err:   a message on failure
 * @errsz: its size
 *
 * Applies journal_mode, synchronous, foreign_keys and cache_size, and
 * installs the busy and progress handlers.  Returns 0 or an SQLite result
 * code.
 */
int db_open(struct db_conn *c, const struct conf_db *cd, const char *path,
	    bool debug, char *err, size_t errsz);

void db_close(struct db_conn *c);

/**
 * db_prepare - prepare one route statement
 * @c:      the connection
 * @sql:    the text; exactly one statement (trailing text is refused)
 * @out:    the statement
 * @err:    why not, on failure
 * @errsz:  its size
 *
 * Returns 0 or an SQLite result code (SQLITE_AUTH for a refused kind of
 * statement, SQLITE_ERROR for trailing text).
 */
int db_prepare(struct db_conn *c, const char *sql, sqlite3_stmt **out,
	       char *err, size_t errsz);

/* run @sql (no rows expected); 0 or an SQLite result code, message in @err */
int db_exec(struct db_conn *c, const char *sql, char *err, size_t errsz);

/*
 * db_exec_schema - run a schema script: DDL and data, under an authorizer
 * that refuses PRAGMA, ATTACH, DETACH and transaction statements
 */
int db_exec_schema(struct db_conn *c, const char *sql, char *err, size_t errsz);

/* set the deadline of what runs next (statement_timeout_ms from now) */
void db_arm_timeout(struct db_conn *c);

/* the extended result code to report for @rc (a timeout is INTERRUPT) */
int db_errcode(const struct db_conn *c, int rc);

#endif /* LIB_DB_H */
