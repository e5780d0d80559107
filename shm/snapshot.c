// SPDX-License-Identifier: BSD-2-Clause
/*
 * shm/snapshot.c - one consistent reading of the whole segment, summed
 *
 * The reader library of poolmon and /metrics.  A snapshot is one pass over
 * the segment: the header, then the listener, database and route tables,
 * then every slot 0..nslots inclusive (nslots is the retired slot, which
 * holds the counters of reaped workers).  Each block is copied under its
 * own sequence count with shm_read_block(); a block whose count stays odd
 * or keeps moving makes the whole pass start again.
 *
 * Counters are summed over every slot, the retired one and dead ones
 * included, so a total never goes backwards while workers come and go.
 * The master folds a dead worker's counters into the retired slot under
 * the header's hdr_seq: a pass reads hdr_seq first (odd: retry), and
 * again at the end (moved: retry), so it saw every folded counter either
 * in the old slot or in the retired one, never in both or neither (the
 * kernel's seqcount, over the whole segment).  Gauges (pool sizes,
 * waiters, connections) are summed over live workers only: a slot with a
 * pid and a state other than SHM_SLOT_FREE.
 *
 * A block whose sequence count is still 0 was never written (every writer
 * brackets its first update), so it reads as zeros without a copy: most
 * route and executor entries of a segment are never used.
 *
 * Never writes to the segment and never locks, so it works on a read-only
 * mapping (poolmon) as well as on the server's own (/metrics).
 * shm_metrics_write() renders a snapshot in the Prometheus text format
 * 0.0.4 into an open_memstream() buffer.
 */
#include "shm/snapshot.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/util.h"
#include "shm/shm.h"

#define SHM_SNAP_TRIES 64 /* whole passes before -EAGAIN */

/* a relaxed load of a field of the segment or of a copied block */
#define SHM_LD(p) atomic_load_explicit((p), memory_order_relaxed)

/* shm_snap_copy() finds the seq of every block at its start */
_Static_assert(offsetof(struct shm_listener, seq) == 0, "seq leads");
_Static_assert(offsetof(struct shm_db, seq) == 0, "seq leads");
_Static_assert(offsetof(struct shm_route, seq) == 0, "seq leads");
_Static_assert(offsetof(struct shm_slot, seq) == 0, "seq leads");
_Static_assert(offsetof(struct shm_slot_db, seq) == 0, "seq leads");
_Static_assert(offsetof(struct shm_slot_route, seq) == 0, "seq leads");
_Static_assert(offsetof(struct shm_exec, seq) == 0, "seq leads");
/* the header's text is read word by word (shm_snap_text) */
_Static_assert(offsetof(struct shm_hdr, reload_msg) % 8 == 0, "reload_msg");
_Static_assert(SHM_TEXT % 8 == 0, "reload_msg");

/* the state of one pass */
struct shm_snap_ctx {
	const struct shm_hdr *h;      /* borrowed */
	struct shm_snap *out;	      /* borrowed */
	uint64_t now;		      /* CLOCK_MONOTONIC at the start */
	uint64_t oldest[SHM_MAX_DBS]; /* oldest waiter's start, live slots */
};

/*
 * shm_snap_copy - a consistent copy of @blk, whose seq leads it
 *
 * A missing block (out of range) or one never written (seq still 0)
 * reads as zeros.  Returns 0 or -EAGAIN.
 */
static int shm_snap_copy(const void *blk, size_t size, void *out)
{
	const _Atomic uint32_t *seq = blk;

	if (!blk || atomic_load_explicit(seq, memory_order_acquire) == 0) {
		memset(out, 0, size);
		return 0;
	}
	return shm_read_block(seq, blk, size, out);
}

/* copy the text field @src of the header, which the master may rewrite */
static void shm_snap_text(char *dst, const char *src, size_t size)
{
	uint64_t w;
	size_t i;

	for (i = 0; i + 8 <= size; i += 8) {
		w = __atomic_load_n((const uint64_t *)(src + i),
				    __ATOMIC_RELAXED);
		memcpy(dst + i, &w, sizeof(w));
	}
	dst[size - 1] = '\0';
}

/* NUL-terminated copy of a text field of a copied block */
static void shm_snap_str(char *dst, size_t dstsz, const char *src, size_t srcsz)
{
	size_t n = strnlen(src, MIN(srcsz, dstsz - 1));

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static uint64_t shm_snap_age(uint64_t now, uint64_t since)
{
	return since && now > since ? now - since : 0;
}

/* @d += one block's request counters */
static void shm_snap_add_req(struct shm_snap_req *d,
			     const _Atomic uint64_t *requests,
			     uint64_t latency_ns_sum,
			     const _Atomic uint64_t *hist)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(d->requests); i++)
		d->requests[i] += SHM_LD(&requests[i]);
	d->latency_ns_sum += latency_ns_sum;
	for (i = 0; i < SHM_HIST; i++)
		d->latency_hist[i] += SHM_LD(&hist[i]);
}

/* the header's own fields and the table sizes, capped to what fits */
static void shm_snap_hdr(const struct shm_hdr *h, struct shm_snap *s,
			 uint64_t now)
{
	uint32_t n;

	s->taken_mono_ns = now;
	s->abi_major = h->abi_major;
	s->abi_minor = h->abi_minor;
	s->master_pid = SHM_LD(&h->master_pid);
	s->state = SHM_LD(&h->state);
	s->start_unix_ns = h->start_unix_ns;
	s->uptime_ns = shm_snap_age(now, h->start_mono_ns);
	s->generation = SHM_LD(&h->generation);
	s->workers_expected = SHM_LD(&h->workers_expected);
	s->checkpointer_slot = SHM_LD(&h->checkpointer_slot);
	s->worker_restarts = SHM_LD(&h->worker_restarts);
	s->reloads = SHM_LD(&h->reloads);
	s->reload_unix_ns = SHM_LD(&h->reload_unix_ns);
	s->reload_result = SHM_LD(&h->reload_result);
	shm_snap_text(s->reload_msg, h->reload_msg, sizeof(s->reload_msg));

	/* acquire: the entries were written before their count (release) */
	n = atomic_load_explicit(&h->nlisteners, memory_order_acquire);
	s->nlisteners = MIN(n, (uint32_t)SHM_MAX_LISTENERS);
	n = atomic_load_explicit(&h->ndbs, memory_order_acquire);
	s->ndbs = MIN(n, (uint32_t)SHM_MAX_DBS);
	n = atomic_load_explicit(&h->nroutes, memory_order_acquire);
	s->nroutes = MIN(n, (uint32_t)SHM_MAX_ROUTES);
}

static int shm_snap_listeners(const struct shm_hdr *h, struct shm_snap *s)
{
	struct shm_snap_listener *o;
	struct shm_listener c;
	uint32_t i;
	int err;

	for (i = 0; i < s->nlisteners; i++) {
		err = shm_snap_copy(shm_listener(h, i), sizeof(c), &c);
		if (err)
			return err;
		o = &s->listeners[i];
		shm_snap_str(o->name, sizeof(o->name), c.name, sizeof(c.name));
		o->port = SHM_LD(&c.port);
		o->backlog = SHM_LD(&c.backlog);
		o->queue = SHM_LD(&c.queue);
		o->queue_max = SHM_LD(&c.queue_max);
		o->status = SHM_LD(&c.status) != 0;
		o->open = SHM_LD(&c.open) != 0;
	}
	return 0;
}

/* the database table; the pools and executors come with the slots */
static int shm_snap_dbs(const struct shm_hdr *h, struct shm_snap *s,
			uint64_t now)
{
	struct shm_snap_db *o;
	struct shm_db c;
	uint32_t i;
	int err;

	for (i = 0; i < s->ndbs; i++) {
		err = shm_snap_copy(shm_db(h, i), sizeof(c), &c);
		if (err)
			return err;
		o = &s->dbs[i];
		shm_snap_str(o->name, sizeof(o->name), c.name, sizeof(c.name));
		shm_snap_str(o->path, sizeof(o->path), c.path, sizeof(c.path));
		o->wal_bytes = SHM_LD(&c.wal_bytes);
		o->checkpoints = SHM_LD(&c.checkpoints);
		o->checkpoints_truncate = SHM_LD(&c.checkpoints_truncate);
		o->commits = SHM_LD(&c.commits);
		o->gate_held_ns =
			shm_snap_age(now, SHM_LD(&c.gate_locked_mono_ns));
		o->gate_owner_pid = SHM_LD(&c.gate_owner_pid);
		o->storage_fault = SHM_LD(&c.storage_fault) != 0;
	}
	return 0;
}

/* the route table; the counters come with the slots */
static int shm_snap_routes(const struct shm_hdr *h, struct shm_snap *s)
{
	struct shm_snap_route *o;
	struct shm_route c;
	uint32_t i;
	int err;

	for (i = 0; i < s->nroutes; i++) {
		err = shm_snap_copy(shm_route(h, i), sizeof(c), &c);
		if (err)
			return err;
		o = &s->routes[i];
		shm_snap_str(o->id, sizeof(o->id), c.id, sizeof(c.id));
		o->builtin = SHM_LD(&c.builtin) != 0;
		o->generation = SHM_LD(&c.generation);
	}
	return 0;
}

/* a live worker's pool gauges for database @d */
static void shm_snap_add_gauges(struct shm_snap_ctx *x, uint32_t d,
				const struct shm_slot_db *c)
{
	struct shm_snap_db *o = &x->out->dbs[d];
	uint64_t oldest = SHM_LD(&c->oldest_waiter_mono_ns);

	o->pool_size += SHM_LD(&c->pool_size);
	o->in_use += SHM_LD(&c->in_use);
	o->idle += SHM_LD(&c->idle);
	o->waiters += SHM_LD(&c->waiters);
	o->peak_waiters = MAX(o->peak_waiters, SHM_LD(&c->peak_waiters));
	if (oldest && (!x->oldest[d] || oldest < x->oldest[d]))
		x->oldest[d] = oldest;
}

/* any slot's pool counters for one database */
static void shm_snap_add_pool(struct shm_snap_db *o,
			      const struct shm_slot_db *c)
{
	unsigned int i;

	o->acquires += SHM_LD(&c->acquires);
	o->acquire_wait_ns_sum += SHM_LD(&c->acquire_wait_ns_sum);
	o->acquire_wait_ns_max =
		MAX(o->acquire_wait_ns_max, SHM_LD(&c->acquire_wait_ns_max));
	o->acquire_timeouts += SHM_LD(&c->acquire_timeouts);
	o->pool_full += SHM_LD(&c->pool_full);
	for (i = 0; i < SHM_HIST; i++) {
		o->acquire_hist[i] += SHM_LD(&c->acquire_hist[i]);
		o->hold_hist[i] += SHM_LD(&c->hold_hist[i]);
	}
}

/* any slot's executor counters, into the database they serve */
static void shm_snap_add_exec(struct shm_snap_db *o, const struct shm_exec *c)
{
	o->jobs += SHM_LD(&c->jobs);
	o->gate_waits += SHM_LD(&c->gate_waits);
	o->gate_wait_ns_sum += SHM_LD(&c->gate_wait_ns_sum);
	o->gate_wait_ns_max =
		MAX(o->gate_wait_ns_max, SHM_LD(&c->gate_wait_ns_max));
	o->gate_hold_ns_sum += SHM_LD(&c->gate_hold_ns_sum);
	o->gate_hold_ns_max =
		MAX(o->gate_hold_ns_max, SHM_LD(&c->gate_hold_ns_max));
	o->lock_timeouts += SHM_LD(&c->lock_timeouts);
	o->busy_handler_calls += SHM_LD(&c->busy_handler_calls);
	o->busy_immediate += SHM_LD(&c->busy_immediate);
	o->busy_snapshot += SHM_LD(&c->busy_snapshot);
	o->statement_timeouts += SHM_LD(&c->statement_timeouts);
	o->errors += SHM_LD(&c->errors);
	o->conns_opened += SHM_LD(&c->conns_opened);
	o->gate_recoveries += SHM_LD(&c->gate_recoveries);
}

/* slot @i's pool entries: counters always, gauges when @live */
static int shm_snap_slot_dbs(struct shm_snap_ctx *x, uint32_t i, bool live)
{
	struct shm_slot_db c;
	uint32_t d;
	int err;

	for (d = 0; d < x->out->ndbs; d++) {
		err = shm_snap_copy(shm_slot_db(x->h, i, d), sizeof(c), &c);
		if (err)
			return err;
		shm_snap_add_pool(&x->out->dbs[d], &c);
		if (live)
			shm_snap_add_gauges(x, d, &c);
	}
	return 0;
}

static int shm_snap_slot_routes(struct shm_snap_ctx *x, uint32_t i)
{
	struct shm_snap_route *o;
	struct shm_slot_route c;
	uint32_t r;
	int err;

	for (r = 0; r < x->out->nroutes; r++) {
		err = shm_snap_copy(shm_slot_route(x->h, i, r), sizeof(c), &c);
		if (err)
			return err;
		o = &x->out->routes[r];
		shm_snap_add_req(&o->req, c.requests, SHM_LD(&c.latency_ns_sum),
				 c.latency_hist);
	}
	return 0;
}

/*
 * shm_snap_slot_execs - slot @i's executor entries, summed into their
 * database; the state letters of those in use go to @letters (a listed
 * live worker) unless it is NULL
 */
static int shm_snap_slot_execs(struct shm_snap_ctx *x, uint32_t i,
			       char *letters)
{
	struct shm_exec c;
	uint32_t e, n = 0, db, state;
	int err;

	for (e = 0; e < SHM_MAX_EXECS; e++) {
		err = shm_snap_copy(shm_exec(x->h, i, e), sizeof(c), &c);
		if (err)
			return err;
		state = SHM_LD(&c.state);
		if (letters && state)
			letters[n++] = (char)state;
		db = SHM_LD(&c.db);
		if (db < x->out->ndbs)
			shm_snap_add_exec(&x->out->dbs[db], &c);
	}
	if (letters)
		letters[n] = '\0';
	return 0;
}

/* a live worker's entry in the listing */
static struct shm_snap_slot *shm_snap_list(struct shm_snap_ctx *x, uint32_t i,
					   const struct shm_slot *c)
{
	struct shm_snap_slot *o;

	if (x->out->nslots >= SHM_SNAP_MAX_SLOTS)
		return NULL;
	o = &x->out->slots[x->out->nslots++];
	o->index = i;
	o->pid = SHM_LD(&c->pid);
	o->generation = SHM_LD(&c->generation);
	o->state = SHM_LD(&c->state);
	o->start_unix_ns = SHM_LD(&c->start_unix_ns);
	o->heartbeat_age_ns =
		shm_snap_age(x->now, SHM_LD(&c->heartbeat_mono_ns));
	o->conns_reading = SHM_LD(&c->conns_reading);
	o->conns_writing = SHM_LD(&c->conns_writing);
	o->conns_idle = SHM_LD(&c->conns_idle);
	o->inflight = SHM_LD(&c->inflight);
	o->accepts = SHM_LD(&c->accepts);
	o->bytes_in = SHM_LD(&c->bytes_in);
	o->bytes_out = SHM_LD(&c->bytes_out);
	shm_snap_add_req(&o->req, c->requests, SHM_LD(&c->latency_ns_sum),
			 c->latency_hist);
	return o;
}

/* slot @i (0..nslots, the retired one last) and its entries */
static int shm_snap_slot(struct shm_snap_ctx *x, uint32_t i)
{
	struct shm_snap *s = x->out;
	struct shm_snap_slot *o = NULL;
	struct shm_slot c;
	bool live;
	int err;

	err = shm_snap_copy(shm_slot(x->h, i), sizeof(c), &c);
	if (err)
		return err;
	s->accepts += SHM_LD(&c.accepts);
	s->bytes_in += SHM_LD(&c.bytes_in);
	s->bytes_out += SHM_LD(&c.bytes_out);
	live = i < x->h->nslots && SHM_LD(&c.pid) != 0 &&
	       SHM_LD(&c.state) != SHM_SLOT_FREE;
	if (live) {
		s->workers_alive++;
		s->conns_reading += SHM_LD(&c.conns_reading);
		s->conns_writing += SHM_LD(&c.conns_writing);
		s->conns_idle += SHM_LD(&c.conns_idle);
		s->inflight += SHM_LD(&c.inflight);
		o = shm_snap_list(x, i, &c);
	}
	/* a free slot (never used, or folded) holds nothing but zeros: its
	 * thousands of route and executor entries are not worth reading */
	if (i < x->h->nslots && !SHM_LD(&c.pid))
		return 0;
	err = shm_snap_slot_dbs(x, i, live);
	if (!err)
		err = shm_snap_slot_routes(x, i);
	if (!err)
		err = shm_snap_slot_execs(x, i, o ? o->execs : NULL);
	return err;
}

/* what is derived once every slot is in: ages and the overall total */
static void shm_snap_finish(struct shm_snap_ctx *x)
{
	struct shm_snap *s = x->out;
	const struct shm_snap_req *r;
	uint32_t i, k;

	for (i = 0; i < s->ndbs; i++)
		s->dbs[i].maxwait_ns = shm_snap_age(x->now, x->oldest[i]);
	for (i = 0; i < s->nroutes; i++) {
		r = &s->routes[i].req;
		for (k = 0; k < ARRAY_SIZE(r->requests); k++)
			s->total.requests[k] += r->requests[k];
		s->total.latency_ns_sum += r->latency_ns_sum;
		for (k = 0; k < SHM_HIST; k++)
			s->total.latency_hist[k] += r->latency_hist[k];
	}
}

#if defined(__SANITIZE_THREAD__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtsan" /* see shm/shm.h */
#endif

/* one pass: 0, or -EAGAIN when a block or the header moved under it */
static int shm_snap_try(const struct shm_hdr *h, struct shm_snap *s)
{
	struct shm_snap_ctx x = { .h = h, .out = s };
	uint32_t seq, i;
	int err;

	seq = atomic_load_explicit(&h->hdr_seq, memory_order_acquire);
	if (seq & 1)
		return -EAGAIN;
	memset(s, 0, sizeof(*s));
	x.now = clock_mono_ns();
	shm_snap_hdr(h, s, x.now);
	err = shm_snap_listeners(h, s);
	if (!err)
		err = shm_snap_dbs(h, s, x.now);
	if (!err)
		err = shm_snap_routes(h, s);
	for (i = 0; !err && i <= h->nslots; i++)
		err = shm_snap_slot(&x, i);
	if (err)
		return err;
	shm_snap_finish(&x);

	/* a fold began or ended meanwhile: the sums may count it twice */
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&h->hdr_seq, memory_order_relaxed) != seq)
		return -EAGAIN;
	return 0;
}

#if defined(__SANITIZE_THREAD__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/**
 * shm_snap_take - read the segment into @out
 * @h:   an attached segment (read-only is enough)
 * @out: the snapshot
 *
 * Copies every block under its seqcount and the whole pass under the
 * header's hdr_seq, retrying the pass up to SHM_SNAP_TRIES times (with a
 * yield in between, so a fold in progress can finish).  Returns 0, or
 * -EAGAIN when the writers kept racing through every retry (@out is then
 * not to be used).
 */
int shm_snap_take(const struct shm_hdr *h, struct shm_snap *out)
{
	int tries, err = -EAGAIN;

	for (tries = 0; tries < SHM_SNAP_TRIES; tries++) {
		err = shm_snap_try(h, out);
		if (err != -EAGAIN)
			break;
		sched_yield();
	}
	return err;
}

/**
 * shm_hist_le - the upper bound of histogram bucket @b in seconds
 *
 * Bucket b counts durations in [2^(b-1), 2^b) microseconds (bucket 0:
 * under 1 us), so its bound is 2^b us; the last bucket is unbounded
 * (+Inf).
 */
double shm_hist_le(unsigned int b)
{
	if (b >= SHM_HIST - 1)
		return INFINITY;
	return (double)(UINT64_C(1) << b) * 1e-6;
}

/**
 * shm_hist_quantile - the @q quantile (0..1) of a log2 histogram, in
 * seconds
 *
 * The upper bound of the first bucket where the cumulative count reaches
 * @q of the total; for the last, unbounded bucket the bound of the one
 * before it, so the result stays finite.  0 when the histogram is empty.
 */
double shm_hist_quantile(const uint64_t hist[SHM_HIST], double q)
{
	uint64_t total = 0, cum = 0;
	double want;
	unsigned int b;

	for (b = 0; b < SHM_HIST; b++)
		total += hist[b];
	if (!total)
		return 0;
	q = q < 0 ? 0 : q > 1 ? 1 : q;
	want = q * (double)total;
	for (b = 0; b < SHM_HIST - 1; b++) {
		cum += hist[b];
		if (cum && (double)cum >= want)
			return shm_hist_le(b);
	}
	return shm_hist_le(SHM_HIST - 2);
}

/* per second, from two readings of one counter @dt_ns apart (0 on a reset) */
double shm_rate(uint64_t before, uint64_t after, uint64_t dt_ns)
{
	if (!dt_ns || after < before)
		return 0;
	return (double)(after - before) * 1e9 / (double)dt_ns;
}

/* ---- Prometheus text exposition ---------------------------------------- */

/* # HELP and # TYPE of a family, once, before its samples */
static void shm_m_head(FILE *f, const char *name, const char *type,
		       const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name="value", the value escaped as the format requires: \\ \" \n */
static void shm_m_label(FILE *f, const char *name, const char *v)
{
	fprintf(f, "%s=\"", name);
	for (; *v; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '"')
			fputs("\\\"", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('"', f);
}

/* a family of one unlabelled integer sample */
static void shm_m_u64(FILE *f, const char *name, const char *type,
		      const char *help, uint64_t v)
{
	shm_m_head(f, name, type, help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

/* live workers by generation: two overlap while a reload hands over */
static void shm_m_generations(FILE *f, const struct shm_snap *s)
{
	uint32_t gens[SHM_SNAP_MAX_SLOTS], count[SHM_SNAP_MAX_SLOTS];
	uint32_t i, k, n = 0;

	for (i = 0; i < s->nslots; i++) {
		for (k = 0; k < n && gens[k] != s->slots[i].generation; k++)
			;
		if (k == n) {
			gens[n] = s->slots[i].generation;
			count[n++] = 0;
		}
		count[k]++;
	}
	shm_m_head(f, "poold_generation_workers", "gauge",
		   "Worker processes alive, by configuration generation");
	for (k = 0; k < n; k++)
		fprintf(f, "poold_generation_workers{generation=\"%u\"} %u\n",
			gens[k], count[k]);
}

/* a family of one unlabelled Unix timestamp, to the millisecond */
static void shm_m_time(FILE *f, const char *name, const char *help,
		       uint64_t unix_ns)
{
	shm_m_head(f, name, "gauge", help);
	fprintf(f, "%s %.3f\n", name, (double)unix_ns / 1e9);
}

/* the le label of bucket @b: 2^b us in seconds, written exactly */
static void shm_m_le(char *buf, size_t size, unsigned int b)
{
	uint64_t us = UINT64_C(1) << b;
	char *p;

	if (b >= SHM_HIST - 1) {
		snprintf(buf, size, "+Inf");
		return;
	}
	snprintf(buf, size, "%" PRIu64 ".%06" PRIu64, us / 1000000,
		 us % 1000000);
	p = buf + strlen(buf) - 1;
	while (*p == '0')
		*p-- = '\0';
	if (*p == '.')
		*p = '\0';
}

/*
 * shm_m_hist - the series of one histogram with label @lname="@lval":
 * cumulative buckets (never above @count, which is the +Inf bucket), the
 * sum in seconds and the count
 */
static void shm_m_hist(FILE *f, const char *name, const char *lname,
		       const char *lval, const uint64_t hist[SHM_HIST],
		       uint64_t sum_ns, uint64_t count)
{
	uint64_t cum = 0;
	unsigned int b;
	char le[32];

	for (b = 0; b < SHM_HIST; b++) {
		cum += hist[b];
		shm_m_le(le, sizeof(le), b);
		fprintf(f, "%s_bucket{", name);
		shm_m_label(f, lname, lval);
		fprintf(f, ",le=\"%s\"} %" PRIu64 "\n", le,
			b == SHM_HIST - 1 ? count : MIN(cum, count));
	}
	fprintf(f, "%s_sum{", name);
	shm_m_label(f, lname, lval);
	fprintf(f, "} %.9g\n", (double)sum_ns / 1e9);
	fprintf(f, "%s_count{", name);
	shm_m_label(f, lname, lval);
	fprintf(f, "} %" PRIu64 "\n", count);
}

static uint64_t shm_hist_total(const uint64_t hist[SHM_HIST])
{
	uint64_t n = 0;
	unsigned int b;

	for (b = 0; b < SHM_HIST; b++)
		n += hist[b];
	return n;
}

/* the server as a whole: identity, workers, reloads */
static void shm_metrics_server(FILE *f, const struct shm_snap *s)
{
	bool failed = s->reload_result == SHM_RELOAD_FAILED;
	bool reloaded = s->reload_result != SHM_RELOAD_NONE;

	shm_m_u64(f, "poold_up", "gauge", "1 while the segment can be read", 1);
	shm_m_time(f, "poold_start_time_seconds",
		   "Start time of the master since the Unix epoch in seconds",
		   s->start_unix_ns);
	shm_m_u64(f, "poold_generation", "gauge",
		  "Configuration generation, bumped by each successful reload",
		  s->generation);
	shm_m_u64(f, "poold_workers", "gauge", "Worker processes alive",
		  s->workers_alive);
	shm_m_generations(f, s);
	shm_m_u64(f, "poold_workers_expected", "gauge",
		  "Worker processes the configuration asks for",
		  s->workers_expected);
	shm_m_u64(f, "poold_worker_restarts_total", "counter",
		  "Workers that died unexpectedly and were respawned",
		  s->worker_restarts);
	shm_m_u64(f, "poold_reloads_total", "counter",
		  "Configuration reloads attempted", s->reloads);
	shm_m_u64(f, "poold_last_reload_success", "gauge",
		  "1 if the last reload succeeded or none was attempted",
		  !failed);
	shm_m_time(
		f, "poold_last_reload_time_seconds",
		"Time of the last reload attempt since the Unix epoch in seconds, 0 if none",
		reloaded ? s->reload_unix_ns : 0);
}

static const char *const shm_m_classes[] = { "1xx", "2xx", "3xx", "4xx",
					     "5xx" };

/* requests by route and class, and the latency histogram of each route */
static void shm_metrics_routes(FILE *f, const struct shm_snap *s)
{
	const struct shm_snap_route *r;
	uint32_t i, k;

	shm_m_head(f, "poold_requests_total", "counter",
		   "Requests answered, by route and status class");
	for (i = 0; i < s->nroutes; i++) {
		r = &s->routes[i];
		for (k = 0; k < ARRAY_SIZE(shm_m_classes); k++) {
			if (!r->req.requests[k])
				continue;
			fputs("poold_requests_total{", f);
			shm_m_label(f, "route", r->id);
			fprintf(f, ",class=\"%s\"} %" PRIu64 "\n",
				shm_m_classes[k], r->req.requests[k]);
		}
	}
	shm_m_head(
		f, "poold_request_duration_seconds", "histogram",
		"Time from a complete request head to the response, by route");
	for (i = 0; i < s->nroutes; i++) {
		r = &s->routes[i];
		shm_m_hist(f, "poold_request_duration_seconds", "route", r->id,
			   r->req.latency_hist, r->req.latency_ns_sum,
			   shm_hist_total(r->req.latency_hist));
	}
}

/* listener @i is shown: open, and the first open one of its name */
static bool shm_m_listener_shown(const struct shm_snap *s, uint32_t i)
{
	uint32_t j;

	if (!s->listeners[i].open)
		return false;
	for (j = 0; j < i; j++) {
		if (s->listeners[j].open &&
		    !strcmp(s->listeners[j].name, s->listeners[i].name))
			return false;
	}
	return true;
}

/* the accept-queue depth or the backlog of every listener shown */
static void shm_metrics_listen(FILE *f, const struct shm_snap *s, bool queue)
{
	const char *name = queue ? "poold_listen_queue" :
				   "poold_listen_backlog";
	const struct shm_snap_listener *l;
	uint32_t i;

	shm_m_head(f, name, "gauge",
		   queue ? "Connections waiting in the accept queue, sampled" :
			   "Effective accept-queue bound of the listener");
	for (i = 0; i < s->nlisteners; i++) {
		l = &s->listeners[i];
		if (!shm_m_listener_shown(s, i))
			continue;
		fprintf(f, "%s{", name);
		shm_m_label(f, "listener", l->name);
		fprintf(f, "} %" PRIu32 "\n", queue ? l->queue : l->backlog);
	}
}

/* connections, traffic and listen queues */
static void shm_metrics_conns(FILE *f, const struct shm_snap *s)
{
	shm_m_head(f, "poold_connections", "gauge",
		   "Client connections by state");
	fprintf(f, "poold_connections{state=\"reading\"} %" PRIu32 "\n",
		s->conns_reading);
	fprintf(f, "poold_connections{state=\"writing\"} %" PRIu32 "\n",
		s->conns_writing);
	fprintf(f, "poold_connections{state=\"idle\"} %" PRIu32 "\n",
		s->conns_idle);
	shm_m_u64(f, "poold_inflight_requests", "gauge",
		  "Requests read and not yet answered", s->inflight);
	shm_m_u64(f, "poold_accepts_total", "counter", "Connections accepted",
		  s->accepts);
	shm_m_u64(f, "poold_received_bytes_total", "counter",
		  "Bytes read from clients", s->bytes_in);
	shm_m_u64(f, "poold_sent_bytes_total", "counter",
		  "Bytes written to clients", s->bytes_out);
	shm_metrics_listen(f, s, true);
	shm_metrics_listen(f, s, false);
}

/* how a per-database value is stored in struct shm_snap_db */
enum shm_m_kind {
	SHM_M_U32,
	SHM_M_U64,
	SHM_M_NS, /* uint64_t nanoseconds, shown in seconds */
};

/* one per-database series; families with several series are adjacent */
struct shm_m_db {
	const char *name;
	const char *type;
	const char *help;
	const char *extra; /* a second label pair, or NULL */
	size_t off;	   /* of the value in struct shm_snap_db */
	enum shm_m_kind kind;
};

#define SHM_M_DB(n, t, h, x, field, k)                                  \
	{                                                               \
		.name = (n), .type = (t), .help = (h), .extra = (x),    \
		.off = offsetof(struct shm_snap_db, field), .kind = (k) \
	}

static const struct shm_m_db shm_m_pool[] = {
	SHM_M_DB("poold_pool_size", "gauge", "SQLite connections in the pools",
		 NULL, pool_size, SHM_M_U32),
	SHM_M_DB("poold_pool_in_use", "gauge", "Pool connections running a job",
		 NULL, in_use, SHM_M_U32),
	SHM_M_DB("poold_pool_idle", "gauge", "Pool connections free", NULL,
		 idle, SHM_M_U32),
	SHM_M_DB("poold_pool_waiters", "gauge",
		 "Requests queued for a pool connection", NULL, waiters,
		 SHM_M_U32),
	SHM_M_DB("poold_pool_peak_waiters", "gauge",
		 "Largest queue for a pool connection in any worker", NULL,
		 peak_waiters, SHM_M_U32),
	SHM_M_DB("poold_pool_max_wait_seconds", "gauge",
		 "How long the oldest queued request has waited", NULL,
		 maxwait_ns, SHM_M_NS),
	SHM_M_DB("poold_pool_acquires_total", "counter",
		 "Pool connections handed to a request", NULL, acquires,
		 SHM_M_U64),
	SHM_M_DB("poold_pool_acquire_timeouts_total", "counter",
		 "Requests that timed out waiting for a pool connection", NULL,
		 acquire_timeouts, SHM_M_U64),
	SHM_M_DB("poold_pool_full_total", "counter",
		 "Requests refused because the pool queue was full", NULL,
		 pool_full, SHM_M_U64),
};

static const struct shm_m_db shm_m_exec[] = {
	SHM_M_DB("poold_gate_waits_total", "counter",
		 "Writes that waited for the write gate", NULL, gate_waits,
		 SHM_M_U64),
	SHM_M_DB("poold_gate_wait_seconds_total", "counter",
		 "Time spent waiting for the write gate", NULL,
		 gate_wait_ns_sum, SHM_M_NS),
	SHM_M_DB("poold_gate_hold_seconds_total", "counter",
		 "Time the write gate was held", NULL, gate_hold_ns_sum,
		 SHM_M_NS),
	SHM_M_DB("poold_lock_timeouts_total", "counter",
		 "Requests that timed out on a database lock", NULL,
		 lock_timeouts, SHM_M_U64),
	SHM_M_DB("poold_sqlite_busy_total", "counter",
		 "SQLITE_BUSY events by kind", "kind=\"handler\"",
		 busy_handler_calls, SHM_M_U64),
	SHM_M_DB("poold_sqlite_busy_total", "counter", NULL,
		 "kind=\"immediate\"", busy_immediate, SHM_M_U64),
	SHM_M_DB("poold_sqlite_busy_total", "counter", NULL,
		 "kind=\"snapshot\"", busy_snapshot, SHM_M_U64),
	SHM_M_DB("poold_statement_timeouts_total", "counter",
		 "Statements interrupted by the statement timeout", NULL,
		 statement_timeouts, SHM_M_U64),
	SHM_M_DB("poold_sqlite_errors_total", "counter", "Other SQLite errors",
		 NULL, errors, SHM_M_U64),
	SHM_M_DB("poold_db_connections_opened_total", "counter",
		 "SQLite connections opened", NULL, conns_opened, SHM_M_U64),
	SHM_M_DB("poold_gate_recoveries_total", "counter",
		 "Write gates recovered from a holder that died", NULL,
		 gate_recoveries, SHM_M_U64),
	SHM_M_DB("poold_wal_bytes", "gauge", "Size of the write-ahead log",
		 NULL, wal_bytes, SHM_M_U64),
	SHM_M_DB("poold_checkpoints_total", "counter",
		 "WAL checkpoints by mode", "mode=\"passive\"", checkpoints,
		 SHM_M_U64),
	SHM_M_DB("poold_checkpoints_total", "counter", NULL,
		 "mode=\"truncate\"", checkpoints_truncate, SHM_M_U64),
	SHM_M_DB("poold_commits_total", "counter",
		 "Write transactions committed", NULL, commits, SHM_M_U64),
};

/* database @i is shown: the last entry of its name (a file replaced) */
static bool shm_m_db_shown(const struct shm_snap *s, uint32_t i)
{
	uint32_t j;

	for (j = i + 1; j < s->ndbs; j++) {
		if (!strcmp(s->dbs[j].name, s->dbs[i].name))
			return false;
	}
	return true;
}

/* one sample of @m for database @d */
static void shm_m_db_sample(FILE *f, const struct shm_m_db *m,
			    const struct shm_snap_db *d)
{
	const char *p = (const char *)d + m->off;
	uint64_t v64;
	uint32_t v32;

	fprintf(f, "%s{", m->name);
	shm_m_label(f, "db", d->name);
	if (m->extra)
		fprintf(f, ",%s", m->extra);
	fputs("} ", f);
	if (m->kind == SHM_M_U32) {
		memcpy(&v32, p, sizeof(v32));
		fprintf(f, "%" PRIu32 "\n", v32);
		return;
	}
	memcpy(&v64, p, sizeof(v64));
	if (m->kind == SHM_M_NS)
		fprintf(f, "%.9g\n", (double)v64 / 1e9);
	else
		fprintf(f, "%" PRIu64 "\n", v64);
}

/* the families of table @t, each with a sample per database shown */
static void shm_metrics_db_table(FILE *f, const struct shm_snap *s,
				 const struct shm_m_db *t, size_t n)
{
	size_t i;
	uint32_t d;

	for (i = 0; i < n; i++) {
		if (i == 0 || strcmp(t[i].name, t[i - 1].name))
			shm_m_head(f, t[i].name, t[i].type, t[i].help);
		for (d = 0; d < s->ndbs; d++) {
			if (shm_m_db_shown(s, d))
				shm_m_db_sample(f, &t[i], &s->dbs[d]);
		}
	}
}

/* pools, the acquire-wait histogram, executors, WAL */
static void shm_metrics_dbs(FILE *f, const struct shm_snap *s)
{
	const struct shm_snap_db *d;
	uint32_t i;

	shm_metrics_db_table(f, s, shm_m_pool, ARRAY_SIZE(shm_m_pool));
	shm_m_head(f, "poold_pool_acquire_wait_seconds", "histogram",
		   "Time a request waited for a pool connection");
	for (i = 0; i < s->ndbs; i++) {
		d = &s->dbs[i];
		if (shm_m_db_shown(s, i))
			shm_m_hist(f, "poold_pool_acquire_wait_seconds", "db",
				   d->name, d->acquire_hist,
				   d->acquire_wait_ns_sum, d->acquires);
	}
	shm_metrics_db_table(f, s, shm_m_exec, ARRAY_SIZE(shm_m_exec));
}

/**
 * shm_metrics_write - the Prometheus text exposition (0.0.4) of @s
 * @s:   a snapshot
 * @buf: output, NUL-terminated, from open_memstream(); the caller frees it
 * @len: its length
 *
 * Every family has its # HELP and # TYPE once, even without samples;
 * counters end in _total, durations are in seconds ("%.9g").  Requests
 * are one series per route and status class that has counted any; the
 * latency histogram has one per route.  A listener is shown while open,
 * and a database name that several files have carried shows its latest
 * file only, so no series is ever duplicated.  Returns 0 or -ENOMEM.
 */
int shm_metrics_write(const struct shm_snap *s, char **buf, size_t *len)
{
	FILE *f;
	int err;

	*buf = NULL;
	*len = 0;
	f = open_memstream(buf, len);
	if (!f)
		return -ENOMEM;
	shm_metrics_server(f, s);
	shm_metrics_routes(f, s);
	shm_metrics_conns(f, s);
	shm_metrics_dbs(f, s);
	err = ferror(f) ? -ENOMEM : 0;
	if (fclose(f) && !err)
		err = -ENOMEM;
	if (err) {
		free(*buf);
		*buf = NULL;
		*len = 0;
	}
	return err;
}
