// SPDX-License-Identifier: BSD-2-Clause
/*
 * server/stats.c - what a worker counts, in its slot of the segment
 *
 * Every update is a relaxed load and a store (one writer per block),
 * bracketed by the block's sequence count so that a reader's copy of a
 * block is consistent.  A request costs one slot update and one
 * slot_route update; everything else is per connection or per tick.
 */
#include "server/stats.h"

#include <pthread.h>

#include "lib/clock.h"
#include "lib/conf.h"
#include "server/conn.h"
#include "server/cycle.h"
#include "server/dbpool.h"
#include "server/job.h"
#include "server/worker.h"
#include "shm/shm.h"

static unsigned int srv_stats_class(int status)
{
	unsigned int c = (unsigned int)status / 100;

	return c >= 1 && c <= 5 ? c - 1 : 4;
}

static void srv_stats_req(_Atomic uint64_t *requests, _Atomic uint64_t *lat_sum,
			  _Atomic uint64_t *hist, int status,
			  uint64_t latency_ns)
{
	shm_add(&requests[srv_stats_class(status)], 1);
	shm_add(lat_sum, latency_ns);
	shm_add(&hist[shm_hist_bucket(latency_ns)], 1);
}

void srv_stats_request(struct srv_worker *w, uint32_t route, int status,
		       uint64_t latency_ns)
{
	struct shm_slot_route *sr;
	struct shm_slot *s = w->slot;

	if (!SRV_ACCOUNTING)
		return;
	if (!s)
		return;
	shm_write_begin(&s->seq);
	srv_stats_req(s->requests, &s->latency_ns_sum, s->latency_hist, status,
		      latency_ns);
	shm_write_end(&s->seq);
	sr = shm_slot_route(w->cy->shm, w->index, route);
	if (!sr)
		return;
	shm_write_begin(&sr->seq);
	srv_stats_req(sr->requests, &sr->latency_ns_sum, sr->latency_hist,
		      status, latency_ns);
	shm_write_end(&sr->seq);
}

static struct shm_slot_db *srv_stats_db(struct srv_worker *w, unsigned int db)
{
	if (!w->slot || db >= w->conf->ndbs)
		return NULL;
	return shm_slot_db(w->cy->shm, w->index, w->cy->db_ids[db]);
}

void srv_stats_job(struct srv_worker *w, const struct srv_job *job)
{
	struct shm_slot_db *d = srv_stats_db(w, job->pool->index);
	uint64_t hold = job->done_at - job->taken_at;

	if (!SRV_ACCOUNTING)
		return;
	if (!d || !job->taken_at)
		return;
	shm_write_begin(&d->seq);
	shm_add(&d->acquires, 1);
	shm_add(&d->acquire_wait_ns_sum, job->wait_ns);
	shm_max(&d->acquire_wait_ns_max, job->wait_ns);
	shm_add(&d->acquire_hist[shm_hist_bucket(job->wait_ns)], 1);
	shm_add(&d->hold_hist[shm_hist_bucket(hold)], 1);
	shm_write_end(&d->seq);
}

static void srv_stats_db_add(struct srv_worker *w, unsigned int db,
			     size_t field)
{
	struct shm_slot_db *d = srv_stats_db(w, db);

	if (!d)
		return;
	shm_write_begin(&d->seq);
	shm_add((_Atomic uint64_t *)((char *)d + field), 1);
	shm_write_end(&d->seq);
}

void srv_stats_pool_full(struct srv_worker *w, unsigned int db)
{
	if (!SRV_ACCOUNTING)
		return;
	srv_stats_db_add(w, db, offsetof(struct shm_slot_db, pool_full));
}

void srv_stats_acquire_timeout(struct srv_worker *w, unsigned int db)
{
	if (!SRV_ACCOUNTING)
		return;
	srv_stats_db_add(w, db, offsetof(struct shm_slot_db, acquire_timeouts));
}

void srv_stats_queue_depth(struct srv_worker *w, unsigned int db,
			   unsigned int depth)
{
	struct shm_slot_db *d = srv_stats_db(w, db);

	if (!SRV_ACCOUNTING)
		return;
	if (!d || depth <= atomic_load_explicit(&d->peak_waiters,
						memory_order_relaxed))
		return;
	shm_write_begin(&d->seq);
	shm_set32(&d->peak_waiters, depth);
	shm_write_end(&d->seq);
}

void srv_stats_accept(struct srv_worker *w)
{
	if (!SRV_ACCOUNTING)
		return;
	if (w->slot)
		shm_add(&w->slot->accepts, 1);
}

void srv_stats_bytes(struct srv_worker *w, uint64_t in, uint64_t out)
{
	if (!SRV_ACCOUNTING)
		return;
	if (!w->slot)
		return;
	if (in)
		shm_add(&w->slot->bytes_in, in);
	if (out)
		shm_add(&w->slot->bytes_out, out);
}

/* a pool's gauges, read under its lock (executors change them) */
static void srv_stats_pool(struct srv_worker *w, struct srv_dbpool *p)
{
	struct shm_slot_db *d = srv_stats_db(w, p->index);
	uint64_t oldest = 0;
	struct srv_job *job;
	unsigned int waiting, idle;

	if (!d)
		return;
	pthread_mutex_lock(&p->lock);
	waiting = p->nqueued;
	idle = p->nidle < p->nqueued ? 0 : p->nidle - p->nqueued;
	if (!list_empty(&p->queue)) {
		job = list_entry(p->queue.next, struct srv_job, node);
		oldest = job->queued_at;
	}
	pthread_mutex_unlock(&p->lock);
	shm_write_begin(&d->seq);
	shm_set32(&d->pool_size, p->nex);
	shm_set32(&d->idle, idle);
	shm_set32(&d->in_use, p->nex - idle);
	shm_set32(&d->waiters, waiting);
	atomic_store_explicit(&d->oldest_waiter_mono_ns, oldest,
			      memory_order_relaxed);
	shm_write_end(&d->seq);
}

void srv_stats_publish(struct srv_worker *w)
{
	struct shm_slot *s = w->slot;
	const unsigned int *n = w->nstate;
	unsigned int i;

	if (!SRV_ACCOUNTING)
		return;
	if (!s)
		return;
	shm_write_begin(&s->seq);
	shm_set32(&s->conns_reading, n[SRV_CONN_HEAD] + n[SRV_CONN_BODY]);
	shm_set32(&s->conns_writing, n[SRV_CONN_WRITE] + n[SRV_CONN_LINGER]);
	shm_set32(&s->conns_idle, n[SRV_CONN_IDLE]);
	shm_set32(&s->inflight,
		  n[SRV_CONN_BODY] + n[SRV_CONN_BUSY] + n[SRV_CONN_WRITE]);
	shm_write_end(&s->seq);
	for (i = 0; i < w->npools; i++)
		srv_stats_pool(w, &w->pools[i]);
}
