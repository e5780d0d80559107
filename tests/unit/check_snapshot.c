// SPDX-License-Identifier: BSD-2-Clause
/*
 * tests/unit/check_snapshot.c - the segment reader: sums over every slot
 * (the retired one and dead ones included), gauges over live workers
 * only, the listing of live workers and their executor letters, the age
 * of the oldest pool waiter, totals that never go down across a fold,
 * retries, quantiles and rates, and the Prometheus text: exact series,
 * label escaping, each family once, and `promtool check metrics` clean.
 *
 * Every test works on a segment of its own ("/poold-snap-PID-N"), filled
 * the way the workers and the master fill it; its name is unlinked as
 * soon as it is mapped twice.  Snapshots are taken through the second,
 * read-only mapping, as poolmon takes them.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "lib/clock.h"
#include "lib/util.h"
#include "shm/shm.h"
#include "shm/snapshot.h"
#include "tests/unit/suites.h"

#define SNAP_ITEMS SHM_ROUTE_FIRST	/* "GET /items/{id}" */
#define SNAP_POST (SHM_ROUTE_FIRST + 1) /* "POST /items" */
#define SNAP_PROMTOOL "/usr/bin/promtool"

/* the checked fixture: a segment, a read-only mapping of it, two snapshots */
static char seg_name[64];
static struct shm_seg seg, ro;
static struct shm_snap *snap_a, *snap_b;
static uint64_t snap_now; /* CLOCK_MONOTONIC when the segment was filled */

static void snap_test_setup(void)
{
	static unsigned int k;
	struct shm_hdr *h;
	char why[256];

	snprintf(seg_name, sizeof(seg_name), "/poold-snap-%d-%u", (int)getpid(),
		 k++);
	ck_assert_int_eq(shm_create(&seg, seg_name, 2, 0640), 0);
	ck_assert_int_eq(shm_attach(&ro, seg_name, why, sizeof(why)), 0);
	shm_unlink(seg_name); /* both mapped: a failed test leaves no name */
	h = seg.hdr;
	ck_assert_int_eq(shm_db_register(h, "main", "/srv/main.db", 1, 1), 0);
	ck_assert_int_eq(shm_db_register(h, "logs", "/srv/logs.db", 1, 2), 1);
	ck_assert_int_eq(shm_route_register(h, "GET /items/{id}", false),
			 SNAP_ITEMS);
	ck_assert_int_eq(shm_route_register(h, "POST /items", false),
			 SNAP_POST);
	snap_a = calloc(1, sizeof(*snap_a));
	snap_b = calloc(1, sizeof(*snap_b));
	ck_assert(snap_a && snap_b);
}

static void snap_test_teardown(void)
{
	free(snap_a);
	free(snap_b);
	shm_detach(&ro, false);
	shm_detach(&seg, true);
}

/* a worker starts in @slot (the worker's own write) */
static void snap_test_worker(uint32_t slot, int32_t pid, uint32_t gen,
			     uint32_t state)
{
	struct shm_slot *s = shm_slot(seg.hdr, slot);

	shm_write_begin(&s->seq);
	atomic_store(&s->pid, pid);
	shm_set32(&s->generation, gen);
	shm_set32(&s->state, state);
	atomic_store(&s->start_unix_ns, clock_real_ns());
	atomic_store(&s->heartbeat_mono_ns, snap_now - 5 * CLOCK_NS_PER_MS);
	shm_write_end(&s->seq);
}

/* @n requests of status class @cls (0 = 1xx) on @route, as stats.c counts */
static void snap_test_requests(uint32_t slot, uint32_t route, unsigned int cls,
			       uint64_t n, uint64_t latency_ns)
{
	struct shm_slot *s = shm_slot(seg.hdr, slot);
	struct shm_slot_route *r = shm_slot_route(seg.hdr, slot, route);
	unsigned int b = shm_hist_bucket(latency_ns);

	shm_write_begin(&s->seq);
	shm_add(&s->requests[cls], n);
	shm_add(&s->latency_ns_sum, n * latency_ns);
	shm_add(&s->latency_hist[b], n);
	shm_write_end(&s->seq);
	shm_write_begin(&r->seq);
	shm_add(&r->requests[cls], n);
	shm_add(&r->latency_ns_sum, n * latency_ns);
	shm_add(&r->latency_hist[b], n);
	shm_write_end(&r->seq);
}

static void snap_test_traffic(uint32_t slot, uint64_t accepts, uint32_t rd,
			      uint32_t wr, uint32_t idle, uint32_t inflight)
{
	struct shm_slot *s = shm_slot(seg.hdr, slot);

	shm_add(&s->accepts, accepts);
	shm_add(&s->bytes_in, 100 * accepts);
	shm_add(&s->bytes_out, 200 * accepts);
	shm_write_begin(&s->seq);
	shm_set32(&s->conns_reading, rd);
	shm_set32(&s->conns_writing, wr);
	shm_set32(&s->conns_idle, idle);
	shm_set32(&s->inflight, inflight);
	shm_write_end(&s->seq);
}

/* a pool's gauges {size, in use, idle, waiters, peak}, oldest waiter */
static void snap_test_pool(uint32_t slot, uint32_t db, const uint32_t g[5],
			   uint64_t oldest, uint64_t acquires)
{
	struct shm_slot_db *d = shm_slot_db(seg.hdr, slot, db);

	shm_write_begin(&d->seq);
	shm_set32(&d->pool_size, g[0]);
	shm_set32(&d->in_use, g[1]);
	shm_set32(&d->idle, g[2]);
	shm_set32(&d->waiters, g[3]);
	shm_set32(&d->peak_waiters, g[4]);
	atomic_store(&d->oldest_waiter_mono_ns, oldest);
	shm_add(&d->acquires, acquires);
	shm_add(&d->acquire_wait_ns_sum, 1000 * acquires);
	shm_add(&d->acquire_hist[shm_hist_bucket(5000)], acquires);
	shm_write_end(&d->seq);
}

/* executor @e of @slot serves @db, is in @state, has counted @field += @n */
static void snap_test_exec(uint32_t slot, uint32_t e, uint32_t db, char state,
			   size_t field, uint64_t n)
{
	struct shm_exec *x = shm_exec(seg.hdr, slot, e);

	shm_write_begin(&x->seq);
	shm_set32(&x->db, db);
	shm_set32(&x->state, (uint32_t)state);
	shm_add((_Atomic uint64_t *)((char *)x + field), n);
	shm_write_end(&x->seq);
}

#define SNAP_EXEC(f) offsetof(struct shm_exec, f)

static void snap_test_header(void)
{
	struct shm_hdr *h = seg.hdr;
	struct shm_listener *l = shm_listener(h, 0);

	atomic_store(&h->workers_expected, 2);
	atomic_store(&h->generation, 3);
	atomic_store(&h->state, SHM_STATE_RUNNING);
	shm_write_begin(&h->hdr_seq);
	atomic_store(&h->worker_restarts, 1);
	atomic_store(&h->reloads, 2);
	atomic_store(&h->reload_unix_ns, UINT64_C(1700000000) * CLOCK_NS_PER_S);
	atomic_store(&h->reload_result, SHM_RELOAD_FAILED);
	shm_write_end(&h->hdr_seq);

	shm_write_begin(&l->seq);
	strcpy(l->name, "127.0.0.1:8080");
	shm_set32(&l->port, 8080);
	shm_set32(&l->backlog, 4096);
	shm_set32(&l->queue, 3);
	shm_set32(&l->open, 1);
	shm_write_end(&l->seq);
	l = shm_listener(h, 1); /* dropped by a reload */
	shm_write_begin(&l->seq);
	strcpy(l->name, "unix:/run/poold.sock");
	shm_set32(&l->queue, 9);
	shm_write_end(&l->seq);
	atomic_store(&h->nlisteners, 2);
}

/* two live workers and one starting; a dead one, folded; one dead, not */
static void snap_test_fill(void)
{
	static const uint32_t pool0[5] = { 4, 3, 1, 2, 5 };
	static const uint32_t pool0b[5] = { 4, 1, 3, 0, 7 };
	static const uint32_t pool1[5] = { 2, 0, 2, 0, 0 };
	static const uint32_t dead[5] = { 9, 9, 9, 9, 99 };

	snap_now = clock_mono_ns();
	snap_test_header();
	snap_test_worker(0, 1001, 3, SHM_SLOT_READY);
	snap_test_traffic(0, 10, 1, 2, 3, 4);
	snap_test_requests(0, SNAP_ITEMS, 1, 3, 3000);
	snap_test_requests(0, SNAP_POST, 3, 1, 1500000);
	snap_test_requests(0, SHM_ROUTE_HEALTHZ, 1, 1, 500);
	snap_test_pool(0, 0, pool0, snap_now - 2 * CLOCK_NS_PER_S, 10);
	snap_test_pool(0, 1, pool1, 0, 1);
	snap_test_exec(0, 0, 0, 'Q', SNAP_EXEC(busy_handler_calls), 2);
	snap_test_exec(0, 1, 1, '_', SNAP_EXEC(errors), 1);
	snap_test_exec(0, 3, 0, 'L', SNAP_EXEC(lock_timeouts), 1);

	snap_test_worker(1, 1002, 2, SHM_SLOT_DRAINING);
	snap_test_traffic(1, 20, 0, 1, 0, 1);
	snap_test_requests(1, SNAP_ITEMS, 1, 4, 3000);
	snap_test_pool(1, 0, pool0b, snap_now - CLOCK_NS_PER_S, 20);
	snap_test_exec(1, 0, 0, 'A', SNAP_EXEC(gate_waits), 3);
	snap_test_exec(1, 0, 0, 'A', SNAP_EXEC(gate_wait_ns_sum),
		       3 * CLOCK_NS_PER_S);

	snap_test_worker(2, 1003, 3, SHM_SLOT_READY); /* dies, is folded */
	snap_test_traffic(2, 5, 7, 7, 7, 7);
	snap_test_requests(2, SNAP_POST, 4, 2, 3000);
	snap_test_pool(2, 0, dead, snap_now - 100 * CLOCK_NS_PER_S, 5);
	snap_test_exec(2, 0, 1, 'Q', SNAP_EXEC(errors), 3);
	shm_slot_fold(seg.hdr, 2);

	snap_test_worker(3, 1004, 3, SHM_SLOT_FREE); /* dead, not folded */
	snap_test_traffic(3, 7, 7, 7, 7, 7);
	snap_test_requests(3, SNAP_POST, 3, 1, 3000);
	snap_test_pool(3, 0, dead, snap_now - 100 * CLOCK_NS_PER_S, 1);
	snap_test_exec(3, 0, 0, 'Q', SNAP_EXEC(jobs), 1);

	snap_test_worker(4, 1005, 3, SHM_SLOT_STARTING);
}

static void snap_test_take(struct shm_snap *s)
{
	ck_assert_int_eq(shm_snap_take(ro.hdr, s), 0);
}

START_TEST(test_snapshot_sums_every_slot)
{
	const struct shm_snap *s = snap_a;

	snap_test_fill();
	snap_test_take(snap_a);
	ck_assert_uint_eq(s->accepts, 10 + 20 + 5 + 7);
	ck_assert_uint_eq(s->bytes_in, 4200);
	ck_assert_uint_eq(s->bytes_out, 8400);
	ck_assert_uint_ge(s->nroutes, SNAP_POST + 1);
	ck_assert_str_eq(s->routes[SNAP_ITEMS].id, "GET /items/{id}");
	ck_assert(!s->routes[SNAP_ITEMS].builtin);
	ck_assert(s->routes[SHM_ROUTE_HEALTHZ].builtin);
	ck_assert_uint_eq(s->routes[SNAP_ITEMS].req.requests[1], 7);
	ck_assert_uint_eq(s->routes[SNAP_ITEMS].req.latency_ns_sum, 21000);
	ck_assert_uint_eq(s->routes[SNAP_ITEMS].req.latency_hist[2], 7);
	ck_assert_uint_eq(s->routes[SNAP_POST].req.requests[3], 2);
	ck_assert_uint_eq(s->routes[SNAP_POST].req.requests[4], 2);
	ck_assert_uint_eq(s->routes[SHM_ROUTE_HEALTHZ].req.requests[1], 1);
	/* built-ins count in the total */
	ck_assert_uint_eq(s->total.requests[0], 0);
	ck_assert_uint_eq(s->total.requests[1], 8);
	ck_assert_uint_eq(s->total.requests[3], 2);
	ck_assert_uint_eq(s->total.requests[4], 2);
	ck_assert_uint_eq(s->total.latency_hist[0], 1);
	ck_assert_uint_eq(s->total.latency_hist[2], 10);
	ck_assert_uint_eq(s->total.latency_hist[11], 1);

	ck_assert_uint_eq(s->ndbs, 2);
	ck_assert_uint_eq(s->dbs[0].acquires, 10 + 20 + 5 + 1);
	ck_assert_uint_eq(s->dbs[0].acquire_wait_ns_sum, 36000);
	ck_assert_uint_eq(s->dbs[0].acquire_hist[3], 36);
	ck_assert_uint_eq(s->dbs[1].acquires, 1);
	/* executors: live, folded (retired entry of db 1) and dead */
	ck_assert_uint_eq(s->dbs[0].busy_handler_calls, 2);
	ck_assert_uint_eq(s->dbs[0].lock_timeouts, 1);
	ck_assert_uint_eq(s->dbs[0].gate_waits, 3);
	ck_assert_uint_eq(s->dbs[0].gate_wait_ns_sum, 3 * CLOCK_NS_PER_S);
	ck_assert_uint_eq(s->dbs[0].jobs, 1);
	ck_assert_uint_eq(s->dbs[0].errors, 0);
	ck_assert_uint_eq(s->dbs[1].errors, 1 + 3);
}
END_TEST

START_TEST(test_snapshot_gauges_live_only)
{
	const struct shm_snap *s = snap_a;
	const struct shm_snap_db *d = &s->dbs[0];

	snap_test_fill();
	snap_test_take(snap_a);
	ck_assert_uint_eq(s->workers_alive, 3);
	ck_assert_uint_eq(s->conns_reading, 1);
	ck_assert_uint_eq(s->conns_writing, 3);
	ck_assert_uint_eq(s->conns_idle, 3);
	ck_assert_uint_eq(s->inflight, 5);
	ck_assert_uint_eq(d->pool_size, 8);
	ck_assert_uint_eq(d->in_use, 4);
	ck_assert_uint_eq(d->idle, 4);
	ck_assert_uint_eq(d->waiters, 2);
	ck_assert_uint_eq(d->peak_waiters, 7);
	/* the oldest live waiter: 2 s ago; the dead slot's is ignored */
	ck_assert_uint_ge(d->maxwait_ns, 2 * CLOCK_NS_PER_S);
	ck_assert_uint_lt(d->maxwait_ns, 3 * CLOCK_NS_PER_S);
	ck_assert_uint_eq(s->dbs[1].pool_size, 2);
	ck_assert_uint_eq(s->dbs[1].idle, 2);
	ck_assert_uint_eq(s->dbs[1].maxwait_ns, 0);
}
END_TEST

START_TEST(test_snapshot_lists_live_workers)
{
	const struct shm_snap *s = snap_a;
	const struct shm_snap_slot *w = &s->slots[0];

	snap_test_fill();
	snap_test_take(snap_a);
	ck_assert_uint_eq(s->nslots, 3);
	ck_assert_uint_eq(s->slots[0].index, 0);
	ck_assert_uint_eq(s->slots[1].index, 1);
	ck_assert_uint_eq(s->slots[2].index, 4);
	ck_assert_int_eq(w->pid, 1001);
	ck_assert_uint_eq(w->generation, 3);
	ck_assert_uint_eq(w->state, SHM_SLOT_READY);
	ck_assert_uint_ne(w->start_unix_ns, 0);
	ck_assert_uint_ge(w->heartbeat_age_ns, 5 * CLOCK_NS_PER_MS);
	ck_assert_uint_lt(w->heartbeat_age_ns, 5 * CLOCK_NS_PER_S);
	ck_assert_uint_eq(w->conns_reading, 1);
	ck_assert_uint_eq(w->conns_writing, 2);
	ck_assert_uint_eq(w->conns_idle, 3);
	ck_assert_uint_eq(w->inflight, 4);
	ck_assert_uint_eq(w->accepts, 10);
	ck_assert_uint_eq(w->bytes_out, 2000);
	ck_assert_uint_eq(w->req.requests[1], 4);
	ck_assert_uint_eq(w->req.requests[3], 1);
	ck_assert_str_eq(w->execs, "Q_L"); /* entry 2 unused */
	ck_assert_int_eq(s->slots[1].pid, 1002);
	ck_assert_uint_eq(s->slots[1].state, SHM_SLOT_DRAINING);
	ck_assert_str_eq(s->slots[1].execs, "A");
	ck_assert_int_eq(s->slots[2].pid, 1005);
	ck_assert_str_eq(s->slots[2].execs, "");
}
END_TEST

START_TEST(test_snapshot_header_and_tables)
{
	const struct shm_snap *s = snap_a;

	snap_test_fill();
	snap_test_take(snap_a);
	ck_assert_uint_eq(s->abi_major, SHM_ABI_MAJOR);
	ck_assert_int_eq(s->master_pid, getpid());
	ck_assert_uint_eq(s->state, SHM_STATE_RUNNING);
	ck_assert_uint_eq(s->start_unix_ns, seg.hdr->start_unix_ns);
	ck_assert_uint_lt(s->uptime_ns, 60 * CLOCK_NS_PER_S);
	ck_assert_uint_eq(s->generation, 3);
	ck_assert_uint_eq(s->workers_expected, 2);
	ck_assert_int_eq(s->checkpointer_slot, -1);
	ck_assert_uint_eq(s->worker_restarts, 1);
	ck_assert_uint_eq(s->reloads, 2);
	ck_assert_uint_eq(s->reload_result, SHM_RELOAD_FAILED);
	ck_assert_str_eq(s->reload_msg, "");
	ck_assert_uint_ge(s->taken_mono_ns, snap_now);
	ck_assert_uint_eq(s->nlisteners, 2);
	ck_assert_str_eq(s->listeners[0].name, "127.0.0.1:8080");
	ck_assert_uint_eq(s->listeners[0].port, 8080);
	ck_assert_uint_eq(s->listeners[0].backlog, 4096);
	ck_assert_uint_eq(s->listeners[0].queue, 3);
	ck_assert(s->listeners[0].open);
	ck_assert(!s->listeners[1].open);
	ck_assert_str_eq(s->dbs[0].name, "main");
	ck_assert_str_eq(s->dbs[1].path, "/srv/logs.db");
	ck_assert_uint_eq(s->dbs[0].gate_held_ns, 0);
}
END_TEST

/* folding a worker between two snapshots moves counters, never loses them */
START_TEST(test_snapshot_fold_keeps_totals)
{
	const struct shm_snap *a = snap_a, *b = snap_b;
	unsigned int k;

	snap_test_fill();
	snap_test_take(snap_a);
	atomic_store(&shm_slot(seg.hdr, 0)->pid, 0); /* reaped */
	shm_slot_fold(seg.hdr, 0);
	shm_slot_fold(seg.hdr, 3);
	snap_test_take(snap_b);
	for (k = 0; k < 5; k++)
		ck_assert_uint_eq(b->total.requests[k], a->total.requests[k]);
	ck_assert_uint_eq(b->total.latency_ns_sum, a->total.latency_ns_sum);
	ck_assert_uint_eq(b->accepts, a->accepts);
	ck_assert_uint_eq(b->bytes_out, a->bytes_out);
	ck_assert_uint_eq(b->dbs[0].acquires, a->dbs[0].acquires);
	ck_assert_uint_eq(b->dbs[0].busy_handler_calls, 2);
	ck_assert_uint_eq(b->dbs[0].jobs, 1);
	ck_assert_uint_eq(b->dbs[1].errors, 4);
	ck_assert_uint_eq(b->routes[SNAP_ITEMS].req.requests[1], 7);
	/* the gauges of the folded worker are gone */
	ck_assert_uint_eq(b->workers_alive, 2);
	ck_assert_uint_eq(b->nslots, 2);
	ck_assert_uint_eq(b->dbs[0].pool_size, 4);
	ck_assert_uint_eq(b->dbs[0].waiters, 0);
	ck_assert_uint_lt(b->dbs[0].maxwait_ns, 2 * CLOCK_NS_PER_S);
	ck_assert_uint_eq(b->conns_reading, 0);
}
END_TEST

/* a fold or a block update that never ends: -EAGAIN, never a half sum */
START_TEST(test_snapshot_retries_then_gives_up)
{
	struct shm_hdr *h = seg.hdr;
	struct shm_slot_route *r;

	snap_test_fill();
	shm_write_begin(&h->hdr_seq);
	ck_assert_int_eq(shm_snap_take(ro.hdr, snap_a), -EAGAIN);
	shm_write_end(&h->hdr_seq);
	snap_test_take(snap_a);

	r = shm_slot_route(h, shm_retired_slot(h), SNAP_POST);
	shm_write_begin(&r->seq);
	ck_assert_int_eq(shm_snap_take(ro.hdr, snap_b), -EAGAIN);
	shm_write_end(&r->seq);
	snap_test_take(snap_b);
	ck_assert_uint_eq(snap_b->total.requests[4], 2);
}
END_TEST

START_TEST(test_snapshot_rates)
{
	const struct timespec ms10 = { .tv_nsec = 10 * 1000 * 1000 };
	uint64_t dt;
	double r;

	snap_test_fill();
	snap_test_take(snap_a);
	snap_test_requests(0, SNAP_ITEMS, 1, 10, 3000);
	nanosleep(&ms10, NULL);
	snap_test_take(snap_b);
	dt = snap_b->taken_mono_ns - snap_a->taken_mono_ns;
	ck_assert_uint_ge(dt, 10 * CLOCK_NS_PER_MS);
	r = shm_rate(snap_a->total.requests[1], snap_b->total.requests[1], dt);
	ck_assert_double_eq_tol(r, 10.0 * 1e9 / (double)dt, 1e-9);
	ck_assert_double_gt(r, 0);
	ck_assert_double_eq(shm_rate(100, 300, 2 * CLOCK_NS_PER_S), 100.0);
	ck_assert_double_eq(shm_rate(300, 100, CLOCK_NS_PER_S), 0.0);
	ck_assert_double_eq(shm_rate(100, 300, 0), 0.0);
}
END_TEST

static const struct {
	unsigned int b1, b2; /* buckets holding n1 and n2 */
	uint64_t n1, n2;
	double q, want;
} snap_test_quantiles[] = {
	{ 0, 0, 0, 0, 0.5, 0 }, /* empty */
	{ 0, 0, 5, 0, 0.5, 1e-6 },
	{ 2, 11, 50, 50, 0.5, 4e-6 },
	{ 2, 11, 50, 50, 0.51, 2.048e-3 },
	{ 2, 11, 50, 50, 0.99, 2.048e-3 },
	{ 2, 11, 50, 50, 0, 4e-6 }, /* the first bucket used */
	{ 2, 11, 50, 50, 1, 2.048e-3 },
	{ 2, 11, 50, 50, 7, 2.048e-3 }, /* q clamped */
	{ 1, 31, 1, 99, 0.01, 2e-6 },
	{ 1, 31, 1, 99, 0.5, 1073.741824 }, /* last bucket: finite */
	{ 20, 20, 3, 0, 0.99, 1.048576 },
};

START_TEST(test_snapshot_quantile)
{
	uint64_t hist[SHM_HIST] = { 0 };
	double q = snap_test_quantiles[_i].q;

	hist[snap_test_quantiles[_i].b1] += snap_test_quantiles[_i].n1;
	hist[snap_test_quantiles[_i].b2] += snap_test_quantiles[_i].n2;
	ck_assert_double_eq_tol(shm_hist_quantile(hist, q),
				snap_test_quantiles[_i].want, 1e-12);
}
END_TEST

START_TEST(test_snapshot_hist_le)
{
	ck_assert_double_eq_tol(shm_hist_le(0), 1e-6, 1e-18);
	ck_assert_double_eq_tol(shm_hist_le(1), 2e-6, 1e-18);
	ck_assert_double_eq_tol(shm_hist_le(10), 1.024e-3, 1e-15);
	ck_assert_double_eq_tol(shm_hist_le(SHM_HIST - 2), 1073.741824, 1e-9);
	ck_assert(isinf(shm_hist_le(SHM_HIST - 1)));
	ck_assert(isinf(shm_hist_le(SHM_HIST + 5)));
	/* a duration lands in the bucket whose bound is above it */
	ck_assert_double_lt(3e-6, shm_hist_le(shm_hist_bucket(3000)));
	ck_assert_double_ge(3e-6, shm_hist_le(shm_hist_bucket(3000) - 1));
}
END_TEST

/* the exposition of the segment; the caller frees it */
static char *snap_test_metrics(void)
{
	char *text = NULL;
	size_t len = 0;

	snap_test_take(snap_a);
	ck_assert_int_eq(shm_metrics_write(snap_a, &text, &len), 0);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(strlen(text), len);
	ck_assert(len > 0 && text[len - 1] == '\n');
	return text;
}

/* the exposition of a fresh segment: no database, no listener, no worker */
static char *snap_test_fresh_metrics(void)
{
	struct shm_seg fresh;
	char name[80], *text = NULL;
	size_t len = 0;

	snprintf(name, sizeof(name), "%s-fresh", seg_name);
	ck_assert_int_eq(shm_create(&fresh, name, 1, 0640), 0);
	ck_assert_int_eq(shm_snap_take(fresh.hdr, snap_b), 0);
	shm_detach(&fresh, true);
	ck_assert_uint_eq(snap_b->ndbs, 0);
	ck_assert_uint_eq(snap_b->nroutes, SHM_ROUTE_FIRST);
	ck_assert_int_eq(shm_metrics_write(snap_b, &text, &len), 0);
	return text;
}

/* @text has the whole line @line */
static void snap_test_has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p++;
	}
	ck_abort_msg("no line \"%s\" in:\n%s", line, text);
}

static const char *const snap_test_lines[] = {
	"poold_up 1",
	"poold_generation 3",
	"poold_workers 3",
	"poold_workers_expected 2",
	"poold_worker_restarts_total 1",
	"poold_reloads_total 2",
	"poold_last_reload_success 0",
	"poold_last_reload_time_seconds 1700000000.000",
	"# TYPE poold_requests_total counter",
	"poold_requests_total{route=\"GET /items/{id}\",class=\"2xx\"} 7",
	"poold_requests_total{route=\"GET /healthz\",class=\"2xx\"} 1",
	"poold_requests_total{route=\"POST /items\",class=\"4xx\"} 2",
	"poold_requests_total{route=\"POST /items\",class=\"5xx\"} 2",
	"# TYPE poold_request_duration_seconds histogram",
	"poold_request_duration_seconds_bucket{route=\"GET /items/{id}\",le=\"0.000002\"} 0",
	"poold_request_duration_seconds_bucket{route=\"GET /items/{id}\",le=\"0.000004\"} 7",
	"poold_request_duration_seconds_bucket{route=\"GET /items/{id}\",le=\"+Inf\"} 7",
	"poold_request_duration_seconds_bucket{route=\"POST /items\",le=\"0.001024\"} 3",
	"poold_request_duration_seconds_bucket{route=\"POST /items\",le=\"0.002048\"} 4",
	"poold_request_duration_seconds_bucket{route=\"GET /healthz\",le=\"0.000001\"} 1",
	"poold_request_duration_seconds_bucket{route=\"GET /readyz\",le=\"+Inf\"} 0",
	"poold_request_duration_seconds_sum{route=\"GET /items/{id}\"} 2.1e-05",
	"poold_request_duration_seconds_count{route=\"GET /items/{id}\"} 7",
	"poold_connections{state=\"reading\"} 1",
	"poold_connections{state=\"writing\"} 3",
	"poold_connections{state=\"idle\"} 3",
	"poold_inflight_requests 5",
	"poold_accepts_total 42",
	"poold_received_bytes_total 4200",
	"poold_sent_bytes_total 8400",
	"poold_listen_queue{listener=\"127.0.0.1:8080\"} 3",
	"poold_listen_backlog{listener=\"127.0.0.1:8080\"} 4096",
	"poold_pool_size{db=\"main\"} 8",
	"poold_pool_in_use{db=\"main\"} 4",
	"poold_pool_waiters{db=\"main\"} 2",
	"poold_pool_peak_waiters{db=\"main\"} 7",
	"poold_pool_idle{db=\"logs\"} 2",
	"poold_pool_max_wait_seconds{db=\"logs\"} 0",
	"poold_pool_acquires_total{db=\"main\"} 36",
	"poold_pool_acquire_wait_seconds_bucket{db=\"main\",le=\"0.000004\"} 0",
	"poold_pool_acquire_wait_seconds_bucket{db=\"main\",le=\"0.000008\"} 36",
	"poold_pool_acquire_wait_seconds_bucket{db=\"main\",le=\"+Inf\"} 36",
	"poold_pool_acquire_wait_seconds_sum{db=\"main\"} 3.6e-05",
	"poold_pool_acquire_wait_seconds_count{db=\"main\"} 36",
	"poold_gate_waits_total{db=\"main\"} 3",
	"poold_gate_wait_seconds_total{db=\"main\"} 3",
	"poold_lock_timeouts_total{db=\"main\"} 1",
	"poold_sqlite_busy_total{db=\"main\",kind=\"handler\"} 2",
	"poold_sqlite_busy_total{db=\"main\",kind=\"snapshot\"} 0",
	"poold_sqlite_errors_total{db=\"logs\"} 4",
	"poold_checkpoints_total{db=\"main\",mode=\"truncate\"} 0",
	"poold_wal_bytes{db=\"main\"} 0",
};

START_TEST(test_snapshot_metrics_lines)
{
	char *text;
	unsigned int i;

	snap_test_fill();
	text = snap_test_metrics();
	for (i = 0; i < ARRAY_SIZE(snap_test_lines); i++)
		snap_test_has_line(text, snap_test_lines[i]);
	/* zero classes, closed listeners: no series */
	ck_assert_ptr_null(strstr(text, "class=\"1xx\""));
	ck_assert_ptr_null(strstr(text, "unix:/run/poold.sock"));
	ck_assert_ptr_null(strstr(text, "nan"));
	free(text);
}
END_TEST

/* route ids with a quote, a backslash and a newline */
static void snap_test_odd_routes(void)
{
	int a = shm_route_register(seg.hdr, "GET /a\"b\\c", false);
	int b = shm_route_register(seg.hdr, "GET /x\ny", false);

	ck_assert_int_gt(a, 0);
	ck_assert_int_gt(b, 0);
	snap_test_requests(0, (uint32_t)a, 1, 1, 3000);
	snap_test_requests(0, (uint32_t)b, 4, 1, 3000);
}

START_TEST(test_snapshot_metrics_escapes_labels)
{
	char *text;

	snap_test_fill();
	snap_test_odd_routes();
	text = snap_test_metrics();
	snap_test_has_line(
		text,
		"poold_requests_total{route=\"GET /a\\\"b\\\\c\",class=\"2xx\"} 1");
	snap_test_has_line(
		text,
		"poold_requests_total{route=\"GET /x\\ny\",class=\"5xx\"} 1");
	snap_test_has_line(
		text,
		"poold_request_duration_seconds_count{route=\"GET /a\\\"b\\\\c\"} 1");
	free(text);
}
END_TEST

/* the sample's family: its name, less a histogram suffix */
static bool snap_test_in_family(const char *name, size_t n, const char *fam,
				bool histogram)
{
	static const char *const sfx[] = { "_bucket", "_sum", "_count" };
	size_t f = strlen(fam);
	unsigned int i;

	if (n == f && !strncmp(name, fam, n))
		return true;
	for (i = 0; histogram && i < ARRAY_SIZE(sfx); i++) {
		if (n == f + strlen(sfx[i]) && !strncmp(name, fam, f) &&
		    !strncmp(name + f, sfx[i], n - f))
			return true;
	}
	return false;
}

/*
 * a "# TYPE name type" line: the family is new, a counter ends in _total;
 * @types gets the name, the return says whether it is a histogram
 */
static bool snap_test_type_line(char *line, char **types, unsigned int nt)
{
	char *name = line + 7, *type = strchr(name, ' ');
	size_t n = type ? (size_t)(type - name) : 0;
	unsigned int i;

	ck_assert_msg(n > 0, "bad TYPE line: %s", line);
	*type++ = '\0';
	for (i = 0; i < nt; i++)
		ck_assert_msg(strcmp(types[i], name), "family twice: %s", name);
	if (!strcmp(type, "counter"))
		ck_assert_msg(n > 6 && !strcmp(name + n - 6, "_total"),
			      "counter %s lacks _total", name);
	types[nt] = name;
	return !strcmp(type, "histogram");
}

/* every family once, TYPE before its samples, no series twice */
static void snap_test_check_families(char *text)
{
	char *line, *save = NULL, *types[256], *series[8192];
	unsigned int nt = 0, ns = 0, i;
	bool histogram = false;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "# HELP ", 7))
			continue;
		if (!strncmp(line, "# TYPE ", 7)) {
			ck_assert(nt < ARRAY_SIZE(types));
			histogram = snap_test_type_line(line, types, nt++);
			continue;
		}
		ck_assert_msg(nt > 0, "a sample before any TYPE: %s", line);
		ck_assert_msg(snap_test_in_family(line, strcspn(line, "{ "),
						  types[nt - 1], histogram),
			      "%s outside its family %s", line, types[nt - 1]);
		*strrchr(line, ' ') = '\0';
		for (i = 0; i < ns; i++)
			ck_assert_msg(strcmp(series[i], line), "twice: %s",
				      line);
		ck_assert(ns < ARRAY_SIZE(series));
		series[ns++] = line;
	}
	ck_assert_uint_ge(nt, 40);
}

START_TEST(test_snapshot_metrics_families)
{
	static const char *const need[] = {
		"# HELP poold_pool_size ",
		"# TYPE poold_pool_size gauge",
		"# TYPE poold_sqlite_busy_total counter",
		"# TYPE poold_pool_acquire_wait_seconds histogram",
		"# TYPE poold_listen_queue gauge",
	};
	char *text;
	unsigned int i;

	/* a fresh segment: no database, no listener; every family anyway */
	text = snap_test_fresh_metrics();
	for (i = 0; i < ARRAY_SIZE(need); i++)
		ck_assert_msg(strstr(text, need[i]), "no \"%s\"", need[i]);
	ck_assert_ptr_null(strstr(text, "poold_pool_size{"));
	ck_assert_ptr_null(strstr(text, "poold_listen_queue{"));
	snap_test_check_families(text);
	free(text);

	snap_test_fill();
	snap_test_odd_routes();
	text = snap_test_metrics();
	snap_test_check_families(text);
	free(text);
}
END_TEST

/* `promtool check metrics` on @text: exit 0 and no lint output */
static void snap_test_promtool(const char *text)
{
	char in[] = "/tmp/poold-snap-metrics-XXXXXX";
	char cmd[256], out[4096] = "";
	FILE *f;
	size_t n;
	int fd, st;

	fd = mkstemp(in);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	snprintf(cmd, sizeof(cmd), "%s check metrics < %s 2>&1", SNAP_PROMTOOL,
		 in);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	st = pclose(f);
	unlink(in);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0 && n == 0,
		      "promtool (status %d) said:\n%s", st, out);
}

START_TEST(test_snapshot_metrics_promtool)
{
	char *text;

	if (access(SNAP_PROMTOOL, X_OK) != 0)
		ck_abort_msg("%s is missing (Debian package prometheus)",
			     SNAP_PROMTOOL);
	text = snap_test_fresh_metrics(); /* families without samples */
	snap_test_promtool(text);
	free(text);
	snap_test_fill();
	snap_test_odd_routes();
	text = snap_test_metrics();
	snap_test_promtool(text);
	free(text);
}
END_TEST

#define SNAP_THREAD_SNAPS 300 /* snapshots taken while the writers run */
#define SNAP_THREAD_PER_LIFE 5

static atomic_bool snap_stop;

/* a worker in slot 0: requests and accepts; *@arg gets how many */
static void *snap_test_worker_thread(void *arg)
{
	uint64_t *n = arg;

	/* a worker announces itself before it counts anything */
	atomic_store(&shm_slot(seg.hdr, 0)->pid, 4242);
	for (*n = 0; !atomic_load(&snap_stop); (*n)++) {
		snap_test_requests(0, SNAP_ITEMS, 1, 1, 3000);
		shm_add(&shm_slot(seg.hdr, 0)->accepts, 1);
	}
	return NULL;
}

/*
 * short-lived workers in slot 1, each folded by the "master" once dead;
 * *@arg gets how many lived
 */
static void *snap_test_respawn_thread(void *arg)
{
	static const uint32_t pool[5] = { 1, 1, 0, 0, 0 };
	const struct timespec pause = { .tv_nsec = 1000 * 1000 };
	uint64_t *lives = arg;
	uint32_t i;

	for (*lives = 0; !atomic_load(&snap_stop); (*lives)++) {
		snap_test_worker(1, (int32_t)(2000 + *lives), 1,
				 SHM_SLOT_READY);
		for (i = 0; i < SNAP_THREAD_PER_LIFE; i++) {
			snap_test_requests(1, SNAP_POST, 4, 1, 3000);
			snap_test_traffic(1, 1, 0, 0, 0, 0);
			snap_test_pool(1, 0, pool, 0, 1);
			snap_test_exec(1, 0, 0, 'Q', SNAP_EXEC(errors), 1);
		}
		shm_slot_fold(seg.hdr, 1);
		nanosleep(&pause, NULL); /* reaping is rare; readers get by */
	}
	return NULL;
}

/* the sums a snapshot must never see go down */
static void snap_test_sums(const struct shm_snap *s, uint64_t v[4])
{
	v[0] = s->total.requests[1];
	v[1] = s->total.requests[4];
	v[2] = s->accepts;
	v[3] = s->dbs[0].errors + s->dbs[0].acquires;
}

/* snapshots racing a worker and a fold loop: every sum only goes up */
START_TEST(test_snapshot_monotonic_under_writers)
{
	uint64_t last[4] = { 0 }, now[4], reqs, lives;
	unsigned int good = 0, i;
	pthread_t w, m;
	int err;

	snap_now = clock_mono_ns();
	atomic_store(&snap_stop, false);
	ck_assert_int_eq(
		pthread_create(&w, NULL, snap_test_worker_thread, &reqs), 0);
	ck_assert_int_eq(
		pthread_create(&m, NULL, snap_test_respawn_thread, &lives), 0);
	while (good < SNAP_THREAD_SNAPS) {
		err = shm_snap_take(ro.hdr, snap_a);
		if (err == -EAGAIN)
			continue;
		ck_assert_int_eq(err, 0);
		snap_test_sums(snap_a, now);
		for (i = 0; i < ARRAY_SIZE(now); i++)
			ck_assert_uint_ge(now[i], last[i]);
		memcpy(last, now, sizeof(last));
		good++;
	}
	atomic_store(&snap_stop, true);
	ck_assert_int_eq(pthread_join(w, NULL), 0);
	ck_assert_int_eq(pthread_join(m, NULL), 0);
	ck_assert_uint_gt(reqs, 0);
	ck_assert_uint_gt(lives, 0);
	/* nothing lost, nothing counted twice */
	lives *= SNAP_THREAD_PER_LIFE;
	snap_test_take(snap_a);
	ck_assert_uint_eq(snap_a->total.requests[1], reqs);
	ck_assert_uint_eq(snap_a->total.requests[4], lives);
	ck_assert_uint_eq(snap_a->accepts, reqs + lives);
	ck_assert_uint_eq(snap_a->dbs[0].errors, lives);
	ck_assert_uint_eq(snap_a->dbs[0].acquires, lives);
}
END_TEST

Suite *snapshot_suite(void)
{
	Suite *s = suite_create("snapshot");
	TCase *tc;

	tc = tcase_create("take");
	tcase_add_checked_fixture(tc, snap_test_setup, snap_test_teardown);
	tcase_add_test(tc, test_snapshot_sums_every_slot);
	tcase_add_test(tc, test_snapshot_gauges_live_only);
	tcase_add_test(tc, test_snapshot_lists_live_workers);
	tcase_add_test(tc, test_snapshot_header_and_tables);
	tcase_add_test(tc, test_snapshot_fold_keeps_totals);
	tcase_add_test(tc, test_snapshot_retries_then_gives_up);
	tcase_add_test(tc, test_snapshot_rates);
	suite_add_tcase(s, tc);

	tc = tcase_create("hist");
	tcase_add_loop_test(tc, test_snapshot_quantile, 0,
			    ARRAY_SIZE(snap_test_quantiles));
	tcase_add_test(tc, test_snapshot_hist_le);
	suite_add_tcase(s, tc);

	tc = tcase_create("metrics");
	tcase_add_checked_fixture(tc, snap_test_setup, snap_test_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_snapshot_metrics_lines);
	tcase_add_test(tc, test_snapshot_metrics_escapes_labels);
	tcase_add_test(tc, test_snapshot_metrics_families);
	tcase_add_test(tc, test_snapshot_metrics_promtool);
	suite_add_tcase(s, tc);

	tc = tcase_create("concurrent");
	tcase_add_checked_fixture(tc, snap_test_setup, snap_test_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_snapshot_monotonic_under_writers);
	suite_add_tcase(s, tc);
	return s;
}
