// SPDX-License-Identifier: BSD-2-Clause
/*
 * server/exec.c - one request's statements, as one transaction
 *
 * A route's `before` statements (read-only) run first in their own read
 * transaction; then its `sql` statements run in one transaction: BEGIN
 * IMMEDIATE when any of them writes, because a deferred transaction that
 * reads and then writes can fail with SQLITE_BUSY at once, without the
 * busy handler ever being called.
 *
 * Values flow forward: the first row of every statement is kept (as
 * sqlite3_value copies) and fills same-named parameters of the statements
 * after it, when the request itself did not give them.  Every statement is
 * stepped to SQLITE_DONE — an UPDATE ... RETURNING has done its work only
 * then — and reset at once, so no statement holds a read transaction open
 * once the job is over.
 *
 * The result statement's rows are rendered straight into the job's
 * response buffer.  Any failure rolls the whole transaction back: a list
 * of statements is all or nothing.
 */
#define pr_fmt(fmt) "exec: " fmt

#include "server/exec.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "lib/clock.h"
#include "lib/conf.h"
#include "lib/jsonw.h"
#include "lib/log.h"
#include "lib/sqlerr.h"
#include "server/dbpool.h"
#include "server/job.h"
#include "server/route.h"
#include "server/stats.h"
#include "shm/shm.h"

#define SRV_EXEC_MAX_COLS 256

/* first-row values of the statements run so far, newest last */
struct srv_exec_cols {
	const char *name[SRV_EXEC_MAX_COLS]; /* borrowed from the statements */
	sqlite3_value *v[SRV_EXEC_MAX_COLS]; /* owned */
	unsigned int n;
};

/* what went wrong, for the answer */
struct srv_exec_state {
	struct srv_exec *ex;
	struct srv_job *job;
	const struct srv_route *r;
	struct srv_exec_cols cols;
	int on_empty;	   /* a statement found nothing: its status */
	bool gate_timeout; /* the write gate was not taken in time */
	char msg[256];	   /* SQLite's message, kept before ROLLBACK */
};

static const struct {
	int status;
	const char *code;
	const char *message;
} srv_exec_empty[] = {
	{ 401, "unauthorized", "not authorized" },
	{ 403, "forbidden", "forbidden" },
	{ 404, "not_found", "not found" },
	{ 409, "conflict", "conflict" },
	{ 422, "unprocessable", "the request cannot be processed" },
};

static void srv_exec_error_body(struct srv_job *job, const char *code,
				const char *message, const char *sqlite)
{
	struct jsonw *o = &job->out;

	jsonw_reset(o);
	jsonw_begin_object(o);
	jsonw_key(o, "error", 5);
	jsonw_begin_object(o);
	jsonw_key(o, "code", 4);
	jsonw_string(o, code, strlen(code));
	jsonw_key(o, "message", 7);
	jsonw_string(o, message, strlen(message));
	if (sqlite) {
		jsonw_key(o, "sqlite", 6);
		jsonw_string(o, sqlite, strlen(sqlite));
	}
	jsonw_end_object(o);
	jsonw_end_object(o);
	jsonw_append(o, "\n", 1);
}

static void srv_exec_answer(struct srv_job *job, int status, const char *code,
			    const char *message, const char *sqlite)
{
	job->status = status;
	job->more = false;
	job->extra[0] = '\0';
	if (status == 503)
		snprintf(job->extra, sizeof(job->extra), "Retry-After: 1\r\n");
	srv_exec_error_body(job, code, message, sqlite);
}

void srv_exec_fail(struct srv_job *job, int status, const char *code,
		   const char *message)
{
	srv_exec_answer(job, status, code, message, NULL);
}

void srv_exec_expired(struct srv_job *job)
{
	job->taken_at = 0; /* it never held a connection */
	srv_exec_fail(
		job, 503, "pool_timeout",
		"no database connection became free within acquire_timeout_ms");
}

static void srv_exec_cols_free(struct srv_exec_cols *c)
{
	unsigned int i;

	for (i = 0; i < c->n; i++)
		sqlite3_value_free(c->v[i]);
	c->n = 0;
}

static void srv_exec_capture(struct srv_exec_cols *c, sqlite3_stmt *stmt)
{
	int i, n = sqlite3_column_count(stmt);

	for (i = 0; i < n && c->n < SRV_EXEC_MAX_COLS; i++) {
		c->v[c->n] = sqlite3_value_dup(sqlite3_column_value(stmt, i));
		if (!c->v[c->n])
			continue;
		c->name[c->n++] = sqlite3_column_name(stmt, i);
	}
}

static sqlite3_value *srv_exec_column(const struct srv_exec_cols *c,
				      const char *name)
{
	unsigned int i;

	for (i = c->n; i-- > 0;) {
		if (!strcmp(c->name[i], name))
			return c->v[i];
	}
	return NULL;
}

static int srv_exec_bind_value(sqlite3_stmt *stmt, int i,
			       const struct srv_value *v)
{
	switch (v->t) {
	case SRV_V_INT:
		return sqlite3_bind_int64(stmt, i, v->i);
	case SRV_V_REAL:
		return sqlite3_bind_double(stmt, i, v->d);
	case SRV_V_TEXT:
		return sqlite3_bind_text64(stmt, i, v->p, v->len, SQLITE_STATIC,
					   SQLITE_UTF8);
	case SRV_V_BLOB:
		return sqlite3_bind_blob64(stmt, i, v->p, v->len,
					   SQLITE_STATIC);
	default:
		return sqlite3_bind_null(stmt, i);
	}
}

static int srv_exec_bind(struct srv_exec_state *x, unsigned int k,
			 sqlite3_stmt *stmt)
{
	const struct srv_route_stmt *st = &x->r->stmts[k];
	const struct srv_job *job = x->job;
	sqlite3_value *col;
	unsigned int i;
	int slot, rc = 0;

	for (i = 0; i < st->nbind && !rc; i++) {
		slot = st->slots[i];
		if (slot == x->r->limit_slot)
			/* one row more than a page tells whether more exist */
			rc = sqlite3_bind_int64(stmt, (int)i + 1,
						job->limit +
							(k == x->r->result));
		else if (slot == x->r->offset_slot)
			rc = sqlite3_bind_int64(stmt, (int)i + 1, job->offset);
		else if (job->vals[slot].t != SRV_V_ABSENT)
			rc = srv_exec_bind_value(stmt, (int)i + 1,
						 &job->vals[slot]);
		else if ((col = srv_exec_column(&x->cols,
						x->r->params[slot].name)))
			rc = sqlite3_bind_value(stmt, (int)i + 1, col);
		else
			rc = sqlite3_bind_null(stmt, (int)i + 1);
	}
	return rc;
}

static void srv_exec_row(struct jsonw *o, sqlite3_stmt *stmt)
{
	int i, n = sqlite3_column_count(stmt);
	const char *name;

	jsonw_begin_object(o);
	for (i = 0; i < n; i++) {
		name = sqlite3_column_name(stmt, i);
		jsonw_key(o, name, strlen(name));
		switch (sqlite3_column_type(stmt, i)) {
		case SQLITE_INTEGER:
			jsonw_int(o, sqlite3_column_int64(stmt, i));
			break;
		case SQLITE_FLOAT:
			jsonw_double(o, sqlite3_column_double(stmt, i));
			break;
		case SQLITE_TEXT:
			jsonw_string(o,
				     (const char *)sqlite3_column_text(stmt, i),
				     (size_t)sqlite3_column_bytes(stmt, i));
			break;
		case SQLITE_BLOB:
			jsonw_base64(o, sqlite3_column_blob(stmt, i),
				     (size_t)sqlite3_column_bytes(stmt, i));
			break;
		default:
			jsonw_null(o);
			break;
		}
	}
	jsonw_end_object(o);
}

/* render the result statement's rows as the route's result shape */
static int srv_exec_render(struct srv_exec_state *x, sqlite3_stmt *stmt, int rc,
			   unsigned int *rows)
{
	enum conf_result shape = x->r->cr->result;
	struct jsonw *o = &x->job->out;
	bool paged = x->r->cr->has_page;

	if (shape == CONF_RESULT_MANY)
		jsonw_begin_array(o);
	for (*rows = 0; rc == SQLITE_ROW; rc = sqlite3_step(stmt)) {
		if (!*rows)
			srv_exec_capture(&x->cols, stmt);
		if (paged && *rows == (uint64_t)x->job->limit)
			x->job->more = true;
		else if (shape == CONF_RESULT_MANY ||
			 (!*rows && shape == CONF_RESULT_ONE))
			srv_exec_row(o, stmt);
		(*rows)++;
	}
	if (shape == CONF_RESULT_MANY)
		jsonw_end_array(o);
	return rc;
}

static void srv_exec_render_exec(struct srv_exec_state *x)
{
	sqlite3 *db = x->ex->conn.db;
	struct jsonw *o = &x->job->out;

	jsonw_begin_object(o);
	jsonw_key(o, "changes", 7);
	jsonw_int(o, sqlite3_changes64(db));
	jsonw_key(o, "last_insert_id", 14);
	jsonw_int(o, sqlite3_last_insert_rowid(db));
	jsonw_end_object(o);
}

/* run statement @k to SQLITE_DONE; rendering it if it is the result */
static int srv_exec_stmt(struct srv_exec_state *x, unsigned int k)
{
	const struct srv_route_stmt *st = &x->r->stmts[k];
	sqlite3_stmt *stmt = x->ex->stmts[st->id];
	unsigned int rows = 0;
	bool empty;
	int rc;

	rc = srv_exec_bind(x, k, stmt);
	if (!rc)
		rc = sqlite3_step(stmt);
	if (k == x->r->result && (rc == SQLITE_ROW || rc == SQLITE_DONE)) {
		rc = srv_exec_render(x, stmt, rc, &rows);
		if (rc == SQLITE_DONE && x->job->out.err)
			rc = SQLITE_ABORT; /* too large: roll back, answered below */
	} else if (rc == SQLITE_ROW) {
		srv_exec_capture(&x->cols, stmt);
		for (rows = 1; (rc = sqlite3_step(stmt)) == SQLITE_ROW; rows++)
			;
	}
	if (rc == SQLITE_DONE && k == x->r->result &&
	    x->r->cr->result == CONF_RESULT_EXEC)
		srv_exec_render_exec(x);
	empty = st->ncols ? !rows : sqlite3_changes(x->ex->conn.db) == 0;
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	if (rc != SQLITE_DONE)
		return rc;
	if (empty && st->cs->on_empty) {
		x->on_empty = st->cs->on_empty;
		return SQLITE_CONSTRAINT; /* stop: rolled back, answered below */
	}
	if (empty && k == x->r->result && x->r->cr->result == CONF_RESULT_ONE) {
		x->on_empty = 404;
		return SQLITE_CONSTRAINT;
	}
	return 0;
}

static int srv_exec_tx(struct srv_exec *ex, enum srv_exec_tx which)
{
	int rc = sqlite3_step(ex->tx[which]);

	sqlite3_reset(ex->tx[which]);
	return rc == SQLITE_DONE ? 0 : sqlite3_extended_errcode(ex->conn.db);
}

static void srv_exec_rollback(struct srv_exec *ex)
{
	if (!sqlite3_get_autocommit(ex->conn.db))
		srv_exec_tx(ex, SRV_TX_ROLLBACK);
}

static void srv_exec_gate_waited(struct shm_exec *sx, uint64_t waited, int err)
{
	shm_write_begin(&sx->seq);
	shm_add(&sx->gate_waits, 1);
	shm_add(&sx->gate_wait_ns_sum, waited);
	shm_max(&sx->gate_wait_ns_max, waited);
	shm_add(&sx->lock_timeouts, err == -ETIMEDOUT);
	shm_write_end(&sx->seq);
}

/*
 * Take the database's write gate: poold's writers queue here, across
 * every worker, instead of meeting SQLITE_BUSY inside SQLite.  The wait
 * is bounded by busy_timeout_ms and measured exactly.  Returns 0 (held)
 * or -ETIMEDOUT.
 */
static int srv_exec_gate_take(struct srv_exec_state *x, uint64_t *held_at)
{
	struct srv_exec *ex = x->ex;
	struct shm_exec *sx = ex->sx;
	struct srv_dbpool *p = ex->pool;
	bool recovered = false;
	uint64_t t0, waited;
	int err;

	if (!p->shm)
		return 0;
	err = shm_gate_trylock(p->shm, p->shm_db, &recovered);
	if (err == -EBUSY) {
		shm_set32(&sx->state, SHM_EXEC_ACQUIRE);
		t0 = clock_mono_ns();
		err = shm_gate_lock(p->shm, p->shm_db,
				    (uint64_t)p->cd->busy_timeout_ms *
					    CLOCK_NS_PER_MS,
				    &recovered);
		*held_at = clock_mono_ns();
		waited = *held_at - t0;
		if (SRV_ACCOUNTING)
			srv_exec_gate_waited(sx, waited, err);
		shm_set32(&sx->state, SHM_EXEC_QUERY);
	} else {
		*held_at = clock_mono_ns();
	}
	if (recovered) {
		pr_warn("database \"%s\": a writer died holding the write gate; recovered",
			p->cd->name);
		shm_write_begin(&sx->seq);
		shm_add(&sx->gate_recoveries, 1);
		shm_write_end(&sx->seq);
	}
	if (err)
		x->gate_timeout = true;
	return err;
}

static void srv_exec_gate_give(struct srv_exec_state *x, uint64_t held_at)
{
	struct srv_exec *ex = x->ex;
	uint64_t held;

	if (!ex->pool->shm)
		return;
	shm_gate_unlock(ex->pool->shm, ex->pool->shm_db);
	if (!SRV_ACCOUNTING)
		return;
	held = clock_mono_ns() - held_at;
	shm_write_begin(&ex->sx->seq);
	shm_add(&ex->sx->gate_hold_ns_sum, held);
	shm_max(&ex->sx->gate_hold_ns_max, held);
	shm_write_end(&ex->sx->seq);
}

static int srv_exec_statements(struct srv_exec_state *x, unsigned int from,
			       unsigned int to, bool write)
{
	unsigned int k;
	int rc;

	rc = srv_exec_tx(x->ex, write ? SRV_TX_BEGIN_IMMEDIATE : SRV_TX_BEGIN);
	for (k = from; k < to && !rc; k++)
		rc = srv_exec_stmt(x, k);
	if (!rc)
		rc = srv_exec_tx(x->ex, SRV_TX_COMMIT);
	if (rc) {
		snprintf(x->msg, sizeof(x->msg), "%s",
			 sqlite3_errmsg(x->ex->conn.db));
		srv_exec_rollback(x->ex);
	}
	return rc;
}

static void srv_exec_committed(struct shm_db *d)
{
	atomic_fetch_add(&d->commits, 1);
	/* a write went through: the storage works again */
	if (atomic_load_explicit(&d->storage_fault, memory_order_relaxed))
		atomic_store(&d->storage_fault, 0);
}

/* statements [from, to) in one transaction; a write holds the gate */
static int srv_exec_phase(struct srv_exec_state *x, unsigned int from,
			  unsigned int to, bool write)
{
	uint64_t held_at = 0;
	int rc;

	if (!write)
		return srv_exec_statements(x, from, to, false);
	if (srv_exec_gate_take(x, &held_at))
		return SQLITE_BUSY;
	rc = srv_exec_statements(x, from, to, true);
	if (!rc && x->ex->pool->shm)
		srv_exec_committed(
			shm_db(x->ex->pool->shm, x->ex->pool->shm_db));
	srv_exec_gate_give(x, held_at);
	return rc;
}

static const char *srv_exec_public_message(int status, int code,
					   const char *msg)
{
	if (status < 500)
		return msg; /* constraint details are the client's business */
	if (status == 500)
		return "internal error (the details are in the server log)";
	if (code == SQLITE_INTERRUPT)
		return "the statement took longer than statement_timeout_ms";
	if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
		return "the database stayed locked longer than busy_timeout_ms";
	return "the database cannot be used right now";
}

static void srv_exec_sqlite_error(struct srv_exec_state *x, int rc)
{
	const char *name, *msg;
	struct sqlerr_http h;
	int code;

	code = db_errcode(&x->ex->conn, rc);
	sqlerr_to_http(code, &h);
	name = sqlerr_name(code);
	msg = code == SQLITE_INTERRUPT ? "interrupted" : x->msg;
	if (h.status >= 500)
		pr_warn_ratelimited("route \"%s\": %s: %s", x->r->name, name,
				    msg);
	else
		pr_debug("route \"%s\": %s: %s", x->r->name, name, msg);
	if (h.storage && x->ex->pool->shm) /* /readyz says 503 until it heals */
		atomic_store(&shm_db(x->ex->pool->shm, x->ex->pool->shm_db)
				      ->storage_fault,
			     1);
	srv_exec_answer(x->job, h.status, h.code,
			srv_exec_public_message(h.status, code, msg), name);
}

static void srv_exec_answer_empty(struct srv_exec_state *x)
{
	unsigned int i;

	for (i = 0; i < sizeof(srv_exec_empty) / sizeof(srv_exec_empty[0]);
	     i++) {
		if (srv_exec_empty[i].status == x->on_empty) {
			srv_exec_fail(x->job, x->on_empty,
				      srv_exec_empty[i].code,
				      srv_exec_empty[i].message);
			return;
		}
	}
	srv_exec_fail(x->job, 404, "not_found", "not found");
}

/* what this job met, into the executor's sub-slot */
static void srv_exec_account(struct srv_exec_state *x, int rc)
{
	struct srv_exec *ex = x->ex;
	struct shm_exec *sx = ex->sx;
	uint64_t calls = ex->conn.busy_calls - ex->busy_seen;
	int code = db_errcode(&ex->conn, rc);

	if (!SRV_ACCOUNTING)
		return;
	ex->busy_seen = ex->conn.busy_calls;
	shm_write_begin(&sx->seq);
	shm_add(&sx->jobs, 1);
	shm_add(&sx->busy_handler_calls, calls);
	if (rc && !x->on_empty && !x->gate_timeout && !x->job->out.err) {
		if ((code & 0xff) == SQLITE_BUSY) {
			shm_add(&sx->lock_timeouts, 1);
			shm_add(&sx->busy_immediate, !calls);
			shm_add(&sx->busy_snapshot,
				code == SQLITE_BUSY_SNAPSHOT);
		} else if (code == SQLITE_INTERRUPT) {
			shm_add(&sx->statement_timeouts, 1);
		} else if ((code & 0xff) != SQLITE_CONSTRAINT) {
			shm_add(&sx->errors, 1);
		}
	}
	shm_write_end(&sx->seq);
}

void srv_exec_run(struct srv_exec *ex, struct srv_job *job)
{
	struct srv_exec_state x = { .ex = ex, .job = job, .r = job->route };
	const struct srv_route *r = job->route;
	int rc = 0;

	shm_set32(&ex->sx->state, SHM_EXEC_QUERY);
	atomic_store_explicit(&ex->sx->busy_since_mono_ns, clock_mono_ns(),
			      memory_order_relaxed);
	job->status = r->cr->status;
	job->extra[0] = '\0';
	job->more = false;
	db_arm_timeout(&ex->conn);
	if (r->nbefore)
		rc = srv_exec_phase(&x, 0, r->nbefore, false);
	if (!rc)
		rc = srv_exec_phase(&x, r->nbefore, r->nbefore + r->nsql,
				    r->write);
	ex->conn.deadline = 0;
	srv_exec_cols_free(&x.cols);
	srv_exec_account(&x, rc);
	atomic_store_explicit(&ex->sx->busy_since_mono_ns, 0,
			      memory_order_relaxed);
	shm_set32(&ex->sx->state, SHM_EXEC_IDLE);
	if (x.gate_timeout)
		srv_exec_fail(
			job, 503, "lock_timeout",
			"the write gate stayed taken longer than busy_timeout_ms");
	else if (x.on_empty)
		srv_exec_answer_empty(&x);
	else if (rc && !job->out.err)
		srv_exec_sqlite_error(&x, rc);
	else if (job->out.err == -E2BIG)
		srv_exec_fail(
			job, 500, "too_large_result",
			"the result is larger than max_response_bytes: paginate");
	else if (job->out.err)
		srv_exec_fail(job, 500, "internal", "out of memory");
	else
		jsonw_append(&job->out, "\n", 1);
}

static uint64_t srv_exec_wal_bytes(const struct conf_db *cd)
{
	char path[4200];
	struct stat st;

	snprintf(path, sizeof(path), "%s-wal", cd->path);
	return stat(path, &st) < 0 ? 0 : (uint64_t)st.st_size;
}

void srv_exec_checkpoint(struct srv_exec *ex)
{
	struct srv_dbpool *p = ex->pool;
	struct srv_exec_state x = { .ex = ex };
	struct shm_db *d = shm_db(p->shm, p->shm_db);
	uint64_t wal = srv_exec_wal_bytes(p->cd), held_at = 0;
	bool truncate = wal > ((uint64_t)p->cd->wal_limit_mb << 20);
	int rc;

	if (!ex->conn.db || !d)
		return;
	/*
	 * Under the gate, like a writer: a checkpoint's locks on the WAL
	 * index would otherwise make a writer that restarts the WAL wait in
	 * its busy handler (SQLite's own auto-checkpoint, now off, ran inside
	 * a committing writer, so under the gate too)
	 */
	if (srv_exec_gate_take(&x, &held_at))
		return;
	shm_set32(&ex->sx->state, SHM_EXEC_QUERY);
	rc = sqlite3_wal_checkpoint_v2(ex->conn.db, NULL,
				       truncate ? SQLITE_CHECKPOINT_TRUNCATE :
						  SQLITE_CHECKPOINT_PASSIVE,
				       NULL, NULL);
	srv_exec_gate_give(&x, held_at);
	/* a TRUNCATE waits for readers in the busy handler: that is upkeep,
	 * not a request meeting a lock, so it is not counted as one */
	ex->busy_seen = ex->conn.busy_calls;
	shm_set32(&ex->sx->state, SHM_EXEC_IDLE);
	if (rc && rc != SQLITE_BUSY)
		pr_warn_ratelimited("database \"%s\": checkpoint failed: %s",
				    p->cd->name, sqlite3_errmsg(ex->conn.db));
	pr_debug("checkpoint %s of \"%s\": %s (WAL was %llu bytes)",
		 truncate ? "TRUNCATE" : "PASSIVE", p->cd->name,
		 sqlite3_errstr(rc), (unsigned long long)wal);
	if (!rc)
		atomic_fetch_add(truncate ? &d->checkpoints_truncate :
					    &d->checkpoints,
				 1);
	atomic_store(&d->wal_bytes, srv_exec_wal_bytes(p->cd));
}
