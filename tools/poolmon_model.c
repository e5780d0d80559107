// SPDX-License-Identifier: BSD-2-Clause
/*
 * tools/poolmon_model.c - the figures of one interval, from two snapshots
 *
 * Counters are monotonic, so everything per second is the difference of a
 * counter between the older and the newer snapshot over the time between
 * them, and a quantile of the interval is taken from the difference of two
 * histograms.  Averages (acquire wait, gate wait) are of the interval's
 * events too; maxima are since the server started, as the segment keeps
 * them.  Gauges (pool use, waiters, connections) are the newer snapshot's.
 *
 * Without an older snapshot (the first one, or the master changed), rates,
 * interval averages and quantiles are 0.  Differences saturate at 0, so a
 * counter that went backwards can never show a huge rate.
 *
 * Database and route tables are append-only within one master, so entries
 * are matched by index; workers are matched by slot and pid.
 */
#include "tools/poolmon.h"

#include <math.h>
#include <string.h>

static uint64_t poolmon_delta(uint64_t before, uint64_t after)
{
	return after > before ? after - before : 0;
}

static uint64_t poolmon_dt_ns(const struct poolmon_model *m)
{
	return (uint64_t)(m->dt_s * 1e9);
}

/* per second between two values of a counter; 0 without an interval */
static double poolmon_rate(const struct poolmon_model *m, uint64_t before,
			   uint64_t after)
{
	if (m->dt_s <= 0)
		return 0;
	return shm_rate(after > before ? before : after, after,
			poolmon_dt_ns(m));
}

/* a duration in seconds that JSON can hold: the last bucket is +Inf */
double poolmon_finite_s(double v)
{
	if (isnan(v) || v < 0)
		return 0;
	if (isinf(v))
		return shm_hist_le(SHM_HIST - 2);
	return v;
}

/* the @q quantile of the histogram's growth from @a (may be NULL) to @b */
static double poolmon_hist_q(const uint64_t *a, const uint64_t *b, double q)
{
	uint64_t d[SHM_HIST];
	unsigned int i;

	if (!a)
		return 0;
	for (i = 0; i < SHM_HIST; i++)
		d[i] = poolmon_delta(a[i], b[i]);
	return poolmon_finite_s(shm_hist_quantile(d, q));
}

/* the average of the interval's events: growth of a sum over a count */
static double poolmon_avg_s(uint64_t sum0, uint64_t sum1, uint64_t n0,
			    uint64_t n1)
{
	uint64_t n = poolmon_delta(n0, n1);

	return n ? (double)poolmon_delta(sum0, sum1) / (double)n / 1e9 : 0;
}

static uint64_t poolmon_req_sum(const struct shm_snap_req *r)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < 5; i++)
		n += r->requests[i];
	return n;
}

static uint64_t poolmon_busy(const struct shm_snap_db *d)
{
	return d->busy_handler_calls + d->busy_immediate + d->busy_snapshot;
}

static void poolmon_model_totals(struct poolmon_model *m,
				 const struct shm_snap *p,
				 const struct shm_snap *s)
{
	const struct shm_snap_req *a = p ? &p->total : NULL, *b = &s->total;
	const struct shm_snap_listener *l;
	unsigned int i;

	if (a) {
		m->req_ps =
			poolmon_rate(m, poolmon_req_sum(a), poolmon_req_sum(b));
		m->e4_ps = poolmon_rate(m, a->requests[3], b->requests[3]);
		m->e5_ps = poolmon_rate(m, a->requests[4], b->requests[4]);
	}
	m->p50_s = poolmon_hist_q(a ? a->latency_hist : NULL, b->latency_hist,
				  0.5);
	m->p99_s = poolmon_hist_q(a ? a->latency_hist : NULL, b->latency_hist,
				  0.99);
	for (i = 0; i < s->nlisteners && i < SHM_MAX_LISTENERS; i++) {
		l = &s->listeners[i];
		if (!l->open || !l->port) /* closed, or a unix socket */
			continue;
		m->lq += l->queue;
		m->backlog += l->backlog;
	}
}

static void poolmon_model_db(struct poolmon_model *m,
			     const struct shm_snap_db *a,
			     const struct shm_snap_db *d)
{
	struct poolmon_db_row *r = &m->dbs[m->ndbs++];

	r->d = d;
	m->pool_size += d->pool_size;
	m->pool_in_use += d->in_use;
	m->pool_idle += d->idle;
	m->pool_waiters += d->waiters;
	if ((double)d->maxwait_ns / 1e9 > m->maxwait_s)
		m->maxwait_s = (double)d->maxwait_ns / 1e9;
	if (!a)
		return;
	r->timeouts_ps =
		poolmon_rate(m, a->acquire_timeouts, d->acquire_timeouts);
	r->gate_waits_ps = poolmon_rate(m, a->gate_waits, d->gate_waits);
	r->gate_wait_avg_s = poolmon_avg_s(a->gate_wait_ns_sum,
					   d->gate_wait_ns_sum, a->gate_waits,
					   d->gate_waits);
	r->acquire_wait_avg_s = poolmon_avg_s(a->acquire_wait_ns_sum,
					      d->acquire_wait_ns_sum,
					      a->acquires, d->acquires);
	r->busy_ps = poolmon_rate(m, poolmon_busy(a), poolmon_busy(d));
	m->gate_waits_ps += r->gate_waits_ps;
	m->busy_ps += r->busy_ps;
}

/* the same worker in the older snapshot: same slot, same pid */
static const struct shm_snap_slot *
poolmon_prev_slot(const struct shm_snap *p, const struct shm_snap_slot *w)
{
	unsigned int i;

	for (i = 0; p && i < p->nslots && i < SHM_SNAP_MAX_SLOTS; i++) {
		if (p->slots[i].index == w->index && p->slots[i].pid == w->pid)
			return &p->slots[i];
	}
	return NULL;
}

static void poolmon_model_workers(struct poolmon_model *m,
				  const struct shm_snap *p,
				  const struct shm_snap *s)
{
	const struct shm_snap_slot *a;
	struct poolmon_worker_row *r;
	uint64_t d[SHM_SNAP_MAX_SLOTS], sum = 0;
	unsigned int i;

	for (i = 0; i < s->nslots && i < SHM_SNAP_MAX_SLOTS; i++) {
		r = &m->workers[m->nworkers++];
		r->s = &s->slots[i];
		r->requests = poolmon_req_sum(&r->s->req);
		a = poolmon_prev_slot(p, r->s);
		/* a worker that started in the interval: all of it is new */
		d[i] = p ? poolmon_delta(a ? poolmon_req_sum(&a->req) : 0,
					 r->requests) :
			   0;
		r->req_ps = poolmon_rate(m, r->requests - d[i], r->requests);
		sum += d[i];
	}
	for (i = 0; sum && i < m->nworkers; i++)
		m->workers[i].share = (double)d[i] / (double)sum;
}

static void poolmon_model_routes(struct poolmon_model *m,
				 const struct shm_snap *p,
				 const struct shm_snap *s)
{
	static const struct shm_snap_req zero;
	const struct shm_snap_req *a;
	struct poolmon_route_row *r;
	unsigned int i;

	for (i = 0; i < s->nroutes && i < SHM_MAX_ROUTES; i++) {
		r = &m->routes[m->nroutes++];
		r->r = &s->routes[i];
		r->index = i;
		if (!p)
			continue;
		/* a route id new in the interval counts from zero */
		a = i < p->nroutes ? &p->routes[i].req : &zero;
		r->req_ps = poolmon_rate(m, poolmon_req_sum(a),
					 poolmon_req_sum(&r->r->req));
		r->p50_s = poolmon_hist_q(a->latency_hist,
					  r->r->req.latency_hist, 0.5);
		r->p99_s = poolmon_hist_q(a->latency_hist,
					  r->r->req.latency_hist, 0.99);
	}
}

/**
 * poolmon_model_build - the figures of the interval from @prev to @cur
 * @m:    filled; it borrows from @cur
 * @prev: the older snapshot of the same master, or NULL
 * @cur:  the newer
 */
void poolmon_model_build(struct poolmon_model *m, const struct shm_snap *prev,
			 const struct shm_snap *cur)
{
	static const struct shm_snap_db zero;
	const struct shm_snap_db *a;
	unsigned int i;

	memset(m, 0, sizeof(*m));
	m->s = cur;
	if (prev && cur->taken_mono_ns > prev->taken_mono_ns)
		m->dt_s = (double)(cur->taken_mono_ns - prev->taken_mono_ns) /
			  1e9;
	else
		prev = NULL;
	poolmon_model_totals(m, prev, cur);
	for (i = 0; i < cur->ndbs && i < SHM_MAX_DBS; i++) {
		/* a database new in the interval counts from zero */
		a = prev && i < prev->ndbs ? &prev->dbs[i] : &zero;
		poolmon_model_db(m, prev ? a : NULL, &cur->dbs[i]);
	}
	poolmon_model_workers(m, prev, cur);
	poolmon_model_routes(m, prev, cur);
}

/* "running" for SHM_STATE_RUNNING, and so on */
const char *poolmon_state_name(uint32_t state)
{
	static const char *const names[] = {
		[SHM_STATE_STARTING] = "starting",
		[SHM_STATE_RUNNING] = "running",
		[SHM_STATE_RELOADING] = "reloading",
		[SHM_STATE_STOPPING] = "stopping",
	};

	return state < 4 ? names[state] : "unknown";
}

/* "ready" for SHM_SLOT_READY, and so on */
const char *poolmon_slot_state_name(uint32_t state)
{
	static const char *const names[] = {
		[SHM_SLOT_FREE] = "free",
		[SHM_SLOT_STARTING] = "starting",
		[SHM_SLOT_READY] = "ready",
		[SHM_SLOT_DRAINING] = "draining",
	};

	return state < 4 ? names[state] : "unknown";
}
