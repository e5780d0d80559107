// SPDX-License-Identifier: BSD-2-Clause
/*
 * tools/poolmon_json.c - one --json document: a compact line per interval
 *
 * The field names are a contract (documented in poolmon.1, "schema": 1):
 * add fields freely, never rename or remove one without a new schema
 * number.  Counters are integers since the server started (the retired
 * totals included); *_per_s, *_avg_s and p50_s/p99_s are of the interval
 * between this document's two snapshots; gauges are the newer snapshot's.
 *
 * Reals are rounded before they are stored (rates to 0.001, durations to
 * the microsecond, the time to the millisecond) and printed with 15
 * significant digits, so the output reads 0.1 and not 0.10000000000000001.
 * Text from the segment that is not valid UTF-8 is printed with '?' for
 * every byte outside ASCII rather than dropping the document.
 */
#include "tools/poolmon.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

static const char *const poolmon_classes[5] = { "1xx", "2xx", "3xx", "4xx",
						"5xx" };

/* @v rounded to a multiple of 1/@k; never negative */
static double poolmon_round(double v, double k)
{
	if (!(v > 0))
		return 0;
	if (v * k >= 9e18)
		return v;
	return (double)(long long)(v * k + 0.5) / k;
}

static double poolmon_rate3(double v)
{
	return poolmon_round(v, 1e3);
}

static double poolmon_sec(double v)
{
	return poolmon_round(poolmon_finite_s(v), 1e6);
}

static double poolmon_ns(uint64_t ns)
{
	return poolmon_sec((double)ns / 1e9);
}

static json_int_t poolmon_int(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (json_int_t)v;
}

/* a string of at most @max bytes from the segment */
static json_t *poolmon_json_text(const char *s, size_t max)
{
	size_t n = strnlen(s, max), i;
	json_t *j = json_stringn(s, n);
	char *copy;

	if (j)
		return j;
	copy = malloc(n + 1);
	if (!copy)
		return NULL;
	for (i = 0; i < n; i++)
		copy[i] = s[i] > 0x1f && s[i] < 0x7f ? s[i] : '?';
	j = json_stringn(copy, n);
	free(copy);
	return j;
}

/* {"1xx": N, ... "5xx": N} */
static json_t *poolmon_json_classes(const uint64_t requests[5])
{
	json_t *o = json_object();
	unsigned int i;

	for (i = 0; o && i < 5; i++) {
		if (json_object_set_new(
			    o, poolmon_classes[i],
			    json_integer(poolmon_int(requests[i])))) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static json_t *poolmon_json_conns(uint32_t r, uint32_t w, uint32_t i)
{
	return json_pack("{s:I, s:I, s:I}", "reading", (json_int_t)r, "writing",
			 (json_int_t)w, "idle", (json_int_t)i);
}

static json_t *poolmon_json_reload(const struct shm_snap *s)
{
	if (s->reload_result == SHM_RELOAD_NONE || !s->reload_unix_ns)
		return json_pack("{s:n, s:n, s:s}", "time", "ok", "message",
				 "");
	return json_pack("{s:f, s:b, s:o}", "time",
			 poolmon_round((double)s->reload_unix_ns / 1e9, 1e3),
			 "ok", s->reload_result == SHM_RELOAD_OK, "message",
			 poolmon_json_text(s->reload_msg, SHM_TEXT));
}

static json_t *poolmon_json_listeners(const struct shm_snap *s)
{
	const struct shm_snap_listener *l;
	json_t *a = json_array();
	unsigned int i;

	for (i = 0; a && i < s->nlisteners && i < SHM_MAX_LISTENERS; i++) {
		l = &s->listeners[i];
		if (!l->open)
			continue;
		if (json_array_append_new(
			    a,
			    json_pack("{s:o, s:I, s:I, s:I, s:I, s:b}", "name",
				      poolmon_json_text(l->name,
							sizeof(l->name)),
				      "port", (json_int_t)l->port, "queue",
				      (json_int_t)l->queue, "backlog",
				      (json_int_t)l->backlog, "queue_max",
				      (json_int_t)l->queue_max, "status",
				      (int)l->status))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *poolmon_json_totals(const struct poolmon_model *m)
{
	const struct shm_snap *s = m->s;

	return json_pack(
		"{s:o, s:f, s:f, s:f, s:f, s:f, s:I, s:I, s:I, s:o, s:I}",
		"requests", poolmon_json_classes(s->total.requests),
		"req_per_s", poolmon_rate3(m->req_ps), "p50_s",
		poolmon_sec(m->p50_s), "p99_s", poolmon_sec(m->p99_s),
		"errors_4xx_per_s", poolmon_rate3(m->e4_ps), "errors_5xx_per_s",
		poolmon_rate3(m->e5_ps), "accepts", poolmon_int(s->accepts),
		"bytes_in", poolmon_int(s->bytes_in), "bytes_out",
		poolmon_int(s->bytes_out), "conns",
		poolmon_json_conns(s->conns_reading, s->conns_writing,
				   s->conns_idle),
		"inflight", (json_int_t)s->inflight);
}

/* the pool half of a database: gauges and acquire figures */
static json_t *poolmon_json_db_pool(const struct poolmon_db_row *r)
{
	const struct shm_snap_db *d = r->d;

	return json_pack(
		"{s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:f, s:I, s:f, s:f, s:I, s:I, s:f}",
		"name", poolmon_json_text(d->name, sizeof(d->name)), "path",
		poolmon_json_text(d->path, sizeof(d->path)), "pool_size",
		(json_int_t)d->pool_size, "in_use", (json_int_t)d->in_use,
		"idle", (json_int_t)d->idle, "waiters", (json_int_t)d->waiters,
		"peak_waiters", (json_int_t)d->peak_waiters, "maxwait_s",
		poolmon_ns(d->maxwait_ns), "acquires", poolmon_int(d->acquires),
		"acquire_wait_avg_s", poolmon_sec(r->acquire_wait_avg_s),
		"acquire_wait_max_s", poolmon_ns(d->acquire_wait_ns_max),
		"acquire_timeouts", poolmon_int(d->acquire_timeouts),
		"pool_full", poolmon_int(d->pool_full), "timeouts_per_s",
		poolmon_rate3(r->timeouts_ps));
}

/* the SQLite half: the write gate, locks, busy, the file */
static int poolmon_json_db_sqlite(json_t *o, const struct poolmon_db_row *r)
{
	const struct shm_snap_db *d = r->d;
	json_t *x;

	x = json_pack(
		"{s:I, s:f, s:f, s:f, s:I, s:{s:I, s:I, s:I}, s:f, s:I, s:I, s:I, s:I, s:I}",
		"gate_waits", poolmon_int(d->gate_waits), "gate_waits_per_s",
		poolmon_rate3(r->gate_waits_ps), "gate_wait_avg_s",
		poolmon_sec(r->gate_wait_avg_s), "gate_wait_max_s",
		poolmon_ns(d->gate_wait_ns_max), "lock_timeouts",
		poolmon_int(d->lock_timeouts), "busy", "handler",
		poolmon_int(d->busy_handler_calls), "immediate",
		poolmon_int(d->busy_immediate), "snapshot",
		poolmon_int(d->busy_snapshot), "busy_per_s",
		poolmon_rate3(r->busy_ps), "statement_timeouts",
		poolmon_int(d->statement_timeouts), "errors",
		poolmon_int(d->errors), "wal_bytes", poolmon_int(d->wal_bytes),
		"checkpoints", poolmon_int(d->checkpoints), "commits",
		poolmon_int(d->commits));
	if (!x || json_object_update(o, x)) {
		json_decref(x);
		return -1;
	}
	json_decref(x);
	return 0;
}

static json_t *poolmon_json_dbs(const struct poolmon_model *m)
{
	json_t *a = json_array(), *o;
	unsigned int i;

	for (i = 0; a && i < m->ndbs; i++) {
		o = poolmon_json_db_pool(&m->dbs[i]);
		if (!o || poolmon_json_db_sqlite(o, &m->dbs[i]) ||
		    json_array_append_new(a, o)) {
			json_decref(o);
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* the executor letters, printable ASCII only */
static json_t *poolmon_json_execs(const struct shm_snap_slot *s)
{
	return poolmon_json_text(s->execs, sizeof(s->execs));
}

static json_t *poolmon_json_workers(const struct poolmon_model *m)
{
	const struct poolmon_worker_row *r;
	json_t *a = json_array();
	unsigned int i;

	for (i = 0; a && i < m->nworkers; i++) {
		r = &m->workers[i];
		if (json_array_append_new(
			    a,
			    json_pack(
				    "{s:I, s:I, s:I, s:s, s:o, s:I, s:I, s:f, s:f, s:o}",
				    "slot", (json_int_t)r->s->index, "pid",
				    (json_int_t)r->s->pid, "generation",
				    (json_int_t)r->s->generation, "state",
				    poolmon_slot_state_name(r->s->state),
				    "conns",
				    poolmon_json_conns(r->s->conns_reading,
						       r->s->conns_writing,
						       r->s->conns_idle),
				    "inflight", (json_int_t)r->s->inflight,
				    "requests", poolmon_int(r->requests),
				    "req_per_s", poolmon_rate3(r->req_ps),
				    "share", poolmon_round(r->share, 1e4),
				    "execs", poolmon_json_execs(r->s)))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *poolmon_json_routes(const struct poolmon_model *m)
{
	const struct poolmon_route_row *r;
	json_t *a = json_array();
	unsigned int i;

	for (i = 0; a && i < m->nroutes; i++) {
		r = &m->routes[i];
		if (json_array_append_new(
			    a,
			    json_pack("{s:o, s:b, s:o, s:f, s:f, s:f}", "id",
				      poolmon_json_text(r->r->id,
							sizeof(r->r->id)),
				      "builtin", (int)r->r->builtin, "requests",
				      poolmon_json_classes(r->r->req.requests),
				      "req_per_s", poolmon_rate3(r->req_ps),
				      "p50_s", poolmon_sec(r->p50_s), "p99_s",
				      poolmon_sec(r->p99_s)))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static double poolmon_unix_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return poolmon_round((double)ts.tv_sec + (double)ts.tv_nsec / 1e9, 1e3);
}

/* the whole document, or NULL when out of memory */
static json_t *poolmon_json_doc(const struct poolmon_model *m)
{
	const struct shm_snap *s = m->s;

	return json_pack(
		"{s:i, s:f, s:I, s:s, s:I, s:f, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o}",
		"schema", 1, "time", poolmon_unix_now(), "master_pid",
		(json_int_t)s->master_pid, "state",
		poolmon_state_name(s->state), "generation",
		poolmon_int(s->generation), "uptime_s",
		poolmon_round((double)s->uptime_ns / 1e9, 1e3), "workers_alive",
		(json_int_t)s->workers_alive, "workers_expected",
		(json_int_t)s->workers_expected, "worker_restarts",
		poolmon_int(s->worker_restarts), "reloads",
		poolmon_int(s->reloads), "last_reload", poolmon_json_reload(s),
		"listeners", poolmon_json_listeners(s), "totals",
		poolmon_json_totals(m), "dbs", poolmon_json_dbs(m), "workers",
		poolmon_json_workers(m), "routes", poolmon_json_routes(m));
}

/**
 * poolmon_json_print - the interval as one line of JSON, flushed
 * @f: where
 * @m: the interval
 *
 * Returns 0, or -1 when the document could not be built (out of memory)
 * or written (errno says why).
 */
int poolmon_json_print(FILE *f, const struct poolmon_model *m)
{
	json_t *doc = poolmon_json_doc(m);
	int err;

	if (!doc) {
		errno = ENOMEM;
		return -1;
	}
	err = json_dumpf(doc, f, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(doc);
	if (err || fputc('\n', f) == EOF || fflush(f))
		return -1;
	return 0;
}
